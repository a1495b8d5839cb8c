//! P5 simulated time: health1 for 10 simulated minutes (library and binary), and 100 pods for
//! one simulated hour.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wasmpod::testing::Simulation;

use crate::report::{Report, Row};

pub fn measure(report: &mut Report) {
    let home = tempfile::tempdir().expect("temp dir");
    let health1 = crate::repo_file("examples/health1.yaml");
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
    let library: Vec<Duration> = (0..7)
        .map(|_| run_library(&health1_yaml, Duration::from_secs(600)))
        .collect();
    let library = Row::new("P5 simulate health1 10 min (library)", library);
    report.compare(
        "P5 wall time of 10 simulated minutes of health1 (less is better)",
        "wasmpod::testing",
        library.median().as_secs_f64() * 1e3,
        "ms",
    );
    report.row(library);

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
    let binary = Row::new(
        "P5 simulate health1 10 min (`wasmpod run --simulate`)",
        binary,
    );
    report.compare(
        "P5 wall time of 10 simulated minutes of health1 (less is better)",
        "wasmpod run --simulate 10m",
        binary.median().as_secs_f64() * 1e3,
        "ms",
    );
    report.row(binary);

    let hundred: String = (0..100)
        .map(|i| health1_yaml.replace("name: health1\nspec", &format!("name: health1-{i}\nspec")))
        .collect::<Vec<_>>()
        .join("\n---\n");
    let samples = (0..3)
        .map(|_| run_library(&hundred, Duration::from_secs(3600)))
        .collect();
    report.row(Row::new(
        "P5 simulate 100 × health1 for 1 h (library)",
        samples,
    ));
}
