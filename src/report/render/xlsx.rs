//! The pack as an Excel workbook: a "Contents" sheet (the pack's title, marking and which
//! area and section each sheet holds), then one sheet per table of the pack, in pack order,
//! with numbers as numbers and suppressed cells as the word "suppressed". The workbook's
//! creation date is the first day of the period, never the clock, so the same store and
//! arguments give the same bytes.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use crate::output::{Block, Document, Value};
use crate::report::Report;

/// Excel's limit on a sheet name.
const MAX_SHEET_NAME: usize = 31;

/// A sheet name Excel accepts: its forbidden characters replaced, clipped to 31 characters.
fn sheet_name(n: usize, name: &str) -> String {
    let clean: String = format!("{n:02} {name}")
        .chars()
        .map(|c| match c {
            '[' | ']' | ':' | '*' | '?' | '/' | '\\' | '\'' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    clean.chars().take(MAX_SHEET_NAME).collect()
}

/// The workbook's bytes. `tables` is the pack's document (the one Markdown prints).
pub fn render(report: &Report, tables: &Document) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let month = (report.period.quarter() - 1) * 3 + 1;
    let year = u16::try_from(report.period.year()).unwrap_or(2000);
    let created = ExcelDateTime::from_ymd(year, month, 1)?;
    let title = format!(
        "Priority-setting pack: {}, per {}",
        report.period, report.level
    );
    wb.set_properties(
        &DocProperties::new()
            .set_title(&title)
            .set_creation_datetime(&created),
    );
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0%");
    let red = Format::new().set_bold().set_font_color("#B00000");

    // Which heading each table sits under, for the contents sheet.
    let mut sheets: Vec<(String, String, &crate::output::Table)> = Vec::new();
    let mut heading = String::new();
    for block in &tables.blocks {
        match block {
            Block::Heading(h) => heading.clone_from(h),
            Block::Table(t) => {
                let name = sheet_name(sheets.len() + 1, &t.name);
                sheets.push((name, heading.clone(), t));
            }
            _ => {}
        }
    }

    let contents = wb.add_worksheet();
    contents.set_name("Contents")?;
    contents.write_string_with_format(0, 0, &title, &bold)?;
    let mut row = 1;
    if let Some(mark) = &report.marking {
        contents.write_string_with_format(row, 0, mark.to_uppercase(), &red)?;
        row += 1;
    }
    contents.write_string(row, 0, &report.suppression.rule)?;
    row += 2;
    contents.write_string_with_format(row, 0, "Sheet", &bold)?;
    contents.write_string_with_format(row, 1, "Section", &bold)?;
    contents.write_string_with_format(row, 2, "Table", &bold)?;
    for (name, heading, t) in &sheets {
        row += 1;
        contents.write_string(row, 0, name)?;
        contents.write_string(row, 1, heading)?;
        contents.write_string(row, 2, &t.name)?;
    }
    contents.set_column_width(0, 32)?;
    contents.set_column_width(1, 60)?;

    for (name, heading, t) in &sheets {
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        let shown: Vec<usize> = (0..t.columns.len())
            .filter(|i| !t.columns[*i].machine_only)
            .collect();
        let mut r = 0;
        if let Some(mark) = &report.marking {
            ws.write_string_with_format(r, 0, mark.to_uppercase(), &red)?;
            r += 1;
        }
        ws.write_string_with_format(r, 0, heading, &bold)?;
        r += 1;
        for (c, &i) in shown.iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            ws.write_string_with_format(r, col, &t.columns[i].title, &bold)?;
        }
        ws.set_freeze_panes(r + 1, 0)?;
        for cells in &t.rows {
            r += 1;
            for (c, &i) in shown.iter().enumerate() {
                let col = u16::try_from(c).unwrap_or(u16::MAX);
                let Some(cell) = cells.get(i) else { continue };
                // Numbers stay numbers (their wording, "75%", becomes a number format);
                // anything else, "suppressed" included, is written as its words.
                let percent = cell.text.as_deref().is_some_and(|t| t.ends_with('%'));
                match &cell.value {
                    Value::Integer(n) => {
                        ws.write_number(r, col, *n as f64)?;
                    }
                    Value::Number(x) if x.is_finite() && percent => {
                        ws.write_number_with_format(r, col, *x, &pct)?;
                    }
                    Value::Number(x) if x.is_finite() => {
                        ws.write_number(r, col, *x)?;
                    }
                    Value::Bool(b) => {
                        ws.write_boolean(r, col, *b)?;
                    }
                    _ => {
                        let text = cell.display();
                        if !text.is_empty() {
                            ws.write_string(r, col, text)?;
                        }
                    }
                }
            }
        }
        for c in 0..shown.len() {
            ws.set_column_width(u16::try_from(c).unwrap_or(u16::MAX), 16)?;
        }
    }
    wb.save_to_buffer()
}
