//! Durable object storage behind wasmpod's Kubernetes API server.
//!
//! The model mirrors etcd (a later backend puts the same trait on etcd): a single global
//! revision that every successful write bumps by exactly one, per-key `create_revision` /
//! `mod_revision`, compare-and-swap updates, prefix watches that resume from a revision, and
//! compaction of the history those watches replay.
//!
//! Backends: `MemoryStorage`, `RedbStorage` (one machine, durable) and, with feature `etcd`,
//! `EtcdStorage` (a cluster's state in etcd). `election` picks the one node that runs the
//! controllers.

pub mod election;
mod error;
#[cfg(feature = "etcd")]
mod etcd_backend;
#[cfg(feature = "etcd")]
pub mod etcd_cluster;
mod history;
mod memory;
mod ops;
mod options;
mod redb_backend;
mod time;
mod watch;

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
pub use bytes::Bytes;

pub use error::{Result, StorageError};
#[cfg(feature = "etcd")]
pub use etcd_backend::{EtcdOptions, EtcdStorage};
pub use memory::MemoryStorage;
pub use options::{Durability, RetentionPolicy, StorageOptions};
pub use redb_backend::{RedbStorage, DATABASE_FILE_NAME};
pub use watch::WatchStream;

/// The revision of a store that has never been written (etcd starts at 1 as well).
pub const INITIAL_REVISION: i64 = 1;

/// One stored object, as of its latest write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
    /// Revision of the write that created the key (kept across updates).
    pub create_revision: i64,
    /// Revision of the latest write to the key; this is the object's resourceVersion.
    pub mod_revision: i64,
    /// Number of writes since creation (1 after create), as in etcd.
    pub version: i64,
    /// When `sweep_expired` may delete the key; millisecond precision.
    pub expires_at: Option<SystemTime>,
}

/// One page of a prefix list, read from a single snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListResult {
    pub items: Vec<KeyValue>,
    /// Store revision of the snapshot the page was read from.
    pub revision: i64,
    /// Whether keys under the prefix remain after the last returned item.
    pub more: bool,
}

/// A change seen by a watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// The key was created (`prev` is `None`) or updated.
    Put {
        kv: KeyValue,
        prev: Option<KeyValue>,
    },
    /// The key was deleted at `revision`; `prev` is its last value.
    Delete { prev: KeyValue, revision: i64 },
}

impl WatchEvent {
    pub fn revision(&self) -> i64 {
        match self {
            WatchEvent::Put { kv, .. } => kv.mod_revision,
            WatchEvent::Delete { revision, .. } => *revision,
        }
    }

    pub fn key(&self) -> &str {
        match self {
            WatchEvent::Put { kv, .. } => &kv.key,
            WatchEvent::Delete { prev, .. } => &prev.key,
        }
    }
}

/// The storage API shared by every backend (memory, redb, etcd).
#[async_trait]
pub trait Storage: Send + Sync {
    /// The object at `key`, if any. Expired keys stay visible until swept.
    async fn get(&self, key: &str) -> Result<Option<KeyValue>>;

    /// Up to `limit` objects (0 = no limit) whose key starts with `prefix`, in key order,
    /// starting strictly after `start_after_key` (a Kubernetes `continue` token's key).
    async fn list(
        &self,
        prefix: &str,
        start_after_key: Option<&str>,
        limit: usize,
    ) -> Result<ListResult>;

    /// Like `list`, but reads the snapshot at `revision` (an earlier page's
    /// `ListResult::revision`), so that every page of a paginated list comes from one snapshot
    /// as with kube-apiserver on etcd; fails with `Compacted` once that revision is gone.
    /// Backends without multi-version reads (memory, redb) read the current state, as their
    /// `list` always does.
    async fn list_at_revision(
        &self,
        prefix: &str,
        start_after_key: Option<&str>,
        limit: usize,
        revision: i64,
    ) -> Result<ListResult> {
        let _ = revision;
        self.list(prefix, start_after_key, limit).await
    }

    /// Creates `key`; fails with `AlreadyExists` if present. `expires_at` marks it for
    /// `sweep_expired` (on etcd: attaches a lease, and etcd deletes the key itself).
    async fn create_expiring(
        &self,
        key: &str,
        value: Bytes,
        expires_at: Option<SystemTime>,
    ) -> Result<KeyValue>;

    /// Replaces the value of an existing key (its expiry is kept). With
    /// `expected_mod_revision`, fails with `Conflict` unless it matches (compare-and-swap).
    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: Option<i64>,
    ) -> Result<KeyValue>;

    /// Deletes `key` and returns its last value; same compare-and-swap rule as `update`.
    async fn delete(&self, key: &str, expected_mod_revision: Option<i64>) -> Result<KeyValue>;

    /// Every change under `prefix` with revision > `after_revision`, in revision order, without
    /// gaps or duplicates. Fails with `Compacted` when that history is gone.
    async fn watch(&self, prefix: &str, after_revision: i64) -> Result<WatchStream>;

    /// Drops history at or below `revision` (clamped to the current revision); returns the
    /// compacted revision afterwards.
    async fn compact(&self, revision: i64) -> Result<i64>;

    /// Applies the configured `RetentionPolicy` as of `now` (writes apply it too); returns the
    /// compacted revision afterwards.
    async fn apply_retention(&self, now: SystemTime) -> Result<i64>;

    /// Deletes, as ordinary deletes (watchers see them), every key whose expiry is at or before
    /// `now`; returns the deleted objects. A no-op returning nothing on etcd, which deletes
    /// expiring keys itself when their lease runs out.
    async fn sweep_expired(&self, now: SystemTime) -> Result<Vec<KeyValue>>;

    async fn current_revision(&self) -> Result<i64>;

    /// History at or below this revision is gone; watches must start at or after it.
    async fn compacted_revision(&self) -> Result<i64>;

    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue> {
        self.create_expiring(key, value, None).await
    }

    /// Creates a key that `sweep_expired` deletes once `ttl` has passed (Kubernetes events).
    async fn create_with_ttl(&self, key: &str, value: Bytes, ttl: Duration) -> Result<KeyValue> {
        let expires_at = SystemTime::now() + ttl;
        self.create_expiring(key, value, Some(expires_at)).await
    }
}
