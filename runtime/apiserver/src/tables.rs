//! Glue to wasmpod-tables: Table responses for lists, single objects and watch events.

use serde_json::Value;
use wasmpod_tables::{IncludeObject, ResourceKind};

use crate::query::Query;
use crate::resources::Resource;
use crate::status_errors::ApiError;

pub(crate) fn kind_of(resource: &Resource) -> Result<ResourceKind, ApiError> {
    resource
        .table_kind()
        .ok_or_else(|| ApiError::internal(format!("no table printer for {}", resource.plural)))
}

pub(crate) fn include_object(query: &Query) -> Result<IncludeObject, ApiError> {
    IncludeObject::from_query(query.get("includeObject"))
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

pub(crate) fn table(
    resource: &Resource,
    objects: &[Value],
    query: &Query,
    revision: String,
    continue_token: Option<String>,
) -> Result<Value, ApiError> {
    wasmpod_tables::table_for(
        kind_of(resource)?,
        objects,
        jiff::Timestamp::now(),
        include_object(query)?,
        (revision, continue_token),
    )
    .map_err(ApiError::internal)
}
