//! The JSON renderer: the document as one JSON object, for scripts and other tools.
//!
//! The shape is stable (field names are part of the interface; see the module docs of
//! [`crate::output`]): `{"format": "doorstep", "version": 1, "blocks": [...]}`.

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value as Json, json};

use super::Renderer;
use super::document::{Block, Cell, Document, Item, Table, Value};

/// Version of the JSON shape; raised only when a field is renamed or removed.
pub const JSON_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, Default)]
pub struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn render(&self, doc: &Document, out: &mut dyn Write) -> io::Result<()> {
        let root = Node::object(vec![
            ("format", Node::Leaf(json!("doorstep"))),
            ("version", Node::Leaf(json!(JSON_VERSION))),
            (
                "blocks",
                Node::Array(doc.blocks.iter().map(block).collect()),
            ),
        ]);
        serde_json::to_writer_pretty(&mut *out, &root)?;
        out.write_all(b"\n")
    }
}

/// JSON kept in document order (`kind` first, row keys in column order), which a reader of
/// the output expects; `serde_json`'s own map sorts its keys.
enum Node {
    Leaf(Json),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn object(pairs: Vec<(&str, Node)>) -> Node {
        let mut node = Node::Object(Vec::with_capacity(pairs.len()));
        for (k, v) in pairs {
            node.insert(k, v);
        }
        node
    }

    /// Adds a key, replacing an earlier one of the same name (a key appears once).
    fn insert(&mut self, key: &str, value: Node) {
        if let Node::Object(pairs) = self {
            match pairs.iter_mut().find(|(k, _)| k == key) {
                Some(pair) => pair.1 = value,
                None => pairs.push((key.to_owned(), value)),
            }
        }
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Leaf(v) => v.serialize(s),
            Node::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Node::Object(pairs) => {
                let mut map = s.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

fn value(v: &Value) -> Node {
    Node::Leaf(match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Integer(n) => json!(n),
        // Non-finite numbers have no JSON form.
        Value::Number(x) => serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number),
        Value::Text(s) => Json::String(s.clone()),
        Value::List(items) => json!(items),
    })
}

fn text(s: &str) -> Node {
    Node::Leaf(Json::String(s.to_owned()))
}

fn cell(c: Option<&Cell>) -> Node {
    c.map_or(Node::Leaf(Json::Null), |c| value(&c.value))
}

fn item(i: &Item) -> Node {
    let mut node = Node::Object(Vec::new());
    for (k, v) in &i.fields {
        node.insert(k, value(v));
    }
    if !i.children.is_empty() {
        node.insert(
            &i.children_key,
            Node::Array(i.children.iter().map(item).collect()),
        );
    }
    node
}

fn row_node(t: &Table, row: &[Cell]) -> Node {
    let mut node = Node::Object(Vec::new());
    for (i, c) in t.columns.iter().enumerate() {
        node.insert(&c.key, cell(row.get(i)));
    }
    node
}

/// One row of `t` as the whole document's JSON prints it, without the indent of its place.
pub(crate) fn row_pretty(t: &Table, row: &[Cell]) -> io::Result<String> {
    Ok(serde_json::to_string_pretty(&row_node(t, row))?)
}

fn block(b: &Block) -> Node {
    match b {
        Block::Heading(t) => Node::object(vec![("kind", text("heading")), ("text", text(t))]),
        Block::Paragraph(t) => Node::object(vec![("kind", text("paragraph")), ("text", text(t))]),
        Block::Note { severity, text: t } => Node::object(vec![
            ("kind", text("note")),
            ("severity", text(severity.as_str())),
            ("text", text(t)),
        ]),
        Block::Table(t) => {
            let columns = t
                .columns
                .iter()
                .map(|c| {
                    Node::object(vec![
                        ("key", text(&c.key)),
                        ("title", text(&c.title)),
                        ("type", text(c.kind.as_str())),
                    ])
                })
                .collect();
            let rows = t.rows.iter().map(|row| row_node(t, row)).collect();
            Node::object(vec![
                ("kind", text("table")),
                ("name", text(&t.name)),
                ("columns", Node::Array(columns)),
                ("rows", Node::Array(rows)),
            ])
        }
        Block::Fields(f) => {
            let mut fields = Node::Object(Vec::new());
            for i in &f.items {
                fields.insert(&i.key, value(&i.cell.value));
            }
            Node::object(vec![
                ("kind", text("fields")),
                ("name", text(&f.name)),
                ("fields", fields),
            ])
        }
        Block::Outline(o) => Node::object(vec![
            ("kind", text("outline")),
            ("name", text(&o.name)),
            ("items", Node::Array(o.items.iter().map(item).collect())),
        ]),
        Block::Preformatted { name, text: t } => Node::object(vec![
            ("kind", text("text")),
            ("name", text(name)),
            ("text", text(t)),
        ]),
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
        // Keys in document order: `kind` first, row keys in column order.
        let text = String::from_utf8(out).unwrap();
        let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle}"));
        assert!(at("\"format\"") < at("\"version\"") && at("\"version\"") < at("\"blocks\""));
        assert!(at("\"kind\": \"table\"") < at("\"name\": \"responses\""));
        assert!(
            at("\"id\": \"r1\"") < at("\"answers\": 3")
                && at("\"answers\": 3") < at("\"replaces\": null")
        );
    }
}
