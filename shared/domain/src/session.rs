//! Session tokens and their lifetime. A token is 256 random bits shown once; only its SHA-256
//! is stored. A session ends after `IDLE` without use or `ABSOLUTE` after login, whichever is first.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const IDLE: Duration = Duration::hours(24);
pub const ABSOLUTE: Duration = Duration::days(14);
/// Use is recorded (and the idle expiry pushed back) at most this often, so reads stay reads.
pub const TOUCH_AFTER: Duration = Duration::minutes(5);

/// A secret bearer value: 256 random bits, URL-safe base64.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a secret (tokens, keys): lowercase hex SHA-256.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// When a session stops being valid, given its start and last recorded use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
}

impl Lifetime {
    pub fn starting(now: DateTime<Utc>) -> Self {
        Self {
            created_at: now,
            last_used_at: now,
        }
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        (self.last_used_at + IDLE).min(self.created_at + ABSOLUTE)
    }

    pub fn is_valid(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at()
    }

    /// Whether this use should be recorded.
    pub fn needs_touch(&self, now: DateTime<Utc>) -> bool {
        now - self.last_used_at >= TOUCH_AFTER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::hours(hours)
    }

    #[test]
    fn secrets_are_256_bits_and_distinct() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn the_stored_hash_is_sha256_hex() {
        assert_eq!(
            secret_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn an_unused_session_ends_after_the_idle_time() {
        let session = Lifetime::starting(at(0));
        assert!(session.is_valid(at(23)));
        assert!(!session.is_valid(at(24)));
    }

    #[test]
    fn use_extends_a_session_but_never_past_the_absolute_limit() {
        let mut session = Lifetime::starting(at(0));
        for day in 1..14 {
            session.last_used_at = at(day * 24 - 1);
            assert!(session.is_valid(at(day * 24)));
        }
        session.last_used_at = at(14 * 24 - 1);
        assert!(!session.is_valid(at(14 * 24)));
    }

    #[test]
    fn use_is_recorded_at_most_every_few_minutes() {
        let session = Lifetime::starting(at(0));
        assert!(!session.needs_touch(at(0) + Duration::minutes(4)));
        assert!(session.needs_touch(at(0) + Duration::minutes(5)));
    }
}
