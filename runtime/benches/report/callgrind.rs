//! Instructions per request, counted by valgrind's callgrind: noise-free where wall-clock
//! figures are not. The report runs itself under callgrind twice as a child (`--callgrind-child
//! N`): a node with one fail-after-3 pod (no probes) answering N keep-alive requests from a
//! plain blocking client in the same process. The difference between N = 200 and N = 1,200,
//! divided by 1,000, is what one request costs the whole process: client syscalls, hyper,
//! the hand-off to the instance, the guest and back. Start-up cancels out.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use wasmpod::{Node, NodeConfig};

use crate::report::Report;
use crate::tools;

pub const CHILD_FLAG: &str = "--callgrind-child";
const FEW: usize = 200;
const MANY: usize = 1_200;

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: counted}
spec:
  containers:
  - name: app
    image: health_image:latest
    imagePullPolicy: IfNotPresent
    ports: [{containerPort: 8080}]
"#;

pub fn measure(report: &mut Report) {
    if !tools::installed("valgrind") {
        println!("instruction counts skipped: needs valgrind (apt-get install valgrind)");
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    let count = |requests: usize| -> Option<u64> {
        let exe = std::env::current_exe().ok()?;
        let output = Command::new("valgrind")
            .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
            .arg(exe)
            .args([CHILD_FLAG, &requests.to_string()])
            .env("WASMPOD_HOME", home.path())
            .output()
            .ok()?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        let collected = stderr.lines().find_map(|l| {
            l.split_once("Collected :")
                .map(|(_, n)| n.trim().to_string())
        });
        if !output.status.success() || collected.is_none() {
            println!(
                "callgrind run failed: {}",
                stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
            );
        }
        collected?.parse().ok()
    };
    // The first run fills the compile cache: valgrind's virtual CPU has other features than
    // the host's, so compiled code cached outside it does not match (a different engine
    // hash) and would be compiled inside the counted run.
    let _warm_up = count(1);
    let (Some(few), Some(many)) = (count(FEW), count(MANY)) else {
        return;
    };
    let per_request = many.saturating_sub(few) / (MANY - FEW) as u64;
    report.fact(
        "instructions per request (callgrind, keep-alive, whole process)",
        format!("{per_request}"),
        json!({"instructions_per_request": per_request}),
    );
}

/// The child's work: serve `requests` keep-alive requests from the pod, then exit.
pub fn child(home: &std::path::Path, requests: usize) {
    let runtime = crate::node_runtime();
    let node = runtime
        .block_on(async { Node::new(NodeConfig::new(home.to_path_buf())) })
        .expect("node");
    let pod = wasmpod::manifest::parse("counted.yaml", POD).expect("manifest");
    runtime
        .block_on(async { node.apply(pod) })
        .expect("admitted");
    let address = runtime.block_on(crate::restart::pod_address(&node, "counted", 8080));
    let mut stream = loop {
        if let Ok(stream) = TcpStream::connect(address) {
            break stream;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut buffer = vec![0u8; 4096];
    for _ in 0..requests {
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: counted\r\n\r\n")
            .expect("send");
        read_response(&mut stream, &mut buffer);
    }
    drop(stream);
    runtime.block_on(node.delete_all(Some(0)));
}

/// Reads one response (a Content-Length or a chunked body).
fn read_response(stream: &mut TcpStream, buffer: &mut [u8]) {
    let mut filled = 0;
    loop {
        let n = stream.read(&mut buffer[filled..]).expect("receive");
        assert!(n > 0, "connection closed");
        filled += n;
        let text = String::from_utf8_lossy(&buffer[..filled]);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            let chunked = head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked");
            if (chunked && body.ends_with("0\r\n\r\n")) || (!chunked && body.len() >= length) {
                return;
            }
        }
    }
}
