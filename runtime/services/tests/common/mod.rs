//! Shared test support: an API server over memory storage, a test "kubelet" that creates
//! pods and writes their status, echo servers on loopback addresses standing in for pods,
//! and deadline-bounded waiting.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use wasmpod_apiserver::{ApiOptions, ApiServer, DeleteOptions};
use wasmpod_services::{EndpointControllerOptions, EndpointControllers};
use wasmpod_storage::MemoryStorage;

pub const DEADLINE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(20);

pub fn api() -> ApiServer {
    ApiServer::new(Arc::new(MemoryStorage::new()), ApiOptions::default())
}

pub fn controllers(api: &ApiServer) -> EndpointControllers {
    wasmpod_services::start_endpoint_controllers(
        api.clone(),
        EndpointControllerOptions {
            retry_interval: Duration::from_millis(20),
            max_retry_interval: Duration::from_millis(200),
            ..EndpointControllerOptions::default()
        },
    )
}

/// Polls `check` until it yields a value; panics with `what` after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(POLL).await;
    }
}

pub async fn create_node(api: &ApiServer, name: &str) {
    api.create_object(
        "nodes",
        "",
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}),
    )
    .await
    .expect("create node");
}

/// A pod on `node` with `labels` whose single container declares `ports` (name, number).
pub async fn create_pod(
    api: &ApiServer,
    name: &str,
    labels: Value,
    node: &str,
    ports: &[(&str, u16)],
) -> Value {
    let ports: Vec<Value> = ports
        .iter()
        .map(|(port_name, number)| json!({"name": port_name, "containerPort": number}))
        .collect();
    api.create_object(
        "pods",
        "default",
        json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "nodeName": node,
                "containers": [{"name": "app", "image": "app:1", "ports": ports}]
            }
        }),
    )
    .await
    .expect("create pod")
}

/// Plays the kubelet: the pod runs at `ip` with its Ready condition set to `ready`.
pub async fn set_pod_status(api: &ApiServer, name: &str, ip: &str, ready: bool) {
    for _ in 0..10 {
        let mut pod = api
            .get_object("pods", "default", name)
            .await
            .expect("get pod");
        let status = if ready { "True" } else { "False" };
        let now = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        pod["status"] = json!({
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [
                {"type": "Ready", "status": status, "lastTransitionTime": now},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": now}
            ]
        });
        match api.update_status("pods", "default", name, pod).await {
            Ok(_) => return,
            Err(error) if error.code == 409 => continue,
            Err(error) => panic!("update pod status: {error}"),
        }
    }
    panic!("could not update the status of pod {name}");
}

pub async fn create(api: &ApiServer, resource: &str, object: Value) -> Value {
    api.create_object(resource, "default", object)
        .await
        .unwrap_or_else(|e| panic!("create {resource}: {e}"))
}

pub async fn delete(api: &ApiServer, resource: &str, name: &str, grace: Option<i64>) {
    api.delete_object(
        resource,
        "default",
        name,
        DeleteOptions {
            grace_period_seconds: grace,
            ..DeleteOptions::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("delete {resource} {name}: {e}"));
}

pub async fn get(api: &ApiServer, resource: &str, name: &str) -> Option<Value> {
    api.get_object(resource, "default", name).await.ok()
}

/// The EndpointSlices labelled as belonging to `service`.
pub async fn slices_of(api: &ApiServer, service: &str) -> Vec<Value> {
    api.list_objects("endpointslices", Some("default"))
        .await
        .expect("list slices")
        .items
        .into_iter()
        .filter(|s| {
            s.pointer("/metadata/labels/kubernetes.io~1service-name") == Some(&json!(service))
        })
        .collect()
}

/// A stand-in for a pod's server: on each connection it reads until the client half-closes,
/// then answers `<name>:<what it read>` and closes.
pub struct EchoServer {
    pub address: SocketAddr,
    task: JoinHandle<()>,
}

impl EchoServer {
    pub async fn start(ip: &str, name: &str) -> EchoServer {
        let listener = TcpListener::bind((ip.parse::<std::net::IpAddr>().unwrap(), 0))
            .await
            .expect("bind echo server");
        let address = listener.local_addr().unwrap();
        let name = name.to_string();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                let name = name.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    if stream.read_to_end(&mut request).await.is_ok() {
                        let reply = format!("{name}:{}", String::from_utf8_lossy(&request));
                        let _ = stream.write_all(reply.as_bytes()).await;
                        let _ = stream.shutdown().await;
                    }
                });
            }
        });
        EchoServer { address, task }
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Stops accepting; returns once the listening socket is closed.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Sends `message`, half-closes, and reads the whole answer.
pub async fn request(address: SocketAddr, message: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(address).await?;
    stream.write_all(message.as_bytes()).await?;
    stream.shutdown().await?;
    let mut reply = Vec::new();
    tokio::time::timeout(DEADLINE, stream.read_to_end(&mut reply))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer"))??;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// The name of the echo server that answered `request` (the part before ':').
pub async fn who_answers(address: SocketAddr) -> String {
    let reply = request(address, "ping")
        .await
        .expect("request through the proxy");
    let (name, echoed) = reply
        .split_once(':')
        .unwrap_or_else(|| panic!("odd reply {reply:?}"));
    assert_eq!(echoed, "ping", "the request reached the backend intact");
    name.to_string()
}
