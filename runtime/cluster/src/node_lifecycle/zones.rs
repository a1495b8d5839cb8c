//! Zones and the rate-limited NoExecute taint queue per zone
//! (`ComputeZoneState`, `scheduler.RateLimitedTimedQueue`, client-go's token bucket).

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ZoneState {
    Initial,
    Normal,
    FullDisruption,
    PartialDisruption,
}

/// `nodetopology.GetZoneKey`: region and zone labels joined by `":\x00:"`, empty when the
/// node has neither.
pub(crate) fn zone_key(node: &Value) -> String {
    let label = |key: &str| {
        node.pointer("/metadata/labels")
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let region = match label("topology.kubernetes.io/region") {
        "" => label("failure-domain.beta.kubernetes.io/region"),
        region => region,
    };
    let zone = match label("topology.kubernetes.io/zone") {
        "" => label("failure-domain.beta.kubernetes.io/zone"),
        zone => zone,
    };
    if region.is_empty() && zone.is_empty() {
        String::new()
    } else {
        format!("{region}:\x00:{zone}")
    }
}

/// `ComputeZoneState` over the Ready statuses of a zone's nodes (`None`: no Ready condition).
pub(crate) fn compute_zone_state(ready: &[Option<String>], unhealthy_threshold: f64) -> ZoneState {
    let ready_nodes = ready
        .iter()
        .filter(|s| s.as_deref() == Some("True"))
        .count();
    let not_ready = ready.len() - ready_nodes;
    if ready_nodes == 0 && not_ready > 0 {
        ZoneState::FullDisruption
    } else if not_ready > 2 && not_ready as f64 / ready.len() as f64 >= unhealthy_threshold {
        ZoneState::PartialDisruption
    } else {
        ZoneState::Normal
    }
}

/// A token bucket with burst 1 (a rate of zero never admits).
#[derive(Debug)]
pub(crate) struct TokenBucket {
    qps: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(qps: f64) -> TokenBucket {
        TokenBucket {
            qps,
            tokens: 1.0,
            last: Instant::now(),
        }
    }

    pub fn try_accept(&mut self, now: Instant) -> bool {
        if self.qps <= 0.0 {
            return false;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.qps).min(1.0);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A node waiting for its NoExecute taint.
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    pub name: String,
    pub process_at: Instant,
}

/// What the action on a queued node decided.
pub(crate) enum Attempt {
    Done,
    RetryAfter(Duration),
}

/// `RateLimitedTimedQueue` over a `UniqueQueue`: a node stays in `members` after it was
/// processed, so it is not queued again until removed (node Ready again).
#[derive(Debug)]
pub(crate) struct ZoneTainter {
    queue: VecDeque<Queued>,
    members: HashSet<String>,
    limiter: TokenBucket,
}

impl ZoneTainter {
    pub fn new(qps: f64) -> ZoneTainter {
        ZoneTainter {
            queue: VecDeque::new(),
            members: HashSet::new(),
            limiter: TokenBucket::new(qps),
        }
    }

    /// True when the node was not queued (nor processed) before.
    pub fn add(&mut self, name: &str) -> bool {
        if !self.members.insert(name.to_string()) {
            return false;
        }
        self.insert_sorted(Queued {
            name: name.to_string(),
            process_at: Instant::now(),
        });
        true
    }

    /// Forgets the node; true when it was still waiting.
    pub fn remove(&mut self, name: &str) -> bool {
        self.members.remove(name);
        let before = self.queue.len();
        self.queue.retain(|q| q.name != name);
        before != self.queue.len()
    }

    /// `SwapLimiter`: a new bucket (full) when the rate changes.
    pub fn swap_limiter(&mut self, qps: f64) {
        if (self.limiter.qps - qps).abs() > f64::EPSILON {
            self.limiter = TokenBucket::new(qps);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The head, if the limiter admits an attempt now and it is due (`Try`: every look at a
    /// non-empty queue costs a token).
    pub fn next_due(&mut self, now: Instant) -> Option<Queued> {
        let head = self.queue.front()?.clone();
        if !self.limiter.try_accept(now) || now < head.process_at {
            return None;
        }
        Some(head)
    }

    /// Records the outcome of processing `name`.
    pub fn finish(&mut self, name: &str, attempt: Attempt, now: Instant) {
        let Some(index) = self.queue.iter().position(|q| q.name == name) else {
            return;
        };
        let Some(mut entry) = self.queue.remove(index) else {
            return;
        };
        if let Attempt::RetryAfter(wait) = attempt {
            entry.process_at = now + wait + Duration::from_nanos(1);
            self.insert_sorted(entry);
        }
    }

    fn insert_sorted(&mut self, entry: Queued) {
        let at = self
            .queue
            .iter()
            .position(|q| q.process_at > entry.process_at)
            .unwrap_or(self.queue.len());
        self.queue.insert(at, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statuses(list: &[&str]) -> Vec<Option<String>> {
        list.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn zone_states_follow_upstream_thresholds() {
        assert_eq!(
            compute_zone_state(&statuses(&["Unknown"]), 0.55),
            ZoneState::FullDisruption
        );
        assert_eq!(
            compute_zone_state(&statuses(&["True", "Unknown"]), 0.55),
            ZoneState::Normal
        );
        assert_eq!(
            compute_zone_state(&statuses(&["True", "Unknown", "False", "Unknown"]), 0.55),
            ZoneState::PartialDisruption
        );
        assert_eq!(
            compute_zone_state(
                &statuses(&["True", "True", "Unknown", "False", "Unknown"]),
                0.55
            ),
            ZoneState::PartialDisruption
        );
        assert_eq!(
            compute_zone_state(
                &statuses(&["True", "True", "True", "Unknown", "False", "Unknown"]),
                0.55
            ),
            ZoneState::Normal
        );
        assert_eq!(compute_zone_state(&[None], 0.55), ZoneState::FullDisruption);
    }

    #[test]
    fn zone_key_joins_region_and_zone() {
        assert_eq!(zone_key(&json!({"metadata": {}})), "");
        let node = json!({"metadata": {"labels": {"topology.kubernetes.io/zone": "a"}}});
        assert_eq!(zone_key(&node), ":\u{0}:a");
    }

    #[test]
    fn queue_is_rate_limited_and_unique() {
        let mut tainter = ZoneTainter::new(0.1);
        assert!(tainter.add("a"));
        assert!(tainter.add("b"));
        assert!(!tainter.add("a"));
        let now = Instant::now();
        let head = tainter.next_due(now).expect("the first token is free");
        assert_eq!(head.name, "a");
        tainter.finish("a", Attempt::Done, now);
        assert!(
            tainter.next_due(now).is_none(),
            "the bucket is empty for 10 s"
        );
        assert!(!tainter.add("a"), "processed nodes stay members");
        assert!(!tainter.remove("a"));
        assert!(tainter.add("a"));
        let mut stopped = ZoneTainter::new(0.0);
        stopped.add("x");
        assert!(stopped.next_due(now).is_none());
    }
}
