//! default-scheduler against a real API server: placement, spreading, filters and the exact
//! failure texts.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use serde_json::json;
use wasmpod_cluster::{start_scheduler, SchedulerOptions};

const WAIT: Duration = Duration::from_secs(10);

async fn bound_node(api: &wasmpod_apiserver::ApiServer, name: &str) -> String {
    eventually(&format!("{name} to be bound"), WAIT, || async {
        let pod = get_pod(api, name).await?;
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
        (!node.is_empty()).then_some(node)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spreads_replicas_and_honours_selectors_and_tolerations() {
    let api = api();
    let _scheduler = start_scheduler(api.clone(), SchedulerOptions::default());
    for name in ["n1", "n2", "n3"] {
        let mut node = node(name, "4", "8Gi");
        if name == "n3" {
            node["metadata"]["labels"]["disk"] = json!("ssd");
            node["spec"]["taints"] =
                json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]);
        }
        create_node(&api, node).await;
    }
    // n3 is tainted: two replicas spread over n1 and n2.
    for name in ["web-a", "web-b"] {
        create_pod(&api, with_owner(pod(name, json!({})), "rs-1")).await;
    }
    let a = bound_node(&api, "web-a").await;
    let b = bound_node(&api, "web-b").await;
    assert_eq!(
        [a.as_str(), b.as_str()].into_iter().collect::<HashSet<_>>(),
        HashSet::from(["n1", "n2"]),
        "replicas of one owner spread across the untainted nodes"
    );

    // Tolerating the taint opens n3; the selector requires it.
    create_pod(
        &api,
        pod(
            "db",
            json!({
                "nodeSelector": {"disk": "ssd"},
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}],
            }),
        ),
    )
    .await;
    assert_eq!(bound_node(&api, "db").await, "n3");

    // A third replica tolerating everything goes where its siblings are not.
    create_pod(
        &api,
        with_owner(
            pod("web-c", json!({"tolerations": [{"operator": "Exists"}]})),
            "rs-1",
        ),
    )
    .await;
    assert_eq!(bound_node(&api, "web-c").await, "n3");

    let scheduled = eventually("Scheduled events", WAIT, || async {
        let events = events(&api, "Scheduled").await;
        (events.len() == 4).then_some(events)
    })
    .await;
    let db_event = scheduled
        .iter()
        .find(|e| e["involvedObject"]["name"] == "db")
        .expect("event for db");
    assert_eq!(
        db_event["message"],
        "Successfully assigned default/db to n3"
    );
    assert_eq!(db_event["type"], "Normal");
    assert_eq!(db_event["source"]["component"], "default-scheduler");
    let db = get_pod(&api, "db").await.expect("db");
    assert_eq!(
        condition(&db, "PodScheduled").expect("PodScheduled")["status"],
        "True"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unschedulable_pod_gets_upstream_message_then_lands_on_a_new_node() {
    let api = api();
    let _scheduler = start_scheduler(api.clone(), SchedulerOptions::default());
    let mut down = node("n1", "4", "8Gi");
    down["status"]["conditions"][0]["status"] = json!("Unknown");
    down["spec"]["taints"] =
        json!([{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}]);
    create_node(&api, down).await;
    create_node(&api, node("n2", "2", "4Gi")).await;
    create_node(&api, node("n3", "2", "4Gi")).await;
    // Fill n2 and n3 halfway (bound directly, as a kubelet's static pods would be).
    for (name, node) in [("busy-2", "n2"), ("busy-3", "n3")] {
        let mut busy = requesting(pod(name, json!({})), "1");
        busy["spec"]["nodeName"] = json!(node);
        create_pod(&api, busy).await;
    }
    create_pod(&api, requesting(pod("big", json!({})), "1500m")).await;

    let expected = "0/3 nodes are available: 1 node(s) had untolerated taint \
                    {node.kubernetes.io/unreachable: }, 2 Insufficient cpu. preemption: 0/3 nodes \
                    are available: 1 Preemption is not helpful for scheduling, 2 No preemption \
                    victims found for incoming pod..";
    let scheduled = eventually("PodScheduled=False", WAIT, || async {
        let pod = get_pod(&api, "big").await?;
        condition(&pod, "PodScheduled").cloned()
    })
    .await;
    assert_eq!(scheduled["status"], "False");
    assert_eq!(scheduled["reason"], "Unschedulable");
    assert_eq!(scheduled["message"], expected);
    let failed = eventually("FailedScheduling event", WAIT, || async {
        events(&api, "FailedScheduling").await.into_iter().next()
    })
    .await;
    assert_eq!(failed["type"], "Warning");
    assert_eq!(failed["message"], expected);
    assert_eq!(failed["involvedObject"]["name"], "big");
    assert_eq!(failed["source"]["component"], "default-scheduler");

    // A node with room appears: the pod is retried (after its back-off) and bound there.
    create_node(&api, node("n4", "4", "8Gi")).await;
    assert_eq!(bound_node(&api, "big").await, "n4");
    let event = eventually("Scheduled event", WAIT, || async {
        events(&api, "Scheduled").await.into_iter().next()
    })
    .await;
    assert_eq!(event["message"], "Successfully assigned default/big to n4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untolerated_taint_and_missing_nodes_have_their_own_texts() {
    let api = api();
    let _scheduler = start_scheduler(api.clone(), SchedulerOptions::default());
    create_pod(&api, pod("early", json!({}))).await;
    let first = eventually("no-nodes failure", WAIT, || async {
        let pod = get_pod(&api, "early").await?;
        condition(&pod, "PodScheduled").cloned()
    })
    .await;
    assert_eq!(first["message"], "no nodes available to schedule pods");

    let mut gpu = node("gpu-1", "4", "8Gi");
    gpu["spec"]["taints"] = json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]);
    create_node(&api, gpu).await;
    let expected = "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. \
                    preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..";
    eventually("taint failure", WAIT, || async {
        let pod = get_pod(&api, "early").await?;
        (condition(&pod, "PodScheduled")?["message"] == expected).then_some(())
    })
    .await;

    create_pod(
        &api,
        pod(
            "tolerant",
            json!({"tolerations": [{"key": "dedicated", "operator": "Exists"}]}),
        ),
    )
    .await;
    assert_eq!(bound_node(&api, "tolerant").await, "gpu-1");
    let early = get_pod(&api, "early").await.expect("early");
    assert_eq!(early["spec"]["nodeName"], json!(null));
}
