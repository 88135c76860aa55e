//! Ranking: press the numbers of the items in order of importance. "Up to" means up to:
//! Enter accepts one or more, never more than the maximum.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{FieldEvent, Opt};
use crate::survey::Answer;
use crate::tui::action::Action;
use crate::tui::theme::Theme;

#[derive(Debug, Clone)]
pub struct RankField {
    options: Vec<Opt>,
    max: usize,
    order: Vec<String>,
}

impl RankField {
    pub fn new(options: Vec<Opt>, max: usize, current: Vec<String>) -> RankField {
        let order = current
            .into_iter()
            .filter(|v| options.iter().any(|o| &o.value == v))
            .collect();
        RankField {
            options,
            max,
            order,
        }
    }

    /// How many items can be ranked: the maximum, or all of them if fewer.
    fn most(&self) -> usize {
        self.max.min(self.options.len())
    }

    pub fn order(&self) -> &[String] {
        &self.order
    }

    pub fn handle(&mut self, action: Action) -> FieldEvent {
        match action {
            Action::Digit(d) => {
                let n = if d == 0 { 10 } else { d as usize };
                let Some(opt) = self.options.get(n - 1) else {
                    return FieldEvent::Invalid(format!("There is no item {n} here"));
                };
                if self.order.contains(&opt.value) {
                    return FieldEvent::Invalid(format!(
                        "Item {n} is already ranked; Backspace undoes the last"
                    ));
                }
                if self.order.len() >= self.most() {
                    return FieldEvent::Invalid(format!(
                        "Only {} can be ranked; Backspace undoes the last",
                        self.most()
                    ));
                }
                self.order.push(opt.value.clone());
                FieldEvent::None
            }
            Action::Backspace => {
                if self.order.pop().is_none() {
                    FieldEvent::Invalid(super::BACK_HINT.into())
                } else {
                    FieldEvent::None
                }
            }
            Action::Back => FieldEvent::Back,
            Action::Confirm => {
                if self.order.is_empty() {
                    FieldEvent::Invalid(format!(
                        "Nothing ranked yet: press the numbers of up to {}, most important first",
                        self.most()
                    ))
                } else {
                    FieldEvent::Submit(Answer::Rank(self.order.clone()))
                }
            }
            _ => FieldEvent::None,
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, lang: &str, theme: &Theme) {
        let mut lines: Vec<Line> = self
            .options
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let rank = self.order.iter().position(|v| *v == o.value);
                let mark = rank
                    .map(|r| format!("#{}", r + 1))
                    .unwrap_or_else(|| "  ".into());
                let text = format!(" {:>2}  {mark}  {}", i + 1, o.label.get(lang));
                if rank.is_some() {
                    Line::styled(text, theme.title)
                } else {
                    Line::from(text)
                }
            })
            .collect();
        lines.push(Line::from(""));
        let so_far: Vec<&str> = self
            .order
            .iter()
            .filter_map(|v| {
                self.options
                    .iter()
                    .find(|o| &o.value == v)
                    .map(|o| o.label.get(lang))
            })
            .collect();
        lines.push(Line::from(vec![
            Span::styled(
                format!("Ranked {} of up to {}: ", self.order.len(), self.most()),
                theme.title,
            ),
            Span::raw(so_far.join(" > ")),
        ]));
        frame.render_widget(Paragraph::new(lines), area);
    }
}
