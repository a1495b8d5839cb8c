//! The health service itself, free of wasi: request in, reply out. Hand-written
//! gRPC framing (1-byte flag, 4-byte big-endian length) and protobuf for
//! `HealthCheckRequest { string service = 1; }` and
//! `HealthCheckResponse { ServingStatus status = 1; }`.

use std::sync::atomic::{AtomicBool, Ordering};

pub const CHECK_PATH: &str = "/grpc.health.v1.Health/Check";
const HEALTH_SERVICE: &str = "grpc.health.v1.Health";

pub const SERVING: u64 = 1;
pub const NOT_SERVING: u64 = 2;

/// gRPC status codes used here.
pub const CODE_OK: u32 = 0;
pub const CODE_NOT_FOUND: u32 = 5;
pub const CODE_UNIMPLEMENTED: u32 = 12;
pub const CODE_INTERNAL: u32 = 13;

/// Services this guest knows: the server as a whole (`""`) and `ok`.
const KNOWN_SERVICES: [&str; 2] = ["", "ok"];

/// Overall status; the host keeps one long-lived instance, so it persists.
pub struct Health {
    not_serving: AtomicBool,
}

/// What to send back.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// A gRPC answer: `:status 200`, `content-type: application/grpc`, this body
    /// (a framed message, or empty) and trailers `grpc-status` / `grpc-message`.
    Grpc {
        body: Vec<u8>,
        code: u32,
        message: String,
    },
    /// A plain HTTP answer (`text/plain`).
    Plain { status: u16, body: String },
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

impl Health {
    pub const fn new() -> Self {
        Self {
            not_serving: AtomicBool::new(false),
        }
    }

    pub fn handle(&self, method: &str, path: &str, body: &[u8]) -> Reply {
        let path = path.split('?').next().unwrap_or_default();
        match (method, path) {
            ("POST", CHECK_PATH) => self.check(body),
            ("GET", "/set/SERVING") => self.set(false),
            ("GET", "/set/NOT_SERVING") => self.set(true),
            _ => unimplemented(path),
        }
    }

    fn set(&self, not_serving: bool) -> Reply {
        self.not_serving.store(not_serving, Ordering::Relaxed);
        let name = if not_serving {
            "NOT_SERVING"
        } else {
            "SERVING"
        };
        Reply::Plain {
            status: 200,
            body: format!("{name}\n"),
        }
    }

    fn check(&self, body: &[u8]) -> Reply {
        let service = match parse_check_request(body) {
            Ok(service) => service,
            Err(reason) => return grpc_error(CODE_INTERNAL, reason),
        };
        if !KNOWN_SERVICES.contains(&service.as_str()) {
            // Like grpc-go's health server.
            return grpc_error(CODE_NOT_FOUND, "unknown service");
        }
        let status = if self.not_serving.load(Ordering::Relaxed) {
            NOT_SERVING
        } else {
            SERVING
        };
        Reply::Grpc {
            body: framed_check_response(status),
            code: CODE_OK,
            message: String::new(),
        }
    }
}

/// grpc-go's server texts for a method it does not have.
fn unimplemented(path: &str) -> Reply {
    let message = match path
        .strip_prefix('/')
        .and_then(|rest| rest.rsplit_once('/'))
    {
        Some((HEALTH_SERVICE, method)) => {
            format!("unknown method {method} for service {HEALTH_SERVICE}")
        }
        Some((service, _)) => format!("unknown service {service}"),
        None => format!("malformed method name: {path:?}"),
    };
    grpc_error(CODE_UNIMPLEMENTED, &message)
}

fn grpc_error(code: u32, message: &str) -> Reply {
    Reply::Grpc {
        body: Vec::new(),
        code,
        message: message.to_string(),
    }
}

/// The `service` of one framed, uncompressed `HealthCheckRequest`.
pub fn parse_check_request(body: &[u8]) -> Result<String, &'static str> {
    const BAD: &str = "grpc: error unmarshalling request";
    let header = body.get(..5).ok_or(BAD)?;
    if header[0] != 0 {
        return Err("grpc: compressed requests are not supported");
    }
    let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    let mut message = body.get(5..5 + length).ok_or(BAD)?;
    let mut service = String::new();
    while !message.is_empty() {
        let key = take_varint(&mut message).ok_or(BAD)?;
        match key & 7 {
            0 => {
                take_varint(&mut message).ok_or(BAD)?;
            }
            1 => message = message.get(8..).ok_or(BAD)?,
            2 => {
                let size =
                    usize::try_from(take_varint(&mut message).ok_or(BAD)?).map_err(|_| BAD)?;
                let value = message.get(..size).ok_or(BAD)?;
                if key >> 3 == 1 {
                    service = String::from_utf8(value.to_vec()).map_err(|_| BAD)?;
                }
                message = &message[size..];
            }
            5 => message = message.get(4..).ok_or(BAD)?,
            _ => return Err(BAD),
        }
    }
    Ok(service)
}

/// A framed `HealthCheckResponse { status }`.
pub fn framed_check_response(status: u64) -> Vec<u8> {
    let message = [0x08, status as u8];
    let mut frame = vec![0];
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(&message);
    frame
}

/// `grpc-message` percent-encoding: bytes outside printable ASCII, and `%`.
pub fn encode_grpc_message(message: &str) -> String {
    let mut encoded = String::with_capacity(message.len());
    for byte in message.bytes() {
        if (0x20..=0x7e).contains(&byte) && byte != b'%' {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn take_varint(data: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for index in 0..10 {
        let (&byte, rest) = data.split_first()?;
        *data = rest;
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(service: &str) -> Vec<u8> {
        let mut message = Vec::new();
        if !service.is_empty() {
            message.push(0x0a);
            message.push(service.len() as u8);
            message.extend_from_slice(service.as_bytes());
        }
        let mut frame = vec![0];
        frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
        frame.extend_from_slice(&message);
        frame
    }

    fn ok(status: u64) -> Reply {
        Reply::Grpc {
            body: vec![0, 0, 0, 0, 2, 8, status as u8],
            code: CODE_OK,
            message: String::new(),
        }
    }

    #[test]
    fn known_services_follow_the_overall_status() {
        let health = Health::new();
        assert_eq!(health.handle("POST", CHECK_PATH, &request("")), ok(SERVING));
        assert_eq!(
            health.handle("POST", CHECK_PATH, &request("ok")),
            ok(SERVING)
        );
        assert_eq!(
            health.handle("GET", "/set/NOT_SERVING", b""),
            Reply::Plain {
                status: 200,
                body: "NOT_SERVING\n".into()
            }
        );
        assert_eq!(
            health.handle("POST", CHECK_PATH, &request("")),
            ok(NOT_SERVING)
        );
        assert_eq!(
            health.handle("POST", CHECK_PATH, &request("ok")),
            ok(NOT_SERVING)
        );
        health.handle("GET", "/set/SERVING", b"");
        assert_eq!(health.handle("POST", CHECK_PATH, &request("")), ok(SERVING));
    }

    #[test]
    fn unknown_services_are_not_found() {
        let health = Health::new();
        assert_eq!(
            health.handle("POST", CHECK_PATH, &request("db")),
            grpc_error(CODE_NOT_FOUND, "unknown service")
        );
    }

    #[test]
    fn other_methods_and_paths_are_unimplemented() {
        let health = Health::new();
        assert_eq!(
            health.handle("POST", "/grpc.health.v1.Health/Watch", &request("")),
            grpc_error(
                CODE_UNIMPLEMENTED,
                "unknown method Watch for service grpc.health.v1.Health"
            )
        );
        assert_eq!(
            health.handle("POST", "/pkg.Greeter/Hello", b""),
            grpc_error(CODE_UNIMPLEMENTED, "unknown service pkg.Greeter")
        );
        assert_eq!(
            health.handle("GET", "/", b""),
            grpc_error(CODE_UNIMPLEMENTED, "malformed method name: \"/\"")
        );
        assert!(matches!(
            health.handle("POST", "/set/SERVING", b""),
            Reply::Grpc {
                code: CODE_UNIMPLEMENTED,
                ..
            }
        ));
    }

    #[test]
    fn malformed_requests_are_internal_errors() {
        let health = Health::new();
        assert!(matches!(
            health.handle("POST", CHECK_PATH, &[0, 0, 0, 0, 9, 0x0a]),
            Reply::Grpc {
                code: CODE_INTERNAL,
                ..
            }
        ));
        assert_eq!(
            parse_check_request(&[0, 0, 0, 0, 3, 0x10, 1, 0x0a]),
            Err("grpc: error unmarshalling request")
        );
        // Unknown fields are skipped.
        assert_eq!(
            parse_check_request(&[0, 0, 0, 0, 6, 0x10, 1, 0x0a, 2, b'o', b'k']),
            Ok("ok".into())
        );
    }

    #[test]
    fn grpc_messages_are_percent_encoded() {
        assert_eq!(encode_grpc_message("unknown service"), "unknown service");
        assert_eq!(encode_grpc_message("50%\n✓"), "50%25%0A%E2%9C%93");
    }
}
