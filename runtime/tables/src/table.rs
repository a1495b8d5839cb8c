//! Assembly of the `meta.k8s.io/v1` `Table` kube-apiserver sends (`printers.GenerateTable`,
//! the handlers' `asTable`, and the watch encoder's header handling).

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use crate::columns::column_definitions;
use crate::error::TableError;
use crate::kind::{IncludeObject, ResourceKind};
use crate::kinds::{self, Row};

const TABLE_API_VERSION: &str = "meta.k8s.io/v1";

/// The `metadata` (ListMeta) of a list's Table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListMeta {
    pub resource_version: String,
    /// The `continue` token of a paginated list.
    pub continue_token: Option<String>,
}

impl From<(String, Option<String>)> for ListMeta {
    fn from((resource_version, continue_token): (String, Option<String>)) -> Self {
        ListMeta {
            resource_version,
            continue_token,
        }
    }
}

impl ListMeta {
    /// Go `ListMeta` JSON: every field `omitempty`.
    fn to_json(&self) -> Value {
        let mut meta = Map::new();
        if !self.resource_version.is_empty() {
            meta.insert("resourceVersion".into(), json!(self.resource_version));
        }
        if let Some(token) = self.continue_token.as_deref().filter(|t| !t.is_empty()) {
            meta.insert("continue".into(), json!(token));
        }
        Value::Object(meta)
    }
}

/// The Table for a list (or a single GET) of `objects`, all of `kind`, in the given order.
/// Column definitions are always included; rows carry every cell, wide ones too.
pub fn table_for(
    kind: ResourceKind,
    objects: &[Value],
    now: Timestamp,
    include_object: IncludeObject,
    list_meta: impl Into<ListMeta>,
) -> Result<Value, TableError> {
    let rows = objects
        .iter()
        .enumerate()
        .map(|(index, object)| table_row(kind, index, object, now, include_object))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(table(kind, list_meta.into(), true, rows))
}

/// The one-row Table of a watch event. kube-apiserver sends the column definitions with the
/// first event of a watch only (unless the client asked for `noHeaders`); afterwards
/// `columnDefinitions` is `null`. `metadata.resourceVersion` is the object's.
pub fn watch_event_table(
    kind: ResourceKind,
    object: &Value,
    now: Timestamp,
    include_object: IncludeObject,
    with_headers: bool,
) -> Result<Value, TableError> {
    let row = table_row(kind, 0, object, now, include_object)?;
    let resource_version = object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let meta = ListMeta {
        resource_version,
        continue_token: None,
    };
    Ok(table(kind, meta, with_headers, vec![row]))
}

/// Per-watch state of the header rule of [`watch_event_table`] (Go `watchEmbeddedEncoder`).
#[derive(Debug, Clone)]
pub struct WatchTables {
    kind: ResourceKind,
    include_object: IncludeObject,
    headers_pending: bool,
}

impl WatchTables {
    /// `no_headers` is the request's `noHeaders` table option.
    pub fn new(kind: ResourceKind, include_object: IncludeObject, no_headers: bool) -> Self {
        WatchTables {
            kind,
            include_object,
            headers_pending: !no_headers,
        }
    }

    /// The Table of the next watch event's object.
    pub fn next_event(&mut self, object: &Value, now: Timestamp) -> Result<Value, TableError> {
        // Go switches headers off after the first encode, whether or not it succeeded.
        let with_headers = std::mem::replace(&mut self.headers_pending, false);
        watch_event_table(self.kind, object, now, self.include_object, with_headers)
    }
}

fn table(kind: ResourceKind, meta: ListMeta, with_headers: bool, rows: Vec<Value>) -> Value {
    let columns = if with_headers {
        Value::Array(
            column_definitions(kind)
                .iter()
                .map(|c| c.to_json())
                .collect(),
        )
    } else {
        // `ColumnDefinitions` has no `omitempty`: a nil slice encodes as null.
        Value::Null
    };
    json!({
        "kind": "Table",
        "apiVersion": TABLE_API_VERSION,
        "metadata": meta.to_json(),
        "columnDefinitions": columns,
        "rows": rows,
    })
}

fn table_row(
    kind: ResourceKind,
    index: usize,
    object: &Value,
    now: Timestamp,
    include_object: IncludeObject,
) -> Result<Value, TableError> {
    let Row { cells, conditions } =
        kinds::row(kind, object, now).map_err(|source| TableError::InvalidObject {
            kind,
            index,
            source,
        })?;
    let mut row = Map::new();
    row.insert("cells".into(), Value::Array(cells));
    if !conditions.is_empty() {
        row.insert("conditions".into(), Value::Array(conditions));
    }
    row.insert("object".into(), row_object(kind, object, include_object));
    Ok(Value::Object(row))
}

/// A row's `object` per `includeObject` (`asTable` in the apiserver's handlers).
fn row_object(kind: ResourceKind, object: &Value, include_object: IncludeObject) -> Value {
    match include_object {
        // A RawExtension without object encodes as null.
        IncludeObject::None => Value::Null,
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": TABLE_API_VERSION,
            "metadata": object_meta(object.get("metadata")),
        }),
        IncludeObject::Object => {
            let mut full = object.clone();
            if let Value::Object(map) = &mut full {
                map.entry("kind").or_insert_with(|| json!(kind.kind()));
                map.entry("apiVersion")
                    .or_insert_with(|| json!(kind.api_version()));
            }
            full
        }
    }
}

/// `ObjectMeta` as Go encodes it: empty fields omitted, except `creationTimestamp`, a
/// struct that encodes as null when unset.
fn object_meta(metadata: Option<&Value>) -> Value {
    let mut meta: Map<String, Value> = metadata
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(key, value)| !is_omitted(key, value))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    meta.entry("creationTimestamp").or_insert(Value::Null);
    Value::Object(meta)
}

fn is_omitted(key: &str, value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        // `generation` is a plain int64 (omitempty); `deletionGracePeriodSeconds` a pointer.
        Value::Number(n) => key == "generation" && n.as_i64() == Some(0),
        Value::Bool(_) => false,
    }
}
