//! Where the other commands find a running node's API. The API itself is
//! `wasmpod-apiserver`, bridged to the node by [`crate::control`].

use std::path::{Path, PathBuf};

/// Where a running `wasmpod run` or `wasmpod serve` records its API address for the other
/// commands.
pub fn discovery_file(home: &Path) -> PathBuf {
    home.join("run").join("api-server")
}
