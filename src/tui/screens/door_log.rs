//! The door log (KIN): the priority action area's doors, what came of the latest knock on
//! each, and the counts. One key per outcome; every knock is on disk before the screen
//! changes. The street is remembered from door to door.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row};

use super::interview::Interview;
use super::{Screen, Transition};
use crate::Error;
use crate::response::{
    Door, DoorCounts, DoorRecord, FIELDWORK_ZONE, Outcome, call_back_time, latest_street,
    walk_order,
};
use crate::survey::SurveyKind;
use crate::survey::walker::Walker;
use crate::tui::action::Action;
use crate::tui::app::{AreaPick, Context, Flash};
use crate::tui::fields::{FieldEvent, TextField, TextKind};
use crate::tui::keys::Mode;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::{self, SelectableList};

/// Longest street name and house number or name the form takes.
const MAX_STREET: usize = 80;
const MAX_NUMBER: usize = 40;

/// What a form's Enter gave, once checked.
enum Checked {
    Street(String),
    Door(Door),
    /// A corrected door: from, to.
    Edited(Door, Door),
    /// The corrected street of a door, before its number.
    EditedStreet(Door, String),
    CallBack(Door, DateTime<Utc>),
}

/// What the officer is typing, if anything.
enum Form {
    /// A new door, first step: the street (prefilled with the last one).
    Street(TextField),
    /// A new door, second step: the house number or name.
    Number { street: String, field: TextField },
    /// When to call back at a door.
    CallBack { door: Door, field: TextField },
    /// Correcting a door, first step: its street (shown, typing replaces it).
    EditStreet { door: Door, field: TextField },
    /// Correcting a door, second step: its number or name.
    EditNumber {
        door: Door,
        street: String,
        field: TextField,
    },
}

impl Form {
    fn field_mut(&mut self) -> &mut TextField {
        match self {
            Form::Street(f)
            | Form::Number { field: f, .. }
            | Form::CallBack { field: f, .. }
            | Form::EditStreet { field: f, .. }
            | Form::EditNumber { field: f, .. } => f,
        }
    }
}

pub struct DoorLog {
    area: AreaPick,
    /// The area's doors, by street then house number.
    records: Vec<DoorRecord>,
    selected: usize,
    form: Option<Box<Form>>,
    /// Offered as the street of the next new door.
    last_street: String,
    /// A door waiting for y to be removed.
    removing: Option<Door>,
    /// Draft interviews started at a door, by door key: `i` resumes them.
    in_progress: HashMap<String, Uuid>,
    /// The survey `i` starts at a door: the KIN interview, or the youth KIN.
    survey_id: String,
}

impl DoorLog {
    /// The door log of `area`, with `select` selected if it is in the log. The street for
    /// the next door defaults to the selected door's, else the most recently knocked one's.
    pub fn new(ctx: &Context, area: AreaPick, select: Option<&Door>) -> Result<DoorLog, Error> {
        let mut log = DoorLog {
            area,
            records: Vec::new(),
            selected: 0,
            form: None,
            last_street: String::new(),
            removing: None,
            in_progress: HashMap::new(),
            survey_id: SurveyKind::Kin.as_str().to_owned(),
        };
        log.reload(ctx, select)?;
        // Drafts change only through an interview, which reopens the door log after it.
        for d in ctx.store.drafts()?.responses {
            if let Some(door) = d
                .door
                .as_ref()
                .filter(|_| d.area.eq_ignore_ascii_case(&log.area.code))
            {
                log.in_progress.insert(door.key(), d.id);
            }
        }
        log.last_street = match select {
            Some(d) => d.street.clone(),
            None => latest_street(&log.records).unwrap_or_default().to_owned(),
        };
        Ok(log)
    }

    pub fn area(&self) -> &AreaPick {
        &self.area
    }

    /// The same door log, with `i` starting `survey_id` (the youth KIN, say) at a door.
    pub fn for_survey(mut self, survey_id: &str) -> DoorLog {
        self.survey_id = survey_id.to_owned();
        self
    }

    /// The survey `i` starts at a door.
    pub fn survey_id(&self) -> &str {
        &self.survey_id
    }

    pub fn records(&self) -> &[DoorRecord] {
        &self.records
    }

    /// The door the outcome keys act on.
    pub fn selected_door(&self) -> Option<&Door> {
        self.records.get(self.selected).map(|r| &r.door)
    }

    /// The street the next new door is offered on.
    pub fn last_street(&self) -> &str {
        &self.last_street
    }

    /// Whether an interview was started at this door and is still a draft.
    pub fn in_progress(&self, door: &Door) -> bool {
        self.in_progress.contains_key(&door.key())
    }

    pub fn question(&self) -> Option<String> {
        let door = self.removing.as_ref()?;
        let knocks = self
            .records
            .iter()
            .find(|r| r.door.key() == door.key())
            .map_or(0, |r| r.knocks.len());
        Some(format!(
            "Remove {door} and its {knocks} knock(s) from the log? Only for a door entered by mistake: it stops counting in the response rate."
        ))
    }

    pub fn mode(&self) -> Mode {
        if self.removing.is_some() {
            Mode::Confirm
        } else if self.form.is_some() {
            Mode::Form
        } else {
            Mode::DoorLog
        }
    }

    /// Reads the area's doors again, keeping `select` (or the current door) selected.
    fn reload(&mut self, ctx: &Context, select: Option<&Door>) -> Result<(), Error> {
        let keep = select.or(self.selected_door()).map(Door::key);
        let mut records = ctx.store.doors(&self.area.code)?;
        records.sort_by_cached_key(|r| walk_order(&r.door));
        self.records = records;
        self.selected = keep
            .and_then(|k| self.records.iter().position(|r| r.door.key() == k))
            .unwrap_or(self.selected)
            .min(self.records.len().saturating_sub(1));
        Ok(())
    }

    pub fn update(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        if let Some(door) = self.removing.take() {
            if action != Action::Yes {
                return Ok(Transition::Flash(Flash::Notice(format!(
                    "{door} kept: nothing changed"
                ))));
            }
            return match ctx.store.remove_door(&self.area.code, &door) {
                Ok(_) => {
                    self.reload(ctx, None)?;
                    Ok(Transition::Flash(Flash::Ok(format!(
                        "{door} removed from the log (the removal is journaled)"
                    ))))
                }
                Err(e @ crate::store::StoreError::DoorInterviewed { .. }) => {
                    Ok(Transition::Flash(Flash::Error(e.to_string())))
                }
                Err(e) => Err(e.into()),
            };
        }
        if self.form.is_some() {
            return self.update_form(ctx, action);
        }
        if let Some(to) = list::moved(self.selected, self.records.len(), action) {
            self.selected = to;
            return Ok(Transition::Stay);
        }
        match action {
            Action::Leave => {
                return Ok(Transition::Go(
                    Screen::Home(super::home::Home::new(ctx)?),
                    None,
                ));
            }
            Action::NewDoor => {
                self.form = Some(Box::new(Form::Street(prefilled(&self.last_street))));
            }
            Action::NoAnswer => return self.knock(ctx, Outcome::NoAnswer),
            Action::Refused => return self.knock(ctx, Outcome::Refused),
            Action::NotApplicable => return self.knock(ctx, Outcome::NotApplicable),
            Action::CallBack => {
                let Some(door) = self.selected_door().cloned() else {
                    return Ok(no_door());
                };
                self.form = Some(Box::new(Form::CallBack {
                    door,
                    field: TextField::new(TextKind::DateTime, None),
                }));
            }
            Action::Interview => return self.interview(ctx),
            Action::EditDoor => {
                let Some(door) = self.selected_door().cloned() else {
                    return Ok(no_door());
                };
                self.form = Some(Box::new(Form::EditStreet {
                    field: prefilled(&door.street),
                    door,
                }));
            }
            Action::RemoveDoor => {
                let Some(record) = self.records.get(self.selected) else {
                    return Ok(no_door());
                };
                if record.interviewed() {
                    return Ok(Transition::Flash(Flash::Error(format!(
                        "{} has an interview recorded: it cannot be removed (e corrects its street or number)",
                        record.door
                    ))));
                }
                self.removing = Some(record.door.clone());
            }
            Action::Confirm if !self.records.is_empty() => {
                return Ok(Transition::Flash(Flash::Notice(
                    "At this door: n no answer, r refused, c call back, i interview, x n/a, e edit"
                        .into(),
                )));
            }
            Action::Confirm => return Ok(no_door()),
            _ => {}
        }
        Ok(Transition::Stay)
    }

    /// Records a knock on the selected door.
    fn knock(&mut self, ctx: &Context, outcome: Outcome) -> Result<Transition, Error> {
        match self.selected_door().cloned() {
            Some(door) => self.record(ctx, door, outcome),
            None => Ok(no_door()),
        }
    }

    /// Records a knock (the store flushes it to disk), then shows it.
    fn record(&mut self, ctx: &Context, door: Door, outcome: Outcome) -> Result<Transition, Error> {
        let now = ctx.now();
        ctx.store
            .knock(&self.area.code, door.clone(), outcome.clone(), now)?;
        self.reload(ctx, Some(&door))?;
        Ok(Transition::Flash(Flash::Ok(format!(
            "{door}: {} (recorded {})",
            outcome_label(&outcome, now),
            local(now).format("%H:%M")
        ))))
    }

    fn interview(&mut self, ctx: &Context) -> Result<Transition, Error> {
        let Some(door) = self.selected_door().cloned() else {
            return Ok(no_door());
        };
        // One interview per door: a draft started here is picked up, not started again.
        if let Some(&id) = self.in_progress.get(&door.key()) {
            match ctx.store.get(id) {
                Ok(draft) if !draft.status.is_final() => {
                    let interview = Interview::resume(ctx, draft)?;
                    return Ok(Transition::Go(
                        Screen::Interview(Box::new(interview)),
                        Some(Flash::Ok(format!(
                            "{door}: interview in progress, resumed where it was left"
                        ))),
                    ));
                }
                // Finalized or discarded elsewhere since: start afresh.
                _ => {
                    self.in_progress.remove(&door.key());
                }
            }
        }
        let mut interview = Interview::start(ctx, &self.survey_id, &self.area.code)?;
        ctx.store.set_door(interview.id, &door)?;
        interview.door = Some(door);
        Ok(Transition::Go(Screen::Interview(Box::new(interview)), None))
    }

    fn update_form(&mut self, ctx: &Context, action: Action) -> Result<Transition, Error> {
        match action {
            Action::Leave => {
                self.form = None;
                return Ok(Transition::Flash(Flash::Notice(
                    "Cancelled: nothing recorded".into(),
                )));
            }
            Action::Confirm => return self.submit(ctx),
            _ => {}
        }
        let Some(form) = self.form.as_deref_mut() else {
            return Ok(Transition::Stay);
        };
        match form.field_mut().handle(action) {
            FieldEvent::Invalid(m) => return Ok(Transition::Flash(Flash::Error(m))),
            // Backspace on an empty number goes back to the street.
            FieldEvent::Back => match form {
                Form::Number { street, .. } => {
                    let street = prefilled(street);
                    *form = Form::Street(street);
                }
                Form::EditNumber { door, street, .. } => {
                    let (door, field) = (door.clone(), prefilled(street));
                    *form = Form::EditStreet { door, field };
                }
                _ => {}
            },
            FieldEvent::None | FieldEvent::Submit(_) => {}
        }
        Ok(Transition::Stay)
    }

    /// Enter in the form: checks what was typed; on a mistake the form stays open, says
    /// what is wrong, and nothing is recorded.
    fn submit(&mut self, ctx: &Context) -> Result<Transition, Error> {
        let Some(form) = self.form.take() else {
            return Ok(Transition::Stay);
        };
        match self.check(ctx, &form) {
            Ok(Checked::Street(street)) => {
                self.form = Some(Box::new(Form::Number {
                    street,
                    field: TextField::new(TextKind::Text { long: false }, None),
                }));
                Ok(Transition::Stay)
            }
            Ok(Checked::Door(door)) => {
                let known = self
                    .records
                    .iter()
                    .find(|r| r.door.key() == door.key())
                    .map(|r| r.door.clone());
                let door = known.clone().unwrap_or(door);
                if known.is_none() {
                    ctx.store.add_door(&self.area.code, door.clone())?;
                }
                self.last_street = door.street.clone();
                self.reload(ctx, Some(&door))?;
                Ok(Transition::Flash(if known.is_some() {
                    Flash::Notice(format!("{door} is already in the log: selected"))
                } else {
                    Flash::Ok(format!("{door} added"))
                }))
            }
            Ok(Checked::CallBack(door, at)) => self.record(ctx, door, Outcome::CallBack { at }),
            Ok(Checked::EditedStreet(door, street)) => {
                self.form = Some(Box::new(Form::EditNumber {
                    field: prefilled(&door.number),
                    door,
                    street,
                }));
                Ok(Transition::Stay)
            }
            Ok(Checked::Edited(from, to)) if from.key() == to.key() && from == to => Ok(
                Transition::Flash(Flash::Notice(format!("{from}: nothing changed"))),
            ),
            Ok(Checked::Edited(from, to)) => {
                match ctx.store.edit_door(&self.area.code, &from, to.clone()) {
                    Ok(_) => {
                        if let Some(id) = self.in_progress.remove(&from.key()) {
                            self.in_progress.insert(to.key(), id);
                        }
                        self.last_street = to.street.clone();
                        self.reload(ctx, Some(&to))?;
                        Ok(Transition::Flash(Flash::Ok(format!(
                            "{from} corrected to {to}, with its knocks"
                        ))))
                    }
                    Err(e @ crate::store::StoreError::DoorExists { .. }) => {
                        self.form = Some(form);
                        Ok(Transition::Flash(Flash::Error(e.to_string())))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Err(message) => {
                self.form = Some(form);
                Ok(Transition::Flash(Flash::Error(message)))
            }
        }
    }

    fn check(&self, ctx: &Context, form: &Form) -> Result<Checked, String> {
        match form {
            Form::Street(field) => self.check_street(field).map(Checked::Street),
            Form::Number { street, field } => check_number(street, field).map(Checked::Door),
            Form::CallBack { door, field } => {
                call_back_time(field.value(), &ctx.env().local(ctx.now()))
                    .map(|at| Checked::CallBack(door.clone(), at))
            }
            Form::EditStreet { door, field } => self
                .check_street(field)
                .map(|street| Checked::EditedStreet(door.clone(), street)),
            Form::EditNumber {
                door,
                street,
                field,
            } => check_number(street, field).map(|to| Checked::Edited(door.clone(), to)),
        }
    }

    fn check_street(&self, field: &TextField) -> Result<String, String> {
        let street = tidy(field.value());
        if street.is_empty() {
            return Err("Type the street name (it is remembered for the next door)".into());
        }
        if street.chars().count() > MAX_STREET {
            return Err(format!("A street name is at most {MAX_STREET} characters"));
        }
        // A street already in the log keeps the spelling it has there.
        Ok(self
            .records
            .iter()
            .map(|r| &r.door.street)
            .find(|s| s.to_lowercase() == street.to_lowercase())
            .cloned()
            .unwrap_or(street))
    }

    pub fn render(&self, ctx: &Context, frame: &mut Frame, area: Rect, theme: &Theme) {
        let now = ctx.now();
        // The youth KIN is named in the title, so `i` never starts it unnoticed.
        let which = if self.survey_id == SurveyKind::Kin.as_str() {
            String::new()
        } else {
            ctx.registry
                .get(&self.survey_id, None)
                .map(|s| format!("· {} ", s.title.get("en")))
                .unwrap_or_default()
        };
        let block = Block::default().borders(Borders::ALL).title(Line::styled(
            format!(
                " Door log — {} ({}) {which}",
                self.area.name, self.area.code
            ),
            theme.title,
        ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let foot = match self.form {
            Some(_) => 4,
            None => 2,
        };
        let [counts_area, head_area, list_area, foot_area] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(2),
            Constraint::Min(2),
            Constraint::Length(foot),
        ])
        .areas(inner);
        frame.render_widget(
            Paragraph::new(counts_lines(&DoorCounts::new(&self.records, now))),
            counts_area,
        );
        let width = inner.width as usize;
        if self.records.is_empty() {
            frame.render_widget(
                Paragraph::new(vec![
                    Line::raw(""),
                    Line::raw("No doors in this area yet: press a to add the first one"),
                    Line::raw("(the street, then the house number or name)."),
                ]),
                list_area,
            );
        } else {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    fit(
                        &format!(
                            "  {:<12} {:<20} {:<26} {}",
                            "No.", "Street", "Latest", "Knocked"
                        ),
                        width,
                    ),
                    theme.title,
                )),
                Rect {
                    y: head_area.y + 1,
                    height: 1,
                    ..head_area
                },
            );
            self.render_list(frame, list_area, theme, now);
        }
        match &self.form {
            Some(form) => render_form(form, frame, foot_area, theme),
            None => self.render_selected(frame, foot_area, now),
        }
    }

    fn render_list(&self, frame: &mut Frame, area: Rect, theme: &Theme, now: DateTime<Utc>) {
        let rows: Vec<Row> = self
            .records
            .iter()
            .map(|r| {
                let when = r
                    .knocks
                    .last()
                    .map(|k| local(k.at).format("%d %b %H:%M").to_string())
                    .unwrap_or_default();
                let latest = match r.knocks.last() {
                    _ if !r.is_finished() && self.in_progress(&r.door) => {
                        "interview in progress".to_owned()
                    }
                    Some(k) => outcome_label(&k.outcome, now),
                    None => "— not knocked".to_owned(),
                };
                let row = Row::new([
                    clip(&r.door.number, 12),
                    clip(&r.door.street, 20),
                    latest,
                    when,
                ]);
                if is_due(r, now) {
                    row.style(theme.notice)
                } else {
                    row
                }
            })
            .collect();
        let widths = [
            Constraint::Length(12),
            Constraint::Length(20),
            Constraint::Length(26),
            Constraint::Fill(1),
        ];
        frame.render_stateful_widget(
            SelectableList::new(rows, widths, theme),
            area,
            &mut list::state(Some(self.selected)),
        );
    }

    /// The selected door and its knocks, newest first.
    fn render_selected(&self, frame: &mut Frame, area: Rect, now: DateTime<Utc>) {
        let Some(r) = self.records.get(self.selected) else {
            return;
        };
        let width = area.width as usize;
        let head = if self.in_progress(&r.door) && !r.is_finished() {
            format!(
                "▶ {} · {} knock(s) · interview in progress: i resumes it",
                r.door,
                r.knocks.len()
            )
        } else {
            format!(
                "▶ {} · {} knock(s) · n r c i x act on this door, e edits it",
                r.door,
                r.knocks.len()
            )
        };
        let history = if r.knocks.is_empty() {
            "Not knocked yet".to_owned()
        } else {
            let knocks = r
                .knocks
                .iter()
                .rev()
                .map(|k| {
                    format!(
                        "{}: {}",
                        local(k.at).format("%d %b %H:%M"),
                        outcome_label(&k.outcome, now)
                    )
                })
                .collect::<Vec<_>>()
                .join(" · ");
            format!("Knocks, newest first — {knocks}")
        };
        frame.render_widget(
            Paragraph::new(vec![
                Line::raw(fit(&head, width)),
                Line::raw(fit(&history, width)),
            ]),
            area,
        );
    }
}

fn render_form(form: &Form, frame: &mut Frame, area: Rect, theme: &Theme) {
    let [label, field] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(3)]).areas(area);
    let (text, f) = match form {
        Form::Street(f) => (
            "New door: the street (Enter keeps the one shown)".to_owned(),
            f,
        ),
        Form::Number { street, field } => {
            (format!("New door on {street}: house number or name"), field)
        }
        Form::CallBack { door, field } => (
            format!("Call back at {door}: when? A time today (18:30) or a date and time"),
            field,
        ),
        Form::EditStreet { door, field } => (
            format!("Correct {door}: the street (Enter keeps it)"),
            field,
        ),
        Form::EditNumber { door, field, .. } => (
            format!("Correct {door}: the number or name (Enter keeps it)"),
            field,
        ),
    };
    frame.render_widget(
        Paragraph::new(Line::styled(fit(&text, area.width as usize), theme.title)),
        label,
    );
    f.render(frame, field, theme);
}

fn check_number(street: &str, field: &TextField) -> Result<Door, String> {
    let number = tidy(field.value());
    if number.is_empty() {
        return Err(format!("Type the house number or name on {street}"));
    }
    if number.chars().count() > MAX_NUMBER {
        return Err(format!(
            "A house number or name is at most {MAX_NUMBER} characters"
        ));
    }
    Door::new(street, &number).map_err(|e| e.to_string())
}

/// The two counts lines over the list.
fn counts_lines(c: &DoorCounts) -> Vec<Line<'static>> {
    let rate = match c.response_rate() {
        Some(r) => format!(
            "{:.0}% ({} of {})",
            r * 100.0,
            c.interviewed,
            c.doors - c.not_applicable
        ),
        None => "—".to_owned(),
    };
    vec![
        Line::raw(format!(
            "Doors {} · knocked {} · answered {} · interviewed {} · refused {}",
            c.doors, c.knocked, c.answered, c.interviewed, c.refused
        )),
        Line::raw(format!(
            "Call-backs due {} ({} later) · to knock {} · response rate {rate}",
            c.call_backs_due, c.call_backs_later, c.to_knock
        )),
    ]
}

/// An outcome as the list shows it; a call-back says when, and whether it is due.
pub fn outcome_label(outcome: &Outcome, now: DateTime<Utc>) -> String {
    match outcome {
        Outcome::NoAnswer => "no answer".into(),
        Outcome::Refused => "refused".into(),
        Outcome::NotApplicable => "not applicable".into(),
        Outcome::Interviewed { .. } => "interviewed".into(),
        Outcome::CallBack { at } => {
            let due = if *at <= now { " — due" } else { "" };
            format!("call back {}{due}", local(*at).format("%d %b %H:%M"))
        }
    }
}

/// Whether a door's latest outcome is a call-back that is due at `now`.
pub fn is_due(record: &DoorRecord, now: DateTime<Utc>) -> bool {
    !record.interviewed() && matches!(record.latest(), Some(Outcome::CallBack { at }) if *at <= now)
}

/// Where an interview goes when it is left (`finalized` false) or finalized: back to the
/// door log when it was started from a door, home otherwise. A finalized interview is
/// recorded as the door's knock first — interviewed, or refused when the resident said
/// no to taking part.
pub fn after_interview(
    ctx: &Context,
    interview: &Interview,
    finalized: bool,
) -> Result<Screen, Error> {
    let Some(door) = &interview.door else {
        return Ok(Screen::Home(super::home::Home::new(ctx)?));
    };
    if finalized {
        let declined = Walker::new(&interview.survey).declined(&interview.answers);
        let outcome = Outcome::of_interview(declined, interview.id);
        ctx.store
            .knock(&interview.area, door.clone(), outcome, ctx.now())?;
    }
    let area = ctx
        .area
        .clone()
        .filter(|a| a.code.eq_ignore_ascii_case(&interview.area))
        .unwrap_or_else(|| AreaPick {
            code: interview.area.clone(),
            name: interview.area.clone(),
        });
    // Back to the same survey: the next door of a youth KIN round is a youth KIN too.
    Ok(Screen::DoorLog(
        DoorLog::new(ctx, area, Some(door))?.for_survey(&interview.survey.id),
    ))
}

fn no_door() -> Transition {
    Transition::Flash(Flash::Notice("No door selected: press a to add one".into()))
}

/// A form field offering `text`: the first key typed replaces it, Enter keeps it.
fn prefilled(text: &str) -> TextField {
    TextField::prefilled(TextKind::Text { long: false }, text)
}

/// Single spaces, no spaces at either end.
fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn local(t: DateTime<Utc>) -> DateTime<Tz> {
    t.with_timezone(&FIELDWORK_ZONE)
}

/// At most `n` characters, with … when cut.
fn clip(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(n.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// Cut to the width of the screen.
fn fit(text: &str, width: usize) -> String {
    clip(text.trim_end(), width)
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    fn local_utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        FIELDWORK_ZONE
            .from_local_datetime(
                &NaiveDate::from_ymd_opt(2026, 11, d)
                    .unwrap()
                    .and_hms_opt(h, m, 0)
                    .unwrap(),
            )
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn labels_say_when_a_call_back_is_due() {
        let now = local_utc(23, 10, 0);
        let later = Outcome::CallBack {
            at: local_utc(23, 18, 30),
        };
        assert_eq!(outcome_label(&later, now), "call back 23 Nov 18:30");
        let due = Outcome::CallBack {
            at: local_utc(23, 9, 30),
        };
        assert_eq!(outcome_label(&due, now), "call back 23 Nov 09:30 — due");
        assert_eq!(clip("Rose Cottage", 8), "Rose Co…");
    }
}
