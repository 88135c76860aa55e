//! A list of choices: single (a digit picks and moves on) or multiple (space or a digit
//! ticks, Enter confirms). Typing filters long lists; issue coding adds "other: text".
//!
//! Nothing is ever chosen for the officer: an unanswered list has no highlight until the
//! officer moves, so Enter alone records nothing; on a question answered before, a digit
//! only marks the new choice and Enter is needed to replace the stored answer.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Wrap};
use tui_input::{Input, InputRequest};

use crate::survey::Choice;
use crate::survey::model::LocalText;
use crate::survey::taxonomy::OTHER;
use crate::tui::action::Action;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::{self, SelectableList};

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

/// What Backspace says when there is nothing left to delete: it never leaves the question.
pub const BACK_HINT: &str =
    "Nothing to delete: ⇧Tab (Shift+Tab, or ← in a list) goes to the previous question";

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
    /// Index into the visible (filtered) options; `None` until the officer moves (or an
    /// earlier answer is shown), so Enter has nothing to pick by accident.
    highlight: Option<usize>,
    /// The question was answered before: a digit marks a new choice, Enter confirms it.
    answered: bool,
    /// What the last tick did, to show under the list (filtered lists hide the rest).
    notice: Option<String>,
    filter: String,
    /// Issue coding: the words for "other".
    other: Option<Input>,
    editing_other: bool,
}

impl ChoiceList {
    pub fn single(options: Vec<Opt>, current: Option<String>) -> ChoiceList {
        let highlight = current
            .as_ref()
            .and_then(|c| options.iter().position(|o| &o.value == c));
        let selected: Vec<String> = current
            .into_iter()
            .filter(|c| options.iter().any(|o| &o.value == c))
            .collect();
        ChoiceList {
            options,
            multi: false,
            answered: !selected.is_empty(),
            selected,
            highlight,
            notice: None,
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
            highlight: None,
            answered: false,
            notice: None,
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

    /// Whether the question was answered before this list was opened.
    pub fn was_answered(&self) -> bool {
        self.answered
    }

    /// The highlighted row (in the visible options), if the officer has moved to one.
    pub fn highlight(&self) -> Option<usize> {
        self.highlight
    }

    pub fn handle(&mut self, action: Action, lang: &str) -> Outcome {
        if self.editing_other {
            return self.handle_other(action);
        }
        let count = self.visible(lang).len();
        let last = count.saturating_sub(1);
        if !matches!(action, Action::Toggle | Action::Digit(_)) {
            self.notice = None;
        }
        match action {
            Action::Up => {
                self.highlight = Some(self.highlight.map_or(0, |h| h.saturating_sub(1)));
                Outcome::None
            }
            Action::Down => {
                self.highlight = Some(self.highlight.map_or(0, |h| (h + 1).min(last)));
                Outcome::None
            }
            Action::PageUp => {
                self.highlight = Some(self.highlight.unwrap_or(0).saturating_sub(9));
                Outcome::None
            }
            Action::PageDown => {
                self.highlight = Some((self.highlight.unwrap_or(0) + 9).min(last));
                Outcome::None
            }
            Action::CursorHome => {
                self.highlight = Some(0);
                Outcome::None
            }
            Action::CursorEnd => {
                self.highlight = Some(last);
                Outcome::None
            }
            Action::Digit(d) => {
                // 1–9 pick the first nine shown; 0 the tenth.
                let n = if d == 0 { 10 } else { d as usize };
                if n > count {
                    return Outcome::Invalid(format!(
                        "There is no choice {n} here: the numbers go from 1 to {}",
                        count.min(10)
                    ));
                }
                self.highlight = Some(n - 1);
                if self.multi {
                    self.toggle(lang)
                } else if self.answered {
                    // A second key (Enter) replaces an earlier answer, never one digit.
                    self.mark(lang);
                    Outcome::None
                } else {
                    self.choose(lang)
                }
            }
            Action::Toggle if self.multi => self.toggle(lang),
            Action::Confirm => {
                if self.multi {
                    if self.selected.is_empty() {
                        return Outcome::Invalid(
                            "Nothing ticked yet: tick with a number or Space, then Enter".into(),
                        );
                    }
                    Outcome::Chosen(
                        self.selected.clone(),
                        self.other.as_ref().map(|i| i.value().trim().to_owned()),
                    )
                } else if count == 0 {
                    Outcome::Invalid("Nothing matches what you typed".into())
                } else if self.highlight.is_some() {
                    self.choose(lang)
                } else if let Some(v) = self.selected.first().cloned() {
                    Outcome::Chosen(vec![v], None)
                } else {
                    Outcome::Invalid(
                        "Nothing chosen yet: press the number of the answer given".into(),
                    )
                }
            }
            Action::Char(c) if c.is_alphanumeric() || c == ' ' || c == '\'' || c == '-' => {
                self.filter.push(c);
                self.refilter(lang);
                Outcome::None
            }
            Action::Backspace => {
                if self.filter.pop().is_some() {
                    self.refilter(lang);
                    Outcome::None
                } else {
                    Outcome::Invalid(BACK_HINT.into())
                }
            }
            Action::Back => Outcome::Back,
            _ => Outcome::None,
        }
    }

    /// After the filter changed: a single match is highlighted (typing its name picked
    /// it); otherwise nothing is, so Enter cannot pick whatever happens to be first.
    fn refilter(&mut self, lang: &str) {
        self.highlight = (self.visible(lang).len() == 1).then_some(0);
    }

    fn choose(&mut self, lang: &str) -> Outcome {
        match self.mark(lang) {
            Some(v) => Outcome::Chosen(vec![v], None),
            None => Outcome::None,
        }
    }

    /// Marks the highlighted option as the choice without submitting it.
    fn mark(&mut self, lang: &str) -> Option<String> {
        let opt = self
            .visible(lang)
            .get(self.highlight?)
            .map(|o| o.value.clone())?;
        self.selected = vec![opt.clone()];
        Some(opt)
    }

    fn toggle(&mut self, lang: &str) -> Outcome {
        let Some((value, label)) = self
            .highlight
            .and_then(|h| self.visible(lang).get(h).copied())
            .map(|o| (o.value.clone(), o.label.get(lang).to_owned()))
        else {
            return Outcome::Invalid("Highlight an item first (↑↓), or press its number".into());
        };
        let verb = if let Some(i) = self.selected.iter().position(|v| *v == value) {
            self.selected.remove(i);
            "Unticked"
        } else {
            self.selected.push(value.clone());
            // Ticking "other" asks what it is straight away.
            if value == OTHER && self.other.is_some() {
                self.editing_other = true;
            }
            "Ticked"
        };
        // The filter stays, so the next tick can come from the same short list.
        self.notice = Some(format!(
            "{verb}: {label} ({} ticked in all)",
            self.selected.len()
        ));
        Outcome::None
    }

    /// Pasted words for "other", in one go.
    pub fn paste_other(&mut self, text: &str) {
        if let Some(input) = self.other.as_mut() {
            let joined: String = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let cursor = input.cursor() + joined.chars().count();
            let value = input.value();
            let at = value
                .char_indices()
                .nth(input.cursor())
                .map_or(value.len(), |(i, _)| i);
            let mut new = value.to_owned();
            new.insert_str(at, &joined);
            *input = Input::new(new).with_cursor(cursor);
        }
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
        let visible = self.visible(lang);
        let mut status: Vec<Line> = Vec::new();
        if !self.filter.is_empty() {
            status.push(Line::styled(
                format!(
                    "Filter: {}  ({} of {} shown; Backspace deletes)",
                    self.filter,
                    visible.len(),
                    self.options.len()
                ),
                theme.notice,
            ));
        }
        if let Some(n) = &self.notice {
            status.push(Line::styled(n.clone(), theme.ok));
        }
        if self.answered && !self.multi {
            status.push(Line::styled(
                "Answered before: Enter keeps the marked answer; a number marks another, then Enter",
                theme.dim,
            ));
        }
        let width = area.width.max(1) as usize;
        let status_height: usize = status
            .iter()
            .map(|l| crate::tui::wrap::wrapped_height(&l.to_string(), width))
            .sum();
        let [list_area, other_area, status_area] = Layout::vertical([
            Constraint::Min(1),
            Constraint::Length(if has_other { 1 } else { 0 }),
            Constraint::Length(status_height as u16),
        ])
        .areas(area);
        let visible = self.visible(lang);
        let rows: Vec<Row> = visible
            .iter()
            .enumerate()
            .map(|(i, o)| {
                // 1–9 and 0 are the digit keys; rows past the tenth have none.
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
                Row::new([number, mark.to_owned(), o.label.get(lang).to_owned()])
            })
            .collect();
        // While the "other" words are typed, the row keeps its ▶ but not its reverse video,
        // so the eye goes to the text being typed.
        let list_theme = if self.editing_other {
            Theme {
                highlight: ratatui::style::Style::default(),
                ..*theme
            }
        } else {
            *theme
        };
        let list = SelectableList::new(
            rows,
            [
                Constraint::Length(1),
                Constraint::Length(3),
                Constraint::Fill(1),
            ],
            &list_theme,
        );
        frame.render_stateful_widget(list, list_area, &mut list::state(self.highlight));
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
        if !status.is_empty() {
            frame.render_widget(
                Paragraph::new(status).wrap(Wrap { trim: true }),
                status_area,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(n: usize) -> Vec<Opt> {
        (1..=n)
            .map(|i| Opt::new(&format!("v{i}"), LocalText::en(format!("Choice {i}"))))
            .collect()
    }

    #[test]
    fn enter_picks_only_what_the_officer_chose() {
        let mut c = ChoiceList::single(opts(3), None);
        assert!(matches!(
            c.handle(Action::Confirm, "en"),
            Outcome::Invalid(_)
        ));
        assert!(c.selected().is_empty());
        c.handle(Action::Down, "en");
        assert!(matches!(
            c.handle(Action::Confirm, "en"),
            Outcome::Chosen(v, None) if v == ["v1"]
        ));
        // A filter with one match highlights it; with several, none.
        let mut c = ChoiceList::single(opts(12), None);
        for ch in "choice 1".chars() {
            c.handle(Action::Char(ch), "en");
        }
        assert_eq!(c.highlight(), None, "Choice 1, 10, 11, 12 match");
        assert!(matches!(
            c.handle(Action::Confirm, "en"),
            Outcome::Invalid(_)
        ));
        c.handle(Action::Char('2'), "en");
        assert_eq!(c.highlight(), Some(0));
    }

    #[test]
    fn a_digit_on_an_answered_question_only_marks_the_new_choice() {
        let mut c = ChoiceList::single(opts(3), Some("v1".into()));
        assert!(c.was_answered());
        assert!(matches!(c.handle(Action::Digit(3), "en"), Outcome::None));
        assert_eq!(c.selected(), ["v3"]);
        assert!(matches!(
            c.handle(Action::Confirm, "en"),
            Outcome::Chosen(v, None) if v == ["v3"]
        ));
        assert!(
            matches!(c.handle(Action::Digit(9), "en"), Outcome::Invalid(m) if m.contains("1 to 3"))
        );
    }

    #[test]
    fn home_end_and_pages_move_in_long_lists_and_backspace_stays() {
        let mut c = ChoiceList::multi(opts(25), Vec::new(), None);
        c.handle(Action::CursorEnd, "en");
        assert_eq!(c.highlight(), Some(24));
        c.handle(Action::PageUp, "en");
        assert_eq!(c.highlight(), Some(15));
        c.handle(Action::CursorHome, "en");
        assert_eq!(c.highlight(), Some(0));
        assert!(matches!(c.handle(Action::Backspace, "en"), Outcome::Invalid(m) if m == BACK_HINT));
        // Space with nothing highlighted ticks nothing.
        let mut c = ChoiceList::multi(opts(3), Vec::new(), None);
        assert!(matches!(
            c.handle(Action::Toggle, "en"),
            Outcome::Invalid(_)
        ));
        assert!(c.selected().is_empty());
    }

    #[test]
    fn the_highlighted_choice_stays_in_view_with_its_digit_and_mark() {
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        let draw = |c: &ChoiceList| {
            let mut t = Terminal::new(TestBackend::new(24, 3)).unwrap();
            t.draw(|f| c.render(f, f.area(), "en", &Theme::monochrome()))
                .unwrap();
            t.backend().to_string()
        };
        let mut c = ChoiceList::single(opts(12), None);
        let top = draw(&c);
        assert!(top.starts_with("\"  1 ( ) Choice 1"), "{top}");
        // The 11th choice has no digit key; selected, it is the last row shown (9, 10, 11).
        for _ in 0..11 {
            c.handle(Action::Down, "en");
        }
        assert_eq!(c.highlight(), Some(10));
        let low = draw(&c);
        let lines: Vec<&str> = low.lines().collect();
        assert!(lines[0].starts_with("\"  9 ( ) Choice 9"), "{low}");
        assert!(lines[1].starts_with("\"  0 ( ) Choice 10"), "{low}");
        assert!(lines[2].starts_with("\"▶   ( ) Choice 11"), "{low}");
    }
}
