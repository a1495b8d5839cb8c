//! ConfigMaps and Secrets: decoding, API-server conversion/defaults, validation,
//! duplicates, and files mixing them with Pods.

use std::path::PathBuf;

use k8s_openapi::ByteString;
use serde_json::{json, Value};
use wasmpod_manifest::{
    load_paths, load_set, parse, parse_located, parse_set, ManifestError, SUPPORTED_KINDS,
};

const KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const MIXED: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  index.html: <h1>hi</h1>
  LOG_LEVEL: debug
binaryData:
  logo.png: iVBORw0K
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
  namespace: team-a
data:
  password: c2VjcmV0
stringData:
  username: admin
  password: overridden
---
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: httpd
    envFrom:
    - configMapRef:
        name: web-config
    env:
    - name: PASSWORD
      valueFrom:
        secretKeyRef:
          name: web-secret
          key: password
";

#[test]
fn supported_kinds() {
    assert_eq!(SUPPORTED_KINDS, &["Pod", "ConfigMap", "Secret"]);
}

#[test]
fn mixed_file_yields_every_kind_defaulted() {
    let set = parse_set("mixed.yaml", MIXED).unwrap();
    assert_eq!(set.pods.len(), 1);
    assert_eq!(set.config_maps.len(), 1);
    assert_eq!(set.secrets.len(), 1);

    let config_map = &set.config_maps[0];
    assert_eq!(config_map.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(
        config_map.data.as_ref().unwrap()["index.html"],
        "<h1>hi</h1>"
    );
    assert_eq!(
        config_map.binary_data.as_ref().unwrap()["logo.png"],
        ByteString(vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a])
    );

    let secret = &set.secrets[0];
    assert_eq!(secret.metadata.namespace.as_deref(), Some("team-a"));
    assert_eq!(secret.type_.as_deref(), Some("Opaque"));
    assert_eq!(secret.string_data, None, "stringData is merged into data");
    let data = secret.data.as_ref().unwrap();
    assert_eq!(data["username"], ByteString(b"admin".to_vec()));
    assert_eq!(
        data["password"],
        ByteString(b"overridden".to_vec()),
        "stringData wins over data"
    );

    assert_eq!(set.pods[0].metadata.name.as_deref(), Some("web"));
}

#[test]
fn pod_only_apis_skip_config_objects() {
    let pods = parse("mixed.yaml", MIXED).unwrap();
    assert_eq!(pods.len(), 1);
    let located = parse_located("mixed.yaml", MIXED).unwrap();
    assert_eq!(located.len(), 1);
    assert_eq!(located[0].location.document, 3);

    let dir = std::env::temp_dir().join(format!("wasmpod-manifest-mixed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mixed.yaml");
    std::fs::write(&file, MIXED).unwrap();
    let paths: Vec<PathBuf> = vec![file.clone()];
    let loaded = load_paths(&paths).unwrap();
    let set = load_set(&paths).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(loaded, set.pods);
    assert_eq!(set.config_maps.len() + set.secrets.len(), 2);
}

#[test]
fn invalid_config_object_fails_even_the_pod_only_api() {
    let text = MIXED.replace("name: web-config\n", "name: Web_Config\n");
    let error = parse("mixed.yaml", &text).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("mixed.yaml (document 1): The ConfigMap \"Web_Config\" is invalid: metadata.name: Invalid value: \"Web_Config\": {SUBDOMAIN_MSG}")
    );
}

#[test]
fn typed_lists_of_config_objects() {
    let text = "apiVersion: v1\nkind: ConfigMapList\nitems:\n- metadata:\n    name: a\n  data:\n    k: v\n";
    let set = parse_set("list.yaml", text).unwrap();
    assert_eq!(set.config_maps[0].metadata.name.as_deref(), Some("a"));
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\n";
    assert_eq!(parse_set("list.yaml", text).unwrap().secrets.len(), 1);
}

fn config_map() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}})
}

fn secret() -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sec"}, "data": {"a": "MQ=="}})
}

/// Every error of `object`, as strings; empty when accepted.
fn errors_of(object: &Value) -> Vec<String> {
    match parse_set("obj.json", &object.to_string()) {
        Ok(_) => Vec::new(),
        Err(ManifestError::Invalid { errors, .. }) => {
            errors.iter().map(ToString::to_string).collect()
        }
        Err(other) => panic!("expected a validation error, got: {other}"),
    }
}

type Mutation = fn(&mut Value);

fn run(base: fn() -> Value, cases: Vec<(&str, Mutation, Vec<String>)>) {
    let mut failures = Vec::new();
    for (name, mutate, expected) in cases {
        let mut object = base();
        mutate(&mut object);
        let actual = errors_of(&object);
        if actual != expected {
            failures.push(format!(
                "{name}:\n  expected {expected:#?}\n  actual   {actual:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn config_map_validation_table() {
    run(config_map, vec![
        ("valid", |_| {}, vec![]),
        ("no data at all", |c| { c.as_object_mut().unwrap().remove("data"); }, vec![]),
        ("name required", |c| { c["metadata"] = json!({}); },
            vec!["metadata.name: Required value: name or generateName is required".into()]),
        ("name subdomain", |c| { c["metadata"]["name"] = json!("My_Config"); },
            vec![format!("metadata.name: Invalid value: \"My_Config\": {SUBDOMAIN_MSG}")]),
        ("dotted name ok", |c| { c["metadata"]["name"] = json!("app.config"); }, vec![]),
        ("key charset", |c| { c["data"] = json!({"my key": "v", "ok_KEY-1.x": "v"}); },
            vec![format!("data[my key]: Invalid value: \"my key\": {KEY_MSG}")]),
        ("key empty", |c| { c["data"] = json!({"": "v"}); },
            vec![format!("data[]: Invalid value: \"\": {KEY_MSG}")]),
        ("key dot-dot", |c| { c["data"] = json!({"..": "v", "..data": "v", ".": "v"}); },
            vec![
                "data[.]: Invalid value: \".\": must not be '.'".into(),
                "data[..]: Invalid value: \"..\": must not be '..'".into(),
                "data[..data]: Invalid value: \"..data\": must not start with '..'".into(),
            ]),
        ("key too long", |c| { c["data"] = json!({"k".repeat(254): "v"}); },
            vec![format!("data[{k}]: Invalid value: \"{k}\": must be no more than 253 characters", k = "k".repeat(254))]),
        ("binary key", |c| { c["binaryData"] = json!({"a/b": "AA=="}); },
            vec![format!("binaryData[a/b]: Invalid value: \"a/b\": {KEY_MSG}")]),
        ("duplicate across data and binaryData", |c| { c["binaryData"] = json!({"a": "AA=="}); },
            vec![
                "data[a]: Invalid value: \"a\": duplicate of key present in binaryData".into(),
                "binaryData[a]: Invalid value: \"a\": duplicate of key present in data".into(),
            ]),
        ("too large", |c| { c["data"] = json!({"a": "x".repeat(1024 * 1024), "b": "y"}); },
            vec![": Too long: may not be more than 1048576 bytes".into()]),
        ("exactly the limit", |c| { c["data"] = json!({"a": "x".repeat(1024 * 1024)}); }, vec![]),
        ("label", |c| { c["metadata"]["labels"] = json!({"k": "bad value"}); },
            vec!["metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".into()]),
    ]);
}

#[test]
fn secret_validation_table() {
    run(
        secret,
        vec![
            ("valid", |_| {}, vec![]),
            (
                "name subdomain",
                |s| {
                    s["metadata"]["name"] = json!("-sec");
                },
                vec![format!(
                    "metadata.name: Invalid value: \"-sec\": {SUBDOMAIN_MSG}"
                )],
            ),
            (
                "namespace label",
                |s| {
                    s["metadata"]["namespace"] = json!("a.b");
                },
                vec!["metadata.namespace: Invalid value: \"a.b\": must not contain dots".into()],
            ),
            (
                "data key",
                |s| {
                    s["data"] = json!({"bad key": "MQ=="});
                },
                vec![format!(
                    "data[bad key]: Invalid value: \"bad key\": {KEY_MSG}"
                )],
            ),
            (
                "stringData key is validated as data",
                |s| {
                    s["stringData"] = json!({"bad:key": "x"});
                },
                vec![format!(
                    "data[bad:key]: Invalid value: \"bad:key\": {KEY_MSG}"
                )],
            ),
            (
                "same key in data and stringData ok",
                |s| {
                    s["stringData"] = json!({"a": "2"});
                },
                vec![],
            ),
            (
                "too large",
                |s| {
                    s["stringData"] = json!({"big": "x".repeat(1024 * 1024)});
                },
                vec!["data: Too long: may not be more than 1048576 bytes".into()],
            ),
            (
                "custom type ok",
                |s| {
                    s["type"] = json!("example.com/custom");
                },
                vec![],
            ),
            (
                "tls needs both keys",
                |s| {
                    s["type"] = json!("kubernetes.io/tls");
                },
                vec![
                    "data[tls.crt]: Required value".into(),
                    "data[tls.key]: Required value".into(),
                ],
            ),
            (
                "tls ok",
                |s| {
                    s["type"] = json!("kubernetes.io/tls");
                    s["stringData"] = json!({"tls.crt": "c", "tls.key": "k"});
                },
                vec![],
            ),
            (
                "basic auth",
                |s| {
                    s["type"] = json!("kubernetes.io/basic-auth");
                },
                vec![
                    "data[username]: Required value".into(),
                    "data[password]: Required value".into(),
                ],
            ),
            (
                "basic auth password only ok",
                |s| {
                    s["type"] = json!("kubernetes.io/basic-auth");
                    s["stringData"] = json!({"password": ""});
                },
                vec![],
            ),
            (
                "ssh auth",
                |s| {
                    s["type"] = json!("kubernetes.io/ssh-auth");
                    s["stringData"] = json!({"ssh-privatekey": ""});
                },
                vec!["data[ssh-privatekey]: Required value".into()],
            ),
            (
                "dockerconfigjson missing",
                |s| {
                    s["type"] = json!("kubernetes.io/dockerconfigjson");
                },
                vec!["data[.dockerconfigjson]: Required value".into()],
            ),
            (
                "dockerconfigjson ok",
                |s| {
                    s["type"] = json!("kubernetes.io/dockerconfigjson");
                    s["stringData"] = json!({".dockerconfigjson": "{\"auths\":{}}"});
                },
                vec![],
            ),
            (
                "service account token",
                |s| {
                    s["type"] = json!("kubernetes.io/service-account-token");
                },
                vec![
                    "metadata.annotations[kubernetes.io/service-account.name]: Required value"
                        .into(),
                ],
            ),
        ],
    );
}

#[test]
fn secret_type_defaults_to_opaque_and_data_decodes() {
    let set = parse_set("s.json", &secret().to_string()).unwrap();
    assert_eq!(set.secrets[0].type_.as_deref(), Some("Opaque"));
    assert_eq!(
        set.secrets[0].data.as_ref().unwrap()["a"],
        ByteString(b"1".to_vec())
    );
    let mut typed = secret();
    typed["type"] = json!("kubernetes.io/tls");
    typed["stringData"] = json!({"tls.crt": "c", "tls.key": "k"});
    let set = parse_set("s.json", &typed.to_string()).unwrap();
    assert_eq!(set.secrets[0].type_.as_deref(), Some("kubernetes.io/tls"));
}

#[test]
fn go_decoder_leniencies_for_data_maps() {
    // Go ignores line breaks in base64 and stores null strings as "".
    let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: |\n    aGVs\n    bG8=\nstringData:\n  b: null\n";
    let set = parse_set("s.yaml", text).unwrap();
    let data = set.secrets[0].data.as_ref().unwrap();
    assert_eq!(data["a"], ByteString(b"hello".to_vec()));
    assert_eq!(data["b"], ByteString(Vec::new()));
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  empty: null\n";
    let set = parse_set("c.yaml", text).unwrap();
    assert_eq!(set.config_maps[0].data.as_ref().unwrap()["empty"], "");
}

#[test]
fn decoding_errors_for_config_objects() {
    let unknown = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndatas:\n  a: b\n";
    assert_eq!(
        parse_set("c.yaml", unknown).unwrap_err().to_string(),
        "c.yaml (document 1): ConfigMap \"c\" in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"datas\""
    );
    let unknown =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  labells: {}\nstringdata:\n  a: b\n";
    assert_eq!(
        parse_set("s.yaml", unknown).unwrap_err().to_string(),
        "s.yaml (document 1): Secret \"s\" in version \"v1\" cannot be handled as a Secret: strict decoding error: unknown field \"metadata.labells\", unknown field \"stringdata\""
    );
    let number = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  port: 8080\n";
    assert!(matches!(
        parse_set("c.yaml", number).unwrap_err(),
        ManifestError::TypeMismatch { ref path, .. } if path == "data.port"
    ));
    let bad_base64 =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: not base64!\n";
    assert!(matches!(
        parse_set("s.yaml", bad_base64).unwrap_err(),
        ManifestError::TypeMismatch { ref path, .. } if path == "data.a"
    ));
    let wrong_version = "apiVersion: apps/v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
    assert_eq!(
        parse_set("c.yaml", wrong_version).unwrap_err().to_string(),
        "c.yaml (document 1): ConfigMap \"c\": no matches for kind \"ConfigMap\" in version \"apps/v1\""
    );
}

#[test]
fn duplicates_are_per_kind_namespace_and_name() {
    let cm = |name: &str, ns: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n")
    };
    let sec = |name: &str| format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n");

    // Same name, different kinds or namespaces: fine.
    let text = [cm("x", "default"), sec("x"), cm("x", "other")].join("---\n");
    let set = parse_set("f.yaml", &text).unwrap();
    assert_eq!((set.config_maps.len(), set.secrets.len()), (2, 1));

    let text = [cm("x", "default"), sec("x"), cm("x", "default")].join("---\n");
    assert_eq!(
        parse_set("f.yaml", &text).unwrap_err().to_string(),
        "f.yaml (document 3): ConfigMap \"x\" in namespace \"default\" is already defined in f.yaml (document 1)"
    );
    // The namespace default applies before comparing.
    let text = [
        sec("s"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: default\n".to_owned(),
    ]
    .join("---\n");
    assert!(matches!(
        parse_set("f.yaml", &text).unwrap_err(),
        ManifestError::DuplicateObject { ref namespace, .. } if namespace == "default"
    ));
}

#[test]
fn duplicates_across_files() {
    let dir = std::env::temp_dir().join(format!("wasmpod-manifest-dups-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n";
    std::fs::write(dir.join("a.yaml"), secret).unwrap();
    std::fs::write(dir.join("b.yaml"), secret).unwrap();
    let result = load_set(std::slice::from_ref(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    let message = result.unwrap_err().to_string();
    assert!(
        message.contains(
            "b.yaml (document 1): Secret \"s\" in namespace \"default\" is already defined in "
        ),
        "{message}"
    );
    assert!(message.ends_with("a.yaml (document 1)"), "{message}");
}
