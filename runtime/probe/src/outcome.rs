//! The handler result model of `pkg/probe/probe.go`.

/// `probe.Result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResult {
    Success,
    /// Counts as success for the kubelet, plus a `ProbeWarning` event (unfollowed redirect).
    Warning,
    Failure,
    Unknown,
}

/// What a handler returns: `(probe.Result, output string, error)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOutcome {
    pub result: ProbeResult,
    pub output: String,
    /// A probe *error*: the kubelet retries it up to 3 times, then discards the result.
    pub error: Option<String>,
}

impl ProbeOutcome {
    pub fn success(output: impl Into<String>) -> Self {
        Self::plain(ProbeResult::Success, output)
    }

    pub fn warning(output: impl Into<String>) -> Self {
        Self::plain(ProbeResult::Warning, output)
    }

    pub fn failure(output: impl Into<String>) -> Self {
        Self::plain(ProbeResult::Failure, output)
    }

    /// `return probe.Failure, "", err` (e.g. an HTTP body read error).
    pub fn failure_with_error(error: impl Into<String>) -> Self {
        Self {
            result: ProbeResult::Failure,
            output: String::new(),
            error: Some(error.into()),
        }
    }

    /// `return probe.Unknown, "", err`: what the kubelet's `runProbe` returns when the
    /// request cannot even be built (e.g. a port that does not resolve).
    pub fn unknown_with_error(error: impl Into<String>) -> Self {
        Self {
            result: ProbeResult::Unknown,
            output: String::new(),
            error: Some(error.into()),
        }
    }

    fn plain(result: ProbeResult, output: impl Into<String>) -> Self {
        Self {
            result,
            output: output.into(),
            error: None,
        }
    }
}
