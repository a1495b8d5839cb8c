//! `agnhost grpc-health-checking` (test/images/agnhost/grpc-health-checking): the gRPC health
//! service on `--port` (see h2_health.rs) and its HTTP control side (`/make-serving`,
//! `/make-not-serving` on `--http-port`).

use crate::flags::{Kind, Spec};
use crate::gotext::duration_string;
use crate::h2_health::CheckReply;
use crate::http::{Request, Response};
use crate::server::{log, App, Drain, Outcome};
use std::net::{SocketAddr, TcpStream};
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
    /// Set by `/make-not-serving` (true) and `/make-serving` (false); `None` until then.
    pub force_unhealthy: Option<bool>,
    /// `--service`: the one service name the health service knows.
    pub service: String,
    /// `--delay-unhealthy-sec`: NOT_SERVING from then on; negative is never.
    pub delay_unhealthy_sec: i64,
    /// The start time as Go prints a `time.Time`, for the log line of every check.
    pub started_text: String,
}

impl GrpcHealthHttp {
    /// The Go server's `Check`: NOT_FOUND for other services; NOT_SERVING when forced or
    /// past the delay (`/make-serving` does not undo the delay).
    pub fn check(&self, service: &str, elapsed_seconds: f64) -> CheckReply {
        log(&format!(
            "Serving the Check request for health check, started at {}",
            self.started_text
        ));
        if service != self.service {
            return CheckReply::Error(5, "unknown service");
        }
        let delayed =
            self.delay_unhealthy_sec >= 0 && elapsed_seconds >= self.delay_unhealthy_sec as f64;
        if self.force_unhealthy == Some(true) || delayed {
            CheckReply::Status(2)
        } else {
            CheckReply::Status(1)
        }
    }
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

    fn side_connection(&mut self, mut stream: TcpStream) {
        let _ = crate::h2_health::serve_connection(&mut stream, |service| {
            self.check(service, self.started.elapsed().as_secs_f64())
        });
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
            service: String::new(),
            delay_unhealthy_sec: -1,
            started_text: String::new(),
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

    #[test]
    fn check_follows_the_go_server() {
        let mut app = GrpcHealthHttp {
            started: Instant::now(),
            force_unhealthy: None,
            service: "api".into(),
            delay_unhealthy_sec: 10,
            started_text: String::new(),
        };
        assert_eq!(
            app.check("other", 0.0),
            CheckReply::Error(5, "unknown service")
        );
        assert_eq!(app.check("api", 9.9), CheckReply::Status(1));
        assert_eq!(app.check("api", 10.0), CheckReply::Status(2));
        app.force_unhealthy = Some(true);
        assert_eq!(app.check("api", 0.0), CheckReply::Status(2));
        // /make-serving lifts the force, not the delay.
        app.force_unhealthy = Some(false);
        assert_eq!(app.check("api", 0.0), CheckReply::Status(1));
        assert_eq!(app.check("api", 11.0), CheckReply::Status(2));
    }
}
