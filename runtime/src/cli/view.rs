//! get / describe / logs against a running node's API.

use std::path::Path;

use k8s_openapi::api::core::v1::{Event, Pod};

use super::client::{server_url, ApiClient};
use super::CliError;

pub fn connect(server: Option<String>, home: &Path) -> Result<ApiClient, CliError> {
    ApiClient::new(&server_url(server, home)?)
}

fn items<T: serde::de::DeserializeOwned>(list: &serde_json::Value) -> Result<Vec<T>, CliError> {
    serde_json::from_value(list["items"].clone())
        .map_err(|e| CliError::Server(format!("unexpected answer from the API: {e}")))
}

fn collection(namespace: Option<&str>, resource: &str) -> String {
    match namespace {
        Some(ns) => format!("/api/v1/namespaces/{ns}/{resource}"),
        None => format!("/api/v1/{resource}"),
    }
}

pub async fn get(
    client: &ApiClient,
    resource: &str,
    name: Option<&str>,
    output: Option<&str>,
    namespace: Option<&str>,
) -> Result<(), CliError> {
    let now = jiff::Timestamp::now();
    match resource {
        "pods" | "pod" | "po" => {
            let pods: Vec<Pod> = match name {
                Some(name) => {
                    let ns = namespace.unwrap_or("default");
                    let pod = client
                        .get_json(&format!("/api/v1/namespaces/{ns}/pods/{name}"))
                        .await?;
                    vec![serde_json::from_value(pod).map_err(|e| CliError::Server(e.to_string()))?]
                }
                None => items(&client.get_json(&collection(namespace, "pods")).await?)?,
            };
            match output {
                None | Some("wide") => {
                    if pods.is_empty() {
                        match namespace {
                            Some(ns) => eprintln!("No resources found in {ns} namespace."),
                            None => eprintln!("No resources found"),
                        }
                    } else {
                        print!("{}", wasmpod_printers::get_pods(&pods, now, output == Some("wide")));
                    }
                }
                Some("json") | Some("yaml") => print_objects(&pods, name.is_some(), output == Some("yaml"))?,
                Some(other) => {
                    return Err(CliError::Usage(format!(
                        "unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,wide,yaml"
                    )))
                }
            }
        }
        "events" | "event" | "ev" => {
            let events: Vec<Event> =
                items(&client.get_json(&collection(namespace, "events")).await?)?;
            match output {
                Some("json") | Some("yaml") => {
                    print_objects(&events, false, output == Some("yaml"))?
                }
                _ if events.is_empty() => match namespace {
                    Some(ns) => eprintln!("No resources found in {ns} namespace."),
                    None => eprintln!("No resources found"),
                },
                _ => print!("{}", wasmpod_printers::get_events(&events, now)),
            }
        }
        other => {
            return Err(CliError::Usage(format!(
            "the server doesn't have a resource type \"{other}\" (wasmpod serves pods and events)"
        )))
        }
    }
    Ok(())
}

/// `-o json|yaml`: one object, or a `List` as kubectl prints it.
fn print_objects<T: serde::Serialize>(
    objects: &[T],
    single: bool,
    yaml: bool,
) -> Result<(), CliError> {
    let value = if single && objects.len() == 1 {
        serde_json::to_value(&objects[0])
    } else {
        serde_json::to_value(objects).map(|items| {
            serde_json::json!({
                "apiVersion": "v1",
                "items": items,
                "kind": "List",
                "metadata": { "resourceVersion": "" },
            })
        })
    }
    .map_err(|e| CliError::Server(e.to_string()))?;
    if yaml {
        print!(
            "{}",
            serde_yaml::to_string(&value).map_err(|e| CliError::Server(e.to_string()))?
        );
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&value).map_err(|e| CliError::Server(e.to_string()))?
        );
    }
    Ok(())
}

pub async fn describe(
    client: &ApiClient,
    resource: &str,
    name: &str,
    namespace: &str,
) -> Result<(), CliError> {
    if !matches!(resource, "pod" | "pods" | "po") {
        return Err(CliError::Usage(format!(
            "the server doesn't have a resource type \"{resource}\" (wasmpod describes pods)"
        )));
    }
    let pod: Pod = serde_json::from_value(
        client
            .get_json(&format!("/api/v1/namespaces/{namespace}/pods/{name}"))
            .await?,
    )
    .map_err(|e| CliError::Server(e.to_string()))?;
    let events: Vec<Event> = items(
        &client
            .get_json(&collection(Some(namespace), "events"))
            .await?,
    )?;
    print!(
        "{}",
        wasmpod_printers::describe_pod(&pod, &events, jiff::Timestamp::now())
    );
    Ok(())
}

pub async fn delete(
    client: &ApiClient,
    resource: &str,
    name: &str,
    namespace: &str,
    grace_period: Option<i64>,
    wait: bool,
) -> Result<(), CliError> {
    if !matches!(resource, "pod" | "pods" | "po") {
        return Err(CliError::Usage(format!(
            "the server doesn't have a resource type \"{resource}\" (wasmpod deletes pods)"
        )));
    }
    let path = format!("/api/v1/namespaces/{namespace}/pods/{name}");
    let query = grace_period
        .map(|g| format!("?gracePeriodSeconds={g}"))
        .unwrap_or_default();
    client
        .call_json("DELETE", &format!("{path}{query}"))
        .await?;
    println!("pod \"{name}\" deleted");
    if wait {
        // Like kubectl: return once the object is gone.
        while client.get_json(&path).await.is_ok() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

pub struct LogOptions {
    pub container: Option<String>,
    pub previous: bool,
    pub follow: bool,
    pub timestamps: bool,
    pub tail: Option<i64>,
}

pub async fn logs(
    client: &ApiClient,
    namespace: &str,
    pod: &str,
    options: LogOptions,
) -> Result<(), CliError> {
    let mut query = Vec::new();
    if let Some(container) = &options.container {
        query.push(format!("container={container}"));
    }
    for (flag, key) in [
        (options.previous, "previous"),
        (options.follow, "follow"),
        (options.timestamps, "timestamps"),
    ] {
        if flag {
            query.push(format!("{key}=true"));
        }
    }
    if let Some(tail) = options.tail.filter(|t| *t >= 0) {
        query.push(format!("tailLines={tail}"));
    }
    let path = format!(
        "/api/v1/namespaces/{namespace}/pods/{pod}/log?{}",
        query.join("&")
    );
    client.stream_to_stdout(&path).await
}

/// `wasmpod apply -f FILE...`: each object is created, or, when it exists, merge-patched with
/// the manifest (`configured`, or `unchanged` when that changed nothing), as kubectl prints.
pub async fn apply(client: &ApiClient, set: wasmpod_manifest::ManifestSet) -> Result<(), CliError> {
    let to_value = |v: Result<serde_json::Value, serde_json::Error>| {
        v.map_err(|e| CliError::Server(e.to_string()))
    };
    let mut objects = Vec::new();
    for c in &set.config_maps {
        objects.push((
            "configmaps",
            "configmap",
            c.metadata.namespace.clone(),
            to_value(serde_json::to_value(c))?,
        ));
    }
    for s in &set.secrets {
        objects.push((
            "secrets",
            "secret",
            s.metadata.namespace.clone(),
            to_value(serde_json::to_value(s))?,
        ));
    }
    for p in &set.pods {
        objects.push((
            "pods",
            "pod",
            p.metadata.namespace.clone(),
            to_value(serde_json::to_value(p))?,
        ));
    }
    for (resource, kind, namespace, mut object) in objects {
        let namespace = namespace.unwrap_or_else(|| "default".into());
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let collection = format!("/api/v1/namespaces/{namespace}/{resource}");
        let path = format!("{collection}/{name}");
        let Ok(current) = client.get_json(&path).await else {
            client
                .send_json("POST", &collection, Some(("application/json", &object)))
                .await?;
            println!("{kind}/{name} created");
            continue;
        };
        // The manifest's status (the defaults') is not the user's to apply.
        if let Some(map) = object.as_object_mut() {
            map.remove("status");
        }
        let patched = client
            .send_json(
                "PATCH",
                &path,
                Some(("application/merge-patch+json", &object)),
            )
            .await?;
        let version = |v: &serde_json::Value| v["metadata"]["resourceVersion"].clone();
        if version(&patched) == version(&current) {
            println!("{kind}/{name} unchanged");
        } else {
            println!("{kind}/{name} configured");
        }
    }
    Ok(())
}
