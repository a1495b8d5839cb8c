//! `wasmpod run FILE... --simulate DURATION [-o json]`: the manifests on simulated time.
//! Prints the event stream as it happens (simulated ages), then the `get pods` table; with
//! `-o json`, one JSON document with the event timeline and the final pods instead.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::Event;
use serde_json::json;
use wasmpod_printers::EventStreamPrinter;

use super::CliError;
use crate::store::Change;
use crate::testing::{Simulation, SimulationError};

pub struct SimulateOptions {
    pub duration: Duration,
    pub json: bool,
    pub seed: u64,
    pub allowed_host_paths: Vec<PathBuf>,
}

pub fn simulate(home: &Path, files: &[PathBuf], options: SimulateOptions) -> Result<(), CliError> {
    // Nothing starts unless every manifest is valid.
    let objects = wasmpod_manifest::load_set(files)?;
    let mut sim = Simulation::builder()
        .home(home)
        .seed(options.seed)
        .allowed_host_paths(options.allowed_host_paths)
        .build()
        .map_err(simulation_error)?;
    let node = sim.node().clone();
    let mut changes = node.store().subscribe();
    sim.apply_set(objects).map_err(simulation_error)?;

    let json = options.json;
    let mut printer = EventStreamPrinter::new();
    let timeline = std::cell::RefCell::new(Vec::new());
    let mut record = |event: &Event| {
        let now = node.clock().now();
        if json {
            timeline.borrow_mut().push(timeline_entry(event, now));
        } else {
            let elapsed = node
                .simulated_time()
                .map(|t| t.elapsed())
                .unwrap_or_default();
            print_out(&with_time_column(&printer.line(event, now), elapsed));
        }
    };
    // Everything that reads the clock runs on the simulation's runtime.
    let output = sim.block_on(async {
        let end = tokio::time::sleep(options.duration);
        tokio::pin!(end);
        loop {
            tokio::select! {
                biased;
                change = changes.recv() => {
                    if let Ok(Change::EventAdded(event) | Change::EventModified(event)) = change {
                        record(&event);
                    }
                }
                _ = &mut end => break,
            }
        }
        while let Ok(change) = changes.try_recv() {
            if let Change::EventAdded(event) | Change::EventModified(event) = change {
                record(&event);
            }
        }
        let pods = node.store().pods(None);
        if json {
            let document = json!({
                "simulated": wasmpod_printers::duration::go_duration(options.duration),
                "events": timeline.take(),
                "pods": pods,
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&document).unwrap_or_default()
            )
        } else {
            format!(
                "\n{}",
                wasmpod_printers::get_pods(&pods, node.clock().now(), false)
            )
        }
    });
    print_out(&output);
    Ok(())
}

/// The stream's lines with the simulated time they were printed at in front: all lines
/// come out at once, so the time is what makes the timeline readable.
fn with_time_column(lines: &str, elapsed: Duration) -> String {
    let stamp = format!("+{}", wasmpod_printers::duration::go_duration(elapsed));
    lines
        .lines()
        .map(|line| {
            let first = if line.starts_with("LAST SEEN") {
                "TIME"
            } else {
                stamp.as_str()
            };
            format!("{first:<10}{line}\n")
        })
        .collect()
}

/// One line of the timeline: the event as it was at that moment.
fn timeline_entry(event: &Event, now: jiff::Timestamp) -> serde_json::Value {
    let object = &event.involved_object;
    json!({
        "time": now.to_string(),
        "type": event.type_,
        "reason": event.reason,
        "object": format!(
            "{}/{}",
            object.kind.as_deref().unwrap_or_default().to_lowercase(),
            object.name.as_deref().unwrap_or_default()
        ),
        "fieldPath": object.field_path,
        "message": event.message,
        "count": event.count.unwrap_or(1),
        "firstTimestamp": event.first_timestamp,
        "lastTimestamp": event.last_timestamp,
    })
}

fn simulation_error(error: SimulationError) -> CliError {
    match error {
        SimulationError::Manifest(error) => CliError::Manifest(error),
        SimulationError::Node(error) => CliError::Node(error),
        other => CliError::Usage(other.to_string()),
    }
}

fn print_out(text: &str) {
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}
