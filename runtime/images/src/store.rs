//! The image store: immutable blobs at `<root>/images/blobs/sha256/<hex>` named by the
//! SHA-256 of the component bytes, plus the tag index (see `index.rs`).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::builtin::builtin_images;
use crate::error::ImageError;
use crate::index::{write_atomically, Index, IndexEntry, IndexFile, IndexLock};
use crate::lookup::Lookup;
use crate::wasm_header::ensure_component;
use wasmpod_reference::Reference;

const SHORT_ID_LEN: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    pub reference: Reference,
    /// `sha256:<hex>`
    pub digest: String,
    pub size: u64,
    /// The blob holding the component bytes.
    pub path: PathBuf,
    pub created: jiff::Timestamp,
    /// The registry manifest digest, for an image pulled from a registry.
    pub repo_digest: Option<String>,
}

impl ImageRecord {
    /// The repo-digest form the kubelet reports as `imageID`:
    /// `docker.io/library/health_image@sha256:<hex>` (the manifest digest for a pulled image,
    /// the content digest for one built or imported here).
    pub fn image_id(&self) -> String {
        let digest = self.repo_digest.as_deref().unwrap_or(&self.digest);
        format!("{}@{}", self.reference.name(), digest)
    }

    /// Whether this image came from a registry (and so can be pulled again).
    pub fn is_pulled(&self) -> bool {
        self.repo_digest.is_some()
    }

    /// The first 12 hex digits of the digest, as `docker image ls` shows.
    pub fn short_id(&self) -> String {
        self.hex().chars().take(SHORT_ID_LEN).collect()
    }

    fn hex(&self) -> &str {
        self.digest
            .split_once(':')
            .map_or(&self.digest, |(_, hex)| hex)
    }
}

pub struct ImageStore {
    root: PathBuf,
    blobs_dir: PathBuf,
    index: IndexFile,
}

impl ImageStore {
    /// Opens (creating if needed) the store at `root` and adds any built-in image whose
    /// tag is absent; a user's own tag of the same name is never overwritten.
    pub fn open(root: &Path) -> Result<ImageStore, ImageError> {
        let images_dir = root.join("images");
        let store = ImageStore {
            root: root.to_path_buf(),
            blobs_dir: images_dir.join("blobs").join("sha256"),
            index: IndexFile::new(&images_dir),
        };
        for dir in [&store.blobs_dir, &store.compile_cache_dir()] {
            std::fs::create_dir_all(dir).map_err(ImageError::io("creating", dir.as_path()))?;
        }
        store.seed_builtins()?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the engine keeps precompiled `.cwasm` files.
    pub fn compile_cache_dir(&self) -> PathBuf {
        self.root.join("cache").join("compiled")
    }

    /// All tagged images, sorted by reference.
    pub fn list(&self) -> Result<Vec<ImageRecord>, ImageError> {
        let index = self.index.read()?;
        index
            .images
            .iter()
            .map(|(key, entry)| self.record(key, entry))
            .collect()
    }

    /// Stores `wasm` under `reference`, moving the tag if it pointed elsewhere.
    pub fn import(&self, reference: &str, wasm: &[u8]) -> Result<ImageRecord, ImageError> {
        self.import_labelled(reference, wasm, reference)
    }

    pub fn import_file(&self, reference: &str, path: &Path) -> Result<ImageRecord, ImageError> {
        // Parse first so a bad reference is reported before reading a large file.
        Reference::parse(reference).map_err(ImageError::invalid_reference(reference))?;
        let wasm = std::fs::read(path).map_err(ImageError::io("reading", path))?;
        self.import_labelled(reference, &wasm, &path.display().to_string())
    }

    /// Stores a component pulled from a registry as `reference` (a tag, or `name@digest` with
    /// the manifest digest), remembering the manifest digest it came as.
    pub fn store_pulled(
        &self,
        reference: &str,
        wasm: &[u8],
        manifest_digest: &str,
    ) -> Result<ImageRecord, ImageError> {
        let parsed =
            Reference::parse(reference).map_err(ImageError::invalid_reference(reference))?;
        ensure_component(wasm, reference)?;
        let digest = sha256_digest(wasm);
        let lock = self.index.lock()?;
        let mut index = self.index.read()?;
        let mut entry = self.add_blob(&lock, &index, &digest, wasm)?;
        entry.repo_digest = Some(manifest_digest.to_string());
        let key = parsed.to_string();
        let replaced = index.images.insert(key.clone(), entry.clone());
        self.index.write(&lock, &mut index)?;
        self.collect_garbage(&lock, &index, replaced)?;
        self.record(&key, &entry)
    }

    /// Builds the crate in `dir` for wasm32-wasip2 and imports its component.
    pub fn build(&self, reference: &str, dir: &Path) -> Result<ImageRecord, ImageError> {
        Reference::parse(reference).map_err(ImageError::invalid_reference(reference))?;
        let wasm = crate::cargo_build::build_component(dir)?;
        self.import_file(reference, &wasm)
    }

    /// Points `target` at the image `source` designates (reference or ID).
    pub fn tag(&self, source: &str, target: &str) -> Result<ImageRecord, ImageError> {
        let lookup = Lookup::classify(source)?;
        let target_reference =
            Reference::parse(target).map_err(ImageError::invalid_reference(target))?;
        if target_reference.digest().is_some() {
            return Err(ImageError::TagWithDigest(target.to_string()));
        }
        let lock = self.index.lock()?;
        let mut index = self.index.read()?;
        let source_key = lookup
            .matching_keys(&index)?
            .into_iter()
            .next()
            .ok_or_else(|| ImageError::NotFound(lookup.describe(source)))?;
        let mut entry = index.images[&source_key].clone();
        let target_key = target_reference.to_string();
        // A registry's manifest digest belongs to the repository it was pulled from.
        let same_repository =
            Reference::parse(&source_key).is_ok_and(|s| s.name() == target_reference.name());
        if !same_repository {
            entry.repo_digest = None;
        }
        let replaced = index.images.insert(target_key.clone(), entry.clone());
        self.index.write(&lock, &mut index)?;
        self.collect_garbage(&lock, &index, replaced)?;
        self.record(&target_key, &entry)
    }

    /// Removes the tag (or, for an ID or `name@digest`, the tags it designates) and the
    /// blob once no tag points at it. An ID shared by several tags is refused, as in Docker.
    pub fn remove(&self, reference: &str) -> Result<ImageRecord, ImageError> {
        let lookup = Lookup::classify(reference)?;
        let lock = self.index.lock()?;
        let mut index = self.index.read()?;
        let keys = lookup.matching_keys(&index)?;
        let Some(first_key) = keys.first().cloned() else {
            return Err(ImageError::NotFound(lookup.describe(reference)));
        };
        let removed = index.images[&first_key].clone();
        if keys.len() > 1 && lookup.matched_by_id(&index) {
            return Err(ImageError::ReferencedInMultipleRepositories {
                short_id: self.record(&first_key, &removed)?.short_id(),
            });
        }
        for key in &keys {
            index.images.remove(key);
        }
        self.index.write(&lock, &mut index)?;
        self.collect_garbage(&lock, &index, Some(removed.clone()))?;
        self.record(&first_key, &removed)
    }

    /// Finds an image by reference, `name@digest`, or image ID prefix (`sha256:abc…` or a
    /// bare hex prefix such as the 12-digit short ID).
    pub fn resolve(&self, reference: &str) -> Result<Option<ImageRecord>, ImageError> {
        let found = self.resolve_stored(reference)?;
        if found.is_some() {
            return Ok(found);
        }
        // A bundled test image answers to every tag of its repositories: store it under the
        // tag asked for, as a pull would.
        let Ok(parsed) = Reference::parse(reference) else {
            return Ok(None);
        };
        match crate::builtin::any_tag_image(&parsed.name()) {
            Some(wasm) if parsed.digest().is_none() => self.import(reference, wasm).map(Some),
            _ => Ok(None),
        }
    }

    fn resolve_stored(&self, reference: &str) -> Result<Option<ImageRecord>, ImageError> {
        let lookup = Lookup::classify(reference)?;
        let index = self.index.read()?;
        let keys = lookup.matching_keys(&index)?;
        keys.first()
            .map(|key| self.record(key, &index.images[key]))
            .transpose()
    }

    fn import_labelled(
        &self,
        reference: &str,
        wasm: &[u8],
        label: &str,
    ) -> Result<ImageRecord, ImageError> {
        let parsed =
            Reference::parse(reference).map_err(ImageError::invalid_reference(reference))?;
        ensure_component(wasm, label)?;
        let digest = sha256_digest(wasm);
        if let Some(expected) = parsed.digest() {
            if expected != digest {
                return Err(ImageError::DigestMismatch {
                    reference: reference.to_string(),
                    expected: expected.to_string(),
                    actual: digest,
                });
            }
        }
        let lock = self.index.lock()?;
        let mut index = self.index.read()?;
        let entry = self.add_blob(&lock, &index, &digest, wasm)?;
        let key = parsed.to_string();
        let replaced = index.images.insert(key.clone(), entry.clone());
        self.index.write(&lock, &mut index)?;
        self.collect_garbage(&lock, &index, replaced)?;
        self.record(&key, &entry)
    }

    /// Writes the blob if this content is new. Must run under the lock: otherwise a
    /// concurrent `remove` could delete an existing blob we decided to reuse.
    fn add_blob(
        &self,
        _lock: &IndexLock,
        index: &Index,
        digest: &str,
        wasm: &[u8],
    ) -> Result<IndexEntry, ImageError> {
        let path = self.blob_path(digest);
        let present = std::fs::metadata(&path).is_ok_and(|meta| meta.len() == wasm.len() as u64);
        if !present {
            write_atomically(&self.blobs_dir, &path, wasm)?;
        }
        Ok(IndexEntry {
            digest: digest.to_string(),
            size: wasm.len() as u64,
            created: index
                .created_of(digest)
                .unwrap_or_else(jiff::Timestamp::now),
            repo_digest: None,
        })
    }

    /// Deletes the blob of an entry that just lost a tag, if no other tag uses it.
    fn collect_garbage(
        &self,
        _lock: &IndexLock,
        index: &Index,
        dropped: Option<IndexEntry>,
    ) -> Result<(), ImageError> {
        let Some(dropped) = dropped else {
            return Ok(());
        };
        if index.is_referenced(&dropped.digest) {
            return Ok(());
        }
        let path = self.blob_path(&dropped.digest);
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(ImageError::io("removing", path)(error))
            }
            _ => Ok(()),
        }
    }

    fn seed_builtins(&self) -> Result<(), ImageError> {
        let missing = |index: &Index| -> Vec<(String, &'static [u8])> {
            builtin_images()
                .into_iter()
                .filter_map(|(name, wasm)| {
                    let key = Reference::parse(name).ok()?.to_string();
                    (!index.images.contains_key(&key)).then_some((key, wasm))
                })
                .collect()
        };
        // The common case, every built-in present, needs neither the lock nor hashing.
        if missing(&self.index.read()?).is_empty() {
            return Ok(());
        }
        let lock = self.index.lock()?;
        let mut index = self.index.read()?;
        let to_add = missing(&index);
        if to_add.is_empty() {
            return Ok(());
        }
        for (key, wasm) in to_add {
            let entry = self.add_blob(&lock, &index, &sha256_digest(wasm), wasm)?;
            index.images.insert(key, entry);
        }
        self.index.write(&lock, &mut index)
    }

    fn record(&self, key: &str, entry: &IndexEntry) -> Result<ImageRecord, ImageError> {
        let reference = Reference::parse(key).map_err(|source| ImageError::InvalidReference {
            reference: format!("{key} (in {})", self.index.path().display()),
            source,
        })?;
        Ok(ImageRecord {
            reference,
            digest: entry.digest.clone(),
            size: entry.size,
            path: self.blob_path(&entry.digest),
            created: entry.created,
            repo_digest: entry.repo_digest.clone(),
        })
    }

    fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.split_once(':').map_or(digest, |(_, hex)| hex);
        self.blobs_dir.join(hex)
    }
}

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}
