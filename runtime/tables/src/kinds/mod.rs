//! One printer per resource kind: ports of the `print<Kind>` functions of
//! `pkg/printers/internalversion/printers.go` (v1.33), always with `Wide: true` because
//! kube-apiserver's `TableConvertor` generates wide tables.

mod config_map;
mod deployment;
mod endpoint_slice;
mod endpoints;
mod event;
mod lease;
mod namespace;
mod node;
mod pod;
mod replica_set;
mod replication_controller;
mod secret;
mod service;

use jiff::Timestamp;
use serde_json::Value;

use crate::kind::ResourceKind;

/// The printed part of one `metav1.TableRow` (the `object` is added by the table assembly).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Strings and integers, one per column definition.
    pub cells: Vec<Value>,
    /// `TableRowCondition`s (only pods in a terminal phase have one).
    pub conditions: Vec<Value>,
}

impl Row {
    fn cells(cells: Vec<Value>) -> Row {
        Row {
            cells,
            conditions: Vec::new(),
        }
    }
}

/// Prints one object (full JSON as stored) of `kind`.
pub fn row(kind: ResourceKind, object: &Value, now: Timestamp) -> Result<Row, serde_json::Error> {
    match kind {
        ResourceKind::Pod => pod::row(object, now),
        ResourceKind::Event => event::row(object, now),
        ResourceKind::ReplicaSet => replica_set::row(object, now),
        ResourceKind::Deployment => deployment::row(object, now),
        ResourceKind::ReplicationController => replication_controller::row(object, now),
        ResourceKind::ConfigMap => config_map::row(object, now),
        ResourceKind::Secret => secret::row(object, now),
        ResourceKind::Namespace => namespace::row(object, now),
        ResourceKind::Service => service::row(object, now),
        ResourceKind::Endpoints => endpoints::row(object, now),
        ResourceKind::Node => node::row(object, now),
        ResourceKind::Lease => lease::row(object, now),
        ResourceKind::EndpointSlice => endpoint_slice::row(object, now),
    }
}

/// Replica count as stored after API defaulting: an absent `spec.replicas` is 1.
fn desired_replicas(replicas: Option<i32>) -> i64 {
    i64::from(replicas.unwrap_or(1))
}
