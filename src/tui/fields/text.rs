//! Typed answers: text, numbers, counts, dates and times, with proper cursor editing.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use tui_input::{Input, InputRequest};

use super::FieldEvent;
use crate::survey::Answer;
use crate::tui::action::Action;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Text { long: bool },
    Number { integer: bool },
    Count,
    Date,
    Time,
    DateTime,
}

impl TextKind {
    fn hint(self) -> &'static str {
        match self {
            TextKind::Text { .. } => "type the answer, Enter to save",
            TextKind::Number { integer: true } => "a whole number",
            TextKind::Number { integer: false } => "a number, e.g. 2.5",
            TextKind::Count => "how many (0 or more)",
            TextKind::Date => "date as YYYY-MM-DD (or DD/MM/YYYY)",
            TextKind::Time => "time as HH:MM (24-hour)",
            TextKind::DateTime => "YYYY-MM-DD HH:MM",
        }
    }

    /// Whether a typed character can be part of this kind of answer.
    fn accepts(self, c: char) -> bool {
        match self {
            TextKind::Text { .. } => true,
            TextKind::Number { .. } => c.is_ascii_digit() || matches!(c, '.' | ',' | '-'),
            TextKind::Count => c.is_ascii_digit(),
            TextKind::Date => c.is_ascii_digit() || matches!(c, '-' | '/'),
            TextKind::Time => c.is_ascii_digit() || c == ':',
            TextKind::DateTime => c.is_ascii_digit() || matches!(c, '-' | '/' | ':' | ' '),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TextField {
    kind: TextKind,
    input: Input,
    /// The most characters the answer may have; typing stops there, with a counter shown.
    max_len: Option<usize>,
    /// Whether the officer changed what the field started with (the stored answer, or
    /// now for dates): only that is typing worth keeping.
    edited: bool,
    /// A pre-filled value (the remembered street, now, the officer's id) is selected as a
    /// whole: typing or pasting replaces it and Backspace clears it, as in any form.
    /// Moving the cursor keeps it for editing.
    selected: bool,
    /// A date started at now records when something happened (the walk): a later one is a
    /// slip of the keyboard and is refused.
    not_after: Option<NaiveDateTime>,
}

impl TextField {
    pub fn new(kind: TextKind, current: Option<&Answer>) -> TextField {
        let text = match current {
            Some(Answer::Skipped) | None => String::new(),
            Some(a) => a.to_string(),
        };
        TextField {
            kind,
            input: Input::new(text),
            max_len: None,
            edited: false,
            selected: false,
            not_after: None,
        }
    }

    /// Refuses input past `max` characters as it is typed or pasted.
    pub fn with_limit(mut self, max: Option<usize>) -> TextField {
        self.max_len = max;
        self
    }

    /// Puts back text typed earlier but not confirmed (cut to the limit).
    pub fn with_text(mut self, text: &str) -> TextField {
        self.input = Input::new(String::new());
        self.selected = false;
        self.paste(text);
        self
    }

    fn room(&self) -> usize {
        self.max_len.map_or(usize::MAX, |m| {
            m.saturating_sub(self.input.value().chars().count())
        })
    }

    /// Inserts pasted text at the cursor in one go: characters this kind cannot hold are
    /// refused (with a message), and text past the limit is cut (with a message). A
    /// selected pre-filled value is replaced by the paste, as typing replaces it.
    pub fn paste(&mut self, text: &str) -> FieldEvent {
        self.edited = true;
        let long = matches!(self.kind, TextKind::Text { long: true });
        // A one-line field takes a pasted line break as a space.
        let cleaned: String = text
            .chars()
            .map(|c| {
                if c == '\n' || c == '\r' || c == '\t' {
                    ' '
                } else {
                    c
                }
            })
            .filter(|c| !c.is_control())
            .collect();
        let cleaned = if long {
            cleaned
        } else {
            cleaned.trim().to_owned()
        };
        if let Some(bad) = cleaned.chars().find(|c| !self.kind.accepts(*c)) {
            return FieldEvent::Invalid(format!(
                "Nothing pasted: `{bad}` cannot be part of {}",
                self.kind.hint()
            ));
        }
        if self.selected && !cleaned.is_empty() {
            self.selected = false;
            self.input = Input::default();
        }
        let room = self.room();
        let total = cleaned.chars().count();
        let value = self.input.value();
        let at = value
            .char_indices()
            .nth(self.input.cursor())
            .map_or(value.len(), |(i, _)| i);
        let kept: String = cleaned.chars().take(room).collect();
        let mut new = value.to_owned();
        new.insert_str(at, &kept);
        let cursor = self.input.cursor() + kept.chars().count();
        self.input = Input::new(new).with_cursor(cursor);
        if total > room {
            FieldEvent::Invalid(format!(
                "Only {room} of the {total} characters pasted fit: the answer takes at most {}",
                self.max_len.unwrap_or(0)
            ))
        } else {
            FieldEvent::None
        }
    }

    /// A field showing `text` as a suggestion: the first key typed replaces it.
    pub fn prefilled(kind: TextKind, text: &str) -> TextField {
        TextField {
            kind,
            input: Input::new(text.to_owned()),
            max_len: None,
            edited: false,
            selected: !text.is_empty(),
            not_after: None,
        }
    }

    /// Whether the value is a suggestion that typing replaces.
    pub fn is_selected(&self) -> bool {
        self.selected
    }

    /// Dates and times start at now: most audits are recorded as they happen.
    pub fn with_now(kind: TextKind, current: Option<&Answer>, now: NaiveDateTime) -> TextField {
        let mut f = TextField::new(kind, current);
        if matches!(kind, TextKind::Date | TextKind::DateTime) {
            f.not_after = Some(now);
        }
        if f.input.value().is_empty() {
            let text = match kind {
                TextKind::Date => now.format("%Y-%m-%d").to_string(),
                TextKind::Time => now.format("%H:%M").to_string(),
                TextKind::DateTime => now.format("%Y-%m-%d %H:%M").to_string(),
                _ => String::new(),
            };
            f.selected = !text.is_empty();
            f.input = Input::new(text);
        }
        f
    }

    /// The text, if the officer changed what the field started with.
    pub fn edited(&self) -> Option<&str> {
        self.edited.then(|| self.input.value())
    }

    pub fn value(&self) -> &str {
        self.input.value()
    }

    /// For drawing the text on one row `width` cells wide: how far it is scrolled and
    /// where the cursor is in the row.
    pub fn scroll_and_cursor(&self, width: usize) -> (usize, usize) {
        let scroll = self.input.visual_scroll(width);
        (scroll, self.input.visual_cursor().saturating_sub(scroll))
    }

    pub fn handle(&mut self, action: Action) -> FieldEvent {
        if matches!(
            action,
            Action::Char(_) | Action::Backspace | Action::Delete | Action::ClearField
        ) {
            self.edited = true;
        }
        if self.selected {
            match action {
                Action::Char(c) if self.kind.accepts(c) => {
                    self.selected = false;
                    self.input = Input::default();
                }
                Action::Backspace | Action::Delete => {
                    self.selected = false;
                    self.input = Input::default();
                    return FieldEvent::None;
                }
                Action::CursorLeft
                | Action::CursorRight
                | Action::CursorHome
                | Action::CursorEnd
                | Action::ClearField => self.selected = false,
                _ => {}
            }
        }
        let req = match action {
            Action::Char(c) => {
                if !self.kind.accepts(c) {
                    return FieldEvent::Invalid(format!(
                        "`{c}` cannot be part of {}",
                        self.kind.hint()
                    ));
                }
                if self.room() == 0 {
                    return FieldEvent::Invalid(format!(
                        "At most {} characters: that is the limit (^U clears the field)",
                        self.max_len.unwrap_or(0)
                    ));
                }
                InputRequest::InsertChar(c)
            }
            Action::ClearField => {
                self.input = Input::new(String::new());
                return FieldEvent::None;
            }
            Action::Backspace => {
                if self.input.value().is_empty() {
                    return FieldEvent::Back;
                }
                InputRequest::DeletePrevChar
            }
            Action::Back => return FieldEvent::Back,
            Action::Delete => InputRequest::DeleteNextChar,
            Action::CursorLeft => InputRequest::GoToPrevChar,
            Action::CursorRight => InputRequest::GoToNextChar,
            Action::CursorHome => InputRequest::GoToStart,
            Action::CursorEnd => InputRequest::GoToEnd,
            Action::Confirm => {
                return match parse(self.kind, self.input.value()) {
                    Ok(a) => match self.not_after.and_then(|now| in_future(&a, now)) {
                        Some(m) => FieldEvent::Invalid(m),
                        None => FieldEvent::Submit(a),
                    },
                    Err(m) => FieldEvent::Invalid(m),
                };
            }
            _ => return FieldEvent::None,
        };
        self.input.handle(req);
        FieldEvent::None
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let height = match self.kind {
            TextKind::Text { long: true } => 5,
            _ => 3,
        }
        .min(area.height);
        let box_area = Rect { height, ..area };
        let inner_width = box_area.width.saturating_sub(2).max(1) as usize;
        let hint = if self.selected {
            format!(" {} — typing replaces it ", self.kind.hint())
        } else {
            format!(" {} ", self.kind.hint())
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(hint, theme.dim));
        let block = match self.max_len {
            Some(max) => block.title(
                Line::styled(
                    format!(" {}/{max} ", self.input.value().chars().count()),
                    if self.room() == 0 {
                        theme.error
                    } else {
                        theme.dim
                    },
                )
                .right_aligned(),
            ),
            None => block,
        };
        // The selected suggestion is drawn in reverse video, as selected text is anywhere.
        let value_style = if self.selected {
            theme.highlight
        } else {
            ratatui::style::Style::default()
        };
        let inner = block.inner(box_area);
        frame.render_widget(block, box_area);
        // Long answers wrap over the box's lines; short ones scroll sideways.
        if let TextKind::Text { long: true } = self.kind {
            let chars: Vec<char> = self.input.value().chars().collect();
            let lines: Vec<Line> = chars
                .chunks(inner_width)
                .map(|c| Line::styled(c.iter().collect::<String>(), value_style))
                .collect();
            let skip = lines.len().saturating_sub(inner.height as usize);
            frame.render_widget(
                Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()),
                inner,
            );
            let cur = self.input.visual_cursor();
            let (row, col) = (cur / inner_width, cur % inner_width);
            let row = row.saturating_sub(skip);
            frame.set_cursor_position((
                inner.x + col as u16,
                inner.y + (row as u16).min(inner.height.saturating_sub(1)),
            ));
        } else {
            let scroll = self.input.visual_scroll(inner_width);
            frame.render_widget(
                Paragraph::new(Span::styled(self.input.value(), value_style))
                    .scroll((0, scroll as u16)),
                inner,
            );
            let x = self.input.visual_cursor().saturating_sub(scroll) as u16;
            frame.set_cursor_position((inner.x + x, inner.y));
        }
    }
}

/// Why a date or date and time after `now` (to the minute) is refused, if it is.
fn in_future(answer: &Answer, now: NaiveDateTime) -> Option<String> {
    let later = match answer {
        Answer::Date(d) => *d > now.date(),
        Answer::DateTime(t) => {
            let this_minute = now
                .with_second(0)
                .and_then(|n| n.with_nanosecond(0))
                .unwrap_or(now);
            *t > this_minute
        }
        _ => false,
    };
    later.then(|| {
        format!(
            "{answer} is in the future (it is now {}): give when it happened",
            now.format("%Y-%m-%d %H:%M")
        )
    })
}

/// Turns typed text into an answer of this kind, or says why it cannot be one.
pub fn parse(kind: TextKind, text: &str) -> Result<Answer, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("Type an answer, or skip with ^S if the question is optional".into());
    }
    match kind {
        TextKind::Text { .. } => Ok(Answer::Text(t.to_owned())),
        TextKind::Number { integer } => {
            let n: f64 = t
                .replace(',', ".")
                .parse()
                .map_err(|_| format!("`{t}` is not a number"))?;
            if !n.is_finite() {
                return Err(format!("`{t}` is not a number"));
            }
            if integer && n.fract() != 0.0 {
                return Err("Enter a whole number".into());
            }
            Ok(Answer::Number(n))
        }
        TextKind::Count => t
            .parse::<u64>()
            .map(Answer::Count)
            .map_err(|_| format!("`{t}` is not a count (0 or more)")),
        TextKind::Date => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
            .map(Answer::Date)
            .map_err(|_| format!("`{t}` is not a date like 2026-11-23")),
        TextKind::Time => NaiveTime::parse_from_str(t, "%H:%M")
            .map(Answer::Time)
            .map_err(|_| format!("`{t}` is not a time like 18:30")),
        TextKind::DateTime => NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(t, "%d/%m/%Y %H:%M"))
            .map(Answer::DateTime)
            .map_err(|_| format!("`{t}` is not a date and time like 2026-11-23 18:30")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_becomes_typed_answers_or_a_clear_message() {
        assert_eq!(
            parse(TextKind::Number { integer: false }, "2,5"),
            Ok(Answer::Number(2.5))
        );
        assert_eq!(
            parse(TextKind::Number { integer: true }, "2.5"),
            Err("Enter a whole number".into())
        );
        assert_eq!(parse(TextKind::Count, "12"), Ok(Answer::Count(12)));
        assert_eq!(
            parse(TextKind::Count, "-1"),
            Err("`-1` is not a count (0 or more)".into())
        );
        assert_eq!(
            parse(TextKind::Date, "23/11/2026"),
            Ok(Answer::Date(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()))
        );
        assert_eq!(
            parse(TextKind::Date, "2026-02-30"),
            Err("`2026-02-30` is not a date like 2026-11-23".into())
        );
        assert_eq!(
            parse(TextKind::Time, "25:00"),
            Err("`25:00` is not a time like 18:30".into())
        );
        assert!(parse(TextKind::Text { long: false }, "   ").is_err());
    }

    #[test]
    fn editing_moves_the_cursor_and_backspace_on_empty_goes_back() {
        let mut f = TextField::new(TextKind::Text { long: false }, None);
        for c in "helo".chars() {
            f.handle(Action::Char(c));
        }
        f.handle(Action::CursorLeft);
        f.handle(Action::Char('l'));
        assert_eq!(f.value(), "hello");
        f.handle(Action::CursorHome);
        f.handle(Action::Delete);
        assert_eq!(f.value(), "ello");
        for _ in 0..4 {
            f.handle(Action::CursorEnd);
            f.handle(Action::Backspace);
        }
        assert_eq!(f.handle(Action::Backspace), FieldEvent::Back);
        let mut n = TextField::new(TextKind::Count, None);
        assert!(matches!(
            n.handle(Action::Char('x')),
            FieldEvent::Invalid(_)
        ));
        assert_eq!(n.value(), "");
    }

    #[test]
    fn a_prefilled_value_is_replaced_by_typing_cleared_by_backspace_kept_by_enter() {
        let mut f = TextField::prefilled(TextKind::Text { long: false }, "Ormskirk Road");
        for c in "Lamberhead Road".chars() {
            f.handle(Action::Char(c));
        }
        assert_eq!(f.value(), "Lamberhead Road");
        let mut f = TextField::prefilled(TextKind::Text { long: false }, "Ormskirk Road");
        assert_eq!(f.handle(Action::Backspace), FieldEvent::None);
        assert_eq!(f.value(), "");
        assert_eq!(f.handle(Action::Backspace), FieldEvent::Back);
        let mut f = TextField::prefilled(TextKind::Text { long: false }, "Ormskirk Road");
        assert_eq!(
            f.handle(Action::Confirm),
            FieldEvent::Submit(Answer::Text("Ormskirk Road".into()))
        );
        // Moving the cursor keeps the value for editing.
        f.handle(Action::CursorEnd);
        f.handle(Action::Char('s'));
        assert_eq!(f.value(), "Ormskirk Roads");
        // A key the kind refuses leaves the suggestion in place.
        let now = NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(10, 5, 0)
            .unwrap();
        let mut d = TextField::with_now(TextKind::Date, None, now);
        assert!(d.is_selected());
        assert!(matches!(
            d.handle(Action::Char('x')),
            FieldEvent::Invalid(_)
        ));
        assert_eq!(d.value(), "2026-11-23");
        for c in "2026-11-20".chars() {
            d.handle(Action::Char(c));
        }
        assert_eq!(d.value(), "2026-11-20");
        assert!(!TextField::prefilled(TextKind::Count, "").is_selected());
    }

    #[test]
    fn a_date_started_at_now_refuses_a_later_one() {
        let now = NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(10, 5, 30)
            .unwrap();
        let typed = |kind: TextKind, text: &str| {
            let mut f = TextField::with_now(kind, None, now);
            for c in text.chars() {
                f.handle(Action::Char(c));
            }
            f.handle(Action::Confirm)
        };
        assert_eq!(
            typed(TextKind::DateTime, "2026-11-23 10:06"),
            FieldEvent::Invalid(
                "2026-11-23 10:06 is in the future (it is now 2026-11-23 10:05): give when it happened"
                    .into()
            )
        );
        assert!(matches!(
            typed(TextKind::DateTime, "2026-11-23 10:05"),
            FieldEvent::Submit(_)
        ));
        assert!(matches!(
            typed(TextKind::DateTime, "2026-11-20 18:00"),
            FieldEvent::Submit(_)
        ));
        assert!(matches!(
            typed(TextKind::Date, "2026-11-24"),
            FieldEvent::Invalid(_)
        ));
        assert!(matches!(
            typed(TextKind::Date, "2026-11-23"),
            FieldEvent::Submit(_)
        ));
        // Times alone and fields not started at now are not judged.
        assert!(matches!(
            typed(TextKind::Time, "23:59"),
            FieldEvent::Submit(_)
        ));
    }
}

#[cfg(test)]
mod paste_tests {
    use super::*;

    #[test]
    fn a_paste_goes_in_at_once_or_not_at_all() {
        let mut n = TextField::new(TextKind::Count, None);
        n.handle(Action::Char('1'));
        assert!(matches!(n.paste("2a"), FieldEvent::Invalid(m) if m.contains("`a`")));
        assert_eq!(n.value(), "1", "nothing of a bad paste goes in");
        assert_eq!(n.paste("23\n"), FieldEvent::None);
        assert_eq!(n.value(), "123");
        let mut t = TextField::new(TextKind::Text { long: false }, None).with_limit(Some(5));
        t.handle(Action::Char('a'));
        t.handle(Action::CursorHome);
        assert!(
            matches!(t.paste("xyzwvu"), FieldEvent::Invalid(m) if m.starts_with("Only 4 of the 6"))
        );
        assert_eq!(
            t.value(),
            "xyzwa",
            "inserted at the cursor, cut at the limit"
        );
        assert!(matches!(
            t.handle(Action::Char('b')),
            FieldEvent::Invalid(_)
        ));
        assert_eq!(t.handle(Action::ClearField), FieldEvent::None);
        assert_eq!(t.value(), "");
    }
}

#[cfg(test)]
mod selected_paste_tests {
    use super::*;

    #[test]
    fn a_paste_into_a_selected_prefilled_value_replaces_it() {
        let mut f = TextField::prefilled(TextKind::Text { long: false }, "Ormskirk Road")
            .with_limit(Some(20));
        assert_eq!(f.paste("Lamberhead Road"), FieldEvent::None);
        assert_eq!(f.value(), "Lamberhead Road");
        assert!(!f.is_selected());
        assert_eq!(f.edited(), Some("Lamberhead Road"));
        // A refused paste leaves the suggestion in place, still selected.
        let mut d = TextField::prefilled(TextKind::Count, "3");
        assert!(matches!(d.paste("x"), FieldEvent::Invalid(_)));
        assert_eq!(d.value(), "3");
        assert!(d.is_selected());
        // The limit counts from empty, not from the suggestion being replaced.
        let mut t =
            TextField::prefilled(TextKind::Text { long: false }, "abcd").with_limit(Some(5));
        assert!(
            matches!(t.paste("vwxyz!"), FieldEvent::Invalid(m) if m.starts_with("Only 5 of the 6"))
        );
        assert_eq!(t.value(), "vwxyz");
    }
}
