//! In-memory backend with the same semantics as the redb one (tests, `wasmpod run` without a
//! state dir). One mutex serializes writes; events are published while it is held so watchers
//! see them in revision order.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;

use crate::history::{compaction_target, MAX_RETENTION_DROPS_PER_WRITE};
use crate::ops::{apply, WriteOp};
use crate::time::to_unix_millis;
use crate::watch::{WatchHub, WatchStream};
use crate::{
    KeyValue, ListResult, Result, Storage, StorageError, StorageOptions, WatchEvent,
    INITIAL_REVISION,
};

pub struct MemoryStorage {
    state: Mutex<MemoryState>,
    hub: WatchHub,
    options: StorageOptions,
}

struct MemoryState {
    objects: BTreeMap<String, KeyValue>,
    /// (expires_at millis, key) for keys with a TTL, so sweeping does not scan everything.
    expiries: BTreeSet<(i64, String)>,
    history: VecDeque<HistoryEntry>,
    revision: i64,
    compacted: i64,
}

struct HistoryEntry {
    committed_millis: i64,
    event: WatchEvent,
}

impl Default for MemoryStorage {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::with_options(StorageOptions::default())
    }

    pub fn with_options(options: StorageOptions) -> Self {
        MemoryStorage {
            state: Mutex::new(MemoryState {
                objects: BTreeMap::new(),
                expiries: BTreeSet::new(),
                history: VecDeque::new(),
                revision: INITIAL_REVISION,
                compacted: 0,
            }),
            hub: WatchHub::new(INITIAL_REVISION, options.watch_buffer),
            options,
        }
    }

    fn lock(&self) -> MutexGuard<'_, MemoryState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `op` as the next revision and publishes its event (lock held by the caller).
    fn write(&self, state: &mut MemoryState, op: WriteOp, now_millis: i64) -> Result<KeyValue> {
        let revision = state.revision + 1;
        let existing = state.objects.get(op.key()).cloned();
        let applied = apply(op, existing, revision)?;
        if let Some(previous) = &applied.previous {
            if let Some(expires_at) = previous.expires_at {
                state
                    .expiries
                    .remove(&(to_unix_millis(expires_at), previous.key.clone()));
            }
            state.objects.remove(&previous.key);
        }
        if let Some(stored) = applied.stored {
            if let Some(expires_at) = stored.expires_at {
                state
                    .expiries
                    .insert((to_unix_millis(expires_at), stored.key.clone()));
            }
            state.objects.insert(stored.key.clone(), stored);
        }
        state.revision = revision;
        self.hub.publish([&applied.event]);
        state.history.push_back(HistoryEntry {
            committed_millis: now_millis,
            event: applied.event,
        });
        self.retain(state, now_millis);
        Ok(applied.returned)
    }

    fn retain(&self, state: &mut MemoryState, now_millis: i64) {
        let policy = self.options.retention;
        for _ in 0..MAX_RETENTION_DROPS_PER_WRITE {
            let Some(oldest) = state.history.front() else {
                break;
            };
            let revision = oldest.event.revision();
            if !policy.should_drop(
                revision,
                oldest.committed_millis,
                state.revision,
                now_millis,
            ) {
                break;
            }
            state.history.pop_front();
            state.compacted = revision;
        }
    }
}

fn now_millis() -> i64 {
    to_unix_millis(SystemTime::now())
}

#[async_trait]
impl Storage for MemoryStorage {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        Ok(self.lock().objects.get(key).cloned())
    }

    async fn list(
        &self,
        prefix: &str,
        start_after_key: Option<&str>,
        limit: usize,
    ) -> Result<ListResult> {
        let state = self.lock();
        let lower = match start_after_key {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };
        let mut matching = state
            .objects
            .range::<str, _>((lower, Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(_, kv)| kv);
        let page_size = if limit == 0 { usize::MAX } else { limit };
        let items: Vec<KeyValue> = matching.by_ref().take(page_size).cloned().collect();
        let more = matching.next().is_some();
        Ok(ListResult {
            items,
            revision: state.revision,
            more,
        })
    }

    async fn create_expiring(
        &self,
        key: &str,
        value: Bytes,
        expires_at: Option<SystemTime>,
    ) -> Result<KeyValue> {
        let op = WriteOp::Create {
            key: key.to_owned(),
            value,
            expires_at,
        };
        self.write(&mut self.lock(), op, now_millis())
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: Option<i64>,
    ) -> Result<KeyValue> {
        let op = WriteOp::Update {
            key: key.to_owned(),
            value,
            expected_mod_revision,
        };
        self.write(&mut self.lock(), op, now_millis())
    }

    async fn delete(&self, key: &str, expected_mod_revision: Option<i64>) -> Result<KeyValue> {
        let op = WriteOp::Delete {
            key: key.to_owned(),
            expected_mod_revision,
        };
        self.write(&mut self.lock(), op, now_millis())
    }

    async fn watch(&self, prefix: &str, after_revision: i64) -> Result<WatchStream> {
        // Register before reading history: see the module comment of `watch`.
        let subscription = self.hub.subscribe(prefix, after_revision);
        let state = self.lock();
        if after_revision < state.compacted {
            return Err(StorageError::Compacted {
                compacted_revision: state.compacted,
            });
        }
        let backlog = state
            .history
            .iter()
            .map(|entry| &entry.event)
            .filter(|event| {
                let revision = event.revision();
                revision > after_revision
                    && revision <= subscription.registered_at
                    && event.key().starts_with(prefix)
            })
            .cloned()
            .collect();
        drop(state);
        Ok(WatchStream::new(subscription, backlog))
    }

    async fn compact(&self, revision: i64) -> Result<i64> {
        let mut state = self.lock();
        let target = compaction_target(revision, state.compacted, state.revision);
        while state
            .history
            .front()
            .is_some_and(|entry| entry.event.revision() <= target)
        {
            state.history.pop_front();
        }
        state.compacted = target;
        Ok(target)
    }

    async fn apply_retention(&self, now: SystemTime) -> Result<i64> {
        let mut state = self.lock();
        let now_millis = to_unix_millis(now);
        loop {
            let before = state.compacted;
            self.retain(&mut state, now_millis);
            if state.compacted == before {
                return Ok(state.compacted);
            }
        }
    }

    async fn sweep_expired(&self, now: SystemTime) -> Result<Vec<KeyValue>> {
        let mut state = self.lock();
        let cutoff = to_unix_millis(now);
        let due: Vec<String> = state
            .expiries
            .iter()
            .take_while(|(expires, _)| *expires <= cutoff)
            .map(|(_, key)| key.clone())
            .collect();
        let mut deleted = Vec::with_capacity(due.len());
        for key in due {
            let op = WriteOp::Delete {
                key,
                expected_mod_revision: None,
            };
            deleted.push(self.write(&mut state, op, now_millis())?);
        }
        Ok(deleted)
    }

    async fn current_revision(&self) -> Result<i64> {
        Ok(self.lock().revision)
    }

    async fn compacted_revision(&self) -> Result<i64> {
        Ok(self.lock().compacted)
    }
}
