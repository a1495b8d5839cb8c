//! `agnhost grpc-health-checking` (test/images/agnhost/grpc-health-checking): only its plain
//! HTTP side (`/make-serving`, `/make-not-serving` on `--http-port`). The gRPC health service
//! on `--port` needs HTTP/2, which this hand-written HTTP/1.1 server does not speak, so that
//! port is not opened: a gRPC probe against it fails (connection refused).

use crate::flags::{Kind, Spec};
use crate::gotext::duration_string;
use crate::http::{Request, Response};
use crate::server::{log, App, Drain, Outcome};
use std::net::SocketAddr;
use std::time::Instant;

pub const FLAGS: [Spec; 4] = [
    Spec {
        name: "port",
        kind: Kind::Int,
        default: "5000",
    },
    Spec {
        name: "http-port",
        kind: Kind::Int,
        default: "8080",
    },
    Spec {
        name: "delay-unhealthy-sec",
        kind: Kind::Int,
        default: "-1",
    },
    Spec {
        name: "service",
        kind: Kind::Text,
        default: "",
    },
];

pub struct GrpcHealthHttp {
    pub started: Instant,
    /// What the gRPC side would report if it existed (`None` until first forced).
    pub force_unhealthy: Option<bool>,
}

impl GrpcHealthHttp {
    pub fn route(&mut self, request: &Request, elapsed_nanos: i128) -> Outcome {
        let forced = match request.path.as_str() {
            "/make-not-serving" => {
                log("Mark as unhealthy");
                true
            }
            "/make-serving" => {
                log("Mark as healthy");
                false
            }
            _ => return Outcome::Respond(Response::not_found()),
        };
        self.force_unhealthy = Some(forced);
        Outcome::Respond(Response::ok(duration_string(elapsed_nanos)))
    }
}

impl App for GrpcHealthHttp {
    fn handle(&mut self, request: &Request, _peer: SocketAddr) -> Outcome {
        let elapsed = self.started.elapsed().as_nanos() as i128;
        self.route(request, elapsed)
    }

    fn on_stop(&mut self) -> Drain {
        Drain::GO_DEFAULT_SIGTERM
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toggles_and_answers_time_since_start() {
        let mut app = GrpcHealthHttp {
            started: Instant::now(),
            force_unhealthy: None,
        };
        let Outcome::Respond(response) =
            app.route(&Request::get("/make-not-serving"), 1_500_000_000)
        else {
            panic!("expected a response");
        };
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"1.5s"[..])
        );
        assert_eq!(app.force_unhealthy, Some(true));
        app.route(&Request::get("/make-serving"), 0);
        assert_eq!(app.force_unhealthy, Some(false));
        let Outcome::Respond(missing) = app.route(&Request::get("/"), 0) else {
            panic!("expected a response");
        };
        assert_eq!(missing.status, 404);
    }
}
