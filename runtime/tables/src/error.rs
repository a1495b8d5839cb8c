//! Errors of table generation.

use crate::kind::ResourceKind;

/// Why a Table could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// An object does not deserialize as the API type of its resource (e.g. a string where
    /// the schema wants a number). kube-apiserver never stores such objects.
    #[error("object {index} is not a valid {kind:?}: {source}")]
    InvalidObject {
        kind: ResourceKind,
        index: usize,
        #[source]
        source: serde_json::Error,
    },
    /// The `includeObject` table option has a value kube-apiserver rejects.
    #[error("unrecognized includeObject value: {0:?}")]
    UnknownIncludeObject(String),
}
