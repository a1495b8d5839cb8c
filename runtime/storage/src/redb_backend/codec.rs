//! Byte layout of the redb tables. Hand-rolled (little-endian, length-prefixed) because values
//! are opaque bytes and the layout must never change silently; decoding is bounds-checked and
//! reports corruption instead of panicking.

use bytes::Bytes;

use crate::time::{from_unix_millis, to_unix_millis};
use crate::{KeyValue, WatchEvent};

const FORMAT_VERSION: u8 = 1;
const EVENT_PUT: u8 = 0;
const EVENT_DELETE: u8 = 1;

/// A history row: the event plus when it was committed (for age-based retention).
pub(crate) struct HistoryRecord {
    pub committed_millis: i64,
    pub event: WatchEvent,
}

pub(crate) fn encode_object(kv: &KeyValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(kv.value.len() + 34);
    write_object_fields(&mut out, kv);
    out.extend_from_slice(&kv.value);
    out
}

pub(crate) fn decode_object(key: &str, bytes: &[u8]) -> Result<KeyValue, String> {
    let mut reader = Reader::new(bytes);
    let kv = read_object_fields(&mut reader, key.to_owned())?;
    let value = Bytes::copy_from_slice(reader.rest());
    Ok(KeyValue { value, ..kv })
}

pub(crate) fn encode_history(record: &HistoryRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&record.committed_millis.to_le_bytes());
    match &record.event {
        WatchEvent::Put { kv, prev } => {
            out.push(EVENT_PUT);
            write_full_kv(&mut out, kv);
            match prev {
                Some(prev) => {
                    out.push(1);
                    write_full_kv(&mut out, prev);
                }
                None => out.push(0),
            }
        }
        WatchEvent::Delete { prev, .. } => {
            out.push(EVENT_DELETE);
            write_full_kv(&mut out, prev);
        }
    }
    out
}

pub(crate) fn decode_history(revision: i64, bytes: &[u8]) -> Result<HistoryRecord, String> {
    let mut reader = Reader::new(bytes);
    check_version(&mut reader)?;
    let committed_millis = reader.i64()?;
    let event = match reader.u8()? {
        EVENT_PUT => {
            let kv = read_full_kv(&mut reader)?;
            let prev = match reader.u8()? {
                0 => None,
                1 => Some(read_full_kv(&mut reader)?),
                other => return Err(format!("bad prev marker {other} in history {revision}")),
            };
            WatchEvent::Put { kv, prev }
        }
        EVENT_DELETE => WatchEvent::Delete {
            prev: read_full_kv(&mut reader)?,
            revision,
        },
        other => return Err(format!("unknown event kind {other} in history {revision}")),
    };
    if event.revision() != revision {
        return Err(format!(
            "history row {revision} holds an event of revision {}",
            event.revision()
        ));
    }
    Ok(HistoryRecord {
        committed_millis,
        event,
    })
}

/// Only the commit time of a history row (retention reads it without decoding the event).
pub(crate) fn history_committed_millis(bytes: &[u8]) -> Result<i64, String> {
    let mut reader = Reader::new(bytes);
    check_version(&mut reader)?;
    reader.i64()
}

fn write_object_fields(out: &mut Vec<u8>, kv: &KeyValue) {
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&kv.create_revision.to_le_bytes());
    out.extend_from_slice(&kv.mod_revision.to_le_bytes());
    out.extend_from_slice(&kv.version.to_le_bytes());
    match kv.expires_at {
        Some(expires_at) => {
            out.push(1);
            out.extend_from_slice(&to_unix_millis(expires_at).to_le_bytes());
        }
        None => out.push(0),
    }
}

fn read_object_fields(reader: &mut Reader<'_>, key: String) -> Result<KeyValue, String> {
    check_version(reader)?;
    let create_revision = reader.i64()?;
    let mod_revision = reader.i64()?;
    let version = reader.i64()?;
    let expires_at = match reader.u8()? {
        0 => None,
        1 => Some(from_unix_millis(reader.i64()?)),
        other => return Err(format!("bad expiry marker {other} for key {key:?}")),
    };
    Ok(KeyValue {
        key,
        value: Bytes::new(),
        create_revision,
        mod_revision,
        version,
        expires_at,
    })
}

fn write_full_kv(out: &mut Vec<u8>, kv: &KeyValue) {
    write_bytes(out, kv.key.as_bytes());
    write_object_fields(out, kv);
    write_bytes(out, &kv.value);
}

fn read_full_kv(reader: &mut Reader<'_>) -> Result<KeyValue, String> {
    let key =
        String::from_utf8(reader.bytes()?.to_vec()).map_err(|_| "key is not UTF-8".to_owned())?;
    let kv = read_object_fields(reader, key)?;
    let value = Bytes::copy_from_slice(reader.bytes()?);
    Ok(KeyValue { value, ..kv })
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Keys and values are far below 4 GiB (redb refuses larger values anyway).
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}

fn check_version(reader: &mut Reader<'_>) -> Result<(), String> {
    match reader.u8()? {
        FORMAT_VERSION => Ok(()),
        other => Err(format!("unknown record format version {other}")),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < len {
            return Err(format!(
                "record truncated: needed {len} more bytes, {} left",
                self.bytes.len()
            ));
        }
        let (head, tail) = self.bytes.split_at(len);
        self.bytes = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn i64(&mut self) -> Result<i64, String> {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(self.take(8)?);
        Ok(i64::from_le_bytes(buf))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let mut buf = [0u8; 4];
        buf.copy_from_slice(self.take(4)?);
        let len = usize::try_from(u32::from_le_bytes(buf)).map_err(|e| e.to_string())?;
        self.take(len)
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn kv(key: &str, revision: i64) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Bytes::from_static(b"{\"a\":1}"),
            create_revision: 2,
            mod_revision: revision,
            version: 3,
            expires_at: Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)),
        }
    }

    #[test]
    fn objects_and_events_round_trip() {
        let object = kv("/registry/pods/default/a", 7);
        let encoded = encode_object(&object);
        assert_eq!(decode_object(&object.key, &encoded).unwrap(), object);

        for event in [
            WatchEvent::Put {
                kv: object.clone(),
                prev: Some(kv("/registry/pods/default/a", 5)),
            },
            WatchEvent::Put {
                kv: object.clone(),
                prev: None,
            },
            WatchEvent::Delete {
                prev: object.clone(),
                revision: 7,
            },
        ] {
            let record = HistoryRecord {
                committed_millis: 42,
                event: event.clone(),
            };
            let decoded = decode_history(7, &encode_history(&record)).unwrap();
            assert_eq!(decoded.event, event);
            assert_eq!(decoded.committed_millis, 42);
        }
    }

    #[test]
    fn truncated_or_garbage_records_are_errors_not_panics() {
        let record = HistoryRecord {
            committed_millis: 1,
            event: WatchEvent::Delete {
                prev: kv("/k", 4),
                revision: 9,
            },
        };
        let encoded = encode_history(&record);
        for len in 0..encoded.len() {
            assert!(decode_history(9, &encoded[..len]).is_err(), "prefix {len}");
        }
        let put = HistoryRecord {
            committed_millis: 1,
            event: WatchEvent::Put {
                kv: kv("/k", 4),
                prev: None,
            },
        };
        assert!(
            decode_history(5, &encode_history(&put)).is_err(),
            "revision mismatch"
        );
        assert!(decode_object("/k", &[9, 9, 9]).is_err());
    }
}
