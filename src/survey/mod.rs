//! The survey engine: definitions as data, the condition language, validation and the
//! interview walker. Pure domain code: no terminal, no store.

pub mod answer;
pub mod diagnostic;
pub mod eva;
pub mod expr;
pub mod label;
pub mod load;
pub mod model;
pub mod paper;
pub mod registry;
pub mod taxonomy;
pub mod walker;

pub use answer::{Answer, Finding, Grade, IssueCoding, Location};
pub use model::{Choice, LocalText, Question, QuestionKind, Section, Survey, SurveyKind};
pub use taxonomy::Taxonomy;

use crate::exit;

#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    /// The definitions had errors; each has been reported as `file:line:col: error: …`.
    #[error("{count} error(s) in survey definitions")]
    Invalid { count: usize },
    #[error("the built-in surveys are broken: {0}")]
    BuiltIn(String),
    #[error("no survey with id `{id}`{}", version.map(|v| format!(" and version {v}")).unwrap_or_default())]
    NotFound { id: String, version: Option<u32> },
}

impl SurveyError {
    pub fn exit_code(&self) -> u8 {
        match self {
            SurveyError::Invalid { .. } => exit::DATA_ERR,
            SurveyError::NotFound { .. } => exit::USAGE,
            SurveyError::BuiltIn(_) => exit::FAILURE,
        }
    }
}
