//! Patches of the shape kubectl 1.33 sends for `kubectl apply` of a changed manifest (three-way
//! strategic merge patches with `$setElementOrder`, deletions as `$patch: delete`), applied
//! with the real Kubernetes patch metadata.

use serde_json::{json, Value};
use wasmpod_apimachinery::{strategic_merge_patch, strip_patch_directives, PatchKind};

fn live_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "finalizers": ["a/one"], "labels": {"app": "web"}},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "reg/app:1",
                    "env": [{"name": "A", "value": "1"}],
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}, {"containerPort": 9090, "protocol": "TCP"}],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}]
                },
                {"name": "sidecar", "image": "reg/side:1"}
            ],
            "volumes": [{"name": "data", "emptyDir": {}}],
            "tolerations": [{"key": "k1", "operator": "Exists"}],
            "restartPolicy": "Always"
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    })
}

fn patch_pod(patch: Value) -> Value {
    strategic_merge_patch(&live_pod(), &patch, PatchKind::Pod.schema()).unwrap()
}

#[test]
fn changed_image_merges_into_the_named_container() {
    let out = patch_pod(json!({
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"}},
        "spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
            "containers": [{"image": "reg/app:2", "name": "app"}]
        }
    }));
    let app = &out["spec"]["containers"][0];
    assert_eq!(app["image"], "reg/app:2");
    assert_eq!(
        app["env"],
        json!([{"name": "A", "value": "1"}]),
        "untouched fields survive"
    );
    assert_eq!(out["spec"]["containers"][1]["name"], "sidecar");
    assert_eq!(out["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(
        out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        "{}\n"
    );
}

#[test]
fn added_env_var_is_merged_by_name_in_order() {
    let out = patch_pod(json!({"spec": {
        "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
        "containers": [{
            "$setElementOrder/env": [{"name": "B"}, {"name": "A"}],
            "env": [{"name": "B", "value": "2"}],
            "name": "app"
        }]
    }}));
    assert_eq!(
        out["spec"]["containers"][0]["env"],
        json!([{"name": "B", "value": "2"}, {"name": "A", "value": "1"}])
    );
}

#[test]
fn removed_container_port_is_deleted_by_container_port() {
    let out = patch_pod(json!({"spec": {
        "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
        "containers": [{
            "$setElementOrder/ports": [{"containerPort": 8080}],
            "name": "app",
            "ports": [{"$patch": "delete", "containerPort": 9090}]
        }]
    }}));
    assert_eq!(
        out["spec"]["containers"][0]["ports"],
        json!([{"containerPort": 8080, "protocol": "TCP"}])
    );
}

#[test]
fn reordered_containers_follow_set_element_order() {
    let out = patch_pod(
        json!({"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]}}),
    );
    let names: Vec<&str> = out["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sidecar", "app"]);
}

#[test]
fn removed_container_and_added_container() {
    let out = patch_pod(json!({"spec": {
        "$setElementOrder/containers": [{"name": "app"}, {"name": "new"}],
        "containers": [{"image": "reg/new:1", "name": "new"}, {"$patch": "delete", "name": "sidecar"}]
    }}));
    assert_eq!(
        out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].clone())
            .collect::<Vec<_>>(),
        vec![json!("app"), json!("new")]
    );
}

#[test]
fn tolerations_are_replaced_not_merged() {
    let out = patch_pod(json!({"spec": {"tolerations": [{"key": "k2", "operator": "Exists"}]}}));
    assert_eq!(
        out["spec"]["tolerations"],
        json!([{"key": "k2", "operator": "Exists"}])
    );
}

#[test]
fn volume_source_switch_uses_retain_keys() {
    let out = patch_pod(json!({"spec": {
        "$setElementOrder/volumes": [{"name": "data"}],
        "volumes": [{"$retainKeys": ["configMap", "name"], "configMap": {"name": "cfg"}, "name": "data"}]
    }}));
    assert_eq!(
        out["spec"]["volumes"],
        json!([{"name": "data", "configMap": {"name": "cfg"}}])
    );
}

#[test]
fn finalizers_merge_as_a_set_and_delete_by_value() {
    // Without $setElementOrder, Go places patch items not in the live list first.
    let out = patch_pod(json!({"metadata": {"finalizers": ["b/two"]}}));
    assert_eq!(out["metadata"]["finalizers"], json!(["b/two", "a/one"]));
    let out = patch_pod(json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/one"]}}));
    assert_eq!(out["metadata"]["finalizers"], json!([]));
    let out = patch_pod(json!({"metadata": {"finalizers": null}}));
    assert!(out["metadata"].get("finalizers").is_none());
}

#[test]
fn status_conditions_merge_by_type() {
    let out =
        patch_pod(json!({"status": {"conditions": [{"type": "PodScheduled", "status": "True"}]}}));
    assert_eq!(
        out["status"]["conditions"],
        json!([{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}])
    );
    let out = patch_pod(json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}));
    assert_eq!(
        out["status"]["conditions"],
        json!([{"type": "Ready", "status": "False"}])
    );
}

#[test]
fn deployment_strategy_switch_clears_rolling_update() {
    let live = json!({
        "kind": "Deployment",
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"spec": {"containers": [{"name": "app", "image": "reg/app:1"}]}}
        }
    });
    let patch = json!({"spec": {
        "strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null},
        "template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}],
            "containers": [{"image": "reg/app:2", "name": "app"}]
        }}
    }});
    let out = strategic_merge_patch(&live, &patch, PatchKind::Deployment.schema()).unwrap();
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "app", "image": "reg/app:2"}])
    );
    assert_eq!(out["spec"]["replicas"], 2);
}

#[test]
fn service_ports_merge_by_port() {
    let live = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]}});
    let patch = json!({"spec": {"ports": [{"port": 80, "targetPort": 9000}]}});
    let out = strategic_merge_patch(&live, &patch, PatchKind::Service.schema()).unwrap();
    assert_eq!(
        out["spec"]["ports"],
        json!([{"port": 80, "targetPort": 9000}, {"port": 443, "targetPort": 8443}])
    );
}

#[test]
fn configmap_data_is_a_plain_map() {
    let live = json!({"data": {"a": "1", "b": "2"}});
    let patch = json!({"data": {"a": null, "c": "3"}});
    let out = strategic_merge_patch(&live, &patch, PatchKind::ConfigMap.schema()).unwrap();
    assert_eq!(out["data"], json!({"b": "2", "c": "3"}));
}

#[test]
fn directives_in_newly_added_values_can_be_stripped() {
    let live = json!({"spec": {}});
    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
    let mut out = strategic_merge_patch(&live, &patch, PatchKind::Deployment.schema()).unwrap();
    assert_eq!(
        out["spec"]["strategy"]["$retainKeys"],
        json!(["type"]),
        "Go keeps it too"
    );
    strip_patch_directives(&mut out);
    assert_eq!(out, json!({"spec": {"strategy": {"type": "Recreate"}}}));
}
