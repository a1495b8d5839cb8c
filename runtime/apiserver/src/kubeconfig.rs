//! The kubeconfig kubectl uses to reach this server.

use base64::Engine;
use serde::Serialize;

const NAME: &str = "wasmpod";

/// A kubeconfig with cluster, user and context `wasmpod` (the current context) for
/// `server_url`; `ca_pem` (the self-signed serving certificate) goes in
/// `certificate-authority-data`, `token` in the user's `token`.
pub fn kubeconfig(server_url: &str, ca_pem: Option<&str>, token: Option<&str>) -> String {
    let config = Config {
        api_version: "v1",
        kind: "Config",
        clusters: vec![Named {
            name: NAME,
            cluster: Cluster {
                server: server_url,
                certificate_authority_data: ca_pem
                    .map(|pem| base64::engine::general_purpose::STANDARD.encode(pem)),
            },
        }],
        contexts: vec![NamedContext {
            name: NAME,
            context: Context {
                cluster: NAME,
                user: NAME,
            },
        }],
        current_context: NAME,
        users: vec![NamedUser {
            name: NAME,
            user: User { token },
        }],
    };
    // Serializing plain strings and lists cannot fail.
    serde_yaml::to_string(&config).unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Config<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    clusters: Vec<Named<'a>>,
    contexts: Vec<NamedContext<'a>>,
    current_context: &'a str,
    users: Vec<NamedUser<'a>>,
}

#[derive(Serialize)]
struct Named<'a> {
    name: &'a str,
    cluster: Cluster<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Cluster<'a> {
    server: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_authority_data: Option<String>,
}

#[derive(Serialize)]
struct NamedContext<'a> {
    name: &'a str,
    context: Context<'a>,
}

#[derive(Serialize)]
struct Context<'a> {
    cluster: &'a str,
    user: &'a str,
}

#[derive(Serialize)]
struct NamedUser<'a> {
    name: &'a str,
    user: User<'a>,
}

#[derive(Serialize)]
struct User<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_everything_wasmpod_and_carries_the_ca_and_token() {
        let text = kubeconfig("https://127.0.0.1:6443", Some("PEM\n"), Some("abc"));
        assert_eq!(
            text,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: wasmpod\n  cluster:\n    server: https://127.0.0.1:6443\n    certificate-authority-data: UEVNCg==\ncontexts:\n- name: wasmpod\n  context:\n    cluster: wasmpod\n    user: wasmpod\ncurrent-context: wasmpod\nusers:\n- name: wasmpod\n  user:\n    token: abc\n"
        );
    }

    #[test]
    fn leaves_out_what_is_not_given() {
        let text = kubeconfig("http://127.0.0.1:8080", None, None);
        let parsed: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(
            parsed["clusters"][0]["cluster"],
            serde_yaml::from_str::<serde_yaml::Value>("server: http://127.0.0.1:8080").unwrap()
        );
        assert_eq!(
            parsed["users"][0]["user"],
            serde_yaml::from_str::<serde_yaml::Value>("{}").unwrap()
        );
        assert_eq!(parsed["current-context"], "wasmpod");
    }
}
