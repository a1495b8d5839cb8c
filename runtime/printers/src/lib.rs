//! wasmpod-printers: pure functions that print Kubernetes objects exactly like kubectl 1.33.
//!
//! * [`get_pods`] — `kubectl get pods [-o wide]` (server-side `printPod` + client tabwriter);
//! * [`describe_pod`] — `kubectl describe pod` (client-side `describe.go`);
//! * [`get_events`] / [`EventStreamPrinter`] — `kubectl get events [-w]`;
//! * [`duration`] — `HumanDuration` and Go's `time.Duration.String()`;
//! * [`tabwriter`] — a port of Go's `text/tabwriter` (with liggitt's `RememberWidths`).
//!
//! Every age is computed against the caller's `now`, so output is deterministic.

pub mod duration;
pub mod tabwriter;

mod describe;
mod events;
mod pods;
mod qos;
mod quantity;
mod table;
mod text;

pub use describe::{describe_pod, describe_probe, event_interval, events_for_pod};
pub use events::{event_cells, get_events, EventStreamPrinter};
pub use pods::{get_pods, pod_row, PodRow};
pub use qos::{compute_pod_qos, pod_qos};
pub use text::{age_since, micro_age_since, rfc1123z};
