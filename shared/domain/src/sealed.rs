//! Secrets that must be read back (TOTP secrets) are sealed at rest with XChaCha20-Poly1305 under
//! a key from configuration: `base64(nonce || ciphertext)`.

use base64::{Engine, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, AeadCore, OsRng},
};

#[derive(Clone)]
pub struct SealingKey(XChaCha20Poly1305);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the sealing key must be 32 bytes in base64")]
    InvalidKey,
    #[error("the sealed value is corrupt or was sealed with another key")]
    Unreadable,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

impl SealingKey {
    /// From 32 bytes in standard base64.
    pub fn from_base64(key: &str) -> Result<Self, SealError> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| SealError::InvalidKey)?;
        XChaCha20Poly1305::new_from_slice(&bytes)
            .map(Self)
            .map_err(|_| SealError::InvalidKey)
    }

    pub fn seal(&self, plaintext: &[u8]) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .0
            .encrypt(&nonce, plaintext)
            .expect("encryption in memory cannot fail");
        STANDARD.encode([nonce.as_slice(), &ciphertext].concat())
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, SealError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| SealError::Unreadable)?;
        if bytes.len() < 24 {
            return Err(SealError::Unreadable);
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        self.0
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| SealError::Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SealingKey {
        SealingKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_with_its_key_only() {
        let sealed = key().seal(b"totp secret");
        assert!(!sealed.contains("totp"));
        assert_eq!(key().open(&sealed).unwrap(), b"totp secret");
        let other = SealingKey::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        assert_eq!(other.open(&sealed), Err(SealError::Unreadable));
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        assert_ne!(key().seal(b"x"), key().seal(b"x"));
    }

    #[test]
    fn keys_must_be_32_bytes() {
        assert_eq!(
            SealingKey::from_base64("c2hvcnQ=").unwrap_err(),
            SealError::InvalidKey
        );
    }
}
