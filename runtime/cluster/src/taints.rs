//! Taints and tolerations (`v1.Toleration.ToleratesTaint`, `v1helper.GetMatchingTolerations`)
//! and the well-known taint keys the node controller manages.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Taint, Toleration};

pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
pub const TAINT_MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
pub const TAINT_DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
pub const TAINT_PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
pub const TAINT_NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";
pub const TAINT_OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";

pub const NO_SCHEDULE: &str = "NoSchedule";
pub const NO_EXECUTE: &str = "NoExecute";

/// `Toleration.ToleratesTaint`: an empty effect matches every effect, an empty key with
/// `Exists` matches every key, `Equal` (or no operator) compares values.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or("");
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or("") {
        "" | "Equal" => {
            toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        "Exists" => true,
        _ => false,
    }
}

pub fn tolerated_by_any(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

/// The first taint (in node order) passing `consider` that no toleration tolerates
/// (`FindMatchingUntoleratedTaint`).
pub fn first_untolerated<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    consider: impl Fn(&Taint) -> bool,
) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|taint| consider(taint))
        .find(|taint| !tolerated_by_any(tolerations, taint))
}

/// `GetMatchingTolerations`: whether every taint is tolerated, and for each taint the first
/// toleration that does.
pub fn matching_tolerations<'a>(
    taints: &[Taint],
    tolerations: &'a [Toleration],
) -> Option<Vec<&'a Toleration>> {
    let mut used = Vec::with_capacity(taints.len());
    for taint in taints {
        used.push(tolerations.iter().find(|t| tolerates(t, taint))?);
    }
    Some(used)
}

/// How long the used tolerations let a pod stay (`getMinTolerationTime`): `None` is forever;
/// no tolerations or a non-positive `tolerationSeconds` means zero.
pub fn min_toleration_time(used: &[&Toleration]) -> Option<Duration> {
    if used.is_empty() {
        return Some(Duration::ZERO);
    }
    let mut minimum: Option<i64> = None;
    for toleration in used {
        if let Some(seconds) = toleration.toleration_seconds {
            if seconds <= 0 {
                return Some(Duration::ZERO);
            }
            minimum = Some(minimum.map_or(seconds, |m| m.min(seconds)));
        }
    }
    minimum.map(|seconds| Duration::from_secs(seconds.unsigned_abs()))
}

/// A taint with this key and effect and no value (the node controller's templates).
pub fn template(key: &str, effect: &str) -> Taint {
    Taint {
        key: key.to_string(),
        effect: effect.to_string(),
        value: None,
        time_added: None,
    }
}

/// `Taint.MatchTaint`: same key and effect.
pub fn same_taint(a: &Taint, b: &Taint) -> bool {
    a.key == b.key && a.effect == b.effect
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toleration(key: &str, operator: &str, value: &str, effect: &str) -> Toleration {
        let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Toleration {
            key: text(key),
            operator: text(operator),
            value: text(value),
            effect: text(effect),
            toleration_seconds: None,
        }
    }

    fn taint(key: &str, value: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: (!value.is_empty()).then(|| value.to_string()),
            effect: effect.into(),
            time_added: None,
        }
    }

    #[test]
    fn toleration_matching_follows_upstream() {
        let gpu = taint("gpu", "true", NO_SCHEDULE);
        assert!(tolerates(
            &toleration("gpu", "Equal", "true", "NoSchedule"),
            &gpu
        ));
        assert!(tolerates(&toleration("gpu", "", "true", ""), &gpu));
        assert!(!tolerates(&toleration("gpu", "Equal", "false", ""), &gpu));
        assert!(tolerates(&toleration("gpu", "Exists", "", ""), &gpu));
        assert!(tolerates(&toleration("", "Exists", "", ""), &gpu));
        assert!(!tolerates(&toleration("", "Exists", "", "NoExecute"), &gpu));
        assert!(!tolerates(&toleration("other", "Exists", "", ""), &gpu));
    }

    #[test]
    fn min_toleration_time_cases() {
        let mut a = toleration("a", "Exists", "", "");
        let mut b = toleration("b", "Exists", "", "");
        assert_eq!(min_toleration_time(&[&a, &b]), None);
        a.toleration_seconds = Some(300);
        b.toleration_seconds = Some(20);
        assert_eq!(
            min_toleration_time(&[&a, &b]),
            Some(Duration::from_secs(20))
        );
        b.toleration_seconds = Some(-1);
        assert_eq!(min_toleration_time(&[&a, &b]), Some(Duration::ZERO));
        assert_eq!(min_toleration_time(&[]), Some(Duration::ZERO));
    }
}
