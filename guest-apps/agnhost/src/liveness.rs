//! `agnhost liveness` (test/images/agnhost/liveness/server.go): port 8080, healthy for 10 s.

use crate::gotext::{duration_string, seconds_float};
use crate::http::{query_unescape, Request, Response};
use crate::server::{App, Drain, Outcome, Step};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub const PORT: u16 = 8080;
const HEALTHY_FOR_NANOS: i64 = 10_000_000_000;

pub struct Liveness {
    started: Instant,
    random: u64,
}

impl Liveness {
    pub fn new(started: Instant) -> Liveness {
        Liveness {
            started,
            random: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// The answer for a request arriving `elapsed_nanos` after start.
    pub fn route(&mut self, request: &Request, elapsed_nanos: i64) -> Outcome {
        match request.path.as_str() {
            "/started" => Outcome::Respond(Response::ok(duration_string(elapsed_nanos.into()))),
            // Go compares `duration.Seconds() > 10`.
            "/healthz" if elapsed_nanos > HEALTHY_FOR_NANOS => Outcome::Respond(Response::new(
                500,
                format!("error: {}", seconds_float(elapsed_nanos)),
            )),
            "/healthz" => Outcome::Respond(Response::ok("ok")),
            "/redirect" => {
                let raw = request.query("loc");
                match query_unescape(&raw) {
                    Some(location) => Outcome::Respond(Response::redirect(request, &location, 302)),
                    None => Outcome::Respond(Response::go_error(
                        400,
                        &format!("invalid redirect: {}", crate::gotext::quote(&raw)),
                    )),
                }
            }
            "/sleep-headers" => self.sleep_headers(request),
            "/sleep-body" => self.sleep_body(request),
            "/slow-response" => self.slow_response(request),
            "/disconnect-headers" => Outcome::Disconnect,
            "/disconnect-body" => self.disconnect_body(request),
            _ => Outcome::Respond(Response::not_found()),
        }
    }

    fn sleep_headers(&mut self, request: &Request) -> Outcome {
        let Some(params) = Params::parse(request) else {
            return Outcome::Disconnect;
        };
        let mut steps = vec![Step::Sleep(params.sleep)];
        steps.push(Step::Write(
            format!("Slept for {} secs\n", params.sleep_secs).into_bytes(),
        ));
        steps.extend(self.body_steps(params.size_kb, 0));
        Outcome::Stream {
            head: Response::new(params.status, Vec::new()),
            steps: delay_head(steps),
            cut: false,
        }
    }

    fn sleep_body(&mut self, request: &Request) -> Outcome {
        let Some(params) = Params::parse(request) else {
            return Outcome::Disconnect;
        };
        let mut steps = self.body_steps(params.size_kb, params.interval_secs);
        steps.push(Step::Write(
            format!("Sleeping for {} secs\n", params.sleep_secs).into_bytes(),
        ));
        steps.push(Step::Sleep(params.sleep));
        steps.push(Step::Write(
            format!("Slept for {} secs\n", params.sleep_secs).into_bytes(),
        ));
        Outcome::Stream {
            head: Response::new(params.status, Vec::new()),
            steps,
            cut: false,
        }
    }

    fn slow_response(&mut self, request: &Request) -> Outcome {
        let Some(params) = Params::parse(request) else {
            return Outcome::Disconnect;
        };
        Outcome::Stream {
            head: Response::new(params.status, Vec::new()),
            steps: self.body_steps(params.size_kb, params.interval_secs),
            cut: false,
        }
    }

    fn disconnect_body(&mut self, request: &Request) -> Outcome {
        let Some(params) = Params::parse(request) else {
            return Outcome::Disconnect;
        };
        let mut steps = self.body_steps(params.size_kb, 0);
        steps.push(Step::Write(b"Disconnecting\n".to_vec()));
        Outcome::Stream {
            head: Response::new(params.status, Vec::new()),
            steps,
            cut: true,
        }
    }

    /// Go's writeBody: `size` KiB of `%16x` random numbers, pausing `interval` s per KiB.
    fn body_steps(&mut self, size_kb: i64, interval_secs: i64) -> Vec<Step> {
        let mut steps = Vec::new();
        for _ in 0..size_kb.clamp(0, 64 * 1024) {
            if interval_secs > 0 {
                steps.push(Step::Sleep(Duration::from_secs(interval_secs as u64)));
            }
            let mut kib = String::with_capacity(1024);
            for _ in 0..64 {
                kib.push_str(&format!("{:16x}", self.next_random()));
            }
            steps.push(Step::Write(kib.into_bytes()));
        }
        steps
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64: the content is meaningless, only its size and shape matter.
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        self.random
    }
}

/// sleep-headers sends nothing before its sleep: move the leading pause before the head by
/// sleeping inside the handler instead.
fn delay_head(mut steps: Vec<Step>) -> Vec<Step> {
    if let Some(Step::Sleep(duration)) = steps.first().cloned() {
        std::thread::sleep(duration);
        steps.remove(0);
    }
    steps
}

struct Params {
    status: u16,
    sleep: Duration,
    sleep_secs: i64,
    size_kb: i64,
    interval_secs: i64,
}

impl Params {
    /// Go's parseParams; `None` where the Go handler goes on with nil params and panics (the
    /// connection is dropped).
    fn parse(request: &Request) -> Option<Params> {
        let int = |name: &str, default: i64| -> Option<i64> {
            match request.query(name) {
                value if value.is_empty() => Some(default),
                value => value.parse().ok(),
            }
        };
        let status = int("code", 500)?;
        let sleep_secs = int("time", 0)?;
        Some(Params {
            status: u16::try_from(status)
                .ok()
                .filter(|s| (100..=999).contains(s))?,
            sleep: Duration::from_secs(sleep_secs.max(0) as u64),
            sleep_secs,
            size_kb: int("size", 0)?,
            interval_secs: int("interval", 0)?,
        })
    }
}

impl App for Liveness {
    fn handle(&mut self, request: &Request, _peer: SocketAddr) -> Outcome {
        let elapsed = self.started.elapsed().as_nanos().min(i64::MAX as u128) as i64;
        self.route(request, elapsed)
    }

    fn on_stop(&mut self) -> Drain {
        Drain::GO_DEFAULT_SIGTERM
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn respond(outcome: Outcome) -> Response {
        match outcome {
            Outcome::Respond(response) => response,
            other => panic!("expected a plain response, got {other:?}"),
        }
    }

    #[test]
    fn healthz_is_ok_for_ten_seconds_then_500_with_go_seconds() {
        let mut app = Liveness::new(Instant::now());
        let request = Request::get("/healthz");
        let early = respond(app.route(&request, 3_000_000_000));
        assert_eq!((early.status, early.body.as_slice()), (200, &b"ok"[..]));
        let edge = respond(app.route(&request, 10_000_000_000));
        assert_eq!(edge.status, 200);
        let late = respond(app.route(&request, 12_345_678_901));
        assert_eq!(late.status, 500);
        assert_eq!(late.body, b"error: 12.345678901");
    }

    #[test]
    fn started_reports_the_go_duration() {
        let mut app = Liveness::new(Instant::now());
        let response = respond(app.route(&Request::get("/started"), 62_500_000_000));
        assert_eq!(response.body, b"1m2.5s");
    }

    #[test]
    fn redirect_unescapes_loc_twice() {
        let mut app = Liveness::new(Instant::now());
        let response = respond(app.route(&Request::get("/redirect?loc=%252Fhealthz"), 0));
        assert_eq!(response.status, 302);
        assert_eq!(response.header("location"), Some("/healthz"));
        let response =
            respond(app.route(&Request::get("/redirect?loc=http%3A%2F%2F0.0.0.0%2F"), 0));
        assert_eq!(response.header("location"), Some("http://0.0.0.0/"));
        let bad = respond(app.route(&Request::get("/redirect?loc=%25zz"), 0));
        assert_eq!(bad.status, 400);
        assert_eq!(bad.body, b"invalid redirect: \"%zz\"\n");
    }

    #[test]
    fn unknown_paths_are_404_and_bad_params_drop_the_connection() {
        let mut app = Liveness::new(Instant::now());
        let response = respond(app.route(&Request::get("/"), 0));
        assert_eq!(response.status, 404);
        assert_eq!(
            app.route(&Request::get("/sleep-headers?code=x"), 0),
            Outcome::Disconnect
        );
    }

    #[test]
    fn slow_response_streams_random_kilobytes() {
        let mut app = Liveness::new(Instant::now());
        let Outcome::Stream { head, steps, cut } =
            app.route(&Request::get("/slow-response?code=200&size=2"), 0)
        else {
            panic!("expected a stream");
        };
        assert_eq!(head.status, 200);
        assert!(!cut);
        assert_eq!(steps.len(), 2);
        assert!(matches!(&steps[0], Step::Write(bytes) if bytes.len() == 1024));
    }
}
