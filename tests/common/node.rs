//! In-process helpers: a node on a private WASMPOD_HOME with the test guests imported, and
//! waiting on pod status changes with deadlines.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ContainerStatus, Event, Pod};
use tokio::sync::broadcast::error::RecvError;
use wasmpod::{Node, NodeConfig};

pub struct TestNode {
    pub node: Node,
    _home: super::Home,
}

impl TestNode {
    pub fn home(&self) -> &std::path::Path {
        self._home.path()
    }
}

pub fn node() -> TestNode {
    let home = super::Home::new();
    let config = NodeConfig::new(home.path().to_path_buf());
    with_test_guests(config, home)
}

/// A node on simulated time. The test runs on a paused current-thread runtime
/// (`#[tokio::test(start_paused = true)]`), so every tokio timer in it is simulated too.
pub fn sim_node() -> TestNode {
    let home = super::Home::new();
    let config = NodeConfig::simulated(home.path().to_path_buf(), std::time::SystemTime::now());
    with_test_guests(config, home)
}

fn with_test_guests(config: NodeConfig, home: super::Home) -> TestNode {
    let node = Node::new(config).expect("node");
    for guest in ["misbehave", "cmd_app", "grpc_health", "hostile"] {
        node.images()
            .import_file(
                &format!("{guest}:latest"),
                &wasmpod::images::guest_artifact(guest),
            )
            .expect("import the test guest");
    }
    TestNode { node, _home: home }
}

pub fn pod(yaml: &str) -> Pod {
    wasmpod::manifest::parse("test.yaml", yaml)
        .expect("valid manifest")
        .remove(0)
}

pub fn status_of(node: &Node, name: &str) -> Option<ContainerStatus> {
    node.store()
        .pod("default", name)?
        .status?
        .container_statuses?
        .into_iter()
        .next()
}

/// Waits (on store changes, with a deadline) until `check` holds for the pod's status.
pub async fn wait_for_status(
    node: &Node,
    name: &str,
    within: Duration,
    what: &str,
    check: impl Fn(&ContainerStatus) -> bool,
) -> ContainerStatus {
    let mut changes = node.store().subscribe();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(status) = status_of(node, name).filter(|s| check(s)) {
            return status;
        }
        match tokio::time::timeout_at(deadline, changes.recv()).await {
            Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) => {}
            Ok(Err(RecvError::Closed)) => panic!("store closed"),
            Err(_) => panic!(
                "timed out after {within:?} waiting for {what}; last status: {:#?}",
                status_of(node, name)
            ),
        }
    }
}

pub fn events(node: &Node, reason: &str) -> Vec<Event> {
    node.store()
        .events(Some("default"))
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some(reason))
        .collect()
}

pub async fn pod_ip(node: &Node, name: &str) -> String {
    let mut changes = node.store().subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ip = node
            .store()
            .pod("default", name)
            .and_then(|pod| pod.status?.pod_ip);
        if let Some(ip) = ip {
            return ip;
        }
        if tokio::time::timeout_at(deadline, changes.recv())
            .await
            .is_err()
        {
            panic!("{name} never got a pod IP");
        }
    }
}

/// GET on a fresh connection through the node's network (in-process on simulated time).
pub async fn get_on(node: &Node, address: String, path: &str) -> std::io::Result<(u16, String)> {
    if node.simulated_time().is_none() {
        return get(address, path).await;
    }
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr: std::net::SocketAddr = address.parse().expect("ip:port");
    let mut connection = node.network().connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    connection.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    connection.read_to_end(&mut response).await?;
    Ok(super::parse_response(&String::from_utf8_lossy(&response)))
}

/// GET on a fresh connection, off the async threads.
pub async fn get(address: String, path: &str) -> std::io::Result<(u16, String)> {
    let path = path.to_string();
    tokio::task::spawn_blocking(move || super::http_get(&address, &path))
        .await
        .unwrap()
}

pub fn terminated(status: &ContainerStatus) -> (i32, String) {
    let state = status.state.as_ref().unwrap();
    let t = state
        .terminated
        .clone()
        .or_else(|| {
            status
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.clone())
        })
        .expect("a termination");
    (t.exit_code, t.reason.unwrap_or_default())
}

/// GETs `path` on the pod's port, retrying until the port is open (it opens once the
/// instance has started, or once a program listens).
pub async fn get_when_listening(node: &Node, name: &str, port: u16, path: &str) -> (u16, String) {
    let address = format!("{}:{port}", pod_ip(node, name).await);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(answer) = get_on(node, address.clone(), path).await {
            return answer;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name}: port {port} never opened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the container's current log has a line equal to `line`.
pub async fn wait_for_log_line(node: &Node, name: &str, line: &str) {
    let logs = node.logs("default", name, None).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !logs
        .lines(false)
        .unwrap_or_default()
        .iter()
        .any(|l| l.text == line)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name}: no log line {line:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The next pod deleted from the store (as watched through `changes`), within a deadline.
pub async fn next_deleted(
    changes: &mut tokio::sync::broadcast::Receiver<wasmpod::store::Change>,
    within: Duration,
) -> Pod {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, changes.recv()).await {
            Ok(Ok(wasmpod::store::Change::PodDeleted(pod))) => return pod,
            Ok(Ok(_)) | Ok(Err(RecvError::Lagged(_))) => {}
            Ok(Err(RecvError::Closed)) => panic!("store closed"),
            Err(_) => panic!("no pod was deleted within {within:?}"),
        }
    }
}
