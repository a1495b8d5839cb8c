//! ReplicaSet and ReplicationController controllers against a real API server.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_pods_with_generated_names_owner_refs_and_events() {
    let c = cluster().await;
    let rs = c
        .api
        .create_object("replicasets", NS, replica_set("web", "web", 3))
        .await
        .unwrap();
    let pods = wait_for("3 pods", || async {
        let pods = pods_of(&c.api, uid(&rs)).await;
        (pods.len() == 3).then_some(pods)
    })
    .await;
    for pod in &pods {
        let pod_name = name(pod);
        assert!(
            pod_name.starts_with("web-") && pod_name.len() == "web-".len() + 5,
            "{pod_name}"
        );
        assert_eq!(pod["metadata"]["generateName"], "web-");
        assert_eq!(pod["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(
            pod["metadata"]["ownerReferences"],
            json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": uid(&rs),
                    "controller": true, "blockOwnerDeletion": true}])
        );
    }
    for pod in &pods {
        mark_ready(&c.api, name(pod)).await;
    }
    let status = wait_for("ready status", || async {
        let rs = c.api.get_object("replicasets", NS, "web").await.unwrap();
        (rs["status"]["availableReplicas"] == 3).then(|| rs["status"].clone())
    })
    .await;
    assert_eq!(
        status,
        json!({"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 3,
               "availableReplicas": 3, "observedGeneration": 1})
    );
    // Exactly three creations: nothing was created twice while the cache caught up.
    assert_eq!(list(&c.api, "pods").await.len(), 3);
    let mut created: Vec<String> = events_for(&c.api, "web")
        .await
        .into_iter()
        .filter(|(kind, reason, _, component)| {
            kind == "Normal" && reason == "SuccessfulCreate" && component == "replicaset-controller"
        })
        .map(|(_, _, message, _)| message)
        .collect();
    created.sort();
    let mut expected: Vec<String> = pods
        .iter()
        .map(|p| format!("Created pod: {}", name(p)))
        .collect();
    expected.sort();
    assert_eq!(created, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_down_removes_unscheduled_then_unready_pods_first() {
    let c = cluster().await;
    let rs = c
        .api
        .create_object("replicasets", NS, replica_set("web", "web", 3))
        .await
        .unwrap();
    let pods = wait_for("3 pods", || async {
        let pods = pods_of(&c.api, uid(&rs)).await;
        (pods.len() == 3).then_some(pods)
    })
    .await;
    let (keeper, unready, unscheduled) = (name(&pods[0]), name(&pods[1]), name(&pods[2]));
    c.api.bind_pod(NS, keeper, "node-a").await.unwrap();
    c.api.bind_pod(NS, unready, "node-b").await.unwrap();
    mark_ready(&c.api, keeper).await;
    edit(&c.api, "replicasets", "web", |rs| {
        rs["spec"]["replicas"] = json!(1)
    })
    .await;

    let active = wait_for("one active pod", || async {
        let active = active_pods_of(&c.api, uid(&rs)).await;
        (active.len() == 1).then_some(active)
    })
    .await;
    assert_eq!(name(&active[0]), keeper);
    // The unscheduled pod is gone at once; the bound one terminates gracefully.
    assert!(c.api.get_object("pods", NS, unscheduled).await.is_err());
    let terminating = c.api.get_object("pods", NS, unready).await.unwrap();
    assert!(is_deleting(&terminating));
    wait_for("status replicas 1", || async {
        let rs = c.api.get_object("replicasets", NS, "web").await.unwrap();
        (rs["status"]["replicas"] == 1 && rs["status"]["observedGeneration"] == 2).then_some(())
    })
    .await;
    let deleted: Vec<String> = events_for(&c.api, "web")
        .await
        .into_iter()
        .filter(|(_, reason, _, _)| reason == "SuccessfulDelete")
        .map(|(_, _, message, _)| message)
        .collect();
    assert_eq!(deleted.len(), 2);
    for pod_name in [unready, unscheduled] {
        assert!(
            deleted.contains(&format!("Deleted pod: {pod_name}")),
            "{deleted:?}"
        );
    }

    edit(&c.api, "replicasets", "web", |rs| {
        rs["spec"]["replicas"] = json!(3)
    })
    .await;
    wait_for("scaled back to 3", || async {
        (active_pods_of(&c.api, uid(&rs)).await.len() == 3).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminating_and_finished_pods_are_replaced_at_once() {
    let c = cluster().await;
    let rs = c
        .api
        .create_object("replicasets", NS, replica_set("web", "web", 2))
        .await
        .unwrap();
    let pods = wait_for("2 pods", || async {
        let pods = pods_of(&c.api, uid(&rs)).await;
        (pods.len() == 2).then_some(pods)
    })
    .await;
    // A bound pod's delete is graceful: it lingers with a deletionTimestamp (a lost node).
    let doomed = name(&pods[0]).to_string();
    c.api.bind_pod(NS, &doomed, "node-a").await.unwrap();
    c.api
        .delete_object("pods", NS, &doomed, Default::default())
        .await
        .unwrap();
    wait_for("a replacement while the old pod terminates", || async {
        let all = pods_of(&c.api, uid(&rs)).await;
        let old_still_there = all.iter().any(|p| name(p) == doomed && is_deleting(p));
        (old_still_there && all.iter().filter(|p| is_active(p)).count() == 2).then_some(())
    })
    .await;
    // A pod that finished (phase Failed) is replaced too.
    let finished = name(&pods[1]).to_string();
    set_phase(&c.api, &finished, "Failed").await;
    wait_for("a replacement for the failed pod", || async {
        let active = active_pods_of(&c.api, uid(&rs)).await;
        (active.len() == 2 && active.iter().all(|p| name(p) != finished)).then_some(())
    })
    .await;
    assert_eq!(pods_of(&c.api, uid(&rs)).await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_are_adopted_and_mislabeled_pods_released() {
    let c = cluster().await;
    let orphan = c
        .api
        .create_object(
            "pods",
            NS,
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "stray", "labels": {"app": "web"}},
                   "spec": {"containers": [{"name": "app", "image": "app:1"}]}}),
        )
        .await
        .unwrap();
    let rs = c
        .api
        .create_object("replicasets", NS, replica_set("web", "web", 2))
        .await
        .unwrap();
    wait_for("adoption plus one new pod", || async {
        let pods = pods_of(&c.api, uid(&rs)).await;
        (pods.len() == 2 && pods.iter().any(|p| uid(p) == uid(&orphan))).then_some(())
    })
    .await;
    assert_eq!(list(&c.api, "pods").await.len(), 2);

    edit(&c.api, "pods", "stray", |pod| {
        pod["metadata"]["labels"] = json!({"app": "other"})
    })
    .await;
    wait_for("release and replacement", || async {
        let stray = c.api.get_object("pods", NS, "stray").await.ok()?;
        let owned = pods_of(&c.api, uid(&rs)).await;
        (stray["metadata"]["ownerReferences"].is_null()
            && owned.len() == 2
            && owned.iter().all(|p| name(p) != "stray"))
        .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_ready_seconds_delays_availability() {
    let c = cluster().await;
    let mut manifest = replica_set("web", "web", 1);
    manifest["spec"]["minReadySeconds"] = json!(1);
    let rs = c
        .api
        .create_object("replicasets", NS, manifest)
        .await
        .unwrap();
    let pod = wait_for("a pod", || async { pods_of(&c.api, uid(&rs)).await.pop() }).await;
    mark_ready(&c.api, name(&pod)).await;
    let status = wait_for("ready", || async {
        let rs = c.api.get_object("replicasets", NS, "web").await.unwrap();
        (rs["status"]["readyReplicas"] == 1).then(|| rs["status"].clone())
    })
    .await;
    assert!(status["availableReplicas"].is_null(), "{status}");
    // Nothing else changes: the controller wakes itself when minReadySeconds has passed.
    wait_for("available", || async {
        let rs = c.api.get_object("replicasets", NS, "web").await.unwrap();
        (rs["status"]["availableReplicas"] == 1).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_controller_runs_the_same_logic() {
    let c = cluster().await;
    let rc = c
        .api
        .create_object(
            "replicationcontrollers",
            NS,
            json!({"apiVersion": "v1", "kind": "ReplicationController",
                   "metadata": {"name": "legacy"},
                   "spec": {"replicas": 2, "template": pod_template("legacy", "app:1")}}),
        )
        .await
        .unwrap();
    let pods = wait_for("2 pods", || async {
        let pods = pods_of(&c.api, uid(&rc)).await;
        (pods.len() == 2).then_some(pods)
    })
    .await;
    for pod in &pods {
        assert!(name(pod).starts_with("legacy-"));
        assert_eq!(
            pod["metadata"]["ownerReferences"],
            json!([{"apiVersion": "v1", "kind": "ReplicationController", "name": "legacy",
                    "uid": uid(&rc), "controller": true, "blockOwnerDeletion": true}])
        );
        mark_ready(&c.api, name(pod)).await;
    }
    wait_for("ready RC status", || async {
        let rc = c
            .api
            .get_object("replicationcontrollers", NS, "legacy")
            .await
            .unwrap();
        (rc["status"]
            == json!({"replicas": 2, "fullyLabeledReplicas": 2, "readyReplicas": 2,
                      "availableReplicas": 2, "observedGeneration": 1}))
        .then_some(())
    })
    .await;
    let events = events_for(&c.api, "legacy").await;
    assert_eq!(events.len(), 2);
    for (kind, reason, message, component) in &events {
        assert_eq!(
            (kind.as_str(), reason.as_str()),
            ("Normal", "SuccessfulCreate")
        );
        assert!(message.starts_with("Created pod: legacy-"));
        assert_eq!(component, "replication-controller");
    }
    edit(&c.api, "replicationcontrollers", "legacy", |rc| {
        rc["spec"]["replicas"] = json!(1)
    })
    .await;
    wait_for("scaled down", || async {
        (pods_of(&c.api, uid(&rc)).await.len() == 1).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_creations_set_the_replica_failure_condition() {
    let c = cluster().await;
    // RCs are not validated for selector/template agreement, so an unlabeled template gets
    // through, and pods cannot be created from it.
    c.api
        .create_object(
            "replicationcontrollers",
            NS,
            json!({"apiVersion": "v1", "kind": "ReplicationController",
                   "metadata": {"name": "broken"},
                   "spec": {"replicas": 1, "selector": {"app": "broken"},
                            "template": {"spec": {"containers": [{"name": "app", "image": "app:1"}]}}}}),
        )
        .await
        .unwrap();
    let condition = wait_for("ReplicaFailure", || async {
        let rc = c
            .api
            .get_object("replicationcontrollers", NS, "broken")
            .await
            .unwrap();
        rc["status"]["conditions"].get(0).cloned()
    })
    .await;
    assert_eq!(condition["type"], "ReplicaFailure");
    assert_eq!(condition["status"], "True");
    assert_eq!(condition["reason"], "FailedCreate");
    assert_eq!(condition["message"], "unable to create pods, no labels");
    assert!(list(&c.api, "pods").await.is_empty());
}
