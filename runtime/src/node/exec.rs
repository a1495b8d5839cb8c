//! Commands "inside the container" for exec probes: the kubelet's ExecSync.
//!
//! - A wasi:http container answers through its `wasmpod:container/exec` export, called in the
//!   running instance between requests.
//! - A program (command component) gets a fresh instance of its image with the command as
//!   argv and the container's env, as `docker exec` starts a new process.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use wasmpod_engine::{ImageKind, Instance, LogSink, LogStream};

use super::pod_worker::PodWorker;

/// The kubelet keeps this much of an exec's output (pkg/probe/exec maxReadLength).
pub const MAX_EXEC_OUTPUT: usize = 10 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecOutcome {
    Exited { code: i32, output: String },
    TimedOut,
    Failed(String),
}

pub(crate) struct ExecRequest {
    pub container: String,
    pub argv: Vec<String>,
    pub timeout: Duration,
    pub reply: oneshot::Sender<ExecOutcome>,
}

impl PodWorker {
    /// Starts the command without holding up the pod worker; the answer goes to `reply`.
    pub(super) fn exec(&self, request: ExecRequest) {
        let Some(container) = self
            .containers
            .iter()
            .find(|c| c.name() == request.container)
        else {
            let _ = request.reply.send(ExecOutcome::Failed(format!(
                "container {} not found",
                request.container
            )));
            return;
        };
        let (Some(running), Some(image)) = (&container.running, &container.image) else {
            let _ = request
                .reply
                .send(ExecOutcome::Failed("container is not running".into()));
            return;
        };
        let clock = self.node.clock.clone();
        let ExecRequest {
            argv,
            timeout,
            reply,
            ..
        } = request;
        match image.loaded.kind() {
            ImageKind::Http => {
                let instance = running.instance.clone();
                tokio::spawn(async move {
                    let outcome = tokio::select! {
                        result = instance.exec(argv) => match result {
                            Ok(output) => ExecOutcome::Exited {
                                code: i32::from(output.exit_code),
                                output: truncate(output.output),
                            },
                            Err(error) => ExecOutcome::Failed(error.to_string()),
                        },
                        _ = clock.sleep(timeout) => ExecOutcome::TimedOut,
                    };
                    let _ = reply.send(outcome);
                });
            }
            ImageKind::Command => {
                let capture = Arc::new(Capture::default());
                let index = self
                    .containers
                    .iter()
                    .position(|c| c.name() == container.name())
                    .expect("found above");
                let config = match self.instance_config(
                    index,
                    running.root.clone(),
                    Some(argv),
                    capture.clone(),
                ) {
                    Ok(config) => config,
                    Err(error) => {
                        let _ = reply.send(ExecOutcome::Failed(error));
                        return;
                    }
                };
                let instance = Instance::spawn(&image.loaded, config);
                tokio::spawn(async move {
                    let outcome = tokio::select! {
                        status = instance.wait() => ExecOutcome::Exited {
                            code: status.code,
                            output: capture.output(),
                        },
                        _ = clock.sleep(timeout) => {
                            instance.kill();
                            ExecOutcome::TimedOut
                        }
                    };
                    let _ = reply.send(outcome);
                });
            }
        }
    }
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_EXEC_OUTPUT {
        let mut end = MAX_EXEC_OUTPUT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Collects an exec's stdout and stderr (each capped), reported stdout first.
#[derive(Default)]
struct Capture {
    streams: Mutex<(Vec<u8>, Vec<u8>)>,
}

impl Capture {
    fn output(&self) -> String {
        let streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        let mut bytes = streams.0.clone();
        bytes.extend_from_slice(&streams.1);
        truncate(String::from_utf8_lossy(&bytes).into_owned())
    }
}

impl LogSink for Capture {
    fn write(&self, stream: LogStream, bytes: &[u8]) {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        let buffer = match stream {
            LogStream::Stdout => &mut streams.0,
            LogStream::Stderr => &mut streams.1,
        };
        let room = MAX_EXEC_OUTPUT.saturating_sub(buffer.len());
        buffer.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

/// The kubelet's `ExpandContainerCommandOnlyStatic`: `$(VAR)` from the container's literal
/// env values, `$$` for a literal `$`, unknown references left as they are.
pub fn expand(argument: &str, env: &[(String, String)]) -> String {
    let mut out = String::with_capacity(argument.len());
    let mut rest = argument;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
        } else if let Some(reference) = after.strip_prefix('(').and_then(|r| r.split_once(')')) {
            let (name, tail) = reference;
            match env.iter().rev().find(|(key, _)| key == name) {
                Some((_, value)) => out.push_str(value),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn expands_static_references_like_the_kubelet() {
        let env = vec![("FILE".to_string(), "/tmp/healthy".to_string())];
        assert_eq!(expand("cat $(FILE)", &env), "cat /tmp/healthy");
        assert_eq!(expand("$$(FILE)", &env), "$(FILE)");
        assert_eq!(expand("$(MISSING)", &env), "$(MISSING)");
        assert_eq!(expand("cost: $5", &env), "cost: $5");
    }
}
