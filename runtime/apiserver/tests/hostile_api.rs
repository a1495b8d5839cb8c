//! Hostile requests against the real server over loopback HTTP: malformed bodies, wrong
//! media types, oversized and endless bodies, bogus selectors and patches, absurd watch
//! parameters. Each gets a `kind: Status` error with kube-apiserver's code and reason,
//! and the server keeps answering afterwards.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wasmpod_apiserver::{ApiOptions, MAX_REQUEST_BODY_BYTES};

const PODS: &str = "/api/v1/namespaces/default/pods";
const TOO_LARGE: &str = "Request entity too large: limit is 3145728";

/// Checks `reply` is a Failure `Status` with `code` (also the HTTP status) and `reason`;
/// returns its message.
fn status_of(reply: &Reply, code: u16, reason: &str) -> String {
    assert_eq!(reply.status, code, "{}", reply.body);
    let status = reply.json();
    assert_eq!(status["kind"], "Status", "{status}");
    assert_eq!(status["apiVersion"], "v1");
    assert_eq!(status["status"], "Failure");
    assert_eq!(status["code"], code);
    assert_eq!(status["reason"], reason, "{status}");
    let message = status["message"].as_str().unwrap_or_default().to_string();
    assert!(!message.is_empty(), "{status}");
    message
}

/// The server still lists pods normally.
async fn assert_alive(address: std::net::SocketAddr) {
    let reply = call(address, "GET", PODS, &[], "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["kind"], "PodList");
}

/// `call` that fails instead of hanging if the server streams (e.g. starts a watch).
async fn call_bounded(address: std::net::SocketAddr, path: &str) -> Reply {
    tokio::time::timeout(Duration::from_secs(20), call(address, "GET", path, &[], ""))
        .await
        .unwrap_or_else(|_| panic!("GET {path} did not complete"))
}

fn query(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn malformed_bodies_and_wrong_media_types() {
    let t = start(ApiOptions::default()).await;
    let json_type = [("content-type", "application/json")];
    for body in [
        "{\"apiVersion\":",
        "not json",
        "\u{0}\u{1}",
        "[1, 2",
        "{\"a\": 1e400}",
    ] {
        let reply = call(t.address, "POST", PODS, &json_type, body).await;
        let message = status_of(&reply, 400, "BadRequest");
        assert!(
            message.starts_with("couldn't get version/kind; json parse error: "),
            "{message}"
        );
    }
    // Nested beyond the decoder's recursion limit: an error, not a stack overflow.
    let deep = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let reply = call(t.address, "POST", PODS, &json_type, &deep).await;
    assert!(status_of(&reply, 400, "BadRequest").contains("recursion limit exceeded"));
    // Valid JSON that is not an object, or not a Pod.
    for body in ["[]", "42", "null", "{\"kind\": 7}"] {
        let reply = call(t.address, "POST", PODS, &json_type, body).await;
        assert!(
            (400..500).contains(&reply.status),
            "{body}: {} {}",
            reply.status,
            reply.body
        );
        assert_eq!(reply.json()["kind"], "Status");
    }
    let yaml = call(
        t.address,
        "POST",
        PODS,
        &[("content-type", "application/yaml")],
        "a: [",
    )
    .await;
    assert!(status_of(&yaml, 400, "BadRequest")
        .starts_with("couldn't get version/kind; yaml parse error: "));

    for content_type in [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
    ] {
        let reply = call(
            t.address,
            "POST",
            PODS,
            &[("content-type", content_type)],
            &pod("x", json!({})).to_string(),
        )
        .await;
        assert_eq!(
            status_of(&reply, 415, "UnsupportedMediaType"),
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf"
        );
    }
    assert_alive(t.address).await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let t = start(ApiOptions::default()).await;
    // Exactly at the limit is read (and then fails as JSON); one byte more is refused.
    let at_limit = " ".repeat(MAX_REQUEST_BODY_BYTES);
    let reply = call(
        t.address,
        "POST",
        PODS,
        &[("content-type", "application/json")],
        &at_limit,
    )
    .await;
    status_of(&reply, 400, "BadRequest");
    let mut big = pod("big", json!({}));
    big["metadata"]["annotations"] = json!({"a": "x".repeat(MAX_REQUEST_BODY_BYTES)});
    let body = big.to_string();
    for method in ["POST", "PUT", "PATCH"] {
        let path = if method == "POST" {
            PODS.to_string()
        } else {
            format!("{PODS}/big")
        };
        let content_type = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let reply = call(
            t.address,
            method,
            &path,
            &[("content-type", content_type)],
            &body,
        )
        .await;
        assert_eq!(status_of(&reply, 413, "RequestEntityTooLarge"), TOO_LARGE);
    }
    assert_alive(t.address).await;
}

/// Sends a request head then `total` bytes of body (chunked when `chunked`, else with a
/// matching Content-Length) while reading the response. Returns the response and how many
/// body bytes had been sent when its head arrived.
async fn stream_body(
    address: std::net::SocketAddr,
    chunked: bool,
    total: usize,
) -> (String, usize) {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {total}")
    };
    let head = format!(
        "POST {PODS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sending = {
        let (sent, stop) = (sent.clone(), stop.clone());
        tokio::spawn(async move {
            let chunk = vec![b' '; 64 * 1024];
            let chunk_head = format!("{:x}\r\n", chunk.len());
            while sent.load(Ordering::SeqCst) < total && !stop.load(Ordering::SeqCst) {
                let result = if chunked {
                    let mut framed = chunk_head.clone().into_bytes();
                    framed.extend_from_slice(&chunk);
                    framed.extend_from_slice(b"\r\n");
                    writer.write_all(&framed).await
                } else {
                    writer.write_all(&chunk).await
                };
                // The server may close its side once it has answered.
                if result.is_err() {
                    return;
                }
                sent.fetch_add(chunk.len(), Ordering::SeqCst);
            }
        })
    };
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let read_head = async {
        while !response.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = reader.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed without a response");
            response.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read_head)
        .await
        .expect("no response within 60s");
    let sent_at_response = sent.load(Ordering::SeqCst);
    // The rest of a small JSON Status body.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while !response.ends_with(b"\n") {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => response.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    sending.abort();
    (
        String::from_utf8_lossy(&response).into_owned(),
        sent_at_response,
    )
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn a_100_mib_body_gets_413_without_being_read() {
    let t = start(ApiOptions::default()).await;
    const HUNDRED_MIB: usize = 100 << 20;
    let rss_before = rss_kib();
    for chunked in [true, false] {
        let (response, sent) = stream_body(t.address, chunked, HUNDRED_MIB).await;
        assert!(
            response.starts_with("HTTP/1.1 413 "),
            "chunked={chunked}: {response}"
        );
        assert!(response.contains(TOO_LARGE), "{response}");
        assert!(response.contains("\"reason\":\"RequestEntityTooLarge\""));
        // Declared lengths are refused before reading; chunked bodies after the limit.
        assert!(
            sent < HUNDRED_MIB / 2,
            "chunked={chunked}: {sent} bytes were sent before the answer"
        );
    }
    if let (Some(before), Some(after)) = (rss_before, rss_kib()) {
        assert!(
            after.saturating_sub(before) < 64 * 1024,
            "RSS grew from {before} KiB to {after} KiB"
        );
    }
    assert_alive(t.address).await;
}

#[tokio::test]
async fn bogus_selectors_are_400_with_kubernetes_messages() {
    let t = start(ApiOptions::default()).await;
    let labels = [
        "a in",
        "a in (",
        "a in ()",
        "!",
        "a=b=c",
        "a b",
        "=x",
        "a,,b",
        "a!",
        "a=(b)",
        "-leading=x",
        "a=\u{0}",
        "toolong/",
        "x in (a,b",
        "a notin b",
    ];
    for selector in labels {
        let expected = wasmpod_apimachinery::Selector::parse(selector)
            .err()
            .map(|e| e.to_string());
        let reply = call(
            t.address,
            "GET",
            &format!("{PODS}?labelSelector={}", query(selector)),
            &[],
            "",
        )
        .await;
        match expected {
            Some(message) => assert_eq!(status_of(&reply, 400, "BadRequest"), message),
            None => assert_eq!(reply.status, 200, "{selector}: {}", reply.body),
        }
    }
    let fields = [
        ("foo=bar", "field label not supported: foo"),
        ("a", "invalid selector: 'a'; can't understand 'a'"),
        (
            "metadata.name=a\\qb",
            "invalid field selector: invalid escape sequence: \\q",
        ),
        (
            "status.phase==Running,spec.nodeName=\\",
            "invalid field selector: invalid escape sequence: \\",
        ),
    ];
    for (selector, message) in fields {
        let path = format!("{PODS}?fieldSelector={}", query(selector));
        let reply = call(t.address, "GET", &path, &[], "").await;
        assert_eq!(status_of(&reply, 400, "BadRequest"), message, "{selector}");
        // The same for a watch.
        let reply = call(t.address, "GET", &format!("{path}&watch=true"), &[], "").await;
        assert_eq!(status_of(&reply, 400, "BadRequest"), message, "{selector}");
    }
    let long = format!("a in ({})", vec!["v"; 5_000].join(","));
    let reply = call(
        t.address,
        "GET",
        &format!("{PODS}?labelSelector={}", query(&long)),
        &[],
        "",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_alive(t.address).await;
}

#[tokio::test]
async fn bogus_patches_of_every_type_leave_the_object_alone() {
    let t = start(ApiOptions::default()).await;
    let created = json_call(t.address, "POST", PODS, &pod("p", json!({"app": "p"}))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let before = created.json();
    let path = format!("{PODS}/p");
    let deep = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let bodies: &[(&str, &[&str])] = &[
        (
            "application/strategic-merge-patch+json",
            &[
                "not json",
                "[1, 2]",
                "\"text\"",
                "{\"spec\": {\"containers\": [{\"$patch\": \"delete\"}]}}",
                "{\"spec\": {\"containers\": {\"name\": \"x\"}}}",
                "{\"$patch\": \"bogus\"}",
                "{\"spec\": {\"containers\": [{\"name\": \"app\", \"image\": 7}]}}",
                "{\"metadata\": {\"name\": \"renamed\"}}",
                &deep,
            ],
        ),
        (
            "application/merge-patch+json",
            &[
                "{\"spec\": ",
                "{\"spec\": \"x\"}",
                "{\"spec\": {\"containers\": null}}",
                "{\"metadata\": {\"labels\": {\"bad key!\": \"v\"}}}",
                "{\"spec\": {\"containers\": [{\"name\": \"app\", \"image\": \"i\", \"ports\": [{\"containerPort\": -1}]}]}}",
                &deep,
            ],
        ),
        (
            "application/json-patch+json",
            &[
                "{\"op\": \"add\"}",
                "[{\"op\": \"bogus\", \"path\": \"/x\"}]",
                "[{\"op\": \"remove\", \"path\": \"/nope/deeper\"}]",
                "[{\"op\": \"replace\", \"path\": \"/spec/containers/99/image\", \"value\": \"x\"}]",
                "[{\"op\": \"test\", \"path\": \"/metadata/name\", \"value\": \"other\"}]",
                "[{\"op\": \"add\", \"path\": \"/spec/containers/-1x\", \"value\": 1}]",
                "[{\"op\": \"move\", \"from\": \"/spec\", \"path\": \"/spec/child\"}]",
                "[{\"op\": \"replace\", \"path\": \"/spec\", \"value\": 5}]",
                "[null]",
                &deep,
            ],
        ),
    ];
    for (content_type, patches) in bodies {
        for patch in *patches {
            let reply = call(
                t.address,
                "PATCH",
                &path,
                &[("content-type", content_type)],
                patch,
            )
            .await;
            assert!(
                (400..=500).contains(&reply.status) && reply.status != 404,
                "{content_type} {patch:.80}: {} {}",
                reply.status,
                reply.body
            );
            let status = reply.json();
            assert_eq!(status["kind"], "Status", "{status}");
            assert_eq!(status["code"], reply.status);
            assert!(
                !status["reason"].as_str().unwrap_or_default().is_empty(),
                "{status}"
            );
        }
    }
    // Odd but harmless directives are ignored by Go's strategic merge, as here: a no-op
    // patch answers 200 and writes nothing (the resourceVersion stays).
    for patch in [
        "{\"metadata\": {\"$deleteFromPrimitiveList/finalizers\": 3}}",
        "{\"metadata\": {\"$deleteFromPrimitiveList/labels\": [\"app\"]}}",
        "{\"spec\": {\"$setElementOrder/containers\": [{\"name\": \"nope\"}]}}",
    ] {
        let content_type = "application/strategic-merge-patch+json";
        let reply = call(
            t.address,
            "PATCH",
            &path,
            &[("content-type", content_type)],
            patch,
        )
        .await;
        assert_eq!(reply.status, 200, "{patch}: {}", reply.body);
        assert_eq!(
            reply.json()["metadata"]["resourceVersion"],
            before["metadata"]["resourceVersion"],
            "{patch}"
        );
    }
    for content_type in [
        "application/json",
        "text/plain",
        "application/apply-patch+yaml",
    ] {
        let reply = call(
            t.address,
            "PATCH",
            &path,
            &[("content-type", content_type)],
            "{}",
        )
        .await;
        assert!(status_of(&reply, 415, "UnsupportedMediaType").starts_with(
            "the body of the request was in an unknown format - accepted media types include: "
        ));
    }
    let after = call(t.address, "GET", &path, &[], "").await.json();
    assert_eq!(
        after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"],
        "a refused patch changed the pod"
    );
    assert_eq!(after["spec"], before["spec"]);
}

#[tokio::test]
async fn absurd_list_and_watch_parameters() {
    let t = start(ApiOptions::default()).await;
    let bad_int = |name: &str, value: &str, reason: &str| {
        (
            format!("{name}={value}"),
            format!("strconv.ParseInt: parsing \"{value}\": {reason}"),
        )
    };
    let cases = [
        bad_int("limit", "abc", "invalid syntax"),
        bad_int("limit", "99999999999999999999", "value out of range"),
        bad_int("timeoutSeconds", "1.5", "invalid syntax"),
        bad_int(
            "timeoutSeconds",
            "-99999999999999999999",
            "value out of range",
        ),
    ];
    for (params, message) in &cases {
        for watch in ["", "&watch=true"] {
            let reply = call_bounded(t.address, &format!("{PODS}?{params}{watch}")).await;
            assert_eq!(
                &status_of(&reply, 400, "BadRequest"),
                message,
                "{params}{watch}"
            );
        }
    }
    let reply = call(t.address, "GET", &format!("{PODS}?watch=maybe"), &[], "").await;
    assert_eq!(
        status_of(&reply, 400, "BadRequest"),
        "strconv.ParseBool: parsing \"maybe\": invalid syntax"
    );
    for rv in ["abc", "-1x", "99999999999999999999999"] {
        let reply = call_bounded(
            t.address,
            &format!("{PODS}?watch=true&resourceVersion={rv}"),
        )
        .await;
        assert!(
            (400..500).contains(&reply.status),
            "{rv}: {} {}",
            reply.status,
            reply.body
        );
        assert_eq!(reply.json()["kind"], "Status");
        assert!(reply.json()["message"].as_str().unwrap().contains(rv));
    }
    let token = |json: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    };
    let continue_tokens = [
        ("!!!".to_string(), None),
        (token("{}"), None),
        (
            token(r#"{"v":"meta.k8s.io/v1","rv":0,"start":"a"}"#),
            Some("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"),
        ),
        (
            token(r#"{"v":"meta.k8s.io/v1","rv":-1,"start":""}"#),
            Some("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)"),
        ),
        (
            token(r#"{"v":"v2","rv":5,"start":"a"}"#),
            Some(r#"continue key is not valid: server and client encoded versions don't match server: "meta.k8s.io/v1", client: "v2""#),
        ),
    ];
    for (continue_token, detail) in continue_tokens {
        let reply = call_bounded(
            t.address,
            &format!("{PODS}?limit=1&continue={continue_token}"),
        )
        .await;
        let message = status_of(&reply, 400, "BadRequest");
        match detail {
            Some(detail) => assert_eq!(message, format!("invalid continue token: {detail}")),
            None => assert!(message.starts_with("invalid continue token: "), "{message}"),
        }
    }

    // Extreme but well-formed limits: negative means no limit (like kube), huge is fine.
    for i in 0..3 {
        let created = json_call(t.address, "POST", PODS, &pod(&format!("p{i}"), json!({}))).await;
        assert_eq!(created.status, 201);
    }
    for limit in ["-5", "9223372036854775807", "-9223372036854775808"] {
        let reply = call(t.address, "GET", &format!("{PODS}?limit={limit}"), &[], "").await;
        assert_eq!(reply.status, 200, "limit={limit}: {}", reply.body);
        assert_eq!(reply.json()["items"].as_array().unwrap().len(), 3);
    }
    assert_alive(t.address).await;
}

#[tokio::test]
async fn watch_timeouts_follow_go_duration_arithmetic() {
    let t = start(ApiOptions::default()).await;
    // ~31.7 years: the watch stays open and delivers events.
    let mut long = stream(
        t.address,
        &format!("{PODS}?watch=true&resourceVersion=1&timeoutSeconds=1000000000"),
        &[],
    )
    .await;
    assert_eq!(long.status, 200);
    let created = json_call(t.address, "POST", PODS, &pod("w", json!({}))).await;
    assert_eq!(created.status, 201);
    let event = long
        .next(Duration::from_secs(10))
        .await
        .expect("the long watch ended early");
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["metadata"]["name"], "w");

    // Negative, and i64::MAX seconds (Go's Duration multiplication wraps to -1s): the
    // timer fires at once, so the stream ends right away, without an error.
    for seconds in ["-5", "9223372036854775807"] {
        let path = format!("{PODS}?watch=true&resourceVersion=1000&timeoutSeconds={seconds}");
        let mut short = stream(t.address, &path, &[]).await;
        assert_eq!(short.status, 200);
        assert_eq!(
            short.next(Duration::from_secs(10)).await,
            None::<Value>,
            "timeoutSeconds={seconds}"
        );
    }
    assert_alive(t.address).await;
}
