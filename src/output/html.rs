//! The HTML renderer: one self-contained printable page (A4, no scripts, no outside files),
//! for the scrutiny review and the "You said, We did" leaflet. Several documents can share
//! a file, each on its own printed page ([`HtmlRenderer::render_pages`]).
//!
//! Headings are `<h2>` (the first of a page `<h1>`), paragraphs `<p>`, notes an aside,
//! tables `<table>`, fields a definition list, outlines nested lists, preformatted text
//! `<pre>`. Every piece of text is escaped, so data cannot add markup. [`fragment`] gives a
//! document's blocks without a page around them (the priority-setting pack wraps them in
//! its own printable page, with its charts and map).

use std::io::{self, Write};

use super::Renderer;
use super::document::{Align, Block, Document, Fields, Item, Outline, Severity, Table};
use super::text::escape;

#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlRenderer;

const STYLE: &str = "@page{size:A4;margin:15mm}\
body{font-family:Arial,Helvetica,sans-serif;font-size:11pt;line-height:1.4;color:#000;max-width:180mm;margin:auto}\
h1{font-size:18pt;margin:0 0 8pt}h2{font-size:13pt;margin:12pt 0 4pt}\
table{border-collapse:collapse;margin:4pt 0 8pt}th,td{border:1px solid #777;padding:2pt 5pt;vertical-align:top}\
th{background:#eee;text-align:left}td.num{text-align:right}\
aside{border-left:3pt solid #777;padding-left:6pt;margin:6pt 0}aside.warning{border-color:#b00}\
dl{display:grid;grid-template-columns:max-content auto;gap:1pt 8pt}dt{font-weight:bold}dd{margin:0}\
section.page{page-break-after:always;break-after:page}section.page:last-child{page-break-after:auto;break-after:auto}";

impl HtmlRenderer {
    /// One page per document in a single file; `title` names the file in the browser.
    pub fn render_pages(
        &self,
        title: &str,
        lang: &str,
        docs: &[Document],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let mut h = String::new();
        h.push_str("<!DOCTYPE html>\n<html lang=\"");
        h.push_str(&text(lang));
        h.push_str("\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
        h.push_str(&text(title));
        h.push_str("</title>\n<style>");
        h.push_str(STYLE);
        h.push_str("</style>\n</head>\n<body>\n");
        for doc in docs {
            h.push_str("<section class=\"page\">\n");
            page(&mut h, doc);
            h.push_str("</section>\n");
        }
        h.push_str("</body>\n</html>\n");
        out.write_all(h.as_bytes())
    }
}

impl Renderer for HtmlRenderer {
    fn render(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        let title = doc
            .blocks
            .iter()
            .find_map(|b| match b {
                Block::Heading(t) => Some(t.as_str()),
                _ => None,
            })
            .unwrap_or("doorstep");
        self.render_pages(title, "en", std::slice::from_ref(doc), out)
    }
}

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

fn text(s: &str) -> String {
    escape_html(s)
}

/// Where a document's blocks go: a page of their own (the first heading is the page's
/// `<h1>`, notes are asides), or inside the pack's page (which has its own `<h1>` and
/// styles notes, empty tables and each table by its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Page,
    Fragment,
}

fn page(h: &mut String, doc: &Document) {
    blocks(h, doc, Flavour::Page);
}

/// The document as an HTML fragment.
pub fn fragment(doc: &Document) -> String {
    let mut h = String::new();
    blocks(&mut h, doc, Flavour::Fragment);
    h
}

fn blocks(h: &mut String, doc: &Document, flavour: Flavour) {
    let mut first = flavour == Flavour::Page;
    for block in &doc.blocks {
        match block {
            Block::Heading(t) => {
                let tag = if first { "h1" } else { "h2" };
                first = false;
                h.push_str(&format!("<{tag}>{}</{tag}>\n", text(t)));
            }
            Block::Paragraph(p) => h.push_str(&format!("<p>{}</p>\n", text(p))),
            Block::Note { severity, text: t } => {
                let warning = *severity == Severity::Warning;
                match (flavour, warning) {
                    (Flavour::Page, false) => h.push_str(&format!("<aside>{}</aside>\n", text(t))),
                    (Flavour::Page, true) => {
                        h.push_str(&format!("<aside class=\"warning\">{}</aside>\n", text(t)));
                    }
                    (Flavour::Fragment, false) => {
                        h.push_str(&format!("<p class=\"note\">{}</p>\n", text(t)));
                    }
                    (Flavour::Fragment, true) => {
                        h.push_str(&format!("<p class=\"note warning\">{}</p>\n", text(t)));
                    }
                }
            }
            Block::Table(t) => table(h, t, flavour),
            Block::Fields(f) => fields(h, f),
            Block::Outline(o) => outline(h, o, flavour),
            Block::Preformatted { text: t, .. } => {
                h.push_str(&format!("<pre>{}</pre>\n", text(t)));
            }
        }
    }
}

/// What stands for an empty table or outline.
fn empty(h: &mut String, message: &str, flavour: Flavour) {
    match flavour {
        Flavour::Page => h.push_str(&format!("<p>{}</p>\n", text(message))),
        Flavour::Fragment => h.push_str(&format!("<p class=\"empty\">{}</p>\n", text(message))),
    }
}

fn table(h: &mut String, t: &Table, flavour: Flavour) {
    if t.rows.is_empty()
        && let Some(message) = &t.empty
    {
        empty(h, message, flavour);
        return;
    }
    let shown: Vec<usize> = (0..t.columns.len())
        .filter(|i| !t.columns[*i].machine_only)
        .collect();
    let class = |i: usize| match t.columns[i].align {
        Align::Right => " class=\"num\"",
        Align::Left => "",
    };
    match flavour {
        Flavour::Page => h.push_str("<table>\n<thead><tr>"),
        Flavour::Fragment => {
            h.push_str(&format!("<table class=\"{}\">\n<thead><tr>", text(&t.name)));
        }
    }
    for &i in &shown {
        // The pack right-aligns a number column's heading with its figures.
        let th_class = if flavour == Flavour::Fragment {
            class(i)
        } else {
            ""
        };
        h.push_str(&format!("<th{th_class}>{}</th>", text(&t.columns[i].title)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for r in &t.rows {
        h.push_str("<tr>");
        for &i in &shown {
            let cell = r.get(i).map(|c| c.display()).unwrap_or_default();
            h.push_str(&format!("<td{}>{}</td>", class(i), text(&cell)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
}

fn fields(h: &mut String, f: &Fields) {
    h.push_str("<dl>\n");
    for item in &f.items {
        if let Some(label) = &item.label {
            h.push_str(&format!(
                "<dt>{}</dt><dd>{}</dd>\n",
                text(label),
                text(&item.cell.display())
            ));
        }
    }
    h.push_str("</dl>\n");
}

fn outline(h: &mut String, o: &Outline, flavour: Flavour) {
    if o.items.is_empty() {
        if let Some(message) = &o.empty {
            empty(h, message, flavour);
        }
        return;
    }
    items(h, &o.items, flavour);
}

/// An outline's items; a page lists each item's details, the pack runs them on as lines.
fn items(h: &mut String, list: &[Item], flavour: Flavour) {
    h.push_str("<ul>\n");
    for i in list {
        h.push_str("<li>");
        h.push_str(&text(&i.text));
        match flavour {
            Flavour::Page if !i.details.is_empty() => {
                h.push_str("<ul>");
                for d in &i.details {
                    h.push_str(&format!("<li>{}</li>", text(d)));
                }
                h.push_str("</ul>");
            }
            Flavour::Page => {}
            Flavour::Fragment => {
                for d in &i.details {
                    h.push_str(&format!("<br>{}", text(d)));
                }
            }
        }
        if !i.children.is_empty() {
            items(h, &i.children, flavour);
        }
        h.push_str("</li>\n");
    }
    h.push_str("</ul>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Cell, Column};

    #[test]
    fn a_page_is_self_contained_and_escapes_data() {
        let mut doc = Document::new();
        doc.heading("Ward <one>");
        doc.paragraph("Tom & \"Jerry\"");
        doc.heading("Next");
        let mut t = Table::new(
            "t",
            vec![
                Column::text("a", "A"),
                Column::integer("n", "N"),
                Column::text("m", "M").machine_only(),
            ],
        );
        t.push(vec![
            Cell::from("<script>"),
            Cell::from(3usize),
            Cell::from("x"),
        ]);
        doc.table(t);
        let mut out = Vec::new();
        HtmlRenderer.render(&doc, &mut out).unwrap();
        let html = String::from_utf8(out).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(html.contains("<title>Ward &lt;one&gt;</title>"));
        assert!(html.contains(
            "<h1>Ward &lt;one&gt;</h1>\n<p>Tom &amp; &quot;Jerry&quot;</p>\n<h2>Next</h2>"
        ));
        assert!(html.contains("<tr><td>&lt;script&gt;</td><td class=\"num\">3</td></tr>"));
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("http"), "no outside files");
        assert!(html.contains("size:A4"));
    }

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
