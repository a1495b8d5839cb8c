//! sha256 content digests (`sha256:<64 hex>`), the only algorithm registries use in practice.

use sha2::{Digest as _, Sha256};

use crate::error::RegistryError;
use crate::media_types::ref_key;

pub(crate) fn sha256_digest(content: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(content)))
}

/// Refuses `content` unless it hashes to `expected` (the descriptor or reference digest).
pub(crate) fn verify(
    content: &[u8],
    expected: &str,
    media_type: &str,
) -> Result<(), RegistryError> {
    let actual = sha256_digest(content);
    if actual == expected {
        return Ok(());
    }
    Err(RegistryError::DigestMismatch {
        ref_key: ref_key(media_type, expected),
        expected: expected.to_string(),
        actual,
    })
}

/// Only sha256 digests can be verified; anything else would have to be trusted blindly.
pub(crate) fn is_sha256(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_content() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn mismatch_names_containerd_ref_key() {
        let expected = sha256_digest(b"a");
        let error = verify(b"b", &expected, "application/wasm").unwrap_err();
        assert!(error.to_string().contains("digest mismatch"));
        match error {
            RegistryError::DigestMismatch {
                ref_key, actual, ..
            } => {
                assert_eq!(ref_key, format!("unknown-{expected}"));
                assert_eq!(actual, sha256_digest(b"b"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn only_lowercase_sha256_is_verifiable() {
        assert!(is_sha256(&sha256_digest(b"x")));
        assert!(!is_sha256("sha512:abcd"));
        assert!(!is_sha256(&sha256_digest(b"x").to_uppercase()));
    }
}
