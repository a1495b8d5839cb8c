//! The files a pod's containers see through WASI preopens: a private root per container
//! instance (fresh on every start, so `touch /tmp/healthy` is gone after a restart), and the
//! pod's volumes at their mount paths (emptyDir, configMap, secret, downwardAPI, hostPath).
//! Everything lives under `$WASMPOD_HOME/pods/<uid>` and goes with the pod.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, KeyToPath, Pod, Volume};
use wasmpod_engine::Mount;

use super::env::{field_value, resource_value};
use crate::store::ObjectStore;

pub(crate) struct PodFiles {
    root: PathBuf,
    /// Volume name → where it lives on the host and whether its source is read-only.
    volumes: BTreeMap<String, (PathBuf, bool)>,
    /// emptyDirs with `medium: Memory`: their files count against memory limits.
    memory_backed: BTreeSet<String>,
}

impl Drop for PodFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn io_error(what: &str, path: &Path, error: std::io::Error) -> String {
    format!("{what} {}: {error}", path.display())
}

impl PodFiles {
    pub(crate) fn new(home: &Path, uid: &str) -> Self {
        PodFiles {
            root: home.join("pods").join(uid),
            volumes: BTreeMap::new(),
            memory_backed: BTreeSet::new(),
        }
    }

    /// Materialises the pod's volumes. Errors name the volume and end up as the containers'
    /// CreateContainerConfigError.
    pub(crate) fn prepare(
        &mut self,
        pod: &Pod,
        store: &ObjectStore,
        allowed_host_paths: &[PathBuf],
    ) -> Result<(), String> {
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        for volume in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
            let prepared =
                self.prepare_volume(pod, volume, store, &namespace, allowed_host_paths)?;
            self.volumes.insert(volume.name.clone(), prepared);
            let medium = volume.empty_dir.as_ref().and_then(|e| e.medium.as_deref());
            if medium == Some("Memory") {
                self.memory_backed.insert(volume.name.clone());
            }
        }
        Ok(())
    }

    /// The host directories of the memory-backed emptyDirs `container` mounts.
    pub(crate) fn memory_backed_dirs(&self, container: &Container) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = container
            .volume_mounts
            .iter()
            .flatten()
            .filter(|mount| self.memory_backed.contains(&mount.name))
            .filter_map(|mount| self.volumes.get(&mount.name).map(|(dir, _)| dir.clone()))
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    fn prepare_volume(
        &self,
        pod: &Pod,
        volume: &Volume,
        store: &ObjectStore,
        namespace: &str,
        allowed_host_paths: &[PathBuf],
    ) -> Result<(PathBuf, bool), String> {
        let dir = self.root.join("volumes").join(&volume.name);
        let create = |dir: &Path| {
            std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))
        };
        if let Some(host_path) = &volume.host_path {
            let path = PathBuf::from(&host_path.path);
            let allowed = allowed_host_paths
                .iter()
                .any(|allowed| path.starts_with(allowed));
            if !allowed {
                return Err(format!(
                    "hostPath volume \"{}\" ({}) is not allowed: start wasmpod with --allow-host-path {}",
                    volume.name, host_path.path, host_path.path
                ));
            }
            if host_path.type_.as_deref() == Some("DirectoryOrCreate") {
                create(&path)?;
            }
            if !path.is_dir() {
                return Err(format!(
                    "hostPath volume \"{}\": {} is not a directory",
                    volume.name, host_path.path
                ));
            }
            return Ok((path, false));
        }
        create(&dir)?;
        if volume.empty_dir.is_some() {
            return Ok((dir, false));
        }
        if let Some(source) = &volume.config_map {
            let data = match store.config_map(namespace, &source.name) {
                Some(config_map) => {
                    let mut files: BTreeMap<String, Vec<u8>> = config_map
                        .data
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k, v.into_bytes()))
                        .collect();
                    files.extend(
                        config_map
                            .binary_data
                            .unwrap_or_default()
                            .into_iter()
                            .map(|(k, v)| (k, v.0)),
                    );
                    files
                }
                None if source.optional == Some(true) => BTreeMap::new(),
                None => return Err(format!("configmap \"{}\" not found", source.name)),
            };
            write_projection(&dir, &data, source.items.as_deref(), source.default_mode)?;
            return Ok((dir, true));
        }
        if let Some(source) = &volume.secret {
            let name = source.secret_name.clone().unwrap_or_default();
            let data = match store.secret(namespace, &name) {
                Some(secret) => secret
                    .data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.0))
                    .collect(),
                None if source.optional == Some(true) => BTreeMap::new(),
                None => return Err(format!("secret \"{name}\" not found")),
            };
            write_projection(&dir, &data, source.items.as_deref(), source.default_mode)?;
            return Ok((dir, true));
        }
        if let Some(source) = &volume.downward_api {
            let mut files = BTreeMap::new();
            for item in source.items.iter().flatten() {
                let value = match (&item.field_ref, &item.resource_field_ref) {
                    (Some(field), _) => field_value(pod, field)?,
                    (None, Some(resource)) => {
                        let container = pod
                            .spec
                            .iter()
                            .flat_map(|s| s.containers.iter())
                            .find(|c| Some(&c.name) == resource.container_name.as_ref())
                            .ok_or_else(|| {
                                format!(
                                    "downwardAPI volume \"{}\": no container named in {}",
                                    volume.name, item.path
                                )
                            })?;
                        resource_value(container, resource)?
                    }
                    (None, None) => String::new(),
                };
                files.insert(item.path.clone(), value.into_bytes());
            }
            write_projection(&dir, &files, None, source.default_mode)?;
            return Ok((dir, true));
        }
        Err(format!(
            "volume \"{}\": only emptyDir, configMap, secret, downwardAPI and hostPath volumes are supported",
            volume.name
        ))
    }

    /// A fresh private root for a new instance of `container`, with `/tmp` and `/dev` (for
    /// `/dev/termination-log`) in it.
    pub(crate) fn fresh_root(&self, container: &str) -> Result<PathBuf, String> {
        let root = self.root.join("containers").join(container);
        if root.exists() {
            // Off the restart's critical path: move the old root aside, delete it meanwhile.
            // (Whatever is left goes with the pod's directory.)
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let old = self
                .root
                .join("trash")
                .join(format!("{container}-{unique}"));
            let moved = std::fs::create_dir_all(self.root.join("trash"))
                .and_then(|()| std::fs::rename(&root, &old));
            match moved {
                Ok(()) => drop(tokio::task::spawn_blocking(move || {
                    let _ = std::fs::remove_dir_all(old);
                })),
                Err(_) => std::fs::remove_dir_all(&root)
                    .map_err(|e| io_error("cannot reset", &root, e))?,
            }
        }
        for dir in ["tmp", "dev"] {
            let dir = root.join(dir);
            std::fs::create_dir_all(&dir).map_err(|e| io_error("cannot create", &dir, e))?;
        }
        Ok(root)
    }

    /// The container's mounts: its root at `/`, then each volumeMount (with subPath).
    pub(crate) fn mounts(
        &self,
        container: &Container,
        root: PathBuf,
    ) -> Result<Vec<Mount>, String> {
        let mut mounts = vec![Mount {
            host_path: root.clone(),
            guest_path: "/".into(),
            read_only: false,
        }];
        for mount in container.volume_mounts.iter().flatten() {
            let (dir, source_read_only) = self
                .volumes
                .get(&mount.name)
                .ok_or_else(|| format!("volume \"{}\" not found", mount.name))?;
            let mut host_path = dir.clone();
            if let Some(sub_path) = mount.sub_path.as_deref().filter(|p| !p.is_empty()) {
                if Path::new(sub_path)
                    .components()
                    .any(|c| !matches!(c, Component::Normal(_)))
                {
                    return Err(format!(
                        "subPath \"{sub_path}\" must be a relative path without '..'"
                    ));
                }
                host_path = host_path.join(sub_path);
                if !host_path.exists() {
                    std::fs::create_dir_all(&host_path)
                        .map_err(|e| io_error("cannot create", &host_path, e))?;
                }
                if host_path.is_file() {
                    // WASI mounts directories only: a single file (the common
                    // `subPath: nginx.conf` into /etc/nginx/nginx.conf) is copied into the
                    // container's fresh root instead, so writes to it stay private.
                    copy_into_root(&root, &host_path, &mount.mount_path)?;
                    continue;
                }
            }
            mounts.push(Mount {
                host_path,
                guest_path: mount.mount_path.clone(),
                read_only: mount.read_only == Some(true) || *source_read_only,
            });
        }
        Ok(mounts)
    }
}

fn copy_into_root(root: &Path, file: &Path, mount_path: &str) -> Result<(), String> {
    let relative = Path::new(mount_path.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(format!(
            "mountPath \"{mount_path}\" must be absolute without '..'"
        ));
    }
    let target = root.join(relative);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_error("cannot create", parent, e))?;
    }
    std::fs::copy(file, &target)
        .map(|_| ())
        .map_err(|e| io_error("cannot copy to", &target, e))
}

/// Writes `data` as files (all keys, or the `items` key → path mapping), with the mode the
/// volume asks for (defaultMode 0644 unless set).
fn write_projection(
    dir: &Path,
    data: &BTreeMap<String, Vec<u8>>,
    items: Option<&[KeyToPath]>,
    default_mode: Option<i32>,
) -> Result<(), String> {
    let entries: Vec<(String, &Vec<u8>, Option<i32>)> = match items {
        Some(items) => items
            .iter()
            .filter_map(|item| {
                data.get(&item.key)
                    .map(|value| (item.path.clone(), value, item.mode))
            })
            .collect(),
        None => data
            .iter()
            .map(|(key, value)| (key.clone(), value, None))
            .collect(),
    };
    for (path, value, mode) in entries {
        if Path::new(&path)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!("invalid projected path \"{path}\""));
        }
        let file = dir.join(&path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error("cannot create", parent, e))?;
        }
        std::fs::write(&file, value).map_err(|e| io_error("cannot write", &file, e))?;
        let mode = mode.or(default_mode).unwrap_or(0o644) as u32;
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode));
    }
    Ok(())
}

/// Bytes the regular files under `dir` occupy (allocated blocks, as tmpfs would hold them:
/// a sparse file costs only what was written).
pub(crate) fn dir_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_bytes(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map(|m| m.blocks() * 512).unwrap_or(0),
            _ => 0,
        })
        .sum()
}
