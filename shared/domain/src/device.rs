//! Devices that receive push notifications: phones through SNS (APNS / FCM tokens) and browsers
//! through Web Push subscriptions (RFC 8030/8291: endpoint and keys).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use sha2::{Digest, Sha256};

use crate::{
    ids::DeviceId,
    validation::{FieldProblem, ValidationErrors, bounded_text},
};

pub const DEVICES_PER_PERSON: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "platform", rename_all = "lowercase")]
pub enum PushTarget {
    Ios {
        token: String,
    },
    Android {
        token: String,
    },
    Web {
        endpoint: String,
        p256dh: String,
        auth: String,
    },
}

impl PushTarget {
    /// Whether `other` reaches the same phone or browser: the same platform and token, or the
    /// same Web Push endpoint (whose keys a browser may have renewed).
    pub fn same_destination(&self, other: &PushTarget) -> bool {
        match (self, other) {
            (PushTarget::Ios { token: a }, PushTarget::Ios { token: b })
            | (PushTarget::Android { token: a }, PushTarget::Android { token: b }) => a == b,
            (PushTarget::Web { endpoint: a, .. }, PushTarget::Web { endpoint: b, .. }) => a == b,
            _ => false,
        }
    }

    /// The id a new device of this phone or browser gets: the same destination (see
    /// `same_destination`) always gets the same id, so two registrations of it at once make one
    /// device. The first 128 bits of a SHA-256, hex, as random ids are.
    pub fn device_id(&self) -> DeviceId {
        let destination = match self {
            PushTarget::Ios { token } => format!("ios\n{token}"),
            PushTarget::Android { token } => format!("android\n{token}"),
            PushTarget::Web { endpoint, .. } => format!("web\n{endpoint}"),
        };
        let digest = hex::encode(Sha256::digest(destination.as_bytes()));
        DeviceId::try_from(&digest[..32]).expect("hex is an identifier")
    }
}

/// A device registration as received: `{platform, name, token}` for phones,
/// `{platform: "web", name, subscription: {endpoint, keys: {p256dh, auth}}}` for browsers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRegistration {
    pub name: String,
    pub target: PushTarget,
}

impl DeviceRegistration {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors.collect(
            "name",
            text(body.get("name")).and_then(|n| bounded_text(n, 1, 50)),
        );
        let target = match body.get("platform").and_then(Value::as_str) {
            Some("ios") => errors
                .collect("token", phone_token(body.get("token")))
                .map(|token| PushTarget::Ios { token }),
            Some("android") => errors
                .collect("token", phone_token(body.get("token")))
                .map(|token| PushTarget::Android { token }),
            Some("web") => web_subscription(body.get("subscription"), &mut errors),
            _ => {
                errors.push(
                    "platform",
                    "invalid_choice",
                    "must be one of ios, android, web",
                );
                None
            }
        };
        for field in body.keys() {
            if !["name", "platform", "token", "subscription"].contains(&field.as_str()) {
                errors.push(
                    field,
                    "unknown_field",
                    format!("{field} is not a device field"),
                );
            }
        }
        match (name, target) {
            (Some(name), Some(target)) if errors.is_empty() => Ok(Self { name, target }),
            _ => Err(errors),
        }
    }
}

fn text(value: Option<&Value>) -> Result<&str, FieldProblem> {
    match value {
        None | Some(Value::Null) => Err(FieldProblem::new("required", "is required")),
        Some(value) => value
            .as_str()
            .ok_or_else(|| FieldProblem::new("invalid_type", "must be a string")),
    }
}

/// A push service URL: https to a named host (never an address, never this machine), since Roster
/// will send requests to it; at most 2048 characters as stored (normalised, so percent-encoded).
fn push_endpoint(value: &str) -> Result<String, FieldProblem> {
    let refused = || {
        FieldProblem::new(
            "invalid_endpoint",
            "must be the https URL of a push service",
        )
    };
    let url = url::Url::parse(value.trim()).map_err(|_| refused())?;
    let named_host = match url.host() {
        Some(url::Host::Domain(host)) => {
            // A trailing dot names the same host (`localhost.` is `localhost`).
            let host = host.trim_end_matches('.');
            host.contains('.') && !host.ends_with(".localhost")
        }
        _ => false,
    };
    if url.scheme() != "https"
        || !named_host
        || !url.username().is_empty()
        || url.as_str().len() > 2048
    {
        return Err(refused());
    }
    Ok(url.to_string())
}

fn phone_token(value: Option<&Value>) -> Result<String, FieldProblem> {
    let token = text(value)?.trim();
    if !(8..=4096).contains(&token.len())
        || token.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(FieldProblem::new(
            "invalid_token",
            "must be the push token the platform issued",
        ));
    }
    Ok(token.to_owned())
}

fn web_subscription(value: Option<&Value>, errors: &mut ValidationErrors) -> Option<PushTarget> {
    let Some(subscription) = value.and_then(Value::as_object) else {
        errors.push(
            "subscription",
            "required",
            "a web device needs its push subscription",
        );
        return None;
    };
    let endpoint = errors.collect(
        "subscription.endpoint",
        text(subscription.get("endpoint")).and_then(push_endpoint),
    );
    let keys = subscription.get("keys").and_then(Value::as_object);
    let key = |name: &str, bytes: usize, errors: &mut ValidationErrors| {
        errors.collect(
            &format!("subscription.keys.{name}"),
            text(keys.and_then(|k| k.get(name))).and_then(|k| {
                match URL_SAFE_NO_PAD.decode(k.trim_end_matches('=')) {
                    Ok(decoded) if decoded.len() == bytes => Ok(k.trim_end_matches('=').to_owned()),
                    _ => Err(FieldProblem::new(
                        "invalid_key",
                        format!("must be {bytes} bytes in URL-safe base64"),
                    )),
                }
            }),
        )
    };
    let p256dh = key("p256dh", 65, errors);
    let auth = key("auth", 16, errors);
    Some(PushTarget::Web {
        endpoint: endpoint?,
        p256dh: p256dh?,
        auth: auth?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<DeviceRegistration, ValidationErrors> {
        DeviceRegistration::parse(body.as_object().unwrap())
    }

    fn browser(endpoint: &str) -> Value {
        json!({
            "platform": "web",
            "name": "Firefox",
            "subscription": { "endpoint": endpoint, "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode([4u8; 65]),
                "auth": URL_SAFE_NO_PAD.encode([7u8; 16])
            } }
        })
    }

    #[test]
    fn the_same_phone_or_browser_is_known_by_its_token_or_endpoint() {
        let web = |endpoint: &str, auth: &str| PushTarget::Web {
            endpoint: endpoint.to_owned(),
            p256dh: "key".to_owned(),
            auth: auth.to_owned(),
        };
        let ios = |token: &str| PushTarget::Ios {
            token: token.to_owned(),
        };
        let android = |token: &str| PushTarget::Android {
            token: token.to_owned(),
        };
        assert!(ios("t1").same_destination(&ios("t1")));
        assert!(!ios("t1").same_destination(&ios("t2")));
        assert!(!ios("t1").same_destination(&android("t1")));
        assert!(web("https://push/a", "old").same_destination(&web("https://push/a", "renewed")));
        assert!(!web("https://push/a", "k").same_destination(&web("https://push/b", "k")));
        // The same destination, the same new device's id; another, another.
        assert_eq!(ios("t1").device_id(), ios("t1").device_id());
        assert_ne!(ios("t1").device_id(), ios("t2").device_id());
        assert_ne!(ios("t1").device_id(), android("t1").device_id());
        assert_eq!(
            web("https://push/a", "old").device_id(),
            web("https://push/a", "renewed").device_id()
        );
        assert_ne!(
            web("https://push/a", "k").device_id(),
            web("https://push/b", "k").device_id()
        );
        assert_eq!(ios("t1").device_id().as_str().len(), 32);
    }

    #[test]
    fn a_phone_registers_with_its_token() {
        let device =
            parse(json!({ "platform": "ios", "name": "My iPhone", "token": "a1b2c3d4e5f6" }))
                .unwrap();
        assert_eq!(
            device.target,
            PushTarget::Ios {
                token: "a1b2c3d4e5f6".to_owned()
            }
        );
    }

    #[test]
    fn a_browser_registers_with_its_push_subscription() {
        let p256dh = URL_SAFE_NO_PAD.encode([4u8; 65]);
        let auth = URL_SAFE_NO_PAD.encode([7u8; 16]);
        let device = parse(json!({
            "platform": "web",
            "name": "Firefox",
            "subscription": { "endpoint": "https://push.example/abc", "keys": { "p256dh": p256dh, "auth": auth } }
        }))
        .unwrap();
        assert!(matches!(device.target, PushTarget::Web { .. }));
    }

    #[test]
    fn an_endpoint_is_bounded_as_stored_and_registers_again_as_it_is() {
        let stored = |device: DeviceRegistration| match device.target {
            PushTarget::Web { endpoint, .. } => endpoint,
            other => panic!("{other:?}"),
        };
        // 2021 bytes as sent, three times that percent-encoded.
        let widening = format!("https://push.example/{}", "é".repeat(1000));
        assert!(widening.len() <= 2048);
        assert_eq!(
            parse(browser(&widening)).unwrap_err().fields(),
            ["subscription.endpoint"]
        );
        let endpoint = stored(parse(browser("https://push.example/é/../ok")).unwrap());
        assert_eq!(stored(parse(browser(&endpoint)).unwrap()), endpoint);
    }

    #[test]
    fn an_endpoint_never_names_this_machine_even_with_a_trailing_dot() {
        for endpoint in [
            "https://localhost/x",
            "https://localhost./x",
            "https://push.localhost./x",
            "https://127.0.0.1./x",
            "https://[::1]/x",
        ] {
            assert_eq!(
                parse(browser(endpoint)).unwrap_err().fields(),
                ["subscription.endpoint"],
                "{endpoint}"
            );
        }
    }

    #[test]
    fn broken_registrations_name_their_fields() {
        let errors = parse(json!({
            "platform": "web",
            "subscription": { "endpoint": "ftp://x", "keys": { "p256dh": "short", "auth": 5 } }
        }))
        .unwrap_err();
        assert_eq!(
            errors.fields(),
            [
                "name",
                "subscription.endpoint",
                "subscription.keys.p256dh",
                "subscription.keys.auth"
            ]
        );
        assert_eq!(
            parse(json!({ "platform": "fax", "name": "x" }))
                .unwrap_err()
                .fields(),
            ["platform"]
        );
    }
}
