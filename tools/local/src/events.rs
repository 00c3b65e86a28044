//! Lambda events as AWS sends them, built for the local stack's triggers.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// Account and region the local stack presents in ARNs.
pub const LOCAL_ACCOUNT: &str = "123456789012";

/// An EventBridge "Scheduled Event" of the rule `rule_name`, fired at `time`.
pub fn scheduled_event(rule_name: &str, time: DateTime<Utc>, region: &str) -> Value {
    json!({
        "version": "0",
        "id": format!("local-{}-{}", rule_name, time.timestamp()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": time.to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": region,
        "resources": [format!("arn:aws:events:{region}:{LOCAL_ACCOUNT}:rule/{rule_name}")],
        "detail": {}
    })
}

/// One object of an S3 `ObjectCreated:Put` notification.
#[derive(Debug, Clone)]
pub struct CreatedObject {
    pub key: String,
    pub version_id: Option<String>,
    pub size: i64,
    pub e_tag: Option<String>,
}

/// An S3 notification event for objects created in `bucket` (keys URL-encoded as S3 does).
pub fn s3_put_event(
    bucket: &str,
    region: &str,
    time: DateTime<Utc>,
    objects: &[CreatedObject],
) -> Value {
    let records: Vec<Value> = objects
        .iter()
        .map(|object| {
            json!({
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": time.to_rfc3339_opts(SecondsFormat::Millis, true),
                "eventName": "ObjectCreated:Put",
                "userIdentity": { "principalId": "roster-local" },
                "requestParameters": { "sourceIPAddress": "127.0.0.1" },
                "responseElements": {},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "roster-local-import",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": { "principalId": "roster-local" },
                        "arn": format!("arn:aws:s3:::{bucket}")
                    },
                    "object": {
                        "key": csv_import::encode_event_key(&object.key),
                        "size": object.size,
                        "eTag": object.e_tag.as_deref().unwrap_or_default().trim_matches('"'),
                        "versionId": object.version_id,
                        "sequencer": format!("{:016X}", time.timestamp_micros())
                    }
                }
            })
        })
        .collect();
    json!({ "Records": records })
}
