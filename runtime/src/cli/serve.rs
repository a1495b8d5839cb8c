//! `wasmpod serve [--listen ADDR] [--state-dir DIR]`: a long-running node with the Kubernetes
//! API, its objects kept in a durable store. Stopping it (or `kill -9`) leaves the pods in the
//! store; the next start runs them again, restart counts continued.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::signal::unix::{signal, SignalKind};
use wasmpod_apiserver::ApiOptions;
use wasmpod_storage::{RedbStorage, StorageError, StorageOptions};

use super::run::{record_discovery, serve_api};
use super::CliError;
use crate::control::ControlPlane;
use crate::{Node, NodeConfig};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:6443";

pub async fn serve(
    home: &Path,
    listen: SocketAddr,
    state_dir: Option<PathBuf>,
    allowed_host_paths: Vec<PathBuf>,
) -> Result<(), CliError> {
    if !listen.ip().is_loopback() {
        return Err(CliError::Usage(format!(
            "--listen {listen}: serving beyond loopback needs TLS and a bearer token, which `wasmpod serve` does not offer yet; listen on 127.0.0.1"
        )));
    }
    let state_dir = state_dir.unwrap_or_else(|| home.join("state"));
    std::fs::create_dir_all(&state_dir).map_err(|source| CliError::Io {
        context: format!("cannot create the state dir {}", state_dir.display()),
        source,
    })?;
    let storage = RedbStorage::open(&state_dir, StorageOptions::default()).map_err(|error| {
        CliError::Usage(match error {
            StorageError::Locked { path } => format!(
                "the state dir {} is in use by another wasmpod serve ({} is locked)",
                state_dir.display(),
                path.display()
            ),
            StorageError::Corrupt { path, detail } => format!(
                "the state in {} is damaged ({detail}); move it away to start empty",
                path.display()
            ),
            other => format!("cannot open the state dir {}: {other}", state_dir.display()),
        })
    })?;
    let mut config = NodeConfig::new(home.to_path_buf());
    config.allowed_host_paths = allowed_host_paths;
    let node = Node::new(config)?;
    let control = ControlPlane::start(node.clone(), Arc::new(storage), ApiOptions::default())
        .await
        .map_err(|e| CliError::Server(e.message))?;
    let url = serve_api(&control, listen).await?;
    let discovery = crate::api::discovery_file(home);
    record_discovery(&discovery, &url)?;
    eprintln!(
        "wasmpod: node {} serving the API at {url}, state in {} (kubectl: `wasmpod kubeconfig > k.yaml; kubectl --kubeconfig k.yaml get pods`)",
        node.name(),
        state_dir.display()
    );
    let mut terminate = signal(SignalKind::terminate()).map_err(|source| CliError::Io {
        context: "cannot watch SIGTERM".into(),
        source,
    })?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    if std::fs::read_to_string(&discovery).is_ok_and(|s| s.trim() == url) {
        let _ = std::fs::remove_file(&discovery);
    }
    eprintln!("wasmpod: stopped; the pods stay in the state dir and run again at the next start");
    Ok(())
}

/// A kubeconfig for the API the running `wasmpod run`/`serve` recorded.
pub fn kubeconfig(server: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: wasmpod\n  cluster:\n    server: {server}\nusers:\n- name: wasmpod\n  user: {{}}\ncontexts:\n- name: wasmpod\n  context:\n    cluster: wasmpod\n    user: wasmpod\n    namespace: default\ncurrent-context: wasmpod\n"
    )
}
