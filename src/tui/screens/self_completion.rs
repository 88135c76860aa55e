//! Self-completion: for sensitive questions the officer turns the laptop round and the
//! respondent answers alone. Three stages: the officer's "turn the laptop round" screen, the
//! respondent's questions (drawn by the interview, with nothing of the earlier answers on
//! screen and no way back to them), and the respondent's "hand it back" screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::survey::Survey;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The officer is asked to turn the laptop round (officer's language).
    TurnRound,
    /// The respondent is answering the section's questions.
    Answering,
    /// The section is done: the respondent is asked to hand the laptop back.
    HandBack,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelfCompletion {
    /// The self-completion section being answered.
    pub section: usize,
    pub stage: Stage,
}

impl SelfCompletion {
    /// Whether moving to question `to` starts a self-completion section.
    pub fn starts_at(survey: &Survey, to: usize) -> Option<SelfCompletion> {
        let section = survey.questions.get(to)?.section;
        survey
            .sections
            .get(section)
            .filter(|s| s.self_completion)
            .map(|_| SelfCompletion {
                section,
                stage: Stage::TurnRound,
            })
    }

    /// Whether question `index` belongs to this self-completion section.
    pub fn covers(&self, survey: &Survey, index: usize) -> bool {
        survey
            .questions
            .get(index)
            .is_some_and(|q| q.section == self.section)
    }

    /// The officer's or the respondent's handover screen. `officer_lang` is for the
    /// officer's instruction, `lang` for the respondent's.
    pub fn render_handover(
        &self,
        survey: &Survey,
        officer_lang: &str,
        lang: &str,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
    ) {
        let (key, text_lang) = match self.stage {
            Stage::TurnRound => ("sc_turn_round", officer_lang),
            Stage::HandBack => ("sc_hand_back", lang),
            Stage::Answering => return,
        };
        let title = survey
            .sections
            .get(self.section)
            .map(|s| s.title.get(text_lang))
            .unwrap_or("");
        let [_, head, body, _, foot] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        frame.render_widget(Paragraph::new(Line::styled(title, theme.title)), head);
        frame.render_widget(
            Paragraph::new(survey.words.get(key, text_lang)).wrap(Wrap { trim: true }),
            body,
        );
        frame.render_widget(
            Paragraph::new(Line::styled(
                survey.words.get("sc_continue", text_lang),
                theme.dim,
            )),
            foot,
        );
    }
}
