//! The Markdown renderer (GitHub-flavoured pipe tables): the priority-setting pack's default
//! format, readable as it is and by any Markdown viewer.
//!
//! Headings open sections (`## `); a paragraph is a paragraph; notes are quotes; tables are
//! pipe tables with right-aligned number columns; fields are a bulleted list; outlines are
//! nested lists; preformatted text is a fenced block. Text is escaped so that data can
//! neither drive a terminal (control characters shown as in text output) nor start
//! Markdown structure of its own (`|`, `*`, `_`, `#`, `<`, backticks … are backslashed).

use std::io::{self, Write};

use super::Renderer;
use super::document::{Align, Block, Document, Fields, Item, Outline, Severity, Table};
use super::text::escape;

#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownRenderer;

impl Renderer for MarkdownRenderer {
    fn render(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        let mut md = String::new();
        for block in &doc.blocks {
            match block {
                Block::Heading(h) => {
                    md.push_str("## ");
                    md.push_str(&inline(h));
                    md.push_str("\n\n");
                }
                Block::Paragraph(p) => {
                    md.push_str(&inline(p));
                    md.push_str("\n\n");
                }
                Block::Note { severity, text } => {
                    md.push_str("> ");
                    if *severity == Severity::Warning {
                        md.push_str("**Warning:** ");
                    }
                    md.push_str(&inline(text));
                    md.push_str("\n\n");
                }
                Block::Table(t) => table(&mut md, t),
                Block::Fields(f) => fields(&mut md, f),
                Block::Outline(o) => outline(&mut md, o),
                Block::Preformatted { text, .. } => {
                    md.push_str("```text\n");
                    for l in text.lines() {
                        // A line of backticks inside would close the fence early.
                        md.push_str(&escape(l).replace("```", "ʼʼʼ"));
                        md.push('\n');
                    }
                    md.push_str("```\n\n");
                }
            }
        }
        out.write_all(md.as_bytes())
    }
}

/// Text made safe for one line of Markdown.
pub fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in escape(s).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn table(md: &mut String, t: &Table) {
    if t.rows.is_empty()
        && let Some(empty) = &t.empty
    {
        md.push_str(&inline(empty));
        md.push_str("\n\n");
        return;
    }
    let shown: Vec<usize> = (0..t.columns.len())
        .filter(|i| !t.columns[*i].machine_only)
        .collect();
    let row = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    md.push_str(&row(shown
        .iter()
        .map(|i| inline(&t.columns[*i].title))
        .collect()));
    md.push_str(&row(shown
        .iter()
        .map(|i| match t.columns[*i].align {
            Align::Left => "---".to_owned(),
            Align::Right => "---:".to_owned(),
        })
        .collect()));
    for r in &t.rows {
        md.push_str(&row(shown
            .iter()
            .map(|i| inline(&r.get(*i).map(|c| c.display()).unwrap_or_default()))
            .collect()));
    }
    md.push('\n');
}

fn fields(md: &mut String, f: &Fields) {
    for item in &f.items {
        if let Some(label) = &item.label {
            md.push_str(&format!(
                "- **{}:** {}\n",
                inline(label),
                inline(&item.cell.display())
            ));
        }
    }
    md.push('\n');
}

fn outline(md: &mut String, o: &Outline) {
    if o.items.is_empty()
        && let Some(empty) = &o.empty
    {
        md.push_str(&inline(empty));
        md.push_str("\n\n");
        return;
    }
    fn item(md: &mut String, i: &Item, depth: usize) {
        let indent = "  ".repeat(depth);
        md.push_str(&format!("{indent}- {}\n", inline(&i.text)));
        for d in &i.details {
            md.push_str(&format!("{indent}  - {}\n", inline(d)));
        }
        for c in &i.children {
            item(md, c, depth + 1);
        }
    }
    for i in &o.items {
        item(md, i, 0);
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Cell, Column, Fields};

    #[test]
    fn tables_fields_and_notes_render_as_markdown_with_data_escaped() {
        let mut doc = Document::new();
        doc.heading("Ward *one*");
        let mut t = Table::new(
            "t",
            vec![
                Column::text("issue", "Issue"),
                Column::integer("n", "Named"),
                Column::text("slug", "slug").machine_only(),
            ],
        );
        t.push(vec![
            Cell::from("a | b"),
            Cell::from(3usize),
            Cell::from("x"),
        ]);
        doc.table(t);
        let mut f = Fields::new("f");
        f.add_labelled("k", "Key", "v\u{1b}[31m");
        f.add_hidden("h", "hidden");
        doc.fields(f);
        doc.warning("low base");
        let mut out = Vec::new();
        MarkdownRenderer.render(&doc, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "## Ward \\*one\\*\n\n\
             | Issue | Named |\n| --- | ---: |\n| a \\| b | 3 |\n\n\
             - **Key:** v\\\\e\\[31m\n\n\
             > **Warning:** low base\n\n"
        );
    }
}
