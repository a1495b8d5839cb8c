//! The object layer over storage (kube-apiserver's `registry/generic/registry.Store`):
//! create, get, update (main resource and `status`), graceful delete. The HTTP handlers and the
//! in-process node bridge share it, so system fields are assigned one way only.

use serde_json::{json, Map, Value};
use wasmpod_storage::{Bytes, KeyValue, StorageError};

use crate::resources::{self, admit, normalize, FieldValidation, Operation, Resource};
use crate::status_errors::ApiError;
use crate::ApiServer;

/// Retries of an optimistic update whose compare-and-swap lost a race.
const MAX_UPDATE_ATTEMPTS: usize = 16;
const GENERATE_NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// kube-apiserver's etcd key for an object: `/registry/pods/ns/name`,
/// `/registry/namespaces/name`, `/registry/controllers/ns/name` (RCs),
/// `/registry/services/specs/ns/name`. Unknown resources get `/registry/<resource>/…`.
pub fn object_key(resource: &str, namespace: &str, name: &str) -> String {
    match resources::lookup(resource) {
        Some(resource) => resource.key(Some(namespace), name),
        None if namespace.is_empty() => format!("/registry/{resource}/{name}"),
        None => format!("/registry/{resource}/{namespace}/{name}"),
    }
}

/// The object stored in `kv`, with `metadata.resourceVersion` set from its revision.
pub fn decode_object(kv: &KeyValue) -> Result<Value, ApiError> {
    let mut object: Value = serde_json::from_slice(&kv.value).map_err(|error| {
        ApiError::internal(format!("stored object {} is corrupt: {error}", kv.key))
    })?;
    set_resource_version(&mut object, kv.mod_revision);
    Ok(object)
}

/// `metav1.Preconditions` of a delete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

/// `metav1.DeleteOptions` (the parts that matter here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    pub grace_period_seconds: Option<i64>,
    /// Accepted and ignored: there is no garbage collector yet.
    pub propagation_policy: Option<String>,
    pub preconditions: Preconditions,
    pub dry_run: bool,
}

/// What a delete did.
#[derive(Debug, Clone, PartialEq)]
pub enum DeleteOutcome {
    /// The object is gone; this was its last state.
    Deleted(Value),
    /// Graceful deletion is pending (`deletionTimestamp` set); the object as it is now.
    Pending(Value),
}

/// Options of a write request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WriteOptions {
    pub dry_run: bool,
    pub field_validation: FieldValidation,
}

/// A successful write: the object as stored, plus `Warning` texts.
#[derive(Debug)]
pub(crate) struct Written {
    pub object: Value,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpdateTarget {
    Main,
    Status,
    /// `pods/binding`: the built object is stored as is (only the scheduler's fields move).
    Binding,
}

pub(crate) fn set_resource_version(object: &mut Value, revision: i64) {
    if let Some(metadata) = metadata_mut(object) {
        metadata.insert("resourceVersion".into(), json!(revision.to_string()));
    }
}

pub(crate) fn metadata_mut(object: &mut Value) -> Option<&mut Map<String, Value>> {
    let map = object.as_object_mut()?;
    map.entry("metadata")
        .or_insert_with(|| json!({}))
        .as_object_mut()
}

pub(crate) fn meta_str<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Now, truncated to seconds, as `metav1.Time` serializes it.
pub(crate) fn now_rfc3339() -> String {
    format_time(jiff::Timestamp::now())
}

pub(crate) fn format_time(time: jiff::Timestamp) -> String {
    let seconds = jiff::Timestamp::from_second(time.as_second()).unwrap_or(time);
    seconds.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn stored_bytes(object: &Value) -> Result<Bytes, ApiError> {
    let mut object = object.clone();
    // etcd never holds resourceVersion: it is the key's revision.
    if let Some(metadata) = metadata_mut(&mut object) {
        metadata.remove("resourceVersion");
    }
    serde_json::to_vec(&object)
        .map(Bytes::from)
        .map_err(ApiError::internal)
}

fn without_resource_version(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(metadata) = metadata_mut(&mut object) {
        metadata.remove("resourceVersion");
    }
    object
}

/// `names.SimpleNameGenerator`: the prefix cut to 58 bytes, then 5 random characters.
fn generated_name(prefix: &str) -> String {
    let mut cut = prefix.len().min(58);
    while !prefix.is_char_boundary(cut) {
        cut -= 1;
    }
    let prefix = &prefix[..cut];
    let random = uuid::Uuid::new_v4();
    let suffix: String = random
        .as_bytes()
        .iter()
        .take(5)
        .map(|b| GENERATE_NAME_ALPHABET[*b as usize % GENERATE_NAME_ALPHABET.len()] as char)
        .collect();
    format!("{prefix}{suffix}")
}

impl ApiServer {
    pub(crate) fn resolve(resource: &str) -> Result<&'static Resource, ApiError> {
        resources::lookup(resource).ok_or_else(ApiError::path_not_found)
    }

    /// One object (with its `resourceVersion`).
    pub async fn get_object(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        let resource = Self::resolve(resource)?;
        self.get_in(resource, namespace, name)
            .await
            .map(|(object, _)| object)
    }

    pub(crate) async fn get_in(
        &self,
        resource: &'static Resource,
        namespace: &str,
        name: &str,
    ) -> Result<(Value, KeyValue), ApiError> {
        let key = resource.key(Some(namespace), name);
        let kv = self
            .storage()
            .get(&key)
            .await
            .map_err(|e| ApiError::from_storage(e, resource, name))?
            .ok_or_else(|| ApiError::not_found(resource, name))?;
        Ok((decode_object(&kv)?, kv))
    }

    /// Creates an object as `POST` does (defaults, validation, uid, creationTimestamp, …);
    /// returns it as stored. `namespace` is ignored for cluster-scoped resources.
    pub async fn create_object(
        &self,
        resource: &str,
        namespace: &str,
        object: Value,
    ) -> Result<Value, ApiError> {
        let resource = Self::resolve(resource)?;
        self.create_in(resource, namespace, object, WriteOptions::default())
            .await
            .map(|written| written.object)
    }

    /// Replaces an object as `PUT` does (status changes are ignored where a `status`
    /// subresource exists; a set `resourceVersion` must match).
    pub async fn update_object(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
        object: Value,
    ) -> Result<Value, ApiError> {
        let resource = Self::resolve(resource)?;
        self.update_in(
            resource,
            namespace,
            name,
            UpdateTarget::Main,
            WriteOptions::default(),
            |_| Ok(object.clone()),
        )
        .await
        .map(|written| written.object)
    }

    /// Replaces an object's `status` as `PUT …/status` does (everything else is kept).
    pub async fn update_status(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
        object: Value,
    ) -> Result<Value, ApiError> {
        let resource = Self::resolve(resource)?;
        self.update_in(
            resource,
            namespace,
            name,
            UpdateTarget::Status,
            WriteOptions::default(),
            |_| Ok(object.clone()),
        )
        .await
        .map(|written| written.object)
    }

    /// Deletes an object as `DELETE` does, including graceful pod deletion.
    pub async fn delete_object(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
        options: DeleteOptions,
    ) -> Result<DeleteOutcome, ApiError> {
        let resource = Self::resolve(resource)?;
        self.delete_in(resource, namespace, name, &options).await
    }

    pub(crate) async fn create_in(
        &self,
        resource: &'static Resource,
        namespace: &str,
        body: Value,
        options: WriteOptions,
    ) -> Result<Written, ApiError> {
        if !body.is_object() {
            return Err(ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: expected an object",
                resource.kind, resource.version, resource.kind
            )));
        }
        let (mut object, warnings) = normalize(resource, &body, options.field_validation)?;
        object["apiVersion"] = json!(resource.api_version());
        object["kind"] = json!(resource.kind);
        let metadata = metadata_mut(&mut object)
            .ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
        if resource.namespaced {
            match metadata.get("namespace").and_then(Value::as_str) {
                Some(ns) if !ns.is_empty() && ns != namespace => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ))
                }
                _ => {
                    metadata.insert("namespace".into(), json!(namespace));
                }
            }
        } else {
            metadata.remove("namespace");
        }
        let name = metadata
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            if let Some(prefix) = metadata.get("generateName").and_then(Value::as_str) {
                if !prefix.is_empty() {
                    metadata.insert("name".into(), json!(generated_name(prefix)));
                }
            }
        }
        // FillObjectMetaSystemFields plus the strategy's PrepareForCreate.
        metadata.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        metadata.insert("creationTimestamp".into(), json!(now_rfc3339()));
        for field in [
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ] {
            metadata.remove(field);
        }
        if resource.tracks_generation {
            metadata.insert("generation".into(), json!(1));
        } else {
            metadata.remove("generation");
        }
        if resource.namespaced {
            self.require_namespace(namespace).await?;
        }
        let object = admit(resource, object, Operation::Create, self.options())?.object;
        let object = if resource.kind == "Service" {
            self.prepare_service(object).await?
        } else {
            object
        };
        let name = meta_str(&object, "name").to_string();
        if options.dry_run {
            return Ok(Written { object, warnings });
        }
        let key = resource.key(Some(namespace), &name);
        let bytes = stored_bytes(&object)?;
        let stored = if resource.plural == "events" {
            self.storage()
                .create_with_ttl(&key, bytes, self.options().event_ttl)
                .await
        } else {
            self.storage().create(&key, bytes).await
        }
        .map_err(|e| ApiError::from_storage(e, resource, &name))?;
        let mut object = object;
        set_resource_version(&mut object, stored.mod_revision);
        Ok(Written { object, warnings })
    }

    async fn require_namespace(&self, namespace: &str) -> Result<(), ApiError> {
        if namespace.is_empty() {
            return Err(ApiError::bad_request(
                "the server could not find the requested resource: namespace is required",
            ));
        }
        let namespaces = resources::lookup("namespaces").expect("namespaces is registered");
        let key = namespaces.key(None, namespace);
        match self.storage().get(&key).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) if crate::ttl::BUILTIN_NAMESPACES.contains(&namespace) => {
                self.ensure_builtin_namespaces().await
            }
            Ok(None) => Err(ApiError::namespace_not_found(namespace)),
            Err(error) => Err(ApiError::from_storage(error, namespaces, namespace)),
        }
    }

    /// Creates `default`, `kube-system`, `kube-public` and `kube-node-lease` if missing.
    pub async fn ensure_builtin_namespaces(&self) -> Result<(), ApiError> {
        let namespaces = resources::lookup("namespaces").expect("namespaces is registered");
        for name in crate::ttl::BUILTIN_NAMESPACES {
            // Written directly (not through create_in, which checks namespaces itself).
            let object = json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": name,
                    "uid": uuid::Uuid::new_v4().to_string(),
                    "creationTimestamp": now_rfc3339(),
                    "labels": {"kubernetes.io/metadata.name": name},
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            });
            match self
                .storage()
                .create(&namespaces.key(None, name), stored_bytes(&object)?)
                .await
            {
                Ok(_) | Err(StorageError::AlreadyExists { .. }) => {}
                Err(error) => return Err(ApiError::from_storage(error, namespaces, name)),
            }
        }
        Ok(())
    }

    /// Guaranteed update: `build` turns the current object into the requested one; it is
    /// re-run when a concurrent write wins the compare-and-swap.
    pub(crate) async fn update_in(
        &self,
        resource: &'static Resource,
        namespace: &str,
        name: &str,
        target: UpdateTarget,
        options: WriteOptions,
        mut build: impl FnMut(&Value) -> Result<Value, ApiError>,
    ) -> Result<Written, ApiError> {
        let key = resource.key(Some(namespace), name);
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let (current, kv) = self.get_in(resource, namespace, name).await?;
            let requested = build(&current)?;
            if !requested.is_object() {
                return Err(ApiError::bad_request(format!(
                    "{} in version \"{}\" cannot be handled as a {}: expected an object",
                    resource.kind, resource.version, resource.kind
                )));
            }
            let requested_name = meta_str(&requested, "name");
            if requested_name.is_empty() {
                return Err(ApiError::bad_request("name must be provided"));
            }
            if requested_name != name {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({requested_name}) does not match the name on the URL ({name})"
                )));
            }
            let requested_namespace = meta_str(&requested, "namespace");
            if resource.namespaced
                && !requested_namespace.is_empty()
                && requested_namespace != namespace
            {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            let (normalized, warnings) = normalize(resource, &requested, options.field_validation)?;
            let requested_rv = meta_str(&requested, "resourceVersion");
            if !requested_rv.is_empty() && requested_rv != kv.mod_revision.to_string() {
                return Err(ApiError::conflict(resource, name));
            }
            let mut object = match target {
                UpdateTarget::Main => {
                    self.prepare_main_update(resource, namespace, &current, normalized)?
                }
                UpdateTarget::Status => prepare_status_update(resource, &current, &normalized),
                UpdateTarget::Binding => normalized,
            };
            set_resource_version(&mut object, kv.mod_revision);
            if without_resource_version(&object) == without_resource_version(&current) {
                // Nothing changed: kube-apiserver skips the etcd write (no new revision/event).
                return Ok(Written {
                    object: current,
                    warnings,
                });
            }
            if options.dry_run {
                return Ok(Written { object, warnings });
            }
            if finalized_deletion(&object) {
                return match self.storage().delete(&key, Some(kv.mod_revision)).await {
                    Ok(_) => Ok(Written { object, warnings }),
                    Err(StorageError::Conflict { .. }) => continue,
                    Err(error) => Err(ApiError::from_storage(error, resource, name)),
                };
            }
            match self
                .storage()
                .update(&key, stored_bytes(&object)?, Some(kv.mod_revision))
                .await
            {
                Ok(stored) => {
                    set_resource_version(&mut object, stored.mod_revision);
                    return Ok(Written { object, warnings });
                }
                Err(StorageError::Conflict { .. }) => continue,
                Err(error) => return Err(ApiError::from_storage(error, resource, name)),
            }
        }
        Err(ApiError::conflict(resource, name))
    }

    /// `rest.BeforeUpdate` + the strategy's `PrepareForUpdate` + validation.
    fn prepare_main_update(
        &self,
        resource: &'static Resource,
        namespace: &str,
        current: &Value,
        mut object: Value,
    ) -> Result<Value, ApiError> {
        object["apiVersion"] = json!(resource.api_version());
        object["kind"] = json!(resource.kind);
        let name = meta_str(current, "name").to_string();
        let current_uid = meta_str(current, "uid").to_string();
        let requested_uid = meta_str(&object, "uid").to_string();
        if !requested_uid.is_empty() && requested_uid != current_uid {
            return Err(ApiError::invalid(
                resource,
                &name,
                &[wasmpod_manifest::FieldError::invalid(
                    "metadata.uid",
                    requested_uid.as_str(),
                    "field is immutable",
                )],
            ));
        }
        let current_meta = current.get("metadata").cloned().unwrap_or(json!({}));
        let metadata = metadata_mut(&mut object)
            .ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
        if resource.namespaced {
            metadata.insert("namespace".into(), json!(namespace));
        }
        for field in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            match current_meta.get(field) {
                Some(value) => {
                    metadata.insert(field.into(), value.clone());
                }
                None => {
                    metadata.remove(field);
                }
            }
        }
        if resource.subresources.status {
            match current.get("status") {
                Some(status) => object["status"] = status.clone(),
                None => {
                    if let Some(map) = object.as_object_mut() {
                        map.remove("status");
                    }
                }
            }
        }
        let mut object = admit(
            resource,
            object,
            Operation::Update { old: current },
            self.options(),
        )?
        .object;
        if resource.tracks_generation && object.get("spec") != current.get("spec") {
            let generation = current
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if let Some(metadata) = metadata_mut(&mut object) {
                metadata.insert("generation".into(), json!(generation + 1));
            }
        }
        Ok(object)
    }

    pub(crate) async fn delete_in(
        &self,
        resource: &'static Resource,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<DeleteOutcome, ApiError> {
        let key = resource.key(Some(namespace), name);
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let (current, kv) = self.get_in(resource, namespace, name).await?;
            check_preconditions(resource, name, &current, &options.preconditions)?;
            let plan = if resource.plural == "pods" {
                pod_deletion_plan(&current, options.grace_period_seconds)
            } else {
                propagation_plan(&current, options.propagation_policy.as_deref())?
            };
            let plan = match plan {
                DeletionPlan::Now if has_finalizers(&current) => {
                    DeletionPlan::Mark(mark_for_deletion(&current, 0))
                }
                plan => plan,
            };
            match plan {
                DeletionPlan::AlreadyPending => return Ok(DeleteOutcome::Pending(current)),
                DeletionPlan::Mark(marked) => {
                    if options.dry_run {
                        return Ok(DeleteOutcome::Pending(marked));
                    }
                    match self
                        .storage()
                        .update(&key, stored_bytes(&marked)?, Some(kv.mod_revision))
                        .await
                    {
                        Ok(stored) => {
                            let mut marked = marked;
                            set_resource_version(&mut marked, stored.mod_revision);
                            return Ok(DeleteOutcome::Pending(marked));
                        }
                        Err(StorageError::Conflict { .. }) => continue,
                        Err(error) => return Err(ApiError::from_storage(error, resource, name)),
                    }
                }
                DeletionPlan::Now => {
                    if options.dry_run {
                        return Ok(DeleteOutcome::Deleted(current));
                    }
                    match self.storage().delete(&key, Some(kv.mod_revision)).await {
                        Ok(_) => return Ok(DeleteOutcome::Deleted(current)),
                        Err(StorageError::Conflict { .. }) => continue,
                        Err(error) => return Err(ApiError::from_storage(error, resource, name)),
                    }
                }
            }
        }
        Err(ApiError::conflict(resource, name))
    }
}

/// The status subresource's `PrepareForUpdate`: only `status` changes.
fn prepare_status_update(resource: &Resource, current: &Value, requested: &Value) -> Value {
    let mut object = current.clone();
    match requested.get("status") {
        Some(status) => object["status"] = status.clone(),
        None => {
            if let Some(map) = object.as_object_mut() {
                map.remove("status");
            }
        }
    }
    object["apiVersion"] = json!(resource.api_version());
    object["kind"] = json!(resource.kind);
    object
}

fn has_finalizers(object: &Value) -> bool {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

/// An update removed the last finalizer of an object being deleted with no grace left.
fn finalized_deletion(object: &Value) -> bool {
    !meta_str(object, "deletionTimestamp").is_empty()
        && !has_finalizers(object)
        && object
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            == Some(0)
}

fn check_preconditions(
    resource: &Resource,
    name: &str,
    current: &Value,
    preconditions: &Preconditions,
) -> Result<(), ApiError> {
    if let Some(uid) = preconditions.uid.as_deref() {
        let actual = meta_str(current, "uid");
        if uid != actual {
            return Err(ApiError::conflict_because(
                resource,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"
                ),
            ));
        }
    }
    if let Some(rv) = preconditions.resource_version.as_deref() {
        let actual = meta_str(current, "resourceVersion");
        if rv != actual {
            return Err(ApiError::conflict_because(
                resource,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actual}"
                ),
            ));
        }
    }
    Ok(())
}

enum DeletionPlan {
    Now,
    /// Store this object (deletionTimestamp set) and keep it.
    Mark(Value),
    AlreadyPending,
}

/// `rest.BeforeDelete` with the pod strategy's `CheckGracefulDelete`.
fn pod_deletion_plan(pod: &Value, requested_grace: Option<i64>) -> DeletionPlan {
    let pending_grace = pod
        .pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64);
    if !meta_str(pod, "deletionTimestamp").is_empty() {
        let Some(pending_grace) = pending_grace else {
            return DeletionPlan::Now;
        };
        return match requested_grace {
            Some(grace) if grace < pending_grace => {
                if grace <= 0 {
                    DeletionPlan::Now
                } else {
                    DeletionPlan::Mark(mark_for_deletion(pod, grace))
                }
            }
            _ => DeletionPlan::AlreadyPending,
        };
    }
    let mut grace = requested_grace.unwrap_or_else(|| {
        pod.pointer("/spec/terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(30)
    });
    if grace < 0 {
        grace = 1;
    }
    let unscheduled = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("");
    if unscheduled || phase == "Succeeded" || phase == "Failed" {
        grace = 0;
    }
    if grace == 0 {
        DeletionPlan::Now
    } else {
        DeletionPlan::Mark(mark_for_deletion(pod, grace))
    }
}

/// The garbage collector's finalizers (`rest.BeforeDelete` + `deletionFinalizersForGarbageCollection`):
/// Foreground and Orphan keep the owner, marked, until the collector has handled its dependents;
/// Background (the default) deletes it now and leaves the dependents to the collector.
fn propagation_plan(object: &Value, policy: Option<&str>) -> Result<DeletionPlan, ApiError> {
    let finalizer = match policy.unwrap_or("") {
        "" | "Background" => return Ok(DeletionPlan::Now),
        "Foreground" => "foregroundDeletion",
        "Orphan" => "orphan",
        other => {
            return Err(ApiError::new(
                422,
                "Invalid",
                format!("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""),
            ))
        }
    };
    if !meta_str(object, "deletionTimestamp").is_empty() {
        let mut finalizers = finalizers_of(object);
        if finalizers.iter().any(|f| f == finalizer) {
            return Ok(DeletionPlan::AlreadyPending);
        }
        finalizers.push(finalizer.to_string());
        let mut marked = object.clone();
        marked["metadata"]["finalizers"] = json!(finalizers);
        return Ok(DeletionPlan::Mark(marked));
    }
    let mut marked = mark_for_deletion(object, 0);
    let mut finalizers = finalizers_of(object);
    if !finalizers.iter().any(|f| f == finalizer) {
        finalizers.push(finalizer.to_string());
    }
    marked["metadata"]["finalizers"] = json!(finalizers);
    Ok(DeletionPlan::Mark(marked))
}

fn finalizers_of(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn mark_for_deletion(object: &Value, grace: i64) -> Value {
    let mut marked = object.clone();
    let deadline = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(grace))
        .unwrap_or_else(|_| jiff::Timestamp::now());
    if let Some(metadata) = metadata_mut(&mut marked) {
        metadata.insert("deletionTimestamp".into(), json!(format_time(deadline)));
        metadata.insert("deletionGracePeriodSeconds".into(), json!(grace));
    }
    marked
}
