//! Scaling outside a rollout (`sync.go`: `sync`, `scale`, `isScalingEvent`,
//! `cleanupDeployment`, `syncStatusOnly`): a resized or paused Deployment spreads the change
//! over its active ReplicaSets in proportion to their size.

use serde_json::Value;
use wasmpod_apiserver::DeleteOptions;

use super::sync::DeploymentSync;
use super::util;
use crate::error::Result;
use crate::object;

impl DeploymentSync<'_> {
    /// `syncStatusOnly` (a Deployment being deleted).
    pub async fn sync_status_only(&mut self) -> Result<()> {
        let (new_rs, old) = self.all_replica_sets(false).await?;
        let all = with_new(&old, new_rs.as_ref());
        self.sync_deployment_status(&all, new_rs.as_ref()).await
    }

    /// `sync`: scaling events and paused Deployments.
    pub async fn sync(&mut self) -> Result<()> {
        let (new_rs, old) = self.all_replica_sets(false).await?;
        self.scale(new_rs.as_ref(), &old).await?;
        let (new_rs, old) = self.current(new_rs, old);
        if util::is_paused(&self.d) {
            self.cleanup_deployment(&old).await?;
        }
        let all = with_new(&old, new_rs.as_ref());
        self.sync_deployment_status(&all, new_rs.as_ref()).await
    }

    /// `isScalingEvent`: an active ReplicaSet was sized for a different replica count.
    pub async fn is_scaling_event(&mut self) -> Result<bool> {
        let (new_rs, old) = self.all_replica_sets(false).await?;
        let desired = self.replicas();
        Ok(util::active(&with_new(&old, new_rs.as_ref()))
            .iter()
            .filter_map(util::desired_replicas_annotation)
            .any(|annotated| annotated != desired))
    }

    /// The latest copies (after this sync's writes) of `new_rs` and `old`.
    pub fn current(&self, new_rs: Option<Value>, old: Vec<Value>) -> (Option<Value>, Vec<Value>) {
        let latest = |rs: Value| {
            self.rs_list
                .iter()
                .find(|r| object::uid(r) == object::uid(&rs))
                .cloned()
                .unwrap_or(rs)
        };
        (new_rs.map(latest), old.into_iter().map(latest).collect())
    }

    /// `scale`.
    async fn scale(&mut self, new_rs: Option<&Value>, old: &[Value]) -> Result<()> {
        let desired = self.replicas();
        if let Some(target) = find_active_or_latest(new_rs, old) {
            if object::spec_replicas(&target) != desired {
                self.scale_and_record(&target, desired).await?;
            }
            return Ok(());
        }
        if is_saturated(&self.d, new_rs) {
            for rs in util::active(old) {
                self.scale_and_record(&rs, 0).await?;
            }
            return Ok(());
        }
        if !util::is_rolling_update(&self.d) {
            return Ok(());
        }
        let mut all = util::active(&with_new(old, new_rs));
        let all_replicas = util::spec_replica_sum(&all);
        let allowed = if desired > 0 {
            desired + util::max_surge(&self.d)
        } else {
            0
        };
        let to_add = allowed - all_replicas;
        if to_add > 0 {
            util::sort_by_size_newer(&mut all);
        } else if to_add < 0 {
            util::sort_by_size_older(&mut all);
        }
        let mut added = 0;
        let mut sizes: Vec<i32> = Vec::with_capacity(all.len());
        for rs in &all {
            let current = object::spec_replicas(rs);
            if to_add != 0 {
                let proportion = proportion(rs, &self.d, to_add, added);
                sizes.push(current + proportion);
                added += proportion;
            } else {
                sizes.push(current);
            }
        }
        for (i, rs) in all.iter().enumerate() {
            if i == 0 && to_add != 0 {
                // Leftovers go to the largest ReplicaSet.
                sizes[0] = (sizes[0] + to_add - added).max(0);
            }
            self.scale_replica_set(rs, sizes[i]).await?;
        }
        Ok(())
    }

    /// `cleanupDeployment`: deletes the oldest fully scaled-down ReplicaSets beyond
    /// `revisionHistoryLimit`.
    pub async fn cleanup_deployment(&mut self, old: &[Value]) -> Result<()> {
        let Some(limit) = util::revision_history_limit(&self.d) else {
            return Ok(());
        };
        let mut cleanable: Vec<Value> = old
            .iter()
            .filter(|rs| !object::is_being_deleted(rs))
            .cloned()
            .collect();
        let surplus = cleanable.len() as i64 - limit;
        if surplus <= 0 {
            return Ok(());
        }
        util::sort_by_revision(&mut cleanable);
        for rs in cleanable.iter().take(surplus as usize) {
            let busy = object::status_int(rs, "replicas") != 0
                || object::spec_replicas(rs) != 0
                || object::generation(rs) > object::int_at(rs, "/status/observedGeneration", 0);
            if busy {
                continue;
            }
            match self
                .api
                .delete_object(
                    "replicasets",
                    object::namespace(rs),
                    object::name(rs),
                    DeleteOptions::default(),
                )
                .await
            {
                Ok(_) => {}
                Err(error) if error.code == 404 => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }
}

pub(super) fn with_new(old: &[Value], new_rs: Option<&Value>) -> Vec<Value> {
    let mut all = old.to_vec();
    all.extend(new_rs.cloned());
    all
}

/// `FindActiveOrLatest`: the only active ReplicaSet, or the newest when none is active.
fn find_active_or_latest(new_rs: Option<&Value>, old: &[Value]) -> Option<Value> {
    if new_rs.is_none() && old.is_empty() {
        return None;
    }
    let mut newest_first = old.to_vec();
    util::sort_by_creation(&mut newest_first);
    newest_first.reverse();
    let active = util::active(&with_new(&newest_first, new_rs));
    match active.len() {
        0 => new_rs.cloned().or_else(|| newest_first.first().cloned()),
        1 => active.into_iter().next(),
        _ => None,
    }
}

/// `IsSaturated`: the new ReplicaSet runs the full, available replica count.
fn is_saturated(d: &Value, rs: Option<&Value>) -> bool {
    let Some(rs) = rs else { return false };
    let desired = object::spec_replicas(d);
    util::desired_replicas_annotation(rs) == Some(desired)
        && object::spec_replicas(rs) == desired
        && object::status_int(rs, "availableReplicas") == desired
}

/// `GetReplicaSetProportion`.
fn proportion(rs: &Value, d: &Value, to_add: i32, added: i32) -> i32 {
    if object::spec_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = fraction(rs, d);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// `getReplicaSetFraction`: the size change that keeps this ReplicaSet's share.
fn fraction(rs: &Value, d: &Value) -> i32 {
    let current = object::spec_replicas(rs);
    let desired = object::spec_replicas(d);
    if desired == 0 {
        return -current;
    }
    let max = desired + util::max_surge(d);
    let before = match util::max_replicas_annotation(rs) {
        Some(before) if before != 0 => before,
        _ => object::status_int(d, "replicas"),
    };
    if before == 0 {
        return 0;
    }
    let new_size = (current as f64 / before as f64 * max as f64).round() as i32;
    new_size - current
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rs(name: &str, replicas: i32, max_annotation: i32) -> Value {
        json!({"metadata": {"name": name, "annotations": {util::MAX_REPLICAS: max_annotation.to_string()}},
               "spec": {"replicas": replicas}})
    }

    #[test]
    fn proportional_shares_follow_the_previous_size() {
        // 10 replicas + 3 surge = 13 before; scaled to 20 (+5 surge = 25).
        let d = json!({"spec": {"replicas": 20, "strategy": {"type": "RollingUpdate"}}});
        let big = rs("big", 8, 13);
        let small = rs("small", 5, 13);
        assert_eq!(fraction(&big, &d), 15 - 8);
        assert_eq!(fraction(&small, &d), 10 - 5);
        assert_eq!(proportion(&big, &d, 12, 0), 7);
        assert_eq!(proportion(&small, &d, 12, 7), 5);
        let zero = json!({"spec": {"replicas": 0}});
        assert_eq!(fraction(&big, &zero), -8);
    }
}
