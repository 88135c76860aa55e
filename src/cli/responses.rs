//! `doorstep responses list|show`: what has been recorded on this device.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use clap::Subcommand;

use super::{print, warn};
use crate::Error;
use crate::geography::{AreaSelection, Geography, Level};
use crate::output::{
    Cell, Column, Document, Fields, Format, Item, Outline, Table, TableStream, Value,
};
use crate::response::{Period, Response, ResponseFilter, Status, StoredAnswer, transect};
use crate::survey::registry::Registry;
use crate::survey::walker::Answers;
use crate::survey::{Survey, label};

/// Rows `responses list` holds before it prints: they size the text columns.
const LIST_PAGE: usize = 1000;

#[derive(Debug, Subcommand)]
pub enum ResponsesCommand {
    /// List responses as a table, oldest first.
    List {
        /// Only this area: a priority action area, or a ward or township (with the
        /// priority action areas inside it), by code or name.
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
        /// The response id, or its first characters (the short id the app shows).
        #[arg(value_name = "ID")]
        id: String,
        /// Print JSON: fields `response` (`id`, `survey`, `survey_version`, `fingerprint`,
        /// `area`, `period`, `status`, `finalized_at`, `officer`, `device`, `language`,
        /// `started_at`, `changed_at`, `replaces`, `resume_at`) and outline `answers`
        /// (`question`, `question_text`, `in_survey`, `answer`, `answer_label`, `sealed`,
        /// `given_at`, `changes`, `finding`).
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
            let codes = match area {
                Some(area) => Some(area_codes(&store.stored_geography()?.or_builtin()?, area)),
                None => None,
            };
            // One response decoded at a time, its row printed as it comes (after a first
            // page, which sizes the columns).
            let mut rows = TableStream::new(out, Format::json_if(*json), list_table(), LIST_PAGE);
            let mut shown = 0usize;
            let mut failed = None;
            let mut undecodable = Vec::new();
            let mut unreadable = store.each_stored_response(|s| {
                if status.is_some_and(|x| x != s.status)
                    || period.is_some_and(|p| p != s.period)
                    || codes
                        .as_ref()
                        .is_some_and(|codes| !codes.iter().any(|c| c.eq_ignore_ascii_case(&s.area)))
                {
                    return Ok(());
                }
                // A record whose answers cannot be decoded is reported, like one that cannot
                // be read at all, and the listing goes on.
                let r = match s.full() {
                    Ok(r) => r,
                    Err(e) => {
                        undecodable.push(e);
                        return Ok(());
                    }
                };
                if let Err(e) = rows.push(list_row(&r)) {
                    failed.get_or_insert(e);
                }
                shown += 1;
                Ok(())
            })?;
            if let Some(e) = failed {
                return Err(Error::io("standard output", e));
            }
            unreadable.extend(undecodable);
            let mut after = Document::new();
            if shown > 0 {
                after.note(format!("{shown} response(s)"));
            }
            rows.finish(after)
                .map_err(|e| Error::io("standard output", e))?;
            if unreadable.is_empty() {
                Ok(())
            } else {
                for e in &unreadable {
                    warn(err, &e.to_string())?;
                }
                Err(Error::BadInput(format!(
                    "{} stored response(s) could not be read (run `doorstep recover` to restore finalized ones from the journal)",
                    unreadable.len()
                )))
            }
        }
        ResponsesCommand::Show { id, json } => {
            let response = store.get(store.resolve_id(id)?)?;
            let survey = find_survey(data_dir, &response, err)?;
            // An EVA audit names the audit of the same transect before it, so a re-audit
            // can be compared (before and after).
            let others = match transect::transect_id(&response) {
                Some(_) => store.list(&ResponseFilter::default())?.responses,
                None => Vec::new(),
            };
            let earlier = transect::earlier_audit(&response, &others);
            let mut doc = show_document(&response, survey.as_ref(), earlier);
            // A finding followed up in the register names the action that answers it.
            if !response.findings.is_empty()
                && let Some(t) =
                    super::actions::answering_findings(&store.actions()?.actions, response.id)
            {
                doc.heading("Actions answering its findings:");
                doc.table(t);
            }
            print(out, &doc, Format::json_if(*json))
        }
    }
}

/// The area codes `key` covers: a township or ward with every priority action area inside
/// it; any other code (a PAA, an LSOA, an area no longer in the geography) as itself.
pub(crate) fn area_codes(geography: &Geography, key: &str) -> Vec<String> {
    let wards: Vec<String> = match geography.select(key) {
        Some(AreaSelection::Township(t)) => t.wards.clone(),
        Some(AreaSelection::Area {
            level: Level::Ward,
            area,
        }) => vec![area.code],
        Some(AreaSelection::Area { area, .. }) => return vec![area.code],
        None => return vec![key.trim().to_owned()],
    };
    let mut codes = wards.clone();
    for t in geography.tree() {
        for w in t.wards.iter().filter(|w| wards.contains(&w.ward.code)) {
            codes.extend(w.paas.iter().map(|p| p.code.clone()));
        }
    }
    codes
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
    let mut table = list_table();
    for r in responses {
        table.push(list_row(r));
    }
    list_of(table, responses.len())
}

fn list_table() -> Table {
    Table::new(
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
    .when_empty("no responses")
}

fn list_row(r: &Response) -> Vec<Cell> {
    vec![
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
    ]
}

fn list_of(table: Table, count: usize) -> Document {
    let mut doc = Document::new();
    doc.table(table);
    if count > 0 {
        doc.note(format!("{count} response(s)"));
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
        Ok((registry, diagnostics)) => {
            // Broken files in the data dir's surveys are skipped; say which and why.
            for d in diagnostics.iter().filter(|d| d.is_error()) {
                warn(err, &format!("survey file skipped: {d}"))?;
            }
            registry
        }
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
/// `earlier` is the audit of the same transect before this one, if `r` is an EVA audit.
pub fn show_document(
    r: &Response,
    survey: Option<&Survey>,
    earlier: Option<&Response>,
) -> Document {
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
        Some(at) => format!("{} ({})", r.status, when(at)),
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
            "{}, last changed {}",
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
    if let Some(id) = transect::transect_id(r) {
        let link = match earlier {
            Some(before) => format!(
                "{id}: re-audit; the audit before is {} ({})",
                before.id,
                when(before.started_at)
            ),
            None => format!("{id}: first audit on this device"),
        };
        f.add("transect", Cell::from(id.clone()).shown_as(link));
        f.add_hidden("audit_before", earlier.map(|b| b.id.to_string()));
    }
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
    // The plain answers, so a ranking reads with the words typed for its "other".
    let plain: Answers = r
        .answers
        .iter()
        .filter_map(|(q, rec)| match &rec.value {
            StoredAnswer::Plain(a) => Some((q.clone(), a.clone())),
            StoredAnswer::Sealed(_) => None,
        })
        .collect();

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
                    // Labels, not stored values, wherever the survey can say what a value
                    // means; `answer` keeps the stored value for machines.
                    let shown = match (&rec.value, survey.and_then(|s| Some((s, s.question(qid)?))))
                    {
                        (StoredAnswer::Plain(a), Some((s, q))) => {
                            label::answer_label(s, q, a, &plain, &r.language)
                        }
                        (value, _) => value.display(),
                    };
                    item = item
                        .detail(format!(
                            "= {shown}  [given {}{changes}]",
                            when(rec.given_at)
                        ))
                        .field("answer", rec.value.display())
                        .field("answer_label", shown)
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
                        .field("answer_label", Value::Null)
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::response::{Env, NewResponse};
    use crate::store::Store;
    use crate::survey::{Answer, QuestionKind};

    #[test]
    fn a_record_with_an_undecodable_answer_is_reported_and_the_list_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let registry = Registry::builtin().unwrap();
        let kin = registry.get("kin", None).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap();
        let store = Store::open_with(&data, Env::manual(at).0).unwrap();
        let q = kin
            .questions
            .iter()
            .find(|q| matches!(q.kind, QuestionKind::YesNo) && !q.personal)
            .unwrap();
        let ids: Vec<_> = (0..3)
            .map(|_| {
                let r = store
                    .create_draft(NewResponse {
                        survey_id: kin.id.clone(),
                        survey_version: kin.version,
                        fingerprint: kin.fingerprint.clone(),
                        area: "E05000841".into(),
                        period: None,
                        interviewer: "PC 1".into(),
                        device: "D1".into(),
                        language: "en".into(),
                        started_at: at,
                    })
                    .unwrap();
                store
                    .record_answer(r.id, q, Answer::YesNo(true), at)
                    .unwrap();
                store.finalize(r.id, Status::Complete, at).unwrap();
                r.id
            })
            .collect();
        // The middle one's answer garbled, the record around it intact.
        let tree = store.tree("responses").unwrap();
        let text =
            String::from_utf8(tree.get(ids[1].as_bytes()).unwrap().unwrap().to_vec()).unwrap();
        let garbled = text.replace(r#""type":"yes_no""#, r#""type":"garbled""#);
        assert_ne!(garbled, text);
        tree.insert(ids[1].as_bytes(), garbled.as_bytes()).unwrap();
        store.flush().unwrap();
        drop(tree);
        drop(store);

        let cmd = ResponsesCommand::List {
            area: None,
            status: None,
            period: None,
            json: false,
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let e = run(&cmd, &data, &mut out, &mut err).unwrap_err();
        assert_eq!(e.exit_code(), crate::exit::DATA_ERR);
        assert!(
            e.to_string()
                .starts_with("1 stored response(s) could not be read"),
            "{e}"
        );
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains(&ids[0].to_string()), "{out}");
        assert!(out.contains(&ids[2].to_string()), "{out}");
        assert!(!out.contains(&ids[1].to_string()), "{out}");
        assert!(out.ends_with("2 response(s)\n"), "{out}");
        let err = String::from_utf8(err).unwrap();
        assert!(err.contains(&ids[1].to_string()), "{err}");
        assert!(err.contains("answer `"), "{err}");
        // Listing only reads: the record is as it was.
        let store = Store::open_with(&data, Env::manual(at).0).unwrap();
        let tree = store.tree("responses").unwrap();
        assert_eq!(
            tree.get(ids[1].as_bytes()).unwrap().unwrap().as_ref(),
            garbled.as_bytes()
        );
    }
}
