//! The import function: S3 `ObjectCreated` events of the import bucket -> user list imports.
//!
//! Each record's key says who dropped the file (`roster_domain::import_object`); keys outside the
//! known layouts are skipped and logged rather than failed, because a retry could never fix them.

use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use lambda_runtime::{Diagnostic, LambdaEvent};
use roster_domain::import_object::ImportObject;
use serde::Serialize;

/// The adapters the import uses, built once per process.
#[derive(Clone)]
pub struct Importer {
    s3: aws_sdk_s3::Client,
}

/// What one invocation did with each record of its event.
#[derive(Debug, Serialize)]
pub struct ImportRun {
    pub received: Vec<ReceivedObject>,
    pub skipped: Vec<SkippedObject>,
}

/// A user list found in the bucket, as the event and S3 describe it.
#[derive(Debug, Serialize)]
pub struct ReceivedObject {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    pub size: i64,
    pub source: ImportObject,
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
}

impl From<ImportError> for Diagnostic {
    fn from(error: ImportError) -> Self {
        Diagnostic {
            error_type: "ImportError".to_owned(),
            error_message: error.to_string(),
        }
    }
}

impl Importer {
    pub fn new(s3: aws_sdk_s3::Client) -> Self {
        Self { s3 }
    }

    /// Handles one S3 event. Transient S3 failures are errors (Lambda retries the event).
    pub async fn handle(&self, event: LambdaEvent<S3Event>) -> Result<ImportRun, ImportError> {
        let mut run = ImportRun {
            received: Vec::new(),
            skipped: Vec::new(),
        };
        for record in &event.payload.records {
            self.receive(record, &mut run).await?;
        }
        Ok(run)
    }

    async fn receive(
        &self,
        record: &S3EventRecord,
        run: &mut ImportRun,
    ) -> Result<(), ImportError> {
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
        let source = match ImportObject::from_key(&key) {
            Ok(source) => source,
            Err(error) => {
                tracing::warn!(%error, "skipping object that is not an import");
                run.skipped.push(SkippedObject {
                    key,
                    reason: error.to_string(),
                });
                return Ok(());
            }
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
        match head {
            Ok(head) => {
                tracing::info!(organisation = %source.organisation(), %key, "import file received");
                run.received.push(ReceivedObject {
                    bucket,
                    key,
                    version_id,
                    size: head.content_length().unwrap_or_default(),
                    source,
                });
            }
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => {
                tracing::warn!(%key, "import file is gone; skipping");
                run.skipped.push(SkippedObject {
                    key,
                    reason: "the object no longer exists".to_owned(),
                });
            }
            Err(error) => {
                return Err(ImportError::S3 {
                    bucket,
                    key,
                    source: Box::new(error),
                });
            }
        }
        Ok(())
    }
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
    use super::{decode_event_key, encode_event_key};

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
