//! Time-based one-time passwords (RFC 6238): SHA-1, 6 digits, 30-second steps, one step of drift
//! either way. A code is accepted once: a match must be at a later step than the last one used.

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

pub const DIGITS: usize = 6;
pub const STEP_SECONDS: u64 = 30;
const SECRET_BYTES: usize = 20;

/// A new random shared secret.
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
    secret
}

fn totp(secret: &[u8], digits: usize, issuer: &str, account: &str) -> TOTP {
    TOTP::new_unchecked(
        Algorithm::SHA1,
        digits,
        1,
        STEP_SECONDS,
        secret.to_vec(),
        Some(issuer.to_owned()),
        account.to_owned(),
    )
}

/// The code of `secret` at `unix_seconds` with `digits` digits.
pub fn code_at(secret: &[u8], unix_seconds: u64, digits: usize) -> String {
    totp(secret, digits, "Roster", "").generate(unix_seconds)
}

/// The step `code` matches at `unix_seconds` (now, or one step before or after), if it is later
/// than `last_used_step`. The caller records the step so the code cannot be replayed.
pub fn matching_step(
    secret: &[u8],
    code: &str,
    unix_seconds: u64,
    last_used_step: Option<u64>,
) -> Option<u64> {
    let code = code.trim().replace(' ', "");
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now_step = unix_seconds / STEP_SECONDS;
    [now_step.saturating_sub(1), now_step, now_step + 1]
        .into_iter()
        .filter(|step| last_used_step.is_none_or(|last| *step > last))
        .find(|step| {
            bool::from(
                code_at(secret, step * STEP_SECONDS, DIGITS)
                    .as_bytes()
                    .ct_eq(code.as_bytes()),
            )
        })
}

/// The `otpauth://` URI authenticator apps scan.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    totp(secret, DIGITS, issuer, account).get_url()
}

/// The otpauth URI as a QR code PNG.
pub fn qr_png(secret: &[u8], issuer: &str, account: &str) -> Result<Vec<u8>, String> {
    totp(secret, DIGITS, issuer, account).get_qr_png()
}

/// The secret as authenticator apps accept it for manual entry (base32, no padding).
pub fn secret_base32(secret: &[u8]) -> String {
    totp_rs::Secret::Raw(secret.to_vec())
        .to_encoded()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (8 digits).
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(secret, time, 8), code, "T = {time}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_not_further() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let code = code_at(&secret, now, DIGITS);
        assert_eq!(matching_step(&secret, &code, now, None), Some(now / 30));
        assert_eq!(
            matching_step(&secret, &code, now + 30, None),
            Some(now / 30)
        );
        assert_eq!(
            matching_step(&secret, &code, now - 30, None),
            Some(now / 30)
        );
        assert_eq!(matching_step(&secret, &code, now + 90, None), None);
    }

    #[test]
    fn a_code_used_once_is_refused_within_its_window() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let code = code_at(&secret, now, DIGITS);
        let used = matching_step(&secret, &code, now, None).unwrap();
        assert_eq!(matching_step(&secret, &code, now + 10, Some(used)), None);
        let next = code_at(&secret, now + 30, DIGITS);
        assert_eq!(
            matching_step(&secret, &next, now + 30, Some(used)),
            Some(used + 1)
        );
    }

    #[test]
    fn malformed_codes_never_match() {
        let secret = new_secret();
        for code in ["", "12345", "1234567", "abcdef"] {
            assert_eq!(matching_step(&secret, code, 1_800_000_000, None), None);
        }
    }

    #[test]
    fn the_uri_names_issuer_and_account_and_carries_the_secret() {
        let secret = new_secret();
        let uri = otpauth_uri(&secret, "Roster", "ada@example.com");
        assert!(
            uri.starts_with("otpauth://totp/Roster:ada%40example.com?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={}", secret_base32(&secret))));
        assert!(
            qr_png(&secret, "Roster", "ada@example.com")
                .unwrap()
                .starts_with(b"\x89PNG")
        );
    }
}
