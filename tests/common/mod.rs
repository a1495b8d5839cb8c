//! Shared helpers for the end-to-end tests: a private WASMPOD_HOME, the real binary, waiting
//! on conditions with deadlines, plain HTTP on loopback.
#![allow(dead_code)]

pub mod kubectl;
pub mod netns;
pub mod node;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const WASMPOD: &str = env!("CARGO_BIN_EXE_wasmpod");

/// A temp dir used as WASMPOD_HOME; the compiled-code cache is shared between tests so
/// each guest is compiled once per test run.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        let dir = tempfile::tempdir().expect("temp dir");
        let shared_cache = shared_compile_cache();
        let cache = dir.path().join("cache");
        std::fs::create_dir_all(&cache).expect("cache dir");
        std::os::unix::fs::symlink(&shared_cache, cache.join("compiled")).expect("link cache");
        Home { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        self.write_bytes(name, text.as_bytes())
    }

    pub fn write_bytes(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write file");
        path
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(WASMPOD);
        command
            .env("WASMPOD_HOME", self.path())
            .env_remove("WASMPOD_SERVER");
        command
    }

    /// Runs a short command to completion: (exit code, stdout, stderr).
    pub fn exec(&self, args: &[&str]) -> (i32, String, String) {
        let output = self.command().args(args).output().expect("run wasmpod");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Starts `wasmpod run` and waits until its API answers.
    pub fn run(&self, args: &[&str]) -> Running {
        let mut child = self
            .command()
            .arg("run")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn wasmpod run");
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        let running = Running {
            child,
            stdout,
            stderr,
        };
        let discovery = self.path().join("run/api-server");
        wait_until(Duration::from_secs(60), "the API to come up", || {
            discovery.exists().then_some(())
        });
        running
    }

    /// `wasmpod get pods NAME -o json` as JSON.
    pub fn pod(&self, name: &str) -> Option<Value> {
        let (code, out, _) = self.exec(&["get", "pods", name, "-o", "json"]);
        (code == 0).then(|| serde_json::from_str(&out).expect("pod json"))
    }
}

fn shared_compile_cache() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wasmpod-test-compile-cache-{}",
        env!("CARGO_PKG_VERSION")
    ));
    std::fs::create_dir_all(&dir).expect("shared cache dir");
    dir
}

fn collect(stream: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    std::thread::spawn(move || {
        let reader = BufReader::new(stream);
        for line in reader.lines() {
            let Ok(line) = line else { break };
            let mut text = sink.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    text
}

pub struct Running {
    pub child: Child,
    pub stdout: Arc<Mutex<String>>,
    pub stderr: Arc<Mutex<String>>,
}

impl Running {
    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits until the event stream on stdout contains `needle`.
    pub fn wait_for_output(&self, needle: &str, within: Duration) {
        wait_until(within, &format!("{needle:?} in the event stream"), || {
            self.stdout().contains(needle).then_some(())
        });
    }

    /// SIGTERM, then the exit code and everything printed.
    pub fn terminate(mut self) -> (i32, String, String) {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "wasmpod run did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader threads finish once the pipes close.
        std::thread::sleep(Duration::from_millis(100));
        (
            status.code().unwrap_or(-1),
            self.stdout(),
            self.stderr.lock().unwrap().clone(),
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Polls `check` until it yields a value or `within` passes (then fails naming `what`).
pub fn wait_until<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A loopback port free right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 GET on a fresh connection: (status, body).
pub fn http_get(address: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(parse_response(&response))
}

/// Status and (de-chunked) body of a raw HTTP/1.1 response; status 0 when it is not HTTP.
pub fn parse_response(response: &str) -> (u16, String) {
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, decode_chunked(&body))
}

fn decode_chunked(body: &str) -> String {
    // Responses without a length come chunked: `<hex>\r\n<data>\r\n…0\r\n\r\n`.
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else {
            return body.to_string();
        };
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_string();
        };
        if size == 0 {
            return out;
        }
        if after.len() < size {
            return body.to_string();
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
}

pub fn container_status(pod: &Value) -> &Value {
    &pod["status"]["containerStatuses"][0]
}

pub fn restart_count(pod: &Value) -> i64 {
    container_status(pod)["restartCount"].as_i64().unwrap_or(0)
}

/// A file of the repository (`examples/health1.yaml`).
pub fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}
