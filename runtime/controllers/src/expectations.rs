//! client-go's `ControllerExpectations` / `UIDTrackingControllerExpectations`: after a
//! controller creates or deletes pods it must not act on that controller again until its pod
//! cache has caught up, or a stale cache would make it create (or delete) the same pods twice.
//!
//! The caches here are level-based snapshots, so an expectation is "observed" by looking at
//! the snapshot: a created pod is seen once it is in the cache (or once the cache holds any
//! pod written after it, which proves the watch has passed its creation even if it was
//! deleted again meanwhile); a deleted pod is seen once it is gone or marked for deletion.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::object;
use crate::pods;

/// An index over one snapshot of the pod cache.
pub(crate) struct PodIndex {
    pub pods: std::sync::Arc<Vec<Value>>,
    keys: HashSet<(String, String)>,
    active_uids: HashSet<String>,
    /// Highest resourceVersion in the snapshot: the watch has applied every write up to it.
    max_revision: i64,
}

impl PodIndex {
    pub fn new(pods: impl Into<std::sync::Arc<Vec<Value>>>) -> PodIndex {
        let pods = pods.into();
        let keys = pods
            .iter()
            .map(|p| {
                (
                    object::namespace(p).to_string(),
                    object::name(p).to_string(),
                )
            })
            .collect();
        let active_uids = pods
            .iter()
            .filter(|p| pods::is_active(p))
            .map(|p| object::uid(p).to_string())
            .collect();
        let max_revision = pods.iter().map(object::resource_version).max().unwrap_or(0);
        PodIndex {
            pods,
            keys,
            active_uids,
            max_revision,
        }
    }

    pub fn in_namespace<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a Value> {
        self.pods
            .iter()
            .filter(move |p| object::namespace(p) == namespace)
    }
}

/// A pod this controller created: its name and the revision of its creation.
#[derive(Debug, Clone)]
pub(crate) struct Created {
    pub namespace: String,
    pub name: String,
    pub revision: i64,
}

#[derive(Debug)]
struct Record {
    creations: Vec<Created>,
    /// UIDs of pods this controller deleted.
    deletions: Vec<String>,
    set_at: Instant,
}

/// Outstanding expectations per controller (keyed by the controller's UID, so a recreated
/// object with the same name starts clean).
#[derive(Debug)]
pub(crate) struct Expectations {
    records: HashMap<String, Record>,
    timeout: Duration,
}

impl Expectations {
    pub fn new(timeout: Duration) -> Expectations {
        Expectations {
            records: HashMap::new(),
            timeout,
        }
    }

    /// Records pods created and deleted by one sync.
    pub fn expect(
        &mut self,
        controller_uid: &str,
        creations: Vec<Created>,
        deletions: Vec<String>,
    ) {
        if creations.is_empty() && deletions.is_empty() {
            return;
        }
        self.records.insert(
            controller_uid.to_string(),
            Record {
                creations,
                deletions,
                set_at: Instant::now(),
            },
        );
    }

    /// `SatisfiedExpectations`: everything this controller did has reached the cache (or the
    /// expectations expired). Returns `Err(deadline)` with the expiry time otherwise.
    pub fn satisfied(&mut self, controller_uid: &str, index: &PodIndex) -> Result<(), Instant> {
        let Some(record) = self.records.get_mut(controller_uid) else {
            return Ok(());
        };
        record.creations.retain(|created| {
            !(index
                .keys
                .contains(&(created.namespace.clone(), created.name.clone()))
                || index.max_revision >= created.revision)
        });
        record
            .deletions
            .retain(|uid| index.active_uids.contains(uid));
        let expires = record.set_at + self.timeout;
        if record.creations.is_empty() && record.deletions.is_empty() || Instant::now() >= expires {
            self.records.remove(controller_uid);
            return Ok(());
        }
        Err(expires)
    }

    /// UIDs of pods this controller deleted that the cache may still show as active.
    pub fn pending_deletions(&self, controller_uid: &str) -> HashSet<&str> {
        self.records
            .get(controller_uid)
            .map(|r| r.deletions.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Forgets controllers that no longer exist.
    pub fn retain(&mut self, live_uids: &HashSet<&str>) {
        self.records
            .retain(|uid, _| live_uids.contains(uid.as_str()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, rv: i64, deleting: bool) -> Value {
        let mut pod = json!({"metadata": {"name": name, "namespace": "default", "uid": name,
            "resourceVersion": rv.to_string()}});
        if deleting {
            pod["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
        }
        pod
    }

    #[test]
    fn creations_are_observed_by_name_or_by_a_later_revision() {
        let mut expectations = Expectations::new(Duration::from_secs(300));
        let created = |name: &str, revision| Created {
            namespace: "default".into(),
            name: name.into(),
            revision,
        };
        expectations.expect("rs", vec![created("a", 10), created("b", 11)], vec![]);
        assert!(expectations
            .satisfied("rs", &PodIndex::new(vec![pod("a", 10, false)]))
            .is_err());
        // "b" was created and deleted again, but the cache has seen revision 12.
        assert!(expectations
            .satisfied(
                "rs",
                &PodIndex::new(vec![pod("a", 10, false), pod("x", 12, false)])
            )
            .is_ok());
    }

    #[test]
    fn deletions_are_observed_when_the_pod_is_gone_or_terminating() {
        let mut expectations = Expectations::new(Duration::from_secs(300));
        expectations.expect("rs", vec![], vec!["a".into(), "b".into()]);
        let stale = PodIndex::new(vec![pod("a", 1, false), pod("b", 2, false)]);
        assert!(expectations.satisfied("rs", &stale).is_err());
        let seen = PodIndex::new(vec![pod("a", 3, true)]);
        assert!(expectations.satisfied("rs", &seen).is_ok());
    }
}
