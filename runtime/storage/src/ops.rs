//! The decision part of every write, shared by the backends: given the key's current value and
//! the revision the write would get, validate and compute the new state and its event. Nothing
//! is mutated here, so a rejected write never leaves partial state behind.

use std::time::SystemTime;

use bytes::Bytes;

use crate::time::truncate_to_millis;
use crate::{KeyValue, StorageError, WatchEvent};

#[derive(Debug)]
pub(crate) enum WriteOp {
    Create {
        key: String,
        value: Bytes,
        expires_at: Option<SystemTime>,
    },
    Update {
        key: String,
        value: Bytes,
        expected_mod_revision: Option<i64>,
    },
    Delete {
        key: String,
        expected_mod_revision: Option<i64>,
    },
}

impl WriteOp {
    pub(crate) fn key(&self) -> &str {
        match self {
            WriteOp::Create { key, .. }
            | WriteOp::Update { key, .. }
            | WriteOp::Delete { key, .. } => key,
        }
    }
}

/// The outcome of an accepted write.
#[derive(Debug)]
pub(crate) struct Applied {
    /// The key's value after the write; `None` when it was deleted.
    pub stored: Option<KeyValue>,
    /// The value before the write, if any (for the expiry index).
    pub previous: Option<KeyValue>,
    pub event: WatchEvent,
    /// What the API call returns: the new value, or the deleted one.
    pub returned: KeyValue,
}

pub(crate) fn apply(
    op: WriteOp,
    existing: Option<KeyValue>,
    revision: i64,
) -> Result<Applied, StorageError> {
    match op {
        WriteOp::Create {
            key,
            value,
            expires_at,
        } => {
            if existing.is_some() {
                return Err(StorageError::AlreadyExists { key });
            }
            let kv = KeyValue {
                key,
                value,
                create_revision: revision,
                mod_revision: revision,
                version: 1,
                expires_at: expires_at.map(truncate_to_millis),
            };
            Ok(put(kv, None))
        }
        WriteOp::Update {
            key,
            value,
            expected_mod_revision,
        } => {
            let current = check_expected(key, existing, expected_mod_revision)?;
            let kv = KeyValue {
                key: current.key.clone(),
                value,
                create_revision: current.create_revision,
                mod_revision: revision,
                version: current.version + 1,
                expires_at: current.expires_at,
            };
            Ok(put(kv, Some(current)))
        }
        WriteOp::Delete {
            key,
            expected_mod_revision,
        } => {
            let current = check_expected(key, existing, expected_mod_revision)?;
            Ok(Applied {
                stored: None,
                previous: Some(current.clone()),
                event: WatchEvent::Delete {
                    prev: current.clone(),
                    revision,
                },
                returned: current,
            })
        }
    }
}

fn put(kv: KeyValue, previous: Option<KeyValue>) -> Applied {
    Applied {
        stored: Some(kv.clone()),
        previous: previous.clone(),
        event: WatchEvent::Put {
            kv: kv.clone(),
            prev: previous,
        },
        returned: kv,
    }
}

fn check_expected(
    key: String,
    existing: Option<KeyValue>,
    expected_mod_revision: Option<i64>,
) -> Result<KeyValue, StorageError> {
    let Some(current) = existing else {
        return Err(StorageError::NotFound { key });
    };
    match expected_mod_revision {
        Some(expected) if expected != current.mod_revision => Err(StorageError::Conflict {
            key,
            current_revision: current.mod_revision,
        }),
        _ => Ok(current),
    }
}
