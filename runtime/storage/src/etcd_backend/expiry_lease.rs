//! Expiring keys are attached to an etcd lease whose id encodes the requested expiry, so that
//! `KeyValue::expires_at` can be read back from any key without an extra lease lookup.
//!
//! Layout of the (positive) i64 id: bits 58..=62 hold a tag, bits 16..=57 the expiry in Unix
//! milliseconds (enough until 2109), bits 0..=15 are random so that keys expiring in the same
//! millisecond get distinct leases. Leases not made this way (tag mismatch) decode to `None`.

use std::time::{Duration, SystemTime};

use crate::time::{from_unix_millis, to_unix_millis};

const TAG: i64 = 0b10101;
const TAG_SHIFT: u32 = 58;
const MILLIS_SHIFT: u32 = 16;
const MILLIS_MASK: i64 = (1 << (TAG_SHIFT - MILLIS_SHIFT)) - 1;

pub(crate) fn encode(expires_at: SystemTime, random: u16) -> i64 {
    let millis = to_unix_millis(expires_at).clamp(0, MILLIS_MASK);
    (TAG << TAG_SHIFT) | (millis << MILLIS_SHIFT) | i64::from(random)
}

pub(crate) fn decode(lease_id: i64) -> Option<SystemTime> {
    if lease_id <= 0 || lease_id >> TAG_SHIFT != TAG {
        return None;
    }
    Some(from_unix_millis((lease_id >> MILLIS_SHIFT) & MILLIS_MASK))
}

/// The lease TTL in whole seconds that outlives `expires_at` (etcd raises TTLs below its
/// minimum, 1.5 × election timeout, by itself).
pub(crate) fn ttl_seconds(expires_at: SystemTime, now: SystemTime) -> i64 {
    let remaining = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
    let seconds = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    i64::try_from(seconds.max(1)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn round_trips_the_expiry_in_milliseconds() {
        let at = UNIX_EPOCH + Duration::from_millis(1_900_000_000_123);
        let id = encode(at, 0xbeef);
        assert!(id > 0);
        assert_eq!(decode(id), Some(at));
        assert_ne!(encode(at, 1), encode(at, 2));
    }

    #[test]
    fn foreign_lease_ids_have_no_expiry() {
        assert_eq!(decode(0), None);
        assert_eq!(decode(0x694d_8a2f_1234_5678), None);
        assert_eq!(decode(-5), None);
    }

    #[test]
    fn ttl_rounds_up_and_is_at_least_one_second() {
        let now = UNIX_EPOCH + Duration::from_secs(100);
        assert_eq!(ttl_seconds(now + Duration::from_millis(2_001), now), 3);
        assert_eq!(ttl_seconds(now + Duration::from_secs(2), now), 2);
        assert_eq!(ttl_seconds(now - Duration::from_secs(2), now), 1);
    }
}
