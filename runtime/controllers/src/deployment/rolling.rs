//! The RollingUpdate strategy (`rolling.go`): grow the new ReplicaSet within maxSurge, shrink
//! old ones while at least `replicas - maxUnavailable` pods stay available.

use serde_json::Value;

use super::progress::deployment_complete;
use super::scale::with_new;
use super::sync::{new_rs_replicas, DeploymentSync};
use super::util;
use crate::error::{ControllerError, Result};
use crate::object;

impl DeploymentSync<'_> {
    /// `rolloutRolling`.
    pub async fn rollout_rolling(&mut self) -> Result<()> {
        let (new_rs, old) = self.all_replica_sets(true).await?;
        let new_rs = new_rs.ok_or_else(|| ControllerError::Invalid("no new replica set".into()))?;
        let all = with_new(&old, Some(&new_rs));

        if self.reconcile_new_replica_set(&all, &new_rs).await? {
            let (new_rs, old) = self.current(Some(new_rs), old);
            return self
                .sync_rollout_status(&with_new(&old, new_rs.as_ref()), new_rs.as_ref())
                .await;
        }
        let (new_rs, old) = self.current(Some(new_rs), old);
        let new_rs = new_rs.unwrap_or_default();
        if self.reconcile_old_replica_sets(&old, &new_rs).await? {
            let (new_rs, old) = self.current(Some(new_rs), old);
            return self
                .sync_rollout_status(&with_new(&old, new_rs.as_ref()), new_rs.as_ref())
                .await;
        }
        if deployment_complete(&self.d, self.d.get("status").unwrap_or(&Value::Null)) {
            self.cleanup_deployment(&old).await?;
        }
        let (new_rs, old) = self.current(Some(new_rs), old);
        self.sync_rollout_status(&with_new(&old, new_rs.as_ref()), new_rs.as_ref())
            .await
    }

    /// `reconcileNewReplicaSet`.
    async fn reconcile_new_replica_set(&mut self, all: &[Value], new_rs: &Value) -> Result<bool> {
        let desired = self.replicas();
        let current = object::spec_replicas(new_rs);
        if current == desired {
            return Ok(false);
        }
        let target = if current > desired {
            desired
        } else {
            new_rs_replicas(&self.d, all, new_rs)
        };
        Ok(self.scale_and_record(new_rs, target).await?.0)
    }

    /// `reconcileOldReplicaSets`.
    async fn reconcile_old_replica_sets(&mut self, old: &[Value], new_rs: &Value) -> Result<bool> {
        let old_active = util::active(old);
        if util::spec_replica_sum(&old_active) == 0 {
            return Ok(false);
        }
        let all = with_new(&old_active, Some(new_rs));
        let all_pods = util::spec_replica_sum(&all);
        let min_available = self.replicas() - util::max_unavailable(&self.d);
        let new_unavailable =
            object::spec_replicas(new_rs) - object::status_int(new_rs, "availableReplicas");
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return Ok(false);
        }
        // Unhealthy old replicas go first: they would otherwise block the rollout.
        let (old_active, cleaned) = self
            .cleanup_unhealthy_replicas(old_active, max_scaled_down)
            .await?;
        let all = with_new(&old_active, Some(new_rs));
        let scaled = self
            .scale_down_old_for_rolling_update(&all, old_active)
            .await?;
        Ok(cleaned + scaled > 0)
    }

    /// `cleanupUnhealthyReplicas`.
    async fn cleanup_unhealthy_replicas(
        &mut self,
        mut old: Vec<Value>,
        max_cleanup: i32,
    ) -> Result<(Vec<Value>, i32)> {
        util::sort_by_creation(&mut old);
        let mut total = 0;
        for rs in old.iter_mut() {
            if total >= max_cleanup {
                break;
            }
            let replicas = object::spec_replicas(rs);
            let available = object::status_int(rs, "availableReplicas");
            if replicas == 0 || replicas == available {
                continue;
            }
            let count = (max_cleanup - total).min(replicas - available);
            let (_, updated) = self.scale_and_record(rs, replicas - count).await?;
            *rs = updated;
            total += count;
        }
        Ok((old, total))
    }

    /// `scaleDownOldReplicaSetsForRollingUpdate`.
    async fn scale_down_old_for_rolling_update(
        &mut self,
        all: &[Value],
        mut old: Vec<Value>,
    ) -> Result<i32> {
        let min_available = self.replicas() - util::max_unavailable(&self.d);
        let available = util::status_sum(all, "availableReplicas");
        if available <= min_available {
            return Ok(0);
        }
        util::sort_by_creation(&mut old);
        let wanted = available - min_available;
        let mut total = 0;
        for rs in &old {
            if total >= wanted {
                break;
            }
            let replicas = object::spec_replicas(rs);
            if replicas == 0 {
                continue;
            }
            let count = replicas.min(wanted - total);
            self.scale_and_record(rs, replicas - count).await?;
            total += count;
        }
        Ok(total)
    }
}
