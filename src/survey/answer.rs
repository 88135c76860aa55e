//! Typed answers, one variant per question kind.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

/// An NI 195 / Code of Practice on Litter and Refuse grade, from best (A) to worst (D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Grade {
    A,
    #[serde(rename = "B+")]
    BPlus,
    B,
    #[serde(rename = "B-")]
    BMinus,
    C,
    #[serde(rename = "C-")]
    CMinus,
    D,
}

impl Grade {
    pub const ALL: [Grade; 7] = [
        Grade::A,
        Grade::BPlus,
        Grade::B,
        Grade::BMinus,
        Grade::C,
        Grade::CMinus,
        Grade::D,
    ];

    /// The grade as written on the NI 195 form (`B-` for B minus).
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::A => "A",
            Grade::BPlus => "B+",
            Grade::B => "B",
            Grade::BMinus => "B-",
            Grade::C => "C",
            Grade::CMinus => "C-",
            Grade::D => "D",
        }
    }

    /// Parses `A`, `B+`, `B`, `B-` (or `B−`), `C`, `C-`, `D`, case-insensitively.
    pub fn parse(s: &str) -> Option<Grade> {
        let s = s.trim().replace('−', "-").to_ascii_uppercase();
        Grade::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// NI 195 counts a transect as acceptable when it does not fall below grade B.
    pub fn meets_ni195_standard(self) -> bool {
        self <= Grade::B
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A location as the officer gave it. Kept exactly as given; conversion to coordinates
/// happens later, where the geography is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Location {
    /// WGS84 degrees (GPS).
    LatLon { lat: f64, lon: f64 },
    /// An Ordnance Survey grid reference such as `SD 5760 0540`.
    GridRef { text: String },
    /// A fixed reference: "lamp column 14", "outside the Co-op".
    Fixed { text: String },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::LatLon { lat, lon } => write!(f, "{lat:.6}, {lon:.6}"),
            Location::GridRef { text } => write!(f, "grid ref {text}"),
            Location::Fixed { text } => f.write_str(text),
        }
    }
}

/// Issues named by a respondent or observed, coded to the taxonomy, with free text for
/// "other".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IssueCoding {
    /// Issue ids from the taxonomy, in the order they were coded.
    pub issues: Vec<String>,
    /// The words for "other", when other was coded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
}

/// One answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Answer {
    /// The question was shown and deliberately skipped (only allowed when not required).
    Skipped,
    /// Single choice or scale: the choice value.
    Choice(String),
    /// Multiple choice: the chosen values in the order chosen.
    Choices(Vec<String>),
    /// Rank: values from the source question, most important first.
    Rank(Vec<String>),
    Number(f64),
    Count(u64),
    Text(String),
    YesNo(bool),
    Date(NaiveDate),
    Time(NaiveTime),
    DateTime(NaiveDateTime),
    Location(Location),
    Grade(Grade),
    Issues(IssueCoding),
}

impl Answer {
    /// Whether this counts as an answer for `answered(q)` and for required questions.
    pub fn is_given(&self) -> bool {
        !matches!(self, Answer::Skipped)
    }

    /// The string values this answer holds, for `in` and `count` in expressions.
    pub fn values(&self) -> Vec<String> {
        match self {
            Answer::Skipped => Vec::new(),
            Answer::Choice(v) => vec![v.clone()],
            Answer::Choices(v) | Answer::Rank(v) => v.clone(),
            Answer::Issues(c) => {
                let mut v = c.issues.clone();
                if c.other.is_some() && !v.iter().any(|i| i == "other") {
                    v.push("other".to_owned());
                }
                v
            }
            Answer::YesNo(b) => vec![if *b { "yes" } else { "no" }.to_owned()],
            Answer::Grade(g) => vec![g.as_str().to_owned()],
            Answer::Text(t) => vec![t.clone()],
            Answer::Number(_)
            | Answer::Count(_)
            | Answer::Date(_)
            | Answer::Time(_)
            | Answer::DateTime(_)
            | Answer::Location(_) => vec![self.to_string()],
        }
    }

    /// The number this answer holds, for numeric comparisons.
    pub fn number(&self) -> Option<f64> {
        match self {
            Answer::Number(n) => Some(*n),
            Answer::Count(n) => Some(*n as f64),
            _ => None,
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Skipped => f.write_str("(skipped)"),
            Answer::Choice(v) | Answer::Text(v) => f.write_str(v),
            Answer::Choices(v) | Answer::Rank(v) => f.write_str(&v.join(", ")),
            Answer::Number(n) => write!(f, "{n}"),
            Answer::Count(n) => write!(f, "{n}"),
            Answer::YesNo(b) => f.write_str(if *b { "yes" } else { "no" }),
            Answer::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Answer::Time(t) => write!(f, "{}", t.format("%H:%M")),
            Answer::DateTime(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M")),
            Answer::Location(l) => write!(f, "{l}"),
            Answer::Grade(g) => write!(f, "{g}"),
            Answer::Issues(c) => {
                f.write_str(&c.issues.join(", "))?;
                if let Some(other) = &c.other {
                    if !c.issues.is_empty() {
                        f.write_str(", ")?;
                    }
                    write!(f, "other: {other}")?;
                }
                Ok(())
            }
        }
    }
}

/// What an EVA auditor attaches to one checklist item: where exactly, how bad, whose job.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Finding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A fixed reference such as "lamp column 14" or "rear of 22 Kay Street".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Whether the item is urgent, as the auditor saw it on screen: flagged by the auditor,
    /// or by the item's `urgent_if` rule (see [`crate::survey::eva`]).
    #[serde(default)]
    pub urgent: bool,
    /// The survey's `urgent_if` rule, not the auditor, made it urgent: it stops being urgent
    /// when the answer no longer meets the rule.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent_by_rule: bool,
    /// The agency responsible for acting on it (council street scene, housing, police…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
}
