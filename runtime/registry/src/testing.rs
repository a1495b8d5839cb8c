//! A real `docker-registry` (Debian's package: distribution 2.8) on a free loopback port with
//! throwaway filesystem storage, optionally with htpasswd auth and TLS — for this crate's
//! tests and the end-to-end tests of the node that pulls from it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = "docker-registry";

pub struct TestRegistry {
    child: Child,
    directory: tempfile::TempDir,
    /// `127.0.0.1:<port>`
    pub host: String,
    /// For a TLS registry: the PEM file of the CA that signed its certificate.
    pub ca_file: Option<PathBuf>,
}

impl TestRegistry {
    /// A plain-HTTP registry, open or with one htpasswd user. None (after saying why) when
    /// the registry binary is not installed.
    pub fn start(htpasswd_user: Option<(&str, &str)>) -> Option<TestRegistry> {
        Self::start_with(htpasswd_user, false)
    }

    /// As `start`, serving HTTPS with a certificate for 127.0.0.1 from a fresh CA
    /// (`ca_file`) when `tls` is set.
    pub fn start_with(htpasswd_user: Option<(&str, &str)>, tls: bool) -> Option<TestRegistry> {
        let Some(binary) = find_binary() else {
            eprintln!("SKIP: `{BINARY}` not found on PATH (apt-get install docker-registry)");
            return None;
        };
        let directory = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let storage = directory.path().join("storage");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            storage.display()
        );
        let ca_file = match tls {
            true => {
                let (ca, cert, key) = certificates();
                let paths = ["ca.pem", "cert.pem", "key.pem"].map(|n| directory.path().join(n));
                for (path, pem) in paths.iter().zip([&ca, &cert, &key]) {
                    std::fs::write(path, pem).expect("write TLS files");
                }
                config.push_str(&format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    paths[1].display(),
                    paths[2].display()
                ));
                Some(paths[0].clone())
            }
            false => None,
        };
        if let Some((user, password)) = htpasswd_user {
            let hash = bcrypt::hash(password, 4).expect("bcrypt");
            let path = directory.path().join("htpasswd");
            std::fs::write(&path, format!("{user}:{hash}\n")).expect("htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n",
                path.display()
            ));
        }
        let config_path = directory.path().join("config.yml");
        std::fs::write(&config_path, config).expect("config");
        let log = std::fs::File::create(directory.path().join("registry.log")).expect("log");
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn docker-registry");
        let registry = TestRegistry {
            child,
            directory,
            host,
            ca_file,
        };
        registry.wait_ready(Duration::from_secs(20));
        Some(registry)
    }

    /// Polls `GET /v2/` until it answers (200, or 401 with auth) or the deadline passes.
    fn wait_ready(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if self.ca_file.is_some() {
                // TLS: accepting connections is enough (the handshake is the client's test).
                if TcpStream::connect(&self.host).is_ok() {
                    return;
                }
            } else if let Ok(mut stream) = TcpStream::connect(&self.host) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let request = format!("GET /v2/ HTTP/1.0\r\nHost: {}\r\n\r\n", self.host);
                let mut reply = String::new();
                let answered = stream.write_all(request.as_bytes()).is_ok()
                    && stream.read_to_string(&mut reply).is_ok();
                // 200 when open, 401 when htpasswd auth is configured: either means up.
                if answered
                    && (reply.starts_with("HTTP/1.0 200") || reply.starts_with("HTTP/1.0 401"))
                {
                    return;
                }
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(self.directory.path().join("registry.log"))
                    .unwrap_or_default();
                panic!(
                    "registry on {} not ready within {limit:?}; log:\n{log}",
                    self.host
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The request lines the registry has logged so far (`GET /v2/app/blobs/sha256:… HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        let log =
            std::fs::read_to_string(self.directory.path().join("registry.log")).unwrap_or_default();
        log.lines()
            .filter_map(|line| {
                let start = line.find("\"")? + 1;
                let end = start + line[start..].find('"')?;
                let request = &line[start..end];
                request.contains(" /v2/").then(|| request.to_string())
            })
            .collect()
    }

    pub fn image(&self, repository_and_tag: &str) -> String {
        format!("{}/{repository_and_tag}", self.host)
    }

    /// The file distribution serves a blob from.
    pub fn blob_data_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
        self.directory
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|directory| directory.join(BINARY))
        .find(|candidate| candidate.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free port")
}

/// Flips every byte of a file, keeping its length (so only the digest can tell).
pub fn corrupt_file(path: &Path) {
    let content = std::fs::read(path).expect("read blob");
    std::fs::write(path, content.iter().map(|b| !b).collect::<Vec<u8>>()).expect("write blob");
}

/// A CA, and a serving certificate for 127.0.0.1 it signed (with its key), as PEM.
fn certificates() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::default();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "wasmpod test registry CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let key = rcgen::KeyPair::generate().expect("serving key");
    let mut params = rcgen::CertificateParams::default();
    params.subject_alt_names = vec![rcgen::SanType::IpAddress(std::net::IpAddr::from([
        127, 0, 0, 1,
    ]))];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params
        .signed_by(&key, &ca, &ca_key)
        .expect("serving certificate");
    (ca.pem(), cert.pem(), key.serialize_pem())
}
