//! Container lifecycle through the library, with real guests on loopback: crash back-off,
//! exit-code mapping for traps/exit/kill/OOM, grace periods, logs across restarts, and
//! one long-lived instance per container.

mod common;

use std::time::Duration;

use common::node::{
    events, get, get_on, get_when_listening, node, pod, pod_ip, sim_node, terminated,
    wait_for_log_line, wait_for_status,
};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use wasmpod::Node;

const MISBEHAVE: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: NAME
spec:
  restartPolicy: POLICY
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: misbehave:latest
    imagePullPolicy: Never
    ports:
    - containerPort: 8080
    env:
    - name: ON_STOP
      value: ONSTOP
"#;

fn misbehave(name: &str, policy: &str, on_stop: &str) -> Pod {
    pod(&MISBEHAVE
        .replace("NAME", name)
        .replace("POLICY", policy)
        .replace("ONSTOP", on_stop))
}

/// Sends `path` to the running container and waits for the exit it causes.
async fn crash_with(node: &Node, name: &str, path: &'static str) -> ContainerStatus {
    wait_for_status(
        node,
        name,
        Duration::from_secs(30),
        "the container to run",
        |s| s.state.as_ref().is_some_and(|st| st.running.is_some()),
    )
    .await;
    get_when_listening(node, name, 8080, "/").await;
    let address = format!("{}:8080", pod_ip(node, name).await);
    let _ = get_on(node, address, path).await;
    wait_for_status(
        node,
        name,
        Duration::from_secs(30),
        "the container to exit",
        |s| {
            s.state.as_ref().is_some_and(|st| st.terminated.is_some())
                || s.last_state
                    .as_ref()
                    .is_some_and(|st| st.terminated.is_some())
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traps_exits_and_kills_map_to_exit_codes() {
    let t = node();
    let cases: [(&str, &'static str, i32, &str); 4] = [
        ("panics", "/panic", 134, "Error"),
        // WASI 0.2's wasi:cli/exit carries only ok/err, so any non-zero code arrives as 1.
        ("exits", "/exit/3", 1, "Error"),
        ("exits-zero", "/exit/0", 0, "Completed"),
        ("spins", "/spin", 137, "Error"),
    ];
    for (name, _, _, _) in cases {
        t.node
            .apply(vec![misbehave(name, "Never", "exit:0")])
            .unwrap();
    }
    for (name, path, code, reason) in cases {
        if path == "/spin" {
            // A guest spinning in wasm still stops: deletion kills it after the grace period.
            let node = t.node.clone();
            let status = wait_for_status(&node, name, Duration::from_secs(30), "running", |s| {
                s.state.as_ref().is_some_and(|st| st.running.is_some())
            })
            .await;
            assert!(status.state.unwrap().running.is_some());
            get_when_listening(&node, name, 8080, "/").await;
            let address = format!("{}:8080", pod_ip(&node, name).await);
            let spinning = tokio::spawn(get(address, path));
            // The guest is inside the loop before it is asked to stop.
            wait_for_log_line(&node, name, "handling /spin").await;
            let mut changes = node.store().subscribe();
            let started = std::time::Instant::now();
            node.delete_pod("default", name, None).unwrap();
            loop {
                let pod = common::node::next_deleted(&mut changes, Duration::from_secs(60)).await;
                if pod.metadata.name.as_deref() == Some(name) {
                    let last = pod.status.unwrap().container_statuses.unwrap().remove(0);
                    assert_eq!(terminated(&last), (code, reason.to_string()));
                    break;
                }
            }
            // Killed after the 2 s grace period, not before.
            assert!(
                started.elapsed() >= Duration::from_secs(2),
                "{:?}",
                started.elapsed()
            );
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{:?}",
                started.elapsed()
            );
            // The in-flight request dies with the instance: either the host answers 502 or
            // the connection closes unanswered (status 0 here), as with a killed process.
            let answer = spinning.await.unwrap();
            assert!(matches!(answer, Err(_) | Ok((0 | 502, _))), "{answer:?}");
            continue;
        }
        let status = crash_with(&t.node, name, path).await;
        assert_eq!(terminated(&status), (code, reason.to_string()), "{name}");
        // restartPolicy Never: it stays down and the pod is terminal.
        let pod = t.node.store().pod("default", name).unwrap();
        let phase = pod.status.unwrap().phase.unwrap();
        assert_eq!(
            phase,
            if code == 0 { "Succeeded" } else { "Failed" },
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_limit_is_an_oom_kill_and_the_container_restarts() {
    let t = node();
    let mut pod = misbehave("hog", "Always", "exit:0");
    let container = &mut pod.spec.as_mut().unwrap().containers[0];
    container.resources = Some(k8s_openapi::api::core::v1::ResourceRequirements {
        limits: Some(
            [(
                "memory".to_string(),
                k8s_openapi::apimachinery::pkg::api::resource::Quantity("32Mi".into()),
            )]
            .into(),
        ),
        ..Default::default()
    });
    wasmpod::manifest::apply_defaults(&mut pod);
    t.node.apply(vec![pod]).unwrap();
    let status = crash_with(&t.node, "hog", "/alloc").await;
    assert_eq!(terminated(&status), (137, "OOMKilled".to_string()));
    let restarted = wait_for_status(
        &t.node,
        "hog",
        Duration::from_secs(10),
        "the restart",
        |s| s.restart_count == 1 && s.state.as_ref().is_some_and(|st| st.running.is_some()),
    )
    .await;
    let last = restarted.last_state.unwrap().terminated.unwrap();
    assert_eq!(
        (last.exit_code, last.reason.as_deref()),
        (137, Some("OOMKilled"))
    );
    let pod = t.node.store().pod("default", "hog").unwrap();
    let describe = wasmpod::printers::describe_pod(&pod, &[], t.node.clock().now());
    for block in [
        "    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n",
        "    Limits:\n      memory:  32Mi\n    Requests:\n      memory:  32Mi\n",
        "Burstable\n",
    ] {
        assert!(
            describe.contains(block),
            "missing {block:?} in:\n{describe}"
        );
    }
}

// On simulated time: the back-off windows are the kubelet's own, exactly.
#[tokio::test(start_paused = true)]
async fn crash_loop_backs_off_ten_then_twenty_seconds() {
    let t = sim_node();
    let node = &t.node;
    node.apply(vec![misbehave("crashy", "Always", "exit:0")])
        .unwrap();

    // First crash: restarted at once.
    crash_with(node, "crashy", "/exit/1").await;
    let status = wait_for_status(
        node,
        "crashy",
        Duration::from_secs(10),
        "the first restart",
        |s| s.restart_count == 1 && s.state.as_ref().is_some_and(|st| st.running.is_some()),
    )
    .await;
    let first_finish = status
        .last_state
        .unwrap()
        .terminated
        .unwrap()
        .finished_at
        .unwrap()
        .0;
    let restarted = status.state.unwrap().running.unwrap().started_at.unwrap().0;
    assert!(restarted.duration_since(first_finish) < jiff::SignedDuration::from_secs(2));

    // Second crash: CrashLoopBackOff for 10 s.
    let address = format!("{}:8080", pod_ip(node, "crashy").await);
    let waiting = loop {
        let _ = get_on(node, address.clone(), "/exit/1").await;
        let status = wait_for_status(node, "crashy", Duration::from_secs(10), "back-off", |s| {
            s.state
                .as_ref()
                .is_some_and(|st| st.waiting.is_some() || st.running.is_some())
        })
        .await;
        if let Some(waiting) = status.state.as_ref().and_then(|s| s.waiting.clone()) {
            break (waiting, status);
        }
    };
    let (waiting, status) = waiting;
    assert_eq!(waiting.reason.as_deref(), Some("CrashLoopBackOff"));
    let uid = node
        .store()
        .pod("default", "crashy")
        .unwrap()
        .metadata
        .uid
        .unwrap();
    assert_eq!(
        waiting.message.unwrap(),
        format!("back-off 10s restarting failed container=app pod=crashy_default({uid})")
    );
    assert_eq!(status.restart_count, 1);
    let second_finish = status
        .last_state
        .unwrap()
        .terminated
        .unwrap()
        .finished_at
        .unwrap()
        .0;
    let backoff_event = events(node, "BackOff");
    assert_eq!(
        backoff_event[0].message.as_deref(),
        Some(
            format!("Back-off restarting failed container app in pod crashy_default({uid})")
                .as_str()
        )
    );
    assert_eq!(backoff_event[0].type_.as_deref(), Some("Warning"));

    let status = wait_for_status(
        node,
        "crashy",
        Duration::from_secs(20),
        "the restart after 10s",
        |s| s.restart_count == 2 && s.state.as_ref().is_some_and(|st| st.running.is_some()),
    )
    .await;
    let restarted = status.state.unwrap().running.unwrap().started_at.unwrap().0;
    let waited = restarted.duration_since(second_finish);
    assert_eq!(waited, jiff::SignedDuration::from_secs(10));

    // Third crash: the window doubles.
    crash_with(node, "crashy", "/exit/1").await;
    let status = wait_for_status(
        node,
        "crashy",
        Duration::from_secs(10),
        "the second back-off",
        |s| {
            s.state
                .as_ref()
                .and_then(|st| st.waiting.as_ref())
                .is_some_and(|w| w.reason.as_deref() == Some("CrashLoopBackOff"))
        },
    )
    .await;
    let message = status.state.unwrap().waiting.unwrap().message.unwrap();
    assert!(
        message.starts_with("back-off 20s restarting failed container=app"),
        "{message}"
    );
    let pod = node.store().pod("default", "crashy").unwrap();
    let table = wasmpod::printers::get_pods(&[pod], node.clock().now(), false);
    assert!(table.contains("0/1     CrashLoopBackOff   2 ("), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_long_lived_instance_per_container_fresh_after_restart() {
    let t = node();
    let node = &t.node;
    node.apply(vec![pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: counter
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: health_image:latest
    ports:
    - containerPort: 8080
"#)])
        .unwrap();
    wait_for_status(node, "counter", Duration::from_secs(30), "running", |s| {
        s.ready
    })
    .await;
    let address = format!("{}:8080", pod_ip(node, "counter").await);
    let mut statuses = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while statuses.is_empty() {
        if let Ok((status, body)) = get(address.clone(), "/").await {
            assert_eq!(body, "You've hit counter\n");
            statuses.push(status);
        }
        assert!(tokio::time::Instant::now() < deadline);
    }
    for _ in 0..4 {
        statuses.push(get(address.clone(), "/").await.unwrap().0);
    }
    assert_eq!(statuses, [200, 200, 200, 500, 500]);
    let (_, body) = get(address.clone(), "/").await.unwrap();
    assert_eq!(body, "I'm not well. Please restart me!");

    let logs = node.logs("default", "counter", None).unwrap();
    let lines = logs.lines(false).unwrap();
    assert_eq!(lines[0].text, "server starting...");
    assert_eq!(lines.len(), 7);
    assert!(lines[1].text.starts_with("Received request from 127."));

    // Deleting stops the guest: without a shutdown export it is killed after the grace
    // period (137), and the port closes.
    let mut changes = node.store().subscribe();
    tokio::time::timeout(Duration::from_secs(60), node.delete_all(None))
        .await
        .expect("deletion finished");
    let pod = common::node::next_deleted(&mut changes, Duration::from_secs(60)).await;
    let last = pod.status.unwrap().container_statuses.unwrap().remove(0);
    assert_eq!(terminated(&last), (137, "Error".to_string()));
    assert!(get(address, "/").await.is_err());
    let killing = events(node, "Killing");
    assert_eq!(
        killing[0].message.as_deref(),
        Some("Stopping container app")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_waits_for_the_guest_then_kills_after_the_grace_period() {
    let t = node();
    let node = &t.node;
    // The guest's shutdown handler never returns: killed after the pod's 2 s grace period.
    node.apply(vec![misbehave("stubborn", "Always", "spin")])
        .unwrap();
    wait_for_status(node, "stubborn", Duration::from_secs(30), "running", |s| {
        s.ready
    })
    .await;
    let mut changes = node.store().subscribe();
    let started = std::time::Instant::now();
    node.delete_pod("default", "stubborn", None).unwrap();
    let pod = common::node::next_deleted(&mut changes, Duration::from_secs(60)).await;
    let last = pod.status.unwrap().container_statuses.unwrap().remove(0);
    assert_eq!(terminated(&last), (137, "Error".to_string()));
    assert!(started.elapsed() >= Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_keep_partial_lines_and_the_previous_instance() {
    let t = node();
    let node = &t.node;
    node.apply(vec![misbehave("chatty", "Always", "exit:0")])
        .unwrap();
    wait_for_status(node, "chatty", Duration::from_secs(30), "running", |s| {
        s.ready
    })
    .await;
    get_when_listening(node, "chatty", 8080, "/log").await;
    crash_with(node, "chatty", "/exit/2").await;
    wait_for_status(node, "chatty", Duration::from_secs(10), "restart", |s| {
        s.restart_count == 1
    })
    .await;
    let logs = node.logs("default", "chatty", None).unwrap();
    let previous: Vec<String> = logs
        .lines(true)
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert!(previous.contains(&"to stdout".to_string()), "{previous:?}");
    assert!(
        previous.contains(&"partial stderr line".to_string()),
        "{previous:?}"
    );
}

#[test]
fn compiled_code_is_cached_by_digest_and_engine() {
    let home = tempfile::tempdir().unwrap();
    let store = wasmpod::images::ImageStore::open(home.path()).unwrap();
    let record = store
        .resolve("httpd:latest")
        .unwrap()
        .expect("built-in image");
    let cache_dir = store.compile_cache_dir();

    let engine = wasmpod::engine::Engine::new().unwrap();
    engine
        .load(&record.digest, &record.path, &cache_dir)
        .unwrap();
    let cached = engine.cache_path(&record.digest, &cache_dir);
    let hex = record.digest.strip_prefix("sha256:").unwrap();
    assert!(cached
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with(hex));
    let written = std::fs::metadata(&cached)
        .expect("cache file")
        .modified()
        .unwrap();

    // A second engine (a second wasmpod start) loads the cached code instead of compiling.
    let again = wasmpod::engine::Engine::new().unwrap();
    again
        .load(&record.digest, &record.path, &cache_dir)
        .unwrap();
    assert_eq!(
        std::fs::metadata(&cached).unwrap().modified().unwrap(),
        written
    );
    assert_eq!(std::fs::read_dir(&cache_dir).unwrap().count(), 1);

    // A damaged entry — same length, same header, one flipped byte in the code — is detected
    // by its checksum and recompiled, never loaded.
    let mut bytes = std::fs::read(&cached).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&cached, &bytes).unwrap();
    let third = wasmpod::engine::Engine::new().unwrap();
    third
        .load(&record.digest, &record.path, &cache_dir)
        .unwrap();
    let rewritten = std::fs::read(&cached).unwrap();
    assert_ne!(rewritten, bytes, "the damaged entry was replaced");
    assert_eq!(rewritten[middle], bytes[middle] ^ 0xff);
}

/// A node process that starts again finds the pods the cluster bound to it (`Node::adopt`):
/// they keep their identity, and a container that ran before was lost with the old process,
/// so it starts again with its restart count continued and `lastState` terminated as
/// containerd reports a container lost with its host (exit 255, `Unknown`). No second
/// `Scheduled` event: the pod was scheduled long ago.
#[tokio::test(start_paused = true)]
async fn adopted_pods_continue_their_restart_count() {
    let t = sim_node();
    let node = &t.node;
    let mut previous: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "survivor", "namespace": "default", "uid": "0b5e7c1e-1d2f-4a3b-9c8d-7e6f5a4b3c2d",
                     "creationTimestamp": "2026-11-25T08:00:00Z"},
        "spec": {"containers": [{"name": "app", "image": "health_image:latest",
                                 "imagePullPolicy": "IfNotPresent", "ports": [{"containerPort": 8080}]}]},
        "status": {"phase": "Running",
                   "conditions": [{"type": "PodScheduled", "status": "True"}],
                   "containerStatuses": [{
            "name": "app", "image": "health_image:latest", "imageID": "", "ready": true,
            "restartCount": 2, "containerID": "wasmpod://old",
            "state": {"running": {"startedAt": "2026-11-25T08:10:00Z"}}}]}
    }))
    .unwrap();
    wasmpod::manifest::apply_defaults(&mut previous);
    node.adopt(vec![previous]).unwrap();
    let status = wait_for_status(
        node,
        "survivor",
        Duration::from_secs(10),
        "running again",
        |s| s.state.as_ref().is_some_and(|st| st.running.is_some()),
    )
    .await;
    assert_eq!(status.restart_count, 3);
    let lost = status.last_state.unwrap().terminated.unwrap();
    assert_eq!(
        (lost.exit_code, lost.reason.as_deref()),
        (255, Some("Unknown"))
    );
    assert_eq!(lost.container_id.as_deref(), Some("wasmpod://old"));
    let pod = node.store().pod("default", "survivor").unwrap();
    assert_eq!(
        pod.metadata.uid.as_deref(),
        Some("0b5e7c1e-1d2f-4a3b-9c8d-7e6f5a4b3c2d")
    );
    assert!(events(node, "Scheduled").is_empty());
    node.delete_all(Some(0)).await;
}
