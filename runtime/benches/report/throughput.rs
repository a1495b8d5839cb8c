//! P3 throughput and latency of one pod: `wrk --latency` for 5 s with 1 and 16 connections
//! against (a) the tutorial's app.js run natively by node, (b) `wasmtime serve` serving the
//! same guest component (it instantiates the guest per request, so its request counter never
//! reaches 3: it answers 200 where the others answer 500 — the same work per request), and
//! (c) the app as a wasmpod pod (`wasmpod run`). One after the other in the same run: all three
//! want port 8080.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::report::{Report, Row};
use crate::start::{first_200_from_run, pod_ip_from_run, start_run, stop};
use crate::tools;

/// The tutorial's app.js, as published.
const APP_JS: &str = r#"const http = require('http');const os = require('os');console.log("server starting...");var requestCount = 0;var handler = function(request, response) { console.log("Received request from " + request.connection.remoteAddress); requestCount++; if (requestCount > 3) { response.writeHead(500); response.end("I'm not well. Please restart me!"); return; } response.writeHead(200); response.end("You've hit " + os.hostname() + "\n");};var www = http.createServer(handler);www.listen(8080);"#;

const CONNECTIONS: [usize; 2] = [1, 16];

pub fn measure(report: &mut Report) {
    if !tools::installed("wrk") {
        println!("P3 skipped: needs wrk (apt-get install wrk)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    if tools::installed("node") {
        let app = dir.path().join("app.js");
        std::fs::write(&app, APP_JS).expect("app.js");
        let mut node = spawn_quiet(Command::new("node").arg(&app));
        if wait_listening("127.0.0.1:8080") {
            wrk_rows("node app.js", "127.0.0.1:8080", report);
        }
        stop(&mut node);
    } else {
        println!("P3: node is not installed, the app.js rows are skipped");
    }

    if let Some(wasmtime) = tools::wasmtime_cli() {
        let guest = wasmpod::images::guest_artifact("health_image");
        let mut serve = spawn_quiet(
            Command::new(wasmtime)
                .args(["serve", "-Scli", "--addr", "127.0.0.1:8080"])
                .arg(&guest),
        );
        if wait_listening("127.0.0.1:8080") {
            wrk_rows("wasmtime serve", "127.0.0.1:8080", report);
        } else {
            println!("P3: `wasmtime serve` did not start");
        }
        stop(&mut serve);
    }

    let home = tempfile::tempdir().expect("temp dir");
    let manifest = crate::repo_file("examples/health1.yaml");
    let mut run = start_run(home.path(), &manifest);
    if first_200_from_run(home.path()).is_some() {
        let ip = pod_ip_from_run(home.path()).expect("the pod's IP");
        wrk_rows("wasmpod pod", &format!("{ip}:8080"), report);
    }
    stop(&mut run);
}

fn spawn_quiet(command: &mut Command) -> Child {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server")
}

fn wait_listening(address: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(address).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// `wrk --latency` for 5 s with 1 and with 16 connections: p50/p99 rows, req/s as facts and
/// chart bars.
fn wrk_rows(server: &str, address: &str, report: &mut Report) {
    for connections in CONNECTIONS {
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
        report.row(Row::reported(
            &format!("{name}: latency"),
            percentile("50%"),
            percentile("99%"),
            requests,
        ));
        report.fact(
            name,
            format!("{requests_per_second:.0} req/s"),
            json!({"server": server, "connections": connections, "requests_per_second": requests_per_second}),
        );
        report.compare(
            &format!("P3 throughput of one pod, {connections} connection(s), wrk (more is better)"),
            server,
            requests_per_second,
            "req/s",
        );
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
