//! The ReplicaSet controller (`pkg/controller/replicaset/replica_set.go`) and the
//! ReplicationController controller, which upstream (`pkg/controller/replication`) is the
//! same code behind an adapter: here the adapter is a [`ReplicaKind`] describing the API
//! object, and the logic works on the JSON fields both kinds share.

mod manage;
mod status;

use std::collections::HashSet;

use serde_json::Value;
use wasmpod_apiserver::{ApiServer, EventRecorder, Informer};

use crate::claim::Claimer;
use crate::error::{ControllerError, Result};
use crate::expectations::{Expectations, PodIndex};
use crate::object;
use crate::options::ControllerOptions;
use crate::pods;
use crate::runner::{self, Backoff, Reconciler, Requeue};
use crate::time::instant_at;

/// What differs between ReplicaSets and ReplicationControllers.
#[derive(Debug)]
pub(crate) struct ReplicaKind {
    pub resource: &'static str,
    pub kind: &'static str,
    pub api_version: &'static str,
    /// `source.component` of its events.
    pub component: &'static str,
    /// RCs select with a plain label map, ReplicaSets with a `LabelSelector`.
    pub map_selector: bool,
}

pub(crate) const REPLICA_SETS: ReplicaKind = ReplicaKind {
    resource: "replicasets",
    kind: "ReplicaSet",
    api_version: "apps/v1",
    component: "replicaset-controller",
    map_selector: false,
};

pub(crate) const REPLICATION_CONTROLLERS: ReplicaKind = ReplicaKind {
    resource: "replicationcontrollers",
    kind: "ReplicationController",
    api_version: "v1",
    component: "replication-controller",
    map_selector: true,
};

pub(crate) struct ReplicaController {
    api: ApiServer,
    kind: &'static ReplicaKind,
    options: ControllerOptions,
    recorder: EventRecorder,
    pods: Informer,
    owners: Informer,
    expectations: Expectations,
    backoff: Backoff,
}

/// Runs the controller for `kind` until the task is aborted.
pub(crate) async fn run(
    api: ApiServer,
    kind: &'static ReplicaKind,
    pods: Informer,
    owners: Informer,
    options: ControllerOptions,
) {
    let controller = ReplicaController {
        recorder: EventRecorder::new(api.clone(), kind.component),
        expectations: Expectations::new(options.expectations_timeout),
        backoff: Backoff::new(&options),
        api,
        kind,
        options: options.clone(),
        pods: pods.clone(),
        owners: owners.clone(),
    };
    runner::run(vec![pods, owners], options.resync_period, controller).await;
}

impl Reconciler for ReplicaController {
    async fn pass(&mut self) -> Requeue {
        let index = PodIndex::new(self.pods.snapshot());
        let owners = self.owners.snapshot();
        let mut requeue = Requeue::default();
        for owner in owners.iter() {
            let key = object::key(owner);
            if let Some(at) = self.backoff.not_before(&key) {
                requeue.at(at);
                continue;
            }
            match self.sync(owner, &index, &owners).await {
                Ok(next) => {
                    self.backoff.succeeded(&key);
                    requeue.merge(next);
                }
                Err(_) => requeue.at(self.backoff.failed(&key)),
            }
        }
        let uids: HashSet<&str> = owners.iter().map(object::uid).collect();
        self.expectations.retain(&uids);
        let keys: HashSet<String> = owners.iter().map(object::key).collect();
        self.backoff.retain(|key| keys.contains(key));
        requeue
    }
}

impl ReplicaController {
    /// `syncReplicaSet`.
    async fn sync(
        &mut self,
        owner: &Value,
        index: &PodIndex,
        all_owners: &[Value],
    ) -> Result<Requeue> {
        let mut requeue = Requeue::default();
        // A selector that does not parse cannot be fixed by retrying (upstream logs it).
        let Ok(selector) = object::label_selector(owner, self.kind.map_selector) else {
            return Ok(requeue);
        };
        let namespace = object::namespace(owner);
        let active: Vec<&Value> = index
            .in_namespace(namespace)
            .filter(|p| pods::is_active(p))
            .collect();
        let satisfied = self.expectations.satisfied(object::uid(owner), index);
        if let Err(expires) = satisfied {
            requeue.at(expires);
        }
        let mut claimer = Claimer::new(
            &self.api,
            owner,
            self.kind.resource,
            self.kind.api_version,
            self.kind.kind,
            "pods",
            &selector,
        );
        let claimed = claimer.claim(active).await?;
        let mut manage_error: Option<ControllerError> = None;
        if satisfied.is_ok() && !object::is_being_deleted(owner) {
            let related = self.related_pods(owner, index, all_owners);
            manage_error = self.manage_replicas(owner, &claimed, &related).await.err();
        }
        // Upstream counts the pods as they were before this sync's deletions; leaving out
        // the ones just deleted keeps `replicas`/`availableReplicas` from overstating what
        // runs until the next sync (a Deployment reads them to bound its scale-downs).
        let deleted = self.expectations.pending_deletions(object::uid(owner));
        let counted: Vec<Value> = claimed
            .iter()
            .filter(|p| !deleted.contains(object::uid(p)))
            .cloned()
            .collect();
        let now = jiff::Timestamp::now();
        let new_status = status::calculate(owner, &counted, manage_error.as_ref(), now);
        status::write(&self.api, self.kind, owner, new_status).await?;
        if let Some(error) = manage_error {
            return Err(error);
        }
        // Pods that are ready but not yet available become available by the clock alone.
        let min_ready = object::min_ready_seconds(owner);
        if min_ready > 0 {
            for pod in &claimed {
                if let Some(at) = pods::available_from(pod, min_ready) {
                    if !pods::is_available(pod, min_ready, now) {
                        requeue.at(instant_at(at) + std::time::Duration::from_millis(10));
                    }
                }
            }
        }
        Ok(requeue)
    }

    /// `getIndirectlyRelatedPods`: pods selected by any ReplicaSet sharing this one's
    /// controller (a Deployment's old and new ReplicaSets), used to spread scale-downs.
    fn related_pods<'a>(
        &self,
        owner: &Value,
        index: &'a PodIndex,
        all_owners: &[Value],
    ) -> Vec<&'a Value> {
        let Some(controller) = object::controller_of(owner) else {
            return Vec::new();
        };
        let namespace = object::namespace(owner).to_string();
        let mut seen = HashSet::new();
        let mut related = Vec::new();
        for sibling in all_owners.iter().filter(|o| {
            object::namespace(o) == namespace
                && object::controller_of(o).is_some_and(|c| c.uid == controller.uid)
        }) {
            let Ok(selector) = object::label_selector(sibling, self.kind.map_selector) else {
                continue;
            };
            for pod in index
                .pods
                .iter()
                .filter(|p| object::namespace(p) == namespace)
            {
                if selector.matches(object::labels(pod)) && seen.insert(object::uid(pod)) {
                    related.push(pod);
                }
            }
        }
        related
    }
}
