//! Table layout of the redb file and the mapping of redb errors to `StorageError`.

use std::path::Path;

use redb::{ReadableTable, TableDefinition};

use crate::StorageError;

/// key → encoded object (revisions, expiry, value).
pub(crate) const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");
/// revision → encoded event, for watch catch-up after restarts.
pub(crate) const HISTORY: TableDefinition<i64, &[u8]> = TableDefinition::new("history");
/// (expires_at millis, key) → () for keys with a TTL.
pub(crate) const EXPIRIES: TableDefinition<(i64, &str), ()> = TableDefinition::new("expiries");
/// Revision counters.
pub(crate) const META: TableDefinition<&str, i64> = TableDefinition::new("meta");

pub(crate) const META_REVISION: &str = "revision";
pub(crate) const META_COMPACTED: &str = "compacted";

pub(crate) fn read_meta(
    meta: &impl ReadableTable<&'static str, i64>,
    name: &str,
    path: &Path,
) -> Result<i64, StorageError> {
    match meta.get(name).at(path)? {
        Some(value) => Ok(value.value()),
        None => Err(StorageError::Corrupt {
            path: path.to_owned(),
            detail: format!("meta entry {name:?} is missing"),
        }),
    }
}

/// Maps any redb failure; schema mismatches and detected corruption become `Corrupt`.
pub(crate) fn map_redb_error(path: &Path, err: impl Into<redb::Error>) -> StorageError {
    let corrupt = |detail: String| StorageError::Corrupt {
        path: path.to_owned(),
        detail,
    };
    match err.into() {
        redb::Error::DatabaseAlreadyOpen => StorageError::Locked {
            path: path.to_owned(),
        },
        redb::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData => {
                corrupt(io.to_string())
            }
            _ => StorageError::Io(io),
        },
        err @ (redb::Error::Corrupted(_)
        | redb::Error::UpgradeRequired(_)
        | redb::Error::RepairAborted
        | redb::Error::TableTypeMismatch { .. }
        | redb::Error::TableIsMultimap(_)
        | redb::Error::TypeDefinitionChanged { .. }
        | redb::Error::LockProtocolMismatch) => corrupt(err.to_string()),
        other => StorageError::Backend(other.to_string()),
    }
}

/// `.at(path)` converts any redb result into ours, naming the file in the error.
pub(crate) trait AtPath<T> {
    fn at(self, path: &Path) -> Result<T, StorageError>;
}

impl<T, E: Into<redb::Error>> AtPath<T> for Result<T, E> {
    fn at(self, path: &Path) -> Result<T, StorageError> {
        self.map_err(|e| map_redb_error(path, e))
    }
}
