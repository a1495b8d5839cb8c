//! Which history entries compaction drops; shared by the backends so they agree exactly.

use crate::options::RetentionPolicy;

/// Upper bound of entries dropped by the automatic policy in one write, so a write after a long
/// idle period does not stall on a huge compaction (the rest goes in the following writes).
pub(crate) const MAX_RETENTION_DROPS_PER_WRITE: usize = 10_000;

impl RetentionPolicy {
    /// Whether the entry written at `entry_revision` / `entry_millis` has aged out.
    pub(crate) fn should_drop(
        &self,
        entry_revision: i64,
        entry_millis: i64,
        current_revision: i64,
        now_millis: i64,
    ) -> bool {
        let too_many = self.max_revisions.is_some_and(|keep| {
            let keep = i64::try_from(keep).unwrap_or(i64::MAX);
            entry_revision <= current_revision.saturating_sub(keep)
        });
        let too_old = self.max_age.is_some_and(|age| {
            let age_millis = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
            entry_millis < now_millis.saturating_sub(age_millis)
        });
        too_many || too_old
    }
}

/// The revision history may be compacted to, given a request and the current revision.
pub(crate) fn compaction_target(requested: i64, compacted: i64, current: i64) -> i64 {
    requested.min(current).max(compacted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keeps_the_last_n_revisions() {
        let policy = RetentionPolicy {
            max_revisions: Some(3),
            max_age: None,
        };
        // Current 10: revisions 8, 9, 10 are kept.
        assert!(policy.should_drop(7, 0, 10, 0));
        assert!(!policy.should_drop(8, 0, 10, 0));
    }

    #[test]
    fn drops_entries_older_than_max_age() {
        let policy = RetentionPolicy {
            max_revisions: None,
            max_age: Some(Duration::from_secs(1)),
        };
        assert!(policy.should_drop(5, 1_000, 5, 2_001));
        assert!(!policy.should_drop(5, 1_000, 5, 2_000));
    }

    #[test]
    fn compaction_target_is_clamped() {
        assert_eq!(compaction_target(50, 3, 10), 10);
        assert_eq!(compaction_target(1, 3, 10), 3);
        assert_eq!(compaction_target(5, 3, 10), 5);
    }
}
