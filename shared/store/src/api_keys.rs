//! Organisation API keys for integrations: shown once, stored as SHA-256, revocable. A key item
//! (looked up by hash) and a listing item in the organisation are written and removed together.

use chrono::{DateTime, Utc};
use roster_domain::ids::OrganisationId;
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError, Uniqueness, keys,
    record::{Record, body},
    transaction::{Condition, OnFail, Transaction},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub organisation_id: OrganisationId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub key_hash: String,
}

impl DynamoTable {
    pub async fn create_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        tx.put(
            self,
            Record::new(keys::api_key(&key.key_hash), key).item(),
            Some((Condition::absent(), OnFail::Taken(Uniqueness::Organisation))),
        );
        tx.put(
            self,
            Record::new(keys::api_key_listing(&key.organisation_id, &key.id), key).item(),
            None,
        );
        tx.commit(self).await
    }

    pub async fn api_keys(&self, organisation: &OrganisationId) -> Result<Vec<ApiKey>, StoreError> {
        self.query_partition(&keys::organisation(organisation).pk, keys::API_KEY_PREFIX)
            .await?
            .into_iter()
            .map(body)
            .collect()
    }

    /// The key whose secret hashes to `key_hash`, if it is still valid.
    pub async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        self.get(&keys::api_key(key_hash), true)
            .await?
            .map(body)
            .transpose()
    }

    /// Revokes the key `id` of the organisation; `NotFound` if there is none.
    pub async fn revoke_api_key(
        &self,
        organisation: &OrganisationId,
        id: &str,
    ) -> Result<(), StoreError> {
        let listing = keys::api_key_listing(organisation, id);
        let key: ApiKey = self
            .get(&listing, true)
            .await?
            .map(body)
            .transpose()?
            .ok_or(StoreError::NotFound)?;
        let mut tx = Transaction::default();
        tx.delete(
            self,
            &listing,
            Some((Condition::present(), OnFail::Missing)),
        );
        tx.delete(self, &keys::api_key(&key.key_hash), None);
        tx.commit(self).await
    }
}
