//! Simulated time: `wasmpod run --simulate` and the `wasmpod::testing` library. Every
//! duration below is simulated; the guests run for real.

mod common;

use std::path::Path;
use std::time::Duration;

use common::Home;
use serde_json::Value;
use wasmpod::testing::{until, Simulation};

fn repo_file(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

fn simulation(home: &Home) -> Simulation {
    let sim = Simulation::builder()
        .home(home.path())
        .build()
        .expect("simulation");
    for guest in ["misbehave", "cmd_app"] {
        sim.node()
            .images()
            .import_file(
                &format!("{guest}:latest"),
                &wasmpod::images::guest_artifact(guest),
            )
            .expect("import the test guest");
    }
    sim
}

/// A simulation running one Pod (`apiVersion`/`kind` added to `yaml`).
fn with_pod(yaml: &str) -> (Home, Simulation) {
    let home = Home::new();
    let mut sim = simulation(&home);
    sim.apply_yaml(&format!("apiVersion: v1\nkind: Pod\n{yaml}"))
        .expect("the pod is admitted");
    (home, sim)
}

/// `(seconds since the first event, reason, message, count)` of a `-o json` timeline.
fn timeline(document: &Value) -> Vec<(i64, String, String, i64)> {
    let events = document["events"].as_array().expect("events");
    let time = |e: &Value| {
        e["time"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
    };
    let start = time(&events[0]);
    events
        .iter()
        .map(|e| {
            (
                time(e).duration_since(start).as_secs(),
                e["reason"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
                e["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn times_of(timeline: &[(i64, String, String, i64)], reason: &str) -> Vec<i64> {
    timeline
        .iter()
        .filter(|(_, r, _, _)| r == reason)
        .map(|(t, _, _, _)| *t)
        .collect()
}

fn simulate_json(home: &Home, file: &str, duration: &str, seed: &str) -> Value {
    let (code, out, err) = home.exec(&[
        "run",
        &repo_file(file),
        "--simulate",
        duration,
        "-o",
        "json",
        "--seed",
        seed,
    ]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("JSON output")
}

#[test]
fn health1_ten_simulated_minutes_follow_the_kubelet_timeline() {
    let home = Home::new();
    let document = simulate_json(&home, "examples/health1.yaml", "10m", "0");
    let timeline = timeline(&document);
    // Probes tick every 10 s from the start; the app answers 200 three times per instance,
    // then three 500s trip the probe. It has no shutdown export, so each stop ends with the
    // kill after the 30 s grace period; restarts then wait out back-off 10 s, 20 s, 40 s, 80 s.
    assert_eq!(times_of(&timeline, "Started"), [0, 90, 190, 300, 430]);
    assert_eq!(times_of(&timeline, "Killing"), [60, 150, 250, 360, 490]);
    assert_eq!(times_of(&timeline, "BackOff"), [180, 280, 390, 520]);
    let unhealthy = times_of(&timeline, "Unhealthy");
    assert_eq!(&unhealthy[..6], [40, 50, 60, 130, 140, 150]);
    assert_eq!(unhealthy.len(), 15);
    // Repeats aggregate as the kubelet's recorder does: the count rises on one event.
    let counts = |reason: &str| {
        timeline
            .iter()
            .filter(|(_, r, _, _)| r == reason)
            .map(|(_, _, _, c)| *c)
            .collect::<Vec<_>>()
    };
    assert_eq!(counts("Unhealthy"), (1..=15).collect::<Vec<_>>());
    assert_eq!(counts("Killing"), [1, 2, 3, 4, 5]);
    assert_eq!(counts("BackOff"), [1, 2, 3, 4]);

    let pod = &document["pods"][0];
    let status = &pod["status"]["containerStatuses"][0];
    assert_eq!(status["restartCount"], 4);
    assert_eq!(status["state"]["waiting"]["reason"], "CrashLoopBackOff");
    let uid = pod["metadata"]["uid"].as_str().unwrap();
    assert_eq!(
        status["state"]["waiting"]["message"],
        format!("back-off 1m20s restarting failed container=health1 pod=health1_default({uid})")
    );
    assert_eq!(status["lastState"]["terminated"]["exitCode"], 137);
    assert_eq!(document["simulated"], "10m0s");
}

#[test]
fn the_same_seed_gives_the_same_timeline() {
    let home = Home::new();
    let first = simulate_json(&home, "examples/health2.yaml", "5m", "42");
    let second = simulate_json(&home, "examples/health2.yaml", "5m", "42");
    // Pod IPs are the lowest free on the host (tests running beside this one hold some),
    // so they are the one text that may differ.
    let without_ip = |document: &Value| {
        let ip = document["pods"][0]["status"]["podIP"]
            .as_str()
            .unwrap()
            .to_string();
        timeline(document)
            .into_iter()
            .map(|(at, reason, message, count)| (at, reason, message.replace(&ip, "POD_IP"), count))
            .collect::<Vec<_>>()
    };
    assert_eq!(without_ip(&first), without_ip(&second));
    assert!(without_ip(&first)
        .iter()
        .any(|(_, _, message, _)| message.contains("dial tcp POD_IP:8080")));
    assert_eq!(
        first["pods"][0]["metadata"]["uid"],
        second["pods"][0]["metadata"]["uid"]
    );
    let other = simulate_json(&home, "examples/health2.yaml", "5m", "43");
    assert_ne!(
        first["pods"][0]["metadata"]["uid"],
        other["pods"][0]["metadata"]["uid"]
    );
}

#[test]
fn simulate_prints_the_event_stream_then_the_pods() {
    let home = Home::new();
    let (code, out, err) = home.exec(&[
        "run",
        &repo_file("examples/health2.yaml"),
        "--simulate",
        "3m",
    ]);
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["TIME", "LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );
    assert!(
        out.contains("+1m0s     0s          Normal    Killing     pod/health2   Container health2 failed liveness probe, will be restarted\n"),
        "{out}"
    );
    let table: Vec<&str> = out.lines().skip_while(|l| !l.starts_with("NAME")).collect();
    assert_eq!(
        table[0].split_whitespace().collect::<Vec<_>>(),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    assert_eq!(
        table[1].split_whitespace().collect::<Vec<_>>(),
        ["health2", "1/1", "Running", "2", "(60s", "ago)", "3m"]
    );

    // Invalid input is the only failure.
    let bad = home.write(
        "bad.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {}\n",
    );
    let (code, _, err) = home.exec(&["run", bad.to_str().unwrap(), "--simulate", "1m"]);
    assert_ne!(code, 0);
    assert!(err.contains("spec.containers"), "{err}");
}

#[test]
fn agnhost_liveness_turns_unhealthy_after_ten_simulated_seconds() {
    // The docs' http-liveness example, unmodified: agnhost is a program listening on its own
    // (real) socket, and reads its start time through wasi:clocks.
    let home = Home::new();
    let mut sim = simulation(&home);
    sim.apply_file(repo_file("examples/k8s-docs/http-liveness.yaml"))
        .unwrap();
    sim.run_until(
        Duration::from_secs(120),
        until::restarts("liveness-http", 1),
    )
    .unwrap();
    let started = sim.events_with_reason("liveness-http", "Started")[0].clone();
    let unhealthy = sim.events_with_reason("liveness-http", "Unhealthy")[0].clone();
    assert_eq!(
        unhealthy.message.as_deref(),
        Some("Liveness probe failed: HTTP probe failed with statuscode: 500")
    );
    let first_failure = unhealthy
        .first_timestamp
        .unwrap()
        .0
        .duration_since(started.first_timestamp.unwrap().0);
    // initialDelaySeconds 3, periodSeconds 3: probes at 3, 6, 9 s pass, 12 s is the first 500.
    assert_eq!(first_failure.as_secs(), 12, "{first_failure:?}");
    let killing = sim.events_with_reason("liveness-http", "Killing")[0].clone();
    assert_eq!(
        killing.message.as_deref(),
        Some("Container liveness failed liveness probe, will be restarted")
    );
}

#[test]
fn guests_sleep_in_simulated_time() {
    let (_home, mut sim) = with_pod(
        r#"
metadata: {name: slow}
spec:
  containers:
  - name: slow
    image: misbehave:latest
    env: [{name: STARTUP_SECONDS, value: "45"}]
    ports: [{containerPort: 8080}]
    startupProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 5, failureThreshold: 20}
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 5}
"#,
    );
    let took = sim
        .run_until(Duration::from_secs(300), until::ready("slow"))
        .unwrap();
    // The guest slept 45 simulated seconds in its start; the next startup probe after that
    // passes, then readiness.
    assert!(took >= Duration::from_secs(45), "{took:?}");
    assert!(took <= Duration::from_secs(60), "{took:?}");
    let logs = sim.logs("slow", None, false).unwrap();
    assert!(
        logs.starts_with("starting slowly: 45s\nstarted\n"),
        "{logs}"
    );
    assert_eq!(sim.http_get("slow", 8080, "/").unwrap().0, 200);
    assert_eq!(
        sim.container_status("slow", "slow").unwrap().restart_count,
        0
    );
}

#[test]
fn a_spinning_guest_is_charged_simulated_time_and_killed() {
    let (_home, mut sim) = with_pod(
        r#"
metadata: {name: spinner}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: spinner
    image: misbehave:latest
    ports: [{containerPort: 8080}]
    livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1, failureThreshold: 1}
"#,
    );
    sim.run_until(
        Duration::from_secs(30),
        until::event("spinner", "Started", 1),
    )
    .unwrap();
    // The request never ends: the guest spins in wasm. Probes queue behind it and time out.
    let network = sim.node().network().clone();
    let ip = sim.pod("spinner").unwrap().status.unwrap().pod_ip.unwrap();
    let address = std::net::SocketAddr::new(ip.parse().unwrap(), 8080);
    // Spawned on the simulation's runtime: it runs while the simulation does.
    let spin = {
        let _entered = sim.enter();
        tokio::spawn(async move { network.http_get(address, "/spin").await })
    };
    sim.run_until(Duration::from_secs(120), until::restarts("spinner", 1))
        .unwrap();
    let unhealthy = sim.events_with_reason("spinner", "Unhealthy");
    assert!(
        unhealthy[0]
            .message
            .as_deref()
            .unwrap()
            .ends_with("(Client.Timeout exceeded while awaiting headers)"),
        "{unhealthy:?}"
    );
    let status = sim.container_status("spinner", "spinner").unwrap();
    let last = status.last_state.unwrap().terminated.unwrap();
    assert_eq!(last.exit_code, 137);
    let answered = sim.block_on(spin).unwrap();
    assert!(matches!(&answered, Err(_) | Ok((502, _))), "{answered:?}");
}

#[test]
fn describe_ages_and_counts_come_from_the_simulated_clock() {
    let home = Home::new();
    let mut sim = simulation(&home);
    sim.apply_file(repo_file("examples/health1.yaml")).unwrap();
    sim.advance(Duration::from_secs(600));
    let pod = sim.pod("health1").unwrap();
    let events: Vec<_> = sim
        .events()
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some("health1"))
        .collect();
    let now = {
        let _entered = sim.enter();
        sim.node().clock().now()
    };
    let describe = wasmpod::printers::describe_pod(&pod, &events, now);
    // Unhealthy: first at 40 s, last (the 15th) at 8m10s; Killing: 1m0s … 8m10s.
    for expected in [
        "  Warning  Unhealthy  110s (x15 over 9m20s)  kubelet            Liveness probe failed: HTTP probe failed with statuscode: 500\n",
        "  Normal   Killing    110s (x5 over 9m)      kubelet            Container health1 failed liveness probe, will be restarted\n",
        "  Warning  BackOff    80s (x4 over 7m)       kubelet            Back-off restarting failed container health1 in pod health1_default(",
        "    Restart Count:  4\n",
    ] {
        let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words(&describe).contains(&words(expected)),
            "missing {expected:?} in:\n{describe}"
        );
    }
}

#[test]
fn guests_read_the_simulated_wall_clock() {
    let home = Home::new();
    let start = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000); // 2030-01-01
    let mut sim = Simulation::builder()
        .home(home.path())
        .start_at(start)
        .build()
        .unwrap();
    sim.apply_yaml(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: clock}
spec:
  restartPolicy: Never
  containers:
  - name: clock
    image: busybox
    command: ["sh", "-c", "date '+%F %T'; sleep 5400; date '+%F %T'"]
"#,
    )
    .unwrap();
    let took = sim
        .run_until(
            Duration::from_secs(3 * 3600),
            until::phase("clock", "Succeeded"),
        )
        .unwrap();
    assert_eq!(took.as_secs(), 5400, "{took:?}");
    assert_eq!(
        sim.logs("clock", None, false).unwrap(),
        "2030-01-01 00:00:00\n2030-01-01 01:30:00\n"
    );
    let created = sim
        .pod("clock")
        .unwrap()
        .metadata
        .creation_timestamp
        .unwrap();
    assert_eq!(created.0.to_string(), "2030-01-01T00:00:00Z");
}

#[test]
fn simulations_sharing_a_home_and_seed_keep_their_files_apart() {
    // Same home, same seed: the same pod UIDs. Each node still has its own pod directories.
    let home = Home::new();
    let pod = |name: &str| {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: p}}
spec:
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo {name} > /tmp/f; sleep 5; cat /tmp/f; sleep 3600"]
"#
        )
    };
    let build = || {
        Simulation::builder()
            .home(home.path())
            .seed(7)
            .build()
            .unwrap()
    };
    let mut first = build();
    first.apply_yaml(&pod("first")).unwrap();
    first.advance(Duration::from_secs(1));
    let mut second = build();
    second.apply_yaml(&pod("second")).unwrap();
    assert_eq!(
        first.pod("p").unwrap().metadata.uid,
        second.pod("p").unwrap().metadata.uid
    );
    second.advance(Duration::from_secs(10));
    first.advance(Duration::from_secs(10));
    assert_eq!(first.logs("p", None, false).unwrap(), "first\n");
    assert_eq!(second.logs("p", None, false).unwrap(), "second\n");
}
