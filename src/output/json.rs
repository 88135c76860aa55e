//! The JSON renderer: the document as one JSON object, for scripts and other tools.
//!
//! The shape is stable (field names are part of the interface; see the module docs of
//! [`crate::output`]): `{"format": "doorstep", "version": 1, "blocks": [...]}`.

use std::io::{self, Write};

use serde_json::{Map, Value as Json, json};

use super::Renderer;
use super::document::{Block, Cell, Document, Item, Value};

/// Version of the JSON shape; raised only when a field is renamed or removed.
pub const JSON_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, Default)]
pub struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn render(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        let blocks: Vec<Json> = doc.blocks.iter().map(block).collect();
        let root = json!({
            "format": "doorstep",
            "version": JSON_VERSION,
            "blocks": blocks,
        });
        serde_json::to_writer_pretty(&mut *out, &root)?;
        out.write_all(b"\n")
    }
}

fn value(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Integer(n) => json!(n),
        // Non-finite numbers have no JSON form.
        Value::Number(x) => serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number),
        Value::Text(s) => Json::String(s.clone()),
        Value::List(items) => json!(items),
    }
}

fn cell(c: Option<&Cell>) -> Json {
    c.map_or(Json::Null, |c| value(&c.value))
}

fn item(i: &Item) -> Json {
    let mut m = Map::new();
    for (k, v) in &i.fields {
        m.insert(k.clone(), value(v));
    }
    if !i.children.is_empty() {
        m.insert(
            i.children_key.clone(),
            Json::Array(i.children.iter().map(item).collect()),
        );
    }
    Json::Object(m)
}

fn block(b: &Block) -> Json {
    match b {
        Block::Heading(text) => json!({"kind": "heading", "text": text}),
        Block::Paragraph(text) => json!({"kind": "paragraph", "text": text}),
        Block::Note { severity, text } => {
            json!({"kind": "note", "severity": severity.as_str(), "text": text})
        }
        Block::Table(t) => {
            let columns: Vec<Json> = t
                .columns
                .iter()
                .map(|c| json!({"key": c.key, "title": c.title, "type": c.kind.as_str()}))
                .collect();
            let rows: Vec<Json> = t
                .rows
                .iter()
                .map(|row| {
                    let m: Map<String, Json> = t
                        .columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.key.clone(), cell(row.get(i))))
                        .collect();
                    Json::Object(m)
                })
                .collect();
            json!({"kind": "table", "name": t.name, "columns": columns, "rows": rows})
        }
        Block::Fields(f) => {
            let m: Map<String, Json> = f
                .items
                .iter()
                .map(|i| (i.key.clone(), value(&i.cell.value)))
                .collect();
            json!({"kind": "fields", "name": f.name, "fields": m})
        }
        Block::Outline(o) => {
            let items: Vec<Json> = o.items.iter().map(item).collect();
            json!({"kind": "outline", "name": o.name, "items": items})
        }
        Block::Preformatted { name, text } => {
            json!({"kind": "text", "name": name, "text": text})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::document::{Cell, Column, Fields, Outline, Table};

    #[test]
    fn tables_become_rows_keyed_by_column_with_typed_values() {
        let mut t = Table::new(
            "responses",
            vec![
                Column::text("id", "ID"),
                Column::integer("answers", "ANSWERS"),
                Column::text("replaces", "REPLACES").machine_only(),
            ],
        );
        t.push(vec![
            Cell::from("r1").shown_as("R-1"),
            Cell::from(3usize),
            Cell::from(None::<String>),
        ]);
        // A short row is padded with nulls.
        t.push(vec![Cell::from("r\u{1b}2")]);
        let mut f = Fields::new("settings");
        f.add("officer", Cell::from("PC 1").shown_as("PC 1 on laptop"));
        f.add_hidden("lat", 53.5);
        f.add_hidden("bad", f64::NAN);
        let mut doc = Document::new();
        doc.warning("careful")
            .table(t)
            .fields(f)
            .outline(Outline::new(
                "townships",
                vec![
                    Item::new("North")
                        .field("township", "North")
                        .children("wards", vec![Item::new("w").field("code", "W1")]),
                ],
            ));
        let mut out = Vec::new();
        JsonRenderer.render(&doc, &mut out).unwrap();
        let json: Json = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            json,
            json!({
                "format": "doorstep",
                "version": 1,
                "blocks": [
                    {"kind": "note", "severity": "warning", "text": "careful"},
                    {"kind": "table", "name": "responses",
                     "columns": [
                        {"key": "id", "title": "ID", "type": "text"},
                        {"key": "answers", "title": "ANSWERS", "type": "integer"},
                        {"key": "replaces", "title": "REPLACES", "type": "text"}
                     ],
                     "rows": [
                        {"id": "r1", "answers": 3, "replaces": null},
                        {"id": "r\u{1b}2", "answers": null, "replaces": null}
                     ]},
                    {"kind": "fields", "name": "settings",
                     "fields": {"officer": "PC 1", "lat": 53.5, "bad": null}},
                    {"kind": "outline", "name": "townships",
                     "items": [{"township": "North", "wards": [{"code": "W1"}]}]}
                ]
            })
        );
        // serde_json escapes control characters itself: nothing raw reaches the terminal.
        assert!(!out.contains(&0x1b), "{}", String::from_utf8_lossy(&out));
    }
}
