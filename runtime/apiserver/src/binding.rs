//! `pods/binding`: the scheduler's write of `spec.nodeName` (kube-apiserver's
//! `BindingREST.assignPod`): only an unassigned, not-deleted pod can be bound, and binding sets
//! the `PodScheduled=True` condition.

use serde_json::{json, Value};

use crate::objects::{meta_str, UpdateTarget, WriteOptions};
use crate::resources;
use crate::status_errors::ApiError;
use crate::ApiServer;

impl ApiServer {
    /// Binds pod `namespace/name` to `node`, as `POST …/pods/{name}/binding` does.
    pub async fn bind_pod(
        &self,
        namespace: &str,
        name: &str,
        node: &str,
    ) -> Result<Value, ApiError> {
        let pods = resources::lookup("pods").ok_or_else(ApiError::path_not_found)?;
        if node.is_empty() {
            return Err(ApiError::bad_request("Binding.target.name: Required value"));
        }
        self.update_in(
            pods,
            namespace,
            name,
            UpdateTarget::Binding,
            WriteOptions::default(),
            |current| bound(current, name, node),
        )
        .await
        .map(|written| written.object)
    }
}

fn bound(current: &Value, name: &str, node: &str) -> Result<Value, ApiError> {
    let pods = resources::lookup("pods").ok_or_else(ApiError::path_not_found)?;
    if !meta_str(current, "deletionTimestamp").is_empty() {
        return Err(ApiError::conflict_because(
            pods,
            name,
            &format!("pod {name} is being deleted, cannot be assigned to a host"),
        ));
    }
    let assigned = current
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !assigned.is_empty() {
        return Err(ApiError::conflict_because(
            pods,
            name,
            &format!("pod {name} is already assigned to node \"{assigned}\""),
        ));
    }
    let mut pod = current.clone();
    pod["spec"]["nodeName"] = json!(node);
    let now = crate::objects::now_rfc3339();
    let scheduled = json!({
        "type": "PodScheduled",
        "status": "True",
        "lastProbeTime": null,
        "lastTransitionTime": now,
    });
    let conditions = pod["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut conditions: Vec<Value> = conditions
        .into_iter()
        .filter(|c| c.get("type").and_then(Value::as_str) != Some("PodScheduled"))
        .collect();
    conditions.push(scheduled);
    pod["status"]["conditions"] = Value::Array(conditions);
    Ok(pod)
}

/// The node a `Binding` body targets.
pub(crate) fn binding_target(body: &Value) -> Result<String, ApiError> {
    let target = body
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if target.is_empty() {
        return Err(ApiError::bad_request("Binding.target.name: Required value"));
    }
    Ok(target.to_string())
}
