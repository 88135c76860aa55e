//! Checking a batch against the coordinator's machine: every survey it used must be here,
//! and every answer must pass its survey's validation.

use std::fmt;

use uuid::Uuid;

use super::{Batch, Manifest, Record, SurveyUsed};
use crate::response::StoredAnswer;
use crate::survey::registry::Registry;
use crate::survey::walker::{Answers, Walker};

/// A reason to refuse a well-formed, correctly signed batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A survey the batch used is not on this machine.
    MissingSurvey(SurveyUsed),
    /// A response names a survey id or version other than its fingerprint's survey.
    SurveyMismatch {
        record: usize,
        line: usize,
        response: Uuid,
        claimed: String,
        actual: String,
    },
    /// An answer to a question its survey does not have.
    UnknownQuestion {
        record: usize,
        line: usize,
        response: Uuid,
        question: String,
    },
    /// An action record doorstep could not have written (see [`crate::action::Action::check_record`]).
    BadAction {
        record: usize,
        line: usize,
        action: Uuid,
        reason: String,
    },
    /// An answer its survey's validation refuses.
    InvalidAnswer {
        record: usize,
        line: usize,
        response: Uuid,
        question: String,
        reason: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::MissingSurvey(s) => write!(
                f,
                "survey {} version {} ({}) is not on this machine: copy its definition file from the laptop that recorded it (`doorstep survey list` there shows the file) into the `surveys` folder of this machine's data directory",
                s.id, s.version, s.fingerprint
            ),
            Problem::SurveyMismatch {
                record,
                line,
                response,
                claimed,
                actual,
            } => write!(
                f,
                "record {record} (line {line}), response {response}: it says survey {claimed} but its fingerprint is that of {actual}"
            ),
            Problem::UnknownQuestion {
                record,
                line,
                response,
                question,
            } => write!(
                f,
                "record {record} (line {line}), response {response}: question `{question}` is not in its survey"
            ),
            Problem::BadAction {
                record,
                line,
                action,
                reason,
            } => write!(
                f,
                "record {record} (line {line}), action {action}: {reason}"
            ),
            Problem::InvalidAnswer {
                record,
                line,
                response,
                question,
                reason,
            } => write!(
                f,
                "record {record} (line {line}), response {response}, question `{question}`: {reason}"
            ),
        }
    }
}

/// Every problem with a batch's content on this machine; empty when it may be merged.
pub fn check_against(batch: &Batch, registry: &Registry) -> Vec<Problem> {
    let mut problems = survey_problems(&batch.manifest, registry);
    for (i, record) in batch.records.iter().enumerate() {
        record_problems(i, record, registry, &mut problems);
    }
    problems
}

/// The surveys a batch's manifest lists that are not on this machine: the first of
/// [`check_against`]'s problems.
pub fn survey_problems(manifest: &Manifest, registry: &Registry) -> Vec<Problem> {
    manifest
        .surveys
        .iter()
        .filter(|s| registry.by_fingerprint(&s.fingerprint).is_none())
        .cloned()
        .map(Problem::MissingSurvey)
        .collect()
}

/// The problems of record `i` (0-based) on this machine, added to `problems`: with
/// [`survey_problems`] before them, record by record, what [`check_against`] finds. A
/// response of a survey not on this machine adds none (its survey is named once).
pub fn record_problems(
    i: usize,
    record: &Record,
    registry: &Registry,
    problems: &mut Vec<Problem>,
) {
    if let Record::Action(a) = record
        && let Err(reason) = a.check_record()
    {
        problems.push(Problem::BadAction {
            record: i + 1,
            line: Batch::line_of(i),
            action: a.id,
            reason,
        });
    }
    let Record::Response(r) = record else {
        return;
    };
    let (record, line) = (i + 1, Batch::line_of(i));
    let Some(survey) = registry.by_fingerprint(&r.fingerprint) else {
        return; // reported once, from the manifest
    };
    if survey.id != r.survey_id || survey.version != r.survey_version {
        problems.push(Problem::SurveyMismatch {
            record,
            line,
            response: r.id,
            claimed: format!("{} version {}", r.survey_id, r.survey_version),
            actual: format!("{} version {}", survey.id, survey.version),
        });
        return;
    }
    let answers: Answers = r
        .answers
        .iter()
        .filter_map(|(q, a)| match &a.value {
            StoredAnswer::Plain(answer) => Some((q.clone(), answer.clone())),
            StoredAnswer::Sealed(_) => None,
        })
        .collect();
    let walker = Walker::new(survey);
    let visible = walker.visibility(&answers);
    let asked = r.answers.keys().chain(r.findings.keys());
    for question in asked {
        let Some(index) = survey.index_of(question) else {
            problems.push(Problem::UnknownQuestion {
                record,
                line,
                response: r.id,
                question: question.clone(),
            });
            continue;
        };
        // Hidden answers never count (the walker ignores them), so they are not judged.
        let Some(answer) = answers.get(question) else {
            continue;
        };
        if visible.get(index).copied().unwrap_or(false)
            && let Err(e) = walker.validate(index, answer, &answers)
        {
            problems.push(Problem::InvalidAnswer {
                record,
                line,
                response: r.id,
                question: question.clone(),
                reason: e.message.to_string(),
            });
        }
    }
}
