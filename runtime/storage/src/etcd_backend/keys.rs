//! The mapping between wasmpod keys and etcd keys (the optional prefix).

use crate::{Result, StorageError};

#[derive(Debug, Clone)]
pub(crate) struct KeySpace {
    prefix: String,
}

impl KeySpace {
    pub(crate) fn new(prefix: &str) -> Self {
        KeySpace {
            prefix: prefix.to_owned(),
        }
    }

    pub(crate) fn to_etcd(&self, key: &str) -> Vec<u8> {
        let mut full = Vec::with_capacity(self.prefix.len() + key.len());
        full.extend_from_slice(self.prefix.as_bytes());
        full.extend_from_slice(key.as_bytes());
        full
    }

    pub(crate) fn strip_to_key(&self, key: &[u8]) -> Result<String> {
        let stripped = key
            .strip_prefix(self.prefix.as_bytes())
            .ok_or_else(|| backend_key_error(key, "outside the key prefix"))?;
        String::from_utf8(stripped.to_vec()).map_err(|_| backend_key_error(key, "not UTF-8"))
    }

    /// The etcd range `[start, end)` of keys starting with `prefix`, strictly after
    /// `start_after_key` when that lies within it (as `MemoryStorage::list` does).
    pub(crate) fn list_range(
        &self,
        prefix: &str,
        start_after_key: Option<&str>,
    ) -> (Vec<u8>, Vec<u8>) {
        let prefix_key = self.to_etcd(prefix);
        let end = prefix_range_end(&prefix_key);
        let start = match start_after_key {
            Some(after) if after >= prefix => {
                let mut start = self.to_etcd(after);
                // The smallest key greater than `after`.
                start.push(0);
                start
            }
            _ if prefix_key.is_empty() => vec![0],
            _ => prefix_key,
        };
        (start, end)
    }
}

/// etcd's range end for "every key starting with `prefix`": the prefix with its last byte
/// below 0xff incremented; `\0` (no upper bound) when there is no such byte.
pub(crate) fn prefix_range_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

fn backend_key_error(key: &[u8], why: &str) -> StorageError {
    StorageError::Backend(format!(
        "etcd key {:?} is {why}",
        String::from_utf8_lossy(key)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_end_increments_the_last_byte_below_0xff() {
        assert_eq!(prefix_range_end(b"/a/"), b"/a0".to_vec());
        assert_eq!(prefix_range_end(b"a\xff\xff"), b"b".to_vec());
        assert_eq!(prefix_range_end(b""), vec![0]);
        assert_eq!(prefix_range_end(b"\xff"), vec![0]);
    }

    #[test]
    fn list_range_starts_after_the_continue_key_inside_the_prefix() {
        let keys = KeySpace::new("/t1");
        let (start, end) = keys.list_range("/p/", Some("/p/b"));
        assert_eq!((start, end), (b"/t1/p/b\0".to_vec(), b"/t1/p0".to_vec()));
        let (start, _) = keys.list_range("/p/", Some("/a"));
        assert_eq!(start, b"/t1/p/".to_vec());
        assert_eq!(keys.strip_to_key(b"/t1/p/x").unwrap(), "/p/x");
        assert!(keys.strip_to_key(b"/t2/p/x").is_err());
    }

    #[test]
    fn empty_prefix_lists_everything() {
        let keys = KeySpace::new("");
        assert_eq!(keys.list_range("", None), (vec![0], vec![0]));
    }
}
