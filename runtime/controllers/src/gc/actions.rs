//! The garbage collector's writes: deletes with a propagation policy, finalizer removal and
//! owner-reference edits, each a read-modify-write that retries lost races and gives up
//! quietly when the object is gone or was replaced (different UID).

use serde_json::{json, Value};
use wasmpod_apiserver::{ApiError, ApiServer, DeleteOptions, Preconditions, Resource};

use super::graph::{FOREGROUND_FINALIZER, ORPHAN_FINALIZER};
use crate::error::Result;
use crate::object;

const MODIFY_ATTEMPTS: usize = 5;

/// `metav1.DeletionPropagation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Propagation {
    Background,
    Foreground,
    Orphan,
}

impl Propagation {
    fn as_str(self) -> &'static str {
        match self {
            Propagation::Background => "Background",
            Propagation::Foreground => "Foreground",
            Propagation::Orphan => "Orphan",
        }
    }

    fn finalizer(self) -> Option<&'static str> {
        match self {
            Propagation::Background => None,
            Propagation::Foreground => Some(FOREGROUND_FINALIZER),
            Propagation::Orphan => Some(ORPHAN_FINALIZER),
        }
    }
}

fn ignorable(error: &ApiError) -> bool {
    // Gone, or the UID precondition failed because the name now belongs to a new object.
    error.code == 404 || error.code == 409
}

/// Deletes `target` (only if it still has `uid`) with `policy`. The finalizer a
/// Foreground/Orphan delete needs is added first, so the delete works whether or not the
/// API server itself acts on the propagation policy.
pub(super) async fn delete(
    api: &ApiServer,
    resource: &Resource,
    target: &Value,
    policy: Propagation,
) -> Result<()> {
    if let Some(finalizer) = policy.finalizer() {
        modify(api, resource, target, |object| {
            add_finalizer(object, finalizer)
        })
        .await?;
    }
    let options = DeleteOptions {
        preconditions: Preconditions {
            uid: Some(object::uid(target).to_string()),
            resource_version: None,
        },
        propagation_policy: Some(policy.as_str().to_string()),
        ..DeleteOptions::default()
    };
    match api
        .delete_object(
            resource.plural,
            object::namespace(target),
            object::name(target),
            options,
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if ignorable(&error) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Read-modify-write of `target` (matched by UID); `change` says whether it changed anything.
pub(super) async fn modify(
    api: &ApiServer,
    resource: &Resource,
    target: &Value,
    change: impl Fn(&mut Value) -> bool,
) -> Result<()> {
    let (namespace, name) = (object::namespace(target), object::name(target));
    let mut last_error = None;
    for _ in 0..MODIFY_ATTEMPTS {
        let mut current = match api.get_object(resource.plural, namespace, name).await {
            Ok(current) => current,
            Err(error) if error.code == 404 => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        if object::uid(&current) != object::uid(target) || !change(&mut current) {
            return Ok(());
        }
        match api
            .update_object(resource.plural, namespace, name, current)
            .await
        {
            Ok(_) => return Ok(()),
            Err(error) if error.code == 404 => return Ok(()),
            Err(error) if error.code == 409 => last_error = Some(error),
            Err(error) => return Err(error.into()),
        }
    }
    Err(last_error
        .unwrap_or_else(|| ApiError {
            code: 409,
            reason: "Conflict".into(),
            message: format!("{name}: too many conflicts"),
            details: None,
        })
        .into())
}

fn add_finalizer(object: &mut Value, finalizer: &str) -> bool {
    if object::has_finalizer(object, finalizer) {
        return false;
    }
    let list = &mut object["metadata"]["finalizers"];
    if !list.is_array() {
        *list = json!([]);
    }
    if let Value::Array(list) = list {
        list.push(json!(finalizer));
    }
    true
}

/// Removes `finalizer`; the API server deletes the object when it was the last one.
pub(super) fn remove_finalizer(object: &mut Value, finalizer: &str) -> bool {
    let Some(Value::Array(list)) = object.pointer_mut("/metadata/finalizers") else {
        return false;
    };
    let before = list.len();
    list.retain(|f| f.as_str() != Some(finalizer));
    if list.len() == before {
        return false;
    }
    if list.is_empty() {
        if let Some(Value::Object(meta)) = object.get_mut("metadata") {
            meta.remove("finalizers");
        }
    }
    true
}

/// Drops the owner references to any of `owner_uids`.
pub(super) fn remove_owner_refs(object: &mut Value, owner_uids: &[&str]) -> bool {
    let before = object::owner_references(object).len();
    *object = object::retain_owner_refs(object, |r| {
        !owner_uids.contains(&r.get("uid").and_then(Value::as_str).unwrap_or(""))
    });
    object::owner_references(object).len() != before
}

/// `unblockOwnerReferences`: `blockOwnerDeletion: false` everywhere (breaks foreground
/// deletion cycles).
pub(super) fn unblock_owner_refs(object: &mut Value) -> bool {
    let Some(Value::Array(refs)) = object.pointer_mut("/metadata/ownerReferences") else {
        return false;
    };
    let mut changed = false;
    for reference in refs {
        if reference.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true) {
            reference["blockOwnerDeletion"] = json!(false);
            changed = true;
        }
    }
    changed
}
