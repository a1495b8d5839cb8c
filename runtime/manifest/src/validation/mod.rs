//! API-server validation of Pods (`pkg/apis/core/validation/validation.go`), with the
//! API server's messages.

mod container;
mod meta;
mod names;
mod path;
mod pod;
mod probe;

pub use pod::validate;
