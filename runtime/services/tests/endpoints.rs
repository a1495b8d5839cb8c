//! The Endpoints and EndpointSlice controllers against a real API server: contents,
//! readiness flips, terminating and deleted pods, named target ports, placeholders,
//! selectorless services, and writing only on change.

mod common;

use common::*;
use serde_json::{json, Value};

fn ips(subset: &Value, field: &str) -> Vec<String> {
    subset[field]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|a| a["ip"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The Endpoints' (ready, not ready) IPs, if it exists with a single subset.
async fn endpoint_ips(
    api: &wasmpod_apiserver::ApiServer,
    name: &str,
) -> Option<(Vec<String>, Vec<String>)> {
    let endpoints = get(api, "endpoints", name).await?;
    let subsets = endpoints["subsets"].as_array().cloned().unwrap_or_default();
    match subsets.as_slice() {
        [] => Some((vec![], vec![])),
        [subset] => Some((ips(subset, "addresses"), ips(subset, "notReadyAddresses"))),
        _ => None,
    }
}

/// (ip, ready, serving, terminating) of every endpoint in the service's single slice.
async fn slice_endpoints(
    api: &wasmpod_apiserver::ApiServer,
    service: &str,
) -> Option<Vec<(String, bool, bool, bool)>> {
    let slices = slices_of(api, service).await;
    let [slice] = slices.as_slice() else {
        return None;
    };
    Some(
        slice["endpoints"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|e| {
                let c = &e["conditions"];
                (
                    e["addresses"][0].as_str().unwrap().to_string(),
                    c["ready"].as_bool().unwrap(),
                    c["serving"].as_bool().unwrap(),
                    c["terminating"].as_bool().unwrap(),
                )
            })
            .collect(),
    )
}

fn web_service() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "labels": {"team": "blue"}},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "127.0.128.20",
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]
        }
    })
}

#[tokio::test]
async fn endpoints_and_slices_follow_readiness_and_deletion() {
    let api = api();
    let _controllers = controllers(&api);
    create_node(&api, "node-a").await;
    let service = create(&api, "services", web_service()).await;
    let web1 = create_pod(
        &api,
        "web-1",
        json!({"app": "web"}),
        "node-a",
        &[("http", 8080)],
    )
    .await;
    create_pod(
        &api,
        "web-2",
        json!({"app": "web"}),
        "node-a",
        &[("http", 8080)],
    )
    .await;
    create_pod(
        &api,
        "other",
        json!({"app": "other"}),
        "node-a",
        &[("http", 8080)],
    )
    .await;
    set_pod_status(&api, "web-1", "127.1.0.1", true).await;
    set_pod_status(&api, "web-2", "127.1.0.2", false).await;
    set_pod_status(&api, "other", "127.1.0.3", true).await;

    eventually("web-1 ready and web-2 not ready in Endpoints", || async {
        let ips = endpoint_ips(&api, "web").await?;
        (ips == (vec!["127.1.0.1".into()], vec!["127.1.0.2".into()])).then_some(())
    })
    .await;
    let endpoints = get(&api, "endpoints", "web").await.unwrap();
    assert_eq!(
        endpoints["metadata"]["labels"],
        json!({"team": "blue", "endpoints.kubernetes.io/managed-by": "endpoint-controller"})
    );
    let trigger = endpoints["metadata"]["annotations"]
        ["endpoints.kubernetes.io/last-change-trigger-time"]
        .as_str()
        .expect("trigger time annotation");
    assert!(trigger.ends_with('Z') && trigger.len() == 20, "{trigger}");
    let subset = &endpoints["subsets"][0];
    assert_eq!(
        subset["addresses"][0],
        json!({
            "ip": "127.1.0.1",
            "nodeName": "node-a",
            "targetRef": {
                "kind": "Pod",
                "namespace": "default",
                "name": "web-1",
                "uid": web1["metadata"]["uid"]
            }
        })
    );
    assert_eq!(
        subset["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
    );

    let slice = eventually("one slice with both pods", || async {
        let slices = slices_of(&api, "web").await;
        match slices.as_slice() {
            [slice] if slice["endpoints"].as_array().map(Vec::len) == Some(2) => {
                Some(slice.clone())
            }
            _ => None,
        }
    })
    .await;
    assert_eq!(slice["metadata"]["generateName"], "web-");
    assert!(slice["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with("web-"));
    assert_eq!(
        slice["metadata"]["labels"],
        json!({
            "team": "blue",
            "kubernetes.io/service-name": "web",
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"
        })
    );
    assert_eq!(
        slice["metadata"]["ownerReferences"],
        json!([{
            "apiVersion": "v1",
            "kind": "Service",
            "name": "web",
            "uid": service["metadata"]["uid"],
            "controller": true,
            "blockOwnerDeletion": true
        }])
    );
    assert_eq!(slice["addressType"], "IPv4");
    assert_eq!(
        slice["ports"],
        json!([{"name": "http", "port": 8080, "protocol": "TCP"}])
    );
    assert_eq!(
        slice["endpoints"][0],
        json!({
            "addresses": ["127.1.0.1"],
            "conditions": {"ready": true, "serving": true, "terminating": false},
            "nodeName": "node-a",
            "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-1", "uid": web1["metadata"]["uid"]}
        })
    );
    let slice_name = slice["metadata"]["name"].as_str().unwrap().to_string();

    // Readiness flips move the addresses.
    set_pod_status(&api, "web-1", "127.1.0.1", false).await;
    set_pod_status(&api, "web-2", "127.1.0.2", true).await;
    eventually("readiness flip in Endpoints", || async {
        let ips = endpoint_ips(&api, "web").await?;
        (ips == (vec!["127.1.0.2".into()], vec!["127.1.0.1".into()])).then_some(())
    })
    .await;
    eventually("readiness flip in the slice", || async {
        let endpoints = slice_endpoints(&api, "web").await?;
        (endpoints
            == vec![
                ("127.1.0.1".into(), false, false, false),
                ("127.1.0.2".into(), true, true, false),
            ])
        .then_some(())
    })
    .await;
    assert_eq!(
        slices_of(&api, "web").await[0]["metadata"]["name"],
        slice_name,
        "updated in place"
    );

    // A terminating pod leaves the Endpoints but stays in the slice as terminating.
    delete(&api, "pods", "web-2", Some(30)).await;
    eventually("terminating pod dropped from Endpoints", || async {
        let ips = endpoint_ips(&api, "web").await?;
        (ips == (vec![], vec!["127.1.0.1".into()])).then_some(())
    })
    .await;
    eventually("terminating pod marked in the slice", || async {
        let endpoints = slice_endpoints(&api, "web").await?;
        (endpoints
            == vec![
                ("127.1.0.1".into(), false, false, false),
                ("127.1.0.2".into(), false, true, true),
            ])
        .then_some(())
    })
    .await;
    delete(&api, "pods", "web-2", Some(0)).await;
    eventually("deleted pod gone from the slice", || async {
        let endpoints = slice_endpoints(&api, "web").await?;
        (endpoints == vec![("127.1.0.1".into(), false, false, false)]).then_some(())
    })
    .await;

    // Unrelated changes write nothing: change the "other" pod and, after it, a sentinel
    // service; once the sentinel's Endpoints exist the first change has been seen too.
    let before =
        get(&api, "endpoints", "web").await.unwrap()["metadata"]["resourceVersion"].clone();
    let slice_before = slices_of(&api, "web").await[0]["metadata"]["resourceVersion"].clone();
    set_pod_status(&api, "other", "127.1.0.3", false).await;
    let mut sentinel = web_service();
    sentinel["metadata"] = json!({"name": "sentinel"});
    sentinel["spec"]["clusterIP"] = json!("127.0.128.21");
    create(&api, "services", sentinel).await;
    eventually("sentinel endpoints and slice", || async {
        get(&api, "endpoints", "sentinel").await?;
        (!slices_of(&api, "sentinel").await.is_empty()).then_some(())
    })
    .await;
    assert_eq!(
        get(&api, "endpoints", "web").await.unwrap()["metadata"]["resourceVersion"],
        before
    );
    assert_eq!(
        slices_of(&api, "web").await[0]["metadata"]["resourceVersion"],
        slice_before
    );

    // The service's objects go with it.
    delete(&api, "services", "web", None).await;
    eventually("Endpoints and slices deleted with the service", || async {
        (get(&api, "endpoints", "web").await.is_none() && slices_of(&api, "web").await.is_empty())
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn named_target_port_resolves_per_pod() {
    let api = api();
    let _controllers = controllers(&api);
    create_node(&api, "node-a").await;
    let mut service = web_service();
    service["spec"]["ports"] = json!([{"name": "http", "port": 80, "targetPort": "web"}]);
    create(&api, "services", service).await;
    create_pod(&api, "a", json!({"app": "web"}), "node-a", &[("web", 8080)]).await;
    create_pod(&api, "b", json!({"app": "web"}), "node-a", &[("web", 9090)]).await;
    create_pod(
        &api,
        "c",
        json!({"app": "web"}),
        "node-a",
        &[("metrics", 9100)],
    )
    .await;
    set_pod_status(&api, "a", "127.1.0.11", true).await;
    set_pod_status(&api, "b", "127.1.0.12", true).await;
    set_pod_status(&api, "c", "127.1.0.13", true).await;

    let subsets = eventually("two subsets, one per resolved port", || async {
        let endpoints = get(&api, "endpoints", "web").await?;
        let subsets = endpoints["subsets"].as_array()?.clone();
        (subsets.len() == 2).then_some(subsets)
    })
    .await;
    let mut seen: Vec<(Vec<String>, i64)> = subsets
        .iter()
        .map(|s| (ips(s, "addresses"), s["ports"][0]["port"].as_i64().unwrap()))
        .collect();
    seen.sort_by_key(|(_, port)| *port);
    assert_eq!(
        seen,
        vec![
            (vec!["127.1.0.11".to_string()], 8080),
            (vec!["127.1.0.12".to_string()], 9090)
        ],
        "pod c has no port named web and is left out"
    );

    // Slices group pods by their resolved ports; like upstream, the pod without the port
    // still gets an endpoint, in a slice without ports.
    let slices = eventually("one slice per port set", || async {
        let slices = slices_of(&api, "web").await;
        (slices.len() == 3).then_some(slices)
    })
    .await;
    let mut by_port: Vec<(Option<i64>, Vec<String>)> = slices
        .iter()
        .map(|s| {
            (
                s["ports"][0]["port"].as_i64(),
                s["endpoints"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["addresses"][0].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    by_port.sort();
    assert_eq!(
        by_port,
        vec![
            (None, vec!["127.1.0.13".to_string()]),
            (Some(8080), vec!["127.1.0.11".to_string()]),
            (Some(9090), vec!["127.1.0.12".to_string()])
        ]
    );
}

#[tokio::test]
async fn placeholders_selectorless_services_and_missing_nodes() {
    let api = api();
    let _controllers = controllers(&api);
    create_node(&api, "node-a").await;

    // A selector that matches nothing: empty Endpoints and a placeholder slice.
    let mut lonely = web_service();
    lonely["metadata"] = json!({"name": "lonely"});
    lonely["spec"]["selector"] = json!({"app": "nobody"});
    create(&api, "services", lonely).await;
    let placeholder = eventually("placeholder slice", || async {
        get(&api, "endpoints", "lonely").await?;
        slices_of(&api, "lonely").await.into_iter().next()
    })
    .await;
    assert_eq!(placeholder["endpoints"], json!([]));
    assert!(placeholder.get("ports").is_none(), "{placeholder}");
    assert!(get(&api, "endpoints", "lonely")
        .await
        .unwrap()
        .get("subsets")
        .is_none());

    // A service without selector keeps its hand-made Endpoints untouched.
    create(
        &api,
        "services",
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "external"},
            "spec": {"clusterIP": "127.0.128.22", "ports": [{"port": 80}]}
        }),
    )
    .await;
    let manual = create(
        &api,
        "endpoints",
        json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "external"},
            "subsets": [{"addresses": [{"ip": "127.1.0.40"}], "ports": [{"port": 8080}]}]
        }),
    )
    .await;

    // A pod on a node that does not exist: in the Endpoints, but not in the slice
    // (upstream skips it and reports FailedToUpdateEndpointSlices).
    let mut ghostly = web_service();
    ghostly["metadata"] = json!({"name": "ghostly"});
    ghostly["spec"]["clusterIP"] = json!("127.0.128.23");
    ghostly["spec"]["selector"] = json!({"app": "ghost"});
    create(&api, "services", ghostly).await;
    create_pod(
        &api,
        "ghost",
        json!({"app": "ghost"}),
        "node-gone",
        &[("http", 8080)],
    )
    .await;
    set_pod_status(&api, "ghost", "127.1.0.41", true).await;
    eventually("ghost pod in Endpoints", || async {
        let ips = endpoint_ips(&api, "ghostly").await?;
        (ips.0 == vec!["127.1.0.41".to_string()]).then_some(())
    })
    .await;
    let event = eventually("FailedToUpdateEndpointSlices event", || async {
        let events = api
            .list_objects("events", Some("default"))
            .await
            .ok()?
            .items;
        events
            .into_iter()
            .find(|e| e["reason"] == "FailedToUpdateEndpointSlices")
    })
    .await;
    assert_eq!(
        event["message"],
        "Error updating Endpoint Slices for Service default/ghostly: skipping Pod ghost for Service default/ghostly: Node node-gone Not Found"
    );
    assert_eq!(event["type"], "Warning");
    assert_eq!(event["involvedObject"]["kind"], "Service");
    assert_eq!(event["source"]["component"], "endpointslice-controller");
    let ghost_slice = slices_of(&api, "ghostly").await;
    assert_eq!(ghost_slice.len(), 1);
    assert_eq!(ghost_slice[0]["endpoints"], json!([]), "placeholder only");

    // By now several passes have run; the hand-made Endpoints was never rewritten.
    assert_eq!(
        get(&api, "endpoints", "external").await.unwrap()["metadata"]["resourceVersion"],
        manual["metadata"]["resourceVersion"]
    );
    assert!(slices_of(&api, "external").await.is_empty());

    // Once the node exists, the pod gets into the slice.
    create_node(&api, "node-gone").await;
    eventually("ghost pod in the slice once its node exists", || async {
        let endpoints = slice_endpoints(&api, "ghostly").await?;
        (endpoints == vec![("127.1.0.41".into(), true, true, false)]).then_some(())
    })
    .await;
}
