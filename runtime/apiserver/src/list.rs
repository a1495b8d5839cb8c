//! Lists: label/field selectors, `limit` + `continue` pagination, List JSON.

use base64::Engine;
use serde_json::{json, Value};
use wasmpod_apimachinery::{FieldSelector, Selector};

use crate::objects::decode_object;
use crate::query::Query;
use crate::resources::Resource;
use crate::status_errors::ApiError;
use crate::ApiServer;

const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// The selectors of a list or watch request.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    kind: &'static str,
    labels: Selector,
    fields: FieldSelector,
}

impl Filter {
    pub fn from_query(resource: &Resource, query: &Query) -> Result<Filter, ApiError> {
        let labels = Selector::parse(query.get("labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let fields = FieldSelector::parse(query.get("fieldSelector").unwrap_or(""))
            .and_then(|f| f.for_kind(resource.kind))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Filter {
            kind: resource.kind,
            labels,
            fields,
        })
    }

    /// No selectors: every object of the resource.
    pub fn everything() -> Filter {
        Filter {
            kind: "",
            labels: Selector::everything(),
            fields: FieldSelector::default(),
        }
    }

    /// Adds `metadata.name=<name>` (a watch on a single object's path).
    pub fn with_name(self, name: &str) -> Result<Filter, ApiError> {
        let combined = if self.fields.is_empty() {
            format!("metadata.name={name}")
        } else {
            format!("{},metadata.name={name}", self.fields)
        };
        let fields = FieldSelector::parse(&combined)
            .and_then(|f| f.for_kind(self.kind))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Filter { fields, ..self })
    }

    pub fn matches(&self, object: &Value) -> bool {
        let labels = object
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .unwrap_or(&Value::Null);
        self.labels.matches(labels) && self.fields.matches_object(self.kind, object)
    }
}

/// One page of a list.
#[derive(Debug)]
pub(crate) struct ListPage {
    pub items: Vec<Value>,
    pub revision: i64,
    pub continue_token: Option<String>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

fn encode_continue(revision: i64, last_key_in_prefix: &str) -> String {
    let token = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv: revision,
        start: format!("{last_key_in_prefix}\u{0}"),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&token).unwrap_or_default())
}

fn decode_continue(token: &str) -> Result<ContinueToken, ApiError> {
    let invalid =
        |detail: String| ApiError::bad_request(format!("invalid continue token: {detail}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|e| invalid(format!("continue key is not valid: {e}")))?;
    let token: ContinueToken = serde_json::from_slice(&bytes)
        .map_err(|e| invalid(format!("continue key is not valid: {e}")))?;
    // storage.DecodeContinue's checks and texts.
    if token.v != "meta.k8s.io/v1" {
        return Err(invalid(format!(
            "continue key is not valid: server and client encoded versions don't match server: \"meta.k8s.io/v1\", client: {:?}",
            token.v
        )));
    }
    if token.rv == 0 {
        return Err(invalid("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)".into()));
    }
    if token.start.is_empty() {
        return Err(invalid(
            "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)".into(),
        ));
    }
    if token.start.contains("..") || token.start.starts_with('/') {
        return Err(invalid(
            "continue key is not valid: the key path is not valid".into(),
        ));
    }
    Ok(token)
}

impl ApiServer {
    /// Up to `limit` (0 = all) matching objects under `namespace` (or everywhere).
    pub(crate) async fn list_in(
        &self,
        resource: &'static Resource,
        namespace: Option<&str>,
        filter: &Filter,
        limit: usize,
        continue_token: Option<&str>,
    ) -> Result<ListPage, ApiError> {
        let prefix = resource.list_prefix(namespace);
        let mut start_after: Option<String> = None;
        let mut token_revision = None;
        if let Some(token) = continue_token.filter(|t| !t.is_empty()) {
            let token = decode_continue(token)?;
            let compacted = self
                .storage()
                .compacted_revision()
                .await
                .map_err(|e| ApiError::from_storage(e, resource, ""))?;
            // A negative revision asks for the latest state (etcd3 store `GetList`).
            if token.rv > 0 && token.rv <= compacted {
                return Err(ApiError::expired(CONTINUE_EXPIRED));
            }
            start_after = Some(format!("{prefix}{}", token.start.trim_end_matches('\u{0}')));
            token_revision = (token.rv > 0).then_some(token.rv);
        }
        let mut items = Vec::new();
        let mut snapshot_revision = None;
        loop {
            let page_size = if limit == 0 {
                0
            } else {
                (limit - items.len()).max(1)
            };
            let page = self
                .storage()
                .list(&prefix, start_after.as_deref(), page_size)
                .await
                .map_err(|e| ApiError::from_storage(e, resource, ""))?;
            snapshot_revision.get_or_insert(page.revision);
            let mut last_key = None;
            let mut reached_limit = false;
            for kv in &page.items {
                last_key = Some(kv.key.clone());
                let object = decode_object(kv)?;
                if filter.matches(&object) {
                    items.push(object);
                    if limit != 0 && items.len() >= limit {
                        reached_limit = true;
                        break;
                    }
                }
            }
            let more_after_last = if reached_limit {
                // Are there keys after the one we stopped at?
                let last = last_key.as_deref().unwrap_or("");
                let probe = self
                    .storage()
                    .list(&prefix, Some(last), 1)
                    .await
                    .map_err(|e| ApiError::from_storage(e, resource, ""))?;
                !probe.items.is_empty()
            } else {
                page.more
            };
            if reached_limit || !page.more || last_key.is_none() {
                let revision = token_revision
                    .or(snapshot_revision)
                    .unwrap_or(page.revision);
                let continue_token = (reached_limit && more_after_last).then(|| {
                    let last = last_key.unwrap_or_default();
                    encode_continue(revision, last.strip_prefix(&prefix).unwrap_or(&last))
                });
                return Ok(ListPage {
                    items,
                    revision,
                    continue_token,
                });
            }
            start_after = last_key;
        }
    }
}

/// The `<Kind>List` JSON of a page (items without apiVersion/kind, as kube-apiserver sends).
pub(crate) fn list_json(resource: &Resource, page: ListPage) -> Value {
    let items: Vec<Value> = page
        .items
        .into_iter()
        .map(|mut item| {
            if let Some(map) = item.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            item
        })
        .collect();
    let mut metadata = json!({"resourceVersion": page.revision.to_string()});
    if let Some(token) = page.continue_token {
        metadata["continue"] = json!(token);
    }
    json!({
        "kind": format!("{}List", resource.kind),
        "apiVersion": resource.api_version(),
        "metadata": metadata,
        "items": items
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_token_round_trips_and_rejects_garbage() {
        let token = encode_continue(42, "pod-b");
        let decoded = decode_continue(&token).unwrap();
        assert_eq!(decoded.rv, 42);
        assert_eq!(decoded.start, "pod-b\u{0}");
        let error = decode_continue("!!!").unwrap_err();
        assert_eq!(error.code, 400);
        assert!(
            error.message.starts_with("invalid continue token: "),
            "{}",
            error.message
        );
    }
}
