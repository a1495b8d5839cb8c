//! A minimal blocking HTTP/1.1 client for the measuring threads: plain std sockets, so the
//! measurement adds no runtime of its own to the node it measures.

use std::io::{Read, Write};
use std::net::TcpStream;

/// GET `path` with `Connection: close`: the status and body, or None when the connection is
/// refused or breaks.
pub fn get(address: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_nodelay(true).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.get(9..12)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())?;
    Some((status, body))
}

/// The body when the status is 200.
pub fn get_ok(address: &str, path: &str) -> Option<String> {
    get(address, path).and_then(|(status, body)| (status == 200).then_some(body))
}
