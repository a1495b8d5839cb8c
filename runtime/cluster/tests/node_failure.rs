//! Node failure end to end: the node lifecycle controller, the taint eviction controller and
//! the scheduler together, with shortened timings; the tests play the kubelets.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use wasmpod_apiserver::ApiServer;
use wasmpod_cluster::{start, ClusterControllers, ClusterOptions, NodeLifecycleOptions};

const WAIT: Duration = Duration::from_secs(10);
const RENEW_EVERY: Duration = Duration::from_millis(150);

fn options() -> ClusterOptions {
    ClusterOptions {
        node_lifecycle: NodeLifecycleOptions {
            node_monitor_period: Duration::from_millis(100),
            node_monitor_grace_period: Duration::from_secs(1),
            node_startup_grace_period: Duration::from_secs(2),
            ..NodeLifecycleOptions::default()
        },
        ..ClusterOptions::default()
    }
}

/// A pod bound to `node` tolerating its loss for `seconds`, running and ready.
async fn running_pod(api: &ApiServer, name: &str, node: &str, seconds: i64) {
    let toleration = |key: &str| json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds});
    let mut pod = pod(
        name,
        json!({"tolerations": [
            toleration("node.kubernetes.io/not-ready"),
            toleration("node.kubernetes.io/unreachable"),
        ]}),
    );
    pod["spec"]["nodeName"] = json!(node);
    create_pod(api, pod).await;
    set_pod_running(api, name).await;
}

async fn cluster(nodes: &[&str]) -> (ApiServer, ClusterControllers, Vec<Heartbeat>) {
    let api = api();
    let mut heartbeats = Vec::new();
    for name in nodes {
        create_node(&api, node(name, "4", "8Gi")).await;
        heartbeats.push(Heartbeat::start(&api, name, RENEW_EVERY).await);
    }
    let controllers = start(api.clone(), options());
    (api, controllers, heartbeats)
}

async fn node_object(api: &ApiServer, name: &str) -> Value {
    api.get_object("nodes", "", name).await.expect("node")
}

async fn wait_for_taint(api: &ApiServer, node: &str, key: &str, effect: &str) -> Value {
    eventually(&format!("{key}:{effect} on {node}"), WAIT, || async {
        taint(&node_object(api, node).await, key, effect).cloned()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_node_goes_unknown_and_its_pod_is_evicted_after_the_toleration() {
    let (api, _controllers, mut heartbeats) = cluster(&["worker-1", "worker-2"]).await;
    running_pod(&api, "web", "worker-1", 2).await;
    // worker-1 stops renewing its Lease; worker-2 stays healthy.
    drop(heartbeats.remove(0));

    let node = eventually("worker-1 Ready=Unknown", WAIT, || async {
        let node = node_object(&api, "worker-1").await;
        (condition(&node, "Ready")?["status"] == "Unknown").then_some(node)
    })
    .await;
    let ready = condition(&node, "Ready").expect("Ready");
    assert_eq!(ready["reason"], "NodeStatusUnknown");
    assert_eq!(ready["message"], "Kubelet stopped posting node status.");
    for kind in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
        let never = condition(&node, kind).expect(kind);
        assert_eq!(never["status"], "Unknown");
        assert_eq!(never["reason"], "NodeStatusNeverUpdated");
        assert_eq!(never["message"], "Kubelet never posted node status.");
    }

    let node_event = eventually("node NodeNotReady event", WAIT, || async {
        events(&api, "NodeNotReady")
            .await
            .into_iter()
            .find(|e| e["involvedObject"]["kind"] == "Node")
    })
    .await;
    assert_eq!(
        node_event["message"],
        "Node worker-1 status is now: NodeNotReady"
    );
    assert_eq!(node_event["type"], "Normal");
    assert_eq!(node_event["source"]["component"], "node-controller");

    let pod_event = eventually("pod NodeNotReady event", WAIT, || async {
        events(&api, "NodeNotReady")
            .await
            .into_iter()
            .find(|e| e["involvedObject"]["kind"] == "Pod")
    })
    .await;
    assert_eq!(pod_event["message"], "Node is not ready");
    assert_eq!(pod_event["type"], "Warning");
    let pod = get_pod(&api, "web").await.expect("web");
    assert_eq!(condition(&pod, "Ready").expect("Ready")["status"], "False");
    assert_eq!(
        condition(&pod, "ContainersReady").expect("ContainersReady")["status"],
        "True",
        "only the Ready condition changes"
    );

    wait_for_taint(
        &api,
        "worker-1",
        "node.kubernetes.io/unreachable",
        "NoSchedule",
    )
    .await;
    let no_execute = wait_for_taint(
        &api,
        "worker-1",
        "node.kubernetes.io/unreachable",
        "NoExecute",
    )
    .await;
    assert!(no_execute["timeAdded"].is_string());
    let healthy = node_object(&api, "worker-2").await;
    assert!(
        healthy["spec"]["taints"].is_null(),
        "worker-2 stays untainted"
    );

    // After the 2 s toleration: DisruptionTarget, graceful delete, TaintManagerEviction.
    let evicted = eventually("eviction of web", WAIT, || async {
        let pod = get_pod(&api, "web").await?;
        pod["metadata"]["deletionTimestamp"]
            .is_string()
            .then_some(pod)
    })
    .await;
    let target = condition(&evicted, "DisruptionTarget").expect("DisruptionTarget");
    assert_eq!(target["status"], "True");
    assert_eq!(target["reason"], "DeletionByTaintManager");
    assert_eq!(
        target["message"],
        "Taint manager: deleting due to NoExecute taint"
    );
    assert_eq!(evicted["metadata"]["deletionGracePeriodSeconds"], 30);
    let marking = eventually("TaintManagerEviction event", WAIT, || async {
        events(&api, "TaintManagerEviction")
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(marking["message"], "Marking for deletion Pod default/web");
    assert_eq!(marking["type"], "Normal");
    assert_eq!(marking["source"]["component"], "taint-eviction-controller");
    assert!(
        marking["involvedObject"]["uid"].is_null(),
        "no uid: describe does not list it"
    );
    assert_eq!(marking["involvedObject"]["name"], "web");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_that_returns_in_time_keeps_its_pod() {
    let (api, _controllers, mut heartbeats) = cluster(&["worker-1", "worker-2"]).await;
    running_pod(&api, "web", "worker-1", 60).await;
    drop(heartbeats.remove(0));
    wait_for_taint(
        &api,
        "worker-1",
        "node.kubernetes.io/unreachable",
        "NoExecute",
    )
    .await;

    // The kubelet is back: it renews its Lease and posts Ready again.
    let _back = Heartbeat::start(&api, "worker-1", RENEW_EVERY).await;
    set_node_ready(&api, "worker-1", "True").await;

    let cancelled = eventually("cancel event", WAIT, || async {
        events(&api, "TaintManagerEviction")
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(
        cancelled["message"],
        "Cancelling deletion of Pod default/web"
    );
    eventually("taints removed", WAIT, || async {
        let node = node_object(&api, "worker-1").await;
        node["spec"]["taints"]
            .as_array()
            .is_none_or(|t| t.is_empty())
            .then_some(())
    })
    .await;
    let pod = get_pod(&api, "web").await.expect("web");
    assert!(pod["metadata"]["deletionTimestamp"].is_null());
    assert!(condition(&pod, "DisruptionTarget").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_nodes_down_means_no_eviction() {
    let (api, _controllers, heartbeats) = cluster(&["worker-1", "worker-2"]).await;
    // Zero toleration: any NoExecute taint would evict at once.
    running_pod(&api, "web", "worker-1", 0).await;
    drop(heartbeats);

    eventually("both nodes Unknown and the pod not ready", WAIT, || async {
        for name in ["worker-1", "worker-2"] {
            let node = node_object(&api, name).await;
            (condition(&node, "Ready")?["status"] == "Unknown").then_some(())?;
        }
        let pod = get_pod(&api, "web").await?;
        (condition(&pod, "Ready")?["status"] == "False").then_some(())
    })
    .await;
    wait_for_taint(
        &api,
        "worker-1",
        "node.kubernetes.io/unreachable",
        "NoSchedule",
    )
    .await;
    // Ten monitor periods in full disruption: no NoExecute taint, no deletion.
    holds_for(
        "no eviction while every node is down",
        Duration::from_secs(1),
        || async {
            let node = node_object(&api, "worker-1").await;
            let pod = get_pod(&api, "web").await;
            taint(&node, "node.kubernetes.io/unreachable", "NoExecute").is_none()
                && pod.is_some_and(|p| p["metadata"]["deletionTimestamp"].is_null())
        },
    )
    .await;
    assert!(events(&api, "TaintManagerEviction").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacement_is_not_scheduled_onto_the_dead_node() {
    let (api, _controllers, mut heartbeats) = cluster(&["worker-1", "worker-2"]).await;
    drop(heartbeats.remove(0));
    wait_for_taint(
        &api,
        "worker-1",
        "node.kubernetes.io/unreachable",
        "NoSchedule",
    )
    .await;
    create_pod(&api, pod("fresh", json!({}))).await;
    let node = eventually("fresh bound", WAIT, || async {
        let pod = get_pod(&api, "fresh").await?;
        pod["spec"]["nodeName"].as_str().map(str::to_string)
    })
    .await;
    assert_eq!(node, "worker-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controllers_restarted_elsewhere_still_evict() {
    let (api, controllers, mut heartbeats) = cluster(&["worker-1", "worker-2"]).await;
    running_pod(&api, "web", "worker-1", 1).await;
    drop(heartbeats.remove(0));
    wait_for_taint(
        &api,
        "worker-1",
        "node.kubernetes.io/unreachable",
        "NoSchedule",
    )
    .await;
    // Leadership moves: the old control plane stops, a new one starts from the API alone.
    drop(controllers);
    let _new_leader = start(api.clone(), options());
    eventually("eviction by the new leader", WAIT, || async {
        let pod = get_pod(&api, "web").await?;
        pod["metadata"]["deletionTimestamp"]
            .is_string()
            .then_some(())
    })
    .await;
    let registered = events(&api, "RegisteredNode").await;
    assert!(registered
        .iter()
        .any(|e| e["message"] == "Node worker-1 event: Registered Node worker-1 in Controller"));
}
