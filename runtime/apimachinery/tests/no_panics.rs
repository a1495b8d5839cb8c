//! Deterministic pseudo-random inputs: every entry point must return, never panic.

use serde_json::{json, Map, Value};
use wasmpod_apimachinery::{
    apply_json_patch, json_merge_patch, strategic_merge_patch, FieldSelector, PatchKind, Selector,
};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

const KEYS: &[&str] = &[
    "name",
    "containers",
    "ports",
    "containerPort",
    "env",
    "spec",
    "metadata",
    "finalizers",
    "$patch",
    "$retainKeys",
    "$setElementOrder/containers",
    "$deleteFromPrimitiveList/finalizers",
    "$setElementOrder/finalizers",
    "$setElementOrder",
    "value",
    "volumes",
    "status",
    "conditions",
    "type",
];
const SCALARS: &[&str] = &[
    "delete",
    "replace",
    "merge",
    "a",
    "b",
    "name",
    "containers",
    "x",
];

fn value(rng: &mut Rng, depth: u32) -> Value {
    match rng.next() % if depth > 4 { 4 } else { 7 } {
        0 => Value::Null,
        1 => json!(rng.next() % 3),
        2 => json!(rng.pick(SCALARS)),
        3 => json!(rng.next().is_multiple_of(2)),
        4 | 5 => {
            let mut m = Map::new();
            for _ in 0..rng.next() % 4 {
                m.insert(rng.pick(KEYS).to_string(), value(rng, depth + 1));
            }
            Value::Object(m)
        }
        _ => Value::Array((0..rng.next() % 4).map(|_| value(rng, depth + 1)).collect()),
    }
}

#[test]
fn strategic_and_merge_patches_never_panic() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for _ in 0..20_000 {
        let original = value(&mut rng, 0);
        let patch = value(&mut rng, 0);
        for kind in [PatchKind::Pod, PatchKind::Deployment, PatchKind::Service] {
            let _ = strategic_merge_patch(&original, &patch, kind.schema());
        }
        let _ = json_merge_patch(&original, &patch);
    }
}

#[test]
fn json_patches_never_panic() {
    let mut rng = Rng(42);
    let ops = ["add", "remove", "replace", "move", "copy", "test", "x"];
    let paths = [
        "",
        "/",
        "/a",
        "/a/0",
        "/a/-",
        "/a/-1",
        "/a/9",
        "/b/c",
        "a/b",
        "/a/x",
        "/~1",
        "/a/0/name",
    ];
    for _ in 0..20_000 {
        let doc = json!({"a": [1, {"name": "x"}], "b": {"c": rng.next() % 3}});
        let patch: Vec<Value> = (0..rng.next() % 4)
            .map(|_| json!({"op": rng.pick(&ops), "path": rng.pick(&paths), "from": rng.pick(&paths), "value": value(&mut rng, 3)}))
            .collect();
        let _ = apply_json_patch(&doc, &Value::Array(patch));
    }
}

#[test]
fn selector_parsers_never_panic() {
    let mut rng = Rng(7);
    let pieces = [
        "a", "in", "notin", "(", ")", ",", "=", "==", "!=", "!", ">", "<", " ", "\\", "x.y/z", "é",
        "1",
    ];
    for _ in 0..50_000 {
        let s: String = (0..rng.next() % 8).map(|_| *rng.pick(&pieces)).collect();
        if let Ok(sel) = Selector::parse(&s) {
            // The canonical form parses back to the same selector.
            assert_eq!(Selector::parse(&sel.to_string()).unwrap(), sel, "{s:?}");
        }
        if let Ok(sel) = FieldSelector::parse(&s) {
            let _ = sel.clone().for_kind("Pod");
            // Escaping makes the canonical form parse again (term order may differ, as in Go).
            let mut again: Vec<String> = FieldSelector::parse(&sel.to_string())
                .unwrap()
                .to_string()
                .split(',')
                .map(String::from)
                .collect();
            let mut first: Vec<String> = sel.to_string().split(',').map(String::from).collect();
            again.sort();
            first.sort();
            assert_eq!(again, first, "{s:?}");
        }
    }
}
