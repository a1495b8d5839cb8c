//! Pod UIDs, container IDs and generated name suffixes: random, or on a simulated node
//! given a seed, a repeatable sequence (so a simulation prints the same text every run).

use std::sync::Mutex;

pub struct IdSource {
    seeded: Option<Mutex<SplitMix64>>,
}

impl IdSource {
    pub fn random() -> Self {
        IdSource { seeded: None }
    }

    pub fn seeded(seed: u64) -> Self {
        IdSource {
            seeded: Some(Mutex::new(SplitMix64(seed))),
        }
    }

    /// A version-4 UUID.
    pub fn uuid(&self) -> uuid::Uuid {
        match &self.seeded {
            None => uuid::Uuid::new_v4(),
            Some(state) => {
                let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
                let high = u128::from(state.next());
                let low = u128::from(state.next());
                uuid::Builder::from_random_bytes(((high << 64) | low).to_be_bytes()).into_uuid()
            }
        }
    }
}

/// Steele, Lea and Flood's SplitMix64: tiny, and plenty for identifiers.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::IdSource;

    #[test]
    fn a_seed_repeats_its_sequence_and_ids_are_v4() {
        let (a, b) = (IdSource::seeded(7), IdSource::seeded(7));
        let first = a.uuid();
        assert_eq!(first, b.uuid());
        assert_ne!(first, a.uuid());
        assert_eq!(first.get_version_num(), 4);
        assert_ne!(IdSource::seeded(8).uuid(), first);
    }
}
