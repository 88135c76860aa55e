//! A list of choices: single (a digit picks and moves on) or multiple (space or a digit
//! ticks, Enter confirms). Typing filters long lists; issue coding adds "other: text".

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use tui_input::{Input, InputRequest};

use crate::survey::Choice;
use crate::survey::model::LocalText;
use crate::survey::taxonomy::OTHER;
use crate::tui::action::Action;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub struct Opt {
    pub value: String,
    pub label: LocalText,
}

impl Opt {
    pub fn new(value: &str, label: LocalText) -> Opt {
        Opt {
            value: value.to_owned(),
            label,
        }
    }

    pub fn from_choice(c: &Choice) -> Opt {
        Opt::new(&c.value, c.label.clone())
    }
}

pub enum Outcome {
    None,
    Back,
    Invalid(String),
    Chosen(Vec<String>, Option<String>),
}

#[derive(Debug, Clone)]
pub struct ChoiceList {
    options: Vec<Opt>,
    multi: bool,
    /// Ticked values, in the order ticked (single: the current answer, if any).
    selected: Vec<String>,
    /// Index into the visible (filtered) options.
    highlight: usize,
    filter: String,
    /// Issue coding: the words for "other".
    other: Option<Input>,
    editing_other: bool,
}

impl ChoiceList {
    pub fn single(options: Vec<Opt>, current: Option<String>) -> ChoiceList {
        let highlight = current
            .as_ref()
            .and_then(|c| options.iter().position(|o| &o.value == c))
            .unwrap_or(0);
        ChoiceList {
            options,
            multi: false,
            selected: current.into_iter().collect(),
            highlight,
            filter: String::new(),
            other: None,
            editing_other: false,
        }
    }

    pub fn multi(options: Vec<Opt>, selected: Vec<String>, other: Option<String>) -> ChoiceList {
        let selected = selected
            .into_iter()
            .filter(|v| options.iter().any(|o| &o.value == v))
            .collect();
        ChoiceList {
            options,
            multi: true,
            selected,
            highlight: 0,
            filter: String::new(),
            other: other.map(Input::new),
            editing_other: false,
        }
    }

    pub fn is_multi(&self) -> bool {
        self.multi
    }

    pub fn editing_other(&self) -> bool {
        self.editing_other
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    pub fn selected(&self) -> &[String] {
        &self.selected
    }

    /// Options matching the filter (case-insensitive, in the current language or by value).
    pub fn visible(&self, lang: &str) -> Vec<&Opt> {
        let f = self.filter.to_lowercase();
        self.options
            .iter()
            .filter(|o| {
                f.is_empty()
                    || o.label.get(lang).to_lowercase().contains(&f)
                    || o.value.contains(&f)
            })
            .collect()
    }

    pub fn handle(&mut self, action: Action, lang: &str) -> Outcome {
        if self.editing_other {
            return self.handle_other(action);
        }
        let count = self.visible(lang).len();
        match action {
            Action::Up => {
                self.highlight = self.highlight.saturating_sub(1);
                Outcome::None
            }
            Action::Down => {
                if self.highlight + 1 < count {
                    self.highlight += 1;
                }
                Outcome::None
            }
            Action::PageUp => {
                self.highlight = self.highlight.saturating_sub(9);
                Outcome::None
            }
            Action::PageDown => {
                self.highlight = (self.highlight + 9).min(count.saturating_sub(1));
                Outcome::None
            }
            Action::Digit(d) => {
                // 1–9 pick the first nine shown; 0 the tenth.
                let n = if d == 0 { 10 } else { d as usize };
                if n > count {
                    return Outcome::Invalid(format!("There is no choice {n} here"));
                }
                self.highlight = n - 1;
                if self.multi {
                    self.toggle(lang)
                } else {
                    self.choose(lang)
                }
            }
            Action::Toggle if self.multi => self.toggle(lang),
            Action::Confirm => {
                if self.multi {
                    if self.selected.is_empty() {
                        return Outcome::Invalid(
                            "Tick at least one (Space), or skip with ^S".into(),
                        );
                    }
                    Outcome::Chosen(
                        self.selected.clone(),
                        self.other.as_ref().map(|i| i.value().trim().to_owned()),
                    )
                } else if count == 0 {
                    Outcome::Invalid("Nothing matches what you typed".into())
                } else {
                    self.choose(lang)
                }
            }
            Action::Char(c) if c.is_alphanumeric() || c == ' ' || c == '\'' || c == '-' => {
                self.filter.push(c);
                self.highlight = 0;
                Outcome::None
            }
            Action::Backspace => {
                if self.filter.pop().is_some() {
                    self.highlight = 0;
                    Outcome::None
                } else {
                    Outcome::Back
                }
            }
            Action::Back => Outcome::Back,
            _ => Outcome::None,
        }
    }

    fn choose(&mut self, lang: &str) -> Outcome {
        let Some(opt) = self
            .visible(lang)
            .get(self.highlight)
            .map(|o| o.value.clone())
        else {
            return Outcome::None;
        };
        self.selected = vec![opt.clone()];
        Outcome::Chosen(vec![opt], None)
    }

    fn toggle(&mut self, lang: &str) -> Outcome {
        let Some(value) = self
            .visible(lang)
            .get(self.highlight)
            .map(|o| o.value.clone())
        else {
            return Outcome::None;
        };
        if let Some(i) = self.selected.iter().position(|v| *v == value) {
            self.selected.remove(i);
        } else {
            self.selected.push(value.clone());
            // Ticking "other" asks what it is straight away.
            if value == OTHER && self.other.is_some() {
                self.editing_other = true;
            }
        }
        self.filter.clear();
        Outcome::None
    }

    fn handle_other(&mut self, action: Action) -> Outcome {
        let Some(input) = self.other.as_mut() else {
            self.editing_other = false;
            return Outcome::None;
        };
        match action {
            Action::Confirm => {
                if input.value().trim().is_empty() {
                    return Outcome::Invalid("Say what the \"other\" issue is".into());
                }
                self.editing_other = false;
            }
            Action::Char(c) => {
                input.handle(InputRequest::InsertChar(c));
            }
            Action::Backspace => {
                if input.value().is_empty() {
                    // Nothing typed: untick "other" again.
                    self.editing_other = false;
                    self.selected.retain(|v| v != OTHER);
                } else {
                    input.handle(InputRequest::DeletePrevChar);
                }
            }
            Action::CursorLeft => {
                input.handle(InputRequest::GoToPrevChar);
            }
            Action::CursorRight => {
                input.handle(InputRequest::GoToNextChar);
            }
            Action::CursorHome => {
                input.handle(InputRequest::GoToStart);
            }
            Action::CursorEnd => {
                input.handle(InputRequest::GoToEnd);
            }
            Action::Delete => {
                input.handle(InputRequest::DeleteNextChar);
            }
            _ => {}
        }
        Outcome::None
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, lang: &str, theme: &Theme) {
        let has_other = self.other.is_some() && self.selected.iter().any(|v| v == OTHER);
        let [list_area, other_area, filter_area] = Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(if has_other { 1 } else { 0 }),
            Constraint::Length(if self.filter.is_empty() { 0 } else { 1 }),
        ])
        .areas(area);
        let visible = self.visible(lang);
        let rows = list_area.height as usize;
        // Keep the highlighted row on screen.
        let start = if rows == 0 {
            0
        } else {
            self.highlight.saturating_sub(rows.saturating_sub(1))
        };
        let lines: Vec<Line> = visible
            .iter()
            .enumerate()
            .skip(start)
            .take(rows)
            .map(|(i, o)| {
                let number = match i {
                    0..=8 => format!("{}", i + 1),
                    9 => "0".to_owned(),
                    _ => " ".to_owned(),
                };
                let ticked = self.selected.contains(&o.value);
                let mark = match (self.multi, ticked) {
                    (true, true) => "[x]",
                    (true, false) => "[ ]",
                    (false, true) => "(•)",
                    (false, false) => "( )",
                };
                let pointer = if i == self.highlight { "▶" } else { " " };
                let text = format!("{pointer}{number:>2} {mark} {}", o.label.get(lang));
                if i == self.highlight && !self.editing_other {
                    Line::from(Span::styled(text, theme.highlight))
                } else {
                    Line::from(text)
                }
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), list_area);
        if has_other && let Some(input) = &self.other {
            let label = "Other: ";
            let line = Line::from(vec![
                Span::styled(label, theme.title),
                Span::raw(input.value()),
            ]);
            frame.render_widget(Paragraph::new(line), other_area);
            if self.editing_other {
                let x = other_area.x + label.len() as u16 + input.visual_cursor() as u16;
                frame.set_cursor_position((
                    x.min(other_area.right().saturating_sub(1)),
                    other_area.y,
                ));
            }
        }
        if !self.filter.is_empty() {
            let shown = format!(
                "Filter: {}  ({} of {} shown; Backspace clears)",
                self.filter,
                visible.len(),
                self.options.len()
            );
            frame.render_widget(
                Paragraph::new(Line::styled(shown, theme.notice)),
                filter_area,
            );
        }
    }
}
