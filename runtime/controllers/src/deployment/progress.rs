//! Deployment status and the Progressing/Available conditions (`sync.go`
//! `calculateStatus`/`syncDeploymentStatus`, `progress.go` `syncRolloutStatus`,
//! `checkPausedConditions`, `requeueStuckDeployment`).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Map, Value};

use super::sync::{status_mut, DeploymentSync};
use super::util::{self, AVAILABLE, PROGRESSING, REPLICA_FAILURE};
use crate::error::Result;
use crate::object::{self, parse_time};
use crate::time::instant_at;

/// `calculateStatus`: counts from the ReplicaSets plus the Available condition. Zero
/// counts are omitted (`omitempty`).
pub(super) fn calculate_status(all: &[Value], new_rs: Option<&Value>, d: &Value) -> Value {
    let available = util::status_sum(all, "availableReplicas");
    let total = util::spec_replica_sum(all);
    let unavailable = (total - available).max(0);
    let mut status = Map::new();
    let counts = [
        ("observedGeneration", object::generation(d)),
        ("replicas", util::status_sum(all, "replicas") as i64),
        (
            "updatedReplicas",
            util::status_sum(new_rs, "replicas") as i64,
        ),
        (
            "readyReplicas",
            util::status_sum(all, "readyReplicas") as i64,
        ),
        ("availableReplicas", available as i64),
        ("unavailableReplicas", unavailable as i64),
    ];
    for (field, value) in counts {
        if value != 0 {
            status.insert(field.into(), json!(value));
        }
    }
    if let Some(count) = d.pointer("/status/collisionCount") {
        status.insert("collisionCount".into(), count.clone());
    }
    if let Some(conditions) = d.pointer("/status/conditions") {
        status.insert("conditions".into(), conditions.clone());
    }
    let mut status = Value::Object(status);
    if available >= object::spec_replicas(d) - util::max_unavailable(d) {
        let condition = util::new_condition(
            AVAILABLE,
            "True",
            util::MINIMUM_REPLICAS_AVAILABLE,
            "Deployment has minimum availability.",
        );
        util::set_condition(&mut status, condition);
    } else {
        let condition = util::new_condition(
            AVAILABLE,
            "False",
            util::MINIMUM_REPLICAS_UNAVAILABLE,
            "Deployment does not have minimum availability.",
        );
        util::set_condition(&mut status, condition);
    }
    status
}

fn count(status: &Value, field: &str) -> i64 {
    status.get(field).and_then(Value::as_i64).unwrap_or(0)
}

/// `DeploymentComplete`.
pub(super) fn deployment_complete(d: &Value, status: &Value) -> bool {
    let desired = object::spec_replicas(d) as i64;
    count(status, "updatedReplicas") == desired
        && count(status, "replicas") == desired
        && count(status, "availableReplicas") == desired
        && count(status, "observedGeneration") >= object::generation(d)
}

/// `DeploymentProgressing`: more updated/ready/available replicas or fewer old ones.
fn deployment_progressing(d: &Value, new: &Value) -> bool {
    let old = d.get("status").cloned().unwrap_or(json!({}));
    let old_old = count(&old, "replicas") - count(&old, "updatedReplicas");
    let new_old = count(new, "replicas") - count(new, "updatedReplicas");
    count(new, "updatedReplicas") > count(&old, "updatedReplicas")
        || new_old < old_old
        || count(new, "readyReplicas") > count(&old, "readyReplicas")
        || count(new, "availableReplicas") > count(&old, "availableReplicas")
}

fn last_update(condition: &Value) -> Option<Timestamp> {
    parse_time(util::field(condition, "lastUpdateTime"))
}

/// When the Progressing condition's deadline passes (None without a deadline/condition).
fn deadline_of(d: &Value, status: &Value) -> Option<Timestamp> {
    let seconds = util::progress_deadline_seconds(d)?;
    let condition = util::condition(status, PROGRESSING)?;
    last_update(condition)?
        .checked_add(SignedDuration::from_secs(seconds))
        .ok()
}

/// `DeploymentTimedOut`.
fn deployment_timed_out(d: &Value, status: &Value) -> bool {
    let Some(condition) = util::condition(status, PROGRESSING) else {
        return false;
    };
    match util::field(condition, "reason") {
        util::NEW_RS_AVAILABLE => false,
        util::TIMED_OUT => true,
        _ => deadline_of(d, status).is_some_and(|deadline| deadline < Timestamp::now()),
    }
}

/// `ReplicaSetToDeploymentCondition`.
fn replica_failure_condition(rs_condition: &Value) -> Value {
    let transition = rs_condition
        .get("lastTransitionTime")
        .cloned()
        .unwrap_or(Value::Null);
    json!({
        "type": REPLICA_FAILURE,
        "status": rs_condition.get("status").cloned().unwrap_or(Value::Null),
        "lastUpdateTime": transition,
        "lastTransitionTime": transition,
        "reason": rs_condition.get("reason").cloned().unwrap_or(Value::Null),
        "message": rs_condition.get("message").cloned().unwrap_or(Value::Null),
    })
}

/// `getReplicaFailures`: the new ReplicaSet's failure first, else any old one's.
fn replica_failure(all: &[Value], new_rs: Option<&Value>) -> Option<Value> {
    let failure_of = |rs: &Value| {
        rs.pointer("/status/conditions")
            .and_then(Value::as_array)?
            .iter()
            .find(|c| c.get("type").and_then(Value::as_str) == Some(REPLICA_FAILURE))
            .map(replica_failure_condition)
    };
    new_rs
        .and_then(failure_of)
        .or_else(|| all.iter().find_map(failure_of))
}

impl DeploymentSync<'_> {
    /// `syncDeploymentStatus`.
    pub async fn sync_deployment_status(
        &mut self,
        all: &[Value],
        new_rs: Option<&Value>,
    ) -> Result<()> {
        let status = calculate_status(all, new_rs, &self.d);
        if self.d.get("status") == Some(&status) {
            return Ok(());
        }
        let mut updated = self.d.clone();
        updated["status"] = status;
        self.persist(updated).await
    }

    /// `syncRolloutStatus`: status plus the Progressing condition's evolution.
    pub async fn sync_rollout_status(
        &mut self,
        all: &[Value],
        new_rs: Option<&Value>,
    ) -> Result<()> {
        let d = self.d.clone();
        let mut status = calculate_status(all, new_rs, &d);
        let has_deadline = util::progress_deadline_seconds(&d).is_some();
        if !has_deadline {
            util::remove_condition(&mut status, PROGRESSING);
        }
        let current = d
            .get("status")
            .and_then(|s| util::condition(s, PROGRESSING))
            .cloned();
        let complete_before = count(&status, "replicas") == count(&status, "updatedReplicas")
            && current
                .as_ref()
                .is_some_and(|c| util::field(c, "reason") == util::NEW_RS_AVAILABLE);
        if has_deadline && !complete_before {
            let subject = |fallback: String| match new_rs {
                Some(rs) => format!("ReplicaSet \"{}\"", object::name(rs)),
                None => fallback,
            };
            let deployment = format!("Deployment \"{}\"", object::name(&d));
            if deployment_complete(&d, &status) {
                let message = format!("{} has successfully progressed.", subject(deployment));
                let condition =
                    util::new_condition(PROGRESSING, "True", util::NEW_RS_AVAILABLE, &message);
                util::set_condition(&mut status, condition);
            } else if deployment_progressing(&d, &status) {
                let message = format!("{} is progressing.", subject(deployment));
                let mut condition =
                    util::new_condition(PROGRESSING, "True", util::RS_UPDATED, &message);
                // Same reason, new lastUpdateTime: progress resets the deadline.
                if let Some(current) = &current {
                    if util::field(current, "status") == "True" {
                        condition["lastTransitionTime"] = current
                            .get("lastTransitionTime")
                            .cloned()
                            .unwrap_or(Value::Null);
                    }
                    util::remove_condition(&mut status, PROGRESSING);
                }
                util::set_condition(&mut status, condition);
            } else if deployment_timed_out(&d, &status) {
                let message = format!("{} has timed out progressing.", subject(deployment));
                let condition =
                    util::new_condition(PROGRESSING, "False", util::TIMED_OUT, &message);
                util::set_condition(&mut status, condition);
            }
        }
        match replica_failure(all, new_rs) {
            Some(failure) => util::set_condition(&mut status, failure),
            None => util::remove_condition(&mut status, REPLICA_FAILURE),
        }
        self.requeue_stuck(&d, &status);
        if d.get("status") == Some(&status) {
            return Ok(());
        }
        let mut updated = d;
        updated["status"] = status;
        self.persist(updated).await
    }

    /// `requeueStuckDeployment`: come back when the progress deadline passes.
    fn requeue_stuck(&mut self, d: &Value, new_status: &Value) {
        let Some(current) = d
            .get("status")
            .and_then(|s| util::condition(s, PROGRESSING))
        else {
            return;
        };
        if deployment_complete(d, new_status) || util::field(current, "reason") == util::TIMED_OUT {
            return;
        }
        if let Some(deadline) = deadline_of(d, &d["status"]) {
            self.requeue
                .at(instant_at(deadline) + Duration::from_millis(10));
        }
    }

    /// `checkPausedConditions`: Progressing Unknown while paused, so the deadline does not
    /// count paused time.
    pub async fn check_paused_conditions(&mut self) -> Result<()> {
        if util::progress_deadline_seconds(&self.d).is_none() {
            return Ok(());
        }
        let reason = self
            .d
            .get("status")
            .and_then(|s| util::condition(s, PROGRESSING))
            .map(|c| util::field(c, "reason").to_string());
        if reason.as_deref() == Some(util::TIMED_OUT) {
            return Ok(());
        }
        let paused_condition = reason.as_deref() == Some(util::PAUSED);
        let paused = util::is_paused(&self.d);
        let condition = if paused && !paused_condition {
            util::new_condition(PROGRESSING, "Unknown", util::PAUSED, "Deployment is paused")
        } else if !paused && paused_condition {
            util::new_condition(
                PROGRESSING,
                "Unknown",
                util::RESUMED,
                "Deployment is resumed",
            )
        } else {
            return Ok(());
        };
        let mut updated = self.d.clone();
        util::set_condition(status_mut(&mut updated), condition);
        self.persist(updated).await
    }
}
