//! `wasmpod serve [--listen ADDR] [--state-dir DIR]`: a long-running node with the Kubernetes
//! API, its objects kept in a durable store. Stopping it (or `kill -9`) leaves the pods in the
//! store; the next start runs them again, restart counts continued. On loopback it serves
//! plain HTTP; on any other address HTTPS with a generated certificate and bearer token
//! (`<state-dir>/tls`, mode 0600), both written into the kubeconfig.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::signal::unix::{signal, SignalKind};
use wasmpod_apiserver::{kubeconfig, load_or_create_token, ApiOptions, ServingIdentity};
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
    // Beyond loopback, only with TLS and a bearer token (kubectl sends tokens only over TLS).
    let secured = if listen.ip().is_loopback() {
        None
    } else {
        let dir = state_dir.join("tls");
        let tls_error = |e: wasmpod_apiserver::TlsError| CliError::Usage(e.to_string());
        let identity =
            ServingIdentity::load_or_create(&dir, &[listen.ip().to_string()]).map_err(tls_error)?;
        let token = load_or_create_token(&dir).map_err(tls_error)?;
        Some((identity, token))
    };
    let options = ApiOptions {
        bearer_token: secured.as_ref().map(|(_, token)| token.clone()),
        ..ApiOptions::default()
    };
    let control = ControlPlane::start(node.clone(), Arc::new(storage), options)
        .await
        .map_err(|e| CliError::Server(e.message))?;
    let identity = secured.as_ref().map(|(identity, _)| identity.clone());
    let url = serve_api(&control, listen, identity).await?;
    let discovery = crate::api::discovery_file(home);
    record_discovery(&discovery, &url)?;
    let config = match &secured {
        None => kubeconfig(&url, None, None),
        Some((identity, token)) => kubeconfig(&url, Some(identity.cert_pem()), Some(token)),
    };
    write_private(&kubeconfig_file(home), &config)?;
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

/// Where `wasmpod serve` writes the kubeconfig for its API (with the CA and token when it
/// serves HTTPS); `wasmpod kubeconfig` prints it.
pub fn kubeconfig_file(home: &Path) -> PathBuf {
    home.join("run").join("kubeconfig")
}

/// The kubeconfig of the running `wasmpod serve`, else one for the plain-HTTP `server`.
pub fn kubeconfig_for(home: &Path, server: &str) -> String {
    std::fs::read_to_string(kubeconfig_file(home))
        .ok()
        .filter(|config| config.contains(&format!("server: {server}")))
        .unwrap_or_else(|| kubeconfig(server, None, None))
}

fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| CliError::Io {
        context: format!("cannot write {}", path.display()),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}
