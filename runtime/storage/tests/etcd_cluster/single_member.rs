//! etcd-specific behaviour on one member: lease expiry, snapshot pages, errors.

use std::time::{Duration, Instant};

use wasmpod_storage::etcd_cluster::{EtcdClusterError, EtcdClusterOptions, LocalEtcdCluster};
use wasmpod_storage::{EtcdOptions, EtcdStorage, Storage, StorageError, WatchEvent};

use crate::support::{bytes, cluster, connect, next_event};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_deletes_expiring_keys_as_ordinary_deletes() {
    let cluster = cluster(1).await;
    let storage = connect(&cluster.endpoints()).await;
    let mut watch = storage.watch("/registry/events/", 1).await.unwrap();
    let before = std::time::SystemTime::now();
    let created = storage
        .create_with_ttl("/registry/events/e1", bytes("1"), Duration::from_secs(2))
        .await
        .unwrap();
    let created_at = Instant::now();
    storage
        .create("/registry/events/keep", bytes("k"))
        .await
        .unwrap();
    let expires_at = created.expires_at.expect("expiry recorded");
    assert!(expires_at >= before + Duration::from_secs(2) - Duration::from_millis(1));
    assert_eq!(
        storage.get("/registry/events/e1").await.unwrap(),
        Some(created)
    );
    let updated = storage
        .update("/registry/events/e1", bytes("1b"), None)
        .await
        .unwrap();
    assert_eq!(
        updated.expires_at,
        Some(expires_at),
        "update keeps the lease"
    );
    assert!(storage
        .sweep_expired(expires_at + Duration::from_secs(60))
        .await
        .unwrap()
        .is_empty());

    let mut deleted = None;
    while deleted.is_none() {
        if let WatchEvent::Delete { prev, revision } =
            next_event(&mut watch, Duration::from_secs(10)).await
        {
            deleted = Some((prev, revision));
        }
    }
    let (prev, revision) = deleted.unwrap();
    let lifetime = created_at.elapsed();
    assert_eq!(
        (prev.key.as_str(), prev.value.clone()),
        ("/registry/events/e1", bytes("1b"))
    );
    assert_eq!(revision, updated.mod_revision + 1);
    assert!(
        lifetime >= Duration::from_millis(1900),
        "deleted early: {lifetime:?}"
    );
    println!("2 s TTL key deleted by etcd after {lifetime:?}");
    let left = storage.list("/registry/events/", None, 0).await.unwrap();
    assert_eq!(left.items.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_pages_read_the_first_pages_snapshot() {
    let cluster = cluster(1).await;
    let storage = connect(&cluster.endpoints()).await;
    for name in ["a", "b", "c", "d"] {
        let key = format!("/registry/pods/default/{name}");
        storage.create(&key, bytes("old")).await.unwrap();
    }
    let first = storage
        .list("/registry/pods/default/", None, 2)
        .await
        .unwrap();
    assert!(first.more);
    for name in ["c", "d"] {
        let key = format!("/registry/pods/default/{name}");
        storage.update(&key, bytes("new"), None).await.unwrap();
    }
    storage
        .create("/registry/pods/default/e", bytes("new"))
        .await
        .unwrap();
    let after = first.items.last().unwrap().key.clone();
    let second = storage
        .list_at_revision("/registry/pods/default/", Some(&after), 2, first.revision)
        .await
        .unwrap();
    let values: Vec<_> = second.items.iter().map(|kv| kv.value.clone()).collect();
    assert_eq!(values, [bytes("old"), bytes("old")]);
    assert_eq!(second.revision, first.revision);
    assert!(!second.more, "e did not exist at the snapshot");

    let current = storage.current_revision().await.unwrap();
    storage.compact(current).await.unwrap();
    match storage
        .list_at_revision("/registry/pods/default/", Some(&after), 2, first.revision)
        .await
    {
        Err(StorageError::Compacted { compacted_revision }) => {
            assert_eq!(compacted_revision, current)
        }
        other => panic!("expected Compacted, got {other:?}"),
    }
}

#[tokio::test]
async fn missing_etcd_binary_is_a_clear_error() {
    let options = EtcdClusterOptions {
        members: 1,
        binary: "/nonexistent/etcd".into(),
        ..EtcdClusterOptions::default()
    };
    match LocalEtcdCluster::start_with(options).await {
        Err(error @ EtcdClusterError::BinaryMissing { .. }) => {
            assert!(error.to_string().contains("etcd-server"), "{error}")
        }
        Err(other) => panic!("expected BinaryMissing, got {other}"),
        Ok(_) => panic!("started a nonexistent binary"),
    }
}

#[tokio::test]
async fn connecting_without_a_reachable_member_fails_within_the_dial_timeout() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", unused.local_addr().unwrap());
    drop(unused);
    let options = EtcdOptions {
        dial_timeout: Duration::from_millis(500),
        ..EtcdOptions::default()
    };
    let started = Instant::now();
    match EtcdStorage::connect(&[endpoint], options).await {
        Err(StorageError::Backend(detail)) => assert!(detail.contains("cannot reach etcd")),
        other => panic!("expected a Backend error, got {:?}", other.map(|_| ())),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}
