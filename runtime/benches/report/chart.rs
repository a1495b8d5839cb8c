//! The report as an SVG bar chart: one panel per comparison group (wasmpod next to node,
//! `wasmtime serve`, containerd), bars scaled to the group's largest value. Hand-written SVG:
//! no plotting dependency for a few rectangles.

use std::fmt::Write;

use crate::report::Comparison;

const WIDTH: f64 = 760.0;
const LABEL_WIDTH: f64 = 230.0;
const BAR_HEIGHT: f64 = 18.0;
const GAP: f64 = 6.0;
const PALETTE: [&str; 4] = ["#3b6ea8", "#c8553d", "#8a8a8a", "#5b9a5b"];

pub fn svg(title: &str, comparisons: &[Comparison]) -> String {
    let mut groups: Vec<&str> = Vec::new();
    for comparison in comparisons {
        if !groups.contains(&comparison.group.as_str()) {
            groups.push(&comparison.group);
        }
    }
    let mut body = String::new();
    let mut y = 40.0;
    for group in &groups {
        let bars: Vec<&Comparison> = comparisons.iter().filter(|c| c.group == *group).collect();
        let largest = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
        let _ = writeln!(
            body,
            r#"<text x="10" y="{:.0}" font-weight="bold">{}</text>"#,
            y + 12.0,
            escape(group)
        );
        y += 20.0;
        for (i, bar) in bars.iter().enumerate() {
            let scale = if largest > 0.0 {
                bar.value / largest
            } else {
                0.0
            };
            let length = (WIDTH - LABEL_WIDTH - 150.0) * scale;
            let _ = writeln!(
                body,
                r#"<text x="20" y="{:.0}">{}</text><rect x="{LABEL_WIDTH}" y="{:.0}" width="{length:.1}" height="{BAR_HEIGHT}" fill="{}"/><text x="{:.1}" y="{:.0}">{}</text>"#,
                y + 13.0,
                escape(&bar.label),
                y,
                PALETTE[i % PALETTE.len()],
                LABEL_WIDTH + length + 6.0,
                y + 13.0,
                escape(&format_value(bar.value, &bar.unit)),
            );
            y += BAR_HEIGHT + GAP;
        }
        y += 12.0;
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{:.0}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="14" font-weight="bold">{}</text>
{body}</svg>
"#,
        y + 10.0,
        escape(title)
    )
}

fn format_value(value: f64, unit: &str) -> String {
    if value >= 100.0 {
        format!("{value:.0} {unit}")
    } else if value >= 1.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.3} {unit}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
