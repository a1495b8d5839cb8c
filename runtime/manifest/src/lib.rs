//! wasmpod-manifest: turns manifest files into validated, defaulted
//! `k8s_openapi::api::core::v1` Pods, ConfigMaps and Secrets, accepting and
//! rejecting exactly what the Kubernetes API server (v1.33) would.
//!
//! Pipeline per document: YAML/JSON → JSON value → type meta and
//! `List` expansion → strict typed decode (unknown fields, type errors) →
//! defaults ([`apply_defaults`], [`apply_config_map_defaults`], [`apply_secret_defaults`])
//! → validation ([`validate`], [`validate_config_map`], [`validate_secret`]).

// ManifestError carries full context (file, document, object, paths) by design; it is
// built at most once per load, so its size does not matter.
#![allow(clippy::result_large_err)]

mod admission;
mod config_defaults;
mod decode;
mod defaults;
mod documents;
mod error;
mod field_error;
mod go_compat;
mod load;
mod objects;
mod unknown_fields;
mod validation;

pub use admission::{admit, admit_with_toleration_seconds, DEFAULT_TOLERATION_SECONDS};
pub use config_defaults::{apply_config_map_defaults, apply_secret_defaults, DEFAULT_SECRET_TYPE};
pub use decode::MAX_OBJECT_JSON_BYTES;
pub use defaults::{
    apply_defaults, DEFAULT_NAMESPACE, DEFAULT_SCHEDULER_NAME,
    DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS, DEFAULT_TERMINATION_MESSAGE_PATH,
};
pub use error::{DocumentLocation, ManifestError, ObjectRef};
pub use field_error::{aggregate_message, FieldError, FieldErrorKind, FieldValue};
pub use load::{
    load_paths, load_set, parse, parse_located, parse_set, LocatedPod, ManifestSet, STDIN_PATH,
    STDIN_SOURCE_NAME,
};
pub use unknown_fields::unknown_fields;
pub use validation::{validate, validate_config_map, validate_secret};
pub use wasmpod_reference::default_image_pull_policy;

/// Object kinds (all `apiVersion: v1`) that manifests may contain.
pub const SUPPORTED_KINDS: &[&str] = &["Pod", "ConfigMap", "Secret"];
