//! Table tests for environment, envFrom, volume, volumeMount and init-container
//! validation: each case mutates a valid pod and lists every API-server message.

use serde_json::{json, Value};
use wasmpod_manifest::{parse, ManifestError};

fn base() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {
            "volumes": [{"name": "data", "emptyDir": {}}],
            "containers": [{
                "name": "web",
                "image": "httpd",
                "volumeMounts": [{"name": "data", "mountPath": "/data"}]
            }]
        }
    })
}

fn container(pod: &mut Value) -> &mut Value {
    &mut pod["spec"]["containers"][0]
}

fn env(pod: &mut Value, value: Value) {
    container(pod)["env"] = json!([value]);
}

fn volume(pod: &mut Value, value: Value) {
    pod["spec"]["volumes"] = json!([value]);
}

fn errors_of(pod: &Value) -> Vec<String> {
    match parse("pod.json", &pod.to_string()) {
        Ok(_) => Vec::new(),
        Err(ManifestError::Invalid { errors, .. }) => {
            errors.iter().map(ToString::to_string).collect()
        }
        Err(other) => panic!("expected a validation error, got: {other}"),
    }
}

type Mutation = fn(&mut Value);

fn run(cases: Vec<(&str, Mutation, Vec<String>)>) {
    let mut failures = Vec::new();
    for (name, mutate, expected) in cases {
        let mut pod = base();
        mutate(&mut pod);
        let actual = errors_of(&pod);
        if actual != expected {
            failures.push(format!(
                "{name}:\n  expected {expected:#?}\n  actual   {actual:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const E: &str = "spec.containers[0].env[0]";
const KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const RELAXED_MSG: &str = "a valid environment variable name must consist only of printable ASCII characters other than '='";
const FIELD_PATHS: &str = "supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\"";

#[test]
fn env_validation_table() {
    run(vec![
        ("plain value", |p| env(p, json!({"name": "MODE", "value": "prod"})), vec![]),
        // v1.33 runs with RelaxedEnvironmentVariableValidation (beta, on): any printable
        // ASCII except '=' is accepted, including a leading digit.
        ("relaxed names", |p| env(p, json!({"name": "1st name:x", "value": "v"})), vec![]),
        ("name with =", |p| env(p, json!({"name": "A=B", "value": "v"})),
            vec![format!("{E}.name: Invalid value: \"A=B\": {RELAXED_MSG}")]),
        ("name non-ascii", |p| env(p, json!({"name": "NAMÉ", "value": "v"})),
            vec![format!("{E}.name: Invalid value: \"NAMÉ\": {RELAXED_MSG}")]),
        ("name empty", |p| env(p, json!({"name": "", "value": "v"})),
            vec![
                format!("{E}.name: Required value"),
                format!("{E}.name: Invalid value: \"\": environment variable name must be non-empty"),
            ]),
        ("valueFrom without source", |p| env(p, json!({"name": "X", "valueFrom": {}})),
            vec![format!("{E}.valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`")]),
        ("valueFrom two sources", |p| env(p, json!({"name": "X", "valueFrom": {
                "fieldRef": {"fieldPath": "metadata.name"},
                "secretKeyRef": {"name": "s", "key": "k"}}})),
            vec![format!("{E}.valueFrom: Invalid value: \"\": may not have more than one field specified at a time")]),
        ("valueFrom with value", |p| env(p, json!({"name": "X", "value": "v", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})),
            vec![format!("{E}.valueFrom: Invalid value: \"\": may not be specified when `value` is not empty")]),
        ("empty value with valueFrom ok", |p| env(p, json!({"name": "X", "value": "", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})), vec![]),
        ("every env field path", |p| {
            let paths = ["metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
                "status.podIPs", "metadata.labels['app']", "metadata.annotations['Example.com/Note']", "spec.host"];
            container(p)["env"] = paths.iter().enumerate()
                .map(|(i, path)| json!({"name": format!("V{i}"), "valueFrom": {"fieldRef": {"fieldPath": path}}}))
                .collect();
        }, vec![]),
        ("bare labels not for env", |p| env(p, json!({"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels"}}})),
            vec![format!("{E}.valueFrom.fieldRef.fieldPath: Unsupported value: \"metadata.labels\": {FIELD_PATHS}")]),
        ("convertible but unsupported", |p| env(p, json!({"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}})),
            vec![format!("{E}.valueFrom.fieldRef.fieldPath: Unsupported value: \"status.phase\": {FIELD_PATHS}")]),
        ("unknown field path", |p| env(p, json!({"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.containers"}}})),
            vec![format!("{E}.valueFrom.fieldRef.fieldPath: Invalid value: \"spec.containers\": error converting fieldPath: field label not supported: spec.containers")]),
        ("subscript on name", |p| env(p, json!({"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name['x']"}}})),
            vec![format!("{E}.valueFrom.fieldRef.fieldPath: Invalid value: \"metadata.name['x']\": error converting fieldPath: field label does not support subscript: metadata.name['x']")]),
        ("bad label subscript", |p| env(p, json!({"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['-x']"}}})),
            vec![format!("{E}.valueFrom.fieldRef: Invalid value: \"-x\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")]),
        ("field ref api version", |p| env(p, json!({"name": "X", "valueFrom": {"fieldRef": {"apiVersion": "v2", "fieldPath": "metadata.name"}}})),
            vec![format!("{E}.valueFrom.fieldRef.fieldPath: Invalid value: \"metadata.name\": error converting fieldPath: unsupported pod version: v2")]),
        ("field path required", |p| env(p, json!({"name": "X", "valueFrom": {"fieldRef": {"fieldPath": ""}}})),
            vec![format!("{E}.valueFrom.fieldRef.fieldPath: Required value")]),
        ("every resource", |p| {
            let resources = ["limits.cpu", "limits.memory", "requests.cpu", "requests.memory",
                "limits.ephemeral-storage", "requests.ephemeral-storage", "limits.hugepages-2Mi"];
            container(p)["env"] = resources.iter().enumerate()
                .map(|(i, r)| json!({"name": format!("R{i}"), "valueFrom": {"resourceFieldRef": {"resource": r}}}))
                .collect();
        }, vec![]),
        ("unsupported resource", |p| env(p, json!({"name": "X", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu"}}})),
            vec![format!("{E}.valueFrom.resourceFieldRef.resource: Unsupported value: \"limits.gpu\": supported values: \"limits.cpu\", \"limits.ephemeral-storage\", \"limits.memory\", \"requests.cpu\", \"requests.ephemeral-storage\", \"requests.memory\"")]),
        ("resource required", |p| env(p, json!({"name": "X", "valueFrom": {"resourceFieldRef": {"containerName": "web"}}})),
            vec![format!("{E}.valueFrom.resourceFieldRef.resource: Required value")]),
        ("configMap key ref ok", |p| env(p, json!({"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "LOG_LEVEL"}}})), vec![]),
        ("configMap key ref checks", |p| env(p, json!({"name": "X", "valueFrom": {"configMapKeyRef": {"name": "", "key": "a b"}}})),
            vec![
                format!("{E}.valueFrom.configMapKeyRef.name: Invalid value: \"\": {SUBDOMAIN_MSG}"),
                format!("{E}.valueFrom.configMapKeyRef.key: Invalid value: \"a b\": {KEY_MSG}"),
            ]),
        ("secret key ref key required", |p| env(p, json!({"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": ""}}})),
            vec![format!("{E}.valueFrom.secretKeyRef.key: Required value")]),
    ]);
}

#[test]
fn env_from_validation_table() {
    const F: &str = "spec.containers[0].envFrom";
    run(vec![
        (
            "configMap with prefix",
            |p| {
                container(p)["envFrom"] = json!([{"prefix": "CFG_", "configMapRef": {"name": "cfg"}}, {"secretRef": {"name": "sec"}}]);
            },
            vec![],
        ),
        (
            "prefix invalid",
            |p| {
                container(p)["envFrom"] =
                    json!([{"prefix": "A=", "configMapRef": {"name": "cfg"}}]);
            },
            vec![format!(
                "{F}[0].prefix: Invalid value: \"A=\": {RELAXED_MSG}"
            )],
        ),
        (
            "no source",
            |p| {
                container(p)["envFrom"] = json!([{"prefix": "X_"}]);
            },
            vec![format!(
                "{F}: Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`"
            )],
        ),
        (
            "two sources",
            |p| {
                container(p)["envFrom"] =
                    json!([{"configMapRef": {"name": "a"}, "secretRef": {"name": "b"}}]);
            },
            vec![format!(
                "{F}: Forbidden: may not have more than one field specified at a time"
            )],
        ),
        (
            "name required",
            |p| {
                container(p)["envFrom"] = json!([{"secretRef": {"name": ""}}]);
            },
            vec![format!("{F}[0].secretRef.name: Required value")],
        ),
        (
            "name invalid",
            |p| {
                container(p)["envFrom"] = json!([{"configMapRef": {"name": "Cfg"}}]);
            },
            vec![format!(
                "{F}[0].configMapRef.name: Invalid value: \"Cfg\": {SUBDOMAIN_MSG}"
            )],
        ),
    ]);
}

#[test]
fn volume_validation_table() {
    const V: &str = "spec.volumes[0]";
    run(vec![
        ("configMap and secret volumes", |p| {
            p["spec"]["volumes"] = json!([
                {"name": "data", "emptyDir": {}},
                {"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "a", "path": "dir/a", "mode": 256}]}},
                {"name": "sec", "secret": {"secretName": "sec", "defaultMode": 256}},
                {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
            ]);
        }, vec![]),
        ("no source defaults to emptyDir", |p| volume(p, json!({"name": "data"})), vec![]),
        ("name label", |p| { volume(p, json!({"name": "Data", "emptyDir": {}})); container(p)["volumeMounts"][0]["name"] = json!("Data"); },
            vec![
                format!("{V}.name: Invalid value: \"Data\": {LABEL_MSG}"),
                "spec.containers[0].volumeMounts[0].name: Not found: \"Data\"".into(),
            ]),
        ("name required", |p| volume(p, json!({"name": "", "emptyDir": {}})),
            vec![
                format!("{V}.name: Required value"),
                "spec.containers[0].volumeMounts[0].name: Not found: \"data\"".into(),
            ]),
        ("duplicate names", |p| { p["spec"]["volumes"] = json!([{"name": "data", "emptyDir": {}}, {"name": "data", "secret": {"secretName": "s"}}]); },
            vec!["spec.volumes[1].name: Duplicate value: \"data\"".into()]),
        ("two sources", |p| volume(p, json!({"name": "data", "emptyDir": {}, "configMap": {"name": "cfg"}, "secret": {"secretName": "s"}})),
            vec![
                format!("{V}.secret: Forbidden: may not specify more than 1 volume type"),
                format!("{V}.configMap: Forbidden: may not specify more than 1 volume type"),
                "spec.containers[0].volumeMounts[0].name: Not found: \"data\"".into(),
            ]),
        ("secret name required", |p| volume(p, json!({"name": "data", "secret": {}})),
            vec![
                format!("{V}.secret.secretName: Required value"),
                "spec.containers[0].volumeMounts[0].name: Not found: \"data\"".into(),
            ]),
        ("configMap checks", |p| volume(p, json!({"name": "data", "configMap": {"name": "", "defaultMode": 512, "items": [{"key": "", "path": "../x", "mode": -1}, {"key": "k", "path": "/abs"}, {"key": "k", "path": "..data"}]}})),
            vec![
                format!("{V}.configMap.name: Required value"),
                format!("{V}.configMap.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive"),
                format!("{V}.configMap.items[0].key: Required value"),
                format!("{V}.configMap.items[0].path: Invalid value: \"../x\": must not contain '..'"),
                format!("{V}.configMap.items[0].mode: Invalid value: -1: must be a number between 0 and 0777 (octal), both inclusive"),
                format!("{V}.configMap.items[1].path: Invalid value: \"/abs\": must be a relative path"),
                format!("{V}.configMap.items[2].path: Invalid value: \"..data\": must not start with '..'"),
                "spec.containers[0].volumeMounts[0].name: Not found: \"data\"".into(),
            ]),
        ("hostPath", |p| volume(p, json!({"name": "data", "hostPath": {"path": "/var/../etc", "type": "Dir"}})),
            vec![
                format!("{V}.hostPath.path: Invalid value: \"/var/../etc\": must not contain '..'"),
                format!("{V}.hostPath.type: Unsupported value: \"Dir\": supported values: \"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", \"FileOrCreate\", \"Socket\""),
                "spec.containers[0].volumeMounts[0].name: Not found: \"data\"".into(),
            ]),
        ("downwardAPI env-only path", |p| volume(p, json!({"name": "data", "downwardAPI": {"items": [{"path": "ip", "fieldRef": {"fieldPath": "status.podIP"}}]}})),
            vec![
                format!("{V}.downwardAPI.fieldRef.fieldPath: Unsupported value: \"status.podIP\": supported values: \"metadata.annotations\", \"metadata.labels\", \"metadata.name\", \"metadata.namespace\", \"metadata.uid\""),
                "spec.containers[0].volumeMounts[0].name: Not found: \"data\"".into(),
            ]),
        ("downwardAPI resource needs container", |p| volume(p, json!({"name": "data", "downwardAPI": {"items": [{"path": "cpu", "resourceFieldRef": {"resource": "limits.cpu"}}]}})),
            vec![
                format!("{V}.downwardAPI.resourceFieldRef.containerName: Required value"),
                "spec.containers[0].volumeMounts[0].name: Not found: \"data\"".into(),
            ]),
    ]);
}

#[test]
fn volume_mount_validation_table() {
    const M: &str = "spec.containers[0].volumeMounts";
    run(vec![
        ("missing volume", |p| { container(p)["volumeMounts"][0]["name"] = json!("cache"); },
            vec![format!("{M}[0].name: Not found: \"cache\"")]),
        ("name and path required", |p| { container(p)["volumeMounts"] = json!([{"name": "", "mountPath": ""}]); },
            vec![
                format!("{M}[0].name: Required value"),
                format!("{M}[0].name: Not found: \"\""),
                format!("{M}[0].mountPath: Required value"),
            ]),
        ("relative mountPath accepted", |p| { container(p)["volumeMounts"][0]["mountPath"] = json!("data"); }, vec![]),
        ("duplicate mountPath", |p| { container(p)["volumeMounts"] = json!([{"name": "data", "mountPath": "/d"}, {"name": "data", "mountPath": "/d", "subPath": "x"}]); },
            vec![format!("{M}[1].mountPath: Invalid value: \"/d\": must be unique")]),
        ("same volume twice ok", |p| { container(p)["volumeMounts"] = json!([{"name": "data", "mountPath": "/a"}, {"name": "data", "mountPath": "/b", "readOnly": true}]); }, vec![]),
        ("subPath relative ok", |p| { container(p)["volumeMounts"][0]["subPath"] = json!("logs/web"); }, vec![]),
        // Go reports subPath errors on the list path, without the index.
        ("subPath absolute", |p| { container(p)["volumeMounts"][0]["subPath"] = json!("/logs"); },
            vec![format!("{M}.subPath: Invalid value: \"/logs\": must be a relative path")]),
        ("subPath backsteps", |p| { container(p)["volumeMounts"][0]["subPath"] = json!("a/../../b"); },
            vec![format!("{M}.subPath: Invalid value: \"a/../../b\": must not contain '..'")]),
        ("subPath dotdot prefix ok", |p| { container(p)["volumeMounts"][0]["subPath"] = json!("..data"); }, vec![]),
        ("subPath and expr", |p| { container(p)["volumeMounts"][0]["subPath"] = json!("a"); container(p)["volumeMounts"][0]["subPathExpr"] = json!("$(POD)"); },
            vec![format!("{M}[0].subPathExpr: Invalid value: \"$(POD)\": subPathExpr and subPath are mutually exclusive")]),
        ("propagation", |p| { container(p)["volumeMounts"][0]["mountPropagation"] = json!("Shared"); },
            vec![format!("{M}.mountPropagation: Unsupported value: \"Shared\": supported values: \"Bidirectional\", \"HostToContainer\", \"None\"")]),
        ("bidirectional needs privileged", |p| { container(p)["volumeMounts"][0]["mountPropagation"] = json!("Bidirectional"); },
            vec![format!("{M}.mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers")]),
        ("recursive read only needs readOnly", |p| { container(p)["volumeMounts"][0]["recursiveReadOnly"] = json!("Enabled"); },
            vec![format!("{M}.recursiveReadOnly: Forbidden: may only be specified when readOnly is true")]),
        ("init containers mount too", |p| { p["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox", "volumeMounts": [{"name": "nope", "mountPath": "/x"}]}]); },
            vec!["spec.initContainers[0].volumeMounts[0].name: Not found: \"nope\"".into()]),
    ]);
}

#[test]
fn init_container_validation_table() {
    const I: &str = "spec.initContainers";
    const NOT_SIDECAR: &str = "may not be set for init containers without restartPolicy=Always";
    run(vec![
        ("init container ok", |p| { p["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox"}]); }, vec![]),
        ("clash with app container", |p| { p["spec"]["initContainers"] = json!([{"name": "web", "image": "busybox"}]); },
            vec![format!("{I}[0].name: Duplicate value: \"web\"")]),
        ("clash between init containers", |p| { p["spec"]["initContainers"] = json!([{"name": "a", "image": "busybox"}, {"name": "a", "image": "busybox"}]); },
            vec![format!("{I}[1].name: Duplicate value: \"a\"")]),
        ("probes forbidden", |p| { p["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox",
                "lifecycle": {"preStop": {"exec": {"command": ["true"]}}},
                "livenessProbe": {"tcpSocket": {"port": 80}},
                "readinessProbe": {"tcpSocket": {"port": 80}},
                "startupProbe": {"tcpSocket": {"port": 80}}}]); },
            vec![
                format!("{I}[0].lifecycle: Forbidden: {NOT_SIDECAR}"),
                format!("{I}[0].livenessProbe: Forbidden: {NOT_SIDECAR}"),
                format!("{I}[0].readinessProbe: Forbidden: {NOT_SIDECAR}"),
                format!("{I}[0].startupProbe: Forbidden: {NOT_SIDECAR}"),
            ]),
        ("sidecar probes validated", |p| { p["spec"]["initContainers"] = json!([{"name": "side", "image": "busybox", "restartPolicy": "Always",
                "livenessProbe": {"tcpSocket": {"port": 80}, "successThreshold": 2},
                "startupProbe": {"exec": {"command": ["true"]}}}]); },
            vec![format!("{I}[0].livenessProbe.successThreshold: Invalid value: 2: must be 1")]),
        ("init env validated", |p| { p["spec"]["initContainers"] = json!([{"name": "init", "image": "busybox", "env": [{"name": "X", "valueFrom": {}}]}]); },
            vec![format!("{I}[0].env[0].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`")]),
    ]);
}

#[test]
fn volumes_are_reported_before_containers() {
    let mut pod = base();
    volume(&mut pod, json!({"name": "data", "secret": {}}));
    container(&mut pod)["image"] = json!("");
    assert_eq!(
        errors_of(&pod),
        vec![
            "spec.volumes[0].secret.secretName: Required value",
            "spec.containers[0].image: Required value",
            "spec.containers[0].volumeMounts[0].name: Not found: \"data\"",
        ]
    );
}
