//! The compiled survey model: what a definition file becomes once loaded and checked.
//! Everything here is plain data; loading lives in `load.rs`, skip logic in `expr.rs`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::expr::Expr;
use super::taxonomy::Taxonomy;

/// The language every string must have; the fallback when a translation is missing.
pub const BASE_LANGUAGE: &str = "en";

/// A user-visible string in one or more languages (ISO 639-1 codes).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LocalText(pub BTreeMap<String, String>);

impl LocalText {
    pub fn en(text: impl Into<String>) -> Self {
        LocalText(BTreeMap::from([(BASE_LANGUAGE.to_owned(), text.into())]))
    }

    /// The text in `lang`, falling back to English.
    pub fn get(&self, lang: &str) -> &str {
        self.0
            .get(lang)
            .or_else(|| self.0.get(BASE_LANGUAGE))
            .or_else(|| self.0.values().next())
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn has(&self, lang: &str) -> bool {
        self.0.contains_key(lang)
    }
}

impl fmt::Display for LocalText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get(BASE_LANGUAGE))
    }
}

/// The fixed words of printed forms and answer fields, by key, from `words.toml`; a new
/// language is a data change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Words(pub BTreeMap<String, LocalText>);

impl Words {
    /// The word for `key` in `lang` (English when untranslated). The loader guarantees every
    /// key the code uses; should one be missing, the key itself is shown rather than nothing.
    pub fn get<'a>(&'a self, key: &'a str, lang: &str) -> &'a str {
        self.0.get(key).map(|t| t.get(lang)).unwrap_or(key)
    }

    /// The word for `key` in every language it has.
    pub fn text(&self, key: &str) -> LocalText {
        self.0
            .get(key)
            .cloned()
            .unwrap_or_else(|| LocalText::en(key))
    }
}

/// Every key `words.toml` must define: the code asks for these and no others.
pub const WORD_KEYS: &[&str] = &[
    // answer fields
    "yes",
    "no",
    "cannot_combine",
    // the self-completion screens
    "sc_turn_round",
    "sc_answering",
    "sc_hand_back",
    "sc_continue",
    "sc_closed",
    // the printed form
    "required",
    "personal",
    "officer",
    "internal",
    "ends",
    "self_completion",
    "only_answer",
    "ask_if",
    "must",
    "help",
    "other",
    "rank",
    "of_answers",
    "whole",
    "fixed",
    "gridref",
    "latlon",
    "finding",
    "agency",
    "urgent_if",
    "choose_any",
    "languages",
    "fingerprint",
    // the connecting words of conditions
    "is",
    "is not",
    "is less than",
    "is at most",
    "is more than",
    "is at least",
    "and",
    "or",
    "not",
    "was answered",
    "is one of",
    "includes",
    "the answer",
    "the number of answers to",
    "the number of answers given",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyKind {
    /// Key Individual Network doorstep interview.
    Kin,
    /// Environmental Visual Audit transect.
    Eva,
}

impl SurveyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyKind::Kin => "kin",
            SurveyKind::Eva => "eva",
        }
    }
}

impl fmt::Display for SurveyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A compiled, checked survey definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Survey {
    pub id: String,
    pub version: u32,
    pub kind: SurveyKind,
    pub title: LocalText,
    /// Languages the survey offers, English first.
    pub languages: Vec<String>,
    pub sections: Vec<Section>,
    /// All questions in interview order; each names its section by index.
    pub questions: Vec<Question>,
    /// The issue taxonomy used by issue-coding questions (part of the fingerprint): the
    /// edition the survey names, so a released version keeps the issues it was asked with.
    pub taxonomy: Taxonomy,
    /// The fixed words of forms and fields (Yes/No, "required", …) from `words.toml`. Not
    /// part of the fingerprint: they are the tool's wording, not the instrument's.
    #[serde(skip)]
    pub words: Words,
    /// `sha256:` + hex of the canonical content, so a response names the exact instrument.
    #[serde(skip)]
    pub fingerprint: String,
}

impl Survey {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.questions.iter().position(|q| q.id == id)
    }

    /// The number question `index` goes by everywhere: the interview header, the review
    /// and the paper form ("Q7").
    pub fn number(&self, index: usize) -> String {
        format!("Q{}", index + 1)
    }

    /// Questions that take an answer (everything but notes).
    pub fn answerable_count(&self) -> usize {
        self.questions
            .iter()
            .filter(|q| !matches!(q.kind, QuestionKind::Note))
            .count()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub id: String,
    pub title: LocalText,
    /// Guidance for the officer (never read out): shown in the officer's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<LocalText>,
    /// The resident answers this section on the laptop themselves, on a screen that shows
    /// none of the earlier answers (sensitive questions).
    #[serde(skip_serializing_if = "is_false")]
    pub self_completion: bool,
}

// Fields added after version 1 are left out of the canonical form when unset, so the
// fingerprints of surveys written before them do not change.
fn is_false(b: &bool) -> bool {
    !*b
}

/// Who a question's text is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Read out to (or read by) the respondent: shown in the interview language.
    #[default]
    Resident,
    /// An instruction or a record for the officer: shown in the officer's language.
    Officer,
}

impl Audience {
    fn is_resident(&self) -> bool {
        *self == Audience::Resident
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    pub id: String,
    /// Index into [`Survey::sections`].
    pub section: usize,
    pub kind: QuestionKind,
    pub text: LocalText,
    /// Interviewer instructions: always for the officer, in the officer's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<LocalText>,
    /// Whom `text` is for (the respondent unless marked `officer`).
    #[serde(skip_serializing_if = "Audience::is_resident")]
    pub audience: Audience,
    /// The answer is for the officer's and coordinator's records only: it never goes into
    /// the meeting pack or anything else made public (disclosure follow-up).
    #[serde(skip_serializing_if = "is_false")]
    pub internal: bool,
    /// When this question is shown, the interview ends with it: every later question is
    /// hidden (refused consent, an under-16 without a parent's agreement).
    #[serde(skip_serializing_if = "is_false")]
    pub ends: bool,
    pub required: bool,
    /// Contact details and anything else identifying: sealed before it reaches disk.
    pub personal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<Constraint>,
    /// Which standard indicator this question feeds, e.g. `ni17.noisy_neighbours`, `ni21`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    /// For EVA checklist items: how findings on this item are handled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<EvaItem>,
}

impl Question {
    /// The choices a single, multiple or scale question offers; for an issues question, the
    /// codes it adds to the taxonomy ("nothing", "don't know", "refused").
    pub fn choices(&self) -> &[Choice] {
        match &self.kind {
            QuestionKind::Single { choices }
            | QuestionKind::Multiple { choices, .. }
            | QuestionKind::Scale { choices, .. }
            | QuestionKind::Issues { choices, .. } => choices,
            _ => &[],
        }
    }

    /// Whether `value` is a code that stands alone in a multi-valued answer: marked
    /// exclusive, or non-substantive ("don't know", "refused").
    pub fn is_exclusive(&self, value: &str) -> bool {
        self.choices()
            .iter()
            .any(|c| c.value == value && (c.exclusive || c.non_substantive))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Constraint {
    pub expr: Expr,
    pub message: LocalText,
}

/// An EVA checklist item: a finding on it can carry a note, a fixed-reference location, an
/// urgent flag and the responsible agency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaItem {
    /// When this holds for the item's answer, the finding is urgent (e.g. `. > 0` for needles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgent_if: Option<Expr>,
    /// The agency usually responsible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: LocalText,
    /// "Don't know", "prefer not to say", "refused": shown, stored, excluded by scorers.
    pub non_substantive: bool,
    /// Cannot be combined with other choices ("nothing", "no problems").
    #[serde(skip_serializing_if = "is_false")]
    pub exclusive: bool,
    /// A score for scorers (NI 17 uses 3/2/1/0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationForm {
    LatLon,
    GridRef,
    Fixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateTimeMode {
    Date,
    Time,
    DateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuestionKind {
    Single {
        choices: Vec<Choice>,
    },
    Multiple {
        choices: Vec<Choice>,
        #[serde(skip_serializing_if = "Option::is_none")]
        min: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<u32>,
    },
    /// One choice from a shared named scale (the choices are copied in at load).
    Scale {
        scale: String,
        choices: Vec<Choice>,
    },
    /// Order up to `max` of the values chosen in an earlier multiple-choice or issue question.
    Rank {
        from: String,
        max: u32,
    },
    Number {
        integer: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        unit: Option<LocalText>,
    },
    Text {
        long: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        max_len: Option<u32>,
    },
    YesNo,
    DateTime {
        mode: DateTimeMode,
    },
    Location {
        forms: Vec<LocationForm>,
    },
    /// NI 195 grade A, B+, B, B−, C, C−, D.
    Grade,
    Count {
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<u64>,
    },
    /// Display only.
    Note,
    /// Multi-select from the issue taxonomy, with "other: free text".
    Issues {
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<u32>,
        /// Codes that are not issues ("nothing", "don't know", "refused"), each exclusive.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        choices: Vec<Choice>,
    },
}

impl QuestionKind {
    /// The kind's name as written in definition files.
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::Single { .. } => "single",
            QuestionKind::Multiple { .. } => "multiple",
            QuestionKind::Scale { .. } => "scale",
            QuestionKind::Rank { .. } => "rank",
            QuestionKind::Number { .. } => "number",
            QuestionKind::Text { .. } => "text",
            QuestionKind::YesNo => "yes_no",
            QuestionKind::DateTime { mode } => match mode {
                DateTimeMode::Date => "date",
                DateTimeMode::Time => "time",
                DateTimeMode::DateTime => "datetime",
            },
            QuestionKind::Location { .. } => "location",
            QuestionKind::Grade => "grade",
            QuestionKind::Count { .. } => "count",
            QuestionKind::Note => "note",
            QuestionKind::Issues { .. } => "issues",
        }
    }
}
