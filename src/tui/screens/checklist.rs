//! The EVA checklist: every item of the audit in one table. Grades with a–d (+/− for B+,
//! B−, C−), counts with digits, yes/no with y/0, `u` urgent, `n` note, `l` fixed-reference
//! location. Each change is stored (and flushed) as it is made.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Wrap};

use crate::survey::eva::{self, is_urgent};
use crate::survey::model::QuestionKind;
use crate::survey::walker::{Answers, Walker};
use crate::survey::{Answer, Finding, Grade, Survey};
use crate::tui::action::Action;
use crate::tui::fields::{FieldEvent, TextField, TextKind};
use crate::tui::theme::Theme;
use crate::tui::widgets::list::{self, SelectableList};

/// What a checklist key asks the interview to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ChecklistEvent {
    None,
    /// Store this answer to question `index` (and stay on the table).
    Answer(usize, Answer),
    /// Store this finding on question `index`.
    Finding(usize, Finding),
    /// Leave the table forwards (past its last item) or backwards.
    Next,
    Back,
    Invalid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editing {
    Note,
    Location,
    /// A text question inside the checklist (e.g. lamp column numbers).
    Text,
}

#[derive(Debug, Clone)]
pub struct Checklist {
    /// Question indices `start..end` form the table.
    pub start: usize,
    pub end: usize,
    /// Position among the visible rows.
    pub row: usize,
    pub editing: Option<(Editing, TextField)>,
}

impl Checklist {
    pub fn new(
        start: usize,
        end: usize,
        at: usize,
        survey: &Survey,
        answers: &Answers,
    ) -> Checklist {
        let mut c = Checklist {
            start,
            end,
            row: 0,
            editing: None,
        };
        c.row = c
            .rows(survey, answers)
            .iter()
            .position(|&i| i == at)
            .unwrap_or(0);
        c
    }

    /// The visible questions of the table.
    pub fn rows(&self, survey: &Survey, answers: &Answers) -> Vec<usize> {
        let visible = Walker::new(survey).visibility(answers);
        (self.start..self.end.min(visible.len()))
            .filter(|&i| visible[i])
            .collect()
    }

    pub fn current(&self, survey: &Survey, answers: &Answers) -> Option<usize> {
        let rows = self.rows(survey, answers);
        rows.get(self.row.min(rows.len().saturating_sub(1)))
            .copied()
    }

    pub fn is_editing(&self) -> bool {
        self.editing.is_some()
    }

    pub fn handle(
        &mut self,
        action: Action,
        survey: &Survey,
        answers: &Answers,
        findings: &BTreeMap<String, Finding>,
    ) -> ChecklistEvent {
        let rows = self.rows(survey, answers);
        let Some(&qi) = rows.get(self.row.min(rows.len().saturating_sub(1))) else {
            return ChecklistEvent::Next;
        };
        let q = &survey.questions[qi];
        let finding = findings.get(&q.id).cloned().unwrap_or_default();
        if let Some((kind, field)) = &mut self.editing {
            let kind = *kind;
            if action == Action::Leave {
                self.editing = None;
                return ChecklistEvent::None;
            }
            return match field.handle(action) {
                FieldEvent::Submit(Answer::Text(t)) => {
                    self.editing = None;
                    match kind {
                        Editing::Note => ChecklistEvent::Finding(
                            qi,
                            Finding {
                                note: Some(t),
                                ..finding
                            },
                        ),
                        Editing::Location => ChecklistEvent::Finding(
                            qi,
                            Finding {
                                location: Some(t),
                                ..finding
                            },
                        ),
                        Editing::Text => ChecklistEvent::Answer(qi, Answer::Text(t)),
                    }
                }
                FieldEvent::Submit(_) => ChecklistEvent::None,
                FieldEvent::Invalid(m) => ChecklistEvent::Invalid(m),
                FieldEvent::Back => {
                    self.editing = None;
                    ChecklistEvent::None
                }
                FieldEvent::None => ChecklistEvent::None,
            };
        }
        let current = answers.get(&q.id);
        let not_here = |what: &str| {
            ChecklistEvent::Invalid(format!(
                "{what} does not apply to this item: it takes {}",
                eva::accepts(q)
            ))
        };
        match action {
            Action::Up => {
                if self.row == 0 {
                    return ChecklistEvent::Back;
                }
                self.row -= 1;
                ChecklistEvent::None
            }
            Action::Down => {
                if self.row + 1 < rows.len() {
                    self.row += 1;
                }
                ChecklistEvent::None
            }
            Action::Back => ChecklistEvent::Back,
            Action::Confirm => {
                if matches!(q.kind, QuestionKind::Text { .. }) {
                    let mut f = TextField::new(TextKind::Text { long: false }, current);
                    f.handle(Action::CursorEnd);
                    self.editing = Some((Editing::Text, f));
                    return ChecklistEvent::None;
                }
                if self.row + 1 < rows.len() {
                    self.row += 1;
                    ChecklistEvent::None
                } else {
                    ChecklistEvent::Next
                }
            }
            Action::Grade(g) => match q.kind {
                QuestionKind::Grade => Grade::parse(&g.to_string())
                    .map_or(ChecklistEvent::None, |g| {
                        ChecklistEvent::Answer(qi, Answer::Grade(g))
                    }),
                _ => not_here("A grade"),
            },
            Action::GradePlus | Action::GradeMinus => {
                let plus = action == Action::GradePlus;
                match (&q.kind, current) {
                    (QuestionKind::Grade, Some(Answer::Grade(g))) => {
                        let to = match (g, plus) {
                            (Grade::B | Grade::BMinus, true) => Some(Grade::BPlus),
                            (Grade::B | Grade::BPlus, false) => Some(Grade::BMinus),
                            (Grade::C, false) => Some(Grade::CMinus),
                            (Grade::CMinus, true) => Some(Grade::C),
                            _ => None,
                        };
                        match to {
                            Some(g) => ChecklistEvent::Answer(qi, Answer::Grade(g)),
                            None => ChecklistEvent::Invalid(format!(
                                "There is no {g}{} grade",
                                if plus { "+" } else { "−" }
                            )),
                        }
                    }
                    (QuestionKind::Grade, _) => {
                        ChecklistEvent::Invalid("Give a grade with a–d first, then + or −".into())
                    }
                    _ => not_here("A grade"),
                }
            }
            Action::Digit(d) => match &q.kind {
                QuestionKind::Count { .. } => {
                    let so_far = match current {
                        Some(Answer::Count(n)) => *n,
                        _ => 0,
                    };
                    match so_far
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(d)))
                    {
                        Some(n) if n <= 100_000 => ChecklistEvent::Answer(qi, Answer::Count(n)),
                        _ => ChecklistEvent::Invalid("That count is too large".into()),
                    }
                }
                QuestionKind::YesNo if d <= 1 => ChecklistEvent::Answer(qi, Answer::YesNo(d == 1)),
                QuestionKind::Single { choices } => match choices.get((d as usize).wrapping_sub(1))
                {
                    Some(c) if d > 0 => ChecklistEvent::Answer(qi, Answer::Choice(c.value.clone())),
                    _ => ChecklistEvent::Invalid(format!("Choose 1 to {}", choices.len())),
                },
                _ => not_here("A number"),
            },
            Action::Char('y') => match q.kind {
                QuestionKind::YesNo => ChecklistEvent::Answer(qi, Answer::YesNo(true)),
                _ => not_here("Yes/no"),
            },
            Action::Backspace => match current {
                Some(Answer::Count(n)) if *n >= 10 => {
                    ChecklistEvent::Answer(qi, Answer::Count(n / 10))
                }
                Some(Answer::Count(_)) => ChecklistEvent::Answer(qi, Answer::Count(0)),
                _ => ChecklistEvent::None,
            },
            Action::Urgent => match eva::toggle_urgent(q, answers, findings.get(&q.id)) {
                Ok(f) => ChecklistEvent::Finding(qi, f),
                Err(m) => ChecklistEvent::Invalid(m),
            },
            Action::Note | Action::Location => {
                let (kind, text) = if action == Action::Note {
                    (Editing::Note, finding.note.clone())
                } else {
                    (Editing::Location, finding.location.clone())
                };
                let f = TextField::prefilled(
                    TextKind::Text { long: false },
                    text.as_deref().unwrap_or(""),
                );
                self.editing = Some((kind, f));
                ChecklistEvent::None
            }
            // Any other letter: say what this row takes instead of ignoring it.
            Action::Char(c) => ChecklistEvent::Invalid(format!(
                "`{c}` does nothing here: this item takes {}; n note, l location, u urgent",
                eva::accepts(q)
            )),
            _ => ChecklistEvent::None,
        }
    }

    pub fn render(
        &self,
        survey: &Survey,
        answers: &Answers,
        findings: &BTreeMap<String, Finding>,
        lang: &str,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
    ) {
        let rows = self.rows(survey, answers);
        let current = rows.get(self.row).copied();
        let [head, table, detail, edit] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(4),
            Constraint::Length(3),
            Constraint::Length(if self.editing.is_some() { 3 } else { 0 }),
        ])
        .areas(area);
        let width = area.width as usize;
        let name_w = width.saturating_sub(26).clamp(16, 40);
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    "  {:<name_w$} {:<7} {:<3} {}",
                    "Item", "Answer", "Urg", "Note / location"
                ),
                theme.title,
            )),
            head,
        );
        let lines: Vec<Row> = rows
            .iter()
            .map(|&i| {
                let q = &survey.questions[i];
                let answer = match answers.get(&q.id) {
                    None => "·".to_owned(),
                    Some(Answer::Skipped) => "skip".to_owned(),
                    Some(Answer::YesNo(b)) => if *b { "yes" } else { "no" }.to_owned(),
                    Some(Answer::Choice(v)) => q
                        .choices()
                        .iter()
                        .find(|c| &c.value == v)
                        .map(|c| c.label.get(lang).to_owned())
                        .unwrap_or_else(|| v.clone()),
                    Some(a) => a.to_string(),
                };
                let f = findings.get(&q.id);
                let urgent = if is_urgent(q, answers, f) { "!" } else { "" };
                let mut notes = Vec::new();
                if let Some(l) = f.and_then(|f| f.location.as_deref()) {
                    notes.push(format!("@ {l}"));
                }
                if let Some(n) = f.and_then(|f| f.note.as_deref()) {
                    notes.push(n.to_owned());
                }
                let name: String = q.text.get(lang).chars().take(name_w).collect();
                let answer: String = answer.chars().take(7).collect();
                Row::new([name, answer, urgent.to_owned(), notes.join(" · ")])
            })
            .collect();
        let widths = [
            Constraint::Length(name_w as u16),
            Constraint::Length(7),
            Constraint::Length(3),
            Constraint::Fill(1),
        ];
        frame.render_stateful_widget(
            SelectableList::new(lines, widths, theme),
            table,
            &mut list::state(Some(self.row)),
        );
        if let Some(q) = current.map(|i| &survey.questions[i]) {
            let keys = match &q.kind {
                QuestionKind::Grade => "a–d grade, + / − for B+ B− C−".to_owned(),
                QuestionKind::Count { .. } => {
                    "digits: the count (Backspace deletes a digit)".to_owned()
                }
                QuestionKind::YesNo => "y or 1 yes, 0 no".to_owned(),
                QuestionKind::Single { choices } => choices
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{} {}", i + 1, c.label.get(lang)))
                    .collect::<Vec<_>>()
                    .join(" · "),
                QuestionKind::Text { .. } => "Enter to type it".to_owned(),
                other => other.name().to_owned(),
            };
            let agency = q
                .item
                .as_ref()
                .and_then(|i| i.agency.as_deref())
                .map(|a| format!(" · usually {a}"))
                .unwrap_or_default();
            let help = q
                .help
                .as_ref()
                .map(|h| h.get(lang).to_owned())
                .unwrap_or_default();
            let detail_lines = vec![
                Line::from(vec![Span::styled(keys, theme.notice), Span::raw(agency)]),
                Line::from(help),
            ];
            frame.render_widget(
                Paragraph::new(detail_lines).wrap(Wrap { trim: true }),
                detail,
            );
        }
        if let Some((kind, field)) = &self.editing {
            let label = match kind {
                Editing::Note => "Note",
                Editing::Location => "Fixed-reference location",
                Editing::Text => "Answer",
            };
            let [l, f] = Layout::horizontal([
                Constraint::Length(label.len() as u16 + 2),
                Constraint::Min(10),
            ])
            .areas(edit);
            frame.render_widget(
                Paragraph::new(Line::styled(format!("{label}:"), theme.title)),
                Rect {
                    y: l.y + 1,
                    height: 1,
                    ..l
                },
            );
            field.render(frame, f, theme);
        }
    }
}
