//! Durable backend: one redb file in the state directory.
//!
//! Reads run on tokio's blocking pool against redb MVCC snapshots; writes go through a single
//! writer thread (see `writer`), which keeps revisions and published events in order.

mod codec;
mod tables;
mod writer;

use std::ops::Bound;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable};
use tokio::sync::oneshot;

use self::codec::{decode_history, decode_object};
use self::tables::{
    read_meta, AtPath, EXPIRIES, HISTORY, META, META_COMPACTED, META_REVISION, OBJECTS,
};
use self::writer::{Command, ReplyTo, Request};
use crate::ops::WriteOp;
use crate::time::to_unix_millis;
use crate::watch::{WatchHub, WatchStream};
use crate::{
    KeyValue, ListResult, Result, Storage, StorageError, StorageOptions, INITIAL_REVISION,
};

/// Name of the database file inside the state directory.
pub const DATABASE_FILE_NAME: &str = "objects.redb";

pub struct RedbStorage {
    shared: Arc<Shared>,
    /// `None` only while dropping.
    commands: Mutex<Option<mpsc::Sender<Command>>>,
    writer_thread: Option<JoinHandle<()>>,
}

pub(crate) struct Shared {
    pub db: Database,
    pub path: PathBuf,
    pub hub: WatchHub,
    /// Last committed revision (the writer thread is the only one that changes it).
    pub revision: AtomicI64,
}

impl RedbStorage {
    /// Opens (or creates) the store in `dir`. Fails with `Locked` if another process or handle
    /// has it open, `Corrupt` if the file is not a valid store.
    pub fn open(dir: &Path, options: StorageOptions) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(DATABASE_FILE_NAME);
        let db = open_database(&path)?;
        let revision = initialize(&db, &path)?;
        let shared = Arc::new(Shared {
            db,
            path,
            hub: WatchHub::new(revision, options.watch_buffer),
            revision: AtomicI64::new(revision),
        });
        let (commands, receiver) = mpsc::channel();
        let writer_shared = shared.clone();
        let writer_thread = std::thread::Builder::new()
            .name("wasmpod-storage-writer".into())
            .spawn(move || {
                writer::run(
                    writer_shared,
                    receiver,
                    options.durability,
                    options.retention,
                )
            })?;
        Ok(RedbStorage {
            shared,
            commands: Mutex::new(Some(commands)),
            writer_thread: Some(writer_thread),
        })
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    async fn send<T>(
        &self,
        request: Request,
        reply_to: impl FnOnce(oneshot::Sender<Result<T>>) -> ReplyTo,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        let command = Command {
            request,
            reply_to: reply_to(tx),
        };
        let sent = {
            let commands = self.commands.lock().unwrap_or_else(PoisonError::into_inner);
            commands
                .as_ref()
                .is_some_and(|sender| sender.send(command).is_ok())
        };
        if !sent {
            return Err(writer_gone());
        }
        rx.await.map_err(|_| writer_gone())?
    }

    async fn write(&self, op: WriteOp) -> Result<KeyValue> {
        self.send(Request::Write(op), ReplyTo::Write).await
    }

    /// Runs `read` on a fresh snapshot, off the async threads.
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Path, ReadTransaction) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let txn = shared.db.begin_read().at(&shared.path)?;
            read(&shared.path, txn)
        })
        .await
        .map_err(|e| StorageError::Backend(format!("storage read task failed: {e}")))?
    }
}

impl Drop for RedbStorage {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish queued work and exit; joining it releases
        // the database (and its file lock) before drop returns, so a reopen succeeds.
        self.commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = self.writer_thread.take() {
            let _ = thread.join();
        }
    }
}

fn writer_gone() -> StorageError {
    StorageError::Backend("storage writer has stopped".into())
}

fn open_database(path: &Path) -> Result<Database> {
    // redb validates the file on open; a panic on a hostile file must still be an error.
    let opened = catch_unwind(AssertUnwindSafe(|| Database::builder().create(path)));
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(err)) => Err(tables::map_redb_error(path, err)),
        Err(_) => Err(StorageError::Corrupt {
            path: path.to_owned(),
            detail: "database open panicked".into(),
        }),
    }
}

/// Creates missing tables and counters; returns the stored revision.
fn initialize(db: &Database, path: &Path) -> Result<i64> {
    let txn = db.begin_write().at(path)?;
    let revision = {
        txn.open_table(OBJECTS).at(path)?;
        txn.open_table(HISTORY).at(path)?;
        txn.open_table(EXPIRIES).at(path)?;
        let mut meta = txn.open_table(META).at(path)?;
        if meta.get(META_REVISION).at(path)?.is_none() {
            meta.insert(META_REVISION, INITIAL_REVISION).at(path)?;
            meta.insert(META_COMPACTED, 0).at(path)?;
        }
        let revision = read_meta(&meta, META_REVISION, path)?;
        let compacted = read_meta(&meta, META_COMPACTED, path)?;
        if revision < INITIAL_REVISION || compacted < 0 || compacted > revision {
            return Err(StorageError::Corrupt {
                path: path.to_owned(),
                detail: format!("impossible revisions: current {revision}, compacted {compacted}"),
            });
        }
        revision
    };
    txn.commit().at(path)?;
    Ok(revision)
}

fn corrupt(path: &Path) -> impl Fn(String) -> StorageError + '_ {
    move |detail| StorageError::Corrupt {
        path: path.to_owned(),
        detail,
    }
}

#[async_trait]
impl Storage for RedbStorage {
    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let key = key.to_owned();
        self.read(move |path, txn| {
            let objects = txn.open_table(OBJECTS).at(path)?;
            match objects.get(key.as_str()).at(path)? {
                Some(bytes) => decode_object(&key, bytes.value())
                    .map(Some)
                    .map_err(corrupt(path)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn list(
        &self,
        prefix: &str,
        start_after_key: Option<&str>,
        limit: usize,
    ) -> Result<ListResult> {
        let prefix = prefix.to_owned();
        let start_after_key = start_after_key.map(str::to_owned);
        self.read(move |path, txn| {
            let meta = txn.open_table(META).at(path)?;
            let revision = read_meta(&meta, META_REVISION, path)?;
            let objects = txn.open_table(OBJECTS).at(path)?;
            let lower = match start_after_key.as_deref() {
                Some(after) if after >= prefix.as_str() => Bound::Excluded(after),
                _ => Bound::Included(prefix.as_str()),
            };
            let page_size = if limit == 0 { usize::MAX } else { limit };
            let mut items = Vec::new();
            let mut more = false;
            for entry in objects.range::<&str>((lower, Bound::Unbounded)).at(path)? {
                let (key, bytes) = entry.at(path)?;
                let key = key.value();
                if !key.starts_with(prefix.as_str()) {
                    break;
                }
                if items.len() == page_size {
                    more = true;
                    break;
                }
                items.push(decode_object(key, bytes.value()).map_err(corrupt(path))?);
            }
            Ok(ListResult {
                items,
                revision,
                more,
            })
        })
        .await
    }

    async fn create_expiring(
        &self,
        key: &str,
        value: Bytes,
        expires_at: Option<SystemTime>,
    ) -> Result<KeyValue> {
        self.write(WriteOp::Create {
            key: key.to_owned(),
            value,
            expires_at,
        })
        .await
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected_mod_revision: Option<i64>,
    ) -> Result<KeyValue> {
        self.write(WriteOp::Update {
            key: key.to_owned(),
            value,
            expected_mod_revision,
        })
        .await
    }

    async fn delete(&self, key: &str, expected_mod_revision: Option<i64>) -> Result<KeyValue> {
        self.write(WriteOp::Delete {
            key: key.to_owned(),
            expected_mod_revision,
        })
        .await
    }

    async fn watch(&self, prefix: &str, after_revision: i64) -> Result<WatchStream> {
        // Register before reading history: see the module comment of `watch`.
        let subscription = self.shared.hub.subscribe(prefix, after_revision);
        let registered_at = subscription.registered_at;
        let prefix = prefix.to_owned();
        let backlog = self
            .read(move |path, txn| {
                let meta = txn.open_table(META).at(path)?;
                let compacted = read_meta(&meta, META_COMPACTED, path)?;
                if after_revision < compacted {
                    return Err(StorageError::Compacted {
                        compacted_revision: compacted,
                    });
                }
                let history = txn.open_table(HISTORY).at(path)?;
                let mut backlog = Vec::new();
                if after_revision >= registered_at {
                    return Ok(backlog);
                }
                for entry in history
                    .range((after_revision + 1)..=registered_at)
                    .at(path)?
                {
                    let (revision, bytes) = entry.at(path)?;
                    let record =
                        decode_history(revision.value(), bytes.value()).map_err(corrupt(path))?;
                    if record.event.key().starts_with(prefix.as_str()) {
                        backlog.push(record.event);
                    }
                }
                Ok(backlog)
            })
            .await?;
        Ok(WatchStream::new(subscription, backlog))
    }

    async fn compact(&self, revision: i64) -> Result<i64> {
        self.send(Request::Compact { revision }, ReplyTo::Compacted)
            .await
    }

    async fn apply_retention(&self, now: SystemTime) -> Result<i64> {
        let now_millis = to_unix_millis(now);
        self.send(Request::Retain { now_millis }, ReplyTo::Compacted)
            .await
    }

    async fn sweep_expired(&self, now: SystemTime) -> Result<Vec<KeyValue>> {
        let now_millis = to_unix_millis(now);
        self.send(Request::Sweep { now_millis }, ReplyTo::Sweep)
            .await
    }

    async fn current_revision(&self) -> Result<i64> {
        Ok(self.shared.revision.load(Ordering::Acquire))
    }

    async fn compacted_revision(&self) -> Result<i64> {
        self.read(|path, txn| {
            let meta = txn.open_table(META).at(path)?;
            read_meta(&meta, META_COMPACTED, path)
        })
        .await
    }
}
