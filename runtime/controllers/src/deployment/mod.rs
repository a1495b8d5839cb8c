//! The Deployment controller (`pkg/controller/deployment`): owns ReplicaSets named
//! `<deployment>-<pod-template-hash>`, rolls between them (RollingUpdate or Recreate),
//! keeps `revisionHistoryLimit` old ones, and reports progress in the status.

mod hash;
mod progress;
mod recreate;
mod rolling;
mod scale;
mod sync;
mod util;

use std::collections::HashSet;

use serde_json::Value;
use wasmpod_apiserver::{ApiServer, EventKind, EventRecorder, Informer};

use crate::claim::Claimer;
use crate::error::Result;
use crate::object;
use crate::options::ControllerOptions;
use crate::runner::{self, Backoff, Reconciler, Requeue};
use recreate::PodMap;
use sync::DeploymentSync;

pub(crate) const COMPONENT: &str = "deployment-controller";

pub(crate) struct DeploymentController {
    api: ApiServer,
    recorder: EventRecorder,
    deployments: Informer,
    replica_sets: Informer,
    pods: Informer,
    backoff: Backoff,
}

/// Runs the controller until the task is aborted.
pub(crate) async fn run(
    api: ApiServer,
    deployments: Informer,
    replica_sets: Informer,
    pods: Informer,
    options: ControllerOptions,
) {
    let controller = DeploymentController {
        recorder: EventRecorder::new(api.clone(), COMPONENT),
        backoff: Backoff::new(&options),
        api,
        deployments: deployments.clone(),
        replica_sets: replica_sets.clone(),
        pods: pods.clone(),
    };
    runner::run(
        vec![deployments, replica_sets, pods],
        options.resync_period,
        controller,
    )
    .await;
}

impl Reconciler for DeploymentController {
    async fn pass(&mut self) -> Requeue {
        let deployments = self.deployments.snapshot();
        let replica_sets = self.replica_sets.snapshot();
        let pods = self.pods.snapshot();
        let mut requeue = Requeue::default();
        for d in deployments.iter() {
            let key = object::key(d);
            if let Some(at) = self.backoff.not_before(&key) {
                requeue.at(at);
                continue;
            }
            match self.sync_deployment(d, &replica_sets, &pods).await {
                Ok(next) => {
                    self.backoff.succeeded(&key);
                    requeue.merge(next);
                }
                Err(_) => requeue.at(self.backoff.failed(&key)),
            }
        }
        let keys: HashSet<String> = deployments.iter().map(object::key).collect();
        self.backoff.retain(|key| keys.contains(key));
        requeue
    }
}

impl DeploymentController {
    /// `syncDeployment`.
    async fn sync_deployment(
        &self,
        d: &Value,
        replica_sets: &[Value],
        pods: &[Value],
    ) -> Result<Requeue> {
        let Ok(selector) = object::label_selector(d, false) else {
            return Ok(Requeue::default());
        };
        if selector.is_empty() {
            return self.selecting_all(d).await;
        }
        let namespace = object::namespace(d);
        let mut claimer = Claimer::new(
            &self.api,
            d,
            "deployments",
            "apps/v1",
            "Deployment",
            "replicasets",
            &selector,
        );
        let candidates: Vec<&Value> = replica_sets
            .iter()
            .filter(|rs| object::namespace(rs) == namespace)
            .collect();
        let rs_list = claimer.claim(candidates).await?;
        let pod_map = pod_map(&selector, namespace, &rs_list, pods);

        let mut sync = DeploymentSync::new(&self.api, &self.recorder, d.clone(), rs_list);
        if object::is_being_deleted(d) {
            sync.sync_status_only().await?;
            return Ok(sync.requeue);
        }
        sync.check_paused_conditions().await?;
        if util::is_paused(&sync.d) || sync.is_scaling_event().await? {
            sync.sync().await?;
        } else if util::is_recreate(&sync.d) {
            sync.rollout_recreate(&pod_map).await?;
        } else {
            sync.rollout_rolling().await?;
        }
        Ok(sync.requeue)
    }

    /// A Deployment with an empty selector would adopt every pod: refuse, but mark its
    /// generation observed.
    async fn selecting_all(&self, d: &Value) -> Result<Requeue> {
        self.recorder
            .record(
                d,
                EventKind::Warning,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            )
            .await;
        if object::int_at(d, "/status/observedGeneration", 0) < object::generation(d) {
            let mut updated = d.clone();
            object::ensure_object(&mut updated["status"]);
            updated["status"]["observedGeneration"] = object::generation(d).into();
            self.api
                .update_status(
                    "deployments",
                    object::namespace(d),
                    object::name(d),
                    updated,
                )
                .await?;
        }
        Ok(Requeue::default())
    }
}

/// `getPodMapForDeployment`: the Deployment's pods (inactive ones too) by controlling
/// ReplicaSet.
fn pod_map(
    selector: &wasmpod_apimachinery::Selector,
    namespace: &str,
    rs_list: &[Value],
    pods: &[Value],
) -> PodMap {
    let mut map: PodMap = rs_list
        .iter()
        .map(|rs| (object::uid(rs).to_string(), Vec::new()))
        .collect();
    for pod in pods
        .iter()
        .filter(|p| object::namespace(p) == namespace && selector.matches(object::labels(p)))
    {
        if let Some(owner) = object::controller_of(pod) {
            if let Some(list) = map.get_mut(&owner.uid) {
                list.push(pod.clone());
            }
        }
    }
    map
}
