//! API under restart load: what `wasmpod serve --listen 127.0.0.1:PORT` sets up — the
//! embedded redb store (fsync on every commit, as `serve` opens it), the control plane with
//! this node as kubelet, the Kubernetes API on loopback plain HTTP — built in-process so the
//! node can run with the crash back-off off (`serve` has no such flag; with the kubelet's
//! back-off the pods would soon restart only every 5 min). `WASMPOD_BENCH_API_PODS` pods
//! (default 1000) of the fail-after-3 guest are created with plain HTTP POSTs of Pod JSON;
//! their liveness probe runs every `WASMPOD_BENCH_API_PROBE_PERIOD` seconds (default 10), so
//! each restarts every ~4 periods: 1000 pods × one restart per ~40 s ≈ 25 restarts/s, the
//! soak's rate. (With a 1 s period, 250 restarts/s, two cores could not keep up: every
//! restart's status and events are fsynced writes, and pod creation slowed to a crawl at
//! ~220 pods.) Once every pod has restarted at least once, one client on one
//! keep-alive connection GETs `/api/v1/namespaces/default/pods/<name>` (names in turn) for
//! `WASMPOD_BENCH_API_SECONDS` (default 30), then LISTs `…/pods?limit=500` for as long.
//! Latency is request written → whole answer read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use wasmpod::control::{ControlPlane, ControlPlaneOptions};
use wasmpod::{Node, NodeConfig};
use wasmpod_apiserver::ApiOptions;
use wasmpod_storage::{RedbStorage, StorageOptions};

use crate::http::Connection;
use crate::report::{human, Report, Row};
use crate::soak::{import_graceful_guest, restarts, IMAGE};

const GOAL_GET_P99: Duration = Duration::from_millis(50);
const PODS_PATH: &str = "/api/v1/namespaces/default/pods";

pub fn measure(pods: usize, probe_period: u64, window: Duration, report: &mut Report) {
    let home = tempfile::tempdir().expect("temp dir");
    let runtime = crate::node_runtime();
    let (control, address) = runtime.block_on(async {
        let storage = RedbStorage::open(&home.path().join("state"), StorageOptions::default())
            .expect("state store");
        let mut config = NodeConfig::new(home.path().to_path_buf());
        config.benchmark_without_crash_backoff = true;
        let node = Node::new(config).expect("node");
        import_graceful_guest(&node);
        let mut options = ControlPlaneOptions::single_node(ApiOptions::default());
        options.registration.max_pods = u32::try_from(pods + 10).unwrap_or(u32::MAX);
        let control = ControlPlane::start(node, Arc::new(storage), options)
            .await
            .expect("control plane");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("API listener");
        let address = listener.local_addr().expect("API address").to_string();
        let api = control.api.clone();
        tokio::spawn(async move { api.serve(listener).await });
        (control, address)
    });
    let node = control.node.clone();
    println!(
        "api_load: {pods} pods restarting every ~{} s through the API at http://{address}",
        4 * probe_period
    );

    let mut client = Connection::new(&address);
    let created = Instant::now();
    for i in 0..pods {
        let (status, body) = client
            .request(
                "POST",
                PODS_PATH,
                Some(&pod_json(&pod_name(i), probe_period)),
            )
            .expect("POST a pod");
        assert_eq!(
            status,
            201,
            "POST pod {i}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let creating = created.elapsed();
    let settled = all_restarted_once(&node, pods, Duration::from_secs(300));
    let settling = created.elapsed();
    println!(
        "api_load: {pods} pods created in {}, all restarted at least once after {} {}",
        human(creating),
        human(settling),
        if settled {
            ""
        } else {
            "(deadline passed: not all had)"
        }
    );

    let mut outcome = Vec::new();
    for (what, path_of) in [
        (
            "GET pod",
            &(|i: usize| format!("{PODS_PATH}/{}", pod_name(i % pods))) as &dyn Fn(usize) -> String,
        ),
        ("LIST limit=500", &|_| format!("{PODS_PATH}?limit=500")),
    ] {
        let restarts_before = restarts(&node);
        let (samples, failures) = load(&mut client, window, path_of);
        let restarts_during = restarts(&node) - restarts_before;
        outcome.push((what, samples, failures, restarts_during));
    }
    runtime.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(120), node.delete_all(Some(0))).await;
    });
    drop(control);
    drop(runtime);

    for (what, samples, failures, restarts_during) in outcome {
        let requests = samples.len();
        let row = Row::new(
            &format!(
                "api_load: {what}, {pods} pods restarting every ~{} s",
                4 * probe_period
            ),
            samples,
        );
        let max = row.max();
        let goal = if what == "GET pod" {
            format!(
                " (goal p99 < {} ms: {})",
                GOAL_GET_P99.as_millis(),
                if row.p99() < GOAL_GET_P99 {
                    "✓"
                } else {
                    "✗"
                }
            )
        } else {
            String::new()
        };
        let text = format!(
            "p50 {} p99 {} max {}, {requests} requests in {} s ({:.0}/s), {failures} failed, {restarts_during} restarts meanwhile ({:.0}/s){goal}",
            human(row.median()),
            human(row.p99()),
            human(max),
            window.as_secs(),
            requests as f64 / window.as_secs_f64(),
            restarts_during as f64 / window.as_secs_f64(),
        );
        println!("api_load {what}: {text}");
        if what == "GET pod" {
            let group = "api_load: GET pod while pods restart, p99 (less is better)";
            report.compare(
                group,
                &format!("wasmpod, {pods} pods"),
                row.p99().as_secs_f64() * 1e3,
                "ms",
            );
            report.compare(group, "goal", GOAL_GET_P99.as_secs_f64() * 1e3, "ms");
        }
        report.fact(
            format!("api_load {what}"),
            text,
            json!({
                "section": "api_load",
                "request": what,
                "pods": pods,
                "liveness_period_seconds": probe_period,
                "seconds": window.as_secs_f64(),
                "requests": requests,
                "failed": failures,
                "p50_seconds": row.median().as_secs_f64(),
                "p99_seconds": row.p99().as_secs_f64(),
                "max_seconds": max.as_secs_f64(),
                "restarts_meanwhile": restarts_during,
                "seconds_to_create_pods": creating.as_secs_f64(),
                "goal_p99_seconds": (what == "GET pod").then_some(GOAL_GET_P99.as_secs_f64()),
            }),
        );
        report.row(row);
    }
}

/// Requests `path_of(i)` one after the other for `window`: the latencies of the 200s, and
/// how many got another answer or none.
fn load(
    client: &mut Connection,
    window: Duration,
    path_of: &dyn Fn(usize) -> String,
) -> (Vec<Duration>, usize) {
    let (mut samples, mut failures) = (Vec::new(), 0);
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < window {
        let path = path_of(i);
        i += 1;
        let sent = Instant::now();
        match client.request("GET", &path, None) {
            Ok((200, _)) => samples.push(sent.elapsed()),
            _ => failures += 1,
        }
    }
    (samples, failures)
}

/// Waits until every pod has restarted at least once (the load is then steady); false at
/// the deadline.
fn all_restarted_once(node: &Node, pods: usize, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let restarted = node
            .store()
            .pods(None)
            .iter()
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.restart_count > 0))
            })
            .count();
        if restarted >= pods {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

fn pod_name(i: usize) -> String {
    format!("load-{i}")
}

fn pod_json(name: &str, probe_period: u64) -> String {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{
            "name": "app",
            "image": IMAGE,
            "imagePullPolicy": "Never",
            "ports": [{"containerPort": 8080}],
            "livenessProbe": {
                "httpGet": {"path": "/", "port": 8080},
                "periodSeconds": probe_period,
                "failureThreshold": 1,
            },
        }]},
    })
    .to_string()
}
