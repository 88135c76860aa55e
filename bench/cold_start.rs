//! Helper for `bench/cold_start.sh`.
//!
//! - `cold_start journal DIR COUNT` writes `DIR/journal/journal.jsonl`: the device settings
//!   (officer, device, area, coordinator key) and COUNT finalized KIN interviews, each walked
//!   through the built-in questionnaire with plausible answers (about 40 given, the contact
//!   details sealed), in the journal's own line format. `doorstep recover` then builds the
//!   store from it, as it would after a crash.
//! - `cold_start phases DIR [RUNS]` opens the store the way the field app does and prints
//!   how long each step of its start-up takes, up to the first frame (on `TestBackend`).

// A measuring tool: its results are its printed output.
#![allow(clippy::print_stdout, clippy::print_stderr)]
// Test and benchmark code: a failed unwrap is a failed run, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use doorstep::response::{
    Door, NewResponse, Response, ResponseFilter, SettingKey, Status, StoredAnswer,
};
use doorstep::seal::{self, CoordinatorIdentity};
use doorstep::store::{JournalEntry, Store, encode_line, journal_path};
use doorstep::survey::model::{DateTimeMode, LocationForm, QuestionKind};
use doorstep::survey::registry::Registry;
use doorstep::survey::walker::{Answers, Walker};
use doorstep::survey::{Answer, Grade, IssueCoding, Location, Survey};
use doorstep::tui::app::App;
use doorstep::tui::screens::home::Counts;
use doorstep::tui::theme::Theme;
use doorstep::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

type Failure = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["journal", dir, count] => count
            .parse()
            .map_err(|e| format!("bad COUNT `{count}`: {e}").into())
            .and_then(|n| write_journal(Path::new(dir), n)),
        ["phases", dir] => phases(Path::new(dir), 5),
        ["phases", dir, runs] => runs
            .parse()
            .map_err(|e| format!("bad RUNS `{runs}`: {e}").into())
            .and_then(|n| phases(Path::new(dir), n)),
        _ => Err("usage: cold_start journal DIR COUNT | cold_start phases DIR [RUNS]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cold_start: {e}");
            ExitCode::FAILURE
        }
    }
}

const STREETS: [&str; 6] = [
    "Kay Street",
    "Bell Lane",
    "Church Road",
    "Mesnes Terrace",
    "Poolstock Lane",
    "Frog Lane",
];

fn write_journal(dir: &Path, count: usize) -> Result<(), Failure> {
    let registry = Registry::builtin()?;
    let survey = registry.get("kin", None).ok_or("no built-in KIN survey")?;
    let identity = CoordinatorIdentity::generate();
    let recipient = identity.recipient();
    let path = journal_path(dir);
    if path.exists() {
        return Err(format!("{} exists already", path.display()).into());
    }
    std::fs::create_dir_all(path.parent().ok_or("journal path has no folder")?)?;
    let mut out = BufWriter::new(File::create(&path)?);
    for (key, value) in [
        (SettingKey::Officer, "PC 4521".to_owned()),
        (SettingKey::Device, "WIGAN-NPT-07".to_owned()),
        (SettingKey::Area, "E05000841".to_owned()),
        (SettingKey::Recipient, recipient.to_string()),
    ] {
        out.write_all(encode_line(&JournalEntry::Setting { key, value })?.as_bytes())?;
    }
    // Sealing is age encryption; one blob per personal question keeps 100,000 interviews
    // quick to write while giving each record a sealed answer of the real size.
    let mut sealed: BTreeMap<String, String> = BTreeMap::new();
    // One interview every five minutes of fieldwork, ending today.
    let step = chrono::Duration::minutes(5);
    let first = Utc::now() - step * i32::try_from(count)?;
    let mut given_total = 0usize;
    for n in 0..count {
        let started = first + step * i32::try_from(n)?;
        let response = interview(survey, n, started, &mut |qid, answer| {
            let blob = match sealed.get(qid) {
                Some(b) => b.clone(),
                None => {
                    let b = seal::seal(&recipient, answer).expect("sealing works");
                    sealed.insert(qid.to_owned(), b.clone());
                    b
                }
            };
            StoredAnswer::Sealed(blob)
        })?;
        given_total += response.answered_count();
        out.write_all(encode_line(&JournalEntry::Response(response))?.as_bytes())?;
    }
    out.flush()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    let size = std::fs::metadata(&path)?.len();
    println!(
        "wrote {count} finalized KIN interviews ({:.1} answers given on average) to {} ({:.0} MiB)",
        given_total as f64 / count.max(1) as f64,
        path.display(),
        size as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

/// One finalized interview: every visible question answered (or skipped when nothing
/// plausible fits), answers twenty seconds apart.
fn interview(
    survey: &Survey,
    n: usize,
    started: DateTime<Utc>,
    seal: &mut dyn FnMut(&str, &Answer) -> StoredAnswer,
) -> Result<Response, Failure> {
    let counter: [u8; 10] = (n as u128).to_be_bytes()[6..].try_into()?;
    let id = uuid::Builder::from_unix_timestamp_millis(
        u64::try_from(started.timestamp_millis())?,
        &counter,
    )
    .into_uuid();
    let mut response = Response::draft(
        id,
        NewResponse {
            survey_id: survey.id.clone(),
            survey_version: survey.version,
            fingerprint: survey.fingerprint.clone(),
            area: "E05000841".into(),
            period: None,
            interviewer: "PC 4521".into(),
            device: "WIGAN-NPT-07".into(),
            language: if n.is_multiple_of(7) { "pl" } else { "en" }.into(),
            started_at: started,
        },
    )?;
    response.door = Some(Door::new(
        STREETS[n % STREETS.len()],
        &(1 + n % 120).to_string(),
    )?);
    let walker = Walker::new(survey);
    let mut answers = Answers::new();
    let mut at = started;
    let mut index = walker.next(&answers, None);
    while let Some(i) = index {
        let q = &survey.questions[i];
        if !matches!(q.kind, QuestionKind::Note) {
            let answer = candidates(survey, i, &answers, n, at)
                .into_iter()
                .find(|a| walker.validate(i, a, &answers).is_ok())
                .unwrap_or(Answer::Skipped);
            at += chrono::Duration::seconds(20);
            let stored = if q.personal && answer.is_given() {
                seal(&q.id, &answer)
            } else {
                StoredAnswer::Plain(answer.clone())
            };
            response.set_answer(&q.id, stored, at);
            answers.insert(q.id.clone(), answer);
        }
        index = walker.next(&answers, Some(i));
    }
    response.finalize(Status::Complete, at + chrono::Duration::seconds(30));
    Ok(response)
}

/// Plausible answers to question `i`, most likely first; `n` varies them between
/// interviews.
fn candidates(
    survey: &Survey,
    i: usize,
    answers: &Answers,
    n: usize,
    at: DateTime<Utc>,
) -> Vec<Answer> {
    let q = &survey.questions[i];
    let rotate = |values: Vec<String>| -> Vec<String> {
        let values: Vec<String> = values.into_iter().filter(|v| v != "other").collect();
        let k = if values.is_empty() {
            0
        } else {
            n % values.len()
        };
        values[k..].iter().chain(&values[..k]).cloned().collect()
    };
    match &q.kind {
        QuestionKind::Single { choices } | QuestionKind::Scale { choices, .. } => {
            rotate(choices.iter().map(|c| c.value.clone()).collect())
                .into_iter()
                .map(Answer::Choice)
                .collect()
        }
        QuestionKind::Multiple { choices, .. } => {
            let values = rotate(choices.iter().map(|c| c.value.clone()).collect());
            vec![
                Answer::Choices(values.iter().take(2).cloned().collect()),
                Answer::Choices(values.iter().take(1).cloned().collect()),
            ]
        }
        QuestionKind::Issues { .. } => {
            let ids = rotate(
                survey
                    .taxonomy
                    .issues
                    .iter()
                    .map(|t| t.id.clone())
                    .collect(),
            );
            vec![
                Answer::Issues(IssueCoding {
                    issues: ids.iter().take(3).cloned().collect(),
                    other: None,
                }),
                Answer::Issues(IssueCoding {
                    issues: ids.iter().take(1).cloned().collect(),
                    other: None,
                }),
            ]
        }
        QuestionKind::Rank { from, max } => {
            let values = answers.get(from).map(Answer::values).unwrap_or_default();
            let values: Vec<String> = values.into_iter().filter(|v| v != "other").collect();
            (1..=values.len().min(*max as usize))
                .rev()
                .map(|k| Answer::Rank(values[..k].to_vec()))
                .collect()
        }
        QuestionKind::Number { min, integer, .. } => {
            let base = min.unwrap_or(0.0).max(1.0);
            let x = base + (n % 3) as f64;
            vec![Answer::Number(if *integer { x.round() } else { x + 0.5 })]
        }
        QuestionKind::Count { .. } => vec![Answer::Count((n % 5) as u64)],
        QuestionKind::Text { .. } => {
            let text = match q.id.as_str() {
                "contact_name" => "Sam Example",
                "contact_phone" => "07700 900123",
                "contact_email" => "resident@example.org",
                "contact_address" => "12 Kay Street",
                _ => "Cars speeding past the school at home time, and litter by the shops",
            };
            vec![Answer::Text(text.to_owned())]
        }
        // Consent given; the follow-up questions vary.
        QuestionKind::YesNo => vec![Answer::YesNo(q.id == "consent" || n.is_multiple_of(3))],
        QuestionKind::DateTime { mode } => {
            let local = at.naive_utc();
            vec![match mode {
                DateTimeMode::Date => Answer::Date(local.date()),
                DateTimeMode::Time => Answer::Time(local.time()),
                DateTimeMode::DateTime => Answer::DateTime(local),
            }]
        }
        QuestionKind::Location { forms } => forms
            .iter()
            .map(|f| match f {
                LocationForm::Fixed => Answer::Location(Location::Fixed {
                    text: "lamp column 14".into(),
                }),
                LocationForm::GridRef => Answer::Location(Location::GridRef {
                    text: "SD 5760 0540".into(),
                }),
                LocationForm::LatLon => Answer::Location(Location::LatLon {
                    lat: 53.5450,
                    lon: -2.6325,
                }),
            })
            .collect(),
        QuestionKind::Grade => vec![Answer::Grade(Grade::B)],
        QuestionKind::Note => Vec::new(),
    }
}

/// Times each step of the field app's start-up, as `tui::run` and `App::new` do them,
/// then (not part of start-up) what reading the responses costs two ways.
fn phases(dir: &Path, runs: usize) -> Result<(), Failure> {
    let mut rows: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut record = |name, d: Duration| rows.entry(name).or_default().push(d);
    let mut responses = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let store = Store::open(dir)?;
        let open = t.elapsed();
        let t = Instant::now();
        let (registry, _) = Registry::load(dir)?;
        let surveys = t.elapsed();
        let t = Instant::now();
        let app = App::new(store, registry, Theme::monochrome())?;
        let new = t.elapsed();
        let t = Instant::now();
        let mut terminal = Terminal::new(TestBackend::new(80, 24))?;
        terminal.draw(|f| view::render(&app, f))?;
        let frame = t.elapsed();
        record("1 Store::open (sled)", open);
        record("2 Registry::load (built-in surveys)", surveys);
        record("3 App::new (settings, geography, home counts)", new);
        record("4 first frame (TestBackend 80x24)", frame);
        record("5 total of 1-4", open + surveys + new + frame);

        let t = Instant::now();
        let _settings = app.ctx.store.settings()?;
        record("  of 3: settings", t.elapsed());
        let t = Instant::now();
        let _geography = app.ctx.store.stored_geography()?.or_builtin()?;
        record("  of 3: geography (built-in demo)", t.elapsed());
        let t = Instant::now();
        let _counts = Counts::read(&app.ctx)?;
        record("  of 3: home counts (Counts::read)", t.elapsed());
        let t = Instant::now();
        let summaries = app.ctx.store.summaries()?;
        responses = summaries.summaries.len();
        drop(summaries);
        record("  store.summaries (answers skipped)", t.elapsed());
        let t = Instant::now();
        drop(app.ctx.store.list(&ResponseFilter::default())?);
        record("  store.list (every response decoded)", t.elapsed());
    }
    println!("{responses} responses in the store; {runs} run(s); min / median / max in ms");
    let mut rows: Vec<_> = rows.into_iter().collect();
    // The start-up steps first, then the detail.
    rows.sort_by_key(|(name, _)| (name.starts_with(' '), *name));
    for (name, mut times) in rows {
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name:<48} {:>9.1} {:>9.1} {:>9.1}",
            ms(times[0]),
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1])
        );
    }
    Ok(())
}
