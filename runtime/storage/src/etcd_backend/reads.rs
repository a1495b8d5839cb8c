//! Linearizable reads: get, range, revisions.

use etcd_client::{GetOptions, GetResponse};

use super::convert::key_value;
use super::retry::{backend_error, is_compacted, Retry};
use super::EtcdStorage;
use crate::{KeyValue, ListResult, Result, StorageError};

/// Any key works for learning the revision; this one is never written.
const REVISION_PROBE_KEY: &[u8] = b"\0";

impl EtcdStorage {
    pub(super) async fn read_key(&self, key: &str) -> Result<Option<KeyValue>> {
        let etcd_key = self.keys.to_etcd(key);
        let response = Retry::new(&self.options)
            .run("get", || {
                let mut client = self.client.clone();
                let etcd_key = etcd_key.clone();
                async move { client.get(etcd_key, None).await }
            })
            .await?;
        response
            .kvs()
            .first()
            .map(|kv| key_value(&self.keys, kv))
            .transpose()
    }

    /// `key` as of `revision`; `None` if it did not exist then or that history is compacted.
    pub(super) async fn read_key_at(&self, key: &str, revision: i64) -> Result<Option<KeyValue>> {
        let etcd_key = self.keys.to_etcd(key);
        let answer = Retry::new(&self.options)
            .run_raw("get at revision", || {
                let mut client = self.client.clone();
                let etcd_key = etcd_key.clone();
                let options = GetOptions::new().with_revision(revision);
                async move { client.get(etcd_key, Some(options)).await }
            })
            .await?;
        match answer {
            Ok(response) => response
                .kvs()
                .first()
                .map(|kv| key_value(&self.keys, kv))
                .transpose(),
            Err(error) if is_compacted(&error) => Ok(None),
            Err(error) => Err(backend_error("get at revision", error)),
        }
    }

    pub(super) async fn read_range(
        &self,
        prefix: &str,
        start_after_key: Option<&str>,
        limit: usize,
        revision: Option<i64>,
    ) -> Result<ListResult> {
        let (start, end) = self.keys.list_range(prefix, start_after_key);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let answer = Retry::new(&self.options)
            .run_raw("list", || {
                let mut client = self.client.clone();
                let start = start.clone();
                let mut options = GetOptions::new().with_range(end.clone()).with_limit(limit);
                if let Some(revision) = revision {
                    options = options.with_revision(revision);
                }
                async move { client.get(start, Some(options)).await }
            })
            .await?;
        let response = match answer {
            Ok(response) => response,
            Err(error) if is_compacted(&error) => {
                return Err(StorageError::Compacted {
                    compacted_revision: self.read_compacted_revision().await?,
                })
            }
            Err(error) => return Err(backend_error("list", error)),
        };
        let items = response
            .kvs()
            .iter()
            .map(|kv| key_value(&self.keys, kv))
            .collect::<Result<Vec<_>>>()?;
        Ok(ListResult {
            items,
            revision: revision.unwrap_or(header_revision(&response)?),
            more: response.more(),
        })
    }

    pub(super) async fn read_current_revision(&self, retry: &mut Retry) -> Result<i64> {
        let response = retry
            .run("read revision", || {
                let mut client = self.client.clone();
                let options = GetOptions::new().with_count_only();
                async move { client.get(REVISION_PROBE_KEY, Some(options)).await }
            })
            .await?;
        header_revision(&response)
    }

    /// etcd reports its compaction point only through HashKV (and compacted errors), so this
    /// is a maintenance call whose cost grows with the database: call it rarely.
    pub(super) async fn read_compacted_revision(&self) -> Result<i64> {
        let response = Retry::new(&self.options)
            .run("read compacted revision", || {
                let mut client = self.client.clone();
                async move { client.hash_kv(0).await }
            })
            .await?;
        // A fresh etcd reports -1; wasmpod's stores start at 0.
        Ok(response
            .compact_version()
            .max(self.retention.known_compacted())
            .max(0))
    }
}

pub(super) fn header_revision(response: &GetResponse) -> Result<i64> {
    response
        .header()
        .map(|header| header.revision())
        .ok_or_else(|| StorageError::Backend("etcd response without a header".into()))
}
