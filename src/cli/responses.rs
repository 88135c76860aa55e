//! `doorstep responses list|show`: what has been recorded on this device.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use clap::Subcommand;
use uuid::Uuid;

use super::emit;
use crate::Error;
use crate::response::{Period, Response, ResponseFilter, Status};
use crate::survey::Survey;
use crate::survey::registry::Registry;

#[derive(Debug, Subcommand)]
pub enum ResponsesCommand {
    /// List responses as a table, oldest first.
    List {
        /// Only this area (priority action area or ward code).
        #[arg(long, value_name = "CODE")]
        area: Option<String>,
        /// Only this status: draft, complete, refused or abandoned.
        #[arg(long, value_name = "S")]
        status: Option<Status>,
        /// Only this fieldwork quarter, e.g. 2026-Q4.
        #[arg(long, value_name = "P")]
        period: Option<Period>,
    },
    /// Show one response: its details and answers in survey order.
    Show {
        #[arg(value_name = "ID")]
        id: Uuid,
    },
}

pub fn run(cmd: &ResponsesCommand, data_dir: &Path, out: &mut dyn Write) -> Result<(), Error> {
    // Both subcommands only read.
    let store = super::open_store_read_only(data_dir)?;
    match cmd {
        ResponsesCommand::List {
            area,
            status,
            period,
        } => {
            let filter = ResponseFilter {
                area: area.clone(),
                status: *status,
                period: *period,
            };
            let listing = store.list(&filter)?;
            emit(out, &table(&listing.responses))?;
            if listing.unreadable.is_empty() {
                Ok(())
            } else {
                for e in &listing.unreadable {
                    eprintln!("doorstep: warning: {e}");
                }
                Err(Error::BadInput(format!(
                    "{} stored response(s) could not be read (run `doorstep recover` to restore finalized ones from the journal)",
                    listing.unreadable.len()
                )))
            }
        }
        ResponsesCommand::Show { id } => {
            let response = store.get(*id)?;
            let survey = find_survey(data_dir, &response);
            emit(out, &render(&response, survey.as_ref()))
        }
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The list as an aligned table.
pub fn table(responses: &[Response]) -> String {
    if responses.is_empty() {
        return "no responses\n".to_owned();
    }
    let header = [
        "ID", "SURVEY", "AREA", "PERIOD", "STATUS", "OFFICER", "CHANGED", "ANSWERS", "REPLACES",
    ];
    let rows: Vec<[String; 9]> = responses
        .iter()
        .map(|r| {
            [
                r.id.to_string(),
                format!("{} v{}", r.survey_id, r.survey_version),
                r.area.clone(),
                r.period.to_string(),
                r.status.to_string(),
                r.interviewer.clone(),
                when(r.changed_at),
                r.answered_count().to_string(),
                r.replaces.map(|u| u.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut text = line(header.to_vec());
    for row in &rows {
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text.push_str(&format!("{} response(s)\n", rows.len()));
    text
}

/// The survey this response was recorded with, matched by fingerprint; warns (on
/// standard error) when it is not installed here.
fn find_survey(data_dir: &Path, response: &Response) -> Option<Survey> {
    let registry = match Registry::load(data_dir) {
        Ok((registry, _)) => registry,
        Err(e) => {
            eprintln!(
                "doorstep: warning: surveys could not be loaded ({e}); answers shown in question-id order"
            );
            return None;
        }
    };
    if let Some(s) = registry.by_fingerprint(&response.fingerprint) {
        return Some(s.clone());
    }
    let why = if registry
        .get(&response.survey_id, Some(response.survey_version))
        .is_some()
    {
        "a different definition of it is installed here"
    } else {
        "it is not installed here"
    };
    eprintln!(
        "doorstep: warning: survey {} v{} with fingerprint {} is unknown ({why}); answers shown in question-id order",
        response.survey_id, response.survey_version, response.fingerprint
    );
    None
}

/// A response as text: its details, then each answer (in survey order when the survey is
/// known), personal answers shown as "sealed".
pub fn render(r: &Response, survey: Option<&Survey>) -> String {
    let mut t = String::new();
    t.push_str(&format!("response   {}\n", r.id));
    t.push_str(&format!(
        "survey     {} v{} (fingerprint {})\n",
        r.survey_id, r.survey_version, r.fingerprint
    ));
    t.push_str(&format!("area       {}\n", r.area));
    t.push_str(&format!("period     {}\n", r.period));
    match r.finalized_at {
        Some(at) => t.push_str(&format!("status     {} ({} UTC)\n", r.status, when(at))),
        None => t.push_str(&format!("status     {}\n", r.status)),
    }
    t.push_str(&format!(
        "officer    {} on {} (language {})\n",
        r.interviewer, r.device, r.language
    ));
    t.push_str(&format!(
        "started    {} UTC, last changed {} UTC\n",
        when(r.started_at),
        when(r.changed_at)
    ));
    if let Some(old) = r.replaces {
        t.push_str(&format!("replaces   {old}\n"));
    }
    if let (Status::Draft, Some(q)) = (r.status, &r.position) {
        t.push_str(&format!("resume at  {q}\n"));
    }
    t.push('\n');
    if r.answers.is_empty() && r.findings.is_empty() {
        t.push_str("no answers yet\n");
        return t;
    }

    // Survey order first, then anything the survey does not know, by id.
    let mut order: Vec<(&str, Option<String>)> = Vec::new();
    if let Some(s) = survey {
        for q in &s.questions {
            if r.answers.contains_key(&q.id) || r.findings.contains_key(&q.id) {
                order.push((q.id.as_str(), Some(q.text.get(&r.language).to_owned())));
            }
        }
    }
    let mut rest: Vec<&str> = r
        .answers
        .keys()
        .chain(r.findings.keys())
        .map(String::as_str)
        .filter(|id| !order.iter().any(|(o, _)| o == id))
        .collect();
    rest.sort_unstable();
    rest.dedup();
    let unknown = survey.is_some() && !rest.is_empty();
    order.extend(rest.into_iter().map(|id| (id, None)));

    for (qid, text) in order {
        match text {
            Some(text) => t.push_str(&format!("{qid}: {text}\n")),
            None if unknown => t.push_str(&format!("{qid} (not in this survey)\n")),
            None => t.push_str(&format!("{qid}\n")),
        }
        if let Some(rec) = r.answers.get(qid) {
            let changes = match rec.history.len() {
                0 => String::new(),
                1 => ", changed once".to_owned(),
                n => format!(", changed {n} times"),
            };
            t.push_str(&format!(
                "  = {}  [given {}{changes}]\n",
                rec.value.display(),
                when(rec.given_at)
            ));
        }
        if let Some(f) = r.findings.get(qid) {
            let mut parts = Vec::new();
            if f.urgent {
                parts.push("URGENT".to_owned());
            }
            if let Some(l) = &f.location {
                parts.push(format!("at {l}"));
            }
            if let Some(a) = &f.agency {
                parts.push(format!("for {a}"));
            }
            if let Some(n) = &f.note {
                parts.push(format!("note: {n}"));
            }
            t.push_str(&format!("  finding: {}\n", parts.join("; ")));
        }
    }
    t
}
