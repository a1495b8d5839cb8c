use std::time::Duration;

/// How a committed write reaches the disk (redb backend only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every commit is fsynced before the write returns.
    #[default]
    Immediate,
    /// Commits are not fsynced; a crash may lose recent writes (benchmarks, throwaway state).
    Eventual,
}

/// How much watch history is kept before it is compacted automatically.
///
/// An entry is dropped once either limit is exceeded, like kube-apiserver's periodic etcd
/// compaction (every 5 minutes) bounded by a count so that bursts cannot grow the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Keep at most this many most recent revisions.
    pub max_revisions: Option<u64>,
    /// Keep history no older than this.
    pub max_age: Option<Duration>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            max_revisions: Some(10_000),
            max_age: Some(Duration::from_secs(5 * 60)),
        }
    }
}

impl RetentionPolicy {
    /// Keeps every revision until `compact` is called.
    pub fn keep_everything() -> Self {
        RetentionPolicy {
            max_revisions: None,
            max_age: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageOptions {
    pub durability: Durability,
    pub retention: RetentionPolicy,
    /// Events buffered per watcher before it is ended with `WatchTooSlow`.
    pub watch_buffer: usize,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            durability: Durability::Immediate,
            retention: RetentionPolicy::default(),
            watch_buffer: 1024,
        }
    }
}
