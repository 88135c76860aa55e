//! The document every command builds: headings, tables with typed columns, key/value
//! fields, outlines (trees and records), notes and preformatted text.
//!
//! Every piece carries both what a person reads and the typed value a machine reads, so
//! each renderer picks what it needs and none of them re-parses text.

/// One command's output, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A line that opens a section.
    Heading(String),
    /// One line of prose.
    Paragraph(String),
    /// A remark about the output: a hint, or a warning about the data.
    Note {
        severity: Severity,
        text: String,
    },
    Table(Table),
    Fields(Fields),
    Outline(Outline),
    /// Text laid out by its producer (the paper questionnaire, the recovery report): shown as
    /// it is, line by line.
    Preformatted {
        name: String,
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
        }
    }
}

/// A typed value: what JSON (and any later machine format) carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Integer(i64),
    Number(f64),
    Text(String),
    List(Vec<String>),
}

impl Value {
    /// How a person reads the value when no other wording is given.
    pub fn display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(true) => "yes".into(),
            Value::Bool(false) => "no".into(),
            Value::Integer(n) => n.to_string(),
            Value::Number(x) => x.to_string(),
            Value::Text(s) => s.clone(),
            Value::List(items) => items.join(", "),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Text(s.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Value {
        i64::try_from(n).map_or(Value::Number(n as f64), Value::Integer)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Value {
        Value::Integer(i64::from(n))
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Number(x)
    }
}

impl From<Vec<String>> for Value {
    fn from(items: Vec<String>) -> Value {
        Value::List(items)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// A value with, optionally, the words a person should see instead of its plain display
/// (e.g. `(not set)` for a missing setting, a date in local wording).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub value: Value,
    pub text: Option<String>,
}

impl Cell {
    pub fn shown_as(mut self, text: impl Into<String>) -> Cell {
        self.text = Some(text.into());
        self
    }

    /// The words a text renderer shows.
    pub fn display(&self) -> String {
        self.text.clone().unwrap_or_else(|| self.value.display())
    }
}

impl<T: Into<Value>> From<T> for Cell {
    fn from(v: T) -> Cell {
        Cell {
            value: v.into(),
            text: None,
        }
    }
}

/// What a column holds; numbers are right-aligned by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Number,
    Bool,
    /// A date or time, as text (RFC 3339 in machine formats).
    Time,
    List,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::Bool => "bool",
            Kind::Time => "time",
            Kind::List => "list",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The stable machine name (a JSON field name): lower-case, underscores.
    pub key: String,
    /// The header a person reads.
    pub title: String,
    pub kind: Kind,
    pub align: Align,
    /// Clip text wider than this many terminal cells (the text renderer adds `…`).
    pub max_width: Option<usize>,
    /// Only machine formats carry this column (a person reads its value in another one).
    pub machine_only: bool,
}

impl Column {
    pub fn new(key: &str, title: &str, kind: Kind) -> Column {
        let align = match kind {
            Kind::Integer | Kind::Number => Align::Right,
            _ => Align::Left,
        };
        Column {
            key: key.to_owned(),
            title: title.to_owned(),
            kind,
            align,
            max_width: None,
            machine_only: false,
        }
    }

    pub fn text(key: &str, title: &str) -> Column {
        Column::new(key, title, Kind::Text)
    }

    pub fn integer(key: &str, title: &str) -> Column {
        Column::new(key, title, Kind::Integer)
    }

    pub fn time(key: &str, title: &str) -> Column {
        Column::new(key, title, Kind::Time)
    }

    pub fn max_width(mut self, cells: usize) -> Column {
        self.max_width = Some(cells);
        self
    }

    pub fn machine_only(mut self) -> Column {
        self.machine_only = true;
        self
    }

    pub fn align(mut self, align: Align) -> Column {
        self.align = align;
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The stable machine name of what the rows are (`responses`, `surveys`, …).
    pub name: String,
    pub columns: Vec<Column>,
    /// One cell per column; a short row is padded with nulls by the renderers.
    pub rows: Vec<Vec<Cell>>,
    /// What a person reads instead of an empty table (e.g. `no responses`).
    pub empty: Option<String>,
}

impl Table {
    pub fn new(name: &str, columns: Vec<Column>) -> Table {
        Table {
            name: name.to_owned(),
            columns,
            rows: Vec::new(),
            empty: None,
        }
    }

    pub fn when_empty(mut self, text: &str) -> Table {
        self.empty = Some(text.to_owned());
        self
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }
}

/// A key/value list describing one thing.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    pub name: String,
    pub items: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The stable machine name.
    pub key: String,
    /// The label a person reads; `None` keeps the field out of text (its value is already
    /// part of another field's wording there).
    pub label: Option<String>,
    pub cell: Cell,
}

impl Fields {
    pub fn new(name: &str) -> Fields {
        Fields {
            name: name.to_owned(),
            items: Vec::new(),
        }
    }

    /// A field shown under its key.
    pub fn add(&mut self, key: &str, cell: impl Into<Cell>) -> &mut Fields {
        self.add_labelled(key, key, cell)
    }

    pub fn add_labelled(&mut self, key: &str, label: &str, cell: impl Into<Cell>) -> &mut Fields {
        self.items.push(Field {
            key: key.to_owned(),
            label: Some(label.to_owned()),
            cell: cell.into(),
        });
        self
    }

    /// A field only machine formats carry.
    pub fn add_hidden(&mut self, key: &str, value: impl Into<Value>) -> &mut Fields {
        self.items.push(Field {
            key: key.to_owned(),
            label: None,
            cell: Cell::from(value.into()),
        });
        self
    }
}

/// Items with sub-items: a tree (township → ward → PAA) or a list of records each with a
/// few detail lines (the answers of a response).
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    pub name: String,
    pub items: Vec<Item>,
    pub empty: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The line a person reads for this item.
    pub text: String,
    /// Lines shown under it in text (their content is in `fields` for machines).
    pub details: Vec<String>,
    /// The typed content, by stable key.
    pub fields: Vec<(String, Value)>,
    /// The key under which machine formats list the children.
    pub children_key: String,
    pub children: Vec<Item>,
}

impl Item {
    pub fn new(text: impl Into<String>) -> Item {
        Item {
            text: text.into(),
            details: Vec::new(),
            fields: Vec::new(),
            children_key: "children".to_owned(),
            children: Vec::new(),
        }
    }

    pub fn field(mut self, key: &str, value: impl Into<Value>) -> Item {
        self.fields.push((key.to_owned(), value.into()));
        self
    }

    pub fn detail(mut self, line: impl Into<String>) -> Item {
        self.details.push(line.into());
        self
    }

    pub fn children(mut self, key: &str, children: Vec<Item>) -> Item {
        key.clone_into(&mut self.children_key);
        self.children = children;
        self
    }
}

impl Outline {
    pub fn new(name: &str, items: Vec<Item>) -> Outline {
        Outline {
            name: name.to_owned(),
            items,
            empty: None,
        }
    }

    pub fn when_empty(mut self, text: &str) -> Outline {
        self.empty = Some(text.to_owned());
        self
    }
}

impl Document {
    pub fn new() -> Document {
        Document::default()
    }

    pub fn push(&mut self, block: Block) -> &mut Document {
        self.blocks.push(block);
        self
    }

    pub fn heading(&mut self, text: impl Into<String>) -> &mut Document {
        self.push(Block::Heading(text.into()))
    }

    pub fn paragraph(&mut self, text: impl Into<String>) -> &mut Document {
        self.push(Block::Paragraph(text.into()))
    }

    pub fn note(&mut self, text: impl Into<String>) -> &mut Document {
        self.push(Block::Note {
            severity: Severity::Info,
            text: text.into(),
        })
    }

    pub fn warning(&mut self, text: impl Into<String>) -> &mut Document {
        self.push(Block::Note {
            severity: Severity::Warning,
            text: text.into(),
        })
    }

    pub fn table(&mut self, table: Table) -> &mut Document {
        self.push(Block::Table(table))
    }

    pub fn fields(&mut self, fields: Fields) -> &mut Document {
        self.push(Block::Fields(fields))
    }

    pub fn outline(&mut self, outline: Outline) -> &mut Document {
        self.push(Block::Outline(outline))
    }

    pub fn preformatted(&mut self, name: &str, text: impl Into<String>) -> &mut Document {
        self.push(Block::Preformatted {
            name: name.to_owned(),
            text: text.into(),
        })
    }
}
