//! Reading files and running the whole pipeline.

use std::collections::hash_map::{Entry, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};

use crate::decode::decode_document;
use crate::documents::split_documents;
use crate::error::{DocumentLocation, ManifestError, ObjectRef};
use crate::objects::{LocatedObject, ManifestObject};

/// The path that means "read standard input".
pub const STDIN_PATH: &str = "-";
/// How standard input is named in messages (as kubectl does).
pub const STDIN_SOURCE_NAME: &str = "STDIN";
/// File extensions read from a directory (kubectl's `-f DIR`).
const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// A validated, defaulted Pod and the document it came from.
#[derive(Clone, Debug)]
pub struct LocatedPod {
    pub location: DocumentLocation,
    pub pod: Pod,
}

/// Every object of a set of manifests, validated and defaulted, each kind in
/// document order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ManifestSet {
    pub pods: Vec<Pod>,
    pub config_maps: Vec<ConfigMap>,
    pub secrets: Vec<Secret>,
}

impl ManifestSet {
    fn from_objects(objects: Vec<LocatedObject>) -> Self {
        let mut set = ManifestSet::default();
        for located in objects {
            match located.object {
                ManifestObject::Pod(pod) => set.pods.push(*pod),
                ManifestObject::ConfigMap(config_map) => set.config_maps.push(*config_map),
                ManifestObject::Secret(secret) => set.secrets.push(*secret),
            }
        }
        set
    }
}

/// Loads every object from `paths` (files, directories of `.yaml`/`.yml`/`.json`
/// files in name order, or `-` for standard input), in order. Fails on the first
/// error; the same kind/namespace/name defined twice is an error.
pub fn load_set(paths: &[PathBuf]) -> Result<ManifestSet, ManifestError> {
    Ok(ManifestSet::from_objects(load_objects(paths)?))
}

/// Like [`load_set`], keeping only the Pods (ConfigMaps and Secrets are still
/// validated, and count for duplicates).
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Pod>, ManifestError> {
    Ok(load_set(paths)?.pods)
}

/// Parses, defaults and validates every object in `text`; `source` names the file
/// in error messages.
pub fn parse_set(source: &str, text: &str) -> Result<ManifestSet, ManifestError> {
    Ok(ManifestSet::from_objects(parse_objects(source, text)?))
}

/// Like [`parse_set`], keeping only the Pods.
pub fn parse(source: &str, text: &str) -> Result<Vec<Pod>, ManifestError> {
    Ok(parse_set(source, text)?.pods)
}

/// Like [`parse`], keeping each Pod's location.
pub fn parse_located(source: &str, text: &str) -> Result<Vec<LocatedPod>, ManifestError> {
    Ok(parse_objects(source, text)?
        .into_iter()
        .filter_map(|located| match located.object {
            ManifestObject::Pod(pod) => Some(LocatedPod {
                location: located.location,
                pod: *pod,
            }),
            _ => None,
        })
        .collect())
}

fn load_objects(paths: &[PathBuf]) -> Result<Vec<LocatedObject>, ManifestError> {
    let mut all: Vec<LocatedObject> = Vec::new();
    let mut seen = SeenObjects::default();
    for path in paths {
        for (source, text) in read_path(path)? {
            for object in parse_objects(&source, &text)? {
                seen.check_and_insert(&object)?;
                all.push(object);
            }
        }
    }
    Ok(all)
}

fn parse_objects(source: &str, text: &str) -> Result<Vec<LocatedObject>, ManifestError> {
    let mut objects: Vec<LocatedObject> = Vec::new();
    let mut seen = SeenObjects::default();
    for document in split_documents(source, text)? {
        for mut decoded in decode_document(document)? {
            let errors = decoded.object.default_and_validate();
            if !errors.is_empty() {
                return Err(ManifestError::Invalid {
                    object: ObjectRef {
                        kind: decoded.object.kind().to_owned(),
                        name: decoded.object.display_name(),
                    },
                    location: decoded.location,
                    errors,
                });
            }
            seen.check_and_insert(&decoded)?;
            objects.push(decoded);
        }
    }
    Ok(objects)
}

/// Where each `(kind, namespace, name)` was first defined: a hash index, so that a file
/// of many small objects loads in linear time.
#[derive(Default)]
struct SeenObjects {
    first: HashMap<(&'static str, String, String), DocumentLocation>,
}

impl SeenObjects {
    /// Records `candidate`, or fails if the same object was already defined.
    fn check_and_insert(&mut self, candidate: &LocatedObject) -> Result<(), ManifestError> {
        let Some(identity) = candidate.object.identity() else {
            return Ok(());
        };
        match self.first.entry(identity) {
            Entry::Vacant(vacant) => {
                vacant.insert(candidate.location.clone());
                Ok(())
            }
            Entry::Occupied(occupied) => {
                let (kind, namespace, name) = occupied.key().clone();
                Err(ManifestError::DuplicateObject {
                    location: candidate.location.clone(),
                    object: ObjectRef {
                        kind: kind.to_owned(),
                        name: Some(name),
                    },
                    namespace,
                    first: occupied.get().clone(),
                })
            }
        }
    }
}

/// `(source name, text)` for each manifest behind `path`.
fn read_path(path: &Path) -> Result<Vec<(String, String)>, ManifestError> {
    if path.as_os_str() == STDIN_PATH {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| ManifestError::Read {
                path: STDIN_SOURCE_NAME.to_owned(),
                source,
            })?;
        return Ok(vec![(STDIN_SOURCE_NAME.to_owned(), text)]);
    }
    let read_error = |source| ManifestError::Read {
        path: path.display().to_string(),
        source,
    };
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(read_error)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && has_manifest_extension(p))
            .collect();
        files.sort();
        return files.iter().map(|file| read_file(file)).collect();
    }
    Ok(vec![read_file(path)?])
}

fn read_file(path: &Path) -> Result<(String, String), ManifestError> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((name, text)),
        Err(source) => Err(ManifestError::Read { path: name, source }),
    }
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e))
}
