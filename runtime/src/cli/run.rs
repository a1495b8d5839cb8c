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
use crate::control::ControlPlane;
use crate::store::Change;
use crate::{Node, NodeConfig};

pub async fn run(
    home: &Path,
    files: &[PathBuf],
    run_for: Option<Duration>,
    allowed_host_paths: Vec<PathBuf>,
) -> Result<(), CliError> {
    // Nothing starts unless every manifest is valid.
    let objects = wasmpod_manifest::load_set(files)?;
    let mut config = NodeConfig::new(home.to_path_buf());
    config.allowed_host_paths = allowed_host_paths;
    let node = Node::new(config)?;
    let mut changes = node.store().subscribe();
    let storage: Arc<dyn wasmpod_storage::Storage> =
        Arc::new(wasmpod_storage::MemoryStorage::new());
    let control = ControlPlane::start(node.clone(), storage, ApiOptions::default())
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
    loop {
        tokio::select! {
            change = changes.recv() => stream_change(change, &mut printer, &node),
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
            _ = &mut deadline => break,
        }
    }

    let final_table =
        wasmpod_printers::get_pods(&node.store().pods(None), node.clock().now(), false);
    let deletion = node.delete_all(None);
    tokio::pin!(deletion);
    loop {
        tokio::select! {
            _ = &mut deletion => break,
            change = changes.recv() => stream_change(change, &mut printer, &node),
        }
    }
    while let Ok(change) = changes.try_recv() {
        stream_change(Ok(change), &mut printer, &node);
    }
    println!();
    print_out(&final_table);
    if std::fs::read_to_string(&discovery).is_ok_and(|s| s.trim() == api) {
        let _ = std::fs::remove_file(&discovery);
    }
    Ok(())
}

fn stream_change(
    change: Result<Change, tokio::sync::broadcast::error::RecvError>,
    printer: &mut EventStreamPrinter,
    node: &Node,
) {
    if let Ok(Change::EventAdded(event) | Change::EventModified(event)) = change {
        print_out(&printer.line(&event, node.clock().now()));
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
