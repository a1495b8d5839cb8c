//! Docker-style image references, parsed and normalised like
//! `github.com/distribution/reference` `ParseNormalizedNamed` followed by `TagNameOnly`
//! (what the kubelet and `docker run` do), so `health_image` means
//! `docker.io/library/health_image:latest`.

use std::fmt;
use std::str::FromStr;

use crate::grammar::{
    is_domain_and_port, is_full_hex_identifier, is_path_component, split_reference, validate_digest,
};

pub const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const LOCALHOST: &str = "localhost";
pub const DEFAULT_TAG: &str = "latest";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Errors carry the exact texts of distribution/reference and go-digest, because users
/// compare them with what Docker and the kubelet print.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("invalid reference format")]
    InvalidFormat,
    #[error("repository name must have at least one component")]
    NameEmpty,
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    RepositoryNotLowercase(String),
    #[error("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")]
    NameTooLong,
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexadecimalName(String),
    #[error("unsupported digest algorithm")]
    UnsupportedDigestAlgorithm,
    #[error("invalid checksum digest length")]
    InvalidDigestLength,
    #[error("invalid checksum digest format")]
    InvalidDigestFormat,
}

/// A normalised named reference: `domain/path[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// `ParseNormalizedNamed` + `TagNameOnly`: a bare name gets the `latest` tag.
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        let mut reference = Self::parse_normalized_named(input)?;
        if reference.tag.is_none() && reference.digest.is_none() {
            reference.tag = Some(DEFAULT_TAG.to_string());
        }
        Ok(reference)
    }

    /// `ParseNormalizedNamed` without adding a default tag.
    pub fn parse_normalized_named(input: &str) -> Result<Reference, ReferenceError> {
        if is_full_hex_identifier(input) {
            return Err(ReferenceError::HexadecimalName(input.to_string()));
        }
        let (domain, remainder) = split_docker_domain(input);
        let remote_name = remainder.split(':').next().unwrap_or_default();
        if remote_name.to_lowercase() != remote_name {
            return Err(ReferenceError::RepositoryNotLowercase(
                remote_name.to_string(),
            ));
        }
        parse_strict(&format!("{domain}/{remainder}"))
    }

    /// The registry host (`docker.io`, `localhost:5000`); empty in the rare case where
    /// the first component looked like a host but was not one.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path inside the registry (`library/health_image`).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The full repository name, `docker.io/library/health_image`.
    pub fn name(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// The repository name as Docker shows it: `health_image`, `huqianakls/health_image`,
    /// `localhost:5000/x`.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(short) if !short.contains('/') => short.to_string(),
            _ => self.path.clone(),
        }
    }

    /// `FamiliarString`: `health_image:latest`.
    pub fn familiar(&self) -> String {
        self.render(self.familiar_name())
    }

    /// The same repository with another tag (and no digest).
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: Some(tag.to_string()),
            digest: None,
        }
    }

    fn render(&self, name: String) -> String {
        let mut text = name;
        if let Some(tag) = &self.tag {
            text.push(':');
            text.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            text.push('@');
            text.push_str(digest);
        }
        text
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(self.name()))
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Reference::parse(input)
    }
}

impl PartialOrd for Reference {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Reference {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.to_string().cmp(&other.to_string())
    }
}

/// `splitDockerDomain`: the first component is a registry host only if it looks like one
/// (has `.` or `:`, is `localhost`, or has uppercase letters).
fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == LOCALHOST
                || first.to_lowercase() != first =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("{OFFICIAL_REPO_PREFIX}{remainder}");
    }
    (domain, remainder)
}

/// `reference.Parse` of an already domain-qualified string.
fn parse_strict(input: &str) -> Result<Reference, ReferenceError> {
    let Some(parts) = split_reference(input) else {
        if input.is_empty() {
            return Err(ReferenceError::NameEmpty);
        }
        if split_reference(&input.to_lowercase()).is_some() {
            return Err(ReferenceError::NameContainsUppercase);
        }
        return Err(ReferenceError::InvalidFormat);
    };
    if parts.name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError::NameTooLong);
    }
    if let Some(digest) = parts.digest {
        validate_digest(digest)?;
    }
    // The grammar prefers a leading host component when there is one.
    let (domain, path) = match parts.name.split_once('/') {
        Some((first, rest))
            if is_domain_and_port(first) && rest.split('/').all(is_path_component) =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => (String::new(), parts.name.to_string()),
    };
    Ok(Reference {
        domain,
        path,
        tag: parts.tag.map(str::to_string),
        digest: parts.digest.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_table() {
        let cases = [
            (
                "health_image",
                "docker.io/library/health_image:latest",
                "health_image:latest",
            ),
            (
                "health_image:latest",
                "docker.io/library/health_image:latest",
                "health_image:latest",
            ),
            (
                "huqianakls/health_image:latest",
                "docker.io/huqianakls/health_image:latest",
                "huqianakls/health_image:latest",
            ),
            (
                "docker.io/library/httpd",
                "docker.io/library/httpd:latest",
                "httpd:latest",
            ),
            (
                "index.docker.io/library/httpd:2",
                "docker.io/library/httpd:2",
                "httpd:2",
            ),
            (
                "docker.io/httpd",
                "docker.io/library/httpd:latest",
                "httpd:latest",
            ),
            (
                "localhost:5000/x:1",
                "localhost:5000/x:1",
                "localhost:5000/x:1",
            ),
            ("localhost/x", "localhost/x:latest", "localhost/x:latest"),
            (
                "quay.io/a/b/c:v1.0",
                "quay.io/a/b/c:v1.0",
                "quay.io/a/b/c:v1.0",
            ),
            ("a/b/c", "docker.io/a/b/c:latest", "a/b/c:latest"),
            (
                "docker.io/library/a/b",
                "docker.io/library/a/b:latest",
                "library/a/b:latest",
            ),
            (
                "localhost:5000",
                "docker.io/library/localhost:5000",
                "localhost:5000",
            ),
            (
                "my-app__v2.x",
                "docker.io/library/my-app__v2.x:latest",
                "my-app__v2.x:latest",
            ),
            ("[::1]:5000/x:t", "[::1]:5000/x:t", "[::1]:5000/x:t"),
        ];
        for (input, full, familiar) in cases {
            let reference = Reference::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(reference.to_string(), full, "full form of {input}");
            assert_eq!(reference.familiar(), familiar, "familiar form of {input}");
            // Normalising is idempotent.
            assert_eq!(
                Reference::parse(full).unwrap(),
                reference,
                "reparse of {full}"
            );
        }
    }

    #[test]
    fn digest_references_get_no_default_tag() {
        let hex = "b29814cf5792e684cd75d6a7fce7a67a11887e312f87ca2ac2496d81f365ff72";
        let reference = Reference::parse(&format!("health_image@sha256:{hex}")).unwrap();
        assert_eq!(reference.tag(), None);
        assert_eq!(reference.digest(), Some(format!("sha256:{hex}").as_str()));
        assert_eq!(
            reference.to_string(),
            format!("docker.io/library/health_image@sha256:{hex}")
        );
        assert_eq!(reference.familiar(), format!("health_image@sha256:{hex}"));

        let both = Reference::parse(&format!("x:1@sha256:{hex}")).unwrap();
        assert_eq!(both.tag(), Some("1"));
        assert_eq!(both.familiar(), format!("x:1@sha256:{hex}"));
    }

    #[test]
    fn parts_are_split_correctly() {
        let reference = Reference::parse("localhost:5000/team/app:1.2").unwrap();
        assert_eq!(reference.domain(), "localhost:5000");
        assert_eq!(reference.path(), "team/app");
        assert_eq!(reference.tag(), Some("1.2"));
        assert_eq!(reference.name(), "localhost:5000/team/app");
        assert_eq!(reference.familiar_name(), "localhost:5000/team/app");
    }

    #[test]
    fn invalid_references_report_docker_messages() {
        let hex64 = "b29814cf5792e684cd75d6a7fce7a67a11887e312f87ca2ac2496d81f365ff72";
        let cases: Vec<(String, &str)> = vec![
            (
                "Health_Image".into(),
                "invalid reference format: repository name (library/Health_Image) must be lowercase",
            ),
            (
                "localhost:5000/Foo:1".into(),
                "invalid reference format: repository name (Foo) must be lowercase",
            ),
            ("".into(), "invalid reference format"),
            ("x:".into(), "invalid reference format"),
            ("-x".into(), "invalid reference format"),
            ("a//b".into(), "invalid reference format"),
            ("x:tag with space".into(), "invalid reference format"),
            ("x:-tag".into(), "invalid reference format"),
            (format!("x:{}", "t".repeat(129)), "invalid reference format"),
            ("x@sha256:abc".into(), "invalid reference format"),
            (
                format!("x@sha256:{}", "a".repeat(40)),
                "invalid checksum digest length",
            ),
            (
                format!("x@sha256:{}", hex64.to_uppercase()),
                "invalid checksum digest format",
            ),
            (format!("x@md5:{hex64}"), "unsupported digest algorithm"),
            (
                hex64.into(),
                "invalid repository name (b29814cf5792e684cd75d6a7fce7a67a11887e312f87ca2ac2496d81f365ff72), cannot specify 64-byte hexadecimal strings",
            ),
            (
                format!("{}/x", "a".repeat(250)),
                "repository name must not be more than 255 characters",
            ),
        ];
        for (input, message) in cases {
            match Reference::parse(&input) {
                Ok(reference) => panic!("{input:?} parsed as {reference}"),
                Err(error) => assert_eq!(error.to_string(), message, "message for {input:?}"),
            }
        }
    }

    #[test]
    fn strict_parse_reports_uppercase_without_repository() {
        assert_eq!(
            parse_strict("docker.io/library/x:1@sha256:ABCDEF0123456789ABCDEF0123456789zz"),
            Err(ReferenceError::InvalidFormat)
        );
        assert_eq!(
            parse_strict("docker.io/Library/x"),
            Err(ReferenceError::NameContainsUppercase)
        );
    }
}
