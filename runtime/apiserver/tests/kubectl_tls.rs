//! The real kubectl over HTTPS with the generated identity, token and kubeconfig (skipped,
//! with a message, when kubectl is missing).

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::kubectl::{kubectl_available, Kubectl};
use tokio::io::AsyncBufReadExt;
use wasmpod_apiserver::{kubeconfig, load_or_create_token, ApiOptions, ApiServer, ServingIdentity};
use wasmpod_storage::MemoryStorage;

struct TlsServer {
    address: SocketAddr,
    identity: ServingIdentity,
    token: String,
    _state: tempfile::TempDir,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsServer {
    async fn start() -> TlsServer {
        let state = tempfile::tempdir().unwrap();
        let token = load_or_create_token(state.path()).unwrap();
        let identity = ServingIdentity::load_or_create(state.path(), &[]).unwrap();
        let server = ApiServer::new(
            Arc::new(MemoryStorage::new()),
            ApiOptions {
                bearer_token: Some(token.clone()),
                ..ApiOptions::default()
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let serving = identity.clone();
        let task = tokio::spawn(async move { server.serve_tls(listener, &serving).await });
        TlsServer {
            address,
            identity,
            token,
            _state: state,
            task,
        }
    }

    fn url(&self) -> String {
        format!("https://{}", self.address)
    }
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hello\nspec:\n  containers:\n  - name: app\n    image: example.com/hello:1\n";

/// kubectl's wording when discovery itself gets a 401 (as against kube-apiserver).
const UNAUTHORIZED: &str = "error: You must be logged in to the server (the server has asked for the client to provide credentials)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_works_over_https_with_the_generated_kubeconfig() {
    if !kubectl_available() {
        return;
    }
    let t = TlsServer::start().await;
    let k = Kubectl::with_config(&kubeconfig(
        &t.url(),
        Some(t.identity.cert_pem()),
        Some(&t.token),
    ));
    let empty = k.run(&["get", "pods"]).await;
    assert!(empty.ok, "{}", empty.stderr);
    assert_eq!(empty.stdout, "");
    assert_eq!(empty.stderr, "No resources found in default namespace.\n");

    // A watch streams over TLS: the new pod's row arrives while the response is still open.
    let mut watch = k
        .command(&["get", "pods", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(watch.stdout.take().unwrap()).lines();
    let manifest = k.write("pod.yaml", POD);
    let created = k.run(&["apply", "-f", &manifest]).await;
    assert_eq!(
        created.stdout.trim(),
        "pod/hello created",
        "{}",
        created.stderr
    );
    let row = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("hello ") {
                return line;
            }
        }
        String::new()
    })
    .await
    .expect("the watch did not stream the new pod");
    assert!(row.contains("Pending"), "{row}");
    watch.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_without_the_token_is_unauthorized_over_https() {
    if !kubectl_available() {
        return;
    }
    let t = TlsServer::start().await;
    let ca = Some(t.identity.cert_pem());

    // No credentials at all: over https kubectl asks for a username on stdin before sending
    // anything, and gives up at end of input.
    let anonymous = Kubectl::with_config(&kubeconfig(&t.url(), ca, None));
    let prompted = anonymous.run(&["get", "pods"]).await;
    assert!(!prompted.ok);
    assert_eq!(prompted.stdout, "Please enter Username: ");
    assert_eq!(prompted.stderr, "error: EOF\n");

    // Credentials other than the token, or a wrong token, reach the server and get its 401.
    let basic = kubeconfig(&t.url(), ca, None).replace(
        "  user: {}\n",
        "  user:\n    username: someone\n    password: secret\n",
    );
    let wrong = kubeconfig(&t.url(), ca, Some("not-the-token"));
    for (what, config) in [("basic auth", basic), ("a wrong token", wrong)] {
        let k = Kubectl::with_config(&config);
        let denied = k.run(&["get", "pods"]).await;
        assert!(!denied.ok, "{what}");
        assert_eq!(
            denied.stderr.lines().last(),
            Some(UNAUTHORIZED),
            "{what}: {}",
            denied.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_rejects_a_server_certificate_its_ca_did_not_issue() {
    if !kubectl_available() {
        return;
    }
    let t = TlsServer::start().await;
    let elsewhere = tempfile::tempdir().unwrap();
    let stranger = ServingIdentity::load_or_create(elsewhere.path(), &[]).unwrap();
    let k = Kubectl::with_config(&kubeconfig(
        &t.url(),
        Some(stranger.cert_pem()),
        Some(&t.token),
    ));
    let refused = k.run(&["get", "pods"]).await;
    assert!(!refused.ok);
    let last = refused.stderr.lines().last().unwrap_or("");
    assert!(
        last.starts_with(
            "Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority"
        ),
        "{}",
        refused.stderr
    );
}
