//! The single writer thread of the redb backend.
//!
//! Writes queue up as commands; the thread drains whatever is queued (up to `MAX_BATCH`) into
//! one redb write transaction, commits it once (one fsync for many writes: group commit), then
//! publishes the events in revision order and answers each caller. Validation happens before any
//! mutation of a command, so a rejected command does not disturb the others in its batch.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use std::time::SystemTime;

use redb::{ReadableTable, Table, WriteTransaction};
use tokio::sync::oneshot;

use super::codec::{
    decode_object, encode_history, encode_object, history_committed_millis, HistoryRecord,
};
use super::tables::{
    read_meta, AtPath, EXPIRIES, HISTORY, META, META_COMPACTED, META_REVISION, OBJECTS,
};
use super::Shared;
use crate::history::{compaction_target, MAX_RETENTION_DROPS_PER_WRITE};
use crate::ops::{apply, WriteOp};
use crate::time::to_unix_millis;
use crate::{Durability, KeyValue, Result, RetentionPolicy, StorageError, WatchEvent};

const MAX_BATCH: usize = 256;

pub(crate) enum Request {
    Write(WriteOp),
    Sweep { now_millis: i64 },
    Compact { revision: i64 },
    Retain { now_millis: i64 },
}

pub(crate) enum ReplyTo {
    Write(oneshot::Sender<Result<KeyValue>>),
    Sweep(oneshot::Sender<Result<Vec<KeyValue>>>),
    /// Answered with the compacted revision once the batch committed.
    Compacted(oneshot::Sender<Result<i64>>),
}

pub(crate) struct Command {
    pub request: Request,
    pub reply_to: ReplyTo,
}

enum Outcome {
    Write(Result<KeyValue>),
    Sweep(Vec<KeyValue>),
    Compacted,
}

pub(crate) fn run(
    shared: Arc<Shared>,
    commands: Receiver<Command>,
    durability: Durability,
    retention: RetentionPolicy,
) {
    while let Ok(first) = commands.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match commands.try_recv() {
                Ok(command) => batch.push(command),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        process_batch(&shared, batch, durability, retention);
    }
    if durability == Durability::Eventual {
        // Make the unsynced commits durable on a clean close.
        let flush = shared
            .db
            .begin_write()
            .at(&shared.path)
            .and_then(|txn| txn.commit().at(&shared.path));
        if let Err(err) = flush {
            eprintln!(
                "wasmpod-storage: final flush of {} failed: {err}",
                shared.path.display()
            );
        }
    }
}

fn process_batch(
    shared: &Shared,
    batch: Vec<Command>,
    durability: Durability,
    retention: RetentionPolicy,
) {
    let (requests, replies): (Vec<Request>, Vec<ReplyTo>) = batch
        .into_iter()
        .map(|command| (command.request, command.reply_to))
        .unzip();
    let now_millis = to_unix_millis(SystemTime::now());
    // A commit that runs out of disk leaves redb refusing every later write until the file is
    // reopened; refusing this batch up front keeps the store writable once space is freed.
    let committed = match room_for(&shared.path, &requests) {
        Ok(()) => commit_batch(shared, requests, durability, retention, now_millis),
        Err(error) => Err(error),
    };
    match committed {
        Ok(batch) => {
            shared.revision.store(batch.revision, Ordering::Release);
            shared.hub.publish(&batch.events);
            for (reply_to, outcome) in replies.into_iter().zip(batch.outcomes) {
                match (reply_to, outcome) {
                    (ReplyTo::Write(tx), Outcome::Write(result)) => {
                        let _ = tx.send(result);
                    }
                    (ReplyTo::Sweep(tx), Outcome::Sweep(deleted)) => {
                        let _ = tx.send(Ok(deleted));
                    }
                    (ReplyTo::Compacted(tx), Outcome::Compacted) => {
                        let _ = tx.send(Ok(batch.compacted));
                    }
                    (reply_to, _) => {
                        reply_error(reply_to, &StorageError::Backend("reply mismatch".into()))
                    }
                }
            }
        }
        Err(err) => {
            for reply_to in replies {
                reply_error(reply_to, &err);
            }
        }
    }
}

fn reply_error(reply_to: ReplyTo, err: &StorageError) {
    match reply_to {
        ReplyTo::Write(tx) => {
            let _ = tx.send(Err(err.duplicate()));
        }
        ReplyTo::Sweep(tx) => {
            let _ = tx.send(Err(err.duplicate()));
        }
        ReplyTo::Compacted(tx) => {
            let _ = tx.send(Err(err.duplicate()));
        }
    }
}

/// Free space a commit must leave: redb writes copy-on-write pages and its header.
const DISK_RESERVE_BYTES: u64 = 1 << 20;
/// The smaller reserve of a batch that writes no values (deletions): on a full disk, deleting
/// is how room is made again, as etcd allows deletions under its NOSPACE alarm.
const DELETE_RESERVE_BYTES: u64 = 256 << 10;

/// `Ok` when the file system holding `path` has room for the batch: every value it writes,
/// twice (the object and its history record), plus a reserve.
fn room_for(path: &Path, requests: &[Request]) -> Result<()> {
    let written: u64 = requests
        .iter()
        .map(|request| match request {
            Request::Write(WriteOp::Create { value, .. } | WriteOp::Update { value, .. }) => {
                2 * value.len() as u64
            }
            _ => 0,
        })
        .sum();
    let needed = match written {
        0 => DELETE_RESERVE_BYTES,
        _ => written + DISK_RESERVE_BYTES,
    };
    match free_bytes(path) {
        Some(free) if free < needed => Err(StorageError::Backend(format!(
            "{}: No space left on device (os error 28): {free} bytes free, {needed} needed; \
             the write was refused before touching the store",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Bytes an unprivileged writer may still use on the file system holding `path`.
fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = path.parent().unwrap_or(path);
    let c_path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a zeroed statvfs the call fills in.
    let result = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    (result == 0).then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
}

struct CommittedBatch {
    revision: i64,
    compacted: i64,
    events: Vec<WatchEvent>,
    outcomes: Vec<Outcome>,
}

fn commit_batch(
    shared: &Shared,
    requests: Vec<Request>,
    durability: Durability,
    retention: RetentionPolicy,
    now_millis: i64,
) -> Result<CommittedBatch> {
    let path = shared.path.as_path();
    let mut txn = shared.db.begin_write().at(path)?;
    let redb_durability = match durability {
        Durability::Immediate => redb::Durability::Immediate,
        Durability::Eventual => redb::Durability::None,
    };
    txn.set_durability(redb_durability).at(path)?;
    let batch = {
        let mut tables = WriteTables::open(&txn, path, now_millis, retention)?;
        let mut outcomes = Vec::with_capacity(requests.len());
        for request in requests {
            outcomes.push(tables.execute(request)?);
        }
        tables.retain(now_millis, MAX_RETENTION_DROPS_PER_WRITE)?;
        tables.save_meta(&txn)?;
        CommittedBatch {
            revision: tables.revision,
            compacted: tables.compacted,
            events: tables.events,
            outcomes,
        }
    };
    txn.commit().at(path)?;
    Ok(batch)
}

struct WriteTables<'txn> {
    path: &'txn Path,
    now_millis: i64,
    retention: RetentionPolicy,
    objects: Table<'txn, &'static str, &'static [u8]>,
    history: Table<'txn, i64, &'static [u8]>,
    expiries: Table<'txn, (i64, &'static str), ()>,
    revision: i64,
    compacted: i64,
    events: Vec<WatchEvent>,
}

impl<'txn> WriteTables<'txn> {
    fn open(
        txn: &'txn WriteTransaction,
        path: &'txn Path,
        now_millis: i64,
        retention: RetentionPolicy,
    ) -> Result<Self> {
        let meta = txn.open_table(META).at(path)?;
        let revision = read_meta(&meta, META_REVISION, path)?;
        let compacted = read_meta(&meta, META_COMPACTED, path)?;
        drop(meta);
        Ok(WriteTables {
            path,
            now_millis,
            retention,
            objects: txn.open_table(OBJECTS).at(path)?,
            history: txn.open_table(HISTORY).at(path)?,
            expiries: txn.open_table(EXPIRIES).at(path)?,
            revision,
            compacted,
            events: Vec::new(),
        })
    }

    fn corrupt(&self, detail: String) -> StorageError {
        StorageError::Corrupt {
            path: self.path.to_owned(),
            detail,
        }
    }

    fn execute(&mut self, request: Request) -> Result<Outcome> {
        match request {
            Request::Write(op) => match self.write(op) {
                Ok(kv) => Ok(Outcome::Write(Ok(kv))),
                Err(
                    rejected @ (StorageError::NotFound { .. }
                    | StorageError::AlreadyExists { .. }
                    | StorageError::Conflict { .. }),
                ) => Ok(Outcome::Write(Err(rejected))),
                Err(fatal) => Err(fatal),
            },
            Request::Sweep { now_millis } => self.sweep(now_millis).map(Outcome::Sweep),
            Request::Compact { revision } => {
                self.compact(revision)?;
                Ok(Outcome::Compacted)
            }
            Request::Retain { now_millis } => {
                self.retain(now_millis, usize::MAX)?;
                Ok(Outcome::Compacted)
            }
        }
    }

    fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        let Some(bytes) = self.objects.get(key).at(self.path)? else {
            return Ok(None);
        };
        decode_object(key, bytes.value())
            .map(Some)
            .map_err(|detail| self.corrupt(detail))
    }

    fn write(&mut self, op: WriteOp) -> Result<KeyValue> {
        let revision = self.revision + 1;
        let existing = self.get(op.key())?;
        let applied = apply(op, existing, revision)?;
        if let Some(previous) = &applied.previous {
            if let Some(expires_at) = previous.expires_at {
                let index_key = (to_unix_millis(expires_at), previous.key.as_str());
                self.expiries.remove(index_key).at(self.path)?;
            }
            if applied.stored.is_none() {
                self.objects.remove(previous.key.as_str()).at(self.path)?;
            }
        }
        if let Some(stored) = &applied.stored {
            let encoded = encode_object(stored);
            self.objects
                .insert(stored.key.as_str(), encoded.as_slice())
                .at(self.path)?;
            if let Some(expires_at) = stored.expires_at {
                let index_key = (to_unix_millis(expires_at), stored.key.as_str());
                self.expiries.insert(index_key, ()).at(self.path)?;
            }
        }
        let record = HistoryRecord {
            committed_millis: self.now_millis,
            event: applied.event,
        };
        self.history
            .insert(revision, encode_history(&record).as_slice())
            .at(self.path)?;
        self.revision = revision;
        self.events.push(record.event);
        Ok(applied.returned)
    }

    fn sweep(&mut self, now_millis: i64) -> Result<Vec<KeyValue>> {
        let mut due = Vec::new();
        for entry in self
            .expiries
            .range(..=(now_millis, "\u{10FFFF}"))
            .at(self.path)?
        {
            let (index_key, _) = entry.at(self.path)?;
            let (expires, key) = index_key.value();
            due.push((expires, key.to_owned()));
        }
        let mut deleted = Vec::with_capacity(due.len());
        for (expires, key) in due {
            let op = WriteOp::Delete {
                key: key.clone(),
                expected_mod_revision: None,
            };
            match self.write(op) {
                Ok(kv) => deleted.push(kv),
                // A stale index row (should not happen): drop it rather than fail forever.
                Err(StorageError::NotFound { .. }) => {
                    self.expiries
                        .remove((expires, key.as_str()))
                        .at(self.path)?;
                }
                Err(err) => return Err(err),
            }
        }
        Ok(deleted)
    }

    fn compact(&mut self, requested: i64) -> Result<()> {
        let target = compaction_target(requested, self.compacted, self.revision);
        self.history
            .retain_in(..=target, |_, _| false)
            .at(self.path)?;
        self.compacted = target;
        Ok(())
    }

    /// Drops history the retention policy no longer keeps, oldest first, at most `limit` rows.
    fn retain(&mut self, now_millis: i64, limit: usize) -> Result<()> {
        for _ in 0..limit {
            let (revision, committed_millis) = {
                let Some((revision, bytes)) = self.history.first().at(self.path)? else {
                    return Ok(());
                };
                let committed = history_committed_millis(bytes.value());
                (revision.value(), committed)
            };
            let committed_millis = committed_millis.map_err(|detail| self.corrupt(detail))?;
            if !self
                .retention
                .should_drop(revision, committed_millis, self.revision, now_millis)
            {
                return Ok(());
            }
            self.history.remove(revision).at(self.path)?;
            self.compacted = revision;
        }
        Ok(())
    }

    fn save_meta(&self, txn: &WriteTransaction) -> Result<()> {
        let mut meta = txn.open_table(META).at(self.path)?;
        meta.insert(META_REVISION, self.revision).at(self.path)?;
        meta.insert(META_COMPACTED, self.compacted).at(self.path)?;
        Ok(())
    }
}
