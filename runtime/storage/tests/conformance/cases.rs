use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wasmpod_storage::{RetentionPolicy, Storage, StorageError, StorageOptions, WatchEvent};

use crate::support::{
    assert_compacted, bytes, events_through, next_event, revisions, Factory, Fixture,
};

fn keep_all() -> StorageOptions {
    StorageOptions {
        retention: RetentionPolicy::keep_everything(),
        ..StorageOptions::default()
    }
}

async fn open(factory: Factory) -> Fixture {
    factory(keep_all()).await
}

pub async fn fresh_store_starts_at_revision_one(factory: Factory) {
    let fixture = open(factory).await;
    let store = &fixture.storage;
    assert_eq!(store.current_revision().await.unwrap(), 1);
    assert_eq!(store.compacted_revision().await.unwrap(), 0);
    assert_eq!(store.get("/registry/pods/default/a").await.unwrap(), None);
    let list = store.list("/registry/", None, 0).await.unwrap();
    assert!(list.items.is_empty());
    assert_eq!(list.revision, 1);
    assert!(!list.more);
}

pub async fn create_get_and_already_exists(factory: Factory) {
    let fixture = open(factory).await;
    let store = &fixture.storage;
    let key = "/registry/pods/default/health1";
    let created = store.create(key, bytes("{\"v\":1}")).await.unwrap();
    assert_eq!(created.key, key);
    assert_eq!(created.value, bytes("{\"v\":1}"));
    assert_eq!(
        (
            created.create_revision,
            created.mod_revision,
            created.version
        ),
        (2, 2, 1)
    );
    assert_eq!(created.expires_at, None);
    assert_eq!(store.get(key).await.unwrap(), Some(created));

    match store.create(key, bytes("other")).await {
        Err(StorageError::AlreadyExists { key: k }) => assert_eq!(k, key),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(store.current_revision().await.unwrap(), 2, "failed write");
    assert_eq!(
        store.get(key).await.unwrap().unwrap().value,
        bytes("{\"v\":1}")
    );
}

pub async fn update_is_compare_and_swap(factory: Factory) {
    let fixture = open(factory).await;
    let store = &fixture.storage;
    let key = "/registry/pods/default/a";
    store.create(key, bytes("1")).await.unwrap();

    let updated = store.update(key, bytes("2"), Some(2)).await.unwrap();
    assert_eq!(
        (
            updated.create_revision,
            updated.mod_revision,
            updated.version
        ),
        (2, 3, 2)
    );
    match store.update(key, bytes("stale"), Some(2)).await {
        Err(StorageError::Conflict {
            current_revision, ..
        }) => assert_eq!(current_revision, 3),
        other => panic!("expected Conflict, got {other:?}"),
    }
    let unconditional = store.update(key, bytes("3"), None).await.unwrap();
    assert_eq!(unconditional.mod_revision, 4);
    assert_eq!(unconditional.version, 3);
    match store
        .update("/registry/pods/default/missing", bytes("x"), None)
        .await
    {
        Err(StorageError::NotFound { .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(store.current_revision().await.unwrap(), 4);
    assert_eq!(store.get(key).await.unwrap().unwrap().value, bytes("3"));
}

pub async fn delete_returns_last_value_and_checks_revision(factory: Factory) {
    let fixture = open(factory).await;
    let store = &fixture.storage;
    let key = "/registry/pods/default/a";
    store.create(key, bytes("1")).await.unwrap();
    store.update(key, bytes("2"), None).await.unwrap();

    match store.delete(key, Some(2)).await {
        Err(StorageError::Conflict {
            current_revision, ..
        }) => assert_eq!(current_revision, 3),
        other => panic!("expected Conflict, got {other:?}"),
    }
    let deleted = store.delete(key, Some(3)).await.unwrap();
    assert_eq!(deleted.value, bytes("2"));
    assert_eq!(deleted.mod_revision, 3);
    assert_eq!(store.current_revision().await.unwrap(), 4);
    assert_eq!(store.get(key).await.unwrap(), None);
    match store.delete(key, None).await {
        Err(StorageError::NotFound { .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
    // Re-creating starts a new generation.
    let again = store.create(key, bytes("3")).await.unwrap();
    assert_eq!((again.create_revision, again.version), (5, 1));
}

pub async fn list_filters_prefix_orders_and_pages(factory: Factory) {
    let fixture = open(factory).await;
    let store = &fixture.storage;
    for name in ["c", "a", "e", "b", "d"] {
        let key = format!("/registry/pods/default/{name}");
        store.create(&key, bytes(name)).await.unwrap();
    }
    store
        .create("/registry/pods/kube-system/z", bytes("z"))
        .await
        .unwrap();
    store
        .create("/registry/podsx/default/a", bytes("x"))
        .await
        .unwrap();
    store.create("/registry/pod", bytes("x")).await.unwrap();

    let all = store.list("/registry/pods/", None, 0).await.unwrap();
    let keys: Vec<&str> = all.items.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "/registry/pods/default/a",
            "/registry/pods/default/b",
            "/registry/pods/default/c",
            "/registry/pods/default/d",
            "/registry/pods/default/e",
            "/registry/pods/kube-system/z",
        ]
    );
    assert_eq!(all.revision, 9);
    assert!(!all.more);

    let prefix = "/registry/pods/default/";
    let page1 = store.list(prefix, None, 2).await.unwrap();
    assert_eq!(names(&page1.items), ["a", "b"]);
    assert!(page1.more);
    let page2 = store
        .list(prefix, Some("/registry/pods/default/b"), 2)
        .await
        .unwrap();
    assert_eq!(names(&page2.items), ["c", "d"]);
    assert!(page2.more);
    let page3 = store
        .list(prefix, Some("/registry/pods/default/d"), 2)
        .await
        .unwrap();
    assert_eq!(names(&page3.items), ["e"]);
    assert!(!page3.more);
    let exact = store.list(prefix, None, 5).await.unwrap();
    assert_eq!(exact.items.len(), 5);
    assert!(!exact.more, "limit equal to the count leaves nothing more");
}

fn names(items: &[wasmpod_storage::KeyValue]) -> Vec<String> {
    items
        .iter()
        .map(|kv| String::from_utf8(kv.value.to_vec()).unwrap())
        .collect()
}

pub async fn list_is_a_consistent_snapshot_under_concurrent_writes(factory: Factory) {
    let fixture = open(factory).await;
    let store = fixture.storage.clone();
    for i in 0..8 {
        store.create(&format!("/s/{i}"), bytes("0")).await.unwrap();
    }
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for round in 0..40 {
                for i in 0..8 {
                    let value = bytes(&round.to_string());
                    store.update(&format!("/s/{i}"), value, None).await.unwrap();
                }
            }
        })
    };
    let mut lists = 0;
    while !writer.is_finished() || lists == 0 {
        let list = store.list("/s/", None, 0).await.unwrap();
        assert_eq!(list.items.len(), 8);
        // Every write touches one of these keys, so the newest item revision of a snapshot is
        // exactly the snapshot's revision.
        let newest = list.items.iter().map(|kv| kv.mod_revision).max().unwrap();
        assert_eq!(newest, list.revision, "list mixes states");
        lists += 1;
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
}

pub async fn watch_replays_history_then_live_events(factory: Factory) {
    let fixture = open(factory).await;
    let store = &fixture.storage;
    store
        .create("/registry/pods/default/a", bytes("1"))
        .await
        .unwrap(); // 2
    store
        .create("/registry/services/default/s", bytes("s"))
        .await
        .unwrap(); // 3
    store
        .update("/registry/pods/default/a", bytes("2"), None)
        .await
        .unwrap(); // 4

    let mut watch = store.watch("/registry/pods/", 1).await.unwrap();
    match next_event(&mut watch).await {
        WatchEvent::Put { kv, prev: None } => {
            assert_eq!(
                (kv.key.as_str(), kv.mod_revision),
                ("/registry/pods/default/a", 2)
            )
        }
        other => panic!("expected create, got {other:?}"),
    }
    match next_event(&mut watch).await {
        WatchEvent::Put {
            kv,
            prev: Some(prev),
        } => {
            assert_eq!((kv.mod_revision, prev.mod_revision), (4, 2));
            assert_eq!((kv.value, prev.value), (bytes("2"), bytes("1")));
        }
        other => panic!("expected update, got {other:?}"),
    }
    store
        .create("/registry/services/default/t", bytes("t"))
        .await
        .unwrap(); // 5
    store
        .delete("/registry/pods/default/a", None)
        .await
        .unwrap(); // 6
    match next_event(&mut watch).await {
        WatchEvent::Delete { prev, revision } => {
            assert_eq!(revision, 6);
            assert_eq!(
                (prev.key.as_str(), prev.mod_revision),
                ("/registry/pods/default/a", 4)
            );
        }
        other => panic!("expected delete, got {other:?}"),
    }
    // Watching from the current revision yields only later changes.
    let mut from_now = store.watch("/registry/", 6).await.unwrap();
    store
        .create("/registry/pods/default/b", bytes("b"))
        .await
        .unwrap(); // 7
    assert_eq!(next_event(&mut from_now).await.revision(), 7);
    assert_eq!(next_event(&mut watch).await.revision(), 7);
}

pub async fn watch_from_a_future_revision_skips_earlier_events(factory: Factory) {
    let fixture = open(factory).await;
    let store = &fixture.storage;
    let mut watch = store.watch("/k/", 3).await.unwrap();
    for i in 0..4 {
        store.create(&format!("/k/{i}"), bytes("v")).await.unwrap(); // 2..=5
    }
    assert_eq!(revisions(&events_through(&mut watch, 5).await), [4, 5]);
}

pub async fn watch_has_no_gap_or_duplicate_with_concurrent_writers(factory: Factory) {
    const WRITERS: usize = 4;
    const WRITES_PER_WRITER: usize = 100;
    let fixture = open(factory).await;
    let store = fixture.storage.clone();

    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..WRITES_PER_WRITER {
                let key = format!("/race/{writer}/{}", i % 5);
                if i < 5 {
                    store.create(&key, bytes("0")).await.unwrap();
                } else {
                    store
                        .update(&key, bytes(&i.to_string()), None)
                        .await
                        .unwrap();
                }
            }
        }));
    }
    // Open watchers while the writers run, each from a revision seen at that moment, and one
    // from the very beginning.
    let mut watchers = vec![(1, store.watch("/race/", 1).await.unwrap())];
    for _ in 0..40 {
        let start = store.current_revision().await.unwrap();
        watchers.push((start, store.watch("/race/", start).await.unwrap()));
        tokio::task::yield_now().await;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let sentinel = store.create("/race/sentinel", bytes("end")).await.unwrap();
    let last = sentinel.mod_revision;
    assert_eq!(last, 2 + (WRITERS * WRITES_PER_WRITER) as i64);
    for (start, mut watch) in watchers {
        let seen = revisions(&events_through(&mut watch, last).await);
        let expected: Vec<i64> = (start + 1..=last).collect();
        assert_eq!(seen, expected, "watch from {start}");
    }
}

pub async fn compaction_makes_older_watches_fail(factory: Factory) {
    let fixture = open(factory).await;
    let store = &fixture.storage;
    for i in 0..5 {
        store.create(&format!("/c/{i}"), bytes("v")).await.unwrap(); // 2..=6
    }
    assert_eq!(store.compact(4).await.unwrap(), 4);
    assert_eq!(store.compacted_revision().await.unwrap(), 4);
    assert_compacted(store.watch("/c/", 3).await, 4);
    assert_compacted(store.watch("/c/", 0).await, 4);
    let mut watch = store.watch("/c/", 4).await.unwrap();
    assert_eq!(revisions(&events_through(&mut watch, 6).await), [5, 6]);
    // Compacting never goes backwards nor past the current revision.
    assert_eq!(store.compact(2).await.unwrap(), 4);
    assert_eq!(store.compact(100).await.unwrap(), 6);
    assert_eq!(
        store.current_revision().await.unwrap(),
        6,
        "compaction is not a write"
    );
    let mut from_now = store.watch("/c/", 6).await.unwrap();
    store.create("/c/new", bytes("v")).await.unwrap();
    assert_eq!(next_event(&mut from_now).await.revision(), 7);
    // Objects survive compaction.
    assert_eq!(store.list("/c/", None, 0).await.unwrap().items.len(), 6);
}

pub async fn retention_keeps_the_last_n_revisions(factory: Factory) {
    let fixture = factory(StorageOptions {
        retention: RetentionPolicy {
            max_revisions: Some(5),
            max_age: None,
        },
        ..StorageOptions::default()
    })
    .await;
    let store = &fixture.storage;
    for i in 0..20 {
        store.create(&format!("/r/{i}"), bytes("v")).await.unwrap(); // 2..=21
    }
    assert_eq!(store.compacted_revision().await.unwrap(), 16);
    let mut watch = store.watch("/r/", 16).await.unwrap();
    assert_eq!(
        revisions(&events_through(&mut watch, 21).await),
        [17, 18, 19, 20, 21]
    );
    assert_compacted(store.watch("/r/", 15).await, 16);
}

pub async fn retention_drops_history_older_than_max_age(factory: Factory) {
    let fixture = factory(StorageOptions {
        retention: RetentionPolicy {
            max_revisions: None,
            max_age: Some(Duration::from_secs(300)),
        },
        ..StorageOptions::default()
    })
    .await;
    let store = &fixture.storage;
    for i in 0..3 {
        store.create(&format!("/r/{i}"), bytes("v")).await.unwrap(); // 2..=4
    }
    let now = SystemTime::now();
    assert_eq!(
        store.apply_retention(now).await.unwrap(),
        0,
        "nothing is old yet"
    );
    let later = now + Duration::from_secs(301);
    assert_eq!(store.apply_retention(later).await.unwrap(), 4);
    assert_compacted(store.watch("/r/", 3).await, 4);
    assert!(store.watch("/r/", 4).await.is_ok());
}

pub async fn ttl_keys_are_swept_as_ordinary_deletes(factory: Factory) {
    let fixture = open(factory).await;
    let store = &fixture.storage;
    let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(1_900_000_000 + secs);
    let mut watch = store.watch("/registry/events/", 1).await.unwrap();
    store
        .create_expiring("/registry/events/default/e1", bytes("1"), Some(at(10)))
        .await
        .unwrap(); // 2
    store
        .create_expiring("/registry/events/default/e2", bytes("2"), Some(at(20)))
        .await
        .unwrap(); // 3
    store
        .create_expiring("/registry/events/default/e3", bytes("3"), Some(at(30)))
        .await
        .unwrap(); // 4
    store
        .create("/registry/events/default/keep", bytes("k"))
        .await
        .unwrap(); // 5
    let updated = store
        .update("/registry/events/default/e1", bytes("1b"), None)
        .await
        .unwrap(); // 6
    assert_eq!(updated.expires_at, Some(at(10)), "update keeps the expiry");
    store
        .delete("/registry/events/default/e3", None)
        .await
        .unwrap(); // 7

    assert!(store.sweep_expired(at(9)).await.unwrap().is_empty());
    assert_eq!(store.current_revision().await.unwrap(), 7);
    let swept = store.sweep_expired(at(25)).await.unwrap();
    let swept_keys: Vec<&str> = swept.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(
        swept_keys,
        ["/registry/events/default/e1", "/registry/events/default/e2"]
    );
    assert_eq!(swept[0].value, bytes("1b"));
    assert_eq!(
        store.current_revision().await.unwrap(),
        9,
        "one revision per key"
    );
    assert!(store.sweep_expired(at(1000)).await.unwrap().is_empty());

    let events = events_through(&mut watch, 9).await;
    let deletes: Vec<(&str, i64)> = events
        .iter()
        .filter_map(|event| match event {
            WatchEvent::Delete { prev, revision } => Some((prev.key.as_str(), *revision)),
            WatchEvent::Put { .. } => None,
        })
        .collect();
    assert_eq!(
        deletes,
        [
            ("/registry/events/default/e3", 7),
            ("/registry/events/default/e1", 8),
            ("/registry/events/default/e2", 9),
        ]
    );
    let left = store.list("/registry/events/", None, 0).await.unwrap();
    assert_eq!(left.items.len(), 1);
}

pub async fn create_with_ttl_sets_expiry_from_now(factory: Factory) {
    let fixture = open(factory).await;
    let store = &fixture.storage;
    let before = SystemTime::now();
    let kv = store
        .create_with_ttl("/registry/events/a", bytes("e"), Duration::from_secs(3600))
        .await
        .unwrap();
    let expires = kv.expires_at.expect("expiry set");
    let earliest = before + Duration::from_secs(3600) - Duration::from_millis(1);
    assert!(expires >= earliest, "{expires:?} < {earliest:?}");
    assert!(expires <= SystemTime::now() + Duration::from_secs(3600));
    assert_eq!(store.get("/registry/events/a").await.unwrap(), Some(kv));
    assert!(store
        .sweep_expired(SystemTime::now())
        .await
        .unwrap()
        .is_empty());
    let swept = store
        .sweep_expired(SystemTime::now() + Duration::from_secs(3601))
        .await
        .unwrap();
    assert_eq!(swept.len(), 1);
}

pub async fn slow_watcher_ends_with_too_slow_without_blocking_writers(factory: Factory) {
    let fixture = factory(StorageOptions {
        watch_buffer: 4,
        ..keep_all()
    })
    .await;
    let store = &fixture.storage;
    let mut slow = store.watch("/slow/", 1).await.unwrap();
    let mut fast = store.watch("/slow/", 1).await.unwrap();
    let mut fast_seen = Vec::new();
    for i in 0..12 {
        // Writers finish even though `slow` never reads.
        let kv = tokio::time::timeout(
            Duration::from_secs(20),
            store.create(&format!("/slow/{i}"), bytes("v")),
        )
        .await
        .expect("writer blocked by a slow watcher")
        .unwrap();
        fast_seen.push(next_event(&mut fast).await.revision());
        assert_eq!(kv.mod_revision, i + 2);
    }
    assert_eq!(fast_seen, (2..=13).collect::<Vec<_>>());
    assert_eq!(revisions(&events_through(&mut slow, 5).await), [2, 3, 4, 5]);
    match slow.next().await {
        Some(Err(StorageError::WatchTooSlow {
            last_delivered_revision,
        })) => assert_eq!(last_delivered_revision, 5),
        other => panic!("expected WatchTooSlow, got {other:?}"),
    }
    assert!(slow.next().await.is_none());
}

pub async fn dropping_the_store_ends_watch_streams(factory: Factory) {
    let fixture = open(factory).await;
    let mut watch = fixture.storage.watch("/", 1).await.unwrap();
    let storage: Arc<dyn Storage> = fixture.storage;
    drop(storage);
    let ended = tokio::time::timeout(Duration::from_secs(20), watch.next()).await;
    assert!(matches!(ended, Ok(None)), "got {ended:?}");
}
