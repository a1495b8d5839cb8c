//! Images for a container start: the kubelet's image manager against the local store
//! (imagePullPolicy, Pulling/Pulled events, ErrImagePull/ImagePullBackOff/ErrImageNeverPull
//! with back-off), then compiling or loading the component.

// tokio's clock: on simulated time a pull takes no time, and prints the same every run.
use tokio::time::Instant;

use wasmpod_images::ImageRecord;

use super::container::ResolvedImage;
use super::pod_worker::{PodWorker, FAILED_SYNC_RETRY};
use super::puller::PullSecrets;
use crate::clock::add;
use crate::events::{EventRecorder, EventType, ObjectRef};

impl PodWorker {
    /// The container's image ready to instantiate, or `None` after recording why not (events,
    /// waiting reason) and scheduling a retry.
    pub(super) async fn ensure_image(&mut self, index: usize) -> Option<ResolvedImage> {
        let now = self.node.clock.now();
        let object = self
            .object
            .with_field_path(self.containers[index].field_path());
        let container = &self.containers[index];
        let image = container.spec.image.clone().unwrap_or_default();
        let policy = container
            .spec
            .image_pull_policy
            .clone()
            .unwrap_or_else(|| "IfNotPresent".into());
        let events = self.node.events.clone();

        // A local lookup is all a pull is for an image built or imported here (see below).
        let looked_up = Instant::now();
        let present = self.node.images.resolve(&image);
        let lookup_took = looked_up.elapsed();
        let present = match present {
            Ok(found) => found,
            Err(error) => {
                events.kubelet(
                    &object,
                    EventType::Warning,
                    "InspectFailed",
                    format!("Failed to apply default image tag \"{image}\": {error}"),
                );
                events.kubelet(
                    &object,
                    EventType::Warning,
                    "Failed",
                    "Error: InvalidImageName",
                );
                self.containers[index].waiting = Some((
                    "InvalidImageName".into(),
                    Some(format!(
                        "Failed to apply default image tag \"{image}\": {error}"
                    )),
                ));
                return None;
            }
        };

        let record = match (policy.as_str(), present) {
            ("Never", None) => {
                let message =
                    format!("Container image \"{image}\" is not present with pull policy of Never");
                events.kubelet(
                    &object,
                    EventType::Warning,
                    "ErrImageNeverPull",
                    message.clone(),
                );
                events.kubelet(
                    &object,
                    EventType::Warning,
                    "Failed",
                    "Error: ErrImageNeverPull",
                );
                self.containers[index].waiting = Some(("ErrImageNeverPull".into(), Some(message)));
                self.schedule_resync(add(now, FAILED_SYNC_RETRY));
                return None;
            }
            ("Never" | "IfNotPresent", Some(record)) => {
                events.kubelet(
                    &object,
                    EventType::Normal,
                    "Pulled",
                    format!("Container image \"{image}\" already present on machine"),
                );
                record
            }
            ("Always", Some(record)) if !record.is_pulled() => {
                // Built or imported here, never pulled: the local store is its registry, and
                // the lookup above was the pull.
                record_pulling(&events, &object, &image);
                record_pulled(
                    &events,
                    &object,
                    &image,
                    lookup_took,
                    lookup_took,
                    record.size,
                );
                record
            }
            _ => self.pull_from_registry(index, &image).await?,
        };

        match self.node.load_image(&record).await {
            Ok(loaded) => {
                let resolved = ResolvedImage {
                    name: record.reference.to_string(),
                    image_id: record.image_id(),
                    loaded,
                };
                self.containers[index].image = Some(resolved.clone());
                Some(resolved)
            }
            Err(error) => {
                let message = error.to_string();
                events.kubelet(
                    &object,
                    EventType::Warning,
                    "Failed",
                    format!("Error: {message}"),
                );
                self.containers[index].waiting =
                    Some(("CreateContainerError".into(), Some(message)));
                self.schedule_resync(add(now, FAILED_SYNC_RETRY));
                None
            }
        }
    }
}

impl PodWorker {
    /// `Always`, or an absent image: pull from its registry (coalesced with other pulls of
    /// the same image), honouring the pull back-off.
    async fn pull_from_registry(&mut self, index: usize, image: &str) -> Option<ImageRecord> {
        let now = self.node.clock.now();
        let object = self
            .object
            .with_field_path(self.containers[index].field_path());
        let events = self.node.events.clone();
        let container = &mut self.containers[index];
        if container.pull_backoff.in_backoff_since_update(now) {
            events.kubelet(
                &object,
                EventType::Normal,
                "BackOff",
                format!("Back-off pulling image \"{image}\""),
            );
            events.kubelet(
                &object,
                EventType::Warning,
                "Failed",
                "Error: ImagePullBackOff",
            );
            let reason = container
                .waiting
                .as_ref()
                .and_then(|(_, message)| message.clone())
                .unwrap_or_default();
            container.waiting = Some((
                "ImagePullBackOff".into(),
                Some(format!(
                    "Back-off pulling image \"{image}\": ErrImagePull: {reason}"
                )),
            ));
            self.schedule_resync(add(now, FAILED_SYNC_RETRY));
            return None;
        }
        let secrets = PullSecrets::of(&self.pod, &self.node.store);
        if !secrets.unusable.is_empty() {
            events.kubelet(
                &self.object,
                EventType::Warning,
                "FailedToRetrieveImagePullSecret",
                format!(
                    "Unable to retrieve some image pull secrets ({}); attempting to pull the image may not succeed.",
                    secrets.unusable.join(", ")
                ),
            );
        }
        record_pulling(&events, &object, image);
        let asked = Instant::now();
        let outcome = self
            .node
            .puller
            .pull(&self.node.images, image, secrets)
            .await;
        match outcome {
            Ok(pulled) => {
                self.containers[index].pull_backoff = Default::default();
                record_pulled(
                    &events,
                    &object,
                    image,
                    pulled.pulled_in,
                    asked.elapsed(),
                    pulled.size,
                );
                Some(pulled.record.clone())
            }
            Err(failure) => {
                let error = failure.kubelet_message(image);
                events.kubelet(
                    &object,
                    EventType::Warning,
                    "Failed",
                    format!("Failed to pull image \"{image}\": {error}"),
                );
                events.kubelet(&object, EventType::Warning, "Failed", "Error: ErrImagePull");
                let now = self.node.clock.now();
                let container = &mut self.containers[index];
                container.pull_backoff.next(now, now);
                container.waiting = Some(("ErrImagePull".into(), Some(error)));
                self.schedule_resync(add(now, FAILED_SYNC_RETRY));
                None
            }
        }
    }
}

fn record_pulling(events: &EventRecorder, object: &ObjectRef, image: &str) {
    events.kubelet(
        object,
        EventType::Normal,
        "Pulling",
        format!("Pulling image \"{image}\""),
    );
}

/// `Pulled` as the kubelet words it: the pull itself, then the time including waiting for
/// other pulls.
fn record_pulled(
    events: &EventRecorder,
    object: &ObjectRef,
    image: &str,
    pulled_in: std::time::Duration,
    total: std::time::Duration,
    size: u64,
) {
    events.kubelet(
        object,
        EventType::Normal,
        "Pulled",
        format!(
            "Successfully pulled image \"{image}\" in {} ({} including waiting). Image size: {size} bytes.",
            go_millis(pulled_in),
            go_millis(total),
        ),
    );
}

/// A Go duration truncated to milliseconds, as the kubelet prints pull times.
fn go_millis(elapsed: std::time::Duration) -> String {
    wasmpod_printers::duration::go_duration(truncate_to_millis(elapsed))
}

fn truncate_to_millis(d: std::time::Duration) -> std::time::Duration {
    std::time::Duration::from_millis(d.as_millis() as u64)
}
