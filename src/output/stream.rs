//! A table written as its rows come, for a listing of any length in bounded memory.
//!
//! The first `page` rows are held: a table that ends within them is printed exactly as
//! [`Renderer::render`] prints the whole document. A longer one is printed as it goes:
//! text with its columns sized from the first page (a later, wider cell pushes the rest of
//! its line right), JSON in the same shape and layout as the whole document's.

use std::io::{self, Write};

use super::document::{Block, Cell, Document, Table};
use super::{Format, Renderer, json, text};

/// What the whole document's JSON has after a lone table's last row.
const JSON_TABLE_END: &str = "\n      ]\n    }\n  ]\n}\n";
/// What the whole document's JSON has before its first block.
const JSON_BLOCKS_START: &str =
    "{\n  \"format\": \"doorstep\",\n  \"version\": 1,\n  \"blocks\": [\n";
/// Where a row of a table block sits in the document.
const JSON_ROW_INDENT: &str = "        ";

pub struct TableStream<'w> {
    out: &'w mut dyn Write,
    format: Format,
    /// The held page (every row, until the page is full).
    table: Table,
    page: usize,
    /// Column widths, once the first page is printed (text).
    widths: Option<Vec<usize>>,
    streaming: bool,
}

impl<'w> TableStream<'w> {
    /// `format` is text or JSON (others print the whole document at the end).
    pub fn new(out: &'w mut dyn Write, format: Format, table: Table, page: usize) -> Self {
        TableStream {
            out,
            format,
            table,
            page: page.max(1),
            widths: None,
            streaming: false,
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) -> io::Result<()> {
        self.table.push(row);
        if self.table.rows.len() >= self.page && matches!(self.format, Format::Text | Format::Json)
        {
            self.flush_page()?;
        }
        Ok(())
    }

    /// Prints the held rows; the first time, the table's head too.
    fn flush_page(&mut self) -> io::Result<()> {
        match self.format {
            Format::Text => {
                let mut s = String::new();
                let header = self.widths.is_none();
                let widths = self
                    .widths
                    .get_or_insert_with(|| text::table_widths(&self.table));
                text::table_lines(&mut s, &self.table, widths, header);
                self.out.write_all(s.as_bytes())?;
            }
            Format::Json if !self.streaming => {
                let mut doc = Document::new();
                let rows = std::mem::take(&mut self.table.rows);
                let mut first = Table::new(&self.table.name, self.table.columns.clone());
                first.rows = rows;
                doc.table(first);
                let mut whole = Vec::new();
                super::JsonRenderer.render(&doc, &mut whole)?;
                let head = whole
                    .strip_suffix(JSON_TABLE_END.as_bytes())
                    .ok_or_else(|| io::Error::other("unexpected JSON layout of a table"))?;
                self.out.write_all(head)?;
            }
            Format::Json => {
                for row in &self.table.rows {
                    let pretty = json::row_pretty(&self.table, row)?;
                    let mut s = String::from(",\n");
                    for (i, l) in pretty.lines().enumerate() {
                        if i > 0 {
                            s.push('\n');
                        }
                        s.push_str(JSON_ROW_INDENT);
                        s.push_str(l);
                    }
                    self.out.write_all(s.as_bytes())?;
                }
            }
            _ => return Ok(()),
        }
        self.streaming = true;
        self.table.rows.clear();
        Ok(())
    }

    /// Prints what is left of the table, then `after` (blocks that follow the table,
    /// no heading first).
    pub fn finish(mut self, after: Document) -> io::Result<()> {
        if !self.streaming {
            let mut doc = Document::new();
            doc.table(self.table);
            for b in after.blocks {
                doc.push(b);
            }
            return self.format.renderer().render(&doc, self.out);
        }
        self.flush_page()?;
        match self.format {
            Format::Json => {
                self.out.write_all(b"\n      ]\n    }")?;
                if after.blocks.is_empty() {
                    return self.out.write_all(b"\n  ]\n}\n");
                }
                let mut rest = Vec::new();
                super::JsonRenderer.render(&after, &mut rest)?;
                let blocks = rest
                    .strip_prefix(JSON_BLOCKS_START.as_bytes())
                    .ok_or_else(|| io::Error::other("unexpected JSON layout of a document"))?;
                self.out.write_all(b",\n")?;
                self.out.write_all(blocks)
            }
            _ => {
                debug_assert!(!matches!(after.blocks.first(), Some(Block::Heading(_))));
                super::TextRenderer.render(&after, self.out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Column;

    fn table() -> Table {
        Table::new(
            "t",
            vec![
                Column::text("name", "NAME"),
                Column::integer("n", "N"),
                Column::text("hidden", "H").machine_only(),
            ],
        )
        .when_empty("nothing")
    }

    fn rows(n: usize) -> Vec<Vec<Cell>> {
        (0..n)
            .map(|i| {
                vec![
                    Cell::from(format!("row \"{i}\"\u{1b}")),
                    Cell::from(i),
                    Cell::from("x"),
                ]
            })
            .collect()
    }

    fn whole(format: Format, n: usize) -> Vec<u8> {
        let mut t = table();
        for r in rows(n) {
            t.push(r);
        }
        let mut doc = Document::new();
        doc.table(t);
        doc.note(format!("{n} row(s)"));
        let mut out = Vec::new();
        format.renderer().render(&doc, &mut out).unwrap();
        out
    }

    fn streamed(format: Format, n: usize, page: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut s = TableStream::new(&mut out, format, table(), page);
        for r in rows(n) {
            s.push(r).unwrap();
        }
        let mut after = Document::new();
        after.note(format!("{n} row(s)"));
        s.finish(after).unwrap();
        out
    }

    #[test]
    fn json_streamed_is_the_whole_document_byte_for_byte() {
        for n in [0, 1, 2, 3, 7, 12] {
            for page in [1, 2, 5, 100] {
                assert_eq!(
                    String::from_utf8(streamed(Format::Json, n, page)).unwrap(),
                    String::from_utf8(whole(Format::Json, n)).unwrap(),
                    "{n} rows, pages of {page}"
                );
            }
        }
    }

    #[test]
    fn text_within_a_page_is_the_whole_document_and_beyond_it_keeps_the_first_widths() {
        for n in [0, 1, 4] {
            assert_eq!(streamed(Format::Text, n, 5), whole(Format::Text, n));
        }
        // Widths from the first page (rows 0-9): row 10's wider cells push right.
        let text = String::from_utf8(streamed(Format::Text, 12, 10)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME       N");
        assert_eq!(lines[1], "row \"0\"\\e  0");
        assert_eq!(lines[11], "row \"10\"\\e  10");
        assert_eq!(lines[13], "12 row(s)");
        assert_eq!(lines.len(), 14);
    }
}
