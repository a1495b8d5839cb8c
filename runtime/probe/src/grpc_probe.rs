//! `pkg/probe/grpc` `Probe`: `grpc.health.v1.Health/Check` over cleartext HTTP/2 with a
//! blocking dial; every problem is a probe *failure* whose output mimics grpc-go.

use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Incoming};
use k8s_openapi::api::core::v1::GRPCAction;
use tokio::time::{timeout_at, Instant};

use crate::go_duration::go_duration;
use crate::go_text::go_quote;
use crate::grpc_connect::{connect_blocking, GrpcChannel};
use crate::grpc_status::{
    check_response_headers, encode_grpc_timeout, status_from_trailers, Code, RpcStatus,
};
use crate::grpc_wire::{
    decode_health_check_response, framed_health_check_request, read_frame, serving_status_name,
    FrameRead, HEALTH_CHECK_PATH, MAX_RECEIVE_MESSAGE_BYTES, SERVING,
};
use crate::network::Network;
use crate::outcome::ProbeOutcome;
use crate::probe_url::join_host_port;

/// `grpc.WithUserAgent("kube-probe/1.33")`: grpc-go appends its own
/// `grpc-go/<version>`; 1.68.1 is the grpc-go that Kubernetes 1.33 vendors.
pub const GRPC_PROBE_USER_AGENT: &str = "kube-probe/1.33 grpc-go/1.68.1";

/// Where the kubelet sends a `grpc` probe: always the pod IP (the host cannot be
/// overridden), the action's port, and its service name (`""` when unset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcProbeTarget {
    pub host: String,
    pub port: u16,
    pub service: String,
}

/// API validation keeps `port` in 1..=65535; anything else is reported like
/// `resolve_port` does (`invalid port number: <n>`).
pub fn grpc_target(action: &GRPCAction, pod_ip: &str) -> Result<GrpcProbeTarget, String> {
    let port = u16::try_from(action.port)
        .ok()
        .filter(|port| *port > 0)
        .ok_or_else(|| format!("invalid port number: {}", action.port))?;
    Ok(GrpcProbeTarget {
        host: pod_ip.to_string(),
        port,
        service: action.service.clone().unwrap_or_default(),
    })
}

/// Runs one gRPC health probe; `timeout` bounds dial and RPC together, like the
/// kubelet's single `context.WithTimeout`.
pub async fn grpc(
    host: &str,
    port: u16,
    service: &str,
    timeout: Duration,
    network: &Network,
) -> ProbeOutcome {
    let deadline = Instant::now() + timeout;
    let addr = join_host_port(host, port);
    let Some(channel) = connect_blocking(host, port, deadline, network).await else {
        // A blocking dial only ever ends with the context's error, whatever the cause
        // (refused, not HTTP/2, no answer): `context.DeadlineExceeded`.
        return ProbeOutcome::failure(format!(
            "timeout: failed to connect service {} within {}: context deadline exceeded",
            go_quote(&addr),
            go_duration(timeout)
        ));
    };
    let reply = match timeout_at(deadline, health_check(channel, &addr, service, deadline)).await {
        Ok(reply) => reply,
        Err(_) => Err(RpcError::Status(RpcStatus::new(
            Code::DEADLINE_EXCEEDED,
            "context deadline exceeded",
        ))),
    };
    match reply {
        Ok(SERVING) => ProbeOutcome::success("service healthy"),
        Ok(status) => ProbeOutcome::failure(format!(
            "service unhealthy (responded with {})",
            go_quote(&serving_status_name(status))
        )),
        Err(RpcError::Status(status)) if status.code == Code::UNIMPLEMENTED => {
            ProbeOutcome::failure(format!(
                "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): {}",
                status.message
            ))
        }
        Err(RpcError::Status(status)) if status.code == Code::DEADLINE_EXCEEDED => {
            ProbeOutcome::failure(format!(
                "timeout: health rpc did not complete within {}",
                go_duration(timeout)
            ))
        }
        Err(error) => {
            ProbeOutcome::failure(format!("error: health rpc probe failed: {}", error.text()))
        }
    }
}

/// What `client.Check` returns as its error.
#[derive(Debug)]
enum RpcError {
    Status(RpcStatus),
    /// A plain Go error (not a status), e.g. `io.EOF`.
    Plain(&'static str),
}

impl RpcError {
    fn text(&self) -> String {
        match self {
            RpcError::Status(status) => status.error_text(),
            RpcError::Plain(text) => (*text).to_string(),
        }
    }

    fn internal(message: impl Into<String>) -> Self {
        RpcError::Status(RpcStatus::new(Code::INTERNAL, message))
    }
}

async fn health_check(
    mut channel: GrpcChannel,
    authority: &str,
    service: &str,
    deadline: Instant,
) -> Result<i32, RpcError> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let request = Request::builder()
        .method(Method::POST)
        .version(Version::HTTP_2)
        .uri(format!("http://{authority}{HEALTH_CHECK_PATH}"))
        .header(header::CONTENT_TYPE, "application/grpc")
        .header(header::USER_AGENT, GRPC_PROBE_USER_AGENT)
        .header(header::TE, "trailers")
        .header("grpc-timeout", encode_grpc_timeout(remaining))
        .body(Full::new(Bytes::from(framed_health_check_request(service))))
        .map_err(|error| RpcError::internal(error.to_string()))?;
    let response = channel
        .sender
        .send_request(request)
        .await
        .map_err(|error| transport_error(&error))?;
    let (head, body) = response.into_parts();
    check_response_headers(head.status.as_u16(), &head.headers).map_err(RpcError::Status)?;
    if body.is_end_stream() {
        // Trailers-only: the status came with the headers, and no message.
        return Err(end_without_message(status_from_trailers(&head.headers)));
    }
    let encoding = head
        .headers
        .get("grpc-encoding")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    read_unary_reply(body, encoding.as_deref()).await
}

/// Reads the one response message and the final status, checking in grpc-go's order.
async fn read_unary_reply(mut body: Incoming, encoding: Option<&str>) -> Result<i32, RpcError> {
    let mut received: Vec<u8> = Vec::new();
    let mut reply: Option<i32> = None;
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| transport_error(&error))?;
        let frame = match frame.into_data() {
            Ok(data) => {
                received.extend_from_slice(&data);
                if reply.is_none() {
                    reply = take_first_message(&mut received, encoding)?;
                } else if let FrameRead::Message { .. } = read_frame(&received) {
                    return Err(RpcError::internal(
                        "grpc: client streaming protocol violation: get <nil>, want <EOF>",
                    ));
                }
                continue;
            }
            Err(frame) => frame,
        };
        if let Ok(map) = frame.into_trailers() {
            trailers = Some(map);
        }
    }
    let status = match trailers {
        Some(map) => status_from_trailers(&map),
        None => RpcStatus::new(
            Code::INTERNAL,
            "server closed the stream without sending trailers",
        ),
    };
    if !received.is_empty() {
        // A frame cut short by the end of the stream.
        return Err(RpcError::internal("unexpected EOF"));
    }
    match reply {
        Some(value) if status.code == Code::OK => Ok(value),
        Some(_) => Err(RpcError::Status(status)),
        None => Err(end_without_message(status)),
    }
}

/// The stream ended before any message: its status if not OK, else `io.EOF`.
fn end_without_message(status: RpcStatus) -> RpcError {
    if status.code == Code::OK {
        RpcError::Plain("EOF")
    } else {
        RpcError::Status(status)
    }
}

/// Decodes the first message once it is complete; the frame is removed from `received`.
fn take_first_message(
    received: &mut Vec<u8>,
    encoding: Option<&str>,
) -> Result<Option<i32>, RpcError> {
    if let Some(header) = received.get(..5) {
        let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        if length > MAX_RECEIVE_MESSAGE_BYTES {
            return Err(RpcError::Status(RpcStatus::new(
                Code::RESOURCE_EXHAUSTED,
                format!(
                    "grpc: received message larger than max ({length} vs. {MAX_RECEIVE_MESSAGE_BYTES})"
                ),
            )));
        }
    }
    let FrameRead::Message {
        compressed_flag,
        declared_length,
        payload,
        ..
    } = read_frame(received)
    else {
        return Ok(None);
    };
    match compressed_flag {
        0 => {}
        1 => {
            return Err(match encoding {
                None | Some("") | Some("identity") => {
                    RpcError::internal("grpc: compressed flag set with identity or empty encoding")
                }
                Some(other) => RpcError::Status(RpcStatus::new(
                    Code::UNIMPLEMENTED,
                    format!(
                        "grpc: Decompressor is not installed for grpc-encoding {}",
                        go_quote(other)
                    ),
                )),
            })
        }
        other => {
            return Err(RpcError::internal(format!(
                "grpc: received unexpected payload format {other}"
            )))
        }
    }
    let status = decode_health_check_response(payload).map_err(|error| {
        RpcError::internal(format!(
            "grpc: failed to unmarshal the received message: {error}"
        ))
    })?;
    received.drain(..5 + declared_length);
    Ok(Some(status))
}

/// grpc-go's status for a stream or connection that failed under the RPC.
fn transport_error(error: &hyper::Error) -> RpcError {
    if let Some(reason) = stream_reset_reason(error) {
        let (code, name) = rst_stream_code(reason);
        return RpcError::Status(RpcStatus::new(
            code,
            format!("stream terminated by RST_STREAM with error code: {name}"),
        ));
    }
    // The connection went away (grpc-go: `error reading from server: <read error>`).
    RpcError::Status(RpcStatus::new(
        Code::UNAVAILABLE,
        "error reading from server: EOF",
    ))
}

fn stream_reset_reason(error: &hyper::Error) -> Option<u32> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = source {
        if let Some(h2_error) = current.downcast_ref::<h2::Error>() {
            return (h2_error.is_reset() && h2_error.is_remote())
                .then(|| h2_error.reason())
                .flatten()
                .map(u32::from);
        }
        source = current.source();
    }
    None
}

/// grpc-go `http2ErrConvTab` and Go's `http2.ErrCode.String()`.
fn rst_stream_code(reason: u32) -> (Code, String) {
    let (code, name) = match reason {
        0x0 => (Code::INTERNAL, "NO_ERROR"),
        0x1 => (Code::INTERNAL, "PROTOCOL_ERROR"),
        0x2 => (Code::INTERNAL, "INTERNAL_ERROR"),
        0x3 => (Code::RESOURCE_EXHAUSTED, "FLOW_CONTROL_ERROR"),
        0x4 => (Code::INTERNAL, "SETTINGS_TIMEOUT"),
        0x5 => (Code::INTERNAL, "STREAM_CLOSED"),
        0x6 => (Code::INTERNAL, "FRAME_SIZE_ERROR"),
        0x7 => (Code::UNAVAILABLE, "REFUSED_STREAM"),
        0x8 => (Code::CANCELED, "CANCEL"),
        0x9 => (Code::INTERNAL, "COMPRESSION_ERROR"),
        0xa => (Code::INTERNAL, "CONNECT_ERROR"),
        0xb => (Code::RESOURCE_EXHAUSTED, "ENHANCE_YOUR_CALM"),
        0xc => (Code::PERMISSION_DENIED, "INADEQUATE_SECURITY"),
        0xd => (Code::INTERNAL, "HTTP_1_1_REQUIRED"),
        other => return (Code::UNKNOWN, format!("unknown error code 0x{other:x}")),
    };
    (code, name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_is_kube_probe_then_grpc_go() {
        assert!(GRPC_PROBE_USER_AGENT.starts_with(&format!("{} ", crate::KUBE_PROBE_USER_AGENT)));
    }

    #[test]
    fn targets_come_from_the_action_and_pod_ip() {
        let action = GRPCAction {
            port: 9090,
            service: Some("ok".into()),
        };
        assert_eq!(
            grpc_target(&action, "10.244.0.7"),
            Ok(GrpcProbeTarget {
                host: "10.244.0.7".into(),
                port: 9090,
                service: "ok".into(),
            })
        );
        let unnamed = GRPCAction {
            port: 1,
            service: None,
        };
        assert_eq!(
            grpc_target(&unnamed, "::1").map(|t| t.service),
            Ok(String::new())
        );
        let bad = GRPCAction {
            port: 0,
            service: None,
        };
        assert_eq!(
            grpc_target(&bad, "10.0.0.1"),
            Err("invalid port number: 0".into())
        );
    }

    #[test]
    fn first_message_checks() {
        let mut compressed = vec![1, 0, 0, 0, 2, 8, 1];
        assert_eq!(
            take_first_message(&mut compressed, None).unwrap_err().text(),
            "rpc error: code = Internal desc = grpc: compressed flag set with identity or empty encoding"
        );
        let mut huge = vec![0, 0x7f, 0, 0, 0];
        assert_eq!(
            take_first_message(&mut huge, None).unwrap_err().text(),
            "rpc error: code = ResourceExhausted desc = grpc: received message larger than max (2130706432 vs. 4194304)"
        );
        let mut garbage = vec![0, 0, 0, 0, 1, 8];
        assert_eq!(
            take_first_message(&mut garbage, None).unwrap_err().text(),
            "rpc error: code = Internal desc = grpc: failed to unmarshal the received message: proto: cannot parse invalid wire-format data"
        );
        let mut partial = vec![0, 0, 0, 0, 2, 8];
        assert!(matches!(take_first_message(&mut partial, None), Ok(None)));
        let mut complete = vec![0, 0, 0, 0, 2, 8, 2, 0];
        assert!(matches!(
            take_first_message(&mut complete, None),
            Ok(Some(2))
        ));
        assert_eq!(complete, [0]);
    }

    #[test]
    fn rst_stream_codes() {
        assert_eq!(
            rst_stream_code(2),
            (Code::INTERNAL, "INTERNAL_ERROR".into())
        );
        assert_eq!(
            rst_stream_code(7),
            (Code::UNAVAILABLE, "REFUSED_STREAM".into())
        );
        assert_eq!(rst_stream_code(0x42).1, "unknown error code 0x42");
    }
}
