//! Stands in for `redis` where only a TCP or PING health check looks at it (the Kubernetes
//! docs' pod-with-tcp-socket-healthcheck): listens on 6379, answers RESP `PING` with `+PONG`
//! and `ECHO x` with `x`, everything else with redis's unknown-command error. One connection at
//! a time. Exits 0 when asked to stop, as redis does on SIGTERM.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

wit_bindgen::generate!({ path: "../../wit", world: "program" });

fn main() {
    let listener = match TcpListener::bind("0.0.0.0:6379") {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("# Warning: Could not create server TCP listening socket *:6379: {error}");
            std::process::exit(1);
        }
    };
    let _ = listener.set_nonblocking(true);
    println!("1:M * Ready to accept connections tcp");
    loop {
        if wasmpod::container::termination::requested() {
            println!("1:signal-handler Received SIGTERM scheduling shutdown...");
            println!("1:M * Redis is now ready to exit, bye bye...");
            return;
        }
        match listener.accept() {
            Ok((stream, _)) => serve(stream),
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => {}
        }
    }
}

/// Reads and writes through one handle: `TcpStream::try_clone` is not supported on wasip2.
fn serve(stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    while let Some(command) = read_command(&mut reader) {
        if (&stream).write_all(reply(&command).as_bytes()).is_err() {
            return;
        }
    }
}

/// One command, as RESP array (`*1\r\n$4\r\nPING\r\n`) or inline (`PING\r\n`).
fn read_command(reader: &mut impl BufRead) -> Option<Vec<String>> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let line = line.trim_end();
    let Some(count) = line.strip_prefix('*') else {
        return Some(line.split_whitespace().map(str::to_string).collect());
    };
    let count: usize = count.parse().ok()?;
    let mut parts = Vec::with_capacity(count);
    for _ in 0..count {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let mut value = String::new();
        reader.read_line(&mut value).ok()?;
        parts.push(value.trim_end().to_string());
    }
    Some(parts)
}

fn reply(command: &[String]) -> String {
    let name = command
        .first()
        .map(|c| c.to_ascii_lowercase())
        .unwrap_or_default();
    match (name.as_str(), command.get(1)) {
        ("ping", None) => "+PONG\r\n".into(),
        ("ping", Some(message)) | ("echo", Some(message)) => {
            format!("${}\r\n{message}\r\n", message.len())
        }
        ("", _) => String::new(),
        _ => {
            let args: Vec<String> = command[1..].iter().map(|a| format!("'{a}'")).collect();
            format!(
                "-ERR unknown command '{}', with args beginning with: {}\r\n",
                command[0],
                args.join(" ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_ping_in_both_protocols() {
        let mut resp = BufReader::new(&b"*1\r\n$4\r\nPING\r\nPING\r\n"[..]);
        let first = read_command(&mut resp).unwrap();
        assert_eq!(reply(&first), "+PONG\r\n");
        let second = read_command(&mut resp).unwrap();
        assert_eq!(reply(&second), "+PONG\r\n");
        assert_eq!(
            reply(&["GET".into(), "k".into()]),
            "-ERR unknown command 'GET', with args beginning with: 'k'\r\n"
        );
    }
}
