//! wasmpod's benchmark report: prints a table of medians and p99s and writes it as JSON and as
//! an SVG chart (`target/bench-report.{json,svg}`). Figures only; nothing here asserts a speed.
//!
//! `cargo bench -p wasmpod --bench report` (release build; add `--profile dev` to reuse the
//! test build). Environment:
//! * `WASMPOD_BENCH_ONLY=p1,p3,…` runs some sections only (p1 p2 p3 p4 p5 instructions soak
//!   api_load);
//! * `WASMPOD_BENCH_RESTARTS=N` restarts measured by P1 (default 50);
//! * `WASMPOD_BENCH_DENSITY=100,1000,10000` pod counts for P4 (that default);
//! * `WASMPOD_BENCH_WASMTIME=PATH|skip` the `wasmtime` binary for P3 (default: built once into
//!   `target/bench-tools`).
//! * `WASMPOD_BENCH_SOAK_SECONDS=N` real time of the soak (default 600), and
//!   `WASMPOD_BENCH_SOAK_SIMULATED_MINUTES=N` its simulated-time variant (default 60);
//! * `WASMPOD_BENCH_API_PODS=N` restarting pods behind the API for api_load (default 1000),
//!   `WASMPOD_BENCH_API_PROBE_PERIOD=S` their liveness period (default 10: a restart every
//!   ~40 s), `WASMPOD_BENCH_API_SECONDS=N` how long each of its GET and LIST loops runs
//!   (default 30).
//!
//! Each section's module says what it measures and how.

mod api_load;
mod callgrind;
mod chart;
mod density;
mod http;
mod process;
mod report;
mod restart;
mod simulated;
mod soak;
mod soak_simulated;
mod start;
mod throughput;
mod tools;

use std::path::{Path, PathBuf};
use std::time::Duration;

use report::Report;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == callgrind::CHILD_FLAG) {
        let requests = args.get(at + 1).and_then(|n| n.parse().ok()).unwrap_or(1);
        let home = std::env::var_os("WASMPOD_HOME").expect("WASMPOD_HOME for the child");
        callgrind::child(Path::new(&home), requests);
        return;
    }
    let only = std::env::var("WASMPOD_BENCH_ONLY").ok();
    let wanted = |section: &str| {
        only.as_deref()
            .is_none_or(|only| only.split(',').any(|s| s.trim() == section))
    };
    let numbers = |name: &str, default: &str| -> Vec<usize> {
        std::env::var(name)
            .unwrap_or_else(|_| default.into())
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect()
    };

    let mut report = Report::default();
    if wanted("p1") {
        let restarts = numbers("WASMPOD_BENCH_RESTARTS", "50");
        restart::measure(restarts.first().copied().unwrap_or(50), &mut report);
    }
    if wanted("p2") {
        start::measure(&mut report);
    }
    if wanted("p3") {
        throughput::measure(&mut report);
    }
    if wanted("p4") {
        for pods in numbers("WASMPOD_BENCH_DENSITY", "100,1000,10000") {
            density::measure(pods, &mut report);
        }
    }
    if wanted("p5") {
        simulated::measure(&mut report);
    }
    if wanted("instructions") {
        callgrind::measure(&mut report);
    }
    let number = |name: &str, default: usize| numbers(name, "").first().copied().unwrap_or(default);
    if wanted("soak") {
        let seconds = number("WASMPOD_BENCH_SOAK_SECONDS", 600);
        soak::measure(Duration::from_secs(seconds as u64), &mut report);
        let minutes = number("WASMPOD_BENCH_SOAK_SIMULATED_MINUTES", 60);
        soak_simulated::measure(Duration::from_secs(minutes as u64 * 60), &mut report);
    }
    if wanted("api_load") {
        let pods = number("WASMPOD_BENCH_API_PODS", 1000);
        let period = number("WASMPOD_BENCH_API_PROBE_PERIOD", 10).max(1);
        let seconds = number("WASMPOD_BENCH_API_SECONDS", 30);
        api_load::measure(
            pods,
            period as u64,
            Duration::from_secs(seconds as u64),
            &mut report,
        );
    }
    report.print();
    report.write(&tools::target_dir());
}

/// The runtime a measured node runs on: what `wasmpod run` uses on this 2-core machine.
pub fn node_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

pub fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}
