//! The kubelet's registration and heartbeats: a `Node` object describing this node, and a
//! `Lease` in `kube-node-lease` renewed every `renew_interval` (pkg/kubelet/nodelease). The node
//! lifecycle controller declares the node lost when both stop moving.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinHandle;
use wasmpod_apiserver::{ApiError, ApiServer, EventKind, EventRecorder};

/// How this node registers and proves it is alive; defaults are the kubelet's.
#[derive(Debug, Clone)]
pub struct NodeRegistration {
    /// `status.capacity.pods` (kubelet `--max-pods`, 110).
    pub max_pods: u32,
    /// The node's `InternalIP` (where its node ports and API are reached).
    pub internal_ip: String,
    /// Extra node labels (`--node-labels`).
    pub labels: Vec<(String, String)>,
    /// `spec.leaseDurationSeconds` of the node lease (40 s).
    pub lease_duration: Duration,
    /// Lease renewal period (lease duration × 0.25 = 10 s).
    pub renew_interval: Duration,
    /// Node status is written when it changes, and at least this often (5 min,
    /// `nodeStatusReportFrequency`).
    pub status_report_interval: Duration,
}

impl Default for NodeRegistration {
    fn default() -> Self {
        NodeRegistration {
            max_pods: 110,
            internal_ip: "127.0.0.1".into(),
            labels: Vec::new(),
            lease_duration: Duration::from_secs(40),
            renew_interval: Duration::from_secs(10),
            status_report_interval: Duration::from_secs(300),
        }
    }
}

const KUBELET_VERSION: &str = "v1.33.0";
const LEASE_NAMESPACE: &str = "kube-node-lease";

/// Registers the node (or takes over its existing object), then keeps lease and status fresh.
pub(super) async fn start(
    api: ApiServer,
    node_name: String,
    registration: NodeRegistration,
) -> Result<JoinHandle<()>, ApiError> {
    let events = EventRecorder::new(api.clone(), "kubelet").on_host(&node_name);
    let node = register(&api, &node_name, &registration).await?;
    events
        .record(&node, EventKind::Normal, "Starting", "Starting kubelet.")
        .await;
    for (reason, what) in [
        ("NodeHasSufficientMemory", "NodeHasSufficientMemory"),
        ("NodeHasNoDiskPressure", "NodeHasNoDiskPressure"),
        ("NodeHasSufficientPID", "NodeHasSufficientPID"),
        ("NodeReady", "NodeReady"),
    ] {
        let message = format!("Node {node_name} status is now: {what}");
        events
            .record(&node, EventKind::Normal, reason, &message)
            .await;
    }
    Ok(tokio::spawn(heartbeat(
        api,
        node_name,
        registration,
        events,
    )))
}

async fn register(
    api: &ApiServer,
    node_name: &str,
    registration: &NodeRegistration,
) -> Result<Value, ApiError> {
    let wanted = node_object(node_name, registration);
    match api.create_object("nodes", "", wanted.clone()).await {
        Ok(_) => {}
        // A node that ran before (restarted process): keep its object, refresh it.
        Err(error) if error.code == 409 => {
            let mut current = api.get_object("nodes", "", node_name).await?;
            current["metadata"]["labels"] = wanted["metadata"]["labels"].clone();
            api.update_object("nodes", "", node_name, current).await?;
        }
        Err(error) => return Err(error),
    }
    api.update_status("nodes", "", node_name, wanted).await
}

/// Renews the lease every interval; rewrites the status when it is not what this kubelet
/// reports (the node controller marked it Unknown while we were unreachable) or is old.
async fn heartbeat(
    api: ApiServer,
    node_name: String,
    registration: NodeRegistration,
    events: EventRecorder,
) {
    let mut last_report = tokio::time::Instant::now();
    loop {
        let _ = super::lease::renew(
            &api,
            LEASE_NAMESPACE,
            &node_name,
            &node_name,
            registration.lease_duration,
        )
        .await;
        if let Ok(current) = api.get_object("nodes", "", &node_name).await {
            let ready = ready_condition(&current);
            let stale = last_report.elapsed() >= registration.status_report_interval;
            if ready.as_deref() != Some("True") || stale {
                let status = node_object(&node_name, &registration);
                if api
                    .update_status("nodes", "", &node_name, status)
                    .await
                    .is_ok()
                {
                    last_report = tokio::time::Instant::now();
                    if ready.as_deref() != Some("True") {
                        let message = format!("Node {node_name} status is now: NodeReady");
                        events
                            .record(&current, EventKind::Normal, "NodeReady", &message)
                            .await;
                    }
                }
            }
        }
        tokio::time::sleep(registration.renew_interval).await;
    }
}

fn ready_condition(node: &Value) -> Option<String> {
    node.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")?
        .get("status")?
        .as_str()
        .map(str::to_string)
}

/// The Node object this kubelet reports: labels, capacity, conditions, addresses, info.
fn node_object(node_name: &str, registration: &NodeRegistration) -> Value {
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let memory_kib = memory_total_kib();
    // Go's GOARCH names.
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let mut labels = json!({
        "beta.kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "kubernetes.io/hostname": node_name,
        "kubernetes.io/os": "linux",
    });
    for (key, value) in &registration.labels {
        labels[key] = json!(value);
    }
    let capacity = json!({
        "cpu": cpus.to_string(),
        "memory": format!("{memory_kib}Ki"),
        "pods": registration.max_pods.to_string(),
    });
    let condition = |kind: &str, status: &str, reason: &str, message: &str| {
        json!({
            "type": kind, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": now, "lastTransitionTime": now,
        })
    };
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let os_image = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|s| s.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let machine_id = std::fs::read_to_string("/etc/machine-id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node_name,
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [
                {"type": "InternalIP", "address": registration.internal_ip},
                {"type": "Hostname", "address": node_name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": machine_id,
                "systemUUID": machine_id,
                "bootID": boot_id,
                "kernelVersion": kernel,
                "osImage": os_image,
                "containerRuntimeVersion": format!("wasmpod://{}", env!("CARGO_PKG_VERSION")),
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux",
                "architecture": arch,
            },
        },
    })
}

fn memory_total_kib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
