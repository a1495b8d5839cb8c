//! The taint eviction controller (`taint-eviction-controller`,
//! `pkg/controller/tainteviction/taint_eviction.go`): deletes pods from nodes with NoExecute
//! taints they do not tolerate, at once or when their `tolerationSeconds` run out.
//!
//! A pod is (re)considered whenever its node's NoExecute taints or its own tolerations
//! change, as upstream's pod/node update handlers do. The toleration clock starts at the
//! earliest `timeAdded` of the node's NoExecute taints (upstream: when the controller saw
//! the taint, which is the same moment while it runs; `timeAdded` also survives a restart
//! of the controller on another node).

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Taint, Toleration};
use serde_json::Value;
use tokio::time::Instant;
use wasmpod_apiserver::{ApiServer, DeleteOptions, EventKind, EventRecorder, Informer};

use crate::changes::{earliest, Changes};
use crate::error::ClusterError;
use crate::objects::{self, Edit, Part, PodCondition};
use crate::taints::{self, NO_EXECUTE};

/// The controller's event source component.
pub const TAINT_EVICTION_CONTROLLER_NAME: &str = "taint-eviction-controller";

/// Attempts of the condition + delete when firing (`retries`).
const DELETE_ATTEMPTS: usize = 5;
const DELETE_RETRY: Duration = Duration::from_millis(10);

pub(crate) async fn run(api: ApiServer, nodes: Informer, pods: Informer) {
    let mut changes = Changes::synced(&[&nodes, &pods]).await;
    let mut controller = Controller {
        recorder: EventRecorder::new(api.clone(), TAINT_EVICTION_CONTROLLER_NAME),
        api,
        work: HashMap::new(),
        inputs: HashMap::new(),
    };
    loop {
        controller
            .reconcile(&nodes.snapshot(), &pods.snapshot())
            .await;
        let fired = controller.fire_due().await;
        if fired {
            continue;
        }
        changes.wait(controller.next_deadline()).await;
    }
}

/// A scheduled deletion (`TimedWorker`); `Fired` keeps the key so the pod is not scheduled
/// again until the work is cancelled.
#[derive(Debug, Clone)]
enum Work {
    Pending { fire_at: Instant, pod: Value },
    Fired,
}

struct Controller {
    api: ApiServer,
    recorder: EventRecorder,
    /// By `namespace/name`.
    work: HashMap<String, Work>,
    /// The (node taints, tolerations) each pod was last processed with.
    inputs: HashMap<String, String>,
}

fn no_execute_taints(node: &Value) -> Vec<Taint> {
    node.pointer("/spec/taints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| objects::decode::<Taint>(t).ok())
        .filter(|t| t.effect == NO_EXECUTE)
        .collect()
}

fn tolerations(pod: &Value) -> Vec<Toleration> {
    pod.pointer("/spec/tolerations")
        .and_then(|t| objects::decode(t).ok())
        .unwrap_or_default()
}

/// When the node's NoExecute taints appeared (the earliest `timeAdded`, not in the future).
fn tainted_since(taints: &[Taint]) -> Instant {
    let now = Instant::now();
    let wall_now = jiff::Timestamp::now();
    taints
        .iter()
        .filter_map(|t| t.time_added.as_ref())
        .filter_map(|time| Duration::try_from(wall_now.duration_since(time.0)).ok())
        .max()
        .and_then(|ago| now.checked_sub(ago))
        .unwrap_or(now)
}

impl Controller {
    async fn reconcile(&mut self, nodes: &[Value], pods: &[Value]) {
        let node_taints: HashMap<&str, Vec<Taint>> = nodes
            .iter()
            .map(|n| (objects::name(n), no_execute_taints(n)))
            .collect();
        let present: HashMap<String, &Value> = pods
            .iter()
            .map(|p| (objects::namespaced_name(p), p))
            .collect();
        // Deleted pods: cancel what was scheduled for them.
        let gone: Vec<String> = self
            .work
            .keys()
            .filter(|key| !present.contains_key(*key))
            .cloned()
            .collect();
        for key in gone {
            self.cancel_with_event(&key).await;
        }
        self.inputs.retain(|key, _| present.contains_key(key));

        for pod in pods {
            let node = objects::pod_node_name(pod);
            if node.is_empty() {
                continue;
            }
            // A node missing from the cache keeps whatever was scheduled.
            let Some(taints) = node_taints.get(node) else {
                continue;
            };
            let key = objects::namespaced_name(pod);
            let tolerations = tolerations(pod);
            let input = format!(
                "{node}|{}|{}",
                serde_json::to_string(taints).unwrap_or_default(),
                serde_json::to_string(&tolerations).unwrap_or_default()
            );
            if self.inputs.get(&key) == Some(&input) {
                continue;
            }
            self.inputs.insert(key.clone(), input);
            self.process_pod_on_node(&key, pod, taints, &tolerations)
                .await;
        }
    }

    /// `processPodOnNode`.
    async fn process_pod_on_node(
        &mut self,
        key: &str,
        pod: &Value,
        node_taints: &[Taint],
        tolerations: &[Toleration],
    ) {
        if node_taints.is_empty() {
            self.cancel_with_event(key).await;
            return;
        }
        let Some(used) = taints::matching_tolerations(node_taints, tolerations) else {
            // Not tolerated: delete right away.
            self.cancel_with_event(key).await;
            self.schedule(key, pod, Instant::now());
            return;
        };
        let Some(minimum) = taints::min_toleration_time(&used) else {
            self.cancel_with_event(key).await;
            return;
        };
        if self.work.contains_key(key) {
            // Already scheduled (or done): upstream keeps the earlier deadline.
            return;
        }
        self.schedule(key, pod, tainted_since(node_taints) + minimum);
    }

    fn schedule(&mut self, key: &str, pod: &Value, fire_at: Instant) {
        self.work.entry(key.to_string()).or_insert(Work::Pending {
            fire_at,
            pod: pod.clone(),
        });
    }

    /// `cancelWorkWithEvent`: the event only when a deletion was still pending.
    async fn cancel_with_event(&mut self, key: &str) {
        let Some(Work::Pending { pod, .. }) = self.work.remove(key) else {
            return;
        };
        let message = format!("Cancelling deletion of Pod {key}");
        self.recorder
            .record_without_uid(&pod, EventKind::Normal, "TaintManagerEviction", &message)
            .await;
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.work
            .values()
            .filter_map(|w| match w {
                Work::Pending { fire_at, .. } => Some(*fire_at),
                Work::Fired => None,
            })
            .fold(None, |next, at| earliest(next, Some(at)))
    }

    /// Runs every deletion that is due; true when any ran.
    async fn fire_due(&mut self) -> bool {
        let now = Instant::now();
        let due: Vec<(String, Value)> = self
            .work
            .iter()
            .filter_map(|(key, work)| match work {
                Work::Pending { fire_at, pod } if *fire_at <= now => {
                    Some((key.clone(), pod.clone()))
                }
                _ => None,
            })
            .collect();
        for (key, pod) in &due {
            let message = format!("Marking for deletion Pod {key}");
            self.recorder
                .record_without_uid(pod, EventKind::Normal, "TaintManagerEviction", &message)
                .await;
            let mut result = Err(None);
            for attempt in 0..DELETE_ATTEMPTS {
                if attempt > 0 {
                    tokio::time::sleep(DELETE_RETRY).await;
                }
                result = self.add_condition_and_delete(pod).await.map_err(Some);
                if result.is_ok() {
                    break;
                }
            }
            match result {
                Ok(()) => {
                    self.work.insert(key.clone(), Work::Fired);
                }
                Err(Some(error)) if error.is_not_found() => {
                    self.work.insert(key.clone(), Work::Fired);
                }
                // Dropped: the next change of the pod or node schedules it again.
                Err(_) => {
                    self.work.remove(key);
                    self.inputs.remove(key);
                }
            }
        }
        !due.is_empty()
    }

    /// `addConditionAndDeletePod`: DisruptionTarget=True, then an ordinary graceful delete.
    async fn add_condition_and_delete(&self, pod: &Value) -> Result<(), ClusterError> {
        let (namespace, name) = (objects::namespace(pod), objects::name(pod));
        let condition = PodCondition {
            kind: "DisruptionTarget",
            status: "True",
            reason: "DeletionByTaintManager",
            message: "Taint manager: deleting due to NoExecute taint",
        };
        objects::read_modify_write(&self.api, "pods", namespace, name, Part::Status, |pod| {
            if objects::update_pod_condition(pod, &condition) {
                Edit::Write
            } else {
                Edit::Skip
            }
        })
        .await?;
        self.api
            .delete_object("pods", namespace, name, DeleteOptions::default())
            .await?;
        Ok(())
    }
}
