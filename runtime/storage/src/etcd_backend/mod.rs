//! `Storage` on an etcd cluster (feature `etcd`), mapped the way kube-apiserver uses etcd:
//!
//! * the global revision is etcd's header revision; `create_revision`, `mod_revision` and
//!   `version` are etcd's own;
//! * create is a txn on `create_revision == 0`; update and delete are txns comparing
//!   `mod_revision` (unconditional ones read first and compare what they read);
//! * lists are ranges (limit and `more` are etcd's; `list_at_revision` reads a past snapshot);
//! * watches are etcd watches with `prev_kv`, resumed on another member when a stream breaks;
//! * `compact` is etcd's compaction; expiring keys carry an etcd lease, so etcd deletes them
//!   itself and `sweep_expired` has nothing to do.
//!
//! Every request is retried through member failures within `EtcdOptions::retry_deadline`.

mod convert;
mod expiry_lease;
mod keys;
mod options;
mod reads;
mod retention;
pub(crate) mod retry;
mod watcher;
mod writes;

use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use etcd_client::{Client, ConnectOptions};

pub use options::EtcdOptions;

use crate::{KeyValue, ListResult, Result, Storage, StorageError, WatchStream};
use keys::KeySpace;
use retention::RetentionTracker;
use retry::Retry;

/// HTTP/2 pings notice a silently dead member (no RST, e.g. a partition) this fast.
const KEEP_ALIVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

pub struct EtcdStorage {
    client: Client,
    endpoints: Vec<String>,
    keys: KeySpace,
    options: EtcdOptions,
    retention: RetentionTracker,
    /// Dropped with the storage, which ends every watch stream (as the other backends do).
    shutdown: tokio::sync::watch::Sender<()>,
}

impl EtcdStorage {
    /// Connects to the cluster behind `endpoints` (`http://host:port`, any subset of the
    /// members) and checks, within `dial_timeout`, that it answers.
    pub async fn connect(endpoints: &[String], options: EtcdOptions) -> Result<EtcdStorage> {
        let client = connect_client(endpoints, &options).await?;
        let storage = EtcdStorage {
            client,
            endpoints: endpoints.to_vec(),
            keys: KeySpace::new(&options.key_prefix),
            retention: RetentionTracker::new(options.retention),
            shutdown: tokio::sync::watch::Sender::new(()),
            options,
        };
        let mut retry = Retry::with_deadline(
            storage.options.dial_timeout,
            storage.options.request_timeout,
        );
        storage
            .read_current_revision(&mut retry)
            .await
            .map_err(|error| {
                StorageError::Backend(format!(
                    "cannot reach etcd at {}: {error}",
                    endpoints.join(",")
                ))
            })?;
        Ok(storage)
    }

    /// The endpoints this storage was connected with.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    pub fn options(&self) -> &EtcdOptions {
        &self.options
    }

    /// The underlying client (shares its connections), e.g. for `EtcdElector`.
    pub fn client(&self) -> Client {
        self.client.clone()
    }
}

pub(crate) async fn connect_client(endpoints: &[String], options: &EtcdOptions) -> Result<Client> {
    if endpoints.is_empty() {
        return Err(StorageError::Backend("no etcd endpoints given".into()));
    }
    // No client-wide request timeout: watches, campaigns and keep-alives are long-lived
    // calls; unary requests get `request_timeout` per attempt in `Retry`. `require_leader`
    // makes a member without a leader refuse (so we retry elsewhere) instead of stalling.
    let connect_options = ConnectOptions::new()
        .with_connect_timeout(options.dial_timeout)
        .with_keep_alive(KEEP_ALIVE_INTERVAL, options.request_timeout)
        .with_keep_alive_while_idle(true)
        .with_require_leader(true);
    Client::connect(endpoints, Some(connect_options))
        .await
        .map_err(|error| retry::backend_error("connect", error))
}

#[async_trait]
impl Storage for EtcdStorage {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        self.read_key(key).await
    }

    async fn list(
        &self,
        prefix: &str,
        start_after_key: Option<&str>,
        limit: usize,
    ) -> Result<ListResult> {
        self.read_range(prefix, start_after_key, limit, None).await
    }

    async fn list_at_revision(
        &self,
        prefix: &str,
        start_after_key: Option<&str>,
        limit: usize,
        revision: i64,
    ) -> Result<ListResult> {
        self.read_range(prefix, start_after_key, limit, Some(revision))
            .await
    }

    async fn create_expiring(
        &self,
        key: &str,
        value: Bytes,
        expires_at: Option<SystemTime>,
    ) -> Result<KeyValue> {
        let created = self.write_create(key, value, expires_at).await?;
        self.after_write(created.mod_revision).await;
        Ok(created)
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: Option<i64>,
    ) -> Result<KeyValue> {
        let updated = match expected_mod_revision {
            Some(expected) => self.write_update_cas(key, value, expected).await?,
            None => self.write_update_unconditional(key, value).await?,
        };
        self.after_write(updated.mod_revision).await;
        Ok(updated)
    }

    async fn delete(&self, key: &str, expected_mod_revision: Option<i64>) -> Result<KeyValue> {
        let (deleted, revision) = self.write_delete(key, expected_mod_revision).await?;
        self.after_write(revision).await;
        Ok(deleted)
    }

    async fn watch(&self, prefix: &str, after_revision: i64) -> Result<WatchStream> {
        self.open_watch(prefix, after_revision).await
    }

    async fn compact(&self, revision: i64) -> Result<i64> {
        self.compact_to(revision).await
    }

    async fn apply_retention(&self, now: SystemTime) -> Result<i64> {
        let current = self.current_revision().await?;
        self.retention.record(current);
        match self.retention.target(current, now, true) {
            Some(target) => self.compact_to(target).await,
            None => self.compacted_revision().await,
        }
    }

    /// etcd deletes expiring keys itself when their lease runs out (as ordinary deletes that
    /// watchers see, shortly after `expires_at`: lease TTLs are whole seconds and etcd checks
    /// every 500 ms), so there is never anything to sweep here.
    async fn sweep_expired(&self, _now: SystemTime) -> Result<Vec<KeyValue>> {
        Ok(Vec::new())
    }

    async fn current_revision(&self) -> Result<i64> {
        self.read_current_revision(&mut Retry::new(&self.options))
            .await
    }

    async fn compacted_revision(&self) -> Result<i64> {
        self.read_compacted_revision().await
    }
}
