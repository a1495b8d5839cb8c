//! Pod predicates and the scale-down ranking of `pkg/controller/controller_utils.go` and
//! `pkg/api/v1/pod/util.go` (`IsPodActive`, `IsPodReady`, `IsPodAvailable`,
//! `ActivePodsWithRanks`).

use std::cmp::Ordering;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::object::{self, parse_time};

/// Annotation lowering a pod's priority for removal (`PodDeletionCost`, on since 1.22).
const POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

pub(crate) fn phase(pod: &Value) -> &str {
    pod.pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub(crate) fn node_name(pod: &Value) -> &str {
    pod.pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `IsPodActive`: not Succeeded/Failed and not being deleted. An inactive pod no longer
/// counts as a replica, so it is replaced at once.
pub(crate) fn is_active(pod: &Value) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && !object::is_being_deleted(pod)
}

fn ready_condition(pod: &Value) -> Option<&Value> {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
}

/// `IsPodReady`: the Ready condition is True.
pub(crate) fn is_ready(pod: &Value) -> bool {
    ready_condition(pod)
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some("True")
}

fn ready_since(pod: &Value) -> Option<Timestamp> {
    ready_condition(pod)
        .and_then(|c| c.get("lastTransitionTime"))
        .and_then(Value::as_str)
        .and_then(parse_time)
}

/// When a ready pod becomes available: Ready's lastTransitionTime + minReadySeconds
/// (`None` when not ready or the time is unknown).
pub(crate) fn available_from(pod: &Value, min_ready_seconds: i64) -> Option<Timestamp> {
    if !is_ready(pod) {
        return None;
    }
    ready_since(pod)?
        .checked_add(SignedDuration::from_secs(min_ready_seconds))
        .ok()
}

/// `IsPodAvailable`: ready, and (with minReadySeconds) ready for longer than that.
pub(crate) fn is_available(pod: &Value, min_ready_seconds: i64, now: Timestamp) -> bool {
    if !is_ready(pod) {
        return false;
    }
    if min_ready_seconds == 0 {
        return true;
    }
    available_from(pod, min_ready_seconds).is_some_and(|at| at < now)
}

fn deletion_cost(pod: &Value) -> i32 {
    object::annotation(pod, POD_DELETION_COST)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Highest restart count among regular containers, then among restartable init (sidecar)
/// containers (`maxContainerRestarts`).
fn max_restarts(pod: &Value) -> (i64, i64) {
    let max_of = |list: &str| {
        pod.pointer(&format!("/status/{list}"))
            .and_then(Value::as_array)
            .map(|statuses| {
                statuses
                    .iter()
                    .filter_map(|s| s.get("restartCount").and_then(Value::as_i64))
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
    };
    (max_of("containerStatuses"), max_of("initContainerStatuses"))
}

fn phase_ordinal(pod: &Value) -> u8 {
    match phase(pod) {
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    }
}

/// `logarithmicRankDiff` (LogarithmicScaleDown, beta and on since 1.22): timestamps in the
/// same power-of-two age bucket rank equal.
fn log_rank(time: Option<Timestamp>, now: Timestamp) -> i64 {
    let Some(time) = time else { return -1 };
    let age = now.as_nanosecond() - time.as_nanosecond();
    if age > 0 {
        (age as f64).log2() as i64
    } else {
        -1
    }
}

/// `ActivePodsWithRanks.Less`: `Less` pods are deleted first. `rank` counts the related
/// pods on the same node (doubled-up pods go first).
fn deletion_order(a: (&Value, usize), b: (&Value, usize), now: Timestamp) -> Ordering {
    let (pa, ra) = a;
    let (pb, rb) = b;
    // 1. Unassigned < assigned.
    let assigned = |p: &Value| !node_name(p).is_empty();
    if assigned(pa) != assigned(pb) {
        return if assigned(pa) {
            Ordering::Greater
        } else {
            Ordering::Less
        };
    }
    // 2. Pending < Unknown < Running.
    // (Go compares ordinals whenever the phases differ, so e.g. "" and Pending tie here.)
    if phase(pa) != phase(pb) {
        return phase_ordinal(pa).cmp(&phase_ordinal(pb));
    }
    // 3. Not ready < ready.
    if is_ready(pa) != is_ready(pb) {
        return is_ready(pa).cmp(&is_ready(pb));
    }
    // 4. Lower pod-deletion-cost < higher.
    if deletion_cost(pa) != deletion_cost(pb) {
        return deletion_cost(pa).cmp(&deletion_cost(pb));
    }
    // 5. Doubled up (more related pods on its node) < not doubled up.
    if ra != rb {
        return rb.cmp(&ra);
    }
    let by_uid = || object::uid(pa).cmp(object::uid(pb));
    // 6. Ready for a shorter time < longer (in log2 buckets).
    if is_ready(pa) && is_ready(pb) {
        let (ta, tb) = (ready_since(pa), ready_since(pb));
        if ta != tb {
            return match log_rank(ta, now).cmp(&log_rank(tb, now)) {
                Ordering::Equal => by_uid(),
                other => other,
            };
        }
    }
    // 7. More container restarts < fewer.
    let (restarts_a, restarts_b) = (max_restarts(pa), max_restarts(pb));
    if restarts_a.0 != restarts_b.0 {
        return restarts_b.0.cmp(&restarts_a.0);
    }
    if restarts_a.1 != restarts_b.1 {
        return restarts_b.1.cmp(&restarts_a.1);
    }
    // 8. Newer < older (in log2 buckets).
    let (ca, cb) = (
        object::creation_timestamp(pa),
        object::creation_timestamp(pb),
    );
    if ca != cb {
        return match log_rank(ca, now).cmp(&log_rank(cb, now)) {
            Ordering::Equal => by_uid(),
            other => other,
        };
    }
    Ordering::Equal
}

/// `getPodsToDelete`: the `count` pods of `pods` to remove first. `related` are all pods of
/// the controller's family (its own and its sibling ReplicaSets'), used to prefer pods that
/// share a node with their siblings.
pub(crate) fn pods_to_delete(pods: &[Value], related: &[&Value], count: usize) -> Vec<Value> {
    let mut per_node = std::collections::HashMap::<&str, usize>::new();
    for pod in related.iter().filter(|p| is_active(p)) {
        *per_node.entry(node_name(pod)).or_default() += 1;
    }
    let mut ranked: Vec<(&Value, usize)> = pods
        .iter()
        .map(|pod| (pod, per_node.get(node_name(pod)).copied().unwrap_or(0)))
        .collect();
    if count < ranked.len() {
        let now = Timestamp::now();
        ranked.sort_by(|a, b| deletion_order(*a, *b, now));
    }
    ranked
        .into_iter()
        .take(count)
        .map(|(pod, _)| pod.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, node: &str, phase: &str, ready: bool) -> Value {
        json!({
            "metadata": {"name": name, "uid": name, "creationTimestamp": "2024-01-01T00:00:00Z"},
            "spec": {"nodeName": node},
            "status": {"phase": phase, "conditions": [
                {"type": "Ready", "status": if ready {"True"} else {"False"},
                 "lastTransitionTime": "2024-01-01T00:00:10Z"}
            ]},
        })
    }

    fn names(pods: &[Value]) -> Vec<&str> {
        pods.iter().map(object::name).collect()
    }

    #[test]
    fn unassigned_then_pending_then_unready_pods_go_first() {
        let pods = vec![
            pod("running-ready", "n1", "Running", true),
            pod("running-unready", "n1", "Running", false),
            pod("pending", "n1", "Pending", false),
            pod("unassigned", "", "Pending", false),
        ];
        let related: Vec<&Value> = pods.iter().collect();
        let chosen = pods_to_delete(&pods, &related, 3);
        assert_eq!(names(&chosen), ["unassigned", "pending", "running-unready"]);
    }

    #[test]
    fn doubled_up_and_low_cost_pods_go_first() {
        let mut cheap = pod("cheap", "n1", "Running", true);
        cheap["metadata"]["annotations"] = json!({POD_DELETION_COST: "-10"});
        let pods = vec![
            pod("alone", "n2", "Running", true),
            pod("crowded", "n1", "Running", true),
            pod("crowded2", "n1", "Running", true),
        ];
        let related: Vec<&Value> = pods.iter().collect();
        let chosen = pods_to_delete(&pods, &related, 1);
        assert_eq!(object::name(&chosen[0]), "crowded");
        let mut with_cost = pods.clone();
        with_cost.push(cheap);
        let related: Vec<&Value> = with_cost.iter().collect();
        let chosen = pods_to_delete(&with_cost, &related, 1);
        assert_eq!(object::name(&chosen[0]), "cheap");
    }

    #[test]
    fn availability_waits_for_min_ready_seconds() {
        let p = pod("p", "n1", "Running", true);
        let ready_at: Timestamp = "2024-01-01T00:00:10Z".parse().unwrap();
        assert!(is_available(&p, 0, ready_at));
        assert!(!is_available(&p, 5, ready_at));
        let later = ready_at.checked_add(SignedDuration::from_secs(6)).unwrap();
        assert!(is_available(&p, 5, later));
        let mut gone = p.clone();
        gone["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:01:00Z");
        assert!(!is_active(&gone));
        let mut done = p;
        done["status"]["phase"] = json!("Succeeded");
        assert!(!is_active(&done));
    }
}
