//! `http_get` with `scheme: HTTPS` against real loopback TLS servers.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, HTTPGetAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use support::{http_get, response, Reply, Server};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use wasmpod_probe::{HttpGetRequest, ProbeOutcome};

const TIMEOUT: Duration = Duration::from_secs(5);

fn https_request(addr: std::net::SocketAddr, path: &str) -> HttpGetRequest {
    let action = HTTPGetAction {
        scheme: Some("HTTPS".into()),
        path: Some(path.into()),
        port: IntOrString::Int(i32::from(addr.port())),
        ..Default::default()
    };
    HttpGetRequest::new(&action, &addr.ip().to_string(), &Container::default()).unwrap()
}

#[tokio::test]
async fn self_signed_certificate_is_accepted() {
    let mut server = Server::start_tls("127.0.0.1", |_| {
        Reply::Bytes(response("200 OK", &[], b"secure"))
    })
    .await;
    let request = https_request(server.addr, "/healthz");
    assert_eq!(request.url(), format!("https://{}/healthz", server.addr));
    let outcome = http_get(&request, TIMEOUT).await;
    assert_eq!(outcome, ProbeOutcome::success("secure"));
    let requests = server.requests();
    assert_eq!(
        requests[0].head,
        format!(
            "GET /healthz HTTP/1.1\r\nHost: {}\r\nUser-Agent: kube-probe/1.33\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            server.addr
        )
    );
}

#[tokio::test]
async fn https_failure_status_is_a_failure() {
    let server = Server::start_tls("127.0.0.1", |_| {
        Reply::Bytes(response("503 Service Unavailable", &[], b""))
    })
    .await;
    let outcome = http_get(&https_request(server.addr, "/"), TIMEOUT).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure("HTTP probe failed with statuscode: 503")
    );
}

#[tokio::test]
async fn plain_http_server_is_reported_like_go() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                .await;
            let _ = stream.shutdown().await;
        }
    });
    let outcome = http_get(&https_request(addr, "/"), TIMEOUT).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(format!(
            r#"Get "https://{addr}/": http: server gave HTTP response to HTTPS client"#
        ))
    );
}
