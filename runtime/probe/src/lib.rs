//! wasmpod-probe: the kubelet's probe *handlers* (`pkg/probe`), reproduced with the
//! same results, outputs and Go error texts. A worker elsewhere decides *when* to probe.
//!
//! * [`http_get`] — `pkg/probe/http` (request building, redirects, 10 KiB body cap, https
//!   without certificate verification).
//! * [`tcp_socket`] — `pkg/probe/tcp`.
//! * [`grpc`] — `pkg/probe/grpc` (`grpc.health.v1.Health/Check` over h2c, hand-framed).
//! * [`resolve_port`] — `pkg/probe/util.go` `ResolveContainerPort`.

mod dial;
mod go_duration;
mod go_text;
mod grpc_connect;
mod grpc_probe;
mod grpc_status;
mod grpc_wire;
mod http_probe;
mod http_request;
mod http_wire;
mod network;
mod outcome;
mod port;
mod probe_url;
mod recording_io;
mod tcp_probe;
mod tls;

pub use dial::connect_tcp;
pub use grpc_probe::{grpc, grpc_target, GrpcProbeTarget, GRPC_PROBE_USER_AGENT};
pub use http_probe::{http_get, MAX_REDIRECT_REQUESTS, MAX_RESPONSE_BODY_BYTES};
pub use http_request::HttpGetRequest;
pub use network::{ConnectFuture, Connection, Connector, Network};
pub use outcome::{ProbeOutcome, ProbeResult};
pub use port::resolve_port;
pub use tcp_probe::tcp_socket;

/// `kube-probe/<major>.<minor>` of the kubelet version wasmpod reproduces.
pub const KUBE_PROBE_USER_AGENT: &str = "kube-probe/1.33";
