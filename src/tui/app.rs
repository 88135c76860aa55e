//! The application state and the one `update` that changes it. Rendering lives in
//! `view.rs` and changes nothing; the store and the survey engine do the real work.

use chrono::{DateTime, NaiveDateTime, Utc};

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use super::action::Action;
use super::event::Event;
use super::jobs::{JobState, Jobs};
use super::keys::{self, Mode};
use super::screens::{Screen, Transition};
use super::theme::Theme;
use crate::Error;
use crate::geography::{Geography, Level};
use crate::response::Settings;
use crate::store::Store;
use crate::survey::registry::Registry;

/// The area fieldwork is being done in: a priority action area or a ward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaPick {
    pub code: String,
    pub name: String,
}

/// A one-line message at the foot of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flash {
    Ok(String),
    Notice(String),
    Error(String),
}

/// What every screen may use: the store, the surveys, the device settings, the area.
pub struct Context {
    /// Shared with background jobs (an export, a merge), which use it from their thread.
    pub store: Arc<Store>,
    pub registry: Registry,
    pub settings: Settings,
    /// The boundaries and plan in force (imported, or the built-in demo).
    pub geography: Geography,
    pub area: Option<AreaPick>,
    /// Background work started by the screens, and what it has reported.
    pub jobs: Jobs,
}

impl Context {
    pub fn now(&self) -> DateTime<Utc> {
        self.store.env().now()
    }

    /// Local (UK) wall-clock time, for what the officer sees and types.
    pub fn local_now(&self) -> NaiveDateTime {
        self.store.env().local_now()
    }

    /// The clock and the zone times are shown in.
    pub fn env(&self) -> &crate::response::Env {
        self.store.env()
    }

    pub fn language(&self) -> String {
        self.settings
            .language
            .clone()
            .unwrap_or_else(|| "en".to_owned())
    }
}

pub struct App {
    pub ctx: Context,
    pub screen: Screen,
    pub help: bool,
    pub quit: bool,
    pub flash: Option<Flash>,
    pub theme: Theme,
    /// The receiving end of the event stream, until the event loop takes it.
    events: Option<Receiver<Event>>,
}

impl App {
    /// Opens on the first-run questions until the officer and device are known.
    pub fn new(store: Store, registry: Registry, theme: Theme) -> Result<App, Error> {
        let settings = store.settings()?;
        let geography = store.stored_geography()?.or_builtin()?;
        // Reopen on the area last worked in, if it still exists.
        let area = settings.area.as_deref().and_then(|code| {
            [Level::Paa, Level::Ward]
                .into_iter()
                .find_map(|level| geography.layer(level).and_then(|l| l.get(code)))
                .map(|a| AreaPick {
                    code: a.code.clone(),
                    name: a.name.clone(),
                })
        });
        let (tx, rx) = channel();
        let ctx = Context {
            store: Arc::new(store),
            registry,
            settings,
            geography,
            area,
            jobs: Jobs::new(tx),
        };
        let screen = Screen::start(&ctx)?;
        Ok(App {
            ctx,
            screen,
            help: false,
            quit: false,
            flash: None,
            theme,
            events: Some(rx),
        })
    }

    /// The event stream the loop reads: input, ticks, signals and jobs all arrive here.
    pub fn take_events(&mut self) -> Option<Receiver<Event>> {
        self.events.take()
    }

    /// A sender into the event stream, for the input, tick and signal threads.
    pub fn event_sender(&self) -> Sender<Event> {
        self.ctx.jobs.sender()
    }

    /// Handles one event of the stream (the loop in `mod.rs` ends on signals and a lost
    /// terminal itself, before they get here).
    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Key(key) => {
                if let Some(action) = keys::action_for(self.mode(), &key) {
                    self.update(action);
                }
            }
            Event::Job(id, message) => {
                let Some(status) = self.ctx.jobs.record(id, message) else {
                    return;
                };
                // The screen that started the job takes its output and shows it; otherwise
                // (the officer has moved on) the end is a message, and a failure is shown
                // whichever screen is up, so it is never missed.
                let cancelled = status.is_cancelled();
                let flash = match &status.state {
                    JobState::Running(_) => return,
                    JobState::Done(_) => Flash::Ok(format!("{}: done", status.name)),
                    JobState::Failed(e) => {
                        tracing::error!("{}: {e}", status.name);
                        Flash::Error(format!("{}: {e}", status.name))
                    }
                };
                if self.screen.job_finished(&mut self.ctx, id) {
                    return;
                }
                // A job stopped because its output was no longer wanted ends quietly.
                if cancelled {
                    self.ctx.jobs.take_finished(id);
                } else {
                    self.flash = Some(flash);
                }
            }
            Event::Paste(text) => self.paste(&text),
            Event::Resize | Event::Tick => {}
            Event::Signal(_) | Event::TerminalLost(_) => self.close(),
        }
    }

    /// How keys are read right now.
    pub fn mode(&self) -> Mode {
        if self.help {
            Mode::Help
        } else {
            self.screen.mode()
        }
    }

    /// Quits, keeping first whatever is typed and not yet confirmed (the help promises
    /// that ^C saves everything). Also for the event loop when told to stop by a signal.
    pub fn close(&mut self) {
        if let Err(e) = self.screen.save_typing(&self.ctx) {
            tracing::error!("{e}");
        }
        self.quit = true;
    }

    /// Text pasted into the terminal arrives whole (bracketed paste), not key by key.
    pub fn paste(&mut self, text: &str) {
        if self.help {
            return;
        }
        self.flash = None;
        self.screen.paste(text);
    }

    pub fn update(&mut self, action: Action) {
        if self.help {
            self.help = false;
            return;
        }
        match action {
            Action::Help => {
                self.help = true;
                return;
            }
            Action::Quit => {
                self.close();
                return;
            }
            _ => {}
        }
        self.flash = None;
        match self.screen.update(&mut self.ctx, action) {
            Ok(Transition::Stay) => {}
            Ok(Transition::Go(screen, flash)) => {
                // A screen change is a natural pause: bring sled to disk so a kill later
                // replays little (answers are durable without it, in the journal).
                if let Err(e) = self.ctx.store.flush() {
                    tracing::warn!("store flush on screen change: {e}");
                }
                self.screen = screen;
                self.flash = flash;
            }
            Ok(Transition::Flash(flash)) => self.flash = Some(flash),
            Ok(Transition::Quit) => self.quit = true,
            // A failure must be visible, and must not lose the screen the officer is on.
            Err(e) => {
                tracing::error!("{e}");
                self.flash = Some(Flash::Error(e.to_string()));
            }
        }
    }
}
