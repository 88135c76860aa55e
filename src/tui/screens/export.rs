//! Export to a folder (a USB stick, say): the finalized work not yet exported goes into one
//! signed, encrypted batch file, written by the same [`Store::export_batch`] as `doorstep
//! batch export`, as a background job so the screen keeps drawing while it writes.
//!
//! [`Store::export_batch`]: crate::store::Store::export_batch

use std::path::PathBuf;
use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{Screen, Transition};
use crate::Error;
use crate::batch::Selection;
use crate::store::NotExported;
use crate::store::export::{ExportError, Exported, Nothing};
use crate::tui::action::Action;
use crate::tui::app::{Context, Flash};
use crate::tui::fields::{FieldEvent, TextField, TextKind};
use crate::tui::jobs::{JobId, JobState};
use crate::tui::keys::Mode;
use crate::tui::theme::Theme;

/// What an export came to, in words for the screen (made on the job's thread).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Written {
        file: PathBuf,
        /// "batch 3 of this device".
        batch: String,
        holds: String,
        /// How it is protected: encrypted to whom, signed.
        protection: Vec<String>,
    },
    /// Nothing to export; the sentence says why.
    Nothing(String),
    /// Refused or failed, nothing written; the sentence says what to do.
    Refused(String),
}

enum State {
    /// Typing the folder.
    Folder(TextField),
    Running {
        job: JobId,
        file: PathBuf,
    },
    Done(Outcome),
}

pub struct Export {
    state: State,
    /// This laptop's own work not yet in any batch, when the screen opened.
    pending: NotExported,
}

impl Export {
    pub fn new(pending: NotExported) -> Export {
        Export {
            state: State::Folder(TextField::new(TextKind::Text { long: false }, None)),
            pending,
        }
    }

    pub fn mode(&self) -> Mode {
        match self.state {
            State::Folder(_) => Mode::Form,
            State::Running { .. } | State::Done(_) => Mode::Outcome,
        }
    }

    /// The outcome, once the job has finished.
    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            State::Done(o) => Some(o),
            _ => None,
        }
    }

    /// The job writing the batch, while it runs.
    pub fn job(&self) -> Option<JobId> {
        match &self.state {
            State::Running { job, .. } => Some(*job),
            _ => None,
        }
    }

    pub fn paste(&mut self, text: &str) {
        if let State::Folder(field) = &mut self.state {
            field.paste(text);
        }
    }

    pub fn update(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        match &mut self.state {
            State::Folder(field) => {
                match action {
                    Action::Leave => return home(ctx, None),
                    // The folder as typed: a path is not an answer with rules to check.
                    Action::Confirm => {
                        let typed = field.value().to_owned();
                        return self.start(ctx, &typed);
                    }
                    _ => {}
                }
                match field.handle(action) {
                    FieldEvent::Submit(answer) => self.start(ctx, &answer.to_string()),
                    FieldEvent::Invalid(m) => Ok(Transition::Flash(Flash::Error(m))),
                    FieldEvent::None | FieldEvent::Back => Ok(Transition::Stay),
                }
            }
            // The job carries on if the officer leaves; its end is then a message on home.
            State::Running { .. } | State::Done(_) => match action {
                Action::Leave | Action::Confirm => home(ctx, None),
                _ => Ok(Transition::Stay),
            },
        }
    }

    fn start(&mut self, ctx: &mut Context, typed: &str) -> Result<Transition, Error> {
        let folder = PathBuf::from(typed.trim());
        if typed.trim().is_empty() {
            return Ok(Transition::Flash(Flash::Error(
                "Type the folder to write the batch to (where the USB stick is mounted)".into(),
            )));
        }
        if !folder.is_dir() {
            return Ok(Transition::Flash(Flash::Error(format!(
                "{} is not a folder on this laptop: is the stick plugged in? Type the folder it is mounted at",
                folder.display()
            ))));
        }
        let file = folder.join(file_name(
            ctx.settings.device.as_deref().unwrap_or("device"),
            &ctx.local_now().format("%Y%m%d-%H%M%S").to_string(),
        ));
        let store = Arc::clone(&ctx.store);
        let target = file.clone();
        let job = ctx.jobs.spawn("export", move |reporter| {
            reporter.progress(0, None, "writing the batch");
            Ok(describe(store.export_batch(&target, Selection::New, false)))
        })?;
        self.state = State::Running { job, file };
        Ok(Transition::Stay)
    }

    /// The job `id` has finished: if it is this screen's, take its outcome. Returns whether
    /// it was.
    pub fn job_finished(&mut self, ctx: &mut Context, id: JobId) -> bool {
        if self.job() != Some(id) {
            return false;
        }
        let outcome = match ctx.jobs.take_finished(id) {
            Some(Ok(output)) => output
                .downcast::<Outcome>()
                .unwrap_or_else(|_| Outcome::Refused("the export job sent no result".into())),
            Some(Err(e)) => Outcome::Refused(format!("the export stopped: {e}")),
            None => return false,
        };
        self.state = State::Done(outcome);
        true
    }

    pub fn render(&self, ctx: &Context, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(" Export to a folder ", theme.title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [about, body] =
            Layout::vertical([Constraint::Length(4), Constraint::Min(0)]).areas(inner);
        let mut about_lines = vec![Line::from(
            "This laptop's own finalized responses, doors, knocks and actions not in a batch yet go into one signed batch file, encrypted to the coordinator (as `doorstep batch export`).",
        )];
        // The count is the one home showed; once the export has run, home shows the new one.
        if let State::Folder(_) = self.state {
            about_lines.push(Line::from(format!("Not yet exported: {}", self.pending)));
        }
        frame.render_widget(Paragraph::new(about_lines).wrap(Wrap { trim: true }), about);
        match &self.state {
            State::Folder(field) => {
                let [label, input] =
                    Layout::vertical([Constraint::Length(1), Constraint::Length(3)]).areas(body);
                frame.render_widget(
                    Paragraph::new(Line::styled(
                        "The folder to write to (a USB stick's folder; Enter writes, Esc goes back):",
                        theme.title,
                    )),
                    label,
                );
                field.render(frame, input, theme);
            }
            State::Running { job, file } => {
                let what = match ctx.jobs.status(*job).map(|s| &s.state) {
                    Some(JobState::Running(Some(p))) => p.what.clone(),
                    _ => "starting".to_owned(),
                };
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::styled(format!("Exporting to {}", file.display()), theme.title),
                        Line::from(format!("… {what}")),
                    ])
                    .wrap(Wrap { trim: true }),
                    body,
                );
            }
            State::Done(outcome) => {
                let mut lines = match outcome {
                    Outcome::Written {
                        file,
                        batch,
                        holds,
                        protection,
                    } => {
                        let mut l = vec![
                            Line::styled(format!("✓ {batch} written to"), theme.ok),
                            Line::from(format!("  {}", file.display())),
                            Line::from(format!("  holds {holds}")),
                        ];
                        l.extend(protection.iter().map(|p| Line::from(format!("  {p}"))));
                        l
                    }
                    Outcome::Nothing(m) => vec![Line::styled(format!("! {m}"), theme.notice)],
                    Outcome::Refused(m) => vec![Line::styled(format!("✗ {m}"), theme.error)],
                };
                lines.push(Line::from(""));
                lines.push(Line::from("Enter or Esc: back home"));
                frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
            }
        }
    }
}

fn home(ctx: &Context, flash: Option<Flash>) -> Result<Transition, Error> {
    // Home reads its counts afresh, so "not yet exported" shows what the export did.
    Ok(Transition::Go(
        Screen::Home(super::home::Home::new(ctx)?),
        flash,
    ))
}

/// The batch file's name: the device and the local time, in characters every file system
/// takes (a USB stick is often FAT).
pub fn file_name(device: &str, local: &str) -> String {
    let safe: String = device
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("doorstep-{safe}-{local}.batch")
}

/// The export's result in words; the refusals say what to do in the field app's terms.
fn describe(result: Result<Exported, ExportError>) -> Outcome {
    match result {
        Ok(Exported::Written(w)) => {
            let m = &w.manifest;
            let mut protection = vec![match &w.recipient {
                Some(r) => format!("encrypted to the coordinator's recipient {}", short(&r.to_string())),
                None => "NOT encrypted".to_owned(),
            }];
            protection.push(match &w.key_made {
                Some(_) => "signed with this device's key, made now (it never leaves this laptop)"
                    .to_owned(),
                None => "signed with this device's key".to_owned(),
            });
            Outcome::Written {
                file: w.path.clone(),
                batch: format!("Batch {} of {}", m.sequence, m.device),
                holds: m.counts.to_string(),
                protection,
            }
        }
        Ok(Exported::Nothing(Nothing::NoFieldwork)) => Outcome::Nothing(
            "Nothing to export: this laptop holds no finalized responses, doors, knocks or actions of its own; no file written"
                .into(),
        ),
        Ok(Exported::Nothing(Nothing::AllExported { last })) => Outcome::Nothing(format!(
            "Nothing new to export: everything finalized is already in a batch (the last is batch {} of this laptop); no file written",
            last.sequence
        )),
        Err(ExportError::NoRecipient) => Outcome::Refused(
            "No coordinator recipient is set, so the batch cannot be encrypted and nothing was written: set one with `doorstep config set recipient age1…` (the coordinator's `doorstep keys new` prints it)"
                .into(),
        ),
        Err(e) => Outcome::Refused(e.to_string()),
    }
}

/// A long key, shortened for the screen: its start and end tell it apart.
fn short(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 20 {
        return key.to_owned();
    }
    let head: String = chars[..12].iter().collect();
    let tail: String = chars[chars.len() - 6..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_on_any_stick() {
        assert_eq!(
            file_name("WIGAN-NPT-07", "20261123-100000"),
            "doorstep-WIGAN-NPT-07-20261123-100000.batch"
        );
        assert_eq!(
            file_name("PC 4521/laptop:2", "x"),
            "doorstep-PC_4521_laptop_2-x.batch"
        );
        assert_eq!(
            short("age1abcdefghijklmnopqrstuvwxyz"),
            "age1abcdefgh…uvwxyz"
        );
        assert_eq!(short("age1short"), "age1short");
    }
}
