//! The report's rows and facts, printed as a table and written as JSON and as an SVG chart.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

/// One measured quantity: samples (or percentiles a tool reported itself, like wrk's).
pub struct Row {
    pub name: String,
    samples: Vec<Duration>,
    reported: Option<(Duration, Duration, usize)>,
}

impl Row {
    pub fn new(name: &str, mut samples: Vec<Duration>) -> Row {
        samples.sort();
        Row {
            name: name.to_string(),
            samples,
            reported: None,
        }
    }

    pub fn reported(name: &str, median: Duration, p99: Duration, n: usize) -> Row {
        Row {
            name: name.to_string(),
            samples: Vec::new(),
            reported: Some((median, p99, n)),
        }
    }

    pub fn count(&self) -> usize {
        self.reported.map_or(self.samples.len(), |(_, _, n)| n)
    }

    pub fn median(&self) -> Duration {
        if let Some((median, _, _)) = self.reported {
            return median;
        }
        self.samples
            .get(self.samples.len() / 2)
            .copied()
            .unwrap_or_default()
    }

    /// The 99th percentile (the maximum for fewer than 100 samples).
    pub fn p99(&self) -> Duration {
        if let Some((_, p99, _)) = self.reported {
            return p99;
        }
        let at = (self.samples.len() * 99).div_ceil(100).saturating_sub(1);
        self.samples.get(at).copied().unwrap_or_default()
    }

    /// The largest sample (the p99 for reported rows).
    pub fn max(&self) -> Duration {
        self.samples.last().copied().unwrap_or_else(|| self.p99())
    }

    fn json(&self) -> Value {
        json!({
            "name": self.name,
            "median_seconds": self.median().as_secs_f64(),
            "p99_seconds": self.p99().as_secs_f64(),
            "max_seconds": self.max().as_secs_f64(),
            "n": self.count(),
        })
    }
}

/// A figure that is not a duration (req/s, KiB per pod, instructions per request).
pub struct Fact {
    pub name: String,
    pub text: String,
    pub value: Value,
}

/// A bar of the chart: a figure next to the alternative it is compared with.
pub struct Comparison {
    pub group: String,
    pub label: String,
    pub value: f64,
    pub unit: String,
}

#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub facts: Vec<Fact>,
    pub comparisons: Vec<Comparison>,
}

impl Report {
    pub fn row(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub fn fact(&mut self, name: impl Into<String>, text: impl Into<String>, value: Value) {
        self.facts.push(Fact {
            name: name.into(),
            text: text.into(),
            value,
        });
    }

    pub fn compare(&mut self, group: &str, label: &str, value: f64, unit: &str) {
        self.comparisons.push(Comparison {
            group: group.into(),
            label: label.into(),
            value,
            unit: unit.into(),
        });
    }

    pub fn print(&self) {
        println!(
            "\n{:<62} {:>12} {:>12} {:>7}",
            "measurement", "median", "p99/max", "n"
        );
        for row in &self.rows {
            println!(
                "{:<62} {:>12} {:>12} {:>7}",
                row.name,
                human(row.median()),
                human(row.p99()),
                row.count()
            );
        }
        println!();
        for fact in &self.facts {
            println!("{}: {}", fact.name, fact.text);
        }
    }

    /// Writes `bench-report.json` and `bench-report.svg` into `dir`.
    pub fn write(&self, dir: &Path) {
        let date = jiff::Zoned::now().date().to_string();
        let report = json!({
            "machine": machine(),
            "date": date,
            "rows": self.rows.iter().map(Row::json).collect::<Vec<Value>>(),
            "facts": self.facts.iter().map(|f| f.value.clone()).collect::<Vec<Value>>(),
        });
        let json_path = dir.join("bench-report.json");
        let svg_path = dir.join("bench-report.svg");
        let title = format!("wasmpod benchmark report, {date}, {}", machine());
        for (path, content) in [
            (
                &json_path,
                serde_json::to_string_pretty(&report).unwrap_or_default(),
            ),
            (&svg_path, crate::chart::svg(&title, &self.comparisons)),
        ] {
            match std::fs::write(path, content) {
                Ok(()) => println!("written to {}", path.display()),
                Err(error) => eprintln!("cannot write {}: {error}", path.display()),
            }
        }
    }
}

pub fn human(d: Duration) -> String {
    match d.as_micros() {
        us if us < 1_000 => format!("{us} µs"),
        us if us < 1_000_000 => format!("{:.2} ms", us as f64 / 1e3),
        us => format!("{:.2} s", us as f64 / 1e6),
    }
}

pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_default();
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| (kib + (1 << 19)) >> 20);
    format!("{cpus} CPUs, {model}, {memory_gib} GiB")
}
