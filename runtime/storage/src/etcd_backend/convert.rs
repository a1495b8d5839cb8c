//! etcd's key-values and events in wasmpod's types.

use bytes::Bytes;
use etcd_client::{Event, EventType};

use super::expiry_lease;
use super::keys::KeySpace;
use crate::{KeyValue, Result, WatchEvent};

pub(crate) fn key_value(keys: &KeySpace, kv: &etcd_client::KeyValue) -> Result<KeyValue> {
    Ok(KeyValue {
        key: keys.strip_to_key(kv.key())?,
        value: Bytes::copy_from_slice(kv.value()),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
        version: kv.version(),
        expires_at: expiry_lease::decode(kv.lease()),
    })
}

/// `None` for events without a key-value (never sent by etcd).
pub(crate) fn watch_event(keys: &KeySpace, event: &Event) -> Result<Option<WatchEvent>> {
    let Some(kv) = event.kv() else {
        return Ok(None);
    };
    let prev = event
        .prev_kv()
        .map(|prev| key_value(keys, prev))
        .transpose()?;
    Ok(Some(match event.event_type() {
        EventType::Put => WatchEvent::Put {
            kv: key_value(keys, kv)?,
            // A create has no previous value; etcd may still send a stale one after a
            // delete-and-recreate, which is not this generation's.
            prev: prev.filter(|_| kv.version() > 1),
        },
        EventType::Delete => {
            let revision = kv.mod_revision();
            // prev_kv is missing only when the previous revision was compacted away.
            let prev = match prev {
                Some(prev) => prev,
                None => KeyValue {
                    key: keys.strip_to_key(kv.key())?,
                    value: Bytes::new(),
                    create_revision: 0,
                    mod_revision: 0,
                    version: 0,
                    expires_at: None,
                },
            };
            WatchEvent::Delete { prev, revision }
        }
    }))
}
