//! Write throughput figures (no assertions on timing). Run with:
//! `cargo test -p wasmpod-storage --release --test throughput -- --ignored --nocapture`

use std::sync::Arc;
use std::time::Instant;

use wasmpod_storage::{Bytes, Durability, MemoryStorage, RedbStorage, Storage, StorageOptions};

const VALUE: &[u8] = br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"health1","namespace":"default"},"status":{"phase":"Running"}}"#;

async fn sequential_updates(store: Arc<dyn Storage>, writes: usize) -> f64 {
    store
        .create("/bench/seq", Bytes::from_static(VALUE))
        .await
        .unwrap();
    let started = Instant::now();
    for _ in 0..writes {
        store
            .update("/bench/seq", Bytes::from_static(VALUE), None)
            .await
            .unwrap();
    }
    writes as f64 / started.elapsed().as_secs_f64()
}

async fn concurrent_updates(store: Arc<dyn Storage>, tasks: usize, writes_per_task: usize) -> f64 {
    for task in 0..tasks {
        let key = format!("/bench/par/{task}");
        store.create(&key, Bytes::from_static(VALUE)).await.unwrap();
    }
    let started = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let key = format!("/bench/par/{task}");
            for _ in 0..writes_per_task {
                store
                    .update(&key, Bytes::from_static(VALUE), None)
                    .await
                    .unwrap();
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    (tasks * writes_per_task) as f64 / started.elapsed().as_secs_f64()
}

fn redb(durability: Durability) -> (Arc<dyn Storage>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let options = StorageOptions {
        durability,
        ..StorageOptions::default()
    };
    let store = RedbStorage::open(dir.path(), options).unwrap();
    (Arc::new(store), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints figures"]
async fn write_throughput() {
    let (store, _dir) = redb(Durability::Immediate);
    let rate = sequential_updates(store, 500).await;
    println!("redb durable, 1 writer:          {rate:>9.0} writes/s");

    let (store, _dir) = redb(Durability::Immediate);
    let rate = concurrent_updates(store, 32, 50).await;
    println!("redb durable, 32 writers:        {rate:>9.0} writes/s (group commit)");

    let (store, _dir) = redb(Durability::Eventual);
    let rate = sequential_updates(store, 5_000).await;
    println!("redb eventual, 1 writer:         {rate:>9.0} writes/s");

    let rate = sequential_updates(Arc::new(MemoryStorage::new()), 50_000).await;
    println!("memory, 1 writer:                {rate:>9.0} writes/s");
}
