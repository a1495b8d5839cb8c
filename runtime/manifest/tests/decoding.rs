//! Input handling: documents, JSON/List, strict decoding, type errors, kinds, files.

use std::path::PathBuf;

use wasmpod_manifest::{load_paths, parse, ManifestError};

const POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: httpd
";

fn err(text: &str) -> ManifestError {
    parse("pod.yaml", text).expect_err("manifest should be rejected")
}

#[test]
fn unknown_field_is_reported_like_strict_decoding() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: health1
spec:
  containers:
  - name: health1
    image: httpd
    livenessProbe:
      httpGet:
        pth: /
        port: 8080
";
    let error = err(text);
    assert_eq!(
        error.to_string(),
        "pod.yaml (document 1): Pod \"health1\" in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.containers[0].livenessProbe.httpGet.pth\""
    );
    match error {
        ManifestError::UnknownFields { fields, object, .. } => {
            assert_eq!(fields, vec!["spec.containers[0].livenessProbe.httpGet.pth"]);
            assert_eq!(object.name.as_deref(), Some("health1"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn all_unknown_fields_are_listed_sorted() {
    let text = "\
apiVersion: v1
kind: Pod
zzz: 1
metadata:
  name: web
  labelz: {a: b}
spec:
  containers:
  - name: web
    image: httpd
    Image: httpd
";
    match err(text) {
        ManifestError::UnknownFields { fields, .. } => assert_eq!(
            fields,
            vec!["metadata.labelz", "spec.containers[0].Image", "zzz"]
        ),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn nulls_and_empty_values_are_not_unknown_fields() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
  creationTimestamp: null
  labels: {}
  annotations: {}
spec:
  volumes: []
  nodeSelector: {}
  initContainers: null
  securityContext: {}
  containers:
  - name: web
    image: httpd
    args: []
    env: []
    resources: {}
    ports: []
    command: null
    livenessProbe:
      exec:
        command: [cat, /tmp/ok]
      terminationGracePeriodSeconds: null
status: {}
";
    let pods = parse("pod.yaml", text).unwrap();
    assert_eq!(pods.len(), 1);
}

#[test]
fn type_errors_name_the_path() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: httpd
    ports:
    - containerPort: true
";
    let error = err(text);
    match &error {
        ManifestError::TypeMismatch { path, message, .. } => {
            assert_eq!(path, "spec.containers[0].ports[0].containerPort");
            assert!(
                message.contains("invalid type: boolean `true`"),
                "{message}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(error
        .to_string()
        .starts_with("pod.yaml (document 1): Pod \"web\" in version \"v1\" cannot be handled as a Pod: spec.containers[0].ports[0].containerPort: invalid type: boolean `true`"));
}

#[test]
fn malformed_yaml_names_document_line_and_column() {
    let text = format!("{POD}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n");
    match err(&text) {
        ManifestError::Syntax {
            location,
            format,
            line,
            column,
            ..
        } => {
            assert_eq!(
                (location.source.as_str(), location.document),
                ("pod.yaml", 2)
            );
            assert_eq!(format, "YAML");
            assert!(line.is_some() && column.is_some());
        }
        other => panic!("unexpected {other:?}"),
    }
    let message = err("a: b\n  c: d\n").to_string();
    assert!(
        message.starts_with("pod.yaml (document 1): malformed YAML at line 2, column 4: mapping values are not allowed"),
        "{message}"
    );
}

#[test]
fn malformed_json_reports_line_and_column() {
    let message = parse("pod.json", "{\"apiVersion\": \"v1\",\n \"kind\": }")
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("pod.json (document 1): malformed JSON at line 2, column 10:"),
        "{message}"
    );
}

#[test]
fn unsupported_kind_lists_supported_kinds() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";
    let error = err(text);
    assert_eq!(
        error.to_string(),
        "pod.yaml (document 1): Deployment \"web\": kind \"Deployment\" is not supported yet (supported: Pod, ConfigMap, Secret)"
    );
    assert!(matches!(error, ManifestError::UnsupportedKind { .. }));
}

#[test]
fn wrong_api_version_for_pod() {
    let text = POD.replace("apiVersion: v1", "apiVersion: apps/v1");
    assert_eq!(
        err(&text).to_string(),
        "pod.yaml (document 1): Pod \"web\": no matches for kind \"Pod\" in version \"apps/v1\""
    );
}

#[test]
fn missing_type_meta() {
    assert_eq!(
        err("metadata:\n  name: web\n").to_string(),
        "pod.yaml (document 1): object \"web\": error validating data: [apiVersion not set, kind not set]"
    );
    assert_eq!(
        err("apiVersion: v1\nmetadata:\n  name: web\n").to_string(),
        "pod.yaml (document 1): object \"web\": error validating data: kind not set"
    );
    assert_eq!(
        err("apiVersion: v1\n").to_string(),
        "pod.yaml (document 1): error validating data: kind not set"
    );
    assert!(matches!(
        err("- a\n- b\n"),
        ManifestError::NotAnObject {
            found: "a sequence",
            ..
        }
    ));
}

#[test]
fn multi_document_yaml_skips_empty_documents() {
    let second = POD.replace("web", "db");
    let text = format!("---\n# comment only\n---\n{POD}---\n---\n{second}\n---\n");
    let pods = parse("pods.yaml", &text).unwrap();
    let names: Vec<_> = pods
        .iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, vec!["web", "db"]);
}

#[test]
fn errors_carry_the_document_number() {
    let bad = POD.replace("image: httpd", "image: \"\"");
    let text = format!("{POD}---\n\n---\n{}", bad.replace("web", "bad"));
    assert_eq!(
        err(&text).to_string(),
        "pod.yaml (document 3): The Pod \"bad\" is invalid: spec.containers[0].image: Required value"
    );
}

#[test]
fn json_single_object() {
    let json = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
        "spec":{"containers":[{"name":"web","image":"httpd:2.4","ports":[{"containerPort":80}]}]}}"#;
    let pods = parse("pod.json", json).unwrap();
    let container = &pods[0].spec.as_ref().unwrap().containers[0];
    assert_eq!(container.image_pull_policy.as_deref(), Some("IfNotPresent"));
}

#[test]
fn list_items_are_expanded_and_located() {
    let json = r#"{"apiVersion":"v1","kind":"List","metadata":{},"items":[
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"a","image":"httpd"}]}},
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"},"spec":{"containers":[{"name":"b","image":"httpd"}]}}
    ]}"#;
    let pods = parse("list.json", json).unwrap();
    assert_eq!(pods.len(), 2);
    assert_eq!(pods[1].metadata.name.as_deref(), Some("b"));

    let bad = json.replace(
        r#""name":"b","image":"httpd""#,
        r#""name":"b","image":"httpd","imagePolicy":"x""#,
    );
    assert_eq!(
        parse("list.json", &bad).unwrap_err().to_string(),
        "list.json (document 1, items[1]): Pod \"b\" in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.containers[0].imagePolicy\""
    );
}

#[test]
fn yaml_list_and_typed_pod_list() {
    let text = "\
apiVersion: v1
kind: PodList
items:
- metadata:
    name: a
  spec:
    containers:
    - name: a
      image: httpd
";
    let pods = parse("list.yaml", text).unwrap();
    assert_eq!(pods[0].metadata.name.as_deref(), Some("a"));

    let nested_kind = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: s\n";
    assert!(matches!(
        parse("list.yaml", nested_kind).unwrap_err(),
        ManifestError::UnsupportedKind { .. }
    ));
}

#[test]
fn go_decoder_leniencies_are_accepted() {
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: httpd
    resources:
      limits:
        cpu: 1
        memory: 64Mi
  volumes:
  - name: config
    configMap:
      name: web
      defaultMode: 0600
";
    let pods = parse("pod.yaml", text).unwrap();
    let spec = pods[0].spec.as_ref().unwrap();
    let resources = spec.containers[0].resources.as_ref().unwrap();
    assert_eq!(resources.limits.as_ref().unwrap()["cpu"].0, "1");
    // Requests default to limits.
    assert_eq!(resources.requests.as_ref().unwrap()["memory"].0, "64Mi");
    let volume = &spec.volumes.as_ref().unwrap()[0];
    assert_eq!(
        volume.config_map.as_ref().unwrap().default_mode,
        Some(0o600)
    );
}

#[test]
fn duplicate_yaml_keys_are_rejected() {
    let text = POD.replace("  name: web\nspec:", "  name: web\n  name: other\nspec:");
    assert!(matches!(err(&text), ManifestError::Syntax { .. }));
}

#[test]
fn same_pod_twice_is_rejected() {
    let text = format!("{POD}---\n{POD}");
    assert_eq!(
        err(&text).to_string(),
        "pod.yaml (document 2): Pod \"web\" in namespace \"default\" is already defined in pod.yaml (document 1)"
    );
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("wasmpod-manifest-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn load_paths_reads_files_and_directories_in_order() {
    let dir = TempDir::new("load");
    let single = dir.0.join("single.yaml");
    std::fs::write(&single, POD).unwrap();
    let sub = dir.0.join("more");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join("b.json"),
        serde_json::to_string(&serde_json::json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b"},
            "spec": {"containers": [{"name": "b", "image": "httpd"}]}
        }))
        .unwrap(),
    )
    .unwrap();
    std::fs::write(sub.join("a.yml"), POD.replace("web", "a")).unwrap();
    std::fs::write(sub.join("notes.txt"), "not a manifest").unwrap();

    let pods = load_paths(&[single.clone(), sub]).unwrap();
    let names: Vec<_> = pods
        .iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, vec!["web", "a", "b"]);

    let duplicate = load_paths(&[single.clone(), single.clone()]).unwrap_err();
    assert!(matches!(duplicate, ManifestError::DuplicateObject { .. }));

    let missing = dir.0.join("missing.yaml");
    let error = load_paths(std::slice::from_ref(&missing)).unwrap_err();
    assert!(matches!(error, ManifestError::Read { .. }));
    assert!(error
        .to_string()
        .starts_with(&missing.display().to_string()));
}
