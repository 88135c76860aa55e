//! The terminal renderer: aligned columns measured in terminal cells, and every piece of
//! text escaped so that data can never drive the terminal.

use std::io::{self, Write};

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::Renderer;
use super::document::{
    Align, Block, Cell, Column, Document, Fields, Item, Outline, Severity, Table,
};

/// Plain text for a terminal or a pipe.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextRenderer;

/// Columns are this many spaces apart.
const GAP: &str = "  ";

impl Renderer for TextRenderer {
    fn render(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        let mut text = String::new();
        for (i, block) in doc.blocks.iter().enumerate() {
            match block {
                Block::Heading(h) => {
                    // A heading opens a section: set it off from what came before.
                    if i > 0 {
                        text.push('\n');
                    }
                    line(&mut text, &escape(h));
                }
                Block::Paragraph(p) => line(&mut text, &escape(p)),
                Block::Note { severity, text: t } => match severity {
                    Severity::Info => line(&mut text, &escape(t)),
                    Severity::Warning => line(&mut text, &format!("warning: {}", escape(t))),
                },
                Block::Table(t) => table(&mut text, t),
                Block::Fields(f) => fields(&mut text, f),
                Block::Outline(o) => outline(&mut text, o),
                Block::Preformatted { text: t, .. } => {
                    for l in t.lines() {
                        line(&mut text, &escape(l));
                    }
                }
            }
        }
        out.write_all(text.as_bytes())
    }
}

fn line(text: &mut String, l: &str) {
    text.push_str(l.trim_end());
    text.push('\n');
}

/// Shows control characters, escape sequences and bidirectional overrides as visible
/// escapes (`\e`, `\n`, `\x07`, `\u{202e}`), so a name can neither move the cursor, recolour
/// the terminal nor fake a line of output.
pub fn escape(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    out
}

/// Like [`escape`] but keeps line breaks and tabs: for messages that are laid out in lines
/// themselves (a list of rejected features) while quoting data that may hold anything.
pub fn escape_keeping_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\n' || c == '\t' {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\u{1b}' => out.push_str("\\e"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if needs_escape(c) => {
            let n = u32::from(c);
            if n < 0x100 {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:x}}}"));
            }
        }
        c => out.push(c),
    }
}

/// Terminal cells taken by `s` (a wide emoji takes two, a combining accent none).
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to at most `max` cells, ending in `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

fn pad(s: &str, cells: usize, align: Align) -> String {
    let fill = " ".repeat(cells.saturating_sub(width(s)));
    match align {
        Align::Left => format!("{s}{fill}"),
        Align::Right => format!("{fill}{s}"),
    }
}

fn shown(cell: Option<&Cell>, max: Option<usize>) -> String {
    let s = escape(&cell.map(Cell::display).unwrap_or_default());
    match max {
        Some(m) => clip(&s, m),
        None => s,
    }
}

fn table(text: &mut String, t: &Table) {
    if t.rows.is_empty()
        && let Some(empty) = &t.empty
    {
        line(text, &escape(empty));
        return;
    }
    let widths = table_widths(t);
    table_lines(text, t, &widths, true);
}

/// The width of each shown column of `t`: its widest cell or title.
pub(crate) fn table_widths(t: &Table) -> Vec<usize> {
    t.columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.machine_only)
        .map(|(i, c)| {
            t.rows
                .iter()
                .map(|row| width(&shown(row.get(i), c.max_width)))
                .chain([width(&escape(&c.title))])
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// The rows of `t` (after its header, if `header`), padded to `widths`; a cell wider
/// than its column pushes the rest of its line right.
pub(crate) fn table_lines(text: &mut String, t: &Table, widths: &[usize], header: bool) {
    let shown_columns: Vec<(usize, &Column)> = t
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.machine_only)
        .collect();
    let titles: Vec<String> = shown_columns
        .iter()
        .map(|(_, c)| escape(&c.title))
        .collect();
    let body = t.rows.iter().map(|row| {
        shown_columns
            .iter()
            .map(|(i, c)| shown(row.get(*i), c.max_width))
            .collect::<Vec<String>>()
    });
    for cells in header.then_some(titles).into_iter().chain(body) {
        let l: Vec<String> = cells
            .iter()
            .zip(&shown_columns)
            .zip(widths)
            .map(|((s, (_, c)), w)| pad(s, *w, c.align))
            .collect();
        line(text, &l.join(GAP));
    }
}

fn fields(text: &mut String, f: &Fields) {
    let shown: Vec<(String, String)> = f
        .items
        .iter()
        .filter_map(|i| {
            i.label
                .as_ref()
                .map(|l| (escape(l), escape(&i.cell.display())))
        })
        .collect();
    let w = shown.iter().map(|(l, _)| width(l)).max().unwrap_or(0);
    for (label, value) in &shown {
        line(text, &format!("{}{GAP}{value}", pad(label, w, Align::Left)));
    }
}

fn outline(text: &mut String, o: &Outline) {
    if o.items.is_empty()
        && let Some(empty) = &o.empty
    {
        line(text, &escape(empty));
        return;
    }
    for item in &o.items {
        outline_item(text, item, 0);
    }
}

fn outline_item(text: &mut String, item: &Item, depth: usize) {
    let indent = GAP.repeat(depth);
    line(text, &format!("{indent}{}", escape(&item.text)));
    for d in &item.details {
        line(text, &format!("{indent}{GAP}{}", escape(d)));
    }
    for child in &item.children {
        outline_item(text, child, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::document::{Column, Fields, Item, Outline, Table, Value};

    fn render(doc: &Document) -> String {
        let mut out = Vec::new();
        TextRenderer.render(doc, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn columns_line_up_in_terminal_cells_with_emoji_and_polish() {
        // 🔒 takes two cells but is one char; "Łódź" is four cells in four chars; the
        // decomposed "Zaz\u{307}o\u{301}" (Zażó) is four cells in six chars.
        let mut t = Table::new(
            "t",
            vec![
                Column::text("name", "NAME"),
                Column::integer("n", "N"),
                Column::text("note", "NOTE"),
            ],
        );
        t.push(vec!["🔒 sealed".into(), 3usize.into(), "a".into()]);
        t.push(vec!["Łódź".into(), 12usize.into(), "b".into()]);
        t.push(vec!["Zaz\u{307}o\u{301}".into(), 7usize.into(), "c".into()]);
        let mut doc = Document::new();
        doc.table(t);
        let text = render(&doc);
        assert_eq!(
            text,
            "NAME        N  NOTE\n\
             🔒 sealed   3  a\n\
             Łódź       12  b\n\
             Zaz\u{307}o\u{301}        7  c\n"
        );
        // Every row puts NOTE at the same terminal column.
        for l in text.lines() {
            let before = &l[..l.rfind("  ").unwrap()];
            assert_eq!(width(before), 13, "{l}");
        }
    }

    #[test]
    fn a_column_width_limit_clips_by_cells_with_an_ellipsis() {
        let mut t = Table::new(
            "t",
            vec![Column::text("a", "A").max_width(6), Column::text("b", "B")],
        );
        t.push(vec!["🔒🔒🔒🔒".into(), "x".into()]);
        t.push(vec!["Gdańsk Wrzeszcz".into(), "y".into()]);
        let mut doc = Document::new();
        doc.table(t);
        // A wide character that would straddle the limit is left out whole.
        assert_eq!(render(&doc), "A       B\n🔒🔒…   x\nGdańs…  y\n");
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
    }

    #[test]
    fn control_characters_and_escape_sequences_are_shown_not_obeyed() {
        assert_eq!(escape("PC\u{1b}[31m\n1"), "PC\\e[31m\\n1");
        assert_eq!(
            escape("a\rb\u{7}c\u{7f}d\u{9b}e"),
            "a\\rb\\x07c\\x7fd\\x9be"
        );
        assert_eq!(escape("left\u{202e}right"), "left\\u{202e}right");
        assert_eq!(escape("Łódź 🔒"), "Łódź 🔒");
        assert_eq!(escape_keeping_lines("a\u{1b}\nb\tc"), "a\\e\nb\tc");

        let mut t = Table::new("t", vec![Column::text("officer", "OFFICER\u{1b}[2J")]);
        t.push(vec!["PC\u{1b}[31m\n1".into()]);
        let mut f = Fields::new("f");
        f.add("device\u{7}", "lap\rtop");
        let mut doc = Document::new();
        doc.heading("Area \u{1b}]0;title\u{7}")
            .paragraph("line\nbreak")
            .warning("bad\u{1b}")
            .table(t)
            .fields(f)
            .outline(Outline::new(
                "o",
                vec![Item::new("ward \u{1b}[1m").detail("\u{8}x")],
            ))
            .preformatted("p", "one\u{1b}[K\ntwo\n");
        let text = render(&doc);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert_eq!(
            text,
            "Area \\e]0;title\\x07\n\
             line\\nbreak\n\
             warning: bad\\e\n\
             OFFICER\\e[2J\n\
             PC\\e[31m\\n1\n\
             device\\x07  lap\\rtop\n\
             ward \\e[1m\n  \\x08x\n\
             one\\e[K\ntwo\n"
        );
    }

    #[test]
    fn fields_outlines_headings_and_empty_tables() {
        let mut f = Fields::new("f");
        f.add("officer", "PC 1");
        f.add_labelled("resume_at", "resume at", "q3");
        f.add_hidden("device", "laptop-3");
        f.add("area", Cell::from(Value::Null).shown_as("(not set)"));
        let mut doc = Document::new();
        doc.fields(f)
            .heading("Answers:")
            .outline(Outline::new(
                "o",
                vec![Item::new("t1").children("w", vec![Item::new("w1").detail("d")])],
            ))
            .table(Table::new("t", vec![Column::text("a", "A")]).when_empty("nothing"))
            .outline(Outline::new("o2", Vec::new()).when_empty("none"));
        assert_eq!(
            render(&doc),
            "officer    PC 1\nresume at  q3\narea       (not set)\n\nAnswers:\nt1\n  w1\n    d\nnothing\nnone\n"
        );
    }
}
