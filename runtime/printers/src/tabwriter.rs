//! Port of Go's `text/tabwriter` (elastic tabstops), including the `RememberWidths` flag of
//! `github.com/liggitt/tabwriter` that `kubectl get` uses (`cli-runtime/pkg/printers/tabwriter.go`).
//!
//! Semantics that matter for kubectl parity (all kept from the Go code):
//! * cells are *terminated* by `\t`; the text after the last tab of a line is not part of any
//!   column and is never padded;
//! * a column block is a run of consecutive lines that all have a tab-terminated cell in that
//!   column; every cell of the block is padded to the widest cell + padding (at least minwidth);
//! * a line consisting of a single cell (no tab) flushes everything buffered so far, so it
//!   ends all blocks;
//! * with `REMEMBER_WIDTHS`, column widths never shrink across flushes.

/// Ignore html tags and treat entities (`&…;`) as one character.
pub const FILTER_HTML: u32 = 1 << 0;
/// Strip the escape characters bracketing escaped text segments.
pub const STRIP_ESCAPE: u32 = 1 << 1;
/// Right-align cell content.
pub const ALIGN_RIGHT: u32 = 1 << 2;
/// Treat columns made only of empty, `\v`-terminated cells as absent.
pub const DISCARD_EMPTY_COLUMNS: u32 = 1 << 3;
/// Pad leading empty cells with tabs regardless of the pad character.
pub const TAB_INDENT: u32 = 1 << 4;
/// Print a `|` between columns.
pub const DEBUG: u32 = 1 << 5;
/// Remember the maximum width seen per column even after a flush (liggitt/tabwriter).
pub const REMEMBER_WIDTHS: u32 = 1 << 6;

/// The escape character: text between two of them is passed through uninterpreted.
pub const ESCAPE: u8 = 0xff;

#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    /// Size in bytes.
    size: usize,
    /// Width in runes (excluding ignored html/escape sections).
    width: usize,
    /// Terminated by a horizontal tab (as opposed to `\v`, newline or end of text).
    htab: bool,
}

/// A Go-compatible tabwriter that accumulates its output in memory.
#[derive(Debug, Clone)]
pub struct TabWriter {
    minwidth: usize,
    tabwidth: usize,
    padding: usize,
    padchar: u8,
    flags: u32,

    buf: Vec<u8>,
    pos: usize,
    cell: Cell,
    end_char: u8,
    lines: Vec<Vec<Cell>>,
    widths: Vec<usize>,
    max_widths: Vec<usize>,

    out: Vec<u8>,
}

impl TabWriter {
    /// Same parameters as Go's `tabwriter.NewWriter` (minus the output, which is kept inside).
    pub fn new(minwidth: usize, tabwidth: usize, padding: usize, padchar: u8, flags: u32) -> Self {
        // Tab padding enforces left alignment.
        let flags = if padchar == b'\t' {
            flags & !ALIGN_RIGHT
        } else {
            flags
        };
        let mut writer = TabWriter {
            minwidth,
            tabwidth,
            padding,
            padchar,
            flags,
            buf: Vec::new(),
            pos: 0,
            cell: Cell::default(),
            end_char: 0,
            lines: Vec::new(),
            widths: Vec::new(),
            max_widths: Vec::new(),
            out: Vec::new(),
        };
        writer.reset();
        writer
    }

    /// The writer `kubectl describe` uses (`describe.go` `tabbedString`).
    pub fn for_describe() -> Self {
        TabWriter::new(0, 8, 2, b' ', 0)
    }

    /// The writer `kubectl get` uses (`cli-runtime/pkg/printers/tabwriter.go`).
    pub fn for_get() -> Self {
        TabWriter::new(6, 4, 3, b' ', REMEMBER_WIDTHS)
    }

    /// Feeds text; complete blocks may be formatted into the output immediately.
    pub fn write_str(&mut self, text: &str) {
        self.write_bytes(text.as_bytes());
    }

    /// Feeds raw bytes (Go `Write`).
    pub fn write_bytes(&mut self, text: &[u8]) {
        let mut n = 0;
        for (i, &ch) in text.iter().enumerate() {
            if self.end_char == 0 {
                match ch {
                    b'\t' | 0x0b | b'\n' | 0x0c => {
                        self.append(&text[n..i]);
                        self.update_width();
                        n = i + 1;
                        let ncells = self.terminate_cell(ch == b'\t');
                        if ch == b'\n' || ch == 0x0c {
                            self.lines.push(Vec::new());
                            // A single-cell line cannot influence later formatting: flush.
                            if ch == 0x0c || ncells == 1 {
                                self.flush();
                                if ch == 0x0c && self.flags & DEBUG != 0 {
                                    self.out.extend_from_slice(b"---\n");
                                }
                            }
                        }
                    }
                    ESCAPE => {
                        self.append(&text[n..i]);
                        self.update_width();
                        n = i;
                        if self.flags & STRIP_ESCAPE != 0 {
                            n += 1;
                        }
                        self.start_escape(ESCAPE);
                    }
                    b'<' | b'&' if self.flags & FILTER_HTML != 0 => {
                        self.append(&text[n..i]);
                        self.update_width();
                        n = i;
                        self.start_escape(ch);
                    }
                    _ => {}
                }
            } else if ch == self.end_char {
                let mut j = i + 1;
                if ch == ESCAPE && self.flags & STRIP_ESCAPE != 0 {
                    j = i;
                }
                self.append(&text[n..j]);
                n = i + 1;
                self.end_escape();
            }
        }
        self.append(&text[n..]);
    }

    /// Formats everything buffered (Go `Flush`).
    pub fn flush(&mut self) {
        if self.cell.size > 0 {
            if self.end_char != 0 {
                self.end_escape();
            }
            self.terminate_cell(false);
        }
        let line_count = self.lines.len();
        self.format(0, 0, line_count);
        self.reset();
    }

    /// Removes and returns the output produced so far (flushed text only).
    pub fn take_output(&mut self) -> String {
        let out = std::mem::take(&mut self.out);
        match String::from_utf8(out) {
            Ok(text) => text,
            Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
        }
    }

    /// Flushes and returns all output.
    pub fn finish(mut self) -> String {
        self.flush();
        self.take_output()
    }

    /// The remembered per-column widths (only with `REMEMBER_WIDTHS`).
    pub fn remembered_widths(&self) -> Vec<usize> {
        self.max_widths.clone()
    }

    fn reset(&mut self) {
        self.buf.clear();
        self.pos = 0;
        self.cell = Cell::default();
        self.end_char = 0;
        self.lines.clear();
        self.widths.clear();
        self.lines.push(Vec::new());
    }

    fn append(&mut self, text: &[u8]) {
        self.buf.extend_from_slice(text);
        self.cell.size += text.len();
    }

    fn update_width(&mut self) {
        self.cell.width += rune_count(&self.buf[self.pos..]);
        self.pos = self.buf.len();
    }

    fn start_escape(&mut self, ch: u8) {
        self.end_char = match ch {
            ESCAPE => ESCAPE,
            b'<' => b'>',
            b'&' => b';',
            _ => 0,
        };
    }

    fn end_escape(&mut self) {
        match self.end_char {
            ESCAPE => {
                self.update_width();
                if self.flags & STRIP_ESCAPE == 0 {
                    // The escape characters themselves do not count.
                    self.cell.width = self.cell.width.saturating_sub(2);
                }
            }
            b';' => self.cell.width += 1,
            _ => {} // html tag: zero width
        }
        self.pos = self.buf.len();
        self.end_char = 0;
    }

    fn terminate_cell(&mut self, htab: bool) -> usize {
        self.cell.htab = htab;
        let cell = std::mem::take(&mut self.cell);
        match self.lines.last_mut() {
            Some(line) => {
                line.push(cell);
                line.len()
            }
            None => {
                self.lines.push(vec![cell]);
                1
            }
        }
    }

    fn write_padding(&mut self, text_width: usize, cell_width: usize, use_tabs: bool) {
        if self.padchar == b'\t' || use_tabs {
            if self.tabwidth == 0 {
                return; // tabs have no width: no padding possible
            }
            let cell_width = cell_width.div_ceil(self.tabwidth) * self.tabwidth;
            let n = cell_width.saturating_sub(text_width);
            let tabs = n.div_ceil(self.tabwidth);
            self.out.extend(std::iter::repeat_n(b'\t', tabs));
            return;
        }
        let n = cell_width.saturating_sub(text_width);
        self.out.extend(std::iter::repeat_n(self.padchar, n));
    }

    fn write_lines(&mut self, mut pos: usize, line0: usize, line1: usize) -> usize {
        for i in line0..line1 {
            let mut use_tabs = self.flags & TAB_INDENT != 0;
            let cell_count = self.lines[i].len();
            for j in 0..cell_count {
                let c = self.lines[i][j];
                if j > 0 && self.flags & DEBUG != 0 {
                    self.out.push(b'|');
                }
                if c.size == 0 {
                    if j < self.widths.len() {
                        let width = self.widths[j];
                        self.write_padding(c.width, width, use_tabs);
                    }
                } else {
                    use_tabs = false;
                    if self.flags & ALIGN_RIGHT == 0 {
                        self.out.extend_from_slice(&self.buf[pos..pos + c.size]);
                        pos += c.size;
                        if j < self.widths.len() {
                            let width = self.widths[j];
                            self.write_padding(c.width, width, false);
                        }
                    } else {
                        if j < self.widths.len() {
                            let width = self.widths[j];
                            self.write_padding(c.width, width, false);
                        }
                        self.out.extend_from_slice(&self.buf[pos..pos + c.size]);
                        pos += c.size;
                    }
                }
            }
            if i + 1 == self.lines.len() {
                // Last buffered line has no newline yet: emit any outstanding text as is.
                let end = pos + self.cell.size;
                self.out.extend_from_slice(&self.buf[pos..end]);
                pos = end;
            } else {
                self.out.push(b'\n');
            }
        }
        pos
    }

    /// Go `format`: lays out lines `line0..line1` whose columns left of `widths.len()` are known.
    fn format(&mut self, pos0: usize, mut line0: usize, line1: usize) -> usize {
        let mut pos = pos0;
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            // This line has a cell in `column`: a column block starts here.
            pos = self.write_lines(pos, line0, this);
            line0 = this;

            let mut width = self.minwidth;
            let mut discardable = true;
            while this < line1 {
                let line = &self.lines[this];
                if column + 1 >= line.len() {
                    break;
                }
                let c = line[column];
                width = width.max(c.width + self.padding);
                if c.width > 0 || c.htab {
                    discardable = false;
                }
                this += 1;
            }
            if discardable && self.flags & DISCARD_EMPTY_COLUMNS != 0 {
                width = 0;
            }
            if self.flags & REMEMBER_WIDTHS != 0 {
                width = self.remember_width(width);
            }

            self.widths.push(width);
            pos = self.format(pos, line0, this);
            self.widths.pop();
            line0 = this;
        }
        self.write_lines(pos, line0, line1)
    }

    fn remember_width(&mut self, width: usize) -> usize {
        let column = self.widths.len();
        if self.max_widths.len() < column {
            let missing = self.widths[self.max_widths.len()..].to_vec();
            self.max_widths.extend(missing);
        }
        if self.max_widths.len() == column {
            self.max_widths.push(width);
            width
        } else if self.max_widths[column] > width {
            self.max_widths[column]
        } else {
            self.max_widths[column] = width;
            width
        }
    }
}

/// Go `utf8.RuneCount`: each invalid byte counts as one rune.
fn rune_count(bytes: &[u8]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < bytes.len() {
        let lead = bytes[i];
        let len = match lead {
            0x00..=0x7f => 1,
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => 1,
        };
        let valid =
            len == 1 || (i + len <= bytes.len() && std::str::from_utf8(&bytes[i..i + len]).is_ok());
        i += if valid { len } else { 1 };
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(writer: TabWriter, text: &str) -> String {
        let mut writer = writer;
        writer.write_str(text);
        writer.finish()
    }

    #[test]
    fn go_doc_example_column_blocks_are_contiguous() {
        // From the Go package documentation: b and c are in distinct columns.
        let out = render(
            TabWriter::new(0, 8, 1, b'.', 0),
            "aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n",
        );
        assert_eq!(out, "aaaa.bbb.d\naa...b...dd\na....\naa...cccc.eee\n");
    }

    #[test]
    fn trailing_text_is_not_padded_but_tab_terminated_empty_cell_is() {
        let out = render(
            TabWriter::for_describe(),
            "Name:\tx\nIP:\t\nLonger label:\tv\n",
        );
        assert_eq!(out, "Name:          x\nIP:            \nLonger label:  v\n");
    }

    #[test]
    fn line_without_tab_ends_the_block() {
        let out = render(
            TabWriter::for_describe(),
            "A:\t1\nIPs:\n  IP:\t10.0.0.1\nLonger label:\tv\n",
        );
        assert_eq!(
            out,
            "A:  1\nIPs:\n  IP:          10.0.0.1\nLonger label:  v\n"
        );
    }

    #[test]
    fn get_minwidth_applies_to_narrow_columns() {
        let out = render(TabWriter::for_get(), "A\tB\tC\nx\ty\tz\n");
        assert_eq!(out, "A     B     C\nx     y     z\n");
    }

    #[test]
    fn remember_widths_never_shrink_across_flushes() {
        let mut writer = TabWriter::for_get();
        writer.write_str("LONGER-HEADER\tB\tC\n");
        writer.flush();
        assert_eq!(writer.take_output(), "LONGER-HEADER   B     C\n");
        writer.write_str("x\tyyyyyyyy\tz\n");
        writer.flush();
        assert_eq!(writer.take_output(), "x               yyyyyyyy   z\n");
        assert_eq!(writer.remembered_widths(), vec![16, 11]);
        writer.write_str("a\tb\tc\n");
        writer.flush();
        assert_eq!(writer.take_output(), "a               b          c\n");
    }

    #[test]
    fn without_remember_widths_each_flush_is_independent() {
        let mut writer = TabWriter::new(6, 4, 3, b' ', 0);
        writer.write_str("LONGER-HEADER\tB\n");
        writer.flush();
        writer.write_str("x\ty\n");
        writer.flush();
        assert_eq!(writer.take_output(), "LONGER-HEADER   B\nx     y\n");
    }

    #[test]
    fn width_counts_runes_not_bytes() {
        let out = render(TabWriter::for_describe(), "µs:\t1\nab:\t2\n");
        assert_eq!(out, "µs:  1\nab:  2\n");
    }

    #[test]
    fn unterminated_last_line_is_emitted_on_flush() {
        let out = render(TabWriter::for_describe(), "a:\tb\ncc:\td");
        assert_eq!(out, "a:   b\ncc:  d");
    }

    #[test]
    fn align_right_and_debug_flags() {
        let out = render(
            TabWriter::new(0, 8, 1, b' ', ALIGN_RIGHT | DEBUG),
            "a\tbbb\t\nccc\td\t\n",
        );
        assert_eq!(out, "   a| bbb|\n ccc|   d|\n");
    }

    #[test]
    fn escaped_text_is_opaque() {
        let mut writer = TabWriter::new(0, 8, 1, b' ', STRIP_ESCAPE);
        writer.write_bytes(b"\xffa\tb\xff\tc\nx\ty\n");
        assert_eq!(writer.finish(), "a\tb c\nx   y\n");
    }
}
