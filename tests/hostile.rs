//! Guests written to attack the host (`guest-apps/hostile`): each attack ends the way the
//! Kubernetes model predicts — denied, OOMKilled, a trap, a liveness restart, a bounded log —
//! and a calm sibling pod keeps answering and keeps its probe schedule throughout.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::node::{
    events, get, get_when_listening, node, pod, pod_ip, terminated, wait_for_status,
};
use wasmpod::Node;

/// One attack scenario at a time: each loads the machine on purpose, and the calm pod's probe
/// schedule is what is being measured.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The hostile guest with an emptyDir at /data, a memory limit and a liveness probe.
fn hostile(name: &str, memory: &str, env: &str) -> k8s_openapi::api::core::v1::Pod {
    let mut pod = pod(&format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: data
    emptyDir: {{}}
  containers:
  - name: app
    image: hostile:latest
    imagePullPolicy: Never
    ports:
    - containerPort: 8080
    env:
    - name: GRANTED
      value: "yes"{env}
    volumeMounts:
    - name: data
      mountPath: /data
    resources:
      limits:
        memory: {memory}
    livenessProbe:
      httpGet:
        path: /
        port: 8080
      periodSeconds: 1
      timeoutSeconds: 1
      failureThreshold: 2
"#
    ));
    wasmpod::manifest::apply_defaults(&mut pod);
    pod
}

/// A well-behaved neighbour with its own liveness probe every second.
fn calm() -> k8s_openapi::api::core::v1::Pod {
    hostile("calm", "64Mi", "")
}

async fn attack(node: &Node, name: &str, path: &str) -> String {
    let address = format!("{}:8080", pod_ip(node, name).await);
    match get(address, path).await {
        Ok((status, body)) => format!("{status} {}", body.trim_end()),
        Err(error) => format!("no answer: {error}"),
    }
}

/// Applies the pods, waits until each answers; returns the calm pod's probe failures so far.
async fn start(node: &Node, pods: Vec<k8s_openapi::api::core::v1::Pod>) -> usize {
    let names: Vec<String> = pods
        .iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .collect();
    node.apply(pods).unwrap();
    for name in names {
        get_when_listening(node, &name, 8080, "/").await;
    }
    calm_probe_failures(node)
}

fn calm_probe_failures(node: &Node) -> usize {
    events(node, "Unhealthy")
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some("calm"))
        .map(|e| e.count.unwrap_or(1) as usize)
        .sum()
}

/// Since `start` returned, the calm pod was never restarted (its probe never failed twice in a
/// row: failureThreshold 2) and it answers now. A single missed 1 s probe timeout is tolerated:
/// it was seen once in CI with three guests spinning on two cores (see the issue's notes).
async fn calm_is_untouched(node: &Node, failures_at_start: usize) {
    let failures = calm_probe_failures(node) - failures_at_start;
    if failures > 0 {
        eprintln!("calm missed {failures} probe(s) during the attack");
    }
    let status = common::node::status_of(node, "calm").unwrap();
    assert_eq!(
        status.restart_count,
        0,
        "calm was restarted during the attack: {:?}",
        events(node, "Unhealthy")
    );
    assert_eq!(attack(node, "calm", "/").await, "200 ok");
}

fn log_lines(node: &Node, name: &str) -> Vec<String> {
    node.logs("default", name, None)
        .unwrap()
        .lines(false)
        .unwrap_or_default()
        .into_iter()
        .map(|l| l.text)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_sockets_and_env_beyond_the_grant_are_denied() {
    let _serial = SERIAL.lock().await;
    let t = node();
    let node = &t.node;
    let calm_failures = start(node, vec![hostile("intruder", "64Mi", ""), calm()]).await;

    // Its own mount works (the positive control), nothing else does.
    assert_eq!(
        attack(node, "intruder", "/write?path=/data/mine.txt").await,
        "200 written"
    );
    for path in [
        "/etc/passwd",
        "/data/../../../../etc/passwd",
        "../etc/passwd",
        "/proc/self/environ",
    ] {
        let answer = attack(node, "intruder", &format!("/read?path={path}")).await;
        assert!(answer.starts_with("200 denied: "), "{path}: {answer}");
    }
    for path in [
        "/data/../../escape.txt",
        "../../../escape.txt",
        "/data/../../../tmp/escape.txt",
    ] {
        let answer = attack(node, "intruder", &format!("/write?path={path}")).await;
        assert!(answer.starts_with("200 denied: "), "{path}: {answer}");
    }
    // `/` is the container's own private root (a container's writable layer): writing there
    // is allowed, and lands inside this pod's directory on the host.
    assert_eq!(
        attack(node, "intruder", "/write?path=/escape.txt").await,
        "200 written"
    );
    let uid = node
        .store()
        .pod("default", "intruder")
        .unwrap()
        .metadata
        .uid
        .unwrap();
    let written: Vec<_> = walk(t.home())
        .into_iter()
        .filter(|p| p.ends_with("escape.txt"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(
        written[0].to_string_lossy().contains(&uid),
        "outside the pod's directory: {written:?}"
    );
    // A symlink made inside the emptyDir never leads out of it.
    for target in ["/etc/passwd", "../../../../../../etc/passwd"] {
        let answer = attack(
            node,
            "intruder",
            &format!("/symlink?target={target}&link=/data/link{}", target.len()),
        )
        .await;
        assert!(
            answer.contains("denied") && !answer.contains("root:"),
            "{target}: {answer}"
        );
    }

    // Sockets: nothing outside the pod — not the host's loopback, the API, another pod, the
    // internet — and no outgoing HTTP.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let host_port = listener.local_addr().unwrap().port();
    let calm_ip = pod_ip(node, "calm").await;
    for address in [
        format!("127.0.0.1:{host_port}"),
        format!("{calm_ip}:8080"),
        "10.0.0.1:443".to_string(),
        "8.8.8.8:53".to_string(),
    ] {
        let answer = attack(node, "intruder", &format!("/connect?addr={address}")).await;
        assert!(answer.starts_with("200 denied: "), "{address}: {answer}");
    }
    let answer = attack(
        node,
        "intruder",
        &format!("/http-out?authority=127.0.0.1:{host_port}"),
    )
    .await;
    assert!(answer.starts_with("200 denied: "), "{answer}");
    assert!(
        listener.accept().is_err(),
        "the host listener was reached from a guest"
    );

    // The environment is the manifest's (plus what Kubernetes injects), never the host's.
    let env = attack(node, "intruder", "/env").await;
    assert!(env.contains("GRANTED=yes"), "{env}");
    for (key, value) in std::env::vars() {
        assert!(
            !env.contains(&format!("\n{key}={value}\n")),
            "host variable {key} leaked into the guest"
        );
    }
    // A program may listen only on the ports its container declares.
    node.apply(vec![pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: squatter
spec:
  restartPolicy: Never
  containers:
  - name: squatter
    image: cmd_app:latest
    imagePullPolicy: Never
    ports:
    - containerPort: 9090
"#)])
        .unwrap();
    let status = wait_for_status(node, "squatter", Duration::from_secs(20), "the exit", |s| {
        s.state.as_ref().is_some_and(|st| st.terminated.is_some())
    })
    .await;
    assert_eq!(terminated(&status), (1, "Error".to_string()));
    let logs = log_lines(node, "squatter");
    assert!(
        logs.iter()
            .any(|l| l.starts_with("cannot listen:") && l.contains("ermission denied")),
        "{logs:?}"
    );

    // The guest's own log records every refusal.
    let logs = log_lines(node, "intruder");
    assert!(
        logs.iter()
            .any(|l| l.starts_with("result /connect: denied")),
        "{logs:?}"
    );
    calm_is_untouched(node, calm_failures).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_attacks_end_in_oom_kills_and_traps() {
    let _serial = SERIAL.lock().await;
    let t = node();
    let node = &t.node;
    let calm_failures = start(
        node,
        vec![
            hostile("leaker", "64Mi", ""),
            hostile("grower", "64Mi", ""),
            hostile("recursor", "64Mi", ""),
            calm(),
        ],
    )
    .await;
    // A leak of 8 MiB per request meets the limit within a few requests: OOMKilled.
    for _ in 0..12 {
        if attack(node, "leaker", "/leak?mb=8")
            .await
            .starts_with("no answer")
        {
            break;
        }
    }
    let oom = |s: &k8s_openapi::api::core::v1::ContainerStatus| {
        s.last_state
            .as_ref()
            .and_then(|l| l.terminated.as_ref())
            .is_some()
    };
    let status = wait_for_status(node, "leaker", Duration::from_secs(30), "OOM", oom).await;
    assert_eq!(terminated(&status), (137, "OOMKilled".to_string()));
    // Asking for 4 GiB at once is refused the same way.
    let _ = attack(node, "grower", "/grow?pages=65536").await;
    let status = wait_for_status(node, "grower", Duration::from_secs(30), "OOM", oom).await;
    assert_eq!(terminated(&status), (137, "OOMKilled".to_string()));
    // Unbounded recursion overflows the guest's stack: a trap, the container errors out.
    let answer = attack(node, "recursor", "/recurse").await;
    assert!(!answer.starts_with("200 depth"), "{answer}");
    let status = wait_for_status(node, "recursor", Duration::from_secs(30), "the trap", oom).await;
    let (code, reason) = terminated(&status);
    assert_eq!(reason, "Error", "exit {code}");
    // All three restart and answer again.
    for name in ["leaker", "grower", "recursor"] {
        wait_for_status(node, name, Duration::from_secs(30), "the restart", |s| {
            s.restart_count >= 1 && s.state.as_ref().is_some_and(|st| st.running.is_some())
        })
        .await;
        assert_eq!(get_when_listening(node, name, 8080, "/").await.0, 200);
    }
    calm_is_untouched(node, calm_failures).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_attacks_are_restarted_by_liveness_while_siblings_keep_their_schedule() {
    let _serial = SERIAL.lock().await;
    let t = node();
    let node = &t.node;
    let calm_failures = start(
        node,
        vec![
            hostile("spinner", "64Mi", ""),
            hostile("poller", "64Mi", ""),
            calm(),
        ],
    )
    .await;
    node.apply(vec![hostile(
        "late",
        "64Mi",
        "\n    - name: START\n      value: spin",
    )])
    .unwrap();
    // Requests that never finish: the request times out, then liveness restarts the guest.
    for (name, path) in [("spinner", "/spin"), ("poller", "/poll-spin")] {
        let address = format!("{}:8080", pod_ip(node, name).await);
        let path = path.to_string();
        tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(&address).unwrap();
            let _ = write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let mut sink = Vec::new();
            let _ = stream.read_to_end(&mut sink);
        });
    }
    for name in ["spinner", "poller", "late"] {
        let status = wait_for_status(node, name, Duration::from_secs(30), "a restart", |s| {
            s.restart_count >= 1
        })
        .await;
        assert_eq!(terminated(&status).0, 137, "{name}: killed, {status:?}");
    }
    let killing: Vec<String> = events(node, "Killing")
        .into_iter()
        .filter_map(|e| e.message)
        .collect();
    assert!(
        killing
            .iter()
            .any(|m| m == "Container app failed liveness probe, will be restarted"),
        "{killing:?}"
    );
    calm_is_untouched(node, calm_failures).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn io_attacks_stay_bounded_and_protocol_abuse_is_contained() {
    let _serial = SERIAL.lock().await;
    let t = node();
    let node = &t.node;
    let calm_failures = start(node, vec![hostile("noisy", "64Mi", ""), calm()]).await;
    let address = format!("{}:8080", pod_ip(node, "noisy").await);

    // 64 MiB to stdout: the log keeps its bounded tail, the guest goes on.
    assert_eq!(attack(node, "noisy", "/flood?mb=64").await, "200 flooded");
    let kept: usize = log_lines(node, "noisy").iter().map(|l| l.len() + 1).sum();
    assert!(kept <= 2 << 20, "{kept} bytes of log kept");

    // A 1 GiB body and an endless one: the client reads a little and leaves; the guest sees
    // the hang-up and stays up.
    for path in ["/big?mb=1024", "/forever"] {
        let (address, path) = (address.clone(), path.to_string());
        let read = tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(&address).unwrap();
            write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut buffer = vec![0u8; 1 << 20];
            stream.read_exact(&mut buffer).map(|_| buffer.len())
        })
        .await
        .unwrap();
        assert_eq!(read.unwrap(), 1 << 20);
    }
    wait_until_log(node, "noisy", "client went away after").await;

    // A request body read one byte at a time still arrives whole.
    let body = vec![b'z'; 64 * 1024];
    let (address2, body2) = (address.clone(), body.clone());
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(&address2).unwrap();
        write!(
            stream,
            "POST /trickle HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body2.len()
        )
        .unwrap();
        stream.write_all(&body2).unwrap();
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    })
    .await
    .unwrap();
    assert!(
        answer.contains(&format!("read {} bytes one at a time", body.len())),
        "{answer}"
    );

    // Hundreds of idle connections do not starve the pod or its neighbour.
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(&address).unwrap());
    }
    assert_eq!(attack(node, "noisy", "/").await, "200 ok");
    assert_eq!(attack(node, "calm", "/").await, "200 ok");
    drop(idle);

    // Headers HTTP forbids never reach the wire: each one is refused to the guest.
    let answer = attack(node, "noisy", "/bad-header").await;
    assert_eq!(answer.matches("refused").count(), 3, "{answer}");

    // A trap halfway through a body: the client gets a cut-off response, the container
    // restarts, the node serves on.
    let (address3, path) = (address.clone(), "/half-then-trap");
    let partial = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(&address3).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut received = Vec::new();
        let _ = stream.read_to_end(&mut received);
        String::from_utf8_lossy(&received).into_owned()
    })
    .await
    .unwrap();
    assert!(
        !partial.contains("\r\n0\r\n\r\n"),
        "a complete body: {partial}"
    );
    let status = wait_for_status(node, "noisy", Duration::from_secs(30), "the restart", |s| {
        s.restart_count >= 1 && s.state.as_ref().is_some_and(|st| st.running.is_some())
    })
    .await;
    assert_eq!(terminated(&status).1, "Error");
    calm_is_untouched(node, calm_failures).await;
}

async fn wait_until_log(node: &Node, name: &str, prefix: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !log_lines(node, name).iter().any(|l| l.starts_with(prefix)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name}: no log line starting {prefix:?}: {:?}",
            log_lines(node, name)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}
