//! How an instance ended, in the container runtime's terms (exit code + reason).
//!
//! | what happened                                   | exit code | reason      |
//! |-------------------------------------------------|-----------|-------------|
//! | `wasi:cli/exit` with code n                     | n         | Completed if 0, else Error |
//! | `shutdown.stop()` returned n                    | n         | Completed if 0, else Error |
//! | killed (grace period over: the guest has no `shutdown` export, or it did not return) | 137 | Error |
//! | memory limit exceeded                           | 137       | OOMKilled   |
//! | panic (`unreachable` trap, like abort/SIGABRT)  | 134       | Error       |
//! | any other trap (like SIGSEGV)                   | 139       | Error       |

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    Completed,
    Error,
    OomKilled,
}

impl ExitReason {
    /// The `state.terminated.reason` string a CRI runtime reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::Completed => "Completed",
            ExitReason::Error => "Error",
            ExitReason::OomKilled => "OOMKilled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitStatus {
    pub code: i32,
    pub reason: ExitReason,
    /// A short human explanation (the trap message), for `state.terminated.message`.
    pub message: Option<String>,
}

impl ExitStatus {
    pub fn exited(code: i32) -> Self {
        let reason = if code == 0 {
            ExitReason::Completed
        } else {
            ExitReason::Error
        };
        ExitStatus {
            code,
            reason,
            message: None,
        }
    }

    pub fn killed() -> Self {
        ExitStatus::exited(137)
    }

    pub fn oom_killed() -> Self {
        ExitStatus {
            code: 137,
            reason: ExitReason::OomKilled,
            message: None,
        }
    }

    /// Maps an error that came out of the guest to the exit it stands for.
    pub(crate) fn from_guest_error(error: &wasmtime::Error) -> Self {
        if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return ExitStatus::exited(exit.0);
        }
        if error.downcast_ref::<crate::ctx::OomKilled>().is_some() {
            return ExitStatus::oom_killed();
        }
        if error.downcast_ref::<crate::ctx::Killed>().is_some() {
            return ExitStatus::killed();
        }
        let code = match error.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::UnreachableCodeReached) => 134,
            _ => 139,
        };
        ExitStatus {
            code,
            reason: ExitReason::Error,
            message: Some(first_line(&format!("{error:#}"))),
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit code {} ({})", self.code, self.reason.as_str())?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}
