//! The form of the actions screen: one row per field, ↑↓ between them, Tab through the
//! choices of a choice field (area, issue, status), Enter on to the next field and, on the
//! last row, saves. The same fields as `doorstep actions add|update`, checked by the same
//! domain code ([`crate::action`]) so a refusal reads as the command line's does, and
//! shown under the field it is about; nothing is stored until the whole form is valid.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::action::ActionError;
use crate::tui::action::Action;
use crate::tui::fields::{FieldEvent, TextField, TextKind};
use crate::tui::theme::Theme;

/// Every field either form has; the error a domain refusal names decides which is focused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKey {
    Finding,
    Area,
    Period,
    Issue,
    Lead,
    Owner,
    Support,
    Agreed,
    Due,
    Text,
    Problem,
    Status,
    Note,
    Outcome,
    Public,
    Evidence,
    Spend,
    EscalateTo,
    Why,
}

impl FieldKey {
    /// The field a domain refusal is about.
    pub fn of_error(e: &ActionError) -> Option<FieldKey> {
        Some(match e {
            ActionError::Empty { flag, .. } | ActionError::BadDate { flag, .. } => {
                FieldKey::of_flag(flag)?
            }
            ActionError::UnknownArea(_) | ActionError::TownshipArea { .. } => FieldKey::Area,
            ActionError::BadPeriod(_) => FieldKey::Period,
            ActionError::UnknownIssue { .. } => FieldKey::Issue,
            ActionError::NoSuchFinding { .. } | ActionError::BadFindingRef(_) => FieldKey::Finding,
            ActionError::DueBeforeAgreed { .. } => FieldKey::Due,
            ActionError::BadStatus(_)
            | ActionError::EscalationWithStatus(_)
            | ActionError::NothingToChange => FieldKey::Status,
            ActionError::ReopenWithoutNote { .. } | ActionError::NotPossibleWithoutReason => {
                FieldKey::Note
            }
            ActionError::EscalationIncomplete => FieldKey::EscalateTo,
            ActionError::BadSpend(_) => FieldKey::Spend,
            ActionError::BadEvidence { .. } => FieldKey::Evidence,
        })
    }

    fn of_flag(flag: &str) -> Option<FieldKey> {
        Some(match flag {
            "--area" => FieldKey::Area,
            "--period" => FieldKey::Period,
            "--issue" => FieldKey::Issue,
            "--action" => FieldKey::Text,
            "--lead" => FieldKey::Lead,
            "--owner" => FieldKey::Owner,
            "--support" => FieldKey::Support,
            "--due" => FieldKey::Due,
            "--agreed" => FieldKey::Agreed,
            "--public" => FieldKey::Public,
            "--escalate-to" => FieldKey::EscalateTo,
            "--why" => FieldKey::Why,
            _ => return None,
        })
    }
}

/// One choice of a choice field: the value stored and a few words about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: String,
    pub about: String,
}

pub struct FormField {
    pub key: FieldKey,
    label: &'static str,
    /// What goes in the field, shown under the form while it is focused.
    guide: &'static str,
    input: TextField,
    /// A choice field's choices (Tab moves through them); typing a value works too.
    choices: Vec<Choice>,
}

impl FormField {
    pub fn text(key: FieldKey, label: &'static str, guide: &'static str, value: &str) -> Self {
        FormField {
            key,
            label,
            guide,
            input: TextField::new(TextKind::Text { long: false }, None).with_text(value),
            choices: Vec::new(),
        }
    }

    pub fn choice(
        key: FieldKey,
        label: &'static str,
        guide: &'static str,
        value: &str,
        choices: Vec<Choice>,
    ) -> Self {
        FormField {
            choices,
            ..FormField::text(key, label, guide, value)
        }
    }

    pub fn value(&self) -> &str {
        self.input.value()
    }

    fn set(&mut self, value: &str) {
        self.input = TextField::new(TextKind::Text { long: false }, None).with_text(value);
    }

    /// The words about the value typed, for a choice field whose value is one of its choices.
    fn about(&self) -> Option<&str> {
        let v = self.value().trim();
        self.choices
            .iter()
            .find(|c| c.value.eq_ignore_ascii_case(v))
            .map(|c| c.about.as_str())
            .filter(|a| !a.is_empty())
    }
}

/// What a key did to the form.
pub enum FormEvent {
    None,
    /// Enter on the save row: the screen checks and stores.
    Submit,
    /// Enter on this field (the screen may act on it, e.g. fill in from a finding).
    Left(FieldKey),
}

pub struct Form {
    pub title: String,
    pub fields: Vec<FormField>,
    /// The focused row: a field, or `fields.len()` for the save row.
    focus: usize,
    /// What the last check refused, shown inline (the same words as the command line).
    pub error: Option<String>,
    /// What the last step did (filled in from a finding), shown where the error would be.
    pub notice: Option<String>,
    save_label: &'static str,
}

impl Form {
    pub fn new(title: String, fields: Vec<FormField>, save_label: &'static str) -> Form {
        Form {
            title,
            fields,
            focus: 0,
            error: None,
            notice: None,
            save_label,
        }
    }

    pub fn value(&self, key: FieldKey) -> &str {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map_or("", |f| f.value().trim())
    }

    pub fn set(&mut self, key: FieldKey, value: &str) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.key == key) {
            f.set(value);
        }
    }

    /// The focused field (`None` on the save row).
    pub fn focused(&self) -> Option<FieldKey> {
        self.fields.get(self.focus).map(|f| f.key)
    }

    pub fn focus(&mut self, key: FieldKey) {
        if let Some(i) = self.fields.iter().position(|f| f.key == key) {
            self.focus = i;
        }
    }

    /// Shows a refusal under the form, focusing the field it is about.
    pub fn refuse(&mut self, key: Option<FieldKey>, message: String) {
        if let Some(k) = key {
            self.focus(k);
        }
        self.notice = None;
        self.error = Some(message);
    }

    pub fn paste(&mut self, text: &str) {
        if let Some(f) = self.fields.get_mut(self.focus)
            && let FieldEvent::Invalid(m) = f.input.paste(text)
        {
            self.error = Some(m);
        }
    }

    pub fn handle(&mut self, action: Action) -> FormEvent {
        let last = self.fields.len();
        match action {
            Action::Up => {
                self.focus = self.focus.saturating_sub(1);
                return FormEvent::None;
            }
            Action::Down => {
                self.focus = (self.focus + 1).min(last);
                return FormEvent::None;
            }
            Action::PageUp => {
                self.focus = 0;
                return FormEvent::None;
            }
            Action::PageDown => {
                self.focus = last;
                return FormEvent::None;
            }
            Action::Confirm if self.focus == last => return FormEvent::Submit,
            Action::Confirm => {
                let key = self.fields[self.focus].key;
                self.focus += 1;
                return FormEvent::Left(key);
            }
            Action::NextOption | Action::PrevOption => {
                let Some(f) = self.fields.get_mut(self.focus) else {
                    return FormEvent::None;
                };
                if f.choices.is_empty() {
                    // Tab on a typed field moves on, as in any form.
                    self.focus = if action == Action::NextOption {
                        (self.focus + 1).min(last)
                    } else {
                        self.focus.saturating_sub(1)
                    };
                    return FormEvent::None;
                }
                let n = f.choices.len();
                let at = f
                    .choices
                    .iter()
                    .position(|c| c.value.eq_ignore_ascii_case(f.value().trim()));
                let next = match (at, action == Action::NextOption) {
                    (None, true) => 0,
                    (None, false) => n - 1,
                    (Some(i), true) => (i + 1) % n,
                    (Some(i), false) => (i + n - 1) % n,
                };
                let value = f.choices[next].value.clone();
                f.set(&value);
                return FormEvent::None;
            }
            _ => {}
        }
        if let Some(f) = self.fields.get_mut(self.focus)
            && let FieldEvent::Invalid(m) = f.input.handle(action)
        {
            self.error = Some(m);
        }
        FormEvent::None
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let label_w = self
            .fields
            .iter()
            .map(|f| f.label.width())
            .max()
            .unwrap_or(0)
            + 1;
        let message = self.error.as_ref().or(self.notice.as_ref());
        let message_rows = message.map_or(0, |m| {
            crate::tui::wrap::wrapped_height(&format!("✗ {m}"), area.width as usize)
        }) as u16;
        let [title, rows, guide, msg] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(self.fields.len() as u16 + 1),
            Constraint::Length(1),
            Constraint::Min(message_rows.min(4)),
        ])
        .areas(area);
        frame.render_widget(
            Paragraph::new(Line::styled(self.title.clone(), theme.title)),
            title,
        );
        let value_w = (rows.width as usize).saturating_sub(label_w + 2).max(1);
        for (i, f) in self.fields.iter().enumerate() {
            let y = rows.y + i as u16;
            if y >= rows.y + rows.height {
                break;
            }
            let focused = i == self.focus;
            let row = Rect {
                y,
                height: 1,
                ..rows
            };
            let (scroll, cursor) = f.input.scroll_and_cursor(value_w);
            let shown: String = skip_cells(f.value(), scroll);
            let mut spans = vec![
                Span::raw(if focused { "▶ " } else { "  " }),
                Span::styled(
                    format!("{:<label_w$}", f.label),
                    if focused {
                        theme.title
                    } else {
                        Style::default()
                    },
                ),
                Span::styled(
                    fit(&shown, value_w),
                    if focused {
                        theme.highlight
                    } else {
                        Style::default()
                    },
                ),
            ];
            if let Some(about) = f.about() {
                let used = 2 + label_w + f.value().width() + 2;
                let room = (row.width as usize).saturating_sub(used);
                if room > 3 && f.value().width() < value_w {
                    // The name of the area or issue after its code, where it fits.
                    spans[2] = Span::styled(
                        f.value().to_owned(),
                        if focused {
                            theme.highlight
                        } else {
                            Style::default()
                        },
                    );
                    spans.push(Span::styled(format!("  {}", fit(about, room)), theme.dim));
                }
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), row);
            if focused {
                let x = row.x + (2 + label_w + cursor) as u16;
                frame.set_cursor_position((x.min(row.x + row.width.saturating_sub(1)), y));
            }
        }
        let save_y = rows.y + self.fields.len() as u16;
        if save_y < rows.y + rows.height {
            let focused = self.focus == self.fields.len();
            let text = format!(
                "{}[ {} ]",
                if focused { "▶ " } else { "  " },
                self.save_label
            );
            frame.render_widget(
                Paragraph::new(Line::styled(
                    text,
                    if focused {
                        theme.highlight
                    } else {
                        theme.title
                    },
                )),
                Rect {
                    y: save_y,
                    height: 1,
                    ..rows
                },
            );
        }
        let guide_text = match self.fields.get(self.focus) {
            Some(f) if !f.choices.is_empty() => {
                format!("{} (Tab: the next of {})", f.guide, f.choices.len())
            }
            Some(f) => f.guide.to_owned(),
            None => "Enter saves; nothing is stored until every field is valid".to_owned(),
        };
        frame.render_widget(
            Paragraph::new(Line::styled(
                fit(&guide_text, guide.width as usize),
                theme.dim,
            )),
            guide,
        );
        let line = match (&self.error, &self.notice) {
            (Some(e), _) => Line::styled(format!("✗ {e}"), theme.error),
            (None, Some(n)) => Line::styled(format!("✓ {n}"), theme.ok),
            (None, None) => Line::from(""),
        };
        frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), msg);
    }
}

/// `text` without its first `cells` cells.
fn skip_cells(text: &str, cells: usize) -> String {
    let mut used = 0;
    text.chars()
        .skip_while(|c| {
            let skip = used < cells;
            used += unicode_width::UnicodeWidthChar::width(*c).unwrap_or(0);
            skip
        })
        .collect()
}

/// `text` cut to `width` terminal cells (wide characters count two), with … when cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_by_terminal_cells() {
        assert_eq!(fit("Weekly litter pick", 8), "Weekly …");
        assert_eq!(fit("Kay St", 8), "Kay St");
        // Each of these takes two cells.
        assert_eq!(fit("街道清扫工作", 5), "街道…");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(skip_cells("abcdef", 2), "cdef");
    }

    #[test]
    fn tab_moves_through_a_choice_field_and_enter_moves_on() {
        let choices = vec![
            Choice {
                value: "litter".into(),
                about: "Litter".into(),
            },
            Choice {
                value: "drugs".into(),
                about: "Drugs".into(),
            },
        ];
        let mut form = Form::new(
            "t".into(),
            vec![
                FormField::choice(FieldKey::Issue, "Issue", "", "", choices),
                FormField::text(FieldKey::Owner, "Owner", "", "x"),
            ],
            "Save",
        );
        form.handle(Action::NextOption);
        assert_eq!(form.value(FieldKey::Issue), "litter");
        form.handle(Action::NextOption);
        assert_eq!(form.value(FieldKey::Issue), "drugs");
        form.handle(Action::NextOption);
        assert_eq!(form.value(FieldKey::Issue), "litter");
        form.handle(Action::PrevOption);
        assert_eq!(form.value(FieldKey::Issue), "drugs");
        assert!(matches!(
            form.handle(Action::Confirm),
            FormEvent::Left(FieldKey::Issue)
        ));
        assert_eq!(form.focused(), Some(FieldKey::Owner));
        form.handle(Action::Char('y'));
        assert_eq!(form.value(FieldKey::Owner), "xy");
        form.handle(Action::Down);
        assert_eq!(form.focused(), None);
        assert!(matches!(form.handle(Action::Confirm), FormEvent::Submit));
    }
}
