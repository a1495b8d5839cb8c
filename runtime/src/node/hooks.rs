//! Container lifecycle hooks (`lifecycle.postStart` / `preStop`): httpGet, exec and sleep,
//! with the kubelet's failure messages (pkg/kubelet/lifecycle/handlers.go).

use std::net::Ipv4Addr;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, LifecycleHandler};
use tokio::sync::{mpsc, oneshot};
use wasmpod_probe::{HttpGetRequest, ProbeResult};

use super::exec::{ExecOutcome, ExecRequest};
use super::PodMessage;
use crate::clock::SharedClock;

/// What a hook needs, detached from the pod worker so it can run in a task of its own.
#[derive(Clone)]
pub(super) struct HookContext {
    pub container: Container,
    pub pod_ip: Ipv4Addr,
    /// `name_namespace(uid)`, as format.Pod prints it.
    pub pod_desc: String,
    pub clock: SharedClock,
    /// Where httpGet hooks connect.
    pub network: wasmpod_probe::Network,
    /// Exec hooks run through the pod worker, like exec probes.
    pub pod_worker: mpsc::UnboundedSender<PodMessage>,
}

/// Runs `handler`; `Err` carries the message of the FailedPostStartHook / FailedPreStopHook
/// event.
pub(super) async fn run(
    handler: &LifecycleHandler,
    context: &HookContext,
    timeout: Duration,
) -> Result<(), String> {
    let container = &context.container.name;
    let pod = &context.pod_desc;
    if let Some(action) = &handler.exec {
        let command = action.command.clone().unwrap_or_default();
        let (reply, answer) = oneshot::channel();
        let request = ExecRequest {
            container: container.clone(),
            argv: command.clone(),
            timeout,
            reply,
        };
        let outcome = match context.pod_worker.send(PodMessage::Exec(request)) {
            Ok(()) => answer
                .await
                .unwrap_or(ExecOutcome::Failed("the pod is gone".into())),
            Err(_) => ExecOutcome::Failed("the pod is gone".into()),
        };
        let (error, output) = match outcome {
            ExecOutcome::Exited { code: 0, .. } => return Ok(()),
            ExecOutcome::Exited { code, output } => (
                format!(
                    "command '{}' exited with {code}: {output}",
                    command.join(" ")
                ),
                output,
            ),
            ExecOutcome::TimedOut => (
                format!("command '{}' timed out", command.join(" ")),
                String::new(),
            ),
            ExecOutcome::Failed(error) => (error, String::new()),
        };
        return Err(format!(
            "Exec lifecycle hook ([{}]) for Container {container:?} in Pod {pod:?} failed - error: {error}, message: {output:?}",
            command.join(" ")
        ));
    }
    if let Some(action) = &handler.http_get {
        let path = action.path.clone().unwrap_or_default();
        let failed = |error: String| {
            Err(format!(
                "HTTP lifecycle hook ({path}) for Container {container:?} in Pod {pod:?} failed - error: {error}"
            ))
        };
        let request =
            match HttpGetRequest::new(action, &context.pod_ip.to_string(), &context.container) {
                Ok(request) => request,
                Err(error) => return failed(error),
            };
        let outcome = wasmpod_probe::http_get(&request, timeout, &context.network).await;
        return match (outcome.result, outcome.error) {
            (_, Some(error)) => failed(error),
            (ProbeResult::Success | ProbeResult::Warning, None) => Ok(()),
            (_, None) => failed(outcome.output),
        };
    }
    if let Some(action) = &handler.sleep {
        context
            .clock
            .sleep(Duration::from_secs(action.seconds.max(0) as u64))
            .await;
        return Ok(());
    }
    Err(format!(
        "Lifecycle hook for Container {container:?} in Pod {pod:?} has no supported handler (exec, httpGet or sleep)"
    ))
}
