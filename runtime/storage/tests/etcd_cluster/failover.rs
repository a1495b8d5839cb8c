//! `kill -9` of etcd members under a steady write load: nothing lost, nothing applied twice,
//! watches resume without gaps.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmpod_storage::{EtcdStorage, Storage};

use crate::support::{bytes, cluster, connect, percentile, revisions_through, wait_until};

const WRITE_PERIOD: Duration = Duration::from_millis(20);

/// One write of the load, as the writer saw it.
struct Written {
    revision: i64,
    latency: Duration,
    finished: Instant,
}

/// Writes every 20 ms: creates `/registry/pods/load/p<n>`, then updates the previous pod with
/// a compare-and-swap; stops when `stop` is set. Any failed write fails the test.
fn spawn_writer(
    storage: Arc<EtcdStorage>,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<Written>>>,
) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(WRITE_PERIOD);
        let mut pods = 0usize;
        let mut last_created: Option<(String, i64)> = None;
        while !stop.load(Ordering::Acquire) {
            ticker.tick().await;
            let started = Instant::now();
            let result = match last_created.take() {
                Some((name, revision)) => {
                    storage
                        .update(&name, bytes("updated"), Some(revision))
                        .await
                }
                None => {
                    let name = format!("/registry/pods/load/p{pods:04}");
                    pods += 1;
                    let created = storage.create(&name, bytes("created")).await;
                    if let Ok(kv) = &created {
                        last_created = Some((name, kv.mod_revision));
                    }
                    created
                }
            };
            let kv = result.unwrap_or_else(|error| panic!("write failed: {error}"));
            log.lock().unwrap().push(Written {
                revision: kv.mod_revision,
                latency: started.elapsed(),
                finished: Instant::now(),
            });
            count.fetch_add(1, Ordering::Release);
        }
        pods
    })
}

/// Revisions must be consecutive: an attempt applied twice would leave a hole in them.
fn assert_each_write_applied_once(log: &[Written], start: i64) {
    let revisions: Vec<i64> = log.iter().map(|w| w.revision).collect();
    let expected: Vec<i64> = (start + 1..=start + log.len() as i64).collect();
    assert_eq!(revisions, expected, "writes lost or applied twice");
}

async fn assert_final_state(storage: &EtcdStorage, pods: usize) {
    let list = storage.list("/registry/pods/load/", None, 0).await.unwrap();
    assert_eq!(list.items.len(), pods, "every created pod is there");
    // All but possibly the last pod were updated once.
    let updated = list.items.iter().filter(|kv| kv.value == bytes("updated"));
    assert!(updated.count() >= pods - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_etcd_leader_loses_and_duplicates_no_write() {
    let mut cluster = cluster(3).await;
    let storage = Arc::new(connect(&cluster.endpoints()).await);

    // Latency against three healthy members.
    let mut puts = Vec::new();
    let mut gets = Vec::new();
    for i in 0..200 {
        let key = format!("/registry/latency/k{i}");
        let started = Instant::now();
        storage
            .create(&key, bytes(&"x".repeat(1024)))
            .await
            .unwrap();
        puts.push(started.elapsed());
        let started = Instant::now();
        assert!(storage.get(&key).await.unwrap().is_some());
        gets.push(started.elapsed());
    }
    puts.sort();
    gets.sort();
    println!(
        "3 members: create 1 KiB p50 {:?} p99 {:?}; get p50 {:?} p99 {:?}",
        percentile(&puts, 0.5),
        percentile(&puts, 0.99),
        percentile(&gets, 0.5),
        percentile(&gets, 0.99)
    );
    assert!(percentile(&puts, 0.5) < Duration::from_millis(100));

    let start = storage.current_revision().await.unwrap();
    let mut watch = storage.watch("/registry/pods/", start).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let log = Arc::new(Mutex::new(Vec::new()));
    let writer = spawn_writer(storage.clone(), stop.clone(), count.clone(), log.clone());

    wait_until("writes before the kill", Duration::from_secs(10), || {
        count.load(Ordering::Acquire) >= 25
    })
    .await;
    let leader = cluster.leader_index().await.unwrap().expect("a leader");
    let killed_at = Instant::now();
    cluster.kill_member(leader).unwrap();
    let before_kill = count.load(Ordering::Acquire);
    wait_until("writes after the kill", Duration::from_secs(30), || {
        count.load(Ordering::Acquire) >= before_kill + 75
    })
    .await;
    stop.store(true, Ordering::Release);
    let pods = writer.await.unwrap();

    let log = std::mem::take(&mut *log.lock().unwrap());
    assert_each_write_applied_once(&log, start);
    let last = log.last().unwrap().revision;
    let seen = revisions_through(&mut watch, last).await;
    assert_eq!(
        seen,
        (start + 1..=last).collect::<Vec<_>>(),
        "watch saw each revision once"
    );
    assert_final_state(&storage, pods).await;

    let stall = log
        .iter()
        .filter(|w| w.finished >= killed_at)
        .map(|w| w.latency)
        .max()
        .unwrap();
    let new_leader = cluster.leader_index().await.unwrap();
    println!(
        "leader kill: {} writes, 0 failed; longest write after the kill {stall:?}; \
         new leader {new_leader:?} (killed {leader})",
        log.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_watch_survives_each_member_being_killed_in_turn() {
    let mut cluster = cluster(3).await;
    let storage = Arc::new(connect(&cluster.endpoints()).await);
    let start = storage.current_revision().await.unwrap();
    // Whichever member serves this watch is killed at some point below.
    let mut watch = storage.watch("/registry/pods/", start).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let log = Arc::new(Mutex::new(Vec::new()));
    let writer = spawn_writer(storage.clone(), stop.clone(), count.clone(), log.clone());

    for member in 0..cluster.member_count() {
        cluster.kill_member(member).unwrap();
        let before = count.load(Ordering::Acquire);
        wait_until("writes with a member down", Duration::from_secs(30), || {
            count.load(Ordering::Acquire) >= before + 10
        })
        .await;
        cluster.restart_member(member).await.unwrap();
    }
    stop.store(true, Ordering::Release);
    let pods = writer.await.unwrap();

    let log = std::mem::take(&mut *log.lock().unwrap());
    assert_each_write_applied_once(&log, start);
    let last = log.last().unwrap().revision;
    let seen = revisions_through(&mut watch, last).await;
    assert_eq!(
        seen,
        (start + 1..=last).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    assert_final_state(&storage, pods).await;
}
