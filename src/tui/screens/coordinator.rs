//! The coordinator's screen: point at a folder of batch files (a USB stick from each
//! laptop), see each file's verification, merge the good ones with a progress gauge, then
//! settle the conflicts (responses', then actions') side by side. Verifying and merging
//! run as background jobs through the store's merge API ([`Store::verify_folder`],
//! [`Store::merge_file`], [`Store::resolve_conflict`],
//! [`Store::resolve_action_conflict`]), the same as `doorstep batch verify|merge|resolve`.
//!
//! [`Store::verify_folder`]: crate::store::Store::verify_folder
//! [`Store::merge_file`]: crate::store::Store::merge_file
//! [`Store::resolve_conflict`]: crate::store::Store::resolve_conflict
//! [`Store::resolve_action_conflict`]: crate::store::Store::resolve_action_conflict

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Row, Wrap};

use super::{Screen, Transition};
use crate::Error;
use crate::response::{Response, StoredAnswer};
use crate::seal::CoordinatorIdentity;
use crate::store::ActionConflict;
use crate::store::merge::{Conflict, MergeCounts, MergeResult, PinCheck};
use crate::tui::action::Action;
use crate::tui::app::{Context, Flash};
use crate::tui::fields::{FieldEvent, TextField, TextKind};
use crate::tui::jobs::{JobId, JobState};
use crate::tui::keys::Mode;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::{self, SelectableList};

/// One batch file's verification, in words (made on the job's thread).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub path: PathBuf,
    pub file: String,
    pub device: String,
    pub officer: String,
    pub counts: String,
    /// `Ok`: what the ✓ says (first batch from a device, merged before); `Err`: why the
    /// file is refused.
    pub verdict: Result<String, String>,
    /// Verified and not merged before: merging it can change something.
    pub to_merge: bool,
}

/// What merging one file did, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub file: String,
    pub result: Result<String, String>,
    /// What the merge did to the batch's records: none for a batch merged before, or one
    /// whose merge failed.
    pub counts: Option<MergeCounts>,
}

/// How many merged files the summary under the list names (those with a conflict, a
/// rejected record or a failure); the rest say what happened when selected in the list.
const MERGED_NAMED: usize = 4;

enum Stage {
    Folder(TextField),
    /// The folder is chosen; the coordinator identity file opens encrypted batches.
    Identity(TextField),
    Verifying(JobId),
    Checked,
    Merging(JobId),
    Merged(Vec<Merged>),
    /// The unresolved conflicts (responses', then actions'), one selected.
    Conflicts,
    /// One conflict, its versions side by side.
    Conflict,
}

pub struct Coordinator {
    stage: Stage,
    folder: PathBuf,
    identity: Option<Arc<CoordinatorIdentity>>,
    checked: Vec<Checked>,
    selected: usize,
    conflicts: Vec<Conflict>,
    action_conflicts: Vec<ActionConflict>,
    /// The selected conflict: an index into `conflicts`, then on into `action_conflicts`.
    conflict: usize,
}

impl Default for Coordinator {
    fn default() -> Self {
        Coordinator::new()
    }
}

impl Coordinator {
    pub fn new() -> Coordinator {
        Coordinator {
            stage: Stage::Folder(TextField::new(TextKind::Text { long: false }, None)),
            folder: PathBuf::new(),
            identity: None,
            checked: Vec::new(),
            selected: 0,
            conflicts: Vec::new(),
            action_conflicts: Vec::new(),
            conflict: 0,
        }
    }

    pub fn mode(&self) -> Mode {
        match self.stage {
            Stage::Folder(_) | Stage::Identity(_) => Mode::Form,
            Stage::Checked | Stage::Merged(_) => Mode::Batches,
            Stage::Conflict => Mode::Conflict,
            Stage::Verifying(_) | Stage::Merging(_) | Stage::Conflicts => Mode::Outcome,
        }
    }

    /// Each batch file's verification, once done.
    pub fn checked(&self) -> &[Checked] {
        &self.checked
    }

    /// What the last merge did, file by file.
    pub fn merged(&self) -> Option<&[Merged]> {
        match &self.stage {
            Stage::Merged(m) => Some(m),
            _ => None,
        }
    }

    /// The unresolved conflicts listed.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.conflicts
    }

    /// The unresolved action conflicts listed (after the responses').
    pub fn action_conflicts(&self) -> &[ActionConflict] {
        &self.action_conflicts
    }

    /// How many conflicts are listed, of both kinds.
    fn listed(&self) -> usize {
        self.conflicts.len() + self.action_conflicts.len()
    }

    /// The selected action conflict, when the selection is past the responses'.
    fn selected_action(&self) -> Option<&ActionConflict> {
        self.conflict
            .checked_sub(self.conflicts.len())
            .and_then(|i| self.action_conflicts.get(i))
    }

    /// The job running (verifying or merging), if any.
    pub fn job(&self) -> Option<JobId> {
        match self.stage {
            Stage::Verifying(j) | Stage::Merging(j) => Some(j),
            _ => None,
        }
    }

    pub fn paste(&mut self, text: &str) {
        if let Stage::Folder(f) | Stage::Identity(f) = &mut self.stage {
            f.paste(text);
        }
    }

    pub fn update(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        match &mut self.stage {
            Stage::Folder(field) => match action {
                Action::Leave => home(ctx),
                Action::Confirm => {
                    let folder = PathBuf::from(field.value().trim());
                    if !folder.is_dir() || field.value().trim().is_empty() {
                        return Ok(Transition::Flash(Flash::Error(format!(
                            "`{}` is not a folder on this machine: type the folder holding the batch files",
                            field.value().trim()
                        ))));
                    }
                    self.folder = folder;
                    self.stage =
                        Stage::Identity(TextField::new(TextKind::Text { long: false }, None));
                    Ok(Transition::Stay)
                }
                _ => Ok(field_event(field.handle(action))),
            },
            Stage::Identity(field) => match action {
                Action::Leave => home(ctx),
                Action::Confirm => {
                    let typed = field.value().trim().to_owned();
                    self.identity = if typed.is_empty() {
                        None
                    } else {
                        match read_identity(Path::new(&typed)) {
                            Ok(id) => Some(Arc::new(id)),
                            Err(m) => return Ok(Transition::Flash(Flash::Error(m))),
                        }
                    };
                    self.verify(ctx)
                }
                _ => Ok(field_event(field.handle(action))),
            },
            Stage::Verifying(_) | Stage::Merging(_) => match action {
                Action::Leave => home(ctx),
                _ => Ok(Transition::Stay),
            },
            Stage::Checked | Stage::Merged(_) => {
                if let Some(n) = list::moved(self.selected, self.checked.len(), action) {
                    self.selected = n;
                    return Ok(Transition::Stay);
                }
                match action {
                    Action::Merge => self.merge(ctx),
                    Action::Conflicts => self.open_conflicts(ctx),
                    Action::Leave => home(ctx),
                    _ => Ok(Transition::Stay),
                }
            }
            Stage::Conflicts => {
                if let Some(n) = list::moved(self.conflict, self.listed(), action) {
                    self.conflict = n;
                    return Ok(Transition::Stay);
                }
                match action {
                    Action::Confirm if self.listed() > 0 => {
                        self.stage = Stage::Conflict;
                        Ok(Transition::Stay)
                    }
                    Action::Leave => {
                        self.stage = Stage::Checked;
                        Ok(Transition::Stay)
                    }
                    _ => Ok(Transition::Stay),
                }
            }
            Stage::Conflict => match action {
                Action::Char(c) if c.is_ascii_alphabetic() => self.keep(ctx, c),
                Action::Leave => {
                    self.stage = Stage::Conflicts;
                    Ok(Transition::Stay)
                }
                _ => Ok(Transition::Stay),
            },
        }
    }

    fn verify(&mut self, ctx: &mut Context) -> Result<Transition, Error> {
        let store = Arc::clone(&ctx.store);
        let registry = ctx.registry.clone();
        let identity = self.identity.clone();
        let folder = self.folder.clone();
        let job = ctx.jobs.spawn("verify batches", move |reporter| {
            reporter.progress(0, None, "reading the batch files");
            let checks = store.verify_folder(&folder, identity.as_deref(), &registry)?;
            Ok(checks.into_iter().map(describe_check).collect::<Vec<_>>())
        })?;
        self.stage = Stage::Verifying(job);
        Ok(Transition::Stay)
    }

    fn merge(&mut self, ctx: &mut Context) -> Result<Transition, Error> {
        let files: Vec<(String, PathBuf)> = self
            .checked
            .iter()
            .filter(|c| c.to_merge)
            .map(|c| (c.file.clone(), c.path.clone()))
            .collect();
        if files.is_empty() {
            return Ok(Transition::Flash(Flash::Notice(
                "Nothing to merge: no verified batch here is new to this machine".into(),
            )));
        }
        let store = Arc::clone(&ctx.store);
        let registry = ctx.registry.clone();
        let identity = self.identity.clone();
        let job = ctx.jobs.spawn("merge", move |reporter| {
            let n = files.len();
            let mut out = Vec::new();
            for (i, (file, path)) in files.into_iter().enumerate() {
                if reporter.is_cancelled() {
                    break;
                }
                let what = format!("batch {} of {n}: {file}", i + 1);
                reporter.progress(0, None, what.clone());
                let result =
                    store.merge_file(&path, identity.as_deref(), &registry, &mut |done, total| {
                        reporter.progress(done, Some(total), what.clone())
                    });
                out.push(Merged {
                    file,
                    counts: match &result {
                        Ok(MergeResult::Merged { batch, .. }) => Some(batch.outcome),
                        _ => None,
                    },
                    result: match result {
                        Ok(r) => Ok(describe_merge(&r)),
                        // One batch failing leaves the others merged: each is all or nothing.
                        Err(e) => Err(e.to_string()),
                    },
                });
            }
            // As `doorstep batch merge`: the report's counts brought up to date (not
            // after a cancel). Only derived: reports count every response without them.
            if !reporter.is_cancelled() {
                reporter.progress(0, None, "counting the store for reports".to_owned());
                if let Err(e) = crate::pack::keep_counts(&store, &registry) {
                    tracing::warn!("the report's counts could not be kept: {e}");
                }
            }
            Ok(out)
        })?;
        self.stage = Stage::Merging(job);
        Ok(Transition::Stay)
    }

    /// Reads the unresolved conflicts of both kinds again.
    fn reload_conflicts(&mut self, ctx: &Context) -> Result<(), Error> {
        self.conflicts = ctx.store.unresolved_conflicts()?;
        self.action_conflicts = ctx.store.unresolved_action_conflicts()?;
        Ok(())
    }

    fn open_conflicts(&mut self, ctx: &Context) -> Result<Transition, Error> {
        self.reload_conflicts(ctx)?;
        self.conflict = 0;
        if self.listed() == 0 {
            return Ok(Transition::Flash(Flash::Ok(
                "No unresolved conflicts on this machine".into(),
            )));
        }
        self.stage = Stage::Conflicts;
        Ok(Transition::Stay)
    }

    /// Keeps the version shown as letter `c` of the open conflict (journaled).
    fn keep(&mut self, ctx: &Context, c: char) -> Result<Transition, Error> {
        if let Some(conflict) = self.selected_action() {
            let Some(index) = conflict.index_of(&c.to_string()) else {
                return Ok(no_version(c, conflict.versions.len()));
            };
            let id = conflict.id;
            ctx.store.resolve_action_conflict(id, index)?;
            return self.settled(ctx, "Action", id, index);
        }
        let Some(conflict) = self.conflicts.get(self.conflict) else {
            return Ok(Transition::Stay);
        };
        let Some(index) = conflict.index_of(&c.to_string()) else {
            return Ok(no_version(c, conflict.versions.len()));
        };
        let id = conflict.id;
        ctx.store.resolve_conflict(id, index)?;
        self.settled(ctx, "Response", id, index)
    }

    /// After a resolution: the list again (or the batches when none is left), and a flash.
    fn settled(
        &mut self,
        ctx: &Context,
        what: &str,
        id: uuid::Uuid,
        index: usize,
    ) -> Result<Transition, Error> {
        self.reload_conflicts(ctx)?;
        self.conflict = self.conflict.min(self.listed().saturating_sub(1));
        self.stage = if self.listed() == 0 {
            Stage::Checked
        } else {
            Stage::Conflicts
        };
        Ok(Transition::Flash(Flash::Ok(format!(
            "{what} {}: version {} kept (journaled); {} conflict(s) left",
            short_id(id),
            Conflict::letter(index),
            self.listed()
        ))))
    }

    /// Job `id` has finished: if it is this screen's, take its output. Returns whether it
    /// was.
    pub fn job_finished(&mut self, ctx: &mut Context, id: JobId) -> bool {
        if self.job() != Some(id) {
            return false;
        }
        let Some(outcome) = ctx.jobs.take_finished(id) else {
            return false;
        };
        match (&self.stage, outcome) {
            (Stage::Verifying(_), Ok(output)) => {
                self.checked = output.downcast::<Vec<Checked>>().unwrap_or_default();
                self.selected = 0;
                self.stage = Stage::Checked;
            }
            (Stage::Merging(_), Ok(output)) => {
                let merged = output.downcast::<Vec<Merged>>().unwrap_or_default();
                // What was merged is merged now: the list says so, and what the merge did,
                // when a file is selected (the summary under it names only the files that
                // need a look).
                for c in &mut self.checked {
                    if let Some(Ok(text)) =
                        merged.iter().find(|m| m.file == c.file).map(|m| &m.result)
                    {
                        c.to_merge = false;
                        c.verdict = Ok(format!("merged: {text}"));
                    }
                }
                self.stage = Stage::Merged(merged);
            }
            (_, Err(e)) => {
                // The job failed as a whole (the store, not a batch): back to the list.
                self.stage = Stage::Checked;
                self.checked.push(Checked {
                    path: self.folder.clone(),
                    file: self.folder.display().to_string(),
                    device: String::new(),
                    officer: String::new(),
                    counts: String::new(),
                    verdict: Err(e),
                    to_merge: false,
                });
            }
            _ => {}
        }
        true
    }

    pub fn render(&self, ctx: &Context, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::default().borders(Borders::ALL).title(Line::styled(
            " Coordinator: verify and merge batches ",
            theme.title,
        ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        match &self.stage {
            Stage::Folder(field) => render_field(
                frame,
                inner,
                "The folder holding the laptops' batch files (a USB stick, say):",
                field,
                theme,
            ),
            Stage::Identity(field) => render_field(
                frame,
                inner,
                "The coordinator identity file (from `doorstep keys new`) to open encrypted batches; Enter alone for none:",
                field,
                theme,
            ),
            Stage::Verifying(job) => render_progress(ctx, frame, inner, *job, "Verifying", theme),
            Stage::Merging(job) => render_progress(ctx, frame, inner, *job, "Merging", theme),
            Stage::Checked => self.render_checked(frame, inner, None, theme),
            Stage::Merged(m) => self.render_checked(frame, inner, Some(m), theme),
            Stage::Conflicts => self.render_conflicts(frame, inner, theme),
            Stage::Conflict => {
                if let Some(c) = self.conflicts.get(self.conflict) {
                    render_conflict(ctx, frame, inner, c, theme);
                } else if let Some(c) = self.selected_action() {
                    render_action_conflict(ctx, frame, inner, c, theme);
                }
            }
        }
    }

    fn render_checked(
        &self,
        frame: &mut Frame,
        area: Rect,
        merged: Option<&[Merged]>,
        theme: &Theme,
    ) {
        let good = self.checked.iter().filter(|c| c.to_merge).count();
        let refused = self.checked.iter().filter(|c| c.verdict.is_err()).count();
        let head = Line::styled(
            format!(
                "{}: {} batch file(s), {good} to merge, {refused} refused",
                self.folder.display(),
                self.checked.len()
            ),
            theme.title,
        );
        let summary = merged.map(|m| merged_summary(m, theme)).unwrap_or_default();
        let merged_height = summary.len() as u16;
        let [head_area, list_area, detail_area, merged_area] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(3),
            Constraint::Length(merged_height),
        ])
        .areas(area);
        frame.render_widget(Paragraph::new(head), head_area);
        let rows: Vec<Row> = self
            .checked
            .iter()
            .map(|c| {
                Row::new([
                    match &c.verdict {
                        Ok(_) => "✓".to_owned(),
                        Err(_) => "✗".to_owned(),
                    },
                    c.file.clone(),
                    c.device.clone(),
                    c.officer.clone(),
                    c.counts.clone(),
                ])
            })
            .collect();
        let table = SelectableList::new(
            rows,
            // The counts get the most room: "125 resp, 240 doors, 273 knocks" whole at
            // 80 columns beside a laptop's file name.
            [
                Constraint::Length(1),
                Constraint::Fill(2),
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Fill(3),
            ],
            theme,
        );
        frame.render_stateful_widget(table, list_area, &mut list::state(Some(self.selected)));
        // The selected file's verdict in full: a refusal is a sentence, too long for a row.
        if let Some(c) = self.checked.get(self.selected) {
            let line = match &c.verdict {
                Ok(m) => Line::styled(format!("✓ {}: {m}", c.file), theme.ok),
                Err(m) => Line::styled(format!("✗ {}: {m}", c.file), theme.error),
            };
            frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), detail_area);
        }
        frame.render_widget(Paragraph::new(summary), merged_area);
    }

    fn render_conflicts(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let [head, list_area] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
        // Two lines, wrapped: at 80 columns the sentence does not fit on one.
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    "{} unresolved conflict(s): a response or action with different content. Enter shows one side by side.",
                    self.listed()
                ),
                theme.title,
            ))
            .wrap(Wrap { trim: true }),
            head,
        );
        let mut rows: Vec<Row> = self
            .conflicts
            .iter()
            .map(|c| {
                let first = c.versions.first().map(|v| &v.response);
                Row::new([
                    short_id(c.id),
                    first.map(|r| r.survey_id.clone()).unwrap_or_default(),
                    first.map(|r| r.area.clone()).unwrap_or_default(),
                    format!("{} versions", c.versions.len()),
                    format!(
                        "active {}{}",
                        Conflict::letter(c.active_index()),
                        if c.revisions { " (revisions)" } else { "" }
                    ),
                ])
            })
            .collect();
        rows.extend(self.action_conflicts.iter().map(|c| {
            let first = c.versions.first().map(|v| &v.action);
            Row::new([
                short_id(c.id),
                "action".to_owned(),
                first.map(|a| a.priority.area.clone()).unwrap_or_default(),
                format!("{} versions", c.versions.len()),
                format!(
                    "active {}: {}",
                    Conflict::letter(c.active),
                    first.map(|a| a.action.clone()).unwrap_or_default()
                ),
            ])
        }));
        let table = SelectableList::new(
            rows,
            [
                Constraint::Length(8),
                Constraint::Length(10),
                Constraint::Length(10),
                Constraint::Length(10),
                Constraint::Fill(1),
            ],
            theme,
        );
        frame.render_stateful_widget(table, list_area, &mut list::state(Some(self.conflict)));
    }
}

fn field_event(e: FieldEvent) -> Transition {
    match e {
        FieldEvent::Invalid(m) => Transition::Flash(Flash::Error(m)),
        _ => Transition::Stay,
    }
}

fn home(ctx: &Context) -> Result<Transition, Error> {
    Ok(Transition::Go(
        Screen::Home(super::home::Home::new(ctx)?),
        None,
    ))
}

fn read_identity(path: &Path) -> Result<CoordinatorIdentity, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot be read: {e}", path.display()))?;
    CoordinatorIdentity::from_file_text(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn render_field(frame: &mut Frame, area: Rect, label: &str, field: &TextField, theme: &Theme) {
    let [label_area, input] =
        Layout::vertical([Constraint::Length(2), Constraint::Length(3)]).areas(area);
    frame.render_widget(
        Paragraph::new(Line::styled(label.to_owned(), theme.title)).wrap(Wrap { trim: true }),
        label_area,
    );
    field.render(frame, input, theme);
}

fn render_progress(
    ctx: &Context,
    frame: &mut Frame,
    area: Rect,
    job: JobId,
    verb: &str,
    theme: &Theme,
) {
    let progress = match ctx.jobs.status(job).map(|s| &s.state) {
        Some(JobState::Running(Some(p))) => Some(p.clone()),
        _ => None,
    };
    let [label, gauge_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let what = progress.as_ref().map_or("starting", |p| p.what.as_str());
    frame.render_widget(
        Paragraph::new(Line::styled(format!("{verb}: {what}"), theme.title)),
        label,
    );
    let (done, total) = progress
        .as_ref()
        .map_or((0, 0), |p| (p.done, p.total.unwrap_or(0)));
    let ratio = if total == 0 {
        0.0
    } else {
        (done as f64 / total as f64).clamp(0.0, 1.0)
    };
    frame.render_widget(
        Gauge::default()
            .gauge_style(theme.highlight)
            .ratio(ratio)
            .label(format!("{done} of {total} records")),
        gauge_area,
    );
}

/// A conflict's versions in columns, one line per answer; answers that differ are marked ≠.
fn render_conflict(ctx: &Context, frame: &mut Frame, area: Rect, c: &Conflict, theme: &Theme) {
    let [head, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    let letters: Vec<String> = (0..c.versions.len()).map(Conflict::letter).collect();
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!(
                "{} {}: {} versions, active {}. Press {} to keep that version (journaled); ≠ marks answers that differ.",
                if c.revisions { "Revisions of response" } else { "Response" },
                short_id(c.id),
                c.versions.len(),
                Conflict::letter(c.active_index()),
                letters.join(", ").to_lowercase()
            ),
            theme.title,
        ))
        .wrap(Wrap { trim: true }),
        head,
    );
    let shown = c.versions.len().min(3);
    let columns = Layout::horizontal(vec![Constraint::Fill(1); shown]).split(body);
    let ids: BTreeSet<&String> = c
        .versions
        .iter()
        .flat_map(|v| v.response.answers.keys())
        .collect();
    for (i, (v, column)) in c.versions.iter().zip(columns.iter()).enumerate() {
        // A side of a conflict of revisions may have been revised since: its last
        // revision is what counts when it is kept.
        let mut label = Conflict::letter(i);
        if i == c.active_index() {
            label.push_str(" (active)");
        } else if v.later.is_empty() {
            // As before: the letter and a space.
            label.push(' ');
        }
        if let Some(last) = v.later.last() {
            label.push_str(&format!(", revised since (last {})", short_id(last.id)));
        }
        let mut lines = vec![Line::styled(label, theme.title)];
        // Who, where and when first, then every answer; each line marked where the
        // versions differ.
        let facts = |r: &Response| -> Vec<(&'static str, String)> {
            vec![
                ("officer", r.interviewer.clone()),
                ("device", r.device.clone()),
                ("area", r.area.clone()),
                (
                    "finalized",
                    r.finalized_at
                        .map(|t| ctx.env().local(t).format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_else(|| "-".into()),
                ),
            ]
        };
        let mine = facts(&v.response);
        for (n, (name, value)) in mine.iter().enumerate() {
            let differs = c
                .versions
                .iter()
                .any(|o| facts(&o.response).get(n).map(|f| &f.1) != Some(value));
            lines.push(marked(differs, &format!("{name}: {value}"), theme));
        }
        let r = &v.response;
        for id in &ids {
            let value = answer_text(r, id);
            let differs = c
                .versions
                .iter()
                .any(|o| answer_text(&o.response, id) != value);
            lines.push(marked(differs, &format!("{id}: {value}"), theme));
        }
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::LEFT)),
            *column,
        );
    }
}

/// An action conflict's versions in columns: who sent each, its status, then each change
/// from where the versions part (as `doorstep batch conflicts` shows them).
fn render_action_conflict(
    ctx: &Context,
    frame: &mut Frame,
    area: Rect,
    c: &ActionConflict,
    theme: &Theme,
) {
    let [head, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    let letters: Vec<String> = (0..c.versions.len()).map(Conflict::letter).collect();
    let what = c
        .versions
        .first()
        .map(|v| v.action.action.clone())
        .unwrap_or_default();
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!(
                "Action {} ({what}): {} versions, active {}. Press {} to keep that version (journaled).",
                short_id(c.id),
                c.versions.len(),
                Conflict::letter(c.active),
                letters.join(", ").to_lowercase()
            ),
            theme.title,
        ))
        .wrap(Wrap { trim: true }),
        head,
    );
    let shown = c.versions.len().min(3);
    let columns = Layout::horizontal(vec![Constraint::Fill(1); shown]).split(body);
    let shared = c.shared_changes();
    for (i, (v, column)) in c.versions.iter().zip(columns.iter()).enumerate() {
        let mut lines = vec![Line::styled(
            format!(
                "{} {}",
                Conflict::letter(i),
                if i == c.active { "(active)" } else { "" }
            ),
            theme.title,
        )];
        let devices: BTreeSet<&str> = v.sources.iter().map(|s| s.device.as_str()).collect();
        let sent = if devices.is_empty() {
            "this machine".to_owned()
        } else {
            devices.into_iter().collect::<Vec<_>>().join(", ")
        };
        lines.push(Line::from(format!("  sent by: {sent}")));
        let status = v.action.status.to_string();
        let differs = c
            .versions
            .iter()
            .any(|o| o.action.status.to_string() != status);
        lines.push(marked(differs, &format!("status: {status}"), theme));
        lines.push(Line::from(format!(
            "  changes: {} ({shared} shared)",
            v.action.history.len()
        )));
        for (n, change) in v.action.history.iter().enumerate().skip(shared) {
            let when = ctx.env().local(change.at).format("%Y-%m-%d %H:%M");
            lines.push(Line::styled(
                format!("≠ {}. {when} {}", n + 1, change.by),
                theme.notice,
            ));
            lines.push(Line::from(format!("    {}", change.describe())));
        }
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::LEFT)),
            *column,
        );
    }
}

/// The flash for a letter that names no version of a conflict with `count` of them.
fn no_version(c: char, count: usize) -> Transition {
    Transition::Flash(Flash::Error(format!(
        "There is no version {}: this conflict has {count} (A to {})",
        c.to_ascii_uppercase(),
        Conflict::letter(count.saturating_sub(1))
    )))
}

/// A line of a conflict's column, marked ≠ (and in the notice style) where versions differ.
fn marked(differs: bool, text: &str, theme: &Theme) -> Line<'static> {
    if differs {
        Line::styled(format!("≠ {text}"), theme.notice)
    } else {
        Line::from(format!("  {text}"))
    }
}

fn answer_text(r: &Response, id: &str) -> String {
    match r.answers.get(id).map(|a| &a.value) {
        Some(StoredAnswer::Plain(a)) => a.to_string(),
        Some(StoredAnswer::Sealed(_)) => "sealed".into(),
        None => "-".into(),
    }
}

fn short_id(id: uuid::Uuid) -> String {
    id.to_string().chars().take(8).collect()
}

fn describe_check(check: crate::store::merge::FileCheck) -> Checked {
    let file = check.path.file_name().map_or_else(
        || check.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let from = |m: &crate::batch::Manifest| {
        (
            m.device.clone(),
            m.officer.clone().unwrap_or_else(|| "-".into()),
            format!(
                "{} resp, {} doors, {} knocks",
                m.counts.responses + m.counts.revisions,
                m.counts.doors,
                m.counts.knocks
            ),
        )
    };
    match check.result {
        Ok(v) => {
            let (device, officer, counts) = from(&v.manifest);
            let mut verdict = if v.already_merged {
                "verified; merged here before (merging it again changes nothing)".to_owned()
            } else {
                match v.pin {
                    PinCheck::FirstUse => {
                        format!("verified; first batch seen from {device}: merging pins its key")
                    }
                    PinCheck::Pinned { .. } => "verified; device key as pinned".to_owned(),
                }
            };
            // The row has no room for them; the selected file's line does.
            verdict.push_str(&door_changes(&v.manifest.counts));
            Checked {
                path: check.path,
                file,
                device,
                officer,
                counts,
                verdict: Ok(verdict),
                to_merge: !v.already_merged,
            }
        }
        Err(refusal) => {
            let (device, officer, counts) = refusal
                .manifest
                .as_ref()
                .map(from)
                .unwrap_or_else(|| ("?".into(), "?".into(), String::new()));
            Checked {
                path: check.path,
                file,
                device,
                officer,
                counts,
                verdict: Err(refusal.reason()),
                to_merge: false,
            }
        }
    }
}

/// "; also 1 door correction, 2 door removals" for a batch that carries any.
fn door_changes(c: &crate::batch::Counts) -> String {
    let plural = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let parts: Vec<String> = [
        (c.door_edits, "door correction"),
        (c.door_removals, "door removal"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| plural(n, what))
    .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("; also {}", parts.join(", "))
    }
}

/// The lines under the file list after a merge: how many files merged and what they did
/// in all, then the files that need a look (a conflict, a rejected record, a failure), at
/// most [`MERGED_NAMED`] of them, so the list keeps its room whatever the number of files.
fn merged_summary(merged: &[Merged], theme: &Theme) -> Vec<Line<'static>> {
    let failed = merged.iter().filter(|m| m.result.is_err()).count();
    let mut all = MergeCounts::default();
    for c in merged.iter().filter_map(|m| m.counts) {
        all.new += c.new;
        all.duplicate += c.duplicate;
        all.superseded += c.superseded;
        all.conflict += c.conflict;
        all.rejected += c.rejected;
    }
    let mut head = format!(
        "Merged {} of {} file(s)",
        merged.len() - failed,
        merged.len()
    );
    if failed > 0 {
        head.push_str(&format!(", {failed} failed"));
    }
    let mut lines = vec![
        Line::styled(format!("{head}:"), theme.title),
        Line::from(format!("{} in all", counts_text(&all))),
    ];
    let look: Vec<&Merged> = merged
        .iter()
        .filter(|m| m.result.is_err() || m.counts.is_some_and(|c| c.conflict > 0 || c.rejected > 0))
        .collect();
    lines.extend(look.iter().take(MERGED_NAMED).map(|m| match &m.result {
        Ok(t) => Line::from(format!("✓ {}: {t}", m.file)),
        Err(e) => Line::styled(format!("✗ {}: {e}", m.file), theme.error),
    }));
    if look.len() > MERGED_NAMED {
        lines.push(Line::from(format!(
            "… and {} more with a conflict, a rejection or a failure: select each above",
            look.len() - MERGED_NAMED
        )));
    }
    lines
}

fn counts_text(o: &MergeCounts) -> String {
    format!(
        "{} new, {} duplicate, {} superseded, {} conflict, {} rejected",
        o.new, o.duplicate, o.superseded, o.conflict, o.rejected
    )
}

fn describe_merge(r: &MergeResult) -> String {
    match r {
        MergeResult::Merged { batch, rejections } => {
            let mut text = counts_text(&batch.outcome);
            if let Some(first) = rejections.first() {
                text.push_str(&format!(" (record {}: {})", first.record, first.reason));
            }
            text
        }
        MergeResult::AlreadyMerged(_) => "merged before: nothing changed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(file: &str, counts: Option<MergeCounts>, failed: bool) -> Merged {
        Merged {
            file: file.into(),
            result: match (failed, counts) {
                (true, _) => Err("the batch is truncated".into()),
                (false, Some(c)) => Ok(counts_text(&c)),
                (false, None) => Ok("merged before: nothing changed".into()),
            },
            counts,
        }
    }

    #[test]
    fn the_summary_after_a_merge_names_only_the_files_that_need_a_look() {
        let plain = MergeCounts {
            new: 10,
            duplicate: 1,
            ..MergeCounts::default()
        };
        let conflict = MergeCounts {
            new: 5,
            conflict: 1,
            ..MergeCounts::default()
        };
        let rejected = MergeCounts {
            new: 2,
            rejected: 3,
            ..MergeCounts::default()
        };
        let mut files = vec![
            merged("a.batch", Some(plain), false),
            merged("b.batch", Some(conflict), false),
            merged("c.batch", None, false),
            merged("d.batch", None, true),
            merged("e.batch", Some(rejected), false),
        ];
        let text = |files: &[Merged]| -> Vec<String> {
            merged_summary(files, &Theme::monochrome())
                .iter()
                .map(|l| l.to_string())
                .collect()
        };
        assert_eq!(
            text(&files),
            [
                "Merged 4 of 5 file(s), 1 failed:",
                "17 new, 1 duplicate, 0 superseded, 1 conflict, 3 rejected in all",
                "✓ b.batch: 5 new, 0 duplicate, 0 superseded, 1 conflict, 0 rejected",
                "✗ d.batch: the batch is truncated",
                "✓ e.batch: 2 new, 0 duplicate, 0 superseded, 0 conflict, 3 rejected",
            ]
        );
        // However many files need a look, the summary keeps to its few lines.
        for n in 0..40 {
            files.push(merged(&format!("x{n}.batch"), Some(conflict), false));
        }
        let lines = text(&files);
        assert_eq!(lines.len(), 2 + MERGED_NAMED + 1);
        assert_eq!(
            lines.last().unwrap(),
            "… and 39 more with a conflict, a rejection or a failure: select each above"
        );
    }
}
