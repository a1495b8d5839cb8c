//! Faults of the node itself: `kill -9` of `wasmpod serve` in the middle of an apply storm, a
//! restart storm and a watch, then a restart on the same state; a state dir on a full or
//! read-only file system. Afterwards the state is consistent and complete: no acknowledged pod
//! lost, none duplicated, restart counts continued, watches resumable, a clear error when the
//! disk is full or read-only, and nothing corrupted.

mod common;

use common::free_port;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::wait_until;
use serde_json::Value;

struct Serve {
    child: Child,
}

impl Serve {
    fn start(home: &Path, state_dir: Option<&Path>, port: u16) -> Serve {
        let _ = std::fs::remove_file(home.join("run/api-server"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_wasmpod"));
        command
            .env("WASMPOD_HOME", home)
            .env_remove("WASMPOD_SERVER")
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(dir) = state_dir {
            command.arg("--state-dir").arg(dir);
        }
        let child = command.spawn().expect("start wasmpod serve");
        wait_until(Duration::from_secs(30), "wasmpod serve to come up", || {
            home.join("run/api-server").exists().then_some(())
        });
        Serve { child }
    }

    fn kill_9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request with a JSON body: (status, body); an error when the server is gone.
fn request(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: wasmpod\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (status, body) = common::parse_response(&response);
    if status == 0 {
        return Err(std::io::Error::other("no HTTP response"));
    }
    Ok((status, body))
}

/// A pod whose liveness probe fails after three answers: it restarts every few seconds.
fn crashlooping_pod(name: &str, padding: usize) -> String {
    let mut pod: Value = serde_json::from_str(&quiet_pod(name, padding)).unwrap();
    pod["spec"]["containers"][0]["livenessProbe"] = serde_json::json!({
        "httpGet": {"path": "/", "port": 8080},
        "periodSeconds": 1,
        "failureThreshold": 1
    });
    pod.to_string()
}

/// The health app without probes, carrying `padding` bytes in an annotation.
fn quiet_pod(name: &str, padding: usize) -> String {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "annotations": {"padding": "x".repeat(padding)}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{
                "name": "app",
                "image": "health_image:latest",
                "imagePullPolicy": "IfNotPresent",
                "ports": [{"containerPort": 8080}]
            }]
        }
    })
    .to_string()
}

const PODS: &str = "/api/v1/namespaces/default/pods";

fn list_pods(port: u16) -> Vec<Value> {
    let (status, body) = request(port, "GET", PODS, "").expect("list pods");
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    list["items"].as_array().cloned().unwrap_or_default()
}

fn restarts(pod: &Value) -> i64 {
    pod["status"]["containerStatuses"][0]["restartCount"]
        .as_i64()
        .unwrap_or(0)
}

#[test]
fn kill_9_during_an_apply_storm_a_restart_storm_and_a_watch_loses_nothing() {
    let home = common::Home::new();
    let port = free_port();
    let serve = Serve::start(home.path(), None, port);

    // A restart storm: ten pods crash-looping on liveness.
    for i in 0..10 {
        let (status, body) = request(
            port,
            "POST",
            PODS,
            &crashlooping_pod(&format!("storm-{i}"), 0),
        )
        .unwrap();
        assert_eq!(status, 201, "{body}");
    }
    wait_until(Duration::from_secs(60), "the storm restarting", || {
        let pods = list_pods(port);
        (pods.iter().filter(|p| restarts(p) >= 1).count() == 10).then_some(())
    });
    let (_, body) = request(port, "GET", PODS, "").unwrap();
    let list_version = serde_json::from_str::<Value>(&body).unwrap()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    // A watch open across the kill.
    let mut watch = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        watch,
        "GET {PODS}?watch=true&resourceVersion={list_version} HTTP/1.1\r\nHost: wasmpod\r\n\r\n"
    )
    .unwrap();

    // An apply storm from another thread; the node is killed in the middle of it.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let storm = {
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        std::thread::spawn(move || {
            for i in 0..200 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let name = format!("applied-{i}");
                if let Ok((201, _)) = request(port, "POST", PODS, &crashlooping_pod(&name, 0)) {
                    acknowledged.lock().unwrap().push(name);
                }
            }
        })
    };
    wait_until(Duration::from_secs(60), "the apply storm under way", || {
        (acknowledged.lock().unwrap().len() >= 15).then_some(())
    });
    let before: Vec<(String, i64)> = list_pods(port)
        .iter()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                restarts(p),
            )
        })
        .collect();
    serve.kill_9();
    stop.store(true, Ordering::Relaxed);
    storm.join().unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();

    // The watch ended with the process; nothing half-written reached it.
    watch
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut streamed = Vec::new();
    let _ = watch.read_to_end(&mut streamed);
    assert!(!String::from_utf8_lossy(&streamed).contains("\"type\":\"ERROR\""));

    let serve = Serve::start(home.path(), None, port);
    let after = list_pods(port);
    let names: Vec<&str> = after
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "duplicated pods: {names:?}");
    for name in &acknowledged {
        assert!(
            names.contains(&name.as_str()),
            "{name} was acknowledged, then lost"
        );
    }
    // Restart counts continue from where they were (the instances died with the process).
    wait_until(Duration::from_secs(60), "restart counts continued", || {
        let pods = list_pods(port);
        before
            .iter()
            .filter(|(name, _)| name.starts_with("storm-"))
            .all(|(name, count)| {
                pods.iter()
                    .find(|p| p["metadata"]["name"] == name.as_str())
                    .is_some_and(|p| restarts(p) > *count)
            })
            .then_some(())
    });
    // Applying the whole set again completes it: created where missing, AlreadyExists (409)
    // where present, never a second copy.
    for i in 0..(acknowledged.len() + 5) {
        let (status, body) = request(
            port,
            "POST",
            PODS,
            &crashlooping_pod(&format!("applied-{i}"), 0),
        )
        .unwrap();
        assert!(status == 201 || status == 409, "{status}: {body}");
    }
    let total = list_pods(port).len();
    assert_eq!(total, 10 + acknowledged.len() + 5);

    // A watch from the revision listed before the kill resumes from it.
    let (status, streamed) = request(
        port,
        "GET",
        &format!("{PODS}?watch=true&resourceVersion={list_version}&timeoutSeconds=1"),
        "",
    )
    .unwrap();
    assert_eq!(status, 200);
    assert!(streamed.contains("\"type\":\"ADDED\""), "{streamed}");
    assert!(!streamed.contains("\"type\":\"ERROR\""), "{streamed}");
    drop(serve);
}

/// A small tmpfs of our own, when this process may mount one (root); `None` says why not.
struct SmallFileSystem {
    path: PathBuf,
}

impl SmallFileSystem {
    fn mount(size: &str) -> Option<SmallFileSystem> {
        let dir = tempfile::tempdir().ok()?.keep();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "wasmpod-test"])
            .arg(&dir)
            .stderr(Stdio::null())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("skipping: cannot mount a tmpfs here (needs root)");
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(SmallFileSystem { path: dir })
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(status.success(), "remount {options}");
    }
}

impl Drop for SmallFileSystem {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        let _ = std::fs::remove_dir(&self.path);
    }
}

#[test]
fn a_full_or_read_only_state_dir_is_a_clear_error_and_nothing_is_corrupted() {
    let Some(disk) = SmallFileSystem::mount("4m") else {
        return;
    };
    let home = common::Home::new();
    let state = disk.path.join("state");
    let port = free_port();
    let serve = Serve::start(home.path(), Some(&state), port);

    // Fill the disk with pods carrying 64 KiB annotations until the store refuses.
    let mut stored = Vec::new();
    let mut refusal = None;
    for i in 0..200 {
        let name = format!("big-{i}");
        let (status, body) = request(port, "POST", PODS, &quiet_pod(&name, 64 << 10)).unwrap();
        match status {
            201 => stored.push(name),
            _ => {
                refusal = Some((status, body));
                break;
            }
        }
    }
    let (status, body) = refusal.expect("a 4 MiB disk fills up");
    assert_eq!(status, 500, "{body}");
    let status_object: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status_object["kind"], "Status");
    assert!(
        status_object["message"]
            .as_str()
            .unwrap()
            .contains("No space left on device"),
        "{body}"
    );
    // The node stays up, answers reads, and the store stays writable: a deletion frees room.
    assert_eq!(list_pods(port).len(), stored.len());
    let removed = stored.pop().unwrap();
    // Grace period 0: a deletion outright (a graceful one first rewrites the whole object).
    let (status, body) = request(
        port,
        "DELETE",
        &format!("{PODS}/{removed}?gracePeriodSeconds=0"),
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    wait_until(Duration::from_secs(30), "the deleted pod gone", || {
        (list_pods(port).len() == stored.len()).then_some(())
    });

    serve.kill_9();
    // (A file system cannot turn read-only under a process writing to it — remount says it
    // is busy — so read-only is tried at start.)
    disk.remount("ro");

    // A start on a read-only state dir says so and starts nothing.
    let output = Command::new(env!("CARGO_BIN_EXE_wasmpod"))
        .env("WASMPOD_HOME", home.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())])
        .arg("--state-dir")
        .arg(&state)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("Read-only file system"), "{message}");

    // Room again: everything acknowledged is there, intact, and writes work.
    disk.remount("rw,size=512m");
    let port = free_port();
    let serve = Serve::start(home.path(), Some(&state), port);
    let pods = list_pods(port);
    assert_eq!(pods.len(), stored.len());
    for pod in &pods {
        assert_eq!(
            pod["metadata"]["annotations"]["padding"]
                .as_str()
                .map(str::len),
            Some(64 << 10)
        );
    }
    let (status, body) = request(port, "POST", PODS, &quiet_pod("after", 0)).unwrap();
    assert_eq!(status, 201, "{body}");
    drop(serve);
}
