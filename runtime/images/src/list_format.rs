//! `docker image ls` table output.

use crate::go_units::{human_duration, human_size};
use crate::store::ImageRecord;

const HEADERS: [&str; 5] = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"];
/// Docker's table writer: `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`.
const MIN_CELL_WIDTH: usize = 10;
const PADDING: usize = 3;
const NONE: &str = "<none>";

/// The `docker image ls` table for `records`, in the given order, ages relative to `now`.
pub fn format_image_list(records: &[ImageRecord], now: jiff::Timestamp) -> String {
    let mut rows = vec![HEADERS.map(str::to_string)];
    rows.extend(records.iter().map(|record| {
        [
            record.reference.familiar_name(),
            record.reference.tag().unwrap_or(NONE).to_string(),
            record.short_id(),
            format!("{} ago", human_duration(now.duration_since(record.created))),
            human_size(record.size),
        ]
    }));
    align_columns(&rows)
}

/// Pads every column but the last to its widest cell plus padding, like Go's tabwriter.
fn align_columns<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width)
                .max(cell.chars().count() + PADDING)
                .max(MIN_CELL_WIDTH);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (column, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if column + 1 < N {
                let fill = widths[column] - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', fill));
            }
        }
        out.push('\n');
    }
    out
}
