//! `default-scheduler`: binds pending pods to nodes (`pkg/scheduler/schedule_one.go`), with the
//! filters in [`filters`], the choice in [`scoring`], failure texts in [`fit_error`] and
//! retries in [`queue`].

mod filters;
mod fit_error;
mod node_info;
mod queue;
mod resources;
mod scoring;

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;
use tokio::time::Instant;
use wasmpod_apiserver::{ApiServer, EventKind, EventRecorder, Informer};

use crate::changes::{earliest, Changes};
use crate::objects::{self, Edit, Part, PodCondition};
use crate::SchedulerOptions;
use fit_error::{fit_error_message, truncate_event_message, NO_NODES_AVAILABLE};
use node_info::{controller_uid, NodeInfo};
use queue::{Attempts, Readiness};
use resources::{pod_non_zero_requests, pod_requests};

/// The scheduler's component name and the `schedulerName` it serves.
pub const SCHEDULER_NAME: &str = "default-scheduler";

pub(crate) async fn run(
    api: ApiServer,
    pods: Informer,
    nodes: Informer,
    options: SchedulerOptions,
) {
    let mut changes = Changes::synced(&[&pods, &nodes]).await;
    let mut scheduler = Scheduler {
        recorder: EventRecorder::new(api.clone(), SCHEDULER_NAME),
        api,
        options,
        attempts: Attempts::default(),
        assumed: HashMap::new(),
    };
    loop {
        let next = scheduler.pass(&pods.snapshot(), &nodes.snapshot()).await;
        changes.wait(next).await;
    }
}

struct Scheduler {
    api: ApiServer,
    recorder: EventRecorder,
    options: SchedulerOptions,
    attempts: Attempts,
    /// Pods bound by this scheduler that the cache still shows unbound: uid → node.
    assumed: HashMap<String, String>,
}

enum Outcome {
    Bound,
    Unschedulable,
    /// Deleted, bound elsewhere or otherwise out of our hands.
    Gone,
}

impl Scheduler {
    /// One scheduling round over every pending pod; returns when to look again at the
    /// latest (besides cache changes).
    async fn pass(&mut self, pod_values: &[Value], node_values: &[Value]) -> Option<Instant> {
        let pods: Vec<(&Value, Pod)> = pod_values
            .iter()
            .filter_map(|v| Some((v, objects::decode::<Pod>(v).ok()?)))
            .collect();
        self.assumed.retain(|uid, _| {
            pods.iter()
                .any(|(v, _)| objects::uid(v) == uid && objects::pod_node_name(v).is_empty())
        });
        let mut nodes: BTreeMap<String, NodeInfo> = node_values
            .iter()
            .filter_map(|v| objects::decode(v).ok())
            .map(NodeInfo::new)
            .map(|info| (info.name.clone(), info))
            .collect();
        for (value, pod) in &pods {
            if objects::is_pod_terminal(value) {
                continue;
            }
            let node = match objects::pod_node_name(value) {
                "" => self.assumed.get(objects::uid(value)).map(String::as_str),
                node => Some(node),
            };
            if let Some(info) = node.and_then(|n| nodes.get_mut(n)) {
                info.add_pod(pod);
            }
        }
        let mut pending: Vec<&(&Value, Pod)> = pods
            .iter()
            .filter(|(v, p)| self.wants(v, p) && !self.assumed.contains_key(objects::uid(v)))
            .collect();
        pending.sort_by(|(a, pa), (b, pb)| {
            let priority = |p: &Pod| p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
            priority(pb)
                .cmp(&priority(pa))
                .then_with(|| {
                    objects::meta_str(a, "creationTimestamp")
                        .cmp(objects::meta_str(b, "creationTimestamp"))
                })
                .then_with(|| objects::namespaced_name(a).cmp(&objects::namespaced_name(b)))
        });
        let pending_uids: HashSet<&str> = pending.iter().map(|(v, _)| objects::uid(v)).collect();
        self.attempts.retain(&pending_uids);

        let cluster = cluster_fingerprint(&nodes);
        let mut next = None;
        for (value, pod) in pending {
            let uid = objects::uid(value);
            let pod_print = fingerprint(&value.get("spec").map(Value::to_string));
            let now = Instant::now();
            match self
                .attempts
                .readiness(uid, cluster, pod_print, now, &self.options)
            {
                Readiness::At(at) => {
                    next = earliest(next, Some(at));
                    continue;
                }
                Readiness::Now => {}
            }
            match self.schedule_one(value, pod, &mut nodes).await {
                Outcome::Bound | Outcome::Gone => self.attempts.forget(uid),
                Outcome::Unschedulable => {
                    let retry = self
                        .attempts
                        .failed(uid, cluster, pod_print, now, &self.options);
                    next = earliest(next, Some(retry));
                }
            }
        }
        next
    }

    /// A pod this scheduler should place.
    fn wants(&self, value: &Value, pod: &Pod) -> bool {
        let Some(spec) = pod.spec.as_ref() else {
            return false;
        };
        let scheduler = spec.scheduler_name.as_deref().unwrap_or("");
        objects::pod_node_name(value).is_empty()
            && (scheduler.is_empty() || scheduler == self.options.scheduler_name)
            && !objects::is_deleting(value)
            && !objects::is_pod_terminal(value)
            && spec.scheduling_gates.as_ref().is_none_or(|g| g.is_empty())
    }

    async fn schedule_one(
        &mut self,
        value: &Value,
        pod: &Pod,
        nodes: &mut BTreeMap<String, NodeInfo>,
    ) -> Outcome {
        let Some(spec) = pod.spec.as_ref() else {
            return Outcome::Gone;
        };
        if nodes.is_empty() {
            return self.unschedulable(value, NO_NODES_AVAILABLE).await;
        }
        let requests = pod_requests(spec);
        let mut feasible = Vec::new();
        let mut rejections = Vec::new();
        for info in nodes.values() {
            match filters::filter(pod, requests, info) {
                Ok(()) => feasible.push(info),
                Err(rejection) => rejections.push(rejection),
            }
        }
        let non_zero = pod_non_zero_requests(spec);
        let Some(chosen) = scoring::pick(&feasible, controller_uid(pod), non_zero) else {
            let never = spec.preemption_policy.as_deref() == Some("Never");
            let message = fit_error_message(&rejections, never);
            return self.unschedulable(value, &message).await;
        };
        let node = chosen.name.clone();
        let (namespace, name) = (objects::namespace(value), objects::name(value));
        match self.api.bind_pod(namespace, name, &node).await {
            Ok(bound) => {
                self.assumed
                    .insert(objects::uid(value).to_string(), node.clone());
                if let Some(info) = nodes.get_mut(&node) {
                    info.add_pod(pod);
                }
                let message = format!("Successfully assigned {namespace}/{name} to {node}");
                self.recorder
                    .record(&bound, EventKind::Normal, "Scheduled", &message)
                    .await;
                Outcome::Bound
            }
            Err(error) if error.code == 404 || error.code == 409 => Outcome::Gone,
            Err(_) => Outcome::Unschedulable,
        }
    }

    /// `handleSchedulingFailure`: a `FailedScheduling` event and the PodScheduled=False
    /// condition with reason `Unschedulable`.
    async fn unschedulable(&self, value: &Value, message: &str) -> Outcome {
        self.recorder
            .record(
                value,
                EventKind::Warning,
                "FailedScheduling",
                &truncate_event_message(message),
            )
            .await;
        let uid = objects::uid(value).to_string();
        let condition = PodCondition {
            kind: "PodScheduled",
            status: "False",
            reason: "Unschedulable",
            message,
        };
        let written = objects::read_modify_write(
            &self.api,
            "pods",
            objects::namespace(value),
            objects::name(value),
            Part::Status,
            |pod| {
                let still_pending = objects::uid(pod) == uid
                    && objects::pod_node_name(pod).is_empty()
                    && !objects::is_deleting(pod);
                if still_pending && objects::update_pod_condition(pod, &condition) {
                    Edit::Write
                } else {
                    Edit::Skip
                }
            },
        )
        .await;
        match written {
            Err(error) if error.is_not_found() => Outcome::Gone,
            _ => Outcome::Unschedulable,
        }
    }
}

fn fingerprint(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Everything about the nodes and their pods that can change a filter's verdict; a
/// change makes unschedulable pods worth another attempt.
fn cluster_fingerprint(nodes: &BTreeMap<String, NodeInfo>) -> u64 {
    let mut hasher = DefaultHasher::new();
    for (name, info) in nodes {
        name.hash(&mut hasher);
        serde_json::to_string(&info.taints)
            .unwrap_or_default()
            .hash(&mut hasher);
        info.labels().hash(&mut hasher);
        info.unschedulable().hash(&mut hasher);
        (
            info.allocatable.milli_cpu,
            info.allocatable.memory,
            info.allowed_pods,
        )
            .hash(&mut hasher);
        (
            info.requested.milli_cpu,
            info.requested.memory,
            info.pod_count,
        )
            .hash(&mut hasher);
        let mut owners: Vec<_> = info.pods_per_owner.iter().collect();
        owners.sort();
        owners.hash(&mut hasher);
        info.host_ports.hash(&mut hasher);
    }
    hasher.finish()
}
