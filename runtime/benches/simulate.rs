//! How long simulated time takes in real time: the tutorial's health1 for 10 simulated
//! minutes (probes, four restarts, back-off 10 s → 80 s), through the library and through
//! the `wasmpod run --simulate` binary. Prints figures; asserts nothing about speed.
//!
//! `cargo bench -p wasmpod --bench simulate` (release build), or with `--profile dev` to
//! reuse the test build.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use wasmpod::testing::Simulation;

const RUNS: usize = 7;
const SIMULATED: Duration = Duration::from_secs(600);

fn main() {
    let health1 = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/health1.yaml");
    let home = tempfile::tempdir().expect("temp dir");

    let library: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let mut sim = Simulation::builder()
                .home(home.path())
                .build()
                .expect("simulation");
            sim.apply_file(&health1).expect("health1");
            sim.advance(SIMULATED);
            let restarts = sim
                .container_status("health1", "health1")
                .map(|s| s.restart_count)
                .unwrap_or_default();
            assert_eq!(restarts, 4, "the scenario itself changed");
            started.elapsed()
        })
        .collect();
    report("library: Simulation, health1, 10m simulated", &library);

    let binary: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let output = Command::new(env!("CARGO_BIN_EXE_wasmpod"))
                .env("WASMPOD_HOME", home.path())
                .args(["run", health1.to_str().unwrap(), "--simulate", "10m"])
                .output()
                .expect("run wasmpod");
            assert!(output.status.success());
            started.elapsed()
        })
        .collect();
    report(
        "binary: wasmpod run examples/health1.yaml --simulate 10m",
        &binary,
    );
}

/// The first run compiles the image into the (fresh) cache; the rest reuse it.
fn report(what: &str, runs: &[Duration]) {
    let mut warm = runs[1..].to_vec();
    warm.sort();
    println!(
        "{what}\n  cold {:>8.1} ms   warm median {:>6.1} ms   min {:>6.1} ms   max {:>6.1} ms   ({} runs; {:.0}x faster than real time)",
        ms(runs[0]),
        ms(warm[warm.len() / 2]),
        ms(warm[0]),
        ms(warm[warm.len() - 1]),
        runs.len(),
        SIMULATED.as_secs_f64() / warm[warm.len() / 2].as_secs_f64()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
