//! `http_get` against real loopback servers.

mod support;

use std::time::{Duration, Instant};

use support::{http_get, probe_request, response, saturated_listener, Reply, Server};
use wasmpod_probe::{ProbeOutcome, ProbeResult, MAX_RESPONSE_BODY_BYTES};

const TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn status_200_is_success_with_the_body_as_output() {
    let server = Server::start("127.0.0.1", |_| {
        Reply::Bytes(response("200 OK", &[], b"all good"))
    })
    .await;
    let outcome = http_get(&probe_request(server.addr, "/healthz", &[]), TIMEOUT).await;
    assert_eq!(outcome, ProbeOutcome::success("all good"));
}

#[tokio::test]
async fn status_500_is_failure_without_the_body() {
    let server = Server::start("127.0.0.1", |_| {
        Reply::Bytes(response("500 Internal Server Error", &[], b"secret"))
    })
    .await;
    let outcome = http_get(&probe_request(server.addr, "/healthz", &[]), TIMEOUT).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure("HTTP probe failed with statuscode: 500")
    );
}

#[tokio::test]
async fn default_headers_are_written_like_go() {
    let mut server = Server::start("127.0.0.1", |_| {
        Reply::Bytes(response("204 No Content", &[], b""))
    })
    .await;
    let outcome = http_get(&probe_request(server.addr, "/healthz?x=1", &[]), TIMEOUT).await;
    assert_eq!(outcome.result, ProbeResult::Success);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].head,
        format!(
            "GET /healthz?x=1 HTTP/1.1\r\nHost: {}\r\nUser-Agent: kube-probe/1.33\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            server.addr
        )
    );
}

#[tokio::test]
async fn user_headers_override_defaults_and_repeat_in_order() {
    let mut server =
        Server::start("127.0.0.1", |_| Reply::Bytes(response("200 OK", &[], b""))).await;
    let request = probe_request(
        server.addr,
        "/",
        &[
            ("x-custom", "a"),
            ("Host", "example.test"),
            ("X-CUSTOM", "b"),
            ("Accept", "text/plain"),
            ("user-agent", "my-agent"),
        ],
    );
    assert_eq!(
        http_get(&request, TIMEOUT).await.result,
        ProbeResult::Success
    );
    let requests = server.requests();
    assert_eq!(
        requests[0].head,
        "GET / HTTP/1.1\r\nHost: example.test\r\nUser-Agent: my-agent\r\nAccept: text/plain\r\nX-Custom: a\r\nX-Custom: b\r\nConnection: close\r\n\r\n"
    );
}

#[tokio::test]
async fn empty_accept_removes_the_header() {
    let mut server =
        Server::start("127.0.0.1", |_| Reply::Bytes(response("200 OK", &[], b""))).await;
    let request = probe_request(server.addr, "/", &[("Accept", "")]);
    assert_eq!(
        http_get(&request, TIMEOUT).await.result,
        ProbeResult::Success
    );
    let requests = server.requests();
    assert!(
        requests[0].header("Accept").is_empty(),
        "{}",
        requests[0].head
    );
    assert!(requests[0].header("Accept-Encoding").is_empty());
}

#[tokio::test]
async fn same_host_redirect_is_followed_with_a_referer() {
    let mut server = Server::start("127.0.0.1", |seen| match seen.target() {
        "/start" => Reply::Bytes(response("302 Found", &[("Location", "/ok")], b"moved")),
        _ => Reply::Bytes(response("200 OK", &[], b"arrived")),
    })
    .await;
    let outcome = http_get(&probe_request(server.addr, "/start", &[]), TIMEOUT).await;
    assert_eq!(outcome, ProbeOutcome::success("arrived"));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].target(), "/ok");
    assert_eq!(requests[1].header("Referer"), vec![server.url("/start")]);
    assert_eq!(requests[1].header("User-Agent"), vec!["kube-probe/1.33"]);
}

#[tokio::test]
async fn same_hostname_on_another_port_is_followed() {
    let mut target = Server::start("127.0.0.1", |_| {
        Reply::Bytes(response("200 OK", &[], b"other port"))
    })
    .await;
    let location = target.url("/there");
    let origin = Server::start("127.0.0.1", move |_| {
        Reply::Bytes(response(
            "307 Temporary Redirect",
            &[("Location", &location)],
            b"",
        ))
    })
    .await;
    let outcome = http_get(&probe_request(origin.addr, "/here", &[]), TIMEOUT).await;
    assert_eq!(outcome, ProbeOutcome::success("other port"));
    let requests = target.requests();
    assert_eq!(
        requests[0].header("Host"),
        vec![target.addr.to_string()],
        "absolute redirects use the new URL's host"
    );
}

#[tokio::test]
async fn redirect_to_another_hostname_is_a_warning_and_not_followed() {
    let mut elsewhere = Server::start("127.0.0.2", |_| {
        Reply::Bytes(response("200 OK", &[], b"should not be reached"))
    })
    .await;
    let location = elsewhere.url("/x");
    let origin = Server::start("127.0.0.1", move |_| {
        Reply::Bytes(response(
            "302 Found",
            &[("Location", &location)],
            b"moved away",
        ))
    })
    .await;
    let outcome = http_get(&probe_request(origin.addr, "/", &[]), TIMEOUT).await;
    assert_eq!(
        outcome,
        ProbeOutcome::warning("Probe terminated redirects, Response body: moved away")
    );
    assert!(elsewhere.requests().is_empty());
}

#[tokio::test]
async fn redirect_without_location_is_a_warning() {
    let server = Server::start("127.0.0.1", |_| {
        Reply::Bytes(response("301 Moved Permanently", &[], b""))
    })
    .await;
    let outcome = http_get(&probe_request(server.addr, "/", &[]), TIMEOUT).await;
    assert_eq!(
        outcome,
        ProbeOutcome::warning("Probe terminated redirects, Response body: ")
    );
}

#[tokio::test]
async fn redirect_loop_stops_after_ten_requests_naming_the_location() {
    let mut server = Server::start("127.0.0.1", |_| {
        Reply::Bytes(response("302 Found", &[("Location", "/loop")], b""))
    })
    .await;
    let outcome = http_get(&probe_request(server.addr, "/loop", &[]), TIMEOUT).await;
    // Go's client reports the raw Location value, not the original URL.
    assert_eq!(
        outcome,
        ProbeOutcome::failure(r#"Get "/loop": stopped after 10 redirects"#)
    );
    assert_eq!(server.requests().len(), 10);
}

#[tokio::test]
async fn nine_redirects_then_success_is_within_the_limit() {
    let mut server = Server::start("127.0.0.1", |seen| {
        let hop: u32 = seen
            .target()
            .trim_start_matches("/hop/")
            .parse()
            .unwrap_or(0);
        if hop < 9 {
            let location = format!("/hop/{}", hop + 1);
            Reply::Bytes(response(
                "301 Moved Permanently",
                &[("Location", &location)],
                b"",
            ))
        } else {
            Reply::Bytes(response("200 OK", &[], b"made it"))
        }
    })
    .await;
    let outcome = http_get(&probe_request(server.addr, "/hop/0", &[]), TIMEOUT).await;
    assert_eq!(outcome, ProbeOutcome::success("made it"));
    assert_eq!(server.requests().len(), 10);
}

#[tokio::test]
async fn body_is_capped_at_ten_kib() {
    let server = Server::start("127.0.0.1", |_| {
        Reply::Bytes(response("200 OK", &[], &[b'a'; 20_000]))
    })
    .await;
    let outcome = http_get(&probe_request(server.addr, "/", &[]), TIMEOUT).await;
    assert_eq!(outcome.result, ProbeResult::Success);
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.output, "a".repeat(MAX_RESPONSE_BODY_BYTES));
}

#[tokio::test]
async fn reading_stops_at_the_cap_even_if_the_rest_never_comes() {
    let server = Server::start("127.0.0.1", |_| {
        let mut partial = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".to_vec();
        partial.extend_from_slice(&[b'b'; 12_000]);
        Reply::BytesThenHang(partial)
    })
    .await;
    let started = Instant::now();
    let outcome = http_get(&probe_request(server.addr, "/", &[]), TIMEOUT).await;
    assert_eq!(outcome.output.len(), MAX_RESPONSE_BODY_BYTES);
    assert_eq!(outcome.result, ProbeResult::Success);
    assert!(started.elapsed() < TIMEOUT);
}

#[tokio::test]
async fn connection_refused_is_a_failure_with_go_text() {
    let addr = support::closed_port("127.1.0.5").await;
    let request = probe_request(addr, "/healthz", &[]);
    let outcome = http_get(&request, TIMEOUT).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(format!(
            r#"Get "http://{addr}/healthz": dial tcp {addr}: connect: connection refused"#
        ))
    );
}

#[tokio::test]
async fn silent_server_times_out_awaiting_headers() {
    let server = Server::start("127.0.0.1", |_| Reply::Hang).await;
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let outcome = http_get(&probe_request(server.addr, "/healthz", &[]), timeout).await;
    let elapsed = started.elapsed();
    assert_eq!(
        outcome,
        ProbeOutcome::failure(format!(
            r#"Get "{}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"#,
            server.url("/healthz")
        ))
    );
    assert!(elapsed >= timeout, "returned early: {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(3),
        "returned late: {elapsed:?}"
    );
}

#[tokio::test]
async fn stalled_body_is_a_probe_error() {
    let server = Server::start("127.0.0.1", |_| {
        Reply::BytesThenHang(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial".to_vec())
    })
    .await;
    let outcome = http_get(
        &probe_request(server.addr, "/", &[]),
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure_with_error(
            "context deadline exceeded (Client.Timeout or context cancellation while reading body)"
        )
    );
}

#[tokio::test]
async fn truncated_body_is_a_probe_error() {
    let server = Server::start("127.0.0.1", |_| {
        Reply::Bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial".to_vec())
    })
    .await;
    let outcome = http_get(&probe_request(server.addr, "/", &[]), TIMEOUT).await;
    assert_eq!(outcome, ProbeOutcome::failure_with_error("unexpected EOF"));
}

#[tokio::test]
async fn server_closing_without_answer_is_eof() {
    let server = Server::start("127.0.0.1", |_| Reply::Close).await;
    let outcome = http_get(&probe_request(server.addr, "/", &[]), TIMEOUT).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(format!(r#"Get "{}": EOF"#, server.url("/")))
    );
}

#[tokio::test]
async fn reset_connection_names_both_endpoints() {
    let mut server = Server::start("127.0.0.1", |_| Reply::Reset).await;
    let outcome = http_get(&probe_request(server.addr, "/", &[]), TIMEOUT).await;
    let peer = server.requests()[0].peer;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(format!(
            r#"Get "{}": read tcp {peer}->{}: read: connection reset by peer"#,
            server.url("/"),
            server.addr
        ))
    );
}

#[tokio::test]
async fn malformed_response_quotes_the_first_line() {
    let server = Server::start("127.0.0.1", |_| Reply::Bytes(b"garbage\r\n\r\n".to_vec())).await;
    let outcome = http_get(&probe_request(server.addr, "/", &[]), TIMEOUT).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(format!(
            r#"Get "{}": net/http: HTTP/1.x transport connection broken: malformed HTTP response "garbage""#,
            server.url("/")
        ))
    );
}

#[tokio::test]
async fn connect_timeout_is_reported_as_awaiting_headers() {
    let Some(saturated) = saturated_listener().await else {
        eprintln!("skipped: cannot make connects hang on this loopback");
        return;
    };
    let timeout = Duration::from_millis(400);
    let started = Instant::now();
    let outcome = http_get(&probe_request(saturated.addr, "/", &[]), timeout).await;
    assert_eq!(
        outcome,
        ProbeOutcome::failure(format!(
            r#"Get "http://{}/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"#,
            saturated.addr
        ))
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn unresolvable_port_in_the_action_is_an_error_before_probing() {
    let action = k8s_openapi::api::core::v1::HTTPGetAction {
        port: k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(0),
        ..Default::default()
    };
    let built = wasmpod_probe::HttpGetRequest::new(
        &action,
        "127.0.0.1",
        &k8s_openapi::api::core::v1::Container::default(),
    );
    assert_eq!(built, Err("invalid port number: 0".to_string()));
}
