//! The Recreate strategy (`recreate.go`): scale every old ReplicaSet to zero, wait until no
//! old pod is left running, then bring up the new ReplicaSet.

use std::collections::HashMap;

use serde_json::Value;

use super::progress::deployment_complete;
use super::scale::with_new;
use super::sync::DeploymentSync;
use super::util;
use crate::error::Result;
use crate::object;
use crate::pods;

/// Pods grouped by the UID of their controlling ReplicaSet (`getPodMapForDeployment`).
pub(super) type PodMap = HashMap<String, Vec<Value>>;

impl DeploymentSync<'_> {
    /// `rolloutRecreate`.
    pub async fn rollout_recreate(&mut self, pod_map: &PodMap) -> Result<()> {
        // The new ReplicaSet is not created yet, so nothing scales up before old pods are gone.
        let (new_rs, old) = self.all_replica_sets(false).await?;
        let mut scaled_down = false;
        for rs in util::active(&old) {
            if self.scale_and_record(&rs, 0).await?.0 {
                scaled_down = true;
            }
        }
        let (new_rs, old) = self.current(new_rs, old);
        if scaled_down || old_pods_running(new_rs.as_ref(), &old, pod_map) {
            return self
                .sync_rollout_status(&with_new(&old, new_rs.as_ref()), new_rs.as_ref())
                .await;
        }
        let (new_rs, old) = match new_rs {
            Some(new_rs) => (Some(new_rs), old),
            None => self.all_replica_sets(true).await?,
        };
        if let Some(rs) = &new_rs {
            let desired = self.replicas();
            self.scale_and_record(rs, desired).await?;
        }
        if deployment_complete(&self.d, self.d.get("status").unwrap_or(&Value::Null)) {
            self.cleanup_deployment(&old).await?;
        }
        let (new_rs, old) = self.current(new_rs, old);
        self.sync_rollout_status(&with_new(&old, new_rs.as_ref()), new_rs.as_ref())
            .await
    }
}

/// `oldPodsRunning`: an old ReplicaSet still reports pods, or a pod of one is not finished
/// (terminating pods count: they may still be running).
fn old_pods_running(new_rs: Option<&Value>, old: &[Value], pod_map: &PodMap) -> bool {
    if util::status_sum(old, "replicas") > 0 {
        return true;
    }
    let new_uid = new_rs.map(object::uid);
    pod_map
        .iter()
        .filter(|(uid, _)| Some(uid.as_str()) != new_uid)
        .flat_map(|(_, pods)| pods)
        .any(|pod| !matches!(pods::phase(pod), "Succeeded" | "Failed"))
}
