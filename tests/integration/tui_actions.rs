//! The field app's actions screen, driven through `App::update` as the officer's keys would
//! drive it, with `insta` snapshots at 80×24. The clock is fixed (23 November 2026, UK) so
//! "overdue" and the dates shown are the same on every run and in any time zone.

use chrono::{NaiveDate, TimeZone, Utc};
use doorstep::action::{Action as Act, ActionStatus, Change, NewAction, Priority};
use doorstep::response::{Env, NewResponse, SettingKey};
use doorstep::store::Store;
use doorstep::survey::Finding;
use doorstep::survey::registry::Registry;
use doorstep::tui::action::Action;
use doorstep::tui::app::{App, AreaPick, Flash};
use doorstep::tui::keys::Mode;
use doorstep::tui::screens::Screen;
use doorstep::tui::screens::actions::ActionsScreen;
use doorstep::tui::theme::Theme;
use doorstep::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;
use uuid::Uuid;

fn app(dir: &TempDir) -> App {
    let (env, _) = Env::manual(Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap());
    let store = Store::open_with(dir.path(), env).unwrap();
    store.set_setting(SettingKey::Officer, "PC 4521").unwrap();
    store
        .set_setting(SettingKey::Device, "WIGAN-NPT-07")
        .unwrap();
    let mut app = App::new(store, Registry::builtin().unwrap(), Theme::monochrome()).unwrap();
    app.ctx.area = Some(AreaPick {
        code: "E05000841".into(),
        name: "Ashton".into(),
    });
    app
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// An action stored directly, as `actions add` would store it; made in summer (BST) so its
/// history shows UK summer time.
fn stored(app: &App, area: &str, issue: &str, text: &str, lead: &str, due: NaiveDate) -> Uuid {
    let new = NewAction {
        priority: Priority {
            issue: issue.into(),
            area: area.into(),
            period: "2026-Q4".parse().unwrap(),
        },
        problem: Some("Litter on Kay Street".into()),
        action: text.into(),
        lead: lead.into(),
        owner: "Neighbourhood manager".into(),
        support: vec!["Police".into()],
        agreed: d(2026, 7, 1),
        due,
        source: None,
    };
    let at = Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0).unwrap();
    let a = Act::new(app.ctx.env().new_id(), new, at, "Sgt Ada Jones").unwrap();
    app.ctx.store.add_action(&a).unwrap();
    a.id
}

/// Three actions: one a month overdue, one due next month, one done after its due date.
fn register(app: &App) -> (Uuid, Uuid, Uuid) {
    let later = stored(
        app,
        "E05000861",
        "drugs",
        "Needle sweeps of the rec twice a week",
        "Council street scene",
        d(2026, 12, 20),
    );
    let late = stored(
        app,
        "E05000841",
        "litter",
        "Weekly litter pick on Kay Street and the ginnel behind the shops",
        "Wigan Council",
        d(2026, 10, 20),
    );
    let done = stored(
        app,
        "E05000841",
        "litter",
        "Bins emptied on market day",
        "Wigan Council",
        d(2026, 11, 1),
    );
    let mut c = Change::new(
        Utc.with_ymd_and_hms(2026, 11, 2, 12, 0, 0).unwrap(),
        "Sgt Ada Jones",
    );
    c.status = Some(ActionStatus::Done);
    c.outcome = Some("Bins emptied every Thursday".into());
    app.ctx.store.update_action(done, c).unwrap();
    (late, later, done)
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

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Char(c));
    }
}

fn actions(app: &App) -> &ActionsScreen {
    match &app.screen {
        Screen::Actions(s) => s,
        _ => panic!("not on the actions screen"),
    }
}

/// Home → 7, the register.
fn open(app: &mut App) {
    app.update(Action::Digit(7));
    assert_eq!(app.mode(), Mode::Actions, "{:?}", app.flash);
}

fn draws_at_every_size(app: &App) {
    for (w, h) in [(80, 24), (120, 40), (40, 12), (20, 6), (200, 60)] {
        screen(app, w, h);
    }
}

fn journal(app: &App) -> Vec<u8> {
    std::fs::read(app.ctx.store.journal_path()).unwrap()
}

#[test]
fn the_register_puts_overdue_first_and_filters_by_area_status_and_agency() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    let (late, later, done) = register(&app);
    open(&mut app);
    let ids: Vec<Uuid> = actions(&app).listed().iter().map(|a| a.id).collect();
    // Overdue first; then by due date (the done one is past due but not overdue).
    assert_eq!(ids, vec![late, done, later]);
    let s = screen(&app, 80, 24);
    assert!(s.contains("1m "), "a month overdue: {s}");
    insta::assert_snapshot!("actions_register", s);
    draws_at_every_size(&app);

    // w: the first area in the register; s: open; g cycles agencies.
    press(&mut app, &[Action::FilterArea, Action::FilterStatus]);
    let f = actions(&app).filters();
    assert_eq!(f.area.as_deref(), Some("E05000841"));
    assert_eq!(f.status, Some(ActionStatus::Open));
    let ids: Vec<Uuid> = actions(&app).listed().iter().map(|a| a.id).collect();
    assert_eq!(ids, vec![late]);
    insta::assert_snapshot!("actions_register_filtered", screen(&app, 80, 24));
    app.update(Action::ClearFilters);
    app.update(Action::FilterAgency);
    assert_eq!(
        actions(&app).filters().agency.as_deref(),
        Some("Council street scene")
    );
    let ids: Vec<Uuid> = actions(&app).listed().iter().map(|a| a.id).collect();
    assert_eq!(ids, vec![later]);
    // Police support every action: agency means leads or supports.
    app.update(Action::FilterAgency);
    assert_eq!(actions(&app).filters().agency.as_deref(), Some("Police"));
    assert_eq!(actions(&app).listed().len(), 3);
    // Status filter runs through every status, then back to all.
    app.update(Action::ClearFilters);
    for _ in 0..ActionStatus::ALL.len() {
        app.update(Action::FilterStatus);
    }
    assert_eq!(
        actions(&app).filters().status,
        Some(ActionStatus::Escalated)
    );
    assert!(screen(&app, 80, 24).contains("No action matches the filters: c clears them."));
    app.update(Action::FilterStatus);
    assert_eq!(actions(&app).filters().status, None);

    // Esc goes home; q on the register quits as on home.
    app.update(Action::Leave);
    assert!(matches!(app.screen, Screen::Home(_)));
    open(&mut app);
    assert_eq!(
        doorstep::tui::keys::action_for(
            Mode::Actions,
            &ratatui::crossterm::event::KeyEvent::from(ratatui::crossterm::event::KeyCode::Char(
                'q'
            ))
        ),
        Some(Action::Quit)
    );
    app.update(Action::Quit);
    assert!(app.quit);
}

#[test]
fn an_action_shows_every_field_and_its_history_in_uk_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    let (late, _, done) = register(&app);
    open(&mut app);
    app.update(Action::Confirm);
    assert_eq!(app.mode(), Mode::ActionShow);
    assert_eq!(actions(&app).current().map(|a| a.id), Some(late));
    let s = screen(&app, 80, 24);
    // Made at 09:00 UTC on 1 July: 10:00 in the UK (BST).
    assert!(
        s.contains("2026-07-01 10:00 by Sgt Ada Jones: status open"),
        "{s}"
    );
    assert!(s.contains("OVERDUE by 1 month 3 days"), "{s}");
    insta::assert_snapshot!("action_detail", s);
    draws_at_every_size(&app);
    app.update(Action::Leave);
    assert_eq!(app.mode(), Mode::Actions);
    // The done one: its outcome and the dated change.
    press(&mut app, &[Action::Down, Action::Confirm]);
    assert_eq!(actions(&app).current().map(|a| a.id), Some(done));
    let s = screen(&app, 80, 24);
    assert!(s.contains("Bins emptied every Thursday"), "{s}");
    assert!(
        s.contains("2026-11-02 12:00 by Sgt Ada Jones: status done"),
        "{s}"
    );
}

/// Types `text` into the focused field, replacing what is there.
fn fill(app: &mut App, text: &str) {
    app.update(Action::ClearField);
    type_text(app, text);
}

#[test]
fn the_add_form_refuses_in_the_clis_words_and_stores_only_a_valid_action() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    open(&mut app);
    assert!(screen(&app, 80, 24).contains("No actions yet: a adds one."));
    app.update(Action::AddAction);
    assert_eq!(app.mode(), Mode::ActionForm);
    // From finding (empty), area (the area worked in), period, issue by Tab.
    press(&mut app, &[Action::Down, Action::Down, Action::Down]);
    press(&mut app, &[Action::NextOption, Action::NextOption]);
    let issue = actions(&app)
        .form()
        .unwrap()
        .value(doorstep::tui::screens::action_form::FieldKey::Issue)
        .to_owned();
    assert!(!issue.is_empty());
    app.update(Action::Confirm);
    fill(&mut app, "Wigan Council");
    app.update(Action::Confirm);
    fill(&mut app, "Neighbourhood manager");
    app.update(Action::Confirm);
    fill(&mut app, "Police, Housing");
    // Agreed stays today; due typed the wrong way round.
    press(&mut app, &[Action::Confirm, Action::Confirm]);
    fill(&mut app, "30/11/2026");
    app.update(Action::Confirm);
    fill(&mut app, "Weekly litter pick on Kay Street");
    app.update(Action::PageDown);
    let before = journal(&app);
    app.update(Action::Confirm);
    let form = actions(&app).form().expect("the form stays open");
    assert_eq!(
        form.error.as_deref(),
        Some("bad date `30/11/2026` for --due: expected YEAR-MM-DD, such as 2026-11-30")
    );
    assert_eq!(
        form.focused(),
        Some(doorstep::tui::screens::action_form::FieldKey::Due)
    );
    insta::assert_snapshot!("action_add_invalid", screen(&app, 80, 24));
    draws_at_every_size(&app);
    assert!(app.ctx.store.actions().unwrap().actions.is_empty());
    assert_eq!(journal(&app), before, "nothing journaled on a refusal");

    // Due before agreed: the domain's words, at the due field.
    fill(&mut app, "2026-11-01");
    app.update(Action::PageDown);
    app.update(Action::Confirm);
    assert_eq!(
        actions(&app).form().unwrap().error.as_deref(),
        Some("the due date 2026-11-01 is before the agreed date 2026-11-23")
    );
    assert!(app.ctx.store.actions().unwrap().actions.is_empty());

    fill(&mut app, "2026-12-14");
    app.update(Action::PageDown);
    app.update(Action::Confirm);
    let Some(Flash::Ok(saved)) = app.flash.clone() else {
        panic!("not saved: {:?}", app.flash);
    };
    assert!(saved.starts_with("Saved action "), "{saved}");
    // Said saved: it is in the store and in the journal already.
    let all = app.ctx.store.actions().unwrap().actions;
    assert_eq!(all.len(), 1);
    let a = &all[0];
    assert_eq!(a.priority.area, "E05000841");
    assert_eq!(a.priority.issue, issue);
    assert_eq!(a.support, vec!["Police".to_owned(), "Housing".to_owned()]);
    assert_eq!(a.agreed, d(2026, 11, 23));
    assert_eq!(a.history[0].by, "PC 4521");
    let text = String::from_utf8(journal(&app)).unwrap();
    assert!(
        text.lines()
            .last()
            .is_some_and(|l| l.contains("action_added") && l.contains(&a.id.to_string())),
        "the journal's last line is the new action"
    );
    assert_eq!(app.mode(), Mode::ActionShow);
    assert_eq!(actions(&app).current().map(|x| x.id), Some(a.id));
}

#[test]
fn esc_leaves_the_add_form_with_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    open(&mut app);
    app.update(Action::AddAction);
    app.update(Action::Down);
    fill(&mut app, "E05000861");
    app.paste("pasted text");
    app.update(Action::Leave);
    assert_eq!(app.mode(), Mode::Actions);
    assert_eq!(app.flash, Some(Flash::Notice("Nothing added".into())));
    assert!(app.ctx.store.actions().unwrap().actions.is_empty());
}

#[test]
fn a_refused_update_shows_the_domains_words_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    let (_, _, done) = register(&app);
    open(&mut app);
    press(&mut app, &[Action::Down, Action::Confirm]);
    assert_eq!(actions(&app).current().map(|a| a.id), Some(done));
    app.update(Action::UpdateAction);
    assert_eq!(app.mode(), Mode::ActionForm);
    // Status: Tab from "(unchanged)" to open, with no note.
    app.update(Action::NextOption);
    let before_action = app.ctx.store.action(done).unwrap();
    let before_journal = journal(&app);
    press(&mut app, &[Action::PageDown, Action::Confirm]);
    let form = actions(&app).form().expect("the form stays open");
    assert_eq!(
        form.error.as_deref(),
        Some(
            format!("action {done} is done: reopening it as open needs --note saying why").as_str()
        )
    );
    assert_eq!(
        form.focused(),
        Some(doorstep::tui::screens::action_form::FieldKey::Note)
    );
    insta::assert_snapshot!("action_update_refused", screen(&app, 80, 24));
    draws_at_every_size(&app);
    assert_eq!(app.ctx.store.action(done).unwrap(), before_action);
    assert_eq!(journal(&app), before_journal);

    // A bad spend is refused before the store is asked.
    press(
        &mut app,
        &[Action::Down, Action::Down, Action::Down, Action::Down],
    );
    fill(&mut app, "12.345");
    press(&mut app, &[Action::PageDown, Action::Confirm]);
    assert!(
        actions(&app)
            .form()
            .unwrap()
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("bad spend `12.345`"))
    );
    assert_eq!(app.ctx.store.action(done).unwrap(), before_action);

    // With a note it is reopened, and the history says when and who.
    press(&mut app, &[Action::PageUp, Action::Down]);
    fill(&mut app, "Bins overflowing again");
    press(
        &mut app,
        &[Action::Down, Action::Down, Action::Down, Action::Down],
    );
    fill(&mut app, "120.50");
    press(&mut app, &[Action::PageDown, Action::Confirm]);
    assert!(
        matches!(&app.flash, Some(Flash::Ok(m)) if m.starts_with("Saved the change")),
        "{:?}",
        app.flash
    );
    let after = app.ctx.store.action(done).unwrap();
    assert_eq!(after.status, ActionStatus::Open);
    assert_eq!(after.spend_pence, Some(12050));
    assert_eq!(after.history.len(), before_action.history.len() + 1);
    assert_eq!(app.mode(), Mode::ActionShow);
    // The history is at the foot: PgDn scrolls to it.
    app.update(Action::PageDown);
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("2026-11-23 10:00 by PC 4521: status open; note: Bins overflowing"),
        "{s}"
    );
    insta::assert_snapshot!("action_updated", s);
    // Esc from an update opened on the action goes back to the action, then the register.
    app.update(Action::UpdateAction);
    app.update(Action::Leave);
    assert_eq!(app.mode(), Mode::ActionShow);
    assert_eq!(app.flash, Some(Flash::Notice("Nothing changed".into())));
    app.update(Action::Leave);
    assert_eq!(app.mode(), Mode::Actions);
}

#[test]
fn an_action_from_an_eva_finding_opens_the_finding_and_its_priority() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app(&dir);
    let (late, _, _) = register(&app);
    let response = {
        let store = &app.ctx.store;
        let r = store
            .create_draft(NewResponse {
                survey_id: "eva".into(),
                survey_version: 1,
                fingerprint: "test".into(),
                area: "E05000841".into(),
                period: None,
                interviewer: "PC 1".into(),
                device: "laptop-1".into(),
                language: "en".into(),
                started_at: Utc.with_ymd_and_hms(2026, 11, 20, 14, 0, 0).unwrap(),
            })
            .unwrap();
        store
            .record_finding(
                r.id,
                "needles",
                Finding {
                    note: Some("three in the bin".into()),
                    location: Some("rear of 22 Kay Street".into()),
                    urgent: true,
                    urgent_by_rule: true,
                    agency: Some("Council street scene".into()),
                },
            )
            .unwrap();
        r.id
    };
    open(&mut app);
    app.update(Action::AddAction);
    // A finding that is not there: the CLI's words, nothing filled.
    let short = response.simple().to_string()[..12].to_owned();
    type_text(&mut app, &format!("{short}/graffiti"));
    app.update(Action::Confirm);
    let e = actions(&app).form().unwrap().error.clone().unwrap();
    assert!(
        e.ends_with("has no finding on item `graffiti` (it has findings on needles)"),
        "{e}"
    );
    fill(&mut app, &format!("{short}/needles"));
    app.update(Action::Confirm);
    let form = actions(&app).form().unwrap();
    use doorstep::tui::screens::action_form::FieldKey as K;
    assert_eq!(form.error, None);
    assert_eq!(form.value(K::Area), "E05000841");
    assert_eq!(form.value(K::Issue), "drugs");
    assert_eq!(form.value(K::Lead), "Council street scene");
    assert_eq!(
        form.value(K::Problem),
        "EVA finding on needles, at rear of 22 Kay Street, three in the bin"
    );
    // Owner, due and the action; the rest came from the finding.
    press(
        &mut app,
        &[Action::Down, Action::Down, Action::Down, Action::Down],
    );
    type_text(&mut app, "Street scene supervisor");
    press(&mut app, &[Action::Down, Action::Down, Action::Down]);
    type_text(&mut app, "2026-11-24");
    app.update(Action::Down);
    type_text(&mut app, "Remove needles; sharps bin request");
    press(&mut app, &[Action::PageDown, Action::Confirm]);
    assert!(matches!(&app.flash, Some(Flash::Ok(_))), "{:?}", app.flash);
    let added = actions(&app).current().unwrap().clone();
    assert_eq!(added.source.as_ref().map(|s| s.response), Some(response));

    app.update(Action::OpenFinding);
    assert_eq!(app.mode(), Mode::Outcome);
    let view = actions(&app).finding().unwrap();
    let get = |label: &str| {
        view.rows
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get("Response"), response.to_string());
    assert!(get("Item").starts_with("needles"));
    assert_eq!(get("Grade"), "not answered");
    assert_eq!(get("Location"), "rear of 22 Kay Street");
    assert_eq!(get("Agency"), "Council street scene");
    assert_eq!(get("Urgent"), "yes (by the survey's rule)");
    insta::assert_snapshot!("action_finding", screen(&app, 80, 24));
    draws_at_every_size(&app);
    app.update(Action::Leave);
    assert_eq!(app.mode(), Mode::ActionShow);

    // The priority: drugs in E05000841 for 2026-Q4, served by this action alone; the
    // litter one's priority is served by two.
    app.update(Action::OpenPriority);
    let s = screen(&app, 80, 24);
    assert!(s.contains("1 serve it"), "{s}");
    app.update(Action::Leave);
    app.update(Action::Leave);
    let at = actions(&app)
        .listed()
        .iter()
        .position(|a| a.id == late)
        .unwrap();
    for _ in 0..at {
        app.update(Action::Down);
    }
    app.update(Action::OpenPriority);
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("2 serve it: 1 still to deliver (1 overdue), 1 done"),
        "{s}"
    );
    insta::assert_snapshot!("action_priority", s);
    app.update(Action::Leave);
    assert_eq!(app.mode(), Mode::Actions);
    // f on an action not started from a finding says so.
    app.update(Action::OpenFinding);
    assert_eq!(app.mode(), Mode::Actions);
    assert!(
        matches!(&app.flash, Some(Flash::Notice(m)) if m.contains("not started from an EVA finding"))
    );
}
