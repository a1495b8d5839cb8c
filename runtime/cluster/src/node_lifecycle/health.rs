//! `tryUpdateNodeHealth`: when did the node last show signs of life (its Ready heartbeat or
//! its Lease), and which conditions become Unknown once the grace period is over.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use crate::objects::{self, now_time};

/// Conditions set to Unknown when the kubelet goes silent (NetworkUnavailable is left to
/// the network provider).
const SILENCED_CONDITIONS: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// What the controller remembers about a node between passes (`nodeHealthData`).
#[derive(Debug, Clone)]
pub(crate) struct NodeHealth {
    /// The Ready condition the last time the status was taken (`None`: there was none).
    saved_ready: Option<Value>,
    pub probe: Instant,
    /// The Lease as last seen: `Some(renewTime)` (itself optional) once a Lease was seen.
    lease: Option<Option<jiff::Timestamp>>,
}

/// The result of one health check.
pub(crate) struct HealthCheck {
    /// The Ready condition before this check (a made-up Unknown one when there was none).
    pub observed: Value,
    /// The Ready condition after it.
    pub current: Option<Value>,
    /// The node with the conditions to write, when they changed.
    pub update: Option<Value>,
    /// The lease observed in this check.
    lease: Option<Option<jiff::Timestamp>>,
}

pub(crate) struct Grace {
    pub monitor: Duration,
    pub startup: Duration,
}

/// The `Instant` that corresponds to a wall-clock time in the past.
fn instant_at(time: Option<jiff::Timestamp>) -> Instant {
    let now = Instant::now();
    let Some(time) = time else {
        return now;
    };
    let ago = jiff::Timestamp::now().duration_since(time);
    match Duration::try_from(ago) {
        Ok(ago) => now.checked_sub(ago).unwrap_or(now),
        Err(_) => now,
    }
}

fn lease_renew_time(lease: &Value) -> Option<jiff::Timestamp> {
    objects::parse_time(objects::str_at(lease, "/spec/renewTime"))
}

fn same_heartbeat(a: &Value, b: &Value) -> bool {
    a.get("lastHeartbeatTime") == b.get("lastHeartbeatTime")
}

/// Checks `node` (with its Lease, if any) and updates `health`.
pub(crate) fn check(
    health: &mut HashMap<String, NodeHealth>,
    node: &Value,
    lease: Option<&Value>,
    grace: &Grace,
) -> HealthCheck {
    let name = objects::name(node).to_string();
    let now = Instant::now();
    let created = objects::meta_str(node, "creationTimestamp");
    let current = objects::condition(node, "Ready").cloned();
    let mut entry = health.get(&name).cloned();
    let (observed, grace_period) = match &current {
        None => {
            let fake = json!({
                "type": "Ready",
                "status": "Unknown",
                "lastHeartbeatTime": created,
                "lastTransitionTime": created,
            });
            match entry.as_mut() {
                Some(entry) => entry.saved_ready = None,
                None => {
                    entry = Some(NodeHealth {
                        saved_ready: None,
                        probe: instant_at(objects::parse_time(created)),
                        lease: None,
                    })
                }
            }
            (fake, grace.startup)
        }
        Some(ready) => (ready.clone(), grace.monitor),
    };
    let saved_lease = entry.as_ref().and_then(|e| e.lease);
    let fresh = |lease| NodeHealth {
        saved_ready: current.clone(),
        probe: now,
        lease,
    };
    let mut entry = match (entry, &current) {
        (None, _) => fresh(None),
        (Some(old), Some(ready)) => match &old.saved_ready {
            None => fresh(None),
            Some(saved) if !same_heartbeat(saved, ready) => fresh(old.lease),
            Some(_) => old,
        },
        (Some(old), None) => old,
    };
    let observed_lease = lease.map(lease_renew_time);
    if let Some(renew) = observed_lease {
        let advanced = match saved_lease {
            None => true,
            Some(saved) => matches!((saved, renew), (Some(saved), Some(renew)) if saved < renew),
        };
        if advanced {
            entry.lease = Some(renew);
            entry.probe = now;
        }
    }
    let mut result = HealthCheck {
        observed,
        current: current.clone(),
        update: None,
        lease: observed_lease,
    };
    if now > entry.probe + grace_period {
        let mut updated = node.clone();
        silence_conditions(&mut updated, created);
        let new_ready = objects::condition(&updated, "Ready").cloned();
        if new_ready.as_ref() != Some(&result.observed) {
            result.current = new_ready;
            result.update = Some(updated);
        }
    }
    health.insert(name, entry);
    result
}

/// After the silenced conditions were written: remember them (the probe time stays).
pub(crate) fn written(health: &mut HashMap<String, NodeHealth>, name: &str, check: &HealthCheck) {
    if let Some(entry) = health.get_mut(name) {
        entry.saved_ready = check.current.clone();
        entry.lease = check.lease;
    }
}

/// Ready and the pressure conditions → Unknown (`NodeStatusUnknown`), or added as Unknown
/// (`NodeStatusNeverUpdated`) when the kubelet never posted them.
fn silence_conditions(node: &mut Value, created: &str) {
    let now = now_time();
    if !node["status"].is_object() {
        node["status"] = json!({});
    }
    if !node["status"]["conditions"].is_array() {
        node["status"]["conditions"] = json!([]);
    }
    let Some(conditions) = node["status"]["conditions"].as_array_mut() else {
        return;
    };
    for kind in SILENCED_CONDITIONS {
        match conditions
            .iter_mut()
            .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
        {
            None => conditions.push(json!({
                "type": kind,
                "status": "Unknown",
                "reason": "NodeStatusNeverUpdated",
                "message": "Kubelet never posted node status.",
                "lastHeartbeatTime": created,
                "lastTransitionTime": now,
            })),
            Some(condition) => {
                if condition.get("status").and_then(Value::as_str) != Some("Unknown") {
                    condition["status"] = json!("Unknown");
                    condition["reason"] = json!("NodeStatusUnknown");
                    condition["message"] = json!("Kubelet stopped posting node status.");
                    condition["lastTransitionTime"] = json!(now);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grace() -> Grace {
        Grace {
            monitor: Duration::from_millis(50),
            startup: Duration::from_secs(60),
        }
    }

    fn node(heartbeat: &str) -> Value {
        json!({
            "metadata": {"name": "n1", "creationTimestamp": "2020-01-01T00:00:00Z"},
            "status": {"conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "lastHeartbeatTime": heartbeat, "lastTransitionTime": "2020-01-01T00:00:00Z"},
                {"type": "MemoryPressure", "status": "False",
                 "lastHeartbeatTime": heartbeat, "lastTransitionTime": "2020-01-01T00:00:00Z"}
            ]}
        })
    }

    #[test]
    fn silent_node_turns_unknown_after_grace() {
        let mut health = HashMap::new();
        let first = check(&mut health, &node("2020-01-01T00:00:00Z"), None, &grace());
        assert!(
            first.update.is_none(),
            "a newly seen node gets a full grace period"
        );
        std::thread::sleep(Duration::from_millis(80));
        let second = check(&mut health, &node("2020-01-01T00:00:00Z"), None, &grace());
        let updated = second.update.expect("grace is over");
        let conditions = updated["status"]["conditions"].as_array().unwrap();
        let by_type = |t: &str| conditions.iter().find(|c| c["type"] == t).unwrap().clone();
        assert_eq!(by_type("Ready")["status"], "Unknown");
        assert_eq!(by_type("Ready")["reason"], "NodeStatusUnknown");
        assert_eq!(
            by_type("Ready")["message"],
            "Kubelet stopped posting node status."
        );
        assert_eq!(
            by_type("Ready")["lastHeartbeatTime"],
            "2020-01-01T00:00:00Z"
        );
        assert_eq!(by_type("MemoryPressure")["status"], "Unknown");
        assert_eq!(by_type("DiskPressure")["reason"], "NodeStatusNeverUpdated");
        assert_eq!(
            by_type("PIDPressure")["message"],
            "Kubelet never posted node status."
        );
        assert_eq!(second.observed["status"], "True");
    }

    #[test]
    fn lease_renewals_keep_the_node_alive() {
        let mut health = HashMap::new();
        let lease = |renew: &str| json!({"spec": {"renewTime": renew}});
        check(
            &mut health,
            &node("2020-01-01T00:00:00Z"),
            Some(&lease("2020-01-01T00:00:00.000001Z")),
            &grace(),
        );
        std::thread::sleep(Duration::from_millis(80));
        let renewed = check(
            &mut health,
            &node("2020-01-01T00:00:00Z"),
            Some(&lease("2020-01-01T00:00:00.000002Z")),
            &grace(),
        );
        assert!(renewed.update.is_none());
        std::thread::sleep(Duration::from_millis(80));
        let stale = check(
            &mut health,
            &node("2020-01-01T00:00:00Z"),
            Some(&lease("2020-01-01T00:00:00.000002Z")),
            &grace(),
        );
        assert!(stale.update.is_some());
    }
}
