//! The field app's `update` for each flow, and an `insta` snapshot of every screen through
//! `TestBackend` (80×24; the interview also at 120×40). The clock and ids are injected so
//! the screens are the same on every run.

use std::sync::Arc;
use std::sync::mpsc::Receiver;

use chrono::{DateTime, Duration, TimeZone, Utc};
use doorstep::response::{
    Door, DoorCounts, DoorRecord, Env, FIELDWORK_ZONE, ManualClock, Outcome, SettingKey, Status,
    StoredAnswer,
};
use doorstep::store::Store;
use doorstep::survey::Answer;
use doorstep::survey::registry::Registry;
use doorstep::tui::action::Action;
use doorstep::tui::app::{App, AreaPick, Flash};
use doorstep::tui::event::Event;
use doorstep::tui::keys::Mode;
use doorstep::tui::screens::Screen;
use doorstep::tui::theme::Theme;
use doorstep::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;

fn env() -> Env {
    Env::manual(Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()).0
}

/// A set-up device (officer and device known) with an area chosen.
fn app(dir: &TempDir) -> App {
    app_with_clock(dir).0
}

/// As [`app`], with the clock the test can move.
fn app_with_clock(dir: &TempDir) -> (App, Arc<ManualClock>) {
    let (env, clock) = Env::manual(Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap());
    let store = Store::open_with(dir.path(), env).unwrap();
    store.set_setting(SettingKey::Officer, "PC 4521").unwrap();
    store
        .set_setting(SettingKey::Device, "WIGAN-NPT-07")
        .unwrap();
    let mut app = App::new(store, Registry::builtin().unwrap(), Theme::monochrome()).unwrap();
    app.ctx.area = Some(AreaPick {
        code: "E05000841".into(),
        name: "Demo PAA".into(),
    });
    (app, clock)
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::render(app, f)).unwrap();
    t.backend().to_string()
}

fn press(app: &mut App, actions: &[Action]) {
    for a in actions {
        app.update(*a);
    }
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Char(c));
    }
}

/// Home → start → survey `n` of the chooser (1 KIN, 2 youth KIN, 3 EVA).
fn start(app: &mut App, n: u8) {
    press(app, &[Action::Digit(1), Action::Digit(n)]);
}

/// Home → the door log → a new door, 12 Kay Street → its KIN interview.
fn start_kin(app: &mut App) {
    start(app, 1);
    add_door(app, Some("Kay Street"), "12");
    app.update(Action::Interview);
    assert!(
        matches!(app.screen, Screen::Interview(_)),
        "no interview: {:?}",
        app.flash
    );
}

/// `a`, then the street (`None` keeps the remembered one), then the number.
fn add_door(app: &mut App, street: Option<&str>, number: &str) {
    app.update(Action::NewDoor);
    assert_eq!(app.mode(), Mode::Form);
    if let Some(street) = street {
        clear_field(app);
        type_text(app, street);
    }
    app.update(Action::Confirm);
    type_text(app, number);
    app.update(Action::Confirm);
}

/// Empties the text field being typed into (Backspace on an empty field does nothing here).
fn clear_field(app: &mut App) {
    app.update(Action::CursorEnd);
    for _ in 0..100 {
        app.update(Action::Backspace);
    }
}

fn interview(app: &App) -> &doorstep::tui::screens::interview::Interview {
    match &app.screen {
        Screen::Interview(i) => i,
        _ => panic!("not in an interview"),
    }
}

fn current_question(app: &App) -> String {
    let i = interview(app);
    i.survey.questions[i.index].id.clone()
}

#[test]
fn first_run_asks_officer_and_device_once_and_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with(dir.path(), env()).unwrap();
    let mut app = App::new(store, Registry::builtin().unwrap(), Theme::monochrome()).unwrap();
    assert!(matches!(app.screen, Screen::FirstRun(_)));
    assert_eq!(app.mode(), Mode::Form);
    insta::assert_snapshot!("first_run", screen(&app, 80, 24));
    // Empty is refused with a message, and nothing is stored.
    app.update(Action::Confirm);
    assert!(screen(&app, 80, 24).contains("✗ Type an answer"));
    assert_eq!(app.ctx.store.settings().unwrap().officer, None);
    type_text(&mut app, "PC 4521");
    app.update(Action::Confirm);
    type_text(&mut app, "WIGAN-NPT-07");
    app.update(Action::Confirm);
    assert!(matches!(app.screen, Screen::Home(_)));
    let s = app.ctx.store.settings().unwrap();
    assert_eq!(
        (s.officer.as_deref(), s.device.as_deref()),
        (Some("PC 4521"), Some("WIGAN-NPT-07"))
    );
    drop(app);
    // Reopened: straight to home.
    let store = Store::open_with(dir.path(), env()).unwrap();
    let app = App::new(store, Registry::builtin().unwrap(), Theme::monochrome()).unwrap();
    assert!(matches!(app.screen, Screen::Home(_)));
}

#[test]
fn home_needs_an_area_before_fieldwork() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    insta::assert_snapshot!("home", screen(&app, 80, 24));
    app.update(Action::Digit(9));
    assert_eq!(app.flash, Some(Flash::Error("There is no item 9".into())));
    app.ctx.area = None;
    app.update(Action::Digit(1));
    assert!(matches!(app.screen, Screen::Home(_)));
    assert_eq!(
        app.flash,
        Some(Flash::Notice("Choose the area first (3)".into()))
    );
}

#[test]
fn every_answer_is_on_disk_before_the_next_question_appears() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    assert_eq!(current_question(&app), "intro");
    insta::assert_snapshot!("interview_note", screen(&app, 80, 24));
    insta::assert_snapshot!("interview_note_120x40", screen(&app, 120, 40));
    app.update(Action::Confirm);
    assert_eq!(current_question(&app), "consent");
    assert_eq!(app.mode(), Mode::Choice);
    insta::assert_snapshot!("interview_choice", screen(&app, 80, 24));
    app.update(Action::Digit(1)); // Yes: one key picks and moves on
    let id = interview(&app).id;
    let stored = app.ctx.store.get(id).unwrap();
    assert_eq!(
        stored.answers["consent"].value,
        StoredAnswer::Plain(Answer::YesNo(true))
    );
    assert_eq!(
        stored.position.as_deref(),
        Some(current_question(&app).as_str())
    );
    assert_ne!(current_question(&app), "consent");
}

#[test]
fn back_skip_and_required_questions() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    press(&mut app, &[Action::Confirm]);
    // Consent is required: ^S refuses with words, not colour.
    app.update(Action::Skip);
    assert_eq!(current_question(&app), "consent");
    assert!(screen(&app, 80, 24).contains("✗ This question needs an answer: it cannot be skipped"));
    app.update(Action::Digit(1));
    let after_consent = current_question(&app);
    // ← goes back to consent with the answer shown.
    app.update(Action::Back);
    assert_eq!(current_question(&app), "consent");
    assert!(screen(&app, 80, 24).contains("(•) Yes"));
    app.update(Action::Confirm);
    assert_eq!(current_question(&app), after_consent);
}

#[test]
fn issue_coding_filters_ticks_and_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    press(&mut app, &[Action::Confirm, Action::Digit(1)]);
    // Walk to the issues question answering the first choice of everything.
    let mut guard = 0;
    while current_question(&app) != "unsafe_issues" {
        let i = interview(&app);
        let q = &i.survey.questions[i.index];
        match app.mode() {
            Mode::Text => {
                type_text(&mut app, "5");
                app.update(Action::Confirm);
            }
            _ if q.required => app.update(Action::Digit(1)),
            _ => app.update(Action::Skip),
        }
        guard += 1;
        assert!(guard < 20, "stuck at {}", current_question(&app));
    }
    assert_eq!(app.mode(), Mode::Multi);
    type_text(&mut app, "drug");
    insta::assert_snapshot!("interview_issues_filtered", screen(&app, 80, 24));
    press(&mut app, &[Action::Digit(1)]); // tick "Drug use or dealing"; the filter stays
    assert!(screen(&app, 80, 24).contains("Ticked: Drug use or dealing (1 ticked in all)"));
    press(&mut app, &[Action::Backspace; 4]);
    type_text(&mut app, "litter");
    press(&mut app, &[Action::Digit(1), Action::Confirm]);
    let id = interview(&app).id;
    let stored = app.ctx.store.get(id).unwrap();
    assert_eq!(
        stored.answers["unsafe_issues"].value,
        StoredAnswer::Plain(Answer::Issues(doorstep::survey::IssueCoding {
            issues: vec!["drugs".into(), "litter".into()],
            other: None
        }))
    );
    // Two text questions (skipped), then the ranking of the two issues named.
    press(&mut app, &[Action::Skip, Action::Skip]);
    assert_eq!(current_question(&app), "top_three");
    assert_eq!(app.mode(), Mode::Rank);
    app.update(Action::Confirm);
    assert!(screen(&app, 80, 24).contains("✗ Nothing ranked yet: press the numbers of up to 2"));
    press(&mut app, &[Action::Digit(2), Action::Digit(1)]);
    insta::assert_snapshot!("interview_rank", screen(&app, 80, 24));
    app.update(Action::Confirm);
    let stored = app.ctx.store.get(id).unwrap();
    assert_eq!(
        stored.answers["top_three"].value,
        StoredAnswer::Plain(Answer::Rank(vec!["litter".into(), "drugs".into()]))
    );
    // The location question: fixed reference typed with cursor editing.
    assert_eq!(current_question(&app), "top_issue_intro");
    app.update(Action::Confirm);
    assert_eq!(current_question(&app), "top_where");
    type_text(&mut app, "lamp column 14");
    insta::assert_snapshot!("interview_location", screen(&app, 80, 24));
    app.update(Action::Confirm);
    let stored = app.ctx.store.get(id).unwrap();
    assert_eq!(
        stored.answers["top_where"].value,
        StoredAnswer::Plain(Answer::Location(doorstep::survey::Location::Fixed {
            text: "lamp column 14".into()
        }))
    );
}

#[test]
fn language_switch_changes_every_label_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    press(&mut app, &[Action::Confirm]);
    let en = screen(&app, 80, 24);
    app.update(Action::SwitchLanguage);
    let pl = screen(&app, 80, 24);
    assert!(en.contains("Yes") && !pl.contains("Yes"), "{pl}");
    assert!(pl.contains("Tak") && pl.contains("[PL]"), "{pl}");
    insta::assert_snapshot!("interview_polish", pl);
}

#[test]
fn esc_keeps_a_draft_that_resumes_where_it_was_left() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    press(&mut app, &[Action::Confirm, Action::Digit(1)]);
    let at = current_question(&app);
    app.update(Action::Leave);
    assert!(matches!(app.screen, Screen::DoorLog(_)));
    assert_eq!(
        app.flash,
        Some(Flash::Ok(
            "Kept as a draft: resume it from Drafts (2)".into()
        ))
    );
    app.update(Action::Leave);
    assert!(matches!(app.screen, Screen::Home(_)));
    app.update(Action::Digit(2));
    insta::assert_snapshot!("drafts", screen(&app, 80, 24));
    app.update(Action::Digit(1));
    assert_eq!(current_question(&app), at);
}

#[test]
fn refusal_path_reviews_and_finalizes() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    press(&mut app, &[Action::Confirm, Action::Digit(2)]); // consent: No
    assert_eq!(current_question(&app), "no_consent_end");
    app.update(Action::Confirm);
    assert_eq!(app.mode(), Mode::Review);
    insta::assert_snapshot!("review", screen(&app, 80, 24));
    let id = interview(&app).id;
    app.update(Action::Finalize);
    assert!(matches!(app.screen, Screen::DoorLog(_)));
    let r = app.ctx.store.get(id).unwrap();
    assert_eq!(r.status, Status::Complete);
    assert!(matches!(app.flash, Some(Flash::Ok(ref m)) if m.starts_with("Interview finalized")));
}

#[test]
fn finalizing_an_incomplete_interview_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    press(
        &mut app,
        &[Action::Confirm, Action::Digit(1), Action::Review],
    );
    app.update(Action::Finalize);
    assert_eq!(app.mode(), Mode::Review);
    let s = screen(&app, 80, 24);
    assert!(s.contains("✗ Not complete:"), "{s}");
    let id = interview(&app).id;
    assert_eq!(app.ctx.store.get(id).unwrap().status, Status::Draft);
}

#[test]
fn help_lists_the_keys_of_the_screen_from_the_key_table() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    press(&mut app, &[Action::Confirm]);
    app.update(Action::Help);
    assert_eq!(app.mode(), Mode::Help);
    let s = screen(&app, 80, 24);
    for (keys, what) in doorstep::tui::keys::help_for(Mode::Choice) {
        assert!(s.contains(what), "help shows `{keys} {what}`:\n{s}");
    }
    insta::assert_snapshot!("help", s);
    app.update(Action::Char('x'));
    assert_eq!(app.mode(), Mode::Choice);
}

#[test]
fn personal_questions_without_a_coordinator_key_are_skipped_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    let i = interview(&app);
    let qid = i
        .survey
        .questions
        .iter()
        .find(|q| q.personal && matches!(q.kind, doorstep::survey::QuestionKind::Text { .. }))
        .unwrap()
        .id
        .clone();
    let id = i.id;
    press(&mut app, &[Action::Confirm, Action::Digit(1)]); // consent: yes
    jump_to(&mut app, "feedback_wanted");
    app.update(Action::Digit(1)); // wants to hear back: contact details are asked
    // Reached as the interview loads it: the warning comes before any typing.
    jump_to_loaded(&mut app, &qid);
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("! No coordinator key on this device: contact details cannot be kept"),
        "{s}"
    );
    type_text(&mut app, "Jane Doe");
    assert!(!screen(&app, 80, 24).contains("Jane"));
    app.update(Action::Confirm);
    let r = app.ctx.store.get(id).unwrap();
    assert_eq!(r.answers[&qid].value, StoredAnswer::Plain(Answer::Skipped));
}

/// Walks forward with Enter/skip until the interview shows `qid` as it loads it.
fn jump_to_loaded(app: &mut App, qid: &str) {
    for _ in 0..80 {
        if current_question(app) == qid {
            return;
        }
        match app.mode() {
            Mode::Note => app.update(Action::Confirm),
            _ => app.update(Action::Skip),
        }
    }
    panic!("never reached {qid}");
}

#[test]
fn the_area_picker_filters_the_tree_shows_the_map_and_remembers_the_choice() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    app.ctx.area = None;
    app.update(Action::Digit(3));
    assert_eq!(app.mode(), Mode::Picker);
    insta::assert_snapshot!("area_picker", screen(&app, 80, 24));
    type_text(&mut app, "douglas");
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("E05000847 Douglas") && s.contains("DEMO-PAA-2") && !s.contains("Pemberton"),
        "{s}"
    );
    assert!(
        s.contains("┌ Douglas ") && s.contains("P1… = PAA"),
        "the map follows the highlight:\n{s}"
    );
    press(&mut app, &[Action::Down, Action::Confirm]);
    assert!(matches!(app.screen, Screen::Home(_)));
    assert_eq!(
        app.ctx.area.as_ref().map(|a| a.code.as_str()),
        Some("DEMO-PAA-2")
    );
    assert_eq!(
        app.ctx.store.settings().unwrap().area.as_deref(),
        Some("DEMO-PAA-2")
    );
    // A filter that matches nothing says so and changes nothing.
    app.update(Action::Digit(3));
    type_text(&mut app, "zzz");
    app.update(Action::Confirm);
    assert_eq!(
        app.flash,
        Some(Flash::Error("Nothing matches what you typed".into()))
    );
    assert_eq!(
        app.ctx.store.settings().unwrap().area.as_deref(),
        Some("DEMO-PAA-2")
    );
    drop(app);
    // Reopened: the area is remembered.
    let store = Store::open_with(dir.path(), env()).unwrap();
    let app = App::new(store, Registry::builtin().unwrap(), Theme::monochrome()).unwrap();
    assert_eq!(
        app.ctx.area.as_ref().map(|a| a.name.as_str()),
        Some("DEMO Douglas")
    );
}

fn move_to(app: &mut App, question: &str, step: Action) {
    for _ in 0..40 {
        if current_question(app) == question {
            return;
        }
        app.update(step);
    }
    panic!("never reached {question}:\n{}", screen(app, 80, 24));
}

/// Starts an EVA and answers its header (transect id, street, from, to; skips the optional
/// rest).
fn eva_at_checklist(app: &mut App) {
    start(app, 3);
    for text in [
        "PEM-014",
        "Kay Street",
        "junction with Bell Lane",
        "lamp column 14",
    ] {
        type_text(app, text);
        app.update(Action::Confirm);
    }
    let mut guard = 0;
    while app.mode() != Mode::Checklist {
        let i = interview(app);
        let q = &i.survey.questions[i.index];
        match (app.mode(), q.required) {
            (_, false) => app.update(Action::Skip),
            (Mode::Text, true) => app.update(Action::Confirm), // date/time prefilled with now
            (_, true) => app.update(Action::Digit(1)),
        }
        guard += 1;
        assert!(guard < 30, "stuck at {}", current_question(app));
    }
}

#[test]
fn the_eva_checklist_grades_counts_flags_and_notes_each_item_as_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    eva_at_checklist(&mut app);
    let id = interview(&app).id;
    assert_eq!(current_question(&app), "litter");
    // b then + gives B+; stored at once.
    press(&mut app, &[Action::Grade('B'), Action::GradePlus]);
    let stored = |app: &App, q: &str| {
        app.ctx
            .store
            .get(id)
            .unwrap()
            .answers
            .get(q)
            .map(|r| r.value.clone())
    };
    assert_eq!(
        stored(&app, "litter"),
        Some(StoredAnswer::Plain(Answer::Grade(
            doorstep::survey::Grade::BPlus
        )))
    );
    // C then − gives C−; urgent flag and a note go into the finding.
    press(
        &mut app,
        &[
            Action::Down,
            Action::Grade('C'),
            Action::GradeMinus,
            Action::Urgent,
            Action::Note,
        ],
    );
    assert_eq!(app.mode(), Mode::Form);
    type_text(&mut app, "broken glass by the bus stop");
    app.update(Action::Confirm);
    let r = app.ctx.store.get(id).unwrap();
    assert_eq!(
        r.findings["detritus"].note.as_deref(),
        Some("broken glass by the bus stop")
    );
    assert!(r.findings["detritus"].urgent);
    // A grade key on a count row is refused with words; nothing is stored.
    move_to(&mut app, "needles", Action::Down);
    app.update(Action::Grade('A'));
    assert!(
        screen(&app, 80, 24)
            .contains("✗ A grade does not apply to this item: it takes a count: digits")
    );
    assert_eq!(stored(&app, "needles"), None);
    // Digits build the count; needles > 0 is urgent by the survey's own rule.
    press(
        &mut app,
        &[Action::Digit(1), Action::Digit(2), Action::Location],
    );
    type_text(&mut app, "rear of 22 Kay Street");
    app.update(Action::Confirm);
    assert_eq!(
        stored(&app, "needles"),
        Some(StoredAnswer::Plain(Answer::Count(12)))
    );
    // Urgent by the rule, and stored so: the store carries what the screen shows.
    let needles = &app.ctx.store.get(id).unwrap().findings["needles"];
    assert!(needles.urgent && needles.urgent_by_rule, "{needles:?}");
    assert_eq!(needles.location.as_deref(), Some("rear of 22 Kay Street"));
    insta::assert_snapshot!("eva_checklist", screen(&app, 80, 24));
    // The yes/no item: y yes; the follow-up appears only then.
    move_to(&mut app, "cctv_present", Action::Up);
    assert!(
        !screen(&app, 80, 24).contains("Does the CCTV appear"),
        "the follow-up is hidden before yes"
    );
    app.update(Action::Char('y'));
    app.update(Action::Down);
    assert_eq!(
        current_question(&app),
        "cctv_working",
        "yes brings in the follow-up row"
    );
    app.update(Action::Digit(1));
    assert!(matches!(
        stored(&app, "cctv_working"),
        Some(StoredAnswer::Plain(Answer::Choice(_)))
    ));
    // Leave the table past its last row: closing questions, then the review with the urgent summary.
    for _ in 0..40 {
        if app.mode() != Mode::Checklist {
            break;
        }
        app.update(Action::Confirm);
    }
    for _ in 0..10 {
        if app.mode() == Mode::Review {
            break;
        }
        app.update(Action::Skip);
    }
    assert_eq!(app.mode(), Mode::Review, "{}", screen(&app, 80, 24));
    let s = screen(&app, 80, 24);
    assert!(s.contains("! URGENT: Detritus"), "{s}");
    assert!(s.contains("! URGENT: Needles"), "{s}");
    insta::assert_snapshot!("eva_review", s);
    app.update(Action::Finalize);
    assert!(
        matches!(app.flash, Some(Flash::Ok(ref m)) if m.starts_with("Audit finalized")),
        "{:?}",
        app.flash
    );
    assert_eq!(app.ctx.store.get(id).unwrap().status, Status::Complete);
}

// ---- The door log (KIN) ------------------------------------------------------------------

const AREA: &str = "E05000841";

fn door_log(app: &App) -> &doorstep::tui::screens::door_log::DoorLog {
    match &app.screen {
        Screen::DoorLog(d) => d,
        _ => panic!("not on the door log"),
    }
}

fn doors(app: &App) -> Vec<DoorRecord> {
    app.ctx.store.doors(AREA).unwrap()
}

fn door(number: &str) -> Door {
    Door::new("Kay Street", number).unwrap()
}

/// The stored record of a door on Kay Street.
fn record(app: &App, number: &str) -> DoorRecord {
    let key = door(number).key();
    doors(app)
        .into_iter()
        .find(|r| r.door.key() == key)
        .unwrap_or_else(|| panic!("no door {number}"))
}

/// Selects a door on the door log by moving to it.
fn select(app: &mut App, number: &str) {
    press(app, &[Action::PageUp; 5]);
    let key = door(number).key();
    for _ in 0..50 {
        if door_log(app).selected_door().map(Door::key) == Some(key.clone()) {
            return;
        }
        app.update(Action::Down);
    }
    panic!("door {number} is not in the list");
}

/// Today at `h:m`, UK time, as the officer types it.
fn today_at(h: u32, m: u32) -> DateTime<Utc> {
    FIELDWORK_ZONE
        .with_ymd_and_hms(2026, 11, 23, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Answers every question the quick way (first choice when required, skip otherwise)
/// until the review screen.
fn answer_everything(app: &mut App) {
    for _ in 0..200 {
        if app.mode() == Mode::Review {
            return;
        }
        let i = interview(app);
        let required = i.survey.questions[i.index].required;
        match app.mode() {
            Mode::Note | Mode::Handover => app.update(Action::Confirm),
            _ if !required => app.update(Action::Skip),
            Mode::Choice => app.update(Action::Digit(1)),
            Mode::Multi | Mode::Rank => press(app, &[Action::Digit(1), Action::Confirm]),
            Mode::Text => {
                type_text(app, "5");
                app.update(Action::Confirm);
            }
            m => panic!("unexpected mode {m:?} at {}", current_question(app)),
        }
    }
    panic!(
        "never reached the review: stuck at {}",
        current_question(app)
    );
}

#[test]
fn door_log_adds_doors_and_remembers_the_street() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start(&mut app, 1);
    assert_eq!(app.mode(), Mode::DoorLog);
    assert_eq!(door_log(&app).area().code, AREA);
    insta::assert_snapshot!("door_log_empty", screen(&app, 80, 24));
    // Outcome keys with no door say what to do, and record nothing.
    app.update(Action::NoAnswer);
    assert_eq!(
        app.flash,
        Some(Flash::Notice("No door selected: press a to add one".into()))
    );
    assert!(doors(&app).is_empty());

    add_door(&mut app, Some("Kay Street"), "12");
    assert_eq!(app.flash, Some(Flash::Ok("12 Kay Street added".into())));
    assert_eq!(app.mode(), Mode::DoorLog);
    assert_eq!(door_log(&app).last_street(), "Kay Street");
    // The next door is offered on the same street: Enter keeps it.
    app.update(Action::NewDoor);
    assert!(
        screen(&app, 80, 24).contains("│Kay Street"),
        "{}",
        screen(&app, 80, 24)
    );
    app.update(Action::Confirm);
    assert!(screen(&app, 80, 24).contains("New door on Kay Street: house number or name"));
    type_text(&mut app, "14");
    app.update(Action::Confirm);
    assert_eq!(app.flash, Some(Flash::Ok("14 Kay Street added".into())));
    // A name instead of a number, on another street; the street changes with it.
    add_door(&mut app, Some("Elm  Road "), "Rose Cottage");
    assert_eq!(
        app.flash,
        Some(Flash::Ok("Rose Cottage, Elm Road added".into()))
    );
    assert_eq!(door_log(&app).last_street(), "Elm Road");
    // The same door again (any case and spacing) is selected, not added twice.
    add_door(&mut app, Some("kay street"), "12");
    assert_eq!(
        app.flash,
        Some(Flash::Notice(
            "12 Kay Street is already in the log: selected".into()
        ))
    );
    assert_eq!(door_log(&app).selected_door(), Some(&door("12")));
    assert_eq!(doors(&app).len(), 3);
    // Walking order: street, then number.
    let shown: Vec<String> = door_log(&app)
        .records()
        .iter()
        .map(|r| r.door.to_string())
        .collect();
    assert_eq!(
        shown,
        ["Rose Cottage, Elm Road", "12 Kay Street", "14 Kay Street"]
    );
    // Esc in the form cancels it; Esc on the log goes home.
    app.update(Action::NewDoor);
    app.update(Action::Leave);
    assert_eq!(app.mode(), Mode::DoorLog);
    assert_eq!(
        app.flash,
        Some(Flash::Notice("Cancelled: nothing recorded".into()))
    );
    app.update(Action::Leave);
    assert!(matches!(app.screen, Screen::Home(_)));

    // After a restart the street comes from the most recently knocked door.
    start(&mut app, 1);
    select(&mut app, "14");
    app.update(Action::NoAnswer);
    drop(app);
    let store = Store::open_with(dir.path(), env()).unwrap();
    let mut app = App::new(store, Registry::builtin().unwrap(), Theme::monochrome()).unwrap();
    app.ctx.area = Some(AreaPick {
        code: AREA.into(),
        name: "Demo PAA".into(),
    });
    start(&mut app, 1);
    assert_eq!(door_log(&app).last_street(), "Kay Street");
    add_door(&mut app, None, "16");
    assert_eq!(app.flash, Some(Flash::Ok("16 Kay Street added".into())));
}

#[test]
fn door_log_refuses_bad_input_for_every_field_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start(&mut app, 1);
    // Empty street.
    app.update(Action::NewDoor);
    type_text(&mut app, "   ");
    app.update(Action::Confirm);
    assert_eq!(
        app.flash,
        Some(Flash::Error(
            "Type the street name (it is remembered for the next door)".into()
        ))
    );
    assert_eq!(app.mode(), Mode::Form);
    assert!(screen(&app, 80, 24).contains("✗ Type the street name"));
    assert!(doors(&app).is_empty());
    // Empty number.
    clear_field(&mut app);
    type_text(&mut app, "Kay Street");
    app.update(Action::Confirm);
    app.update(Action::Confirm);
    assert_eq!(
        app.flash,
        Some(Flash::Error(
            "Type the house number or name on Kay Street".into()
        ))
    );
    assert_eq!(app.mode(), Mode::Form);
    assert!(doors(&app).is_empty());
    // Backspace on the empty number goes back to the street, still typed.
    app.update(Action::Backspace);
    assert!(screen(&app, 80, 24).contains("New door: the street"));
    app.update(Action::Confirm);
    type_text(&mut app, "12");
    app.update(Action::Confirm);
    assert_eq!(doors(&app).len(), 1);
    let before = doors(&app);

    // Call-back times: empty, malformed, a letter, and in the past.
    app.update(Action::CallBack);
    assert_eq!(app.mode(), Mode::Form);
    app.update(Action::Confirm);
    assert_eq!(
        app.flash,
        Some(Flash::Error("Type when to call back: a time today like 18:30, or a date and time like 2026-11-24 18:30".into()))
    );
    type_text(&mut app, "25:00");
    app.update(Action::Confirm);
    assert_eq!(
        app.flash,
        Some(Flash::Error(
            "`25:00` is not a time like 18:30 or a date and time like 2026-11-24 18:30".into()
        ))
    );
    insta::assert_snapshot!("door_log_call_back_bad_time", screen(&app, 80, 24));
    clear_field(&mut app);
    app.update(Action::Char('t'));
    assert_eq!(
        app.flash,
        Some(Flash::Error(
            "`t` cannot be part of YYYY-MM-DD HH:MM".into()
        ))
    );
    type_text(&mut app, "2026-11-23 09:00");
    app.update(Action::Confirm);
    assert_eq!(
        app.flash,
        Some(Flash::Error("2026-11-23 09:00 has already passed: give a later time, or the date too (e.g. 2026-11-24 18:30)".into()))
    );
    assert_eq!(app.mode(), Mode::Form);
    assert_eq!(doors(&app), before, "a bad call-back time records nothing");
    app.update(Action::Leave);
    assert_eq!(app.mode(), Mode::DoorLog);
    assert_eq!(doors(&app), before);
}

#[test]
fn door_log_records_each_knock_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start(&mut app, 1);
    add_door(&mut app, Some("Kay Street"), "2");
    for n in ["4", "6", "8", "10"] {
        add_door(&mut app, None, n);
    }
    add_door(&mut app, Some("Elm Road"), "Rose Cottage");
    assert_eq!(doors(&app).len(), 6);

    select(&mut app, "2");
    app.update(Action::NoAnswer);
    assert_eq!(
        app.flash,
        Some(Flash::Ok("2 Kay Street: no answer (recorded 10:00)".into()))
    );
    assert_eq!(record(&app, "2").latest(), Some(&Outcome::NoAnswer));
    select(&mut app, "4");
    app.update(Action::Refused);
    assert_eq!(record(&app, "4").latest(), Some(&Outcome::Refused));
    select(&mut app, "6");
    app.update(Action::NotApplicable);
    assert_eq!(record(&app, "6").latest(), Some(&Outcome::NotApplicable));
    // The door stays selected after a knock.
    assert_eq!(door_log(&app).selected_door(), Some(&door("6")));

    // A call-back today, then one on another day.
    select(&mut app, "8");
    app.update(Action::CallBack);
    type_text(&mut app, "18:30");
    app.update(Action::Confirm);
    assert_eq!(app.mode(), Mode::DoorLog);
    assert_eq!(
        record(&app, "8").latest(),
        Some(&Outcome::CallBack {
            at: today_at(18, 30)
        })
    );
    assert_eq!(
        app.flash,
        Some(Flash::Ok(
            "8 Kay Street: call back 23 Nov 18:30 (recorded 10:00)".into()
        ))
    );
    select(&mut app, "2");
    app.update(Action::CallBack);
    type_text(&mut app, "2026-11-24 09:15");
    app.update(Action::Confirm);
    let tomorrow = FIELDWORK_ZONE
        .with_ymd_and_hms(2026, 11, 24, 9, 15, 0)
        .unwrap()
        .with_timezone(&Utc);
    let two = record(&app, "2");
    assert_eq!(two.knocks.len(), 2, "every knock is kept");
    assert_eq!(two.latest(), Some(&Outcome::CallBack { at: tomorrow }));

    let now = app.ctx.now();
    let c = DoorCounts::new(&doors(&app), now);
    assert_eq!(
        (c.doors, c.knocked, c.answered, c.refused, c.call_backs_due),
        (6, 4, 3, 1, 0)
    );
    select(&mut app, "8");
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("Doors 6 · knocked 4 · answered 3 · interviewed 0 · refused 1"),
        "{s}"
    );
    insta::assert_snapshot!("door_log_with_doors", s);
}

#[test]
fn an_interview_from_a_door_records_the_knock_when_finalized() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    assert_eq!(interview(&app).door, Some(door("12")));
    // Left as a draft: back to the door log, and no knock recorded.
    app.update(Action::Leave);
    assert!(matches!(app.screen, Screen::DoorLog(_)));
    assert_eq!(door_log(&app).selected_door(), Some(&door("12")));
    assert!(record(&app, "12").knocks.is_empty());

    // Interviewed: every question answered, finalized.
    app.update(Action::Interview);
    let id = interview(&app).id;
    answer_everything(&mut app);
    app.update(Action::Finalize);
    assert!(matches!(app.screen, Screen::DoorLog(_)), "{:?}", app.flash);
    assert!(matches!(app.flash, Some(Flash::Ok(ref m)) if m.starts_with("Interview finalized")));
    assert_eq!(app.ctx.store.get(id).unwrap().status, Status::Complete);
    assert_eq!(
        record(&app, "12").latest(),
        Some(&Outcome::Interviewed { response: id })
    );
    assert_eq!(door_log(&app).selected_door(), Some(&door("12")));

    // Declined at the consent question: the door counts as a refusal.
    add_door(&mut app, None, "14");
    app.update(Action::Interview);
    press(
        &mut app,
        &[Action::Confirm, Action::Digit(2), Action::Confirm],
    );
    app.update(Action::Finalize);
    assert!(matches!(app.screen, Screen::DoorLog(_)));
    assert_eq!(record(&app, "14").latest(), Some(&Outcome::Refused));

    let c = DoorCounts::new(&doors(&app), app.ctx.now());
    assert_eq!(
        (c.doors, c.knocked, c.answered, c.interviewed, c.refused),
        (2, 2, 2, 1, 1)
    );
    assert_eq!(c.response_rate(), Some(0.5));
    let s = screen(&app, 80, 24);
    assert!(s.contains("interviewed 1 · refused 1"), "{s}");
    assert!(s.contains("response rate 50% (1 of 2)"), "{s}");
    // Home's status line counts the interviews of the day.
    app.update(Action::Leave);
    let s = screen(&app, 80, 24);
    // `i` picked up the draft left at 12 rather than starting a second one: no draft left.
    assert!(s.contains("Today: 2 KIN · 0 EVA   Drafts: 0"), "{s}");
}

#[test]
fn drafts_list_call_backs_due_and_open_the_door_log_on_one() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, clock) = app_with_clock(&dir);
    start(&mut app, 1);
    for (n, at) in [("12", "10:30"), ("14", "10:15"), ("16", "18:00")] {
        add_door(&mut app, Some("Kay Street"), n);
        app.update(Action::CallBack);
        type_text(&mut app, at);
        app.update(Action::Confirm);
    }
    // A draft too, from another door.
    add_door(&mut app, None, "18");
    press(
        &mut app,
        &[
            Action::Interview,
            Action::Confirm,
            Action::Digit(1),
            Action::Leave,
        ],
    );
    // An hour later two call-backs are due (18:00 is not yet).
    clock.advance(Duration::hours(1));
    press(&mut app, &[Action::Leave, Action::Digit(2)]);
    let Screen::Drafts(d) = &app.screen else {
        panic!("not on drafts")
    };
    let due: Vec<(String, DateTime<Utc>)> = d
        .call_backs()
        .iter()
        .map(|c| (c.door.number.clone(), c.at))
        .collect();
    assert_eq!(
        due,
        [
            ("14".to_owned(), today_at(10, 15)),
            ("12".to_owned(), today_at(10, 30))
        ]
    );
    insta::assert_snapshot!("drafts_call_back_due", screen(&app, 80, 24));
    // Item 2 is the first call-back (after the one draft): the door log opens on its door.
    press(&mut app, &[Action::Down, Action::Confirm]);
    assert_eq!(app.mode(), Mode::DoorLog);
    assert_eq!(door_log(&app).selected_door(), Some(&door("14")));
    assert_eq!(
        app.flash,
        Some(Flash::Ok(
            "Call back at 14 Kay Street: i interviews, c sets a new time".into()
        ))
    );
    let s = screen(&app, 80, 24);
    assert!(s.contains("Call-backs due 2 (1 later)"), "{s}");
    // Numbers beyond the list are refused with a message.
    press(
        &mut app,
        &[Action::Leave, Action::Digit(2), Action::Digit(9)],
    );
    assert_eq!(app.flash, Some(Flash::Error("There is no item 9".into())));
}

#[test]
fn a_draft_resumed_from_drafts_still_records_its_door_when_finalized() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    let id = interview(&app).id;
    press(
        &mut app,
        &[Action::Confirm, Action::Digit(2), Action::Leave],
    ); // consent: No, then Esc
    press(
        &mut app,
        &[Action::Leave, Action::Digit(2), Action::Digit(1)],
    ); // home, drafts, resume
    assert_eq!(
        interview(&app).door.as_ref().map(|d| d.number.as_str()),
        Some("12")
    );
    press(&mut app, &[Action::Confirm, Action::Finalize]);
    assert!(matches!(app.screen, Screen::DoorLog(_)));
    let doors = app.ctx.store.doors("E05000841").unwrap();
    let outcome = doors[0].knocks.last().map(|k| k.outcome.clone());
    // Consent was refused, so the door log records a refusal, linked to no interview.
    assert_eq!(outcome, Some(doorstep::response::Outcome::Refused));
    assert_eq!(app.ctx.store.get(id).unwrap().status, Status::Complete);
}

#[test]
fn every_screen_draws_at_any_terminal_size_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    let events = app.take_events().unwrap();
    let sizes = [(1, 1), (10, 5), (20, 8), (40, 12), (80, 24), (200, 60)];
    let check = |app: &App, what: &str| {
        for (w, h) in sizes {
            let s = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| screen(app, w, h)));
            assert!(s.is_ok(), "{what} panicked at {w}×{h}");
        }
    };
    check(&app, "home");
    app.update(Action::Digit(1));
    check(&app, "survey chooser");
    app.update(Action::Leave);
    app.update(Action::Help);
    check(&app, "help");
    app.update(Action::Leave);
    app.update(Action::Digit(3));
    check(&app, "area picker");
    app.update(Action::Leave);
    start_kin(&mut app);
    check(&app, "interview note");
    press(&mut app, &[Action::Confirm]);
    check(&app, "interview choice");
    app.update(Action::Review);
    check(&app, "review");
    press(&mut app, &[Action::Leave, Action::Leave, Action::Digit(2)]);
    check(&app, "drafts");
    app.update(Action::Leave);
    eva_at_checklist(&mut app);
    check(&app, "checklist");
    app.update(Action::Note);
    check(&app, "checklist note");
    press(&mut app, &[Action::Leave, Action::Leave, Action::Leave]);
    app.update(Action::Digit(4));
    assert!(matches!(app.screen, Screen::Export(_)));
    check(&app, "export folder");
    type_text(&mut app, &dir.path().display().to_string());
    app.update(Action::Confirm);
    check(&app, "export running");
    press(&mut app, &[Action::Leave, Action::Digit(5)]);
    assert!(matches!(app.screen, Screen::Coordinator(_)));
    check(&app, "coordinator folder");
    type_text(&mut app, &dir.path().display().to_string());
    app.update(Action::Confirm);
    check(&app, "coordinator identity");
    app.update(Action::Confirm);
    check(&app, "coordinator verifying");
    press(&mut app, &[Action::Leave, Action::Leave, Action::Leave]);
    app.update(Action::Digit(6));
    assert!(matches!(app.screen, Screen::Report(_)), "{:?}", app.flash);
    check(&app, "report counting");
    while matches!(&app.screen, Screen::Report(s) if s.counting()) {
        let event = events
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the counting job sent nothing");
        app.handle(event);
    }
    check(&app, "report choose");
    app.update(Action::Char('2'));
    check(&app, "report typing a period");
    press(&mut app, &[Action::Leave, Action::Confirm]);
    check(&app, "report pack");
    app.update(Action::ToggleInternal);
    check(&app, "report internal pack");
    app.update(Action::ExportPack);
    check(&app, "report export folder");
}

#[test]
fn a_sealed_answer_is_kept_when_the_officer_goes_back_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    let identity = doorstep::seal::CoordinatorIdentity::generate();
    app.ctx
        .store
        .set_setting(SettingKey::Recipient, &identity.recipient().to_string())
        .unwrap();
    app.ctx.settings = app.ctx.store.settings().unwrap();
    start_kin(&mut app);
    press(&mut app, &[Action::Confirm, Action::Digit(1)]); // consent: yes
    let id = interview(&app).id;
    jump_to(&mut app, "feedback_wanted");
    app.update(Action::Digit(1)); // wants to hear back: contact details are asked
    jump_to(&mut app, "contact_name");
    type_text(&mut app, "Jane Doe");
    app.update(Action::Confirm);
    assert_eq!(current_question(&app), "contact_phone");
    let sealed = app.ctx.store.get(id).unwrap().answers["contact_name"]
        .value
        .clone();
    assert!(sealed.is_sealed());
    // Back over it: the field is empty (the device cannot read it), the screen says so,
    // and Enter keeps the sealed answer untouched.
    app.update(Action::Back);
    assert_eq!(current_question(&app), "contact_name");
    let s = screen(&app, 80, 24);
    assert!(s.contains("Answered and sealed: Enter keeps it"), "{s}");
    assert!(!s.contains("Jane"), "{s}");
    app.update(Action::Confirm);
    assert_eq!(current_question(&app), "contact_phone");
    assert_eq!(
        app.ctx.store.get(id).unwrap().answers["contact_name"].value,
        sealed
    );
}

/// Puts the interview on question `qid` (as the review's "change this answer" does).
fn jump_to(app: &mut App, qid: &str) {
    if let Screen::Interview(i) = &mut app.screen {
        let index = i.survey.index_of(qid).unwrap();
        i.index = index;
        i.field = doorstep::tui::fields::Field::for_question(
            &i.survey,
            &i.survey.questions[index],
            &i.answers,
            None,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap(),
        );
    }
    assert_eq!(current_question(app), qid);
}

/// Walks the interview until `stop` holds: the first choice of required questions, a
/// marker typed into text, optional choices skipped.
fn walk_until(app: &mut App, stop: impl Fn(&App) -> bool) {
    for _ in 0..120 {
        if stop(app) {
            return;
        }
        let i = interview(app);
        let required = i.survey.questions[i.index].required;
        match app.mode() {
            Mode::Note => app.update(Action::Confirm),
            Mode::Text => {
                type_text(app, "Kay Street lamp 14");
                app.update(Action::Confirm);
            }
            Mode::Multi if required => press(app, &[Action::Digit(1), Action::Confirm]),
            Mode::Choice if required => app.update(Action::Digit(1)),
            _ => app.update(Action::Skip),
        }
    }
    panic!("stuck at {}", current_question(app));
}

#[test]
fn officer_guidance_stays_in_the_officers_language() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    walk_until(&mut app, |a| current_question(a) == "unsafe_issues");
    app.update(Action::SwitchLanguage);
    let pl = screen(&app, 80, 24);
    // The question is read out in Polish; the instruction is for the officer, in English.
    assert!(pl.contains("jakie problemy w tej okolicy"), "{pl}");
    assert!(pl.contains("Do not read out the list"), "{pl}");
    assert!(!pl.contains("Nie odczytuj listy"), "{pl}");
}

#[test]
fn self_completion_hides_earlier_answers_and_hands_the_laptop_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    walk_until(&mut app, |a| a.mode() == Mode::Handover);
    assert_eq!(current_question(&app), "victim");
    let earlier = interview(&app).answers.clone();
    assert!(earlier.contains_key("ni17_drugs") && earlier.contains_key("unsafe_words"));
    let turn = screen(&app, 80, 24);
    insta::assert_snapshot!("self_completion_turn_round", turn);
    // The officer turns the laptop round: the respondent sees one question and no answer.
    app.update(Action::Confirm);
    assert_eq!(app.mode(), Mode::Choice);
    let own = screen(&app, 80, 24);
    insta::assert_snapshot!("self_completion_question", own);
    for shown_before in [
        "Kay Street",
        "very big problem",
        "Strongly agree",
        "Very safe",
    ] {
        assert!(!own.contains(shown_before), "{shown_before} on: {own}");
    }
    // Neither the review nor going back reaches the earlier answers.
    app.update(Action::Review);
    assert_eq!(app.mode(), Mode::Choice);
    assert!(screen(&app, 80, 24).contains("Not while the respondent answers on their own"));
    app.update(Action::Back);
    assert_eq!(current_question(&app), "victim");
    assert!(!screen(&app, 80, 24).contains("Kay Street"));
    // An answer is stored as usual; then Esc hands the laptop back.
    app.update(Action::Digit(2)); // victim: No
    let id = interview(&app).id;
    assert_eq!(
        app.ctx.store.get(id).unwrap().answers["victim"].value,
        StoredAnswer::Plain(Answer::Choice("no".into()))
    );
    app.update(Action::Leave);
    assert_eq!(app.mode(), Mode::Handover);
    insta::assert_snapshot!("self_completion_hand_back", screen(&app, 80, 24));
    app.update(Action::Confirm);
    assert_eq!(current_question(&app), "disclosure");
    assert_ne!(app.mode(), Mode::Handover);
    assert!(matches!(app.screen, Screen::Interview(_)));
}

// ---- Pre-filled values, door corrections, drafts, shift change (issue 9) -----------------

#[test]
fn a_street_typed_over_the_remembered_one_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start(&mut app, 1);
    add_door(&mut app, Some("Ormskirk Road"), "1");
    // No clearing: the remembered street is selected, and typing replaces it.
    app.update(Action::NewDoor);
    assert!(screen(&app, 80, 24).contains("Ormskirk Road"));
    assert!(screen(&app, 80, 24).contains("typing replaces it"));
    type_text(&mut app, "Lamberhead Road");
    app.update(Action::Confirm);
    type_text(&mut app, "2");
    app.update(Action::Confirm);
    let streets: Vec<String> = app
        .ctx
        .store
        .doors(AREA)
        .unwrap()
        .into_iter()
        .map(|r| r.door.street)
        .collect();
    assert_eq!(streets, ["Lamberhead Road", "Ormskirk Road"]);
    // Backspace clears the suggestion in one key; Enter on an untouched one keeps it.
    app.update(Action::NewDoor);
    app.update(Action::Backspace);
    app.update(Action::Confirm);
    assert_eq!(
        app.flash,
        Some(Flash::Error(
            "Type the street name (it is remembered for the next door)".into()
        ))
    );
}

#[test]
fn a_door_typed_wrong_is_corrected_or_removed_and_the_rate_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start(&mut app, 1);
    add_door(&mut app, Some("Kay Street"), "12");
    add_door(&mut app, None, "12a");
    add_door(&mut app, None, "14");
    select(&mut app, "12");
    app.update(Action::NoAnswer);
    // Correct 12a to 16: the street is offered, then the number; typing replaces each.
    select(&mut app, "12a");
    app.update(Action::EditDoor);
    assert_eq!(app.mode(), Mode::Form);
    app.update(Action::Confirm); // keep the street
    assert!(screen(&app, 80, 24).contains("Correct 12a Kay Street: the number or name"));
    type_text(&mut app, "16");
    app.update(Action::Confirm);
    assert_eq!(
        app.flash,
        Some(Flash::Ok(
            "12a Kay Street corrected to 16 Kay Street, with its knocks".into()
        ))
    );
    // A correction onto another door is refused, the form stays, nothing changes.
    select(&mut app, "16");
    press(&mut app, &[Action::EditDoor, Action::Confirm]);
    type_text(&mut app, "12");
    app.update(Action::Confirm);
    assert_eq!(
        app.flash,
        Some(Flash::Error(
            "12 Kay Street is already in the door log of E05000841: choose another street or number".into()
        ))
    );
    assert_eq!(app.mode(), Mode::Form);
    app.update(Action::Leave);
    // Remove 14: asked first; n keeps it, y removes it with its knocks.
    select(&mut app, "14");
    app.update(Action::RemoveDoor);
    assert_eq!(app.mode(), Mode::Confirm);
    let s = screen(&app, 80, 24);
    assert!(s.contains("Remove 14 Kay Street and its 0 knock(s)"), "{s}");
    insta::assert_snapshot!("door_log_confirm_remove", s);
    app.update(Action::Leave);
    assert_eq!(
        app.flash,
        Some(Flash::Notice("14 Kay Street kept: nothing changed".into()))
    );
    assert_eq!(doors(&app).len(), 3);
    press(&mut app, &[Action::RemoveDoor, Action::Yes]);
    let numbers: Vec<String> = doors(&app).into_iter().map(|r| r.door.number).collect();
    assert_eq!(numbers, ["12", "16"]);
    assert!(screen(&app, 80, 24).contains("Doors 2 · knocked 1"));
    // Recorded in the journal: a rebuilt store has the same doors.
    let journal = std::fs::read_to_string(app.ctx.store.journal_path()).unwrap();
    assert!(journal.contains("door_edited") && journal.contains("door_removed"));
}

#[test]
fn a_door_with_an_interview_cannot_be_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    answer_everything(&mut app);
    app.update(Action::Finalize);
    assert_eq!(app.mode(), Mode::DoorLog);
    app.update(Action::RemoveDoor);
    assert_eq!(app.mode(), Mode::DoorLog);
    assert_eq!(
        app.flash,
        Some(Flash::Error(
            "12 Kay Street has an interview recorded: it cannot be removed (e corrects its street or number)".into()
        ))
    );
    assert_eq!(doors(&app).len(), 1);
}

#[test]
fn i_on_a_door_with_an_interview_in_progress_resumes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start_kin(&mut app);
    let id = interview(&app).id;
    press(
        &mut app,
        &[Action::Confirm, Action::Digit(1), Action::Leave],
    );
    assert_eq!(app.mode(), Mode::DoorLog);
    let s = screen(&app, 80, 24);
    assert!(s.contains("interview in progress"), "{s}");
    insta::assert_snapshot!("door_log_interview_in_progress", s);
    app.update(Action::Interview);
    assert_eq!(interview(&app).id, id, "the same draft, not a second one");
    assert_eq!(
        app.flash,
        Some(Flash::Ok(
            "12 Kay Street: interview in progress, resumed where it was left".into()
        ))
    );
    assert_eq!(app.ctx.store.drafts().unwrap().responses.len(), 1);
}

#[test]
fn drafts_name_their_door_or_street_and_are_discarded_only_when_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, clock) = app_with_clock(&dir);
    start_kin(&mut app);
    press(
        &mut app,
        &[Action::Confirm, Action::Digit(1), Action::Leave],
    );
    clock.advance(Duration::minutes(20));
    app.update(Action::Leave);
    // An EVA left after its transect id and street.
    start(&mut app, 3);
    type_text(&mut app, "PEM-014");
    app.update(Action::Confirm);
    type_text(&mut app, "Bell Lane");
    press(&mut app, &[Action::Confirm, Action::Leave]);
    app.update(Action::Digit(2));
    assert_eq!(app.mode(), Mode::Drafts);
    let s = screen(&app, 80, 24);
    assert!(s.contains("EVA at Bell Lane"), "{s}");
    assert!(s.contains("KIN at 12 Kay Street"), "{s}");
    insta::assert_snapshot!("drafts_named", s);
    // d asks; n keeps it; y discards it, kept as abandoned.
    let kin = app
        .ctx
        .store
        .drafts()
        .unwrap()
        .responses
        .into_iter()
        .find(|r| r.survey_id == "kin")
        .unwrap()
        .id;
    press(&mut app, &[Action::Down, Action::Discard]);
    assert_eq!(app.mode(), Mode::Confirm);
    assert!(screen(&app, 80, 24).contains("Discard the draft KIN at 12 Kay Street"));
    app.update(Action::Leave);
    assert_eq!(app.ctx.store.drafts().unwrap().responses.len(), 2);
    press(&mut app, &[Action::Discard, Action::Yes]);
    assert_eq!(
        app.flash,
        Some(Flash::Ok(
            "Draft discarded (kept as abandoned): KIN at 12 Kay Street".into()
        ))
    );
    assert_eq!(app.ctx.store.get(kin).unwrap().status, Status::Abandoned);
    assert_eq!(app.ctx.store.drafts().unwrap().responses.len(), 1);
    let s = screen(&app, 80, 24);
    assert!(
        !s.lines()
            .any(|l| l.contains("12 Kay Street") && l.contains("touched")),
        "{s}"
    );
    // The door is free again: i starts a new interview.
    app.update(Action::Leave);
    start(&mut app, 1);
    assert!(!screen(&app, 80, 24).contains("interview in progress"));
}

#[test]
fn the_officer_changes_at_a_shift_change_only_when_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    app.update(Action::ChangeOfficer);
    assert_eq!(app.mode(), Mode::Form);
    // The current id is offered; typing replaces it.
    type_text(&mut app, "PC 1187");
    app.update(Action::Confirm);
    assert_eq!(app.mode(), Mode::Confirm);
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("Change the officer on this device to PC 1187?"),
        "{s}"
    );
    insta::assert_snapshot!("home_change_officer", s);
    app.update(Action::Leave);
    assert_eq!(
        app.ctx.store.settings().unwrap().officer.as_deref(),
        Some("PC 4521")
    );
    // A bad id is refused with the reason and nothing stored.
    app.update(Action::ChangeOfficer);
    type_text(&mut app, "\u{7}");
    app.update(Action::Confirm);
    assert!(
        matches!(app.flash, Some(Flash::Error(_))),
        "{:?}",
        app.flash
    );
    assert_eq!(app.mode(), Mode::Form);
    press(&mut app, &[Action::Leave]);
    press(&mut app, &[Action::ChangeOfficer]);
    type_text(&mut app, "PC 1187");
    press(&mut app, &[Action::Confirm, Action::Yes]);
    assert_eq!(
        app.ctx.store.settings().unwrap().officer.as_deref(),
        Some("PC 1187")
    );
    assert!(screen(&app, 80, 24).contains("officer PC 1187"));
    let journal = std::fs::read_to_string(app.ctx.store.journal_path()).unwrap();
    assert!(journal.contains("PC 1187"));
}

#[test]
fn checklist_keys_say_what_a_row_takes_and_u_needs_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    eva_at_checklist(&mut app);
    let id = interview(&app).id;
    move_to(&mut app, "needles", Action::Down);
    app.update(Action::Urgent);
    assert!(
        screen(&app, 80, 24).contains("✗ Record the finding first (a count: digits), then u"),
        "{}",
        screen(&app, 80, 24)
    );
    assert!(app.ctx.store.get(id).unwrap().findings.is_empty());
    app.update(Action::Char('z'));
    assert!(screen(&app, 80, 24).contains("✗ `z` does nothing here: this item takes a count"));
    // Three needles: urgent by rule; u cannot unflag it; back to 0 clears the rule's flag.
    app.update(Action::Digit(3));
    app.update(Action::Urgent);
    assert!(screen(&app, 80, 24).contains("✗ Urgent by the survey's rule (. > 0)"));
    assert!(app.ctx.store.get(id).unwrap().findings["needles"].urgent);
    press(&mut app, &[Action::Backspace]);
    assert!(!app.ctx.store.get(id).unwrap().findings["needles"].urgent);
}

#[test]
fn the_eva_street_is_offered_from_the_door_log_and_typing_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start(&mut app, 1);
    add_door(&mut app, Some("Ormskirk Road"), "1");
    app.update(Action::NoAnswer);
    press(
        &mut app,
        &[Action::Leave, Action::Digit(1), Action::Digit(3)],
    );
    // EVA v2 asks for the transect's id first.
    assert_eq!(current_question(&app), "transect_id");
    type_text(&mut app, "PEM-014");
    app.update(Action::Confirm);
    assert_eq!(current_question(&app), "street");
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("Ormskirk Road") && s.contains("typing replaces it"),
        "{s}"
    );
    app.update(Action::Confirm);
    let id = interview(&app).id;
    assert_eq!(
        app.ctx.store.get(id).unwrap().answers["street"].value,
        StoredAnswer::Plain(Answer::Text("Ormskirk Road".into()))
    );
    // Another transect: a different street typed over the suggestion replaces it.
    press(
        &mut app,
        &[Action::Leave, Action::Digit(1), Action::Digit(3)],
    );
    type_text(&mut app, "PEM-015");
    app.update(Action::Confirm);
    type_text(&mut app, "Bell Lane");
    app.update(Action::Confirm);
    let id = interview(&app).id;
    assert_eq!(
        app.ctx.store.get(id).unwrap().answers["street"].value,
        StoredAnswer::Plain(Answer::Text("Bell Lane".into()))
    );
}

#[test]
fn a_location_outside_the_area_is_kept_with_a_warning_naming_where_it_falls() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    start(&mut app, 3);
    for text in [
        "PEM-014",
        "Kay Street",
        "junction with Bell Lane",
        "lamp column 14",
    ] {
        type_text(&mut app, text);
        app.update(Action::Confirm);
    }
    move_to(&mut app, "start_point", Action::Skip);
    let id = interview(&app).id;
    type_text(&mut app, "TQ 30 80");
    app.update(Action::Confirm);
    let Some(Flash::Notice(m)) = &app.flash else {
        panic!("no warning: {:?}", app.flash)
    };
    assert!(m.starts_with("That location is outside "), "{m}");
    assert!(
        m.contains("(E05000841): it falls in no ward this device knows"),
        "{m}"
    );
    assert!(
        app.ctx
            .store
            .get(id)
            .unwrap()
            .answers
            .contains_key("start_point")
    );
    assert_ne!(current_question(&app), "start_point", "it moved on");
}

#[test]
fn an_under_16_ends_the_kin_interview_and_the_youth_kin_is_started_with_a_parent() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    // Start offers the three surveys; Esc goes back to the menu, starting nothing.
    app.update(Action::Digit(1));
    insta::assert_snapshot!("home_survey_chooser", screen(&app, 80, 24));
    assert!(matches!(&app.screen, Screen::Home(h) if h.choosing()));
    app.update(Action::Leave);
    assert!(matches!(&app.screen, Screen::Home(h) if !h.choosing()));
    assert!(!app.quit);
    app.update(Action::Digit(1));
    app.update(Action::Digit(4));
    assert_eq!(app.flash, Some(Flash::Error("There is no item 4".into())));

    // KIN at 12 Kay Street: consent yes, then "Under 16" at the age screening.
    app.update(Action::Digit(1));
    assert_eq!(door_log(&app).survey_id(), "kin");
    add_door(&mut app, Some("Kay Street"), "12");
    app.update(Action::Interview);
    let kin = interview(&app).id;
    press(&mut app, &[Action::Confirm, Action::Digit(1)]); // intro, consent: yes
    assert_eq!(current_question(&app), "age_check");
    app.update(Action::Digit(2)); // Under 16
    assert_eq!(current_question(&app), "under_16_end");
    let s = screen(&app, 80, 24);
    insta::assert_snapshot!("kin_under_16_ends", s);
    assert!(
        s.contains("youth KIN") && s.contains("parent or guardian"),
        "{s}"
    );
    // Nothing after the note: Enter goes to the review, which finalizes it as it stands.
    app.update(Action::Confirm);
    assert_eq!(app.mode(), Mode::Review);
    app.update(Action::Finalize);
    assert!(matches!(app.screen, Screen::DoorLog(_)), "{:?}", app.flash);
    let stored = app.ctx.store.get(kin).unwrap();
    assert_eq!(stored.status, Status::Complete);
    let given: Vec<&str> = stored.answers.keys().map(String::as_str).collect();
    assert_eq!(given, ["age_check", "consent"], "nothing more is recorded");

    // Home → start → youth KIN: the door log says so, and `i` starts the youth KIN.
    press(
        &mut app,
        &[Action::Leave, Action::Digit(1), Action::Digit(2)],
    );
    assert_eq!(door_log(&app).survey_id(), "kin_youth");
    select(&mut app, "12");
    assert!(screen(&app, 80, 24).contains("Youth KIN"));
    app.update(Action::Interview);
    let youth = interview(&app).id;
    assert_eq!(interview(&app).survey.id, "kin_youth");
    // The parent's or guardian's agreement comes first.
    assert_eq!(current_question(&app), "parent_consent");
    insta::assert_snapshot!("youth_kin_parent_consent", screen(&app, 80, 24));
    app.update(Action::Digit(1)); // yes
    app.update(Action::Confirm); // the introduction
    assert_eq!(current_question(&app), "youth_agrees");
    app.update(Action::Digit(1));
    assert_eq!(current_question(&app), "youth_issues");
    // Skip the rest (none is required), then finalize from the review.
    while app.mode() != Mode::Review {
        app.update(Action::Skip);
    }
    app.update(Action::Finalize);
    assert!(matches!(app.screen, Screen::DoorLog(_)), "{:?}", app.flash);
    let stored = app.ctx.store.get(youth).unwrap();
    assert_eq!(stored.survey_id, "kin_youth");
    assert_eq!(stored.status, Status::Complete);
    assert_eq!(
        stored.answers.get("parent_consent").map(|a| &a.value),
        Some(&StoredAnswer::Plain(Answer::YesNo(true)))
    );
    // Back in the youth KIN's door log, where the door now shows the interview.
    assert_eq!(door_log(&app).survey_id(), "kin_youth");
    assert_eq!(
        record(&app, "12").latest(),
        Some(&Outcome::Interviewed { response: youth })
    );

    // A parent who says no ends the visit, recorded as a refusal at the door.
    add_door(&mut app, None, "14");
    app.update(Action::Interview);
    app.update(Action::Digit(2)); // no
    assert_eq!(current_question(&app), "no_parent_consent_end");
    press(&mut app, &[Action::Confirm, Action::Finalize]);
    assert_eq!(record(&app, "14").latest(), Some(&Outcome::Refused));
}

/// The job the export screen started: waits for its last message and hands it to the app.
fn finish_job(app: &mut App, events: &std::sync::mpsc::Receiver<doorstep::tui::event::Event>) {
    let Screen::Export(e) = &app.screen else {
        panic!("not on the export screen")
    };
    assert!(e.job().is_some(), "no export running: {:?}", app.flash);
    while matches!(&app.screen, Screen::Export(e) if e.job().is_some()) {
        let event = events
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the export job sent nothing");
        app.handle(event);
    }
}

#[test]
fn export_from_home_writes_the_batch_to_a_folder_or_says_why_not() {
    use doorstep::tui::screens::export::Outcome as Exported;
    let dir = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let folder = usb.path().display().to_string();
    let (mut app, clock) = app_with_clock(&dir);
    let events = app.take_events().unwrap();
    // One finalized interview (consent refused) at 12 Kay Street: a response, a door, a knock.
    start_kin(&mut app);
    press(
        &mut app,
        &[
            Action::Confirm,
            Action::Digit(2),
            Action::Confirm,
            Action::Finalize,
        ],
    );
    app.update(Action::Leave);
    assert!(screen(&app, 80, 24).contains("Not yet exported: 1 interview or audit"));

    app.update(Action::Digit(4));
    assert_eq!(app.mode(), Mode::Form);
    insta::assert_snapshot!("export_folder", screen(&app, 80, 24));
    // No folder, or one that is not there: said, and nothing starts.
    app.update(Action::Confirm);
    assert!(matches!(&app.flash, Some(Flash::Error(m)) if m.starts_with("Type the folder")));
    type_text(&mut app, &format!("{folder}/not-plugged-in"));
    app.update(Action::Confirm);
    assert!(
        matches!(&app.flash, Some(Flash::Error(m)) if m.contains("is not a folder on this laptop")),
        "{:?}",
        app.flash
    );
    assert!(matches!(&app.screen, Screen::Export(e) if e.job().is_none()));

    // No coordinator recipient: refused with how to set one; nothing written or marked.
    app.update(Action::ClearField);
    type_text(&mut app, &folder);
    app.update(Action::Confirm);
    finish_job(&mut app, &events);
    let Screen::Export(e) = &app.screen else {
        panic!("left the export screen")
    };
    assert!(
        matches!(e.outcome(), Some(Exported::Refused(m)) if m.contains("`doorstep config set recipient age1…`")),
        "{:?}",
        e.outcome()
    );
    assert_eq!(app.mode(), Mode::Outcome);
    insta::assert_snapshot!("export_refused_no_recipient", screen(&app, 80, 24));
    assert_eq!(std::fs::read_dir(usb.path()).unwrap().count(), 0);
    app.update(Action::Confirm);
    assert!(screen(&app, 80, 24).contains("Not yet exported: 1 interview or audit"));

    // With the coordinator's recipient set: one encrypted batch, readable with the identity.
    let identity = doorstep::seal::CoordinatorIdentity::generate();
    let recipient = identity.recipient().to_string();
    app.ctx
        .store
        .set_setting(SettingKey::Recipient, &recipient)
        .unwrap();
    app.update(Action::Digit(4));
    type_text(&mut app, &folder);
    app.update(Action::Confirm);
    finish_job(&mut app, &events);
    let file = usb
        .path()
        .join("doorstep-WIGAN-NPT-07-20261123-100000.batch");
    let batch = doorstep::batch::open(&std::fs::read(&file).unwrap(), Some(&identity)).unwrap();
    assert!(batch.encrypted);
    let c = batch.manifest.counts;
    assert_eq!((c.responses, c.doors, c.knocks), (1, 1, 1));
    assert_eq!(batch.manifest.sequence, 1);
    // The screen names the file and what it holds (the folder and key vary by run).
    let shown = screen(&app, 80, 24)
        .replace(&folder, "<usb>")
        .replace(&recipient[..12], "<recipient>")
        .replace(&recipient[recipient.len() - 6..], "<end>");
    insta::assert_snapshot!("export_written", shown);
    // The same records as `doorstep batch export` takes: all marked exported.
    assert_eq!(app.ctx.store.export_marks().unwrap().len(), 3);
    app.update(Action::Leave);
    assert!(screen(&app, 80, 24).contains("Not yet exported: nothing"));

    // Again: nothing new, and no file.
    clock.advance(Duration::minutes(1));
    press(&mut app, &[Action::Digit(4)]);
    type_text(&mut app, &folder);
    app.update(Action::Confirm);
    finish_job(&mut app, &events);
    let Screen::Export(e) = &app.screen else {
        panic!("left the export screen")
    };
    assert!(
        matches!(e.outcome(), Some(Exported::Nothing(m)) if m.starts_with("Nothing new to export") && m.contains("batch 1 of this laptop")),
        "{:?}",
        e.outcome()
    );
    assert_eq!(std::fs::read_dir(usb.path()).unwrap().count(), 1);
}

/// Draws the app at every size the size test uses; none may panic.
fn draws_at_every_size(app: &App, what: &str) {
    for (w, h) in [(1, 1), (10, 5), (20, 8), (40, 12), (80, 24), (200, 60)] {
        let s = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| screen(app, w, h)));
        assert!(s.is_ok(), "{what} panicked at {w}×{h}");
    }
}

/// Waits for the coordinator screen's job (verify or merge) and hands its end to the app.
pub fn finish_coordinator_job(
    app: &mut App,
    events: &std::sync::mpsc::Receiver<doorstep::tui::event::Event>,
) {
    assert!(
        matches!(&app.screen, Screen::Coordinator(c) if c.job().is_some()),
        "no job running: {:?}",
        app.flash
    );
    while matches!(&app.screen, Screen::Coordinator(c) if c.job().is_some()) {
        let event = events
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the coordinator job sent nothing");
        app.handle(event);
    }
}

#[test]
fn the_coordinator_verifies_a_folder_merges_the_good_batches_and_settles_a_conflict() {
    use crate::merge::{batch_bytes, response};
    use doorstep::batch::Record;
    let dir = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let folder = usb.path().display().to_string();
    // Two laptops finalized the same response id with different content (a conflict), and
    // one file was cut short on the way.
    // Responses on KIN version 1 as built in, so the coordinator's machine knows the survey.
    let kin1 = Registry::builtin()
        .unwrap()
        .get("kin", Some(1))
        .unwrap()
        .fingerprint
        .clone();
    let on_kin1 = |mut r: doorstep::response::Response| {
        r.fingerprint = kin1.clone();
        r
    };
    let early = on_kin1(response(1, 0, 10));
    let late = on_kin1(response(1, 1, 30));
    let write = |name: &str, bytes: &[u8]| std::fs::write(usb.path().join(name), bytes).unwrap();
    write(
        "a-laptop-1.batch",
        &batch_bytes("laptop-1", 1, vec![Record::Response(late.clone())]),
    );
    write(
        "b-laptop-2.batch",
        &batch_bytes("laptop-2", 1, vec![Record::Response(early.clone())]),
    );
    let whole = batch_bytes(
        "laptop-3",
        1,
        vec![Record::Response(on_kin1(response(2, 0, 5)))],
    );
    write("c-cut-short.batch", &whole[..whole.len() / 2]);

    let mut app = app(&dir);
    let events = app.take_events().unwrap();
    app.update(Action::Digit(5));
    assert_eq!(app.mode(), Mode::Form);
    insta::assert_snapshot!("coordinator_folder", screen(&app, 80, 24));
    // A folder that is not there is refused where it is typed.
    type_text(&mut app, &format!("{folder}/nope"));
    app.update(Action::Confirm);
    assert!(matches!(&app.flash, Some(Flash::Error(m)) if m.contains("is not a folder")));
    app.update(Action::ClearField);
    type_text(&mut app, &folder);
    app.update(Action::Confirm);
    // No identity: these batches are not encrypted.
    app.update(Action::Confirm);
    finish_coordinator_job(&mut app, &events);
    assert_eq!(app.mode(), Mode::Batches);
    let Screen::Coordinator(c) = &app.screen else {
        panic!("left the coordinator screen")
    };
    let verdicts: Vec<(&str, bool, bool)> = c
        .checked()
        .iter()
        .map(|c| (c.file.as_str(), c.verdict.is_ok(), c.to_merge))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("a-laptop-1.batch", true, true),
            ("b-laptop-2.batch", true, true),
            ("c-cut-short.batch", false, false),
        ]
    );
    // Nothing is merged by verifying.
    assert!(app.ctx.store.merged_batches().unwrap().is_empty());
    app.update(Action::Down);
    app.update(Action::Down);
    draws_at_every_size(&app, "coordinator verified");
    insta::assert_snapshot!(
        "coordinator_verified",
        screen(&app, 80, 24).replace(&folder, "<usb>")
    );

    // m merges the two good files, each all or nothing; the cut file stays out.
    app.update(Action::Merge);
    finish_coordinator_job(&mut app, &events);
    let Screen::Coordinator(c) = &app.screen else {
        panic!("left the coordinator screen")
    };
    let merged: Vec<_> = c.merged().unwrap().to_vec();
    assert_eq!(merged.len(), 2);
    assert_eq!(
        merged[0].result,
        Ok("1 new, 0 duplicate, 0 superseded, 0 conflict, 0 rejected".to_owned())
    );
    assert_eq!(
        merged[1].result,
        Ok("0 new, 0 duplicate, 0 superseded, 1 conflict, 0 rejected".to_owned())
    );
    assert_eq!(app.ctx.store.merged_batches().unwrap().len(), 2);
    draws_at_every_size(&app, "coordinator merged");
    insta::assert_snapshot!(
        "coordinator_merged",
        screen(&app, 80, 24).replace(&folder, "<usb>")
    );
    // A merged file, selected, says what its merge did (the summary names only the files
    // that need a look).
    app.update(Action::Up);
    app.update(Action::Up);
    assert!(
        screen(&app, 80, 24).contains(
            "✓ a-laptop-1.batch: merged: 1 new, 0 duplicate, 0 superseded, 0 conflict, 0"
        ),
        "{}",
        screen(&app, 80, 24)
    );
    // Merging again: nothing left to merge.
    app.update(Action::Merge);
    assert!(matches!(&app.flash, Some(Flash::Notice(m)) if m.starts_with("Nothing to merge")));

    // c lists the conflict; Enter shows it side by side; b keeps version B (journaled).
    app.update(Action::Conflicts);
    assert_eq!(app.mode(), Mode::Outcome);
    app.update(Action::Confirm);
    assert_eq!(app.mode(), Mode::Conflict);
    insta::assert_snapshot!("coordinator_conflict", screen(&app, 80, 24));
    draws_at_every_size(&app, "coordinator conflict");
    app.update(Action::Leave);
    assert_eq!(app.mode(), Mode::Outcome);
    draws_at_every_size(&app, "coordinator conflicts");
    app.update(Action::Confirm);
    app.update(Action::Char('z'));
    assert!(matches!(&app.flash, Some(Flash::Error(m)) if m.contains("no version Z")));
    assert_eq!(app.ctx.store.unresolved_conflict_count().unwrap(), 1);
    app.update(Action::Char('b'));
    assert!(
        matches!(&app.flash, Some(Flash::Ok(m)) if m.contains("version B kept (journaled); 0 conflict(s) left")),
        "{:?}",
        app.flash
    );
    assert_eq!(app.ctx.store.unresolved_conflict_count().unwrap(), 0);
    // B is the later-finalized version (A is the first finalized): now the active one.
    assert_eq!(
        app.ctx.store.get(late.id).unwrap().interviewer,
        late.interviewer
    );
    assert_eq!(app.mode(), Mode::Batches);
}

/// A batch carrying door corrections and removals says how many on the selected file's
/// line, and merging it moves the corrected door's knock.
#[test]
fn the_coordinator_screen_counts_door_corrections_and_removals() {
    use crate::merge::{batch_bytes, door, door_record, knock};
    use doorstep::batch::{DoorEditEntry, DoorRemoveEntry, Record};
    let dir = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let folder = usb.path().display().to_string();
    use uuid::Uuid;
    let at = crate::store_helpers::t0() + Duration::hours(1);
    let records = vec![
        door_record("1"),
        door_record("2"),
        knock(1, "1", "laptop-1"),
        Record::DoorEdit(DoorEditEntry {
            id: Uuid::from_u128(1),
            area: "E05000650".into(),
            from: door("1"),
            to: door("11"),
            at,
            device: "laptop-1".into(),
            officer: None,
            knocks: vec![Uuid::from_u128(1001)],
        }),
        Record::DoorRemove(DoorRemoveEntry {
            id: Uuid::from_u128(2),
            area: "E05000650".into(),
            door: door("2"),
            at,
            device: "laptop-1".into(),
            officer: None,
            knocks: Vec::new(),
        }),
    ];
    std::fs::write(
        usb.path().join("a-laptop-1.batch"),
        batch_bytes("laptop-1", 1, records),
    )
    .unwrap();
    let mut app = app(&dir);
    let events = app.take_events().unwrap();
    app.update(Action::Digit(5));
    type_text(&mut app, &folder);
    app.update(Action::Confirm);
    app.update(Action::Confirm);
    finish_coordinator_job(&mut app, &events);
    assert_eq!(app.mode(), Mode::Batches);
    draws_at_every_size(&app, "coordinator door changes");
    insta::assert_snapshot!(
        "coordinator_door_changes",
        screen(&app, 80, 24).replace(&folder, "<usb>")
    );
    app.update(Action::Merge);
    finish_coordinator_job(&mut app, &events);
    let Screen::Coordinator(c) = &app.screen else {
        panic!("left the coordinator screen")
    };
    assert_eq!(
        c.merged().unwrap()[0].result,
        Ok("5 new, 0 duplicate, 0 superseded, 0 conflict, 0 rejected".to_owned())
    );
    let doors: Vec<String> = app
        .ctx
        .store
        .doors("E05000650")
        .unwrap()
        .iter()
        .map(|d| format!("{} ({} knocks)", d.door, d.knocks.len()))
        .collect();
    assert_eq!(doors, ["11 Kay Street (1 knocks)"]);
}

#[test]
fn the_coordinator_lists_and_settles_an_action_conflict_side_by_side() {
    use crate::merge::make_batch;
    use crate::merge_actions::{action, changed};
    use doorstep::action::ActionStatus;
    use doorstep::batch::Record;
    let dir = tempfile::tempdir().unwrap();
    let usb = tempfile::tempdir().unwrap();
    let folder = usb.path().display().to_string();
    // Two people moved the same action on differently, on two machines.
    let a0 = action(1);
    let moved = changed(&a0, 10, "PC 2", ActionStatus::InProgress);
    let diverged = changed(&a0, 20, "PC 3", ActionStatus::Done);
    let mut app = app(&dir);
    let events = app.take_events().unwrap();
    for (device, a) in [("laptop-1", &moved), ("laptop-2", &diverged)] {
        app.ctx
            .store
            .merge_batch(
                &make_batch(device, 1, vec![Record::Action(a.clone())]),
                &mut |_, _| {},
            )
            .unwrap();
    }
    assert_eq!(
        app.ctx.store.unresolved_action_conflicts().unwrap().len(),
        1
    );
    app.update(Action::Digit(5));
    type_text(&mut app, &folder);
    app.update(Action::Confirm);
    app.update(Action::Confirm);
    finish_coordinator_job(&mut app, &events);
    app.update(Action::Conflicts);
    assert_eq!(app.mode(), Mode::Outcome);
    let Screen::Coordinator(c) = &app.screen else {
        panic!("left the coordinator screen")
    };
    assert_eq!((c.conflicts().len(), c.action_conflicts().len()), (0, 1));
    assert!(screen(&app, 80, 24).contains("action"));
    // The list's heading wraps at 80 columns rather than losing its last words.
    insta::assert_snapshot!("coordinator_conflict_list", screen(&app, 80, 24));
    app.update(Action::Confirm);
    assert_eq!(app.mode(), Mode::Conflict);
    draws_at_every_size(&app, "coordinator action conflict");
    insta::assert_snapshot!("coordinator_action_conflict", screen(&app, 80, 24));

    // A letter naming no version is refused: nothing journaled, nothing changed.
    let journal = || std::fs::read(app.ctx.store.journal_path()).unwrap();
    let before = (journal(), app.ctx.store.action_versions().unwrap());
    app.update(Action::Char('z'));
    assert!(
        matches!(&app.flash, Some(Flash::Error(m)) if m == "There is no version Z: this conflict has 2 (A to B)"),
        "{:?}",
        app.flash
    );
    assert_eq!(
        (
            std::fs::read(app.ctx.store.journal_path()).unwrap(),
            app.ctx.store.action_versions().unwrap()
        ),
        before
    );
    assert_eq!(app.mode(), Mode::Conflict);

    // b keeps version B, the same store call as `batch resolve`: journaled.
    app.update(Action::Char('b'));
    assert!(
        matches!(&app.flash, Some(Flash::Ok(m)) if m.contains("version B kept (journaled); 0 conflict(s) left")),
        "{:?}",
        app.flash
    );
    assert!(
        app.ctx
            .store
            .unresolved_action_conflicts()
            .unwrap()
            .is_empty()
    );
    assert_eq!(app.ctx.store.action(a0.id).unwrap(), diverged);
    let text = String::from_utf8(std::fs::read(app.ctx.store.journal_path()).unwrap()).unwrap();
    let last = text.lines().last().unwrap();
    assert!(
        last.contains("resolved") && last.contains(&a0.id.to_string()),
        "the journal's last line is the resolution: {last}"
    );
    assert_eq!(app.mode(), Mode::Batches);
}

// ---------------------------------------------------------------------------------------
// The coordinator's report screen, on the `doorstep report` fixture (Pemberton ward, 2026-Q4:
// eight interviews, six name litter and two drugs; see tests/integration/report.rs).

const PEMBERTON: &str = "E05000857";

fn report_app() -> (TempDir, App, Receiver<Event>) {
    let dir = tempfile::tempdir().unwrap();
    super::report::fixture(dir.path());
    let mut app = app(&dir);
    let events = app.take_events().unwrap();
    (dir, app, events)
}

/// Handles the app's events until the report screen has counted its period (it counts
/// in the background).
fn counted(app: &mut App, events: &Receiver<Event>) {
    while matches!(&app.screen, Screen::Report(s) if s.counting()) {
        let event = events
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the counting job sent nothing");
        app.handle(event);
    }
}

/// Home → 6, counted.
fn open_report(app: &mut App, events: &Receiver<Event>) {
    app.update(Action::Digit(6));
    assert!(report_screen(app).counting(), "{:?}", app.flash);
    counted(app, events);
}

fn report_screen(app: &App) -> &doorstep::tui::screens::report::ReportScreen {
    match &app.screen {
        Screen::Report(s) => s,
        _ => panic!("not on the report screen: {:?}", app.flash),
    }
}

/// Home → 6 → the area `code` at ward level → its pack.
fn open_pack(app: &mut App, events: &Receiver<Event>, code: &str) {
    open_report(app, events);
    let at = report_screen(app)
        .areas()
        .iter()
        .position(|a| a.code == code)
        .expect("the ward is listed");
    for _ in 0..at {
        app.update(Action::Down);
    }
    app.update(Action::Confirm);
    assert_eq!(app.screen.mode(), Mode::Report);
}

#[test]
fn the_report_screen_shows_an_areas_pack_public_then_internal() {
    let (_dir, mut app, events) = report_app();
    app.update(Action::Digit(6));
    // The period is counted in the background: until its job's end is handled, the
    // screen says so in place of the areas with fieldwork.
    let counting = screen(&app, 80, 24);
    assert!(
        counting.contains("Counting the fieldwork of 2026-Q4…") && !counting.contains("•"),
        "{counting}"
    );
    insta::assert_snapshot!("report_counting_80x24", counting);
    counted(&mut app, &events);
    let s = report_screen(&app);
    // The clock says 23 November 2026: the current fieldwork quarter.
    assert_eq!(s.period().to_string(), "2026-Q4");
    let choose = screen(&app, 80, 24);
    // Pemberton and Douglas have fieldwork in 2026-Q4; no other ward does.
    assert!(
        choose.contains("Areas with fieldwork in 2026-Q4: 2 of"),
        "{choose}"
    );
    insta::assert_snapshot!("report_choose_80x24", choose);
    app.update(Action::Leave);
    open_pack(&mut app, &events, PEMBERTON);

    let public = screen(&app, 120, 40);
    // Litter: 6 of 8, but the 2 who did not name it are under 5, so the secondary rule
    // hides it; drugs: 2 of 8, a count under 5: hidden too.
    let litter = public.lines().find(|l| l.contains("Litter")).unwrap();
    assert!(
        litter.contains("hidden") && !litter.contains("75%"),
        "{litter}"
    );
    let drugs = public.lines().find(|l| l.contains("Drug")).unwrap();
    assert!(
        drugs.contains("hidden") && !drugs.contains("25%"),
        "{drugs}"
    );
    assert!(!public.contains("NOT FOR PUBLICATION"));
    insta::assert_snapshot!("report_pack_public_120x40", public);

    app.update(Action::ToggleInternal);
    let internal = screen(&app, 120, 40);
    assert!(internal.contains("NOT FOR PUBLICATION"), "{internal}");
    // Litter 6/8 = 75%, Wilson 95% = 0.409–0.928; drugs 2/8 = 25%, Wilson 0.072–0.591.
    let litter = internal.lines().find(|l| l.contains("Litter")).unwrap();
    assert!(
        litter.contains("    6 ") && litter.contains("75%") && litter.contains("41%–93%"),
        "{litter}"
    );
    let drugs = internal.lines().find(|l| l.contains("Drug")).unwrap();
    assert!(drugs.contains("25%") && drugs.contains("7%–59%"), "{drugs}");
    insta::assert_snapshot!("report_pack_internal_120x40", internal);

    // At 80×24 the pack is longer than the screen: scrolling reaches the top three.
    app.update(Action::ToggleInternal);
    let top = screen(&app, 80, 24);
    assert!(!top.contains("Proposed top three"), "{top}");
    insta::assert_snapshot!("report_pack_public_80x24", top);
    press(
        &mut app,
        &[Action::PageDown, Action::PageDown, Action::PageDown],
    );
    let bottom = screen(&app, 80, 24);
    assert!(bottom.contains("Proposed top three"), "{bottom}");
    assert!(bottom.contains("1. Litter"), "{bottom}");
    insta::assert_snapshot!("report_pack_public_80x24_end", bottom);
    app.update(Action::CursorHome);
    // The same screen again, but for the message line at the foot.
    let body = |s: &str| s.lines().take(22).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&screen(&app, 80, 24)), body(&top));

    // Esc goes back to the list, Esc again home.
    app.update(Action::Leave);
    assert_eq!(app.screen.mode(), Mode::ReportChoose);
    app.update(Action::Leave);
    assert!(matches!(app.screen, Screen::Home(_)));
}

#[test]
fn the_report_period_moves_by_arrows_or_is_typed() {
    let (_dir, mut app, events) = report_app();
    open_report(&mut app, &events);
    app.update(Action::PeriodPrev);
    assert_eq!(report_screen(&app).period().to_string(), "2026-Q3");
    // Counted in the background: until then the screen says so and Enter waits.
    assert!(
        screen(&app, 80, 24).contains("Counting the fieldwork of 2026-Q3…"),
        "{}",
        screen(&app, 80, 24)
    );
    app.update(Action::Confirm);
    assert!(
        matches!(&app.flash, Some(Flash::Notice(m)) if m.contains("Still counting the fieldwork of 2026-Q3")),
        "{:?}",
        app.flash
    );
    assert_eq!(app.screen.mode(), Mode::ReportChoose);
    counted(&mut app, &events);
    // Only Pemberton was worked in 2026-Q3 (one resident).
    assert!(screen(&app, 80, 24).contains("Areas with fieldwork in 2026-Q3: 1 of"));
    // Moved on before a count ends: only the count of the period shown is taken.
    press(&mut app, &[Action::PeriodNext, Action::PeriodNext]);
    assert_eq!(report_screen(&app).period().to_string(), "2027-Q1");
    counted(&mut app, &events);
    assert!(screen(&app, 80, 24).contains("Areas with fieldwork in 2027-Q1: 0 of"));
    app.update(Action::PeriodPrev);
    counted(&mut app, &events);
    assert!(screen(&app, 80, 24).contains("Areas with fieldwork in 2026-Q4: 2 of"));
    // The first count's end is not mistaken for the second's, whichever ends first.
    press(&mut app, &[Action::PeriodPrev, Action::PeriodNext]);
    counted(&mut app, &events);
    assert!(screen(&app, 80, 24).contains("Areas with fieldwork in 2026-Q4: 2 of"));
    while let Ok(event) = events.recv_timeout(std::time::Duration::from_millis(500)) {
        app.handle(event);
    }
    assert!(screen(&app, 80, 24).contains("Areas with fieldwork in 2026-Q4: 2 of"));
    assert!(app.flash.is_none(), "{:?}", app.flash);
    type_text(&mut app, "2025-q2");
    assert!(screen(&app, 80, 24).contains("Period: 2025-Q2_"));
    app.update(Action::Confirm);
    assert_eq!(report_screen(&app).period().to_string(), "2025-Q2");
    assert_eq!(app.screen.mode(), Mode::ReportChoose);
    // A period that is not one says so and changes nothing.
    type_text(&mut app, "2025-Q7");
    app.update(Action::Confirm);
    assert!(
        matches!(&app.flash, Some(Flash::Error(m)) if m.contains("2025-Q7")),
        "{:?}",
        app.flash
    );
    assert_eq!(report_screen(&app).period().to_string(), "2025-Q2");
    // Tab moves on from ward to the next level.
    app.update(Action::Leave);
    app.update(Action::NextLevel);
    assert!(screen(&app, 80, 24).contains("Level: township ward [paa]"));
}

/// Leaving the report screen while it counts stops the count; its end is not announced
/// on the screen the coordinator went to.
#[test]
fn leaving_the_report_screen_stops_its_count_quietly() {
    let (_dir, mut app, events) = report_app();
    app.update(Action::Digit(6));
    assert!(report_screen(&app).counting());
    app.update(Action::Leave);
    assert!(matches!(app.screen, Screen::Home(_)));
    while app.ctx.jobs.running().next().is_some() {
        let event = events
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the counting job sent nothing");
        app.handle(event);
    }
    assert!(app.flash.is_none(), "{:?}", app.flash);
    assert!(matches!(app.screen, Screen::Home(_)));
}

fn finish_report_job(
    app: &mut App,
    events: &std::sync::mpsc::Receiver<doorstep::tui::event::Event>,
) {
    assert!(
        report_screen(app).job().is_some(),
        "no export running: {:?}",
        app.flash
    );
    while matches!(&app.screen, Screen::Report(s) if s.job().is_some()) {
        let event = events
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the export job sent nothing");
        app.handle(event);
    }
}

#[test]
fn the_report_screen_exports_the_pack_the_cli_would_write() {
    let (dir, mut app, events) = report_app();
    open_pack(&mut app, &events, PEMBERTON);
    let out = tempfile::tempdir().unwrap();

    // A folder that does not exist: refused, nothing written, still typing.
    app.update(Action::NextFormat);
    app.update(Action::ExportPack);
    assert_eq!(app.screen.mode(), Mode::Form);
    let missing = out.path().join("no-such-stick");
    type_text(&mut app, &missing.display().to_string());
    app.update(Action::Confirm);
    assert!(
        matches!(&app.flash, Some(Flash::Error(m)) if m.contains("is not a folder")),
        "{:?}",
        app.flash
    );
    assert!(!missing.exists());
    assert!(report_screen(&app).job().is_none());

    // The real folder: the HTML pack, written in the background.
    app.update(Action::Leave);
    app.update(Action::ExportPack);
    type_text(&mut app, &out.path().display().to_string());
    app.update(Action::Confirm);
    // The folder's path differs by machine: the line naming it is checked, not snapshotted.
    let running = screen(&app, 80, 24);
    let naming = running.lines().nth(1).unwrap();
    assert!(naming.contains("Exporting to "), "{running}");
    insta::assert_snapshot!(
        "report_export_running_80x24",
        running
            .lines()
            .enumerate()
            .map(|(i, l)| if i == 1 { "(the folder)" } else { l })
            .collect::<Vec<_>>()
            .join("\n")
    );
    finish_report_job(&mut app, &events);
    let file = out.path().join("pack-E05000857-2026-Q4.html");
    assert!(
        matches!(report_screen(&app).exported(), Some(Ok(m)) if m.contains("pack-E05000857-2026-Q4.html")),
        "{:?}",
        report_screen(&app).exported()
    );
    let written = std::fs::read(&file).unwrap();
    drop(app);
    // The same bytes as `doorstep report` writes for the same area, period and format.
    let cli = out.path().join("cli.html");
    super::geography::ok(
        dir.path(),
        &[
            "report",
            "--period",
            "2026-Q4",
            "--area",
            PEMBERTON,
            "--format",
            "html",
            "--out",
            &cli.display().to_string(),
        ],
    );
    assert_eq!(written, std::fs::read(&cli).unwrap());
}

/// The frame drawn while the store opens: home's menu, its counts marked as loading; it
/// fits 80×24 and does not panic on a terminal too small for it.
#[test]
fn the_first_frame_shows_home_with_its_counts_loading() {
    let draw = |w: u16, h: u16| {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| doorstep::tui::screens::home::render_opening(f, &Theme::monochrome(), None))
            .unwrap();
        t.backend().to_string()
    };
    let s = draw(80, 24);
    assert!(s.contains("(loading)"), "{s}");
    assert!(s.contains("Opening the store"), "{s}");
    insta::assert_snapshot!("home_opening", s);
    for (w, h) in [(20, 5), (1, 1), (200, 60)] {
        draw(w, h);
    }
}

/// The first frame with the counts kept at the last clean close: home's counts in place
/// of "…", nothing marked as loading, the store still opening.
#[test]
fn the_first_frame_shows_the_counts_kept_at_the_last_close() {
    let counts = doorstep::tui::screens::home::Counts {
        kin_today: 3,
        eva_today: 1,
        drafts: 2,
        not_exported: doorstep::store::NotExported {
            responses: 12,
            doors: 3,
            knocks: 30,
            actions: 2,
            door_changes: 0,
        },
    };
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| {
        doorstep::tui::screens::home::render_opening(f, &Theme::monochrome(), Some(&counts))
    })
    .unwrap();
    let s = t.backend().to_string();
    assert!(s.contains("Today: 3 KIN · 1 EVA   Drafts: 2"), "{s}");
    assert!(
        s.contains("Not yet exported: 12 interviews or audits, 3 doors, 30 knocks, 2 actions"),
        "{s}"
    );
    assert!(!s.contains("(loading)") && !s.contains("Today: …"), "{s}");
    assert!(s.contains("Opening the store"), "{s}");
    insta::assert_snapshot!("home_opening_counts", s);
}
