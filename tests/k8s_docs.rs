//! The Kubernetes documentation's probe examples (examples/k8s-docs), unmodified, on the
//! bundled Wasm builds of the images they name, on simulated time: the probes' delays and
//! periods are the published ones, and every wait below is simulated.
//! (exec-liveness runs in podspec.rs.)

mod common;

use std::time::Duration;

use tokio::time::Instant;

use common::node::{events, sim_node, status_of, wait_for_status};
use wasmpod::Node;

fn run_example(node: &Node, file: &str) {
    let path = std::path::PathBuf::from(format!(
        "{}/../examples/k8s-docs/{file}",
        env!("CARGO_MANIFEST_DIR")
    ));
    let set = wasmpod::manifest::load_set(&[path]).expect("the docs example is valid");
    node.apply_set(set).expect("admitted");
}

fn messages(node: &Node, pod: &str, reason: &str) -> Vec<String> {
    events(node, reason)
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(pod))
        .filter_map(|e| e.message)
        .collect()
}

/// liveness-http: agnhost's /healthz answers 200 for 10 s, then 500; three failures restart it.
#[tokio::test(start_paused = true)]
async fn http_liveness_restarts_once_healthz_turns_500() {
    let t = sim_node();
    let node = &t.node;
    run_example(node, "http-liveness.yaml");
    let started = Instant::now();
    let restarted = wait_for_status(
        node,
        "liveness-http",
        Duration::from_secs(60),
        "the restart",
        |s| s.restart_count >= 1,
    )
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let unhealthy = messages(node, "liveness-http", "Unhealthy");
    assert_eq!(
        unhealthy,
        ["Liveness probe failed: HTTP probe failed with statuscode: 500"],
        "counted into one event"
    );
    assert_eq!(events(node, "Unhealthy")[0].count, Some(3));
    assert!(messages(node, "liveness-http", "Killing")
        .contains(&"Container liveness failed liveness probe, will be restarted".to_string()));
    assert!(restarted.last_state.unwrap().terminated.is_some());
}

/// goproxy: readiness and liveness TCP probes from 15 s on; Ready then, never restarted.
#[tokio::test(start_paused = true)]
async fn tcp_liveness_readiness_goproxy_becomes_ready_after_15_seconds() {
    let t = sim_node();
    let node = &t.node;
    run_example(node, "tcp-liveness-readiness.yaml");
    let started = Instant::now();
    wait_for_status(node, "goproxy", Duration::from_secs(10), "running", |s| {
        s.state.as_ref().is_some_and(|st| st.running.is_some())
    })
    .await;
    assert!(
        !status_of(node, "goproxy").unwrap().ready,
        "not ready before the initial delay"
    );
    wait_for_status(node, "goproxy", Duration::from_secs(40), "ready", |s| {
        s.ready
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let status = status_of(node, "goproxy").unwrap();
    assert_eq!(status.restart_count, 0);
    assert!(messages(node, "goproxy", "Unhealthy").is_empty());
}

/// etcd-with-grpc: the bundled etcd stand-in serves the gRPC health protocol on 2379.
#[tokio::test(start_paused = true)]
async fn grpc_liveness_etcd_stays_healthy() {
    let t = sim_node();
    let node = &t.node;
    run_example(node, "grpc-liveness.yaml");
    wait_for_status(
        node,
        "etcd-with-grpc",
        Duration::from_secs(10),
        "ready",
        |s| s.ready,
    )
    .await;
    // The first liveness probe runs 10 s in; wait for two periods' worth of probes.
    let probe_deadline = tokio::time::Instant::now() + Duration::from_secs(25);
    tokio::time::sleep_until(probe_deadline).await;
    let status = status_of(node, "etcd-with-grpc").unwrap();
    assert_eq!(status.restart_count, 0);
    assert!(
        messages(node, "etcd-with-grpc", "Unhealthy").is_empty(),
        "{:?}",
        messages(node, "etcd-with-grpc", "Unhealthy")
    );
}

/// pod-with-tcp-socket-healthcheck: the redis stand-in listens on 6379; the TCP probe from
/// 30 s on passes.
#[tokio::test(start_paused = true)]
async fn tcp_socket_healthcheck_redis_passes() {
    let t = sim_node();
    let node = &t.node;
    run_example(node, "pod-with-tcp-socket-healthcheck.yaml");
    let ip = common::node::pod_ip(node, "pod-with-tcp-socket-healthcheck").await;
    let address = std::net::SocketAddr::new(ip.parse().unwrap(), 6379);
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.network().connect(address).await.is_err() {
        assert!(Instant::now() < deadline, "redis never listened on 6379");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Past the first probes at 30 s: still running, never restarted.
    tokio::time::sleep(Duration::from_secs(33)).await;
    let status = status_of(node, "pod-with-tcp-socket-healthcheck").unwrap();
    assert_eq!(status.restart_count, 0);
    assert!(messages(node, "pod-with-tcp-socket-healthcheck", "Unhealthy").is_empty());
}

/// agnhost grpc-health-checking, as Kubernetes' own gRPC probe e2e tests use it: SERVING on
/// its gRPC port until `--delay-unhealthy-sec`, or until `/make-not-serving` on its HTTP port.
#[tokio::test(start_paused = true)]
async fn agnhost_grpc_health_checking_turns_not_serving() {
    let t = sim_node();
    let node = &t.node;
    for (name, args) in [
        (
            "delayed",
            r#"["grpc-health-checking", "--delay-unhealthy-sec=20"]"#,
        ),
        ("forced", r#"["grpc-health-checking"]"#),
    ] {
        let yaml = format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: agnhost
    image: registry.k8s.io/e2e-test-images/agnhost:2.40
    args: {args}
    livenessProbe: {{grpc: {{port: 5000}}, periodSeconds: 5, failureThreshold: 1}}
"#
        );
        node.apply(vec![common::node::pod(&yaml)]).unwrap();
    }
    let not_serving = "Liveness probe failed: service unhealthy (responded with \"NOT_SERVING\")";
    let restarted = wait_for_status(
        node,
        "delayed",
        Duration::from_secs(60),
        "the restart",
        |s| s.restart_count >= 1,
    )
    .await;
    assert_eq!(messages(node, "delayed", "Unhealthy"), [not_serving]);
    let finished = restarted
        .last_state
        .unwrap()
        .terminated
        .unwrap()
        .finished_at
        .unwrap();
    let started = node
        .store()
        .pod("default", "delayed")
        .unwrap()
        .status
        .unwrap()
        .start_time
        .unwrap();
    // Probes at 5, 10, 15 s pass; the one at 20 s is the first NOT_SERVING.
    let lived = finished.0.duration_since(started.0).as_secs();
    assert!((20..=22).contains(&lived), "{lived}");

    // The other one keeps serving until told otherwise over HTTP.
    assert!(messages(node, "forced", "Unhealthy").is_empty());
    let ip = common::node::pod_ip(node, "forced").await;
    let (status, body) = common::node::get_on(node, format!("{ip}:8080"), "/make-not-serving")
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    wait_for_status(
        node,
        "forced",
        Duration::from_secs(30),
        "the restart",
        |s| s.restart_count >= 1,
    )
    .await;
    assert_eq!(messages(node, "forced", "Unhealthy"), [not_serving]);
}

/// The docs' http-liveness probe sends `Custom-Header: Awesome`. agnhost itself does not
/// show what it received, so the test's image store (wasmpod's own mechanism, the manifest
/// is untouched) names a recording program `agnhost:2.40`: it logs the header.
#[tokio::test(start_paused = true)]
async fn http_liveness_custom_header_reaches_the_container() {
    let t = sim_node();
    let node = &t.node;
    node.images()
        .tag(
            "cmd_app:latest",
            "registry.k8s.io/e2e-test-images/agnhost:2.40",
        )
        .unwrap();
    run_example(node, "http-liveness.yaml");
    common::node::wait_for_log_line(node, "liveness-http", "request /healthz").await;
    let lines: Vec<String> = node
        .logs("default", "liveness-http", None)
        .unwrap()
        .lines(false)
        .unwrap_or_default()
        .into_iter()
        .map(|l| l.text)
        .collect();
    let at = lines.iter().position(|l| l == "request /healthz").unwrap();
    assert_eq!(
        lines.get(at + 1).map(String::as_str),
        Some("header Custom-Header: Awesome"),
        "{lines:?}"
    );
}

/// pod-with-http-healthcheck: stock nginx has no /_status/healthz, so (as on a cluster) the
/// liveness probe gets 404 from 30 s on and the container is restarted after three.
#[tokio::test(start_paused = true)]
async fn http_healthcheck_nginx_is_restarted_on_404() {
    let t = sim_node();
    let node = &t.node;
    run_example(node, "pod-with-http-healthcheck.yaml");
    let started = Instant::now();
    wait_for_status(
        node,
        "pod-with-http-healthcheck",
        Duration::from_secs(120),
        "the restart",
        |s| s.restart_count >= 1,
    )
    .await;
    let restarted_after = started.elapsed();
    assert_eq!(
        messages(node, "pod-with-http-healthcheck", "Unhealthy"),
        ["Liveness probe failed: HTTP probe failed with statuscode: 404"]
    );
    // Ticks every 10 s; the first at or past the 30 s initial delay fails, two more trip it.
    assert!(
        (Duration::from_secs(50)..=Duration::from_secs(62)).contains(&restarted_after),
        "{restarted_after:?}"
    );
}

/// Kubernetes' "Containers" e2e tests: agnhost entrypoint-tester prints its os.Args, with
/// the image's entrypoint (`/agnhost`) or the container's `command` in front.
#[tokio::test(start_paused = true)]
async fn agnhost_entrypoint_tester_shows_command_and_args() {
    let t = sim_node();
    let node = &t.node;
    for (name, command) in [
        ("args-only", ""),
        ("command", r#"command: ["/agnhost-2", "entrypoint-tester"]"#),
    ] {
        let yaml = format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: registry.k8s.io/e2e-test-images/agnhost:2.40
    {command}
    args: ["entrypoint-tester", "override", "arguments"]
"#
        );
        node.apply(vec![common::node::pod(&yaml)]).unwrap();
    }
    for (name, expected) in [
        (
            "args-only",
            "[/agnhost entrypoint-tester override arguments]",
        ),
        (
            "command",
            "[/agnhost-2 entrypoint-tester entrypoint-tester override arguments]",
        ),
    ] {
        let status = wait_for_status(node, name, Duration::from_secs(10), "the exit", |s| {
            s.state.as_ref().is_some_and(|st| st.terminated.is_some())
        })
        .await;
        assert_eq!(status.state.unwrap().terminated.unwrap().exit_code, 0);
        let lines: Vec<String> = node
            .logs("default", name, None)
            .unwrap()
            .lines(false)
            .unwrap_or_default()
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(lines, [expected], "{name}");
    }
}
