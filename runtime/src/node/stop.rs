//! Stopping a container: killContainer with its preStop hook and grace period.

use std::time::Duration;

use super::hooks;
use super::pod_worker::PodWorker;
use crate::events::EventType;

/// The kubelet floors every kill's grace period at this (minimumGracePeriodInSeconds).
const MINIMUM_GRACE: Duration = Duration::from_secs(2);

impl PodWorker {
    /// killContainer: Killing event, the preStop hook (its time counts against the grace
    /// period), stop (SIGTERM), kill when the grace period is over.
    pub(super) fn kill(&mut self, index: usize, message: String, grace_seconds: i64) {
        let object = self
            .object
            .with_field_path(self.containers[index].field_path());
        let hook_context = self.hook_context(index);
        let Some(running) = self.containers[index].running.as_mut() else {
            return;
        };
        self.node
            .events
            .kubelet(&object, EventType::Normal, "Killing", message);
        running.stopping = true;
        let stop_accepting = running
            .listeners
            .as_ref()
            .map(|listeners| listeners.accept_stopper())
            .unwrap_or_default();
        let pre_stop = hook_context
            .container
            .lifecycle
            .as_ref()
            .and_then(|l| l.pre_stop.clone());
        let grace = Duration::from_secs(grace_seconds.max(0) as u64).max(MINIMUM_GRACE);
        let instance = running.instance.clone();
        let clock = self.node.clock.clone();
        let events = self.node.events.clone();
        tokio::spawn(async move {
            let mut remaining = grace;
            if let Some(handler) = pre_stop {
                let started = clock.now();
                let outcome = tokio::select! {
                    outcome = hooks::run(&handler, &hook_context, grace) => Some(outcome),
                    _ = instance.wait() => None,
                    _ = clock.sleep(grace) => None,
                };
                if let Some(Err(message)) = outcome {
                    events.kubelet(&object, EventType::Warning, "FailedPreStopHook", message);
                }
                remaining = grace
                    .saturating_sub(crate::clock::since(clock.now(), started))
                    .max(MINIMUM_GRACE);
            }
            for accept_loop in stop_accepting {
                accept_loop.abort();
            }
            instance.stop();
            tokio::select! {
                _ = instance.wait() => {}
                _ = clock.sleep(remaining) => instance.kill(),
            }
        });
    }

    pub(super) fn hook_context(&self, index: usize) -> hooks::HookContext {
        hooks::HookContext {
            container: self.containers[index].spec.clone(),
            pod_ip: self.ip.address,
            pod_desc: format!(
                "{}_{}({})",
                self.object.name, self.object.namespace, self.object.uid
            ),
            clock: self.node.clock.clone(),
            network: self.node.network.probe_network(),
            pod_worker: self.tx.clone(),
        }
    }
}
