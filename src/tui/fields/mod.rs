//! One small type per kind of answer field, each with its own key handling and drawing.
//! A field turns actions into an answer; the interview screen stores it.

mod choice;
mod location;
mod rank;
mod text;

use chrono::NaiveDateTime;
use ratatui::Frame;
use ratatui::layout::Rect;

pub use choice::{BACK_HINT, ChoiceList, Opt};
pub use location::LocationField;
pub use rank::RankField;
pub use text::{TextField, TextKind};

use super::action::Action;
use super::keys::Mode;
use super::theme::Theme;
use crate::survey::label;
use crate::survey::model::{DateTimeMode, LocalText, QuestionKind};
use crate::survey::taxonomy::OTHER;
use crate::survey::walker::Answers;
use crate::survey::{Answer, Grade, Question, Survey};

/// What a field did with an action.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldEvent {
    /// Nothing for the screen to do (the field changed itself, or ignored the key).
    None,
    /// The interviewer gave this answer.
    Submit(Answer),
    /// The input cannot be an answer; show why.
    Invalid(String),
    /// Go to the previous question.
    Back,
}

#[derive(Debug, Clone)]
pub enum Field {
    Note,
    Choice(ChoiceList),
    Rank(RankField),
    Text(TextField),
    Location(LocationField),
}

/// Yes and No in every language of the survey's words (`words.toml`), worded as the domain
/// words them, so the field and the review agree.
pub fn yes_no_options(survey: &Survey) -> Vec<Opt> {
    vec![
        Opt::new("yes", label::yes_no_text(survey, true)),
        Opt::new("no", label::yes_no_text(survey, false)),
    ]
}

impl Field {
    /// The editor for `q`, showing `current` (the stored answer) if there is one.
    pub fn for_question(
        survey: &Survey,
        q: &Question,
        answers: &Answers,
        current: Option<&Answer>,
        now: NaiveDateTime,
    ) -> Field {
        let values = current.map(Answer::values).unwrap_or_default();
        match &q.kind {
            QuestionKind::Note => Field::Note,
            QuestionKind::Single { choices } | QuestionKind::Scale { choices, .. } => {
                Field::Choice(ChoiceList::single(
                    choices.iter().map(Opt::from_choice).collect(),
                    values.first().cloned(),
                ))
            }
            QuestionKind::YesNo => Field::Choice(ChoiceList::single(
                yes_no_options(survey),
                values.first().cloned(),
            )),
            QuestionKind::Grade => Field::Choice(ChoiceList::single(
                Grade::ALL
                    .iter()
                    .map(|g| Opt::new(g.as_str(), LocalText::en(g.as_str())))
                    .collect(),
                values.first().cloned(),
            )),
            QuestionKind::Multiple { choices, .. } => Field::Choice(ChoiceList::multi(
                choices.iter().map(Opt::from_choice).collect(),
                values,
                None,
            )),
            QuestionKind::Issues { choices, .. } => {
                // The issues, then the codes that stand alone ("nothing", "refused").
                let opts = survey
                    .taxonomy
                    .issues
                    .iter()
                    .map(|i| Opt::new(&i.id, i.label.clone()))
                    .chain(choices.iter().map(Opt::from_choice))
                    .collect();
                let other = match current {
                    Some(Answer::Issues(c)) => c.other.clone(),
                    _ => None,
                };
                Field::Choice(ChoiceList::multi(
                    opts,
                    values,
                    Some(other.unwrap_or_default()),
                ))
            }
            QuestionKind::Rank { from, max } => {
                let source = answers.get(from).map(Answer::values).unwrap_or_default();
                let opts = source
                    .iter()
                    .map(|v| Opt::new(v, label::item_label(survey, q, answers, v)))
                    .collect();
                Field::Rank(RankField::new(opts, *max as usize, values))
            }
            QuestionKind::Number { integer, .. } => Field::Text(TextField::new(
                TextKind::Number { integer: *integer },
                current,
            )),
            QuestionKind::Count { .. } => Field::Text(TextField::new(TextKind::Count, current)),
            QuestionKind::Text { long, max_len } => Field::Text(
                TextField::new(TextKind::Text { long: *long }, current)
                    .with_limit(max_len.map(|m| m as usize)),
            ),
            QuestionKind::DateTime { mode } => {
                let kind = match mode {
                    DateTimeMode::Date => TextKind::Date,
                    DateTimeMode::Time => TextKind::Time,
                    DateTimeMode::DateTime => TextKind::DateTime,
                };
                Field::Text(TextField::with_now(kind, current, now))
            }
            QuestionKind::Location { forms } => {
                Field::Location(LocationField::new(forms.clone(), current))
            }
        }
    }

    pub fn mode(&self) -> Mode {
        match self {
            Field::Note => Mode::Note,
            Field::Choice(c) if c.editing_other() => Mode::Text,
            Field::Choice(c) if c.is_multi() => Mode::Multi,
            Field::Choice(_) => Mode::Choice,
            Field::Rank(_) => Mode::Rank,
            Field::Text(_) | Field::Location(_) => Mode::Text,
        }
    }

    /// Handles one action; `kind` says how to turn values into an answer.
    pub fn handle(&mut self, action: Action, kind: &QuestionKind, lang: &str) -> FieldEvent {
        let event = self.handle_inner(action, kind, lang);
        // In an interview, Backspace never leaves the question: the previous answer would be
        // one more key from being replaced. Going back is ← or Shift+Tab.
        if action == Action::Backspace && event == FieldEvent::Back {
            return FieldEvent::Invalid(BACK_HINT.into());
        }
        event
    }

    fn handle_inner(&mut self, action: Action, kind: &QuestionKind, lang: &str) -> FieldEvent {
        match self {
            Field::Note => match action {
                Action::Confirm | Action::Digit(_) => FieldEvent::Submit(Answer::Skipped),
                Action::Back => FieldEvent::Back,
                Action::Backspace => FieldEvent::Invalid(choice::BACK_HINT.into()),
                _ => FieldEvent::None,
            },
            Field::Choice(c) => match c.handle(action, lang) {
                choice::Outcome::None => FieldEvent::None,
                choice::Outcome::Back => FieldEvent::Back,
                choice::Outcome::Invalid(m) => FieldEvent::Invalid(m),
                choice::Outcome::Chosen(values, other) => {
                    FieldEvent::Submit(to_answer(kind, values, other))
                }
            },
            Field::Rank(r) => r.handle(action),
            Field::Text(t) => t.handle(action),
            Field::Location(l) => l.handle(action),
        }
    }

    /// Pasted text, in one go (a bracketed paste, not a key per character).
    pub fn paste(&mut self, text: &str) -> FieldEvent {
        match self {
            Field::Text(t) => t.paste(text),
            Field::Location(l) => l.paste(text),
            Field::Choice(c) if c.editing_other() => {
                c.paste_other(text);
                FieldEvent::None
            }
            _ => FieldEvent::Invalid(
                "Nothing to paste into here: this question is answered with keys".into(),
            ),
        }
    }

    /// What the officer typed in the field and has not confirmed (text and location
    /// fields; a pre-filled date left as it was is not typing).
    pub fn typed(&self) -> Option<&str> {
        match self {
            Field::Text(t) => t.edited(),
            Field::Location(l) => l.edited(),
            _ => None,
        }
    }

    /// Puts back text typed before the app was closed.
    pub fn restore_typed(&mut self, text: &str) {
        match self {
            Field::Text(t) => *t = t.clone().with_text(text),
            Field::Location(l) => l.restore(text),
            _ => {}
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, lang: &str, theme: &Theme) {
        match self {
            Field::Note => {}
            Field::Choice(c) => c.render(frame, area, lang, theme),
            Field::Rank(r) => r.render(frame, area, lang, theme),
            Field::Text(t) => t.render(frame, area, theme),
            Field::Location(l) => l.render(frame, area, theme),
        }
    }
}

/// Chosen values as the answer type the question takes.
fn to_answer(kind: &QuestionKind, values: Vec<String>, other: Option<String>) -> Answer {
    let first = values.first().cloned().unwrap_or_default();
    match kind {
        QuestionKind::YesNo => Answer::YesNo(first == "yes"),
        QuestionKind::Grade => Grade::parse(&first)
            .map(Answer::Grade)
            .unwrap_or(Answer::Choice(first)),
        QuestionKind::Multiple { .. } => Answer::Choices(values),
        QuestionKind::Issues { .. } => {
            let has_other = values.iter().any(|v| v == OTHER);
            Answer::Issues(crate::survey::IssueCoding {
                issues: values,
                other: if has_other {
                    other.filter(|t| !t.trim().is_empty())
                } else {
                    None
                },
            })
        }
        _ => Answer::Choice(first),
    }
}
