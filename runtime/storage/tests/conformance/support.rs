use std::sync::Arc;
use std::time::Duration;

use tempfile::TempDir;
use wasmpod_storage::{
    Bytes, MemoryStorage, RedbStorage, Storage, StorageError, StorageOptions, WatchEvent,
    WatchStream,
};

/// A backend under test plus whatever must outlive it (the redb state dir).
pub struct Fixture {
    pub storage: Arc<dyn Storage>,
    pub _dir: Option<TempDir>,
}

pub type Factory = fn(StorageOptions) -> Fixture;

pub fn memory_fixture(options: StorageOptions) -> Fixture {
    Fixture {
        storage: Arc::new(MemoryStorage::with_options(options)),
        _dir: None,
    }
}

pub fn redb_fixture(options: StorageOptions) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = RedbStorage::open(dir.path(), options).expect("open redb storage");
    Fixture {
        storage: Arc::new(storage),
        _dir: Some(dir),
    }
}

/// Events are expected promptly; the deadline only turns a hang into a failure.
const EVENT_DEADLINE: Duration = Duration::from_secs(20);

pub async fn next_event(stream: &mut WatchStream) -> WatchEvent {
    match tokio::time::timeout(EVENT_DEADLINE, stream.next()).await {
        Ok(Some(Ok(event))) => event,
        Ok(other) => panic!("expected an event, got {other:?}"),
        Err(_) => panic!("no event within {EVENT_DEADLINE:?}"),
    }
}

/// Collects events until (and including) the one at `last_revision`.
pub async fn events_through(stream: &mut WatchStream, last_revision: i64) -> Vec<WatchEvent> {
    let mut events = Vec::new();
    loop {
        let event = next_event(stream).await;
        let revision = event.revision();
        events.push(event);
        if revision >= last_revision {
            return events;
        }
    }
}

pub fn revisions(events: &[WatchEvent]) -> Vec<i64> {
    events.iter().map(WatchEvent::revision).collect()
}

pub fn assert_compacted(result: Result<WatchStream, StorageError>, expected: i64) {
    match result {
        Err(StorageError::Compacted { compacted_revision }) => {
            assert_eq!(compacted_revision, expected)
        }
        other => panic!("expected Compacted({expected}), got {other:?}"),
    }
}

pub fn bytes(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}
