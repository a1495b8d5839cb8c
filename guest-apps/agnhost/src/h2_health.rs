//! Just enough HTTP/2 (cleartext, prior knowledge) to serve `grpc.health.v1.Health/Check`
//! on one connection at a time, as gRPC clients and the kubelet's gRPC probe use it.
//!
//! The request's header block is not decoded (this port serves one method); request bodies
//! are collected per stream until END_STREAM. Answers use HPACK literals without Huffman
//! coding, which every decoder accepts. Flow control never matters at these sizes.

use std::collections::HashMap;
use std::io::{self, Read, Write};

const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;

const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;

/// What the health service answers for a requested service name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckReply {
    /// A `HealthCheckResponse` with this `ServingStatus` (1 SERVING, 2 NOT_SERVING).
    Status(i32),
    /// A gRPC error status (e.g. 5 NOT_FOUND) with its message.
    Error(u32, &'static str),
}

/// Serves one connection until the client goes away.
pub fn serve_connection(
    stream: &mut (impl Read + Write),
    mut check: impl FnMut(&str) -> CheckReply,
) -> io::Result<()> {
    let mut preface = [0u8; 24];
    stream.read_exact(&mut preface)?;
    if &preface != PREFACE {
        return Ok(());
    }
    stream.write_all(&frame(SETTINGS, 0, 0, &[]))?;
    stream.flush()?;
    let mut bodies: HashMap<u32, Vec<u8>> = HashMap::new();
    loop {
        let mut header = [0u8; 9];
        if stream.read_exact(&mut header).is_err() {
            return Ok(());
        }
        let length = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
        let (kind, flags) = (header[3], header[4]);
        let id = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff;
        let mut payload = vec![0u8; length];
        stream.read_exact(&mut payload)?;
        let request_done = match kind {
            SETTINGS if flags & ACK == 0 => {
                stream.write_all(&frame(SETTINGS, ACK, 0, &[]))?;
                false
            }
            PING if flags & ACK == 0 => {
                stream.write_all(&frame(PING, ACK, 0, &payload))?;
                false
            }
            GOAWAY => return Ok(()),
            HEADERS => {
                bodies.entry(id).or_default();
                flags & END_STREAM != 0
            }
            DATA => {
                bodies
                    .entry(id)
                    .or_default()
                    .extend_from_slice(unpadded(flags, &payload));
                flags & END_STREAM != 0
            }
            _ => false,
        };
        if request_done {
            let body = bodies.remove(&id).unwrap_or_default();
            let reply = check(&requested_service(&body));
            stream.write_all(&answer(id, &reply))?;
        }
        stream.flush()?;
    }
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = (payload.len() as u32).to_be_bytes();
    let mut bytes = Vec::with_capacity(9 + payload.len());
    bytes.extend_from_slice(&length[1..]);
    bytes.push(kind);
    bytes.push(flags);
    bytes.extend_from_slice(&stream.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

fn unpadded(flags: u8, payload: &[u8]) -> &[u8] {
    if flags & PADDED == 0 || payload.is_empty() {
        return payload;
    }
    let pad = payload[0] as usize;
    payload
        .get(1..payload.len().saturating_sub(pad))
        .unwrap_or(&[])
}

/// `HealthCheckRequest.service` (field 1) from a gRPC-framed body; "" when absent.
fn requested_service(body: &[u8]) -> String {
    let Some(message) = body.get(5..) else {
        return String::new();
    };
    let mut at = 0;
    while at < message.len() {
        let tag = message[at];
        at += 1;
        let Some((length, used)) = varint(&message[at..]) else {
            break;
        };
        at += used;
        match tag {
            0x0a => {
                let length = usize::try_from(length).unwrap_or(usize::MAX);
                let end = at.saturating_add(length).min(message.len());
                return String::from_utf8_lossy(&message[at..end]).into_owned();
            }
            // Another length-delimited field: skip it; a varint field: its value is read.
            t if t & 0x7 == 2 => {
                at = at.saturating_add(usize::try_from(length).unwrap_or(usize::MAX))
            }
            _ => {}
        }
    }
    String::new()
}

fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// An HPACK literal header field without indexing, new name, no Huffman coding.
fn literal(block: &mut Vec<u8>, name: &str, value: &str) {
    block.push(0x00);
    for text in [name, value] {
        block.push(text.len() as u8);
        block.extend_from_slice(text.as_bytes());
    }
}

fn answer(id: u32, reply: &CheckReply) -> Vec<u8> {
    let mut head = vec![0x88]; // :status 200 (static table entry 8)
    literal(&mut head, "content-type", "application/grpc");
    match reply {
        CheckReply::Status(status) => {
            // proto3 leaves a zero status (UNKNOWN) out of the message.
            let message: Vec<u8> = if *status == 0 {
                Vec::new()
            } else {
                vec![0x08, *status as u8]
            };
            let mut data = vec![0];
            data.extend_from_slice(&(message.len() as u32).to_be_bytes());
            data.extend_from_slice(&message);
            let mut trailers = Vec::new();
            literal(&mut trailers, "grpc-status", "0");
            let mut bytes = frame(HEADERS, END_HEADERS, id, &head);
            bytes.extend(frame(DATA, 0, id, &data));
            bytes.extend(frame(HEADERS, END_HEADERS | END_STREAM, id, &trailers));
            bytes
        }
        CheckReply::Error(code, message) => {
            // Trailers-only: one HEADERS frame ends the stream.
            literal(&mut head, "grpc-status", &code.to_string());
            literal(&mut head, "grpc-message", message);
            frame(HEADERS, END_HEADERS | END_STREAM, id, &head)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted client: what it sends, and everything the server wrote back.
    struct Script {
        input: io::Cursor<Vec<u8>>,
        output: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn check_request(service: &str) -> Vec<u8> {
        let mut message = vec![0x0a, service.len() as u8];
        message.extend_from_slice(service.as_bytes());
        let mut body = vec![0];
        body.extend_from_slice(&(message.len() as u32).to_be_bytes());
        body.extend_from_slice(&message);
        let mut bytes = PREFACE.to_vec();
        bytes.extend(frame(SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]));
        bytes.extend(frame(HEADERS, END_HEADERS, 1, &[0x83, 0x86]));
        bytes.extend(frame(DATA, END_STREAM, 1, &body));
        bytes.extend(frame(GOAWAY, 0, 0, &[0; 8]));
        bytes
    }

    fn run(input: Vec<u8>, reply: CheckReply) -> (Vec<u8>, Vec<String>) {
        let mut script = Script {
            input: io::Cursor::new(input),
            output: Vec::new(),
        };
        let mut asked = Vec::new();
        serve_connection(&mut script, |service| {
            asked.push(service.to_string());
            reply.clone()
        })
        .unwrap();
        (script.output, asked)
    }

    #[test]
    fn answers_check_with_settings_first_then_headers_data_trailers() {
        let (out, asked) = run(check_request("api"), CheckReply::Status(2));
        assert_eq!(asked, ["api"]);
        // Our SETTINGS, then the ACK of the client's.
        assert_eq!(&out[..9], &frame(SETTINGS, 0, 0, &[])[..]);
        assert_eq!(&out[9..18], &frame(SETTINGS, ACK, 0, &[])[..]);
        let rest = &out[18..];
        assert_eq!(rest[3], HEADERS);
        let head_len = u32::from_be_bytes([0, rest[0], rest[1], rest[2]]) as usize;
        let data = &rest[9 + head_len..];
        assert_eq!(data[3], DATA);
        assert_eq!(&data[9..9 + 7], &[0, 0, 0, 0, 2, 0x08, 2]);
        let trailers = &data[16..];
        assert_eq!(
            (trailers[3], trailers[4]),
            (HEADERS, END_HEADERS | END_STREAM)
        );
        assert!(trailers.windows(11).any(|w| w == b"grpc-status"));
    }

    #[test]
    fn unknown_services_get_a_trailers_only_error() {
        let (out, asked) = run(check_request(""), CheckReply::Error(5, "unknown service"));
        assert_eq!(asked, [""]);
        let rest = &out[18..];
        assert_eq!((rest[3], rest[4]), (HEADERS, END_HEADERS | END_STREAM));
        assert!(rest.windows(15).any(|w| w == b"unknown service"));
    }

    #[test]
    fn not_http2_is_dropped_quietly() {
        let (out, asked) = run(
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            CheckReply::Status(1),
        );
        assert!(out.is_empty() && asked.is_empty());
    }
}
