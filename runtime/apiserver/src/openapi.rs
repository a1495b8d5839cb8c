//! A minimal OpenAPI v3: enough for kubectl to see that every kind supports the
//! `fieldValidation` parameter (so it relies on server-side validation). No schemas.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::resources::{self, Resource};

/// `/openapi/v3`: the per-group document index.
pub(crate) fn root() -> Value {
    let mut paths = Map::new();
    let mut groups: Vec<(String, &str, &str)> = vec![("api/v1".into(), "", "v1")];
    for (group, version) in resources::GROUPS {
        groups.push((format!("apis/{group}/{version}"), group, version));
    }
    for (path, group, version) in groups {
        let hash = document_hash(&group_document(group, version));
        paths.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
        );
    }
    json!({"paths": Value::Object(paths)})
}

/// The document at `/openapi/v3/<path>`, if served.
pub(crate) fn document(path: &str) -> Option<Value> {
    if path == "api/v1" {
        return Some(group_document("", "v1"));
    }
    let rest = path.strip_prefix("apis/")?;
    let (group, version) = rest.split_once('/')?;
    resources::GROUPS
        .iter()
        .any(|(g, v)| *g == group && *v == version)
        .then(|| group_document(group, version))
}

fn document_hash(document: &Value) -> String {
    let bytes = serde_json::to_vec(document).unwrap_or_default();
    hex::encode_upper(Sha256::digest(&bytes))
}

fn field_validation_parameter() -> Value {
    json!({
        "name": "fieldValidation",
        "in": "query",
        "description": "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict",
        "schema": {"type": "string", "uniqueItems": true}
    })
}

fn operation(resource: &Resource, action: &str) -> Value {
    json!({
        "operationId": format!("{action}{}", resource.kind),
        "parameters": [field_validation_parameter()],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": resource.group, "version": resource.version, "kind": resource.kind}
    })
}

fn group_document(group: &str, version: &str) -> Value {
    let mut paths = Map::new();
    for resource in resources::in_group_version(group, version) {
        let prefix = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let scope = if resource.namespaced {
            "/namespaces/{namespace}"
        } else {
            ""
        };
        let collection = format!("{prefix}{scope}/{}", resource.plural);
        paths.insert(
            collection.clone(),
            json!({"post": operation(resource, "post")}),
        );
        paths.insert(
            format!("{collection}/{{name}}"),
            json!({"put": operation(resource, "put"), "patch": operation(resource, "patch")}),
        );
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": Value::Object(paths),
        "components": {"schemas": {}}
    })
}
