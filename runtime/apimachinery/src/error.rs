//! Typed errors. Display texts are those of the Go code kube-apiserver 1.33 runs
//! (`mergepatch`, `strategicpatch`, `evanphx/json-patch.v4`, `labels`, `fields`).

use thiserror::Error;

/// Errors of [`crate::strategic_merge_patch`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PatchError {
    #[error("invalid JSON document")]
    BadJsonDoc,
    #[error("lists of lists are not supported")]
    NoListOfLists,
    #[error("invalid patch format of primitive list")]
    BadPatchFormatForPrimitiveList,
    #[error("invalid patch format of retainKeys")]
    BadPatchFormatForRetainKeys,
    #[error("invalid patch format of setElementOrder list")]
    BadPatchFormatForSetElementOrderList,
    #[error("map: {map} does not contain declared merge key: {key}")]
    NoMergeKey { map: String, key: String },
    #[error("expected a {expected}, but received a {actual}")]
    BadArgType { expected: String, actual: String },
    #[error("unknown patch type: {directive} in map: {map}")]
    BadPatchType { directive: String, map: String },
    #[error("merging lists cannot yet be specified in the patch")]
    MergingListsNotSupported,
    #[error("cannot merge lists without merge key for type {kind}")]
    NoMergeKeyForType { kind: String },
    #[error("list element types are not identical: {0}")]
    ListElementTypesNotIdentical(String),
    #[error("no elements in any of the given slices")]
    NoElements,
    #[error("the order in patch list:\n{patch}\n doesn't match $setElementOrder list:\n{order}")]
    SetElementOrderMismatch { patch: String, order: String },
    #[error("value for key {0} is not a map")]
    ValueNotAMap(usize),
    /// Not a Go error: our guard against unbounded recursion.
    #[error("patch nesting exceeds the maximum depth of {0}")]
    TooDeep(usize),
}

impl PatchError {
    /// HTTP status kube-apiserver answers with (`interpretStrategicMergePatchError`):
    /// format errors are 400, list-of-lists 422, everything else surfaces as a 500.
    pub fn http_status(&self) -> u16 {
        match self {
            PatchError::BadJsonDoc
            | PatchError::BadPatchFormatForPrimitiveList
            | PatchError::BadPatchFormatForRetainKeys
            | PatchError::BadPatchFormatForSetElementOrderList
            | PatchError::TooDeep(_) => 400,
            PatchError::NoListOfLists => 422,
            _ => 500,
        }
    }
}

/// Errors of [`crate::json_merge_patch`] (texts of evanphx/json-patch v4).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MergePatchError {
    #[error("Invalid JSON Document")]
    BadJsonDoc,
    #[error("Invalid JSON Patch")]
    BadJsonPatch,
    #[error("merge patch nesting exceeds the maximum depth of {0}")]
    TooDeep(usize),
}

impl MergePatchError {
    /// kube-apiserver maps `ErrBadJSONPatch` to 400; other errors surface unchanged (500).
    pub fn http_status(&self) -> u16 {
        match self {
            MergePatchError::BadJsonPatch | MergePatchError::TooDeep(_) => 400,
            MergePatchError::BadJsonDoc => 500,
        }
    }
}

/// Errors of [`crate::apply_json_patch`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonPatchError {
    /// The patch document itself could not be decoded (kube-apiserver: 400).
    #[error("{0}")]
    Decode(String),
    /// An operation failed against the document (kube-apiserver: 422).
    #[error("{0}")]
    Apply(String),
}

impl JsonPatchError {
    pub fn http_status(&self) -> u16 {
        match self {
            JsonPatchError::Decode(_) => 400,
            JsonPatchError::Apply(_) => 422,
        }
    }
}

/// A label selector that failed to parse or validate; the text is the one kube-apiserver
/// returns (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct LabelSelectorError(pub String);

/// A field selector that failed to parse, or names a field the kind does not support (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct FieldSelectorError(pub String);
