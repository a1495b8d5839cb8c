//! Deployment controller lifecycle (with the ReplicaSet controller doing the pods) against
//! a real API server; the test marks pods Ready as a kubelet would.

mod common;

use common::deployments::*;
use common::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creation_makes_a_hashed_replica_set_pods_and_conditions() {
    let c = cluster().await;
    let d = c
        .api
        .create_object(
            "deployments",
            NS,
            deployment("web", 3, rolling(json!("25%"), json!("25%"))),
        )
        .await
        .unwrap();
    let rs = wait_for("the new ReplicaSet", || async {
        replica_sets_of(&c.api, &d).await.pop()
    })
    .await;
    let hash = rs["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(name(&rs), format!("web-{hash}"));
    assert!(hash.chars().all(|ch| "4567896bcdf".contains(ch)), "{hash}");
    assert_eq!(
        rs["spec"]["selector"]["matchLabels"],
        json!({"app": "web", "pod-template-hash": hash})
    );
    assert_eq!(
        rs["spec"]["template"]["metadata"]["labels"],
        json!({"app": "web", "pod-template-hash": hash})
    );
    assert_eq!(rs["spec"]["replicas"], 3);
    let annotations = &rs["metadata"]["annotations"];
    assert_eq!(annotations["deployment.kubernetes.io/revision"], "1");
    assert_eq!(
        annotations["deployment.kubernetes.io/desired-replicas"],
        "3"
    );
    assert_eq!(annotations["deployment.kubernetes.io/max-replicas"], "4");
    assert_eq!(
        rs["metadata"]["ownerReferences"],
        json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": uid(&d),
                "controller": true, "blockOwnerDeletion": true}])
    );

    // Pods exist but none is ready: progressing, not available.
    let waiting = wait_for("3 updated replicas", || async {
        let d = get_deployment(&c.api, "web").await;
        (d["status"]["updatedReplicas"] == 3).then_some(d)
    })
    .await;
    let available = condition(&waiting, "Available").unwrap();
    assert_eq!(
        (
            &available["status"],
            &available["reason"],
            &available["message"]
        ),
        (
            &json!("False"),
            &json!("MinimumReplicasUnavailable"),
            &json!("Deployment does not have minimum availability.")
        )
    );
    let progressing = condition(&waiting, "Progressing").unwrap();
    assert_eq!(progressing["status"], "True");
    assert_eq!(progressing["reason"], "ReplicaSetUpdated");
    assert_eq!(
        progressing["message"],
        format!("ReplicaSet \"web-{hash}\" is progressing.")
    );
    assert_eq!(
        rollout_status(&waiting).0,
        "Waiting for deployment \"web\" rollout to finish: 0 of 3 updated replicas are available..."
    );

    let done = finish_rollout(&c.api, "web").await;
    assert_eq!(
        rollout_status(&done).0,
        "deployment \"web\" successfully rolled out"
    );
    assert_eq!(
        done["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    let status = &done["status"];
    assert_eq!(
        (
            &status["observedGeneration"],
            &status["replicas"],
            &status["updatedReplicas"],
            &status["readyReplicas"],
            &status["availableReplicas"]
        ),
        (&json!(1), &json!(3), &json!(3), &json!(3), &json!(3))
    );
    assert!(status["unavailableReplicas"].is_null());
    let kinds: Vec<&Value> = status["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["type"])
        .collect();
    assert_eq!(kinds, [&json!("Available"), &json!("Progressing")]);
    let available = condition(&done, "Available").unwrap();
    assert_eq!(available["reason"], "MinimumReplicasAvailable");
    assert_eq!(available["message"], "Deployment has minimum availability.");
    let progressing = condition(&done, "Progressing").unwrap();
    assert_eq!(progressing["reason"], "NewReplicaSetAvailable");
    assert_eq!(
        progressing["message"],
        format!("ReplicaSet \"web-{hash}\" has successfully progressed.")
    );

    let events = events_for(&c.api, "web").await;
    assert_eq!(
        scaling_events(&events),
        [format!("Scaled up replica set web-{hash} from 0 to 3")]
    );

    // Scaling the Deployment resizes its only ReplicaSet.
    edit(&c.api, "deployments", "web", |d| {
        d["spec"]["replicas"] = json!(5)
    })
    .await;
    let done = finish_rollout(&c.api, "web").await;
    assert_eq!(done["status"]["availableReplicas"], 5);
    let events = events_for(&c.api, "web").await;
    assert_eq!(
        scaling_events(&events).last().unwrap(),
        &format!("Scaled up replica set web-{hash} from 3 to 5")
    );

    // Settled: no further writes to the Deployment or its ReplicaSet.
    let before = (
        get_deployment(&c.api, "web").await["metadata"]["resourceVersion"].clone(),
        replica_sets_of(&c.api, &done).await[0]["metadata"]["resourceVersion"].clone(),
    );
    // (An absence of writes can only be observed over a window: poke the controllers with
    // an unrelated pod and give them a moment.)
    c.api
        .create_object(
            "pods",
            NS,
            json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "poke", "labels": {"app": "other"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]}}),
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let after = (
        get_deployment(&c.api, "web").await["metadata"]["resourceVersion"].clone(),
        replica_sets_of(&c.api, &done).await[0]["metadata"]["resourceVersion"].clone(),
    );
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revision_history_is_limited_and_rollbacks_reuse_replica_sets() {
    let c = cluster().await;
    let mut manifest = deployment("web", 1, rolling(json!("25%"), json!("25%")));
    manifest["spec"]["revisionHistoryLimit"] = json!(1);
    let d = c
        .api
        .create_object("deployments", NS, manifest)
        .await
        .unwrap();
    finish_rollout(&c.api, "web").await;
    for image in ["app:2", "app:3"] {
        edit(&c.api, "deployments", "web", |d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image)
        })
        .await;
        finish_rollout(&c.api, "web").await;
    }
    let sets = wait_for("revision 1 cleaned up", || async {
        let sets = replica_sets_of(&c.api, &d).await;
        (sets.len() == 2).then_some(sets)
    })
    .await;
    let revisions: Vec<&Value> = sets
        .iter()
        .map(|rs| &rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
        .collect();
    assert_eq!(revisions, [&json!("2"), &json!("3")]);

    // Back to app:2: its ReplicaSet becomes revision 4 and remembers it was revision 2.
    let revision_2 = sets[0].clone();
    edit(&c.api, "deployments", "web", |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("app:2")
    })
    .await;
    let done = finish_rollout(&c.api, "web").await;
    assert_eq!(
        done["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "4"
    );
    let reused = c
        .api
        .get_object("replicasets", NS, name(&revision_2))
        .await
        .unwrap();
    assert_eq!(
        reused["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "4"
    );
    assert_eq!(
        reused["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"],
        "2"
    );
    assert_eq!(reused["spec"]["replicas"], 1);
    wait_for("two ReplicaSets", || async {
        (replica_sets_of(&c.api, &d).await.len() == 2).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_deployments_scale_but_do_not_roll_out() {
    let c = cluster().await;
    let d = c
        .api
        .create_object(
            "deployments",
            NS,
            deployment("web", 2, rolling(json!("25%"), json!("25%"))),
        )
        .await
        .unwrap();
    finish_rollout(&c.api, "web").await;
    edit(&c.api, "deployments", "web", |d| {
        d["spec"]["paused"] = json!(true)
    })
    .await;
    let paused = wait_for("the paused condition", || async {
        let d = get_deployment(&c.api, "web").await;
        condition(&d, "Progressing")
            .filter(|c| c["reason"] == "DeploymentPaused")
            .cloned()
    })
    .await;
    assert_eq!(
        (&paused["status"], &paused["message"]),
        (&json!("Unknown"), &json!("Deployment is paused"))
    );

    edit(&c.api, "deployments", "web", |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("app:2");
        d["spec"]["replicas"] = json!(3);
    })
    .await;
    let rs = wait_for("the scale-up while paused", || async {
        let d = get_deployment(&c.api, "web").await;
        let sets = replica_sets_of(&c.api, &d).await;
        (d["status"]["observedGeneration"] == 3
            && sets.len() == 1
            && sets[0]["spec"]["replicas"] == 3)
            .then(|| sets[0].clone())
    })
    .await;
    assert_eq!(
        rs["spec"]["template"]["spec"]["containers"][0]["image"],
        "app:1"
    );

    edit(&c.api, "deployments", "web", |d| {
        d["spec"]["paused"] = json!(false)
    })
    .await;
    let done = finish_rollout(&c.api, "web").await;
    let sets = replica_sets_of(&c.api, &d).await;
    assert_eq!(sets.len(), 2);
    assert_eq!(
        sets[1]["spec"]["template"]["spec"]["containers"][0]["image"],
        "app:2"
    );
    assert_eq!(done["status"]["updatedReplicas"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_rollout_exceeds_its_progress_deadline() {
    let c = cluster().await;
    let mut manifest = deployment("web", 1, rolling(json!("25%"), json!("25%")));
    manifest["spec"]["progressDeadlineSeconds"] = json!(1);
    c.api
        .create_object("deployments", NS, manifest)
        .await
        .unwrap();
    // No pod ever becomes ready.
    let d = wait_for("ProgressDeadlineExceeded", || async {
        let d = get_deployment(&c.api, "web").await;
        condition(&d, "Progressing")
            .is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded")
            .then_some(d)
    })
    .await;
    let progressing = condition(&d, "Progressing").unwrap();
    assert_eq!(progressing["status"], "False");
    let rs = replica_sets_of(&c.api, &d).await.pop().unwrap();
    assert_eq!(
        progressing["message"],
        format!("ReplicaSet \"{}\" has timed out progressing.", name(&rs))
    );
    assert_eq!(
        rollout_status(&d).0,
        "deployment \"web\" exceeded its progress deadline"
    );
}
