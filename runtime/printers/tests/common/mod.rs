//! The worked example of k8s-semantics.md §4.6: pod `health1` restarted by HTTP-500 liveness
//! failures, T0 = Mon, 06 Jul 2026 10:00:00 +0000. Objects are built for any snapshot time `t`
//! (seconds after T0) from the event timeline of §4.6.1, as kubelet 1.33 would have written them.

#![allow(dead_code)]

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Event, Pod};
use serde_json::{json, Value};

pub const UID: &str = "3f6d2a8e-5b1c-4d7e-9a40-1c2b3d4e5f60";
pub const IMAGE_ID: &str = "docker.io/library/health_image@sha256:b29814cf5792e684cd75d6a7fce7a67a11887e312f87ca2ac2496d81f365ff72";
pub const CONTAINER_ID_3: &str =
    "containerd://7c1c97df17c066924822b0af09a65251554962c61e23329aed04cd19020dc3b8";
pub const CONTAINER_ID_2: &str =
    "containerd://5b0e4f3c2a1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f";

pub fn t0() -> Timestamp {
    "2026-07-06T10:00:00Z".parse().expect("valid T0")
}

/// T0 + `seconds`.
pub fn at(seconds: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(seconds)
}

/// RFC 3339 text of T0 + `seconds` (second precision, as the API serialises event times).
pub fn rfc3339(seconds: i64) -> String {
    at(seconds).to_string()
}

/// Which optional parts the pod carries.
#[derive(Clone, Copy)]
pub struct PodShape {
    /// `spec.priority: 0` and `serviceAccountName: default` (set by admission on a real cluster).
    pub priority_and_service_account: bool,
    /// The admission-injected `kube-api-access-7xk2p` volume, its mount and the two default
    /// NoExecute tolerations.
    pub service_account_volume_and_tolerations: bool,
}

/// The pod as `kubectl get pod -o yaml` would show it at the two snapshots of §4.6.4.
pub fn health1_pod(snapshot: i64, shape: PodShape) -> Pod {
    let mut container = json!({
        "name": "health1",
        "image": "health_image:latest",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3,
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    });
    let mut spec = json!({
        "containers": [],
        "nodeName": "worker-1",
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
    });
    if shape.priority_and_service_account {
        spec["priority"] = json!(0);
        spec["serviceAccountName"] = json!("default");
        spec["serviceAccount"] = json!("default");
    }
    if shape.service_account_volume_and_tolerations {
        container["volumeMounts"] = json!([{
            "name": "kube-api-access-7xk2p",
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
            "readOnly": true,
        }]);
        spec["volumes"] = json!([{
            "name": "kube-api-access-7xk2p",
            "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace",
                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ]},
        }]);
        spec["tolerations"] = json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        ]);
    }
    spec["containers"] = json!([container]);

    let (container_status, ready) = match snapshot {
        // Instance #3 running since t=210, instance #2 (t=130..190) in lastState.
        210.. => (
            json!({
                "name": "health1",
                "image": "docker.io/library/health_image:latest",
                "imageID": IMAGE_ID,
                "containerID": CONTAINER_ID_3,
                "ready": true, "started": true, "restartCount": 3,
                "state": {"running": {"startedAt": rfc3339(210)}},
                "lastState": {"terminated": last_terminated()},
            }),
            true,
        ),
        // Back-off window after instance #2 died at t=190.
        191..=209 => (
            json!({
                "name": "health1",
                "image": "docker.io/library/health_image:latest",
                "imageID": IMAGE_ID,
                "containerID": CONTAINER_ID_2,
                "ready": false, "started": false, "restartCount": 2,
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                    "message": format!("back-off 20s restarting failed container=health1 pod=health1_default({UID})")}},
                "lastState": {"terminated": last_terminated()},
            }),
            false,
        ),
        _ => panic!("fixture only models the t=195 and t>=210 snapshots"),
    };
    let ready_status = if ready { "True" } else { "False" };
    let mut ready_condition =
        json!({"type": "Ready", "status": ready_status, "lastTransitionTime": rfc3339(210)});
    let mut containers_ready = json!({"type": "ContainersReady", "status": ready_status, "lastTransitionTime": rfc3339(210)});
    if !ready {
        for condition in [&mut ready_condition, &mut containers_ready] {
            condition["reason"] = json!("ContainersNotReady");
            condition["message"] = json!("containers with unready status: [health1]");
            condition["lastTransitionTime"] = json!(rfc3339(160));
        }
    }

    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "health1",
            "namespace": "default",
            "uid": UID,
            "creationTimestamp": rfc3339(0),
            "resourceVersion": "1234",
        },
        "spec": spec,
        "status": {
            "phase": "Running",
            "hostIP": "172.18.0.3",
            "hostIPs": [{"ip": "172.18.0.3"}],
            "podIP": "10.244.1.5",
            "podIPs": [{"ip": "10.244.1.5"}],
            "startTime": rfc3339(0),
            "qosClass": "BestEffort",
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": rfc3339(1)},
                {"type": "Initialized", "status": "True", "lastTransitionTime": rfc3339(0)},
                ready_condition,
                containers_ready,
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": rfc3339(0)},
            ],
            "containerStatuses": [container_status],
        },
    }))
    .expect("valid pod fixture")
}

fn last_terminated() -> Value {
    json!({
        "containerID": CONTAINER_ID_2,
        "exitCode": 137,
        "reason": "Error",
        "startedAt": rfc3339(130),
        "finishedAt": rfc3339(190),
    })
}

/// A kubelet event on the container, counted up to the snapshot (client-go correlation:
/// identical messages are one object with count/first/last). None when it has not happened yet.
fn kubelet_event(
    snapshot: i64,
    name_suffix: &str,
    type_: &str,
    reason: &str,
    message: &str,
    occurrences: &[i64],
) -> Option<Value> {
    let seen: Vec<i64> = occurrences
        .iter()
        .copied()
        .filter(|t| *t <= snapshot)
        .collect();
    let (first, last) = (*seen.first()?, *seen.last()?);
    Some(json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": format!("health1.{name_suffix}"), "namespace": "default"},
        "involvedObject": {
            "apiVersion": "v1", "kind": "Pod", "name": "health1", "namespace": "default",
            "uid": UID, "fieldPath": "spec.containers{health1}",
        },
        "type": type_,
        "reason": reason,
        "message": message,
        "count": seen.len(),
        "firstTimestamp": rfc3339(first),
        "lastTimestamp": rfc3339(last),
        "source": {"component": "kubelet", "host": "worker-1"},
        "reportingComponent": "kubelet",
        "reportingInstance": "worker-1",
    }))
}

/// Events of namespace `default` at the snapshot, in API list order (by name, i.e. by first
/// occurrence), kubelet/kubectl 1.33 texts.
pub fn health1_events(snapshot: i64) -> Vec<Event> {
    let starts = [1, 61, 130, 210, 310];
    let back_off_message =
        format!("Back-off restarting failed container health1 in pod health1_default({UID})");
    let mut events = vec![json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "health1.18a0000000000001", "namespace": "default"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": "health1",
                           "namespace": "default", "uid": UID},
        "type": "Normal",
        "reason": "Scheduled",
        "message": "Successfully assigned default/health1 to worker-1",
        "eventTime": rfc3339(0),
        "reportingComponent": "default-scheduler",
        "reportingInstance": "default-scheduler-control-plane",
        "action": "Binding",
        "source": {},
    })];
    events.extend(
        [
            kubelet_event(
                snapshot,
                "pulled",
                "Normal",
                "Pulled",
                "Container image \"health_image:latest\" already present on machine",
                &starts,
            ),
            kubelet_event(
                snapshot,
                "created",
                "Normal",
                "Created",
                "Created container: health1",
                &starts,
            ),
            kubelet_event(
                snapshot,
                "started",
                "Normal",
                "Started",
                "Started container health1",
                &starts,
            ),
            kubelet_event(
                snapshot,
                "unhealthy",
                "Warning",
                "Unhealthy",
                "Liveness probe failed: HTTP probe failed with statuscode: 500",
                &[10, 20, 30, 70, 80, 90, 140, 150, 160, 220, 230, 240],
            ),
            kubelet_event(
                snapshot,
                "killing",
                "Normal",
                "Killing",
                "Container health1 failed liveness probe, will be restarted",
                &[30, 90, 160, 240],
            ),
            kubelet_event(
                snapshot,
                "backoff",
                "Warning",
                "BackOff",
                &back_off_message,
                &[121, 191, 271],
            ),
        ]
        .into_iter()
        .flatten(),
    );
    events
        .into_iter()
        .map(|e| serde_json::from_value(e).expect("valid event fixture"))
        .collect()
}

/// Events in the same namespace that `describe pod health1` must not show.
pub fn unrelated_events() -> Vec<Event> {
    [
        // Another pod.
        json!({"metadata": {"name": "other.1", "namespace": "default"},
               "involvedObject": {"kind": "Pod", "name": "other", "namespace": "default", "uid": "0000"},
               "type": "Normal", "reason": "Started", "message": "Started container other",
               "count": 1, "firstTimestamp": rfc3339(100), "lastTimestamp": rfc3339(100),
               "source": {"component": "kubelet"}}),
        // A previous pod with the same name (different UID).
        json!({"metadata": {"name": "health1.old", "namespace": "default"},
               "involvedObject": {"kind": "Pod", "name": "health1", "namespace": "default", "uid": "old-uid"},
               "type": "Normal", "reason": "Killing", "message": "Stopping container health1",
               "count": 1, "firstTimestamp": rfc3339(-50), "lastTimestamp": rfc3339(-50),
               "source": {"component": "kubelet"}}),
    ]
    .into_iter()
    .map(|e| serde_json::from_value(e).expect("valid event fixture"))
    .collect()
}
