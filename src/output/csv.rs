//! The CSV renderer: a format that can only carry tables. The document's tables are
//! written one after another, each with its header row, a blank line between them; every
//! column is written (machine-only ones too) with typed values, not display wording. Text a
//! spreadsheet would run as a formula (`=…`, `+…`, `-…`, `@…`) gets a leading `'`.

use std::io::{self, Write};

use super::Renderer;
use super::document::{Block, Document, Value};

#[derive(Debug, Clone, Copy, Default)]
pub struct CsvRenderer;

impl Renderer for CsvRenderer {
    fn render(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        let mut first = true;
        for block in &doc.blocks {
            let Block::Table(t) = block else { continue };
            if !first {
                out.write_all(b"\n")?;
            }
            first = false;
            let mut w = csv::Writer::from_writer(Vec::new());
            let to_io = |e: csv::Error| io::Error::other(e.to_string());
            w.write_record(t.columns.iter().map(|c| c.key.as_str()))
                .map_err(to_io)?;
            for row in &t.rows {
                let cells = (0..t.columns.len()).map(|i| match row.get(i).map(|c| &c.value) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::List(items)) => items.join("; "),
                    Some(Value::Text(s)) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => {
                        format!("'{s}")
                    }
                    Some(v) => v.display_plain(),
                });
                w.write_record(cells).map_err(to_io)?;
            }
            let bytes = w
                .into_inner()
                .map_err(|e| io::Error::other(e.to_string()))?;
            out.write_all(&bytes)?;
        }
        Ok(())
    }
}

impl Value {
    /// The value as data: booleans `true`/`false`, not the words people read.
    fn display_plain(&self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            other => other.display(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Cell, Column, Table};

    #[test]
    fn tables_only_with_typed_values() {
        let mut doc = Document::new();
        doc.heading("skipped");
        let mut t = Table::new(
            "a",
            vec![
                Column::text("x", "X"),
                Column::integer("n", "N").machine_only(),
            ],
        );
        t.push(vec![
            Cell::from("a, \"b\"").shown_as("shown"),
            Cell::from(2usize),
        ]);
        t.push(vec![Cell::from(Value::Null)]);
        doc.table(t);
        let mut t2 = Table::new("b", vec![Column::text("ok", "OK")]);
        t2.push(vec![Cell::from(true)]);
        doc.table(t2);
        let mut out = Vec::new();
        CsvRenderer.render(&doc, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "x,n\n\"a, \"\"b\"\"\",2\n,\n\nok\ntrue\n"
        );
    }

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
