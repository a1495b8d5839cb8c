//! Manifest loading (`kubectl apply -f` input): bytes → documents → typed, defaulted,
//! validated objects via `wasmpod_manifest::parse_set`.
//!
//! Invariants beyond "no panic":
//! * every error names a document (1-based) of this source, and renders a message;
//! * an accepted set is a fixed point: its objects written back as a JSON stream load
//!   again to the very same set (defaults are idempotent, validation still passes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmpod_manifest::{parse_set, ManifestSet};

const SOURCE: &str = "fuzz.yaml";

fuzz_target!(|data: &[u8]| {
    // Loading reads files with `read_to_string`: non-UTF-8 never reaches the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_set(SOURCE, text) {
        Err(error) => {
            let location = error
                .location()
                .expect("parsing never fails with a read error");
            assert_eq!(location.source, SOURCE);
            assert!(
                location.document >= 1,
                "documents are numbered from 1: {error}"
            );
            assert!(!error.to_string().is_empty());
        }
        Ok(set) => {
            let again = parse_set("again.json", &as_json_stream(&set))
                .unwrap_or_else(|e| panic!("accepted objects fail to load again: {e}"));
            assert_eq!(again, set, "loading is not a fixed point");
        }
    }
});

fn as_json_stream(set: &ManifestSet) -> String {
    let mut out = String::new();
    let objects = set
        .pods
        .iter()
        .map(serde_json::to_string)
        .chain(set.config_maps.iter().map(serde_json::to_string))
        .chain(set.secrets.iter().map(serde_json::to_string));
    for object in objects {
        out.push_str(&object.expect("typed objects serialize"));
        out.push('\n');
    }
    out
}
