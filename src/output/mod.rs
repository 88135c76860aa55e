//! One output model for every command: a command builds a [`Document`] (headings, tables
//! with typed columns, key/value fields, outlines, notes) and a [`Renderer`] turns it into
//! bytes. Nothing here knows the domain, the store or the terminal library.
//!
//! Renderers today: [`TextRenderer`] (aligned, escaped terminal text), [`JsonRenderer`]
//! (`--json`), [`MarkdownRenderer`] (the priority-setting pack), [`HtmlRenderer`] (a
//! printable A4 page) and [`CsvRenderer`] (tables only). To add one (XLSX, GeoJSON), write a type implementing [`Renderer`]
//! in its own file here and add a [`Format`] variant for it; commands do not change.
//! Formats that can only carry tables (CSV) render the document's [`Table`]s and skip the
//! rest.
//!
//! # The JSON shape (stable)
//!
//! `{"format": "doorstep", "version": 1, "blocks": [BLOCK, ...]}` where each block has a
//! `kind`:
//! - `heading`, `paragraph`: `{"text"}`
//! - `note`: `{"severity": "info" | "warning", "text"}`
//! - `table`: `{"name", "columns": [{"key", "title", "type"}], "rows": [{KEY: VALUE}]}`;
//!   `type` is one of text, integer, number, bool, time (RFC 3339 text), list; a missing
//!   value is `null`
//! - `fields`: `{"name", "fields": {KEY: VALUE}}`
//! - `outline`: `{"name", "items": [{KEY: VALUE, ..., CHILDREN_KEY: [ITEM]}]}`
//! - `text`: `{"name", "text"}` (preformatted text)
//!
//! Table, field and outline keys are documented on the command that produces them and are
//! never renamed within a `version`.

pub mod csv;
pub mod document;
pub mod html;
pub mod json;
pub mod markdown;
pub mod stream;
pub mod text;

use std::io::{self, Write};

pub use csv::CsvRenderer;
pub use document::{
    Align, Block, Cell, Column, Document, Field, Fields, Item, Kind, Outline, Severity, Table,
    Value,
};
pub use html::{HtmlRenderer, escape_html};
pub use json::JsonRenderer;
pub use markdown::MarkdownRenderer;
pub use stream::TableStream;
pub use text::{TextRenderer, escape, escape_keeping_lines};

/// Turns a document into bytes in one format.
pub trait Renderer {
    fn render(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()>;
}

/// The formats a command can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    /// Markdown (the priority-setting pack's default).
    Markdown,
    /// One self-contained printable HTML page.
    Html,
    /// The document's tables as CSV.
    Csv,
}

impl Format {
    pub fn json_if(json: bool) -> Format {
        if json { Format::Json } else { Format::Text }
    }

    pub fn renderer(self) -> &'static dyn Renderer {
        match self {
            Format::Text => &TextRenderer,
            Format::Json => &JsonRenderer,
            Format::Markdown => &MarkdownRenderer,
            Format::Html => &HtmlRenderer,
            Format::Csv => &CsvRenderer,
        }
    }
}
