//! The HTTP probe's response handling, through the real `http_get` path: the fuzz input
//! is what the "container" answers on an in-memory connection (the same `Connector`
//! seam wasmpod uses for simulated nodes), under a paused tokio clock so that a response
//! that never completes ends at the probe timeout without waiting in real time.
//!
//! Invariants beyond "no panic" (httparse, which hyper parses with, is the oracle):
//! * `Success` only for a complete head with a 2xx status, `Warning` only for 3xx;
//! * `HTTP probe failed with statuscode: N` only with N the status the head carries;
//! * the output never exceeds the 10 KiB body cap (after lossy UTF-8 decoding).
#![no_main]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wasmpod_probe::{
    http_get, ConnectFuture, Connection, Connector, HttpGetRequest, Network, ProbeResult,
    MAX_RESPONSE_BODY_BYTES,
};

/// Every connection is answered with the same bytes, then closed.
struct CannedServer {
    response: Arc<Vec<u8>>,
}

impl Connector for CannedServer {
    fn connect(&self, addr: SocketAddr) -> ConnectFuture {
        let response = self.response.clone();
        Box::pin(async move {
            let (client, mut server) = tokio::io::duplex(64 * 1024);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                // Read the request head before answering, as a server would.
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match server.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = server.write_all(&response).await;
                let _ = server.shutdown().await;
            });
            let local: SocketAddr = "10.0.0.2:40000".parse().expect("literal address");
            Ok(Connection::memory(client, local, addr))
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let request = HttpGetRequest {
        url_scheme: "http".into(),
        host: "10.0.0.1".into(),
        port: 8080,
        path_and_query: "/healthz".into(),
        headers: vec![
            ("User-Agent".into(), "kube-probe/1.33".into()),
            ("Accept".into(), "*/*".into()),
        ],
    };
    let network = Network::custom(Arc::new(CannedServer {
        response: Arc::new(data.to_vec()),
    }));
    let outcome =
        runtime.block_on(async { http_get(&request, Duration::from_secs(1), &network).await });

    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut head = httparse::Response::new(&mut headers);
    let status = match head.parse(data) {
        Ok(httparse::Status::Complete(_)) => head.code,
        _ => None,
    };
    // hyper skips 1xx interim responses; the final status is then further on.
    let status = status.filter(|code| *code >= 200);
    match outcome.result {
        ProbeResult::Success => {
            assert!(
                status.is_none_or(|code| (200..300).contains(&code)),
                "success for status {status:?}: {outcome:?}"
            );
            assert!(outcome.output.len() <= 3 * MAX_RESPONSE_BODY_BYTES);
        }
        ProbeResult::Warning => {
            assert!(
                status.is_none_or(|code| (300..400).contains(&code)),
                "{outcome:?}"
            );
        }
        ProbeResult::Failure => {
            if let (Some(code), Some(text)) = (
                status,
                outcome
                    .output
                    .strip_prefix("HTTP probe failed with statuscode: "),
            ) {
                assert_eq!(text, code.to_string(), "{outcome:?}");
            }
        }
        ProbeResult::Unknown => panic!("a built request never yields Unknown: {outcome:?}"),
    }
});
