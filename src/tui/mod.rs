//! The field app: the only module that knows the terminal.
//!
//! One event stream (`event.rs`): an input thread, a tick, signals and background jobs
//! (`jobs.rs`) feed one channel; key presses become actions in `keys.rs`; `App::update`
//! changes state; `view::render` draws it. The terminal is restored on exit, on error, on
//! panic (ratatui's hook) and on SIGTERM/SIGHUP; when the terminal itself goes away (closed
//! window, dropped SSH session) the app exits at once, and the data directory is free again.

pub mod action;
pub mod app;
pub mod event;
pub mod fields;
pub mod jobs;
pub mod keys;
pub mod screens;
pub mod theme;
pub mod view;
pub mod widgets;
pub mod wrap;

use std::io::IsTerminal;
use std::path::Path;
use std::sync::mpsc::Receiver;

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};

use crate::Error;
use crate::response::Env;
use crate::store::Store;
use crate::survey::registry::Registry;
use app::App;
use event::Event;
use theme::Theme;

/// Runs the field app on `data_dir` until the user quits or the process is told to stop.
pub fn run(data_dir: &Path) -> Result<(), Error> {
    // Fail fast (busy store, a recovery to finish, a store needing `recover`) before the
    // terminal changes mode; this part is quick whatever the store's size.
    let locked = Store::lock(data_dir, Env::system())?;
    let theme = Theme::from_env();
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        // Nothing to draw: a store or survey file that cannot be opened is still reported
        // ahead of the missing terminal, as it always was.
        let store = locked.open()?;
        Registry::load(data_dir)?;
        drop(store);
        return Err(Error::Usage(
            "the field app needs a terminal; for scripts use a subcommand (see `doorstep --help`)"
                .into(),
        ));
    }
    // Started before the counts kept at the last close are read, so a file of them that
    // cannot be used is logged.
    let logging = start_logging(data_dir);
    // Read before sled opens: opening for writing removes them.
    let saved = locked.saved_home_counts();
    // sled's opening grows with the store (tens of ms at 100,000 responses): it runs on
    // its own thread while the first frame is drawn and the surveys are loaded. Nothing is
    // written before it returns, and the lock is already held.
    let opening = std::thread::Builder::new()
        .name("doorstep-open-store".into())
        .spawn(move || locked.open())
        .map_err(|e| Error::io("starting the thread that opens the store", e))?;
    let mut terminal = ratatui::try_init().map_err(|e| Error::io("terminal", e))?;
    let started = start_app(data_dir, &mut terminal, theme, opening, saved, logging);
    let (mut app, _log_guard) = match started {
        Ok(started) => started,
        Err(e) => {
            // The error is printed by the caller once the terminal is back to normal.
            if let Err(restoring) = ratatui::try_restore() {
                tracing::warn!("terminal not restored: {restoring}");
            }
            return Err(e);
        }
    };
    let Some(rx) = app.take_events() else {
        let _ = ratatui::try_restore();
        return Err(Error::Failure(
            "the field app's event stream is already in use".into(),
        ));
    };
    if let Err(e) = event::start_sources(&app.event_sender()) {
        let _ = ratatui::try_restore();
        return Err(Error::io("terminal", e));
    }
    keep_the_terminal_when_a_job_panics();
    // Pastes arrive as one event, so a long paste appears at once and never as keys.
    let _ = ratatui::crossterm::execute!(std::io::stdout(), EnableBracketedPaste);
    let ending = event_loop(&mut terminal, &mut app, &rx);
    app.ctx.jobs.cancel_all();
    // Every answer is already on disk; this only makes sure the store's last writes are too.
    let saved = app.ctx.store.flush();
    match &ending {
        Ending::Quit => tracing::info!("field app closed"),
        Ending::Signal(s) => tracing::info!("field app closed by signal {s}"),
        Ending::TerminalLost(why) => tracing::warn!("field app closed: {why}"),
    }
    // A terminal that has gone cannot be restored, and nothing may be printed on it (a
    // failed write to a hung-up terminal would abort the process before it lets go of the
    // data directory).
    if !matches!(ending, Ending::TerminalLost(_)) {
        let _ = ratatui::crossterm::execute!(std::io::stdout(), DisableBracketedPaste);
    }
    let restored = ratatui::try_restore();
    if let Err(e) = &restored {
        tracing::warn!("terminal not restored: {e}");
    }
    if restored.is_err() || matches!(ending, Ending::TerminalLost(_)) {
        // Dropping the terminal would try to show the cursor on it, and print if that fails.
        std::mem::forget(terminal);
    }
    saved?;
    Ok(())
}

/// The first frame while the store opens: home, its counts marked as loading, then as
/// kept at the last clean close (`saved`) once the surveys are loaded, if they are usable;
/// then the app itself once the store is open.
fn start_app(
    data_dir: &Path,
    terminal: &mut DefaultTerminal,
    theme: Theme,
    opening: std::thread::JoinHandle<Result<Store, crate::store::StoreError>>,
    saved: Option<crate::store::HomeCounts>,
    logging: Result<LogGuard, String>,
) -> Result<(App, LogGuard), Error> {
    let draw_opening = |terminal: &mut DefaultTerminal, counts: Option<&screens::home::Counts>| {
        terminal
            .draw(|f| screens::home::render_opening(f, &theme, counts))
            .map(|_| ())
            .map_err(|e| Error::io("terminal", e))
    };
    // Drawn before the surveys load (5-10 ms), which telling KIN from EVA needs.
    draw_opening(terminal, None)?;
    let loaded = Registry::load(data_dir);
    let early = match (&saved, &loaded) {
        (Some(saved), Ok((registry, _))) => {
            screens::home::Counts::from_saved(saved, registry, Env::system().today())
        }
        _ => None,
    };
    if early.is_some() {
        draw_opening(terminal, early.as_ref())?;
    }
    let store = opening
        .join()
        .map_err(|_| Error::Failure("opening the store failed unexpectedly".into()))??;
    let (registry, diagnostics) = loaded?;
    let (log_guard, log_problem) = match logging {
        Ok(guard) => (guard, None),
        Err(problem) => (None, Some(problem)),
    };
    let store_notices: Vec<String> = store.notices().to_vec();
    for n in &store_notices {
        tracing::warn!("{n}");
    }
    for d in &diagnostics {
        tracing::warn!("{d}");
    }
    let mut app = App::new(store, registry, theme)?;
    if let (Some(early), screens::Screen::Home(home)) = (&early, &app.screen)
        && home.counts != *early
    {
        // The live counts are shown; the kept ones should never differ from them.
        tracing::warn!(
            "home's counts kept at the last close ({early:?}) differ from the store's ({:?})",
            home.counts
        );
    }
    // What opening the store repaired matters most, so it comes first; the rest of
    // several store notices are in the log.
    let mut notices: Vec<String> = store_notices.into_iter().take(1).collect();
    if let Some(problem) = log_problem {
        notices.push(problem);
    }
    if !diagnostics.is_empty() {
        notices.push(format!(
            "{} problem(s) in survey files in the data directory: see `doorstep survey list`",
            diagnostics.len()
        ));
    }
    if !notices.is_empty() {
        app.flash = Some(app::Flash::Notice(notices.join("; ")));
    }
    Ok((app, log_guard))
}

/// Keeps the log writer running; dropping it flushes the log.
type LogGuard = Option<tracing_appender::non_blocking::WorkerGuard>;

/// ratatui's panic hook restores the terminal, which is right when the app dies, but a job
/// that panics only ends its own thread (`jobs.rs` reports it as failed) and the app carries
/// on: its panic goes to the log instead.
fn keep_the_terminal_when_a_job_panics() {
    let app_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Caught and reported as an error: the app carries on, in its terminal.
        if crate::caught::catching() {
            return;
        }
        let in_job = std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with(jobs::THREAD_PREFIX));
        if in_job {
            tracing::error!("{info}");
        } else {
            app_hook(info);
        }
    }));
}

/// Why the event loop ended.
#[derive(Debug)]
enum Ending {
    Quit,
    Signal(i32),
    TerminalLost(String),
}

fn event_loop(terminal: &mut DefaultTerminal, app: &mut App, events: &Receiver<Event>) -> Ending {
    loop {
        if let Err(e) = terminal.draw(|f| view::render(app, f)) {
            return Ending::TerminalLost(format!("drawing on the terminal: {e}"));
        }
        // Handle everything that has arrived before drawing again.
        let Ok(mut event) = events.recv() else {
            return Ending::TerminalLost("no more input".into());
        };
        loop {
            match event {
                // Told to stop: keep unconfirmed typing as ^C does, then end.
                Event::TerminalLost(why) => {
                    app.close();
                    return Ending::TerminalLost(why);
                }
                Event::Signal(s) => {
                    app.close();
                    return Ending::Signal(s);
                }
                other => app.handle(other),
            }
            if app.quit {
                return Ending::Quit;
            }
            match events.try_recv() {
                Ok(next) => event = next,
                Err(_) => break,
            }
        }
    }
}

/// Logs go to `<data-dir>/logs/doorstep.log`, never to the screen. A log file that cannot be
/// opened (a `logs` folder left by another user, a file in its place) must not stop the
/// officer working: the app runs without a log and says so once.
fn start_logging(
    data_dir: &Path,
) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>, String> {
    let dir = data_dir.join("logs");
    let path = dir.join("doorstep.log");
    let unusable = |e: std::io::Error| format!("not logging: {}: {e}", path.display());
    std::fs::create_dir_all(&dir).map_err(unusable)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(unusable)?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("DOORSTEP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Only fails if a logger is already installed (tests); that one keeps working.
    let _ = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    Ok(Some(guard))
}
