//! `wasmpod run FILE... [--for D]`: apply, stream events, and on Ctrl-C/SIGTERM/--for delete
//! the pods gracefully, print the final `get pods` table and exit 0.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use wasmpod_printers::EventStreamPrinter;

use std::sync::Arc;

use wasmpod_apiserver::{ApiOptions, ServingIdentity};

use super::CliError;
use crate::control::{ControlPlane, ControlPlaneOptions};
use crate::{Node, NodeConfig};
use k8s_openapi::api::core::v1::Event;
use wasmpod_storage::WatchEvent;

pub async fn run(
    home: &Path,
    files: &[PathBuf],
    run_for: Option<Duration>,
    allowed_host_paths: Vec<PathBuf>,
    registry: crate::RegistrySettings,
) -> Result<(), CliError> {
    // Nothing starts unless every manifest is valid.
    let objects = wasmpod_manifest::load_set(files)?;
    let mut config = NodeConfig::new(home.to_path_buf());
    config.allowed_host_paths = allowed_host_paths;
    config.registry = registry;
    let node = Node::new(config)?;
    let storage: Arc<dyn wasmpod_storage::Storage> =
        Arc::new(wasmpod_storage::MemoryStorage::new());
    // Everything the API records from here on: events of kubelet, scheduler and controllers
    // in the order they were written, and the pods (to know when the last one is gone).
    let mut changes = storage
        .watch("/registry/", wasmpod_storage::INITIAL_REVISION)
        .await
        .map_err(|e| CliError::Server(e.to_string()))?;
    let options = ControlPlaneOptions::single_node(ApiOptions::default());
    let control = ControlPlane::start(node.clone(), storage, options)
        .await
        .map_err(|e| CliError::Server(e.message))?;
    let api = serve_api(&control, SocketAddr::from(([127, 0, 0, 1], 0)), None).await?;
    let discovery = crate::api::discovery_file(home);
    record_discovery(&discovery, &api)?;
    eprintln!(
        "wasmpod: node {} serving the API at {api} (try `wasmpod get pods`, or kubectl with `wasmpod kubeconfig`)",
        node.name(),
    );

    let mut printer = EventStreamPrinter::new();
    if let Err(error) = control.create_all(objects).await {
        let _ = std::fs::remove_file(&discovery);
        return Err(CliError::Server(error.message));
    }

    let mut terminate = signal(SignalKind::terminate()).map_err(|source| CliError::Io {
        context: "cannot watch SIGTERM".into(),
        source,
    })?;
    let deadline = run_for.map(|d| node.clock().sleep(d));
    let deadline = async move {
        match deadline {
            Some(sleep) => sleep.await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut pods = std::collections::HashSet::new();
    loop {
        tokio::select! {
            change = changes.next() => stream_change(change, &mut printer, &node, &mut pods),
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
            _ = &mut deadline => break,
        }
    }

    let final_table =
        wasmpod_printers::get_pods(&node.store().pods(None), node.clock().now(), false);
    let deletion = node.delete_all(None);
    tokio::pin!(deletion);
    let mut deleted = false;
    // Until the node has stopped every pod and the API has seen each final delete: the node
    // writes a pod's events before its final delete, so none is missed.
    let drained = tokio::time::sleep(FINAL_EVENTS_DEADLINE);
    tokio::pin!(drained);
    while !(deleted && pods.is_empty()) {
        tokio::select! {
            _ = &mut deletion, if !deleted => deleted = true,
            change = changes.next() => stream_change(change, &mut printer, &node, &mut pods),
            _ = &mut drained, if deleted => break,
        }
    }
    println!();
    print_out(&final_table);
    if std::fs::read_to_string(&discovery).is_ok_and(|s| s.trim() == api) {
        let _ = std::fs::remove_file(&discovery);
    }
    Ok(())
}

/// How long, after the node stopped its pods, the last events may take to reach the API.
const FINAL_EVENTS_DEADLINE: Duration = Duration::from_secs(5);

/// Prints an event written to the API (created or repeated); keeps track of the pods.
fn stream_change(
    change: Option<Result<WatchEvent, wasmpod_storage::StorageError>>,
    printer: &mut EventStreamPrinter,
    node: &Node,
    pods: &mut std::collections::HashSet<String>,
) {
    match change {
        Some(Ok(WatchEvent::Put { kv, .. })) => {
            if kv.key.starts_with("/registry/pods/") {
                pods.insert(kv.key);
            } else if kv.key.starts_with("/registry/events/") {
                let event = wasmpod_apiserver::decode_object(&kv)
                    .ok()
                    .and_then(|object| serde_json::from_value::<Event>(object).ok());
                // The node's registration and the leader election are left to
                // `kubectl get events`: the stream is about the workloads.
                let about_machinery =
                    |e: &Event| matches!(e.involved_object.kind.as_deref(), Some("Node" | "Lease"));
                if let Some(event) = event.filter(|e| !about_machinery(e)) {
                    print_out(&printer.line(&event, node.clock().now()));
                }
            }
        }
        Some(Ok(WatchEvent::Delete { prev, .. })) => {
            pods.remove(&prev.key);
        }
        // The in-memory store never ends a watch while it lives.
        Some(Err(_)) | None => {}
    }
}

fn print_out(text: &str) {
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

pub fn record_discovery(file: &Path, url: &str) -> Result<(), CliError> {
    let io = |source| CliError::Io {
        context: format!("cannot record the API address in {}", file.display()),
        source,
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(file, format!("{url}\n")).map_err(io)
}

/// Serves the control plane's API on `listen` in the background, over HTTPS with `identity`
/// when given; its URL.
pub async fn serve_api(
    control: &ControlPlane,
    listen: SocketAddr,
    identity: Option<ServingIdentity>,
) -> Result<String, CliError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| CliError::Io {
            context: format!("cannot listen on {listen} for the API"),
            source,
        })?;
    let address = listener.local_addr().map_err(|source| CliError::Io {
        context: "cannot read the API address".into(),
        source,
    })?;
    let api = control.api.clone();
    let scheme = if identity.is_some() { "https" } else { "http" };
    tokio::spawn(async move {
        let served = match identity {
            Some(identity) => api.serve_tls(listener, &identity).await,
            None => api.serve(listener).await,
        };
        if let Err(error) = served {
            eprintln!("wasmpod: the API server stopped: {error}");
        }
    });
    Ok(format!("{scheme}://{address}"))
}
