//! The real kubectl against the server (skipped, with a message, when kubectl is missing).

mod common;

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::kubectl::{kubectl_available, Kubectl};
use common::*;
use serde_json::{json, Value};
use tokio::io::AsyncBufReadExt;
use wasmpod_apiserver::{ApiOptions, DeleteOptions};
use wasmpod_storage::{RedbStorage, StorageOptions};

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hello\n  labels: {app: hello}\nspec:\n  containers:\n  - name: app\n    image: example.com/hello:1\n";

fn first_line(text: &str) -> Vec<&str> {
    text.lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_drives_the_api_over_memory_storage() {
    if !kubectl_available() {
        return;
    }
    let t = start(ApiOptions::default()).await;
    let k = Kubectl::new(t.address, None);
    let manifest = k.write("pod.yaml", POD);
    assert_eq!(
        k.ok(&["apply", "-f", &manifest]).await.trim(),
        "pod/hello created"
    );
    assert_eq!(
        k.ok(&["apply", "-f", &manifest]).await.trim(),
        "pod/hello unchanged"
    );
    k.write(
        "pod.yaml",
        &POD.replace("hello:1", "hello:2")
            .replace("{app: hello}", "{app: hello, tier: web}"),
    );
    assert_eq!(
        k.ok(&["apply", "-f", &manifest]).await.trim(),
        "pod/hello configured"
    );
    let stored = t
        .server
        .get_object("pods", "default", "hello")
        .await
        .unwrap();
    assert_eq!(
        stored["spec"]["containers"][0]["image"],
        "example.com/hello:2"
    );
    assert_eq!(stored["metadata"]["labels"]["tier"], "web");

    let pods = k.ok(&["get", "pods"]).await;
    assert_eq!(
        first_line(&pods),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    let row: Vec<&str> = pods.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..4], ["hello", "0/1", "Pending", "0"]);
    let wide = k.ok(&["get", "pods", "-o", "wide"]).await;
    assert_eq!(first_line(&wide)[5..7], ["IP", "NODE"]);
    let yaml = k.ok(&["get", "pod", "hello", "-o", "yaml"]).await;
    assert!(
        yaml.contains("image: example.com/hello:2") && yaml.contains("phase: Pending"),
        "{yaml}"
    );
    let json_out: Value =
        serde_json::from_str(&k.ok(&["get", "pod", "hello", "-o", "json"]).await).unwrap();
    assert_eq!(json_out["metadata"]["generation"], 2);
    assert!(k
        .ok(&["get", "pods", "-l", "app=hello"])
        .await
        .contains("hello"));
    let none = k.run(&["get", "pods", "-l", "app=other"]).await;
    assert!(
        none.stderr
            .contains("No resources found in default namespace."),
        "{}",
        none.stderr
    );
    assert!(k
        .ok(&["get", "pods", "--field-selector", "metadata.name=hello"])
        .await
        .contains("hello"));

    // An event as the kubelet would post it, then describe and get events.
    let uid = stored["metadata"]["uid"].as_str().unwrap().to_string();
    let event = json!({
        "metadata": {"name": "hello.1"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "hello", "uid": uid, "apiVersion": "v1"},
        "reason": "Scheduled", "message": "Successfully assigned default/hello to wasmpod",
        "type": "Normal", "source": {"component": "default-scheduler"}, "count": 1,
        "firstTimestamp": "2025-01-01T00:00:00Z", "lastTimestamp": "2025-01-01T00:00:00Z"
    });
    t.server
        .create_object("events", "default", event)
        .await
        .unwrap();
    let described = k.ok(&["describe", "pod", "hello"]).await;
    assert!(
        described.starts_with(
            "Name:             hello\nNamespace:        default\nPriority:         0\nService Account:  default\n"
        ),
        "{described}"
    );
    assert!(
        described.contains("Events:")
            && described.contains("Successfully assigned default/hello to wasmpod"),
        "{described}"
    );
    let events = k.ok(&["get", "events"]).await;
    assert_eq!(
        first_line(&events),
        ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );
    assert!(events.contains("pod/hello"), "{events}");

    assert_eq!(
        k.ok(&["create", "configmap", "cfg", "--from-literal=a=b"])
            .await
            .trim(),
        "configmap/cfg created"
    );
    let cms = k.ok(&["get", "cm"]).await;
    assert_eq!(first_line(&cms), ["NAME", "DATA", "AGE"]);
    assert!(
        cms.lines()
            .any(|l| l.split_whitespace().take(2).eq(["cfg", "1"])),
        "{cms}"
    );

    // Strict field validation and missing objects.
    let bad = k.write(
        "bad.yaml",
        &POD.replace("name: hello", "name: bad")
            .replace("containers:", "foo: 1\n  containers:"),
    );
    let refused = k.run(&["apply", "-f", &bad]).await;
    assert!(!refused.ok);
    assert!(
        refused.stderr.contains("Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.foo\""),
        "{}",
        refused.stderr
    );
    let missing = k.run(&["get", "pod", "nope"]).await;
    assert_eq!(
        missing.stderr.trim(),
        "Error from server (NotFound): pods \"nope\" not found"
    );

    // Scale subresource.
    let rs = k.write("rs.yaml", "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: app, image: example.com/web:1}]}\n");
    assert_eq!(
        k.ok(&["apply", "-f", &rs]).await.trim(),
        "replicaset.apps/web created"
    );
    assert_eq!(
        k.ok(&["scale", "rs", "web", "--replicas=3"]).await.trim(),
        "replicaset.apps/web scaled"
    );
    let scaled = t
        .server
        .get_object("replicasets", "default", "web")
        .await
        .unwrap();
    assert_eq!(scaled["spec"]["replicas"], 3);

    // get -w: the new pod's row appears on the running watch.
    let mut watch = k
        .command(&["get", "pods", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(watch.stdout.take().unwrap()).lines();
    let header = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        first_line(&header),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    k.write("late.yaml", &POD.replace("name: hello", "name: late"));
    let late = k.dir.path().join("late.yaml");
    k.ok(&["apply", "-f", late.to_str().unwrap()]).await;
    let seen = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("late ") {
                return line;
            }
        }
        String::new()
    })
    .await
    .unwrap();
    assert!(seen.contains("Pending"), "{seen}");
    watch.kill().await.unwrap();

    // Deleting an unscheduled pod removes it at once.
    assert_eq!(
        k.ok(&["delete", "pod", "late"]).await.trim(),
        "pod \"late\" deleted"
    );
    assert!(t
        .server
        .get_object("pods", "default", "late")
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_delete_waits_for_the_kubelets_final_delete() {
    if !kubectl_available() {
        return;
    }
    let t = start(ApiOptions::default()).await;
    let k = Kubectl::new(t.address, None);
    let manifest = k.write(
        "pod.yaml",
        &POD.replace("spec:\n", "spec:\n  nodeName: node-1\n"),
    );
    k.ok(&["apply", "-f", &manifest]).await;
    let mut delete = k
        .command(&["delete", "pod", "hello"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let server = t.server.clone();
    let terminating = wait_until(Duration::from_secs(30), || {
        let server = server.clone();
        async move {
            server
                .get_object("pods", "default", "hello")
                .await
                .is_ok_and(|p| p["metadata"]["deletionTimestamp"].is_string())
        }
    })
    .await;
    assert!(terminating, "pod was not marked for deletion");
    let pods = k.ok(&["get", "pods"]).await;
    assert!(
        pods.lines().nth(1).unwrap().contains("Terminating"),
        "{pods}"
    );
    // The kubelet's final delete (grace 0) releases kubectl's wait.
    t.server
        .delete_object(
            "pods",
            "default",
            "hello",
            DeleteOptions {
                grace_period_seconds: Some(0),
                ..DeleteOptions::default()
            },
        )
        .await
        .unwrap();
    let mut stdout = String::new();
    tokio::io::AsyncReadExt::read_to_string(delete.stdout.as_mut().unwrap(), &mut stdout)
        .await
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), delete.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    assert_eq!(stdout.trim(), "pod \"hello\" deleted");
}

async fn redb_server(dir: &Path, token: Option<&str>) -> TestServer {
    let storage = RedbStorage::open(dir, StorageOptions::default()).unwrap();
    let options = ApiOptions {
        bearer_token: token.map(String::from),
        ..ApiOptions::default()
    };
    start_with(Arc::new(storage), options).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_over_redb_storage() {
    if !kubectl_available() {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let t = redb_server(state.path(), None).await;
    let k = Kubectl::new(t.address, None);
    let manifest = k.write("pod.yaml", POD);
    assert_eq!(
        k.ok(&["apply", "-f", &manifest]).await.trim(),
        "pod/hello created"
    );
    let pods = k.ok(&["get", "pods"]).await;
    assert!(pods.lines().nth(1).unwrap().starts_with("hello "), "{pods}");
    assert_eq!(
        k.ok(&["delete", "pod", "hello"]).await.trim(),
        "pod \"hello\" deleted"
    );
}

/// client-go only sends bearer tokens over TLS, so over plain http a token-protected server
/// always answers kubectl with 401 (even with the token in the kubeconfig).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_without_credentials_is_unauthorized() {
    if !kubectl_available() {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let t = redb_server(state.path(), Some("s3cret")).await;
    let anonymous = Kubectl::new(t.address, None);
    let denied = anonymous.run(&["get", "pods"]).await;
    assert!(!denied.ok);
    assert!(
        // kubectl's wording when discovery itself gets the 401 (as against kube-apiserver).
        denied.stderr.lines().last()
            == Some("error: You must be logged in to the server (the server has asked for the client to provide credentials)"),
        "{}",
        denied.stderr
    );
}
