//! The template's IAM grants, held to on the local functions' SDK clients: a call whose action
//! the function's role is not granted fails before it leaves, as AWS would refuse it
//! (AccessDenied), so `make test` and `make dev` catch a policy that misses an action. Actions
//! only: which resources a grant covers is left to AWS.

use std::{collections::BTreeSet, sync::Arc};

use aws_sdk_dynamodb::{
    config::{
        ConfigBag, Intercept, RuntimeComponents,
        interceptors::BeforeSerializationInterceptorContextRef,
    },
    error::BoxError,
    operation::transact_write_items::TransactWriteItemsInput,
};
use aws_sdk_s3::operation::{
    delete_object::DeleteObjectInput, get_object::GetObjectInput, head_object::HeadObjectInput,
};
use aws_sdk_sesv2::operation::send_email::SendEmailInput;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// A call refused because the function's role does not grant `action`.
#[derive(Debug, thiserror::Error)]
#[error(
    "AccessDenied: {function} is not granted {action} (for {operation}) in infra/template.yaml"
)]
pub struct NotGranted {
    function: String,
    action: String,
    operation: String,
}

/// The actions one function's role is allowed, as an SDK interceptor.
#[derive(Debug, Clone)]
pub struct Grants {
    function: String,
    actions: Arc<BTreeSet<String>>,
}

impl Grants {
    pub fn new(function: &str, actions: BTreeSet<String>) -> Self {
        Self {
            function: function.to_owned(),
            actions: Arc::new(actions),
        }
    }
}

/// What a transaction's or a read's input decides about the actions it needs.
#[derive(Debug, Default, PartialEq)]
pub struct Shape {
    /// The kinds of a `TransactWriteItems`' items: `Put`, `Update`, `Delete`, `ConditionCheck`.
    pub transaction_items: BTreeSet<&'static str>,
    /// An S3 read or delete of a named object version.
    pub object_version: bool,
    /// An SES v2 `SendEmail` of a whole MIME message (`Content.Raw`).
    pub raw_email: bool,
}

impl Shape {
    fn of(input: &aws_smithy_runtime_api::client::interceptors::context::Input) -> Self {
        let mut shape = Self::default();
        if let Some(transaction) = input.downcast_ref::<TransactWriteItemsInput>() {
            for item in transaction.transact_items() {
                for (present, kind) in [
                    (item.put().is_some(), "Put"),
                    (item.update().is_some(), "Update"),
                    (item.delete().is_some(), "Delete"),
                    (item.condition_check().is_some(), "ConditionCheck"),
                ] {
                    if present {
                        shape.transaction_items.insert(kind);
                    }
                }
            }
        }
        shape.object_version = input
            .downcast_ref::<GetObjectInput>()
            .map(|get| get.version_id().is_some())
            .or_else(|| {
                input
                    .downcast_ref::<HeadObjectInput>()
                    .map(|head| head.version_id().is_some())
            })
            .or_else(|| {
                input
                    .downcast_ref::<DeleteObjectInput>()
                    .map(|delete| delete.version_id().is_some())
            })
            .unwrap_or(false);
        shape.raw_email = input
            .downcast_ref::<SendEmailInput>()
            .and_then(|send| send.content())
            .is_some_and(|content| content.raw().is_some());
        shape
    }
}

/// The IAM actions the SDK operation `operation` of `service` (as the SDK names both) needs:
/// DynamoDB transactions are authorised per item's action; S3 reads by `GetObject` (or
/// `GetObjectVersion` for a named version), deletes of a version by `DeleteObjectVersion`,
/// listings by `ListBucket` (`ListBucketVersions`), copies by reading and writing, multipart
/// uploads by `PutObject`; SES v2 sends of a whole MIME message by `SendEmail` and
/// `SendRawEmail`; other operations by their own name.
pub fn needed_actions(service: &str, operation: &str, shape: &Shape) -> Vec<String> {
    let prefix = match service {
        "DynamoDB" => "dynamodb",
        "S3" => "s3",
        "SNS" => "sns",
        "SESv2" => "ses",
        other => return vec![format!("{}:{operation}", other.to_lowercase())],
    };
    let names: Vec<&str> = match (prefix, operation) {
        ("dynamodb", "TransactWriteItems") => shape
            .transaction_items
            .iter()
            .map(|kind| match *kind {
                "Put" => "PutItem",
                "Update" => "UpdateItem",
                "Delete" => "DeleteItem",
                _ => "ConditionCheckItem",
            })
            .collect(),
        ("dynamodb", "TransactGetItems") => vec!["GetItem"],
        ("s3", "GetObject" | "HeadObject") if shape.object_version => vec!["GetObjectVersion"],
        ("s3", "DeleteObject") if shape.object_version => vec!["DeleteObjectVersion"],
        ("s3", "HeadObject") => vec!["GetObject"],
        ("s3", "ListObjectsV2" | "ListObjects") => vec!["ListBucket"],
        ("s3", "ListObjectVersions") => vec!["ListBucketVersions"],
        ("s3", "DeleteObjects") => vec!["DeleteObject"],
        ("s3", "CopyObject") => vec!["GetObject", "PutObject"],
        // As SES authorises a v2 send of a whole message: by the v1 action of raw sends.
        ("ses", "SendEmail") if shape.raw_email => vec!["SendEmail", "SendRawEmail"],
        ("s3", "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload") => {
            vec!["PutObject"]
        }
        _ => vec![operation],
    };
    names
        .into_iter()
        .map(|name| format!("{prefix}:{name}"))
        .collect()
}

impl Intercept for Grants {
    fn name(&self) -> &'static str {
        "roster-template-grants"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else {
            return Ok(());
        };
        let shape = Shape::of(context.input());
        for action in needed_actions(metadata.service(), metadata.name(), &shape) {
            if !self.actions.contains(&action) {
                let refused = NotGranted {
                    function: self.function.clone(),
                    action,
                    operation: metadata.name().to_owned(),
                };
                tracing::error!(%refused, "a call the deployed role would be refused");
                return Err(refused.into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_operations_need_the_action_of_their_name() {
        let plain = Shape::default();
        assert_eq!(
            needed_actions("DynamoDB", "BatchWriteItem", &plain),
            ["dynamodb:BatchWriteItem"]
        );
        assert_eq!(
            needed_actions("SESv2", "SendEmail", &plain),
            ["ses:SendEmail"]
        );
        assert_eq!(needed_actions("SNS", "Publish", &plain), ["sns:Publish"]);
        assert_eq!(needed_actions("S3", "PutObject", &plain), ["s3:PutObject"]);
    }

    #[test]
    fn transactions_need_each_items_action_and_reads_their_objects_action() {
        let transaction = Shape {
            transaction_items: BTreeSet::from(["Put", "ConditionCheck"]),
            ..Shape::default()
        };
        assert_eq!(
            needed_actions("DynamoDB", "TransactWriteItems", &transaction),
            ["dynamodb:ConditionCheckItem", "dynamodb:PutItem"]
        );
        assert_eq!(
            needed_actions("S3", "HeadObject", &Shape::default()),
            ["s3:GetObject"]
        );
        let version = Shape {
            object_version: true,
            ..Shape::default()
        };
        assert_eq!(
            needed_actions("S3", "HeadObject", &version),
            ["s3:GetObjectVersion"]
        );
        assert_eq!(
            needed_actions("S3", "ListObjectsV2", &Shape::default()),
            ["s3:ListBucket"]
        );
        assert_eq!(
            needed_actions("S3", "DeleteObject", &version),
            ["s3:DeleteObjectVersion"]
        );
        assert_eq!(
            needed_actions("S3", "CopyObject", &Shape::default()),
            ["s3:GetObject", "s3:PutObject"]
        );
        let raw = Shape {
            raw_email: true,
            ..Shape::default()
        };
        assert_eq!(
            needed_actions("SESv2", "SendEmail", &raw),
            ["ses:SendEmail", "ses:SendRawEmail"]
        );
    }
}
