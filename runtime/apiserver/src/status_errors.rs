//! `metav1.Status` failures, worded exactly as kube-apiserver 1.33 words them
//! (`k8s.io/apimachinery/pkg/api/errors`), so kubectl prints its usual messages.

use serde_json::{json, Map, Value};
use wasmpod_storage::StorageError;

use crate::resources::Resource;

/// One `details.causes` entry (`metav1.StatusCause`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// A failed API request: the `Status` object kube-apiserver would send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: u16,
    /// `StatusReason`; empty for `StatusReasonUnknown` (omitted from the JSON).
    pub reason: String,
    pub message: String,
    pub details: Option<Box<StatusDetails>>,
}

/// `metav1.StatusDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusDetails {
    pub name: String,
    pub group: String,
    /// The plural resource (NotFound, Conflict …) or the Kind (Invalid), as Go fills it.
    pub kind: String,
    pub causes: Vec<StatusCause>,
    pub retry_after_seconds: Option<i64>,
}

impl ApiError {
    pub(crate) fn new(code: u16, reason: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: None,
        }
    }

    fn with_resource(mut self, resource: &Resource, name: &str) -> ApiError {
        self.details = Some(Box::new(StatusDetails {
            name: name.to_string(),
            group: resource.group.to_string(),
            kind: resource.plural.to_string(),
            ..StatusDetails::default()
        }));
        self
    }

    /// `pods "x" not found` / `replicasets.apps "x" not found`.
    pub fn not_found(resource: &Resource, name: &str) -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", resource.qualified()),
        )
        .with_resource(resource, name)
    }

    /// `namespaces "x" not found` (NamespaceLifecycle admission on create).
    pub fn namespace_not_found(namespace: &str) -> ApiError {
        ApiError::not_found(
            crate::resources::lookup("namespaces").expect("namespaces"),
            namespace,
        )
    }

    pub fn already_exists(resource: &Resource, name: &str) -> ApiError {
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", resource.qualified()),
        )
        .with_resource(resource, name)
    }

    /// Optimistic-concurrency failure of an update (`NewConflict` + `OptimisticLockErrorMsg`).
    pub fn conflict(resource: &Resource, name: &str) -> ApiError {
        ApiError::conflict_because(
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    pub fn conflict_because(resource: &Resource, name: &str, why: &str) -> ApiError {
        ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                resource.qualified()
            ),
        )
        .with_resource(resource, name)
    }

    /// `Pod "x" is invalid: …` with one cause per field error.
    pub fn invalid(
        resource: &Resource,
        name: &str,
        errors: &[wasmpod_manifest::FieldError],
    ) -> ApiError {
        let causes = errors
            .iter()
            .map(|error| StatusCause {
                reason: cause_reason(error.kind),
                message: error_body(error),
                field: error.path.clone(),
            })
            .collect();
        let kind = if resource.group.is_empty() {
            resource.kind.to_string()
        } else {
            format!("{}.{}", resource.kind, resource.group)
        };
        ApiError {
            code: 422,
            reason: "Invalid".into(),
            message: format!(
                "{kind} \"{name}\" is invalid: {}",
                wasmpod_manifest::aggregate_message(errors)
            ),
            details: Some(Box::new(StatusDetails {
                name: name.to_string(),
                group: resource.group.to_string(),
                kind: resource.kind.to_string(),
                causes,
                retry_after_seconds: None,
            })),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    pub fn method_not_supported() -> ApiError {
        ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    /// The `NotFound` of an unknown path (no resource served there).
    pub fn path_not_found() -> ApiError {
        let mut error = ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
        error.details = Some(Box::default());
        error
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn not_acceptable() -> ApiError {
        ApiError::new(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json, application/yaml, application/json;stream=watch",
        )
    }

    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> ApiError {
        let _ = content_type;
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    /// 410 `Expired` (`NewResourceExpired`).
    pub fn expired(message: impl Into<String>) -> ApiError {
        ApiError::new(410, "Expired", message)
    }

    pub fn internal(message: impl std::fmt::Display) -> ApiError {
        let message = message.to_string();
        let mut error = ApiError::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
        );
        error.details = Some(Box::new(StatusDetails {
            causes: vec![StatusCause {
                reason: String::new(),
                message,
                field: String::new(),
            }],
            ..StatusDetails::default()
        }));
        error
    }

    /// A non-API error surfaced as is (`StatusReasonUnknown`, 500), e.g. a kubelet dial failure.
    pub fn unknown(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "", message)
    }

    /// Maps a storage failure about `name` of `resource`.
    pub fn from_storage(error: StorageError, resource: &Resource, name: &str) -> ApiError {
        match error {
            StorageError::NotFound { .. } => ApiError::not_found(resource, name),
            StorageError::AlreadyExists { .. } => ApiError::already_exists(resource, name),
            StorageError::Conflict { .. } => ApiError::conflict(resource, name),
            StorageError::Compacted { compacted_revision } => ApiError::expired(format!(
                "The resourceVersion for the provided watch is too old. (compacted revision {compacted_revision})"
            )),
            other => ApiError::internal(other),
        }
    }

    /// The `Status` JSON body.
    pub fn to_status(&self) -> Value {
        let mut status = Map::new();
        status.insert("kind".into(), json!("Status"));
        status.insert("apiVersion".into(), json!("v1"));
        status.insert("metadata".into(), json!({}));
        status.insert("status".into(), json!("Failure"));
        status.insert("message".into(), json!(self.message));
        if !self.reason.is_empty() {
            status.insert("reason".into(), json!(self.reason));
        }
        if let Some(details) = &self.details {
            status.insert("details".into(), details.to_json());
        }
        status.insert("code".into(), json!(self.code));
        Value::Object(status)
    }
}

impl StatusDetails {
    fn to_json(&self) -> Value {
        let mut details = Map::new();
        if !self.name.is_empty() {
            details.insert("name".into(), json!(self.name));
        }
        if !self.group.is_empty() {
            details.insert("group".into(), json!(self.group));
        }
        if !self.kind.is_empty() {
            details.insert("kind".into(), json!(self.kind));
        }
        if !self.causes.is_empty() {
            let causes = self
                .causes
                .iter()
                .map(|cause| {
                    let mut entry = Map::new();
                    if !cause.reason.is_empty() {
                        entry.insert("reason".into(), json!(cause.reason));
                    }
                    if !cause.message.is_empty() {
                        entry.insert("message".into(), json!(cause.message));
                    }
                    if !cause.field.is_empty() {
                        entry.insert("field".into(), json!(cause.field));
                    }
                    Value::Object(entry)
                })
                .collect();
            details.insert("causes".into(), Value::Array(causes));
        }
        if let Some(seconds) = self.retry_after_seconds {
            details.insert("retryAfterSeconds".into(), json!(seconds));
        }
        Value::Object(details)
    }
}

/// `metav1.CauseType` of a field error: "FieldValue" + the error type.
fn cause_reason(kind: wasmpod_manifest::FieldErrorKind) -> String {
    use wasmpod_manifest::FieldErrorKind as K;
    match kind {
        K::NotFound => "FieldValueNotFound",
        K::Required => "FieldValueRequired",
        K::Duplicate => "FieldValueDuplicate",
        K::Invalid => "FieldValueInvalid",
        K::NotSupported => "FieldValueNotSupported",
        K::Forbidden => "FieldValueForbidden",
        K::TooLong => "FieldValueTooLong",
        K::TooMany => "FieldValueTooMany",
        K::Internal => "InternalError",
    }
    .to_string()
}

/// `field.Error.ErrorBody()`: the error text without the field path.
fn error_body(error: &wasmpod_manifest::FieldError) -> String {
    let full = error.to_string();
    let prefix = format!("{}: ", error.path);
    full.strip_prefix(&prefix).unwrap_or(&full).to_string()
}

/// The `Status` of a successful delete of a kind that does not return the deleted object.
pub fn success_status(resource: &Resource, name: &str, uid: &str) -> Value {
    let mut details = Map::new();
    details.insert("name".into(), json!(name));
    if !resource.group.is_empty() {
        details.insert("group".into(), json!(resource.group));
    }
    details.insert("kind".into(), json!(resource.plural));
    if !uid.is_empty() {
        details.insert("uid".into(), json!(uid));
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": Value::Object(details),
    })
}
