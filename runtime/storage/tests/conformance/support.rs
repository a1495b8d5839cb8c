use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use wasmpod_storage::{
    Bytes, MemoryStorage, RedbStorage, Storage, StorageError, StorageOptions, WatchEvent,
    WatchStream,
};

/// A backend under test plus whatever must outlive it (redb's state dir, an etcd cluster).
pub struct Fixture {
    pub storage: Arc<dyn Storage>,
    pub _guard: Option<Box<dyn Any + Send>>,
}

pub type Factory = fn(StorageOptions) -> Pin<Box<dyn Future<Output = Fixture> + Send>>;

pub fn memory_fixture(options: StorageOptions) -> Pin<Box<dyn Future<Output = Fixture> + Send>> {
    Box::pin(async move {
        Fixture {
            storage: Arc::new(MemoryStorage::with_options(options)),
            _guard: None,
        }
    })
}

pub fn redb_fixture(options: StorageOptions) -> Pin<Box<dyn Future<Output = Fixture> + Send>> {
    Box::pin(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = RedbStorage::open(dir.path(), options).expect("open redb storage");
        Fixture {
            storage: Arc::new(storage),
            _guard: Some(Box::new(dir)),
        }
    })
}

/// A fresh single-member etcd per case: etcd, like the other backends, starts at revision 1,
/// so the cases' absolute revisions hold. A key prefix exercises the prefix mapping.
#[cfg(feature = "etcd")]
pub fn etcd_fixture(options: StorageOptions) -> Pin<Box<dyn Future<Output = Fixture> + Send>> {
    use wasmpod_storage::etcd_cluster::LocalEtcdCluster;
    use wasmpod_storage::{EtcdOptions, EtcdStorage};
    Box::pin(async move {
        let cluster = LocalEtcdCluster::start(1).await.expect("start etcd");
        let etcd_options = EtcdOptions {
            key_prefix: "/conformance".into(),
            retention: options.retention,
            watch_buffer: options.watch_buffer,
            ..EtcdOptions::default()
        };
        let storage = EtcdStorage::connect(&cluster.endpoints(), etcd_options)
            .await
            .expect("connect to etcd");
        Fixture {
            storage: Arc::new(storage),
            _guard: Some(Box::new(cluster)),
        }
    })
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
