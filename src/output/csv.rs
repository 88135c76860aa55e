//! The CSV renderer: a document's tables only (CSV carries nothing else), each as a header
//! of column keys and a line per row of plain values; several tables are separated by a
//! blank line. Machine-only columns are included: CSV is for machines and spreadsheets.

use std::io::{self, Write};

use super::Renderer;
use super::document::{Block, Document, Value};

#[derive(Debug, Clone, Copy, Default)]
pub struct CsvRenderer;

/// A cell's value as CSV text. Text a spreadsheet would run as a formula (`=…`, `+…`,
/// `-…`, `@…`) gets a leading `'`.
fn text(v: &Value) -> String {
    match v {
        Value::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
        other => other.display(),
    }
}

impl Renderer for CsvRenderer {
    fn render(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        let mut first = true;
        for block in &doc.blocks {
            let Block::Table(t) = block else { continue };
            if !first {
                out.write_all(b"\n")?;
            }
            first = false;
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(&mut *out);
            w.write_record(t.columns.iter().map(|c| c.key.as_str()))?;
            for row in &t.rows {
                w.write_record(row.iter().map(|c| text(&c.value)))?;
            }
            w.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Cell, Column, Table};

    #[test]
    fn tables_become_csv_with_quoting_and_formulas_defused() {
        let mut t = Table::new(
            "people",
            vec![Column::text("name", "NAME"), Column::integer("n", "N")],
        );
        t.push(vec![Cell::from("Smith, \"Jo\""), Cell::from(3usize)]);
        t.push(vec![Cell::from("=cmd()"), Cell::from(Value::Null)]);
        let mut doc = Document::new();
        doc.heading("skipped").table(t);
        let mut out = Vec::new();
        CsvRenderer.render(&doc, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "name,n\n\"Smith, \"\"Jo\"\"\",3\n'=cmd(),\n"
        );
    }
}
