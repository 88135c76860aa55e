//! Background jobs report through the app's one event stream: progress, then the outcome,
//! each handled by `App::handle` while keys keep working. The job waits for the test between
//! steps, so the order is fixed and nothing depends on timing.

use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use doorstep::Error;
use doorstep::response::{Env, SettingKey};
use doorstep::store::Store;
use doorstep::survey::registry::Registry;
use doorstep::tui::app::{App, Flash};
use doorstep::tui::event::Event;
use doorstep::tui::jobs::{JobState, Progress};
use doorstep::tui::theme::Theme;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tempfile::TempDir;

fn app(dir: &TempDir) -> (App, Receiver<Event>) {
    let (env, _) = Env::manual(Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap());
    let store = Store::open_with(dir.path(), env).unwrap();
    store.set_setting(SettingKey::Officer, "PC 4521").unwrap();
    store
        .set_setting(SettingKey::Device, "WIGAN-NPT-07")
        .unwrap();
    let mut app = App::new(store, Registry::builtin().unwrap(), Theme::monochrome()).unwrap();
    let events = app.take_events().unwrap();
    assert!(app.take_events().is_none(), "the stream has one reader");
    (app, events)
}

/// The next event, handled by the app (a deadline, so a lost message fails instead of hanging).
fn next(app: &mut App, events: &Receiver<Event>) {
    let event = events
        .recv_timeout(Duration::from_secs(20))
        .expect("the job sent nothing");
    app.handle(event);
}

#[test]
fn a_job_reports_progress_then_its_output_while_keys_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, events) = app(&dir);
    let (go, wait) = channel::<()>();
    let id = app
        .ctx
        .jobs
        .spawn("counting", move |reporter| {
            for done in 1..=2 {
                wait.recv().map_err(|e| Error::Failure(e.to_string()))?;
                reporter.progress(done, Some(2), format!("step {done} of 2"));
            }
            wait.recv().map_err(|e| Error::Failure(e.to_string()))?;
            Ok(40_u64 + 2)
        })
        .unwrap();
    assert!(matches!(
        app.ctx.jobs.status(id).unwrap().state,
        JobState::Running(None)
    ));
    assert_eq!(app.ctx.jobs.running().count(), 1);

    // The job is blocked: a key is handled at once all the same (it opens the help).
    app.handle(Event::Key(KeyEvent::new(
        KeyCode::Char('?'),
        KeyModifiers::NONE,
    )));
    assert!(app.help);
    app.handle(Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert!(!app.help);

    for done in 1..=2 {
        go.send(()).unwrap();
        next(&mut app, &events);
        let status = app.ctx.jobs.status(id).unwrap();
        assert_eq!(status.name, "counting");
        match &status.state {
            JobState::Running(Some(p)) => assert_eq!(
                p,
                &Progress {
                    done,
                    total: Some(2),
                    what: format!("step {done} of 2")
                }
            ),
            other => panic!("expected progress {done}, got {other:?}"),
        }
        // Still running: there is nothing to take yet.
        assert!(app.ctx.jobs.take_finished(id).is_none());
    }

    go.send(()).unwrap();
    next(&mut app, &events);
    assert_eq!(app.flash, Some(Flash::Ok("counting: done".into())));
    assert_eq!(app.ctx.jobs.running().count(), 0);
    let output = app.ctx.jobs.take_finished(id).unwrap().unwrap();
    // The wrong type gives the output back rather than losing it.
    let output = output.downcast::<String>().unwrap_err();
    assert_eq!(output.downcast::<u64>().unwrap(), 42);
    assert!(app.ctx.jobs.status(id).is_none(), "taken once");
    assert!(!app.quit);
}

#[test]
fn a_failing_or_panicking_job_is_reported_not_left_running() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, events) = app(&dir);
    let failing = app
        .ctx
        .jobs
        .spawn("merging batches", |reporter| -> Result<(), Error> {
            reporter.progress(0, None, "reading");
            Err(Error::BadInput(
                "batch-3.json: line 4: not a response".into(),
            ))
        })
        .unwrap();
    next(&mut app, &events);
    assert!(matches!(
        &app.ctx.jobs.status(failing).unwrap().state,
        JobState::Running(Some(Progress {
            done: 0,
            total: None,
            ..
        }))
    ));
    next(&mut app, &events);
    assert_eq!(
        app.flash,
        Some(Flash::Error(
            "merging batches: batch-3.json: line 4: not a response".into()
        ))
    );
    assert_eq!(
        app.ctx.jobs.take_finished(failing).unwrap().unwrap_err(),
        "batch-3.json: line 4: not a response"
    );

    let panicking = app
        .ctx
        .jobs
        .spawn("building the report", |_| -> Result<(), Error> {
            let rows: Vec<u32> = Vec::new();
            let _ = rows[3];
            Ok(())
        })
        .unwrap();
    next(&mut app, &events);
    assert!(matches!(
        app.ctx.jobs.take_finished(panicking),
        Some(Err(e)) if e.contains("stopped unexpectedly")
    ));
    assert!(
        matches!(app.flash, Some(Flash::Error(ref m)) if m.starts_with("building the report:"))
    );
}

#[test]
fn a_signal_or_a_lost_terminal_ends_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let (mut app, _events) = app(&dir);
    app.handle(Event::Tick);
    app.handle(Event::Resize);
    assert!(!app.quit);
    app.handle(Event::TerminalLost("the terminal was closed".into()));
    assert!(app.quit);
}
