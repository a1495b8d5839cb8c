//! Reading files and running the whole pipeline.

use std::io::Read;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Pod;

use crate::decode::decode_document;
use crate::documents::split_documents;
use crate::error::{DocumentLocation, ManifestError, ObjectRef};
use crate::{apply_defaults, validate};

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

/// Loads every Pod from `paths` (files, directories of `.yaml`/`.yml`/`.json`
/// files in name order, or `-` for standard input), in order. Fails on the first
/// error; the same namespace/name defined twice is an error.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Pod>, ManifestError> {
    let mut all: Vec<LocatedPod> = Vec::new();
    for path in paths {
        for (source, text) in read_path(path)? {
            let pods = parse_located(&source, &text)?;
            for pod in pods {
                check_not_duplicate(&all, &pod)?;
                all.push(pod);
            }
        }
    }
    Ok(all.into_iter().map(|p| p.pod).collect())
}

/// Parses, defaults and validates every Pod in `text`; `source` names the file
/// in error messages.
pub fn parse(source: &str, text: &str) -> Result<Vec<Pod>, ManifestError> {
    Ok(parse_located(source, text)?
        .into_iter()
        .map(|p| p.pod)
        .collect())
}

/// Like [`parse`], keeping each Pod's location.
pub fn parse_located(source: &str, text: &str) -> Result<Vec<LocatedPod>, ManifestError> {
    let mut pods: Vec<LocatedPod> = Vec::new();
    for document in split_documents(source, text)? {
        for decoded in decode_document(document)? {
            let mut pod = decoded.pod;
            apply_defaults(&mut pod);
            let errors = validate(&pod);
            if !errors.is_empty() {
                return Err(ManifestError::Invalid {
                    location: decoded.location,
                    object: ObjectRef {
                        kind: "Pod".to_owned(),
                        name: display_name(&pod),
                    },
                    errors,
                });
            }
            let located = LocatedPod {
                location: decoded.location,
                pod,
            };
            check_not_duplicate(&pods, &located)?;
            pods.push(located);
        }
    }
    Ok(pods)
}

/// The name shown in messages: the name, or the generateName prefix.
fn display_name(pod: &Pod) -> Option<String> {
    [&pod.metadata.name, &pod.metadata.generate_name]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .cloned()
}

fn check_not_duplicate(
    existing: &[LocatedPod],
    candidate: &LocatedPod,
) -> Result<(), ManifestError> {
    let key = |pod: &Pod| {
        let name = pod.metadata.name.clone().filter(|n| !n.is_empty())?;
        Some((pod.metadata.namespace.clone().unwrap_or_default(), name))
    };
    let Some((namespace, name)) = key(&candidate.pod) else {
        return Ok(());
    };
    let first = existing
        .iter()
        .find(|other| key(&other.pod).as_ref() == Some(&(namespace.clone(), name.clone())));
    match first {
        Some(first) => Err(ManifestError::DuplicateObject {
            location: candidate.location.clone(),
            object: ObjectRef {
                kind: "Pod".to_owned(),
                name: Some(name),
            },
            namespace,
            first: first.location.clone(),
        }),
        None => Ok(()),
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
