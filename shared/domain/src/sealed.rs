//! Secrets that must be read back (TOTP secrets) are sealed at rest with XChaCha20-Poly1305 under
//! a key from configuration: `base64(nonce || ciphertext)`. Values handed to clients to be sent
//! back (list cursors) are sealed under it for their purpose.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use chacha20poly1305::{
    KeyInit, XChaCha20Poly1305, XNonce,
    aead::{Aead, AeadCore, OsRng, Payload},
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
        STANDARD.encode(self.encrypt(b"", plaintext))
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, SealError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| SealError::Unreadable)?;
        self.decrypt(b"", &bytes)
    }

    /// `plaintext` sealed for `purpose`, which is bound in as associated data, so that a value
    /// sealed for one purpose never opens as another's; in URL-safe base64 without padding,
    /// to travel in a query string.
    pub fn seal_for(&self, purpose: &str, plaintext: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.encrypt(purpose.as_bytes(), plaintext))
    }

    /// What [`SealingKey::seal_for`] sealed for `purpose`.
    pub fn open_for(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| SealError::Unreadable)?;
        self.decrypt(purpose.as_bytes(), &bytes)
    }

    /// `nonce || ciphertext`, the nonce random.
    fn encrypt(&self, aad: &[u8], msg: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .0
            .encrypt(&nonce, Payload { msg, aad })
            .expect("encryption in memory cannot fail");
        [nonce.as_slice(), &ciphertext].concat()
    }

    fn decrypt(&self, aad: &[u8], bytes: &[u8]) -> Result<Vec<u8>, SealError> {
        if bytes.len() < 24 {
            return Err(SealError::Unreadable);
        }
        let (nonce, msg) = bytes.split_at(24);
        self.0
            .decrypt(XNonce::from_slice(nonce), Payload { msg, aad })
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
    fn a_value_sealed_for_a_purpose_opens_for_that_purpose_only() {
        let sealed = key().seal_for("cursor", b"lovelace#u1");
        assert!(
            !sealed.contains(['+', '/', '=']),
            "{sealed} fits a query string"
        );
        assert_eq!(key().open_for("cursor", &sealed).unwrap(), b"lovelace#u1");
        assert_eq!(
            key().open_for("another", &sealed),
            Err(SealError::Unreadable)
        );
        let secret = key().seal(b"totp secret");
        let as_url = URL_SAFE_NO_PAD.encode(STANDARD.decode(&secret).unwrap());
        assert_eq!(
            key().open_for("cursor", &as_url),
            Err(SealError::Unreadable)
        );
        assert_eq!(key().open_for("cursor", "%%"), Err(SealError::Unreadable));
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
