//! Writes as etcd transactions, made safe to retry.
//!
//! When an attempt fails in a way that may have happened after etcd applied it (the member
//! died mid-request, a timeout, a leader change), the retry cannot simply be repeated: a
//! create would report `AlreadyExists` for its own key and an update would apply twice.
//! So every write compares a revision, and when a retried attempt finds the compare failed,
//! the key is inspected: if it holds exactly what this write produced, on top of exactly the
//! state it expected, the earlier attempt is taken as the one that applied. (A concurrent
//! writer producing the identical result from the identical state is indistinguishable
//! from it, and leaves the same state behind.)

use bytes::Bytes;
use etcd_client::{
    Compare, CompareOp, DeleteOptions, LeaseGrantOptions, PutOptions, Txn, TxnOp, TxnOpResponse,
    TxnResponse,
};
use rand::Rng;
use std::time::SystemTime;
use tonic::Code;

use super::convert::key_value;
use super::expiry_lease;
use super::retry::{backend_error, AttemptError, Retry};
use super::EtcdStorage;
use crate::time::truncate_to_millis;
use crate::{KeyValue, Result, StorageError};

/// Fresh lease ids tried when a random one is taken.
const LEASE_ID_ATTEMPTS: usize = 8;

impl EtcdStorage {
    pub(super) async fn write_create(
        &self,
        key: &str,
        value: Bytes,
        expires_at: Option<SystemTime>,
    ) -> Result<KeyValue> {
        let lease = match expires_at {
            Some(at) => Some(self.grant_expiry_lease(at).await?),
            None => None,
        };
        let created = self.create_txn(key, value, lease).await;
        if let (Err(_), Some(lease)) = (&created, lease) {
            // Nothing uses the lease; it would expire anyway.
            let mut client = self.client.clone();
            tokio::spawn(async move {
                let _ = client.lease_revoke(lease).await;
            });
        }
        created
    }

    async fn create_txn(&self, key: &str, value: Bytes, lease: Option<i64>) -> Result<KeyValue> {
        let etcd_key = self.keys.to_etcd(key);
        let expires_at = lease.and_then(expiry_lease::decode);
        let mut retry = Retry::new(&self.options);
        let mut maybe_applied = false;
        loop {
            let put_options = PutOptions::new().with_lease(lease.unwrap_or(0));
            let txn = guarded(
                &etcd_key,
                [Compare::create_revision(
                    etcd_key.clone(),
                    CompareOp::Equal,
                    0,
                )],
                TxnOp::put(etcd_key.clone(), value.to_vec(), Some(put_options)),
            );
            let mut client = self.client.clone();
            match retry.attempt(client.txn(txn)).await {
                Ok(response) if response.succeeded() => {
                    let revision = txn_revision(&response)?;
                    return Ok(KeyValue {
                        key: key.to_owned(),
                        value,
                        create_revision: revision,
                        mod_revision: revision,
                        version: 1,
                        expires_at,
                    });
                }
                Ok(response) => {
                    if let Some(current) = self.range_result(&response)? {
                        let ours = current.version == 1
                            && current.value == value
                            && current.expires_at == expires_at;
                        if maybe_applied && ours {
                            return Ok(current);
                        }
                    }
                    return Err(StorageError::AlreadyExists {
                        key: key.to_owned(),
                    });
                }
                Err(AttemptError::Transient(error)) => {
                    maybe_applied = true;
                    retry.pause("create", &error).await?;
                }
                Err(AttemptError::Fatal(error)) => return Err(backend_error("create", error)),
            }
        }
    }

    pub(super) async fn write_update_cas(
        &self,
        key: &str,
        value: Bytes,
        expected: i64,
    ) -> Result<KeyValue> {
        let etcd_key = self.keys.to_etcd(key);
        let mut retry = Retry::new(&self.options);
        let mut maybe_applied = false;
        loop {
            // `ignore_lease` keeps an expiring key's lease (its expiry), as the trait says.
            let put_options = PutOptions::new().with_ignore_lease().with_prev_key();
            let txn = guarded(
                &etcd_key,
                existing_at(&etcd_key, expected),
                TxnOp::put(etcd_key.clone(), value.to_vec(), Some(put_options)),
            );
            let mut client = self.client.clone();
            match retry.attempt(client.txn(txn)).await {
                Ok(response) if response.succeeded() => {
                    let revision = txn_revision(&response)?;
                    let previous = match response.op_responses().into_iter().next() {
                        Some(TxnOpResponse::Put(put)) => put
                            .prev_key()
                            .map(|kv| key_value(&self.keys, kv))
                            .transpose()?,
                        _ => None,
                    }
                    .ok_or_else(|| unexpected("update", "no previous value"))?;
                    return Ok(KeyValue {
                        key: key.to_owned(),
                        value,
                        create_revision: previous.create_revision,
                        mod_revision: revision,
                        version: previous.version + 1,
                        expires_at: previous.expires_at,
                    });
                }
                Ok(response) => {
                    let Some(current) = self.range_result(&response)? else {
                        return Err(StorageError::NotFound {
                            key: key.to_owned(),
                        });
                    };
                    if maybe_applied
                        && current.value == value
                        && self.update_landed(key, &current, expected).await?
                    {
                        return Ok(current);
                    }
                    return Err(StorageError::Conflict {
                        key: key.to_owned(),
                        current_revision: current.mod_revision,
                    });
                }
                Err(AttemptError::Transient(error)) => {
                    maybe_applied = true;
                    retry.pause("update", &error).await?;
                }
                Err(AttemptError::Fatal(error)) => return Err(backend_error("update", error)),
            }
        }
    }

    /// Whether `current` is the direct successor of the version at `expected`.
    async fn update_landed(&self, key: &str, current: &KeyValue, expected: i64) -> Result<bool> {
        match self.read_key_at(key, current.mod_revision - 1).await? {
            Some(before) => Ok(before.mod_revision == expected
                && before.create_revision == current.create_revision),
            // History compacted: the value match is all there is to go on.
            None => Ok(current.version > 1),
        }
    }

    /// An update without an expected revision: read, then compare-and-swap on what was read,
    /// so that a retried attempt can tell whether it already applied.
    pub(super) async fn write_update_unconditional(
        &self,
        key: &str,
        value: Bytes,
    ) -> Result<KeyValue> {
        let mut retry = Retry::new(&self.options);
        loop {
            let base = self
                .read_key(key)
                .await?
                .ok_or_else(|| StorageError::NotFound {
                    key: key.to_owned(),
                })?;
            match self
                .write_update_cas(key, value.clone(), base.mod_revision)
                .await
            {
                Err(StorageError::Conflict { .. }) => {
                    retry.pause("update", "concurrent writers").await?
                }
                other => return other,
            }
        }
    }

    /// Returns the deleted value and a revision at or after the delete.
    pub(super) async fn write_delete(
        &self,
        key: &str,
        expected: Option<i64>,
    ) -> Result<(KeyValue, i64)> {
        let Some(expected) = expected else {
            let mut retry = Retry::new(&self.options);
            loop {
                let base = self
                    .read_key(key)
                    .await?
                    .ok_or_else(|| StorageError::NotFound {
                        key: key.to_owned(),
                    })?;
                match self.delete_cas(key, base.mod_revision).await {
                    Err(StorageError::Conflict { .. }) => {
                        retry.pause("delete", "concurrent writers").await?
                    }
                    other => return other,
                }
            }
        };
        self.delete_cas(key, expected).await
    }

    async fn delete_cas(&self, key: &str, expected: i64) -> Result<(KeyValue, i64)> {
        let etcd_key = self.keys.to_etcd(key);
        let mut retry = Retry::new(&self.options);
        let mut maybe_applied = false;
        loop {
            let txn = guarded(
                &etcd_key,
                existing_at(&etcd_key, expected),
                TxnOp::delete(etcd_key.clone(), Some(DeleteOptions::new().with_prev_key())),
            );
            let mut client = self.client.clone();
            match retry.attempt(client.txn(txn)).await {
                Ok(response) if response.succeeded() => {
                    let revision = txn_revision(&response)?;
                    let deleted = match response.op_responses().into_iter().next() {
                        Some(TxnOpResponse::Delete(delete)) => delete
                            .prev_kvs()
                            .first()
                            .map(|kv| key_value(&self.keys, kv))
                            .transpose()?,
                        _ => None,
                    }
                    .ok_or_else(|| unexpected("delete", "no previous value"))?;
                    return Ok((deleted, revision));
                }
                Ok(response) => {
                    let revision = txn_revision(&response)?;
                    let current = self.range_result(&response)?;
                    // Ours if the generation we expected is gone (not merely modified).
                    let generation_gone = current
                        .as_ref()
                        .is_none_or(|current| current.create_revision > expected);
                    if maybe_applied && generation_gone {
                        if let Some(before) = self.read_key_at(key, expected).await? {
                            if before.mod_revision == expected {
                                return Ok((before, revision));
                            }
                        }
                    }
                    return Err(match current {
                        None => StorageError::NotFound {
                            key: key.to_owned(),
                        },
                        Some(current) => StorageError::Conflict {
                            key: key.to_owned(),
                            current_revision: current.mod_revision,
                        },
                    });
                }
                Err(AttemptError::Transient(error)) => {
                    maybe_applied = true;
                    retry.pause("delete", &error).await?;
                }
                Err(AttemptError::Fatal(error)) => return Err(backend_error("delete", error)),
            }
        }
    }

    /// Grants a lease that outlives `expires_at` and whose id encodes it.
    async fn grant_expiry_lease(&self, expires_at: SystemTime) -> Result<i64> {
        let expires_at = truncate_to_millis(expires_at);
        for _ in 0..LEASE_ID_ATTEMPTS {
            let id = expiry_lease::encode(expires_at, rand::rng().random());
            let mut retry = Retry::new(&self.options);
            let mut maybe_applied = false;
            loop {
                let ttl = expiry_lease::ttl_seconds(expires_at, SystemTime::now());
                let mut client = self.client.clone();
                let grant = client.lease_grant(ttl, Some(LeaseGrantOptions::new().with_id(id)));
                match retry.attempt(grant).await {
                    Ok(_) => return Ok(id),
                    Err(AttemptError::Fatal(etcd_client::Error::GRpcStatus(status)))
                        if status.code() == Code::FailedPrecondition =>
                    {
                        // "lease already exists": our own earlier attempt, or a rare id clash.
                        if maybe_applied {
                            return Ok(id);
                        }
                        break;
                    }
                    Err(AttemptError::Transient(error)) => {
                        maybe_applied = true;
                        retry.pause("grant lease", &error).await?;
                    }
                    Err(AttemptError::Fatal(error)) => {
                        return Err(backend_error("grant lease", error))
                    }
                }
            }
        }
        Err(StorageError::Backend(
            "etcd grant lease: no free lease id found".into(),
        ))
    }

    /// The key-value read by a failed txn's `or_else` get.
    fn range_result(&self, response: &TxnResponse) -> Result<Option<KeyValue>> {
        match response.op_responses().into_iter().next() {
            Some(TxnOpResponse::Get(get)) => get
                .kvs()
                .first()
                .map(|kv| key_value(&self.keys, kv))
                .transpose(),
            _ => Err(unexpected("txn", "failed compare without a range result")),
        }
    }
}

/// The key exists (a missing key's mod_revision is 0) and was last written at `expected`.
fn existing_at(etcd_key: &[u8], expected: i64) -> [Compare; 2] {
    [
        Compare::create_revision(etcd_key.to_vec(), CompareOp::Greater, 0),
        Compare::mod_revision(etcd_key.to_vec(), CompareOp::Equal, expected),
    ]
}

fn txn_revision(response: &TxnResponse) -> Result<i64> {
    response
        .header()
        .map(|header| header.revision())
        .ok_or_else(|| unexpected("txn", "response without a header"))
}

fn unexpected(what: &str, detail: &str) -> StorageError {
    StorageError::Backend(format!("etcd {what}: unexpected answer: {detail}"))
}

/// `operation` when `conditions` hold; otherwise a read of the key, so a failed compare says
/// what is there now.
fn guarded(etcd_key: &[u8], conditions: impl Into<Vec<Compare>>, operation: TxnOp) -> Txn {
    Txn::new()
        .when(conditions)
        .and_then([operation])
        .or_else([TxnOp::get(etcd_key.to_vec(), None)])
}
