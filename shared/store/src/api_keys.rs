//! Organisation keys: API keys for integrations and SCIM bearer tokens, shown once, stored as
//! SHA-256, revocable (a new SCIM token works beside the old one until that is revoked, so
//! rotation has overlap). A key item (looked up by hash) and a listing item in the organisation
//! are written and removed together.

use chrono::{DateTime, Utc};
use roster_domain::ids::OrganisationId;
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError, Uniqueness, keys,
    record::{Record, body},
    transaction::{Condition, OnFail, Transaction},
};

/// What a key opens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// An integration's key (`X-Api-Key: <key>` on `/v1/reservations`).
    #[default]
    Integration,
    /// `Authorization: Bearer` of a SCIM client (`/scim/v2`).
    Scim,
}

impl KeyKind {
    pub(crate) fn listing_prefix(self) -> &'static str {
        match self {
            KeyKind::Integration => keys::API_KEY_PREFIX,
            KeyKind::Scim => keys::SCIM_TOKEN_PREFIX,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    #[serde(default)]
    pub kind: KeyKind,
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
            Record::new(
                keys::key_listing(&key.organisation_id, key.kind.listing_prefix(), &key.id),
                key,
            )
            .item(),
            None,
        );
        tx.commit(self).await
    }

    /// A page of the organisation's keys of `kind`, by id, from `cursor` on (one `Query`).
    pub async fn api_keys(
        &self,
        organisation: &OrganisationId,
        kind: KeyKind,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<(Vec<ApiKey>, Option<String>), StoreError> {
        self.organisation_page(organisation, kind.listing_prefix(), limit, cursor)
            .await
    }

    /// The key of `kind` whose secret hashes to `key_hash`, if it is still valid.
    pub async fn api_key(
        &self,
        key_hash: &str,
        kind: KeyKind,
    ) -> Result<Option<ApiKey>, StoreError> {
        Ok(self
            .get(&keys::api_key(key_hash), true)
            .await?
            .map(body::<ApiKey>)
            .transpose()?
            .filter(|key| key.kind == kind))
    }

    /// Revokes the key `id` of `kind` of the organisation; `NotFound` if there is none.
    pub async fn revoke_api_key(
        &self,
        organisation: &OrganisationId,
        kind: KeyKind,
        id: &str,
    ) -> Result<(), StoreError> {
        let listing = keys::key_listing(organisation, kind.listing_prefix(), id);
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
