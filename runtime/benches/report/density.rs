//! P4 density: N pods of the fail-after-3 guest, each with an httpGet liveness probe every 10 s
//! (failureThreshold 30, so none restarts during the measurement): time until all are ready,
//! host RSS and file descriptors per pod, the CPU the node uses over 25 s of steady probing,
//! and how far any probe strayed from its 10 s schedule (from the guest's log timestamps:
//! every probe is one "Received request" line).

use std::time::{Duration, Instant};

use serde_json::json;
use wasmpod::{Node, NodeConfig};

use crate::process::{open_fds, rss_bytes};
use crate::report::{Report, Row};

const STEADY: Duration = Duration::from_secs(25);
const PERIOD: Duration = Duration::from_secs(10);

/// Memory mappings one idle pod costs today (linear memory: reservation, heap, copy-on-write
/// image; the cached fiber stack and its guard; one more pair), measured with 1,000 pods.
const MAPPINGS_PER_POD: usize = 7;

pub fn measure(pods: usize, report: &mut Report) {
    let max_map_count: usize = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(usize::MAX);
    if pods * MAPPINGS_PER_POD + 10_000 > max_map_count {
        let needed = (pods * MAPPINGS_PER_POD + 10_000).next_power_of_two();
        let text = format!(
            "skipped: {pods} pods need about {} memory mappings, over this kernel's vm.max_map_count of {max_map_count} (raise it: sudo sysctl -w vm.max_map_count={needed})",
            pods * MAPPINGS_PER_POD
        );
        println!("P4 {pods} pods: {text}");
        report.fact(
            format!("P4 {pods} pods"),
            text,
            json!({"pods": pods, "skipped": "vm.max_map_count"}),
        );
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    let runtime = crate::node_runtime();
    let outcome = runtime.block_on(async {
        let node = Node::new(NodeConfig::new(home.path().to_path_buf())).expect("node");
        // Compile and load the image before measuring.
        let warm = wasmpod::manifest::parse("warm.yaml", &density_pod("warm")).unwrap();
        node.apply(warm).unwrap();
        wait_ready(&node, 1).await?;
        let (rss_before, fds_before) = (rss_bytes(), open_fds());
        let guest_before = guest_memory_rss();
        let started = Instant::now();
        for i in 0..pods {
            let pod = wasmpod::manifest::parse("p.yaml", &density_pod(&format!("p{i}"))).unwrap();
            node.apply(pod).expect("admitted");
        }
        wait_ready(&node, pods + 1).await?;
        let took = started.elapsed();
        let rss_per_pod = rss_bytes().saturating_sub(rss_before) / pods as u64;
        let guest_per_pod = guest_memory_rss().saturating_sub(guest_before) / pods as u64;
        let fds_per_pod = open_fds().saturating_sub(fds_before) as f64 / pods as f64;
        let (cpu_before, wall) = (cpu_time(), Instant::now());
        let window_start = jiff::Timestamp::now();
        tokio::time::sleep(STEADY).await;
        let cpu = (cpu_time() - cpu_before).as_secs_f64() / wall.elapsed().as_secs_f64();
        let lateness = worst_probe_lateness(&node, pods, window_start);
        node.delete_all(Some(0)).await;
        Ok::<_, String>((
            took,
            (rss_per_pod, guest_per_pod),
            fds_per_pod,
            cpu,
            lateness,
        ))
    });
    let (took, (rss_per_pod, guest_per_pod), fds_per_pod, cpu, (late, probes)) = match outcome {
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
            "{} KiB RSS per pod ({} KiB of it the guest's linear memory, {} KiB host), {fds_per_pod:.1} file descriptors per pod, {:.1} % of one core while probing, latest probe {} off its 10 s schedule ({probes} probes)",
            rss_per_pod / 1024,
            guest_per_pod / 1024,
            rss_per_pod.saturating_sub(guest_per_pod) / 1024,
            cpu * 100.0,
            crate::report::human(late),
        ),
        json!({
            "pods": pods,
            "seconds_to_all_ready": took.as_secs_f64(),
            "rss_per_pod_bytes": rss_per_pod,
            "guest_memory_rss_per_pod_bytes": guest_per_pod,
            "fds_per_pod": fds_per_pod,
            "cpu_fraction_of_one_core": cpu,
            "worst_probe_lateness_seconds": late.as_secs_f64(),
            "probes_checked": probes,
        }),
    );
    report.compare(
        "P4 host RSS per pod beyond guest memory (less is better)",
        &format!("wasmpod, {pods} pods"),
        rss_per_pod.saturating_sub(guest_per_pod) as f64 / 1024.0,
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

/// Resident bytes of guest linear memories. Each memory is one reservation of several GiB that
/// the kernel shows as a run of adjacent mappings: the guard before it, the copy-on-write
/// memory image, the accessible heap (possibly split), the inaccessible rest. Every anonymous
/// or memory-image mapping in an address-contiguous run spanning at least 1 GiB counts; fiber
/// stacks (a guard page and 2 MiB) and malloc's arenas do not.
fn guest_memory_rss() -> u64 {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    // (start, end, anonymous or memory image, resident bytes)
    let mut mappings: Vec<(u64, u64, bool, u64)> = Vec::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if let Some((start, end)) = first.split_once('-') {
            if let (Ok(start), Ok(end)) =
                (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
            {
                let name = fields.nth(4).unwrap_or_default();
                let guest_like = name.is_empty() || name.contains("wasm-memory-image");
                mappings.push((start, end, guest_like, 0));
                continue;
            }
        }
        if first == "Rss:" {
            if let (Some(last), Some(kib)) = (
                mappings.last_mut(),
                fields.next().and_then(|n| n.parse::<u64>().ok()),
            ) {
                last.3 = kib * 1024;
            }
        }
    }
    let mut total = 0;
    let mut run = 0;
    while run < mappings.len() {
        let mut end = run;
        while end + 1 < mappings.len()
            && mappings[end + 1].0 == mappings[end].1
            && mappings[end + 1].2
        {
            end += 1;
        }
        let span = mappings[end].1 - mappings[run].0;
        if span >= 1 << 30 && mappings[run..=end].iter().all(|m| m.2) {
            total += mappings[run..=end].iter().map(|m| m.3).sum::<u64>();
        }
        run = end + 1;
    }
    total
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
