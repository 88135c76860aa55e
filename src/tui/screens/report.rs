//! The coordinator's report screen: choose the period and the area, read the area's pack
//! (fieldwork, the issues with their intervals drawn, the indicators, the proposed top
//! three), and export it in any format to a folder. The pack is gathered, built and written
//! by the same [`crate::pack`] code as `doorstep report`, so the screen and the files agree.

use std::path::PathBuf;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Wrap};

use super::{Screen, Transition};
use crate::Error;
use crate::geography::Geography;
use crate::pack::{self, PackFormat, Sources};
use crate::report::fold::Counts;
use crate::report::{AreaLevel, AreaReport, AreaSpec, Figure, Report, build};
use crate::response::Period;
use crate::tui::action::Action;
use crate::tui::app::{Context, Flash};
use crate::tui::fields::{FieldEvent, TextField, TextKind};
use crate::tui::jobs::JobId;
use crate::tui::keys::Mode;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::{self, SelectableList};

/// The levels offered, in the order Tab moves through them.
const LEVELS: [AreaLevel; 3] = [AreaLevel::Township, AreaLevel::Ward, AreaLevel::Paa];

enum Stage {
    /// Choosing the period, level and area.
    Choose,
    /// Reading one area's pack.
    Pack,
    /// Typing the folder to export the pack to.
    Folder(TextField),
}

pub struct ReportScreen {
    stage: Stage,
    /// Folded for the area shown, from `counts`.
    sources: Sources,
    period: Period,
    /// The period's counts per area code ([`pack::period_counts`]), read in the
    /// background: none while they are being read, or if they could not be.
    counts: Option<Counts>,
    /// The job reading `counts`.
    counting: Option<JobId>,
    /// Jobs that were reading a period no longer shown: what they read is dropped.
    dropped: Vec<JobId>,
    /// Why the period's counts could not be read.
    unread: Option<String>,
    /// A period being typed over the one shown (Enter sets it).
    typed: Option<String>,
    level: AreaLevel,
    areas: Vec<AreaSpec>,
    selected: usize,
    /// Of `areas`, the codes with fieldwork in the period.
    worked: Vec<String>,
    internal: bool,
    format: PackFormat,
    report: Option<Report>,
    /// The first pack line shown.
    scroll: usize,
    /// The export job running, and the file it writes.
    job: Option<(JobId, PathBuf)>,
    /// What the last export came to.
    exported: Option<Result<String, String>>,
}

impl ReportScreen {
    /// Opens on the current fieldwork quarter, ward level, and starts counting it.
    pub fn new(ctx: &mut Context) -> Result<ReportScreen, Error> {
        let geography = ctx.store.stored_geography()?.or_builtin()?;
        let period = Period::of_fieldwork(ctx.now());
        let sources = Sources::from_counts(
            &ctx.store,
            &ctx.registry,
            geography,
            &Counts::new(),
            period,
            &[],
        )?;
        let mut s = ReportScreen {
            stage: Stage::Choose,
            sources,
            period,
            counts: None,
            counting: None,
            dropped: Vec::new(),
            unread: None,
            typed: None,
            level: AreaLevel::Ward,
            areas: Vec::new(),
            selected: 0,
            worked: Vec::new(),
            internal: false,
            format: PackFormat::Md,
            report: None,
            scroll: 0,
            job: None,
            exported: None,
        };
        s.list_areas()?;
        s.count(ctx)?;
        Ok(s)
    }

    /// Whether the period's counts are still being read.
    pub fn counting(&self) -> bool {
        self.counting.is_some()
    }

    /// Starts reading the counts of the period shown, in the background: a
    /// coordinator's store of a whole force is counted from every response when the
    /// counts its last merge kept are out of date, which takes a while.
    fn count(&mut self, ctx: &mut Context) -> Result<(), Error> {
        self.stop_counting(ctx);
        self.counts = None;
        self.unread = None;
        self.worked.clear();
        let store = std::sync::Arc::clone(&ctx.store);
        let registry = ctx.registry.clone();
        let period = self.period;
        let job = ctx
            .jobs
            .spawn(format!("counting {period}"), move |reporter| {
                reporter.progress(0, None, format!("counting the fieldwork of {period}"));
                pack::period_counts(&store, &registry, period, &|| reporter.is_cancelled())
            })?;
        self.counting = Some(job);
        Ok(())
    }

    /// Stops the count running, if any: its counts are no longer wanted.
    fn stop_counting(&mut self, ctx: &Context) {
        if let Some(id) = self.counting.take() {
            ctx.jobs.cancel(id);
            self.dropped.push(id);
        }
    }

    /// Another period is shown: its areas, and its counts read.
    fn period_set(&mut self, ctx: &mut Context, period: Period) -> Result<(), Error> {
        self.period = period;
        self.list_areas()?;
        self.count(ctx)
    }

    pub fn mode(&self) -> Mode {
        match self.stage {
            Stage::Choose => Mode::ReportChoose,
            Stage::Pack => Mode::Report,
            Stage::Folder(_) => Mode::Form,
        }
    }

    pub fn period(&self) -> Period {
        self.period
    }

    /// The areas offered at the level chosen, in list order.
    pub fn areas(&self) -> &[AreaSpec] {
        &self.areas
    }

    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    /// What the last export came to: the file written, or why not.
    pub fn exported(&self) -> Option<&Result<String, String>> {
        self.exported.as_ref()
    }

    /// The export job, while it runs.
    pub fn job(&self) -> Option<JobId> {
        self.job.as_ref().map(|(id, _)| *id)
    }

    pub fn paste(&mut self, text: &str) {
        if let Stage::Folder(field) = &mut self.stage {
            field.paste(text);
        }
    }

    fn list_areas(&mut self) -> Result<(), Error> {
        let (_, areas) = pack::areas(&self.sources.geography, None, Some(self.level))?;
        self.worked = match &self.counts {
            Some(counts) => {
                self.sources.refold(counts, self.period, &[]);
                self.sources
                    .worked(self.period, areas.clone())
                    .into_iter()
                    .map(|a| a.code)
                    .collect()
            }
            None => Vec::new(),
        };
        self.areas = areas;
        self.selected = self.selected.min(self.areas.len().saturating_sub(1));
        Ok(())
    }

    fn build(&mut self, ctx: &Context) {
        let (Some(spec), Some(counts)) = (self.areas.get(self.selected).cloned(), &self.counts)
        else {
            self.report = None;
            return;
        };
        self.sources
            .refold(counts, self.period, std::slice::from_ref(&spec));
        let input = self.sources.input(
            &ctx.registry,
            self.period,
            Some(self.period.previous()),
            self.level,
            vec![spec],
            self.internal,
            None,
        );
        self.report = Some(build(&input));
    }

    pub fn update(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        match &mut self.stage {
            Stage::Choose => self.update_choose(ctx, action),
            Stage::Pack => self.update_pack(ctx, action),
            Stage::Folder(field) => {
                match action {
                    Action::Leave => {
                        self.stage = Stage::Pack;
                        return Ok(Transition::Stay);
                    }
                    Action::Confirm => {
                        let typed = field.value().to_owned();
                        return self.start_export(ctx, &typed);
                    }
                    _ => {}
                }
                match field.handle(action) {
                    FieldEvent::Submit(answer) => self.start_export(ctx, &answer.to_string()),
                    FieldEvent::Invalid(m) => Ok(Transition::Flash(Flash::Error(m))),
                    FieldEvent::None | FieldEvent::Back => Ok(Transition::Stay),
                }
            }
        }
    }

    fn update_choose(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        if let Some(typed) = &mut self.typed {
            match action {
                Action::Char(c) if c.is_ascii_alphanumeric() || c == '-' => {
                    typed.push(c.to_ascii_uppercase());
                    return Ok(Transition::Stay);
                }
                Action::Backspace => {
                    typed.pop();
                    if typed.is_empty() {
                        self.typed = None;
                    }
                    return Ok(Transition::Stay);
                }
                Action::Leave => {
                    self.typed = None;
                    return Ok(Transition::Stay);
                }
                Action::Confirm => {
                    let text = typed.clone();
                    return match text.parse::<Period>() {
                        Ok(p) => {
                            self.typed = None;
                            self.period_set(ctx, p)?;
                            Ok(Transition::Flash(Flash::Ok(format!("Period set to {p}"))))
                        }
                        Err(e) => Ok(Transition::Flash(Flash::Error(format!(
                            "{text} is not a period: {e}"
                        )))),
                    };
                }
                _ => {}
            }
        }
        match action {
            Action::Leave => {
                self.stop_counting(ctx);
                return home(ctx);
            }
            Action::PeriodPrev => self.period_set(ctx, self.period.previous())?,
            Action::PeriodNext => self.period_set(ctx, next(self.period))?,
            Action::NextLevel => {
                let i = LEVELS.iter().position(|l| *l == self.level).unwrap_or(0);
                self.level = LEVELS[(i + 1) % LEVELS.len()];
                self.selected = 0;
                self.list_areas()?;
            }
            Action::Char(c) if c.is_ascii_digit() => self.typed = Some(c.to_string()),
            Action::Confirm if self.areas.is_empty() => {
                return Ok(Transition::Flash(Flash::Notice(format!(
                    "No {} areas in the geography: press Tab for another level",
                    self.level
                ))));
            }
            Action::Confirm if self.counting.is_some() => {
                return Ok(Transition::Flash(Flash::Notice(format!(
                    "Still counting the fieldwork of {}: a moment",
                    self.period
                ))));
            }
            Action::Confirm if self.counts.is_none() => {
                return Ok(Transition::Flash(Flash::Error(format!(
                    "{}: choose the period again to retry",
                    self.unread
                        .as_deref()
                        .unwrap_or("The period could not be counted")
                ))));
            }
            Action::Confirm => {
                self.build(ctx);
                self.scroll = 0;
                self.stage = Stage::Pack;
            }
            other => {
                if let Some(s) = list::moved(self.selected, self.areas.len(), other) {
                    self.selected = s;
                }
            }
        }
        Ok(Transition::Stay)
    }

    fn update_pack(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        match action {
            Action::Leave => {
                self.stage = Stage::Choose;
                self.report = None;
            }
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::Down => self.scroll += 1,
            Action::PageUp => self.scroll = self.scroll.saturating_sub(10),
            Action::PageDown => self.scroll += 10,
            Action::CursorHome => self.scroll = 0,
            Action::ToggleInternal => {
                self.internal = !self.internal;
                self.build(ctx);
                return Ok(Transition::Flash(Flash::Notice(if self.internal {
                    "Internal view: nothing suppressed, NOT FOR PUBLICATION".into()
                } else {
                    "Public view: small numbers suppressed".into()
                })));
            }
            Action::NextFormat => {
                let i = PackFormat::ALL
                    .iter()
                    .position(|f| *f == self.format)
                    .unwrap_or(0);
                self.format = PackFormat::ALL[(i + 1) % PackFormat::ALL.len()];
            }
            Action::ExportPack if self.job.is_some() => {
                return Ok(Transition::Flash(Flash::Notice(
                    "An export is still being written: wait for it to finish".into(),
                )));
            }
            Action::ExportPack => {
                self.stage = Stage::Folder(TextField::new(TextKind::Text { long: false }, None));
            }
            _ => {}
        }
        Ok(Transition::Stay)
    }

    fn start_export(&mut self, ctx: &mut Context, typed: &str) -> Result<Transition, Error> {
        let folder = PathBuf::from(typed.trim());
        if typed.trim().is_empty() {
            return Ok(Transition::Flash(Flash::Error(
                "Type the folder to write the pack to".into(),
            )));
        }
        if !folder.is_dir() {
            return Ok(Transition::Flash(Flash::Error(format!(
                "{} is not a folder on this laptop: type a folder that exists",
                folder.display()
            ))));
        }
        let Some(report) = self.report.clone() else {
            return Ok(Transition::Flash(Flash::Error("No pack to export".into())));
        };
        let file = folder.join(file_name(&report, self.format));
        let target = file.clone();
        let format = self.format;
        let geography: Geography = self.sources.geography.clone();
        let job = ctx.jobs.spawn("report export", move |reporter| {
            reporter.progress(0, None, "writing the pack");
            let bytes = pack::render(&report, format, &geography)?;
            std::fs::write(&target, bytes).map_err(|e| Error::io(&target, e))?;
            Ok(target)
        })?;
        self.job = Some((job, file));
        self.exported = None;
        self.stage = Stage::Pack;
        Ok(Transition::Stay)
    }

    /// A job `id` has finished: if it is this screen's, take what it came to (the
    /// period's counts, or the export's file).
    pub fn job_finished(&mut self, ctx: &mut Context, id: JobId) -> bool {
        if let Some(at) = self.dropped.iter().position(|d| *d == id) {
            self.dropped.swap_remove(at);
            ctx.jobs.take_finished(id);
            return true;
        }
        if self.counting == Some(id) {
            return self.counted(ctx, id);
        }
        if self.job() != Some(id) {
            return false;
        }
        let outcome = match ctx.jobs.take_finished(id) {
            Some(Ok(output)) => match output.downcast::<PathBuf>() {
                Ok(path) => Ok(format!("Pack written to {}", path.display())),
                Err(_) => Err("the export job sent no result".to_owned()),
            },
            Some(Err(e)) => Err(format!("the export stopped, nothing usable written: {e}")),
            None => return false,
        };
        self.job = None;
        self.exported = Some(outcome);
        true
    }

    /// The counting job `id` has finished: the period's areas with fieldwork.
    fn counted(&mut self, ctx: &mut Context, id: JobId) -> bool {
        let outcome = match ctx.jobs.take_finished(id) {
            Some(Ok(output)) => match output.downcast::<Option<Counts>>() {
                Ok(Some(counts)) => Ok(counts),
                Ok(None) => Err("the count was stopped".to_owned()),
                Err(_) => Err("the counting job sent no counts".to_owned()),
            },
            Some(Err(e)) => Err(e),
            None => return false,
        };
        self.counting = None;
        match outcome {
            Ok(counts) => {
                self.counts = Some(counts);
                if let Err(e) = self.list_areas() {
                    self.unread = Some(e.to_string());
                    self.counts = None;
                }
            }
            Err(e) => {
                self.unread = Some(format!(
                    "The fieldwork of {} could not be counted: {e}",
                    self.period
                ))
            }
        }
        true
    }

    pub fn render(&self, _ctx: &Context, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::default().borders(Borders::ALL).title(Line::styled(
            " Report: the priority-setting pack ",
            theme.title,
        ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        match &self.stage {
            Stage::Choose => self.render_choose(frame, inner, theme),
            Stage::Pack => self.render_pack(frame, inner, theme),
            Stage::Folder(field) => {
                let [about, label, input] = Layout::vertical([
                    Constraint::Length(2),
                    Constraint::Length(1),
                    Constraint::Length(3),
                ])
                .areas(inner);
                frame.render_widget(
                    Paragraph::new(format!(
                        "Export the {} pack as {} ({}).",
                        if self.internal { "INTERNAL" } else { "public" },
                        self.format.extension(),
                        "f on the pack changes the format"
                    ))
                    .wrap(Wrap { trim: true }),
                    about,
                );
                frame.render_widget(
                    Paragraph::new(Line::styled(
                        "The folder to write to (Enter writes, Esc goes back):",
                        theme.title,
                    )),
                    label,
                );
                field.render(frame, input, theme);
            }
        }
    }

    fn render_choose(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let [head, body] =
            Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(area);
        let period = match &self.typed {
            Some(t) => Line::styled(
                format!(
                    "Period: {t}_  (typing: Enter sets it, Esc keeps {})",
                    self.period
                ),
                theme.notice,
            ),
            None => Line::from(format!(
                "Period: ◀ {} ▶  (←/→ or type e.g. 2026-Q3; compared with {})",
                self.period,
                self.period.previous()
            )),
        };
        let levels: Vec<String> = LEVELS
            .iter()
            .map(|l| {
                if *l == self.level {
                    format!("[{l}]")
                } else {
                    l.to_string()
                }
            })
            .collect();
        frame.render_widget(
            Paragraph::new(vec![
                period,
                Line::from(format!("Level: {}  (Tab changes)", levels.join(" "))),
                match (&self.counts, &self.unread) {
                    (Some(_), _) => Line::from(format!(
                        "Areas with fieldwork in {}: {} of {} (•)",
                        self.period,
                        self.worked.len(),
                        self.areas.len()
                    )),
                    (None, Some(why)) => Line::styled(format!("✗ {why}"), theme.error),
                    (None, None) => Line::styled(
                        format!("Counting the fieldwork of {}…", self.period),
                        theme.notice,
                    ),
                },
            ]),
            head,
        );
        if self.areas.is_empty() {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    format!("No {} areas in the geography.", self.level),
                    theme.notice,
                )),
                body,
            );
            return;
        }
        let rows: Vec<Row> = self
            .areas
            .iter()
            .map(|a| {
                let mark = if self.worked.contains(&a.code) {
                    "•"
                } else {
                    " "
                };
                Row::new(vec![
                    mark.to_owned(),
                    a.code.clone(),
                    a.name.clone(),
                    a.parent.clone().unwrap_or_default(),
                ])
            })
            .collect();
        let table = SelectableList::new(
            rows,
            [
                Constraint::Length(1),
                Constraint::Length(12),
                Constraint::Min(16),
                Constraint::Min(10),
            ],
            theme,
        );
        frame.render_stateful_widget(table, body, &mut list::state(Some(self.selected)));
    }

    fn render_pack(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let Some(report) = &self.report else {
            return;
        };
        let mut top: Vec<Line> = Vec::new();
        if !report.public {
            top.push(Line::styled(
                "▌NOT FOR PUBLICATION — internal view, nothing suppressed (i: public)",
                theme.error,
            ));
        }
        let export = match (&self.job, &self.exported) {
            (Some((_, file)), _) => {
                Line::styled(format!("Exporting to {} …", file.display()), theme.notice)
            }
            (None, Some(Ok(m))) => Line::styled(format!("✓ {m}"), theme.ok),
            (None, Some(Err(m))) => Line::styled(format!("✗ {m}"), theme.error),
            (None, None) => Line::from(format!(
                "Export format: {}  (f changes, x exports)",
                self.format.extension()
            )),
        };
        top.push(export);
        let [head, body] =
            Layout::vertical([Constraint::Length(top.len() as u16), Constraint::Min(0)])
                .areas(area);
        frame.render_widget(Paragraph::new(top), head);
        let lines = match report.areas.first() {
            Some(a) => pack_lines(report, a, body.width as usize, theme),
            None => vec![Line::from("No area in this pack.")],
        };
        let last = lines.len().saturating_sub(body.height as usize);
        let scroll = self.scroll.min(last);
        let shown: Vec<Line> = lines.into_iter().skip(scroll).collect();
        frame.render_widget(Paragraph::new(shown), body);
    }
}

fn home(ctx: &Context) -> Result<Transition, Error> {
    Ok(Transition::Go(
        Screen::Home(super::home::Home::new(ctx)?),
        None,
    ))
}

/// The quarter after `p`.
fn next(p: Period) -> Period {
    let (y, q) = if p.quarter() == 4 {
        (p.year() + 1, 1)
    } else {
        (p.year(), p.quarter() + 1)
    };
    Period::new(y, q).unwrap_or(p)
}

/// `pack-<area>-<period>.<ext>`, in characters every file system takes.
pub fn file_name(report: &Report, format: PackFormat) -> String {
    let area = report
        .areas
        .first()
        .map_or_else(|| "none".to_owned(), |a| a.code.clone());
    let safe: String = area
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let internal = if report.public { "" } else { "-internal" };
    format!(
        "pack-{safe}-{}{internal}.{}",
        report.period,
        format.extension()
    )
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// `text` cut to `width` characters, with … when cut.
fn fit(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        format!("{text:<width$}")
    } else if width == 0 {
        String::new()
    } else {
        let cut: String = text.chars().take(width - 1).collect();
        format!("{cut}…")
    }
}

/// A bar `width` cells long filled to `fraction`, in eighths of a cell.
pub fn bar(fraction: f64, width: usize) -> String {
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let eighths = (fraction.clamp(0.0, 1.0) * width as f64 * 8.0).round() as usize;
    let full = eighths / 8;
    let mut s = "█".repeat(full);
    s.push_str(PARTS[eighths % 8]);
    let used = full + usize::from(!eighths.is_multiple_of(8));
    s.push_str(&" ".repeat(width.saturating_sub(used)));
    s
}

/// The interval `low`–`high` on the same scale as [`bar`]: `├──┤`, or `│` when it fits in
/// one cell.
pub fn range(low: f64, high: f64, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    let cell = |x: f64| ((x.clamp(0.0, 1.0) * width as f64).floor() as usize).min(width - 1);
    let (a, b) = (cell(low), cell(high));
    (0..width)
        .map(|i| match i {
            _ if a == b && i == a => '│',
            _ if i == a => '├',
            _ if i == b => '┤',
            _ if i > a && i < b => '─',
            _ => ' ',
        })
        .collect()
}

fn figure_text(f: &Figure) -> String {
    match f.fraction {
        Some(x) => pct(x),
        None if f.suppressed => "hidden".to_owned(),
        None => "–".to_owned(),
    }
}

fn count_text(c: &crate::report::Count) -> String {
    match c.value {
        Some(n) => n.to_string(),
        None => "hidden".to_owned(),
    }
}

/// The pack of one area as screen lines, laid out for `width` columns.
pub fn pack_lines(
    report: &Report,
    a: &AreaReport,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut l: Vec<Line<'static>> = Vec::new();
    let parent = a
        .parent
        .as_ref()
        .map(|p| format!(" (in {p})"))
        .unwrap_or_default();
    l.push(Line::styled(
        format!("{} {} {}{parent}: {}", a.level, a.code, a.name, a.period),
        theme.title,
    ));
    if report.public {
        l.push(Line::from(
            "Public view: \"hidden\" or * = small numbers suppressed (i: internal view)",
        ));
    }
    let fw = &a.fieldwork;
    let rr = &fw.response_rate;
    let rate = match (rr.fraction, rr.low, rr.high) {
        (Some(x), Some(lo), Some(hi)) => format!("{} ({}–{})", pct(x), pct(lo), pct(hi)),
        _ => figure_text(rr),
    };
    l.push(Line::from(format!(
        "Fieldwork: doors knocked {}, answered {}, interviewed {}",
        count_text(&fw.doors_knocked),
        count_text(&fw.doors_answered),
        count_text(&fw.doors_interviewed),
    )));
    l.push(Line::from(format!(
        "Response rate {rate}; interviews {}, interviewers {}, EVA transects {}",
        count_text(&fw.interviews),
        fw.interviewers,
        fw.transects
    )));
    l.push(Line::from(""));

    // The issue table: label, count, share, the share as a bar, the interval as a range.
    let label_w = if width >= 100 { 28 } else { 18 };
    let bar_w = (width.saturating_sub(label_w + 34) / 2).clamp(4, 30);
    l.push(Line::styled(
        format!(
            "What people told us ({} interviews; bar = share, ├─┤ = 95% interval)",
            count_text(&a.issues.interviews)
        ),
        theme.title,
    ));
    l.push(Line::styled(
        format!(
            "{} {:>5} {:>6} {} {} {}",
            fit("Issue", label_w),
            "Named",
            "%",
            fit("0% … 100%", bar_w),
            fit("interval", bar_w),
            "95%"
        ),
        Style::default().add_modifier(ratatui::style::Modifier::BOLD),
    ));
    if a.issues.all.is_empty() {
        l.push(Line::from("No issues named."));
    }
    for r in &a.issues.all {
        let f = &r.named;
        let named = f.count.map_or_else(|| "*".to_owned(), |n| n.to_string());
        let (b, rg, iv) = match (f.fraction, f.low, f.high) {
            (Some(x), Some(lo), Some(hi)) => (
                bar(x, bar_w),
                range(lo, hi, bar_w),
                format!("{}–{}", pct(lo), pct(hi)),
            ),
            _ => (" ".repeat(bar_w), " ".repeat(bar_w), String::new()),
        };
        let low = if f.low_base && f.base.is_some_and(|b| b > 0) {
            " low base"
        } else {
            ""
        };
        l.push(Line::from(format!(
            "{} {:>5} {:>6} {b} {rg} {iv:<7}{low}",
            fit(&r.label, label_w),
            named,
            figure_text(f),
        )));
    }
    l.push(Line::from(""));

    l.push(Line::styled(
        format!(
            "Indicators (residents only: {})",
            count_text(&a.indicators.residents)
        ),
        theme.title,
    ));
    let ind_w = width.saturating_sub(36).max(12);
    for m in &a.indicators.measures {
        let f = &m.figure;
        let iv = match (f.low, f.high) {
            (Some(lo), Some(hi)) => format!("{}–{}", pct(lo), pct(hi)),
            _ => String::new(),
        };
        let base = f
            .base
            .map_or_else(|| "base hidden".to_owned(), |b| format!("base {b}"));
        let flag = if f.base == Some(0) {
            "no answers"
        } else if f.low_base && f.base.is_some() {
            "low base"
        } else {
            ""
        };
        l.push(Line::from(format!(
            "{} {:>6} {:>9} {:>8} {flag}",
            fit(&m.label, ind_w),
            figure_text(f),
            iv,
            base
        )));
    }
    l.push(Line::from(""));

    l.push(Line::styled("Proposed top three", theme.title));
    if a.top_three.is_empty() {
        l.push(Line::from("No issues named: nothing to propose."));
    }
    for p in &a.top_three {
        let score = p
            .score
            .map_or_else(|| "score hidden".to_owned(), |s| format!("score {s:.1}"));
        l.push(Line::from(format!("{}. {} ({score})", p.rank, p.label)));
        for line in words(&p.why, width.saturating_sub(3)) {
            l.push(Line::from(format!("   {line}")));
        }
    }
    l
}

/// `text` in lines of at most `width` characters, broken between words.
fn words(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for w in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + w.chars().count() > width.max(1) {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::SettingKey;
    use crate::survey::registry::Registry;
    use crate::tui::app::App;
    use crate::tui::event::Event;

    fn report_screen(app: &App) -> &ReportScreen {
        match &app.screen {
            crate::tui::screens::Screen::Report(s) => s,
            _ => panic!("not on the report screen: {:?}", app.flash),
        }
    }

    fn counted(app: &mut App, events: &std::sync::mpsc::Receiver<Event>) {
        while report_screen(app).counting() {
            let event = events
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("the counting job sent nothing");
            app.handle(event);
        }
    }

    /// A record that cannot be counted stops the count and the screen names it, rather
    /// than show the period's areas counted without it; counting again once it is put
    /// right shows them.
    #[test]
    fn a_damaged_record_is_named_instead_of_the_areas_counted() {
        let registry = Registry::builtin().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (store, interview) = crate::pack::tests::simulated(dir.path(), &registry);
        store.set_setting(SettingKey::Officer, "PC 1").unwrap();
        store.set_setting(SettingKey::Device, "D-1").unwrap();
        let good = store.raw_response(interview.id);
        store.overwrite_response(interview.id, &good[..good.len() / 2]);
        let mut app = App::new(store, registry, Theme::monochrome()).unwrap();
        let events = app.take_events().unwrap();
        app.update(Action::Digit(6));
        assert_eq!(report_screen(&app).period().to_string(), "2026-Q4");
        counted(&mut app, &events);
        let s = report_screen(&app);
        let why = s.unread.clone().expect("the count failed");
        assert!(
            why.contains("2026-Q4") && why.contains(&interview.id.to_string()),
            "{why}"
        );
        assert!(s.counts.is_none() && s.worked.is_empty());
        app.update(Action::Confirm);
        assert!(
            matches!(&app.flash, Some(crate::tui::app::Flash::Error(m)) if m.contains(&interview.id.to_string()) && m.contains("retry")),
            "{:?}",
            app.flash
        );
        assert_eq!(app.screen.mode(), Mode::ReportChoose);

        app.ctx.store.overwrite_response(interview.id, &good);
        app.update(Action::PeriodPrev);
        app.update(Action::PeriodNext);
        counted(&mut app, &events);
        let s = report_screen(&app);
        assert!(s.unread.is_none() && s.counts.is_some());
        assert!(!s.worked.is_empty());
        app.update(Action::Confirm);
        assert_eq!(app.screen.mode(), Mode::Report);
        assert!(report_screen(&app).report().is_some());
    }

    #[test]
    fn the_bar_fills_in_eighths_and_the_range_sits_on_the_same_scale() {
        // 45% of 10 cells = 4.5 cells: four full and a half.
        assert_eq!(bar(0.45, 10), "████▌     ");
        assert_eq!(bar(0.0, 4), "    ");
        assert_eq!(bar(1.0, 4), "████");
        // 25%–65% of 10 cells: from cell 2 to cell 6.
        assert_eq!(range(0.25, 0.65, 10), "  ├───┤   ");
        assert_eq!(range(0.31, 0.33, 10), "   │      ");
        assert_eq!(range(0.9, 1.0, 10), "         │");
        assert_eq!(range(0.1, 0.2, 0), "");
    }

    #[test]
    fn long_lines_break_between_words() {
        assert_eq!(words("a bb ccc dddd", 6), vec!["a bb", "ccc", "dddd"]);
        assert_eq!(fit("Anti-social behaviour", 8), "Anti-so…");
        assert_eq!(fit("Litter", 8), "Litter  ");
    }

    #[test]
    fn quarters_run_on_into_the_next_year() {
        assert_eq!(
            next(Period::new(2026, 4).unwrap()),
            Period::new(2027, 1).unwrap()
        );
        assert_eq!(
            next(Period::new(2026, 2).unwrap()),
            Period::new(2026, 3).unwrap()
        );
    }
}
