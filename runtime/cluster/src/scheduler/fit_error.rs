//! The text of a scheduling failure (`framework.FitError.Error`, with the DefaultPreemption
//! post-filter's own FitError appended). Upstream's separator `" %v."` is applied to the
//! post-filter message that already ends in a period, hence the `..` real clusters show.

use std::collections::BTreeMap;

use super::filters::Rejection;

const PREEMPTION_NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

/// Message when the cluster has no nodes at all (`ErrNoNodesAvailable`).
pub(crate) const NO_NODES_AVAILABLE: &str = "no nodes available to schedule pods";

/// `0/<n> nodes are available: <histogram>. preemption: …` for a pod every node rejected.
pub(crate) fn fit_error_message(rejections: &[Rejection], preemption_never: bool) -> String {
    let total = rejections.len();
    let reasons = rejections
        .iter()
        .flat_map(|r| r.reasons.iter().map(String::as_str));
    let mut message = format!("0/{total} nodes are available: {}.", histogram(reasons));
    let post_filter = if preemption_never {
        "preemption: not eligible due to preemptionPolicy=Never.".to_string()
    } else {
        format!("preemption: {}", preemption_fit_error(rejections))
    };
    message.push_str(&format!(" {post_filter}."));
    message
}

/// DefaultPreemption's FitError: nodes that only a resolvable filter rejected were dry-run
/// (no lower-priority victims: this scheduler does not preempt); the rest are not helped.
fn preemption_fit_error(rejections: &[Rejection]) -> String {
    let total = rejections.len();
    let reasons = rejections.iter().map(|r| {
        if r.resolvable {
            NO_VICTIMS
        } else {
            PREEMPTION_NOT_HELPFUL
        }
    });
    format!("0/{total} nodes are available: {}.", histogram(reasons))
}

/// `"<count> <reason>"` entries, sorted as strings and joined by `", "`.
fn histogram<'a>(reasons: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for reason in reasons {
        *counts.entry(reason).or_default() += 1;
    }
    let mut entries: Vec<String> = counts
        .into_iter()
        .map(|(reason, count)| format!("{count} {reason}"))
        .collect();
    entries.sort();
    entries.join(", ")
}

/// Event notes are capped at 1024 bytes (`truncateMessage`).
pub(crate) fn truncate_event_message(message: &str) -> String {
    const LIMIT: usize = 1024;
    const SUFFIX: &str = " ...";
    if message.len() <= LIMIT {
        return message.to_string();
    }
    let mut end = LIMIT - SUFFIX.len();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{SUFFIX}", &message[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection(reasons: &[&str], resolvable: bool) -> Rejection {
        Rejection {
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
            resolvable,
        }
    }

    #[test]
    fn mixes_taints_and_resources_like_upstream() {
        let message = fit_error_message(
            &[
                rejection(
                    &["node(s) had untolerated taint {node.kubernetes.io/unreachable: }"],
                    false,
                ),
                rejection(&["Insufficient cpu"], true),
                rejection(&["Insufficient cpu"], true),
            ],
            false,
        );
        assert_eq!(
            message,
            "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, \
             2 Insufficient cpu. preemption: 0/3 nodes are available: \
             1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.."
        );
    }

    #[test]
    fn counts_sort_as_strings() {
        let mut rejections = vec![rejection(&["b"], false); 10];
        rejections.push(rejection(&["a"], false));
        rejections.push(rejection(&["a"], false));
        let message = fit_error_message(&rejections, true);
        assert_eq!(
            message,
            "0/12 nodes are available: 10 b, 2 a. preemption: not eligible due to preemptionPolicy=Never.."
        );
    }

    #[test]
    fn truncates_long_event_messages() {
        let long = "x".repeat(2000);
        let truncated = truncate_event_message(&long);
        assert_eq!(truncated.len(), 1024);
        assert!(truncated.ends_with(" ..."));
    }
}
