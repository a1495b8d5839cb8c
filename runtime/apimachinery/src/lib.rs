//! Pure-function parts of a Kubernetes API server (kube-apiserver 1.33 semantics) operating on
//! `serde_json::Value`: strategic merge patch, JSON merge patch (RFC 7386), JSON patch (RFC 6902),
//! label selectors and field selectors. Error texts follow the Go implementations so that kubectl
//! shows what a real cluster would.

pub mod error;
pub mod fields;
mod gofmt;
pub mod json_patch;
pub mod labels;
pub mod merge_patch;
pub mod smp;
pub mod validation;

pub use error::{
    FieldSelectorError, JsonPatchError, LabelSelectorError, MergePatchError, PatchError,
};
pub use fields::{selectable_fields, FieldSelector};
pub use gofmt::go_quote;
pub use json_patch::apply_json_patch;
pub use labels::{
    format_label_selector, format_labels, LabelSource, Operator, Requirement, Selector,
};
pub use merge_patch::json_merge_patch;
pub use smp::{strategic_merge_patch, strip_patch_directives, PatchKind, Schema};

/// Deepest nesting any function here will walk before giving up with an error, so that hostile
/// input cannot overflow the stack. serde_json refuses to parse deeper than 128 levels anyway.
pub const MAX_DEPTH: usize = 128;
