//! The distribution/reference grammar, matched by hand (no regex engine needed):
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [domain '/'] path-component ['/' path-component]*
//! domain           := host [':' port-number]
//! host             := domain-name | '[' ipv6 ']'
//! domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//! path-component   := /[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*/
//! tag              := /[\w][\w.-]{0,127}/
//! digest           := /[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}/
//! ```

use crate::reference::ReferenceError;

const TAG_MAX_LEN: usize = 128;
const DIGEST_HEX_MIN_LEN: usize = 32;

/// The three parts of a string that matches the whole reference grammar.
pub(crate) struct ReferenceParts<'a> {
    pub name: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Splits `input` into its parts if (and only if) it matches the reference grammar.
pub(crate) fn split_reference(input: &str) -> Option<ReferenceParts<'_>> {
    let (before_digest, digest) = match input.split_once('@') {
        Some((left, digest)) => (left, Some(digest)),
        None => (input, None),
    };
    if digest.is_some_and(|digest| !is_digest(digest)) {
        return None;
    }
    // A ':' followed by no '/' cannot be a port, so it must start the tag.
    let (name, tag) = match before_digest.rfind(':') {
        Some(colon) if !before_digest[colon + 1..].contains('/') => {
            (&before_digest[..colon], Some(&before_digest[colon + 1..]))
        }
        _ => (before_digest, None),
    };
    if tag.is_some_and(|tag| !is_tag(tag)) || !is_name(name) {
        return None;
    }
    Some(ReferenceParts { name, tag, digest })
}

fn is_name(name: &str) -> bool {
    let components: Vec<&str> = name.split('/').collect();
    if components.iter().all(|c| is_path_component(c)) {
        return true;
    }
    components.len() >= 2
        && is_domain_and_port(components[0])
        && components[1..].iter().all(|c| is_path_component(c))
}

pub(crate) fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    // Every run of non-alphanumerics must be one separator: '.', '_', '__' or '-'+.
    let mut index = 0;
    while index < bytes.len() {
        if is_alnum(bytes[index]) {
            index += 1;
            continue;
        }
        let start = index;
        while index < bytes.len() && !is_alnum(bytes[index]) {
            index += 1;
        }
        let separator = &component[start..index];
        let valid = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !valid {
            return false;
        }
    }
    true
}

pub(crate) fn is_domain_and_port(domain: &str) -> bool {
    let (host, port) = split_port(domain);
    let host_ok = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.strip_suffix(']').is_some_and(|address| {
            !address.is_empty() && address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
        }),
        None => host.split('.').all(is_domain_component),
    };
    let port_ok =
        port.is_none_or(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// Splits `host[:port]`, where the host may be a bracketed IPv6 address full of colons.
fn split_port(domain: &str) -> (&str, Option<&str>) {
    let host_end = match domain.starts_with('[') {
        true => domain.find(']').map_or(domain.len(), |bracket| bracket + 1),
        false => domain.find(':').unwrap_or(domain.len()),
    };
    let (host, rest) = domain.split_at(host_end);
    match rest.strip_prefix(':') {
        Some(port) => (host, Some(port)),
        // Anything else after an IPv6 address makes the host invalid.
        None if rest.is_empty() => (host, None),
        None => (domain, None),
    }
}

fn is_domain_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

fn is_tag(tag: &str) -> bool {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= TAG_MAX_LEN
        && is_word(bytes[0])
        && bytes
            .iter()
            .all(|b| is_word(*b) || *b == b'.' || *b == b'-')
}

fn is_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['-', '_', '+', '.']).all(|component| {
        let bytes = component.as_bytes();
        !bytes.is_empty()
            && bytes[0].is_ascii_alphabetic()
            && bytes.iter().all(u8::is_ascii_alphanumeric)
    });
    algorithm_ok && hex.len() >= DIGEST_HEX_MIN_LEN && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest `Digest.Validate` for a string that already matches the digest grammar.
pub(crate) fn validate_digest(digest: &str) -> Result<(), ReferenceError> {
    let (algorithm, hex) = digest
        .split_once(':')
        .ok_or(ReferenceError::InvalidDigestFormat)?;
    let expected_len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(ReferenceError::UnsupportedDigestAlgorithm),
    };
    if hex.len() != expected_len {
        return Err(ReferenceError::InvalidDigestLength);
    }
    if !is_lower_hex(hex) {
        return Err(ReferenceError::InvalidDigestFormat);
    }
    Ok(())
}

/// `anchoredIdentifierRegexp`: a bare 64-character image ID is never a repository name.
pub fn is_full_hex_identifier(input: &str) -> bool {
    input.len() == 64 && is_lower_hex(input)
}

pub fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_components() {
        for valid in ["a", "a.b", "a_b", "a__b", "a---b", "0x", "a.b_c-d"] {
            assert!(is_path_component(valid), "{valid}");
        }
        for invalid in ["", "A", "a..b", "a___b", "_a", "a-", "a._b", "a b"] {
            assert!(!is_path_component(invalid), "{invalid}");
        }
    }

    #[test]
    fn domains() {
        for valid in [
            "docker.io",
            "localhost:5000",
            "a-b.c",
            "[::1]",
            "[fe80::1]:443",
            "Foo",
        ] {
            assert!(is_domain_and_port(valid), "{valid}");
        }
        for invalid in [
            "", "a_b", "-a.b", "a.:1", "host:", "host:x", "[]", "[::1]x", "a..b",
        ] {
            assert!(!is_domain_and_port(invalid), "{invalid}");
        }
    }
}
