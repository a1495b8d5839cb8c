//! The node lifecycle controller (`node-controller`,
//! `pkg/controller/nodelifecycle/node_lifecycle_controller.go`): watches heartbeats, marks
//! silent nodes Unknown, their pods not ready, and taints not-ready nodes — NoSchedule at
//! once, NoExecute through a rate-limited per-zone queue that zone disruption slows or stops.

mod health;
mod writes;
mod zones;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::Taint;
use serde_json::Value;
use tokio::time::Instant;
use wasmpod_apiserver::{ApiServer, EventKind, EventRecorder, Informer};

use crate::changes::{earliest, Changes};
use crate::error::ClusterError;
use crate::objects;
use crate::taints::{self, NO_EXECUTE, NO_SCHEDULE, TAINT_NOT_READY, TAINT_UNREACHABLE};
use crate::NodeLifecycleOptions;
use health::{Grace, HealthCheck, NodeHealth};
use writes::{has_taint, mark_pods_not_ready, swap_taints};
use zones::{compute_zone_state, zone_key, Attempt, ZoneState, ZoneTainter};

/// The controller's event source component.
pub const NODE_CONTROLLER_NAME: &str = "node-controller";

/// Namespace of the nodes' heartbeat Leases.
const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";
/// Label that keeps a node out of zone disruption accounting.
const EXCLUDE_DISRUPTION_LABEL: &str = "node.kubernetes.io/exclude-disruption";
/// Attempts of a node status write that conflicts (`NodeHealthUpdateRetry`).
const HEALTH_UPDATE_ATTEMPTS: usize = 5;
/// Retry of a queued node without a Ready condition.
const TAINT_RETRY: Duration = Duration::from_millis(50);

pub(crate) async fn run(
    api: ApiServer,
    nodes: Informer,
    leases: Informer,
    pods: Informer,
    options: NodeLifecycleOptions,
) {
    let mut changes = Changes::synced(&[&nodes, &leases, &pods]).await;
    let mut controller = Controller {
        recorder: EventRecorder::new(api.clone(), NODE_CONTROLLER_NAME),
        api,
        options,
        known_nodes: HashMap::new(),
        health: HashMap::new(),
        zone_states: HashMap::new(),
        tainters: HashMap::new(),
        nodes_to_retry: HashSet::new(),
        pod_assignments: HashMap::new(),
    };
    let mut next_monitor = Instant::now();
    loop {
        if Instant::now() >= next_monitor {
            controller.monitor_node_health(&nodes, &leases, &pods).await;
            next_monitor = Instant::now() + controller.options.node_monitor_period;
        }
        let node_values = nodes.snapshot();
        controller.no_schedule_pass(&node_values).await;
        controller
            .process_new_assignments(&node_values, &pods.snapshot())
            .await;
        controller.no_execute_tainting_pass(&nodes).await;
        let tainting = controller
            .tainters
            .values()
            .any(|t| !t.is_empty())
            .then(|| Instant::now() + controller.options.node_eviction_period);
        changes.wait(earliest(Some(next_monitor), tainting)).await;
    }
}

struct Controller {
    api: ApiServer,
    recorder: EventRecorder,
    options: NodeLifecycleOptions,
    /// Nodes seen by the monitor (`knownNodeSet`).
    known_nodes: HashMap<String, Value>,
    health: HashMap<String, NodeHealth>,
    zone_states: HashMap<String, ZoneState>,
    tainters: HashMap<String, ZoneTainter>,
    /// Nodes whose pods still need MarkPodsNotReady.
    nodes_to_retry: HashSet<String>,
    /// Pod uid → node, to notice new assignments (`podUpdated`).
    pod_assignments: HashMap<String, String>,
}

fn ready_status(condition: Option<&Value>) -> Option<&str> {
    condition?.get("status").and_then(Value::as_str)
}

impl Controller {
    fn add_zone(&mut self, zone: &str) {
        if !self.zone_states.contains_key(zone) {
            self.zone_states
                .insert(zone.to_string(), ZoneState::Initial);
            self.tainters.insert(
                zone.to_string(),
                ZoneTainter::new(self.options.node_eviction_rate),
            );
        }
    }

    /// `monitorNodeHealth`.
    async fn monitor_node_health(&mut self, nodes: &Informer, leases: &Informer, pods: &Informer) {
        let node_values = nodes.snapshot();
        let names: HashSet<&str> = node_values.iter().map(objects::name).collect();
        for node in node_values.iter() {
            let name = objects::name(node);
            if self.known_nodes.contains_key(name) {
                self.add_zone(&zone_key(node));
                continue;
            }
            let message = format!("Node {name} event: Registered Node {name} in Controller");
            self.recorder
                .record(node, EventKind::Normal, "RegisteredNode", &message)
                .await;
            self.known_nodes.insert(name.to_string(), node.clone());
            self.add_zone(&zone_key(node));
            let _ = self.mark_node_as_reachable(node).await;
        }
        let deleted: Vec<String> = self
            .known_nodes
            .keys()
            .filter(|name| !names.contains(name.as_str()))
            .cloned()
            .collect();
        for name in deleted {
            if let Some(node) = self.known_nodes.remove(&name) {
                let message = format!("Node {name} event: Removing Node {name} from Controller");
                self.recorder
                    .record(&node, EventKind::Normal, "RemovingNode", &message)
                    .await;
            }
            self.health.remove(&name);
            self.nodes_to_retry.remove(&name);
        }

        let mut zone_conditions: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
        for node in node_values.iter() {
            let name = objects::name(node).to_string();
            let lease = leases.get(NODE_LEASE_NAMESPACE, &name);
            let Ok(check) = self.update_node_health(node, lease).await else {
                continue;
            };
            let current = ready_status(check.current.as_ref()).map(str::to_string);
            let observed = ready_status(Some(&check.observed))
                .unwrap_or("")
                .to_string();
            let excluded = node
                .pointer("/metadata/labels")
                .and_then(|l| l.get(EXCLUDE_DISRUPTION_LABEL))
                .is_some();
            if !excluded {
                zone_conditions
                    .entry(zone_key(node))
                    .or_default()
                    .push(current.clone());
            }
            let Some(current) = current else {
                self.nodes_to_retry.remove(&name);
                continue;
            };
            let node_pods = pods.filtered(|p| objects::pod_node_name(p) == name);
            self.process_taint_based_eviction(node, &observed).await;
            let became_not_ready = current != "True" && observed == "True";
            if became_not_ready {
                let message = format!("Node {name} status is now: NodeNotReady");
                self.recorder
                    .record(node, EventKind::Normal, "NodeNotReady", &message)
                    .await;
            }
            let retry = self.nodes_to_retry.contains(&name) && observed != "True";
            if became_not_ready || retry {
                let marked =
                    mark_pods_not_ready(&self.api, &self.recorder, &node_pods, &name).await;
                if marked.is_err() {
                    self.nodes_to_retry.insert(name);
                    continue;
                }
            }
            self.nodes_to_retry.remove(&name);
        }
        self.handle_disruption(&zone_conditions, &node_values).await;
    }

    /// `tryUpdateNodeHealth` with its conflict retries (a fresh node from the API each time).
    async fn update_node_health(
        &mut self,
        node: &Value,
        lease: Option<Value>,
    ) -> Result<HealthCheck, ClusterError> {
        let grace = Grace {
            monitor: self.options.node_monitor_grace_period,
            startup: self.options.node_startup_grace_period,
        };
        let name = objects::name(node).to_string();
        let mut node = node.clone();
        let mut last_error = None;
        for _ in 0..HEALTH_UPDATE_ATTEMPTS {
            let check = health::check(&mut self.health, &node, lease.as_ref(), &grace);
            let Some(update) = check.update.clone() else {
                return Ok(check);
            };
            match self.api.update_status("nodes", "", &name, update).await {
                Ok(_) => {
                    health::written(&mut self.health, &name, &check);
                    return Ok(check);
                }
                Err(error) => last_error = Some(ClusterError::from(error)),
            }
            node = self.api.get_object("nodes", "", &name).await?;
        }
        Err(last_error.unwrap_or(ClusterError::Conflicts {
            what: format!("node {name} status"),
            attempts: HEALTH_UPDATE_ATTEMPTS,
        }))
    }

    /// `processTaintBaseEviction`, driven by the Ready status seen before this pass.
    async fn process_taint_based_eviction(&mut self, node: &Value, observed: &str) {
        let not_ready = taints::template(TAINT_NOT_READY, NO_EXECUTE);
        let unreachable = taints::template(TAINT_UNREACHABLE, NO_EXECUTE);
        let name = objects::name(node);
        match observed {
            "False" | "Unknown" => {
                let (wanted, opposite) = if observed == "False" {
                    (&not_ready, &unreachable)
                } else {
                    (&unreachable, &not_ready)
                };
                if has_taint(node, opposite) {
                    let _ = swap_taints(
                        &self.api,
                        name,
                        std::slice::from_ref(wanted),
                        std::slice::from_ref(opposite),
                    )
                    .await;
                } else {
                    let zone = zone_key(node);
                    self.add_zone(&zone);
                    if let Some(tainter) = self.tainters.get_mut(&zone) {
                        if !has_taint(node, wanted) {
                            tainter.remove(name);
                        }
                        tainter.add(name);
                    }
                }
            }
            "True" => {
                let _ = self.mark_node_as_reachable(node).await;
            }
            _ => {}
        }
    }

    /// Removes both NoExecute taints and forgets any queued tainting.
    async fn mark_node_as_reachable(&mut self, node: &Value) -> Result<(), ClusterError> {
        let remove = [
            taints::template(TAINT_UNREACHABLE, NO_EXECUTE),
            taints::template(TAINT_NOT_READY, NO_EXECUTE),
        ];
        if remove.iter().any(|t| has_taint(node, t)) {
            swap_taints(&self.api, objects::name(node), &[], &remove).await?;
        }
        if let Some(tainter) = self.tainters.get_mut(&zone_key(node)) {
            tainter.remove(objects::name(node));
        }
        Ok(())
    }

    /// `doNoExecuteTaintingPass`: drains each zone's queue as its rate limiter allows.
    async fn no_execute_tainting_pass(&mut self, nodes: &Informer) {
        let zones: Vec<String> = self.tainters.keys().cloned().collect();
        for zone in zones {
            loop {
                let now = Instant::now();
                let Some(due) = self.tainters.get_mut(&zone).and_then(|t| t.next_due(now)) else {
                    break;
                };
                let attempt = self.taint_queued_node(nodes, &due.name).await;
                if let Some(tainter) = self.tainters.get_mut(&zone) {
                    tainter.finish(&due.name, attempt, Instant::now());
                }
            }
        }
    }

    async fn taint_queued_node(&self, nodes: &Informer, name: &str) -> Attempt {
        let Some(node) = nodes.get("", name) else {
            return Attempt::Done;
        };
        let (wanted, opposite) = match objects::condition_status(&node, "Ready") {
            None => return Attempt::RetryAfter(TAINT_RETRY),
            Some("False") => (TAINT_NOT_READY, TAINT_UNREACHABLE),
            Some("Unknown") => (TAINT_UNREACHABLE, TAINT_NOT_READY),
            Some(_) => return Attempt::Done,
        };
        let add = [taints::template(wanted, NO_EXECUTE)];
        let remove = [taints::template(opposite, NO_EXECUTE)];
        match swap_taints(&self.api, name, &add, &remove).await {
            Ok(()) => Attempt::Done,
            Err(_) => Attempt::RetryAfter(Duration::ZERO),
        }
    }

    /// `doNoScheduleTaintingPass`: NoSchedule taints mirror the node's conditions and
    /// `spec.unschedulable`.
    async fn no_schedule_pass(&self, nodes: &[Value]) {
        for node in nodes {
            let mut wanted: Vec<Taint> = Vec::new();
            for (condition, status, key) in CONDITION_TAINTS {
                if objects::condition_status(node, condition) == Some(status) {
                    wanted.push(taints::template(key, NO_SCHEDULE));
                }
            }
            let unschedulable = node
                .pointer("/spec/unschedulable")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if unschedulable {
                wanted.push(taints::template(taints::TAINT_UNSCHEDULABLE, NO_SCHEDULE));
            }
            let managed = |key: &str| {
                key == taints::TAINT_UNSCHEDULABLE
                    || CONDITION_TAINTS.iter().any(|(_, _, k)| *k == key)
            };
            let existing: Vec<Taint> = node
                .pointer("/spec/taints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| objects::decode::<Taint>(t).ok())
                .filter(|t| t.effect == NO_SCHEDULE && managed(&t.key))
                .collect();
            let add: Vec<Taint> = wanted
                .iter()
                .filter(|w| !existing.iter().any(|e| taints::same_taint(e, w)))
                .cloned()
                .collect();
            let remove: Vec<Taint> = existing
                .iter()
                .filter(|e| !wanted.iter().any(|w| taints::same_taint(e, w)))
                .cloned()
                .collect();
            if !add.is_empty() || !remove.is_empty() {
                let _ = swap_taints(&self.api, objects::name(node), &add, &remove).await;
            }
        }
    }

    /// `processPod`: a pod newly assigned to a node that is not Ready is marked not ready.
    async fn process_new_assignments(&mut self, nodes: &[Value], pods: &[Value]) {
        let present: HashSet<&str> = pods.iter().map(objects::uid).collect();
        self.pod_assignments
            .retain(|uid, _| present.contains(uid.as_str()));
        for pod in pods {
            let node_name = objects::pod_node_name(pod);
            if node_name.is_empty() {
                continue;
            }
            let uid = objects::uid(pod);
            if self.pod_assignments.get(uid).map(String::as_str) == Some(node_name) {
                continue;
            }
            self.pod_assignments
                .insert(uid.to_string(), node_name.to_string());
            if !self.health.contains_key(node_name) {
                continue;
            }
            let Some(node) = nodes.iter().find(|n| objects::name(n) == node_name) else {
                continue;
            };
            match objects::condition_status(node, "Ready") {
                None | Some("True") => {}
                Some(_) => {
                    let pod = std::slice::from_ref(pod);
                    if mark_pods_not_ready(&self.api, &self.recorder, pod, node_name)
                        .await
                        .is_err()
                    {
                        // Try again on the next pass.
                        self.pod_assignments.remove(uid);
                    }
                }
            }
        }
    }

    /// `handleDisruption`: per-zone states set the tainting rate; when every zone is fully
    /// disrupted the controller assumes its own connectivity is at fault and stops tainting.
    async fn handle_disruption(
        &mut self,
        zone_conditions: &BTreeMap<String, Vec<Option<String>>>,
        nodes: &[Value],
    ) {
        let mut new_states = HashMap::new();
        let mut all_are_fully_disrupted = true;
        for (zone, conditions) in zone_conditions {
            let state = compute_zone_state(conditions, self.options.unhealthy_zone_threshold);
            if state != ZoneState::FullDisruption {
                all_are_fully_disrupted = false;
            }
            new_states.insert(zone.clone(), state);
            self.add_zone(zone);
        }
        let mut all_were_fully_disrupted = true;
        let known: Vec<String> = self.zone_states.keys().cloned().collect();
        for zone in known {
            if !zone_conditions.contains_key(&zone) {
                self.zone_states.remove(&zone);
                continue;
            }
            if self.zone_states.get(&zone) != Some(&ZoneState::FullDisruption) {
                all_were_fully_disrupted = false;
            }
        }
        if all_are_fully_disrupted && all_were_fully_disrupted {
            return;
        }
        if all_are_fully_disrupted {
            for node in nodes {
                let _ = self.mark_node_as_reachable(node).await;
            }
            for zone in self.zone_states.keys() {
                if let Some(tainter) = self.tainters.get_mut(zone) {
                    tainter.swap_limiter(0.0);
                }
            }
            for state in self.zone_states.values_mut() {
                *state = ZoneState::FullDisruption;
            }
            return;
        }
        if all_were_fully_disrupted {
            // Leaving disruption mode: every node gets a fresh grace period.
            let now = Instant::now();
            for node in nodes {
                if let Some(entry) = self.health.get_mut(objects::name(node)) {
                    entry.probe = now;
                }
            }
        }
        let zones: Vec<String> = self.zone_states.keys().cloned().collect();
        for zone in zones {
            let Some(&new_state) = new_states.get(&zone) else {
                continue;
            };
            if !all_were_fully_disrupted && self.zone_states.get(&zone) == Some(&new_state) {
                continue;
            }
            let size = zone_conditions.get(&zone).map_or(0, Vec::len);
            let qps = self.zone_rate(size, new_state);
            if let Some(tainter) = self.tainters.get_mut(&zone) {
                tainter.swap_limiter(qps);
            }
            self.zone_states.insert(zone, new_state);
        }
    }

    /// `setLimiterInZone`.
    fn zone_rate(&self, zone_size: usize, state: ZoneState) -> f64 {
        match state {
            ZoneState::PartialDisruption => {
                if zone_size > self.options.large_cluster_size_threshold {
                    self.options.secondary_node_eviction_rate
                } else {
                    0.0
                }
            }
            _ => self.options.node_eviction_rate,
        }
    }
}

/// `nodeConditionToTaintKeyStatusMap`.
const CONDITION_TAINTS: [(&str, &str, &str); 6] = [
    ("Ready", "False", TAINT_NOT_READY),
    ("Ready", "Unknown", TAINT_UNREACHABLE),
    ("MemoryPressure", "True", taints::TAINT_MEMORY_PRESSURE),
    ("DiskPressure", "True", taints::TAINT_DISK_PRESSURE),
    (
        "NetworkUnavailable",
        "True",
        taints::TAINT_NETWORK_UNAVAILABLE,
    ),
    ("PIDPressure", "True", taints::TAINT_PID_PRESSURE),
];
