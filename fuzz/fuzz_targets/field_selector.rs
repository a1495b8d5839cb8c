//! Field selectors (`fields.ParseSelector` and the per-kind field label conversion).
//!
//! Invariants beyond "no panic": the canonical string of a parsed selector parses back
//! to a selector of the same terms, and its canonical string is then a fixed point (the
//! first round may reorder terms: like Go, parsing sorts the *raw* terms); kind checks
//! return errors, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmpod_apimachinery::FieldSelector;

const KINDS: &[&str] = &[
    "Pod",
    "Event",
    "ReplicaSet",
    "Secret",
    "Namespace",
    "Node",
    "ConfigMap",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(selector) = FieldSelector::parse(text) else {
        return;
    };
    let rendered = selector.to_string();
    let reparsed = FieldSelector::parse(&rendered)
        .unwrap_or_else(|e| panic!("canonical form {rendered:?} of {text:?} does not parse: {e}"));
    let rerendered = reparsed.to_string();
    assert_eq!(reparsed.is_empty(), selector.is_empty(), "{text:?}");
    assert_eq!(rerendered.len(), rendered.len(), "{text:?}: terms changed");
    let third = FieldSelector::parse(&rerendered)
        .unwrap_or_else(|e| panic!("{rerendered:?} does not parse: {e}"))
        .to_string();
    assert_eq!(
        third, rerendered,
        "{text:?}: canonical form is not a fixed point"
    );
    for kind in KINDS {
        match selector.clone().for_kind(kind) {
            Ok(converted) => assert!(converted.to_string().len() <= rendered.len() + 64),
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }
});
