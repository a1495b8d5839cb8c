//! The REST API over a real loopback socket: CRUD, errors, pagination, watch, delete, scale.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use wasmpod_apiserver::{ApiOptions, DeleteOptions, DeleteOutcome};

const PODS: &str = "/api/v1/namespaces/default/pods";

#[tokio::test]
async fn create_get_update_and_their_errors() {
    let t = start(ApiOptions::default()).await;
    let created = json_call(t.address, "POST", PODS, &pod("a", json!({"app": "a"}))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let object = created.json();
    assert_eq!(object["metadata"]["generation"], 1);
    assert_eq!(object["status"]["phase"], "Pending");
    assert_eq!(object["status"]["qosClass"], "BestEffort");
    assert!(object["metadata"]["uid"].as_str().unwrap().len() == 36);
    let rv = object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    let again = json_call(t.address, "POST", PODS, &pod("a", json!({}))).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["message"], "pods \"a\" already exists");
    assert_eq!(again.json()["reason"], "AlreadyExists");

    let missing = call(t.address, "GET", &format!("{PODS}/nope"), &[], "").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["message"], "pods \"nope\" not found");
    assert_eq!(missing.json()["details"]["kind"], "pods");

    // A label change through PUT with the current resourceVersion, then a stale one.
    let mut update = object.clone();
    update["metadata"]["labels"]["app"] = json!("b");
    let updated = json_call(t.address, "PUT", &format!("{PODS}/a"), &update).await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_ne!(updated.json()["metadata"]["resourceVersion"], json!(rv));
    let stale = json_call(t.address, "PUT", &format!("{PODS}/a"), &update).await;
    assert_eq!(stale.status, 409);
    assert_eq!(
        stale.json()["message"],
        "Operation cannot be fulfilled on pods \"a\": the object has been modified; please apply your changes to the latest version and try again"
    );

    let mut invalid = pod("bad", json!({}));
    invalid["spec"]["containers"][0]
        .as_object_mut()
        .unwrap()
        .remove("image");
    let rejected = json_call(t.address, "POST", PODS, &invalid).await;
    assert_eq!(rejected.status, 422);
    let status = rejected.json();
    assert_eq!(
        status["message"],
        "Pod \"bad\" is invalid: spec.containers[0].image: Required value"
    );
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "spec.containers[0].image"
    );
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "FieldValueRequired"
    );

    let mut unknown = pod("u", json!({}));
    unknown["spec"]["foo"] = json!(1);
    let strict = json_call(
        t.address,
        "POST",
        &format!("{PODS}?fieldValidation=Strict"),
        &unknown,
    )
    .await;
    assert_eq!(strict.status, 400);
    assert_eq!(
        strict.json()["message"],
        "Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.foo\""
    );
    let warned = json_call(
        t.address,
        "POST",
        &format!("{PODS}?fieldValidation=Warn"),
        &unknown,
    )
    .await;
    assert_eq!(warned.status, 201);
    assert_eq!(
        warned.headers["warning"],
        "299 - \"unknown field \\\"spec.foo\\\"\""
    );
    assert!(
        warned.json()["spec"].get("foo").is_none(),
        "unknown fields are dropped"
    );

    let elsewhere = json_call(
        t.address,
        "POST",
        "/api/v1/namespaces/nowhere/pods",
        &pod("x", json!({})),
    )
    .await;
    assert_eq!(elsewhere.status, 404);
    assert_eq!(
        elsewhere.json()["message"],
        "namespaces \"nowhere\" not found"
    );

    let rs_missing = call(
        t.address,
        "GET",
        "/apis/apps/v1/namespaces/default/replicasets/r",
        &[],
        "",
    )
    .await;
    assert_eq!(
        rs_missing.json()["message"],
        "replicasets.apps \"r\" not found"
    );
    let wrong_method = call(t.address, "POST", &format!("{PODS}/a"), &[], "{}").await;
    assert_eq!(wrong_method.status, 405);
    let ssa = call(
        t.address,
        "PATCH",
        &format!("{PODS}/a"),
        &[("content-type", "application/apply-patch+yaml")],
        "{}",
    )
    .await;
    assert_eq!(ssa.status, 415);
    let too_big = call(
        t.address,
        "POST",
        PODS,
        &[("content-type", "application/json")],
        &"x".repeat(3 * 1024 * 1024 + 1),
    )
    .await;
    assert_eq!(too_big.status, 413);
}

#[tokio::test]
async fn patches_bump_generation_and_keep_status() {
    let t = start(ApiOptions::default()).await;
    json_call(t.address, "POST", PODS, &pod("p", json!({"app": "p"}))).await;
    let smp = call(
        t.address,
        "PATCH",
        &format!("{PODS}/p"),
        &[("content-type", "application/strategic-merge-patch+json")],
        r#"{"spec":{"containers":[{"name":"app","image":"example.com/app:2"}]},"status":{"phase":"Running"}}"#,
    )
    .await;
    assert_eq!(smp.status, 200, "{}", smp.body);
    let object = smp.json();
    assert_eq!(
        object["spec"]["containers"][0]["image"],
        "example.com/app:2"
    );
    assert_eq!(object["metadata"]["generation"], 2);
    assert_eq!(
        object["status"]["phase"], "Pending",
        "status is ignored on the main resource"
    );

    let status = call(
        t.address,
        "PATCH",
        &format!("{PODS}/p/status"),
        &[("content-type", "application/merge-patch+json")],
        r#"{"status":{"phase":"Running"}}"#,
    )
    .await;
    assert_eq!(status.json()["status"]["phase"], "Running");
    assert_eq!(status.json()["metadata"]["generation"], 2);
    // An update that changes nothing writes nothing.
    let before = status.json()["metadata"]["resourceVersion"].clone();
    let same = call(
        t.address,
        "PATCH",
        &format!("{PODS}/p/status"),
        &[("content-type", "application/merge-patch+json")],
        r#"{"status":{"phase":"Running"}}"#,
    )
    .await;
    assert_eq!(same.json()["metadata"]["resourceVersion"], before);
}

#[tokio::test]
async fn lists_paginate_and_filter() {
    let t = start(ApiOptions::default()).await;
    for (name, app) in [("a", "x"), ("b", "y"), ("c", "x")] {
        json_call(t.address, "POST", PODS, &pod(name, json!({"app": app}))).await;
    }
    let first = call(t.address, "GET", &format!("{PODS}?limit=2"), &[], "")
        .await
        .json();
    assert_eq!(first["kind"], "PodList");
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let token = first["metadata"]["continue"].as_str().unwrap().to_string();
    let second = call(
        t.address,
        "GET",
        &format!("{PODS}?limit=2&continue={token}"),
        &[],
        "",
    )
    .await
    .json();
    assert_eq!(second["items"][0]["metadata"]["name"], "c");
    assert!(second["metadata"].get("continue").is_none());

    let labelled = call(
        t.address,
        "GET",
        &format!("{PODS}?labelSelector=app%3Dx"),
        &[],
        "",
    )
    .await
    .json();
    let names: Vec<&str> = labelled["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "c"]);
    let by_name = call(
        t.address,
        "GET",
        &format!("{PODS}?fieldSelector=metadata.name%3Db"),
        &[],
        "",
    )
    .await
    .json();
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1);
    let bad = call(
        t.address,
        "GET",
        &format!("{PODS}?fieldSelector=spec.foo%3Db"),
        &[],
        "",
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["message"], "field label not supported: spec.foo");

    let table = call(
        t.address,
        "GET",
        PODS,
        &[(
            "accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        )],
        "",
    )
    .await;
    assert_eq!(table.json()["kind"], "Table");
    assert_eq!(table.json()["rows"].as_array().unwrap().len(), 3);
    let all = call(t.address, "GET", "/api/v1/pods", &[], "").await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn watch_streams_changes_with_selector_transitions() {
    let t = start(ApiOptions::default()).await;
    json_call(t.address, "POST", PODS, &pod("old", json!({"app": "w"}))).await;
    let mut watch = stream(
        t.address,
        &format!("{PODS}?watch=true&labelSelector=app%3Dw"),
        &[],
    )
    .await;
    assert_eq!(watch.status, 200);
    let initial = watch.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(initial["type"], "ADDED");
    assert_eq!(initial["object"]["metadata"]["name"], "old");

    json_call(t.address, "POST", PODS, &pod("new", json!({"app": "w"}))).await;
    let added = watch.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        (
            added["type"].as_str(),
            added["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("new"))
    );
    json_call(
        t.address,
        "PATCH",
        &format!("{PODS}/new"),
        &json!({"metadata": {"labels": {"app": "other"}}}),
    )
    .await;
    let left = watch.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(left["type"], "DELETED", "{left}");
    assert_eq!(left["object"]["metadata"]["labels"]["app"], "other");

    // Compacted history: an ERROR event with 410 Expired.
    t.server.storage().compact(i64::MAX).await.unwrap();
    let mut expired = stream(
        t.address,
        &format!("{PODS}?watch=true&resourceVersion=2"),
        &[],
    )
    .await;
    let error = expired.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(error["type"], "ERROR");
    assert_eq!(error["object"]["code"], 410);
    assert_eq!(error["object"]["reason"], "Expired");
    assert!(error["object"]["message"]
        .as_str()
        .unwrap()
        .starts_with("too old resource version: 2 ("));
    assert!(
        expired.next(Duration::from_secs(5)).await.is_none(),
        "the watch ends after the error"
    );

    // timeoutSeconds ends the stream; bookmarks are JSON lines of type BOOKMARK.
    let mut short = stream(
        t.address,
        &format!("{PODS}?watch=true&resourceVersion=0&timeoutSeconds=1&labelSelector=none%3Dnone"),
        &[],
    )
    .await;
    assert!(short.next(Duration::from_secs(5)).await.is_none());
}

#[tokio::test]
async fn bookmarks_and_table_watch_events() {
    let options = ApiOptions {
        bookmark_interval: Duration::from_millis(100),
        ..ApiOptions::default()
    };
    let t = start(options).await;
    let rv = call(t.address, "GET", PODS, &[], "").await.json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let mut watch = stream(
        t.address,
        &format!("{PODS}?watch=true&allowWatchBookmarks=true&resourceVersion={rv}"),
        &[],
    )
    .await;
    let bookmark = watch.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(bookmark["object"]["metadata"]["resourceVersion"], json!(rv));

    let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let mut tables = stream(
        t.address,
        &format!("/api/v1/watch/namespaces/default/pods?resourceVersion={rv}"),
        &[("accept", accept)],
    )
    .await;
    json_call(t.address, "POST", PODS, &pod("t", json!({}))).await;
    let event = tables.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(event["object"]["kind"], "Table");
    assert_eq!(event["object"]["rows"][0]["cells"][0], "t");
    assert!(event["object"]["columnDefinitions"].is_array());
}

#[tokio::test]
async fn graceful_pod_deletion_needs_the_kubelets_final_delete() {
    let t = start(ApiOptions::default()).await;
    let mut scheduled = pod("s", json!({}));
    scheduled["spec"]["nodeName"] = json!("node-1");
    json_call(t.address, "POST", PODS, &scheduled).await;
    let deleted = call(
        t.address,
        "DELETE",
        &format!("{PODS}/s"),
        &[],
        r#"{"propagationPolicy":"Background"}"#,
    )
    .await;
    assert_eq!(deleted.status, 200);
    let marked = deleted.json();
    assert_eq!(marked["kind"], "Pod");
    assert_eq!(marked["metadata"]["deletionGracePeriodSeconds"], 30);
    assert!(marked["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(
        call(t.address, "GET", &format!("{PODS}/s"), &[], "")
            .await
            .status,
        200
    );
    // A second delete with a longer grace period changes nothing.
    let again = t
        .server
        .delete_object("pods", "default", "s", DeleteOptions::default())
        .await
        .unwrap();
    assert!(matches!(again, DeleteOutcome::Pending(_)));
    let uid = marked["metadata"]["uid"].as_str().unwrap().to_string();
    let finale = DeleteOptions {
        grace_period_seconds: Some(0),
        preconditions: wasmpod_apiserver::Preconditions {
            uid: Some(uid),
            resource_version: None,
        },
        ..DeleteOptions::default()
    };
    let gone = t
        .server
        .delete_object("pods", "default", "s", finale)
        .await
        .unwrap();
    assert!(matches!(gone, DeleteOutcome::Deleted(_)));
    assert_eq!(
        call(t.address, "GET", &format!("{PODS}/s"), &[], "")
            .await
            .status,
        404
    );

    json_call(t.address, "POST", PODS, &pod("u", json!({}))).await;
    let immediate = call(t.address, "DELETE", &format!("{PODS}/u"), &[], "").await;
    assert_eq!(immediate.status, 200);
    assert_eq!(
        call(t.address, "GET", &format!("{PODS}/u"), &[], "")
            .await
            .status,
        404
    );

    json_call(
        t.address,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &json!({"metadata": {"name": "c"}, "data": {"k": "v"}}),
    )
    .await;
    let status = call(
        t.address,
        "DELETE",
        "/api/v1/namespaces/default/configmaps/c",
        &[],
        "",
    )
    .await
    .json();
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["status"], "Success");
    assert_eq!(status["details"]["kind"], "configmaps");
}

#[tokio::test]
async fn scale_subresource_and_workload_generation() {
    let t = start(ApiOptions::default()).await;
    let rs = json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a", "image": "x"}]}}}
    });
    let created = json_call(
        t.address,
        "POST",
        "/apis/apps/v1/namespaces/default/replicasets",
        &rs,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["spec"]["replicas"], 1);
    let path = "/apis/apps/v1/namespaces/default/replicasets/web/scale";
    let scale = call(t.address, "GET", path, &[], "").await.json();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["status"]["selector"], "app=web");
    let patched = json_call(t.address, "PATCH", path, &json!({"spec": {"replicas": 3}}))
        .await
        .json();
    assert_eq!(patched["spec"]["replicas"], 3);
    let object = call(
        t.address,
        "GET",
        "/apis/apps/v1/namespaces/default/replicasets/web",
        &[],
        "",
    )
    .await
    .json();
    assert_eq!(object["spec"]["replicas"], 3);
    assert_eq!(object["metadata"]["generation"], 2);
    let negative = json_call(t.address, "PATCH", path, &json!({"spec": {"replicas": -1}})).await;
    assert_eq!(negative.status, 422);
}

#[tokio::test]
async fn discovery_version_auth_and_openapi() {
    let t = start(ApiOptions {
        bearer_token: Some("tok".into()),
        ..ApiOptions::default()
    })
    .await;
    let denied = call(t.address, "GET", "/version", &[], "").await;
    assert_eq!(denied.status, 401);
    assert_eq!(denied.json()["reason"], "Unauthorized");
    let auth = [("authorization", "Bearer tok")];
    let version = call(t.address, "GET", "/version", &auth, "").await.json();
    assert_eq!(
        (version["major"].as_str(), version["minor"].as_str()),
        (Some("1"), Some("33"))
    );
    assert_eq!(version["gitVersion"], "v1.33.0");
    let accept =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let aggregated = call(
        t.address,
        "GET",
        "/apis",
        &[auth[0], ("accept", accept)],
        "",
    )
    .await;
    assert_eq!(
        aggregated.headers["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    assert_eq!(aggregated.json()["items"][0]["metadata"]["name"], "apps");
    let legacy = call(t.address, "GET", "/api/v1", &auth, "").await.json();
    let pods = legacy["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .unwrap()
        .clone();
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert!(legacy["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "pods/log"));
    let root = call(t.address, "GET", "/openapi/v3", &auth, "")
        .await
        .json();
    let url = root["paths"]["api/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = call(t.address, "GET", &url, &auth, "").await.json();
    let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
    assert_eq!(patch["parameters"][0]["name"], "fieldValidation");
    assert_eq!(
        call(t.address, "GET", "/openapi/v2", &auth, "")
            .await
            .status,
        404
    );
    let namespaces = call(t.address, "GET", "/api/v1/namespaces", &auth, "")
        .await
        .json();
    assert_eq!(namespaces["items"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn events_expire_after_their_ttl() {
    let options = ApiOptions {
        event_ttl: Duration::from_millis(200),
        event_sweep_interval: Duration::from_millis(50),
        ..ApiOptions::default()
    };
    let t = start(options).await;
    let event = json!({"metadata": {"name": "e1"}, "involvedObject": {"kind": "Pod", "name": "a", "namespace": "default"}, "reason": "Test", "message": "hi", "type": "Normal"});
    t.server
        .create_object("events", "default", event)
        .await
        .unwrap();
    assert!(t.server.get_object("events", "default", "e1").await.is_ok());
    let server = t.server.clone();
    let expired = wait_until(Duration::from_secs(5), || {
        let server = server.clone();
        async move { server.get_object("events", "default", "e1").await.is_err() }
    })
    .await;
    assert!(expired, "event was not swept");
}
