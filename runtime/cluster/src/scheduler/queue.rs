//! When an unschedulable pod is tried again (the scheduling queue's unschedulable pods and
//! back-off): after a failure the pod waits `podInitialBackoff × 2^(attempts-1)` (capped at
//! `podMaxBackoff`) and then for a change of the cluster or of the pod itself; without any
//! change it is flushed back after `podMaxInUnschedulablePodsDuration`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::time::Instant;

use crate::SchedulerOptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readiness {
    Now,
    At(Instant),
}

struct Entry {
    attempts: u32,
    backoff_until: Instant,
    last_attempt: Instant,
    /// Fingerprints of the cluster and of the pod at the failed attempt.
    cluster_seen: u64,
    pod_seen: u64,
}

/// Failed attempts per pod uid.
#[derive(Default)]
pub(crate) struct Attempts {
    entries: HashMap<String, Entry>,
}

/// `calculateBackoffDuration`.
pub(crate) fn backoff(attempts: u32, options: &SchedulerOptions) -> Duration {
    let mut duration = options.pod_initial_backoff;
    for _ in 1..attempts {
        duration = duration.saturating_mul(2);
        if duration > options.pod_max_backoff {
            return options.pod_max_backoff;
        }
    }
    duration.min(options.pod_max_backoff)
}

impl Attempts {
    pub fn readiness(
        &self,
        uid: &str,
        cluster: u64,
        pod: u64,
        now: Instant,
        options: &SchedulerOptions,
    ) -> Readiness {
        let Some(entry) = self.entries.get(uid) else {
            return Readiness::Now;
        };
        let changed = entry.cluster_seen != cluster || entry.pod_seen != pod;
        let at = if changed {
            entry.backoff_until
        } else {
            entry
                .backoff_until
                .max(entry.last_attempt + options.max_unschedulable_duration)
        };
        if now >= at {
            Readiness::Now
        } else {
            Readiness::At(at)
        }
    }

    /// Records a failed attempt; returns when the pod may be tried again at the earliest.
    pub fn failed(
        &mut self,
        uid: &str,
        cluster: u64,
        pod: u64,
        now: Instant,
        options: &SchedulerOptions,
    ) -> Instant {
        let attempts = self.entries.get(uid).map_or(0, |e| e.attempts) + 1;
        let backoff_until = now + backoff(attempts, options);
        self.entries.insert(
            uid.to_string(),
            Entry {
                attempts,
                backoff_until,
                last_attempt: now,
                cluster_seen: cluster,
                pod_seen: pod,
            },
        );
        backoff_until
    }

    pub fn forget(&mut self, uid: &str) {
        self.entries.remove(uid);
    }

    /// Drops pods that are no longer waiting to be scheduled.
    pub fn retain(&mut self, pending: &HashSet<&str>) {
        self.entries.retain(|uid, _| pending.contains(uid.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_to_ten_seconds() {
        let options = SchedulerOptions::default();
        let seconds: Vec<u64> = (1..=6).map(|a| backoff(a, &options).as_secs()).collect();
        assert_eq!(seconds, vec![1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn a_failed_pod_waits_for_backoff_and_a_change() {
        let options = SchedulerOptions::default();
        let mut attempts = Attempts::default();
        let now = Instant::now();
        attempts.failed("u", 1, 7, now, &options);
        let later = now + Duration::from_secs(2);
        assert_eq!(
            attempts.readiness("u", 2, 7, now, &options),
            Readiness::At(now + Duration::from_secs(1))
        );
        assert_eq!(
            attempts.readiness("u", 2, 7, later, &options),
            Readiness::Now
        );
        assert_eq!(
            attempts.readiness("u", 1, 7, later, &options),
            Readiness::At(now + options.max_unschedulable_duration)
        );
        assert_eq!(
            attempts.readiness("other", 1, 7, now, &options),
            Readiness::Now
        );
    }
}
