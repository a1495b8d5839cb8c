//! P4 density: N pods of the fail-after-3 guest, each with an httpGet liveness probe every 10 s
//! (failureThreshold 30, so none restarts during the measurement): time until all are ready,
//! host RSS and file descriptors per pod, the CPU the node uses over 25 s of steady probing,
//! and how far any probe strayed from its 10 s schedule (from the guest's log timestamps:
//! every probe is one "Received request" line).

use std::time::{Duration, Instant};

use serde_json::json;
use wasmpod::{Node, NodeConfig};

use crate::report::{Report, Row};

const STEADY: Duration = Duration::from_secs(25);
const PERIOD: Duration = Duration::from_secs(10);

pub fn measure(pods: usize, report: &mut Report) {
    let home = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let outcome = runtime.block_on(async {
        let node = Node::new(NodeConfig::new(home.path().to_path_buf())).expect("node");
        // Compile and load the image before measuring.
        let warm = wasmpod::manifest::parse("warm.yaml", &density_pod("warm")).unwrap();
        node.apply(warm).unwrap();
        wait_ready(&node, 1).await?;
        let (rss_before, fds_before) = (rss_bytes(), open_fds());
        let started = Instant::now();
        for i in 0..pods {
            let pod = wasmpod::manifest::parse("p.yaml", &density_pod(&format!("p{i}"))).unwrap();
            node.apply(pod).expect("admitted");
        }
        wait_ready(&node, pods + 1).await?;
        let took = started.elapsed();
        let rss_per_pod = rss_bytes().saturating_sub(rss_before) / pods as u64;
        let fds_per_pod = open_fds().saturating_sub(fds_before) as f64 / pods as f64;
        let (cpu_before, wall) = (cpu_time(), Instant::now());
        let window_start = jiff::Timestamp::now();
        tokio::time::sleep(STEADY).await;
        let cpu = (cpu_time() - cpu_before).as_secs_f64() / wall.elapsed().as_secs_f64();
        let lateness = worst_probe_lateness(&node, pods, window_start);
        node.delete_all(Some(0)).await;
        Ok::<_, String>((took, rss_per_pod, fds_per_pod, cpu, lateness))
    });
    let (took, rss_per_pod, fds_per_pod, cpu, (late, probes)) = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            println!("P4 {pods} pods: {error}");
            report.fact(
                format!("P4 {pods} pods"),
                error.clone(),
                json!({"pods": pods, "error": error}),
            );
            return;
        }
    };
    report.row(Row::new(&format!("P4 {pods} pods: all ready"), vec![took]));
    report.fact(
        format!("P4 {pods} pods"),
        format!(
            "{} KiB host RSS per pod, {fds_per_pod:.1} file descriptors per pod, {:.1} % of one core while probing, latest probe {} off its 10 s schedule ({probes} probes)",
            rss_per_pod / 1024,
            cpu * 100.0,
            crate::report::human(late),
        ),
        json!({
            "pods": pods,
            "seconds_to_all_ready": took.as_secs_f64(),
            "rss_per_pod_bytes": rss_per_pod,
            "fds_per_pod": fds_per_pod,
            "cpu_fraction_of_one_core": cpu,
            "worst_probe_lateness_seconds": late.as_secs_f64(),
            "probes_checked": probes,
        }),
    );
    report.compare(
        "P4 host RSS per pod (less is better)",
        &format!("wasmpod, {pods} pods"),
        rss_per_pod as f64 / 1024.0,
        "KiB",
    );
}

fn density_pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers:\n  - name: app\n    image: health_image:latest\n    imagePullPolicy: IfNotPresent\n    ports: [{{containerPort: 8080}}]\n    livenessProbe: {{httpGet: {{path: /, port: 8080}}, periodSeconds: 10, failureThreshold: 30}}\n"
    )
}

async fn wait_ready(node: &Node, pods: usize) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let all = node.store().pods(None);
        let ready = all
            .iter()
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .is_some_and(|c| c.iter().all(|c| c.ready))
            })
            .count();
        if ready >= pods {
            return Ok(());
        }
        if Instant::now() > deadline {
            let waiting: Vec<String> = all
                .iter()
                .filter_map(|p| {
                    let state = p.status.as_ref()?.container_statuses.as_ref()?.first()?;
                    let waiting = state.state.as_ref()?.waiting.as_ref()?;
                    Some(format!(
                        "{}: {}",
                        waiting.reason.clone().unwrap_or_default(),
                        waiting.message.clone().unwrap_or_default()
                    ))
                })
                .take(3)
                .collect();
            return Err(format!(
                "only {ready} of {pods} pods became ready ({})",
                waiting.join("; ")
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The largest gap between two consecutive probes of one pod beyond the 10 s period, over
/// the probes logged since `since`; and how many probes were looked at.
fn worst_probe_lateness(node: &Node, pods: usize, since: jiff::Timestamp) -> (Duration, usize) {
    let (mut worst, mut probes) = (Duration::ZERO, 0);
    for i in 0..pods {
        let Ok(logs) = node.logs("default", &format!("p{i}"), None) else {
            continue;
        };
        let times: Vec<jiff::Timestamp> = logs
            .lines(false)
            .unwrap_or_default()
            .into_iter()
            .filter(|line| line.text.starts_with("Received request") && line.timestamp >= since)
            .map(|line| line.timestamp)
            .collect();
        probes += times.len();
        for pair in times.windows(2) {
            let gap = Duration::try_from(pair[1].duration_since(pair[0])).unwrap_or_default();
            worst = worst.max(gap.saturating_sub(PERIOD));
        }
    }
    (worst, probes)
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 after the command name.
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let ticks = field(11) + field(12);
    Duration::from_secs_f64(ticks as f64 / 100.0)
}
