//! The local HTTP API: read-only Kubernetes REST paths over the node's store, so that
//! `wasmpod get/describe/logs` (and later the real kubectl) can look at a running node.

mod logs;
mod server;

pub use server::{serve, ApiServer};

use std::path::{Path, PathBuf};

/// Where a running `wasmpod run` records its API address for the other commands.
pub fn discovery_file(home: &Path) -> PathBuf {
    home.join("run").join("api-server")
}
