//! What this process holds, read from /proc: resident memory, descriptors, threads, and the
//! TCP sockets it listens on. Used by the long-run sections to see whether anything grows.

use std::collections::HashSet;

use serde_json::{json, Value};

/// One reading of the process's resources.
#[derive(Debug, Clone, Copy)]
pub struct Resources {
    pub rss_bytes: u64,
    pub fds: usize,
    pub threads: usize,
    pub listeners: usize,
}

impl Resources {
    pub fn now() -> Resources {
        Resources {
            rss_bytes: rss_bytes(),
            fds: open_fds(),
            threads: status_field("Threads:").unwrap_or(0) as usize,
            listeners: listening_tcp_sockets(),
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "rss_bytes": self.rss_bytes,
            "fds": self.fds,
            "threads": self.threads,
            "listening_tcp_sockets": self.listeners,
        })
    }
}

pub fn rss_bytes() -> u64 {
    status_field("VmRSS:").unwrap_or(0) * 1024
}

pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// A numeric field of /proc/self/status (`VmRSS:` in KiB, `Threads:` a count).
fn status_field(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(name))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// TCP sockets of this process in state LISTEN (0A): entries of /proc/net/tcp{,6} whose
/// inode is one of the sockets among /proc/self/fd. The tables list the whole network
/// namespace, so the inode match is what limits them to this process.
pub fn listening_tcp_sockets() -> usize {
    let ours: HashSet<u64> = std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let target = std::fs::read_link(entry.ok()?.path()).ok()?;
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect();
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .map(|table| {
            table
                .lines()
                .skip(1)
                .filter(|line| {
                    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    fields.get(3) == Some(&"0A")
                        && fields
                            .get(9)
                            .and_then(|inode| inode.parse::<u64>().ok())
                            .is_some_and(|inode| ours.contains(&inode))
                })
                .count()
        })
        .sum()
}

/// This process's threads grouped by name (`/proc/self/task/*/comm`), most common first:
/// says whose threads a growing count is (tokio's workers and blocking pool are all
/// `tokio-runtime-w`).
pub fn threads_by_name() -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten() {
        let Ok(task) = task else { continue };
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let name = name.trim().to_string();
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => counts.push((name, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}
