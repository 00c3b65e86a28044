//! Web Push to browsers: the message encrypted for the browser's subscription (RFC 8291, one
//! `aes128gcm` record of RFC 8188) and the request signed with Roster's VAPID key (RFC 8292).

use std::{fmt, time::Duration};

use aes_gcm::{Aes128Gcm, KeyInit, Nonce, aead::Aead};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hkdf::Hkdf;
use p256::{
    PublicKey, SecretKey,
    ecdsa::{Signature, SigningKey, signature::Signer},
    elliptic_curve::{Generate, sec1::ToSec1Point},
};
use reqwest::{StatusCode, header};
use serde_json::json;
use sha2::Sha256;

use super::{PushMessage, PushOutcome};

/// Roster's identity towards push services (RFC 8292): a P-256 key pair and a contact URI.
/// Browsers subscribe with its public key (`applicationServerKey`), and a push service accepts
/// messages for a subscription only when they are signed with that same key.
#[derive(Clone)]
pub struct VapidKey {
    signing: SigningKey,
    subject: String,
}

#[derive(Debug, thiserror::Error)]
pub enum VapidKeyError {
    #[error("the VAPID private key must be 32 bytes in URL-safe base64 without padding")]
    Encoding,
    #[error("the VAPID private key is not a P-256 private key")]
    NotP256,
    #[error("the VAPID subject must be a mailto: or https: URI")]
    Subject,
}

impl VapidKey {
    /// `private` is the raw 32-byte private scalar in URL-safe base64 without padding, as VAPID
    /// key generators print it; `subject` is how a push service operator reaches us
    /// (`mailto:` or `https:`).
    pub fn from_base64(private: &str, subject: &str) -> Result<Self, VapidKeyError> {
        let subject = vapid_subject(subject)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(private.trim())
            .map_err(|_| VapidKeyError::Encoding)?;
        if bytes.len() != 32 {
            return Err(VapidKeyError::Encoding);
        }
        let signing = SigningKey::from_slice(&bytes).map_err(|_| VapidKeyError::NotP256)?;
        Ok(Self { signing, subject })
    }

    /// A fresh key pair, for tests and development. Production keeps one key for good: the
    /// browsers' subscriptions are bound to it.
    pub fn generate(subject: &str) -> Result<Self, VapidKeyError> {
        Ok(Self {
            signing: SigningKey::generate(),
            subject: vapid_subject(subject)?,
        })
    }

    /// The public key as the uncompressed point in URL-safe base64 without padding: the web app's
    /// `applicationServerKey`, and the `k=` of every request.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.signing.verifying_key().to_sec1_point(false).as_bytes())
    }

    /// The `Authorization` header of a request to a push service at `audience` (the endpoint's
    /// origin): `vapid t=<ES256 JWT>, k=<public key>`, the token valid until `expires_at` (Unix
    /// seconds; RFC 8292 allows at most 24 hours ahead).
    fn authorization(&self, audience: &str, expires_at: i64) -> String {
        let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = URL_SAFE_NO_PAD
            .encode(json!({ "aud": audience, "exp": expires_at, "sub": self.subject }).to_string());
        let signing_input = format!("{header}.{claims}");
        let signature: Signature = self.signing.sign(signing_input.as_bytes());
        format!(
            "vapid t={signing_input}.{}, k={}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes()),
            self.public_key()
        )
    }
}

/// Shows the public half only.
impl fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VapidKey")
            .field("public_key", &self.public_key())
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

fn vapid_subject(subject: &str) -> Result<String, VapidKeyError> {
    let subject = subject.trim();
    let contact = subject
        .strip_prefix("mailto:")
        .or_else(|| subject.strip_prefix("https://"));
    match contact {
        Some(rest) if !rest.is_empty() => Ok(subject.to_owned()),
        _ => Err(VapidKeyError::Subject),
    }
}

/// How long a VAPID token stays valid (RFC 8292 allows 24 hours; this leaves room for clock skew).
const TOKEN_VALIDITY_SECONDS: i64 = 12 * 60 * 60;

/// How long a push service may take to answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends Web Push messages signed with one VAPID key.
#[derive(Clone, Debug)]
pub struct WebPushSender {
    http: reqwest::Client,
    vapid: VapidKey,
}

impl WebPushSender {
    /// Endpoints come from browsers, so the sender follows no redirect (a 3xx is `Failed`), and
    /// a push service that does not answer within `REQUEST_TIMEOUT` makes the push `Transient`.
    pub fn new(vapid: VapidKey) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with rustls builds without system configuration");
        Self { http, vapid }
    }

    /// Sends `message` to the browser subscription `endpoint` with its keys `p256dh` and `auth`
    /// (URL-safe base64, as the browser gave them). `ttl_seconds` is how long the push service
    /// keeps the message for a browser that is offline (0: deliver now or never).
    pub async fn send(
        &self,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        message: &PushMessage,
        ttl_seconds: u32,
    ) -> PushOutcome {
        let push = match self.prepare(endpoint, p256dh, auth, message) {
            Ok(push) => push,
            Err(refused) => return PushOutcome::Failed(refused),
        };
        let sent = self
            .http
            .post(endpoint)
            .header("TTL", ttl_seconds)
            .header("Urgency", "high")
            .header(header::CONTENT_ENCODING, "aes128gcm")
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::AUTHORIZATION, push.authorization)
            .body(push.body)
            .send()
            .await;
        match sent {
            Ok(response) => outcome_of_status(response.status()),
            // The endpoint's path is the subscription's capability: keep it out of messages.
            Err(error) => PushOutcome::Transient(error.without_url().to_string()),
        }
    }

    fn prepare(
        &self,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        message: &PushMessage,
    ) -> Result<PreparedPush, String> {
        let audience = endpoint_origin(endpoint)?;
        let receiver = URL_SAFE_NO_PAD
            .decode(p256dh.trim_end_matches('='))
            .ok()
            .and_then(|bytes| PublicKey::from_sec1_bytes(&bytes).ok())
            .ok_or("the subscription's p256dh is not a P-256 public key")?;
        let auth: [u8; 16] = URL_SAFE_NO_PAD
            .decode(auth.trim_end_matches('='))
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or("the subscription's auth secret is not 16 bytes")?;
        let plaintext = message.to_json();
        if plaintext.len() > MAX_PLAINTEXT_LENGTH {
            return Err(format!(
                "the message is {} bytes; Web Push carries at most {MAX_PLAINTEXT_LENGTH}",
                plaintext.len()
            ));
        }
        let body = encrypt(
            plaintext.as_bytes(),
            &receiver,
            &auth,
            &SecretKey::generate(),
            &rand::random(),
        );
        let expires_at = chrono::Utc::now().timestamp() + TOKEN_VALIDITY_SECONDS;
        Ok(PreparedPush {
            authorization: self.vapid.authorization(&audience, expires_at),
            body,
        })
    }
}

struct PreparedPush {
    authorization: String,
    body: Vec<u8>,
}

/// The VAPID audience: the endpoint's origin (scheme, host and any non-default port).
fn endpoint_origin(endpoint: &str) -> Result<String, String> {
    match url::Url::parse(endpoint) {
        Ok(url) if matches!(url.scheme(), "https" | "http") => {
            Ok(url.origin().ascii_serialization())
        }
        _ => Err("the subscription's endpoint is not an http(s) URL".to_owned()),
    }
}

fn outcome_of_status(status: StatusCode) -> PushOutcome {
    match status.as_u16() {
        200..=202 => PushOutcome::Delivered,
        404 | 410 => PushOutcome::Gone,
        429 | 500..=599 => PushOutcome::Transient(format!("push service answered {status}")),
        _ => PushOutcome::Failed(format!("push service answered {status}")),
    }
}

/// The record size announced in the header. The message is a single record shorter than this.
const RECORD_SIZE: u32 = 4096;
/// Salt (16), record size (4), key id length (1) and the sender's uncompressed public key (65).
const HEADER_LENGTH: usize = 86;
/// The AES-GCM tag (16) and the last record's padding delimiter (1).
const RECORD_OVERHEAD: usize = 17;
/// Push services must take bodies of 4096 bytes (RFC 8030 §7.2) and may refuse longer ones.
const MAX_PLAINTEXT_LENGTH: usize = 4096 - HEADER_LENGTH - RECORD_OVERHEAD;

/// `plaintext` encrypted for the subscription's public key `receiver` and `auth` secret: the key
/// derivation of RFC 8291 §3.4 from `sender` (a fresh key for every message), then one unpadded
/// `aes128gcm` record (RFC 8188 §2) with `salt` (fresh random bytes for every message).
fn encrypt(
    plaintext: &[u8],
    receiver: &PublicKey,
    auth: &[u8; 16],
    sender: &SecretKey,
    salt: &[u8; 16],
) -> Vec<u8> {
    let receiver_point = receiver.to_sec1_point(false);
    let sender_point = sender.public_key().to_sec1_point(false);
    let shared_secret = sender.diffie_hellman(receiver);

    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(receiver_point.as_bytes());
    key_info.extend_from_slice(sender_point.as_bytes());
    let mut input_key = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared_secret.raw_secret_bytes())
        .expand(&key_info, &mut input_key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");

    let content = Hkdf::<Sha256>::new(Some(salt), &input_key);
    let mut content_key = [0u8; 16];
    content
        .expand(b"Content-Encoding: aes128gcm\0", &mut content_key)
        .expect("16 bytes is a valid HKDF-SHA256 output length");
    // The nonce of record 0 is the derived nonce itself (RFC 8188 §2.3).
    let mut nonce = [0u8; 12];
    content
        .expand(b"Content-Encoding: nonce\0", &mut nonce)
        .expect("12 bytes is a valid HKDF-SHA256 output length");

    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(2); // the last record's delimiter; no padding follows
    let ciphertext = Aes128Gcm::new(&content_key.into())
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .expect("AES-GCM encrypts any record this short");

    let key_id = sender_point.as_bytes();
    let mut body = Vec::with_capacity(HEADER_LENGTH + ciphertext.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(u8::try_from(key_id.len()).expect("a P-256 point is 65 bytes"));
    body.extend_from_slice(key_id);
    body.extend_from_slice(&ciphertext);
    body
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::{VerifyingKey, signature::Verifier};
    use serde_json::Value;

    use super::*;

    fn decoded(base64: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(base64).unwrap()
    }

    // RFC 8291 Appendix A: the receiver's key pair and auth secret, the sender's key and salt.
    const RFC_RECEIVER_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const RFC_RECEIVER_PUBLIC: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const RFC_AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

    #[test]
    fn encryption_reproduces_the_rfc_8291_example() {
        let receiver = PublicKey::from_sec1_bytes(&decoded(RFC_RECEIVER_PUBLIC)).unwrap();
        let sender =
            SecretKey::from_slice(&decoded("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        let body = encrypt(
            b"When I grow up, I want to be a watermelon",
            &receiver,
            &decoded(RFC_AUTH).try_into().unwrap(),
            &sender,
            &decoded("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap(),
        );
        assert_eq!(
            URL_SAFE_NO_PAD.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn a_vapid_key_publishes_the_public_half_of_its_private_key() {
        let key = VapidKey::from_base64(RFC_RECEIVER_PRIVATE, "mailto:ops@roster.example").unwrap();
        assert_eq!(key.public_key(), RFC_RECEIVER_PUBLIC);
        assert!(
            !format!("{key:?}").contains(RFC_RECEIVER_PRIVATE),
            "the private key stays out of logs"
        );
    }

    #[test]
    fn malformed_vapid_configuration_is_refused() {
        let subject = "mailto:ops@roster.example";
        assert!(matches!(
            VapidKey::from_base64("not base64!", subject),
            Err(VapidKeyError::Encoding)
        ));
        assert!(matches!(
            VapidKey::from_base64(&URL_SAFE_NO_PAD.encode([1u8; 31]), subject),
            Err(VapidKeyError::Encoding)
        ));
        assert!(matches!(
            VapidKey::from_base64(&URL_SAFE_NO_PAD.encode([0u8; 32]), subject),
            Err(VapidKeyError::NotP256)
        ));
        for subject in ["ops@roster.example", "mailto:", "http://roster.example"] {
            assert!(matches!(
                VapidKey::from_base64(RFC_RECEIVER_PRIVATE, subject),
                Err(VapidKeyError::Subject)
            ));
        }
    }

    #[test]
    fn the_authorization_is_an_es256_token_for_the_push_service_signed_by_the_key_it_names() {
        let key = VapidKey::generate("https://roster.example/contact").unwrap();
        let authorization = key.authorization("https://push.example.net", 1_900_000_000);

        let (token, public_key) = authorization
            .strip_prefix("vapid t=")
            .and_then(|rest| rest.split_once(", k="))
            .unwrap();
        assert_eq!(public_key, key.public_key());
        let (signing_input, signature) = token.rsplit_once('.').unwrap();
        VerifyingKey::from_sec1_bytes(&decoded(public_key))
            .unwrap()
            .verify(
                signing_input.as_bytes(),
                &Signature::from_slice(&decoded(signature)).unwrap(),
            )
            .expect("the signature verifies with the k= key");
        let (header, claims) = signing_input.split_once('.').unwrap();
        let header: Value = serde_json::from_slice(&decoded(header)).unwrap();
        let claims: Value = serde_json::from_slice(&decoded(claims)).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(
            claims,
            json!({ "aud": "https://push.example.net", "exp": 1_900_000_000, "sub": "https://roster.example/contact" })
        );
    }

    fn sender() -> WebPushSender {
        WebPushSender::new(VapidKey::generate("mailto:ops@roster.example").unwrap())
    }

    fn message() -> PushMessage {
        PushMessage {
            title: "Desk 4.12 tomorrow".to_owned(),
            body: "09:00-17:00, Zürich".to_owned(),
            tag: "reservation-1".to_owned(),
        }
    }

    #[test]
    fn a_push_is_addressed_to_the_endpoint_origin_and_valid_for_at_most_a_day() {
        let push = sender()
            .prepare(
                "https://push.example.net:8443/wpush/v2/abc",
                RFC_RECEIVER_PUBLIC,
                RFC_AUTH,
                &message(),
            )
            .unwrap();
        let token = push.authorization.strip_prefix("vapid t=").unwrap();
        let claims = token.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(&decoded(claims)).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        let lifetime = claims["exp"].as_i64().unwrap() - chrono::Utc::now().timestamp();
        assert!((1..=24 * 60 * 60).contains(&lifetime), "{lifetime}");
        assert_eq!(
            push.body.len(),
            HEADER_LENGTH + message().to_json().len() + RECORD_OVERHEAD
        );
    }

    #[test]
    fn every_push_has_its_own_salt_and_sender_key() {
        let sender = sender();
        let body = || {
            sender
                .prepare(
                    "https://push.example.net/x",
                    RFC_RECEIVER_PUBLIC,
                    RFC_AUTH,
                    &message(),
                )
                .unwrap()
                .body
        };
        let (first, second) = (body(), body());
        assert_ne!(first[..16], second[..16], "salt");
        assert_ne!(first[21..86], second[21..86], "sender key");
    }

    #[test]
    fn a_subscription_with_broken_keys_or_endpoint_fails_for_good() {
        let sender = sender();
        let endpoint = "https://push.example.net/x";
        let refused = |endpoint: &str, p256dh: &str, auth: &str| {
            sender.prepare(endpoint, p256dh, auth, &message()).is_err()
        };
        assert!(refused(endpoint, "BAAA", RFC_AUTH));
        assert!(refused(
            endpoint,
            &URL_SAFE_NO_PAD.encode([4u8; 65]),
            RFC_AUTH
        ));
        assert!(refused(
            endpoint,
            RFC_RECEIVER_PUBLIC,
            &URL_SAFE_NO_PAD.encode([1u8; 15])
        ));
        assert!(refused(
            "mailto:x@example.com",
            RFC_RECEIVER_PUBLIC,
            RFC_AUTH
        ));
        assert!(refused("not a url", RFC_RECEIVER_PUBLIC, RFC_AUTH));
    }

    #[test]
    fn a_message_too_large_for_web_push_is_not_sent() {
        let mut long = message();
        long.body = "x".repeat(MAX_PLAINTEXT_LENGTH);
        let refused = sender()
            .prepare(
                "https://push.example.net/x",
                RFC_RECEIVER_PUBLIC,
                RFC_AUTH,
                &long,
            )
            .err()
            .unwrap();
        assert!(refused.contains("at most 3993"), "{refused}");
    }

    #[test]
    fn the_push_service_status_decides_the_outcome() {
        let outcome = |code: u16| outcome_of_status(StatusCode::from_u16(code).unwrap());
        for code in [200, 201, 202] {
            assert_eq!(outcome(code), PushOutcome::Delivered, "{code}");
        }
        for code in [404, 410] {
            assert_eq!(outcome(code), PushOutcome::Gone, "{code}");
        }
        for code in [429, 500, 502, 503] {
            assert!(matches!(outcome(code), PushOutcome::Transient(_)), "{code}");
        }
        for code in [400, 401, 403, 413, 301] {
            assert!(matches!(outcome(code), PushOutcome::Failed(_)), "{code}");
        }
    }
}
