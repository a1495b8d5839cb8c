//! `agnhost netexec` (test/images/agnhost/netexec/netexec.go), HTTP side only.

use crate::flags::{Kind, Spec};
use crate::gotext::{self, parse_duration, quote};
use crate::http::{canonical_header_key, json_string, Request, Response};
use crate::server::{hostname, log, unix_now, App, Drain, Outcome};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

pub const FLAGS: [Spec; 8] = [
    Spec {
        name: "http-port",
        kind: Kind::Int,
        default: "8080",
    },
    Spec {
        name: "udp-port",
        kind: Kind::Int,
        default: "8081",
    },
    Spec {
        name: "sctp-port",
        kind: Kind::Int,
        default: "-1",
    },
    Spec {
        name: "tls-cert-file",
        kind: Kind::Text,
        default: "",
    },
    Spec {
        name: "tls-private-key-file",
        kind: Kind::Text,
        default: "",
    },
    Spec {
        name: "http-override",
        kind: Kind::Text,
        default: "",
    },
    Spec {
        name: "udp-listen-addresses",
        kind: Kind::Text,
        default: "",
    },
    Spec {
        name: "delay-shutdown",
        kind: Kind::Int,
        default: "0",
    },
];

pub struct Netexec {
    /// Go marks the server ready once its UDP (or SCTP) server runs; UDP is not available
    /// here, so a configured UDP/SCTP port counts as running, and `--udp-port=-1` without
    /// SCTP stays unready (412) exactly as in Go.
    ready: bool,
    terminating: bool,
    delay_shutdown_secs: i64,
    http_override: String,
    started: Instant,
}

impl Netexec {
    pub fn new(
        udp_port: i64,
        sctp_port: i64,
        delay_shutdown_secs: i64,
        http_override: String,
    ) -> Netexec {
        Netexec {
            ready: udp_port != -1 || sctp_port != -1,
            terminating: false,
            delay_shutdown_secs,
            http_override,
            started: Instant::now(),
        }
    }

    pub fn route(&mut self, request: &Request, peer: SocketAddr) -> Outcome {
        match request.path.as_str() {
            "/clientip" => {
                log("GET /clientip");
                Outcome::Respond(Response::ok(peer.to_string()))
            }
            "/header" => Outcome::Respond(header(request)),
            "/dial" => Outcome::Respond(dial(request)),
            "/echo" => Outcome::Respond(echo(request)),
            "/exit" => exit(request),
            "/healthz" => {
                log("GET /healthz");
                Outcome::Respond(Response::new(
                    if self.ready { 200 } else { 412 },
                    Vec::new(),
                ))
            }
            "/readyz" => {
                log("GET /readyz");
                Outcome::Respond(match (self.terminating, self.ready) {
                    (true, _) => Response::new(503, "shutting down"),
                    (false, true) => Response::ok("ok"),
                    (false, false) => Response::new(412, Vec::new()),
                })
            }
            "/hostname" => {
                log("GET /hostname");
                Outcome::Respond(Response::ok(logged_hostname()))
            }
            "/hostName" => {
                log("GET /hostName");
                Outcome::Respond(Response::ok(logged_hostname()))
            }
            "/redirect" => Outcome::Respond(redirect(request)),
            "/shell" => {
                let mut command = request.form_value("shellCommand");
                if command.is_empty() {
                    command = request.form_value("cmd");
                }
                log(&format!("GET /shell?cmd={command}"));
                // There is no shell in a Wasm component: report what exec would.
                let error = "fork/exec /bin/sh: no such file or directory";
                log(&format!("Output: map[error:{error}]"));
                Outcome::Respond(Response::ok(format!(
                    "{{\"error\":{}}}",
                    json_string(error)
                )))
            }
            "/upload" => {
                log("GET /upload");
                Outcome::Respond(Response::ok("{\"error\":\"Unable to upload file.\"}"))
            }
            "/shutdown" => {
                log("GET /shutdown");
                Outcome::ExitNow(0)
            }
            _ => {
                log("GET /");
                let now = unix_now().as_nanos() as i128;
                let monotonic = self.started.elapsed().as_nanos();
                Outcome::Respond(Response::ok(format!(
                    "NOW: {}",
                    gotext::time_string(now, monotonic)
                )))
            }
        }
    }
}

fn logged_hostname() -> String {
    let name = hostname();
    log(&format!("hostname: {name}"));
    name
}

fn echo(request: &Request) -> Response {
    let message = request.form_value("msg");
    let code = request.form_value("code");
    log(&format!("GET /echo?msg={message}&code={code}"));
    if code.is_empty() {
        return Response::ok(message);
    }
    match code.parse::<u16>() {
        Ok(status) => Response::new(status, message),
        Err(_) => Response::ok(format!(
            "argument 'code' must be an integer or empty, got {}\n",
            quote(&code)
        )),
    }
}

fn header(request: &Request) -> Response {
    let key = request.form_value("key");
    if !key.is_empty() {
        log(&format!("GET /header?key={key}"));
        return Response::ok(request.header(&key).unwrap_or("").to_string());
    }
    log("GET /header");
    // json.Marshal(r.Header): canonical keys, sorted, values as arrays; Go keeps Host apart.
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in &request.headers {
        let name = canonical_header_key(name);
        if name == "Host" {
            continue;
        }
        match keys.iter_mut().find(|(key, _)| *key == name) {
            Some((_, values)) => values.push(value.clone()),
            None => keys.push((name, vec![value.clone()])),
        }
    }
    keys.sort();
    let fields: Vec<String> = keys
        .iter()
        .map(|(name, values)| {
            let values: Vec<String> = values.iter().map(|v| json_string(v)).collect();
            format!("{}:[{}]", json_string(name), values.join(","))
        })
        .collect();
    Response::ok(format!("{{{}}}", fields.join(",")))
}

fn exit(request: &Request) -> Outcome {
    let wait = request.form_value("wait");
    let timeout = request.form_value("timeout");
    let code = request.form_value("code");
    log(&format!(
        "GET /exit?code={code}&timeout={timeout}&wait={wait}"
    ));
    let timeout_nanos = match parse_duration(&timeout) {
        Some(nanos) => nanos,
        None if timeout.is_empty() => 0,
        None => {
            return Outcome::Respond(Response::ok(format!(
                "argument 'timeout' must be a valid golang duration or empty, got {}\n",
                quote(&timeout)
            )))
        }
    };
    let wait_nanos = match parse_duration(&wait) {
        Some(nanos) => nanos,
        None if wait.is_empty() => 0,
        None => {
            return Outcome::Respond(Response::ok(format!(
                "argument 'wait' must be a valid golang duration or empty, got {}\n",
                quote(&wait)
            )))
        }
    };
    let exit_code = match code.parse::<i32>() {
        Ok(value) => value,
        Err(_) if code.is_empty() => 0,
        Err(_) => {
            return Outcome::Respond(Response::ok(format!(
                "argument 'code' must be an integer [0-127] or empty, got {}\n",
                quote(&code)
            )))
        }
    };
    log(&format!(
        "Will begin shutdown in {}, allowing {} for connections to close, then will exit with {exit_code}",
        gotext::duration_string(wait_nanos),
        gotext::duration_string(timeout_nanos)
    ));
    if wait_nanos > 0 {
        std::thread::sleep(Duration::from_nanos(wait_nanos as u64));
    }
    if timeout_nanos <= 0 {
        return Outcome::ExitNow(exit_code);
    }
    log("Graceful shutdown completed with: <nil>");
    Outcome::RespondThenExit(Response::new(200, Vec::new()), exit_code)
}

fn redirect(request: &Request) -> Response {
    let location = request.form_value("location");
    let code = request.form_value("code");
    log(&format!(
        "{} /redirect?msg={location}&code={code}",
        request.method
    ));
    if code.is_empty() {
        return Response::redirect(request, &location, 302);
    }
    match code.parse::<u16>() {
        Ok(status) => Response::redirect(request, &location, status),
        Err(_) => Response::ok(format!(
            "argument 'code' must be an integer or empty, got {}\n",
            quote(&code)
        )),
    }
}

/// `/dial`: HTTP only (UDP and SCTP are not available to the component).
fn dial(request: &Request) -> Response {
    let host = request.query("host");
    let port = request.query("port");
    let target = request.query("request");
    let protocol = request.query("protocol");
    let tries_text = request.query("tries");
    log(&format!(
        "GET /dial?host={host}&protocol={protocol}&port={port}&request={target}&tries={tries_text}"
    ));
    let tries = if tries_text.is_empty() {
        1
    } else {
        match tries_text.parse::<u32>() {
            Ok(tries) => tries,
            Err(_) => {
                return Response::go_error(
                    400,
                    &format!(
                        "tries parameter is invalid. strconv.Atoi: parsing {}: invalid syntax",
                        quote(&tries_text)
                    ),
                )
            }
        }
    };
    if target.is_empty() {
        return Response::go_error(400, "request parameter not specified. <nil>");
    }
    match protocol.to_ascii_lowercase().as_str() {
        "" | "http" => {}
        "udp" | "sctp" => {
            return Response::go_error(
                400,
                &format!("unsupported protocol. {protocol} (not available in wasmpod)"),
            )
        }
        _ => return Response::go_error(400, &format!("unsupported protocol. {protocol}")),
    }
    let address = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut responses = Vec::new();
    let mut errors = Vec::new();
    let mut last_ok = false;
    for _ in 0..tries.min(100) {
        match http_get(&address, &target) {
            Ok(body) => {
                last_ok = !body.is_empty();
                responses.push(body);
            }
            Err(error) => {
                last_ok = false;
                errors.push(error);
            }
        }
    }
    let list = |items: &[String]| -> String {
        let items: Vec<String> = items.iter().map(|item| json_string(item)).collect();
        format!("[{}]", items.join(","))
    };
    let mut fields = Vec::new();
    if !errors.is_empty() {
        fields.push(format!("\"errors\":{}", list(&errors)));
    }
    if last_ok {
        fields.push(format!("\"responses\":{}", list(&responses)));
    }
    Response::ok(format!("{{{}}}", fields.join(",")))
}

/// A plain HTTP/1.1 GET with Go's 5 s client timeout; returns the body.
fn http_get(address: &str, target: &str) -> Result<String, String> {
    let url = format!("http://{address}/{target}");
    let timeout = Duration::from_secs(5);
    let socket = address
        .to_socket_addrs()
        .map_err(|error| format!("Get {}: {error}", quote(&url)))?
        .next()
        .ok_or_else(|| format!("Get {}: no address", quote(&url)))?;
    let mut stream = TcpStream::connect_timeout(&socket, timeout)
        .map_err(|error| format!("Get {}: dial tcp {socket}: {error}", quote(&url)))?;
    let _ = stream.set_read_timeout(Some(timeout));
    write!(
        stream,
        "GET /{target} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: Go-http-client/1.1\r\nConnection: close\r\n\r\n"
    )
    .map_err(|error| format!("Get {}: {error}", quote(&url)))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|error| format!("Get {}: {error}", quote(&url)))?;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Ok(dechunk(body));
    }
    Ok(body.to_string())
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size_line, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

impl App for Netexec {
    fn handle(&mut self, request: &Request, peer: SocketAddr) -> Outcome {
        if self.http_override.is_empty() {
            self.route(request, peer)
        } else {
            let overridden = Request::get(&self.http_override.clone());
            self.route(&overridden, peer)
        }
    }

    /// netexec handles SIGTERM: optionally keeps serving (with /readyz at 503) for
    /// `--delay-shutdown` seconds, then exits 0.
    fn on_stop(&mut self) -> Drain {
        self.terminating = true;
        if self.delay_shutdown_secs > 0 {
            log(&format!(
                "Sleeping {} seconds before terminating...",
                self.delay_shutdown_secs
            ));
        }
        Drain {
            serve_for: Duration::from_secs(self.delay_shutdown_secs.max(0) as u64),
            exit_code: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "10.244.0.1:34567".parse().expect("address")
    }

    fn respond(outcome: Outcome) -> Response {
        match outcome {
            Outcome::Respond(response) => response,
            other => panic!("expected a plain response, got {other:?}"),
        }
    }

    fn app() -> Netexec {
        Netexec::new(8081, -1, 0, String::new())
    }

    #[test]
    fn healthz_is_200_empty_unless_no_udp_or_sctp() {
        let response = respond(app().route(&Request::get("/healthz"), peer()));
        assert_eq!((response.status, response.body.len()), (200, 0));
        let mut unready = Netexec::new(-1, -1, 0, String::new());
        assert_eq!(
            respond(unready.route(&Request::get("/healthz"), peer())).status,
            412
        );
    }

    #[test]
    fn echo_and_code() {
        let response = respond(app().route(&Request::get("/echo?msg=hello"), peer()));
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, &b"hello"[..])
        );
        let response = respond(app().route(&Request::get("/echo?msg=gone&code=410"), peer()));
        assert_eq!(response.status, 410);
        let response = respond(app().route(&Request::get("/echo?code=x"), peer()));
        assert_eq!(
            response.body,
            b"argument 'code' must be an integer or empty, got \"x\"\n"
        );
    }

    #[test]
    fn exit_and_shutdown() {
        assert_eq!(
            app().route(&Request::get("/exit?code=3"), peer()),
            Outcome::ExitNow(3)
        );
        assert_eq!(
            app().route(&Request::get("/exit"), peer()),
            Outcome::ExitNow(0)
        );
        assert!(matches!(
            app().route(&Request::get("/exit?code=1&timeout=1s"), peer()),
            Outcome::RespondThenExit(_, 1)
        ));
        let bad = respond(app().route(&Request::get("/exit?timeout=soon"), peer()));
        assert_eq!(
            bad.body,
            b"argument 'timeout' must be a valid golang duration or empty, got \"soon\"\n"
        );
        assert_eq!(
            app().route(&Request::get("/shutdown"), peer()),
            Outcome::ExitNow(0)
        );
    }

    #[test]
    fn root_and_unknown_paths_print_now() {
        let response = respond(app().route(&Request::get("/anything"), peer()));
        let body = String::from_utf8(response.body).expect("utf-8");
        assert!(body.starts_with("NOW: "), "{body}");
        assert!(body.contains(" +0000 UTC m=+"), "{body}");
    }

    #[test]
    fn clientip_header_and_readyz_during_termination() {
        let response = respond(app().route(&Request::get("/clientip"), peer()));
        assert_eq!(response.body, b"10.244.0.1:34567");
        let mut request = Request::get("/header");
        request.headers = vec![
            ("host".into(), "x".into()),
            ("user-agent".into(), "kube-probe/1.33".into()),
            ("accept".into(), "*/*".into()),
        ];
        let response = respond(app().route(&request, peer()));
        assert_eq!(
            response.body,
            b"{\"Accept\":[\"*/*\"],\"User-Agent\":[\"kube-probe/1.33\"]}"
        );
        let mut draining = Netexec::new(8081, -1, 5, String::new());
        let drain = draining.on_stop();
        assert_eq!(
            drain,
            Drain {
                serve_for: Duration::from_secs(5),
                exit_code: 0
            }
        );
        let response = respond(draining.route(&Request::get("/readyz"), peer()));
        assert_eq!(
            (response.status, response.body.as_slice()),
            (503, &b"shutting down"[..])
        );
    }

    #[test]
    fn http_override_serves_the_fixed_path() {
        let mut app = Netexec::new(8081, -1, 0, "/echo?msg=fixed".into());
        let response = respond(app.handle(&Request::get("/whatever"), peer()));
        assert_eq!(response.body, b"fixed");
    }

    #[test]
    fn dechunks_bodies() {
        assert_eq!(dechunk("2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"), "abc");
    }
}
