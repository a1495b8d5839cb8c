//! The kubelet credentialprovider's schemeless-URL matching (`URLsMatch`): same port,
//! same number of host labels each matching as a glob, and the key's path a plain
//! string prefix of the image's path.

/// A schemeless `host[:port][/path]`, split the way Go's `url.Parse("https://" + s)` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemelessUrl {
    pub host: String,
    pub path: String,
}

impl SchemelessUrl {
    pub(crate) fn parse(text: &str) -> SchemelessUrl {
        let text = text.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = match text.find('/') {
            Some(slash) => (&text[..slash], &text[slash..]),
            None => (text, ""),
        };
        let host = authority.rsplit('@').next().unwrap_or_default();
        SchemelessUrl {
            host: host.to_string(),
            path: path.to_string(),
        }
    }

    /// `SplitURL`: host labels and port (empty when absent).
    fn labels_and_port(&self) -> (Vec<&str>, &str) {
        let (host, port) = split_host_port(&self.host);
        (host.split('.').collect(), port)
    }
}

/// Go's `net.SplitHostPort`, falling back to (host, "") as `SplitURL` does on error.
fn split_host_port(host: &str) -> (&str, &str) {
    if let Some(rest) = host.strip_prefix('[') {
        if let Some((inner, after)) = rest.split_once(']') {
            if let Some(port) = after.strip_prefix(':') {
                return (inner, port);
            }
        }
        return (host, "");
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, port),
        _ => (host, ""),
    }
}

pub(crate) fn urls_match(glob: &SchemelessUrl, target: &SchemelessUrl) -> bool {
    let (glob_labels, glob_port) = glob.labels_and_port();
    let (target_labels, target_port) = target.labels_and_port();
    glob_port == target_port
        && glob_labels.len() == target_labels.len()
        && target.path.starts_with(&glob.path)
        && glob_labels
            .iter()
            .zip(&target_labels)
            .all(|(pattern, label)| glob_match(pattern.as_bytes(), label.as_bytes()))
}

/// `filepath.Match` for one host label: `*` (any run) and `?` (one byte); other bytes literal.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| glob_match(rest, &text[skip..])),
        Some((b'?', rest)) => !text.is_empty() && glob_match(rest, &text[1..]),
        Some((byte, rest)) => text.first() == Some(byte) && glob_match(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(glob: &str, target: &str) -> bool {
        urls_match(&SchemelessUrl::parse(glob), &SchemelessUrl::parse(target))
    }

    #[test]
    fn wildcard_labels_match_like_kubelet() {
        assert!(matches("*.kubernetes.io", "prefix.kubernetes.io"));
        assert!(matches("prefix.*.io", "prefix.kubernetes.io"));
        assert!(matches("prefix.kubernetes.*", "prefix.kubernetes.io"));
        assert!(matches("*-good.kubernetes.io", "prefix-good.kubernetes.io"));
        assert!(!matches("*.kubernetes.io", "kubernetes.io"));
        assert!(!matches("*.kubernetes.io", "a.b.kubernetes.io"));
        assert!(!matches("*-bad.kubernetes.io", "prefix-good.kubernetes.io"));
    }

    #[test]
    fn port_must_be_identical() {
        assert!(matches("registry:5000", "registry:5000/app"));
        assert!(!matches("registry", "registry:5000/app"));
        assert!(!matches("registry:5000", "registry/app"));
        assert!(matches("127.0.0.1:5000", "127.0.0.1:5000/app"));
    }

    #[test]
    fn path_is_a_plain_string_prefix() {
        assert!(matches("quay.io/coreos", "quay.io/coreos/etcd"));
        assert!(matches("quay.io/coreos", "quay.io/coreosx/etcd"));
        assert!(!matches("quay.io/coreos/etcd", "quay.io/coreos"));
    }
}
