//! Label selectors: the `labelSelector` query parameter (`labels.Parse`) and JSON
//! `LabelSelector` objects (`metav1.LabelSelectorAsSelector`).
//!
//! Invariants beyond "no panic":
//! * a parsed selector's canonical string parses back to the same selector, and that
//!   string is a fixed point;
//! * a JSON selector that converts renders a string `labels.Parse` accepts, equal to it;
//! * the selector matches the label set it pins exactly (`requires_exact_match`).
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use wasmpod_apimachinery::{Operator, Selector};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(selector) = Selector::parse(text) {
        check_round_trip(&selector);
    }
    if let Ok(json) = serde_json::from_str::<Value>(text) {
        if let Ok(selector) = Selector::from_label_selector(Some(&json)) {
            if selector != Selector::Nothing {
                check_round_trip(&selector);
            }
        }
    }
});

fn check_round_trip(selector: &Selector) {
    let rendered = selector.to_string();
    let reparsed = Selector::parse(&rendered)
        .unwrap_or_else(|e| panic!("canonical form {rendered:?} does not parse: {e}"));
    assert_eq!(
        reparsed.to_string(),
        rendered,
        "canonical form is not a fixed point"
    );
    assert_eq!(
        reparsed.requirements().len(),
        selector.requirements().len(),
        "{rendered:?}"
    );
    // Labels that satisfy every equality/exists term (when no other term constrains the
    // same key) must be matched.
    let only_positive = selector.requirements().iter().all(|r| {
        matches!(
            r.operator(),
            Operator::Equals | Operator::DoubleEquals | Operator::In | Operator::Exists
        )
    });
    if only_positive {
        let mut labels = BTreeMap::new();
        for r in selector.requirements() {
            let value = r.values().first().cloned().unwrap_or_default();
            labels.entry(r.key().to_string()).or_insert(value);
        }
        let keys_unique = labels.len() == selector.requirements().len();
        if keys_unique {
            assert!(
                selector.matches(&labels),
                "{rendered:?} does not match {labels:?}"
            );
        }
    }
}
