//! The import function: S3 `ObjectCreated` events of the import bucket -> user list imports.
//!
//! Each record's key says who dropped the file (`roster_domain::import_object`); keys outside the
//! known layouts are skipped and logged rather than failed, because a retry could never fix them.

use std::io::Write;

use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use chrono::Utc;
use lambda_runtime::{Diagnostic, LambdaEvent};
use roster_domain::{
    ids::{ImportId, OrganisationId},
    import::Mode,
    import_object::ImportObject,
    permissions::administers_whole_organisation,
};
use roster_store::{DynamoTable, ImportCounts, ImportRecord, ImportSource, ImportStatus};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod run;

pub use roster_import_file::{MAX_UNCOMPRESSED_BYTES, MAX_ZIP_ENTRIES};
pub use run::Invitations;

/// Largest file an administrator's upload may be (500 rows fit many times over).
pub const MAX_UPLOAD_BYTES: i64 = 20 * 1024 * 1024;
/// Largest daily sync file.
pub const MAX_SYNC_BYTES: i64 = 2 * 1024 * 1024 * 1024;
/// Deliveries that may work on one import (Lambda's first try and two retries); the next one
/// marks it failed instead of trying again what crashed or timed out every time.
const MAX_ATTEMPTS: u32 = 3;
/// How long a claim holds when the invocation has no deadline (local runs): Lambda's maximum.
const DEFAULT_LEASE_MS: i64 = 15 * 60 * 1000;

/// The adapters the import uses, built once per process.
#[derive(Clone)]
pub struct Importer {
    s3: aws_sdk_s3::Client,
    table: DynamoTable,
    invitations: Invitations,
}

/// What the function is invoked with: an S3 event, or (as its own on-failure destination) the
/// record Lambda sends when it gave up on one, told apart by the record's `requestContext`.
#[derive(Debug, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub enum ImportEvent {
    GaveUp(FailedInvocation),
    Objects(S3Event),
}

impl TryFrom<serde_json::Value> for ImportEvent {
    type Error = serde_json::Error;

    fn try_from(event: serde_json::Value) -> Result<Self, Self::Error> {
        if event.get("requestContext").is_some() {
            serde_json::from_value(event).map(Self::GaveUp)
        } else {
            serde_json::from_value(event).map(Self::Objects)
        }
    }
}

/// Lambda's on-failure destination record of an asynchronous invocation, as much of it as the
/// import reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedInvocation {
    pub request_context: FailedRequest,
    /// The event of the invocation that failed: an S3 event, or another failure record.
    pub request_payload: serde_json::Value,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedRequest {
    /// The failed invocation's request id, the same on each of its retries.
    pub request_id: String,
    /// `RetriesExhausted` (every try failed) or `EventAgeExceeded` (never run in time).
    #[serde(default)]
    pub condition: String,
}

/// What one invocation did with each record of its event.
#[derive(Debug, Serialize)]
pub struct ImportRun {
    pub received: Vec<ReceivedObject>,
    pub skipped: Vec<SkippedObject>,
}

/// A user list found in the bucket, as the event and S3 describe it, and what became of it.
#[derive(Debug, Serialize)]
pub struct ReceivedObject {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    pub size: i64,
    pub source: ImportObject,
    pub import: Option<ImportSummary>,
    /// Why the object was not imported (again).
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ImportSummary {
    pub id: ImportId,
    pub status: ImportStatus,
    pub counts: ImportCounts,
}

impl From<ImportRecord> for ImportSummary {
    fn from(import: ImportRecord) -> Self {
        Self {
            id: import.id,
            status: import.status,
            counts: import.counts,
        }
    }
}

/// A record that is not an import (unknown key layout, or the object is gone).
#[derive(Debug, Serialize)]
pub struct SkippedObject {
    pub key: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("S3 event record without {0}")]
    MalformedRecord(&'static str),
    #[error("reading s3://{bucket}/{key}")]
    S3 {
        bucket: String,
        key: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("the next delivery resumes the import: {0}")]
    Store(#[from] roster_store::StoreError),
    #[error("importing: {0}")]
    Run(#[from] run::RunError),
    #[error("spooling the file: {0}")]
    Spool(#[from] std::io::Error),
}

impl From<ImportError> for Diagnostic {
    fn from(error: ImportError) -> Self {
        Diagnostic {
            error_type: "ImportError".to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The import a sync drop starts: one per object version, so a redelivered event finds it.
fn sync_import_id(key: &str, record: &S3EventRecord) -> ImportId {
    let digest = Sha256::digest(format!("{key}\n{}", object_version(record)));
    ImportId::try_from(&hex::encode(digest)[..32]).expect("hex is a valid id")
}

/// Which write of the object the record announces: its version id (versioned bucket), else the
/// event's sequencer, else its ETag. A redelivered event names the same version.
fn object_version(record: &S3EventRecord) -> String {
    let object = &record.s3.object;
    object
        .version_id
        .clone()
        .filter(|v| !v.is_empty())
        .or_else(|| object.sequencer.clone())
        .or_else(|| object.e_tag.clone())
        .unwrap_or_default()
}

/// Where an S3 event stands among the organisation's sync drops: its event time, then its
/// sequencer (S3 orders the writes of one key by it, compared as zero-padded hex strings).
fn sync_order(record: &S3EventRecord) -> String {
    format!(
        "{:015}#{:0>32}",
        record.event_time.timestamp_millis(),
        record.s3.object.sequencer.as_deref().unwrap_or_default()
    )
}

impl Importer {
    pub fn new(s3: aws_sdk_s3::Client, table: DynamoTable, invitations: Invitations) -> Self {
        Self {
            s3,
            table,
            invitations,
        }
    }

    /// Handles one S3 event. Transient S3 or DynamoDB failures are errors (Lambda retries the
    /// event, and the retry resumes where the run stopped).
    ///
    /// A failure record (Lambda gave up on an event) ends the event's imports instead: each one
    /// still pending or running is saved failed, without its file being read again, so none stays
    /// `running` for ever. A failure record of a failure record is dropped.
    pub async fn handle(&self, event: LambdaEvent<ImportEvent>) -> Result<ImportRun, ImportError> {
        let mut run = ImportRun {
            received: Vec::new(),
            skipped: Vec::new(),
        };
        let failed = match event.payload {
            ImportEvent::Objects(s3) => {
                let holder = &event.context.request_id;
                let deadline = i64::try_from(event.context.deadline).unwrap_or(i64::MAX);
                for record in &s3.records {
                    self.receive(record, holder, deadline, &mut run).await?;
                }
                return Ok(run);
            }
            ImportEvent::GaveUp(failed) => failed,
        };
        let context = failed.request_context;
        match serde_json::from_value::<S3Event>(failed.request_payload) {
            Ok(s3) => {
                tracing::warn!(request = %context.request_id, condition = %context.condition,
                    "Lambda gave up on an import event");
                for record in &s3.records {
                    self.give_up(record, &context, &mut run).await?;
                }
            }
            Err(error) => {
                tracing::error!(request = %context.request_id, %error,
                    "dropping a failure record that is not of an S3 event");
            }
        }
        Ok(run)
    }

    /// The record's bucket, decoded key and import object; `None` when the key is not an
    /// import's (added to `run`'s skipped, with its reason).
    fn locate(
        record: &S3EventRecord,
        run: &mut ImportRun,
    ) -> Result<Option<(String, String, ImportObject)>, ImportError> {
        let bucket = record
            .s3
            .bucket
            .name
            .clone()
            .ok_or(ImportError::MalformedRecord("bucket name"))?;
        let encoded_key = record
            .s3
            .object
            .key
            .as_deref()
            .ok_or(ImportError::MalformedRecord("object key"))?;
        let key = decode_event_key(encoded_key);
        Ok(match ImportObject::from_key(&key) {
            Ok(source) => Some((bucket, key, source)),
            Err(error) => {
                tracing::warn!(%error, "skipping object that is not an import");
                run.skipped.push(SkippedObject {
                    key,
                    reason: error.to_string(),
                });
                None
            }
        })
    }

    /// Ends the import of `record`, an event Lambda gave up on: claimed under the failed
    /// invocation's request id (which holds it if a try of that invocation did) and saved failed.
    /// An import that is finished, unknown, or held by another delivery's live lease is left.
    async fn give_up(
        &self,
        record: &S3EventRecord,
        context: &FailedRequest,
        run: &mut ImportRun,
    ) -> Result<(), ImportError> {
        let Some((bucket, key, source)) = Self::locate(record, run)? else {
            return Ok(());
        };
        // A sync drop's import may not exist yet: it is created to be shown failed.
        let import = match &source {
            ImportObject::AdminUpload { import, .. } => import.clone(),
            ImportObject::SyncDrop { organisation, .. } => {
                match self.table.organisation(organisation).await? {
                    Some(_) => self.create_sync_import(&key, record, organisation).await?,
                    None => sync_import_id(&key, record),
                }
            }
        };
        // A minute is ample to save the failure; the claim keeps other deliveries off meanwhile.
        let now_ms = Utc::now().timestamp_millis();
        let claimed = self
            .table
            .claim_import(
                source.organisation(),
                &import,
                &context.request_id,
                now_ms,
                now_ms + 60_000,
            )
            .await?;
        let again = match &source {
            ImportObject::AdminUpload { .. } => "start a new import",
            ImportObject::SyncDrop { .. } => "put the file again",
        };
        let mut received = ReceivedObject {
            bucket,
            key,
            version_id: record
                .s3
                .object
                .version_id
                .clone()
                .filter(|v| !v.is_empty()),
            size: record.s3.object.size.unwrap_or_default(),
            source,
            import: None,
            note: None,
        };
        let Some(mut claimed) = claimed else {
            received.note = Some(
                "Lambda gave up on the event; its import is finished, unknown, or being imported \
                 by another delivery"
                    .to_owned(),
            );
            run.received.push(received);
            return Ok(());
        };
        if self.pinned_elsewhere(&mut claimed, record).await? {
            received.note = Some(OTHER_VERSION.to_owned());
        } else {
            // Our own claim counts one attempt: more, or rows applied, means tries ran.
            let started = claimed.attempts > 1 || claimed.rows_applied > 0;
            let (code, message) = if context.condition == "EventAgeExceeded" && !started {
                (
                    "not_started_in_time",
                    format!("the file waited too long to be imported; {again}"),
                )
            } else {
                failed_repeatedly()
            };
            received.import = Some(self.fail(claimed, code, message).await?.into());
        }
        run.received.push(received);
        Ok(())
    }

    /// Whether `claimed` reads another version of its file than `record` announces; if so, the
    /// claim is let go at once (that version's deliveries keep the import).
    async fn pinned_elsewhere(
        &self,
        claimed: &mut ImportRecord,
        record: &S3EventRecord,
    ) -> Result<bool, ImportError> {
        match &claimed.file_version {
            Some(pinned) if *pinned != object_version(record) => {
                claimed.lease_until = Some(0);
                self.table.save_import(claimed).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Stores the import a sync drop starts (unless it exists) and answers its id.
    async fn create_sync_import(
        &self,
        key: &str,
        record: &S3EventRecord,
        organisation: &OrganisationId,
    ) -> Result<ImportId, ImportError> {
        let id = sync_import_id(key, record);
        let mut new = ImportRecord::new(
            id.clone(),
            organisation.clone(),
            ImportSource::Sync,
            Mode::Replace,
            Utc::now(),
        );
        new.file_key = Some(key.to_owned());
        self.table.create_import(&new).await?;
        Ok(id)
    }

    /// Saves a claimed import failed with `code` and `message`.
    async fn fail(
        &self,
        mut claimed: ImportRecord,
        code: &str,
        message: String,
    ) -> Result<ImportRecord, ImportError> {
        run::report_cut_off_deactivations(&self.table, &mut claimed).await?;
        claimed.status = ImportStatus::Failed;
        claimed.failure = Some(roster_store::ImportFailure {
            code: code.to_owned(),
            message,
            errors: vec![],
        });
        claimed.finished_at = Some(Utc::now());
        self.table.save_import(&claimed).await?;
        Ok(claimed)
    }

    async fn receive(
        &self,
        record: &S3EventRecord,
        holder: &str,
        deadline_ms: i64,
        run: &mut ImportRun,
    ) -> Result<(), ImportError> {
        let Some((bucket, key, source)) = Self::locate(record, run)? else {
            return Ok(());
        };
        let version_id = record
            .s3
            .object
            .version_id
            .clone()
            .filter(|v| !v.is_empty());
        let head = self
            .s3
            .head_object()
            .bucket(&bucket)
            .key(&key)
            .set_version_id(version_id.clone())
            .send()
            .await;
        let size = match head {
            Ok(head) => head.content_length().unwrap_or_default(),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => {
                tracing::warn!(%key, "import file is gone; skipping");
                run.skipped.push(SkippedObject {
                    key,
                    reason: "the object no longer exists".to_owned(),
                });
                return Ok(());
            }
            Err(error) => {
                return Err(ImportError::S3 {
                    bucket,
                    key,
                    source: Box::new(error),
                });
            }
        };
        tracing::info!(organisation = %source.organisation(), %key, "import file received");
        let mut received = ReceivedObject {
            bucket,
            key,
            version_id,
            size,
            source,
            import: None,
            note: None,
        };
        // Read once: a sync drop for an unknown organisation is not claimed, and the run needs it.
        let organisation = self
            .table
            .organisation(received.source.organisation())
            .await?;
        match self
            .claim(
                &received,
                record,
                organisation.is_some(),
                holder,
                deadline_ms,
            )
            .await?
        {
            Err(note) => received.note = Some(note),
            Ok(mut claimed) => {
                // An import reads one version of its file: a second upload to the same URL, or
                // a later version arriving after a cut-off run, is not mixed into it.
                if self.pinned_elsewhere(&mut claimed, record).await? {
                    received.note = Some(OTHER_VERSION.to_owned());
                    run.received.push(received);
                    return Ok(());
                }
                if claimed.file_version.is_none() {
                    claimed.file_version = Some(object_version(record));
                    self.table.save_import(&claimed).await?;
                }
                let order = sync_order(record);
                let done = self
                    .import(&received, claimed, organisation, &order)
                    .await?;
                received.import = Some(done.into());
            }
        }
        run.received.push(received);
        Ok(())
    }

    /// Claims the object's import for this invocation, creating a sync drop's import first.
    /// `Err(note)` says why there is nothing to do.
    async fn claim(
        &self,
        received: &ReceivedObject,
        record: &S3EventRecord,
        organisation_exists: bool,
        holder: &str,
        deadline_ms: i64,
    ) -> Result<Result<ImportRecord, String>, ImportError> {
        let now = Utc::now();
        let (organisation, import): (&OrganisationId, ImportId) = match &received.source {
            ImportObject::AdminUpload {
                organisation,
                import,
                ..
            } => (organisation, import.clone()),
            ImportObject::SyncDrop { organisation, .. } => {
                if !organisation_exists {
                    return Ok(Err("no such organisation".to_owned()));
                }
                (
                    organisation,
                    self.create_sync_import(&received.key, record, organisation)
                        .await?,
                )
            }
        };
        let now_ms = now.timestamp_millis();
        let lease_until = if deadline_ms > now_ms {
            deadline_ms
        } else {
            now_ms + DEFAULT_LEASE_MS
        };
        let claimed = self
            .table
            .claim_import(organisation, &import, holder, now_ms, lease_until)
            .await?;
        Ok(claimed.ok_or_else(|| {
            "no pending import: unknown, already imported, or being imported".to_owned()
        }))
    }

    /// Copies the object to a local file and runs its import there; `order` places a sync drop
    /// among the organisation's others (`sync_order`).
    async fn import(
        &self,
        received: &ReceivedObject,
        mut claimed: ImportRecord,
        organisation: Option<roster_domain::organisation::Organisation>,
        order: &str,
    ) -> Result<ImportRecord, ImportError> {
        let limit = match claimed.source {
            ImportSource::Upload => MAX_UPLOAD_BYTES,
            ImportSource::Sync => MAX_SYNC_BYTES,
        };
        claimed.file_key = Some(received.key.clone());
        let organisation = match organisation {
            Some(organisation) if received.size <= limit && claimed.attempts <= MAX_ATTEMPTS => {
                organisation
            }
            found => {
                let (code, message) = match found {
                    None => (
                        "no_organisation",
                        "the organisation no longer exists".to_owned(),
                    ),
                    Some(_) if received.size > limit => (
                        "file_too_large",
                        format!(
                            "the file has {} bytes; at most {limit} are accepted",
                            received.size
                        ),
                    ),
                    Some(_) => failed_repeatedly(),
                };
                return self.fail(claimed, code, message).await;
            }
        };
        let author_roles = match &claimed.created_by {
            Some(author) => Some(
                self.table
                    .membership(&organisation.id, author)
                    .await?
                    .filter(roster_domain::membership::Membership::is_active)
                    .map(|author| author.roles_in(&organisation))
                    .unwrap_or_default(),
            ),
            None => None,
        };
        // An upload runs with its author's rights as they are now: one who left, was
        // deactivated or lost the right to import since announcing it imports nothing more.
        if author_roles
            .as_deref()
            .is_some_and(|roles| !administers_whole_organisation(roles))
        {
            let message = "the administrator who uploaded the file may no longer import users";
            return self
                .fail(claimed, "not_permitted", message.to_owned())
                .await;
        }
        let spooled = self.spool(received).await?;
        let file_name = match &received.source {
            ImportObject::AdminUpload { file_name, .. }
            | ImportObject::SyncDrop { file_name, .. } => file_name.clone(),
        };
        let run = run::Run {
            table: &self.table,
            invitations: &self.invitations,
            s3: &self.s3,
            organisation,
            record: claimed,
            bucket: received.bucket.clone(),
            file_name,
            now: Utc::now(),
            sync_order: order,
            author_roles,
        };
        Ok(run.execute(spooled.path()).await?)
    }

    /// Streams the object version into a temporary file (memory stays flat in the file's size).
    async fn spool(
        &self,
        received: &ReceivedObject,
    ) -> Result<tempfile::NamedTempFile, ImportError> {
        let s3_error = |error: Box<dyn std::error::Error + Send + Sync>| ImportError::S3 {
            bucket: received.bucket.clone(),
            key: received.key.clone(),
            source: error,
        };
        let object = self
            .s3
            .get_object()
            .bucket(&received.bucket)
            .key(&received.key)
            .set_version_id(received.version_id.clone())
            .send()
            .await
            .map_err(|e| s3_error(Box::new(e)))?;
        let mut body = object.body;
        let mut file = tempfile::NamedTempFile::new()?;
        while let Some(bytes) = body.try_next().await.map_err(|e| s3_error(Box::new(e)))? {
            file.write_all(&bytes)?;
        }
        file.flush()?;
        Ok(file)
    }
}

/// Why a delivery of another version of an import's file leaves the import alone.
const OTHER_VERSION: &str =
    "another version of the file is this import's; upload again under a new import";

/// The failure of an import whose every try stopped without finishing.
fn failed_repeatedly() -> (&'static str, String) {
    (
        "failed_repeatedly",
        format!(
            "the import stopped without finishing {MAX_ATTEMPTS} times; what it applied stays, and \
             its report shows how far it got"
        ),
    )
}

/// S3 event keys are URL-encoded with `+` for spaces.
fn decode_event_key(key: &str) -> String {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Characters S3 leaves as they are in event keys.
const EVENT_KEY_KEPT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'*')
    .remove(b' ');

/// An object key as S3 writes it into event notifications (the inverse of the decoding above).
pub fn encode_event_key(key: &str) -> String {
    percent_encoding::utf8_percent_encode(key, EVENT_KEY_KEPT)
        .to_string()
        .replace(' ', "+")
}

#[cfg(test)]
mod tests {
    use super::{S3EventRecord, decode_event_key, encode_event_key, sync_order};

    fn record_at(time: &str, sequencer: &str) -> S3EventRecord {
        let mut record = S3EventRecord::default();
        record.event_time = time.parse().unwrap();
        record.s3.object.sequencer = Some(sequencer.to_owned());
        record
    }

    #[test]
    fn sync_drops_order_by_event_time_then_by_sequencer_as_padded_hex() {
        let order = |time, sequencer| sync_order(&record_at(time, sequencer));
        assert!(
            order("2026-11-21T23:59:59.999Z", "FFFF") < order("2026-11-22T00:00:00.000Z", "01")
        );
        assert!(order("2026-11-22T06:00:00Z", "0A") < order("2026-11-22T06:00:00Z", "0B"));
        assert!(
            order("2026-11-22T06:00:00Z", "FF") < order("2026-11-22T06:00:00Z", "100"),
            "a shorter sequencer is padded before comparing"
        );
    }

    #[test]
    fn event_keys_are_url_decoded_with_plus_as_space() {
        assert_eq!(
            decode_event_key("imports/o/i/users+list%2B%C3%A9.csv"),
            "imports/o/i/users list+é.csv"
        );
    }

    #[test]
    fn encoding_a_key_for_an_event_round_trips() {
        let key = "sync/org 1/Liste (neu)+é&x=1.csv";
        assert_eq!(
            encode_event_key(key),
            "sync/org+1/Liste+%28neu%29%2B%C3%A9%26x%3D1.csv"
        );
        assert_eq!(decode_event_key(&encode_event_key(key)), key);
    }
}
