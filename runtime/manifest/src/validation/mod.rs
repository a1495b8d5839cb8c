//! API-server validation of Pods, ConfigMaps and Secrets (`pkg/apis/core/validation/validation.go`), with the
//! API server's messages.

mod config;
mod container;
mod env;
mod meta;
use wasmpod_apimachinery::validation as names;
mod path;
mod pod;
mod probe;
mod volume;

pub use config::{validate_config_map, validate_secret};
pub use pod::validate;
