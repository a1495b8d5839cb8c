//! Soak: 100 pods of the fail-after-3 guest that exits when asked to stop (`health_graceful`),
//! liveness period 1 s and failureThreshold 1, crash back-off off through the node's
//! benchmark-only setting (with the kubelet's back-off a pod would wait 10 s, 20 s, … 5 min
//! between restarts, not a few seconds). Each pod answers three probes, fails the fourth and is
//! restarted: one restart per pod every ~4 s. For `WASMPOD_BENCH_SOAK_SECONDS` of real time
//! (default 600) the measuring thread samples every 10 s what the process holds — resident
//! memory, descriptors, threads, tokio tasks, listening TCP sockets — and the restarts so far.
//! Growth is judged from the first sample after a warm-up (60 s, or a third of a shorter run)
//! to the last. The simulated-time variant is in `soak_simulated`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wasmpod::{Node, NodeConfig};

use crate::process::Resources;
use crate::report::{Report, Row};

pub const PODS: usize = 100;
/// Reads one resource's figure out of a sample.
type SampleValue = fn(&Sample) -> f64;

const SAMPLE_EVERY: Duration = Duration::from_secs(10);
const WARM_UP: Duration = Duration::from_secs(60);
pub const IMAGE: &str = "bench/health-graceful:latest";

/// A pod of the fail-after-3 guest, restarted by its liveness probe every ~4 s.
pub fn restarting_pod_yaml(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers:\n  - name: app\n    image: {IMAGE}\n    imagePullPolicy: Never\n    ports: [{{containerPort: 8080}}]\n    livenessProbe: {{httpGet: {{path: /, port: 8080}}, periodSeconds: 1, failureThreshold: 1}}\n"
    )
}

pub fn import_graceful_guest(node: &Node) {
    node.images()
        .import_file(IMAGE, &wasmpod::images::guest_artifact("health_graceful"))
        .expect("import the graceful guest");
}

/// Container restarts of every pod on the node, as their statuses count them.
pub fn restarts(node: &Node) -> u64 {
    node.store()
        .pods(None)
        .iter()
        .filter_map(|p| p.status.as_ref()?.container_statuses.as_ref())
        .flatten()
        .map(|c| c.restart_count.max(0) as u64)
        .sum()
}

struct Sample {
    at: Duration,
    restarts: u64,
    resources: Resources,
    tasks: usize,
}

impl Sample {
    fn json(&self) -> Value {
        let mut value = self.resources.json();
        value["seconds"] = json!(self.at.as_secs_f64());
        value["restarts"] = json!(self.restarts);
        value["tokio_tasks"] = json!(self.tasks);
        value
    }
}

pub fn measure(run_for: Duration, report: &mut Report) {
    let home = tempfile::tempdir().expect("temp dir");
    let runtime = crate::node_runtime();
    let mut config = NodeConfig::new(home.path().to_path_buf());
    config.benchmark_without_crash_backoff = true;
    let node = runtime.block_on(async { Node::new(config) }).expect("node");
    import_graceful_guest(&node);
    let sample = |started: Instant| Sample {
        at: started.elapsed(),
        restarts: restarts(&node),
        resources: Resources::now(),
        tasks: runtime.metrics().num_alive_tasks(),
    };
    println!(
        "soak: {PODS} pods restarting every ~4 s for {} s of real time, a sample every {} s",
        run_for.as_secs(),
        SAMPLE_EVERY.as_secs()
    );
    let before = sample(Instant::now());
    let started = Instant::now();
    runtime.block_on(async {
        for i in 0..PODS {
            let yaml = restarting_pod_yaml(&format!("soak-{i}"));
            let pod = wasmpod::manifest::parse("soak.yaml", &yaml).expect("manifest");
            node.apply(pod).expect("admitted");
        }
    });
    let mut samples = Vec::new();
    print_header();
    let mut next = started;
    while next < started + run_for {
        next = (next + SAMPLE_EVERY).min(started + run_for);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let now = sample(started);
        print_sample(&now);
        samples.push(now);
    }
    let took = started.elapsed();
    let threads = crate::process::threads_by_name();
    runtime.block_on(node.delete_all(Some(0)));
    let Some(last) = samples.last() else {
        return;
    };
    let warm_up = WARM_UP.min(run_for / 3);
    let settled_from = samples
        .iter()
        .position(|s| s.at >= warm_up)
        .unwrap_or(samples.len() - 1);
    let baseline = &samples[settled_from];
    let growths = verdicts(&samples[settled_from..]);
    for (text, _) in &growths {
        println!("soak {text}");
    }
    let threads_text = threads
        .iter()
        .map(|(name, count)| format!("{name} ×{count}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!("soak threads at the end, by name: {threads_text}");
    let restarts = last.restarts;
    let per_second = restarts as f64 / took.as_secs_f64();
    report.fact(
        "soak (real time)",
        format!(
            "{PODS} pods for {} s: {restarts} restarts ({per_second:.1}/s); {}",
            took.as_secs(),
            growths
                .iter()
                .map(|(text, _)| text.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        json!({
            "section": "soak",
            "pods": PODS,
            "seconds": took.as_secs_f64(),
            "restarts": restarts,
            "restarts_per_second": per_second,
            "warm_up_seconds": warm_up.as_secs_f64(),
            "before_pods": before.json(),
            "growth_after_warm_up": growths.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
            "samples": samples.iter().map(Sample::json).collect::<Vec<_>>(),
            "threads_at_end_by_name": threads.iter().map(|(name, count)| json!({"name": name, "count": count})).collect::<Vec<_>>(),
        }),
    );
    report.row(Row::new(
        &format!(
            "soak: {PODS} pods restarting for {} s (wall)",
            took.as_secs()
        ),
        vec![took],
    ));
    report.compare(
        "soak: host RSS, MiB (after warm-up → end)",
        "after warm-up",
        mib(baseline.resources.rss_bytes),
        "MiB",
    );
    report.compare(
        "soak: host RSS, MiB (after warm-up → end)",
        &format!("after {} s", took.as_secs()),
        mib(last.resources.rss_bytes),
        "MiB",
    );
}

/// Per resource: a line saying how it grew from the first of `after_warm_up` to the last
/// (with the range in between: task counts swing with restarts in flight), and the same as
/// JSON.
fn verdicts(after_warm_up: &[Sample]) -> Vec<(String, Value)> {
    let (Some(from), Some(to)) = (after_warm_up.first(), after_warm_up.last()) else {
        return Vec::new();
    };
    let span = format!(
        "{:.0} s → {:.0} s",
        from.at.as_secs_f64(),
        to.at.as_secs_f64()
    );
    let resources: [(&str, &str, SampleValue); 5] = [
        ("rss_mib", "MiB", |s| mib(s.resources.rss_bytes)),
        ("fds", "", |s| s.resources.fds as f64),
        ("threads", "", |s| s.resources.threads as f64),
        ("tokio_tasks", "", |s| s.tasks as f64),
        ("listening_tcp_sockets", "", |s| {
            s.resources.listeners as f64
        }),
    ];
    resources
        .into_iter()
        .map(|(name, unit, value_of)| {
            let (first, last) = (value_of(from), value_of(to));
            let values = after_warm_up.iter().map(value_of);
            let low = values.clone().fold(f64::INFINITY, f64::min);
            let high = values.fold(f64::NEG_INFINITY, f64::max);
            let growth = last - first;
            let percent = if first > 0.0 {
                growth / first * 100.0
            } else {
                0.0
            };
            let precision = usize::from(!unit.is_empty());
            let unit_text = if unit.is_empty() {
                String::new()
            } else {
                format!(" {unit}")
            };
            let text = format!(
                "{name}: {first:.precision$} → {last:.precision$}{unit_text} ({growth:+.precision$}, {percent:+.1} %) over {span}, range {low:.precision$}–{high:.precision$}",
            );
            let value = json!({
                "resource": name,
                "after_warm_up": first,
                "last": last,
                "growth": growth,
                "growth_percent": percent,
                "min_after_warm_up": low,
                "max_after_warm_up": high,
            });
            (text, value)
        })
        .collect()
}

fn print_header() {
    println!(
        "{:>7} {:>9} {:>8} {:>6} {:>8} {:>7} {:>10}",
        "time", "restarts", "RSS MiB", "fds", "threads", "tasks", "listeners"
    );
}

fn print_sample(sample: &Sample) {
    println!(
        "{:>6}s {:>9} {:>8.1} {:>6} {:>8} {:>7} {:>10}",
        sample.at.as_secs(),
        sample.restarts,
        mib(sample.resources.rss_bytes),
        sample.resources.fds,
        sample.resources.threads,
        sample.tasks,
        sample.resources.listeners
    );
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
