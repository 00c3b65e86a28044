//! Accounts (people): login email, password hash, and the organisations they belong to.

use std::collections::BTreeMap;

use roster_domain::{
    ids::{AccountId, OrganisationId, UserId},
    profile::Email,
};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError, keys,
    record::{Record, Sentinel, body, n, s},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub email: Option<Email>,
    /// argon2id PHC string; `None` until the person sets a password.
    pub password_hash: Option<String>,
    /// The person's memberships: organisation -> user id there.
    pub memberships: BTreeMap<OrganisationId, UserId>,
    pub version: u64,
}

impl Account {
    pub(crate) fn record(&self) -> Record<&Account> {
        Record::new(keys::account(&self.id), self)
    }
}

impl DynamoTable {
    pub async fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        self.get(&keys::account(id), true)
            .await?
            .map(body)
            .transpose()
    }

    /// The account whose login email is `normalised_email`: the email sentinel, then the account.
    pub async fn account_by_email(
        &self,
        normalised_email: &str,
    ) -> Result<Option<Account>, StoreError> {
        let Some(sentinel) = self
            .get(&keys::email_sentinel(normalised_email), true)
            .await?
        else {
            return Ok(None);
        };
        let sentinel: Sentinel = body(sentinel)?;
        let id = AccountId::try_from(sentinel.owner.as_str())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.account(&id).await
    }

    /// Replaces the password hash, if the account is still at `version`.
    pub async fn set_password_hash(&self, account: &Account, hash: &str) -> Result<(), StoreError> {
        let key = keys::account(&account.id);
        let result = self
            .client
            .update_item()
            .table_name(&self.name)
            .key("pk", s(key.pk))
            .key("sk", s(key.sk))
            .update_expression("SET password_hash = :hash, version = version + :one")
            .condition_expression("version = :version")
            .expression_attribute_values(":hash", s(hash))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":version", n(account.version))
            .send()
            .await;
        result
            .map(|_| ())
            .map_err(|error| StoreError::of_update(error, StoreError::Stale))
    }
}
