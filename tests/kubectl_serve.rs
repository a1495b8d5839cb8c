//! The real kubectl against `wasmpod serve` (the binary): a pod applied with kubectl runs,
//! fails its liveness probe and restarts, and kubectl shows it as on a cluster (`get`,
//! `describe`, `logs --previous`); after `kill -9` of wasmpod and a restart on the same state
//! dir the pod runs again with its restart count continued; `kubectl delete` waits until the
//! kubelet's final delete. Skipped (with a message) where kubectl is not installed.

mod common;

use common::free_port;

use common::kubectl::{kubectl_available, Kubectl};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Restarts after three good answers. The one-second initial delay keeps the first probe off
/// the instant the container starts, before its port is bound (a probe there would be refused
/// and restart it for another reason than the 500s this test looks for).
const FAST_FAILING: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: fast
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: health_image:latest
    imagePullPolicy: IfNotPresent
    ports: [{containerPort: 8080}]
    livenessProbe: {httpGet: {path: /, port: 8080}, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1}
"#;

struct Serve {
    home: PathBuf,
    child: Child,
}

impl Serve {
    fn start(home: &Path, port: u16) -> Serve {
        Serve::start_on(home, &format!("127.0.0.1:{port}"))
    }

    fn start_on(home: &Path, listen: &str) -> Serve {
        let _ = std::fs::remove_file(home.join("run/api-server"));
        let child = Command::new(env!("CARGO_BIN_EXE_wasmpod"))
            .env("WASMPOD_HOME", home)
            .env_remove("WASMPOD_SERVER")
            .args(["serve", "--listen", listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start wasmpod serve");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !home.join("run/api-server").exists() {
            assert!(Instant::now() < deadline, "wasmpod serve never came up");
            std::thread::sleep(Duration::from_millis(20));
        }
        Serve {
            home: home.to_path_buf(),
            child,
        }
    }

    fn kill_9(mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }

    fn kubeconfig(&self, into: &Path) -> PathBuf {
        let output = Command::new(env!("CARGO_BIN_EXE_wasmpod"))
            .env("WASMPOD_HOME", &self.home)
            .env_remove("WASMPOD_SERVER")
            .arg("kubeconfig")
            .output()
            .expect("wasmpod kubeconfig");
        assert!(output.status.success());
        let path = into.join("kubeconfig");
        std::fs::write(&path, output.stdout).unwrap();
        path
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.0 GET on the API (the body, chunk framing and all).
fn raw_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: wasmpod\r\n\r\n").unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}

/// Runs the wasmpod CLI against the home's running server; its stdout.
fn wasmpod(home: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_wasmpod"))
        .env("WASMPOD_HOME", home)
        .env_remove("WASMPOD_SERVER")
        .args(args)
        .output()
        .expect("run wasmpod");
    assert!(
        output.status.success(),
        "wasmpod {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A state dir held by a running `wasmpod serve`, or one holding garbage, is refused with a
/// message that says so; nothing is started.
#[test]
fn a_locked_or_damaged_state_dir_is_a_clear_error() {
    let home = common::Home::new();
    let _serve = Serve::start(home.path(), free_port());
    let second = Command::new(env!("CARGO_BIN_EXE_wasmpod"))
        .env("WASMPOD_HOME", home.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())])
        .output()
        .unwrap();
    assert!(!second.status.success());
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(
        message.contains("is in use by another wasmpod serve"),
        "{message}"
    );

    let damaged = home.path().join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    std::fs::write(
        damaged.join(wasmpod_storage::DATABASE_FILE_NAME),
        vec![0x5a; 8192],
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wasmpod"))
        .env("WASMPOD_HOME", home.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())])
        .arg("--state-dir")
        .arg(&damaged)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("is damaged"), "{message}");
}

#[test]
fn kubectl_runs_restarts_and_survives_a_killed_wasmpod() {
    if !kubectl_available() {
        return;
    }
    let home = common::Home::new();
    let port = free_port();
    let serve = Serve::start(home.path(), port);
    let kubectl = Kubectl {
        dir: home.path().join("kubectl"),
        kubeconfig: serve.kubeconfig(home.path()),
    };
    std::fs::create_dir_all(&kubectl.dir).unwrap();
    let manifest = home.write("fast.yaml", FAST_FAILING);

    let applied = kubectl.ok(&["apply", "-f", manifest.to_str().unwrap()]);
    assert_eq!(applied.trim(), "pod/fast created");
    let restarts = |value: &str| value.parse::<i32>().unwrap_or(0);
    kubectl.wait_for(
        "fast",
        "{.status.containerStatuses[0].restartCount}",
        "a liveness restart",
        |v| restarts(v) >= 1,
    );
    kubectl.wait_for("fast", "{.status.phase}", "running", |v| v == "Running");

    let table = kubectl.ok(&["get", "pods"]);
    let mut lines = table.lines();
    assert_eq!(
        lines
            .next()
            .map(|h| h.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"])
    );
    let row = lines.next().expect("a row for the pod");
    assert!(row.starts_with("fast "), "{table}");
    assert!(
        row.contains(" ago)"),
        "RESTARTS shows the last restart: {table}"
    );

    let described = kubectl.ok(&["describe", "pod", "fast"]);
    for expected in [
        "Name:             fast\n",
        "Liveness probe failed: HTTP probe failed with statuscode: 500",
        "Container app failed liveness probe, will be restarted",
        "Last State:     Terminated",
    ] {
        assert!(
            described.contains(expected),
            "no {expected:?} in:\n{described}"
        );
    }
    // wasmpod's own client prints what kubectl prints (retried across a second boundary,
    // where the ages move on between the two commands).
    let mut same = false;
    for _ in 0..5 {
        let ours = wasmpod(&serve.home, &["describe", "pod", "fast"]);
        let theirs = kubectl.ok(&["describe", "pod", "fast"]);
        if ours == theirs {
            same = true;
            break;
        }
    }
    assert!(same, "wasmpod describe and kubectl describe differ");
    let reapplied = wasmpod(&serve.home, &["apply", "-f", manifest.to_str().unwrap()]);
    assert_eq!(reapplied.trim(), "pod/fast unchanged");

    let previous = kubectl.ok(&["logs", "fast", "--previous"]);
    assert!(previous.starts_with("server starting...\n"), "{previous}");
    assert!(previous.contains("Received request from"), "{previous}");

    // kill -9 and a restart on the same state: the pod is found and runs again, its restart
    // count continued (the container was lost with the process).
    let before = restarts(&kubectl.wait_for(
        "fast",
        "{.status.containerStatuses[0].restartCount}",
        "a count",
        |_| true,
    ));
    let version_before_kill = kubectl.ok(&[
        "get",
        "pod",
        "fast",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]);
    serve.kill_9();
    let serve = Serve::start(home.path(), port);
    kubectl.wait_for(
        "fast",
        "{.status.containerStatuses[0].restartCount}",
        "the restart count continued after kill -9",
        |v| restarts(v) > before,
    );
    kubectl.wait_for(
        "fast",
        "{.status.containerStatuses[0].state.running.startedAt}",
        "running again",
        |v| !v.is_empty(),
    );

    // A watch from a revision stored before the kill resumes from it: no 410, the changes since.
    let resumed = raw_get(
        port,
        &format!(
            "/api/v1/namespaces/default/pods?watch=true&resourceVersion={}&timeoutSeconds=1",
            version_before_kill.trim()
        ),
    );
    assert!(resumed.contains("\"type\":\"MODIFIED\""), "{resumed}");
    assert!(!resumed.contains("\"type\":\"ERROR\""), "{resumed}");

    let deleted = kubectl.ok(&["delete", "pod", "fast"]);
    assert_eq!(deleted.trim(), "pod \"fast\" deleted");
    let (found, text) = kubectl.run(&["get", "pod", "fast"]);
    assert!(!found);
    assert!(
        text.contains("Error from server (NotFound): pods \"fast\" not found"),
        "{text}"
    );
    drop(serve);
}

/// The seed's manifests through kubectl, and kubectl's streams: `get pods -w` shows RESTARTS
/// change, `logs -f` follows the container, `get events --field-selector` filters; a changed
/// manifest is applied with a strategic merge patch; errors read as on a cluster.
#[test]
fn kubectl_applies_the_seed_and_follows_pods() {
    if !kubectl_available() {
        return;
    }
    let home = common::Home::new();
    let serve = Serve::start(home.path(), free_port());
    let kubectl = Kubectl {
        dir: home.path().join("kubectl"),
        kubeconfig: serve.kubeconfig(home.path()),
    };
    std::fs::create_dir_all(&kubectl.dir).unwrap();
    let seed = common::repo_file("examples/health1.yaml");
    let seed2 = common::repo_file("examples/health2.yaml");
    let applied = kubectl.ok(&[
        "apply",
        "-f",
        seed.to_str().unwrap(),
        "-f",
        seed2.to_str().unwrap(),
    ]);
    assert_eq!(applied.trim(), "pod/health1 created\npod/health2 created");
    for pod in ["health1", "health2"] {
        kubectl.wait_for(pod, "{.status.containerStatuses[0].ready}", "ready", |v| {
            v == "true"
        });
    }
    let table = kubectl.ok(&["get", "pods"]);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert_eq!(rows[1][..4], ["health1", "1/1", "Running", "0"]);
    assert_eq!(rows[2][..4], ["health2", "1/1", "Running", "0"]);
    let logs = kubectl.ok(&["logs", "health1"]);
    assert!(logs.starts_with("server starting...\n"), "{logs}");

    // `get pods -w` and `logs -f` running while the fast pod fails and restarts.
    let manifest = home.write("fast.yaml", FAST_FAILING);
    let mut watch = kubectl.spawn(&["get", "pods", "-w"]);
    kubectl.ok(&["apply", "-f", manifest.to_str().unwrap()]);
    kubectl.wait_for("fast", "{.status.phase}", "running", |v| v == "Running");
    let mut follow = kubectl.spawn(&["logs", "-f", "health2"]);
    let restarted_row = read_until(&mut watch, |line| {
        let cells: Vec<&str> = line.split_whitespace().collect();
        cells.first() == Some(&"fast") && cells.get(3).is_some_and(|r| *r != "0")
    });
    assert!(restarted_row.contains(" ago)"), "{restarted_row}");
    let followed = read_until(&mut follow, |line| {
        line.contains("resuming normal operations")
    });
    assert_eq!(
        followed,
        "httpd (wasmpod guest): resuming normal operations\n"
    );

    let killing = kubectl.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=fast,reason=Killing",
    ]);
    assert!(killing.lines().count() >= 2, "{killing}");
    assert!(
        killing.lines().skip(1).all(|l| l.contains("Killing")),
        "{killing}"
    );
    assert!(
        killing.contains("Container app failed liveness probe, will be restarted"),
        "{killing}"
    );

    // A changed manifest: kubectl sends a strategic merge patch; a new image makes the
    // kubelet restart the container with it.
    let seed2_text = std::fs::read_to_string(&seed2).unwrap();
    let changed = home.write(
        "health2.yaml",
        &seed2_text
            .replace(
                "metadata:\n  name: health2\n",
                "metadata:\n  name: health2\n  labels: {tier: web}\n",
            )
            .replace("image: httpd\n", "image: docker.io/library/httpd:latest\n"),
    );
    let configured = kubectl.ok(&["apply", "-f", changed.to_str().unwrap()]);
    assert_eq!(configured.trim(), "pod/health2 configured");
    let selected = kubectl.ok(&["get", "pods", "-l", "tier=web", "-o", "name"]);
    assert_eq!(selected.trim(), "pod/health2");
    kubectl.wait_for(
        "health2",
        "{.status.containerStatuses[0].restartCount}",
        "restarted with the new image",
        |v| v == "1",
    );
    let redefined = kubectl.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=health2,reason=Killing",
    ]);
    assert!(
        redefined.contains("Container health2 definition changed, will be restarted"),
        "{redefined}"
    );

    let (ok, missing) = kubectl.run(&["get", "pod", "nope"]);
    assert!(!ok);
    assert_eq!(
        missing.trim(),
        "Error from server (NotFound): pods \"nope\" not found"
    );
    let typo = home.write(
        "typo.yaml",
        &FAST_FAILING.replace("path: /, port", "pth: /, port"),
    );
    let (ok, refused) = kubectl.run(&["apply", "-f", typo.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        refused.contains(
            "strict decoding error: unknown field \"spec.containers[0].livenessProbe.httpGet.pth\""
        ),
        "{refused}"
    );

    let _ = watch.kill();
    let _ = follow.kill();
    kubectl.ok(&["delete", "pods", "--all", "--grace-period=1"]);
}

/// Reads the child's stdout line by line until `found` holds; that line.
fn read_until(child: &mut Child, found: impl Fn(&str) -> bool) -> String {
    use std::io::BufRead;
    let stdout = child.stdout.as_mut().expect("piped stdout");
    let mut reader = std::io::BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader.read_line(&mut line).expect("read kubectl's output");
        if read == 0 {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            panic!("kubectl ended before the awaited line: {stderr}");
        }
        if found(&line) {
            return line;
        }
    }
}

/// This host's address on its default route, if it has one that is not loopback.
fn non_loopback_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    // No packet is sent: connecting a UDP socket only picks the route and source address.
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// Beyond loopback `wasmpod serve` speaks HTTPS with a generated certificate and bearer
/// token; the kubeconfig it writes carries both, and kubectl works with it. A request
/// without the token is refused with 401. Skipped where the host has no non-loopback address.
#[test]
fn beyond_loopback_serve_needs_tls_and_the_token() {
    let Some(ip) = non_loopback_address() else {
        eprintln!("skipping: this host has no non-loopback address");
        return;
    };
    let home = common::Home::new();
    let port = free_port();
    let serve = Serve::start_on(home.path(), &format!("{ip}:{port}"));
    let kubeconfig = serve.kubeconfig(home.path());
    let config = std::fs::read_to_string(&kubeconfig).unwrap();
    assert!(
        config.contains(&format!("server: https://{ip}:{port}")),
        "{config}"
    );
    assert!(config.contains("certificate-authority-data:"), "{config}");
    assert!(config.contains("token:"), "{config}");
    let token_file = home.path().join("state/tls/token");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&token_file).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    // Without the token: 401, whatever the client (plain TLS here, certificate unchecked).
    let openssl = Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if openssl {
        let status = unauthenticated_status(ip, port);
        assert_eq!(status.as_deref(), Some("HTTP/1.1 401 Unauthorized"));
    } else {
        eprintln!("no openssl on PATH: the 401 check is skipped");
    }

    if kubectl_available() {
        let kubectl = Kubectl {
            dir: home.path().join("kubectl"),
            kubeconfig,
        };
        std::fs::create_dir_all(&kubectl.dir).unwrap();
        let (ok, text) = kubectl.run(&["get", "pods"]);
        assert!(ok, "{text}");
        assert_eq!(text.trim(), "No resources found in default namespace.");
    }
}

/// The status line of a GET /api over TLS without credentials (the `openssl` CLI as client).
fn unauthenticated_status(ip: std::net::IpAddr, port: u16) -> Option<String> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(["s_client", "-quiet", "-connect", &format!("{ip}:{port}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child
        .stdin
        .as_mut()?
        .write_all(b"GET /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: wasmpod\r\nConnection: close\r\n\r\n")
        .ok()?;
    let output = child.wait_with_output().ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .map(|l| l.trim().to_string())
}
