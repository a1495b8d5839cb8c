//! `grpc` against real loopback h2c servers.

mod grpc_support;
mod support;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use grpc_support::{response_frame, GrpcServer, Reply};
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use support::{closed_port, grpc};
use tokio::net::TcpListener;
use wasmpod_probe::{ProbeOutcome, GRPC_PROBE_USER_AGENT};

const SERVING: i32 = 1;
const NOT_SERVING: i32 = 2;
const SERVICE_UNKNOWN: i32 = 3;
const GENEROUS: Duration = Duration::from_secs(5);

#[tokio::test]
async fn serving_is_success_and_the_request_is_grpc_go_shaped() {
    let mut server = GrpcServer::start(|_| Reply::Status(SERVING)).await;
    let outcome = grpc("127.0.0.1", server.addr.port(), "", GENEROUS).await;
    assert_eq!(outcome, ProbeOutcome::success("service healthy"));

    let call = server.next_call().await;
    assert_eq!(call.method, "POST");
    assert_eq!(call.path, "/grpc.health.v1.Health/Check");
    assert_eq!(call.version, http::Version::HTTP_2);
    assert_eq!(call.service.as_deref(), Some(""));
    assert_eq!(
        call.header("content-type").as_deref(),
        Some("application/grpc")
    );
    assert_eq!(call.header("te").as_deref(), Some("trailers"));
    assert_eq!(
        call.header("user-agent").as_deref(),
        Some(GRPC_PROBE_USER_AGENT)
    );
    assert_eq!(GRPC_PROBE_USER_AGENT, "kube-probe/1.33 grpc-go/1.68.1");
    // The remaining deadline, in microseconds (at most 8 digits).
    let grpc_timeout = call.header("grpc-timeout").unwrap();
    let micros: u64 = grpc_timeout.strip_suffix('u').unwrap().parse().unwrap();
    assert!(micros > 4_000_000 && micros <= 5_000_000, "{grpc_timeout}");
}

#[tokio::test]
async fn not_serving_and_service_unknown_are_failures_naming_the_status() {
    let not_serving = GrpcServer::start(|_| Reply::Status(NOT_SERVING)).await;
    let outcome = grpc("127.0.0.1", not_serving.addr.port(), "", GENEROUS).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(r#"service unhealthy (responded with "NOT_SERVING")"#)
    );

    let unknown = GrpcServer::start(|_| Reply::Status(SERVICE_UNKNOWN)).await;
    let outcome = grpc("127.0.0.1", unknown.addr.port(), "", GENEROUS).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(r#"service unhealthy (responded with "SERVICE_UNKNOWN")"#)
    );

    // proto3 leaves status 0 out of the message: an empty message means UNKNOWN.
    let zero = GrpcServer::start(|_| Reply::Status(0)).await;
    let outcome = grpc("127.0.0.1", zero.addr.port(), "", GENEROUS).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(r#"service unhealthy (responded with "UNKNOWN")"#)
    );
}

#[tokio::test]
async fn each_service_gets_its_own_answer() {
    let mut server = GrpcServer::start(|call| match call.service.as_deref() {
        Some("api") => Reply::Status(SERVING),
        Some("batch") => Reply::Status(NOT_SERVING),
        _ => Reply::TrailersOnly {
            code: 5,
            message: "unknown service",
        },
    })
    .await;
    let port = server.addr.port();

    assert_eq!(
        grpc("127.0.0.1", port, "api", GENEROUS).await,
        ProbeOutcome::success("service healthy")
    );
    assert_eq!(server.next_call().await.service.as_deref(), Some("api"));
    assert_eq!(
        grpc("127.0.0.1", port, "batch", GENEROUS).await,
        ProbeOutcome::failure(r#"service unhealthy (responded with "NOT_SERVING")"#)
    );
    assert_eq!(server.next_call().await.service.as_deref(), Some("batch"));
    assert_eq!(
        grpc("127.0.0.1", port, "other", GENEROUS).await,
        ProbeOutcome::failure(
            "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service"
        )
    );
}

#[tokio::test]
async fn unimplemented_health_service_has_its_own_text() {
    let server = GrpcServer::start(|_| Reply::TrailersOnly {
        code: 12,
        message: "unknown service grpc.health.v1.Health",
    })
    .await;
    let outcome = grpc("127.0.0.1", server.addr.port(), "", GENEROUS).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(
            "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health"
        )
    );
}

#[tokio::test]
async fn plain_http_404_over_h2_maps_to_unimplemented() {
    let server = GrpcServer::start(|_| Reply::Frames {
        status: 404,
        headers: vec![("content-type", "text/plain; charset=utf-8")],
        frames: vec![Frame::data(Bytes::from_static(b"404 page not found\n"))],
    })
    .await;
    let outcome = grpc("127.0.0.1", server.addr.port(), "", GENEROUS).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(
            r#"error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unexpected HTTP status code received from server: 404 (Not Found); transport: received unexpected content-type "text/plain; charset=utf-8""#
        )
    );
}

#[tokio::test]
async fn missing_trailers_and_error_trailers_are_rpc_errors() {
    let no_trailers = GrpcServer::start(|_| Reply::Frames {
        status: 200,
        headers: vec![("content-type", "application/grpc")],
        frames: vec![Frame::data(response_frame(SERVING))],
    })
    .await;
    assert_eq!(
        grpc("127.0.0.1", no_trailers.addr.port(), "", GENEROUS).await,
        ProbeOutcome::failure(
            "error: health rpc probe failed: rpc error: code = Internal desc = server closed the stream without sending trailers"
        )
    );

    // A message followed by a failing status: the status wins.
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", "14".parse().unwrap());
    trailers.insert("grpc-message", "going%20away".parse().unwrap());
    let failing = GrpcServer::start(move |_| Reply::Frames {
        status: 200,
        headers: vec![("content-type", "application/grpc")],
        frames: vec![
            Frame::data(response_frame(SERVING)),
            Frame::trailers(trailers.clone()),
        ],
    })
    .await;
    assert_eq!(
        grpc("127.0.0.1", failing.addr.port(), "", GENEROUS).await,
        ProbeOutcome::failure(
            "error: health rpc probe failed: rpc error: code = Unavailable desc = going away"
        )
    );
}

#[tokio::test]
async fn server_that_never_answers_is_an_rpc_timeout() {
    let mut server = GrpcServer::start(|_| Reply::Hang).await;
    let timeout = Duration::from_millis(500);
    let started = Instant::now();
    let outcome = grpc("127.0.0.1", server.addr.port(), "", timeout).await;
    let elapsed = started.elapsed();
    assert_eq!(
        outcome,
        ProbeOutcome::failure("timeout: health rpc did not complete within 500ms")
    );
    server.next_call().await;
    assert!(elapsed >= timeout, "returned early: {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(3),
        "returned late: {elapsed:?}"
    );
}

#[tokio::test]
async fn refused_port_is_a_connect_timeout_after_the_whole_timeout() {
    let addr = closed_port("127.0.0.1").await;
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let outcome = grpc("127.0.0.1", addr.port(), "", timeout).await;
    let elapsed = started.elapsed();
    assert_eq!(
        outcome,
        ProbeOutcome::failure(format!(
            r#"timeout: failed to connect service "{addr}" within 300ms: context deadline exceeded"#
        ))
    );
    assert!(elapsed >= timeout, "returned early: {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(3),
        "returned late: {elapsed:?}"
    );
}

#[tokio::test]
async fn silent_tcp_server_is_a_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let outcome = grpc("127.0.0.1", addr.port(), "", Duration::from_millis(300)).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(format!(
            r#"timeout: failed to connect service "{addr}" within 300ms: context deadline exceeded"#
        ))
    );
}

#[tokio::test]
async fn http1_only_server_is_a_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (accepted_tx, mut accepted) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = accepted_tx.send(());
            tokio::spawn(async move {
                let service = service_fn(|_request: Request<Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let timeout = Duration::from_millis(400);
    let started = Instant::now();
    let outcome = grpc("127.0.0.1", addr.port(), "", timeout).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(format!(
            r#"timeout: failed to connect service "{addr}" within 400ms: context deadline exceeded"#
        ))
    );
    assert!(started.elapsed() >= timeout);
    // The probe really reached the HTTP/1 server before giving up.
    assert!(accepted.try_recv().is_ok());
}

#[tokio::test]
async fn blocking_dial_retries_until_the_server_comes_up() {
    let addr = closed_port("127.0.0.1").await;
    let starter = tokio::spawn(async move {
        // After the first (refused) attempt, well before grpc-go's 1 s first backoff ends.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let listener = TcpListener::bind(addr).await.unwrap();
        GrpcServer::serve(listener, Arc::new(|_| Reply::Status(SERVING)))
    });
    let started = Instant::now();
    let outcome = grpc("127.0.0.1", addr.port(), "", Duration::from_secs(4)).await;
    let elapsed = started.elapsed();
    let _server = starter.await.unwrap();
    assert_eq!(outcome, ProbeOutcome::success("service healthy"));
    // The retry waited for the first backoff (exactly 1 s in grpc-go).
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
}
