//! A minimal blocking HTTP/1.1 client for the measuring threads: plain std sockets, so the
//! measurement adds no runtime of its own to the node it measures.

use std::io::{BufRead, BufReader, Read, Write};
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

/// A keep-alive HTTP/1.1 connection, as an API client like kubectl keeps one: requests go
/// one after the other over the same socket (reconnecting once if the server closed it).
pub struct Connection {
    address: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Connection {
    pub fn new(address: &str) -> Connection {
        Connection {
            address: address.to_string(),
            stream: None,
        }
    }

    /// Sends one request; the status and body.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        json_body: Option<&str>,
    ) -> std::io::Result<(u16, Vec<u8>)> {
        match self.try_request(method, path, json_body) {
            Ok(answer) => Ok(answer),
            Err(_) => {
                // A keep-alive connection the server closed meanwhile: once more, afresh.
                self.stream = None;
                self.try_request(method, path, json_body)
            }
        }
    }

    fn try_request(
        &mut self,
        method: &str,
        path: &str,
        json_body: Option<&str>,
    ) -> std::io::Result<(u16, Vec<u8>)> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.address)?;
            stream.set_nodelay(true)?;
            self.stream = Some(BufReader::new(stream));
        }
        let reader = self.stream.as_mut().expect("connected above");
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.address);
        if let Some(body) = json_body {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ));
        } else {
            request.push_str("\r\n");
        }
        reader.get_mut().write_all(request.as_bytes())?;
        let answer = read_response(reader);
        if !matches!(answer, Ok((_, _, true))) {
            self.stream = None;
        }
        answer.map(|(status, body, _)| (status, body))
    }
}

/// Status, body, and whether the connection stays open.
fn read_response(reader: &mut BufReader<TcpStream>) -> std::io::Result<(u16, Vec<u8>, bool)> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(invalid("connection closed"));
    }
    let status: u16 = line
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("no status line"))?;
    let (mut length, mut chunked, mut close) = (None, false, false);
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((header, ""));
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => close = value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| invalid("bad chunk size"))?;
            if size == 0 {
                // Trailers (none expected) end with an empty line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_line(&mut line)?;
        }
    } else if let Some(length) = length {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else {
        reader.read_to_end(&mut body)?;
        close = true;
    }
    Ok((status, body, !close))
}
