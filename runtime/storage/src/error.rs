use std::path::PathBuf;

/// Every failure of the storage API; the API server maps these to HTTP statuses.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("key {key:?} not found")]
    NotFound { key: String },
    #[error("key {key:?} already exists")]
    AlreadyExists { key: String },
    /// Compare-and-swap failed: the key is at `current_revision`, not the expected one.
    #[error("key {key:?} was modified: current revision is {current_revision}")]
    Conflict { key: String, current_revision: i64 },
    /// The requested history is gone (HTTP 410 Gone).
    #[error("required revision has been compacted (compacted revision {compacted_revision})")]
    Compacted { compacted_revision: i64 },
    /// A watcher fell too far behind and was dropped; the client must re-list (treat as 410).
    #[error("watcher fell behind: events after revision {last_delivered_revision} were dropped")]
    WatchTooSlow { last_delivered_revision: i64 },
    #[error("storage {path} is in use by another process or handle")]
    Locked { path: PathBuf },
    #[error("storage {path} is corrupt: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage backend error: {0}")]
    Backend(String),
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

impl StorageError {
    /// A copy for fanning one failure out to several waiters (`Io` is not `Clone`).
    pub(crate) fn duplicate(&self) -> StorageError {
        match self {
            StorageError::NotFound { key } => StorageError::NotFound { key: key.clone() },
            StorageError::AlreadyExists { key } => StorageError::AlreadyExists { key: key.clone() },
            StorageError::Conflict {
                key,
                current_revision,
            } => StorageError::Conflict {
                key: key.clone(),
                current_revision: *current_revision,
            },
            StorageError::Compacted { compacted_revision } => StorageError::Compacted {
                compacted_revision: *compacted_revision,
            },
            StorageError::WatchTooSlow {
                last_delivered_revision,
            } => StorageError::WatchTooSlow {
                last_delivered_revision: *last_delivered_revision,
            },
            StorageError::Locked { path } => StorageError::Locked { path: path.clone() },
            StorageError::Corrupt { path, detail } => StorageError::Corrupt {
                path: path.clone(),
                detail: detail.clone(),
            },
            StorageError::Io(err) => {
                StorageError::Io(std::io::Error::new(err.kind(), err.to_string()))
            }
            StorageError::Backend(detail) => StorageError::Backend(detail.clone()),
        }
    }
}
