//! Compaction: explicit, and by the configured `RetentionPolicy`.
//!
//! etcd does not record when a revision was written, so the age limit works from samples
//! `(time, revision)` this process took after its own writes (like kube-apiserver, which
//! compacts to the revision it saw one interval ago): a sample is only taken after the
//! revision committed, so compacting to a sample older than the cutoff never drops history
//! younger than `max_age`. Writes of other nodes are covered by their own samples.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use etcd_client::CompactionOptions;

use super::retry::{backend_error, is_compacted, Retry};
use super::EtcdStorage;
use crate::history::compaction_target;
use crate::time::to_unix_millis;
use crate::{Result, RetentionPolicy};

/// Samples closer together than this replace each other (keeps the list short).
const SAMPLE_SPACING_MILLIS: i64 = 100;
/// With the age limit only, writes compact once this many revisions are due.
const AGE_ONLY_BATCH: i64 = 64;

pub(crate) struct RetentionTracker {
    policy: RetentionPolicy,
    state: Mutex<TrackerState>,
}

#[derive(Default)]
struct TrackerState {
    samples: VecDeque<(i64, i64)>,
    compacted: i64,
}

impl RetentionTracker {
    pub(crate) fn new(policy: RetentionPolicy) -> Self {
        RetentionTracker {
            policy,
            state: Mutex::default(),
        }
    }

    fn enabled(&self) -> bool {
        self.policy.max_revisions.is_some() || self.policy.max_age.is_some()
    }

    /// Highest compaction this process made or saw.
    pub(crate) fn known_compacted(&self) -> i64 {
        self.lock().compacted
    }

    pub(crate) fn note_compacted(&self, revision: i64) {
        let mut state = self.lock();
        state.compacted = state.compacted.max(revision);
        state.samples.retain(|&(_, sampled)| sampled > revision);
    }

    /// Notes that `revision` has committed by now.
    pub(crate) fn record(&self, revision: i64) {
        if self.policy.max_age.is_none() {
            return;
        }
        let now = to_unix_millis(SystemTime::now());
        let mut state = self.lock();
        if let Some(last) = state.samples.back_mut() {
            if now - last.0 < SAMPLE_SPACING_MILLIS {
                *last = (now, revision.max(last.1));
                return;
            }
        }
        state.samples.push_back((now, revision));
    }

    /// The revision to compact to as of `now`, if the policy wants more compacted. Unless
    /// `eager`, only when a whole batch is due, so writes do not each pay a compaction.
    pub(crate) fn target(&self, current: i64, now: SystemTime, eager: bool) -> Option<i64> {
        if !self.enabled() {
            return None;
        }
        let state = self.lock();
        let by_count = self.policy.max_revisions.map_or(0, |keep| {
            current.saturating_sub(i64::try_from(keep).unwrap_or(i64::MAX))
        });
        let by_age = self.policy.max_age.map_or(0, |age| {
            let cutoff = to_unix_millis(now)
                .saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX));
            state
                .samples
                .iter()
                .take_while(|&&(sampled_at, _)| sampled_at < cutoff)
                .map(|&(_, revision)| revision)
                .max()
                .unwrap_or(0)
        });
        let target = by_count.max(by_age).min(current);
        let batch = if eager {
            1
        } else {
            self.policy.max_revisions.map_or(AGE_ONLY_BATCH, |keep| {
                (i64::try_from(keep / 16).unwrap_or(1)).max(1)
            })
        };
        (target - state.compacted >= batch).then_some(target)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TrackerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl EtcdStorage {
    /// Applies the retention policy after a successful write; failures only postpone it.
    pub(super) async fn after_write(&self, revision: i64) {
        self.retention.record(revision);
        if let Some(target) = self.retention.target(revision, SystemTime::now(), false) {
            let _ = self.compact_to(target).await;
        }
    }

    pub(super) async fn compact_to(&self, requested: i64) -> Result<i64> {
        let current = self
            .read_current_revision(&mut Retry::new(&self.options))
            .await?;
        let compacted = self.read_compacted_revision().await?;
        let target = compaction_target(requested, compacted, current);
        if target <= compacted {
            self.retention.note_compacted(compacted);
            return Ok(compacted);
        }
        let answer = Retry::new(&self.options)
            .run_raw("compact", || {
                let mut client = self.client.clone();
                async move { client.compact(target, None::<CompactionOptions>).await }
            })
            .await?;
        match answer {
            Ok(_) => {}
            // Someone (another node, or our own attempt that timed out after applying)
            // compacted at least this far already.
            Err(error) if is_compacted(&error) => {}
            Err(error) => return Err(backend_error("compact", error)),
        }
        self.retention.note_compacted(target);
        Ok(target.max(self.read_compacted_revision().await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn count_limit_compacts_in_batches_unless_eager() {
        let tracker = RetentionTracker::new(RetentionPolicy {
            max_revisions: Some(160),
            max_age: None,
        });
        let now = SystemTime::now();
        assert_eq!(tracker.target(165, now, false), None, "batch of 10 not due");
        assert_eq!(tracker.target(170, now, false), Some(10));
        assert_eq!(tracker.target(165, now, true), Some(5));
        tracker.note_compacted(10);
        assert_eq!(tracker.target(170, now, true), None);
    }

    #[test]
    fn age_limit_uses_samples_older_than_the_cutoff() {
        let tracker = RetentionTracker::new(RetentionPolicy {
            max_revisions: None,
            max_age: Some(Duration::from_secs(300)),
        });
        tracker.record(4);
        let now = SystemTime::now();
        assert_eq!(tracker.target(4, now, true), None);
        assert_eq!(
            tracker.target(9, now + Duration::from_secs(301), true),
            Some(4)
        );
    }

    #[test]
    fn disabled_policy_never_compacts() {
        let tracker = RetentionTracker::new(RetentionPolicy::keep_everything());
        tracker.record(1_000_000);
        assert_eq!(tracker.target(1_000_000, SystemTime::now(), true), None);
    }
}
