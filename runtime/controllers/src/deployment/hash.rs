//! The `pod-template-hash` (`controller.ComputeHash`) and template equality
//! (`EqualIgnoreHash`).
//!
//! Upstream hashes the Go struct with `hashutil.DeepHashObject` (an FNV-32a over a
//! `spew` dump of the Go value), which cannot be reproduced outside Go: the dump depends
//! on Go type names and field order. Here the same FNV-32a runs over the template's
//! canonical JSON (keys sorted, no whitespace), followed — as upstream — by the
//! little-endian collision count, and the sum is encoded the same way
//! (`rand.SafeEncodeString` of its decimal form). Names look like Kubernetes' (e.g.
//! `web-5d8f7b6c94`) and are stable, but differ from what a real cluster would pick.

use serde_json::Value;

use super::util::POD_TEMPLATE_HASH;

/// `rand.SafeEncodeString`'s alphabet (no vowels, no confusable characters).
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

struct Fnv32a(u32);

impl Fnv32a {
    fn new() -> Fnv32a {
        Fnv32a(0x811c_9dc5)
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u32::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0193);
        }
    }
}

/// `ComputeHash(template, collisionCount)`.
pub(super) fn compute_hash(template: &Value, collision_count: Option<i64>) -> String {
    let mut hasher = Fnv32a::new();
    let mut canonical = String::new();
    write_canonical(template, &mut canonical);
    hasher.write(canonical.as_bytes());
    if let Some(count) = collision_count {
        hasher.write(&(count as u32).to_le_bytes());
    }
    safe_encode(&hasher.0.to_string())
}

fn safe_encode(text: &str) -> String {
    text.bytes()
        .map(|b| SAFE_ALPHABET[b as usize % SAFE_ALPHABET.len()] as char)
        .collect()
}

/// JSON with object keys sorted (independent of serde_json's map ordering feature).
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// `EqualIgnoreHash`: the templates are semantically equal once the `pod-template-hash`
/// label is dropped (absent, null, empty maps and empty lists compare equal, as
/// `apiequality.Semantic` treats nil and empty alike).
pub(super) fn equal_ignore_hash(a: &Value, b: &Value) -> bool {
    let normalize = |template: &Value| {
        let mut copy = template.clone();
        if let Some(Value::Object(labels)) = copy.pointer_mut("/metadata/labels") {
            labels.remove(POD_TEMPLATE_HASH);
        }
        prune_empty(&mut copy);
        copy
    };
    normalize(a) == normalize(b)
}

fn prune_empty(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                prune_empty(child);
            }
            map.retain(|_, child| !is_empty(child));
        }
        Value::Array(items) => items.iter_mut().for_each(prune_empty),
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hash_is_stable_uses_the_safe_alphabet_and_moves_with_collisions() {
        let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "a"}]}});
        let reordered = json!({"spec": {"containers": [{"image": "a", "name": "c"}]}, "metadata": {"labels": {"app": "web"}}});
        let hash = compute_hash(&template, None);
        assert_eq!(hash, compute_hash(&reordered, None));
        assert!(hash.chars().all(|c| "4567896bcdf".contains(c)), "{hash}");
        assert!(!hash.is_empty() && hash.len() <= 10);
        assert_ne!(hash, compute_hash(&template, Some(1)));
        let other = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "b"}]}});
        assert_ne!(hash, compute_hash(&other, None));
    }

    #[test]
    fn fnv32a_matches_the_reference_vectors() {
        let mut h = Fnv32a::new();
        h.write(b"");
        assert_eq!(h.0, 0x811c9dc5);
        let mut h = Fnv32a::new();
        h.write(b"a");
        assert_eq!(h.0, 0xe40c292c);
        let mut h = Fnv32a::new();
        h.write(b"foobar");
        assert_eq!(h.0, 0xbf9cf968);
    }

    #[test]
    fn equality_ignores_the_hash_label_and_empty_fields() {
        let a = json!({"metadata": {"labels": {"app": "web", POD_TEMPLATE_HASH: "abc"}}, "spec": {"volumes": []}});
        let b = json!({"metadata": {"labels": {"app": "web"}, "annotations": {}}, "spec": {}});
        assert!(equal_ignore_hash(&a, &b));
        let c = json!({"metadata": {"labels": {"app": "api"}}, "spec": {}});
        assert!(!equal_ignore_hash(&a, &c));
    }
}
