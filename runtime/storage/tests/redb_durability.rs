//! Behaviour specific to the on-disk backend: persistence across reopen and crashes, locking,
//! and corrupt files.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use wasmpod_storage::{
    Bytes, Durability, RedbStorage, RetentionPolicy, Storage, StorageError, StorageOptions,
    WatchEvent, DATABASE_FILE_NAME,
};

fn options() -> StorageOptions {
    StorageOptions {
        retention: RetentionPolicy::keep_everything(),
        ..StorageOptions::default()
    }
}

fn bytes(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

async fn next_revision(watch: &mut wasmpod_storage::WatchStream) -> i64 {
    match tokio::time::timeout(Duration::from_secs(20), watch.next()).await {
        Ok(Some(Ok(event))) => event.revision(),
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Writes 2 creates, an update and a delete (revisions 2..=5) and a TTL key (6).
async fn populate(store: &RedbStorage) {
    store
        .create("/registry/pods/default/a", bytes("a1"))
        .await
        .unwrap();
    store
        .create("/registry/pods/default/b", bytes("b1"))
        .await
        .unwrap();
    store
        .update("/registry/pods/default/a", bytes("a2"), Some(2))
        .await
        .unwrap();
    store
        .delete("/registry/pods/default/b", None)
        .await
        .unwrap();
    store
        .create_with_ttl(
            "/registry/events/default/e",
            bytes("e"),
            Duration::from_secs(3600),
        )
        .await
        .unwrap();
}

async fn assert_populated_state(store: &RedbStorage) {
    assert_eq!(store.current_revision().await.unwrap(), 6);
    let a = store
        .get("/registry/pods/default/a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.value, a.create_revision, a.mod_revision),
        (bytes("a2"), 2, 4)
    );
    assert_eq!(store.get("/registry/pods/default/b").await.unwrap(), None);
    let list = store.list("/registry/", None, 0).await.unwrap();
    assert_eq!(list.revision, 6);
    assert_eq!(list.items.len(), 2);
    // History survived: a watch from the start replays every revision.
    let mut watch = store.watch("/registry/", 1).await.unwrap();
    for expected in 2..=6 {
        assert_eq!(next_revision(&mut watch).await, expected);
    }
    // The expiry index survived too.
    let far_future = std::time::SystemTime::now() + Duration::from_secs(7200);
    let swept = store.sweep_expired(far_future).await.unwrap();
    assert_eq!(swept.len(), 1);
    assert_eq!(next_revision(&mut watch).await, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopen_after_drop_keeps_objects_revision_and_history() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = RedbStorage::open(dir.path(), options()).unwrap();
        populate(&store).await;
        // No shutdown call: dropping is all a killed process would "do".
    }
    let store = RedbStorage::open(dir.path(), options()).unwrap();
    assert_populated_state(&store).await;
    let next = store
        .create("/registry/pods/default/c", bytes("c"))
        .await
        .unwrap();
    assert_eq!(next.mod_revision, 8, "revisions continue after reopen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_taken_while_open_recovers_every_committed_write() {
    // Copying the file of a live store is what a crash leaves behind: no clean close.
    let live_dir = tempfile::tempdir().unwrap();
    let crash_dir = tempfile::tempdir().unwrap();
    let store = RedbStorage::open(live_dir.path(), options()).unwrap();
    populate(&store).await;
    std::fs::copy(
        live_dir.path().join(DATABASE_FILE_NAME),
        crash_dir.path().join(DATABASE_FILE_NAME),
    )
    .unwrap();
    let recovered = RedbStorage::open(crash_dir.path(), options()).unwrap();
    assert_populated_state(&recovered).await;
    // The original is unaffected and still writable.
    store
        .create("/registry/pods/default/z", bytes("z"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_is_persisted() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = RedbStorage::open(dir.path(), options()).unwrap();
        populate(&store).await;
        assert_eq!(store.compact(4).await.unwrap(), 4);
    }
    let store = RedbStorage::open(dir.path(), options()).unwrap();
    assert_eq!(store.compacted_revision().await.unwrap(), 4);
    match store.watch("/registry/", 2).await {
        Err(StorageError::Compacted { compacted_revision }) => assert_eq!(compacted_revision, 4),
        other => panic!("expected Compacted, got {other:?}"),
    }
    let mut watch = store.watch("/registry/", 4).await.unwrap();
    match watch.next().await {
        Some(Ok(WatchEvent::Delete { revision, prev })) => {
            assert_eq!(
                (revision, prev.key.as_str()),
                (5, "/registry/pods/default/b")
            )
        }
        other => panic!("expected the delete at 5, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventual_durability_still_persists_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let eventual = StorageOptions {
        durability: Durability::Eventual,
        ..options()
    };
    {
        let store = RedbStorage::open(dir.path(), eventual).unwrap();
        populate(&store).await;
    }
    let store = RedbStorage::open(dir.path(), options()).unwrap();
    assert_populated_state(&store).await;
}

#[tokio::test]
async fn second_open_in_the_same_process_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let first = RedbStorage::open(dir.path(), options()).unwrap();
    match RedbStorage::open(dir.path(), options()) {
        Err(StorageError::Locked { path }) => {
            assert_eq!(path, dir.path().join(DATABASE_FILE_NAME))
        }
        other => panic!("expected Locked, got {:?}", other.map(|_| ())),
    }
    drop(first);
    RedbStorage::open(dir.path(), options()).expect("lock released on drop");
}

const CHILD_DIR_ENV: &str = "WASMPOD_STORAGE_TEST_HOLD_DIR";
const CHILD_READY: &str = "WASMPOD_STORAGE_CHILD_READY";

/// Helper run in a child process by `open_held_by_another_process_is_locked`.
#[test]
#[ignore = "run as a child process by open_held_by_another_process_is_locked"]
fn child_holds_store_open_until_stdin_closes() {
    let Some(dir) = std::env::var_os(CHILD_DIR_ENV) else {
        return;
    };
    let _store = RedbStorage::open(Path::new(&dir), options()).expect("child open");
    println!("{CHILD_READY}");
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

#[test]
fn open_held_by_another_process_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_holds_store_open_until_stdin_closes",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_ENV, dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // libtest prints on the same line as our marker, hence `contains`; read on a thread so a
    // child that never gets ready fails the test at a deadline instead of hanging it.
    let stdout = child.stdout.take().unwrap();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining after the marker so the child never writes into a closed pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(CHILD_READY) {
                let _ = ready_tx.send(true);
            }
        }
        let _ = ready_tx.send(false);
    });
    let ready = ready_rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or(false);
    if !ready {
        let _ = child.kill();
        let _ = child.wait();
        panic!("child never opened the store");
    }

    let result = RedbStorage::open(dir.path(), options());
    let locked = matches!(&result, Err(StorageError::Locked { .. }));
    drop(result);
    drop(child.stdin.take()); // lets the child exit
    let status = child.wait().unwrap();
    assert!(
        locked,
        "expected Locked while another process holds the store"
    );
    assert!(status.success());
    RedbStorage::open(dir.path(), options()).expect("open after the child exited");
}

fn write_file(dir: &Path, contents: &[u8]) -> PathBuf {
    let path = dir.join(DATABASE_FILE_NAME);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn garbage_file_is_corrupt_not_a_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut garbage = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    };
    for len in [1, 7, 100, 4096, 70_000] {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(dir.path(), &garbage(len));
        match RedbStorage::open(dir.path(), options()) {
            Err(StorageError::Corrupt { path: reported, .. }) => assert_eq!(reported, path),
            other => panic!(
                "{len} garbage bytes: expected Corrupt, got {:?}",
                other.map(|_| ())
            ),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), b"{\"not\": \"a database\"}\n");
    assert!(matches!(
        RedbStorage::open(dir.path(), options()),
        Err(StorageError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn truncated_database_is_corrupt_or_recovered_never_a_panic() {
    let source = tempfile::tempdir().unwrap();
    {
        let store = RedbStorage::open(source.path(), options()).unwrap();
        populate(&store).await;
    }
    let full = std::fs::read(source.path().join(DATABASE_FILE_NAME)).unwrap();
    for keep in [full.len() / 2, full.len() / 8, 600, 64] {
        let dir = tempfile::tempdir().unwrap();
        write_file(dir.path(), &full[..keep]);
        match RedbStorage::open(dir.path(), options()) {
            Err(StorageError::Corrupt { .. }) => {}
            // If redb can repair it, whatever it returns must be readable.
            Ok(store) => {
                store.list("/", None, 0).await.unwrap();
            }
            Err(other) => panic!("truncated to {keep}: unexpected {other:?}"),
        }
    }
}
