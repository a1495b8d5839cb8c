//! `<root>/images/index.json`: reference → digest. Readers never lock: writers replace the
//! file atomically (temp file + rename) while holding an exclusive lock on `index.lock`,
//! so several wasmpod processes (and threads) can share one store.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ImageError;
use wasmpod_reference::is_lower_hex;

const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IndexEntry {
    /// `sha256:<hex>`; validated on load because blob paths are built from it.
    #[serde(deserialize_with = "deserialize_digest")]
    pub digest: String,
    pub size: u64,
    pub created: jiff::Timestamp,
    /// For content pulled from a registry: the manifest digest it was pulled as (what
    /// `name@sha256:…` references and the kubelet's `imageID` use). Empty for images built or
    /// imported here.
    #[serde(
        default,
        rename = "repoDigest",
        skip_serializing_if = "Option::is_none"
    )]
    pub repo_digest: Option<String>,
}

fn deserialize_digest<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    let digest = String::deserialize(deserializer)?;
    let valid = digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && is_lower_hex(hex));
    match valid {
        true => Ok(digest),
        false => Err(serde::de::Error::custom(format!(
            "invalid digest {digest:?}"
        ))),
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Index {
    #[serde(rename = "schemaVersion", default)]
    schema_version: u32,
    /// Keyed by the normalised reference string, so iteration is sorted by reference.
    #[serde(default)]
    pub images: BTreeMap<String, IndexEntry>,
}

impl Index {
    pub fn is_referenced(&self, digest: &str) -> bool {
        self.images.values().any(|entry| entry.digest == digest)
    }

    /// The creation time already recorded for this content, so every tag of one image
    /// shows the same CREATED, as in Docker.
    pub fn created_of(&self, digest: &str) -> Option<jiff::Timestamp> {
        self.images
            .values()
            .filter(|entry| entry.digest == digest)
            .map(|entry| entry.created)
            .min()
    }
}

pub(crate) struct IndexFile {
    path: PathBuf,
    lock_path: PathBuf,
}

/// Holds the store's write lock until dropped (closing the file releases it).
pub(crate) struct IndexLock {
    _file: File,
}

impl IndexFile {
    pub fn new(images_dir: &Path) -> IndexFile {
        IndexFile {
            path: images_dir.join("index.json"),
            lock_path: images_dir.join("index.lock"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn read(&self) -> Result<Index, ImageError> {
        let text = match std::fs::read(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Index::default());
            }
            Err(error) => return Err(ImageError::io("reading", &self.path)(error)),
        };
        serde_json::from_slice(&text).map_err(|source| ImageError::CorruptIndex {
            path: self.path.clone(),
            source,
        })
    }

    /// Blocks until this handle holds the exclusive write lock. Each call opens its own
    /// file description, so threads of one process exclude each other too.
    pub fn lock(&self) -> Result<IndexLock, ImageError> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)
            .map_err(ImageError::io("opening", &self.lock_path))?;
        file.lock()
            .map_err(ImageError::io("locking", &self.lock_path))?;
        Ok(IndexLock { _file: file })
    }

    /// Replaces the index atomically. The caller proves it holds the lock.
    pub fn write(&self, _lock: &IndexLock, index: &mut Index) -> Result<(), ImageError> {
        index.schema_version = SCHEMA_VERSION;
        let mut json =
            serde_json::to_vec_pretty(index).map_err(|source| ImageError::CorruptIndex {
                path: self.path.clone(),
                source,
            })?;
        json.push(b'\n');
        let dir = self.path.parent().unwrap_or(Path::new("."));
        write_atomically(dir, &self.path, &json)
    }
}

/// Writes `bytes` to a temp file in `dir`, flushes it to disk and renames it to `target`,
/// so readers see either the old or the new content, never a torn file.
pub(crate) fn write_atomically(dir: &Path, target: &Path, bytes: &[u8]) -> Result<(), ImageError> {
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(ImageError::io("creating a temporary file in", dir))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(ImageError::io("writing", temp.path().to_path_buf()))?;
    temp.persist(target)
        .map_err(|error| ImageError::io("replacing", target)(error.error))?;
    Ok(())
}
