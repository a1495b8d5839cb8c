//! The garbage collector's view of the cluster (`GraphBuilder`, reduced): every monitored
//! object, and for each owner UID the objects that reference it.

use std::collections::HashMap;

use serde_json::Value;
use wasmpod_apiserver::{Informer, Resource};

use crate::object::{self, OwnerRef};

pub(crate) const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
pub(crate) const ORPHAN_FINALIZER: &str = "orphan";

/// One cached object and the resource it belongs to.
pub(super) struct Node {
    pub resource: &'static Resource,
    pub object: Value,
}

impl Node {
    pub fn uid(&self) -> &str {
        object::uid(&self.object)
    }

    /// `isDeletingDependents`: being deleted in the foreground.
    pub fn is_deleting_dependents(&self) -> bool {
        is_deleting_dependents(&self.object)
    }
}

pub(super) fn is_deleting_dependents(object: &Value) -> bool {
    object::is_being_deleted(object) && object::has_finalizer(object, FOREGROUND_FINALIZER)
}

pub(super) struct Graph {
    pub nodes: Vec<Node>,
    by_uid: HashMap<String, usize>,
    /// Owner UID → (dependent node index, the dependent's reference to it).
    dependents: HashMap<String, Vec<(usize, OwnerRef)>>,
}

impl Graph {
    pub fn build(monitors: &[(&'static Resource, Informer)]) -> Graph {
        let mut nodes = Vec::new();
        for (resource, informer) in monitors {
            nodes.extend(
                informer
                    .snapshot()
                    .iter()
                    .cloned()
                    .map(|object| Node { resource, object }),
            );
        }
        let mut by_uid = HashMap::new();
        let mut dependents: HashMap<String, Vec<(usize, OwnerRef)>> = HashMap::new();
        for (index, node) in nodes.iter().enumerate() {
            by_uid.insert(node.uid().to_string(), index);
            for reference in object::owner_references(&node.object) {
                dependents
                    .entry(reference.uid.clone())
                    .or_default()
                    .push((index, reference));
            }
        }
        Graph {
            nodes,
            by_uid,
            dependents,
        }
    }

    pub fn by_uid(&self, uid: &str) -> Option<&Node> {
        self.by_uid.get(uid).map(|i| &self.nodes[*i])
    }

    /// The objects referencing `owner_uid`, with their reference.
    pub fn dependents_of(&self, owner_uid: &str) -> impl Iterator<Item = (&Node, &OwnerRef)> {
        self.dependents
            .get(owner_uid)
            .into_iter()
            .flatten()
            .map(|(i, r)| (&self.nodes[*i], r))
    }
}

/// The served resource an owner reference points at (matched by group and kind).
pub(super) fn resource_of(reference: &OwnerRef) -> Option<&'static Resource> {
    wasmpod_apiserver::RESOURCES
        .iter()
        .find(|r| r.kind == reference.kind && r.group == reference.group())
}
