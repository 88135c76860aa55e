//! `doorstep responses list|show`: what has been recorded on this device.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use clap::Subcommand;
use uuid::Uuid;

use super::{print, warn};
use crate::Error;
use crate::output::{Cell, Column, Document, Fields, Format, Item, Outline, Table, Value};
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
        /// Print JSON: table `responses` with `id`, `survey`, `survey_version`, `area`,
        /// `period`, `status`, `officer`, `device`, `changed_at`, `answers`, `replaces`.
        #[arg(long)]
        json: bool,
    },
    /// Show one response: its details and answers in survey order.
    Show {
        #[arg(value_name = "ID")]
        id: Uuid,
        /// Print JSON: fields `response` (`id`, `survey`, `survey_version`, `fingerprint`,
        /// `area`, `period`, `status`, `finalized_at`, `officer`, `device`, `language`,
        /// `started_at`, `changed_at`, `replaces`, `resume_at`) and outline `answers`
        /// (`question`, `question_text`, `in_survey`, `answer`, `sealed`, `given_at`,
        /// `changes`, `finding`).
        #[arg(long)]
        json: bool,
    },
}

pub fn run(
    cmd: &ResponsesCommand,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    // Both subcommands only read.
    let store = super::open_store_read_only(data_dir, err)?;
    match cmd {
        ResponsesCommand::List {
            area,
            status,
            period,
            json,
        } => {
            let filter = ResponseFilter {
                area: area.clone(),
                status: *status,
                period: *period,
            };
            let listing = store.list(&filter)?;
            print(
                out,
                &list_document(&listing.responses),
                Format::json_if(*json),
            )?;
            if listing.unreadable.is_empty() {
                Ok(())
            } else {
                for e in &listing.unreadable {
                    warn(err, &e.to_string())?;
                }
                Err(Error::BadInput(format!(
                    "{} stored response(s) could not be read (run `doorstep recover` to restore finalized ones from the journal)",
                    listing.unreadable.len()
                )))
            }
        }
        ResponsesCommand::Show { id, json } => {
            let response = store.get(*id)?;
            let survey = find_survey(data_dir, &response, err)?;
            print(
                out,
                &show_document(&response, survey.as_ref()),
                Format::json_if(*json),
            )
        }
    }
}

fn when(t: DateTime<Utc>) -> String {
    // UK time, as the field app shows it, whatever zone this machine is set to.
    t.with_timezone(&crate::response::FIELDWORK_ZONE)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A time: RFC 3339 for machines, minutes for people.
fn time(t: DateTime<Utc>) -> Cell {
    Cell::from(t.to_rfc3339_opts(SecondsFormat::Secs, true)).shown_as(when(t))
}

/// The list as a table, with a count under it.
pub fn list_document(responses: &[Response]) -> Document {
    let mut table = Table::new(
        "responses",
        vec![
            Column::text("id", "ID"),
            Column::text("survey", "SURVEY"),
            Column::integer("survey_version", "VERSION").machine_only(),
            Column::text("area", "AREA"),
            Column::text("period", "PERIOD"),
            Column::text("status", "STATUS"),
            Column::text("officer", "OFFICER").max_width(24),
            Column::text("device", "DEVICE").machine_only(),
            Column::time("changed_at", "CHANGED"),
            Column::integer("answers", "ANSWERS"),
            Column::text("replaces", "REPLACES"),
        ],
    )
    .when_empty("no responses");
    for r in responses {
        table.push(vec![
            Cell::from(r.id.to_string()),
            Cell::from(&r.survey_id).shown_as(format!("{} v{}", r.survey_id, r.survey_version)),
            Cell::from(r.survey_version),
            Cell::from(&r.area),
            Cell::from(r.period.to_string()),
            Cell::from(r.status.to_string()),
            Cell::from(&r.interviewer),
            Cell::from(&r.device),
            time(r.changed_at),
            Cell::from(r.answered_count()),
            Cell::from(r.replaces.map(|u| u.to_string())),
        ]);
    }
    let mut doc = Document::new();
    doc.table(table);
    if !responses.is_empty() {
        doc.note(format!("{} response(s)", responses.len()));
    }
    doc
}

/// The survey this response was recorded with, matched by fingerprint; warns (on
/// standard error) when it is not installed here.
fn find_survey(
    data_dir: &Path,
    response: &Response,
    err: &mut dyn Write,
) -> Result<Option<Survey>, Error> {
    let registry = match Registry::load(data_dir) {
        Ok((registry, _)) => registry,
        Err(e) => {
            warn(
                err,
                &format!("surveys could not be loaded ({e}); answers shown in question-id order"),
            )?;
            return Ok(None);
        }
    };
    if let Some(s) = registry.by_fingerprint(&response.fingerprint) {
        return Ok(Some(s.clone()));
    }
    let why = if registry
        .get(&response.survey_id, Some(response.survey_version))
        .is_some()
    {
        "a different definition of it is installed here"
    } else {
        "it is not installed here"
    };
    warn(
        err,
        &format!(
            "survey {} v{} with fingerprint {} is unknown ({why}); answers shown in question-id order",
            response.survey_id, response.survey_version, response.fingerprint
        ),
    )?;
    Ok(None)
}

/// A response: its details, then each answer (in survey order when the survey is known),
/// personal answers shown as "sealed".
pub fn show_document(r: &Response, survey: Option<&Survey>) -> Document {
    let mut f = Fields::new("response");
    f.add_labelled("id", "response", r.id.to_string());
    f.add_labelled(
        "survey",
        "survey",
        Cell::from(&r.survey_id).shown_as(format!(
            "{} v{} (fingerprint {})",
            r.survey_id, r.survey_version, r.fingerprint
        )),
    );
    f.add_hidden("survey_version", r.survey_version);
    f.add_hidden("fingerprint", &r.fingerprint);
    f.add("area", &r.area);
    f.add("period", r.period.to_string());
    let status = match r.finalized_at {
        Some(at) => format!("{} ({} UTC)", r.status, when(at)),
        None => r.status.to_string(),
    };
    f.add("status", Cell::from(r.status.to_string()).shown_as(status));
    f.add_hidden(
        "finalized_at",
        r.finalized_at
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
    );
    f.add(
        "officer",
        Cell::from(&r.interviewer).shown_as(format!(
            "{} on {} (language {})",
            r.interviewer, r.device, r.language
        )),
    );
    f.add_hidden("device", &r.device);
    f.add_hidden("language", &r.language);
    f.add_labelled(
        "started_at",
        "started",
        time(r.started_at).shown_as(format!(
            "{} UTC, last changed {} UTC",
            when(r.started_at),
            when(r.changed_at)
        )),
    );
    f.add_hidden(
        "changed_at",
        r.changed_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    );
    match r.replaces {
        Some(old) => f.add("replaces", old.to_string()),
        None => f.add_hidden("replaces", Value::Null),
    };
    match (r.status, &r.position) {
        (Status::Draft, Some(q)) => f.add_labelled("resume_at", "resume at", q),
        _ => f.add_hidden("resume_at", Value::Null),
    };
    let mut doc = Document::new();
    doc.fields(f);
    doc.heading("Answers:");
    doc.outline(Outline::new("answers", answer_items(r, survey)).when_empty("no answers yet"));
    doc
}

fn answer_items(r: &Response, survey: Option<&Survey>) -> Vec<Item> {
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

    order
        .into_iter()
        .map(|(qid, text)| {
            let line = match &text {
                Some(text) => format!("{qid}: {text}"),
                None if unknown => format!("{qid} (not in this survey)"),
                None => qid.to_owned(),
            };
            let in_survey = survey.map(|_| text.is_some());
            let mut item = Item::new(line)
                .field("question", qid)
                .field("question_text", text)
                .field("in_survey", in_survey);
            match r.answers.get(qid) {
                Some(rec) => {
                    let changes = match rec.history.len() {
                        0 => String::new(),
                        1 => ", changed once".to_owned(),
                        n => format!(", changed {n} times"),
                    };
                    item = item
                        .detail(format!(
                            "= {}  [given {}{changes}]",
                            rec.value.display(),
                            when(rec.given_at)
                        ))
                        .field("answer", rec.value.display())
                        .field("sealed", rec.value.is_sealed())
                        .field(
                            "given_at",
                            rec.given_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                        )
                        .field("changes", rec.history.len());
                }
                None => {
                    item = item
                        .field("answer", Value::Null)
                        .field("sealed", false)
                        .field("given_at", Value::Null)
                        .field("changes", 0usize);
                }
            }
            match r.findings.get(qid) {
                Some(f) => {
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
                    item.detail(format!("finding: {}", parts.join("; ")))
                        .field("finding", true)
                        .field("urgent", f.urgent)
                        .field("location", f.location.clone())
                        .field("agency", f.agency.clone())
                        .field("note", f.note.clone())
                }
                None => item.field("finding", false),
            }
        })
        .collect()
}
