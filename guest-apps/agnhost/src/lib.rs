//! Wasm stand-in for the Kubernetes e2e test image `registry.k8s.io/e2e-test-images/agnhost`,
//! as a command component (wasi:cli/run): argv picks the subcommand, the program listens on
//! its own sockets (one connection at a time: wasm32-wasip2 has no threads) and checks
//! `wasmpod:container/termination.requested()` between accepts.
//!
//! What exists, following the Go sources under kubernetes/kubernetes test/images/agnhost/:
//! - `liveness` (:8080): `/healthz` 200 `ok` for 10 s, then 500 `error: <seconds>`;
//!   `/started`; `/redirect?loc=`; `/sleep-headers`, `/sleep-body`, `/slow-response`,
//!   `/disconnect-headers`, `/disconnect-body`; anything else 404 `404 page not found`.
//! - `netexec` (`--http-port`, default 8080): `/`, `/clientip`, `/header`, `/dial` (HTTP only),
//!   `/echo`, `/exit`, `/healthz`, `/readyz`, `/hostname`, `/hostName`, `/redirect`,
//!   `/shell` and `/upload` (both answer their Go error JSON), `/shutdown`; `--http-override`,
//!   `--delay-shutdown`. UDP/SCTP flags are accepted but no UDP/SCTP server runs.
//! - `serve-hostname` (`--port` 9376, `--tcp`, `--http`, `--close`; `--udp` is refused).
//! - `pause` (`--delay-shutdown`).
//! - `entrypoint-tester`: prints its argv as Go's `%v` does and exits 0.
//! - `test-webserver` (`--port` 80): Go's FileServer over `/` (see test_webserver.rs).
//! - `grpc-health-checking`: the gRPC health service (`grpc.health.v1.Health/Check`, h2c) on
//!   `--port` (5000): SERVING, NOT_SERVING after `--delay-unhealthy-sec` or once
//!   `/make-not-serving` was called on `--http-port` (8080), NOT_FOUND for a service other
//!   than `--service`. TLS flags are not supported.
//!
//! Approximations: one connection at a time (a sleeping handler delays other clients);
//! `Connection: close` on every answer; no TLS; exit codes other than 0 reach the host as 1
//! (WASI 0.2). On the stop request each subcommand does what the Go binary does on SIGTERM as
//! PID 1: Go programs without a SIGTERM handler (liveness, test-webserver,
//! grpc-health-checking) exit 2 at once (Go runtime fallback); netexec exits 0 after
//! `--delay-shutdown`; serve-hostname keeps serving 60 s, then exits 0; pause prints
//! `exiting 2` and exits 2.

pub mod cli;
pub mod flags;
pub mod gotext;
pub mod grpc_health;
pub mod h2_health;
pub mod http;
pub mod liveness;
pub mod netexec;
pub mod pause;
pub mod serve_hostname;
pub mod server;
pub mod test_webserver;

#[cfg(target_arch = "wasm32")]
mod bindings {
    wit_bindgen::generate!({ path: "../../wit", world: "program" });
}

/// Whether the container has been asked to stop (the kubelet's SIGTERM). Never on native
/// builds, which exist for unit tests.
pub fn stop_requested() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        bindings::wasmpod::container::termination::requested()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        false
    }
}
