//! `printNode`.

use std::collections::BTreeSet;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, NodeStatus};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Row;
use crate::format::{age, text};

const LABEL_NODE_ROLE_PREFIX: &str = "node-role.kubernetes.io/";
const NODE_LABEL_ROLE: &str = "kubernetes.io/role";

pub fn row(object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    let node = Node::deserialize(object)?;
    let status = node.status.clone().unwrap_or_default();
    let info = status.node_info.clone().unwrap_or_default();
    let mut states = vec![ready_state(&status)];
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        states.push("SchedulingDisabled".to_string());
    }
    let roles = roles(&node);
    let or_unknown = |s: &str| {
        if s.is_empty() {
            "<unknown>".to_string()
        } else {
            s.to_string()
        }
    };
    Ok(Row::cells(vec![
        json!(text(node.metadata.name.as_ref())),
        json!(states.join(",")),
        json!(if roles.is_empty() {
            "<none>".to_string()
        } else {
            roles
        }),
        json!(age(node.metadata.creation_timestamp.as_ref(), now)),
        json!(info.kubelet_version),
        json!(address(&status, "InternalIP")),
        json!(address(&status, "ExternalIP")),
        json!(or_unknown(&info.os_image)),
        json!(or_unknown(&info.kernel_version)),
        json!(or_unknown(&info.container_runtime_version)),
    ]))
}

/// `Ready` / `NotReady` from the (last) Ready condition, `Unknown` without one.
fn ready_state(status: &NodeStatus) -> String {
    let ready = status
        .conditions
        .iter()
        .flatten()
        .rfind(|c| c.type_ == "Ready");
    match ready {
        Some(c) if c.status == "True" => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    }
}

/// `findNodeRoles`: sorted, comma joined.
fn roles(node: &Node) -> String {
    let mut roles = BTreeSet::new();
    for (key, value) in node.metadata.labels.iter().flatten() {
        if let Some(role) = key.strip_prefix(LABEL_NODE_ROLE_PREFIX) {
            if !role.is_empty() {
                roles.insert(role.to_string());
            }
        } else if key == NODE_LABEL_ROLE && !value.is_empty() {
            roles.insert(value.clone());
        }
    }
    roles.into_iter().collect::<Vec<_>>().join(",")
}

/// First address of the given type, `<none>` without one.
fn address(status: &NodeStatus, type_: &str) -> String {
    status
        .addresses
        .iter()
        .flatten()
        .find(|a| a.type_ == type_)
        .map(|a| a.address.clone())
        .unwrap_or_else(|| "<none>".to_string())
}
