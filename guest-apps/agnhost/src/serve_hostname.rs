//! `agnhost serve-hostname` (test/images/agnhost/serve-hostname/serve_hostname.go).

use crate::flags::{Kind, Spec};
use crate::http::{Request, Response};
use crate::server::{log, App, Drain, Outcome};
use std::net::SocketAddr;
use std::time::Duration;

pub const FLAGS: [Spec; 5] = [
    Spec {
        name: "tcp",
        kind: Kind::Bool,
        default: "false",
    },
    Spec {
        name: "udp",
        kind: Kind::Bool,
        default: "false",
    },
    Spec {
        name: "http",
        kind: Kind::Bool,
        default: "true",
    },
    Spec {
        name: "close",
        kind: Kind::Bool,
        default: "false",
    },
    Spec {
        name: "port",
        kind: Kind::Int,
        default: "9376",
    },
];

/// After SIGTERM the Go program logs, keeps serving and sleeps 60 s before returning (0).
pub const AFTER_SIGTERM: Duration = Duration::from_secs(60);

pub struct ServeHostname {
    pub hostname: String,
    /// `--tcp`: write the hostname to every connection and close it, no HTTP.
    pub raw_tcp: bool,
}

impl App for ServeHostname {
    fn handle(&mut self, _request: &Request, peer: SocketAddr) -> Outcome {
        log(&format!("HTTP request from {peer}"));
        Outcome::Respond(Response::ok(self.hostname.clone()))
    }

    fn on_stop(&mut self) -> Drain {
        log("Shutting down after receiving signal: terminated.\n");
        log("Awaiting pod deletion.\n");
        Drain {
            serve_for: AFTER_SIGTERM,
            exit_code: 0,
        }
    }

    fn raw_reply(&self) -> Option<Vec<u8>> {
        self.raw_tcp.then(|| self.hostname.clone().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_hostname_and_drains_for_a_minute() {
        let mut app = ServeHostname {
            hostname: "pod-a".into(),
            raw_tcp: false,
        };
        let peer = "10.0.0.1:1".parse().expect("address");
        let Outcome::Respond(response) = app.handle(&Request::get("/any/path"), peer) else {
            panic!("expected a response");
        };
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"pod-a"[..])
        );
        assert_eq!(app.raw_reply(), None);
        assert_eq!(
            app.on_stop(),
            Drain {
                serve_for: AFTER_SIGTERM,
                exit_code: 0
            }
        );
        let raw = ServeHostname {
            hostname: "pod-a".into(),
            raw_tcp: true,
        };
        assert_eq!(raw.raw_reply(), Some(b"pod-a".to_vec()));
    }
}
