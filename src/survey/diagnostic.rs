//! Problems found in definition files, each pinned to `file:line:col`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub col: usize,
    pub severity: Severity,
    pub message: String,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {sev}: {}",
            self.file, self.line, self.col, self.message
        )
    }
}

pub use crate::line_col::line_col;

/// A definition file's name (as shown in messages) and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.text, offset)
    }

    /// Collects diagnostics for this file.
    pub fn sink(&self) -> Sink<'_> {
        Sink {
            file: self,
            out: Vec::new(),
        }
    }
}

pub struct Sink<'f> {
    pub file: &'f SourceFile,
    pub out: Vec<Diagnostic>,
}

impl Sink<'_> {
    pub fn push(&mut self, severity: Severity, offset: usize, message: impl Into<String>) {
        let (line, col) = self.file.line_col(offset);
        self.out.push(Diagnostic {
            file: self.file.name.clone(),
            line,
            col,
            severity,
            message: message.into(),
        });
    }

    pub fn error(&mut self, offset: usize, message: impl Into<String>) {
        self.push(Severity::Error, offset, message);
    }

    pub fn warn(&mut self, offset: usize, message: impl Into<String>) {
        self.push(Severity::Warning, offset, message);
    }

    pub fn has_errors(&self) -> bool {
        self.out.iter().any(Diagnostic::is_error)
    }
}
