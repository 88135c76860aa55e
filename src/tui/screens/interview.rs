//! The interview: one question per screen, every answer stored before the next question
//! appears; a review screen to check and change answers, then finalize.

use std::collections::{BTreeMap, BTreeSet};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Wrap};
use uuid::Uuid;

use super::Transition;
use super::checklist::{Checklist, ChecklistEvent};
use super::self_completion::{SelfCompletion, Stage};
use crate::Error;
use crate::response::{NewResponse, Response, Status, StoredAnswer, TypedText};
use crate::store::StoreError;
use crate::survey::model::{Audience, QuestionKind};
use crate::survey::walker::{Answers, Walker};
use crate::survey::{Answer, Finding, Survey, SurveyError, SurveyKind, label};
use crate::tui::action::Action;
use crate::tui::app::{Context, Flash};
use crate::tui::fields::{Field, FieldEvent, TextField, TextKind};
use crate::tui::keys::Mode;
use crate::tui::theme::Theme;
use crate::tui::widgets::list::{self, MARKER, SelectableList};
use crate::tui::wrap;

/// What stands in for a sealed answer in the walker: the device cannot read it back, but
/// it was given.
fn sealed_marker() -> Answer {
    Answer::Text("sealed".to_owned())
}

pub struct Interview {
    pub id: Uuid,
    pub survey: Survey,
    pub area: String,
    pub answers: Answers,
    /// Questions whose answers are sealed for the coordinator.
    pub sealed: BTreeSet<String>,
    pub index: usize,
    pub field: Field,
    pub error: Option<String>,
    pub lang: String,
    /// The officer's language: instructions and officer-facing questions stay in it when
    /// the interview switches to the respondent's.
    pub officer_lang: String,
    /// While a self-completion section is under way.
    pub self_completion: Option<SelfCompletion>,
    /// `Some(row)` while the review screen is shown.
    pub review: Option<usize>,
    /// The review row to go back to after the question being changed is answered.
    return_to_review: Option<usize>,
    /// Whether personal answers can be sealed on this device.
    has_recipient: bool,
    /// EVA findings (note, location, urgent, agency) by checklist question id.
    pub findings: BTreeMap<String, Finding>,
    /// The EVA checklist table, while the current question is one of its items.
    pub checklist: Option<Checklist>,
    /// The door it was started from (door log): finalizing records the knock there.
    pub door: Option<crate::response::Door>,
    /// Text left typed (not confirmed) when the app was last closed, put back on resuming.
    typed: Option<TypedText>,
    /// ^S was pressed once on an answered question: a second ^S replaces the answer.
    skip_armed: bool,
    /// Values offered (selected, so typing replaces them) when a question comes up
    /// unanswered, by question id: e.g. the street just door-knocked for a transect.
    suggestions: BTreeMap<String, String>,
}

impl Interview {
    /// Starts a new draft of the latest version of `survey_id` in `area`.
    pub fn start(ctx: &Context, survey_id: &str, area: &str) -> Result<Interview, Error> {
        let survey = ctx
            .registry
            .get(survey_id, None)
            .ok_or_else(|| SurveyError::NotFound {
                id: survey_id.to_owned(),
                version: None,
            })?
            .clone();
        let lang = Self::language_for(ctx, &survey);
        let response = ctx.store.create_draft(NewResponse {
            survey_id: survey.id.clone(),
            survey_version: survey.version,
            fingerprint: survey.fingerprint.clone(),
            area: area.to_owned(),
            period: None,
            interviewer: ctx.settings.officer.clone().unwrap_or_default(),
            device: ctx.settings.device.clone().unwrap_or_default(),
            language: lang.clone(),
            started_at: ctx.now(),
        })?;
        Ok(Self::open(ctx, survey, response, lang))
    }

    /// Reopens a draft exactly where it was left.
    pub fn resume(ctx: &Context, response: Response) -> Result<Interview, Error> {
        let survey = ctx
            .registry
            .by_fingerprint(&response.fingerprint)
            .or_else(|| {
                ctx.registry
                    .get(&response.survey_id, Some(response.survey_version))
            })
            .ok_or_else(|| SurveyError::NotFound {
                id: response.survey_id.clone(),
                version: Some(response.survey_version),
            })?
            .clone();
        let lang = if survey.languages.contains(&response.language) {
            response.language.clone()
        } else {
            Self::language_for(ctx, &survey)
        };
        Ok(Self::open(ctx, survey, response, lang))
    }

    fn language_for(ctx: &Context, survey: &Survey) -> String {
        let lang = ctx.language();
        if survey.languages.contains(&lang) {
            lang
        } else {
            "en".to_owned()
        }
    }

    fn open(ctx: &Context, survey: Survey, response: Response, lang: String) -> Interview {
        let mut answers = Answers::new();
        let mut sealed = BTreeSet::new();
        for (qid, record) in &response.answers {
            match &record.value {
                StoredAnswer::Plain(a) => {
                    answers.insert(qid.clone(), a.clone());
                }
                StoredAnswer::Sealed(_) => {
                    sealed.insert(qid.clone());
                    answers.insert(qid.clone(), sealed_marker());
                }
            }
        }
        let walker = Walker::new(&survey);
        let index = response
            .position
            .as_deref()
            .and_then(|p| survey.index_of(p))
            .filter(|&i| walker.is_visible(i, &answers))
            // A fresh interview opens on its first screen, notes included.
            .or_else(|| {
                if answers.is_empty() {
                    walker.next(&answers, None)
                } else {
                    walker.first_unanswered(&answers)
                }
            })
            .or_else(|| walker.next(&answers, None))
            .unwrap_or(0);
        let all_answered = walker.first_unanswered(&answers).is_none()
            && response.position.is_none()
            && !answers.is_empty();
        let officer_lang = Self::language_for(ctx, &survey);
        // Resumed inside a self-completion section: the laptop is turned round again.
        let self_completion = SelfCompletion::starts_at(&survey, index);
        let mut interview = Interview {
            officer_lang,
            self_completion,
            id: response.id,
            area: response.area.clone(),
            field: Field::Note,
            survey,
            answers,
            sealed,
            index,
            error: None,
            lang,
            review: None,
            return_to_review: None,
            has_recipient: ctx.settings.recipient.is_some(),
            findings: response.findings.clone(),
            checklist: None,
            door: response.door.clone(),
            typed: response.typed.as_deref().cloned(),
            skip_armed: false,
            suggestions: BTreeMap::new(),
        };
        interview.load_field(ctx);
        if all_answered {
            interview.review = Some(0);
            interview.self_completion = None;
        }
        interview
    }

    fn load_field(&mut self, ctx: &Context) {
        self.skip_armed = false;
        self.checklist =
            crate::survey::eva::block_around(&self.survey, self.index).map(|(start, end)| {
                Checklist::new(start, end, self.index, &self.survey, &self.answers)
            });
        let Some(q) = self.survey.questions.get(self.index) else {
            return;
        };
        let current = if self.sealed.contains(&q.id) {
            None
        } else {
            self.answers.get(&q.id)
        };
        self.field = if q.personal && !self.has_recipient && !self.sealed.contains(&q.id) {
            // Nothing can be typed where it could not be kept: the screen says why first.
            Field::Note
        } else {
            Field::for_question(&self.survey, q, &self.answers, current, ctx.local_now())
        };
        if current.is_none()
            && matches!(self.field, Field::Text(_))
            && let Some(v) = self.suggestions.get(&q.id)
        {
            self.field = Field::Text(TextField::prefilled(TextKind::Text { long: false }, v));
        }
        if let Some(t) = self.typed.take_if(|t| t.question == q.id && !q.personal) {
            self.field.restore_typed(&t.text);
            self.error =
                Some("Typed before the app was closed, not saved yet: Enter saves it".into());
        }
    }

    /// Offers `value` for question `qid` whenever it comes up unanswered; typing replaces
    /// it and Enter keeps it (the officer still confirms it).
    pub fn suggest(&mut self, ctx: &Context, qid: &str, value: &str) {
        self.suggestions.insert(qid.to_owned(), value.to_owned());
        if self
            .survey
            .questions
            .get(self.index)
            .is_some_and(|q| q.id == qid)
        {
            self.load_field(ctx);
        }
    }

    /// Personal questions that cannot be kept on this device (no coordinator key).
    fn unkeepable(&self, i: usize) -> bool {
        let q = &self.survey.questions[i];
        q.personal && !self.has_recipient && !self.sealed.contains(&q.id)
    }

    /// Keeps text typed but not confirmed (Esc, ^C): resuming shows it again. Personal
    /// details are never kept unconfirmed (they would be on disk unsealed).
    pub fn save_typing(&mut self, ctx: &Context) -> Result<(), Error> {
        let Some(q) = self.survey.questions.get(self.index) else {
            return Ok(());
        };
        if self.review.is_some() || self.checklist.is_some() {
            ctx.store.set_position(self.id, &q.id)?;
            return Ok(());
        }
        let shown = self
            .answers
            .get(&q.id)
            .filter(|a| a.is_given())
            .map(|a| a.to_string());
        let typed = match self.field.typed() {
            Some(t) if !q.personal && !t.trim().is_empty() && Some(t) != shown.as_deref() => {
                Some(TypedText {
                    question: q.id.clone(),
                    text: t.to_owned(),
                })
            }
            _ => None,
        };
        ctx.store.set_position(self.id, &q.id)?;
        ctx.store.set_typed(self.id, typed.clone())?;
        self.typed = typed;
        Ok(())
    }

    /// Pasted text goes into the field being typed in, all at once.
    pub fn paste(&mut self, text: &str) {
        if self.review.is_some() || self.checklist.is_some() {
            return;
        }
        self.error = match self.field.paste(text) {
            FieldEvent::Invalid(m) => Some(m),
            _ => None,
        };
    }

    pub fn mode(&self) -> Mode {
        if self
            .self_completion
            .is_some_and(|sc| sc.stage != Stage::Answering)
        {
            return Mode::Handover;
        }
        match (&self.review, &self.checklist) {
            (Some(_), _) => Mode::Review,
            (None, Some(c)) if c.is_editing() => Mode::Form,
            (None, Some(_)) => Mode::Checklist,
            (None, None) => self.field.mode(),
        }
    }

    pub fn update(&mut self, ctx: &mut Context, action: Action) -> Result<Transition, Error> {
        if let Some(done) = self.update_self_completion(ctx, action) {
            return done;
        }
        if let Some(row) = self.review {
            return self.update_review(ctx, action, row);
        }
        if self.checklist.is_some() {
            return self.update_checklist(ctx, action);
        }
        if let Some(done) = self.interview_action(ctx, action) {
            return done;
        }
        if action == Action::Skip {
            return self.skip(ctx);
        }
        self.skip_armed = false;
        // A sealed answer cannot be shown again; Enter on its empty field keeps it as it is.
        let sealed_here = self.sealed.contains(&self.survey.questions[self.index].id);
        if action == Action::Confirm
            && sealed_here
            && matches!(&self.field, Field::Text(t) if t.value().is_empty())
        {
            self.error = None;
            return self.advance(ctx);
        }
        if self.unkeepable(self.index) && action == Action::Confirm {
            return self.pass_unkeepable(ctx);
        }
        let kind = self.survey.questions[self.index].kind.clone();
        match self.field.handle(action, &kind, &self.lang) {
            FieldEvent::None => {
                // The officer acted on the message: it has done its job.
                self.error = None;
                Ok(Transition::Stay)
            }
            FieldEvent::Invalid(mut m) => {
                if action == Action::Confirm
                    && !self.survey.questions[self.index].required
                    && !m.contains("^S")
                {
                    m.push_str(" (^S skips: this question is optional)");
                }
                self.error = Some(m);
                Ok(Transition::Stay)
            }
            FieldEvent::Back => {
                self.go_back(ctx);
                Ok(Transition::Stay)
            }
            FieldEvent::Submit(answer) => self.commit(ctx, answer),
        }
    }

    /// Self-completion: handover screens take Enter only; while the respondent answers,
    /// Esc hands the laptop back and nothing leads to the earlier answers.
    fn update_self_completion(
        &mut self,
        ctx: &Context,
        action: Action,
    ) -> Option<Result<Transition, Error>> {
        let sc = self.self_completion?;
        match (sc.stage, action) {
            (Stage::TurnRound, Action::Confirm) => {
                self.self_completion = Some(SelfCompletion {
                    stage: Stage::Answering,
                    ..sc
                });
            }
            // The officer may still keep the interview as a draft before turning round, and
            // either side may switch the language.
            (Stage::TurnRound, Action::Leave) | (_, Action::SwitchLanguage) => return None,
            (Stage::HandBack, Action::Confirm) => {
                // Straight into another self-completion section, or back to the officer.
                self.self_completion = match self.review {
                    Some(_) => None,
                    None => SelfCompletion::starts_at(&self.survey, self.index),
                };
            }
            (Stage::TurnRound | Stage::HandBack, _) => {}
            (Stage::Answering, Action::Review) => {
                self.error = Some(self.survey.words.get("sc_closed", &self.lang).to_owned());
            }
            (Stage::Answering, Action::Leave) => {
                // Questions of the section not reached stay unanswered.
                let last = self
                    .survey
                    .questions
                    .iter()
                    .rposition(|q| q.section == sc.section)
                    .unwrap_or(self.index);
                self.index = last;
                self.error = None;
                return Some(self.advance(ctx));
            }
            (Stage::Answering, _) => return None,
        }
        Some(Ok(Transition::Stay))
    }

    /// Keeps the self-completion state in step with the question now shown.
    fn follow_self_completion(&mut self, next: Option<usize>) {
        self.self_completion = match (self.self_completion, next) {
            (Some(sc), Some(i)) if sc.covers(&self.survey, i) => Some(sc),
            (Some(sc), _) if sc.stage == Stage::TurnRound => {
                SelfCompletion::starts_at(&self.survey, self.index)
            }
            (Some(sc), _) => Some(SelfCompletion {
                stage: Stage::HandBack,
                ..sc
            }),
            (None, Some(i)) => SelfCompletion::starts_at(&self.survey, i),
            (None, None) => None,
        };
    }

    /// The keys every question screen shares: leave as a draft, language, review.
    fn interview_action(
        &mut self,
        ctx: &Context,
        action: Action,
    ) -> Option<Result<Transition, Error>> {
        match action {
            Action::Leave => Some(self.leave(ctx)),
            Action::SwitchLanguage => {
                self.switch_language();
                Some(Ok(Transition::Stay))
            }
            Action::Review => {
                // Whatever is typed and not confirmed stays in the field's draft.
                if let Err(e) = self.save_typing(ctx) {
                    return Some(Err(e));
                }
                self.open_review(None);
                Some(Ok(Transition::Stay))
            }
            _ => None,
        }
    }

    fn switch_language(&mut self) {
        let langs = &self.survey.languages;
        let i = langs.iter().position(|l| *l == self.lang).unwrap_or(0);
        self.lang = langs[(i + 1) % langs.len()].clone();
    }

    fn leave(&mut self, ctx: &Context) -> Result<Transition, Error> {
        // Every answer is already on disk; the position and anything typed but not yet
        // confirmed need remembering.
        self.save_typing(ctx)?;
        let next = super::door_log::after_interview(ctx, self, false)?;
        Ok(Transition::Go(
            next,
            Some(Flash::Ok(
                "Kept as a draft: resume it from Drafts (2)".into(),
            )),
        ))
    }

    fn skip(&mut self, ctx: &Context) -> Result<Transition, Error> {
        let q = &self.survey.questions[self.index];
        if q.required {
            self.error = Some("This question needs an answer: it cannot be skipped".into());
            return Ok(Transition::Stay);
        }
        if matches!(q.kind, QuestionKind::Note) {
            return self.advance(ctx);
        }
        // Skipping over an answer given earlier erases it: that takes a second ^S.
        let earlier = self.answers.get(&q.id).filter(|a| a.is_given());
        if let Some(a) = earlier
            && !self.skip_armed
        {
            let shown = if self.sealed.contains(&q.id) {
                "sealed".to_owned()
            } else {
                label::answer_label(&self.survey, q, a, &self.answers, &self.lang)
            };
            self.skip_armed = true;
            self.error = Some(format!(
                "Already answered ({shown}): ^S again replaces it with \"skipped\"; Enter keeps it"
            ));
            return Ok(Transition::Stay);
        }
        self.skip_armed = false;
        self.commit(ctx, Answer::Skipped)
    }

    /// Enter on a personal question this device cannot keep: every contact question in a
    /// row is recorded as skipped at once (nothing personal was taken), and the wish that
    /// led to them (feedback, joining) stays recorded as it was answered.
    fn pass_unkeepable(&mut self, ctx: &Context) -> Result<Transition, Error> {
        let walker = Walker::new(&self.survey);
        let mut i = Some(self.index);
        let mut passed = 0;
        while let Some(at) = i.filter(|&at| self.unkeepable(at)) {
            let q = self.survey.questions[at].clone();
            if q.required {
                self.error = Some(format!(
                    "{} is required and personal: it cannot be recorded without a coordinator key",
                    self.survey.number(at)
                ));
                return Ok(Transition::Stay);
            }
            ctx.store
                .record_answer(self.id, &q, Answer::Skipped, ctx.now())?;
            self.answers.insert(q.id.clone(), Answer::Skipped);
            self.index = at;
            passed += 1;
            i = walker.next(&self.answers, Some(at));
        }
        self.error = None;
        self.advance(ctx)?;
        Ok(Transition::Flash(Flash::Notice(format!(
            "No contact details taken ({passed} question(s) skipped); the answers before them are kept"
        ))))
    }

    fn go_back(&mut self, ctx: &Context) {
        self.skip_armed = false;
        let walker = Walker::new(&self.survey);
        let prev = walker.prev(&self.answers, self.index);
        if let Some(sc) = self.self_completion
            && !prev.is_some_and(|i| sc.covers(&self.survey, i))
        {
            self.error = Some(self.survey.words.get("sc_closed", &self.lang).to_owned());
            return;
        }
        match prev {
            Some(i) => {
                self.index = i;
                self.error = None;
                self.load_field(ctx);
            }
            None => self.error = Some("This is the first question".into()),
        }
    }

    /// Validates and stores an answer, then moves on. The store flushes to disk before it
    /// returns, so the next question only appears once the answer is safe.
    fn commit(&mut self, ctx: &Context, answer: Answer) -> Result<Transition, Error> {
        let q = self.survey.questions[self.index].clone();
        if matches!(q.kind, QuestionKind::Note) {
            return self.advance(ctx);
        }
        if !self.validate(self.index, &answer) {
            return Ok(Transition::Stay);
        }
        // A location outside the area is kept, with a warning naming where it falls.
        let warning;
        match ctx
            .store
            .record_answer(self.id, &q, answer.clone(), ctx.now())
        {
            Ok(()) => {
                warning = crate::response::outside_warning(&ctx.geography, &self.area, &answer);
                if q.personal && answer.is_given() {
                    self.sealed.insert(q.id.clone());
                    self.answers.insert(q.id.clone(), sealed_marker());
                } else {
                    self.sealed.remove(&q.id);
                    self.answers.insert(q.id.clone(), answer);
                }
            }
            Err(StoreError::NoRecipient { .. }) => {
                // Never store personal details in the clear: record the skip instead.
                ctx.store
                    .record_answer(self.id, &q, Answer::Skipped, ctx.now())?;
                self.answers.insert(q.id.clone(), Answer::Skipped);
                self.error = None;
                self.advance(ctx)?;
                return Ok(Transition::Flash(Flash::Notice(
                    "No coordinator key on this device: that personal detail was not recorded"
                        .into(),
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.error = None;
        match (self.advance(ctx)?, warning) {
            (Transition::Stay, Some(w)) => Ok(Transition::Flash(Flash::Notice(w))),
            (next, _) => Ok(next),
        }
    }

    /// Checks an answer; on failure the message is shown and `false` returned.
    fn validate(&mut self, index: usize, answer: &Answer) -> bool {
        match Walker::new(&self.survey).validate(index, answer, &self.answers) {
            Ok(()) => true,
            Err(e) => {
                self.error = Some(e.message.get(&self.lang).to_owned());
                false
            }
        }
    }

    fn update_checklist(&mut self, ctx: &Context, action: Action) -> Result<Transition, Error> {
        let editing = self.checklist.as_ref().is_some_and(Checklist::is_editing);
        if !editing && let Some(done) = self.interview_action(ctx, action) {
            return done;
        }
        let Some(list) = self.checklist.as_mut() else {
            return Ok(Transition::Stay);
        };
        let event = if action == Action::Skip && !editing {
            match list.current(&self.survey, &self.answers) {
                Some(i) if self.survey.questions[i].required => ChecklistEvent::Invalid(
                    "This item needs an answer: it cannot be skipped".into(),
                ),
                Some(i) => ChecklistEvent::Answer(i, Answer::Skipped),
                None => ChecklistEvent::None,
            }
        } else {
            list.handle(action, &self.survey, &self.answers, &self.findings)
        };
        let end = list.end;
        let start = list.start;
        self.error = None;
        match event {
            ChecklistEvent::None => {}
            ChecklistEvent::Invalid(m) => self.error = Some(m),
            ChecklistEvent::Answer(i, answer) => {
                if self.validate(i, &answer) {
                    let q = self.survey.questions[i].clone();
                    ctx.store
                        .record_answer(self.id, &q, answer.clone(), ctx.now())?;
                    self.answers.insert(q.id.clone(), answer);
                    // The urgent flag shown is the one stored: the item's rule may set it.
                    if let Some(f) = crate::survey::eva::settle_urgency(
                        &q,
                        &self.answers,
                        self.findings.get(&q.id),
                    ) {
                        ctx.store.record_finding(self.id, &q.id, f.clone())?;
                        self.findings.insert(q.id.clone(), f);
                    }
                    ctx.store.set_position(self.id, &q.id)?;
                    self.index = i;
                }
            }
            ChecklistEvent::Finding(i, finding) => {
                let q = &self.survey.questions[i];
                ctx.store.record_finding(self.id, &q.id, finding.clone())?;
                self.findings.insert(q.id.clone(), finding);
            }
            ChecklistEvent::Next => {
                self.index = end.saturating_sub(1);
                self.checklist = None;
                return self.advance(ctx);
            }
            ChecklistEvent::Back => {
                self.index = start;
                self.checklist = None;
                self.go_back(ctx);
                if self.index == start {
                    // Nothing before the table: stay on it.
                    self.load_field(ctx);
                }
                return Ok(Transition::Stay);
            }
        }
        // The highlighted row is the current question (for resuming and for the review).
        if let Some(i) = self
            .checklist
            .as_ref()
            .and_then(|l| l.current(&self.survey, &self.answers))
        {
            self.index = i;
        }
        Ok(Transition::Stay)
    }

    fn advance(&mut self, ctx: &Context) -> Result<Transition, Error> {
        let walker = Walker::new(&self.survey);
        if let Some(row) = self.return_to_review.take() {
            self.open_review(Some(row));
            return Ok(Transition::Stay);
        }
        let next = walker.next(&self.answers, Some(self.index));
        self.follow_self_completion(next);
        match next {
            Some(i) => {
                self.index = i;
                ctx.store
                    .set_position(self.id, &self.survey.questions[i].id)?;
                self.load_field(ctx);
            }
            None => self.open_review(None),
        }
        Ok(Transition::Stay)
    }

    /// Shows the review on `row` (kept within the list), or on the first row.
    fn open_review(&mut self, row: Option<usize>) {
        let last = self.review_rows().len().saturating_sub(1);
        self.review = Some(row.unwrap_or(0).min(last));
    }

    /// The questions the review lists: every visible question that takes an answer.
    fn review_rows(&self) -> Vec<usize> {
        let visible = Walker::new(&self.survey).visibility(&self.answers);
        (0..self.survey.questions.len())
            .filter(|&i| visible[i] && !matches!(self.survey.questions[i].kind, QuestionKind::Note))
            .collect()
    }

    fn update_review(
        &mut self,
        ctx: &mut Context,
        action: Action,
        row: usize,
    ) -> Result<Transition, Error> {
        let rows = self.review_rows();
        match action {
            Action::Up => self.review = Some(row.saturating_sub(1)),
            Action::Down => self.review = Some((row + 1).min(rows.len().saturating_sub(1))),
            Action::PageUp => self.review = Some(row.saturating_sub(10)),
            Action::PageDown => self.review = Some((row + 10).min(rows.len().saturating_sub(1))),
            Action::CursorHome => self.review = Some(0),
            Action::CursorEnd => self.review = Some(rows.len().saturating_sub(1)),
            Action::SwitchLanguage => self.switch_language(),
            Action::Confirm => {
                if let Some(&i) = rows.get(row) {
                    self.index = i;
                    self.review = None;
                    self.error = None;
                    self.return_to_review = Some(row);
                    self.load_field(ctx);
                }
            }
            Action::Continue => match Walker::new(&self.survey).first_unanswered(&self.answers) {
                Some(i) => {
                    self.index = i;
                    self.review = None;
                    self.error = None;
                    self.return_to_review = None;
                    ctx.store
                        .set_position(self.id, &self.survey.questions[i].id)?;
                    self.load_field(ctx);
                }
                None => self.error = Some("Every question shown has an answer: f finalizes".into()),
            },
            Action::Leave => return self.leave(ctx),
            Action::Finalize => return self.finalize(ctx),
            _ => {}
        }
        Ok(Transition::Stay)
    }

    fn finalize(&mut self, ctx: &Context) -> Result<Transition, Error> {
        let walker = Walker::new(&self.survey);
        let c = walker.completeness(&self.answers);
        let sealed_ok = |id: &String| self.sealed.contains(id);
        let invalid: Vec<&(String, String)> =
            c.invalid.iter().filter(|(id, _)| !sealed_ok(id)).collect();
        if !c.missing.is_empty() || !invalid.is_empty() {
            let first = c
                .missing
                .first()
                .or(invalid.first().map(|(id, _)| id))
                .cloned()
                .unwrap_or_default();
            let n = self
                .survey
                .index_of(&first)
                .map(|i| self.survey.number(i))
                .unwrap_or_default();
            self.error = Some(format!(
                "Not complete: {} required question(s) unanswered, {} answer(s) to fix — first {n}",
                c.missing.len(),
                invalid.len()
            ));
            return Ok(Transition::Stay);
        }
        let response = ctx.store.finalize(self.id, Status::Complete, ctx.now())?;
        let what = match self.survey.kind {
            SurveyKind::Kin => "Interview",
            SurveyKind::Eva => "Audit",
        };
        let next = super::door_log::after_interview(ctx, self, true)?;
        let short = response.id.to_string();
        Ok(Transition::Go(
            next,
            Some(Flash::Ok(format!(
                "{what} finalized and journaled ({})",
                &short[..8]
            ))),
        ))
    }

    /// An answer as the review shows it.
    fn shown_answer(&self, i: usize) -> (String, bool) {
        let q = &self.survey.questions[i];
        if self.sealed.contains(&q.id) {
            return ("sealed".into(), false);
        }
        let walker = Walker::new(&self.survey);
        match self.answers.get(&q.id) {
            None if q.required => ("✗ needs an answer".into(), true),
            None => ("— not asked yet".into(), false),
            Some(Answer::Skipped) => ("— skipped".into(), false),
            Some(a) => {
                if let Err(e) = walker.validate(i, a, &self.answers) {
                    return (format!("✗ {}", e.message.get(&self.lang)), true);
                }
                (
                    label::answer_label(&self.survey, q, a, &self.answers, &self.lang),
                    false,
                )
            }
        }
    }

    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let title = format!(" {} ", self.survey.title.get(&self.lang));
        let langs: Vec<String> = self
            .survey
            .languages
            .iter()
            .map(|l| {
                if *l == self.lang {
                    format!("[{}]", l.to_uppercase())
                } else {
                    l.clone()
                }
            })
            .collect();
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::styled(title, theme.title))
            .title(Line::from(format!(" {} · {} ", self.area, langs.join(" "))).right_aligned());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if let Some(sc) = self.self_completion
            && sc.stage != Stage::Answering
        {
            sc.render_handover(
                &self.survey,
                &self.officer_lang,
                &self.lang,
                frame,
                inner,
                theme,
            );
        } else if let Some(row) = self.review {
            self.render_review(frame, inner, theme, row);
        } else if let Some(list) = &self.checklist {
            let [table, error_area] = Layout::vertical([
                Constraint::Min(5),
                Constraint::Length(self.error.as_ref().map_or(0, |e| {
                    wrap::wrapped_height(&format!("✗ {e}"), inner.width as usize).min(3) as u16
                })),
            ])
            .areas(inner);
            list.render(
                &self.survey,
                &self.answers,
                &self.findings,
                &self.lang,
                frame,
                table,
                theme,
            );
            if let Some(e) = &self.error {
                frame.render_widget(
                    Paragraph::new(Line::styled(format!("✗ {e}"), theme.error))
                        .wrap(Wrap { trim: true }),
                    error_area,
                );
            }
        } else {
            self.render_question(frame, inner, theme);
        }
    }

    fn render_question(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let q = &self.survey.questions[self.index];
        let walker = Walker::new(&self.survey);
        let p = walker.progress(&self.answers, self.index);
        let section = self
            .survey
            .sections
            .get(p.section)
            .map(|s| s.title.get(&self.lang))
            .unwrap_or("");
        let number = self.survey.number(self.index);
        let position = if self.self_completion.is_some() {
            // The respondent's screen: how to hand back, not the officer's progress.
            self.survey.words.get("sc_answering", &self.lang).to_owned()
        } else if matches!(q.kind, QuestionKind::Note) {
            format!("{section} · {number} · note")
        } else {
            format!(
                "{section} · {number} · {} of about {} asked",
                p.position, p.total
            )
        };
        let width = area.width.max(1) as usize;
        let mut lead: Vec<Line> = Vec::new();
        if let Some(first) = walker.ranked_first(self.index, &self.answers) {
            lead.push(Line::styled(
                format!("About: {}", first.get(&self.lang)),
                theme.notice,
            ));
        }
        // Instructions are the officer's, in the officer's language; officer-facing
        // questions too.
        if let Some(h) = &q.help {
            lead.push(Line::from(h.get(&self.officer_lang).to_owned()));
        }
        let text_lang = match q.audience {
            Audience::Officer => &self.officer_lang,
            Audience::Resident => &self.lang,
        };
        let unkeepable = self.unkeepable(self.index);
        let personal_text = if !q.personal {
            None
        } else if self.sealed.contains(&q.id) {
            Some((
                "🔒 Answered and sealed: Enter keeps it; typing a new answer replaces it",
                theme.notice,
            ))
        } else if self.has_recipient {
            Some((
                "🔒 Personal: sealed for the coordinator; this device cannot read it back",
                theme.notice,
            ))
        } else {
            None
        };
        let text_lines = wrap::wrapped_height(q.text.get(text_lang), width);
        let lead_lines: usize = lead
            .iter()
            .map(|l| wrap::wrapped_height(&l.to_string(), width))
            .sum::<usize>()
            .min(4);
        let error_lines = self
            .error
            .as_ref()
            .map_or(0, |e| wrap::wrapped_height(&format!("✗ {e}"), width).min(3));
        let [
            progress,
            question,
            lead_area,
            personal_area,
            field_area,
            error_area,
        ] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(text_lines as u16 + 1),
            Constraint::Length(lead_lines as u16),
            Constraint::Length(if personal_text.is_some() { 1 } else { 0 }),
            Constraint::Min(3),
            Constraint::Length(error_lines as u16),
        ])
        .areas(area);
        let flag_text = if q.required { "  [required]" } else { "" };
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(position, theme.dim),
                Span::raw(flag_text),
            ])),
            progress,
        );
        frame.render_widget(
            Paragraph::new(Line::styled(q.text.get(text_lang), theme.title))
                .wrap(Wrap { trim: true }),
            question,
        );
        if !lead.is_empty() {
            frame.render_widget(Paragraph::new(lead).wrap(Wrap { trim: true }), lead_area);
        }
        if let Some((text, style)) = personal_text {
            frame.render_widget(Paragraph::new(Line::styled(text, style)), personal_area);
        }
        if unkeepable {
            let text = vec![
                Line::styled(
                    "! No coordinator key on this device: contact details cannot be kept here.",
                    theme.error,
                ),
                Line::from(
                    "Do not write them down or type them. The answers before this (such as wanting feedback) are kept.",
                ),
                Line::styled(
                    "Enter skips the contact questions; ^S skips just this one.",
                    theme.dim,
                ),
            ];
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), field_area);
        } else if matches!(q.kind, QuestionKind::Note) {
            frame.render_widget(
                Paragraph::new(Line::styled("Enter to continue", theme.dim)),
                field_area,
            );
        } else {
            self.field.render(frame, field_area, &self.lang, theme);
        }
        if let Some(e) = &self.error {
            frame.render_widget(
                Paragraph::new(Line::styled(format!("✗ {e}"), theme.error))
                    .wrap(Wrap { trim: true }),
                error_area,
            );
        }
    }

    fn render_review(&self, frame: &mut Frame, area: Rect, theme: &Theme, row: usize) {
        let rows = self.review_rows();
        let urgent = self.urgent_items();
        let [head, list, error_area] = Layout::vertical([
            Constraint::Length(1 + urgent.len().min(4) as u16),
            Constraint::Min(3),
            Constraint::Length(self.error.as_ref().map_or(0, |e| {
                wrap::wrapped_height(&format!("✗ {e}"), area.width as usize).min(3) as u16
            })),
        ])
        .areas(area);
        let mut head_lines = vec![Line::styled(
            "Review: Enter changes an answer, c continues, f finalizes, Esc keeps the draft",
            theme.title,
        )];
        for u in urgent.iter().take(4) {
            head_lines.push(Line::styled(format!("! URGENT: {u}"), theme.error));
        }
        frame.render_widget(Paragraph::new(head_lines), head);
        // The selection marker takes the first cells of every row (see SelectableList).
        let width = (list.width as usize).saturating_sub(MARKER.chars().count());
        let items: Vec<Row> = rows
            .iter()
            .map(|&i| {
                let q = &self.survey.questions[i];
                let (answer, bad) = self.shown_answer(i);
                let qtext: String = q
                    .text
                    .get(&self.lang)
                    .chars()
                    .take((width + 2).saturating_sub(6) / 2)
                    .collect();
                let text = format!("{:<4} {qtext} → {answer}", self.survey.number(i));
                let text: String = text.chars().take(width).collect();
                if bad {
                    Row::new([text]).style(theme.error)
                } else {
                    Row::new([text])
                }
            })
            .collect();
        frame.render_stateful_widget(
            SelectableList::new(items, [Constraint::Fill(1)], theme),
            list,
            &mut list::state(Some(row)),
        );
        if let Some(e) = &self.error {
            frame.render_widget(
                Paragraph::new(Line::styled(format!("✗ {e}"), theme.error))
                    .wrap(Wrap { trim: true }),
                error_area,
            );
        }
    }

    /// EVA items whose answer makes them urgent (by the survey's `urgent_if`).
    pub fn urgent_items(&self) -> Vec<String> {
        let visible = Walker::new(&self.survey).visibility(&self.answers);
        self.survey
            .questions
            .iter()
            .enumerate()
            .filter(|(i, q)| {
                visible[*i]
                    && crate::survey::eva::is_urgent(q, &self.answers, self.findings.get(&q.id))
            })
            .map(|(_, q)| {
                let f = self.findings.get(&q.id);
                let agency = f
                    .and_then(|f| f.agency.clone())
                    .or_else(|| q.item.as_ref().and_then(|i| i.agency.clone()))
                    .map(|a| format!(" → {a}"))
                    .unwrap_or_default();
                let place = f
                    .and_then(|f| f.location.as_deref())
                    .map(|l| format!(" @ {l}"))
                    .unwrap_or_default();
                let answer = self
                    .answers
                    .get(&q.id)
                    .map(|a| label::answer_label(&self.survey, q, a, &self.answers, &self.lang))
                    .unwrap_or_default();
                format!("{} ({answer}){place}{agency}", q.text.get(&self.lang))
            })
            .collect()
    }
}
