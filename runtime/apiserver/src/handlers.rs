//! HTTP request dispatch: authentication, discovery, OpenAPI, and the resource verbs.

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response};
use http_body_util::{BodyExt, Limited};
use hyper::body::Body;
use serde_json::{json, Value};

use crate::auth::authenticate;
use crate::body::{error_response, full, json_response, BoxBody, JSON};
use crate::list::{list_json, Filter};
use crate::negotiate::{
    decode_body, representation, wants_aggregated_discovery, Representation,
    DISCOVERY_V2_CONTENT_TYPE, TABLE_CONTENT_TYPE,
};
use crate::objects::{DeleteOptions, DeleteOutcome, Preconditions, UpdateTarget, WriteOptions};
use crate::patch::Patch;
use crate::query::Query;
use crate::resources::FieldValidation;
use crate::routes::{route, ResourcePath, Route};
use crate::scale::{apply_scale, scale_of};
use crate::status_errors::{success_status, ApiError};
use crate::watch::WatchRequest;
use crate::{discovery, openapi, ApiServer, MAX_REQUEST_BODY_BYTES};

type HandlerResult = Result<Response<BoxBody>, ApiError>;

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn ok_json(value: &Value) -> HandlerResult {
    Ok(json_response(200, JSON, value))
}

fn require_get(method: &Method) -> Result<(), ApiError> {
    if method == Method::GET || method == Method::HEAD {
        Ok(())
    } else {
        Err(ApiError::method_not_supported())
    }
}

/// `Warning: 299 - "<text>"` headers, as kube-apiserver adds them.
fn add_warnings(response: &mut Response<BoxBody>, warnings: &[String]) {
    for warning in warnings {
        let escaped = warning.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(value) = HeaderValue::from_str(&format!("299 - \"{escaped}\"")) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
}

async fn read_body<B>(headers: &HeaderMap, body: B) -> Result<Bytes, ApiError>
where
    B: Body<Data = Bytes> + Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared =
        header_str(headers, header::CONTENT_LENGTH).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_REQUEST_BODY_BYTES) {
        return Err(ApiError::too_large(MAX_REQUEST_BODY_BYTES));
    }
    match Limited::new(body, MAX_REQUEST_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::too_large(MAX_REQUEST_BODY_BYTES))
        }
        Err(error) => Err(ApiError::bad_request(format!(
            "error reading request body: {error}"
        ))),
    }
}

impl ApiServer {
    /// Answers one HTTP request as kube-apiserver would.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<BoxBody>
    where
        B: Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        match self.dispatch(request).await {
            Ok(response) => response,
            Err(error) => error_response(&error),
        }
    }

    async fn dispatch<B>(&self, request: Request<B>) -> HandlerResult
    where
        B: Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        authenticate(self.options().bearer_token.as_deref(), &parts.headers)?;
        self.inner
            .namespaces_ready
            .get_or_try_init(|| self.ensure_builtin_namespaces())
            .await?;
        let query = Query::parse(parts.uri.query());
        let accept = header_str(&parts.headers, header::ACCEPT);
        let method = &parts.method;
        match route(parts.uri.path()) {
            Route::Version => {
                require_get(method)?;
                ok_json(&discovery::version(self.options().minor_version))
            }
            Route::Health => {
                require_get(method)?;
                let mut response = Response::new(full("ok"));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                Ok(response)
            }
            Route::CoreVersions | Route::Groups => {
                require_get(method)?;
                let core = matches!(route(parts.uri.path()), Route::CoreVersions);
                if wants_aggregated_discovery(accept) {
                    return Ok(json_response(
                        200,
                        DISCOVERY_V2_CONTENT_TYPE,
                        &discovery::aggregated(core),
                    ));
                }
                if core {
                    let host = header_str(&parts.headers, header::HOST).unwrap_or("127.0.0.1");
                    ok_json(&discovery::core_versions(host))
                } else {
                    ok_json(&discovery::group_list())
                }
            }
            Route::GroupVersions { group } => {
                require_get(method)?;
                ok_json(&discovery::group(&group))
            }
            Route::ResourceList { group, version } => {
                require_get(method)?;
                ok_json(&discovery::resource_list(&group, &version))
            }
            Route::OpenApiV3Root => {
                require_get(method)?;
                ok_json(&openapi::root())
            }
            Route::OpenApiV3Group { path } => {
                require_get(method)?;
                openapi::document(&path)
                    .map(|doc| json_response(200, JSON, &doc))
                    .ok_or_else(ApiError::path_not_found)
            }
            Route::NotFound => Err(ApiError::path_not_found()),
            Route::Resource(path) => {
                let representation = representation(accept)?;
                self.resource_request(
                    &parts.method,
                    &parts.headers,
                    path,
                    query,
                    representation,
                    body,
                )
                .await
            }
        }
    }

    async fn resource_request<B>(
        &self,
        method: &Method,
        headers: &HeaderMap,
        path: ResourcePath,
        query: Query,
        representation: Representation,
        body: B,
    ) -> HandlerResult
    where
        B: Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let resource = path.resource;
        let namespace = path.namespace.clone().unwrap_or_default();
        let watch = path.legacy_watch || query.flag("watch")?;
        let write_options = || -> Result<WriteOptions, ApiError> {
            Ok(WriteOptions {
                dry_run: query.dry_run()?,
                field_validation: FieldValidation::parse(query.get("fieldValidation"))?,
            })
        };
        let content_type = header_str(headers, header::CONTENT_TYPE);
        let name = path.name.as_deref();
        if *method == Method::GET && path.subresource.is_none() && (watch || name.is_none()) {
            // kube-apiserver decodes every ListOptions parameter for lists and watches alike,
            // so e.g. `limit=abc` on a watch is a 400 rather than ignored.
            query.int("limit")?;
            query.int("timeoutSeconds")?;
            query.flag("allowWatchBookmarks")?;
        }
        match (method.clone(), name, path.subresource.as_deref()) {
            (Method::GET, _, None) if watch => {
                let request = WatchRequest::new(
                    self,
                    resource,
                    path.namespace.clone(),
                    name,
                    &query,
                    representation,
                )?;
                Ok(self.watch_response(request).await)
            }
            (Method::GET, None, None) => self.list(&path, &query, representation).await,
            (Method::GET, Some(name), None | Some("status")) => {
                let object = self.get_in(resource, &namespace, name).await?.0;
                self.object_response(resource, object, 200, &query, representation, &[])
            }
            (Method::POST, None, None) if path.namespace.is_some() || !resource.namespaced => {
                let body = read_body(headers, body).await?;
                let object = decode_body(content_type, resource.kind, &body)?;
                let written = self
                    .create_in(resource, &namespace, object, write_options()?)
                    .await?;
                self.object_response(
                    resource,
                    written.object,
                    201,
                    &query,
                    Representation::Object,
                    &written.warnings,
                )
            }
            (Method::PUT, Some(name), target @ (None | Some("status"))) => {
                let body = read_body(headers, body).await?;
                let object = decode_body(content_type, resource.kind, &body)?;
                let target = if target.is_some() {
                    UpdateTarget::Status
                } else {
                    UpdateTarget::Main
                };
                let written = self
                    .update_in(resource, &namespace, name, target, write_options()?, |_| {
                        Ok(object.clone())
                    })
                    .await?;
                self.object_response(
                    resource,
                    written.object,
                    200,
                    &query,
                    Representation::Object,
                    &written.warnings,
                )
            }
            (Method::PATCH, Some(name), target @ (None | Some("status"))) => {
                let body = read_body(headers, body).await?;
                let patch = Patch::parse(content_type, &body)?;
                let target = if target.is_some() {
                    UpdateTarget::Status
                } else {
                    UpdateTarget::Main
                };
                let written = self
                    .update_in(
                        resource,
                        &namespace,
                        name,
                        target,
                        write_options()?,
                        |current| patch.apply(resource.kind, current),
                    )
                    .await?;
                self.object_response(
                    resource,
                    written.object,
                    200,
                    &query,
                    Representation::Object,
                    &written.warnings,
                )
            }
            (Method::DELETE, Some(name), None) => {
                let body = read_body(headers, body).await?;
                let options = delete_options(&query, &body)?;
                let outcome = self.delete_in(resource, &namespace, name, &options).await?;
                let object = match outcome {
                    DeleteOutcome::Deleted(object) | DeleteOutcome::Pending(object) => object,
                };
                if resource.delete_returns_object {
                    self.object_response(resource, object, 200, &query, Representation::Object, &[])
                } else {
                    let uid = crate::objects::meta_str(&object, "uid");
                    ok_json(&success_status(resource, name, uid))
                }
            }
            (Method::POST, Some(name), Some("binding")) if resource.plural == "pods" => {
                let body = read_body(headers, body).await?;
                let binding: Value = serde_json::from_slice(&body)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                let node = crate::binding::binding_target(&binding)?;
                self.bind_pod(&namespace, name, &node).await?;
                // kube-apiserver answers a binding with 201 and a Success status.
                Ok(json_response(
                    201,
                    JSON,
                    &success_status(resource, name, ""),
                ))
            }
            (method, Some(name), Some("scale")) if resource.subresources.scale => {
                self.scale_request(&method, headers, resource, &namespace, name, &query, body)
                    .await
            }
            (Method::GET, Some(name), Some("log")) if resource.subresources.log => {
                self.logs_response(&namespace, name, &query).await
            }
            (_, Some(_), Some(sub)) if !known_subresource(resource, sub) => {
                Err(ApiError::path_not_found())
            }
            _ => Err(ApiError::method_not_supported()),
        }
    }

    async fn list(
        &self,
        path: &ResourcePath,
        query: &Query,
        representation: Representation,
    ) -> HandlerResult {
        let resource = path.resource;
        if query.text("resourceVersionMatch").is_some() && query.text("resourceVersion").is_none() {
            return Err(ApiError::bad_request(
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        let filter = Filter::from_query(resource, query)?;
        let limit = query.int("limit")?.unwrap_or(0).max(0) as usize;
        let page = self
            .list_in(
                resource,
                path.namespace.as_deref(),
                &filter,
                limit,
                query.text("continue"),
            )
            .await?;
        match representation {
            Representation::Table => {
                let table = crate::tables::table(
                    resource,
                    &page.items,
                    query,
                    page.revision.to_string(),
                    page.continue_token.clone(),
                )?;
                Ok(json_response(200, TABLE_CONTENT_TYPE, &table))
            }
            Representation::Object => ok_json(&list_json(resource, page)),
        }
    }

    fn object_response(
        &self,
        resource: &crate::resources::Resource,
        object: Value,
        code: u16,
        query: &Query,
        representation: Representation,
        warnings: &[String],
    ) -> HandlerResult {
        let mut response = match representation {
            Representation::Table => {
                let revision = crate::objects::meta_str(&object, "resourceVersion").to_string();
                let table = crate::tables::table(
                    resource,
                    std::slice::from_ref(&object),
                    query,
                    revision,
                    None,
                )?;
                json_response(code, TABLE_CONTENT_TYPE, &table)
            }
            Representation::Object => json_response(code, JSON, &object),
        };
        add_warnings(&mut response, warnings);
        Ok(response)
    }

    #[allow(clippy::too_many_arguments)]
    async fn scale_request<B>(
        &self,
        method: &Method,
        headers: &HeaderMap,
        resource: &'static crate::resources::Resource,
        namespace: &str,
        name: &str,
        query: &Query,
        body: B,
    ) -> HandlerResult
    where
        B: Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let options = WriteOptions {
            dry_run: query.dry_run()?,
            field_validation: FieldValidation::parse(query.get("fieldValidation"))?,
        };
        let content_type = header_str(headers, header::CONTENT_TYPE);
        let written = match *method {
            Method::GET => {
                let object = self.get_in(resource, namespace, name).await?.0;
                return ok_json(&scale_of(resource.kind, &object));
            }
            Method::PUT => {
                let scale = decode_body(content_type, "Scale", &read_body(headers, body).await?)?;
                self.update_in(
                    resource,
                    namespace,
                    name,
                    UpdateTarget::Main,
                    options,
                    |current| apply_scale(current, &scale),
                )
                .await?
            }
            Method::PATCH => {
                let patch = Patch::parse(content_type, &read_body(headers, body).await?)?;
                self.update_in(
                    resource,
                    namespace,
                    name,
                    UpdateTarget::Main,
                    options,
                    |current| {
                        let patched = patch.apply("Scale", &scale_of(resource.kind, current))?;
                        apply_scale(current, &patched)
                    },
                )
                .await?
            }
            _ => return Err(ApiError::method_not_supported()),
        };
        ok_json(&scale_of(resource.kind, &written.object))
    }
}

fn known_subresource(resource: &crate::resources::Resource, subresource: &str) -> bool {
    let s = resource.subresources;
    (subresource == "binding" && resource.plural == "pods")
        || (subresource == "status" && s.status)
        || (subresource == "scale" && s.scale)
        || (subresource == "log" && s.log)
}

/// `DeleteOptions` from the body (if any) and the query (query parameters win).
fn delete_options(query: &Query, body: &[u8]) -> Result<DeleteOptions, ApiError> {
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!(
                "DeleteOptions in version \"v1\" cannot be handled as a DeleteOptions: {e}"
            ))
        })?
    };
    let text = |field: &str| body.get(field).and_then(Value::as_str).map(String::from);
    let dry_run_body = body
        .get("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().any(|v| v == "All"));
    Ok(DeleteOptions {
        grace_period_seconds: query
            .int("gracePeriodSeconds")?
            .or_else(|| body.get("gracePeriodSeconds").and_then(Value::as_i64)),
        propagation_policy: query
            .text("propagationPolicy")
            .map(String::from)
            .or_else(|| text("propagationPolicy")),
        preconditions: Preconditions {
            uid: body
                .pointer("/preconditions/uid")
                .and_then(Value::as_str)
                .map(String::from),
            resource_version: body
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                .map(String::from),
        },
        dry_run: query.dry_run()? || dry_run_body,
    })
}
