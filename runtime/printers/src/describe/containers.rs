//! `Containers:` / `Init Containers:` sections (`describe.go` `describeContainers` and helpers).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, ContainerState, ContainerStatus, EnvVar, Pod, ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::prefix_writer::{PrefixWriter, LEVEL_0, LEVEL_1, LEVEL_2, LEVEL_3};
use super::probe::describe_probe;
use crate::quantity::{milli_value, nano_value, unit_value};
use crate::text::{or_empty, rfc1123z_opt};

/// Writes `<label>:` and every container with its status (matched by name).
pub fn describe_containers(
    w: &mut PrefixWriter,
    label: &str,
    containers: &[Container],
    statuses: Option<&Vec<ContainerStatus>>,
    pod: &Pod,
) {
    let none = if containers.is_empty() { " <none>" } else { "" };
    w.write(LEVEL_0, &format!("{label}:{none}\n"));
    for container in containers {
        let status = statuses
            .into_iter()
            .flatten()
            .rev() // Go fills a map, so the last status with a name wins.
            .find(|s| s.name == container.name);
        describe_container_basic_info(w, container, status);
        describe_container_command(w, container);
        if let Some(status) = status {
            describe_container_state(w, status);
        }
        describe_resources(w, container.resources.as_ref(), LEVEL_2);
        describe_container_probes(w, container);
        if container.env_from.as_ref().is_some_and(|e| !e.is_empty()) {
            describe_container_env_from(w, container);
        }
        describe_container_env_vars(w, container, pod);
        describe_container_volumes(w, container);
    }
}

fn describe_container_basic_info(
    w: &mut PrefixWriter,
    container: &Container,
    status: Option<&ContainerStatus>,
) {
    w.write(LEVEL_1, &format!("{}:\n", container.name));
    if let Some(status) = status {
        w.write(
            LEVEL_2,
            &format!("Container ID:\t{}\n", or_empty(&status.container_id)),
        );
    }
    w.write(
        LEVEL_2,
        &format!("Image:\t{}\n", or_empty(&container.image)),
    );
    if let Some(status) = status {
        w.write(LEVEL_2, &format!("Image ID:\t{}\n", status.image_id));
    }
    let ports = container.ports.as_deref().unwrap_or_default();
    let port_text = ports_text(ports, |p| i64::from(p.container_port));
    if port_text.contains(',') {
        w.write(LEVEL_2, &format!("Ports:\t{port_text}\n"));
    } else {
        w.write(LEVEL_2, &format!("Port:\t{}\n", string_or_none(&port_text)));
    }
    let host_port_text = ports_text(ports, |p| i64::from(p.host_port.unwrap_or(0)));
    if host_port_text.contains(',') {
        w.write(LEVEL_2, &format!("Host Ports:\t{host_port_text}\n"));
    } else {
        w.write(
            LEVEL_2,
            &format!("Host Port:\t{}\n", string_or_none(&host_port_text)),
        );
    }
    if let Some(profile) = container
        .security_context
        .as_ref()
        .and_then(|sc| sc.seccomp_profile.as_ref())
    {
        w.write(LEVEL_2, &format!("SeccompProfile:\t{}\n", profile.type_));
        if profile.type_ == "Localhost" {
            w.write(
                LEVEL_3,
                &format!(
                    "LocalhostProfile:\t{}\n",
                    or_empty(&profile.localhost_profile)
                ),
            );
        }
    }
}

/// `8080/TCP, 9090/UDP` (kubectl 1.33: no port names). Protocol defaults to TCP.
fn ports_text(ports: &[ContainerPort], number: impl Fn(&ContainerPort) -> i64) -> String {
    ports
        .iter()
        .map(|p| format!("{}/{}", number(p), p.protocol.as_deref().unwrap_or("TCP")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn string_or_none(text: &str) -> &str {
    if text.is_empty() {
        "<none>"
    } else {
        text
    }
}

fn describe_container_command(w: &mut PrefixWriter, container: &Container) {
    for (label, items) in [("Command", &container.command), ("Args", &container.args)] {
        let items = items.as_deref().unwrap_or_default();
        if items.is_empty() {
            continue;
        }
        w.write(LEVEL_2, &format!("{label}:\n"));
        for item in items {
            for line in item.split('\n') {
                w.write(LEVEL_3, &format!("{line}\n"));
            }
        }
    }
}

/// `Limits:` / `Requests:` with one `name:\tquantity` line per resource, sorted by name.
pub fn describe_resources(
    w: &mut PrefixWriter,
    resources: Option<&ResourceRequirements>,
    level: usize,
) {
    let Some(resources) = resources else {
        return;
    };
    for (label, list) in [
        ("Limits", &resources.limits),
        ("Requests", &resources.requests),
    ] {
        let Some(list) = list.as_ref().filter(|l| !l.is_empty()) else {
            continue;
        };
        w.write(level, &format!("{label}:\n"));
        for (name, quantity) in list {
            // Printed as stored; the API server stores quantities in canonical form.
            w.write(level + 1, &format!("{name}:\t{}\n", quantity.0));
        }
    }
}

fn describe_container_state(w: &mut PrefixWriter, status: &ContainerStatus) {
    describe_state(w, "State", status.state.as_ref());
    if let Some(last) = status
        .last_state
        .as_ref()
        .filter(|last| last.terminated.is_some())
    {
        describe_state(w, "Last State", Some(last));
    }
    let ready = if status.ready { "True" } else { "False" };
    w.write(LEVEL_2, &format!("Ready:\t{ready}\n"));
    w.write(
        LEVEL_2,
        &format!("Restart Count:\t{}\n", status.restart_count),
    );
}

/// `describeStatus`: Running / Waiting (reason only, never the message) / Terminated.
fn describe_state(w: &mut PrefixWriter, name: &str, state: Option<&ContainerState>) {
    let state = state.cloned().unwrap_or_default();
    if let Some(running) = &state.running {
        w.write(LEVEL_2, &format!("{name}:\tRunning\n"));
        w.write(
            LEVEL_3,
            &format!("Started:\t{}\n", rfc1123z_opt(running.started_at.as_ref())),
        );
    } else if let Some(waiting) = &state.waiting {
        w.write(LEVEL_2, &format!("{name}:\tWaiting\n"));
        if let Some(reason) = waiting.reason.as_deref().filter(|r| !r.is_empty()) {
            w.write(LEVEL_3, &format!("Reason:\t{reason}\n"));
        }
    } else if let Some(terminated) = &state.terminated {
        w.write(LEVEL_2, &format!("{name}:\tTerminated\n"));
        if let Some(reason) = terminated.reason.as_deref().filter(|r| !r.is_empty()) {
            w.write(LEVEL_3, &format!("Reason:\t{reason}\n"));
        }
        if let Some(message) = terminated.message.as_deref().filter(|m| !m.is_empty()) {
            w.write(LEVEL_3, &format!("Message:\t{message}\n"));
        }
        w.write(LEVEL_3, &format!("Exit Code:\t{}\n", terminated.exit_code));
        if let Some(signal) = terminated.signal.filter(|s| *s > 0) {
            w.write(LEVEL_3, &format!("Signal:\t{signal}\n"));
        }
        w.write(
            LEVEL_3,
            &format!(
                "Started:\t{}\n",
                rfc1123z_opt(terminated.started_at.as_ref())
            ),
        );
        w.write(
            LEVEL_3,
            &format!(
                "Finished:\t{}\n",
                rfc1123z_opt(terminated.finished_at.as_ref())
            ),
        );
    } else {
        w.write(LEVEL_2, &format!("{name}:\tWaiting\n"));
    }
}

fn describe_container_probes(w: &mut PrefixWriter, container: &Container) {
    for (label, probe) in [
        ("Liveness", &container.liveness_probe),
        ("Readiness", &container.readiness_probe),
        ("Startup", &container.startup_probe),
    ] {
        if let Some(probe) = probe {
            w.write(LEVEL_2, &format!("{label}:\t{}\n", describe_probe(probe)));
        }
    }
}

fn describe_container_env_from(w: &mut PrefixWriter, container: &Container) {
    w.write(LEVEL_2, "Environment Variables from:\n");
    for source in container.env_from.iter().flatten() {
        let (from, name, optional) = if let Some(cm) = &source.config_map_ref {
            ("ConfigMap", cm.name.as_str(), cm.optional.unwrap_or(false))
        } else if let Some(secret) = &source.secret_ref {
            (
                "Secret",
                secret.name.as_str(),
                secret.optional.unwrap_or(false),
            )
        } else {
            ("", "", false)
        };
        match source.prefix.as_deref().filter(|p| !p.is_empty()) {
            None => w.write(LEVEL_3, &format!("{name}\t{from}\tOptional: {optional}\n")),
            Some(prefix) => w.write(
                LEVEL_3,
                &format!("{name}\t{from} with prefix '{prefix}'\tOptional: {optional}\n"),
            ),
        }
    }
}

fn describe_container_env_vars(w: &mut PrefixWriter, container: &Container, pod: &Pod) {
    let env = container.env.as_deref().unwrap_or_default();
    let none = if env.is_empty() { "\t<none>" } else { "" };
    w.write(LEVEL_2, &format!("Environment:{none}\n"));
    for var in env {
        describe_env_var(w, var, container, pod);
    }
}

fn describe_env_var(w: &mut PrefixWriter, var: &EnvVar, container: &Container, pod: &Pod) {
    let Some(value_from) = &var.value_from else {
        for (i, line) in or_empty(&var.value).split('\n').enumerate() {
            if i == 0 {
                w.write(LEVEL_3, &format!("{}:\t{line}\n", var.name));
            } else {
                w.write(LEVEL_3, &format!("\t{line}\n"));
            }
        }
        return;
    };
    if let Some(field_ref) = &value_from.field_ref {
        let value = resolve_field_path(pod, &field_ref.field_path);
        let api_version = field_ref.api_version.as_deref().unwrap_or("v1");
        w.write(
            LEVEL_3,
            &format!(
                "{}:\t{value} ({api_version}:{})\n",
                var.name, field_ref.field_path
            ),
        );
    } else if let Some(resource_ref) = &value_from.resource_field_ref {
        let resource = resource_ref.resource.as_str();
        let mut value =
            container_resource_value(container, resource, resource_ref.divisor.as_ref())
                .unwrap_or_default();
        if value == "0" && (resource == "limits.cpu" || resource == "limits.memory") {
            value = "node allocatable".to_string();
        }
        w.write(LEVEL_3, &format!("{}:\t{value} ({resource})\n", var.name));
    } else if let Some(secret) = &value_from.secret_key_ref {
        w.write(
            LEVEL_3,
            &format!(
                "{}:\t<set to the key '{}' in secret '{}'>\tOptional: {}\n",
                var.name,
                secret.key,
                secret.name,
                secret.optional.unwrap_or(false)
            ),
        );
    } else if let Some(config_map) = &value_from.config_map_key_ref {
        w.write(
            LEVEL_3,
            &format!(
                "{}:\t<set to the key '{}' of config map '{}'>\tOptional: {}\n",
                var.name,
                config_map.key,
                config_map.name,
                config_map.optional.unwrap_or(false)
            ),
        );
    }
}

/// kubectl `fieldpath.ExtractFieldPathAsString`: only metadata fields resolve client side;
/// anything else (e.g. `spec.nodeName`, `status.podIP`) prints as an empty value.
fn resolve_field_path(pod: &Pod, field_path: &str) -> String {
    let meta = &pod.metadata;
    if let Some((path, subscript)) = split_subscript(field_path) {
        let map = match path {
            "metadata.annotations" => meta.annotations.as_ref(),
            "metadata.labels" => meta.labels.as_ref(),
            _ => return String::new(),
        };
        return map
            .and_then(|m| m.get(subscript))
            .cloned()
            .unwrap_or_default();
    }
    match field_path {
        "metadata.annotations" => format_map(meta.annotations.as_ref()),
        "metadata.labels" => format_map(meta.labels.as_ref()),
        "metadata.name" => or_empty(&meta.name).to_string(),
        "metadata.namespace" => or_empty(&meta.namespace).to_string(),
        "metadata.uid" => or_empty(&meta.uid).to_string(),
        _ => String::new(),
    }
}

/// `metadata.labels['key']` → (`metadata.labels`, `key`).
fn split_subscript(path: &str) -> Option<(&str, &str)> {
    let inner = path.strip_suffix("']")?;
    let (base, key) = inner.split_once("['")?;
    Some((base, key))
}

/// fieldpath `FormatMap`: sorted `k="v"` lines (Go `%q` quoting).
fn format_map(map: Option<&BTreeMap<String, String>>) -> String {
    map.into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn go_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// kubectl `resourcehelper.ExtractContainerResourceValue` for cpu, memory, ephemeral-storage.
fn container_resource_value(
    container: &Container,
    resource: &str,
    divisor: Option<&Quantity>,
) -> Option<String> {
    let divisor = divisor
        .and_then(nano_value)
        .filter(|d| *d != 0)
        .unwrap_or(1_000_000_000);
    let (list_name, name) = resource.split_once('.')?;
    let resources = container.resources.clone().unwrap_or_default();
    let list = match list_name {
        "limits" => resources.limits,
        "requests" => resources.requests,
        _ => return None,
    };
    let value = list
        .as_ref()
        .and_then(|l| l.get(name))
        .and_then(nano_value)
        .unwrap_or(0);
    let result = match name {
        "cpu" => ceil_ratio(milli_value(value), milli_value(divisor)),
        "memory" | "ephemeral-storage" => ceil_ratio(unit_value(value), unit_value(divisor)),
        _ => return None,
    };
    Some(result.to_string())
}

fn ceil_ratio(a: i128, b: i128) -> i128 {
    if b == 0 {
        return 0;
    }
    crate::quantity::ceil_div(a, b)
}

fn describe_container_volumes(w: &mut PrefixWriter, container: &Container) {
    let mut mounts = container.volume_mounts.clone().unwrap_or_default();
    let none = if mounts.is_empty() { "\t<none>" } else { "" };
    w.write(LEVEL_2, &format!("Mounts:{none}\n"));
    mounts.sort_by(|a, b| a.mount_path.cmp(&b.mount_path));
    for mount in &mounts {
        let mut flags = vec![if mount.read_only.unwrap_or(false) {
            "ro".to_string()
        } else {
            "rw".to_string()
        }];
        if let Some(sub_path) = mount.sub_path.as_deref().filter(|s| !s.is_empty()) {
            flags.push(format!("path={}", go_quote(sub_path)));
        }
        w.write(
            LEVEL_3,
            &format!(
                "{} from {} ({})\n",
                mount.mount_path,
                mount.name,
                flags.join(",")
            ),
        );
    }
    let mut devices = container.volume_devices.clone().unwrap_or_default();
    if !devices.is_empty() {
        w.write(LEVEL_2, &format!("Devices:{none}\n"));
        devices.sort_by(|a, b| a.device_path.cmp(&b.device_path));
        for device in &devices {
            w.write(
                LEVEL_3,
                &format!("{} from {}\n", device.device_path, device.name),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(pod: serde_json::Value) -> String {
        let pod: Pod = serde_json::from_value(pod).expect("valid pod");
        let spec = pod.spec.clone().expect("spec");
        let statuses = pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.clone());
        let mut w = PrefixWriter::new();
        describe_containers(
            &mut w,
            "Containers",
            &spec.containers,
            statuses.as_ref(),
            &pod,
        );
        w.finish()
    }

    #[test]
    fn pending_container_without_status() {
        let out = render(json!({
            "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "web"}},
            "spec": {"containers": [{
                "name": "app", "image": "img:1",
                "ports": [{"containerPort": 8080}, {"containerPort": 9090, "protocol": "UDP", "hostPort": 99}],
                "command": ["serve"], "args": ["--a", "b\nc"],
                "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "250m", "memory": "64Mi"}},
                "env": [
                    {"name": "PLAIN", "value": "x"},
                    {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "NODE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
                    {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                    {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                    {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "requests.memory", "divisor": "1Mi"}}},
                    {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                ],
                "volumeMounts": [{"name": "b", "mountPath": "/b", "readOnly": true}, {"name": "a", "mountPath": "/a", "subPath": "x"}],
            }]},
        }));
        assert_eq!(
            out,
            "Containers:\n  app:\n    Image:       img:1\n    Ports:       8080/TCP, 9090/UDP\n    Host Ports:  0/TCP, 99/UDP\n    Command:\n      serve\n    Args:\n      --a\n      b\n      c\n    Limits:\n      memory:  128Mi\n    Requests:\n      cpu:     250m\n      memory:  64Mi\n    Environment:\n      PLAIN:  x\n      POD:    p (v1:metadata.name)\n      NODE:    (v1:spec.nodeName)\n      APP:    web (v1:metadata.labels['app'])\n      CPU:    node allocatable (limits.cpu)\n      MEM:    64 (requests.memory)\n      PW:     <set to the key 'k' in secret 's'>  Optional: false\n    Mounts:\n      /a from a (rw,path=\"x\")\n      /b from b (ro)\n"
        );
    }

    #[test]
    fn terminated_state_with_message_and_signal() {
        let out = render(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
            "status": {"containerStatuses": [{
                "name": "c", "image": "i", "imageID": "sha", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 1, "reason": "Error", "message": "boom", "signal": 15,
                    "startedAt": "2026-07-06T10:00:00Z", "finishedAt": "2026-07-06T10:00:01Z"}},
            }]},
        }));
        assert_eq!(
            out,
            "Containers:\n  c:\n    Container ID:   \n    Image:          i\n    Image ID:       sha\n    Port:           <none>\n    Host Port:      <none>\n    State:          Terminated\n      Reason:       Error\n      Message:      boom\n      Exit Code:    1\n      Signal:       15\n      Started:      Mon, 06 Jul 2026 10:00:00 +0000\n      Finished:     Mon, 06 Jul 2026 10:00:01 +0000\n    Ready:          False\n    Restart Count:  0\n    Environment:    <none>\n    Mounts:         <none>\n"
        );
    }
}
