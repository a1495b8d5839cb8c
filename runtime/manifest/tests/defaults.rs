//! Static API-server defaults.

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;
use wasmpod_manifest::{apply_defaults, parse};

fn defaulted(value: serde_json::Value) -> Pod {
    let mut pod: Pod = serde_json::from_value(value).unwrap();
    apply_defaults(&mut pod);
    pod
}

#[test]
fn image_pull_policy_follows_the_tag() {
    let cases = [
        ("httpd", "Always"),
        ("httpd:latest", "Always"),
        ("httpd:2.4", "IfNotPresent"),
        ("localhost:5000/app", "Always"),
        ("localhost:5000/app:1.0", "IfNotPresent"),
        (
            "httpd@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "IfNotPresent",
        ),
    ];
    for (image, expected) in cases {
        let pod = defaulted(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": image}], "initContainers": [{"name": "i", "image": image}]}
        }));
        let spec = pod.spec.unwrap();
        assert_eq!(
            spec.containers[0].image_pull_policy.as_deref(),
            Some(expected),
            "{image}"
        );
        assert_eq!(
            spec.init_containers.unwrap()[0]
                .image_pull_policy
                .as_deref(),
            Some(expected),
            "init {image}"
        );
    }
}

#[test]
fn explicit_values_are_kept() {
    let pod = defaulted(json!({
        "metadata": {"name": "p", "namespace": "team"},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "dnsPolicy": "Default",
            "schedulerName": "mine",
            "enableServiceLinks": false,
            "containers": [{
                "name": "c", "image": "httpd", "imagePullPolicy": "Never",
                "terminationMessagePath": "/tmp/msg", "terminationMessagePolicy": "FallbackToLogsOnError",
                "ports": [{"containerPort": 53, "protocol": "UDP"}],
                "readinessProbe": {
                    "httpGet": {"port": 80, "path": "/ready", "scheme": "HTTPS"},
                    "timeoutSeconds": 5, "periodSeconds": 7, "successThreshold": 2, "failureThreshold": 9
                },
                "startupProbe": {"grpc": {"port": 9090}}
            }]
        }
    }));
    let expected = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "team"},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "dnsPolicy": "Default",
            "schedulerName": "mine",
            "enableServiceLinks": false,
            "securityContext": {},
            "containers": [{
                "name": "c", "image": "httpd", "imagePullPolicy": "Never",
                "terminationMessagePath": "/tmp/msg", "terminationMessagePolicy": "FallbackToLogsOnError",
                "ports": [{"containerPort": 53, "protocol": "UDP"}],
                "readinessProbe": {
                    "httpGet": {"port": 80, "path": "/ready", "scheme": "HTTPS"},
                    "timeoutSeconds": 5, "periodSeconds": 7, "successThreshold": 2, "failureThreshold": 9
                },
                // gRPC service is not defaulted.
                "startupProbe": {"grpc": {"port": 9090}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
            }]
        }
    });
    assert_eq!(serde_json::to_value(&pod).unwrap(), expected);
}

#[test]
fn zero_values_count_as_unset_like_go() {
    let pod = defaulted(json!({
        "metadata": {"name": "p", "namespace": ""},
        "spec": {
            "restartPolicy": "",
            "containers": [{
                "name": "c", "image": "httpd:1", "imagePullPolicy": "",
                "livenessProbe": {"httpGet": {"port": 80, "path": "", "scheme": ""}, "timeoutSeconds": 0, "periodSeconds": 0}
            }]
        }
    }));
    assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
    let spec = pod.spec.unwrap();
    assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
    let container = &spec.containers[0];
    assert_eq!(container.image_pull_policy.as_deref(), Some("IfNotPresent"));
    let probe = container.liveness_probe.as_ref().unwrap();
    assert_eq!(
        (probe.timeout_seconds, probe.period_seconds),
        (Some(1), Some(10))
    );
    let http = probe.http_get.as_ref().unwrap();
    assert_eq!(
        (http.path.as_deref(), http.scheme.as_deref()),
        (Some("/"), Some("HTTP"))
    );
}

#[test]
fn missing_spec_is_defaulted_then_rejected() {
    let error = parse(
        "p.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n",
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "p.yaml (document 1): The Pod \"p\" is invalid: spec.containers: Required value"
    );
}

#[test]
fn generate_name_leaves_name_empty() {
    let pods = parse(
        "p.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: web-\nspec:\n  containers:\n  - name: web\n    image: httpd\n",
    )
    .unwrap();
    assert_eq!(pods[0].metadata.name, None);
    assert_eq!(pods[0].metadata.generate_name.as_deref(), Some("web-"));
}

#[test]
fn volumes_env_resources_and_host_network() {
    let pod = defaulted(json!({
        "metadata": {"name": "p"},
        "spec": {
            "hostNetwork": true,
            "containers": [{
                "name": "c", "image": "httpd",
                "ports": [{"containerPort": 8080}],
                "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                "resources": {"limits": {"cpu": "500m", "memory": "64Mi"}, "requests": {"cpu": "100m"}},
                "lifecycle": {"preStop": {"httpGet": {"port": 8080}}}
            }],
            "volumes": [
                {"name": "scratch"},
                {"name": "cfg", "configMap": {"name": "cfg"}},
                {"name": "sec", "secret": {"secretName": "s", "defaultMode": 256}},
                {"name": "host", "hostPath": {"path": "/tmp"}}
            ]
        }
    }));
    let value = serde_json::to_value(&pod).unwrap();
    let container = &value["spec"]["containers"][0];
    assert_eq!(
        container["ports"][0],
        json!({"containerPort": 8080, "hostPort": 8080, "protocol": "TCP"})
    );
    assert_eq!(
        container["env"][0]["valueFrom"]["fieldRef"]["apiVersion"],
        json!("v1")
    );
    assert_eq!(
        container["resources"]["requests"],
        json!({"cpu": "100m", "memory": "64Mi"})
    );
    assert_eq!(
        container["lifecycle"]["preStop"]["httpGet"],
        json!({"port": 8080, "path": "/", "scheme": "HTTP"})
    );
    let volumes = &value["spec"]["volumes"];
    assert_eq!(volumes[0], json!({"name": "scratch", "emptyDir": {}}));
    assert_eq!(volumes[1]["configMap"]["defaultMode"], json!(420));
    assert_eq!(volumes[2]["secret"]["defaultMode"], json!(256));
    assert_eq!(volumes[3]["hostPath"], json!({"path": "/tmp", "type": ""}));
    for field in ["uid", "creationTimestamp"] {
        assert!(value["metadata"].get(field).is_none(), "{field}");
    }
    assert!(value["spec"].get("nodeName").is_none());
    assert!(value.get("status").is_none());
}

#[test]
fn requests_default_to_limits() {
    let pods = wasmpod_manifest::parse(
        "limits.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: httpd\n    resources:\n      limits:\n        memory: 64Mi\n        cpu: 100m\n      requests:\n        cpu: 50m\n",
    )
    .unwrap();
    let resources = pods[0].spec.as_ref().unwrap().containers[0]
        .resources
        .clone()
        .unwrap();
    let requests = resources.requests.unwrap();
    assert_eq!(requests["memory"].0, "64Mi", "copied from the limit");
    assert_eq!(requests["cpu"].0, "50m", "an explicit request stays");
}
