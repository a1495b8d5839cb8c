//! The handlers give the same outcomes over an in-process [`Connector`] (what simulated
//! time uses) as over the host's TCP stack: everything above the stream is shared.
//!
//! The connector here bridges each in-memory stream to the real test server, so both runs
//! talk to the same server and the requests it saw can be compared byte for byte.

mod grpc_support;
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use grpc_support::{GrpcServer, Reply as GrpcReply};
use support::{closed_port, probe_request, response, Reply, Server};
use tokio::net::{TcpListener, TcpStream};
use wasmpod_probe::{ConnectFuture, Connection, Connector, Network, ProbeOutcome};

struct Bridge;

impl Connector for Bridge {
    fn connect(&self, addr: SocketAddr) -> ConnectFuture {
        Box::pin(async move {
            let mut tcp = TcpStream::connect(addr).await?;
            let local = tcp.local_addr()?;
            let (ours, mut theirs) = tokio::io::duplex(64 * 1024);
            tokio::spawn(async move {
                let _ = tokio::io::copy_bidirectional(&mut theirs, &mut tcp).await;
            });
            Ok(Connection::memory(ours, local, addr))
        })
    }
}

fn networks() -> [(&'static str, Network); 2] {
    [
        ("host", Network::host()),
        ("memory", Network::custom(Arc::new(Bridge))),
    ]
}

const TIMEOUT: Duration = Duration::from_secs(5);

/// Runs an HTTP probe against a fresh server in both modes: same outcome, same request heads.
async fn http_in_both_modes(
    path: &str,
    headers: &[(&str, &str)],
    reply: impl Fn(&support::SeenRequest) -> Reply + Send + Sync + Clone + 'static,
) -> ProbeOutcome {
    let mut seen = Vec::new();
    let mut outcomes = Vec::new();
    for (mode, network) in networks() {
        let mut server = Server::start("127.0.0.1", reply.clone()).await;
        let request = probe_request(server.addr, path, headers);
        let outcome = wasmpod_probe::http_get(&request, TIMEOUT, &network).await;
        let heads: Vec<String> = server
            .requests()
            .into_iter()
            .map(|r| r.head.replace(&server.addr.to_string(), "ADDR"))
            .collect();
        let outcome = ProbeOutcome {
            output: outcome.output.replace(&server.addr.to_string(), "ADDR"),
            ..outcome
        };
        seen.push((mode, heads));
        outcomes.push((mode, outcome));
    }
    assert_eq!(seen[0].1, seen[1].1, "request heads differ");
    assert_eq!(outcomes[0].1, outcomes[1].1, "outcomes differ");
    outcomes.remove(0).1
}

#[tokio::test]
async fn http_success_failure_and_body_cap_match() {
    let ok = http_in_both_modes("/healthz", &[("Custom-Header", "Awesome")], |_| {
        Reply::Bytes(response("200 OK", &[], b"fine"))
    })
    .await;
    assert_eq!(ok, ProbeOutcome::success("fine"));

    let failed = http_in_both_modes("/", &[], |_| {
        Reply::Bytes(response("500 Internal Server Error", &[], b"no"))
    })
    .await;
    assert_eq!(
        failed,
        ProbeOutcome::failure("HTTP probe failed with statuscode: 500")
    );

    let big = vec![b'x'; wasmpod_probe::MAX_RESPONSE_BODY_BYTES + 100];
    let capped = http_in_both_modes("/", &[], move |_| {
        Reply::Bytes(response("200 OK", &[], &big))
    })
    .await;
    assert_eq!(capped.output.len(), wasmpod_probe::MAX_RESPONSE_BODY_BYTES);
}

#[tokio::test]
async fn http_redirects_match() {
    let outcome = http_in_both_modes("/old", &[], |seen| {
        if seen.head.starts_with("GET /old ") {
            Reply::Bytes(response("302 Found", &[("Location", "/new")], b""))
        } else {
            Reply::Bytes(response("200 OK", &[], b"moved"))
        }
    })
    .await;
    assert_eq!(outcome, ProbeOutcome::success("moved"));
}

#[tokio::test]
async fn http_timeout_matches() {
    // Accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let mut outcomes = Vec::new();
    for (_, network) in networks() {
        let request = probe_request(addr, "/", &[]);
        outcomes
            .push(wasmpod_probe::http_get(&request, Duration::from_millis(300), &network).await);
    }
    assert_eq!(outcomes[0], outcomes[1]);
    assert!(
        outcomes[0]
            .output
            .ends_with("(Client.Timeout exceeded while awaiting headers)"),
        "{}",
        outcomes[0].output
    );
}

#[tokio::test]
async fn refused_connections_match_for_every_handler() {
    let addr = closed_port("127.0.0.1").await;
    let mut http = Vec::new();
    let mut tcp = Vec::new();
    for (_, network) in networks() {
        let request = probe_request(addr, "/", &[]);
        http.push(wasmpod_probe::http_get(&request, TIMEOUT, &network).await);
        tcp.push(wasmpod_probe::tcp_socket("127.0.0.1", addr.port(), TIMEOUT, &network).await);
    }
    assert_eq!(http[0], http[1]);
    assert_eq!(tcp[0], tcp[1]);
    assert_eq!(
        tcp[0],
        ProbeOutcome::failure(format!("dial tcp {addr}: connect: connection refused"))
    );
}

#[tokio::test]
async fn tcp_and_grpc_success_match() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _accepting = tokio::spawn(async move { while listener.accept().await.is_ok() {} });
    let serving = GrpcServer::start(|_| GrpcReply::Status(1)).await;
    let not_serving = GrpcServer::start(|_| GrpcReply::Status(2)).await;
    let mut tcp = Vec::new();
    let mut grpc = Vec::new();
    for (_, network) in networks() {
        tcp.push(wasmpod_probe::tcp_socket("127.0.0.1", port, TIMEOUT, &network).await);
        for server in [&serving, &not_serving] {
            grpc.push(
                wasmpod_probe::grpc("127.0.0.1", server.addr.port(), "", TIMEOUT, &network).await,
            );
        }
    }
    assert_eq!(tcp[0], ProbeOutcome::success(""));
    assert_eq!(tcp[0], tcp[1]);
    assert_eq!(grpc[0], ProbeOutcome::success("service healthy"));
    assert_eq!(grpc[..2], grpc[2..]);
    assert_eq!(
        grpc[1],
        ProbeOutcome::failure("service unhealthy (responded with \"NOT_SERVING\")")
    );
}
