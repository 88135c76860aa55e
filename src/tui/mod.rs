//! The field app: the only module that knows the terminal.
//!
//! One event loop; key presses become actions in `keys.rs`; `App::update` changes state;
//! `view::render` draws it. The terminal is restored on exit, on error, on panic (ratatui's
//! hook) and on SIGTERM/SIGHUP.

pub mod action;
pub mod app;
pub mod fields;
pub mod keys;
pub mod screens;
pub mod theme;
pub mod view;

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event, KeyEventKind};

use crate::Error;
use crate::store::Store;
use crate::survey::registry::Registry;
use app::App;
use theme::Theme;

/// Runs the field app on `data_dir` until the user quits or the process is told to stop.
pub fn run(data_dir: &Path) -> Result<(), Error> {
    // Fail fast (busy store, broken surveys) before the terminal changes mode.
    let store = Store::open(data_dir)?;
    let _log_guard = start_logging(data_dir);
    let store_notices: Vec<String> = store.notices().to_vec();
    for n in &store_notices {
        tracing::warn!("{n}");
    }
    let (registry, diagnostics) = Registry::load(data_dir)?;
    for d in &diagnostics {
        tracing::warn!("{d}");
    }
    let mut app = App::new(store, registry, Theme::from_env())?;
    if !diagnostics.is_empty() {
        app.flash = Some(app::Flash::Notice(format!(
            "{} problem(s) in survey files in the data directory: see `doorstep survey list`",
            diagnostics.len()
        )));
    }
    // What opening the store repaired matters more than a survey file's problem.
    if let Some(first) = store_notices.first() {
        app.flash = Some(app::Flash::Notice(first.clone()));
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| Error::io("signal handler", e))?;
    }
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "the field app needs a terminal; for scripts use a subcommand (see `doorstep --help`)"
                .into(),
        ));
    }
    let mut terminal = ratatui::try_init().map_err(|e| Error::io("terminal", e))?;
    let result = event_loop(&mut terminal, &mut app, &stop);
    ratatui::restore();
    tracing::info!("field app closed");
    result
}

fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    stop: &AtomicBool,
) -> Result<(), Error> {
    while !app.quit && !stop.load(Ordering::Relaxed) {
        terminal
            .draw(|f| view::render(app, f))
            .map_err(|e| Error::io("terminal", e))?;
        // Poll with a timeout so a SIGTERM is noticed even when no key comes.
        if !event::poll(Duration::from_millis(250)).map_err(|e| Error::io("terminal", e))? {
            continue;
        }
        match event::read().map_err(|e| Error::io("terminal", e))? {
            Event::Key(key) if key.kind == KeyEventKind::Press => {
                if let Some(action) = keys::action_for(app.mode(), &key) {
                    app.update(action);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Logs go to `<data-dir>/logs/doorstep.log`, never to the screen.
fn start_logging(data_dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = data_dir.join("logs");
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "doorstep.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("DOORSTEP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
