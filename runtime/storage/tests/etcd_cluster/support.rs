use std::time::Duration;

use wasmpod_storage::etcd_cluster::LocalEtcdCluster;
use wasmpod_storage::{Bytes, EtcdOptions, EtcdStorage, WatchEvent, WatchStream};

pub async fn cluster(members: usize) -> LocalEtcdCluster {
    LocalEtcdCluster::start(members)
        .await
        .expect("start etcd cluster")
}

pub fn options() -> EtcdOptions {
    EtcdOptions {
        // Short attempts so a request stuck on a dead member moves on quickly.
        request_timeout: Duration::from_secs(1),
        ..EtcdOptions::default()
    }
}

pub async fn connect(endpoints: &[String]) -> EtcdStorage {
    EtcdStorage::connect(endpoints, options())
        .await
        .expect("connect to etcd")
}

pub fn bytes(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

pub async fn next_event(stream: &mut WatchStream, deadline: Duration) -> WatchEvent {
    match tokio::time::timeout(deadline, stream.next()).await {
        Ok(Some(Ok(event))) => event,
        Ok(other) => panic!("expected an event, got {other:?}"),
        Err(_) => panic!("no event within {deadline:?}"),
    }
}

/// Revisions of the events up to and including `last`.
pub async fn revisions_through(stream: &mut WatchStream, last: i64) -> Vec<i64> {
    let mut seen = Vec::new();
    while seen.last().is_none_or(|&revision| revision < last) {
        seen.push(next_event(stream, Duration::from_secs(20)).await.revision());
    }
    seen
}

/// Waits for `condition` with a deadline, polling.
pub async fn wait_until(what: &str, deadline: Duration, mut condition: impl FnMut() -> bool) {
    let give_up = tokio::time::Instant::now() + deadline;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < give_up,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}
