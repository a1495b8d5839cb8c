//! Errors from loading manifests. Every variant says where the object came from
//! (file, 1-based document number, list item) and, when known, which object it is.

use std::fmt;

use crate::field_error::{aggregate_message, go_quote, FieldError};

/// Where an object came from: the file (`STDIN` for `-`), the 1-based YAML/JSON
/// document number and, for `kind: List` documents, the index in `items`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentLocation {
    pub source: String,
    pub document: usize,
    pub item: Option<usize>,
}

impl fmt::Display for DocumentLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.item {
            Some(item) => write!(
                f,
                "{} (document {}, items[{}])",
                self.source, self.document, item
            ),
            None => write!(f, "{} (document {})", self.source, self.document),
        }
    }
}

/// `Pod "name"`, or just `Pod` while the name is unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: String,
    pub name: Option<String>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} {}", self.kind, go_quote(name)),
            None => f.write_str(&self.kind),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file (or standard input) could not be read.
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// The text is not well-formed YAML/JSON; line/column come from the parser.
    #[error("{location}: malformed {format}{}: {message}", line_column(*.line, *.column))]
    Syntax {
        location: DocumentLocation,
        format: &'static str,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },

    /// The document is a scalar or a sequence rather than an object.
    #[error("{location}: expected a Kubernetes object (a mapping with apiVersion and kind), found {found}")]
    NotAnObject {
        location: DocumentLocation,
        found: &'static str,
    },

    /// `apiVersion` and/or `kind` are missing (kubectl: `error validating data`).
    #[error("{location}: {}error validating data: {}", object_prefix(.name.as_deref()), join_missing(.missing))]
    MissingTypeMeta {
        location: DocumentLocation,
        /// Field paths that are missing, e.g. `["apiVersion", "kind"]`.
        missing: Vec<&'static str>,
        name: Option<String>,
    },

    #[error("{location}: {object}: kind {:?} is not supported yet (supported: {})", .object.kind, crate::SUPPORTED_KINDS.join(", "))]
    UnsupportedKind {
        location: DocumentLocation,
        object: ObjectRef,
        api_version: String,
    },

    #[error("{location}: {object}: no matches for kind {:?} in version {api_version:?}", .object.kind)]
    UnsupportedApiVersion {
        location: DocumentLocation,
        object: ObjectRef,
        api_version: String,
    },

    /// Strict decoding found fields the API does not know (all of them, sorted).
    #[error("{location}: {object} in version \"v1\" cannot be handled as a {}: strict decoding error: {}", .object.kind, join_unknown(.fields))]
    UnknownFields {
        location: DocumentLocation,
        object: ObjectRef,
        fields: Vec<String>,
    },

    /// A field has the wrong JSON type (e.g. `containerPort: true`).
    #[error("{location}: {object} in version \"v1\" cannot be handled as a {}: {path}: {message}", .object.kind)]
    TypeMismatch {
        location: DocumentLocation,
        object: ObjectRef,
        path: String,
        message: String,
    },

    /// Validation failed; holds every field error (API-server `Invalid` status).
    #[error("{location}: The {} {} is invalid: {}", .object.kind, go_quote(.object.name.as_deref().unwrap_or("")), aggregate_message(.errors))]
    Invalid {
        location: DocumentLocation,
        object: ObjectRef,
        errors: Vec<FieldError>,
    },

    /// The object is bigger than one kube-apiserver request body may be
    /// ([`crate::MAX_OBJECT_JSON_BYTES`]); kubectl would get 413 `RequestEntityTooLarge`.
    #[error("{location}: {object}: Request entity too large: limit is {limit} (the object is {size} bytes as JSON)")]
    TooLarge {
        location: DocumentLocation,
        object: ObjectRef,
        size: usize,
        limit: usize,
    },

    /// Two documents define the same object (the second create would be `AlreadyExists`).
    #[error("{location}: {object} in namespace {namespace:?} is already defined in {first}")]
    DuplicateObject {
        location: DocumentLocation,
        object: ObjectRef,
        namespace: String,
        first: DocumentLocation,
    },
}

impl ManifestError {
    /// The document the error refers to (`None` for read errors).
    pub fn location(&self) -> Option<&DocumentLocation> {
        match self {
            ManifestError::Read { .. } => None,
            ManifestError::Syntax { location, .. }
            | ManifestError::NotAnObject { location, .. }
            | ManifestError::MissingTypeMeta { location, .. }
            | ManifestError::UnsupportedKind { location, .. }
            | ManifestError::UnsupportedApiVersion { location, .. }
            | ManifestError::UnknownFields { location, .. }
            | ManifestError::TypeMismatch { location, .. }
            | ManifestError::Invalid { location, .. }
            | ManifestError::TooLarge { location, .. }
            | ManifestError::DuplicateObject { location, .. } => Some(location),
        }
    }
}

fn line_column(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
        (Some(line), None) => format!(" at line {line}"),
        _ => String::new(),
    }
}

fn object_prefix(name: Option<&str>) -> String {
    name.map(|name| format!("object {}: ", go_quote(name)))
        .unwrap_or_default()
}

fn join_missing(missing: &[&'static str]) -> String {
    let messages: Vec<String> = missing.iter().map(|f| format!("{f} not set")).collect();
    match messages.len() {
        1 => messages[0].clone(),
        _ => format!("[{}]", messages.join(", ")),
    }
}

fn join_unknown(fields: &[String]) -> String {
    fields
        .iter()
        .map(|f| format!("unknown field {}", go_quote(f)))
        .collect::<Vec<_>>()
        .join(", ")
}
