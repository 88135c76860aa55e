//! The raw export for analysts: one row per completed response, one column per answer
//! value, as a table a person loads into R, Excel or DuckDB. Column by column it is
//! described in `EXPORT.md`; this module decides which responses and which answers go in.
//!
//! What never goes in: personal questions (contact details, KIN roster consent: sealed on
//! the device and meant for the coordinator alone, see `doorstep contacts`), questions
//! marked `internal` (disclosures and what the officer did), and any answer stored sealed.
//! Free text of every other question does go in (analysts code it); it is what residents
//! said, so it can name people or places and is shared with the same care as the rest.
//!
//! Pure domain code: it reads responses, surveys and the geography it is given.

pub mod contacts;
mod write;

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

pub use write::{csv_row, csv_writer, jsonl_row, write_csv, write_jsonl};

use crate::exit;
use crate::geography::Geography;
use crate::response::{Period, Response, Status, StoredAnswer, location_point};
use crate::survey::registry::Registry;
use crate::survey::{Answer, Location, Question, QuestionKind, Survey};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no survey `{id}` is installed here (see `doorstep survey list`)")]
    UnknownSurvey { id: String },
    #[error(
        "{period} holds responses to more than one survey ({}): choose one with --survey",
        ids.join(", ")
    )]
    MixedSurveys { period: Period, ids: Vec<String> },
    #[error(
        "response {id} was recorded with survey {survey} v{version} (fingerprint {fingerprint}), which is not installed here: add its definition file to the surveys folder of the data directory"
    )]
    SurveyMissing {
        id: String,
        survey: String,
        version: u32,
        fingerprint: String,
    },
}

impl ExportError {
    pub fn exit_code(&self) -> u8 {
        match self {
            ExportError::UnknownSurvey { .. } | ExportError::MixedSurveys { .. } => exit::USAGE,
            ExportError::SurveyMissing { .. } => exit::DATA_ERR,
        }
    }
}

/// One cell: typed, so JSON Lines carries numbers as numbers and a missing value as null.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportValue {
    /// Not asked, skipped, or not a question of this response's survey version.
    Empty,
    Int(i64),
    Num(f64),
    /// A code, a time or a grade: text that is the instrument's, not a respondent's.
    Code(String),
    /// Words a respondent or officer typed (CSV guards them against spreadsheet formulas).
    FreeText(String),
}

/// The export: column names and one row per response, in the same order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExportTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<ExportValue>>,
}

/// The metadata columns every export starts with, in order.
pub const METADATA: [&str; 15] = [
    "id",
    "survey_id",
    "survey_version",
    "survey_fingerprint",
    "period",
    "status",
    "area",
    "township",
    "ward",
    "paa",
    "interviewer",
    "device",
    "started_at",
    "finalized_at",
    "replaces",
];

/// The responses that count: complete, and not superseded by a complete revision (a
/// revision names the response it `replaces`; only the newest complete one in a chain is
/// kept). Sorted by start time, then id, so every run lists them in the same order.
pub fn latest_complete(responses: &[Response]) -> Vec<&Response> {
    let superseded: HashSet<_> = responses
        .iter()
        .filter(|r| r.status == Status::Complete)
        .filter_map(|r| r.replaces)
        .collect();
    let mut out: Vec<&Response> = responses
        .iter()
        .filter(|r| r.status == Status::Complete && !superseded.contains(&r.id))
        .collect();
    out.sort_by_key(|r| (r.started_at, r.id));
    out
}

/// The survey a response was recorded with: by fingerprint, else by id and version.
pub fn survey_of<'a>(registry: &'a Registry, r: &Response) -> Option<&'a Survey> {
    registry
        .by_fingerprint(&r.fingerprint)
        .or_else(|| registry.get(&r.survey_id, Some(r.survey_version)))
}

/// A response's area at every level the plan knows: the area recorded is a PAA or a ward.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AreaLevels {
    pub township: Option<String>,
    pub ward: Option<String>,
    pub paa: Option<String>,
}

pub fn area_levels(geography: &Geography, code: &str) -> AreaLevels {
    let plan = geography.plan.as_ref();
    let paa = plan.and_then(|p| {
        p.paas
            .iter()
            .find(|paa| paa.code.eq_ignore_ascii_case(code))
    });
    let ward = match paa {
        Some(p) => Some(p.ward.clone()),
        None => geography
            .wards
            .as_ref()
            .and_then(|l| l.areas.iter().find(|a| a.code.eq_ignore_ascii_case(code)))
            .map(|a| a.code.clone()),
    };
    let township = ward
        .as_deref()
        .and_then(|w| plan?.township_of(w))
        .map(|t| t.name.clone());
    AreaLevels {
        township,
        ward,
        paa: paa.map(|p| p.code.clone()),
    }
}

/// Whether a question's answers may go into the export.
pub fn exportable(q: &Question) -> bool {
    !q.personal && !q.internal && !matches!(q.kind, QuestionKind::Note)
}

/// What choosing, checking and ordering the export's responses needs of each: no answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub id: Uuid,
    pub survey_id: String,
    pub survey_version: u32,
    pub fingerprint: String,
    pub started_at: DateTime<Utc>,
    pub status: Status,
    pub replaces: Option<Uuid>,
}

impl Head {
    pub fn of(r: &Response) -> Head {
        Head {
            id: r.id,
            survey_id: r.survey_id.clone(),
            survey_version: r.survey_version,
            fingerprint: r.fingerprint.clone(),
            started_at: r.started_at,
            status: r.status,
            replaces: r.replaces,
        }
    }
}

/// The export's columns and its responses in order, each with its survey: worked out
/// from the responses' heads, so the rows can be written one response at a time.
#[derive(Debug)]
pub struct Plan<'a> {
    pub columns: Vec<String>,
    index: HashMap<String, usize>,
    pub chosen: Vec<(Uuid, &'a Survey)>,
}

/// The completed responses of `period` (and `survey`, when given) as a table.
pub fn build(
    responses: &[Response],
    registry: &Registry,
    geography: &Geography,
    period: Period,
    survey: Option<&str>,
) -> Result<ExportTable, ExportError> {
    let heads = responses
        .iter()
        .filter(|r| r.period == period && survey.is_none_or(|s| r.survey_id == s))
        .map(Head::of)
        .collect();
    let plan = plan(heads, registry, period, survey)?;
    let by_id: HashMap<Uuid, &Response> = responses.iter().map(|r| (r.id, r)).collect();
    let rows = plan
        .chosen
        .iter()
        .filter_map(|(id, s)| by_id.get(id).map(|r| plan.row(r, s, geography)))
        .collect();
    Ok(ExportTable {
        columns: plan.columns,
        rows,
    })
}

/// The plan for `heads`: the responses of `period` (and `survey`, when given) only.
pub fn plan<'a>(
    mut heads: Vec<Head>,
    registry: &'a Registry,
    period: Period,
    survey: Option<&str>,
) -> Result<Plan<'a>, ExportError> {
    if let Some(id) = survey
        && registry.get(id, None).is_none()
    {
        return Err(ExportError::UnknownSurvey { id: id.to_owned() });
    }
    // As [`latest_complete`]: complete, not superseded, by start time then id.
    let superseded: HashSet<Uuid> = heads
        .iter()
        .filter(|h| h.status == Status::Complete)
        .filter_map(|h| h.replaces)
        .collect();
    heads.retain(|h| h.status == Status::Complete && !superseded.contains(&h.id));
    heads.sort_by_key(|h| (h.started_at, h.id));
    let ids: BTreeSet<&str> = heads.iter().map(|h| h.survey_id.as_str()).collect();
    if ids.len() > 1 {
        return Err(ExportError::MixedSurveys {
            period,
            ids: ids.into_iter().map(str::to_owned).collect(),
        });
    }
    let mut chosen: Vec<(Uuid, &Survey)> = Vec::with_capacity(heads.len());
    for h in &heads {
        let s = registry
            .by_fingerprint(&h.fingerprint)
            .or_else(|| registry.get(&h.survey_id, Some(h.survey_version)))
            .ok_or_else(|| ExportError::SurveyMissing {
                id: h.id.to_string(),
                survey: h.survey_id.clone(),
                version: h.survey_version,
                fingerprint: h.fingerprint.clone(),
            })?;
        chosen.push((h.id, s));
    }

    // Columns: the newest version's questions in interview order, then any column only an
    // older version has.
    let mut versions: Vec<&Survey> = Vec::new();
    for (_, s) in &chosen {
        if !versions.iter().any(|v| v.fingerprint == s.fingerprint) {
            versions.push(s);
        }
    }
    versions.sort_by(|a, b| (b.version, &b.fingerprint).cmp(&(a.version, &a.fingerprint)));
    let mut columns: Vec<String> = METADATA.iter().map(|c| (*c).to_owned()).collect();
    let mut seen: HashSet<String> = columns.iter().cloned().collect();
    for s in &versions {
        for q in s.questions.iter().filter(|q| exportable(q)) {
            for c in question_columns(s, q) {
                if seen.insert(c.clone()) {
                    columns.push(c);
                }
            }
        }
    }
    let index = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), i))
        .collect();
    Ok(Plan {
        columns,
        index,
        chosen,
    })
}

impl Plan<'_> {
    /// Response `r`'s row (`s` its survey, as chosen).
    pub fn row(&self, r: &Response, s: &Survey, geography: &Geography) -> Vec<ExportValue> {
        let mut row = vec![ExportValue::Empty; self.columns.len()];
        let levels = area_levels(geography, &r.area);
        let text = |v: &str| ExportValue::Code(v.to_owned());
        let opt = |v: Option<String>| v.map_or(ExportValue::Empty, ExportValue::Code);
        let meta = [
            text(&r.id.to_string()),
            text(&r.survey_id),
            ExportValue::Int(i64::from(r.survey_version)),
            text(&r.fingerprint),
            text(&r.period.to_string()),
            text(r.status.as_str()),
            text(&r.area),
            opt(levels.township),
            opt(levels.ward),
            opt(levels.paa),
            ExportValue::FreeText(r.interviewer.clone()),
            ExportValue::FreeText(r.device.clone()),
            text(&utc(r.started_at)),
            opt(r.finalized_at.map(utc)),
            opt(r.replaces.map(|u| u.to_string())),
        ];
        for (cell, value) in row.iter_mut().zip(meta) {
            *cell = value;
        }
        for q in s.questions.iter().filter(|q| exportable(q)) {
            for (name, value) in question_cells(s, q, r) {
                if let Some(&i) = self.index.get(name.as_str()) {
                    row[i] = value;
                }
            }
        }
        row
    }
}

/// UTC in ISO 8601 to the second, e.g. `2026-10-05T09:00:00Z`.
fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The values a multiple-choice or issues question has a 0/1 column for.
fn choice_values(s: &Survey, q: &Question) -> Vec<String> {
    match &q.kind {
        QuestionKind::Issues { choices, .. } => s
            .taxonomy
            .issues
            .iter()
            .map(|i| i.id.clone())
            .chain(choices.iter().map(|c| c.value.clone()))
            .collect(),
        _ => q.choices().iter().map(|c| c.value.clone()).collect(),
    }
}

/// The columns question `q` has, in order.
pub fn question_columns(s: &Survey, q: &Question) -> Vec<String> {
    let id = &q.id;
    let mut cols = match &q.kind {
        QuestionKind::Note => Vec::new(),
        QuestionKind::Multiple { .. } => choice_values(s, q)
            .iter()
            .map(|v| format!("{id}_{v}"))
            .collect(),
        QuestionKind::Issues { .. } => {
            let mut c: Vec<String> = choice_values(s, q)
                .iter()
                .map(|v| format!("{id}_{v}"))
                .collect();
            c.push(format!("{id}_other_text"));
            c
        }
        QuestionKind::Rank { max, .. } => (1..=*max).map(|n| format!("{id}_{n}")).collect(),
        QuestionKind::Location { .. } => {
            vec![
                format!("{id}_lat"),
                format!("{id}_lon"),
                format!("{id}_ref"),
            ]
        }
        _ => vec![id.clone()],
    };
    if q.item.is_some() {
        for part in ["urgent", "agency", "where", "note"] {
            cols.push(format!("{id}_finding_{part}"));
        }
    }
    cols
}

/// The cells of question `q` in response `r`, by column name. Sealed answers give nothing.
fn question_cells(s: &Survey, q: &Question, r: &Response) -> Vec<(String, ExportValue)> {
    let id = &q.id;
    let mut cells = Vec::new();
    let answer = match r.answers.get(id).map(|rec| &rec.value) {
        Some(StoredAnswer::Plain(a)) if a.is_given() => Some(a),
        _ => None,
    };
    if let Some(a) = answer {
        match (&q.kind, a) {
            (QuestionKind::Multiple { .. } | QuestionKind::Issues { .. }, _) => {
                let chosen = a.values();
                for v in choice_values(s, q) {
                    let on = chosen.contains(&v);
                    cells.push((format!("{id}_{v}"), ExportValue::Int(i64::from(on))));
                }
                if let Answer::Issues(coding) = a
                    && let Some(words) = &coding.other
                {
                    cells.push((
                        format!("{id}_other_text"),
                        ExportValue::FreeText(words.clone()),
                    ));
                }
            }
            (QuestionKind::Rank { .. }, Answer::Rank(vs)) => {
                for (n, v) in vs.iter().enumerate() {
                    cells.push((format!("{id}_{}", n + 1), ExportValue::Code(v.clone())));
                }
            }
            (_, Answer::Location(l)) => {
                if let Some((lon, lat)) = location_point(l) {
                    cells.push((format!("{id}_lat"), ExportValue::Num(round6(lat))));
                    cells.push((format!("{id}_lon"), ExportValue::Num(round6(lon))));
                }
                let given = match l {
                    Location::LatLon { .. } => None,
                    Location::GridRef { text } | Location::Fixed { text } => Some(text.clone()),
                };
                if let Some(text) = given {
                    cells.push((format!("{id}_ref"), ExportValue::FreeText(text)));
                }
            }
            (_, a) => cells.push((id.clone(), scalar(a))),
        }
    }
    if q.item.is_some()
        && let Some(f) = r.findings.get(id)
    {
        let free = |v: &Option<String>| v.clone().map_or(ExportValue::Empty, ExportValue::FreeText);
        cells.push((
            format!("{id}_finding_urgent"),
            ExportValue::Int(i64::from(f.urgent)),
        ));
        cells.push((format!("{id}_finding_agency"), free(&f.agency)));
        cells.push((format!("{id}_finding_where"), free(&f.location)));
        cells.push((format!("{id}_finding_note"), free(&f.note)));
    }
    cells
}

/// Six decimal places of a degree: about 10 cm, finer than any GPS fix in the street.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn scalar(a: &Answer) -> ExportValue {
    match a {
        Answer::Skipped => ExportValue::Empty,
        Answer::Choice(v) => ExportValue::Code(v.clone()),
        Answer::YesNo(b) => ExportValue::Int(i64::from(*b)),
        Answer::Number(n) => ExportValue::Num(*n),
        Answer::Count(n) => i64::try_from(*n).map_or(ExportValue::Num(*n as f64), ExportValue::Int),
        Answer::Text(t) => ExportValue::FreeText(t.clone()),
        Answer::Grade(g) => ExportValue::Code(g.as_str().to_owned()),
        Answer::Date(d) => ExportValue::Code(d.format("%Y-%m-%d").to_string()),
        Answer::Time(t) => ExportValue::Code(t.format("%H:%M").to_string()),
        Answer::DateTime(t) => ExportValue::Code(t.format("%Y-%m-%dT%H:%M").to_string()),
        // Answers of a kind the question no longer has (an older version): as stored.
        other => ExportValue::Code(other.to_string()),
    }
}

#[cfg(test)]
mod tests;
