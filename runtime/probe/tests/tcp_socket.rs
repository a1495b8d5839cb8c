//! `tcp_socket` against real loopback listeners.

mod support;

use std::time::{Duration, Instant};

use support::{closed_port, saturated_listener, tcp_socket};
use tokio::net::TcpListener;
use wasmpod_probe::ProbeOutcome;

#[tokio::test]
async fn open_port_is_success_with_empty_output() {
    let listener = TcpListener::bind("127.1.0.5:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let outcome = tcp_socket("127.1.0.5", addr.port(), Duration::from_secs(5)).await;
    assert_eq!(outcome, ProbeOutcome::success(""));
    // The probe really connected: the connection is waiting in the accept queue.
    let accepted = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
    assert!(matches!(accepted, Ok(Ok(_))));
}

#[tokio::test]
async fn closed_port_is_refused() {
    let addr = closed_port("127.1.0.5").await;
    let outcome = tcp_socket("127.1.0.5", addr.port(), Duration::from_secs(5)).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(format!("dial tcp {addr}: connect: connection refused"))
    );
}

#[tokio::test]
async fn hanging_connect_is_an_io_timeout() {
    let Some(saturated) = saturated_listener().await else {
        eprintln!("skipped: cannot make connects hang on this loopback");
        return;
    };
    let timeout = Duration::from_millis(400);
    let started = Instant::now();
    let outcome = tcp_socket("127.0.0.1", saturated.addr.port(), timeout).await;
    let elapsed = started.elapsed();
    assert_eq!(
        outcome,
        ProbeOutcome::failure(format!("dial tcp {}: i/o timeout", saturated.addr))
    );
    assert!(elapsed >= timeout, "returned early: {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(3),
        "returned late: {elapsed:?}"
    );
}

#[tokio::test]
async fn unknown_host_is_a_lookup_failure() {
    let outcome = tcp_socket("no-such-host.invalid", 80, Duration::from_secs(5)).await;
    assert!(
        outcome
            .output
            .starts_with("dial tcp: lookup no-such-host.invalid")
            && outcome.output.ends_with(": no such host"),
        "{outcome:?}"
    );
}
