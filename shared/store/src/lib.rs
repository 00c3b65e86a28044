//! Roster's DynamoDB single-table adapter. Access patterns and key shapes: see README.md beside
//! this crate; every key is built in `keys`.

mod accounts;
mod api_keys;
mod audit;
pub mod avatars;
mod counter;
mod credentials;
mod cursor;
mod devices;
mod directory;
mod imports;
pub mod keys;
mod members;
mod organisations;
mod reads;
mod record;
mod reservations;
mod scim;
mod scim_groups;
mod sessions;
mod sites;
mod transaction;
mod vehicles;

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest},
};

pub use accounts::{Account, LoginCredential, Totp};
pub use api_keys::{ApiKey, KeyKind};
pub use audit::{AuditFilter, AuditPage};
pub use counter::CallCounter;
pub use credentials::{
    EmailChangeToken, Failures, Invitation, MfaChallenge, Reservation, ResetToken, SingleUse,
};
pub use devices::Device;
pub use directory::{DirectoryEntry, DirectoryPage};
pub use imports::{
    ImportCounts, ImportFailure, ImportPage, ImportRecord, ImportSource, ImportStatus, MatchKey,
    Matches, RowError, RowReport, RowStatus,
};
pub use members::{EmailChange, NewMembership, UserFilter, UserPage};
pub use organisations::{NewOrganisation, PlatformRequest};
pub use record::item_bytes;
pub use reservations::{FiledReservation, SummaryDue, SummaryRetry, reservation_items};
pub use scim::{
    GroupSaved, MemberLookup, MemberWrite, PENDING_MEMBERS_MAX, PendingMembers, ScimClaim,
    ScimDeletion, ScimGroup, ScimGroupMarker, ScimMembers, scim_token,
};
pub use scim_groups::{drop_pending_members_gone, scim_member_ids};
pub use sessions::{Caller, Restriction, Session};
pub use sites::Site;
pub use vehicles::Vehicle;

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    Email,
    Username,
    ExternalId,
    Plate,
    /// The account already has a membership in the organisation.
    Membership,
    ScimUserName,
    /// A SCIM User's `externalId` (whether or not the profile takes it).
    ScimExternalId,
    ScimGroupName,
    Organisation,
    /// A live `Idempotency-Key` (of the bookings feed, or of the platform operator).
    IdempotencyKey,
}

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB could not be reached, did not answer in time, or refused the request; its
    /// message carries the cause's whole chain (an SDK error alone says only "service error").
    #[error(
        "the table is unavailable: {}",
        aws_sdk_dynamodb::error::DisplayErrorContext(.0.as_ref())
    )]
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
    /// A uniqueness rule refused the write; nothing was written.
    #[error("{0:?} is already taken")]
    Taken(Uniqueness),
    /// The item changed since it was read (its version moved on); nothing was written.
    #[error("the item was changed by someone else")]
    Stale,
    #[error("no such item")]
    NotFound,
    /// Another transaction was writing one of the items at each try, or an item the write
    /// depends on but named no version of changed; nothing was written and no rule refused it,
    /// so the write may simply be made again.
    #[error("another write of the same item was under way")]
    Contended,
    /// Another organisation's identity provider manages the person's email there.
    #[error("the email is managed by another organisation's identity provider")]
    EmailManagedElsewhere,
    /// A pagination cursor that this listing did not hand out.
    #[error("the cursor is not valid for this listing")]
    InvalidCursor,
    /// A SCIM bearer token that is not a live SCIM token of the organisation it names.
    #[error("the SCIM token is not valid")]
    InvalidToken,
    /// An item could not be read back into its type.
    #[error("stored item is unreadable: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

/// The outcome of a conditional write: its output when it was written, `None` when its condition
/// did not hold, `Unavailable` for anything else.
pub(crate) fn conditional<O, E, R>(
    result: Result<O, aws_sdk_dynamodb::error::SdkError<E, R>>,
) -> Result<Option<O>, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Some(output)),
        Err(error)
            if error
                .as_service_error()
                .and_then(aws_sdk_dynamodb::error::ProvideErrorMetadata::code)
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(None)
        }
        Err(error) => Err(StoreError::unavailable(error)),
    }
}

/// One write of a `batch_write`.
pub(crate) enum Write {
    Put(record::Item),
    Delete(keys::Key),
}

impl Write {
    fn request(self) -> WriteRequest {
        match self {
            Write::Put(item) => WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .expect("a put request has its item"),
                )
                .build(),
            Write::Delete(key) => WriteRequest::builder()
                .delete_request(
                    DeleteRequest::builder()
                        .set_key(Some(record::key_item(&key)))
                        .build()
                        .expect("a delete request has its key"),
                )
                .build(),
        }
    }
}

/// `client`, with a `PutItem`, `UpdateItem` or `DeleteItem` that DynamoDB rejects because a
/// transaction is writing its item (`TransactionConflictException`) sent again under the client's
/// retry strategy, as a throttled one is. The rejection means nothing was written, so sending it
/// again is safe whatever the write. The SDK does not count this error as retryable, so without
/// this such a write fails, in an instant, for a moment's overlap.
fn retrying_transaction_conflicts(client: &Client) -> Client {
    use aws_runtime::retries::classifiers::AwsErrorCodeClassifier;
    use aws_sdk_dynamodb::operation::{
        delete_item::DeleteItemError, put_item::PutItemError, update_item::UpdateItemError,
    };
    /// The classifier of operation error `E` that counts a transaction conflict as transient.
    fn conflict_transient<E>() -> AwsErrorCodeClassifier<E> {
        AwsErrorCodeClassifier::builder()
            .transient_errors(&["TransactionConflictException"][..])
            .build()
    }
    let config = client
        .config()
        .to_builder()
        .retry_classifier(conflict_transient::<PutItemError>())
        .retry_classifier(conflict_transient::<UpdateItemError>())
        .retry_classifier(conflict_transient::<DeleteItemError>())
        .build();
    Client::from_conf(config)
}

/// The Roster table: one DynamoDB client and the table's name, shared by every adapter.
#[derive(Clone, Debug)]
pub struct DynamoTable {
    client: Client,
    name: String,
}

impl DynamoTable {
    /// The table `name` through `client`, which from here on also sends again a single-item write
    /// that met a transaction (see `retrying_transaction_conflicts`).
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client: retrying_transaction_conflicts(&client),
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes `item` whatever was there before.
    pub(crate) async fn put(&self, item: record::Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::unavailable)
    }

    /// Writes `item` if `condition` (one without attribute names) holds; answers whether it did.
    pub(crate) async fn put_if(
        &self,
        item: record::Item,
        condition: transaction::Condition,
    ) -> Result<bool, StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .condition_expression(condition.expression);
        for (name, value) in condition.values {
            put = put.expression_attribute_values(name, value);
        }
        Ok(conditional(put.send().await)?.is_some())
    }

    /// Sets `fields` (attribute name and value) of the item at `key` and counts its `version`
    /// up, if it is still at version `expected` (an item written before it had versions counts
    /// as 0); answers the item as written. `NotFound` when it is gone, `Stale` when it changed
    /// meanwhile (a read after the refused write tells them apart).
    pub(crate) async fn update_versioned(
        &self,
        key: &keys::Key,
        expected: u64,
        fields: Vec<(&'static str, AttributeValue)>,
    ) -> Result<record::Item, StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(record::key_item(key)))
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":one", record::n(1));
        let mut sets = Vec::new();
        for (at, (name, value)) in fields.into_iter().enumerate() {
            sets.push(format!("#f{at} = :f{at}"));
            update = update
                .expression_attribute_names(format!("#f{at}"), name)
                .expression_attribute_values(format!(":f{at}"), value);
        }
        update = update.expression_attribute_values(":expected", record::n(expected));
        let condition = if expected == 0 {
            "attribute_exists(pk) AND (attribute_not_exists(#version) OR #version = :expected)"
        } else {
            "attribute_exists(pk) AND #version = :expected"
        };
        let expression = match sets.is_empty() {
            true => "ADD #version :one".to_owned(),
            false => format!("SET {} ADD #version :one", sets.join(", ")),
        };
        let written = update
            .update_expression(expression)
            .condition_expression(condition)
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match conditional(written)? {
            Some(output) => Ok(output.attributes.unwrap_or_default()),
            None if self.get(key, true).await?.is_some() => Err(StoreError::Stale),
            None => Err(StoreError::NotFound),
        }
    }

    /// Deletes the item at `key`, if there is one.
    pub(crate) async fn delete(&self, key: &keys::Key) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(record::key_item(key)))
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::unavailable)
    }

    /// Writes `writes` (puts and deletes, no conditions) with `BatchWriteItem`, 25 to a request,
    /// sending again what DynamoDB leaves unprocessed (throttling) a few times before giving up
    /// with `Unavailable`. Not atomic: on an error some of the writes may have landed.
    pub(crate) async fn batch_write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        const ATTEMPTS: u32 = 5;
        let mut requests: Vec<WriteRequest> = writes.into_iter().map(Write::request).collect();
        while !requests.is_empty() {
            let rest = requests.split_off(requests.len().min(25));
            let mut pending = std::mem::replace(&mut requests, rest);
            for attempt in 1.. {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.name, pending)
                    .send()
                    .await
                    .map_err(StoreError::unavailable)?;
                pending = output
                    .unprocessed_items
                    .and_then(|mut unprocessed| unprocessed.remove(&self.name))
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt == ATTEMPTS {
                    return Err(StoreError::Unavailable(
                        "DynamoDB left writes unprocessed (throttled)".into(),
                    ));
                }
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
            }
        }
        Ok(())
    }

    /// Proves the table answers: one eventually consistent `GetItem` of a key that never holds data.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.client
            .get_item()
            .table_name(&self.name)
            .key("pk", AttributeValue::S("HEALTH".to_owned()))
            .key("sk", AttributeValue::S("HEALTH".to_owned()))
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::unavailable)
    }
}
