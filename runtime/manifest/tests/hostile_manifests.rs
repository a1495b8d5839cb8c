//! Hostile and broken manifests: every one is refused with an error naming where the
//! problem is (file, document number, line/column or the field path as Kubernetes prints
//! it), quickly and with bounded memory, and never with a panic.

use std::time::{Duration, Instant};

use wasmpod_manifest::{parse, parse_set, ManifestError, MAX_OBJECT_JSON_BYTES};

const SOURCE: &str = "hostile.yaml";

fn pod_with(container_extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: i\n{container_extra}"
    )
}

fn refused(text: &str) -> ManifestError {
    match parse(SOURCE, text) {
        Ok(pods) => panic!("accepted {} pod(s) from hostile input", pods.len()),
        Err(error) => error,
    }
}

/// The full message, after checking the error points at `document` of this file.
fn message_at(text: &str, document: usize) -> String {
    let error = refused(text);
    let location = error.location().expect("parsing text never fails to read");
    assert_eq!(location.source, SOURCE);
    assert_eq!(location.document, document, "{error}");
    error.to_string()
}

/// A deadline scaled to this machine and build: `factor` times a benign parse of about
/// the same work, plus a fixed allowance for a slow CI machine.
fn budget(benign: &str, factor: u32) -> Duration {
    let start = Instant::now();
    let _ = parse(SOURCE, benign);
    start.elapsed() * factor + Duration::from_secs(2)
}

/// `VmRSS`/`VmHWM` of this process in KiB (Linux), `None` elsewhere.
fn memory_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn syntax_errors_name_document_line_and_column() {
    let broken_yaml = format!(
        "{}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: [\n",
        pod_with("")
    );
    assert_eq!(
        message_at(&broken_yaml, 2),
        "hostile.yaml (document 2): malformed YAML at line 13, column 1: did not find expected node content at line 13 column 1, while parsing a flow node"
    );

    let tab = message_at("apiVersion: v1\n\tkind: Pod\n", 1);
    assert!(
        tab.starts_with(
            "hostile.yaml (document 1): malformed YAML at line 2, column 1: found a tab character"
        ),
        "{tab}"
    );

    let json = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"i\"}]}}\n{\"apiVersion\": \"v1\",\n \"kind\": }";
    assert_eq!(
        message_at(json, 2),
        "hostile.yaml (document 2): malformed JSON at line 3, column 10: expected value"
    );

    let not_object = message_at("- a\n- b\n", 1);
    assert_eq!(
        not_object,
        "hostile.yaml (document 1): expected a Kubernetes object (a mapping with apiVersion and kind), found a sequence"
    );
    let non_scalar_key = message_at("? [a, b]\n: c\n", 1);
    assert!(
        non_scalar_key.contains("mapping keys must be scalars"),
        "{non_scalar_key}"
    );
}

#[test]
fn wrong_types_name_the_field_path() {
    assert_eq!(
        message_at(&pod_with("    ports:\n    - containerPort: \"eighty\"\n"), 1),
        "hostile.yaml (document 1): Pod \"p\" in version \"v1\" cannot be handled as a Pod: spec.containers[0].ports[0].containerPort: invalid type: string \"eighty\", expected i32"
    );
    let list = message_at(&pod_with("    command: {a: b}\n"), 1);
    assert!(
        list.contains("spec.containers[0].command: invalid type: map, expected a sequence"),
        "{list}"
    );
    let items = message_at("apiVersion: v1\nkind: List\nitems: 3\n", 1);
    assert!(
        items.contains("items: invalid type: a number, expected a sequence"),
        "{items}"
    );
}

#[test]
fn huge_and_negative_numbers_are_refused_with_their_location() {
    let port = |value: &str| pod_with(&format!("    ports:\n    - containerPort: {value}\n"));
    // YAML resolves 1e400 (out of float range) as a string, like go-yaml.
    assert!(message_at(&port("1e400"), 1).ends_with(
        "spec.containers[0].ports[0].containerPort: invalid type: string \"1e400\", expected i32"
    ));
    let json = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"ports\":[{\"containerPort\":1e400}]}]}}";
    assert_eq!(
        message_at(json, 1),
        "hostile.yaml (document 1): malformed JSON at line 1, column 133: number out of range"
    );
    // 2^64 does not fit any YAML integer type: refused by the YAML reader, at its position.
    let two_64 = message_at(&port("18446744073709551616"), 1);
    assert!(
        two_64.contains("at line 10, column 22: spec.containers[0].ports[0].containerPort:"),
        "{two_64}"
    );
    assert!(message_at(&port("9223372036854775808"), 1).ends_with(
        "spec.containers[0].ports[0].containerPort: invalid value: integer `9223372036854775808`, expected i32"
    ));
    assert!(message_at(&port("80.5"), 1)
        .ends_with("containerPort: invalid type: floating point `80.5`, expected i32"));
    assert_eq!(
        message_at(&port("-80"), 1),
        "hostile.yaml (document 1): The Pod \"p\" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: -80: must be between 1 and 65535, inclusive"
    );
    assert!(message_at(&port("70000"), 1)
        .ends_with("containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"));
    let grace = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  terminationGracePeriodSeconds: -18446744073709551616\n  containers:\n  - name: c\n    image: i\n";
    assert!(refused(grace).location().is_some());
}

#[test]
fn deep_nesting_is_refused_quickly() {
    let deadline = budget(&pod_with(""), 200);
    let cases = [
        // JSON stream (starts with '{'), YAML flow sequences, YAML flow mappings.
        format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)),
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
        format!("a: {}1{}", "{a: ".repeat(10_000), "}".repeat(10_000)),
    ];
    for text in &cases {
        let start = Instant::now();
        let error = refused(text);
        assert!(start.elapsed() < deadline, "took {:?}", start.elapsed());
        match &error {
            ManifestError::Syntax {
                line: Some(1),
                column: Some(_),
                message,
                ..
            } => assert_eq!(message, "recursion limit exceeded"),
            other => panic!("unexpected error {other}"),
        }
    }
}

#[test]
fn billion_laughs_fails_fast_with_bounded_memory() {
    // Ten levels of nine aliases each: 9^10 (3.4 billion) "lol"s if expanded.
    let mut laughs = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let previous = format!("*l{}", level - 1);
        let items = [previous.as_str(); 9].join(", ");
        laughs.push_str(&format!("l{level}: &l{level} [{items}]\n"));
    }
    let deadline = budget(&laughs.replace('*', ""), 200);
    let rss_before = memory_kib("VmRSS:");
    let start = Instant::now();
    let error = parse_set(SOURCE, &laughs).expect_err("an alias bomb must be refused");
    let elapsed = start.elapsed();
    assert!(
        elapsed < deadline,
        "took {elapsed:?} (deadline {deadline:?})"
    );
    assert_eq!(
        error.to_string(),
        "hostile.yaml (document 1): malformed YAML: repetition limit exceeded"
    );
    // Expansion would need gigabytes; the peak may grow a little (other tests run in
    // parallel), but nowhere near that.
    if let (Some(before), Some(peak)) = (rss_before, memory_kib("VmHWM:")) {
        assert!(
            peak.saturating_sub(before) < 512 * 1024,
            "peak RSS grew by {} KiB",
            peak - before
        );
    }
}

#[test]
fn unknown_kinds_versions_and_fields_are_named() {
    assert_eq!(
        message_at("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n", 1),
        "hostile.yaml (document 1): Deployment \"d\": kind \"Deployment\" is not supported yet (supported: Pod, ConfigMap, Secret)"
    );
    assert_eq!(
        message_at(&pod_with("").replace("apiVersion: v1", "apiVersion: v2"), 1),
        "hostile.yaml (document 1): Pod \"p\": no matches for kind \"Pod\" in version \"v2\""
    );
    assert_eq!(
        message_at("metadata: {name: x}\n", 1),
        "hostile.yaml (document 1): object \"x\": error validating data: [apiVersion not set, kind not set]"
    );
    assert_eq!(
        message_at(
            &pod_with("    bogus: 1\n    livenessProbe: {httpGet: {port: 80}, bogus2: 3}\n"),
            1
        ),
        "hostile.yaml (document 1): Pod \"p\" in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.containers[0].bogus\", unknown field \"spec.containers[0].livenessProbe.bogus2\""
    );
}

#[test]
fn invalid_probes_ports_and_names_are_field_errors() {
    let cases = [
        (
            pod_with("    livenessProbe: {periodSeconds: 3}\n"),
            "spec.containers[0].livenessProbe: Required value: must specify a handler type",
        ),
        (
            pod_with("    livenessProbe: {httpGet: {port: 80}, tcpSocket: {port: 80}}\n"),
            "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
        ),
        (
            pod_with("    readinessProbe: {tcpSocket: {port: 0}, periodSeconds: -1, failureThreshold: -3}\n"),
            "[spec.containers[0].readinessProbe.tcpSocket.port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.containers[0].readinessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0, spec.containers[0].readinessProbe.failureThreshold: Invalid value: -3: must be greater than or equal to 0]",
        ),
        (
            pod_with("    livenessProbe: {httpGet: {port: web}}\n"),
            "spec.containers[0].livenessProbe.httpGet.port: Invalid value: \"web\": port name not found in container ports",
        ),
    ];
    for (text, detail) in &cases {
        assert_eq!(
            message_at(text, 1),
            format!("hostile.yaml (document 1): The Pod \"p\" is invalid: {detail}")
        );
    }
    let bad_name = pod_with("").replace("name: p", "name: Web_App");
    assert!(message_at(&bad_name, 1).starts_with(
        "hostile.yaml (document 1): The Pod \"Web_App\" is invalid: metadata.name: Invalid value: \"Web_App\": a lowercase RFC 1123 subdomain"
    ));
}

#[test]
fn ten_mib_object_is_refused_like_kube_apiserver_413() {
    // One 10 MiB ConfigMap and one multi-MiB Pod: kubectl apply would send each as one
    // request body, which kube-apiserver refuses above 3 MiB.
    let big_config = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata:\n  blob: {}\n",
        "x".repeat(10 << 20)
    );
    let env: String = (0..80_000)
        .map(|i| {
            format!("    - {{name: VAR_{i}, value: some-fairly-long-value-for-this-variable}}\n")
        })
        .collect();
    let big_pod = pod_with(&format!("    env:\n{env}"));
    assert!(big_pod.len() > 3 << 20);
    for (text, object) in [(&big_config, "ConfigMap \"big\""), (&big_pod, "Pod \"p\"")] {
        let error = refused(text);
        match &error {
            ManifestError::TooLarge { size, limit, .. } => {
                assert_eq!(*limit, MAX_OBJECT_JSON_BYTES);
                assert!(*size > MAX_OBJECT_JSON_BYTES);
            }
            other => panic!("unexpected error {other}"),
        }
        assert!(
            error.to_string().starts_with(&format!(
                "hostile.yaml (document 1): {object}: Request entity too large: limit is 3145728 (the object is "
            )),
            "{error}"
        );
    }
}

#[test]
fn many_small_objects_in_a_big_file_load_in_linear_time() {
    // The 3 MiB limit is per object: a 4 MiB file of small ones is fine, and loads in
    // time proportional to its size (duplicate detection is a hash lookup).
    let object = |i: usize| {
        format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{k: v}}\n")
    };
    let small: String = (0..1_000).map(object).collect();
    let big: String = (0..70_000).map(object).collect();
    assert!(big.len() > 4 << 20);
    let deadline = budget(&small, 70 * 20);
    let start = Instant::now();
    let set = parse_set(SOURCE, &big).expect("small objects are accepted");
    assert_eq!(set.config_maps.len(), 70_000);
    assert!(start.elapsed() < deadline, "took {:?}", start.elapsed());

    let duplicate = format!("{big}{}", object(3));
    let error = parse_set(SOURCE, &duplicate).expect_err("duplicate");
    assert_eq!(
        error.to_string(),
        "hostile.yaml (document 70001): ConfigMap \"c3\" in namespace \"default\" is already defined in hostile.yaml (document 4)"
    );
}

#[test]
fn a_bad_third_document_refuses_the_whole_file() {
    let named =
        |name: &str, extra: &str| pod_with(extra).replace("name: p", &format!("name: {name}"));
    let good = format!(
        "{}---\n{}---\n{}",
        named("a", ""),
        named("b", ""),
        named("c", "")
    );
    assert_eq!(parse(SOURCE, &good).expect("three good pods").len(), 3);
    // Loading is all-or-nothing: the result is an error, no pods, so nothing is applied.
    let bad = format!(
        "{}---\n{}---\n{}",
        named("a", ""),
        named("b", ""),
        named("c", "    bogus: 1\n")
    );
    assert_eq!(
        message_at(&bad, 3),
        "hostile.yaml (document 3): Pod \"c\" in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.containers[0].bogus\""
    );
    // Inside a List, the item is named too.
    let list = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: c, image: i}]}}\n- {apiVersion: v1, kind: Pod, metadata: {name: B}, spec: {containers: [{name: c, image: i}]}}\n";
    assert!(message_at(list, 1).starts_with(
        "hostile.yaml (document 1, items[1]): The Pod \"B\" is invalid: metadata.name"
    ));
}

#[test]
fn binary_garbage_and_odd_encodings_are_errors_not_panics() {
    let inputs = [
        "\u{feff}",
        "\u{0}\u{1}\u{2}",
        "%YAML 1.2\n%YAML 1.2\n---\n",
        "!!binary AAAA",
        "&a [*a]",
        "key: !!python/object:os.system [ls]\n",
        "{\"a\": \"\\ud800\"}",
        "---\n...\n---\n- ]\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {a: !!float .nan}}\n",
    ];
    for text in inputs {
        // Either outcome is fine; panicking or hanging is not.
        if let Err(error) = parse_set(SOURCE, text) {
            assert!(error.location().is_some_and(|l| l.document >= 1), "{error}");
        }
    }
}
