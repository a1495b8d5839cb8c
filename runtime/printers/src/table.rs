//! The client side of `kubectl get`: how a server-side table (column names + cell strings) is
//! written through the get tabwriter (`cli-runtime/pkg/printers/tableprinter.go` `printTable`).

use crate::tabwriter::TabWriter;
use crate::text::escape_terminal;

/// Writes the header row: column names upper-cased, tab separated.
pub fn write_header(tw: &mut TabWriter, column_names: &[&str]) {
    let header: Vec<String> = column_names.iter().map(|n| n.to_uppercase()).collect();
    tw.write_str(&header.join("\t"));
    tw.write_str("\n");
}

/// Writes one data row. Each cell is cut at its first line break (`\n`, `\r`, `\f`, which
/// would otherwise break the table) with `...` appended, then terminal-escaped.
pub fn write_row(tw: &mut TabWriter, cells: &[String]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            tw.write_str("\t");
        }
        match cell.find(['\x0c', '\n', '\r']) {
            Some(cut) => {
                tw.write_str(&escape_terminal(&cell[..cut]));
                tw.write_str("...");
            }
            None => tw.write_str(&escape_terminal(cell)),
        }
    }
    tw.write_str("\n");
}

/// A whole `kubectl get` listing: nothing at all when there are no rows (kubectl then prints
/// `No resources found …` on stderr, which is the caller's business).
pub fn render_table(column_names: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut tw = TabWriter::for_get();
    write_header(&mut tw, column_names);
    for row in rows {
        write_row(&mut tw, row);
    }
    tw.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_uppercased_and_last_column_unpadded() {
        let out = render_table(
            &["Name", "Nominated Node"],
            &[vec!["a".to_string(), "<none>".to_string()]],
        );
        assert_eq!(out, "NAME   NOMINATED NODE\na      <none>\n");
    }

    #[test]
    fn multi_line_cells_are_cut() {
        let out = render_table(&["Message"], &[vec!["first\nsecond".to_string()]]);
        assert_eq!(out, "MESSAGE\nfirst...\n");
    }

    #[test]
    fn no_rows_prints_nothing() {
        assert_eq!(render_table(&["Name"], &[]), "");
    }
}
