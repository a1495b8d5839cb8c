//! kubectl's `PrefixWriter` over the describe tabwriter (`describe.go` `prefixWriter`).

use crate::tabwriter::TabWriter;
use crate::text::escape_terminal;

pub const LEVEL_0: usize = 0;
pub const LEVEL_1: usize = 1;
pub const LEVEL_2: usize = 2;
pub const LEVEL_3: usize = 3;

/// Writes text indented by two spaces per level, terminal-escaped, into a describe tabwriter.
pub struct PrefixWriter {
    writer: TabWriter,
}

impl PrefixWriter {
    pub fn new() -> Self {
        PrefixWriter {
            writer: TabWriter::for_describe(),
        }
    }

    /// `Write(level, format, args…)`: the caller formats, this adds the indentation.
    pub fn write(&mut self, level: usize, text: &str) {
        let mut line = "  ".repeat(level);
        line.push_str(text);
        self.writer.write_str(&escape_terminal(&line));
    }

    /// `WriteLine(a)`: the text followed by a newline, without indentation.
    pub fn write_line(&mut self, text: &str) {
        self.writer.write_str(&escape_terminal(text));
        self.writer.write_str("\n");
    }

    /// Flushes the tabwriter and returns everything written.
    pub fn finish(self) -> String {
        self.writer.finish()
    }
}
