//! The pod garbage collector (`pod-garbage-collector`, `pkg/controller/podgc/gc_controller.go`):
//! every `gc_check_period` it force-deletes pods bound to nodes that stay missing for the
//! quarantine time, terminating pods on out-of-service nodes, terminating pods that were
//! never scheduled, and the oldest terminated pods beyond the threshold.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use tokio::time::Instant;
use wasmpod_apiserver::{ApiServer, DeleteOptions, Informer};

use crate::changes::Changes;
use crate::error::ClusterError;
use crate::objects::{self, Edit, Part, PodCondition};
use crate::taints::TAINT_OUT_OF_SERVICE;
use crate::PodGcOptions;

/// The controller's component name.
pub const POD_GC_CONTROLLER_NAME: &str = "pod-garbage-collector";

pub(crate) async fn run(api: ApiServer, nodes: Informer, pods: Informer, options: PodGcOptions) {
    let _ = Changes::synced(&[&nodes, &pods]).await;
    let mut gc = PodGc {
        api,
        options,
        missing_since: HashMap::new(),
    };
    let mut ticker = tokio::time::interval(gc.options.gc_check_period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        gc.pass(&nodes.snapshot(), &pods.snapshot()).await;
    }
}

struct PodGc {
    api: ApiServer,
    options: PodGcOptions,
    /// Nodes that pods name but the cache lacks, since when (the quarantine queue).
    missing_since: HashMap<String, Instant>,
}

impl PodGc {
    async fn pass(&mut self, nodes: &[Value], pods: &[Value]) {
        self.gc_terminated(pods).await;
        self.gc_terminating_out_of_service(nodes, pods).await;
        self.gc_orphaned(nodes, pods).await;
        self.gc_unscheduled_terminating(pods).await;
    }

    /// `gcTerminated`: beyond the threshold, the oldest terminated pods go (evicted first).
    async fn gc_terminated(&self, pods: &[Value]) {
        let threshold = self.options.terminated_pod_gc_threshold;
        if threshold == 0 {
            return;
        }
        let mut terminated: Vec<&Value> = pods
            .iter()
            .filter(|p| objects::is_pod_terminal(p))
            .collect();
        if terminated.len() <= threshold {
            return;
        }
        let evicted = |p: &Value| objects::str_at(p, "/status/reason") == "Evicted";
        terminated.sort_by(|a, b| {
            evicted(b)
                .cmp(&evicted(a))
                .then_with(|| {
                    objects::meta_str(a, "creationTimestamp")
                        .cmp(objects::meta_str(b, "creationTimestamp"))
                })
                .then_with(|| objects::name(a).cmp(objects::name(b)))
        });
        let excess = terminated.len() - threshold;
        for pod in terminated.into_iter().take(excess) {
            let _ = self.mark_failed_and_delete(pod, None).await;
        }
    }

    /// `gcTerminating`: terminating pods on not-Ready nodes tainted out-of-service.
    async fn gc_terminating_out_of_service(&self, nodes: &[Value], pods: &[Value]) {
        let out_of_service: HashSet<&str> = nodes
            .iter()
            .filter(|n| objects::condition_status(n, "Ready") != Some("True"))
            .filter(|n| {
                n.pointer("/spec/taints")
                    .and_then(Value::as_array)
                    .is_some_and(|taints| {
                        taints.iter().any(|t| {
                            t.get("key").and_then(Value::as_str) == Some(TAINT_OUT_OF_SERVICE)
                        })
                    })
            })
            .map(objects::name)
            .collect();
        for pod in pods {
            if objects::is_deleting(pod) && out_of_service.contains(objects::pod_node_name(pod)) {
                let _ = self.mark_failed_and_delete(pod, None).await;
            }
        }
    }

    /// `gcOrphaned`: pods bound to a node that has been missing for the quarantine time
    /// (and that the API confirms is gone).
    async fn gc_orphaned(&mut self, nodes: &[Value], pods: &[Value]) {
        let existing: HashSet<&str> = nodes.iter().map(objects::name).collect();
        let now = Instant::now();
        let mut referenced = HashSet::new();
        for pod in pods {
            let node = objects::pod_node_name(pod);
            if !node.is_empty() && !existing.contains(node) {
                referenced.insert(node.to_string());
                self.missing_since.entry(node.to_string()).or_insert(now);
            }
        }
        self.missing_since
            .retain(|node, _| referenced.contains(node));
        let mut deleted = HashSet::new();
        let due: Vec<String> = self
            .missing_since
            .iter()
            .filter(|(_, since)| now.duration_since(**since) >= self.options.quarantine_time)
            .map(|(node, _)| node.clone())
            .collect();
        for node in due {
            match self.api.get_object("nodes", "", &node).await {
                Err(error) if error.code == 404 => {
                    deleted.insert(node);
                }
                // Back after all (or the API failed): start the quarantine over.
                _ => {
                    self.missing_since.remove(&node);
                }
            }
        }
        let condition = PodCondition {
            kind: "DisruptionTarget",
            status: "True",
            reason: "DeletionByPodGC",
            message: "PodGC: node no longer exists",
        };
        for pod in pods {
            if deleted.contains(objects::pod_node_name(pod)) {
                let _ = self.mark_failed_and_delete(pod, Some(&condition)).await;
            }
        }
        for node in deleted {
            self.missing_since.remove(&node);
        }
    }

    /// `gcUnscheduledTerminating`: terminating pods that never got a node.
    async fn gc_unscheduled_terminating(&self, pods: &[Value]) {
        for pod in pods {
            if objects::is_deleting(pod) && objects::pod_node_name(pod).is_empty() {
                let _ = self.mark_failed_and_delete(pod, None).await;
            }
        }
    }

    /// `markFailedAndDeletePodWithCondition`: a pod that is not terminal becomes Failed
    /// (with the condition), then it is deleted with grace period 0.
    async fn mark_failed_and_delete(
        &self,
        pod: &Value,
        condition: Option<&PodCondition<'_>>,
    ) -> Result<(), ClusterError> {
        let (namespace, name) = (objects::namespace(pod), objects::name(pod));
        let uid = objects::uid(pod).to_string();
        if !objects::is_pod_terminal(pod) {
            objects::read_modify_write(&self.api, "pods", namespace, name, Part::Status, |pod| {
                if objects::uid(pod) != uid || objects::is_pod_terminal(pod) {
                    return Edit::Skip;
                }
                if !pod["status"].is_object() {
                    pod["status"] = Value::Object(serde_json::Map::new());
                }
                pod["status"]["phase"] = Value::from("Failed");
                if let Some(condition) = condition {
                    objects::update_pod_condition(pod, condition);
                }
                Edit::Write
            })
            .await?;
        }
        let options = DeleteOptions {
            grace_period_seconds: Some(0),
            preconditions: wasmpod_apiserver::Preconditions {
                uid: Some(uid),
                resource_version: None,
            },
            ..DeleteOptions::default()
        };
        match self
            .api
            .delete_object("pods", namespace, name, options)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if error.code == 404 => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}
