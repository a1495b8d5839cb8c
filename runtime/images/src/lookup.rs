//! What a user-supplied image string means: a reference, an image ID (prefix), or — for a
//! bare hex string like `b29814cf5792` — a reference first and an ID if no such tag exists
//! (Docker resolves in the same order).

use crate::error::ImageError;
use crate::index::Index;
use wasmpod_reference::Reference;
use wasmpod_reference::{is_full_hex_identifier, is_lower_hex};

const DIGEST_PREFIX: &str = "sha256:";
const HEX_DIGEST_LEN: usize = 64;

#[derive(Debug)]
pub(crate) enum Lookup {
    Reference(Reference),
    IdPrefix(String),
    ReferenceOrIdPrefix(Reference, String),
}

impl Lookup {
    pub fn classify(input: &str) -> Result<Lookup, ImageError> {
        if let Some(hex) = input.strip_prefix(DIGEST_PREFIX) {
            if is_hex_prefix(hex) {
                return Ok(Lookup::IdPrefix(hex.to_string()));
            }
        }
        if is_full_hex_identifier(input) {
            return Ok(Lookup::IdPrefix(input.to_string()));
        }
        let reference = Reference::parse(input).map_err(ImageError::invalid_reference(input))?;
        if is_hex_prefix(input) {
            return Ok(Lookup::ReferenceOrIdPrefix(reference, input.to_string()));
        }
        Ok(Lookup::Reference(reference))
    }

    /// How "not found" names the input: Docker prints references in their familiar form.
    pub fn describe(&self, input: &str) -> String {
        match self {
            Lookup::Reference(reference) => reference.familiar(),
            Lookup::IdPrefix(_) | Lookup::ReferenceOrIdPrefix(..) => input.to_string(),
        }
    }

    /// Whether the input named an image by ID rather than by one of its references.
    pub fn matched_by_id(&self, index: &Index) -> bool {
        match self {
            Lookup::Reference(_) => false,
            Lookup::IdPrefix(_) => true,
            Lookup::ReferenceOrIdPrefix(reference, _) => {
                !index.images.contains_key(&reference.to_string())
            }
        }
    }

    /// Index keys this lookup designates, in reference order. An ID prefix that matches
    /// several different images is an error.
    pub fn matching_keys(&self, index: &Index) -> Result<Vec<String>, ImageError> {
        match self {
            Lookup::Reference(reference) => Ok(keys_for_reference(index, reference)),
            Lookup::IdPrefix(prefix) => keys_for_id_prefix(index, prefix),
            Lookup::ReferenceOrIdPrefix(reference, prefix) => {
                let keys = keys_for_reference(index, reference);
                if keys.is_empty() {
                    keys_for_id_prefix(index, prefix)
                } else {
                    Ok(keys)
                }
            }
        }
    }
}

fn is_hex_prefix(text: &str) -> bool {
    !text.is_empty() && text.len() <= HEX_DIGEST_LEN && is_lower_hex(text)
}

fn keys_for_reference(index: &Index, reference: &Reference) -> Vec<String> {
    match reference.digest() {
        // `name@digest` designates that content under that repository, whatever the tag.
        Some(digest) => {
            let name = reference.name();
            index
                .images
                .iter()
                .filter(|(key, entry)| {
                    (entry.digest == digest || entry.repo_digest.as_deref() == Some(digest))
                        && Reference::parse(key).is_ok_and(|stored| stored.name() == name)
                })
                .map(|(key, _)| key.clone())
                .collect()
        }
        None => {
            let key = reference.to_string();
            match index.images.contains_key(&key) {
                true => vec![key],
                false => Vec::new(),
            }
        }
    }
}

fn keys_for_id_prefix(index: &Index, prefix: &str) -> Result<Vec<String>, ImageError> {
    let wanted = format!("{DIGEST_PREFIX}{prefix}");
    let matching: Vec<(&String, &str)> = index
        .images
        .iter()
        .filter(|(_, entry)| entry.digest.starts_with(&wanted))
        .map(|(key, entry)| (key, entry.digest.as_str()))
        .collect();
    let first_digest = matching.first().map(|(_, digest)| *digest);
    if matching
        .iter()
        .any(|(_, digest)| Some(*digest) != first_digest)
    {
        return Err(ImageError::AmbiguousId(prefix.to_string()));
    }
    Ok(matching.into_iter().map(|(key, _)| key.clone()).collect())
}
