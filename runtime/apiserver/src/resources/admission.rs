//! Per-kind strategies (kube-apiserver's `PrepareForCreate`/`PrepareForUpdate`, defaulting
//! and validation) applied to an already-normalized object.

use k8s_openapi::api::core::v1::{ConfigMap, Pod, PodSpec, Secret};
use serde_json::{json, Value};
use wasmpod_apimachinery::Selector;
use wasmpod_manifest::FieldError;

use super::pod_status::initial_status;
use super::typed::{decode, encode};
use super::Resource;
use crate::status_errors::ApiError;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Operation<'a> {
    Create,
    Update { old: &'a Value },
}

/// The outcome of admission: the object to store.
pub(crate) struct Admission {
    pub object: Value,
}

/// Defaults and validates `object` for `operation`; 422 Invalid on validation errors.
pub(crate) fn admit(
    resource: &Resource,
    object: Value,
    operation: Operation<'_>,
    options: &crate::ApiOptions,
) -> Result<Admission, ApiError> {
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let (object, errors) = match resource.kind {
        "Pod" => admit_pod(
            resource,
            object,
            operation,
            options.default_toleration_seconds,
        )?,
        "ConfigMap" => {
            let mut typed: ConfigMap = decode(resource, &object)?;
            wasmpod_manifest::apply_config_map_defaults(&mut typed);
            let errors = wasmpod_manifest::validate_config_map(&typed);
            (encode(&typed)?, errors)
        }
        "Secret" => {
            let mut typed: Secret = decode(resource, &object)?;
            wasmpod_manifest::apply_secret_defaults(&mut typed);
            let errors = wasmpod_manifest::validate_secret(&typed);
            (encode(&typed)?, errors)
        }
        "ReplicaSet" | "Deployment" | "ReplicationController" => {
            admit_workload(resource, object, operation)?
        }
        "Namespace" => {
            let mut object = object;
            let name = object
                .pointer("/metadata/name")
                .cloned()
                .unwrap_or(Value::Null);
            object["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
            if matches!(operation, Operation::Create) {
                object["spec"] = json!({"finalizers": ["kubernetes"]});
                object["status"] = json!({"phase": "Active"});
            }
            (object, Vec::new())
        }
        _ => (object, Vec::new()),
    };
    let mut errors = errors;
    if name.is_empty() && !errors.iter().any(|e| e.path == "metadata.name") {
        errors.insert(
            0,
            FieldError::required("metadata.name", "name or generateName is required"),
        );
    }
    if errors.is_empty() {
        Ok(Admission { object })
    } else {
        Err(ApiError::invalid(resource, &name, &errors))
    }
}

fn admit_pod(
    resource: &Resource,
    object: Value,
    operation: Operation<'_>,
    toleration_seconds: i64,
) -> Result<(Value, Vec<FieldError>), ApiError> {
    let mut pod: Pod = decode(resource, &object)?;
    wasmpod_manifest::apply_defaults(&mut pod);
    if matches!(operation, Operation::Create) {
        // The Priority, ServiceAccount and DefaultTolerationSeconds admission plugins.
        wasmpod_manifest::admit_with_toleration_seconds(&mut pod, toleration_seconds);
        pod.status = Some(initial_status(&pod));
    }
    let mut errors = wasmpod_manifest::validate(&pod);
    if let Operation::Update { old } = operation {
        errors.extend(pod_update_errors(old, &encode(&pod)?));
    }
    Ok((encode(&pod)?, errors))
}

/// `ValidatePodUpdate`, reduced to its main rule: only container images (and a few
/// scheduling fields) may change in a pod's spec.
fn pod_update_errors(old: &Value, new: &Value) -> Vec<FieldError> {
    let mutable_view = |pod: &Value| {
        let mut spec = pod.get("spec").cloned().unwrap_or(Value::Null);
        for list in ["containers", "initContainers"] {
            if let Some(Value::Array(containers)) = spec.get_mut(list) {
                for container in containers {
                    if let Value::Object(container) = container {
                        container.remove("image");
                    }
                }
            }
        }
        if let Value::Object(spec) = &mut spec {
            for field in [
                "activeDeadlineSeconds",
                "tolerations",
                "terminationGracePeriodSeconds",
            ] {
                spec.remove(field);
            }
        }
        spec
    };
    if mutable_view(old) == mutable_view(new) {
        Vec::new()
    } else {
        vec![FieldError::forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        )]
    }
}

fn admit_workload(
    resource: &Resource,
    mut object: Value,
    operation: Operation<'_>,
) -> Result<(Value, Vec<FieldError>), ApiError> {
    let mut errors = Vec::new();
    let spec = object
        .as_object_mut()
        .map(|o| o.entry("spec").or_insert_with(|| json!({})));
    let Some(Value::Object(spec)) = spec else {
        return Err(ApiError::bad_request("spec must be an object"));
    };
    spec.entry("replicas").or_insert(json!(1));
    let template_labels = spec
        .get("template")
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .cloned()
        .unwrap_or(Value::Null);
    if resource.kind == "ReplicationController" {
        // RCs default their selector to the template's labels.
        if spec
            .get("selector")
            .is_none_or(|s| s.as_object().is_none_or(|m| m.is_empty()))
        {
            spec.insert("selector".into(), template_labels.clone());
        }
    }
    if resource.kind == "Deployment" {
        spec.entry("strategy").or_insert_with(|| {
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        });
        spec.entry("revisionHistoryLimit").or_insert(json!(10));
        spec.entry("progressDeadlineSeconds").or_insert(json!(600));
    }
    if resource.kind != "ReplicationController" {
        match Selector::from_label_selector(spec.get("selector")) {
            _ if spec.get("selector").is_none() => {
                errors.push(FieldError::required("spec.selector", ""));
            }
            Ok(selector) if selector.is_empty() => errors.push(FieldError::invalid(
                "spec.selector",
                "",
                "empty selector is invalid for deployment",
            )),
            Ok(selector) => {
                let labels = template_labels.as_object().cloned().unwrap_or_default();
                let labels: std::collections::BTreeMap<String, String> = labels
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect();
                if !selector.matches(&labels) {
                    errors.push(FieldError::invalid(
                        "spec.template.metadata.labels",
                        format!("{labels:?}").as_str(),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
            Err(error) => errors.push(FieldError::invalid("spec.selector", "", error.to_string())),
        }
    }
    if let Some(template) = spec.get_mut("template") {
        errors.extend(default_and_validate_template(resource, template)?);
    } else {
        errors.push(FieldError::required("spec.template", ""));
    }
    if matches!(operation, Operation::Create) {
        object["status"] = json!({});
    }
    Ok((object, errors))
}

/// Pod-template defaults (`SetDefaults_PodSpec`, not `SetDefaults_Pod`) and the pod spec's
/// validation, with paths under `spec.template`.
fn default_and_validate_template(
    resource: &Resource,
    template: &mut Value,
) -> Result<Vec<FieldError>, ApiError> {
    let spec = template.get("spec").cloned().unwrap_or(json!({}));
    let mut pod: Pod = decode(
        resource,
        &json!({"metadata": {"name": "template"}, "spec": spec}),
    )?;
    let had_service_links = pod.spec.as_ref().and_then(|s| s.enable_service_links);
    wasmpod_manifest::apply_defaults(&mut pod);
    let spec: &mut PodSpec = pod.spec.get_or_insert_with(PodSpec::default);
    spec.enable_service_links = had_service_links;
    let errors = wasmpod_manifest::validate(&pod)
        .into_iter()
        .filter(|e| !e.path.starts_with("metadata"))
        .map(|mut e| {
            e.path = format!("spec.template.{}", e.path);
            e
        })
        .collect();
    template["spec"] = encode(&pod.spec)?;
    Ok(errors)
}
