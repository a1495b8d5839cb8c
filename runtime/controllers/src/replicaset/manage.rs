//! `manageReplicas` and `RealPodControl` (`pkg/controller/controller_utils.go`): create
//! missing pods from the template in slow-start batches, delete surplus pods in ranking
//! order, with the controller's events.

use futures_util::future::join_all;
use serde_json::{json, Value};
use wasmpod_apiserver::{DeleteOptions, EventKind};

use super::ReplicaController;
use crate::error::{ControllerError, Result};
use crate::expectations::Created;
use crate::object;
use crate::pods;

/// `controller.SlowStartInitialBatchSize`.
const SLOW_START_INITIAL_BATCH: usize = 1;

impl ReplicaController {
    pub(super) async fn manage_replicas(
        &mut self,
        owner: &Value,
        claimed: &[Value],
        related: &[&Value],
    ) -> Result<()> {
        let desired = object::spec_replicas(owner).max(0) as usize;
        if claimed.len() < desired {
            let count = (desired - claimed.len()).min(self.options.burst_replicas);
            self.create_pods(owner, count).await
        } else if claimed.len() > desired {
            let count = (claimed.len() - desired).min(self.options.burst_replicas);
            let doomed = pods::pods_to_delete(claimed, related, count);
            self.delete_pods(owner, doomed).await
        } else {
            Ok(())
        }
    }

    /// `slowStartBatch`: batches of 1, 2, 4, … pods; the first batch with a failure ends it.
    async fn create_pods(&mut self, owner: &Value, count: usize) -> Result<()> {
        let pod = pod_from_template(owner, self.kind.api_version, self.kind.kind);
        let mut created = Vec::new();
        let mut remaining = count;
        let mut batch = SLOW_START_INITIAL_BATCH.min(remaining);
        let mut failure = None;
        while batch > 0 {
            let attempts = (0..batch).map(|_| self.create_pod(owner, pod.clone()));
            for outcome in join_all(attempts).await {
                match outcome {
                    Ok(pod) => created.push(Created {
                        namespace: object::namespace(&pod).to_string(),
                        name: object::name(&pod).to_string(),
                        revision: object::resource_version(&pod),
                    }),
                    Err(error) => {
                        failure.get_or_insert(error);
                    }
                }
            }
            if failure.is_some() {
                break;
            }
            remaining -= batch;
            batch = remaining.min(2 * batch);
        }
        self.expectations
            .expect(object::uid(owner), created, Vec::new());
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// `RealPodControl.CreatePodsWithGenerateName`, with its events.
    async fn create_pod(
        &self,
        owner: &Value,
        pod: std::result::Result<Value, String>,
    ) -> Result<Value> {
        // A template without labels fails before any request (and without an event).
        let pod = pod.map_err(ControllerError::Invalid)?;
        let outcome = self
            .api
            .create_object("pods", object::namespace(owner), pod)
            .await
            .map_err(|e| e.message);
        match outcome {
            Ok(pod) => {
                let message = format!("Created pod: {}", object::name(&pod));
                self.recorder
                    .record(owner, EventKind::Normal, "SuccessfulCreate", &message)
                    .await;
                Ok(pod)
            }
            Err(message) => {
                let event = format!("Error creating: {message}");
                self.recorder
                    .record(owner, EventKind::Warning, "FailedCreate", &event)
                    .await;
                Err(ControllerError::PodControl(message))
            }
        }
    }

    async fn delete_pods(&mut self, owner: &Value, doomed: Vec<Value>) -> Result<()> {
        let attempts = doomed.iter().map(|pod| self.delete_pod(owner, pod));
        let outcomes = join_all(attempts).await;
        let mut deleted = Vec::new();
        let mut failure = None;
        for (pod, outcome) in doomed.iter().zip(outcomes) {
            match outcome {
                Ok(true) => deleted.push(object::uid(pod).to_string()),
                Ok(false) => {}
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
        }
        self.expectations
            .expect(object::uid(owner), Vec::new(), deleted);
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// `RealPodControl.DeletePod`: `Ok(false)` when the pod was already gone.
    async fn delete_pod(&self, owner: &Value, pod: &Value) -> Result<bool> {
        let name = object::name(pod);
        match self
            .api
            .delete_object(
                "pods",
                object::namespace(pod),
                name,
                DeleteOptions::default(),
            )
            .await
        {
            Ok(_) => {
                let message = format!("Deleted pod: {name}");
                self.recorder
                    .record(owner, EventKind::Normal, "SuccessfulDelete", &message)
                    .await;
                Ok(true)
            }
            Err(error) if error.code == 404 => Ok(false),
            Err(error) => {
                let event = format!("Error deleting: {}", error.message);
                self.recorder
                    .record(owner, EventKind::Warning, "FailedDelete", &event)
                    .await;
                Err(ControllerError::PodControl(format!(
                    "unable to delete pods: {}",
                    error.message
                )))
            }
        }
    }
}

/// `GetPodFromTemplate`: the template's labels, annotations, finalizers and spec, named
/// `<owner>-<random>` and controlled by the owner.
pub(crate) fn pod_from_template(
    owner: &Value,
    owner_api_version: &str,
    owner_kind: &str,
) -> std::result::Result<Value, String> {
    let template = owner
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(json!({}));
    let template_meta = |field: &str| {
        template
            .pointer(&format!("/metadata/{field}"))
            .filter(|v| !v.is_null())
            .cloned()
    };
    let labels = template_meta("labels").filter(|l| l.as_object().is_some_and(|m| !m.is_empty()));
    let mut metadata = json!({
        "generateName": format!("{}-", object::name(owner)),
        "namespace": object::namespace(owner),
        "ownerReferences": [object::controller_ref(owner, owner_api_version, owner_kind)],
    });
    for (field, value) in [
        ("labels", labels.clone()),
        ("annotations", template_meta("annotations")),
        ("finalizers", template_meta("finalizers")),
    ] {
        if let Some(value) = value {
            metadata[field] = value;
        }
    }
    if labels.is_none() {
        return Err("unable to create pods, no labels".to_string());
    }
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": template.get("spec").cloned().unwrap_or(json!({})),
    }))
}
