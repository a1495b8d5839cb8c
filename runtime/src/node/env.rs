//! A container's environment as the kubelet builds it (kubelet_pods.go makeEnvironmentVariables):
//! `envFrom` sources first, then `env` in order, each value able to refer to earlier ones with
//! `$(VAR)`; `valueFrom` reads the downward API, resources, ConfigMaps and Secrets.

use k8s_openapi::api::core::v1::{
    Container, EnvVarSource, ObjectFieldSelector, Pod, ResourceFieldSelector,
};

use super::exec::expand;
use crate::store::ObjectStore;

/// Why the environment cannot be built: the container waits with CreateContainerConfigError.
pub(super) type ConfigError = String;

pub(super) fn container_env(
    pod: &Pod,
    container: &Container,
    store: &ObjectStore,
) -> Result<Vec<(String, String)>, ConfigError> {
    let namespace = pod
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let mut env: Vec<(String, String)> = Vec::new();
    let set = |env: &mut Vec<(String, String)>, name: String, value: String| {
        env.retain(|(existing, _)| *existing != name);
        env.push((name, value));
    };
    for source in container.env_from.iter().flatten() {
        let prefix = source.prefix.clone().unwrap_or_default();
        if let Some(reference) = &source.config_map_ref {
            match store.config_map(&namespace, &reference.name) {
                Some(config_map) => {
                    for (key, value) in config_map.data.unwrap_or_default() {
                        set(&mut env, format!("{prefix}{key}"), value);
                    }
                }
                None if reference.optional == Some(true) => {}
                None => return Err(format!("configmap \"{}\" not found", reference.name)),
            }
        }
        if let Some(reference) = &source.secret_ref {
            match store.secret(&namespace, &reference.name) {
                Some(secret) => {
                    for (key, value) in secret.data.unwrap_or_default() {
                        set(
                            &mut env,
                            format!("{prefix}{key}"),
                            String::from_utf8_lossy(&value.0).into_owned(),
                        );
                    }
                }
                None if reference.optional == Some(true) => {}
                None => return Err(format!("secret \"{}\" not found", reference.name)),
            }
        }
    }
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (_, Some(source)) => match value_from(pod, container, source, store, &namespace)? {
                Some(value) => value,
                None => continue,
            },
            (Some(value), None) => expand(value, &env),
            (None, None) => String::new(),
        };
        set(&mut env, var.name.clone(), value);
    }
    Ok(env)
}

/// `None` when an optional ConfigMap/Secret key is absent (the variable is then not set).
fn value_from(
    pod: &Pod,
    container: &Container,
    source: &EnvVarSource,
    store: &ObjectStore,
    namespace: &str,
) -> Result<Option<String>, ConfigError> {
    if let Some(field) = &source.field_ref {
        return field_value(pod, field).map(Some);
    }
    if let Some(resource) = &source.resource_field_ref {
        return resource_value(container, resource).map(Some);
    }
    if let Some(selector) = &source.config_map_key_ref {
        let optional = selector.optional == Some(true);
        let Some(config_map) = store.config_map(namespace, &selector.name) else {
            return if optional {
                Ok(None)
            } else {
                Err(format!("configmap \"{}\" not found", selector.name))
            };
        };
        return match config_map.data.and_then(|d| d.get(&selector.key).cloned()) {
            Some(value) => Ok(Some(value)),
            None if optional => Ok(None),
            None => Err(format!(
                "couldn't find key {} in ConfigMap {namespace}/{}",
                selector.key, selector.name
            )),
        };
    }
    if let Some(selector) = &source.secret_key_ref {
        let optional = selector.optional == Some(true);
        let Some(secret) = store.secret(namespace, &selector.name) else {
            return if optional {
                Ok(None)
            } else {
                Err(format!("secret \"{}\" not found", selector.name))
            };
        };
        return match secret.data.and_then(|d| d.get(&selector.key).cloned()) {
            Some(value) => Ok(Some(String::from_utf8_lossy(&value.0).into_owned())),
            None if optional => Ok(None),
            None => Err(format!(
                "couldn't find key {} in Secret {namespace}/{}",
                selector.key, selector.name
            )),
        };
    }
    Ok(Some(String::new()))
}

/// The downward API's field paths (podFieldSelectorRuntimeValue / ExtractFieldPathAsString).
pub(super) fn field_value(pod: &Pod, field: &ObjectFieldSelector) -> Result<String, ConfigError> {
    let meta = &pod.metadata;
    let status = pod.status.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let path = field.field_path.as_str();
    let map_entry = |map: &Option<std::collections::BTreeMap<String, String>>, key: &str| {
        map.as_ref()
            .and_then(|m| m.get(key).cloned())
            .unwrap_or_default()
    };
    let quoted_key = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix("['"))
            .and_then(|rest| rest.strip_suffix("']"))
            .map(str::to_string)
    };
    Ok(match path {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "metadata.labels" => format_map(&meta.labels),
        "metadata.annotations" => format_map(&meta.annotations),
        "spec.nodeName" => spec.node_name.unwrap_or_default(),
        "spec.serviceAccountName" => spec.service_account_name.unwrap_or_default(),
        "status.podIP" => status.pod_ip.unwrap_or_default(),
        "status.hostIP" => status.host_ip.unwrap_or_default(),
        "status.podIPs" => status
            .pod_ips
            .unwrap_or_default()
            .into_iter()
            .map(|ip| ip.ip)
            .collect::<Vec<_>>()
            .join(","),
        "status.hostIPs" => status
            .host_ips
            .unwrap_or_default()
            .into_iter()
            .map(|ip| ip.ip)
            .collect::<Vec<_>>()
            .join(","),
        _ => match (
            quoted_key("metadata.labels"),
            quoted_key("metadata.annotations"),
        ) {
            (Some(key), _) => map_entry(&meta.labels, &key),
            (_, Some(key)) => map_entry(&meta.annotations, &key),
            _ => return Err(format!("unsupported fieldPath: {path}")),
        },
    })
}

/// `k="v"` lines, sorted, as the downward API writes labels and annotations.
fn format_map(map: &Option<std::collections::BTreeMap<String, String>>) -> String {
    map.iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// resourceFieldRef: the container's limit or request (a limit falls back to the node's
/// capacity when unset), divided by `divisor` and rounded up, as ExtractResourceValueByContainer.
pub(super) fn resource_value(
    container: &Container,
    selector: &ResourceFieldSelector,
) -> Result<String, ConfigError> {
    let resources = container.resources.clone().unwrap_or_default();
    let (kind, resource) = selector
        .resource
        .split_once('.')
        .ok_or_else(|| format!("unsupported container resource: {}", selector.resource))?;
    let table = match kind {
        "limits" => resources.limits,
        "requests" => resources.requests,
        _ => None,
    };
    let quantity = table.and_then(|t| t.get(resource).map(|q| q.0.clone()));
    let divisor = selector.divisor.as_ref().map(|q| q.0.clone());
    match resource {
        "cpu" => {
            let millis = match quantity.as_deref() {
                Some(q) => crate::quantity::parse_millicores(q).unwrap_or(0),
                None if kind == "limits" => {
                    1000 * std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
                }
                None => 0,
            };
            let divisor = divisor
                .as_deref()
                .and_then(crate::quantity::parse_millicores)
                .unwrap_or(1000)
                .max(1);
            Ok(millis.div_ceil(divisor).to_string())
        }
        "memory" | "ephemeral-storage" => {
            let bytes = match quantity.as_deref() {
                Some(q) => crate::quantity::parse_bytes(q).unwrap_or(0),
                None if kind == "limits" => host_memory_bytes(),
                None => 0,
            };
            let divisor = divisor
                .as_deref()
                .and_then(crate::quantity::parse_bytes)
                .unwrap_or(1)
                .max(1);
            Ok(bytes.div_ceil(divisor).to_string())
        }
        other => Err(format!("unsupported container resource: {other}")),
    }
}

fn host_memory_bytes() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
