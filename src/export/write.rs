//! The export table as CSV (RFC 4180 quoting, `\n` line ends, UTF-8 without a byte-order
//! mark) or JSON Lines (one object per response, keys in column order).

use std::io::{self, Write};

use super::{ExportTable, ExportValue};

/// Text a spreadsheet would run as a formula when the file is opened (`=HYPERLINK(…)`
/// typed into a free-text answer): such free text gets a leading `'` in CSV only.
fn formula_safe(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

fn csv_text(value: &ExportValue) -> String {
    match value {
        ExportValue::Empty => String::new(),
        ExportValue::Int(n) => n.to_string(),
        ExportValue::Num(x) if x.is_finite() => x.to_string(),
        ExportValue::Num(_) => String::new(),
        ExportValue::Code(s) => s.clone(),
        ExportValue::FreeText(s) => formula_safe(s),
    }
}

pub fn write_csv(table: &ExportTable, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv_writer(out, &table.columns)?;
    for row in &table.rows {
        csv_row(&mut w, row)?;
    }
    w.flush()
}

/// A CSV writer that has written the header row; [`csv_row`] writes each row.
pub fn csv_writer<W: Write>(out: W, columns: &[String]) -> io::Result<csv::Writer<W>> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    w.write_record(columns)?;
    Ok(w)
}

pub fn csv_row<W: Write>(w: &mut csv::Writer<W>, row: &[ExportValue]) -> io::Result<()> {
    Ok(w.write_record(row.iter().map(csv_text))?)
}

fn json_value(value: &ExportValue) -> serde_json::Value {
    match value {
        ExportValue::Empty => serde_json::Value::Null,
        ExportValue::Int(n) => (*n).into(),
        ExportValue::Num(x) => serde_json::Number::from_f64(*x)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        ExportValue::Code(s) | ExportValue::FreeText(s) => s.clone().into(),
    }
}

pub fn write_jsonl(table: &ExportTable, out: &mut dyn Write) -> io::Result<()> {
    for row in &table.rows {
        jsonl_row(&table.columns, row, out)?;
    }
    out.flush()
}

/// One response as a line of JSON Lines.
pub fn jsonl_row(columns: &[String], row: &[ExportValue], out: &mut dyn Write) -> io::Result<()> {
    // Written key by key so the keys keep the column order.
    let mut line = String::from("{");
    for (i, (key, value)) in columns.iter().zip(row).enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(&serde_json::to_string(key)?);
        line.push(':');
        line.push_str(&serde_json::to_string(&json_value(value))?);
    }
    line.push_str("}\n");
    out.write_all(line.as_bytes())
}
