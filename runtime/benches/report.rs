//! wasmpod's benchmark report: prints a table of medians and writes it as JSON
//! (`target/bench-report.json`). Figures only; nothing here asserts a speed.
//!
//! `cargo bench -p wasmpod --bench report` (release build; add `--profile dev` to reuse the
//! test build). `WASMPOD_BENCH_RESTARTS=N` sets how many restarts P1 measures (default 20).
//!
//! * P1 restart latency: the fail-after-3 guest (`health_image`), liveness period 1 s and
//!   failureThreshold 1, crash back-off disabled through the node's benchmark-only setting.
//!   Measured from the liveness trip (the listeners closing) to the new instance's first 200,
//!   and from the old instance's exit to that 200 (the restart proper: the guest ignores the
//!   stop request like the tutorial's app.js, so the kubelet's 2 s minimum grace period sits
//!   between trip and exit).
//! * P2 pod start: `wasmpod run` process start → first 200 from the pod, compile cache cold
//!   and warm; and the compile time of every bundled guest.
//! * P3 throughput of one pod, if `wrk` and `node` are installed (`apt-get install wrk`):
//!   `wrk --latency` with 1 and 16 connections against the tutorial's app.js run natively
//!   with node, and against the same app as a wasmpod pod (`wasmpod run`), in the same run.
//!   (`wasmtime serve` is not measured yet.)
//! * P4 density: N pods of the fail-after-3 guest (`WASMPOD_BENCH_DENSITY`, default
//!   `100,1000`), each with an httpGet liveness probe every 10 s: time until all run, host
//!   RSS per pod, and the CPU the node uses over 20 s of steady probing.
//! * P5 simulated time: health1 for 10 simulated minutes (library and binary), and 100 pods
//!   for one simulated hour.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wasmpod::testing::Simulation;
use wasmpod::{Node, NodeConfig};

fn main() {
    let mut rows: Vec<Row> = Vec::new();
    let restarts = std::env::var("WASMPOD_BENCH_RESTARTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    restart_latency(restarts, &mut rows);
    pod_start(&mut rows);
    throughput(&mut rows);
    compile_times(&mut rows);
    let sizes = std::env::var("WASMPOD_BENCH_DENSITY").unwrap_or_else(|_| "100,1000".into());
    for pods in sizes.split(',').filter_map(|n| n.trim().parse().ok()) {
        density(pods, &mut rows);
    }
    simulated_time(&mut rows);

    println!(
        "\n{:<58} {:>12} {:>12} {:>6}",
        "measurement", "median", "p99/max", "n"
    );
    for row in &rows {
        println!(
            "{:<58} {:>12} {:>12} {:>6}",
            row.name,
            human(row.median()),
            human(row.p99()),
            row.count()
        );
    }
    let facts = FACTS.with(|facts| facts.take());
    for (name, text, _) in &facts {
        println!("{name}: {text}");
    }
    let report = json!({
        "machine": machine(),
        "date": jiff::Timestamp::now().to_string(),
        "rows": rows.iter().map(Row::json).collect::<Vec<Value>>(),
        "facts": facts.iter().map(|(_, _, value)| value.clone()).collect::<Vec<Value>>(),
    });
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-report.json");
    match std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()) {
        Ok(()) => println!("\nwritten to {}", path.display()),
        Err(error) => eprintln!("cannot write {}: {error}", path.display()),
    }
}

struct Row {
    name: String,
    samples: Vec<Duration>,
    /// Percentiles a tool reported itself (wrk): median, p99 and how many requests.
    reported: Option<(Duration, Duration, usize)>,
}

impl Row {
    fn new(name: &str, mut samples: Vec<Duration>) -> Row {
        samples.sort();
        Row {
            name: name.to_string(),
            samples,
            reported: None,
        }
    }

    fn reported(name: &str, median: Duration, p99: Duration, n: usize) -> Row {
        Row {
            name: name.to_string(),
            samples: Vec::new(),
            reported: Some((median, p99, n)),
        }
    }

    fn count(&self) -> usize {
        self.reported.map_or(self.samples.len(), |(_, _, n)| n)
    }

    fn median(&self) -> Duration {
        if let Some((median, _, _)) = self.reported {
            return median;
        }
        self.samples
            .get(self.samples.len() / 2)
            .copied()
            .unwrap_or_default()
    }

    /// The 99th percentile (the maximum for fewer than 100 samples).
    fn p99(&self) -> Duration {
        if let Some((_, p99, _)) = self.reported {
            return p99;
        }
        let at = (self.samples.len() * 99).div_ceil(100).saturating_sub(1);
        self.samples.get(at).copied().unwrap_or_default()
    }

    fn json(&self) -> Value {
        json!({
            "name": self.name,
            "median_us": self.median().as_micros() as u64,
            "p99_us": self.p99().as_micros() as u64,
            "n": self.count(),
        })
    }
}

fn human(d: Duration) -> String {
    match d.as_micros() {
        us if us < 1_000 => format!("{us} µs"),
        us if us < 1_000_000 => format!("{:.2} ms", us as f64 / 1e3),
        us => format!("{:.2} s", us as f64 / 1e6),
    }
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_default();
    format!("{cpus} CPUs, {model}")
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

const FAIL_AFTER_3: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: restarts}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: health_image:latest
    imagePullPolicy: IfNotPresent
    ports: [{containerPort: 8080}]
    livenessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1, failureThreshold: 1}
"#;

/// P1. See the module documentation.
fn restart_latency(restarts: usize, rows: &mut Vec<Row>) {
    let home = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (trip_to_200, exit_to_200) = runtime.block_on(async {
        let mut config = NodeConfig::new(home.path().to_path_buf());
        config.benchmark_without_crash_backoff = true;
        let node = Node::new(config).expect("node");
        let pod = wasmpod::manifest::parse("bench.yaml", FAIL_AFTER_3).expect("manifest");
        node.apply(pod).expect("admitted");
        let address = pod_address(&node, "restarts", 8080).await;
        let (mut trip_to_200, mut exit_to_200) = (Vec::new(), Vec::new());
        let mut tripped: Option<Instant> = None;
        for cycle in 0..=restarts {
            let answered = first_200(&node, address, cycle as i32).await;
            if let Some(trip) = tripped.take() {
                trip_to_200.push(answered.duration_since(trip));
                let exited = last_finished_at(&node, "restarts");
                let since_exit = jiff::Timestamp::now().duration_since(exited);
                if let Ok(since_exit) = Duration::try_from(since_exit) {
                    exit_to_200.push(since_exit.saturating_sub(answered.elapsed()));
                }
            }
            // Requests 2 and 3: the next probe is the fourth request and fails.
            for _ in 0..2 {
                let _ = node.network().http_get(address, "/").await;
            }
            if cycle < restarts {
                tripped = Some(wait_for_trip(&node, address).await);
            }
        }
        node.delete_all(Some(0)).await;
        (trip_to_200, exit_to_200)
    });
    rows.push(Row::new(
        "P1 restart: liveness trip → first 200 (incl. 2 s grace)",
        trip_to_200,
    ));
    rows.push(Row::new(
        "P1 restart: old instance exit → first 200",
        exit_to_200,
    ));
}

/// Polls `GET /` until the container answers 200.
/// Polls `GET /` until the container answers 200: every millisecond while the old instance
/// is still stopping, then as fast as possible once the pod shows the restart.
async fn first_200(node: &Node, address: SocketAddr, restarts: i32) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((200, _)) = node.network().http_get(address, "/").await {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "the container never answered 200"
        );
        if restart_count(node, "restarts") >= restarts {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

fn restart_count(node: &Node, pod: &str) -> i32 {
    node.store()
        .pod("default", pod)
        .and_then(|p| p.status?.container_statuses?.into_iter().next())
        .map_or(0, |s| s.restart_count)
}

/// Waits for the liveness trip: the kill stops the pod's listeners at once, so the first
/// refused connection after the 500s marks it (to within the 1 ms polling step). Events
/// cannot mark it: after a few restarts the kubelet's spam filter drops them, as on a node.
async fn wait_for_trip(node: &Node, address: SocketAddr) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(30);
    while node.network().http_get(address, "/").await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the liveness probe never tripped"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Instant::now()
}

fn last_finished_at(node: &Node, pod: &str) -> jiff::Timestamp {
    node.store()
        .pod("default", pod)
        .and_then(|p| p.status?.container_statuses?.into_iter().next())
        .and_then(|s| s.last_state?.terminated?.finished_at)
        .map(|t| t.0)
        .unwrap_or_else(jiff::Timestamp::now)
}

async fn pod_address(node: &Node, pod: &str, port: u16) -> SocketAddr {
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

/// P2. `wasmpod run` → first 200, through the API the run serves.
fn pod_start(rows: &mut Vec<Row>) {
    let manifest = repo_file("examples/health1.yaml");
    for (name, runs, keep_cache) in [
        (
            "P2 pod start: `wasmpod run` → first 200, cache cold",
            3,
            false,
        ),
        (
            "P2 pod start: `wasmpod run` → first 200, cache warm",
            7,
            true,
        ),
    ] {
        let home = tempfile::tempdir().expect("temp dir");
        let mut samples = Vec::new();
        for run in 0..runs + usize::from(keep_cache) {
            if !keep_cache {
                let _ = std::fs::remove_dir_all(home.path().join("cache"));
            }
            let _ = std::fs::remove_file(home.path().join("run/api-server"));
            let started = Instant::now();
            let mut child = start_run(home.path(), &manifest);
            let answered = first_200_from_run(home.path());
            stop(&mut child);
            // With a warm cache, the first run only fills it.
            if let Some(answered) = answered.filter(|_| !keep_cache || run > 0) {
                samples.push(answered.duration_since(started));
            }
        }
        rows.push(Row::new(name, samples));
    }
}

/// `wasmpod run MANIFEST` on `home`, in the background.
fn start_run(home: &Path, manifest: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_wasmpod"))
        .env("WASMPOD_HOME", home)
        .env_remove("WASMPOD_SERVER")
        .args(["run", manifest.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start wasmpod")
}

/// When health1 of the run on `home` first answered 200 on port 8080.
fn first_200_from_run(home: &Path) -> Option<Instant> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut pod_ip: Option<String> = None;
    while Instant::now() < deadline {
        if pod_ip.is_none() {
            pod_ip = pod_ip_from_run(home);
        }
        if let Some(ip) = &pod_ip {
            if blocking_get(&format!("{ip}:8080"), "/").is_some() {
                return Some(Instant::now());
            }
        }
        std::thread::yield_now();
    }
    None
}

/// A plain HTTP/1.1 GET; the body when the status is 200.
fn blocking_get(address: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response
        .starts_with("HTTP/1.1 200")
        .then(|| response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()))
        .flatten()
}

/// Kills the run: a graceful stop would wait out health1's 30 s grace period, and the start
/// is what is measured. (Its pod IP lock goes with the process.)
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The tutorial's app.js, as published.
const APP_JS: &str = r#"const http = require('http');const os = require('os');console.log("server starting...");var requestCount = 0;var handler = function(request, response) { console.log("Received request from " + request.connection.remoteAddress); requestCount++; if (requestCount > 3) { response.writeHead(500); response.end("I'm not well. Please restart me!"); return; } response.writeHead(200); response.end("You've hit " + os.hostname() + "\n");};var www = http.createServer(handler);www.listen(8080);"#;

/// P3. See the module documentation. The two servers run one after the other (both want
/// port 8080), each for both connection counts.
fn throughput(rows: &mut Vec<Row>) {
    let installed = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    if !installed("wrk") || !installed("node") {
        println!("P3 skipped: needs wrk (apt-get install wrk) and node");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let app = dir.path().join("app.js");
    std::fs::write(&app, APP_JS).expect("app.js");
    let mut node = Command::new("node")
        .arg(&app)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect("127.0.0.1:8080").is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    wrk_rows("node app.js", "127.0.0.1:8080", rows);
    stop(&mut node);

    let home = tempfile::tempdir().expect("temp dir");
    let manifest = repo_file("examples/health1.yaml");
    let mut run = start_run(home.path(), &manifest);
    if first_200_from_run(home.path()).is_some() {
        let ip = pod_ip_from_run(home.path()).expect("the pod's IP");
        wrk_rows("wasmpod pod", &format!("{ip}:8080"), rows);
    }
    stop(&mut run);
}

fn pod_ip_from_run(home: &Path) -> Option<String> {
    let api = std::fs::read_to_string(home.join("run/api-server")).ok()?;
    let api = api.trim().trim_start_matches("http://").to_string();
    let body = blocking_get(&api, "/api/v1/namespaces/default/pods/health1")?;
    let pod: Value = serde_json::from_str(&body).ok()?;
    pod["status"]["podIP"].as_str().map(String::from)
}

/// `wrk --latency` for 5 s with 1 and with 16 connections: p50/p99 rows, req/s as facts.
fn wrk_rows(server: &str, address: &str, rows: &mut Vec<Row>) {
    for connections in [1, 16] {
        let threads = connections.min(2);
        let output = Command::new("wrk")
            .args([
                &format!("-t{threads}"),
                &format!("-c{connections}"),
                "-d5s",
                "--latency",
                &format!("http://{address}/"),
            ])
            .output()
            .expect("run wrk");
        let text = String::from_utf8_lossy(&output.stdout);
        let percentile = |p: &str| {
            text.lines()
                .map(str::trim)
                .find(|l| l.starts_with(p))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(wrk_duration)
                .unwrap_or_default()
        };
        let requests_per_second: f64 = text
            .lines()
            .find(|l| l.starts_with("Requests/sec:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0.0);
        let requests: usize = text
            .lines()
            .find(|l| l.contains("requests in"))
            .and_then(|l| l.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        let name = format!("P3 {server}, {connections} conn.");
        rows.push(Row::reported(
            &format!("{name}: latency"),
            percentile("50%"),
            percentile("99%"),
            requests,
        ));
        FACTS.with(|facts| {
            facts.borrow_mut().push((
                name.clone(),
                format!("{requests_per_second:.0} req/s"),
                json!({"server": server, "connections": connections, "requests_per_second": requests_per_second}),
            ))
        });
    }
}

/// wrk's `97.00us`, `1.23ms`, `2.00s`.
fn wrk_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let value: f64 = text[..split].parse().ok()?;
    let seconds = match &text[split..] {
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

/// P2: compiling each bundled guest from scratch.
fn compile_times(rows: &mut Vec<Row>) {
    let engine = wasmpod::engine::Engine::new().expect("engine");
    for guest in [
        "health_image",
        "httpd",
        "nginx",
        "grpc_health",
        "busybox",
        "agnhost",
    ] {
        let wasm = wasmpod::images::guest_artifact(guest);
        let size = std::fs::metadata(&wasm).map_or(0, |m| m.len());
        let samples = (0..3)
            .map(|_| {
                let cache = tempfile::tempdir().expect("temp dir");
                let started = Instant::now();
                engine
                    .load("sha256:bench", &wasm, cache.path())
                    .expect("compiles");
                started.elapsed()
            })
            .collect();
        rows.push(Row::new(
            &format!("P2 compile {guest} ({} KB)", size / 1000),
            samples,
        ));
    }
}

/// P4. See the module documentation. Single samples: each row is one run.
fn density(pods: usize, rows: &mut Vec<Row>) {
    let home = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (took, rss_per_pod, cpu) = runtime.block_on(async {
        let node = Node::new(NodeConfig::new(home.path().to_path_buf())).expect("node");
        // Compile and load the image before measuring.
        let warm = wasmpod::manifest::parse("warm.yaml", &density_pod("warm")).unwrap();
        node.apply(warm).unwrap();
        wait_running(&node, 1).await;
        let rss_before = rss_bytes();
        let started = Instant::now();
        for i in 0..pods {
            let pod = wasmpod::manifest::parse("p.yaml", &density_pod(&format!("p{i}"))).unwrap();
            node.apply(pod).expect("admitted");
        }
        wait_running(&node, pods + 1).await;
        let took = started.elapsed();
        let rss_per_pod = rss_bytes().saturating_sub(rss_before) / pods as u64;
        let (cpu_before, wall) = (cpu_time(), Instant::now());
        tokio::time::sleep(Duration::from_secs(20)).await;
        let cpu = (cpu_time() - cpu_before).as_secs_f64() / wall.elapsed().as_secs_f64();
        node.delete_all(Some(0)).await;
        (took, rss_per_pod, cpu)
    });
    rows.push(Row::new(
        &format!("P4 {pods} pods: all running"),
        vec![took],
    ));
    FACTS.with(|facts| {
        facts.borrow_mut().push((
            format!("P4 {pods} pods"),
            format!(
                "{} KiB host RSS per pod, {:.1} % of one core while probing",
                rss_per_pod / 1024,
                cpu * 100.0
            ),
            json!({"pods": pods, "rss_per_pod_bytes": rss_per_pod, "cpu_fraction_of_one_core": cpu}),
        ))
    });
}

thread_local! {
    /// Figures that are not durations: (name, text, JSON).
    static FACTS: std::cell::RefCell<Vec<(String, String, Value)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

fn density_pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers:\n  - name: app\n    image: health_image:latest\n    imagePullPolicy: IfNotPresent\n    ports: [{{containerPort: 8080}}]\n    livenessProbe: {{httpGet: {{path: /, port: 8080}}}}\n"
    )
}

async fn wait_running(node: &Node, pods: usize) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let running = node
            .store()
            .pods(None)
            .iter()
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .is_some_and(|c| c.iter().all(|c| c.ready))
            })
            .count();
        if running >= pods {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {running} of {pods} pods ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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

/// P5. See the module documentation.
fn simulated_time(rows: &mut Vec<Row>) {
    let home = tempfile::tempdir().expect("temp dir");
    let health1 = repo_file("examples/health1.yaml");
    let run_library = |manifests: &str, simulated: Duration| {
        let started = Instant::now();
        let mut sim = Simulation::builder()
            .home(home.path())
            .build()
            .expect("simulation");
        sim.apply_yaml(manifests).expect("manifests");
        sim.advance(simulated);
        started.elapsed()
    };
    let health1_yaml = std::fs::read_to_string(&health1).expect("health1");
    let _warm_up = run_library(&health1_yaml, Duration::from_secs(60));
    let library = (0..7)
        .map(|_| run_library(&health1_yaml, Duration::from_secs(600)))
        .collect();
    rows.push(Row::new("P5 simulate health1 10 min (library)", library));

    let binary = (0..7)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_wasmpod"))
                .env("WASMPOD_HOME", home.path())
                .args(["run", health1.to_str().unwrap(), "--simulate", "10m"])
                .stdout(Stdio::null())
                .status()
                .expect("run wasmpod");
            assert!(status.success());
            started.elapsed()
        })
        .collect();
    rows.push(Row::new(
        "P5 simulate health1 10 min (`wasmpod run --simulate`)",
        binary,
    ));

    let hundred: String = (0..100)
        .map(|i| health1_yaml.replace("name: health1\nspec", &format!("name: health1-{i}\nspec")))
        .collect::<Vec<_>>()
        .join("\n---\n");
    let samples = (0..3)
        .map(|_| run_library(&hundred, Duration::from_secs(3600)))
        .collect();
    rows.push(Row::new(
        "P5 simulate 100 × health1 for 1 h (library)",
        samples,
    ));
}
