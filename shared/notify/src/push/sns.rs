//! Push to phones through SNS mobile push: every phone has a platform endpoint (created when the
//! device is registered), and a message is published to it with the payload its platform expects.

use aws_sdk_sns::{
    config::http::HttpResponse,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    operation::publish::PublishError,
};
use serde_json::json;

use super::{PushMessage, PushOutcome};

/// The platform of a phone's SNS endpoint: APNs for iOS, FCM (SNS's `GCM`) for Android.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhonePlatform {
    Ios,
    Android,
}

#[derive(Clone, Debug)]
pub struct SnsPusher {
    sns: aws_sdk_sns::Client,
}

impl SnsPusher {
    pub fn new(sns: aws_sdk_sns::Client) -> Self {
        Self { sns }
    }

    /// Publishes `message` to the phone's platform endpoint `endpoint_arn`.
    pub async fn send(
        &self,
        endpoint_arn: &str,
        platform: PhonePlatform,
        message: &PushMessage,
    ) -> PushOutcome {
        match self
            .sns
            .publish()
            .target_arn(endpoint_arn)
            .message_structure("json")
            .message(platform_message(platform, message))
            .send()
            .await
        {
            Ok(_) => PushOutcome::Delivered,
            Err(error) => outcome_of_publish_error(&error),
        }
    }
}

/// The `MessageStructure=json` message: SNS requires a `default` text and takes each platform's
/// payload as a JSON string under the platform's key. iOS endpoints may belong to the production
/// or the sandbox APNs application, so both keys carry the payload. The tag travels as data for
/// the app.
fn platform_message(platform: PhonePlatform, message: &PushMessage) -> String {
    let default = format!("{}: {}", message.title, message.body);
    match platform {
        PhonePlatform::Ios => {
            let apns = json!({
                "aps": { "alert": { "title": message.title, "body": message.body } },
                "tag": message.tag,
            })
            .to_string();
            json!({ "default": default, "APNS": apns, "APNS_SANDBOX": apns })
        }
        PhonePlatform::Android => {
            let fcm = json!({
                "notification": { "title": message.title, "body": message.body },
                "data": { "tag": message.tag },
            })
            .to_string();
            json!({ "default": default, "GCM": fcm })
        }
    }
    .to_string()
}

fn outcome_of_publish_error(error: &SdkError<PublishError, HttpResponse>) -> PushOutcome {
    let described = || DisplayErrorContext(error).to_string();
    match error {
        SdkError::ServiceError(service) => {
            let refusal = service.err();
            if refusal.is_endpoint_disabled_exception() || refusal.is_not_found_exception() {
                PushOutcome::Gone
            } else if refusal.is_internal_error_exception()
                || refusal.is_kms_throttling_exception()
                || matches!(refusal.code(), Some("Throttling" | "Throttled"))
                || service.raw().status().is_server_error()
            {
                PushOutcome::Transient(described())
            } else {
                PushOutcome::Failed(described())
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            PushOutcome::Transient(described())
        }
        _ => PushOutcome::Failed(described()),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sns::{
        error::ErrorMetadata,
        types::error::{
            EndpointDisabledException, InternalErrorException, InvalidParameterException,
            NotFoundException,
        },
    };
    use serde_json::Value;

    use super::*;

    fn message() -> PushMessage {
        PushMessage {
            title: "Parking P2-07 tomorrow".to_owned(),
            body: "08:00-18:00".to_owned(),
            tag: "reservation-7".to_owned(),
        }
    }

    /// The top-level message and each platform's payload, parsed.
    fn published(platform: PhonePlatform) -> (Value, impl Fn(&str) -> Value) {
        let top: Value = serde_json::from_str(&platform_message(platform, &message())).unwrap();
        let payloads = top.clone();
        (top, move |key: &str| {
            serde_json::from_str(payloads[key].as_str().expect("a JSON string")).unwrap()
        })
    }

    #[test]
    fn an_iphone_gets_an_apns_alert_in_production_and_sandbox() {
        let (top, payload) = published(PhonePlatform::Ios);
        assert_eq!(top["default"], "Parking P2-07 tomorrow: 08:00-18:00");
        assert!(top.get("GCM").is_none());
        for key in ["APNS", "APNS_SANDBOX"] {
            assert_eq!(
                payload(key),
                json!({
                    "aps": { "alert": { "title": "Parking P2-07 tomorrow", "body": "08:00-18:00" } },
                    "tag": "reservation-7"
                })
            );
        }
    }

    #[test]
    fn an_android_phone_gets_an_fcm_notification_with_the_tag_as_data() {
        let (top, payload) = published(PhonePlatform::Android);
        assert_eq!(top["default"], "Parking P2-07 tomorrow: 08:00-18:00");
        assert!(top.get("APNS").is_none());
        assert_eq!(
            payload("GCM"),
            json!({
                "notification": { "title": "Parking P2-07 tomorrow", "body": "08:00-18:00" },
                "data": { "tag": "reservation-7" }
            })
        );
    }

    fn refused(error: PublishError, status: u16) -> SdkError<PublishError, HttpResponse> {
        SdkError::service_error(
            error,
            HttpResponse::new(status.try_into().unwrap(), "".into()),
        )
    }

    #[test]
    fn a_disabled_or_deleted_endpoint_is_gone() {
        let disabled = PublishError::EndpointDisabledException(
            EndpointDisabledException::builder()
                .message("Endpoint is disabled")
                .build(),
        );
        let deleted = PublishError::NotFoundException(NotFoundException::builder().build());
        assert_eq!(
            outcome_of_publish_error(&refused(disabled, 400)),
            PushOutcome::Gone
        );
        assert_eq!(
            outcome_of_publish_error(&refused(deleted, 404)),
            PushOutcome::Gone
        );
    }

    #[test]
    fn throttling_server_errors_and_timeouts_are_worth_retrying() {
        let throttled = PublishError::generic(ErrorMetadata::builder().code("Throttling").build());
        let internal =
            PublishError::InternalErrorException(InternalErrorException::builder().build());
        let unavailable =
            PublishError::generic(ErrorMetadata::builder().code("ServiceUnavailable").build());
        for error in [
            refused(throttled, 400),
            refused(internal, 500),
            refused(unavailable, 503),
            SdkError::timeout_error("no answer in time"),
        ] {
            assert!(
                matches!(outcome_of_publish_error(&error), PushOutcome::Transient(_)),
                "{error:?}"
            );
        }
    }

    #[test]
    fn an_invalid_request_fails_for_good() {
        let invalid = PublishError::InvalidParameterException(
            InvalidParameterException::builder()
                .message("Invalid parameter: TargetArn")
                .build(),
        );
        assert!(matches!(
            outcome_of_publish_error(&refused(invalid, 400)),
            PushOutcome::Failed(reason) if reason.contains("TargetArn")
        ));
    }
}
