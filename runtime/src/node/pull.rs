//! Images for a container start: the kubelet's image manager against the local store
//! (imagePullPolicy, Pulling/Pulled events, ErrImagePull/ImagePullBackOff/ErrImageNeverPull
//! with back-off), then compiling or loading the component.

// tokio's clock: on simulated time a pull takes no time, and prints the same every run.
use tokio::time::Instant;

use super::container::ResolvedImage;
use super::pod_worker::{PodWorker, FAILED_SYNC_RETRY};
use crate::clock::add;
use crate::events::EventType;

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

        let present = match self.node.images.resolve(&image) {
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
            _ => {
                // Always, or absent: "pull" (re-resolve the tag in the local store).
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
                events.kubelet(
                    &object,
                    EventType::Normal,
                    "Pulling",
                    format!("Pulling image \"{image}\""),
                );
                let started = Instant::now();
                let resolved = self.node.images.resolve(&image).ok().flatten();
                let elapsed =
                    wasmpod_printers::duration::go_duration(truncate_to_millis(started.elapsed()));
                match resolved {
                    Some(record) => {
                        self.containers[index].pull_backoff = Default::default();
                        events.kubelet(
                            &object,
                            EventType::Normal,
                            "Pulled",
                            format!(
                                "Successfully pulled image \"{image}\" in {elapsed} ({elapsed} including waiting). Image size: {} bytes.",
                                record.size
                            ),
                        );
                        record
                    }
                    None => {
                        let reference = wasmpod_images::Reference::parse(&image)
                            .map(|r| r.to_string())
                            .unwrap_or_else(|_| image.clone());
                        let error = format!(
                            "rpc error: code = NotFound desc = failed to pull and unpack image \"{reference}\": \
                             not found in the local image store (see `wasmpod image ls`; registries are not supported yet)"
                        );
                        events.kubelet(
                            &object,
                            EventType::Warning,
                            "Failed",
                            format!("Failed to pull image \"{image}\": {error}"),
                        );
                        events.kubelet(
                            &object,
                            EventType::Warning,
                            "Failed",
                            "Error: ErrImagePull",
                        );
                        let container = &mut self.containers[index];
                        container.pull_backoff.next(now, now);
                        container.waiting = Some(("ErrImagePull".into(), Some(error)));
                        self.schedule_resync(add(now, FAILED_SYNC_RETRY));
                        return None;
                    }
                }
            }
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

fn truncate_to_millis(d: std::time::Duration) -> std::time::Duration {
    std::time::Duration::from_millis(d.as_millis() as u64)
}
