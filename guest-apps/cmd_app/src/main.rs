//! A program-style container, configured by env:
//! - `MODE=exit`: optionally sleeps `DELAY_MS`, then exits with `EXIT_CODE` (WASI 0.2 reports
//!   any non-zero code as 1).
//! - `MODE=serve` (default): binds `0.0.0.0:8080` itself (wasmpod rewrites that to the pod IP)
//!   and answers `ok` to every request, logging `request <path>` and any `Custom-*` header;
//!   `GET /exit/N` exits with N after answering.
//! - `MODE=connect`: tries to connect to `TARGET` and prints the outcome; exit 0 if connected.
//! - `MODE=graceful`: like `serve`, but checks `wasmpod:container/termination` between
//!   accepts and exits 0 when asked to stop.
//! - run as `cmd_app probe N` (an exec probe's fresh instance): prints `probe says N`, exits N.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

wit_bindgen::generate!({ path: "../../wit", world: "program" });

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn main() {
    let mode = env("MODE").unwrap_or_else(|| "serve".into());
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("probe") {
        let code: i32 = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(0);
        println!("probe says {code}");
        eprintln!("(stderr comes after stdout)");
        std::process::exit(code);
    }
    println!("cmd_app starting: mode={mode} args={args:?}");
    if let Some(ms) = env("DELAY_MS").and_then(|v| v.parse().ok()) {
        std::thread::sleep(Duration::from_millis(ms));
    }
    match mode.as_str() {
        "exit" => {
            let code: i32 = env("EXIT_CODE").and_then(|v| v.parse().ok()).unwrap_or(0);
            println!("exiting with {code}");
            std::process::exit(code);
        }
        "connect" => {
            let target = env("TARGET").unwrap_or_else(|| "127.0.0.1:80".into());
            match TcpStream::connect(&target) {
                Ok(_) => println!("connected to {target}"),
                Err(error) => {
                    println!("cannot connect to {target}: {error}");
                    std::process::exit(1);
                }
            }
        }
        "graceful" => serve_gracefully(),
        _ => serve(),
    }
}

fn serve_gracefully() {
    let listener = TcpListener::bind("0.0.0.0:8080").expect("listen");
    listener.set_nonblocking(true).expect("non-blocking accept");
    println!("listening on {:?}", listener.local_addr());
    loop {
        if wasmpod::container::termination::requested() {
            println!("stop requested: shutting down");
            return;
        }
        match listener.accept() {
            Ok((stream, _)) => answer(stream),
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => eprintln!("accept: {error}"),
        }
    }
}

fn answer(mut stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let mut request_line = String::new();
    let _ = BufReader::new(&stream).read_line(&mut request_line);
    let _ =
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n");
}

fn serve() {
    let listener = match TcpListener::bind("0.0.0.0:8080") {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen: {error}");
            std::process::exit(1);
        }
    };
    println!("listening on {:?}", listener.local_addr());
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let mut request_line = String::new();
        let mut reader = BufReader::new(&stream);
        if reader.read_line(&mut request_line).is_err() {
            continue;
        }
        // Drain the headers so the client sees a clean exchange; headers a test sets on
        // purpose (a probe's httpHeaders, say) are logged.
        let mut custom = Vec::new();
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
            if line.to_ascii_lowercase().starts_with("custom-") {
                custom.push(line.trim_end().to_string());
            }
            line.clear();
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_string();
        println!("request {path}");
        for header in custom {
            println!("header {header}");
        }
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n");
        let _ = stream.flush();
        drop(stream);
        if let Some(code) = path.strip_prefix("/exit/").and_then(|n| n.parse().ok()) {
            std::process::exit(code);
        }
    }
}
