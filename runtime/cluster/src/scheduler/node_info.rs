//! What the scheduler knows about each node (its cache's `NodeInfo`): the node, the pods
//! assigned to it (including ones this scheduler just bound but the cache has not seen yet),
//! and their summed requests.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{Node, Pod, Taint};

use super::resources::{pod_non_zero_requests, pod_requests, Resources};
use crate::quantity;
use crate::taints::{self, NO_SCHEDULE};

/// A host port in use: (hostIP, protocol, port).
pub(crate) type HostPort = (String, String, i32);

pub(crate) struct NodeInfo {
    pub name: String,
    pub node: Node,
    /// The node's taints plus a NoSchedule taint mirroring a Ready condition that is not
    /// True, in case the node controller has not added it yet.
    pub taints: Vec<Taint>,
    pub allocatable: Resources,
    pub allowed_pods: i128,
    pub requested: Resources,
    pub non_zero_requested: Resources,
    pub pod_count: usize,
    /// Pods (not being deleted) per controller owner uid, for spreading.
    pub pods_per_owner: HashMap<String, usize>,
    pub host_ports: Vec<HostPort>,
}

impl NodeInfo {
    pub fn new(node: Node) -> NodeInfo {
        let name = node.metadata.name.clone().unwrap_or_default();
        let status = node.status.as_ref();
        let allocatable_list = status.and_then(|s| s.allocatable.as_ref());
        let allowed_pods = allocatable_list
            .and_then(|a| a.get("pods"))
            .and_then(|q| quantity::value(&q.0))
            .unwrap_or(0);
        let mut taints = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.clone())
            .unwrap_or_default();
        if let Some(key) = readiness_taint_key(&node) {
            let mirrored = taints::template(key, NO_SCHEDULE);
            if !taints.iter().any(|t| taints::same_taint(t, &mirrored)) {
                taints.push(mirrored);
            }
        }
        NodeInfo {
            name,
            taints,
            allocatable: Resources::from_list(allocatable_list),
            allowed_pods,
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pod_count: 0,
            pods_per_owner: HashMap::new(),
            host_ports: Vec::new(),
            node,
        }
    }

    pub fn labels(&self) -> Option<&BTreeMap<String, String>> {
        self.node.metadata.labels.as_ref()
    }

    pub fn unschedulable(&self) -> bool {
        self.node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false)
    }

    /// Counts `pod` (assigned here, not terminal) against this node.
    pub fn add_pod(&mut self, pod: &Pod) {
        let Some(spec) = pod.spec.as_ref() else {
            return;
        };
        self.pod_count += 1;
        self.requested.add(pod_requests(spec));
        self.non_zero_requested.add(pod_non_zero_requests(spec));
        if pod.metadata.deletion_timestamp.is_none() {
            if let Some(owner) = controller_uid(pod) {
                *self.pods_per_owner.entry(owner.to_string()).or_default() += 1;
            }
        }
        self.host_ports.extend(host_ports(pod));
    }
}

/// The taint key a node's Ready condition implies, when it is not True (no Ready condition
/// yet reads as not ready, like a kubelet that registers with the not-ready taint).
fn readiness_taint_key(node: &Node) -> Option<&'static str> {
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    match ready.map(|c| c.status.as_str()) {
        Some("True") => None,
        Some("Unknown") => Some(taints::TAINT_UNREACHABLE),
        _ => Some(taints::TAINT_NOT_READY),
    }
}

/// The uid of the pod's controller owner reference.
pub(crate) fn controller_uid(pod: &Pod) -> Option<&str> {
    pod.metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
        .map(|o| o.uid.as_str())
}

/// The host ports the pod's containers ask for.
pub(crate) fn host_ports(pod: &Pod) -> Vec<HostPort> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let port = p.host_port.filter(|port| *port > 0)?;
            let ip = match p.host_ip.as_deref() {
                None | Some("") => "0.0.0.0".to_string(),
                Some(ip) => ip.to_string(),
            };
            let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".into());
            Some((ip, protocol, port))
        })
        .collect()
}
