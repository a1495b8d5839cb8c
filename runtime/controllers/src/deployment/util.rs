//! `pkg/controller/deployment/util/deployment_util.go`: surge/unavailability arithmetic,
//! revision and replica annotations, conditions, and the ReplicaSet orderings.

use std::cmp::Ordering;

use serde_json::{json, Value};

use crate::object;

pub(super) const REVISION: &str = "deployment.kubernetes.io/revision";
pub(super) const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub(super) const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub(super) const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub(super) const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// `maxRevHistoryLengthInChars`.
const MAX_REVISION_HISTORY_CHARS: usize = 2000;
/// Annotations never copied from a Deployment to its ReplicaSets (`skipCopyAnnotation`).
const NOT_COPIED: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];
/// Go's `math.MaxInt32`, which disables progress deadlines and history limits.
const MAX_INT32: i64 = i32::MAX as i64;

// Condition types and reasons.
pub(super) const AVAILABLE: &str = "Available";
pub(super) const PROGRESSING: &str = "Progressing";
pub(super) const REPLICA_FAILURE: &str = "ReplicaFailure";
pub(super) const MINIMUM_REPLICAS_AVAILABLE: &str = "MinimumReplicasAvailable";
pub(super) const MINIMUM_REPLICAS_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
pub(super) const NEW_RS_CREATED: &str = "NewReplicaSetCreated";
pub(super) const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
pub(super) const RS_UPDATED: &str = "ReplicaSetUpdated";
pub(super) const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
pub(super) const TIMED_OUT: &str = "ProgressDeadlineExceeded";
pub(super) const PAUSED: &str = "DeploymentPaused";
pub(super) const RESUMED: &str = "DeploymentResumed";
pub(super) const FAILED_RS_CREATE: &str = "ReplicaSetCreateError";

pub(super) fn is_recreate(d: &Value) -> bool {
    d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate")
}

pub(super) fn is_rolling_update(d: &Value) -> bool {
    !is_recreate(d)
}

pub(super) fn is_paused(d: &Value) -> bool {
    d.pointer("/spec/paused")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// `intstr.GetScaledValueFromIntOrPercent`; invalid values (rejected by validation) count 0.
fn scaled_value(value: Option<&Value>, total: i32, round_up: bool) -> i32 {
    match value {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0) as i32,
        Some(Value::String(s)) => {
            let Some(percent) = s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) else {
                return 0;
            };
            let exact = percent as f64 * total as f64 / 100.0;
            (if round_up {
                exact.ceil()
            } else {
                exact.floor()
            }) as i32
        }
        _ => 0,
    }
}

/// A rolling-update parameter, defaulted to 25% as `SetDefaults_Deployment` does.
fn rolling_param(d: &Value, field: &str) -> Value {
    d.pointer(&format!("/spec/strategy/rollingUpdate/{field}"))
        .filter(|v| !v.is_null())
        .cloned()
        .unwrap_or_else(|| json!("25%"))
}

/// `ResolveFenceposts`: (maxSurge rounded up, maxUnavailable rounded down); both zero
/// becomes an unavailability of 1 so the rollout can move.
fn fenceposts(d: &Value) -> (i32, i32) {
    let desired = object::spec_replicas(d);
    let surge = scaled_value(Some(&rolling_param(d, "maxSurge")), desired, true);
    let mut unavailable = scaled_value(Some(&rolling_param(d, "maxUnavailable")), desired, false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

/// `MaxSurge`.
pub(super) fn max_surge(d: &Value) -> i32 {
    if !is_rolling_update(d) {
        return 0;
    }
    fenceposts(d).0
}

/// `MaxUnavailable`.
pub(super) fn max_unavailable(d: &Value) -> i32 {
    let desired = object::spec_replicas(d);
    if !is_rolling_update(d) || desired == 0 {
        return 0;
    }
    fenceposts(d).1.min(desired)
}

pub(super) fn progress_deadline_seconds(d: &Value) -> Option<i64> {
    d.pointer("/spec/progressDeadlineSeconds")
        .and_then(Value::as_i64)
        .filter(|s| *s != MAX_INT32)
}

pub(super) fn revision_history_limit(d: &Value) -> Option<i64> {
    d.pointer("/spec/revisionHistoryLimit")
        .and_then(Value::as_i64)
        .filter(|l| *l != MAX_INT32)
}

/// Sum of `spec.replicas`.
pub(super) fn spec_replica_sum<'a>(sets: impl IntoIterator<Item = &'a Value>) -> i32 {
    sets.into_iter().map(object::spec_replicas).sum()
}

/// Sum of a status count.
pub(super) fn status_sum<'a>(sets: impl IntoIterator<Item = &'a Value>, field: &str) -> i32 {
    sets.into_iter()
        .map(|rs| object::status_int(rs, field))
        .sum()
}

/// `FilterActiveReplicaSets`: those with spec.replicas > 0.
pub(super) fn active(sets: &[Value]) -> Vec<Value> {
    sets.iter()
        .filter(|rs| object::spec_replicas(rs) > 0)
        .cloned()
        .collect()
}

pub(super) fn revision(rs: &Value) -> i64 {
    object::annotation(rs, REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// `MaxRevision`.
pub(super) fn max_revision(sets: &[Value]) -> i64 {
    sets.iter().map(revision).max().unwrap_or(0)
}

fn int_annotation(rs: &Value, key: &str) -> Option<i32> {
    object::annotation(rs, key)?.parse().ok()
}

pub(super) fn desired_replicas_annotation(rs: &Value) -> Option<i32> {
    int_annotation(rs, DESIRED_REPLICAS)
}

pub(super) fn max_replicas_annotation(rs: &Value) -> Option<i32> {
    int_annotation(rs, MAX_REPLICAS)
}

/// `SetReplicasAnnotations`; true when something changed.
pub(super) fn set_replicas_annotations(rs: &mut Value, desired: i32, max: i32) -> bool {
    let mut changed = false;
    for (key, value) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let value = value.to_string();
        if object::annotation(rs, key) != Some(value.as_str()) {
            object::set_annotation(rs, key, &value);
            changed = true;
        }
    }
    changed
}

/// `ReplicasAnnotationsNeedUpdate`.
pub(super) fn replicas_annotations_need_update(rs: &Value, desired: i32, max: i32) -> bool {
    object::annotation(rs, DESIRED_REPLICAS) != Some(desired.to_string().as_str())
        || object::annotation(rs, MAX_REPLICAS) != Some(max.to_string().as_str())
}

/// `SetNewReplicaSetAnnotations`: copies the Deployment's annotations, raises the revision
/// (keeping the former ones in `revision-history`), and on creation adds the replica
/// annotations. True when something changed.
pub(super) fn set_new_rs_annotations(
    d: &Value,
    rs: &mut Value,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = copy_annotations(d, rs);
    let old = object::annotation(rs, REVISION).map(str::to_string);
    let old_revision = match old.as_deref() {
        None | Some("") => 0,
        Some(text) => match text.parse::<i64>() {
            Ok(value) => value,
            Err(_) => return false,
        },
    };
    if old_revision < new_revision {
        object::set_annotation(rs, REVISION, &new_revision.to_string());
        changed = true;
        if let Some(old) = old.filter(|o| !o.is_empty()) {
            let history = object::annotation(rs, REVISION_HISTORY)
                .unwrap_or("")
                .to_string();
            if history.is_empty() {
                object::set_annotation(rs, REVISION_HISTORY, &old);
            } else {
                let mut entries: Vec<&str> = history.split(',').collect();
                let mut total = history.len() + old.len() + 1;
                let mut start = 0;
                while total > MAX_REVISION_HISTORY_CHARS && start < entries.len() {
                    total -= entries[start].len() + 1;
                    start += 1;
                }
                if total <= MAX_REVISION_HISTORY_CHARS {
                    entries = entries.split_off(start);
                    entries.push(&old);
                    object::set_annotation(rs, REVISION_HISTORY, &entries.join(","));
                }
            }
        }
    }
    let desired = object::spec_replicas(d);
    if !exists && set_replicas_annotations(rs, desired, desired + max_surge(d)) {
        changed = true;
    }
    changed
}

/// `copyDeploymentAnnotationsToReplicaSet`.
fn copy_annotations(d: &Value, rs: &mut Value) -> bool {
    let Some(annotations) = d
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    else {
        return false;
    };
    let mut changed = false;
    for (key, value) in annotations {
        let Some(value) = value.as_str() else {
            continue;
        };
        if NOT_COPIED.contains(&key.as_str()) || object::annotation(rs, key) == Some(value) {
            continue;
        }
        object::set_annotation(rs, key, value);
        changed = true;
    }
    changed
}

/// `SetDeploymentRevision`; true when it changed.
pub(super) fn set_deployment_revision(d: &mut Value, revision: &str) -> bool {
    if object::annotation(d, REVISION) == Some(revision) {
        return false;
    }
    object::set_annotation(d, REVISION, revision);
    true
}

// ---- conditions (status is a JSON object with an optional `conditions` array) ----

pub(super) fn condition<'a>(status: &'a Value, kind: &str) -> Option<&'a Value> {
    status
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

pub(super) fn field<'a>(condition: &'a Value, name: &str) -> &'a str {
    condition.get(name).and_then(Value::as_str).unwrap_or("")
}

/// `NewDeploymentCondition`: both times are now.
pub(super) fn new_condition(kind: &str, status: &str, reason: &str, message: &str) -> Value {
    let now = object::now_string();
    json!({
        "type": kind,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    })
}

/// `SetDeploymentCondition`: no-op when status and reason are unchanged; keeps the
/// transition time when only the reason changes; the condition moves to the end.
pub(super) fn set_condition(status: &mut Value, mut new: Value) {
    if let Some(current) = condition(status, field(&new, "type")) {
        if field(current, "status") == field(&new, "status") {
            if field(current, "reason") == field(&new, "reason") {
                return;
            }
            new["lastTransitionTime"] = current
                .get("lastTransitionTime")
                .cloned()
                .unwrap_or(Value::Null);
        }
    }
    let kind = field(&new, "type").to_string();
    remove_condition(status, &kind);
    object::ensure_object(status);
    let conditions = &mut status["conditions"];
    if !conditions.is_array() {
        *conditions = json!([]);
    }
    if let Value::Array(list) = conditions {
        list.push(new);
    }
}

pub(super) fn remove_condition(status: &mut Value, kind: &str) {
    let Some(Value::Array(list)) = status.get_mut("conditions") else {
        return;
    };
    list.retain(|c| c.get("type").and_then(Value::as_str) != Some(kind));
    if list.is_empty() {
        if let Some(map) = status.as_object_mut() {
            map.remove("conditions");
        }
    }
}

// ---- orderings ----

fn by_creation(a: &Value, b: &Value) -> Ordering {
    object::creation_timestamp(a)
        .cmp(&object::creation_timestamp(b))
        .then_with(|| object::name(a).cmp(object::name(b)))
}

/// `ReplicaSetsByCreationTimestamp`: oldest first, then by name.
pub(super) fn sort_by_creation(sets: &mut [Value]) {
    sets.sort_by(by_creation);
}

/// `ReplicaSetsBySizeOlder`: largest first, older first among equals.
pub(super) fn sort_by_size_older(sets: &mut [Value]) {
    sets.sort_by(|a, b| {
        object::spec_replicas(b)
            .cmp(&object::spec_replicas(a))
            .then_with(|| by_creation(a, b))
    });
}

/// `ReplicaSetsBySizeNewer`: largest first, newer first among equals.
pub(super) fn sort_by_size_newer(sets: &mut [Value]) {
    sets.sort_by(|a, b| {
        object::spec_replicas(b)
            .cmp(&object::spec_replicas(a))
            .then_with(|| object::creation_timestamp(b).cmp(&object::creation_timestamp(a)))
    });
}

/// `ReplicaSetsByRevision`: lowest revision first, then oldest.
pub(super) fn sort_by_revision(sets: &mut [Value]) {
    sets.sort_by(|a, b| {
        revision(a)
            .cmp(&revision(b))
            .then_with(|| by_creation(a, b))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(replicas: i32, surge: Value, unavailable: Value) -> Value {
        json!({"spec": {"replicas": replicas, "strategy": {"type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}}})
    }

    #[test]
    fn surge_rounds_up_and_unavailability_rounds_down() {
        let d = deployment(10, json!("25%"), json!("25%"));
        assert_eq!((max_surge(&d), max_unavailable(&d)), (3, 2));
        let d = deployment(3, json!("25%"), json!("25%"));
        assert_eq!((max_surge(&d), max_unavailable(&d)), (1, 0));
        // Both resolve to zero: one pod may be unavailable.
        let d = deployment(1, json!(0), json!("10%"));
        assert_eq!((max_surge(&d), max_unavailable(&d)), (0, 1));
        let d = deployment(2, json!(1), json!(5));
        assert_eq!(max_unavailable(&d), 2);
        let recreate = json!({"spec": {"replicas": 3, "strategy": {"type": "Recreate"}}});
        assert_eq!((max_surge(&recreate), max_unavailable(&recreate)), (0, 0));
        let defaulted = json!({"spec": {"replicas": 4, "strategy": {"type": "RollingUpdate"}}});
        assert_eq!((max_surge(&defaulted), max_unavailable(&defaulted)), (1, 1));
    }

    #[test]
    fn revision_bump_keeps_history() {
        let d = json!({"metadata": {"annotations": {"team": "a", REVISION: "9"}}, "spec": {"replicas": 2}});
        let mut rs = json!({"metadata": {"annotations": {REVISION: "1"}}});
        assert!(set_new_rs_annotations(&d, &mut rs, 3, true));
        assert_eq!(object::annotation(&rs, REVISION), Some("3"));
        assert_eq!(object::annotation(&rs, REVISION_HISTORY), Some("1"));
        assert_eq!(object::annotation(&rs, "team"), Some("a"));
        assert!(set_new_rs_annotations(&d, &mut rs, 5, true));
        assert_eq!(object::annotation(&rs, REVISION_HISTORY), Some("1,3"));
        assert!(!set_new_rs_annotations(&d, &mut rs, 5, true));
    }

    #[test]
    fn conditions_keep_transition_time_when_only_the_reason_changes() {
        let mut status = json!({});
        let mut first = new_condition(PROGRESSING, "True", NEW_RS_CREATED, "a");
        first["lastTransitionTime"] = json!("2020-01-01T00:00:00Z");
        set_condition(&mut status, first);
        set_condition(
            &mut status,
            new_condition(AVAILABLE, "True", MINIMUM_REPLICAS_AVAILABLE, "b"),
        );
        set_condition(
            &mut status,
            new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE, "c"),
        );
        let kinds: Vec<&str> = status["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| field(c, "type"))
            .collect();
        assert_eq!(kinds, [AVAILABLE, PROGRESSING]);
        let progressing = condition(&status, PROGRESSING).unwrap();
        assert_eq!(
            field(progressing, "lastTransitionTime"),
            "2020-01-01T00:00:00Z"
        );
        assert_eq!(field(progressing, "message"), "c");
    }
}
