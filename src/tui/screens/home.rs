//! Home: start a KIN doorstep session or an EVA audit, resume drafts and call-backs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row};

use super::{Screen, Transition};
use crate::Error;
use crate::response::{SettingKey, latest_street};
use crate::store::{HomeCounts, NotExported};
use crate::survey::SurveyKind;
use crate::survey::registry::Registry;
use crate::tui::action::Action;
use crate::tui::app::{Context, Flash};
use crate::tui::fields::{FieldEvent, TextField, TextKind};
use crate::tui::keys::Mode;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::{self, SelectableList};

/// Counts for the status line, read once when home opens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub kin_today: usize,
    pub eva_today: usize,
    pub drafts: usize,
    /// This device's own work not yet in any exported batch.
    pub not_exported: NotExported,
}

impl Counts {
    /// Read from the tallies the store keeps on every write and today's entries of its
    /// index of complete responses: the same cost on any store size, at start-up and on
    /// every return to home.
    pub fn read(ctx: &Context) -> Result<Counts, Error> {
        let tallies = ctx.store.tallies()?;
        let mut c = Counts {
            drafts: usize::try_from(tallies.drafts).unwrap_or(usize::MAX),
            not_exported: ctx.store.not_exported()?,
            ..Counts::default()
        };
        for done in ctx.store.completed_on(ctx.env(), ctx.env().today())? {
            c.count_today(&ctx.registry, &done.survey_id, done.survey_version, 1);
        }
        Ok(c)
    }

    /// From the counts kept at the last clean close (read before the store opens), for
    /// `today`; `None` when they do not cover it (taken on a later day: the clock went back).
    pub fn from_saved(
        saved: &HomeCounts,
        registry: &Registry,
        today: chrono::NaiveDate,
    ) -> Option<Counts> {
        let mut c = Counts {
            drafts: usize::try_from(saved.drafts).unwrap_or(usize::MAX),
            not_exported: saved.not_exported,
            ..Counts::default()
        };
        for done in saved.completed_on(today)? {
            let n = usize::try_from(done.count).unwrap_or(usize::MAX);
            c.count_today(registry, &done.survey_id, done.survey_version, n);
        }
        Some(c)
    }

    fn count_today(&mut self, registry: &Registry, survey_id: &str, version: u32, n: usize) {
        match registry.get(survey_id, Some(version)).map(|s| s.kind) {
            Some(SurveyKind::Kin) => self.kin_today = self.kin_today.saturating_add(n),
            Some(SurveyKind::Eva) => self.eva_today = self.eva_today.saturating_add(n),
            None => {}
        }
    }
}

const ITEMS: [&str; 7] = [
    "Start an interview or audit (KIN, youth KIN, EVA)",
    "Resume drafts and call-backs",
    "Choose the area",
    "Export to a folder (USB stick) for the coordinator",
    "Coordinator: verify and merge batches, settle conflicts",
    "Coordinator: the report (priority-setting pack) per area and period",
    "Coordinator: actions (the register: filter, add, update, overdue first)",
];

/// What "start" offers: the survey id and how the officer knows it. The KIN interviews
/// start from a door in the door log; the EVA audit straight away.
pub const SURVEYS: [(&str, &str); 3] = [
    ("kin", "KIN doorstep interview (16 or over)"),
    (
        "kin_youth",
        "Youth KIN (under 16, with a parent or guardian present)",
    ),
    ("eva", "EVA street audit"),
];

/// Changing the officer at a shift change: typing the new id, then confirming it.
enum Officer {
    Typing(TextField),
    Confirming(String),
}

pub struct Home {
    pub counts: Counts,
    selected: usize,
    officer: Option<Officer>,
    /// Choosing which survey to start: the highlighted row of [`SURVEYS`].
    choosing: Option<usize>,
}

impl Home {
    pub fn new(ctx: &Context) -> Result<Home, Error> {
        Ok(Home {
            counts: Counts::read(ctx)?,
            selected: 0,
            officer: None,
            choosing: None,
        })
    }

    pub fn mode(&self) -> Mode {
        match self.officer {
            None => Mode::Menu,
            Some(Officer::Typing(_)) => Mode::Form,
            Some(Officer::Confirming(_)) => Mode::Confirm,
        }
    }

    pub fn question(&self) -> Option<String> {
        match &self.officer {
            Some(Officer::Confirming(new)) => Some(format!(
                "Change the officer on this device to {new}? Everything recorded from now on is under {new}; work already done keeps its officer."
            )),
            _ => None,
        }
    }

    /// The shift-change form and its confirmation.
    fn update_officer(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        let Some(state) = self.officer.take() else {
            return Ok(Transition::Stay);
        };
        let unchanged = || Transition::Flash(Flash::Notice("Officer not changed".into()));
        match state {
            Officer::Confirming(new) => {
                if action != Action::Yes {
                    return Ok(unchanged());
                }
                ctx.store.set_setting(SettingKey::Officer, &new)?;
                ctx.settings = ctx.store.settings()?;
                Ok(Transition::Flash(Flash::Ok(format!(
                    "Officer changed to {new} (recorded in the journal)"
                ))))
            }
            Officer::Typing(mut field) => {
                if action == Action::Leave {
                    return Ok(unchanged());
                }
                match field.handle(action) {
                    FieldEvent::Submit(answer) => {
                        let typed = answer.to_string();
                        match SettingKey::Officer.validate(&typed) {
                            Ok(new) if Some(new.as_str()) == ctx.settings.officer.as_deref() => {
                                Ok(Transition::Flash(Flash::Notice(format!(
                                    "{new} is already the officer: nothing changed"
                                ))))
                            }
                            Ok(new) => {
                                self.officer = Some(Officer::Confirming(new));
                                Ok(Transition::Stay)
                            }
                            Err(e) => {
                                self.officer = Some(Officer::Typing(field));
                                Ok(Transition::Flash(Flash::Error(e.to_string())))
                            }
                        }
                    }
                    FieldEvent::Invalid(m) => {
                        self.officer = Some(Officer::Typing(field));
                        Ok(Transition::Flash(Flash::Error(m)))
                    }
                    FieldEvent::None | FieldEvent::Back => {
                        self.officer = Some(Officer::Typing(field));
                        Ok(Transition::Stay)
                    }
                }
            }
        }
    }

    /// Whether the survey chooser is open.
    pub fn choosing(&self) -> bool {
        self.choosing.is_some()
    }

    /// The survey chooser: a digit or Enter starts one, Esc goes back to the menu.
    fn update_chooser(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        let mut selected = self.choosing.unwrap_or(0);
        let pick = match super::menu_key(&mut selected, SURVEYS.len(), action) {
            super::MenuKey::Pick(n) => n,
            super::MenuKey::NoSuch(flash) => return Ok(Transition::Flash(flash)),
            super::MenuKey::Other if action == Action::Leave => {
                self.choosing = None;
                return Ok(Transition::Stay);
            }
            super::MenuKey::Stay | super::MenuKey::Other => {
                self.choosing = Some(selected);
                return Ok(Transition::Stay);
            }
        };
        self.choosing = None;
        let Some(area) = ctx.area.clone() else {
            return Ok(Transition::Flash(Flash::Notice(
                "Choose the area first (3)".into(),
            )));
        };
        let survey_id = SURVEYS[pick].0;
        if survey_id != SurveyKind::Eva.as_str() {
            // KIN interviews, the youth KIN too, start from a door in the area's door log.
            let log = super::door_log::DoorLog::new(ctx, area, None)?.for_survey(survey_id);
            return Ok(Transition::Go(Screen::DoorLog(log), None));
        }
        let mut interview = super::interview::Interview::start(ctx, survey_id, &area.code)?;
        // The transect is usually on a street just door-knocked: offer it (typing
        // replaces it).
        let doors = ctx.store.doors(&area.code)?;
        let street_q = crate::survey::eva::street_question(&interview.survey).map(|q| q.id.clone());
        if let (Some(street), Some(qid)) = (latest_street(&doors), street_q) {
            interview.suggest(ctx, &qid, street);
        }
        Ok(Transition::Go(Screen::Interview(Box::new(interview)), None))
    }

    pub fn update(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        if self.officer.is_some() {
            return self.update_officer(ctx, action);
        }
        if self.choosing.is_some() {
            return self.update_chooser(ctx, action);
        }
        if action == Action::ChangeOfficer {
            self.officer = Some(Officer::Typing(TextField::prefilled(
                TextKind::Text { long: false },
                ctx.settings.officer.as_deref().unwrap_or(""),
            )));
            return Ok(Transition::Stay);
        }
        let pick = match super::menu_key(&mut self.selected, ITEMS.len(), action) {
            super::MenuKey::Pick(n) => n,
            super::MenuKey::NoSuch(flash) => return Ok(Transition::Flash(flash)),
            super::MenuKey::Other if action == Action::Leave => return Ok(Transition::Quit),
            super::MenuKey::Stay | super::MenuKey::Other => return Ok(Transition::Stay),
        };
        match pick {
            0 => {
                if ctx.area.is_none() {
                    return Ok(Transition::Flash(Flash::Notice(
                        "Choose the area first (3)".into(),
                    )));
                }
                self.choosing = Some(0);
                Ok(Transition::Stay)
            }
            1 => Ok(Transition::Go(
                Screen::Drafts(super::drafts::Drafts::new(ctx)?),
                None,
            )),
            3 => Ok(Transition::Go(
                Screen::Export(super::export::Export::new(self.counts.not_exported)),
                None,
            )),
            4 => Ok(Transition::Go(Screen::Coordinator(Box::default()), None)),
            5 => Ok(Transition::Go(
                Screen::Report(Box::new(super::report::ReportScreen::new(ctx)?)),
                None,
            )),
            6 => Ok(Transition::Go(
                Screen::Actions(Box::new(super::actions::ActionsScreen::new(ctx)?)),
                None,
            )),
            _ => {
                let marks = super::area_picker::today_marks(ctx)?;
                let picker = super::area_picker::AreaPicker::new(ctx, marks);
                Ok(Transition::Go(Screen::AreaPicker(picker), None))
            }
        }
    }

    pub fn render(&self, ctx: &Context, frame: &mut Frame, area: Rect, theme: &Theme) {
        let officer = ctx.settings.officer.as_deref().unwrap_or("?");
        let device = ctx.settings.device.as_deref().unwrap_or("?");
        let [area_line, menu, status] = framed(
            frame,
            area,
            theme,
            Some(format!(" officer {officer} · {device} ")),
        );
        let area_text = match &ctx.area {
            Some(a) => Line::from(vec![
                Span::styled("Area: ", theme.title),
                Span::raw(format!("{} ({})", a.name, a.code)),
            ]),
            None => Line::from(vec![
                Span::styled("Area: ", theme.title),
                Span::styled("none chosen — press 3", theme.notice),
            ]),
        };
        frame.render_widget(Paragraph::new(area_text), area_line);
        let lines: Vec<Line> = ITEMS
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let extra = if i == 1 {
                    format!(" ({})", self.counts.drafts)
                } else {
                    String::new()
                };
                super::numbered_row(
                    i == self.selected && self.choosing.is_none(),
                    i + 1,
                    &format!("{item}{extra}"),
                    theme,
                )
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), menu);
        if let Some(selected) = self.choosing {
            let [_, label, list_area] = Layout::vertical([
                Constraint::Length(ITEMS.len() as u16 + 1),
                Constraint::Length(1),
                Constraint::Min(0),
            ])
            .areas(menu);
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "Start which? (a number or Enter; Esc goes back)",
                    theme.title,
                )),
                label,
            );
            let rows: Vec<Row> = SURVEYS
                .iter()
                .enumerate()
                .map(|(i, (_, name))| Row::new([format!("{}", i + 1), (*name).to_owned()]))
                .collect();
            let list =
                SelectableList::new(rows, [Constraint::Length(2), Constraint::Fill(1)], theme);
            frame.render_stateful_widget(list, list_area, &mut list::state(Some(selected)));
        }
        if let Some(Officer::Typing(field)) = &self.officer {
            let [_, label, input] = Layout::vertical([
                Constraint::Length(ITEMS.len() as u16 + 1),
                Constraint::Length(1),
                Constraint::Length(3),
            ])
            .areas(menu);
            frame.render_widget(
                Paragraph::new(Line::styled(
                    "Shift change: the new officer's id (Enter, then y to confirm; Esc keeps it)",
                    theme.title,
                )),
                label,
            );
            field.render(frame, input, theme);
        }
        let c = &self.counts;
        let status_line = status_text(c.kin_today, c.eva_today, c.drafts, c.not_exported);
        frame.render_widget(Paragraph::new(status_line), status);
    }
}

/// Home's border and title (with `right`, the officer and laptop, when known) and its
/// parts inside: the area line, the menu, the status line.
fn framed(frame: &mut Frame, area: Rect, theme: &Theme, right: Option<String>) -> [Rect; 3] {
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(Line::styled(" doorstep — PACT fieldwork ", theme.title));
    if let Some(right) = right {
        block = block.title(Line::from(right).right_aligned());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [area_line, _, menu, status] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(2),
    ])
    .areas(inner);
    [area_line, menu, status]
}

/// Home's status lines: today's work and drafts, then what of this device's own work is
/// not yet exported.
fn status_text(
    kin: impl std::fmt::Display,
    eva: impl std::fmt::Display,
    drafts: impl std::fmt::Display,
    not_exported: impl std::fmt::Display,
) -> Vec<Line<'static>> {
    vec![
        Line::from(format!("Today: {kin} KIN · {eva} EVA   Drafts: {drafts}")),
        Line::from(format!("Not yet exported: {not_exported}")),
    ]
}

/// The first frame, drawn while the store opens on another thread: home's frame and menu,
/// dimmed, its counts as kept at the last clean close (`counts`) or else marked as
/// loading. No key does anything until the store is open and the real home (or the
/// first-run questions) replaces it.
pub fn render_opening(frame: &mut Frame, theme: &Theme, counts: Option<&Counts>) {
    let [main, _, hint] = Layout::vertical([
        Constraint::Min(5),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let [_, menu, status] = framed(frame, main, theme, None);
    let lines: Vec<Line> = ITEMS
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let extra = match counts {
                Some(c) if i == 1 => format!(" ({})", c.drafts),
                _ => String::new(),
            };
            Line::styled(format!("  {:>2}  {item}{extra}", i + 1), theme.dim)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), menu);
    let lines = match counts {
        Some(c) => status_text(c.kin_today, c.eva_today, c.drafts, c.not_exported),
        None => {
            let mut lines = status_text("…", "…", "…", "…");
            if let Some(first) = lines.first_mut() {
                first.push_span(Span::raw(" (loading)"));
            }
            lines
        }
    };
    frame.render_widget(Paragraph::new(lines), status);
    frame.render_widget(
        Paragraph::new(Line::styled("Opening the store…", theme.dim)),
        hint,
    );
}
