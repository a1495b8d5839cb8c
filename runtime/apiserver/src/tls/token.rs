//! The bearer token kubectl presents: 32 random bytes, hex, in `<dir>/token` (mode 0600).

use std::path::Path;

use super::secret_files::{
    ensure_dir, read_if_present, restrict_to_owner, write_atomically, OWNER_ONLY,
};
use super::{crypto_provider, TlsError};

pub const TOKEN_FILE: &str = "token";
const TOKEN_BYTES: usize = 32;

/// The token stored in `dir/token`, created (random, mode 0600) when missing and reused
/// otherwise.
pub fn load_or_create_token(dir: &Path) -> Result<String, TlsError> {
    ensure_dir(dir)?;
    let path = dir.join(TOKEN_FILE);
    if let Some(text) = read_if_present(&path)? {
        let token = text.trim();
        // A token travels in an HTTP header: whitespace or control bytes would break it.
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TlsError::InvalidToken { path });
        }
        restrict_to_owner(&path)?;
        return Ok(token.to_string());
    }
    let mut bytes = [0u8; TOKEN_BYTES];
    crypto_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| TlsError::Random)?;
    let token = hex::encode(bytes);
    write_atomically(&path, format!("{token}\n").as_bytes(), OWNER_ONLY)?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_an_owner_only_random_token_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let token = load_or_create_token(&state).unwrap();
        assert_eq!(token.len(), 64);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(mode(&state.join(TOKEN_FILE)), 0o600);
        assert_eq!(load_or_create_token(&state).unwrap(), token);

        let other = tempfile::tempdir().unwrap();
        assert_ne!(load_or_create_token(other.path()).unwrap(), token);
    }

    #[test]
    fn reuses_a_hand_written_token_and_narrows_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TOKEN_FILE);
        std::fs::write(&path, "hand-written\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(load_or_create_token(dir.path()).unwrap(), "hand-written");
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn refuses_an_empty_token_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(TOKEN_FILE), "  \n").unwrap();
        assert!(matches!(
            load_or_create_token(dir.path()),
            Err(TlsError::InvalidToken { .. })
        ));
    }
}
