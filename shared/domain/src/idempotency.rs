//! Idempotency keys: the name a client gives one request that creates something, so that its
//! retry after a lost answer gets the first answer and creates nothing more.

use chrono::Duration;

use crate::validation::FieldProblem;

/// How long a request's `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::hours(24);

/// A client's `Idempotency-Key` for a request that creates something: within
/// `IDEMPOTENCY_WINDOW`, a request with the same key and the same content answers what the first
/// one answered and creates nothing more (so a retry after a lost answer makes no second one).
/// 1 to 255 printable ASCII characters (spaces too, as in a structured-field string, whose
/// quotes are removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl TryFrom<&str> for IdempotencyKey {
    type Error = FieldProblem;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        let trimmed = value.trim();
        let key = trimmed
            .strip_prefix('"')
            .and_then(|quoted| quoted.strip_suffix('"'))
            .unwrap_or(trimmed);
        let printable = key.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
        if key.is_empty() || key.len() > 255 || !printable {
            return Err(FieldProblem::new(
                "invalid_idempotency_key",
                "must be 1 to 255 printable ASCII characters",
            ));
        }
        Ok(Self(key.to_owned()))
    }
}

impl IdempotencyKey {
    /// What the key is stored under: lowercase hex SHA-256, so the client's characters never
    /// reach a table key.
    pub fn digest(&self) -> String {
        crate::session::secret_hash(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_printable_ascii_up_to_255() {
        let key = |text: &str| IdempotencyKey::try_from(text);
        let plain = key("8e03978e-40d5").unwrap();
        assert_eq!(key(" 8e03978e-40d5 ").unwrap(), plain);
        assert_eq!(key("\"8e03978e-40d5\"").unwrap(), plain);
        assert!(key(&"k".repeat(255)).is_ok());
        let digest = key("a b#c").unwrap().digest();
        assert!(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(digest, plain.digest());
        for refused in ["", "  ", "\"\"", "caf\u{e9}", "tab\there"] {
            assert_eq!(
                key(refused).unwrap_err().code,
                "invalid_idempotency_key",
                "{refused:?}"
            );
        }
        assert!(key(&"k".repeat(256)).is_err());
    }
}
