//! Pod IPs: one loopback address per pod from 127.0.0.0/8, unique on the host.
//!
//! Uniqueness across wasmpod processes comes from byte-range locks on one shared lock file in
//! the system temp dir (byte N locked = address FIRST+N taken). They are open-file-description
//! locks: the OS releases them when the holder exits, even on a crash, and each process holds
//! one descriptor for all its pods rather than one per pod (10,000 pods fit in a process's
//! descriptor limit). Within the process a set of held addresses answers first, so allocation
//! costs no system call per address already in use here. Addresses are handed out round-robin,
//! like the kubelet's host-local IPAM, so a deleted pod's address is not reused at once.
//! 127.0.0.0/16 is skipped so a pod never gets 127.0.0.1 (nor resolvers like 127.0.0.53).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum IpError {
    #[error("cannot open the pod IP lock file {path}: {source}")]
    LockFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no free pod IP left in 127.0.0.0/8")]
    Exhausted,
}

/// A pod IP, held until dropped.
pub struct PodIp {
    pub address: Ipv4Addr,
}

impl Drop for PodIp {
    fn drop(&mut self) {
        let raw = u32::from(self.address);
        let mut allocator = ALLOCATOR.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(allocator) = allocator.as_mut() {
            allocator.held.remove(&raw);
            let _ = range_lock(&allocator.file, raw - FIRST, libc::F_UNLCK);
        }
    }
}

const FIRST: u32 = u32::from_be_bytes([127, 1, 0, 1]);
const LAST: u32 = u32::from_be_bytes([127, 255, 255, 254]);

struct Allocator {
    file: File,
    held: HashSet<u32>,
    next: u32,
}

static ALLOCATOR: Mutex<Option<Allocator>> = Mutex::new(None);

fn lock_path() -> PathBuf {
    std::env::temp_dir().join("wasmpod-pod-ips.lock")
}

/// Takes the next free address after the last one handed out.
pub fn allocate() -> Result<PodIp, IpError> {
    let mut guard = ALLOCATOR.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        let path = lock_path();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|source| IpError::LockFile { path, source })?;
        *guard = Some(Allocator {
            file,
            held: HashSet::new(),
            next: FIRST,
        });
    }
    let allocator = guard.as_mut().expect("initialised above");
    let span = LAST - FIRST + 1;
    for step in 0..span {
        let raw = FIRST + (allocator.next - FIRST + step) % span;
        let last_octet = raw & 0xff;
        if last_octet == 0 || last_octet == 255 || allocator.held.contains(&raw) {
            continue;
        }
        if range_lock(&allocator.file, raw - FIRST, libc::F_WRLCK).is_ok() {
            allocator.held.insert(raw);
            allocator.next = if raw == LAST { FIRST } else { raw + 1 };
            return Ok(PodIp {
                address: Ipv4Addr::from(raw),
            });
        }
    }
    Err(IpError::Exhausted)
}

/// Sets (F_WRLCK) or clears (F_UNLCK) the open-file-description lock on byte `offset`,
/// without waiting.
fn range_lock(file: &File, offset: u32, kind: libc::c_int) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: an all-zero `flock` is a valid value; the fields that matter are set below.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = kind as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    lock.l_start = libc::off_t::from(offset);
    lock.l_len = 1;
    // SAFETY: the descriptor is open for the file's lifetime and `lock` outlives the call.
    let result = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &lock) };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_unique_and_never_127_0_0_1() {
        let a = allocate().unwrap();
        let b = allocate().unwrap();
        assert_ne!(a.address, b.address);
        for ip in [a.address, b.address] {
            assert!(ip.is_loopback());
            assert_ne!(ip.octets()[1], 0);
        }
    }

    /// Another process's lock (here: another open file description, which the kernel treats
    /// the same way) keeps an address from being handed out.
    #[test]
    fn an_address_locked_elsewhere_is_skipped() {
        let probe = allocate().unwrap();
        let next = u32::from(probe.address) + 1;
        let other = OpenOptions::new()
            .read(true)
            .write(true)
            .open(lock_path())
            .unwrap();
        if range_lock(&other, next - FIRST, libc::F_WRLCK).is_err() {
            return; // a test running beside this one took it first
        }
        let taken = allocate().unwrap();
        assert_ne!(u32::from(taken.address), next);
        // Released when that holder lets go.
        range_lock(&other, next - FIRST, libc::F_UNLCK).unwrap();
        drop(probe);
    }
}
