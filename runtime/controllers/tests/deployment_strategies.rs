//! Deployment strategies: RollingUpdate bounds (maxSurge/maxUnavailable) checked on every
//! change, and Recreate's "old pods gone first".

mod common;

use std::sync::Mutex;

use common::deployments::*;
use common::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_update_respects_max_surge_and_max_unavailable_at_every_step() {
    let c = cluster().await;
    let d = c
        .api
        .create_object(
            "deployments",
            NS,
            deployment("web", 4, rolling(json!(1), json!(1))),
        )
        .await
        .unwrap();
    finish_rollout(&c.api, "web").await;
    let old_rs = replica_sets_of(&c.api, &d).await.pop().unwrap();

    let d_uid = uid(&d).to_string();
    let (violations, watcher) = monitor(&c.api, move |pods, sets| {
        let owned: Vec<&Value> = sets
            .iter()
            .filter(|rs| controller_uid(rs).as_deref() == Some(d_uid.as_str()))
            .collect();
        let total: i64 = owned
            .iter()
            .map(|rs| rs["spec"]["replicas"].as_i64().unwrap_or(0))
            .sum();
        let ready = pods
            .iter()
            .filter(|p| p["metadata"]["labels"]["app"] == "web" && is_active(p) && is_ready(p))
            .count();
        if total > 5 {
            Some(format!(
                "ReplicaSets sized {total} > replicas + maxSurge (5)"
            ))
        } else if ready < 3 {
            Some(format!(
                "{ready} ready pods < replicas - maxUnavailable (3)"
            ))
        } else {
            None
        }
    })
    .await;

    edit(&c.api, "deployments", "web", |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("app:2")
    })
    .await;
    let messages = Mutex::new(Vec::<String>::new());
    let done = wait_for("the rolling update", || async {
        let d = get_deployment(&c.api, "web").await;
        let (message, done) = rollout_status(&d);
        {
            let mut messages = messages.lock().unwrap();
            if messages.last() != Some(&message) {
                messages.push(message);
            }
        }
        if done {
            return Some(d);
        }
        if !settled(&c.api, &d).await {
            return None;
        }
        // One pod at a time, and only once the controllers have caught up.
        for rs in replica_sets_of(&c.api, &d).await {
            if let Some(pod) = active_pods_of(&c.api, uid(&rs))
                .await
                .into_iter()
                .find(|p| !is_ready(p))
            {
                mark_ready(&c.api, name(&pod)).await;
                break;
            }
        }
        None
    })
    .await;
    watcher.abort();
    assert_eq!(*violations.lock().unwrap(), Vec::<String>::new());
    let messages = messages.into_inner().unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("out of 4 new replicas have been updated...")),
        "{messages:?}"
    );
    assert_eq!(
        messages.last().unwrap(),
        "deployment \"web\" successfully rolled out"
    );

    let sets = replica_sets_of(&c.api, &done).await;
    assert_eq!(sets.len(), 2);
    let (old, new) = (&sets[0], &sets[1]);
    assert_eq!(uid(old), uid(&old_rs));
    assert_eq!(
        (&old["spec"]["replicas"], &old["status"]["replicas"]),
        (&json!(0), &json!(0))
    );
    assert_eq!(
        old["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    assert_eq!(
        new["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    assert_eq!(
        new["spec"]["template"]["spec"]["containers"][0]["image"],
        "app:2"
    );
    assert_eq!(new["status"]["availableReplicas"], 4);
    assert_eq!(
        done["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    assert_eq!(done["status"]["observedGeneration"], 2);
    assert_eq!(done["status"]["updatedReplicas"], 4);
    assert_eq!(done["status"]["replicas"], 4);
    assert_eq!(
        condition(&done, "Progressing").unwrap()["message"],
        format!("ReplicaSet \"{}\" has successfully progressed.", name(new))
    );

    let events = scaling_events(&events_for(&c.api, "web").await);
    let (old_name, new_name) = (name(old), name(new));
    assert_eq!(
        events[0],
        format!("Scaled up replica set {old_name} from 0 to 4")
    );
    assert_eq!(
        events[1..4],
        [
            format!("Scaled up replica set {new_name} from 0 to 1"),
            format!("Scaled down replica set {old_name} from 4 to 3"),
            format!("Scaled up replica set {new_name} from 1 to 2"),
        ],
        "{events:?}"
    );
    assert_eq!(
        events.last().unwrap(),
        &format!("Scaled down replica set {old_name} from 1 to 0")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recreate_waits_for_old_pods_to_be_gone() {
    let c = cluster().await;
    let d = c
        .api
        .create_object(
            "deployments",
            NS,
            deployment("web", 2, json!({"type": "Recreate"})),
        )
        .await
        .unwrap();
    finish_rollout(&c.api, "web").await;
    let old_rs = replica_sets_of(&c.api, &d).await.pop().unwrap();
    let old_pods = pods_of(&c.api, uid(&old_rs)).await;
    // Bound pods terminate gracefully, so the old generation lingers until "the kubelet" ends it.
    for pod in &old_pods {
        c.api.bind_pod(NS, name(pod), "node-a").await.unwrap();
    }
    let (violations, watcher) = monitor(&c.api, |pods, _| {
        let mut hashes: Vec<&str> = pods
            .iter()
            .filter(|p| p["metadata"]["labels"]["app"] == "web" && is_active(p))
            .filter_map(|p| p["metadata"]["labels"]["pod-template-hash"].as_str())
            .collect();
        hashes.sort();
        hashes.dedup();
        (hashes.len() > 1).then(|| format!("old and new pods active together: {hashes:?}"))
    })
    .await;

    edit(&c.api, "deployments", "web", |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("app:2")
    })
    .await;
    wait_for("old pods terminating", || async {
        pods_of(&c.api, uid(&old_rs))
            .await
            .iter()
            .all(is_deleting)
            .then_some(())
    })
    .await;
    let d_now = get_deployment(&c.api, "web").await;
    assert_eq!(
        replica_sets_of(&c.api, &d_now).await.len(),
        1,
        "new ReplicaSet before old pods left"
    );
    for pod in &old_pods {
        force_delete(&c.api, "pods", name(pod)).await;
    }
    let done = finish_rollout(&c.api, "web").await;
    watcher.abort();
    assert_eq!(*violations.lock().unwrap(), Vec::<String>::new());
    let sets = replica_sets_of(&c.api, &done).await;
    assert_eq!(sets.len(), 2);
    let events = scaling_events(&events_for(&c.api, "web").await);
    assert_eq!(
        events[1..],
        [
            format!("Scaled down replica set {} from 2 to 0", name(&sets[0])),
            format!("Scaled up replica set {} from 0 to 2", name(&sets[1])),
        ]
    );
}
