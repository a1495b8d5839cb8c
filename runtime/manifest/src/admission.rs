//! What the API server's admission plugins add to every pod of a plain cluster (Priority,
//! ServiceAccount, DefaultTolerationSeconds), so that objects and `describe` read as they
//! would on a cluster. The service-account token volume is not added: guests get no token.

use k8s_openapi::api::core::v1::{Pod, Toleration};

/// Applies the admission plugins' defaults to a pod being created.
pub fn admit(pod: &mut Pod) {
    admit_with_toleration_seconds(pod, DEFAULT_TOLERATION_SECONDS);
}

/// kube-apiserver's `--default-not-ready-toleration-seconds` and
/// `--default-unreachable-toleration-seconds`.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// [`admit`] with the DefaultTolerationSeconds plugin's period configured.
pub fn admit_with_toleration_seconds(pod: &mut Pod, toleration_seconds: i64) {
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
    spec.priority.get_or_insert(0);
    if spec
        .service_account_name
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        spec.service_account_name = Some("default".into());
    }
    spec.service_account = spec.service_account_name.clone();
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let present = tolerations.iter().any(|t| {
            t.key.as_deref() == Some(key) && t.effect.as_deref().is_none_or(|e| e == "NoExecute")
        });
        if !present {
            tolerations.push(Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                effect: Some("NoExecute".into()),
                toleration_seconds: Some(toleration_seconds),
                value: None,
            });
        }
    }
}
