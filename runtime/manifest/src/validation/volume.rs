//! Volume validation (`ValidateVolumes`, `validateVolumeSource` and the sources wasmpod
//! can serve) and `ValidateVolumeMounts`.

use std::collections::{BTreeMap, HashSet};

use k8s_openapi::api::core::v1::{
    Container, DownwardAPIVolumeSource, HostPathVolumeSource, KeyToPath, Volume, VolumeMount,
};

use super::env::{
    validate_object_field_selector, validate_resource_field_selector, VOLUME_FIELD_PATHS,
};
use super::names::is_dns1123_label;
use super::path::FieldPath;
use crate::field_error::FieldError;

const MORE_THAN_ONE_SOURCE: &str = "may not specify more than 1 volume type";
const FILE_MODE_ERROR: &str = "must be a number between 0 and 0777 (octal), both inclusive";
/// `supportedHostPathTypes`, sorted like `sets.List`.
const HOST_PATH_TYPES: &[&str] = &[
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
];
const MOUNT_PROPAGATIONS: &[&str] = &["Bidirectional", "HostToContainer", "None"];
const RECURSIVE_READ_ONLY_MODES: &[&str] = &["Disabled", "Enabled", "IfPossible"];

/// The volumes that passed validation, by name (mounts of any other name are NotFound).
pub(crate) type ValidVolumes<'a> = BTreeMap<&'a str, &'a Volume>;

/// `ValidateVolumes`: a volume with any error is left out of the returned map.
pub(crate) fn validate_volumes<'a>(
    volumes: &'a [Volume],
    path: &FieldPath,
) -> (ValidVolumes<'a>, Vec<FieldError>) {
    let mut valid = ValidVolumes::new();
    let mut names = HashSet::new();
    let mut errors = Vec::new();
    for (i, volume) in volumes.iter().enumerate() {
        let volume_path = path.index(i);
        let name_path = volume_path.child("name");
        let mut volume_errors = validate_volume_source(volume, &volume_path);
        if volume.name.is_empty() {
            volume_errors.push(FieldError::required(&name_path, ""));
        } else {
            for message in is_dns1123_label(&volume.name) {
                volume_errors.push(FieldError::invalid(
                    &name_path,
                    volume.name.as_str(),
                    message,
                ));
            }
        }
        if names.contains(volume.name.as_str()) {
            volume_errors.push(FieldError::duplicate(&name_path, volume.name.as_str()));
        }
        if volume_errors.is_empty() {
            names.insert(volume.name.as_str());
            valid.insert(volume.name.as_str(), volume);
        } else {
            errors.extend(volume_errors);
        }
    }
    (valid, errors)
}

/// `validateVolumeSource`: exactly one source, checked in the API server's order; the
/// first is validated and each further one is Forbidden.
fn validate_volume_source(volume: &Volume, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut count = 0;
    // (name in the Forbidden path — Go's own spellings, typos included — and whether set).
    let sources: [(&str, bool); 30] = [
        ("emptyDir", volume.empty_dir.is_some()),
        ("hostPath", volume.host_path.is_some()),
        ("gitRepo", volume.git_repo.is_some()),
        ("gcePersistentDisk", volume.gce_persistent_disk.is_some()),
        (
            "awsElasticBlockStore",
            volume.aws_elastic_block_store.is_some(),
        ),
        ("secret", volume.secret.is_some()),
        ("nfs", volume.nfs.is_some()),
        ("iscsi", volume.iscsi.is_some()),
        ("glusterfs", volume.glusterfs.is_some()),
        ("flocker", volume.flocker.is_some()),
        (
            "persistentVolumeClaim",
            volume.persistent_volume_claim.is_some(),
        ),
        ("rbd", volume.rbd.is_some()),
        ("cinder", volume.cinder.is_some()),
        ("cephFS", volume.cephfs.is_some()),
        ("quobyte", volume.quobyte.is_some()),
        ("downwarAPI", volume.downward_api.is_some()),
        ("fc", volume.fc.is_some()),
        ("flexVolume", volume.flex_volume.is_some()),
        ("configMap", volume.config_map.is_some()),
        ("azureFile", volume.azure_file.is_some()),
        ("vsphereVolume", volume.vsphere_volume.is_some()),
        (
            "photonPersistentDisk",
            volume.photon_persistent_disk.is_some(),
        ),
        ("portworxVolume", volume.portworx_volume.is_some()),
        ("azureDisk", volume.azure_disk.is_some()),
        ("storageos", volume.storageos.is_some()),
        ("projected", volume.projected.is_some()),
        ("scaleIO", volume.scale_io.is_some()),
        ("csi", volume.csi.is_some()),
        ("ephemeral", volume.ephemeral.is_some()),
        ("image", volume.image.is_some()),
    ];
    for (name, present) in sources {
        if !present {
            continue;
        }
        if count > 0 {
            errors.push(FieldError::forbidden(
                path.child(name),
                MORE_THAN_ONE_SOURCE,
            ));
            continue;
        }
        count += 1;
        errors.extend(validate_first_source(volume, name, path));
    }
    if count == 0 {
        // Unreachable after defaulting (a sourceless volume becomes an emptyDir).
        errors.push(FieldError::required(path, "must specify a volume type"));
    }
    errors
}

/// The per-source checks for the sources wasmpod serves; others are only counted.
fn validate_first_source(volume: &Volume, name: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match name {
        "hostPath" => {
            if let Some(source) = &volume.host_path {
                errors.extend(validate_host_path(source, &path.child("hostPath")));
            }
        }
        "secret" => {
            if let Some(source) = &volume.secret {
                let source_path = path.child("secret");
                if source.secret_name.as_deref().unwrap_or("").is_empty() {
                    errors.push(FieldError::required(source_path.child("secretName"), ""));
                }
                errors.extend(validate_mode(
                    source.default_mode,
                    &source_path.child("defaultMode"),
                ));
                errors.extend(validate_items(
                    source.items.as_deref(),
                    &source_path.child("items"),
                ));
            }
        }
        "configMap" => {
            if let Some(source) = &volume.config_map {
                let source_path = path.child("configMap");
                if source.name.is_empty() {
                    errors.push(FieldError::required(source_path.child("name"), ""));
                }
                errors.extend(validate_mode(
                    source.default_mode,
                    &source_path.child("defaultMode"),
                ));
                errors.extend(validate_items(
                    source.items.as_deref(),
                    &source_path.child("items"),
                ));
            }
        }
        "downwarAPI" => {
            if let Some(source) = &volume.downward_api {
                errors.extend(validate_downward_api(source, &path.child("downwardAPI")));
            }
        }
        "persistentVolumeClaim" => {
            if let Some(source) = &volume.persistent_volume_claim {
                if source.claim_name.is_empty() {
                    errors.push(FieldError::required(
                        path.child("persistentVolumeClaim").child("claimName"),
                        "",
                    ));
                }
            }
        }
        _ => {}
    }
    errors
}

/// `validateHostPathVolumeSource`.
fn validate_host_path(source: &HostPathVolumeSource, path: &FieldPath) -> Vec<FieldError> {
    if source.path.is_empty() {
        return vec![FieldError::required(path.child("path"), "")];
    }
    let mut errors = validate_no_backsteps(&source.path, &path.child("path"));
    if let Some(type_) = &source.type_ {
        if !HOST_PATH_TYPES.contains(&type_.as_str()) {
            errors.push(FieldError::not_supported(
                path.child("type"),
                type_.as_str(),
                HOST_PATH_TYPES,
            ));
        }
    }
    errors
}

/// `validateDownwardAPIVolumeSource`/`validateDownwardAPIVolumeFile` (Go reports item
/// errors on the source path, without the item index).
fn validate_downward_api(source: &DownwardAPIVolumeSource, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_mode(source.default_mode, &path.child("defaultMode"));
    for file in source.items.iter().flatten() {
        if file.path.is_empty() {
            errors.push(FieldError::required(path.child("path"), ""));
        }
        errors.extend(validate_local_non_reserved_path(
            &file.path,
            &path.child("path"),
        ));
        match (&file.field_ref, &file.resource_field_ref) {
            (Some(field_ref), resource_ref) => {
                errors.extend(validate_object_field_selector(
                    field_ref,
                    VOLUME_FIELD_PATHS,
                    &path.child("fieldRef"),
                ));
                if resource_ref.is_some() {
                    errors.push(FieldError::invalid(
                        path,
                        "resource",
                        "fieldRef and resourceFieldRef can not be specified simultaneously",
                    ));
                }
            }
            (None, Some(resource_ref)) => errors.extend(validate_resource_field_selector(
                resource_ref,
                true,
                &path.child("resourceFieldRef"),
            )),
            (None, None) => errors.push(FieldError::required(
                path,
                "one of fieldRef and resourceFieldRef is required",
            )),
        }
        errors.extend(validate_mode(file.mode, &path.child("mode")));
    }
    errors
}

/// `validateKeyToPath` for each item.
fn validate_items(items: Option<&[KeyToPath]>, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, item) in items.unwrap_or_default().iter().enumerate() {
        let item_path = path.index(i);
        if item.key.is_empty() {
            errors.push(FieldError::required(item_path.child("key"), ""));
        }
        if item.path.is_empty() {
            errors.push(FieldError::required(item_path.child("path"), ""));
        }
        errors.extend(validate_local_non_reserved_path(
            &item.path,
            &item_path.child("path"),
        ));
        errors.extend(validate_mode(item.mode, &item_path.child("mode")));
    }
    errors
}

fn validate_mode(mode: Option<i32>, path: &FieldPath) -> Vec<FieldError> {
    match mode {
        Some(mode) if !(0..=0o777).contains(&mode) => {
            vec![FieldError::invalid(path, mode, FILE_MODE_ERROR)]
        }
        _ => Vec::new(),
    }
}

/// `ValidateVolumeMounts` (no volumeDevices in wasmpod). Like Go, subPath and
/// propagation errors are reported on the list path without the index.
pub(crate) fn validate_volume_mounts(
    container: &Container,
    volumes: &ValidVolumes<'_>,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut mount_paths = HashSet::new();
    for (i, mount) in container.volume_mounts.iter().flatten().enumerate() {
        let mount_path = path.index(i);
        if mount.name.is_empty() {
            errors.push(FieldError::required(mount_path.child("name"), ""));
        }
        let volume = volumes.get(mount.name.as_str());
        if volume.is_none() {
            errors.push(FieldError::not_found(
                mount_path.child("name"),
                mount.name.as_str(),
            ));
        }
        if mount.mount_path.is_empty() {
            errors.push(FieldError::required(mount_path.child("mountPath"), ""));
        }
        if !mount_paths.insert(mount.mount_path.as_str()) {
            errors.push(FieldError::invalid(
                mount_path.child("mountPath"),
                mount.mount_path.as_str(),
                "must be unique",
            ));
        }
        let sub_path = mount.sub_path.as_deref().unwrap_or("");
        let sub_path_expr = mount.sub_path_expr.as_deref().unwrap_or("");
        if volume.is_some_and(|v| v.image.is_some()) {
            for (field, value) in [("subPath", sub_path), ("subPathExpr", sub_path_expr)] {
                if !value.is_empty() {
                    errors.push(FieldError::invalid(
                        mount_path.child(field),
                        value,
                        "not allowed in image volume sources",
                    ));
                }
            }
        }
        if !sub_path.is_empty() {
            errors.extend(validate_local_descending_path(
                sub_path,
                &path.child("subPath"),
            ));
        }
        if !sub_path_expr.is_empty() {
            if !sub_path.is_empty() {
                errors.push(FieldError::invalid(
                    mount_path.child("subPathExpr"),
                    sub_path_expr,
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            errors.extend(validate_local_descending_path(
                sub_path_expr,
                &path.child("subPathExpr"),
            ));
        }
        if let Some(propagation) = &mount.mount_propagation {
            errors.extend(validate_mount_propagation(
                propagation,
                container,
                &path.child("mountPropagation"),
            ));
        }
        errors.extend(validate_recursive_read_only(
            mount,
            &path.child("recursiveReadOnly"),
        ));
    }
    errors
}

/// `validateMountPropagation`.
fn validate_mount_propagation(
    propagation: &str,
    container: &Container,
    path: &FieldPath,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !MOUNT_PROPAGATIONS.contains(&propagation) {
        errors.push(FieldError::not_supported(
            path,
            propagation,
            MOUNT_PROPAGATIONS,
        ));
    }
    let privileged = container
        .security_context
        .as_ref()
        .and_then(|c| c.privileged)
        .unwrap_or(false);
    if propagation == "Bidirectional" && !privileged {
        errors.push(FieldError::forbidden(
            path,
            "Bidirectional mount propagation is available only to privileged containers",
        ));
    }
    errors
}

/// `validateMountRecursiveReadOnly`.
fn validate_recursive_read_only(mount: &VolumeMount, path: &FieldPath) -> Vec<FieldError> {
    let Some(mode) = mount.recursive_read_only.as_deref() else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    match mode {
        "Disabled" => {}
        "Enabled" | "IfPossible" => {
            if !mount.read_only.unwrap_or(false) {
                errors.push(FieldError::forbidden(
                    path,
                    "may only be specified when readOnly is true",
                ));
            }
            if mount
                .mount_propagation
                .as_deref()
                .is_some_and(|p| p != "None")
            {
                errors.push(FieldError::forbidden(
                    path,
                    "may only be specified when mountPropagation is None or not specified",
                ));
            }
        }
        other => errors.push(FieldError::not_supported(
            path,
            other,
            RECURSIVE_READ_ONLY_MODES,
        )),
    }
    errors
}

/// `validateLocalDescendingPath`: relative, without `..` elements.
fn validate_local_descending_path(target: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if target.starts_with('/') {
        errors.push(FieldError::invalid(path, target, "must be a relative path"));
    }
    errors.extend(validate_no_backsteps(target, path));
    errors
}

/// `ValidateLocalNonReservedPath`: also no leading `..` (e.g. `..data`, used by the
/// atomic writer).
fn validate_local_non_reserved_path(target: &str, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = validate_local_descending_path(target, path);
    if target.starts_with("..") && !target.starts_with("../") {
        errors.push(FieldError::invalid(
            path,
            target,
            "must not start with '..'",
        ));
    }
    errors
}

/// `validatePathNoBacksteps`: one error however many `..` elements there are.
fn validate_no_backsteps(target: &str, path: &FieldPath) -> Vec<FieldError> {
    if target.split('/').any(|part| part == "..") {
        vec![FieldError::invalid(path, target, "must not contain '..'")]
    } else {
        Vec::new()
    }
}
