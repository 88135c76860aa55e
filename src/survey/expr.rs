//! The condition language of `show_if`, `constraint` and `urgent_if`.
//!
//! ```text
//! expr    := and ('or' and)*
//! and     := not ('and' not)*
//! not     := 'not' not | cmp
//! cmp     := term (('=' | '==' | '!=' | '<' | '<=' | '>' | '>=') term | 'in' term)?
//! term    := NUMBER | STRING | '.' | IDENT | 'answered' '(' IDENT ')' | 'count' '(' IDENT ')'
//!          | '[' (term (',' term)*)? ']' | '(' expr ')'
//! ```
//! Parsed once at load; evaluation is total (an unanswered question makes every
//! comparison with it false) and never panics. Brackets and `not`s may nest at most
//! [`MAX_DEPTH`] deep, so parsing, evaluating and describing (all recursive) cannot
//! overflow the stack on a hostile file.

use std::fmt;

use serde::{Serialize, Serializer};

use super::answer::{Answer, Grade};

/// How deep brackets and `not`s may nest. Real conditions use two or three levels.
pub const MAX_DEPTH: usize = 32;

/// A parse error at a character offset in the expression's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.offset + 1)
    }
}

/// A parsed condition. Serialises as its source text (that is what the fingerprint hashes).
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    source: String,
    node: Node,
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn words(self) -> &'static str {
        match self {
            CmpOp::Eq => "is",
            CmpOp::Ne => "is not",
            CmpOp::Lt => "is less than",
            CmpOp::Le => "is at most",
            CmpOp::Gt => "is more than",
            CmpOp::Ge => "is at least",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Cmp(Term, CmpOp, Term),
    In(Term, Term),
    Answered(Ref),
}

/// A reference to a question, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Ref {
    pub id: String,
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Term {
    Num(f64),
    Str(String, usize),
    Current,
    Question(Ref),
    Count(Ref),
    /// `count(.)`: how many values the answer being checked holds.
    CountCurrent,
    List(Vec<Term>),
}

/// A quoted value compared with a question's answer, for checking against its choices.
#[derive(Debug, Clone, PartialEq)]
pub struct LiteralUse<'a> {
    pub question: &'a Ref,
    pub value: &'a str,
    pub offset: usize,
}

impl Expr {
    pub fn parse(source: &str) -> Result<Expr, ExprError> {
        let tokens = lex(source)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            end: source.chars().count(),
            depth: 0,
        };
        let node = p.or()?;
        if let Some(t) = p.peek() {
            return Err(ExprError {
                offset: t.offset,
                message: format!("unexpected {}", t.kind.describe()),
            });
        }
        Ok(Expr {
            source: source.to_owned(),
            node,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Every question the expression refers to, in order of appearance.
    pub fn references(&self) -> Vec<&Ref> {
        let mut out = Vec::new();
        self.node.walk(&mut |n| match n {
            Visit::Term(Term::Question(r) | Term::Count(r)) => out.push(r),
            Visit::Node(Node::Answered(r)) => out.push(r),
            _ => {}
        });
        out
    }

    /// Whether the expression uses `.` (the answer being checked).
    pub fn uses_current(&self) -> bool {
        let mut found = false;
        self.node.walk(&mut |n| {
            if matches!(n, Visit::Term(Term::Current | Term::CountCurrent)) {
                found = true;
            }
        });
        found
    }

    /// Every quoted value compared with a question's answer: `q = 'x'`, `'x' in q`,
    /// `q in ['x', 'y']`.
    pub fn literal_uses(&self) -> Vec<LiteralUse<'_>> {
        let mut out = Vec::new();
        self.node.walk_nodes(&mut |n| {
            let (a, b) = match n {
                Node::Cmp(a, _, b) | Node::In(a, b) => (a, b),
                _ => return,
            };
            for (q, other) in [(a, b), (b, a)] {
                let Term::Question(r) = q else { continue };
                match other {
                    Term::Str(s, offset) => out.push(LiteralUse {
                        question: r,
                        value: s,
                        offset: *offset,
                    }),
                    Term::List(items) => {
                        for item in items {
                            if let Term::Str(s, offset) = item {
                                out.push(LiteralUse {
                                    question: r,
                                    value: s,
                                    offset: *offset,
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
        });
        out
    }

    /// Quoted values compared with `.` (the answer being checked), with their offsets.
    pub fn current_literal_uses(&self) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        self.node.walk_nodes(&mut |n| {
            let (a, b) = match n {
                Node::Cmp(a, _, b) | Node::In(a, b) => (a, b),
                _ => return,
            };
            for (cur, other) in [(a, b), (b, a)] {
                if !matches!(cur, Term::Current) {
                    continue;
                }
                match other {
                    Term::Str(s, o) => out.push((s.clone(), *o)),
                    Term::List(items) => out.extend(items.iter().filter_map(|i| match i {
                        Term::Str(s, o) => Some((s.clone(), *o)),
                        _ => None,
                    })),
                    _ => {}
                }
            }
        });
        out
    }

    /// Evaluates the condition. `lookup` gives the answer to a question id, `current` the
    /// answer being checked (for `.`).
    pub fn eval<'a>(
        &self,
        lookup: &dyn Fn(&str) -> Option<&'a Answer>,
        current: Option<&'a Answer>,
    ) -> bool {
        self.node.eval(lookup, current)
    }

    /// Evaluates with "not answered yet" as unknown: `Some(b)` when the answers so far
    /// settle the condition, `None` when it waits on a question still to come.
    pub fn settled<'a>(&self, lookup: &dyn Fn(&str) -> Option<&'a Answer>) -> Option<bool> {
        self.node.settled(lookup)
    }

    /// The condition in plain words, for the printed questionnaire. `label` names a question.
    /// The condition in plain words. `label` names a question; `value` gives the label of a
    /// question's choice value, so conditions read "is \"Someone who lives here\"".
    pub fn describe(
        &self,
        label: &dyn Fn(&str) -> String,
        value: &dyn Fn(&str, &str) -> Option<String>,
    ) -> String {
        self.describe_in(label, value, &|w| w.to_owned())
    }

    /// As [`Expr::describe`], with the connecting words ("is", "and", "was answered", …)
    /// given by `word` (English in, the reader's language out).
    pub fn describe_in(
        &self,
        label: &dyn Fn(&str) -> String,
        value: &dyn Fn(&str, &str) -> Option<String>,
        word: &dyn Fn(&str) -> String,
    ) -> String {
        self.node.describe(&Words { label, value, word })
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// How to name questions and choice values in words.
struct Words<'a> {
    label: &'a dyn Fn(&str) -> String,
    value: &'a dyn Fn(&str, &str) -> Option<String>,
    /// The connecting words ("is", "and", …) in the reader's language.
    word: &'a dyn Fn(&str) -> String,
}

enum Visit<'a> {
    Node(&'a Node),
    Term(&'a Term),
}

impl Node {
    fn walk<'a>(&'a self, f: &mut dyn FnMut(Visit<'a>)) {
        f(Visit::Node(self));
        match self {
            Node::Or(v) | Node::And(v) => v.iter().for_each(|n| n.walk(f)),
            Node::Not(n) => n.walk(f),
            Node::Cmp(a, _, b) | Node::In(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Node::Answered(_) => {}
        }
    }

    fn walk_nodes<'a>(&'a self, f: &mut dyn FnMut(&'a Node)) {
        self.walk(&mut |v| {
            if let Visit::Node(n) = v {
                f(n)
            }
        });
    }

    fn eval<'a>(
        &self,
        lookup: &dyn Fn(&str) -> Option<&'a Answer>,
        current: Option<&'a Answer>,
    ) -> bool {
        match self {
            Node::Or(v) => v.iter().any(|n| n.eval(lookup, current)),
            Node::And(v) => v.iter().all(|n| n.eval(lookup, current)),
            Node::Not(n) => !n.eval(lookup, current),
            Node::Answered(r) => lookup(&r.id).is_some_and(Answer::is_given),
            Node::Cmp(a, op, b) => {
                compare(&a.value(lookup, current), *op, &b.value(lookup, current))
            }
            Node::In(a, b) => contains(&b.value(lookup, current), &a.value(lookup, current)),
        }
    }

    fn settled<'a>(&self, lookup: &dyn Fn(&str) -> Option<&'a Answer>) -> Option<bool> {
        match self {
            Node::Or(v) => {
                let parts: Vec<Option<bool>> = v.iter().map(|n| n.settled(lookup)).collect();
                if parts.contains(&Some(true)) {
                    Some(true)
                } else if parts.iter().all(|p| *p == Some(false)) {
                    Some(false)
                } else {
                    None
                }
            }
            Node::And(v) => {
                let parts: Vec<Option<bool>> = v.iter().map(|n| n.settled(lookup)).collect();
                if parts.contains(&Some(false)) {
                    Some(false)
                } else if parts.iter().all(|p| *p == Some(true)) {
                    Some(true)
                } else {
                    None
                }
            }
            Node::Not(n) => n.settled(lookup).map(|b| !b),
            _ => {
                let mut waiting = false;
                self.walk(&mut |v| match v {
                    Visit::Term(Term::Question(r) | Term::Count(r))
                    | Visit::Node(Node::Answered(r)) => {
                        waiting |= lookup(&r.id).is_none();
                    }
                    _ => {}
                });
                if waiting {
                    None
                } else {
                    Some(self.eval(lookup, None))
                }
            }
        }
    }

    fn describe(&self, w: &Words) -> String {
        // The question a literal is compared with, so the literal can be shown by its label.
        let subject = |a: &Term, b: &Term| match (a, b) {
            (Term::Question(r), _) | (_, Term::Question(r)) => Some(r.id.clone()),
            // `.`: the caller knows which question is being checked.
            (Term::Current, _) | (_, Term::Current) => Some(".".to_owned()),
            _ => None,
        };
        match self {
            Node::Or(v) => v
                .iter()
                .map(|n| n.describe_nested(w))
                .collect::<Vec<_>>()
                .join(&format!(" {} ", (w.word)("or"))),
            Node::And(v) => v
                .iter()
                .map(|n| n.describe_nested(w))
                .collect::<Vec<_>>()
                .join(&format!(" {} ", (w.word)("and"))),
            Node::Not(n) => format!("{} ({})", (w.word)("not"), n.describe(w)),
            Node::Answered(r) => format!("{} {}", (w.label)(&r.id), (w.word)("was answered")),
            Node::Cmp(a, op, b) => {
                let q = subject(a, b);
                format!(
                    "{} {} {}",
                    a.describe(w, q.as_deref()),
                    (w.word)(op.words()),
                    b.describe(w, q.as_deref())
                )
            }
            Node::In(a, b @ Term::List(_)) => {
                let q = subject(a, b);
                format!(
                    "{} {} {}",
                    a.describe(w, q.as_deref()),
                    (w.word)("is one of"),
                    b.describe(w, q.as_deref())
                )
            }
            Node::In(a, b) => {
                let q = subject(a, b);
                format!(
                    "{} {} {}",
                    b.describe(w, q.as_deref()),
                    (w.word)("includes"),
                    a.describe(w, q.as_deref())
                )
            }
        }
    }

    fn describe_nested(&self, w: &Words) -> String {
        match self {
            Node::Or(_) | Node::And(_) => format!("({})", self.describe(w)),
            _ => self.describe(w),
        }
    }
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Missing,
    Num(f64),
    Str(String),
    /// A multi-valued answer (multiple choice, rank, issues).
    Multi(Vec<String>),
    List(Vec<Value>),
}

impl Term {
    fn walk<'a>(&'a self, f: &mut dyn FnMut(Visit<'a>)) {
        f(Visit::Term(self));
        if let Term::List(items) = self {
            items.iter().for_each(|t| t.walk(f));
        }
    }

    fn value<'a>(
        &self,
        lookup: &dyn Fn(&str) -> Option<&'a Answer>,
        current: Option<&'a Answer>,
    ) -> Value {
        match self {
            Term::Num(n) => Value::Num(*n),
            Term::Str(s, _) => Value::Str(s.clone()),
            Term::Current => answer_value(current),
            Term::Question(r) => answer_value(lookup(&r.id)),
            Term::Count(r) => Value::Num(
                lookup(&r.id)
                    .map(|a| a.values().len() as f64)
                    .unwrap_or(0.0),
            ),
            Term::CountCurrent => {
                Value::Num(current.map(|a| a.values().len() as f64).unwrap_or(0.0))
            }
            Term::List(items) => {
                Value::List(items.iter().map(|t| t.value(lookup, current)).collect())
            }
        }
    }

    fn describe(&self, w: &Words, subject: Option<&str>) -> String {
        match self {
            Term::Num(n) => format!("{n}"),
            Term::Str(s, _) => {
                let shown = subject
                    .and_then(|q| (w.value)(q, s))
                    .unwrap_or_else(|| s.clone());
                format!("\"{shown}\"")
            }
            Term::Current => (w.word)("the answer"),
            Term::Question(r) => (w.label)(&r.id),
            Term::Count(r) => format!(
                "{} {}",
                (w.word)("the number of answers to"),
                (w.label)(&r.id)
            ),
            Term::CountCurrent => (w.word)("the number of answers given"),
            Term::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|t| t.describe(w, subject))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

fn answer_value(answer: Option<&Answer>) -> Value {
    match answer {
        None | Some(Answer::Skipped) => Value::Missing,
        Some(a @ (Answer::Number(_) | Answer::Count(_))) => {
            a.number().map(Value::Num).unwrap_or(Value::Missing)
        }
        Some(a @ (Answer::Choices(_) | Answer::Rank(_) | Answer::Issues(_))) => {
            Value::Multi(a.values())
        }
        Some(a) => a
            .values()
            .into_iter()
            .next()
            .map(Value::Str)
            .unwrap_or(Value::Missing),
    }
}

fn compare(a: &Value, op: CmpOp, b: &Value) -> bool {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (a, b) {
        (Value::Missing, _) | (_, Value::Missing) => return false,
        (Value::Num(x), Value::Num(y)) => x.partial_cmp(y),
        (Value::Num(x), Value::Str(s)) => {
            s.trim().parse::<f64>().ok().and_then(|y| x.partial_cmp(&y))
        }
        (Value::Str(s), Value::Num(y)) => {
            s.trim().parse::<f64>().ok().and_then(|x| x.partial_cmp(y))
        }
        (Value::Str(x), Value::Str(y)) => match (Grade::parse(x), Grade::parse(y)) {
            (Some(gx), Some(gy)) => Some(gx.cmp(&gy)),
            _ => Some(x.cmp(y)),
        },
        // `multi = 'x'` reads as "includes x"; `multi != 'x'` as "does not include x".
        (Value::Multi(v), Value::Str(s)) | (Value::Str(s), Value::Multi(v)) => {
            return match op {
                CmpOp::Eq => v.contains(s),
                CmpOp::Ne => !v.contains(s),
                _ => false,
            };
        }
        _ => None,
    };
    let Some(ord) = ordering else { return false };
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    }
}

/// `needle in haystack`.
fn contains(haystack: &Value, needle: &Value) -> bool {
    match (haystack, needle) {
        (_, Value::Missing) | (Value::Missing, _) => false,
        (Value::List(items), Value::Multi(vals)) => vals.iter().any(|v| {
            items
                .iter()
                .any(|i| compare(i, CmpOp::Eq, &Value::Str(v.clone())))
        }),
        (Value::List(items), n) => items.iter().any(|i| compare(i, CmpOp::Eq, n)),
        (Value::Multi(vals), Value::Str(s)) => vals.contains(s),
        (Value::Multi(vals), Value::Multi(n)) => n.iter().all(|x| vals.contains(x)),
        (Value::Str(h), Value::Str(n)) => h.contains(n.as_str()),
        _ => false,
    }
}

// ---- lexer ----

#[derive(Debug, Clone, PartialEq)]
enum TokKind {
    Num(f64),
    Str(String),
    Ident(String),
    Dot,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Op(CmpOp),
}

impl TokKind {
    fn describe(&self) -> String {
        match self {
            TokKind::Num(n) => format!("number {n}"),
            TokKind::Str(s) => format!("string '{s}'"),
            TokKind::Ident(s) => format!("`{s}`"),
            TokKind::Dot => "`.`".into(),
            TokKind::LParen => "`(`".into(),
            TokKind::RParen => "`)`".into(),
            TokKind::LBracket => "`[`".into(),
            TokKind::RBracket => "`]`".into(),
            TokKind::Comma => "`,`".into(),
            TokKind::Op(op) => format!(
                "`{}`",
                match op {
                    CmpOp::Eq => "=",
                    CmpOp::Ne => "!=",
                    CmpOp::Lt => "<",
                    CmpOp::Le => "<=",
                    CmpOp::Gt => ">",
                    CmpOp::Ge => ">=",
                }
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: TokKind,
    offset: usize,
}

fn lex(source: &str) -> Result<Vec<Token>, ExprError> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |offset: usize, message: String| ExprError { offset, message };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let single = |kind| Token {
            kind,
            offset: start,
        };
        match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => out.push(single(TokKind::LParen)),
            ')' => out.push(single(TokKind::RParen)),
            '[' => out.push(single(TokKind::LBracket)),
            ']' => out.push(single(TokKind::RBracket)),
            ',' => out.push(single(TokKind::Comma)),
            '.' if !chars.get(i + 1).is_some_and(char::is_ascii_digit) => {
                out.push(single(TokKind::Dot))
            }
            '=' => {
                if chars.get(i + 1) == Some(&'=') {
                    i += 1;
                }
                out.push(single(TokKind::Op(CmpOp::Eq)));
            }
            '!' => {
                if chars.get(i + 1) != Some(&'=') {
                    return Err(err(
                        i,
                        "`!` must be followed by `=` (use `not` to negate)".into(),
                    ));
                }
                i += 1;
                out.push(single(TokKind::Op(CmpOp::Ne)));
            }
            '<' | '>' => {
                let op = match (c, chars.get(i + 1)) {
                    ('<', Some('=')) => Some(CmpOp::Le),
                    ('>', Some('=')) => Some(CmpOp::Ge),
                    ('<', Some('>')) => Some(CmpOp::Ne),
                    _ => None,
                };
                let op = match op {
                    Some(op) => {
                        i += 1;
                        op
                    }
                    None if c == '<' => CmpOp::Lt,
                    None => CmpOp::Gt,
                };
                out.push(single(TokKind::Op(op)));
            }
            '\'' | '"' => {
                let quote = c;
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err(start, "unterminated string".into())),
                        Some(&ch) if ch == quote => break,
                        Some(&ch) => s.push(ch),
                    }
                    i += 1;
                }
                out.push(single(TokKind::Str(s)));
            }
            c if c.is_ascii_digit()
                || c == '.'
                || (c == '-'
                    && chars
                        .get(i + 1)
                        .is_some_and(|d| d.is_ascii_digit() || *d == '.')) =>
            {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                let n = text
                    .parse::<f64>()
                    .map_err(|_| err(start, format!("`{text}` is not a number")))?;
                out.push(single(TokKind::Num(n)));
                i = j;
                continue;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while j < chars.len()
                    && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '-')
                {
                    j += 1;
                }
                out.push(single(TokKind::Ident(chars[i..j].iter().collect())));
                i = j;
                continue;
            }
            other => return Err(err(i, format!("unexpected character `{other}`"))),
        }
        i += 1;
    }
    Ok(out)
}

// ---- parser ----

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Offset just past the end, for "expected … at end" errors.
    end: usize,
    /// Brackets and `not`s open around the current position.
    depth: usize,
}

const KEYWORDS: [&str; 6] = ["and", "or", "not", "in", "answered", "count"];

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: TokKind::Ident(w), .. }) if w == word)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn here(&self) -> usize {
        self.peek().map(|t| t.offset).unwrap_or(self.end)
    }

    fn expect(&mut self, kind: TokKind, what: &str) -> Result<(), ExprError> {
        match self.next() {
            Some(t) if t.kind == kind => Ok(()),
            Some(t) => Err(ExprError {
                offset: t.offset,
                message: format!("expected {what}, found {}", t.kind.describe()),
            }),
            None => Err(ExprError {
                offset: self.end,
                message: format!("expected {what} at the end"),
            }),
        }
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        let mut items = vec![self.and()?];
        while self.is_word("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::Or(items)
        })
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        let mut items = vec![self.not()?];
        while self.is_word("and") {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::And(items)
        })
    }

    fn not(&mut self) -> Result<Node, ExprError> {
        if self.is_word("not") {
            self.enter()?;
            self.pos += 1;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Node::Not(Box::new(inner)));
        }
        self.cmp()
    }

    /// One more level of nesting, refused past [`MAX_DEPTH`] at the token that opens it.
    fn enter(&mut self) -> Result<(), ExprError> {
        if self.depth >= MAX_DEPTH {
            return Err(ExprError {
                offset: self.here(),
                message: format!(
                    "the condition nests brackets and `not`s more than {MAX_DEPTH} deep; \
                     split it or write it more simply"
                ),
            });
        }
        self.depth += 1;
        Ok(())
    }

    fn cmp(&mut self) -> Result<Node, ExprError> {
        let start = self.here();
        // A parenthesised condition, or `answered(q)`, stands alone.
        if matches!(
            self.peek(),
            Some(Token {
                kind: TokKind::LParen,
                ..
            })
        ) {
            self.enter()?;
            self.pos += 1;
            let inner = self.or()?;
            self.expect(TokKind::RParen, "`)`")?;
            self.depth -= 1;
            return Ok(inner);
        }
        if self.is_word("answered") {
            self.pos += 1;
            let r = self.call_arg()?;
            return Ok(Node::Answered(r));
        }
        let left = self.term()?;
        match self.peek().map(|t| t.kind.clone()) {
            Some(TokKind::Op(op)) => {
                self.pos += 1;
                let right = self.term()?;
                Ok(Node::Cmp(left, op, right))
            }
            Some(TokKind::Ident(w)) if w == "in" => {
                self.pos += 1;
                let right = self.term()?;
                if !matches!(right, Term::List(_) | Term::Question(_) | Term::Current) {
                    return Err(ExprError {
                        offset: start,
                        message: "`in` needs a list like ['a', 'b'] or a question on its right"
                            .into(),
                    });
                }
                Ok(Node::In(left, right))
            }
            _ => Err(ExprError {
                offset: start,
                message: "expected a comparison (=, !=, <, <=, >, >=, in) or answered(question)"
                    .into(),
            }),
        }
    }

    fn call_arg(&mut self) -> Result<Ref, ExprError> {
        self.expect(TokKind::LParen, "`(`")?;
        let r = match self.next() {
            Some(Token {
                kind: TokKind::Ident(id),
                offset,
            }) if !KEYWORDS.contains(&id.as_str()) => Ref { id, offset },
            Some(t) => {
                return Err(ExprError {
                    offset: t.offset,
                    message: format!("expected a question id, found {}", t.kind.describe()),
                });
            }
            None => {
                return Err(ExprError {
                    offset: self.end,
                    message: "expected a question id at the end".into(),
                });
            }
        };
        self.expect(TokKind::RParen, "`)`")?;
        Ok(r)
    }

    fn term(&mut self) -> Result<Term, ExprError> {
        let Some(t) = self.next() else {
            return Err(ExprError {
                offset: self.end,
                message: "expected a value at the end".into(),
            });
        };
        match t.kind {
            TokKind::Num(n) => Ok(Term::Num(n)),
            TokKind::Str(s) => Ok(Term::Str(s, t.offset)),
            TokKind::Dot => Ok(Term::Current),
            TokKind::Ident(w) if w == "count" => {
                if matches!(
                    self.tokens.get(self.pos + 1),
                    Some(Token {
                        kind: TokKind::Dot,
                        ..
                    })
                ) {
                    self.expect(TokKind::LParen, "`(`")?;
                    self.pos += 1;
                    self.expect(TokKind::RParen, "`)`")?;
                    return Ok(Term::CountCurrent);
                }
                Ok(Term::Count(self.call_arg()?))
            }
            TokKind::Ident(w) if KEYWORDS.contains(&w.as_str()) => Err(ExprError {
                offset: t.offset,
                message: format!("expected a value, found `{w}`"),
            }),
            TokKind::Ident(id) => Ok(Term::Question(Ref {
                id,
                offset: t.offset,
            })),
            TokKind::LBracket => {
                let mut items = Vec::new();
                if matches!(
                    self.peek(),
                    Some(Token {
                        kind: TokKind::RBracket,
                        ..
                    })
                ) {
                    self.pos += 1;
                    return Ok(Term::List(items));
                }
                loop {
                    // Refused before descending, so `[[[[…` cannot recurse without bound.
                    if let Some(Token {
                        kind: TokKind::LBracket,
                        ..
                    }) = self.peek()
                    {
                        return Err(ExprError {
                            offset: t.offset,
                            message: "lists cannot be nested".into(),
                        });
                    }
                    let item = self.term()?;
                    items.push(item);
                    match self.next() {
                        Some(Token {
                            kind: TokKind::Comma,
                            ..
                        }) => continue,
                        Some(Token {
                            kind: TokKind::RBracket,
                            ..
                        }) => break,
                        Some(other) => {
                            return Err(ExprError {
                                offset: other.offset,
                                message: format!(
                                    "expected `,` or `]`, found {}",
                                    other.kind.describe()
                                ),
                            });
                        }
                        None => {
                            return Err(ExprError {
                                offset: self.end,
                                message: "expected `]` at the end".into(),
                            });
                        }
                    }
                }
                Ok(Term::List(items))
            }
            other => Err(ExprError {
                offset: t.offset,
                message: format!("expected a value, found {}", other.describe()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::survey::answer::IssueCoding;

    fn eval(src: &str, answers: &BTreeMap<&str, Answer>, current: Option<&Answer>) -> bool {
        let e = Expr::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        e.eval(&|id| answers.get(id), current)
    }

    #[test]
    fn comparisons_and_logic() {
        let a = BTreeMap::from([
            ("consent", Answer::YesNo(true)),
            ("kind", Answer::Choice("resident".into())),
            ("years", Answer::Number(12.0)),
            (
                "named",
                Answer::Issues(IssueCoding {
                    issues: vec!["drugs".into(), "litter".into()],
                    other: None,
                }),
            ),
            ("litter_grade", Answer::Grade(Grade::C)),
            ("skipped", Answer::Skipped),
        ]);
        assert!(eval("consent = 'yes'", &a, None));
        assert!(eval("consent == \"yes\" and kind != 'business'", &a, None));
        assert!(eval("years >= 10 and years < 20", &a, None));
        assert!(eval("kind in ['resident', 'business']", &a, None));
        assert!(!eval("kind in ['business']", &a, None));
        assert!(eval("'drugs' in named", &a, None));
        assert!(eval("count(named) = 2", &a, None));
        assert!(eval("count(missing) = 0", &a, None));
        assert!(
            eval("litter_grade > 'B'", &a, None),
            "grades order A best to D worst"
        );
        assert!(eval("answered(years) and not answered(skipped)", &a, None));
        assert!(eval("not (kind = 'business' or years > 50)", &a, None));
        assert!(
            !eval("missing = 'x'", &a, None),
            "unanswered compares false"
        );
        assert!(
            !eval("missing != 'x'", &a, None),
            "unanswered compares false both ways"
        );
        assert!(eval(". >= 0 and . <= 80", &a, Some(&Answer::Count(3))));
        assert!(!eval(". > 0", &a, None));
        assert!(eval(
            "count(.) = 2",
            &a,
            Some(&Answer::Choices(vec!["a".into(), "b".into()]))
        ));
    }

    #[test]
    fn parse_errors_point_at_the_problem() {
        for (src, offset, needle) in [
            ("consent = ", 10, "expected a value at the end"),
            ("consent", 0, "expected a comparison"),
            ("a = 'x", 4, "unterminated string"),
            ("a = 1 b = 2", 6, "unexpected `b`"),
            ("a ! 1", 2, "`!` must be followed by `=`"),
            ("(a = 1", 6, "expected `)` at the end"),
            ("a in 3", 0, "`in` needs a list"),
            ("answered(and)", 9, "expected a question id"),
            ("a = 1 @", 6, "unexpected character `@`"),
        ] {
            let e = Expr::parse(src).expect_err(src);
            assert_eq!(e.offset, offset, "{src}: {e}");
            assert!(e.message.contains(needle), "{src}: {e}");
        }
    }

    #[test]
    fn nesting_past_the_limit_is_an_error_not_a_stack_overflow() {
        // These overflowed the stack before nesting was limited.
        let n = 10_000;
        let brackets = format!("{}a = 1{}", "(".repeat(n), ")".repeat(n));
        let e = Expr::parse(&brackets).expect_err("10,000 brackets");
        assert_eq!(e.offset, MAX_DEPTH, "{e}");
        assert!(e.message.contains("more than 32 deep"), "{e}");
        let nots = format!("{}a = 1", "not ".repeat(100_000));
        let e = Expr::parse(&nots).expect_err("100,000 nots");
        assert_eq!(e.offset, 4 * MAX_DEPTH, "{e}");
        let lists = format!("a in {}", "[".repeat(100_000));
        let e = Expr::parse(&lists).expect_err("nested lists");
        assert!(e.message.contains("lists cannot be nested"), "{e}");
        let mixed = format!("{}a = 1{}", "not (".repeat(n), ")".repeat(n));
        assert!(Expr::parse(&mixed).is_err());
    }

    #[test]
    fn nesting_up_to_the_limit_parses_and_evaluates() {
        let half = MAX_DEPTH / 2;
        let src = format!("{}a = 1{}", "not (".repeat(half), ")".repeat(half));
        let e = Expr::parse(&src).unwrap_or_else(|e| panic!("{e}"));
        let answers = BTreeMap::from([("a", Answer::Number(1.0))]);
        // An even number of `not`s leaves the comparison as it was.
        assert!(e.eval(&|id| answers.get(id), None));
        let one_more = format!("not {src}");
        assert!(Expr::parse(&one_more).is_err());
    }

    #[test]
    fn a_long_and_chain_parses_flat() {
        let src = vec!["a = 1"; 40_000].join(" and ");
        let e = Expr::parse(&src).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.references().len(), 40_000);
        let answers = BTreeMap::from([("a", Answer::Number(1.0))]);
        assert!(e.eval(&|id| answers.get(id), None));
    }

    /// Inputs that stress the parser: random text, soups of the language's own tokens, deep
    /// nesting (balanced or not) and long chains.
    fn hostile_source() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let token = prop::sample::select(vec![
            "(", ")", "[", "]", ",", ".", "=", "!=", "<", ">=", "and", "or", "not", "in",
            "answered", "count", "a", "b", "'x'", "\"y\"", "3", "-1.5", "'", "!",
        ]);
        let soup = prop::collection::vec(token, 0..200).prop_map(|t| t.join(" "));
        let opener = prop::sample::select(vec!["(", "not ", "[", "not (", "a in ["]);
        let deep = (opener, 0usize..20_000, 0usize..20_000, any::<bool>()).prop_map(
            |(open, depth, close, inner)| {
                let core = if inner { "a = 1" } else { "" };
                format!("{}{core}{}", open.repeat(depth), ")".repeat(close))
            },
        );
        let chain = (1usize..40_000, prop::sample::select(vec![" and ", " or "]))
            .prop_map(|(n, joint)| vec!["count(a) > 2"; n].join(joint));
        prop_oneof![any::<String>(), soup, deep, chain]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn parsing_never_panics_or_overflows(source in hostile_source()) {
            match Expr::parse(&source) {
                Ok(e) => {
                    let yes = Answer::YesNo(true);
                    let lookup = |id: &str| (id == "a").then_some(&yes);
                    let _ = e.eval(&lookup, Some(&yes));
                    let _ = e.settled(&lookup);
                    let _ = e.describe(&|id| id.to_owned(), &|_, _| None);
                }
                Err(e) => {
                    // Errors point into the source (or just past its end).
                    proptest::prop_assert!(e.offset <= source.chars().count(), "{}", e);
                }
            }
        }
    }

    #[test]
    fn references_and_literals_are_reported() {
        let e =
            Expr::parse("answered(a) and b in ['x', 'y'] and 'z' in c and count(d) > 1").unwrap();
        let refs: Vec<_> = e.references().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(refs, ["a", "b", "c", "d"]);
        let lits: Vec<_> = e
            .literal_uses()
            .iter()
            .map(|l| (l.question.id.as_str(), l.value))
            .collect();
        assert_eq!(lits, [("b", "x"), ("b", "y"), ("c", "z")]);
    }

    #[test]
    fn describes_in_words() {
        let e = Expr::parse("consent = 'yes' and (count(named) > 1 or answered(x))").unwrap();
        let s = e.describe(&|id| format!("Q[{id}]"), &|q, v| {
            (q == "consent" && v == "yes").then(|| "Yes".to_owned())
        });
        assert_eq!(
            s,
            "Q[consent] is \"Yes\" and (the number of answers to Q[named] is more than 1 or Q[x] was answered)"
        );
    }
}
