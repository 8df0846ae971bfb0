//! Random secrets and how they are kept: tokens are 256-bit random, URL-safe base64 strings;
//! only their SHA-256 is stored (a high-entropy secret needs no slow hash, and a digest can be
//! looked up by equality); comparisons of secrets are constant-time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;

/// `bytes` random bytes from the operating system.
pub fn random_bytes(bytes: usize) -> Result<Vec<u8>, ApiError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|error| ApiError::internal_context("no randomness", error))?;
    Ok(buffer)
}

/// A URL-safe random token of `bytes` random bytes (43 characters for 32 bytes).
pub fn random_token(bytes: usize) -> Result<String, ApiError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes(bytes)?))
}

/// Lower-case hex SHA-256 of `secret`: the stored form of tokens, codes and client secrets.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Base64url (no padding) SHA-256 of `text`, as PKCE's S256 method computes it.
pub fn s256(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Compares two secrets in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_url_safe() {
        let (a, b) = (random_token(32).unwrap(), random_token(32).unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn s256_matches_an_independent_computation() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K9uhbUJU2D1k7RUnt5JE-lH8IP"),
            "Z0i8OBTYaPXcIrHYerg6IJtVy9qrC1t27Jkp61ifBzE" // Python hashlib + base64
        );
    }
}
