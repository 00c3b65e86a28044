//! Organisations, created together with their first administrator.

use aws_sdk_dynamodb::types::Update;
use chrono::{DateTime, Utc};
use roster_domain::{
    idempotency::{IDEMPOTENCY_WINDOW, IdempotencyKey},
    ids::OrganisationId,
    membership::Membership,
    organisation::Organisation,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    Account, DynamoTable, StoreError, Uniqueness,
    accounts::email_sentinel_item,
    keys,
    record::{Item, Record, body, n, readable_bodies, s},
    transaction::{Condition, OnFail, Transaction},
};

/// An organisation and its first admin, whose account is either new or already a member elsewhere.
pub struct NewOrganisation {
    pub organisation: Organisation,
    pub admin: Membership,
    pub admin_account: Account,
    /// Whether `admin_account` is created by this write (else it exists at its version).
    pub account_is_new: bool,
    /// The platform request's `Idempotency-Key`, if it sent one, and what the request made.
    pub request: Option<(IdempotencyKey, PlatformRequest)>,
}

/// What a platform request under an `Idempotency-Key` made, kept for `IDEMPOTENCY_WINDOW`: a
/// retry that asks the same gets the same answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformRequest {
    /// A digest of what the request asked (no secret in it).
    pub asked: String,
    /// The body it answered.
    pub answered: Value,
    pub made_at: DateTime<Utc>,
}

impl PlatformRequest {
    /// When its `Idempotency-Key` is free again.
    fn expiry(&self) -> DateTime<Utc> {
        self.made_at + IDEMPOTENCY_WINDOW
    }
}

impl DynamoTable {
    pub async fn organisation(
        &self,
        id: &OrganisationId,
    ) -> Result<Option<Organisation>, StoreError> {
        self.get(&keys::organisation(id), true)
            .await?
            .map(body)
            .transpose()
    }

    /// The organisations with these ids (one `BatchGetItem` per 100), in id order; `Corrupt` if
    /// one does not read, for a request that decides by all of a person's organisations.
    pub async fn organisations(
        &self,
        ids: impl IntoIterator<Item = &OrganisationId>,
    ) -> Result<Vec<Organisation>, StoreError> {
        let mut organisations = self
            .organisation_items(ids)
            .await?
            .into_iter()
            .map(body::<Organisation>)
            .collect::<Result<Vec<_>, _>>()?;
        organisations.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(organisations)
    }

    /// As [`DynamoTable::organisations`] (in no order), for a job that serves many organisations
    /// at once: one that does not read is logged and left out, so that it stops none of the
    /// others.
    pub async fn readable_organisations(
        &self,
        ids: impl IntoIterator<Item = &OrganisationId>,
    ) -> Result<Vec<Organisation>, StoreError> {
        Ok(readable_bodies(self.organisation_items(ids).await?))
    }

    async fn organisation_items(
        &self,
        ids: impl IntoIterator<Item = &OrganisationId>,
    ) -> Result<Vec<Item>, StoreError> {
        let keys: Vec<_> = ids.into_iter().map(keys::organisation).collect();
        self.batch_get(&keys).await
    }

    /// Replaces `before` by `after` if nobody changed it meanwhile (else `Stale`).
    pub async fn save_organisation(
        &self,
        before: &Organisation,
        after: &Organisation,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(
                Record::new(keys::organisation(&after.id), after).item(),
            ))
            .condition_expression("version = :version")
            .expression_attribute_values(":version", n(before.version))
            .send()
            .await;
        crate::conditional(result)?
            .map(|_| ())
            .ok_or(StoreError::Stale)
    }

    /// Replaces `before` by `after`, which maps roles to the SCIM group `group`, if nobody changed
    /// the organisation meanwhile (else `Stale`) and the group is still there (else `NotFound`):
    /// a group deleted at the same moment keeps no mapping (see `delete_scim_group`).
    pub async fn map_scim_group_roles(
        &self,
        before: &Organisation,
        after: &Organisation,
        group: &str,
    ) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        tx.put(
            self,
            Record::new(keys::organisation(&after.id), after).item(),
            Some((Condition::version(before.version), OnFail::Stale)),
        );
        tx.check(
            self,
            &keys::scim_group(&after.id, group),
            (Condition::present(), OnFail::Missing),
        );
        tx.commit(self).await
    }

    /// Writes the organisation, the admin's membership and account changes, and what the
    /// request made under its key, in one transaction: `Taken` (`IdempotencyKey`) if a live
    /// earlier request holds the key.
    pub async fn create_organisation(&self, new: &NewOrganisation) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        // First, so that a twin request (whose admin's email this one's write takes too) is
        // refused for its key, whatever else it meets.
        if let Some((key, made)) = &new.request {
            let mut record = Record::new(keys::platform_request(key), made);
            record.ttl = Some(made.expiry().timestamp());
            tx.put(
                self,
                record.item(),
                Some((
                    Condition::absent_or_expired(made.made_at),
                    OnFail::Taken(Uniqueness::IdempotencyKey),
                )),
            );
        }
        let organisation = &new.organisation;
        tx.put(
            self,
            Record::new(keys::organisation(&organisation.id), organisation).item(),
            Some((Condition::absent(), OnFail::Taken(Uniqueness::Organisation))),
        );
        self.add_member(&mut tx, &new.admin, &new.admin_account, new.account_is_new);
        tx.commit(self).await
    }

    /// What a platform request under `key` made, while the key is live at `now`: one
    /// consistent `GetItem`.
    pub async fn platform_requested(
        &self,
        key: &IdempotencyKey,
        now: DateTime<Utc>,
    ) -> Result<Option<PlatformRequest>, StoreError> {
        let Some(item) = self.get(&keys::platform_request(key), true).await? else {
            return Ok(None);
        };
        let made = body::<PlatformRequest>(item)?;
        Ok((made.expiry() > now).then_some(made))
    }

    /// A new account and its email sentinel.
    pub(crate) fn add_account(&self, tx: &mut Transaction, account: &Account) {
        tx.put(
            self,
            account.record().item(),
            Some((Condition::absent(), OnFail::Taken(Uniqueness::Email))),
        );
        if let Some(email) = &account.email {
            tx.put(
                self,
                email_sentinel_item(account, email),
                Some((Condition::absent(), OnFail::Taken(Uniqueness::Email))),
            );
        }
    }

    /// Records a new membership on an existing account (at the version it was read).
    pub(crate) fn join_organisation(&self, account: &Account, membership: &Membership) -> Update {
        let key = keys::account(&account.id);
        Update::builder()
            .table_name(&self.name)
            .key("pk", s(key.pk))
            .key("sk", s(key.sk))
            .update_expression("SET memberships.#organisation = :user, version = version + :one")
            .condition_expression("version = :version")
            .expression_attribute_names("#organisation", membership.organisation_id.as_str())
            .expression_attribute_values(":user", s(membership.id.as_str()))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":version", n(account.version))
            .build()
            .expect("update has table, key and expression")
    }
}
