//! Pod IPs: one loopback address per pod from 127.0.0.0/8, unique on the host.
//!
//! Uniqueness across wasmpod processes comes from a lock file per address in the system temp
//! dir: the OS releases the lock when the holder exits, even on a crash. 127.0.0.0/16 is
//! skipped so a pod never gets 127.0.0.1 (nor resolvers like 127.0.0.53).

use std::fs::{File, OpenOptions};
use std::net::Ipv4Addr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IpError {
    #[error("cannot create the pod IP lock directory {path}: {source}")]
    LockDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no free pod IP left in 127.0.0.0/8")]
    Exhausted,
}

/// A pod IP, held until dropped. The lock files stay behind on purpose: deleting one could
/// let two processes lock different inodes under the same name.
pub struct PodIp {
    pub address: Ipv4Addr,
    _lock: File,
}

const FIRST: u32 = u32::from_be_bytes([127, 1, 0, 1]);
const LAST: u32 = u32::from_be_bytes([127, 255, 255, 254]);

fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("wasmpod-pod-ips")
}

/// Takes the lowest free address.
pub fn allocate() -> Result<PodIp, IpError> {
    let dir = lock_dir();
    std::fs::create_dir_all(&dir).map_err(|source| IpError::LockDir {
        path: dir.clone(),
        source,
    })?;
    for raw in FIRST..=LAST {
        let address = Ipv4Addr::from(raw);
        let last_octet = address.octets()[3];
        if last_octet == 0 || last_octet == 255 {
            continue;
        }
        let path = dir.join(address.to_string());
        let Ok(file) = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
        else {
            continue;
        };
        if file.try_lock().is_ok() {
            return Ok(PodIp {
                address,
                _lock: file,
            });
        }
    }
    Err(IpError::Exhausted)
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_are_unique_and_never_127_0_0_1() {
        let a = super::allocate().unwrap();
        let b = super::allocate().unwrap();
        assert_ne!(a.address, b.address);
        for ip in [a.address, b.address] {
            assert!(ip.is_loopback());
            assert_ne!(ip.octets()[1], 0);
        }
    }
}
