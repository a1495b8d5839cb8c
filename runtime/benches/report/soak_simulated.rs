//! Soak on simulated time: the same 100 restarting pods (crash back-off off, as in `soak`)
//! for one simulated hour (`WASMPOD_BENCH_SOAK_SIMULATED_MINUTES`, default 60) on a node with
//! a simulated clock and pod network — what `wasmpod::testing::Simulation` builds, made here
//! by hand because the back-off setting is not one of its options. Reports the restarts, the
//! wall time it took, and host RSS after one simulated minute and at the end (sampled every
//! ten simulated minutes in between).

use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use wasmpod::{Node, NodeConfig};

use crate::process::Resources;
use crate::report::{Report, Row};
use crate::soak::{import_graceful_guest, mib, restarting_pod_yaml, restarts, PODS};

const WARM_UP: Duration = Duration::from_secs(60);
const SAMPLE_EVERY: Duration = Duration::from_secs(600);

pub fn measure(simulated: Duration, report: &mut Report) {
    let home = tempfile::tempdir().expect("temp dir");
    // The runtime a simulation needs: one thread, a paused clock that jumps to the next timer.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    let mut config = NodeConfig::simulated(home.path().to_path_buf(), SystemTime::now());
    config.seed = Some(0);
    config.benchmark_without_crash_backoff = true;
    let node = runtime.block_on(async { Node::new(config) }).expect("node");
    import_graceful_guest(&node);
    // The timer is made inside the runtime: it belongs to its (simulated) clock.
    let advance = |by: Duration| runtime.block_on(async move { tokio::time::sleep(by).await });
    let started = Instant::now();
    {
        let _entered = runtime.enter();
        for i in 0..PODS {
            let yaml = restarting_pod_yaml(&format!("soak-{i}"));
            let pod = wasmpod::manifest::parse("soak.yaml", &yaml).expect("manifest");
            node.apply(pod).expect("admitted");
        }
    }
    println!(
        "soak simulated: {PODS} restarting pods for {} simulated min",
        simulated.as_secs() / 60
    );
    println!(
        "{:>9} {:>9} {:>8} {:>10}",
        "simulated", "restarts", "RSS MiB", "wall"
    );
    let mut at = Duration::ZERO;
    let mut samples = Vec::new();
    while at < simulated {
        let step = if at.is_zero() {
            WARM_UP
        } else {
            SAMPLE_EVERY - Duration::from_secs(at.as_secs() % SAMPLE_EVERY.as_secs())
        }
        .min(simulated - at);
        advance(step);
        at += step;
        let (count, resources, wall) = (restarts(&node), Resources::now(), started.elapsed());
        println!(
            "{:>8}m {:>9} {:>8.1} {:>9.1}s",
            at.as_secs() / 60,
            count,
            mib(resources.rss_bytes),
            wall.as_secs_f64()
        );
        samples.push((at, count, resources, wall));
    }
    let took = started.elapsed();
    runtime.block_on(node.delete_all(Some(0)));
    drop(node);
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return;
    };
    let growth = mib(last.2.rss_bytes) - mib(first.2.rss_bytes);
    let percent = growth / mib(first.2.rss_bytes).max(f64::MIN_POSITIVE) * 100.0;
    let text = format!(
        "{PODS} pods for {} simulated min in {:.1} s of wall time: {} restarts; RSS {:.1} MiB after {} simulated s → {:.1} MiB at the end ({growth:+.1} MiB, {percent:+.1} %)",
        simulated.as_secs() / 60,
        took.as_secs_f64(),
        last.1,
        mib(first.2.rss_bytes),
        first.0.as_secs(),
        mib(last.2.rss_bytes),
    );
    println!("soak simulated: {text}");
    report.fact(
        "soak (simulated time)",
        text,
        json!({
            "section": "soak_simulated",
            "pods": PODS,
            "simulated_seconds": simulated.as_secs_f64(),
            "wall_seconds": took.as_secs_f64(),
            "restarts": last.1,
            "rss_bytes_after_warm_up": first.2.rss_bytes,
            "rss_bytes_at_end": last.2.rss_bytes,
            "samples": samples.iter().map(|(at, restarts, resources, wall)| {
                let mut value = resources.json();
                value["simulated_seconds"] = json!(at.as_secs_f64());
                value["restarts"] = json!(restarts);
                value["wall_seconds"] = json!(wall.as_secs_f64());
                value
            }).collect::<Vec<_>>(),
        }),
    );
    report.row(Row::new(
        &format!(
            "soak: {PODS} restarting pods, {} simulated min (wall)",
            simulated.as_secs() / 60
        ),
        vec![took],
    ));
}
