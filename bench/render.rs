//! Render time of the field app's screens: `view::render` through ratatui's `TestBackend`
//! at 80×24 and 120×40, on an app driven to each screen the way an officer would get there
//! (built-in surveys, monochrome theme, a fixed clock). Criterion reports time per frame.

// A benchmark reports to the terminal it runs in.
#![allow(clippy::print_stdout, clippy::print_stderr)]
// Test and benchmark code: a failed unwrap is a failed run, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use doorstep::response::{Env, SettingKey};
use doorstep::seal::CoordinatorIdentity;
use doorstep::store::Store;
use doorstep::survey::registry::Registry;
use doorstep::tui::action::Action;
use doorstep::tui::app::{App, AreaPick};
use doorstep::tui::keys::Mode;
use doorstep::tui::screens::Screen;
use doorstep::tui::screens::interview::Interview;
use doorstep::tui::theme::Theme;
use doorstep::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

/// Drives a new app on a temporary data directory to the screen to draw.
type Build = fn(&TempDir) -> App;

/// A set-up device (officer, device and coordinator key known) with an area chosen.
fn app(dir: &TempDir) -> App {
    let env = Env::manual(Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()).0;
    let store = Store::open_with(dir.path(), env).expect("open the store");
    store.set_setting(SettingKey::Officer, "PC 4521").unwrap();
    store
        .set_setting(SettingKey::Device, "WIGAN-NPT-07")
        .unwrap();
    // With a coordinator key the contact questions are answered (sealed), not skipped.
    let recipient = CoordinatorIdentity::generate().recipient().to_string();
    store
        .set_setting(SettingKey::Recipient, &recipient)
        .unwrap();
    let mut app = App::new(store, Registry::builtin().unwrap(), Theme::monochrome()).unwrap();
    app.ctx.area = Some(AreaPick {
        code: "E05000841".into(),
        name: "Demo PAA".into(),
    });
    app
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Char(c));
    }
}

fn interview(app: &App) -> &Interview {
    match &app.screen {
        Screen::Interview(i) => i,
        _ => panic!("not in an interview: {:?}", app.flash),
    }
}

fn current_question(app: &App) -> String {
    let i = interview(app);
    i.survey.questions[i.index].id.clone()
}

/// Home → start → KIN (the chooser's 1) → the door log → a new door, 12 Kay Street → its
/// KIN interview → consent given.
fn start_kin(app: &mut App) {
    app.update(Action::Digit(1));
    app.update(Action::Digit(1));
    app.update(Action::NewDoor);
    for _ in 0..40 {
        app.update(Action::Backspace);
    }
    type_text(app, "Kay Street");
    app.update(Action::Confirm);
    type_text(app, "12");
    app.update(Action::Confirm);
    app.update(Action::Interview);
    // The introduction, then consent: yes.
    app.update(Action::Confirm);
    app.update(Action::Digit(1));
}

/// A KIN interview on its first single-choice question after consent.
fn kin_single_choice(dir: &TempDir) -> App {
    let mut app = app(dir);
    start_kin(&mut app);
    assert_eq!(app.mode(), Mode::Choice, "at {}", current_question(&app));
    app
}

/// A KIN interview on the issue-coding list with "drug" typed into its filter.
fn kin_issues_filtered(dir: &TempDir) -> App {
    let mut app = app(dir);
    start_kin(&mut app);
    for _ in 0..20 {
        if current_question(&app) == "unsafe_issues" {
            break;
        }
        answer(&mut app);
    }
    assert_eq!(current_question(&app), "unsafe_issues");
    type_text(&mut app, "drug");
    app
}

/// A KIN interview answered in full (every question, the contact details sealed),
/// showing the review screen.
fn kin_review(dir: &TempDir) -> App {
    let mut app = app(dir);
    start_kin(&mut app);
    for _ in 0..200 {
        if app.mode() == Mode::Review {
            break;
        }
        answer(&mut app);
    }
    assert_eq!(app.mode(), Mode::Review);
    app
}

/// Answers the current question the way a respondent who has something to say would.
fn answer(app: &mut App) {
    match app.mode() {
        Mode::Note | Mode::Rank | Mode::Handover => app.update(Action::Confirm),
        Mode::Choice => app.update(Action::Digit(1)),
        Mode::Multi => {
            app.update(Action::Digit(1));
            app.update(Action::Digit(2));
            app.update(Action::Confirm);
        }
        Mode::Text => {
            let q = current_question(app);
            let text = match q.as_str() {
                "victim_times" => "2",
                "contact_phone" => "07700 900123",
                "contact_email" => "resident@example.org",
                "top_where" => "lamp column 14",
                _ => "Cars speeding past the school at home time",
            };
            type_text(app, text);
            app.update(Action::Confirm);
        }
        m => panic!("unexpected mode {m:?} at {}", current_question(app)),
    }
    // Anything the answer did not satisfy is skipped rather than retried.
    if interview(app).error.is_some() {
        app.update(Action::Skip);
    }
}

/// An EVA audit on its checklist table (header answered, optional questions skipped).
fn eva_checklist(dir: &TempDir) -> App {
    let mut app = app(dir);
    // Home → start → EVA (the chooser's 3).
    app.update(Action::Digit(1));
    app.update(Action::Digit(3));
    // EVA v2 asks for the transect's id first.
    for text in [
        "PEM-014",
        "Kay Street",
        "junction with Bell Lane",
        "lamp column 14",
    ] {
        type_text(&mut app, text);
        app.update(Action::Confirm);
    }
    for _ in 0..30 {
        if app.mode() == Mode::Checklist {
            break;
        }
        let i = interview(&app);
        let required = i.survey.questions[i.index].required;
        match (app.mode(), required) {
            (_, false) => app.update(Action::Skip),
            (Mode::Text, true) => app.update(Action::Confirm),
            (_, true) => app.update(Action::Digit(1)),
        }
    }
    assert_eq!(app.mode(), Mode::Checklist);
    // A few items graded, as an auditor part-way down the table would have.
    for _ in 0..3 {
        app.update(Action::Grade('B'));
        app.update(Action::Down);
    }
    app
}

fn render(c: &mut Criterion) {
    let screens: [(&str, Build); 4] = [
        ("kin_single_choice", kin_single_choice),
        ("kin_issues_filtered", kin_issues_filtered),
        ("kin_review", kin_review),
        ("eva_checklist", eva_checklist),
    ];
    let mut group = c.benchmark_group("render");
    for (name, build) in screens {
        let dir = tempfile::tempdir().expect("a temporary data directory");
        let app = build(&dir);
        if name == "kin_review" {
            let i = interview(&app);
            let given = i.answers.values().filter(|a| a.is_given()).count();
            eprintln!("kin_review: {given} answers given");
        }
        for (w, h) in SIZES {
            let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
            group.bench_function(BenchmarkId::new(name, format!("{w}x{h}")), |b| {
                b.iter(|| {
                    terminal.draw(|f| view::render(black_box(&app), f)).unwrap();
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
