//! Kubelet fidelity with real guests on loopback: readiness and startup probes, command
//! containers under each restart policy, their own sockets, and CPU throttling.

mod common;

use std::time::Duration;

use common::node::{
    events, get_on, get_when_listening, node, pod, pod_ip, sim_node, status_of, terminated,
    wait_for_status,
};
use k8s_openapi::api::core::v1::PodCondition;
use wasmpod::Node;

fn condition(node: &Node, name: &str, kind: &str) -> PodCondition {
    node.store()
        .pod("default", name)
        .unwrap()
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == kind)
        .unwrap()
}

fn phase(node: &Node, name: &str) -> String {
    node.store()
        .pod("default", name)
        .unwrap()
        .status
        .unwrap()
        .phase
        .unwrap()
}

fn table(node: &Node, name: &str) -> String {
    let pod = node.store().pod("default", name).unwrap();
    wasmpod::printers::get_pods(&[pod], node.clock().now(), false)
}

fn messages(node: &Node, reason: &str) -> Vec<String> {
    events(node, reason)
        .into_iter()
        .filter_map(|e| e.message)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn readiness_flips_the_pod_not_ready_and_back_without_restarts() {
    let t = sim_node();
    let node = &t.node;
    node.apply(vec![pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: misbehave:latest
    imagePullPolicy: Never
    ports:
    - containerPort: 8080
    readinessProbe:
      httpGet:
        path: /healthz
        port: 8080
      # A long period: readiness still comes at once, through the manual trigger.
      periodSeconds: 30
"#)])
        .unwrap();
    let ready = wait_for_status(
        node,
        "web",
        Duration::from_secs(15),
        "ready well before the 30 s tick",
        |s| s.ready,
    )
    .await;
    assert_eq!(ready.started, Some(true));
    assert_eq!(condition(node, "web", "Ready").status, "True");

    // The flip itself on a pod probed every second, with successThreshold 2.
    node.apply(vec![pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: flip
spec:
  containers:
  - name: web
    image: misbehave:latest
    imagePullPolicy: Never
    ports:
    - containerPort: 8080
    readinessProbe:
      httpGet:
        path: /healthz
        port: 8080
      periodSeconds: 1
      successThreshold: 2
      failureThreshold: 1
"#)])
        .unwrap();
    wait_for_status(node, "flip", Duration::from_secs(15), "flip ready", |s| {
        s.ready
    })
    .await;
    let flip = format!("{}:8080", pod_ip(node, "flip").await);
    assert_eq!(get_on(node, flip.clone(), "/sick").await.unwrap().0, 200);
    let unready = wait_for_status(node, "flip", Duration::from_secs(10), "not ready", |s| {
        !s.ready
    })
    .await;
    assert!(
        unready.state.unwrap().running.is_some(),
        "readiness never restarts"
    );
    let ready_condition = condition(node, "flip", "Ready");
    assert_eq!(ready_condition.status, "False");
    assert_eq!(
        ready_condition.reason.as_deref(),
        Some("ContainersNotReady")
    );
    assert_eq!(
        ready_condition.message.as_deref(),
        Some("containers with unready status: [web]")
    );
    assert_eq!(condition(node, "flip", "ContainersReady").status, "False");
    assert_eq!(phase(node, "flip"), "Running");
    assert!(
        table(node, "flip").contains("flip   0/1     Running   0 "),
        "{}",
        table(node, "flip")
    );
    assert!(messages(node, "Unhealthy")
        .contains(&"Readiness probe failed: HTTP probe failed with statuscode: 503".to_string()));

    assert_eq!(get_on(node, flip.clone(), "/heal").await.unwrap().0, 200);
    let back = wait_for_status(node, "flip", Duration::from_secs(10), "ready again", |s| {
        s.ready
    })
    .await;
    assert_eq!(back.restart_count, 0);
    assert_eq!(condition(node, "flip", "Ready").status, "True");
    assert!(events(node, "Killing").is_empty());

    // A redirect to another host is not followed: success, with a ProbeWarning.
    node.apply(vec![pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: moved
spec:
  containers:
  - name: web
    image: misbehave:latest
    imagePullPolicy: Never
    ports:
    - containerPort: 8080
    readinessProbe:
      httpGet:
        path: /moved
        port: 8080
      periodSeconds: 1
"#)])
        .unwrap();
    wait_for_status(
        node,
        "moved",
        Duration::from_secs(15),
        "ready through a redirect",
        |s| s.ready,
    )
    .await;
    assert!(
        messages(node, "ProbeWarning").contains(
            &"Readiness probe warning: Probe terminated redirects, Response body: ok\n".to_string()
        ),
        "{:?}",
        messages(node, "ProbeWarning")
    );
}

#[tokio::test(start_paused = true)]
async fn a_startup_probe_protects_a_slow_starter_then_liveness_takes_over() {
    let t = sim_node();
    let node = &t.node;
    node.apply(vec![pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: slow
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: misbehave:latest
    imagePullPolicy: Never
    env:
    - name: STARTUP_SECONDS
      value: "3"
    ports:
    - containerPort: 8080
    startupProbe:
      httpGet:
        path: /healthz
        port: 8080
      periodSeconds: 1
      failureThreshold: 10
    livenessProbe:
      httpGet:
        path: /healthz
        port: 8080
      periodSeconds: 1
      failureThreshold: 1
"#)])
        .unwrap();
    let starting = wait_for_status(node, "slow", Duration::from_secs(10), "running", |s| {
        s.state.as_ref().is_some_and(|st| st.running.is_some())
    })
    .await;
    assert_eq!(starting.started, Some(false));
    assert!(!starting.ready);
    let started = wait_for_status(node, "slow", Duration::from_secs(20), "started", |s| {
        s.started == Some(true)
    })
    .await;
    assert!(started.ready, "no readiness probe: ready once started");
    assert_eq!(
        started.restart_count, 0,
        "liveness waited for the startup probe"
    );
    let unhealthy = messages(node, "Unhealthy");
    assert!(
        unhealthy
            .iter()
            .any(|m| m.starts_with("Startup probe failed: Get \"http://")
                && m.ends_with("connect: connection refused")),
        "{unhealthy:?}"
    );
    assert!(
        !unhealthy.iter().any(|m| m.starts_with("Liveness")),
        "{unhealthy:?}"
    );

    let address = format!("{}:8080", pod_ip(node, "slow").await);
    get_on(node, address, "/sick").await.unwrap();
    wait_for_status(
        node,
        "slow",
        Duration::from_secs(20),
        "the liveness restart",
        |s| s.restart_count == 1,
    )
    .await;
    assert!(messages(node, "Killing")
        .contains(&"Container app failed liveness probe, will be restarted".to_string()));
}

#[tokio::test(start_paused = true)]
async fn a_startup_probe_that_never_passes_restarts_the_container() {
    let t = sim_node();
    let node = &t.node;
    node.apply(vec![pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: stuck
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: misbehave:latest
    imagePullPolicy: Never
    env:
    - name: STARTUP_SECONDS
      value: "600"
    ports:
    - containerPort: 8080
    startupProbe:
      tcpSocket:
        port: 8080
      periodSeconds: 1
      failureThreshold: 2
"#)])
        .unwrap();
    let restarted = wait_for_status(
        node,
        "stuck",
        Duration::from_secs(20),
        "a startup restart",
        |s| s.restart_count >= 1,
    )
    .await;
    assert_eq!(
        terminated(&restarted),
        (137, "Error".to_string()),
        "killed in its start-up"
    );
    assert!(messages(node, "Killing")
        .contains(&"Container app failed startup probe, will be restarted".to_string()));
}

const COMMAND: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: NAME
spec:
  restartPolicy: POLICY
  containers:
  - name: job
    image: cmd_app:latest
    imagePullPolicy: Never
    env:
    - name: MODE
      value: exit
    - name: EXIT_CODE
      value: "EXITVALUE"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_policies_decide_what_an_exited_program_does() {
    let t = node();
    let node = &t.node;
    let cases = [
        ("onfailure-ok", "OnFailure", 0),
        ("onfailure-fails", "OnFailure", 1),
        ("never-fails", "Never", 1),
        ("never-ok", "Never", 0),
        ("always-ok", "Always", 0),
    ];
    for (name, policy, code) in cases {
        let manifest = COMMAND
            .replace("NAME", name)
            .replace("POLICY", policy)
            .replace("EXITVALUE", &code.to_string());
        node.apply(vec![pod(&manifest)]).unwrap();
    }
    // Terminal pods: Succeeded / Failed, no restarts, STATUS Completed / Error.
    for (name, want_phase, want_status) in [
        ("onfailure-ok", "Succeeded", "Completed"),
        ("never-fails", "Failed", "Error"),
        ("never-ok", "Succeeded", "Completed"),
    ] {
        let status = wait_for_status(
            node,
            name,
            Duration::from_secs(20),
            "the program to end",
            |s| s.state.as_ref().is_some_and(|st| st.terminated.is_some()),
        )
        .await;
        assert_eq!(status.restart_count, 0, "{name}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while phase(node, name) != want_phase {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name}: phase {}",
                phase(node, name)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let row = table(node, name);
        assert!(row.contains(&format!("0/1     {want_status} ")), "{row}");
    }
    // Restarted: OnFailure after a failure, Always after anything. Phase stays Running.
    for (name, reason) in [("onfailure-fails", "Error"), ("always-ok", "Completed")] {
        let status = wait_for_status(node, name, Duration::from_secs(20), "a restart", |s| {
            s.restart_count >= 1
        })
        .await;
        assert_eq!(terminated(&status).1, reason, "{name}");
        assert_eq!(phase(node, name), "Running", "{name}");
    }
    let logs = node
        .logs("default", "never-fails", None)
        .unwrap()
        .lines(false)
        .unwrap();
    assert_eq!(logs.last().unwrap().text, "exiting with 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_listens_on_its_pod_ip_and_reaches_nothing_else() {
    let t = node();
    let node = &t.node;
    node.apply(vec![pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: server
spec:
  containers:
  - name: server
    image: cmd_app:latest
    imagePullPolicy: Never
    ports:
    - containerPort: 8080
    livenessProbe:
      httpGet:
        port: 8080
      periodSeconds: 1
"#)])
        .unwrap();
    let address = format!("{}:8080", pod_ip(node, "server").await);
    let answer = get_when_listening(node, "server", 8080, "/").await;
    assert_eq!(answer, (200, "ok\n".to_string()));
    let logs = node
        .logs("default", "server", None)
        .unwrap()
        .lines(false)
        .unwrap();
    assert!(
        logs.iter()
            .any(|l| l.text == format!("listening on Ok({address})")),
        "{logs:?}"
    );

    // Its own exit code ends the container: /exit/0 → Completed, restarted (Always).
    let _ = get_on(node, address.clone(), "/exit/0").await;
    let status = wait_for_status(
        node,
        "server",
        Duration::from_secs(20),
        "the restart",
        |s| s.restart_count == 1,
    )
    .await;
    assert_eq!(terminated(&status), (0, "Completed".to_string()));

    // Nothing outside the pod is reachable: not even a listener on the host's loopback.
    let outside = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let target = outside.local_addr().unwrap().to_string();
    node.apply(vec![pod(&format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: prober
spec:
  restartPolicy: Never
  containers:
  - name: prober
    image: cmd_app:latest
    imagePullPolicy: Never
    env:
    - name: MODE
      value: connect
    - name: TARGET
      value: "{target}"
"#
    ))])
    .unwrap();
    let status = wait_for_status(
        node,
        "prober",
        Duration::from_secs(20),
        "the connect attempt",
        |s| s.state.as_ref().is_some_and(|st| st.terminated.is_some()),
    )
    .await;
    assert_eq!(terminated(&status), (1, "Error".to_string()));
    let logs = node
        .logs("default", "prober", None)
        .unwrap()
        .lines(false)
        .unwrap();
    assert!(
        logs.iter()
            .any(|l| l.text.starts_with(&format!("cannot connect to {target}"))),
        "{logs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpu_limit_throttles_the_guest_while_siblings_keep_answering() {
    let t = node();
    let node = &t.node;
    let manifest = |name: &str, cpu: Option<&str>| {
        let limits = cpu
            .map(|cpu| format!("    resources:\n      limits:\n        cpu: {cpu}\n"))
            .unwrap_or_default();
        pod(&format!(
            r#"
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: app
    image: misbehave:latest
    imagePullPolicy: Never
    ports:
    - containerPort: 8080
    livenessProbe:
      httpGet:
        path: /healthz
        port: 8080
      periodSeconds: 1
      timeoutSeconds: 1
      failureThreshold: 2
{limits}"#
        ))
    };
    node.apply(vec![
        manifest("free", None),
        manifest("capped", Some("50m")),
        manifest("sibling", None),
    ])
    .unwrap();
    for name in ["free", "capped", "sibling"] {
        wait_for_status(node, name, Duration::from_secs(20), "ready", |s| s.ready).await;
    }
    let work = |name: &'static str| async move {
        let address = format!("{}:8080", pod_ip(node, name).await);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok((200, body)) = get_on(node, address.clone(), "/work/40").await {
                return body.trim().parse::<u64>().unwrap();
            }
            assert!(tokio::time::Instant::now() < deadline);
        }
    };
    let free_ms = work("free").await.max(1);
    let capped_ms = work("capped").await;
    // 50m is a twentieth of a core: the same work takes many times longer (asserting only
    // 3x leaves room for a busy machine slowing the unthrottled run).
    assert!(
        capped_ms >= 3 * free_ms,
        "free {free_ms} ms, capped {capped_ms} ms"
    );
    // Throttled, not killed; and the sibling kept passing its probes meanwhile.
    for name in ["capped", "sibling"] {
        let status = status_of(node, name).unwrap();
        assert_eq!(status.restart_count, 0, "{name}");
        assert!(status.ready, "{name}");
    }
    assert!(events(node, "Killing").is_empty());
}

#[tokio::test(start_paused = true)]
async fn grpc_liveness_restarts_a_guest_that_turns_not_serving() {
    let t = sim_node();
    let node = &t.node;
    node.apply(vec![pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: grpc
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: health
    image: grpc_health:latest
    imagePullPolicy: Never
    ports:
    - containerPort: 8080
    livenessProbe:
      grpc:
        port: 8080
      periodSeconds: 1
      failureThreshold: 2
    readinessProbe:
      grpc:
        port: 8080
        service: nosuch
      periodSeconds: 1
"#)])
        .unwrap();
    wait_for_status(node, "grpc", Duration::from_secs(20), "running", |s| {
        s.state.as_ref().is_some_and(|st| st.running.is_some())
    })
    .await;
    // The readiness probe asks for a service the guest does not know: never ready.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !messages(node, "Unhealthy").iter().any(|m| {
        m.starts_with(
            "Readiness probe failed: error: health rpc probe failed: rpc error: code = NotFound",
        )
    }) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            messages(node, "Unhealthy")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!status_of(node, "grpc").unwrap().ready);

    let address = format!("{}:8080", pod_ip(node, "grpc").await);
    assert_eq!(
        get_on(node, address, "/set/NOT_SERVING").await.unwrap().0,
        200
    );
    let restarted = wait_for_status(
        node,
        "grpc",
        Duration::from_secs(20),
        "the liveness restart",
        |s| s.restart_count == 1,
    )
    .await;
    assert_eq!(terminated(&restarted), (137, "Error".to_string()));
    let unhealthy = messages(node, "Unhealthy");
    assert!(
        unhealthy.contains(
            &r#"Liveness probe failed: service unhealthy (responded with "NOT_SERVING")"#
                .to_string()
        ),
        "{unhealthy:?}"
    );
    let describe = wasmpod::printers::describe_pod(
        &node.store().pod("default", "grpc").unwrap(),
        &node.store().events(None),
        node.clock().now(),
    );
    assert!(describe.contains("    Liveness:       grpc <pod>:8080  delay=0s timeout=1s period=1s #success=1 #failure=2\n"), "{describe}");
}

#[tokio::test(start_paused = true)]
async fn exec_probes_run_inside_the_container() {
    let t = sim_node();
    let node = &t.node;
    node.apply(vec![
        pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: execd
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: misbehave:latest
    imagePullPolicy: Never
    ports:
    - containerPort: 8080
    env:
    - name: CHECK
      value: check
    livenessProbe:
      exec:
        command: ["$(CHECK)"]
      periodSeconds: 1
      failureThreshold: 2
"#),
        // Calls into one instance take turns, so the slow command gets a pod of its own.
        pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: slow-exec
spec:
  containers:
  - name: app
    image: misbehave:latest
    imagePullPolicy: Never
    readinessProbe:
      exec:
        command: ["sleep", "3"]
      periodSeconds: 2
"#),
        pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: program
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: cmd_app:latest
    imagePullPolicy: Never
    livenessProbe:
      exec:
        command: ["cmd_app", "probe", "0"]
      periodSeconds: 1
    readinessProbe:
      exec:
        command: ["cmd_app", "probe", "3"]
      periodSeconds: 1
"#),
        pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: no-exec
spec:
  containers:
  - name: app
    image: health_image:latest
    livenessProbe:
      exec:
        command: ["true"]
      periodSeconds: 1
"#),
    ])
    .unwrap();

    // An HTTP guest answers through its exec export; a timeout is a failure with the
    // kubelet's text, and never makes the container ready.
    wait_for_status(node, "execd", Duration::from_secs(20), "running", |s| {
        s.state.as_ref().is_some_and(|st| st.running.is_some())
    })
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let timed_out = "Readiness probe failed: command \"sleep 3\" timed out".to_string();
    while !messages(node, "Unhealthy").contains(&timed_out) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            messages(node, "Unhealthy")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!status_of(node, "slow-exec").unwrap().ready);
    let address = format!("{}:8080", pod_ip(node, "execd").await);
    get_on(node, address, "/sick").await.unwrap();
    wait_for_status(
        node,
        "execd",
        Duration::from_secs(20),
        "the exec liveness restart",
        |s| s.restart_count == 1,
    )
    .await;
    assert!(messages(node, "Unhealthy").contains(&"Liveness probe failed: sick\n".to_string()));
    assert!(messages(node, "Killing")
        .contains(&"Container app failed liveness probe, will be restarted".to_string()));

    // A program's exec is a fresh instance of its image: exit 0 passes, exit 3 fails with
    // stdout then stderr as the output; the container itself keeps running.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let failed = "Readiness probe failed: probe says 3\n(stderr comes after stdout)\n".to_string();
    while !messages(node, "Unhealthy").contains(&failed) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            messages(node, "Unhealthy")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let program = status_of(node, "program").unwrap();
    assert!(!program.ready);
    assert_eq!(program.restart_count, 0);
    let describe = wasmpod::printers::describe_pod(
        &node.store().pod("default", "execd").unwrap(),
        &[],
        node.clock().now(),
    );
    assert!(
        describe.contains("    Liveness:       exec [$(CHECK)] delay=0s timeout=1s period=1s #success=1 #failure=2\n"),
        "{describe}"
    );
    assert!(
        describe.contains("    Environment:\n      CHECK:  check\n"),
        "{describe}"
    );

    // An HTTP guest without the export: a probe error, not a failure.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !events(node, "Unhealthy").iter().any(|e| {
        e.involved_object.name.as_deref() == Some("no-exec")
            && e.message.as_deref().unwrap_or_default().starts_with(
                "Liveness probe errored and resulted in unknown state: the container's component does not export wasmpod:container/exec",
            )
    }) {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", messages(node, "Unhealthy"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status_of(node, "no-exec").unwrap().restart_count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_hooks_run_and_report_failures() {
    let t = node();
    let node = &t.node;
    node.apply(vec![
        pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: poststart
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: misbehave:latest
    imagePullPolicy: Never
    ports:
    - containerPort: 8080
    lifecycle:
      postStart:
        exec:
          command: ["exit", "1", "boom"]
"#),
        pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: prestop
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: app
    image: misbehave:latest
    imagePullPolicy: Never
    env:
    - name: ON_STOP
      value: "exit:0"
    ports:
    - containerPort: 8080
    lifecycle:
      preStop:
        httpGet:
          path: /log
          port: 8080
"#),
        pod(r#"
apiVersion: v1
kind: Pod
metadata:
  name: badstop
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: app
    image: misbehave:latest
    imagePullPolicy: Never
    env:
    - name: ON_STOP
      value: "exit:0"
    ports:
    - containerPort: 8080
    lifecycle:
      preStop:
        httpGet:
          port: 9999
"#),
    ])
    .unwrap();

    // A failing postStart hook: FailedPostStartHook, then the container is killed.
    let status = wait_for_status(
        node,
        "poststart",
        Duration::from_secs(20),
        "the kill",
        |s| s.state.as_ref().is_some_and(|st| st.terminated.is_some()),
    )
    .await;
    assert_eq!(
        terminated(&status).0,
        0,
        "it handles stop itself (exit:0 default)"
    );
    let uid = node
        .store()
        .pod("default", "poststart")
        .unwrap()
        .metadata
        .uid
        .unwrap();
    let failed = messages(node, "FailedPostStartHook");
    assert_eq!(
        failed,
        [format!(
            "Exec lifecycle hook ([exit 1 boom]) for Container \"app\" in Pod \"poststart_default({uid})\" failed - error: command 'exit 1 boom' exited with 1: boom, message: \"boom\""
        )]
    );
    assert!(messages(node, "Killing").contains(&"FailedPostStartHook".to_string()));

    // preStop runs before the stop request, while the container still serves.
    for name in ["prestop", "badstop"] {
        // Serving, not just started: the preStop request must find the listener up.
        get_when_listening(node, name, 8080, "/").await;
    }
    let logs = node.logs("default", "prestop", None).unwrap();
    let mut changes = node.store().subscribe();
    node.delete_pod("default", "prestop", None).unwrap();
    node.delete_pod("default", "badstop", None).unwrap();
    let mut gone = Vec::new();
    while gone.len() < 2 {
        gone.push(common::node::next_deleted(&mut changes, Duration::from_secs(60)).await);
    }
    for pod in &gone {
        let last = pod
            .status
            .clone()
            .unwrap()
            .container_statuses
            .unwrap()
            .remove(0);
        assert_eq!(
            terminated(&last),
            (0, "Completed".to_string()),
            "{:?}",
            pod.metadata.name
        );
    }
    let lines: Vec<String> = logs
        .lines(false)
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert!(
        lines.contains(&"to stdout".to_string()),
        "the preStop request reached the guest: {lines:?}"
    );
    let failed = messages(node, "FailedPreStopHook");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0]
            .starts_with("HTTP lifecycle hook (/) for Container \"app\" in Pod \"badstop_default(")
            && failed[0].ends_with(":9999: connect: connection refused"),
        "{failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_checks_for_the_stop_request_exits_cleanly() {
    let t = node();
    let node = &t.node;
    let program = |name: &str, mode: &str| {
        pod(&format!(
            r#"
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: app
    image: cmd_app:latest
    imagePullPolicy: Never
    env:
    - name: MODE
      value: {mode}
"#
        ))
    };
    node.apply(vec![
        program("graceful", "graceful"),
        program("stubborn", "serve"),
    ])
    .unwrap();
    for name in ["graceful", "stubborn"] {
        wait_for_status(node, name, Duration::from_secs(20), "running", |s| s.ready).await;
    }
    // Let both reach their accept loops.
    for name in ["graceful", "stubborn"] {
        get_when_listening(node, name, 8080, "/").await;
    }
    let logs = node.logs("default", "graceful", None).unwrap();
    let mut changes = node.store().subscribe();
    let started = std::time::Instant::now();
    node.delete_pod("default", "graceful", None).unwrap();
    node.delete_pod("default", "stubborn", None).unwrap();
    let mut ended = Vec::new();
    while ended.len() < 2 {
        let pod = common::node::next_deleted(&mut changes, Duration::from_secs(60)).await;
        let last = pod.status.unwrap().container_statuses.unwrap().remove(0);
        ended.push((
            pod.metadata.name.unwrap(),
            terminated(&last),
            started.elapsed(),
        ));
    }
    ended.sort();
    let (_, graceful_exit, graceful_took) = &ended[0];
    let (_, stubborn_exit, stubborn_took) = &ended[1];
    assert_eq!(*graceful_exit, (0, "Completed".to_string()));
    assert!(*graceful_took < Duration::from_secs(3), "{graceful_took:?}");
    assert_eq!(*stubborn_exit, (137, "Error".to_string()));
    assert!(
        *stubborn_took >= Duration::from_secs(3),
        "{stubborn_took:?}"
    );
    let lines: Vec<String> = logs
        .lines(false)
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert!(
        lines.contains(&"stop requested: shutting down".to_string()),
        "{lines:?}"
    );
}
