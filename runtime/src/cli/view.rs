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
