//! Files only the owner may read (mode 0600), written atomically.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::TlsError;

pub(crate) const OWNER_ONLY: u32 = 0o600;

/// Creates `dir` (mode 0700 for the parts it creates) when missing.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), TlsError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| TlsError::io(dir, source))
}

/// The file's text, or `None` when it does not exist.
pub(crate) fn read_if_present(path: &Path) -> Result<Option<String>, TlsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TlsError::io(path, source)),
    }
}

/// Writes `contents` to `path` with `mode`, through a temporary file and a rename so a reader
/// never sees a partial file and the secret is never briefly readable by others.
pub(crate) fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), TlsError> {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    // A leftover from a crash may have another mode; `mode` only applies to new files.
    let _ = std::fs::remove_file(&temporary);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result.map_err(|source| TlsError::io(path, source))
}

/// Narrows an existing file to owner-only access when it is readable by others.
pub(crate) fn restrict_to_owner(path: &Path) -> Result<(), TlsError> {
    let metadata = std::fs::metadata(path).map_err(|source| TlsError::io(path, source))?;
    if metadata.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, Permissions::from_mode(OWNER_ONLY))
            .map_err(|source| TlsError::io(path, source))?;
    }
    Ok(())
}
