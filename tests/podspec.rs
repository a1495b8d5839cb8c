//! The Pod spec beyond probes, with the bundled busybox: filesystems and volumes, env and
//! the downward API, ConfigMaps and Secrets, init containers, several containers per pod,
//! and the Kubernetes docs' exec-liveness example, unmodified.

mod common;

use std::time::Duration;

use common::node::{events, node, sim_node, status_of, wait_for_status};
use wasmpod::Node;

fn apply(node: &Node, yaml: &str) {
    let set = wasmpod::manifest::parse_set("test.yaml", yaml).expect("valid manifests");
    node.apply_set(set).expect("admitted");
}

/// Waits until the container's log has `line`, returning all lines.
async fn log_line(node: &Node, pod: &str, container: Option<&str>, line: &str) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{pod}: no log line {line:?}"
        );
        if let Ok(logs) = node.logs("default", pod, container) {
            let lines: Vec<String> = logs
                .lines(false)
                .unwrap_or_default()
                .into_iter()
                .map(|l| l.text)
                .collect();
            if lines.iter().any(|l| l == line) {
                return lines;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{pod}: no line {line:?} in {lines:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn table(node: &Node, name: &str) -> String {
    let pod = node.store().pod("default", name).unwrap();
    wasmpod::printers::get_pods(&[pod], node.clock().now(), false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_downward_api_config_maps_and_secrets() {
    let t = node();
    let node = &t.node;
    apply(
        node,
        r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  greeting: hello
  app.conf: |
    mode=fast
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
stringData:
  password: s3cret
---
apiVersion: v1
kind: Pod
metadata:
  name: envy
  labels:
    app: envy
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: registry.k8s.io/busybox:1.27.2
    command: ["sh", "-c"]
    args:
    - echo "$(POD_NAME) $POD_IP $GREETING $PASSWORD $CFG_greeting $LIMIT"; cat /etc/config/app.conf; cat /etc/app.conf; cat /etc/podinfo/labels; echo; cat /etc/secret/password; echo; echo done
    env:
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: POD_IP
      valueFrom:
        fieldRef:
          fieldPath: status.podIP
    - name: GREETING
      valueFrom:
        configMapKeyRef:
          name: settings
          key: greeting
    - name: PASSWORD
      valueFrom:
        secretKeyRef:
          name: creds
          key: password
    - name: LIMIT
      valueFrom:
        resourceFieldRef:
          resource: limits.memory
          divisor: 1Mi
    envFrom:
    - prefix: CFG_
      configMapRef:
        name: settings
    resources:
      limits:
        memory: 64Mi
    volumeMounts:
    - name: config
      mountPath: /etc/config
    - name: config
      mountPath: /etc/app.conf
      subPath: app.conf
    - name: podinfo
      mountPath: /etc/podinfo
    - name: secret
      mountPath: /etc/secret
      readOnly: true
  volumes:
  - name: config
    configMap:
      name: settings
  - name: podinfo
    downwardAPI:
      items:
      - path: labels
        fieldRef:
          fieldPath: metadata.labels
  - name: secret
    secret:
      secretName: creds
"#,
    );
    let lines = log_line(node, "envy", None, "done").await;
    let ip = node
        .store()
        .pod("default", "envy")
        .unwrap()
        .status
        .unwrap()
        .pod_ip
        .unwrap();
    assert_eq!(lines[0], format!("envy {ip} hello s3cret hello 64"));
    assert_eq!(lines[1], "mode=fast");
    assert_eq!(lines[2], "mode=fast", "a single file through subPath");
    assert_eq!(lines[3], "app=\"envy\"");
    assert_eq!(lines[4], "s3cret");
    let status = wait_for_status(node, "envy", Duration::from_secs(10), "completion", |s| {
        s.state.as_ref().is_some_and(|st| st.terminated.is_some())
    })
    .await;
    assert_eq!(
        status.state.unwrap().terminated.unwrap().reason.as_deref(),
        Some("Completed")
    );

    // A missing ConfigMap: CreateContainerConfigError, and the process stays up.
    apply(
        node,
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: missing
spec:
  containers:
  - name: main
    image: busybox
    env:
    - name: X
      valueFrom:
        configMapKeyRef:
          name: nosuch
          key: x
"#,
    );
    let waiting = wait_for_status(
        node,
        "missing",
        Duration::from_secs(10),
        "config error",
        |s| {
            s.state
                .as_ref()
                .and_then(|st| st.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                == Some("CreateContainerConfigError")
        },
    )
    .await;
    assert_eq!(
        waiting.state.unwrap().waiting.unwrap().message.as_deref(),
        Some("configmap \"nosuch\" not found")
    );
    assert!(table(node, "missing").contains("0/1     CreateContainerConfigError"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_containers_then_two_app_containers_sharing_an_empty_dir() {
    let t = node();
    let node = &t.node;
    apply(
        node,
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: staged
spec:
  initContainers:
  - name: prepare
    image: busybox
    command: ["sh", "-c", "echo prepared > /work/state; sleep 1"]
    volumeMounts:
    - name: work
      mountPath: /work
  - name: check
    image: busybox
    command: ["sh", "-c", "cat /work/state"]
    volumeMounts:
    - name: work
      mountPath: /work
  containers:
  - name: writer
    image: busybox
    command: ["sh", "-c", "cat /work/state; echo shared > /work/note; sleep 600"]
    volumeMounts:
    - name: work
      mountPath: /work
  - name: reader
    image: busybox
    command: ["sh", "-c", "while [ ! -f /work/note ]; do sleep 0.1; done; cat /work/note; ls /tmp; sleep 600"]
    volumeMounts:
    - name: work
      mountPath: /work
  volumes:
  - name: work
    emptyDir: {}
"#,
    );
    // While the first init container runs: Init:0/2, Pending, app containers PodInitializing.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let pod = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first init container never ran"
        );
        let pod = node.store().pod("default", "staged").unwrap();
        let running = pod
            .status
            .as_ref()
            .and_then(|s| s.init_container_statuses.as_ref())
            .is_some_and(|all| all[0].state.as_ref().is_some_and(|st| st.running.is_some()));
        if running {
            break pod;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let status = pod.status.clone().unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let waiting = status.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .waiting
        .unwrap();
    assert_eq!(waiting.reason.as_deref(), Some("PodInitializing"));
    let initialized = status
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Initialized")
        .unwrap();
    assert_eq!(initialized.status, "False");
    assert_eq!(
        initialized.message.as_deref(),
        Some("containers with incomplete status: [prepare check]")
    );
    let row = wasmpod::printers::get_pods(&[pod], node.clock().now(), false);
    assert!(row.contains("0/2     Init:0/2"), "{row}");

    // Then both app containers run, sharing the emptyDir; each has its own /tmp.
    log_line(node, "staged", Some("writer"), "prepared").await;
    let reader = log_line(node, "staged", Some("reader"), "shared").await;
    assert!(reader.iter().all(|l| l != "note"), "{reader:?}");
    let check = node
        .logs("default", "staged", Some("check"))
        .unwrap()
        .lines(false)
        .unwrap();
    assert_eq!(check[0].text, "prepared");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !table(node, "staged").contains("2/2     Running") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            table(node, "staged")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pod = node.store().pod("default", "staged").unwrap();
    let init = pod.status.unwrap().init_container_statuses.unwrap();
    assert!(init.iter().all(|s| s
        .state
        .as_ref()
        .unwrap()
        .terminated
        .as_ref()
        .unwrap()
        .reason
        .as_deref()
        == Some("Completed")));
    // Events of init containers carry their own field path.
    assert!(events(node, "Started")
        .iter()
        .any(|e| e.involved_object.field_path.as_deref() == Some("spec.initContainers{prepare}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_init_container_under_never_fails_the_pod() {
    let t = node();
    let node = &t.node;
    apply(
        node,
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: doomed
spec:
  restartPolicy: Never
  initContainers:
  - name: setup
    image: busybox
    command: ["sh", "-c", "exit 3"]
  containers:
  - name: app
    image: busybox
    command: ["sleep", "600"]
"#,
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while node
        .store()
        .pod("default", "doomed")
        .unwrap()
        .status
        .unwrap()
        .phase
        .as_deref()
        != Some("Failed")
    {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        table(node, "doomed").contains("0/1     Init:Error"),
        "{}",
        table(node, "doomed")
    );
    assert!(
        status_of(node, "doomed")
            .unwrap()
            .state
            .unwrap()
            .waiting
            .is_some(),
        "the app never started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_root_is_private_and_fresh_after_a_restart() {
    let t = node();
    let node = &t.node;
    apply(
        node,
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: scratch
spec:
  restartPolicy: OnFailure
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "if [ -f /tmp/mark ]; then echo seen; else echo fresh; fi; touch /tmp/mark; exit 1"]
"#,
    );
    wait_for_status(node, "scratch", Duration::from_secs(20), "a restart", |s| {
        s.restart_count >= 1
    })
    .await;
    let logs = node.logs("default", "scratch", None).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let previous = logs
            .lines(true)
            .map(|l| l.into_iter().map(|l| l.text).collect::<Vec<_>>());
        let current: Vec<String> = logs
            .lines(false)
            .unwrap_or_default()
            .into_iter()
            .map(|l| l.text)
            .collect();
        if previous.as_deref() == Some(&["fresh".to_string()][..]) && current == ["fresh"] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{previous:?} {current:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The Kubernetes docs' liveness-exec example, unmodified: healthy for 30 s, then
/// `cat /tmp/healthy` fails with busybox's text and the container is restarted.
// On simulated time: the waits are the manifest's own.
#[tokio::test(start_paused = true)]
async fn docs_exec_liveness_example_restarts_after_about_35_seconds() {
    let t = sim_node();
    let node = &t.node;
    let set = wasmpod::manifest::load_set(&[std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/k8s-docs/exec-liveness.yaml"
    ))])
    .unwrap();
    node.apply_set(set).unwrap();
    let started = tokio::time::Instant::now();
    let expected =
        "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(70);
    while !events(node, "Unhealthy")
        .iter()
        .any(|e| e.message.as_deref() == Some(expected))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            events(node, "Unhealthy")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Healthy until `rm` at 30 s; the probes run every 5 s from 5 s on.
    let failed_after = started.elapsed();
    assert!(
        failed_after >= Duration::from_secs(30) && failed_after <= Duration::from_secs(36),
        "{failed_after:?}"
    );
    while !events(node, "Killing").iter().any(|e| {
        e.message.as_deref() == Some("Container liveness failed liveness probe, will be restarted")
    }) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            events(node, "Killing")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Two containers, one pod: the client reaches the server at localhost, probes and
/// readiness are per container, and READY counts them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_of_a_pod_reach_each_other_at_localhost() {
    let t = node();
    let node = &t.node;
    apply(
        node,
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: duo
spec:
  containers:
  - name: server
    image: registry.k8s.io/e2e-test-images/agnhost:2.40
    args: ["netexec", "--http-port=8080"]
    readinessProbe:
      httpGet:
        path: /healthz
        port: 8080
      periodSeconds: 1
  - name: client
    image: busybox
    command: ["sh", "-c", "until wget -q -O - http://localhost:8080/hostname; do sleep 0.2; done; echo; echo fetched; sleep 600"]
    readinessProbe:
      exec:
        command: ["false"]
      periodSeconds: 1
"#,
    );
    let lines = log_line(node, "duo", Some("client"), "fetched").await;
    assert!(
        lines.contains(&"duo".to_string()),
        "the server answered its hostname: {lines:?}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !table(node, "duo").contains("duo    1/2     Running") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            table(node, "duo")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pod = node.store().pod("default", "duo").unwrap();
    let ready = pod
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(
        ready.message.as_deref(),
        Some("containers with unready status: [client]")
    );
}

// On simulated time: the waits are the manifest's own.
#[tokio::test(start_paused = true)]
async fn termination_messages_and_the_active_deadline() {
    let t = sim_node();
    let node = &t.node;
    apply(
        node,
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: file-message
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo 'gone wrong' > /dev/termination-log; exit 1"]
---
apiVersion: v1
kind: Pod
metadata:
  name: log-message
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo first; echo last words; exit 1"]
    terminationMessagePolicy: FallbackToLogsOnError
---
apiVersion: v1
kind: Pod
metadata:
  name: deadline
spec:
  activeDeadlineSeconds: 2
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: ["sleep", "600"]
"#,
    );
    for (pod, message) in [
        ("file-message", "gone wrong\n"),
        ("log-message", "first\nlast words"),
    ] {
        let status = wait_for_status(node, pod, Duration::from_secs(20), "the exit", |s| {
            s.state.as_ref().is_some_and(|st| st.terminated.is_some())
        })
        .await;
        let terminated = status.state.unwrap().terminated.unwrap();
        assert_eq!(terminated.message.as_deref(), Some(message), "{pod}");
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status = node
            .store()
            .pod("default", "deadline")
            .unwrap()
            .status
            .unwrap();
        let stopped = status
            .container_statuses
            .as_ref()
            .is_some_and(|c| c[0].state.as_ref().is_some_and(|s| s.terminated.is_some()));
        if status.phase.as_deref() == Some("Failed") && stopped {
            assert_eq!(status.reason.as_deref(), Some("DeadlineExceeded"));
            assert_eq!(
                status.message.as_deref(),
                Some("Pod was active on the node longer than the specified deadline")
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(events(node, "DeadlineExceeded").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_paths_need_permission_and_sidecars_run_beside_the_app() {
    // A node that allows one host directory.
    let allowed = tempfile::tempdir().unwrap();
    std::fs::write(allowed.path().join("greeting"), "from the host\n").unwrap();
    let home = common::Home::new();
    let mut config = wasmpod::NodeConfig::new(home.path().to_path_buf());
    config.allowed_host_paths = vec![allowed.path().to_path_buf()];
    let node = Node::new(config).unwrap();
    let yaml = format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: hosted
spec:
  initContainers:
  - name: helper
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "echo sidecar up; sleep 600"]
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "cat /host/greeting; sleep 600"]
    volumeMounts:
    - name: host
      mountPath: /host
      readOnly: true
  volumes:
  - name: host
    hostPath:
      path: {allowed}
---
apiVersion: v1
kind: Pod
metadata:
  name: refused
spec:
  containers:
  - name: main
    image: busybox
    command: ["ls", "/etc"]
    volumeMounts:
    - name: etc
      mountPath: /etc
  volumes:
  - name: etc
    hostPath:
      path: /etc
"#,
        allowed = allowed.path().display()
    );
    apply(&node, &yaml);
    log_line(&node, "hosted", Some("helper"), "sidecar up").await;
    log_line(&node, "hosted", Some("main"), "from the host").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !table(&node, "hosted").contains("hosted   2/2     Running") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            table(&node, "hosted")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = wait_for_status(&node, "refused", Duration::from_secs(10), "refusal", |s| {
        s.state
            .as_ref()
            .and_then(|st| st.waiting.as_ref())
            .is_some_and(|w| w.reason.as_deref() == Some("CreateContainerConfigError"))
    })
    .await;
    let message = refused.state.unwrap().waiting.unwrap().message.unwrap();
    assert_eq!(
        message,
        "hostPath volume \"etc\" (/etc) is not allowed: start wasmpod with --allow-host-path /etc"
    );
}

/// Files in a `medium: Memory` emptyDir count against the writer's memory limit (tmpfs
/// pages in Kubernetes): 23 MB written there by a container limited to 16 Mi is an OOM
/// kill; the same writes to a disk-backed emptyDir are fine.
#[tokio::test(start_paused = true)]
async fn memory_backed_empty_dirs_count_against_the_memory_limit() {
    let t = sim_node();
    let node = &t.node;
    for (name, medium) in [("tmpfs", "Memory"), ("disk", "")] {
        apply(
            node,
            &format!(
                r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  restartPolicy: Never
  containers:
  - name: writer
    image: busybox
    command: ["sh", "-c", "for i in $(seq 1 40); do seq 1 100000 >> /cache/numbers; done; sleep 3600"]
    resources: {{limits: {{memory: 16Mi}}}}
    volumeMounts: [{{name: cache, mountPath: /cache}}]
  volumes:
  - name: cache
    emptyDir: {{medium: "{medium}"}}
"#
            ),
        );
    }
    let status = wait_for_status(
        node,
        "tmpfs",
        Duration::from_secs(120),
        "the OOM kill",
        |s| s.state.as_ref().is_some_and(|st| st.terminated.is_some()),
    )
    .await;
    let terminated = status.state.unwrap().terminated.unwrap();
    assert_eq!(
        (terminated.exit_code, terminated.reason.as_deref()),
        (137, Some("OOMKilled"))
    );
    let disk = status_of(node, "disk").unwrap();
    assert!(
        disk.state.unwrap().running.is_some(),
        "the disk-backed writer keeps running"
    );
}

/// A guest that does not import `wasi:filesystem/preopens` cannot see a file, so its instances
/// get no root directory (nothing to create per restart, no descriptor held per container);
/// one that does gets its private root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_guests_that_can_see_files_get_a_root_directory() {
    let t = node();
    let node = &t.node;
    apply(
        node,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: no-files}
spec:
  containers:
  - {name: app, image: health_image:latest, imagePullPolicy: IfNotPresent}
---
apiVersion: v1
kind: Pod
metadata: {name: files}
spec:
  containers:
  - {name: app, image: busybox, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}
"#,
    );
    for pod in ["no-files", "files"] {
        wait_for_status(node, pod, Duration::from_secs(20), "running", |s| {
            s.state.as_ref().is_some_and(|s| s.running.is_some())
        })
        .await;
    }
    let root_of = |pod: &str| {
        let uid = node
            .store()
            .pod("default", pod)
            .unwrap()
            .metadata
            .uid
            .unwrap();
        find_dir(&t.home().join("pods"), &format!("{uid}/containers/app"))
    };
    assert!(root_of("files").is_some(), "busybox has a private root");
    assert_eq!(root_of("no-files"), None);
    node.delete_all(Some(0)).await;
}

fn find_dir(dir: &std::path::Path, suffix: &str) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.ends_with(suffix) {
                return Some(path);
            }
            if let Some(found) = find_dir(&path, suffix) {
                return Some(found);
            }
        }
    }
    None
}
