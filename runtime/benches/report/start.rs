//! P2 pod start: `wasmpod run` process start → first 200 from the pod, compile cache cold and
//! warm; and the compile time of every bundled guest.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::http;
use crate::report::{Report, Row};

pub fn measure(report: &mut Report) {
    let manifest = crate::repo_file("examples/health1.yaml");
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
        report.row(Row::new(name, samples));
    }
    compile_times(report);
}

/// `wasmpod run MANIFEST` on `home`, in the background.
pub fn start_run(home: &Path, manifest: &Path) -> Child {
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
pub fn first_200_from_run(home: &Path) -> Option<Instant> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut pod_ip: Option<String> = None;
    while Instant::now() < deadline {
        if pod_ip.is_none() {
            pod_ip = pod_ip_from_run(home);
        }
        if let Some(ip) = &pod_ip {
            if http::get_ok(&format!("{ip}:8080"), "/").is_some() {
                return Some(Instant::now());
            }
        }
        std::thread::yield_now();
    }
    None
}

pub fn pod_ip_from_run(home: &Path) -> Option<String> {
    let api = std::fs::read_to_string(home.join("run/api-server")).ok()?;
    let api = api.trim().trim_start_matches("http://").to_string();
    let body = http::get_ok(&api, "/api/v1/namespaces/default/pods/health1")?;
    let pod: Value = serde_json::from_str(&body).ok()?;
    pod["status"]["podIP"].as_str().map(String::from)
}

/// Kills a child: a graceful stop of `wasmpod run` would wait out health1's 30 s grace
/// period, and the start is what is measured. (Its pod IP lock goes with the process.)
pub fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Compiling each bundled guest from scratch.
fn compile_times(report: &mut Report) {
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
        report.row(Row::new(
            &format!("P2 compile {guest} ({} KB)", size / 1000),
            samples,
        ));
    }
}
