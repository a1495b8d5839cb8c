//! `kubectl describe pod` (kubectl 1.33, `describe.go` `describePod`).

mod containers;
mod events;
mod multiline;
mod prefix_writer;
mod probe;
mod volumes;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, EphemeralContainer, Event, Pod};

pub use events::{event_interval, events_for_pod};
pub use probe::describe_probe;

use containers::{describe_containers, describe_resources};
use multiline::{
    describe_topology_spread_constraints, print_annotations_multiline, print_labels_multiline,
    print_tolerations_multiline,
};
use prefix_writer::{PrefixWriter, LEVEL_0, LEVEL_1};
use volumes::describe_volumes;

use crate::qos::pod_qos;
use crate::text::{age_since, or_empty, rfc1123z_opt};

/// `kubectl describe pod NAME`. `events` may be all events of the namespace: the ones about
/// this pod are selected like kubectl does (involvedObject name, namespace and UID).
/// `now` is used for every age (event ages, `Terminating (lasts …)`).
pub fn describe_pod(pod: &Pod, events: &[Event], now: Timestamp) -> String {
    let mut w = PrefixWriter::new();
    let spec = pod.spec.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let meta = &pod.metadata;

    w.write(LEVEL_0, &format!("Name:\t{}\n", or_empty(&meta.name)));
    w.write(
        LEVEL_0,
        &format!("Namespace:\t{}\n", or_empty(&meta.namespace)),
    );
    if let Some(priority) = spec.priority {
        w.write(LEVEL_0, &format!("Priority:\t{priority}\n"));
    }
    if let Some(class) = spec
        .priority_class_name
        .as_deref()
        .filter(|c| !c.is_empty())
    {
        w.write(LEVEL_0, &format!("Priority Class Name:\t{class}\n"));
    }
    if let Some(class) = spec.runtime_class_name.as_deref().filter(|c| !c.is_empty()) {
        w.write(LEVEL_0, &format!("Runtime Class Name:\t{class}\n"));
    }
    if let Some(account) = spec
        .service_account_name
        .as_deref()
        .filter(|a| !a.is_empty())
    {
        w.write(LEVEL_0, &format!("Service Account:\t{account}\n"));
    }
    match spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        None => w.write(LEVEL_0, "Node:\t<none>\n"),
        Some(node) => w.write(
            LEVEL_0,
            &format!("Node:\t{node}/{}\n", or_empty(&status.host_ip)),
        ),
    }
    if let Some(start) = &status.start_time {
        w.write(
            LEVEL_0,
            &format!("Start Time:\t{}\n", rfc1123z_opt(Some(start))),
        );
    }
    print_labels_multiline(&mut w, "Labels", meta.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", meta.annotations.as_ref());

    let phase = or_empty(&status.phase);
    match &meta.deletion_timestamp {
        Some(deletion) if phase != "Failed" && phase != "Succeeded" => {
            w.write(
                LEVEL_0,
                &format!(
                    "Status:\tTerminating (lasts {})\n",
                    age_since(Some(deletion), now)
                ),
            );
            w.write(
                LEVEL_0,
                &format!(
                    "Termination Grace Period:\t{}s\n",
                    meta.deletion_grace_period_seconds.unwrap_or(0)
                ),
            );
        }
        _ => w.write(LEVEL_0, &format!("Status:\t{phase}\n")),
    }
    if let Some(reason) = status.reason.as_deref().filter(|r| !r.is_empty()) {
        w.write(LEVEL_0, &format!("Reason:\t{reason}\n"));
    }
    if let Some(message) = status.message.as_deref().filter(|m| !m.is_empty()) {
        w.write(LEVEL_0, &format!("Message:\t{message}\n"));
    }
    if let Some(profile) = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.seccomp_profile.as_ref())
    {
        w.write(LEVEL_0, &format!("SeccompProfile:\t{}\n", profile.type_));
        if profile.type_ == "Localhost" {
            w.write(
                LEVEL_0,
                &format!(
                    "LocalhostProfile:\t{}\n",
                    or_empty(&profile.localhost_profile)
                ),
            );
        }
    }
    w.write(LEVEL_0, &format!("IP:\t{}\n", or_empty(&status.pod_ip)));
    describe_pod_ips(&mut w, &status);
    if let Some(owner) = meta
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    {
        w.write(
            LEVEL_0,
            &format!("Controlled By:\t{}/{}\n", owner.kind, owner.name),
        );
    }
    if let Some(nominated) = status
        .nominated_node_name
        .as_deref()
        .filter(|n| !n.is_empty())
    {
        w.write(LEVEL_0, &format!("NominatedNodeName:\t{nominated}\n"));
    }
    if let Some(resources) = &spec.resources {
        w.write(LEVEL_0, "Resources:\n");
        describe_resources(&mut w, Some(resources), LEVEL_1);
    }

    if let Some(init) = spec.init_containers.as_ref().filter(|c| !c.is_empty()) {
        describe_containers(
            &mut w,
            "Init Containers",
            init,
            status.init_container_statuses.as_ref(),
            pod,
        );
    }
    describe_containers(
        &mut w,
        "Containers",
        &spec.containers,
        status.container_statuses.as_ref(),
        pod,
    );
    if let Some(ephemeral) = spec.ephemeral_containers.as_ref().filter(|c| !c.is_empty()) {
        let as_containers: Vec<Container> = ephemeral.iter().map(ephemeral_as_container).collect();
        describe_containers(
            &mut w,
            "Ephemeral Containers",
            &as_containers,
            status.ephemeral_container_statuses.as_ref(),
            pod,
        );
    }

    let conditions = status.conditions.clone().unwrap_or_default();
    if let Some(gates) = spec.readiness_gates.as_ref().filter(|g| !g.is_empty()) {
        w.write(LEVEL_0, "Readiness Gates:\n  Type\tStatus\n");
        for gate in gates {
            let gate_status = conditions
                .iter()
                .find(|c| c.type_ == gate.condition_type)
                .map_or("<none>", |c| c.status.as_str());
            w.write(
                LEVEL_1,
                &format!("{} \t{gate_status} \n", gate.condition_type),
            );
        }
    }
    if !conditions.is_empty() {
        w.write(LEVEL_0, "Conditions:\n  Type\tStatus\n");
        for condition in &conditions {
            // The space before each tab and after the status is kubectl's.
            w.write(
                LEVEL_1,
                &format!("{} \t{} \n", condition.type_, condition.status),
            );
        }
    }
    describe_volumes(&mut w, spec.volumes.as_ref());
    w.write(LEVEL_0, &format!("QoS Class:\t{}\n", pod_qos(pod)));
    print_labels_multiline(&mut w, "Node-Selectors", spec.node_selector.as_ref());
    print_tolerations_multiline(&mut w, "Tolerations", spec.tolerations.as_ref());
    describe_topology_spread_constraints(&mut w, spec.topology_spread_constraints.as_ref());
    let pod_events = events_for_pod(pod, events);
    events::describe_events(&mut w, &pod_events, now);
    w.finish()
}

fn describe_pod_ips(w: &mut PrefixWriter, status: &k8s_openapi::api::core::v1::PodStatus) {
    let ips = status.pod_ips.as_deref().unwrap_or_default();
    if ips.is_empty() {
        w.write(LEVEL_0, "IPs:\t<none>\n");
        return;
    }
    w.write(LEVEL_0, "IPs:\n");
    for ip in ips {
        w.write(LEVEL_1, &format!("IP:\t{}\n", ip.ip));
    }
}

/// Go converts `EphemeralContainerCommon` to `Container` field by field.
fn ephemeral_as_container(e: &EphemeralContainer) -> Container {
    Container {
        args: e.args.clone(),
        command: e.command.clone(),
        env: e.env.clone(),
        env_from: e.env_from.clone(),
        image: e.image.clone(),
        image_pull_policy: e.image_pull_policy.clone(),
        lifecycle: e.lifecycle.clone(),
        liveness_probe: e.liveness_probe.clone(),
        name: e.name.clone(),
        ports: e.ports.clone(),
        readiness_probe: e.readiness_probe.clone(),
        resize_policy: e.resize_policy.clone(),
        resources: e.resources.clone(),
        restart_policy: e.restart_policy.clone(),
        security_context: e.security_context.clone(),
        startup_probe: e.startup_probe.clone(),
        stdin: e.stdin,
        stdin_once: e.stdin_once,
        termination_message_path: e.termination_message_path.clone(),
        termination_message_policy: e.termination_message_policy.clone(),
        tty: e.tty,
        volume_devices: e.volume_devices.clone(),
        volume_mounts: e.volume_mounts.clone(),
        working_dir: e.working_dir.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-07-06T10:03:35Z".parse().expect("timestamp")
    }

    #[test]
    fn pending_pod_layout() {
        // Unscheduled pod: no node, no IP (the empty IP cell still gets padded), no events.
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u",
                         "labels": {"app": "web", "tier": "front"}},
            "spec": {"containers": [{"name": "web", "image": "web:1"}]},
            "status": {"phase": "Pending",
                       "conditions": [{"type": "PodScheduled", "status": "False"}]},
        }))
        .expect("pod");
        let out = describe_pod(&pod, &[], now());
        assert_eq!(
            out,
            "Name:         web\n\
             Namespace:    default\n\
             Node:         <none>\n\
             Labels:       app=web\n\
            \x20             tier=front\n\
             Annotations:  <none>\n\
             Status:       Pending\n\
             IP:           \n\
             IPs:          <none>\n\
             Containers:\n\
            \x20 web:\n\
            \x20   Image:        web:1\n\
            \x20   Port:         <none>\n\
            \x20   Host Port:    <none>\n\
            \x20   Environment:  <none>\n\
            \x20   Mounts:       <none>\n\
             Conditions:\n\
            \x20 Type           Status\n\
            \x20 PodScheduled   False \n\
             Volumes:         <none>\n\
             QoS Class:       BestEffort\n\
             Node-Selectors:  <none>\n\
             Tolerations:     <none>\n\
             Events:          <none>\n"
        );
    }

    #[test]
    fn terminating_status_and_controller() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "web-1", "namespace": "default",
                         "deletionTimestamp": "2026-07-06T10:03:50Z", "deletionGracePeriodSeconds": 30,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-6f7c9d8b5",
                                              "uid": "x", "controller": true}]},
            "spec": {"containers": []},
            "status": {"phase": "Running"},
        }))
        .expect("pod");
        let out = describe_pod(&pod, &[], now());
        assert!(
            out.contains("Status:                    Terminating (lasts <invalid>)\nTermination Grace Period:  30s\n"),
            "{out}"
        );
        assert!(
            out.contains("Controlled By:             ReplicaSet/web-6f7c9d8b5\n"),
            "{out}"
        );
        assert!(out.contains("Containers: <none>\n"), "{out}");
    }
}
