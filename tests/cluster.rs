//! Many machines, done on one: a 3-member etcd cluster on loopback and three `wasmpod serve`
//! nodes as separate processes, driven with the real kubectl. The tutorial's last lesson: when
//! the node running a bare pod dies, nothing restarts that pod again, while a
//! ReplicationController's pods come back on the surviving nodes; a Service keeps answering
//! from Ready endpoints throughout. Then the elected controller node and the etcd leader are
//! killed, and a frozen (partitioned) node converges without duplicates when it thaws.
//! Timings are shortened with the same flags a user has (lease 2 s, grace 3 s, toleration 2 s).

mod common;

use common::free_port;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::kubectl::{kubectl_available, Kubectl};
use common::netns::NetworkNamespace;
use serde_json::Value;
use wasmpod_registry::testing::TestRegistry;
use wasmpod_storage::etcd_cluster::{EtcdClusterOptions, LocalEtcdCluster};

/// The tutorial's `health2` (httpd, liveness on a port nothing listens on), as a bare pod.
/// Faster probes than the tutorial's 15 s/20 s so restarts show within seconds.
const HEALTH2: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: health2
spec:
  nodeSelector: {kubernetes.io/hostname: NODE}
  containers:
  - image: httpd
    name: health2
    ports: [{containerPort: 80}]
    livenessProbe:
      tcpSocket: {port: 8080}
      initialDelaySeconds: 1
      periodSeconds: 1
"#;

/// The same pod, kept alive by a ReplicationController (the tutorial's conclusion).
const HEALTH2_RC: &str = r#"
apiVersion: v1
kind: ReplicationController
metadata:
  name: health2
spec:
  replicas: 2
  selector: {app: health2}
  template:
    metadata:
      labels: {app: health2}
    spec:
      containers:
      - image: httpd
        name: health2
        ports: [{containerPort: 80}]
        livenessProbe:
          tcpSocket: {port: 8080}
          initialDelaySeconds: 1
          periodSeconds: 1
"#;

/// A healthy web tier behind a Service: httpd with a readiness probe.
const WEB: &str = r#"
apiVersion: v1
kind: ReplicationController
metadata:
  name: web
spec:
  replicas: 2
  selector: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - image: httpd
        name: web
        ports: [{containerPort: 80, name: http}]
        readinessProbe:
          httpGet: {path: /, port: 80}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - port: 80
    targetPort: http
"#;

/// One `wasmpod serve` node of the cluster.
struct Node {
    name: String,
    home: PathBuf,
    port: u16,
    args: Vec<String>,
    /// Runs the binary through this (e.g. `ip netns exec NS`), when not empty.
    wrapper: Vec<String>,
    child: Option<Child>,
}

impl Node {
    fn start(name: &str, root: &Path, etcd: &str, service_range: &str) -> Node {
        Node::start_in(Vec::new(), name, root, etcd, service_range, &[])
    }

    fn start_in(
        wrapper: Vec<String>,
        name: &str,
        root: &Path,
        etcd: &str,
        service_range: &str,
        extra_args: &[String],
    ) -> Node {
        let home = root.join(name);
        std::fs::create_dir_all(&home).unwrap();
        let port = free_port();
        let args: Vec<String> = [
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--etcd",
            etcd,
            "--node-name",
            name,
            "--node-lease-duration",
            "2s",
            "--node-monitor-period",
            "500ms",
            "--node-monitor-grace-period",
            "3s",
            "--default-toleration-seconds",
            "2",
            "--leader-elect-lease-duration",
            "2s",
            "--service-cluster-ip-range",
            service_range,
            "--service-node-port-range",
            "30000-32767",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(extra_args.iter().cloned())
        .collect();
        let mut node = Node {
            name: name.to_string(),
            home,
            port,
            args,
            wrapper,
            child: None,
        };
        node.spawn();
        node
    }

    fn spawn(&mut self) {
        let _ = std::fs::remove_file(self.home.join("run/api-server"));
        let log = std::fs::File::create(self.home.join("serve.log")).unwrap();
        let mut command = match self.wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(env!("CARGO_BIN_EXE_wasmpod"));
                command
            }
            None => Command::new(env!("CARGO_BIN_EXE_wasmpod")),
        };
        let child = command
            .env("WASMPOD_HOME", &self.home)
            .env_remove("WASMPOD_SERVER")
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start wasmpod serve");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.home.join("run/api-server").exists() {
            assert!(
                Instant::now() < deadline,
                "node {} never came up: {}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.home.join("serve.log")).unwrap_or_default()
    }

    fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn signal(&self, signal: i32) {
        let pid = self.child.as_ref().expect("running").id();
        assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
    }

    fn kubectl(&self, root: &Path) -> Kubectl {
        let dir = root.join(format!("kubectl-{}", self.name));
        std::fs::create_dir_all(&dir).unwrap();
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            wasmpod_apiserver::kubeconfig(&format!("http://127.0.0.1:{}", self.port), None, None),
        )
        .unwrap();
        Kubectl { dir, kubeconfig }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- {} serve.log (last lines) ---", self.name);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        if let Some(child) = self.child.as_ref() {
            // A frozen node must be thawed to die promptly.
            unsafe { libc::kill(child.id() as i32, libc::SIGCONT) };
        }
        self.kill_9();
    }
}

/// A /26 of the default service range for test cluster `cluster` (0 to 3) of this process,
/// apart from other processes' and the other test's: each cluster allocates ClusterIPs on its
/// own, and two clusters sharing a range would mix their proxies' shared listeners.
fn private_service_range(cluster: u32) -> String {
    let third = 128 + (std::process::id() % 127) as u8;
    format!("127.0.{third}.{}/26", cluster * 64)
}

fn wait_until<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn json(kubectl: &Kubectl, args: &[&str]) -> Option<Value> {
    let mut full = args.to_vec();
    full.extend(["-o", "json"]);
    let (ok, text) = kubectl.run(&full);
    if !ok {
        return None;
    }
    serde_json::from_str(&text).ok()
}

/// Pods as (name → (node, phase, deleting, ready, restarts)).
#[derive(Debug, Clone)]
struct PodView {
    node: String,
    deleting: bool,
    ready: bool,
    restarts: i64,
    labels: Value,
}

fn pods(kubectl: &Kubectl) -> Option<BTreeMap<String, PodView>> {
    let list = json(kubectl, &["get", "pods"])?;
    let mut pods = BTreeMap::new();
    for pod in list["items"].as_array()? {
        let ready = pod["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        pods.insert(
            pod["metadata"]["name"].as_str()?.to_string(),
            PodView {
                node: pod["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
                deleting: pod["metadata"]["deletionTimestamp"].is_string(),
                ready,
                restarts: pod["status"]["containerStatuses"][0]["restartCount"]
                    .as_i64()
                    .unwrap_or(0),
                labels: pod["metadata"]["labels"].clone(),
            },
        );
    }
    Some(pods)
}

fn with_app<'a>(
    pods: &'a BTreeMap<String, PodView>,
    app: &'a str,
) -> impl Iterator<Item = (&'a String, &'a PodView)> + 'a {
    pods.iter().filter(move |(_, p)| p.labels["app"] == app)
}

fn apply(kubectl: &Kubectl, root: &Path, name: &str, yaml: &str) {
    let file = root.join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    kubectl.ok(&["apply", "-f", file.to_str().unwrap()]);
}

/// Requests the Service's ClusterIP every 50 ms from a background thread; each request may
/// retry twice (a connection the dying node's proxy had accepted is reset with it).
struct ServiceClient {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServiceClient {
    fn start(address: String) -> ServiceClient {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let (s, o, f) = (stop.clone(), ok.clone(), failed.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let answered = (0..3).any(|_| {
                    common::http_get(&address, "/").is_ok_and(|(status, _)| status == 200)
                });
                if answered {
                    o.fetch_add(1, Ordering::Relaxed);
                } else {
                    f.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        ServiceClient {
            stop,
            ok,
            failed,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> (usize, usize) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        (
            self.ok.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

/// The node holding the controller leadership, as its Lease shows.
fn holder(kubectl: &Kubectl) -> Option<String> {
    let lease = json(
        kubectl,
        &[
            "get",
            "lease",
            "-n",
            "kube-system",
            "wasmpod-controller-manager",
        ],
    )?;
    lease["spec"]["holderIdentity"].as_str().map(str::to_string)
}

fn node_ready(kubectl: &Kubectl, node: &str) -> Option<String> {
    let node = json(kubectl, &["get", "node", node])?;
    node["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready")
        .and_then(|c| c["status"].as_str())
        .map(str::to_string)
}

/// node-a and node-b on a single etcd member, both Ready; cluster `index` as in
/// `private_service_range`.
fn two_nodes_on_one_etcd(
    root: &Path,
    index: u32,
    extra_args: &[String],
) -> (LocalEtcdCluster, Vec<Node>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let etcd = runtime
        .block_on(LocalEtcdCluster::start(1))
        .expect("start etcd");
    let endpoints = etcd.endpoints().join(",");
    let range = private_service_range(index);
    let nodes: Vec<Node> = ["node-a", "node-b"]
        .iter()
        .map(|name| Node::start_in(Vec::new(), name, root, &endpoints, &range, extra_args))
        .collect();
    wait_for_ready_nodes(&nodes[0].kubectl(root), 2);
    (etcd, nodes)
}

fn wait_for_ready_nodes(kubectl: &Kubectl, count: usize) {
    wait_until(Duration::from_secs(30), "every node Ready", || {
        let text = kubectl.run(&["get", "nodes"]).1;
        (text.matches(" Ready ").count() == count).then_some(())
    });
}

/// Applies the web RC and its Service; returns its two Ready pods, on different nodes.
fn run_web_tier(kubectl: &Kubectl, root: &Path) -> Vec<(String, PodView)> {
    apply(kubectl, root, "web", WEB);
    let placed = wait_until(Duration::from_secs(60), "web pods ready", || {
        let pods = pods(kubectl)?;
        let ready: Vec<(String, PodView)> = with_app(&pods, "web")
            .filter(|(_, p)| p.ready)
            .map(|(name, p)| (name.clone(), p.clone()))
            .collect();
        (ready.len() == 2).then_some(ready)
    });
    assert_ne!(placed[0].1.node, placed[1].1.node, "spread: {placed:?}");
    placed
}

/// Two web pods, both on node-a and neither Terminating, with node-b Ready again: what a node
/// that was lost and came back converges to.
fn wait_for_convergence_on_node_a(kubectl: &Kubectl) {
    wait_until(Duration::from_secs(90), "converged on node-a", || {
        let pods = pods(kubectl)?;
        let web: Vec<&PodView> = with_app(&pods, "web").map(|(_, p)| p).collect();
        let ready = node_ready(kubectl, "node-b")? == "True";
        (ready && web.len() == 2 && web.iter().all(|p| p.node == "node-a" && !p.deleting))
            .then_some(())
    });
}

fn wait_for_replacement_on_node_a(kubectl: &Kubectl) {
    wait_until(
        Duration::from_secs(60),
        "node-b's pod replaced on node-a",
        || {
            let pods = pods(kubectl)?;
            let live = with_app(&pods, "web")
                .filter(|(_, p)| !p.deleting && p.node == "node-a")
                .count();
            (live == 2).then_some(())
        },
    );
}

#[test]
fn a_lost_node_freezes_its_bare_pod_while_replicated_pods_come_back_elsewhere() {
    if !kubectl_available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut etcd = runtime
        .block_on(LocalEtcdCluster::start(3))
        .expect("start a 3-member etcd cluster");
    let endpoints = etcd.endpoints().join(",");
    let range = private_service_range(0);
    let mut nodes: Vec<Node> = ["node-a", "node-b", "node-c"]
        .iter()
        .map(|name| Node::start(name, root, &endpoints, &range))
        .collect();
    let kubectl = nodes[0].kubectl(root);

    // Every node answers the API and sees the whole cluster.
    wait_for_ready_nodes(&kubectl, 3);

    apply(&kubectl, root, "health2-rc", HEALTH2_RC);
    apply(&kubectl, root, "web", WEB);
    let placed = wait_until(Duration::from_secs(60), "RC pods running", || {
        let pods = pods(&kubectl)?;
        let running: Vec<PodView> = with_app(&pods, "health2")
            .map(|(_, p)| p.clone())
            .filter(|p| !p.node.is_empty())
            .collect();
        let web_ready = with_app(&pods, "web").filter(|(_, p)| p.ready).count();
        (running.len() == 2 && web_ready == 2).then_some(running)
    });
    // The replicas are spread: two different nodes.
    assert_ne!(placed[0].node, placed[1].node, "{placed:?}");
    let victim = placed[0].node.clone();
    // kubectl goes through a node that survives.
    let kubectl = nodes
        .iter()
        .find(|n| n.name != victim)
        .unwrap()
        .kubectl(root);

    // The bare pod runs on the same node and restarts there (liveness on a closed port).
    apply(&kubectl, root, "health2", &HEALTH2.replace("NODE", &victim));
    wait_until(Duration::from_secs(60), "health2 restarting", || {
        let pods = pods(&kubectl)?;
        let bare = pods.get("health2")?;
        (bare.node == victim && bare.restarts >= 1).then_some(())
    });

    let service = json(&kubectl, &["get", "service", "web"]).unwrap();
    let cluster_ip = service["spec"]["clusterIP"].as_str().unwrap().to_string();
    let node_port = service["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
    let (status, body) = common::http_get(&format!("127.0.0.1:{node_port}"), "/").unwrap();
    assert_eq!(status, 200, "NodePort answers: {body}");
    let client = ServiceClient::start(format!("{cluster_ip}:80"));

    let victim_index = nodes.iter().position(|n| n.name == victim).unwrap();
    nodes[victim_index].kill_9();
    let frozen_restarts = pods(&kubectl).unwrap()["health2"].restarts;

    // Lease lapses → NotReady (Unknown) → taint → eviction after the toleration → the RC
    // replaces its pod on a live node; the bare pod is evicted too, and nothing recreates it.
    wait_until(Duration::from_secs(60), "the victim NotReady", || {
        (node_ready(&kubectl, &victim)? == "Unknown").then_some(())
    });
    wait_until(
        Duration::from_secs(60),
        "RC pods back on live nodes",
        || {
            let pods = pods(&kubectl)?;
            let live: Vec<&PodView> = with_app(&pods, "health2")
                .map(|(_, p)| p)
                .filter(|p| !p.deleting && !p.node.is_empty() && p.node != victim)
                .collect();
            (live.len() == 2).then_some(())
        },
    );
    let after = pods(&kubectl).unwrap();
    let bare = &after["health2"];
    assert_eq!(bare.node, victim, "a bare pod is never moved");
    assert_eq!(
        bare.restarts, frozen_restarts,
        "nobody restarts the bare pod"
    );
    assert!(bare.deleting, "evicted: Terminating until its node returns");
    let wide = kubectl.ok(&["get", "pods", "-o", "wide"]);
    assert!(wide.contains("NODE"), "{wide}");
    let described = kubectl.ok(&["describe", "node", &victim]);
    assert!(
        described.contains("node.kubernetes.io/unreachable:NoExecute"),
        "{described}"
    );
    assert!(
        described.contains("Kubelet stopped posting node status."),
        "{described}"
    );

    // The node comes back: it finishes the deletions it missed, so the bare pod is gone and
    // the RC still has exactly two pods.
    nodes[victim_index].spawn();
    wait_until(
        Duration::from_secs(60),
        "the victim back and converged",
        || {
            let pods = pods(&kubectl)?;
            let rc_pods = with_app(&pods, "health2").count();
            let ready = node_ready(&kubectl, &victim)? == "True";
            (ready && !pods.contains_key("health2") && rc_pods == 2).then_some(())
        },
    );

    let (ok, failed) = client.finish();
    assert!(ok > 20, "the Service answered {ok} times");
    assert_eq!(
        failed,
        0,
        "the Service failed {failed} of {} requests",
        ok + failed
    );

    // Exactly one node runs the controllers; when it dies another takes over.
    let leader = wait_until(Duration::from_secs(30), "a controller leader", || {
        holder(&kubectl)
    });
    let leader_index = nodes.iter().position(|n| n.name == leader).unwrap();
    let kubectl = nodes
        .iter()
        .find(|n| n.name != leader)
        .unwrap()
        .kubectl(root);
    nodes[leader_index].kill_9();
    wait_until(Duration::from_secs(30), "a new controller leader", || {
        holder(&kubectl).filter(|h| *h != leader)
    });
    kubectl.ok(&["scale", "rc", "web", "--replicas=3"]);
    wait_until(Duration::from_secs(60), "the new leader scales up", || {
        let pods = pods(&kubectl)?;
        let ready = with_app(&pods, "web")
            .filter(|(_, p)| p.ready && !p.deleting)
            .count();
        (ready == 3).then_some(())
    });

    // Kill the etcd leader: nothing is lost and the cluster goes on.
    let etcd_leader = runtime
        .block_on(etcd.leader_index())
        .expect("etcd status")
        .expect("an etcd leader");
    etcd.kill_member(etcd_leader).expect("kill the etcd leader");
    kubectl.ok(&["scale", "rc", "web", "--replicas=1"]);
    wait_until(
        Duration::from_secs(60),
        "scaled down after etcd failover",
        || {
            let pods = pods(&kubectl)?;
            let active = with_app(&pods, "web").filter(|(_, p)| !p.deleting).count();
            (active == 1).then_some(())
        },
    );
    let rc = json(&kubectl, &["get", "rc", "health2"]).unwrap();
    assert_eq!(rc["status"]["replicas"], 2, "{rc}");
    drop(nodes);
}

#[test]
fn a_frozen_node_is_replaced_and_converges_without_duplicates_when_it_thaws() {
    if !kubectl_available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let (etcd, nodes) = two_nodes_on_one_etcd(root, 1, &[]);
    let kubectl = nodes[0].kubectl(root);
    run_web_tier(&kubectl, root);

    // Freeze node-b: it stops heartbeating, as a partitioned node does.
    let frozen = &nodes[1];
    frozen.signal(libc::SIGSTOP);
    wait_for_replacement_on_node_a(&kubectl);
    frozen.signal(libc::SIGCONT);
    // Thawed, it sees its pod deleted, stops it and completes the deletion: two pods, both
    // on node-a, none duplicated.
    wait_for_convergence_on_node_a(&kubectl);
    drop(nodes);
    drop(etcd);
}

#[test]
fn a_partitioned_node_is_treated_as_lost_and_converges_without_duplicates_when_healed() {
    if !kubectl_available() {
        return;
    }
    // node-b lives in its own network namespace and reaches etcd over a veth pair; iptables
    // inside the namespace cuts it off while its process, and its pods, keep running.
    let Some(mut namespace) = NetworkNamespace::create(2) else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let etcd = runtime
        .block_on(LocalEtcdCluster::start_with(EtcdClusterOptions {
            members: 1,
            extra_client_addresses: vec![namespace.host_address().into()],
            ..EtcdClusterOptions::default()
        }))
        .expect("start etcd");
    let loopback_endpoint = etcd.endpoints()[0].clone();
    let port = loopback_endpoint.rsplit(':').next().unwrap();
    let bridged_endpoint = format!("http://{}:{port}", namespace.host_address());
    let range = private_service_range(2);
    let wrapper: Vec<String> = ["ip", "netns", "exec", &namespace.name]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let nodes = [
        Node::start("node-a", root, &loopback_endpoint, &range),
        Node::start_in(wrapper, "node-b", root, &bridged_endpoint, &range, &[]),
    ];
    let kubectl = nodes[0].kubectl(root);
    wait_for_ready_nodes(&kubectl, 2);
    let placed = run_web_tier(&kubectl, root);
    let (cut_off_pod, _) = placed.iter().find(|(_, p)| p.node == "node-b").unwrap();

    let how = namespace.partition();
    let cut = Instant::now();
    wait_until(Duration::from_secs(60), "node-b lost", || {
        (node_ready(&kubectl, "node-b")? == "Unknown").then_some(())
    });
    let lost_after = cut.elapsed();
    wait_for_replacement_on_node_a(&kubectl);
    let replaced_after = cut.elapsed();
    // Cut off, node-b cannot confirm the stop: its pod stays Terminating, and node-a (whether
    // or not it led before) runs the controllers.
    let during = pods(&kubectl).unwrap();
    assert!(during[cut_off_pod].deleting, "{during:?}");
    wait_until(Duration::from_secs(30), "node-a leading", || {
        holder(&kubectl).filter(|h| h == "node-a")
    });

    namespace.heal();
    let healed = Instant::now();
    wait_for_convergence_on_node_a(&kubectl);
    eprintln!(
        "partition ({how}): node Unknown after {lost_after:.1?}, pod replaced after \
         {replaced_after:.1?}; healed and converged in {:.1?}",
        healed.elapsed()
    );
    // node-b stopped its copy itself (the deletion completed), and no controller made a third.
    let rc = json(&kubectl, &["get", "rc", "web"]).unwrap();
    assert_eq!(rc["status"]["replicas"], 2, "{rc}");
    drop(nodes);
    drop(etcd);
}

/// Pushes `source` from a scratch image store (a developer's laptop) to `registry` as `target`.
fn push_image(registry: &TestRegistry, source: &str, target: &str) {
    let laptop = common::Home::new();
    for args in [
        vec!["image", "tag", source, target],
        vec![
            "image",
            "push",
            target,
            "--insecure-registry",
            &registry.host,
        ],
    ] {
        let (code, _, err) = laptop.exec(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
}

/// A Deployment of the web tier, readiness-gated.
const WEB_DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - image: httpd
        name: web
        ports: [{containerPort: 80}]
        # Not ready for 2 s: each step of a rollout outlasts kubectl's first look, so
        # `rollout status` always has progress to report.
        readinessProbe:
          httpGet: {path: /, port: 80}
          initialDelaySeconds: 2
          periodSeconds: 1
"#;

#[test]
fn a_deployment_rolls_out_across_nodes_and_kubectl_follows_it() {
    if !kubectl_available() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    // The image comes from a registry: each node pulls it into its own store.
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let image = registry.image("web/httpd:1");
    push_image(&registry, "httpd:latest", &image);
    let (etcd, nodes) = two_nodes_on_one_etcd(
        root,
        3,
        &["--insecure-registry".to_string(), registry.host.clone()],
    );
    let kubectl = nodes[1].kubectl(root);

    apply(
        &kubectl,
        root,
        "web",
        &WEB_DEPLOYMENT.replace("image: httpd", &format!("image: {image}")),
    );
    let status = kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    assert!(
        status
            .trim_end()
            .ends_with("deployment \"web\" successfully rolled out"),
        "{status}"
    );
    let first: BTreeMap<String, PodView> = pods(&kubectl).unwrap();
    let nodes_used: std::collections::BTreeSet<&str> =
        first.values().map(|p| p.node.as_str()).collect();
    assert_eq!(nodes_used.len(), 2, "spread over both nodes: {first:?}");
    for node in &nodes {
        let store = wasmpod::images::ImageStore::open(&node.home).unwrap();
        let pulled = store.resolve(&image).unwrap();
        assert!(
            pulled.is_some_and(|record| record.is_pulled()),
            "{} pulled {image} itself",
            node.name
        );
    }

    // A template change rolls out a second ReplicaSet, one surge pod at a time, and
    // `rollout status` follows it to the end.
    kubectl.ok(&["set", "env", "deployment/web", "GREETING=hello"]);
    let status = kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    assert!(
        status.contains("Waiting for deployment \"web\" rollout to finish")
            && status
                .trim_end()
                .ends_with("deployment \"web\" successfully rolled out"),
        "{status}"
    );
    let second = pods(&kubectl).unwrap();
    let live: Vec<(&String, &PodView)> = second.iter().filter(|(_, p)| !p.deleting).collect();
    assert_eq!(live.len(), 2, "{second:?}");
    assert!(
        live.iter().all(|(name, _)| !first.contains_key(*name)),
        "every pod replaced: {first:?} → {second:?}"
    );

    let deployments = kubectl.ok(&["get", "deployments"]);
    let row = deployments.lines().nth(1).unwrap_or_default();
    let columns: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&columns[..4], ["web", "2/2", "2", "2"], "{deployments}");
    let history = kubectl.ok(&["rollout", "history", "deployment/web"]);
    assert!(
        history.contains("REVISION") && history.lines().any(|l| l.starts_with("2 ")),
        "{history}"
    );
    let replica_sets = json(&kubectl, &["get", "replicasets"]).unwrap();
    assert_eq!(replica_sets["items"].as_array().unwrap().len(), 2);

    // Back to the first template: the old ReplicaSet scales up again as revision 3.
    kubectl.ok(&["rollout", "undo", "deployment/web"]);
    kubectl.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    let deployment = json(&kubectl, &["get", "deployment", "web"]).unwrap();
    assert_eq!(
        deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "3",
        "{deployment}"
    );
    let env = &deployment["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(
        env.is_null() || env.as_array().is_some_and(|e| e.is_empty()),
        "{env}"
    );
    let described = kubectl.ok(&["describe", "deployment", "web"]);
    assert!(described.contains("ScalingReplicaSet"), "{described}");
    drop(nodes);
    drop(etcd);
}
