//! `wasmpod serve [--listen ADDR] [--state-dir DIR] [--etcd URLS --node-name NAME]`: a
//! long-running node with the Kubernetes API, its objects kept in a durable store (its own, or
//! a cluster's etcd). Stopping it (or `kill -9`) leaves the pods in the
//! store; the next start runs them again, restart counts continued. On loopback it serves
//! plain HTTP; on any other address HTTPS with a generated certificate and bearer token
//! (`<state-dir>/tls`, mode 0600), both written into the kubeconfig.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use wasmpod_apiserver::{kubeconfig, load_or_create_token, ApiOptions, ServingIdentity};
use wasmpod_storage::election::{Elector, EtcdElector, LocalElector};
use wasmpod_storage::{
    EtcdOptions, EtcdStorage, RedbStorage, Storage, StorageError, StorageOptions,
};

use super::run::{record_discovery, serve_api};
use super::CliError;
use crate::control::{ControlPlane, ControlPlaneOptions};
use crate::{Node, NodeConfig};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:6443";

/// `wasmpod serve`'s flags. Cluster timings take Kubernetes' flag names and defaults.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address of the API. Loopback: plain HTTP. Any other address: HTTPS with a
    /// generated certificate and bearer token (see `wasmpod kubeconfig`).
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Where the objects are kept (default: $WASMPOD_HOME/state). With --etcd only the
    /// TLS identity lives here.
    #[arg(long = "state-dir")]
    pub state_dir: Option<PathBuf>,
    /// A host directory pods may mount as a hostPath volume (repeatable); others are refused.
    #[arg(long = "allow-host-path")]
    pub allow_host_path: Vec<PathBuf>,
    #[command(flatten)]
    pub registry: super::image::RegistryFlags,
    /// Join a cluster whose state lives in etcd (comma-separated client URLs, e.g.
    /// http://127.0.0.1:2379). Without it the node keeps its own embedded store.
    #[arg(long, value_delimiter = ',')]
    pub etcd: Vec<String>,
    /// This node's name (default: the host name). Unique in a cluster.
    #[arg(long = "node-name")]
    pub node_name: Option<String>,
    /// The node's InternalIP, where its node ports are reached (default: the --listen
    /// address, or 127.0.0.1 when that is unspecified).
    #[arg(long = "node-ip")]
    pub node_ip: Option<std::net::IpAddr>,
    /// Pods this node accepts (kubelet --max-pods).
    #[arg(long = "max-pods", default_value_t = 110)]
    pub max_pods: u32,
    /// Node lease duration; renewed every quarter of it (kubelet: 40s).
    #[arg(long = "node-lease-duration", default_value = "40s", value_parser = super::duration::parse)]
    pub node_lease_duration: Duration,
    /// How often node health is checked (kube-controller-manager --node-monitor-period).
    #[arg(long = "node-monitor-period", default_value = "5s", value_parser = super::duration::parse)]
    pub node_monitor_period: Duration,
    /// A node silent this long is NotReady/Unknown (--node-monitor-grace-period).
    #[arg(long = "node-monitor-grace-period", default_value = "50s", value_parser = super::duration::parse)]
    pub node_monitor_grace_period: Duration,
    /// tolerationSeconds added to pods for the not-ready/unreachable taints: how long a lost
    /// node's pods stay before eviction (kube-apiserver --default-unreachable-toleration-seconds).
    #[arg(long = "default-toleration-seconds", default_value_t = wasmpod_manifest::DEFAULT_TOLERATION_SECONDS)]
    pub default_toleration_seconds: i64,
    /// How long the controller leader's lease lasts (--leader-elect-lease-duration); a dead
    /// leader is replaced after about this long. etcd's minimum is 2s.
    #[arg(long = "leader-elect-lease-duration", default_value = "15s", value_parser = super::duration::parse)]
    pub leader_elect_lease_duration: Duration,
    /// Where Service ClusterIPs come from (on loopback, apart from pod IPs).
    #[arg(long = "service-cluster-ip-range", default_value = "127.0.128.0/17")]
    pub service_cluster_ip_range: wasmpod_apiserver::ServiceIpRange,
    /// Where NodePorts come from.
    #[arg(long = "service-node-port-range", default_value = "30000-32767", value_parser = parse_port_range)]
    pub service_node_port_range: std::ops::RangeInclusive<u16>,
}

fn parse_port_range(text: &str) -> Result<std::ops::RangeInclusive<u16>, String> {
    let invalid = || format!("{text:?} is not a port range like 30000-32767");
    let (low, high) = text.split_once('-').ok_or_else(invalid)?;
    let low: u16 = low.trim().parse().map_err(|_| invalid())?;
    let high: u16 = high.trim().parse().map_err(|_| invalid())?;
    if low == 0 || low > high {
        return Err(invalid());
    }
    Ok(low..=high)
}

pub async fn serve(home: &Path, args: ServeArgs) -> Result<(), CliError> {
    let listen = args.listen;
    let state_dir = args.state_dir.clone().unwrap_or_else(|| home.join("state"));
    std::fs::create_dir_all(&state_dir).map_err(|source| CliError::Io {
        context: format!("cannot create the state dir {}", state_dir.display()),
        source,
    })?;
    let (storage, elector) = open_store(&state_dir, &args).await?;
    let mut config = NodeConfig::new(home.to_path_buf());
    config.allowed_host_paths = args.allow_host_path.clone();
    config.registry = args.registry.settings();
    config.node_name = args.node_name.clone();
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
    let api = ApiOptions {
        bearer_token: secured.as_ref().map(|(_, token)| token.clone()),
        default_toleration_seconds: args.default_toleration_seconds,
        service_cluster_ip_range: args.service_cluster_ip_range,
        service_node_port_range: args.service_node_port_range.clone(),
        ..ApiOptions::default()
    };
    let node_ip = args.node_ip.unwrap_or(if listen.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        listen.ip()
    });
    let mut options = ControlPlaneOptions::new(api, elector);
    options.registration.internal_ip = node_ip.to_string();
    options.registration.max_pods = args.max_pods;
    options.registration.lease_duration = args.node_lease_duration;
    options.registration.renew_interval = args.node_lease_duration / 4;
    options.leader_lease_duration = args.leader_elect_lease_duration;
    options.set_node_monitoring(args.node_monitor_period, args.node_monitor_grace_period);
    let control = ControlPlane::start(node.clone(), storage, options)
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

/// The embedded redb store (single machine), or etcd when `--etcd` names endpoints; with the
/// matching leader election.
async fn open_store(
    state_dir: &Path,
    args: &ServeArgs,
) -> Result<(Arc<dyn Storage>, Arc<dyn Elector>), CliError> {
    if !args.etcd.is_empty() {
        let storage = EtcdStorage::connect(&args.etcd, EtcdOptions::default())
            .await
            .map_err(|error| {
                CliError::Usage(format!(
                    "cannot reach etcd at {}: {error}",
                    args.etcd.join(",")
                ))
            })?;
        let elector = EtcdElector::new(&storage, args.leader_elect_lease_duration);
        return Ok((Arc::new(storage), Arc::new(elector)));
    }
    let storage = RedbStorage::open(state_dir, StorageOptions::default()).map_err(|error| {
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
    Ok((Arc::new(storage), Arc::new(LocalElector::new())))
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
