//! The garbage collector (`pkg/controller/garbagecollector`): deletes objects whose owners
//! are gone (by UID), runs foreground deletion (dependents first, then the owner's
//! `foregroundDeletion` finalizer) and orphaning (owner references removed, then the
//! `orphan` finalizer), across every served kind.

mod actions;
mod graph;

use std::collections::HashSet;

use serde_json::Value;
use wasmpod_apiserver::{ApiServer, Informer, Resource};

use crate::error::Result;
use crate::object::{self, OwnerRef};
use crate::options::ControllerOptions;
use crate::runner::{self, Backoff, Reconciler, Requeue};
use actions::Propagation;
use graph::{resource_of, Graph, Node, FOREGROUND_FINALIZER, ORPHAN_FINALIZER};

pub(crate) const COMPONENT: &str = "garbage-collector-controller";

/// Resources the collector does not watch (upstream ignores events too).
const IGNORED: &[&str] = &["events"];

/// The resources the collector watches.
pub(crate) fn monitored() -> impl Iterator<Item = &'static Resource> {
    wasmpod_apiserver::RESOURCES
        .iter()
        .filter(|r| !IGNORED.contains(&r.plural))
}

pub(crate) struct GarbageCollector {
    api: ApiServer,
    monitors: Vec<(&'static Resource, Informer)>,
    backoff: Backoff,
}

/// Where an owner reference leads.
enum OwnerState {
    Present(Value),
    /// No object with that UID exists (`isDangling`).
    Absent,
    /// A kind this server does not serve: cannot be verified, so it is left alone.
    Unknown,
}

/// Runs the collector until the task is aborted.
pub(crate) async fn run(
    api: ApiServer,
    monitors: Vec<(&'static Resource, Informer)>,
    options: ControllerOptions,
) {
    let informers = monitors.iter().map(|(_, i)| i.clone()).collect();
    let collector = GarbageCollector {
        api,
        monitors,
        backoff: Backoff::new(&options),
    };
    runner::run(informers, options.resync_period, collector).await;
}

impl Reconciler for GarbageCollector {
    async fn pass(&mut self) -> Requeue {
        let graph = Graph::build(&self.monitors);
        let mut requeue = Requeue::default();
        for node in &graph.nodes {
            let key = node.uid().to_string();
            if let Some(at) = self.backoff.not_before(&key) {
                requeue.at(at);
                continue;
            }
            match self.process(&graph, node).await {
                Ok(()) => self.backoff.succeeded(&key),
                Err(_) => requeue.at(self.backoff.failed(&key)),
            }
        }
        let live: HashSet<&str> = graph.nodes.iter().map(Node::uid).collect();
        self.backoff.retain(|uid| live.contains(uid));
        requeue
    }
}

impl GarbageCollector {
    async fn process(&self, graph: &Graph, node: &Node) -> Result<()> {
        let object = &node.object;
        if object::is_being_deleted(object) {
            if object::has_finalizer(object, ORPHAN_FINALIZER) {
                return self.orphan_dependents(graph, node).await;
            }
            if node.is_deleting_dependents() {
                return self.process_deleting_dependents(graph, node).await;
            }
            return Ok(());
        }
        if object::owner_references(object).is_empty() {
            return Ok(());
        }
        self.attempt_to_delete(graph, node).await
    }

    /// `attemptToOrphan`: detach every dependent, then let the owner go.
    async fn orphan_dependents(&self, graph: &Graph, owner: &Node) -> Result<()> {
        let owner_uid = owner.uid();
        for (dependent, _) in graph.dependents_of(owner_uid) {
            actions::modify(&self.api, dependent.resource, &dependent.object, |o| {
                actions::remove_owner_refs(o, &[owner_uid])
            })
            .await?;
        }
        actions::modify(&self.api, owner.resource, &owner.object, |o| {
            actions::remove_finalizer(o, ORPHAN_FINALIZER)
        })
        .await
    }

    /// `processDeletingDependentsItem`: once no dependent blocks it, drop the owner's
    /// `foregroundDeletion` finalizer. (The dependents themselves are deleted when their
    /// own nodes are processed: their owner is "waiting for dependents deletion".)
    async fn process_deleting_dependents(&self, graph: &Graph, owner: &Node) -> Result<()> {
        let blocked = graph
            .dependents_of(owner.uid())
            .any(|(_, reference)| reference.block_owner_deletion);
        if blocked {
            return Ok(());
        }
        actions::modify(&self.api, owner.resource, &owner.object, |o| {
            actions::remove_finalizer(o, FOREGROUND_FINALIZER)
        })
        .await
    }

    /// `attemptToDeleteItem`. Decides on a live read of the item, as upstream does: the
    /// cache may still show owner references the collector itself just removed (orphaning),
    /// while the owner's deletion has already been seen.
    async fn attempt_to_delete(&self, graph: &Graph, node: &Node) -> Result<()> {
        let cached = &node.object;
        // Owners all present and not waiting on their dependents: nothing to do, no read.
        let settled = object::owner_references(cached).iter().all(|reference| {
            graph
                .by_uid(&reference.uid)
                .is_some_and(|owner| !graph::is_deleting_dependents(&owner.object))
        });
        if settled {
            return Ok(());
        }
        let latest = match self
            .api
            .get_object(
                node.resource.plural,
                object::namespace(cached),
                object::name(cached),
            )
            .await
        {
            Ok(latest) if object::uid(&latest) == node.uid() => latest,
            Ok(_) => return Ok(()),
            Err(error) if error.code == 404 => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        if object::owner_references(&latest).is_empty() {
            return Ok(());
        }
        let object = &latest;
        let mut solid = Vec::new();
        let mut dangling = Vec::new();
        let mut waiting = Vec::new();
        for reference in object::owner_references(object) {
            match self.owner_state(graph, object, &reference).await? {
                OwnerState::Absent => dangling.push(reference),
                OwnerState::Present(owner) if graph::is_deleting_dependents(&owner) => {
                    waiting.push(reference)
                }
                OwnerState::Present(_) | OwnerState::Unknown => solid.push(reference),
            }
        }
        if !solid.is_empty() {
            if dangling.is_empty() && waiting.is_empty() {
                return Ok(());
            }
            // Still owned: only forget the owners that are gone or going.
            let uids: Vec<String> = dangling
                .iter()
                .chain(&waiting)
                .map(|r| r.uid.clone())
                .collect();
            let uids: Vec<&str> = uids.iter().map(String::as_str).collect();
            return actions::modify(&self.api, node.resource, object, |o| {
                actions::remove_owner_refs(o, &uids)
            })
            .await;
        }
        let mut dependents = graph.dependents_of(node.uid()).peekable();
        if !waiting.is_empty() && dependents.peek().is_some() {
            if dependents.any(|(dependent, _)| dependent.is_deleting_dependents()) {
                // A dependent is itself waiting on us: break the cycle.
                actions::modify(
                    &self.api,
                    node.resource,
                    object,
                    actions::unblock_owner_refs,
                )
                .await?;
            }
            return actions::delete(&self.api, node.resource, object, Propagation::Foreground)
                .await;
        }
        let policy = if object::has_finalizer(object, ORPHAN_FINALIZER) {
            Propagation::Orphan
        } else if object::has_finalizer(object, FOREGROUND_FINALIZER) {
            Propagation::Foreground
        } else {
            Propagation::Background
        };
        actions::delete(&self.api, node.resource, object, policy).await
    }

    /// Looks the owner up by UID in the caches, then (a cache miss may just be a slow watch)
    /// with a live read by name.
    async fn owner_state(
        &self,
        graph: &Graph,
        dependent: &Value,
        reference: &OwnerRef,
    ) -> Result<OwnerState> {
        if let Some(owner) = graph.by_uid(&reference.uid) {
            return Ok(OwnerState::Present(owner.object.clone()));
        }
        let Some(resource) = resource_of(reference) else {
            return Ok(OwnerState::Unknown);
        };
        let namespace = if resource.namespaced {
            object::namespace(dependent)
        } else {
            ""
        };
        match self
            .api
            .get_object(resource.plural, namespace, &reference.name)
            .await
        {
            Ok(owner) if object::uid(&owner) == reference.uid => Ok(OwnerState::Present(owner)),
            Ok(_) => Ok(OwnerState::Absent),
            Err(error) if error.code == 404 => Ok(OwnerState::Absent),
            Err(error) => Err(error.into()),
        }
    }
}
