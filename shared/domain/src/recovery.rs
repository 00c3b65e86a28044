//! Recovery codes: 10 codes of 60 random bits (`XXXX-XXXX-XXXX`, base32), shown once, stored
//! hashed with a salted KDF (argon2id, lighter than passwords because the codes are random),
//! each usable once.

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

pub const COUNT: usize = 10;
const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn kdf() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(4096, 1, 1, None).expect("valid argon2 parameters"),
    )
}

/// New codes: (what the person is shown, what is stored).
pub fn generate() -> (Vec<String>, Vec<String>) {
    (0..COUNT)
        .map(|_| {
            let mut bytes = [0u8; 12];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
            let chars: String = bytes
                .iter()
                .map(|b| ALPHABET[(b % 32) as usize] as char)
                .collect();
            let code = format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12]);
            let hash = hash(&code);
            (code, hash)
        })
        .unzip()
}

fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_uppercase()
}

fn hash(code: &str) -> String {
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    let salt = argon2::password_hash::SaltString::encode_b64(&salt).expect("16 bytes make a salt");
    kdf()
        .hash_password(normalise(code).as_bytes(), &salt)
        .expect("hashing with valid parameters cannot fail")
        .to_string()
}

/// The index of the stored hash `code` matches (spacing and case ignored), if any.
pub fn find(code: &str, stored: &[String]) -> Option<usize> {
    let code = normalise(code);
    if code.len() != 12 {
        return None;
    }
    stored.iter().position(|hash| {
        PasswordHash::new(hash)
            .is_ok_and(|parsed| kdf().verify_password(code.as_bytes(), &parsed).is_ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_codes_of_sixty_bits_are_shown_and_only_hashes_kept() {
        let (codes, hashes) = generate();
        assert_eq!(codes.len(), 10);
        assert_eq!(
            codes.iter().collect::<std::collections::HashSet<_>>().len(),
            10
        );
        for (code, hash) in codes.iter().zip(&hashes) {
            assert_eq!(code.len(), 14);
            assert!(!hash.contains(&normalise(code)));
        }
    }

    #[test]
    fn a_code_is_found_ignoring_case_and_dashes() {
        let (codes, hashes) = generate();
        let third = codes[2].to_lowercase().replace('-', " ");
        assert_eq!(find(&third, &hashes), Some(2));
        assert_eq!(find("AAAA-BBBB-CCCC", &hashes), None);
        assert_eq!(find("", &hashes), None);
    }
}
