//! `wget` (plain HTTP/1.0) and `nc -z`, over whatever sockets the host grants the guest.

use crate::io::{error_text, Io, Sink};
use crate::shell::Shell;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// `http://host[:port]/path` → (host, port, path).
pub fn parse_url(url: &str) -> Option<(String, u16, String)> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| (!url.contains("://")).then_some(url))?;
    let (authority, path) = match rest.find('/') {
        Some(cut) => (&rest[..cut], &rest[cut..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit('@').next()?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || port.chars().all(|c| c.is_ascii_digit()) => {
            (host, port.parse().ok()?)
        }
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_string(), port, path.to_string()))
}

/// Connects with a deadline where the platform supports one (plain connect otherwise).
fn connect(address: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    match TcpStream::connect_timeout(&address, timeout) {
        Err(error) if error.kind() == std::io::ErrorKind::Unsupported => {
            TcpStream::connect(address)
        }
        result => result,
    }
}

/// `localhost` is answered here, as /etc/hosts would: a Wasm container has no hosts file and
/// may have no name lookup at all.
fn resolve(host: &str, port: u16) -> Option<SocketAddr> {
    if host == "localhost" {
        return Some(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    (host, port).to_socket_addrs().ok()?.next()
}

/// `wget [-q] [-O file|-] [-T secs] [--spider] URL`.
pub fn wget(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let mut quiet = false;
    let mut spider = false;
    let mut output: Option<String> = None;
    let mut timeout = 900u64;
    let mut url = None;
    let mut args = argv[1..].iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-q" | "--quiet" => quiet = true,
            "-s" | "--spider" => spider = true,
            "-O" => output = args.next().cloned(),
            "-T" => timeout = args.next().and_then(|t| t.parse().ok()).unwrap_or(timeout),
            "-Y" | "-U" | "--header" | "-P" => {
                args.next();
            }
            _ if arg.starts_with("-O") && arg.len() > 2 => output = Some(arg[2..].to_string()),
            _ if arg.starts_with("-T") && arg.len() > 2 => {
                timeout = arg[2..].parse().unwrap_or(timeout)
            }
            _ if arg.starts_with("--timeout=") => timeout = arg[10..].parse().unwrap_or(timeout),
            _ if arg.starts_with("-qO") => {
                quiet = true;
                output = Some(arg[3..].to_string())
                    .filter(|o| !o.is_empty())
                    .or_else(|| args.next().cloned());
            }
            _ if arg.starts_with('-') => {}
            _ => url = Some(arg.clone()),
        }
    }
    let Some(url) = url else {
        io.error(format_args!("wget: missing URL"));
        return 1;
    };
    let Some((host, port, path)) = parse_url(&url) else {
        io.error(format_args!("wget: not an http or ftp url: {url}"));
        return 1;
    };
    let Some(address) = resolve(&host, port) else {
        io.error(format_args!("wget: bad address '{host}'"));
        return 1;
    };
    if !quiet {
        io.error(format_args!("Connecting to {host} ({address})"));
    }
    let timeout = Duration::from_secs(timeout.max(1));
    let response = match fetch(address, &host, port, &path, spider, timeout) {
        Ok(response) => response,
        Err(FetchError::Connect(error)) => {
            io.error(format_args!(
                "wget: can't connect to remote host ({}): {}",
                address.ip(),
                error_text(&error)
            ));
            return 1;
        }
        Err(FetchError::Transfer(error)) => {
            io.error(format_args!(
                "wget: error getting response: {}",
                error_text(&error)
            ));
            return 1;
        }
        Err(FetchError::Malformed) => {
            io.error(format_args!("wget: error getting response"));
            return 1;
        }
    };
    if !(200..300).contains(&response.status) {
        io.error(format_args!(
            "wget: server returned error: {}",
            response.status_line
        ));
        return 1;
    }
    if spider {
        if !quiet {
            io.error(format_args!("remote file exists"));
        }
        return 0;
    }
    let name = output.unwrap_or_else(|| {
        let base = path
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("");
        if base.is_empty() {
            "index.html".into()
        } else {
            base.into()
        }
    });
    if name == "-" {
        let _ = io.stdout.write_all(&response.body);
        return 0;
    }
    match File::create(shell.resolve(&name)) {
        Ok(file) => {
            let _ = Sink::file(file).write_all(&response.body);
            if !quiet {
                io.error(format_args!("saving to '{name}'\n'{name}' saved"));
            }
            0
        }
        Err(error) => {
            io.error(format_args!(
                "wget: can't open '{name}': {}",
                error_text(&error)
            ));
            1
        }
    }
}

pub struct Response {
    pub status: u16,
    pub status_line: String,
    pub body: Vec<u8>,
}

pub enum FetchError {
    Connect(std::io::Error),
    Transfer(std::io::Error),
    Malformed,
}

/// One HTTP/1.0 request; the body is everything after the headers until the server closes.
pub fn fetch(
    address: SocketAddr,
    host: &str,
    port: u16,
    path: &str,
    head: bool,
    timeout: Duration,
) -> Result<Response, FetchError> {
    let mut stream = connect(address, timeout).map_err(FetchError::Connect)?;
    let _ = stream.set_read_timeout(Some(timeout));
    let method = if head { "HEAD" } else { "GET" };
    let host_header = if port == 80 {
        host.to_string()
    } else {
        format!("{host}:{port}")
    };
    let request = format!("{method} {path} HTTP/1.0\r\nHost: {host_header}\r\nUser-Agent: Wget\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(FetchError::Transfer)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(FetchError::Transfer)?;
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or(FetchError::Malformed)?;
    let head_text = String::from_utf8_lossy(&raw[..split]);
    let status_line = head_text.lines().next().unwrap_or("").trim().to_string();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or(FetchError::Malformed)?;
    Ok(Response {
        status,
        status_line,
        body: raw[split + 4..].to_vec(),
    })
}

/// `nc -z [-w secs] host port`: exit 0 when a connection can be made. Data transfer is not
/// supported.
pub fn nc(_: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let mut timeout = 5u64;
    let mut operands = Vec::new();
    let mut zero_io = false;
    let mut args = argv[1..].iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-w" => timeout = args.next().and_then(|t| t.parse().ok()).unwrap_or(timeout),
            _ if arg.starts_with('-') => {
                zero_io |= arg.contains('z');
                if let Some(wait) = arg
                    .split_once('w')
                    .map(|(_, t)| t)
                    .filter(|t| !t.is_empty())
                {
                    timeout = wait.parse().unwrap_or(timeout);
                }
            }
            _ => operands.push(arg.clone()),
        }
    }
    let [host, port] = operands.as_slice() else {
        io.error(format_args!("nc: usage: nc -z [-w SECS] HOST PORT"));
        return 1;
    };
    let Ok(port) = port.parse::<u16>() else {
        io.error(format_args!("nc: bad port '{port}'"));
        return 1;
    };
    let Some(address) = resolve(host, port) else {
        io.error(format_args!("nc: bad address '{host}'"));
        return 1;
    };
    match connect(address, Duration::from_secs(timeout.max(1))) {
        Ok(_) if zero_io => 0,
        Ok(_) => {
            io.error(format_args!("nc: only -z (connect test) is supported"));
            1
        }
        Err(error) => {
            io.error(format_args!(
                "nc: can't connect to remote host ({}): {}",
                address.ip(),
                error_text(&error)
            ));
            1
        }
    }
}
