//! The proxy's request handling, free of the accept loop.

use agnhost::http::{Request, Response};
use agnhost::server::{log, App, Drain, Outcome};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

pub const PORT: u16 = 8080;
pub const NON_PROXY_MESSAGE: &str =
    "This is a proxy server. Does not respond to non-proxy requests.";
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// Hop-by-hop and proxy headers goproxy strips before forwarding.
const STRIPPED: [&str; 5] = [
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "connection",
    "keep-alive",
];

#[derive(Default)]
pub struct GoProxy {
    session: u64,
}

/// Where an absolute-form `http://host[:port]/path?q` request goes.
#[derive(Debug, PartialEq, Eq)]
pub struct Upstream {
    pub authority: String,
    pub address: String,
    pub origin_target: String,
}

pub fn upstream_of(target: &str) -> Option<Upstream> {
    let rest = target.strip_prefix("http://")?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return None;
    }
    let origin_target = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    let has_port = match authority.rfind(']') {
        Some(bracket) => authority[bracket..].contains(':'),
        None => authority.contains(':'),
    };
    let address = if has_port {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Some(Upstream {
        authority: authority.to_string(),
        address,
        origin_target,
    })
}

/// The request as sent upstream: origin-form target, proxy headers removed, one-shot.
pub fn forwarded_request(request: &Request, upstream: &Upstream) -> Vec<u8> {
    let mut text = format!("{} {} HTTP/1.1\r\n", request.method, upstream.origin_target);
    if request.header("host").is_none() {
        text.push_str(&format!("Host: {}\r\n", upstream.authority));
    }
    for (name, value) in &request.headers {
        if !STRIPPED.contains(&name.to_ascii_lowercase().as_str()) {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    text.push_str("Connection: close\r\n\r\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(&request.body);
    bytes
}

fn forward(request: &Request, upstream: &Upstream) -> Result<Vec<u8>, String> {
    let address = upstream
        .address
        .to_socket_addrs()
        .map_err(|error| error.to_string())?
        .next()
        .ok_or("no address")?;
    let mut stream = TcpStream::connect_timeout(&address, UPSTREAM_TIMEOUT)
        .map_err(|error| error.to_string())?;
    let _ = stream.set_read_timeout(Some(UPSTREAM_TIMEOUT));
    stream
        .write_all(&forwarded_request(request, upstream))
        .map_err(|error| error.to_string())?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|error| error.to_string())?;
    Ok(answer)
}

impl GoProxy {
    pub fn route(&mut self, request: &Request) -> Outcome {
        if request.method == "CONNECT" {
            return Outcome::Respond(Response::go_error(
                501,
                "CONNECT is not supported by the wasmpod goproxy stand-in",
            ));
        }
        self.session += 1;
        let host = request.header("host").unwrap_or("");
        log(&format!(
            "[{:03}] INFO: Got request {} {} {} {}",
            self.session, request.path, host, request.method, request.target
        ));
        let Some(upstream) = upstream_of(&request.target) else {
            if request.target.contains("://") {
                return Outcome::Respond(Response::go_error(
                    501,
                    "only http:// is proxied by the wasmpod goproxy stand-in",
                ));
            }
            return Outcome::Respond(Response::go_error(500, NON_PROXY_MESSAGE));
        };
        log(&format!(
            "[{:03}] INFO: Sending request {} {}",
            self.session, request.method, request.target
        ));
        match forward(request, &upstream) {
            Ok(answer) => Outcome::Raw(answer),
            Err(error) => {
                log(&format!(
                    "[{:03}] WARN: Cannot read response from mitm'd server {error}",
                    self.session
                ));
                Outcome::Respond(Response::go_error(500, &error))
            }
        }
    }
}

impl App for GoProxy {
    fn handle(&mut self, request: &Request, _peer: SocketAddr) -> Outcome {
        self.route(request)
    }

    fn on_stop(&mut self) -> Drain {
        Drain::GO_DEFAULT_SIGTERM
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn probes_get_goproxys_non_proxy_answer() {
        let Outcome::Respond(response) = GoProxy::default().route(&Request::get("/")) else {
            panic!("expected a response");
        };
        assert_eq!(response.status, 500);
        assert_eq!(
            String::from_utf8_lossy(&response.body),
            "This is a proxy server. Does not respond to non-proxy requests.\n"
        );
    }

    #[test]
    fn absolute_targets_name_their_upstream() {
        assert_eq!(
            upstream_of("http://example.com/a?b=c"),
            Some(Upstream {
                authority: "example.com".into(),
                address: "example.com:80".into(),
                origin_target: "/a?b=c".into(),
            })
        );
        assert_eq!(
            upstream_of("http://10.0.0.1:8080").map(|u| u.address),
            Some("10.0.0.1:8080".into())
        );
        assert_eq!(upstream_of("/local"), None);
    }

    #[test]
    fn forwards_to_a_loopback_upstream_and_relays_its_answer() {
        let upstream = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = upstream.local_addr().expect("address");
        let server = std::thread::spawn(move || {
            let (mut stream, _) = upstream.accept().expect("accept");
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let read = stream.read(&mut buffer).expect("read");
                if read == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..read]);
            }
            stream
                .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                .expect("answer");
            String::from_utf8(request).expect("utf-8")
        });
        let mut request = Request::get(&format!("http://{address}/x?y=1"));
        request.headers = vec![("Proxy-Connection".into(), "keep-alive".into())];
        let outcome = GoProxy::default().route(&request);
        let seen = server.join().expect("upstream thread");
        assert!(seen.starts_with("GET /x?y=1 HTTP/1.1\r\n"), "{seen}");
        assert!(
            !seen.to_ascii_lowercase().contains("proxy-connection"),
            "{seen}"
        );
        assert_eq!(
            outcome,
            Outcome::Raw(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_vec())
        );
    }
}
