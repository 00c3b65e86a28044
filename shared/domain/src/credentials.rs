//! Passwords: the policy, and argon2id hashing with OWASP's parameters (m = 19 MiB, t = 2, p = 1).

use std::{borrow::Cow, sync::LazyLock};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::SaltString,
};

use unicode_normalization::{UnicodeNormalization, is_nfkc};

use crate::validation::ValidationErrors;

pub const PASSWORD_MIN: usize = 8;
/// Long passphrases are welcome; argon2 hashes all of it (no truncation).
pub const PASSWORD_MAX: usize = 128;

/// A password as it is checked, hashed and compared: in Unicode NFKC (NIST SP 800-63B
/// 5.1.1.2), so the same characters typed on another keyboard or system (`ü` as one code point
/// or as `u` and a combining diaeresis, a full-width `Ａ`) are the same password.
pub fn normalised_password(password: &str) -> Cow<'_, str> {
    if is_nfkc(password) {
        Cow::Borrowed(password)
    } else {
        Cow::Owned(password.nfkc().collect())
    }
}

/// Checks a new password (normalised) against the policy; every failed rule is named under
/// `field` (and `confirmation` when the two differ).
pub fn check_password_policy(
    password: &str,
    confirmation: Option<&str>,
    field: &str,
) -> Result<(), ValidationErrors> {
    let password = normalised_password(password);
    let confirmation = confirmation.map(normalised_password);
    let mut errors = ValidationErrors::default();
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        errors.push(
            field,
            "too_short",
            format!("must be at least {PASSWORD_MIN} characters"),
        );
    }
    if length > PASSWORD_MAX {
        errors.push(
            field,
            "too_long",
            format!("must be at most {PASSWORD_MAX} characters"),
        );
    }
    if !password.chars().any(char::is_lowercase) {
        errors.push(
            field,
            "missing_lowercase",
            "must contain a lowercase letter",
        );
    }
    if !password.chars().any(char::is_uppercase) {
        errors.push(
            field,
            "missing_uppercase",
            "must contain an uppercase letter",
        );
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        errors.push(field, "missing_digit", "must contain a digit");
    }
    if confirmation.is_some_and(|c| c != password) {
        errors.push("confirmation", "mismatch", "must match the password");
    }
    errors.into_result(())
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`) of `password` (normalised) with a fresh
/// salt.
pub fn hash_password(password: &str) -> String {
    hasher()
        .hash_password(normalised_password(password).as_bytes(), &new_salt())
        .expect("argon2id hashing with valid parameters cannot fail")
        .to_string()
}

/// A random 6-digit PIN (for people without email; to be changed at the next login).
pub fn new_pin() -> String {
    format!(
        "{:06}",
        rand::Rng::random_range(&mut rand::rng(), 0..1_000_000)
    )
}

/// 128 random bits.
fn new_salt() -> SaltString {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    SaltString::encode_b64(&bytes).expect("16 bytes make a valid salt")
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Wrong,
    /// Right; `rehash` when the stored hash used other parameters than today's.
    Right {
        rehash: bool,
    },
}

/// Checks `password` (normalised) against `stored`. A hash stored before passwords were
/// normalised may hold the password as it was typed then: a password that is not in NFKC is
/// also tried as typed, and a match there asks for a rehash. An unknown account's decoy
/// (`verify_against_nothing`) takes the same two tries, so the time tells nothing.
pub fn verify_password(password: &str, stored: &str) -> PasswordCheck {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return PasswordCheck::Wrong;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return PasswordCheck::Wrong;
    };
    let verifier = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let matches = |candidate: &str| {
        verifier
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok()
    };
    let normalised = normalised_password(password);
    let as_typed_before = if matches(&normalised) {
        false
    } else if normalised != password && matches(password) {
        true
    } else {
        return PasswordCheck::Wrong;
    };
    let current = hasher();
    let current = current.params();
    let rehash = as_typed_before
        || parsed.algorithm.as_str() != "argon2id"
        || (params.m_cost(), params.t_cost(), params.p_cost())
            != (current.m_cost(), current.t_cost(), current.p_cost());
    PasswordCheck::Right { rehash }
}

/// Spends the time of one verification without an account, so that a login for an unknown
/// person takes as long as one with a wrong password.
pub fn verify_against_nothing(password: &str) {
    static DECOY: LazyLock<String> =
        LazyLock::new(|| hash_password("decoy password that matches nothing"));
    let _ = verify_password(password, &DECOY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failed_rule_is_named() {
        let errors = check_password_policy("abc", Some("abd"), "password").unwrap_err();
        let codes: Vec<_> = errors.0.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [
                "too_short",
                "missing_uppercase",
                "missing_digit",
                "mismatch"
            ]
        );
        assert_eq!(errors.0[3].field, "confirmation");
    }

    #[test]
    fn a_password_meeting_the_policy_passes() {
        assert!(check_password_policy("Correct1horse", Some("Correct1horse"), "password").is_ok());
        assert!(
            check_password_policy(&format!("Aa1{}", "x".repeat(125)), None, "password").is_ok()
        );
        let too_long = format!("Aa1{}", "x".repeat(126));
        assert_eq!(
            check_password_policy(&too_long, None, "password")
                .unwrap_err()
                .0[0]
                .code,
            "too_long"
        );
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hash = hash_password("Correct1horse");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(
            verify_password("Correct1horse", &hash),
            PasswordCheck::Right { rehash: false }
        );
        assert_eq!(
            verify_password("correct1horse", &hash),
            PasswordCheck::Wrong
        );
        assert_ne!(
            hash,
            hash_password("Correct1horse"),
            "every hash has its own salt"
        );
    }

    #[test]
    fn long_passwords_are_not_truncated() {
        let long = format!("Aa1{}", "y".repeat(100));
        let hash = hash_password(&long);
        assert_eq!(
            verify_password(&format!("{long}z"), &hash),
            PasswordCheck::Wrong
        );
    }

    #[test]
    fn a_hash_with_older_parameters_asks_for_a_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let old = weak
            .hash_password(b"Correct1horse", &new_salt())
            .unwrap()
            .to_string();
        assert_eq!(
            verify_password("Correct1horse", &old),
            PasswordCheck::Right { rehash: true }
        );
    }

    #[test]
    fn a_password_is_the_same_however_its_characters_are_composed() {
        let composed = "Grüße1Zürich";
        let decomposed: String = composed.nfd().collect();
        assert_ne!(composed, decomposed);
        assert_eq!(
            verify_password(&decomposed, &hash_password(composed)),
            PasswordCheck::Right { rehash: false }
        );
        assert_eq!(
            verify_password(composed, &hash_password(&decomposed)),
            PasswordCheck::Right { rehash: false }
        );
        assert_eq!(
            verify_password("Ｇｒüße1Zürich", &hash_password(composed)),
            PasswordCheck::Right { rehash: false },
            "full-width letters are their plain ones"
        );
        assert!(check_password_policy(composed, Some(&decomposed), "password").is_ok());
        let seven: String = "Müllr1a".nfd().collect();
        assert_eq!(seven.chars().count(), 8);
        assert_eq!(
            check_password_policy(&seven, None, "password")
                .unwrap_err()
                .0[0]
                .code,
            "too_short",
            "characters are counted as the person sees them"
        );
    }

    #[test]
    fn a_hash_of_a_password_stored_as_typed_still_verifies_and_asks_for_a_rehash() {
        let decomposed: String = "Grüße1Zürich".nfd().collect();
        let as_typed = hasher()
            .hash_password(decomposed.as_bytes(), &new_salt())
            .unwrap()
            .to_string();
        assert_eq!(
            verify_password(&decomposed, &as_typed),
            PasswordCheck::Right { rehash: true }
        );
        assert_eq!(
            verify_password("Grüße1Zürich", &as_typed),
            PasswordCheck::Wrong,
            "the composed form is another password until the rehash"
        );
    }

    #[test]
    fn pins_are_six_digits() {
        for _ in 0..50 {
            let pin = new_pin();
            assert_eq!(pin.len(), 6);
            assert!(pin.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn garbage_in_the_store_never_verifies() {
        assert_eq!(verify_password("x", "not a hash"), PasswordCheck::Wrong);
    }
}
