//! Container image references, parsed like `github.com/distribution/reference`
//! `ParseNormalizedNamed` (used by the API server's `SetDefaults_Container` through
//! `parsers.ParseImageName`). Only what defaulting needs: whether there is a tag
//! and/or a digest. A `:` in the registry host (`localhost:5000/app`) is a port,
//! not a tag.

/// The parts of a successfully parsed reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageReference {
    /// Fully-qualified repository, e.g. `docker.io/library/httpd`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageReference {
    /// The tag the runtime pulls: the explicit one, or `latest` when there is
    /// neither a tag nor a digest (`parsers.ParseImageName`).
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => Some(tag),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }
}

const DEFAULT_DOMAIN: &str = "docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const MAX_NAME_LENGTH: usize = 255;

/// Parses `image` the way the API server does; `Err` carries the reason.
pub fn parse_image_reference(image: &str) -> Result<ImageReference, String> {
    if image.is_empty() {
        return Err("repository name must have at least one component".to_owned());
    }
    if image.len() == 64 && image.bytes().all(is_lower_hex) {
        return Err(format!(
            "invalid repository name ({image}), cannot specify 64-byte hexadecimal strings"
        ));
    }

    let (name_and_tag, digest) = match image.split_once('@') {
        Some((rest, digest)) => {
            validate_digest(digest)?;
            (rest, Some(digest.to_owned()))
        }
        None => (image, None),
    };

    // A tag is a ':' after the last '/'; earlier colons belong to the registry host.
    let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_and_tag[last_slash..].find(':') {
        Some(i) => {
            let split = last_slash + i;
            let tag = &name_and_tag[split + 1..];
            if !is_valid_tag(tag) {
                return Err("invalid reference format".to_owned());
            }
            (&name_and_tag[..split], Some(tag.to_owned()))
        }
        None => (name_and_tag, None),
    };

    let (domain, remote) = split_domain(name);
    if let Some(domain) = domain {
        if !is_valid_domain(domain) {
            return Err("invalid reference format".to_owned());
        }
    }
    if remote.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err("invalid reference format: repository name must be lowercase".to_owned());
    }
    if !remote.split('/').all(is_valid_path_component) {
        return Err("invalid reference format".to_owned());
    }

    let domain = domain.unwrap_or(DEFAULT_DOMAIN);
    let remote = if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        format!("{OFFICIAL_REPO_PREFIX}{remote}")
    } else {
        remote.to_owned()
    };
    let repository = format!("{domain}/{remote}");
    if repository.len() > MAX_NAME_LENGTH {
        return Err(format!(
            "repository name must not be more than {MAX_NAME_LENGTH} characters"
        ));
    }
    Ok(ImageReference {
        repository,
        tag,
        digest,
    })
}

/// `SetDefaults_Container`: `Always` when the pulled tag is `latest`, otherwise
/// `IfNotPresent` (including references that fail to parse).
pub fn default_image_pull_policy(image: &str) -> &'static str {
    match parse_image_reference(image) {
        Ok(reference) if reference.effective_tag() == Some("latest") => "Always",
        _ => "IfNotPresent",
    }
}

/// distribution's `splitDockerDomain`: the first component is a registry host only
/// if it looks like one (has `.` or `:`, is `localhost`, or has upper-case letters).
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// `[\w][\w.-]{0,127}`
fn is_valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(&bytes[0])
        && bytes[1..]
            .iter()
            .all(|b| word(b) || *b == b'.' || *b == b'-')
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = separator == "."
            || separator == "_"
            || separator == "__"
            || separator.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `domain-component(.domain-component)*(:port)?` or a bracketed IPv6 address.
fn is_valid_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return false;
        };
        if ip.is_empty() || !ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        (None, port)
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(domain), None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    match host {
        None => true,
        Some(host) => host.split('.').all(|component| {
            let bytes = component.as_bytes();
            !bytes.is_empty()
                && bytes[0].is_ascii_alphanumeric()
                && bytes[bytes.len() - 1].is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }),
    }
}

/// go-digest: `algorithm:hex`, with the length fixed by the (registered) algorithm.
fn validate_digest(digest: &str) -> Result<(), String> {
    let (algorithm, encoded) = digest
        .split_once(':')
        .ok_or_else(|| "invalid checksum digest format".to_owned())?;
    let expected_len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err("unsupported digest algorithm".to_owned()),
    };
    if encoded.len() != expected_len || !encoded.bytes().all(is_lower_hex) {
        return Err("invalid checksum digest length".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn pull_policy_defaults() {
        let cases = [
            ("httpd", "Always"),
            ("httpd:latest", "Always"),
            ("huqianakls/health_image:latest", "Always"),
            ("httpd:2.4", "IfNotPresent"),
            ("localhost:5000/app", "Always"),
            ("localhost:5000/app:v1", "IfNotPresent"),
            ("registry.example.com:443/team/app:latest", "Always"),
            ("registry.example.com/team/app", "Always"),
            (&format!("httpd@{DIGEST}"), "IfNotPresent"),
            (&format!("httpd:latest@{DIGEST}"), "Always"),
            (&format!("httpd:2.4@{DIGEST}"), "IfNotPresent"),
            // Unparseable references get IfNotPresent, like the API server.
            ("Httpd", "IfNotPresent"),
            ("", "IfNotPresent"),
            ("httpd@sha256:abc", "IfNotPresent"),
            ("app:", "IfNotPresent"),
        ];
        for (image, expected) in cases {
            assert_eq!(
                default_image_pull_policy(image),
                expected,
                "image {image:?}"
            );
        }
    }

    #[test]
    fn normalizes_repository() {
        let reference = parse_image_reference("httpd").unwrap();
        assert_eq!(reference.repository, "docker.io/library/httpd");
        let reference = parse_image_reference("localhost:5000/x:1").unwrap();
        assert_eq!(reference.repository, "localhost:5000/x");
        assert_eq!(reference.tag.as_deref(), Some("1"));
        let reference = parse_image_reference("[::1]:5000/x").unwrap();
        assert_eq!(reference.repository, "[::1]:5000/x");
        assert_eq!(reference.tag, None);
        let reference = parse_image_reference("Registry.Example/x").unwrap();
        assert_eq!(reference.repository, "Registry.Example/x");
    }
}
