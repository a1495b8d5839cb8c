//! P1 restart latency: the fail-after-3 guest that exits when asked to stop
//! (`health_graceful`), liveness period 1 s and failureThreshold 1, crash back-off off through
//! the node's benchmark-only setting. A measuring thread polls the pod every ~50 µs with plain
//! blocking sockets: the first refused connection marks the liveness trip (the kill closes the
//! pod's listeners before anything else), the first 200 after it marks the new instance.
//! The trip is thus known to within one poll (~50–150 µs).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use wasmpod::{Node, NodeConfig};

use crate::http;
use crate::report::{Report, Row};

const FAIL_AFTER_3_GRACEFUL: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: restarts}
spec:
  containers:
  - name: app
    image: bench/health-graceful:latest
    imagePullPolicy: Never
    ports: [{containerPort: 8080}]
    livenessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1, failureThreshold: 1}
"#;

const POLL_INTERVAL: Duration = Duration::from_micros(50);

pub fn measure(restarts: usize, report: &mut Report) {
    let home = tempfile::tempdir().expect("temp dir");
    let runtime = crate::node_runtime();
    let mut config = NodeConfig::new(home.path().to_path_buf());
    config.benchmark_without_crash_backoff = true;
    let node = runtime.block_on(async { Node::new(config) }).expect("node");
    node.images()
        .import_file(
            "bench/health-graceful:latest",
            &wasmpod::images::guest_artifact("health_graceful"),
        )
        .expect("import the graceful guest");
    let pod = wasmpod::manifest::parse("bench.yaml", FAIL_AFTER_3_GRACEFUL).expect("manifest");
    runtime
        .block_on(async { node.apply(pod) })
        .expect("admitted");
    let address = runtime
        .block_on(pod_address(&node, "restarts", 8080))
        .to_string();

    let (mut trip_to_200, mut exit_to_200) = (Vec::new(), Vec::new());
    wait_for(&address, |status| status == Some(200));
    for _ in 0..restarts {
        // Our polls use up the three good answers; the next probe gets a 500 and trips.
        let tripped = wait_for(&address, |status| status.is_none());
        let answered = wait_for(&address, |status| status == Some(200));
        trip_to_200.push(answered.duration_since(tripped));
        let exited = last_finished_at(&node, "restarts");
        let since_exit = jiff::Timestamp::now().duration_since(exited);
        if let Ok(since_exit) = Duration::try_from(since_exit) {
            exit_to_200.push(since_exit.saturating_sub(answered.elapsed()));
        }
    }
    runtime.block_on(node.delete_all(Some(0)));
    let trip_to_200 = Row::new("P1 restart: liveness trip → first 200", trip_to_200);
    let group = "P1 restart latency, p50 (less is better)";
    report.compare(
        group,
        "wasmpod",
        trip_to_200.median().as_secs_f64() * 1e3,
        "ms",
    );
    // Not measured here (no container runtime on these machines): the issue's figure.
    report.compare(group, "containerd + runc (published)", 300.0, "ms");
    report.row(trip_to_200);
    report.row(Row::new(
        "P1 restart: old instance exit → first 200",
        exit_to_200,
    ));
}

/// Polls until `done(status)` holds (status None = refused); when it first held.
fn wait_for(address: &str, done: impl Fn(Option<u16>) -> bool) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = http::get(address, "/").map(|(status, _)| status);
        let now = Instant::now();
        if done(status) {
            return now;
        }
        assert!(now < deadline, "the pod never reached the awaited state");
        std::thread::sleep(POLL_INTERVAL);
    }
}

fn last_finished_at(node: &Node, pod: &str) -> jiff::Timestamp {
    node.store()
        .pod("default", pod)
        .and_then(|p| p.status?.container_statuses?.into_iter().next())
        .and_then(|s| s.last_state?.terminated?.finished_at)
        .map(|t| t.0)
        .unwrap_or_else(jiff::Timestamp::now)
}

pub async fn pod_address(node: &Node, pod: &str, port: u16) -> SocketAddr {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ip = node
            .store()
            .pod("default", pod)
            .and_then(|p| p.status?.pod_ip);
        if let Some(ip) = ip {
            return SocketAddr::new(ip.parse().expect("pod IP"), port);
        }
        assert!(Instant::now() < deadline, "no pod IP");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
