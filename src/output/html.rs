//! The HTML renderer: a document's blocks as an HTML fragment (no page around it, no
//! script, no style of its own), every piece of text escaped. The priority-setting pack
//! wraps it in its printable page; a command could also print it alone.

use std::io::{self, Write};

use super::Renderer;
use super::document::{Align, Block, Document, Item, Severity};
use super::text::escape;

#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlRenderer;

/// Text made safe for HTML content and attribute values; control characters are shown as
/// escapes as in text output.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in escape(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Renderer for HtmlRenderer {
    fn render(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(fragment(doc).as_bytes())
    }
}

/// The document as an HTML fragment.
pub fn fragment(doc: &Document) -> String {
    let mut h = String::new();
    for block in &doc.blocks {
        match block {
            Block::Heading(t) => h.push_str(&format!("<h2>{}</h2>\n", escape_html(t))),
            Block::Paragraph(t) => h.push_str(&format!("<p>{}</p>\n", escape_html(t))),
            Block::Note { severity, text } => {
                let class = match severity {
                    Severity::Info => "note",
                    Severity::Warning => "note warning",
                };
                h.push_str(&format!("<p class=\"{class}\">{}</p>\n", escape_html(text)));
            }
            Block::Table(t) => {
                if t.rows.is_empty()
                    && let Some(empty) = &t.empty
                {
                    h.push_str(&format!("<p class=\"empty\">{}</p>\n", escape_html(empty)));
                    continue;
                }
                let shown: Vec<usize> = (0..t.columns.len())
                    .filter(|i| !t.columns[*i].machine_only)
                    .collect();
                let class = |i: usize| match t.columns[i].align {
                    Align::Left => "",
                    Align::Right => " class=\"num\"",
                };
                h.push_str(&format!(
                    "<table class=\"{}\">\n<thead><tr>",
                    escape_html(&t.name)
                ));
                for &i in &shown {
                    h.push_str(&format!(
                        "<th{}>{}</th>",
                        class(i),
                        escape_html(&t.columns[i].title)
                    ));
                }
                h.push_str("</tr></thead>\n<tbody>\n");
                for row in &t.rows {
                    h.push_str("<tr>");
                    for &i in &shown {
                        let text = row.get(i).map(|c| c.display()).unwrap_or_default();
                        h.push_str(&format!("<td{}>{}</td>", class(i), escape_html(&text)));
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</tbody>\n</table>\n");
            }
            Block::Fields(f) => {
                h.push_str("<dl>\n");
                for item in &f.items {
                    if let Some(label) = &item.label {
                        h.push_str(&format!(
                            "<dt>{}</dt><dd>{}</dd>\n",
                            escape_html(label),
                            escape_html(&item.cell.display())
                        ));
                    }
                }
                h.push_str("</dl>\n");
            }
            Block::Outline(o) => {
                if o.items.is_empty() {
                    if let Some(empty) = &o.empty {
                        h.push_str(&format!("<p class=\"empty\">{}</p>\n", escape_html(empty)));
                    }
                    continue;
                }
                items(&mut h, &o.items);
            }
            Block::Preformatted { text, .. } => {
                h.push_str(&format!("<pre>{}</pre>\n", escape_html(text)));
            }
        }
    }
    h
}

fn items(h: &mut String, list: &[Item]) {
    h.push_str("<ul>\n");
    for item in list {
        h.push_str(&format!("<li>{}", escape_html(&item.text)));
        for d in &item.details {
            h.push_str(&format!("<br>{}", escape_html(d)));
        }
        if !item.children.is_empty() {
            items(h, &item.children);
        }
        h.push_str("</li>\n");
    }
    h.push_str("</ul>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Cell, Column, Table};

    #[test]
    fn every_text_is_escaped() {
        let mut t = Table::new("t<", vec![Column::text("a", "A&B")]);
        t.push(vec![Cell::from("<script>alert('x')</script>\u{1b}")]);
        let mut doc = Document::new();
        doc.heading("<h1>").table(t);
        let html = fragment(&doc);
        assert!(
            !html.contains("<script>") && !html.contains("<h1>"),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;\\e"),
            "{html}"
        );
        assert!(html.contains("<th>A&amp;B</th>"), "{html}");
    }
}
