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
    /// Active two-factor authentication.
    #[serde(default)]
    pub totp: Option<Totp>,
    /// A TOTP secret being enrolled (sealed), until a first code confirms it.
    #[serde(default)]
    pub pending_totp: Option<String>,
    /// Hashes of the unused recovery codes.
    #[serde(default)]
    pub recovery_codes: Vec<String>,
    /// Set after an administrator issued a PIN: the next login may only change the password.
    #[serde(default)]
    pub must_change_password: bool,
    /// Whether the person proved they receive mail at `email` (used a link sent there, or the
    /// platform operator vouched for it). Only a verified account joins another organisation at once.
    #[serde(default)]
    pub email_verified: bool,
    /// Raised when the password or the email changes; links issued before stop working.
    #[serde(default)]
    pub credential_epoch: u64,
}

/// An account's TOTP: the sealed secret and the last step a code was accepted for (replay guard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totp {
    pub sealed_secret: String,
    pub last_used_step: Option<u64>,
}

impl Account {
    /// A new account (version 1) with no memberships and no second factor yet.
    pub fn new(email: Option<Email>, password_hash: Option<String>) -> Self {
        Self {
            id: AccountId::generate(),
            email,
            password_hash,
            memberships: BTreeMap::new(),
            version: 1,
            totp: None,
            pending_totp: None,
            recovery_codes: vec![],
            must_change_password: false,
            email_verified: false,
            credential_epoch: 0,
        }
    }

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

    /// Writes `account` (whose `version` is the one read) as the next version; `Stale` if it moved.
    /// Answers the written account.
    pub async fn save_account(&self, account: &Account) -> Result<Account, StoreError> {
        let mut next = account.clone();
        next.version += 1;
        let result = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(next.record().item()))
            .condition_expression("version = :version")
            .expression_attribute_values(":version", n(account.version))
            .send()
            .await;
        crate::conditional(result)?
            .map(|_| next)
            .ok_or(StoreError::Stale)
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
        crate::conditional(result)?
            .map(|_| ())
            .ok_or(StoreError::Stale)
    }
}
