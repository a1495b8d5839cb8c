//! `/version`, legacy discovery (`APIVersions`, `APIGroupList`, `APIResourceList`) and
//! aggregated discovery v2 (`APIGroupDiscoveryList`).

use serde_json::{json, Value};

use crate::resources::{self, Resource};

const VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

pub(crate) fn version(minor: u32) -> Value {
    json!({
        "major": "1",
        "minor": minor.to_string(),
        "emulationMajor": "1",
        "emulationMinor": minor.to_string(),
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": minor.saturating_sub(1).to_string(),
        "gitVersion": format!("v1.{minor}.0"),
        "gitCommit": "wasmpod",
        "gitTreeState": "clean",
        "buildDate": "2025-04-23T00:00:00Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub(crate) fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_json(group: &str, version: &str) -> Value {
    let group_version = json!({"groupVersion": format!("{group}/{version}"), "version": version});
    json!({
        "name": group,
        "versions": [group_version.clone()],
        "preferredVersion": group_version
    })
}

pub(crate) fn group_list() -> Value {
    let groups: Vec<Value> = resources::GROUPS
        .iter()
        .map(|(group, version)| group_json(group, version))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub(crate) fn group(group: &str) -> Value {
    let version = resources::GROUPS
        .iter()
        .find(|(g, _)| *g == group)
        .map(|(_, v)| *v)
        .unwrap_or("v1");
    let mut value = group_json(group, version);
    value["kind"] = json!("APIGroup");
    value["apiVersion"] = json!("v1");
    value
}

fn legacy_subresources(resource: &Resource) -> Vec<Value> {
    let mut entries = Vec::new();
    let s = resource.subresources;
    if s.log {
        entries.push(json!({"name": format!("{}/log", resource.plural), "singularName": "", "namespaced": resource.namespaced, "kind": resource.kind, "verbs": ["get"]}));
    }
    if s.scale {
        entries.push(json!({"name": format!("{}/scale", resource.plural), "singularName": "", "namespaced": resource.namespaced, "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}));
    }
    if s.status {
        entries.push(json!({"name": format!("{}/status", resource.plural), "singularName": "", "namespaced": resource.namespaced, "kind": resource.kind, "verbs": ["get", "patch", "update"]}));
    }
    entries
}

/// The `APIResourceList` of one group/version.
pub(crate) fn resource_list(group: &str, version: &str) -> Value {
    let mut entries = Vec::new();
    for resource in resources::in_group_version(group, version) {
        let mut entry = json!({
            "name": resource.plural,
            "singularName": resource.singular,
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": VERBS,
        });
        if !resource.short_names.is_empty() {
            entry["shortNames"] = json!(resource.short_names);
        }
        if !resource.categories.is_empty() {
            entry["categories"] = json!(resource.categories);
        }
        entries.push(entry);
        entries.extend(legacy_subresources(resource));
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": entries})
}

fn aggregated_resource(resource: &Resource) -> Value {
    let kind = |group: &str, version: &str, kind: &str| json!({"group": group, "version": version, "kind": kind});
    let own_kind = kind(resource.group, resource.version, resource.kind);
    let mut subresources = Vec::new();
    let s = resource.subresources;
    if s.log {
        subresources
            .push(json!({"subresource": "log", "responseKind": own_kind, "verbs": ["get"]}));
    }
    if s.scale {
        subresources.push(json!({"subresource": "scale", "responseKind": kind("autoscaling", "v1", "Scale"), "verbs": ["get", "patch", "update"]}));
    }
    if s.status {
        subresources.push(json!({"subresource": "status", "responseKind": own_kind, "verbs": ["get", "patch", "update"]}));
    }
    let mut entry = json!({
        "resource": resource.plural,
        "responseKind": own_kind,
        "scope": if resource.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": resource.singular,
        "verbs": VERBS,
    });
    if !resource.short_names.is_empty() {
        entry["shortNames"] = json!(resource.short_names);
    }
    if !resource.categories.is_empty() {
        entry["categories"] = json!(resource.categories);
    }
    if !subresources.is_empty() {
        entry["subresources"] = Value::Array(subresources);
    }
    entry
}

fn aggregated_group(group: &str, version: &str) -> Value {
    let resources: Vec<Value> = resources::in_group_version(group, version)
        .map(aggregated_resource)
        .collect();
    let mut metadata = json!({"creationTimestamp": null});
    if !group.is_empty() {
        metadata["name"] = json!(group);
    }
    json!({
        "metadata": metadata,
        "versions": [{"version": version, "resources": resources, "freshness": "Current"}]
    })
}

/// `/api` (core only) or `/apis` (named groups) as an `APIGroupDiscoveryList`.
pub(crate) fn aggregated(core: bool) -> Value {
    let items: Vec<Value> = if core {
        vec![aggregated_group("", "v1")]
    } else {
        resources::GROUPS
            .iter()
            .map(|(group, version)| aggregated_group(group, version))
            .collect()
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items
    })
}
