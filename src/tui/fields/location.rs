//! A location as given: a fixed reference ("lamp column 14"), an OS grid reference, or
//! latitude/longitude. ↑↓ switch between the forms the question accepts.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::FieldEvent;
use super::text::{TextField, TextKind};
use crate::survey::model::LocationForm;
use crate::survey::walker::is_grid_ref;
use crate::survey::{Answer, Location};
use crate::tui::action::Action;
use crate::tui::theme::Theme;

#[derive(Debug, Clone)]
pub struct LocationField {
    forms: Vec<LocationForm>,
    form: usize,
    text: TextField,
}

fn form_name(f: LocationForm) -> &'static str {
    match f {
        LocationForm::Fixed => "fixed reference (e.g. lamp column 14, outside the Co-op)",
        LocationForm::GridRef => "OS grid reference (e.g. SD 5760 0540)",
        LocationForm::LatLon => "latitude, longitude (e.g. 53.5451, -2.6325)",
    }
}

impl LocationField {
    pub fn new(forms: Vec<LocationForm>, current: Option<&Answer>) -> LocationField {
        let forms = if forms.is_empty() {
            vec![LocationForm::Fixed]
        } else {
            forms
        };
        let (form, text) = match current {
            Some(Answer::Location(Location::Fixed { text })) => (LocationForm::Fixed, text.clone()),
            Some(Answer::Location(Location::GridRef { text })) => {
                (LocationForm::GridRef, text.clone())
            }
            Some(Answer::Location(Location::LatLon { lat, lon })) => {
                (LocationForm::LatLon, format!("{lat}, {lon}"))
            }
            _ => (forms[0], String::new()),
        };
        let field = TextField::new(TextKind::Text { long: false }, Some(&Answer::Text(text)));
        LocationField {
            form: forms.iter().position(|f| *f == form).unwrap_or(0),
            forms,
            text: field,
        }
    }

    /// The text, if the officer changed what the field started with.
    pub fn edited(&self) -> Option<&str> {
        self.text.edited()
    }

    pub fn paste(&mut self, text: &str) -> FieldEvent {
        self.text.paste(text)
    }

    /// Puts back text typed earlier in the current form.
    pub fn restore(&mut self, text: &str) {
        self.text = self.text.clone().with_text(text);
    }

    pub fn handle(&mut self, action: Action) -> FieldEvent {
        match action {
            Action::Up => {
                self.form = (self.form + self.forms.len() - 1) % self.forms.len();
                FieldEvent::None
            }
            Action::Down => {
                self.form = (self.form + 1) % self.forms.len();
                FieldEvent::None
            }
            Action::Confirm => match parse(self.forms[self.form], self.text.value()) {
                Ok(loc) => FieldEvent::Submit(Answer::Location(loc)),
                Err(m) => FieldEvent::Invalid(m),
            },
            other => self.text.handle(other),
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let [forms_area, input_area] = Layout::vertical([
            Constraint::Length(self.forms.len() as u16 + 1),
            Constraint::Min(3),
        ])
        .areas(area);
        let mut lines: Vec<Line> = self
            .forms
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let text = format!(
                    "{} {}",
                    if i == self.form { "▶ (•)" } else { "  ( )" },
                    form_name(*f)
                );
                if i == self.form {
                    Line::styled(text, theme.highlight)
                } else {
                    Line::from(text)
                }
            })
            .collect();
        lines.push(Line::styled("↑↓ choose the form, then type it", theme.dim));
        frame.render_widget(Paragraph::new(lines), forms_area);
        self.text.render(frame, input_area, theme);
    }
}

pub fn parse(form: LocationForm, text: &str) -> Result<Location, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("Type the location, or skip with ^S if the question is optional".into());
    }
    match form {
        LocationForm::Fixed => Ok(Location::Fixed { text: t.to_owned() }),
        LocationForm::GridRef => {
            if is_grid_ref(t) {
                Ok(Location::GridRef {
                    text: t.to_uppercase(),
                })
            } else {
                Err(format!("`{t}` is not a grid reference like SD 5760 0540"))
            }
        }
        LocationForm::LatLon => {
            let mut parts = t.split([',', ' ']).filter(|p| !p.is_empty());
            let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err("Give latitude and longitude, e.g. 53.5451, -2.6325".into());
            };
            match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(lat), Ok(lon))
                    if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
                {
                    Ok(Location::LatLon { lat, lon })
                }
                _ => Err(format!(
                    "`{t}` is not a latitude, longitude pair like 53.5451, -2.6325"
                )),
            }
        }
    }
}
