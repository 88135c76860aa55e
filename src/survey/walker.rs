//! The interview walker: given a survey and the answers so far, which question comes next
//! or before, whether an answer is valid, whether the interview is complete, and what a
//! change to an earlier answer invalidates. Pure and deterministic; never panics.

use std::collections::{BTreeMap, BTreeSet};

use super::answer::{Answer, Location};
use super::label;
use super::model::{DateTimeMode, LocalText, LocationForm, Question, QuestionKind, Survey, Words};
use super::taxonomy::OTHER;

/// Answers keyed by question id.
pub type Answers = BTreeMap<String, Answer>;

/// Why an answer cannot be accepted, in words to show the interviewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub message: LocalText,
}

impl Invalid {
    fn en(message: impl Into<String>) -> Self {
        Invalid {
            message: LocalText::en(message),
        }
    }

    /// A message naming a choice by its label, in every language the label has.
    fn naming(label: &LocalText, message: impl Fn(&str) -> String) -> Self {
        Invalid {
            message: LocalText(
                label
                    .0
                    .iter()
                    .map(|(lang, l)| (lang.clone(), message(l)))
                    .collect(),
            ),
        }
    }
}

/// Where the interview stands, for the progress line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub section: usize,
    /// 1-based position among the questions that will be asked.
    pub position: usize,
    /// How many questions will be asked given the answers so far ("about m").
    pub total: usize,
}

/// What is left before an interview can be finalized as complete.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Completeness {
    /// Visible required questions with no answer.
    pub missing: Vec<String>,
    /// Visible questions whose stored answer no longer passes validation.
    pub invalid: Vec<(String, String)>,
}

impl Completeness {
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.invalid.is_empty()
    }
}

pub struct Walker<'s> {
    survey: &'s Survey,
}

impl<'s> Walker<'s> {
    pub fn new(survey: &'s Survey) -> Self {
        Walker { survey }
    }

    pub fn survey(&self) -> &'s Survey {
        self.survey
    }

    /// Which questions are shown under these answers. An answer to a hidden question is
    /// ignored by later conditions, so stale answers never steer the interview.
    pub fn visibility(&self, answers: &Answers) -> Vec<bool> {
        let qs = &self.survey.questions;
        let mut visible = vec![false; qs.len()];
        let mut live: BTreeMap<&str, &Answer> = BTreeMap::new();
        for (i, q) in qs.iter().enumerate() {
            let shown = q
                .show_if
                .as_ref()
                .is_none_or(|e| e.eval(&|id| live.get(id).copied(), None));
            let rank_has_items = match &q.kind {
                QuestionKind::Rank { from, .. } => live
                    .get(from.as_str())
                    .is_some_and(|a| !a.values().is_empty()),
                _ => true,
            };
            visible[i] = shown && rank_has_items;
            if visible[i]
                && let Some(a) = answers.get(&q.id)
            {
                live.insert(q.id.as_str(), a);
            }
            // A note that ends the interview hides everything after it.
            if visible[i] && q.ends {
                break;
            }
        }
        visible
    }

    /// The survey's consent question, as its data states it: the first question that takes
    /// an answer, when it is yes/no and its "no" hides every later question that takes an
    /// answer (and its "yes" shows at least one). No question id is assumed.
    pub fn consent_question(&self) -> Option<usize> {
        let qs = &self.survey.questions;
        let answerable = |i: usize| !matches!(qs[i].kind, QuestionKind::Note);
        let i = (0..qs.len()).find(|&i| answerable(i))?;
        if !matches!(qs[i].kind, QuestionKind::YesNo) {
            return None;
        }
        let later: Vec<usize> = (i + 1..qs.len()).filter(|&j| answerable(j)).collect();
        let with =
            |yes: bool| self.visibility(&Answers::from([(qs[i].id.clone(), Answer::YesNo(yes))]));
        let (no, yes) = (with(false), with(true));
        (!later.is_empty() && later.iter().all(|&j| !no[j]) && later.iter().any(|&j| yes[j]))
            .then_some(i)
    }

    /// Whether the respondent declined: the consent question was answered no.
    pub fn declined(&self, answers: &Answers) -> bool {
        self.consent_question()
            .and_then(|i| answers.get(&self.survey.questions[i].id))
            == Some(&Answer::YesNo(false))
    }

    pub fn is_visible(&self, index: usize, answers: &Answers) -> bool {
        self.visibility(answers)
            .get(index)
            .copied()
            .unwrap_or(false)
    }

    /// The first visible question after `after` (or the first of all with `None`).
    pub fn next(&self, answers: &Answers, after: Option<usize>) -> Option<usize> {
        let start = after.map_or(0, |i| i.saturating_add(1));
        let visible = self.visibility(answers);
        (start..visible.len()).find(|&i| visible[i])
    }

    /// The last visible question before `before`.
    pub fn prev(&self, answers: &Answers, before: usize) -> Option<usize> {
        let visible = self.visibility(answers);
        (0..before.min(visible.len())).rev().find(|&i| visible[i])
    }

    /// The first visible question that still needs an answer (notes need none), for
    /// resuming an interview that has no remembered position.
    pub fn first_unanswered(&self, answers: &Answers) -> Option<usize> {
        let visible = self.visibility(answers);
        self.survey.questions.iter().enumerate().position(|(i, q)| {
            visible[i] && !matches!(q.kind, QuestionKind::Note) && !answers.contains_key(&q.id)
        })
    }

    /// Checks an answer to question `index` against its kind, bounds and constraint.
    pub fn validate(
        &self,
        index: usize,
        answer: &Answer,
        answers: &Answers,
    ) -> Result<(), Invalid> {
        let Some(q) = self.survey.questions.get(index) else {
            return Err(Invalid::en("no such question"));
        };
        if let Answer::Skipped = answer {
            return if q.required {
                Err(Invalid::en("This question needs an answer"))
            } else {
                Ok(())
            };
        }
        self.check_kind(q, answer, answers)?;
        if let Some(c) = &q.constraint {
            let live = self.live_answers(answers);
            if !c.expr.eval(&|id| live.get(id).copied(), Some(answer)) {
                return Err(Invalid {
                    message: c.message.clone(),
                });
            }
        }
        Ok(())
    }

    fn live_answers<'a>(&self, answers: &'a Answers) -> BTreeMap<&'a str, &'a Answer> {
        let visible = self.visibility(answers);
        answers
            .iter()
            .filter(|(id, _)| self.survey.index_of(id).is_some_and(|i| visible[i]))
            .map(|(id, a)| (id.as_str(), a))
            .collect()
    }

    fn check_kind(&self, q: &Question, answer: &Answer, answers: &Answers) -> Result<(), Invalid> {
        let wrong = || {
            Invalid::en(format!(
                "A {} question cannot take this kind of answer",
                q.kind.name()
            ))
        };
        let choice_ok = |v: &str| q.choices().iter().any(|c| c.value == v);
        match (&q.kind, answer) {
            (QuestionKind::Note, _) => Err(Invalid::en("A note takes no answer")),
            (QuestionKind::Single { .. } | QuestionKind::Scale { .. }, Answer::Choice(v)) => {
                if choice_ok(v) {
                    Ok(())
                } else {
                    Err(Invalid::en(format!("`{v}` is not one of the choices")))
                }
            }
            (QuestionKind::Multiple { min, max, .. }, Answer::Choices(vs)) => {
                if let Some(bad) = vs.iter().find(|v| !choice_ok(v)) {
                    return Err(Invalid::en(format!("`{bad}` is not one of the choices")));
                }
                self.no_repeats(q, answers, vs)?;
                if vs.is_empty() {
                    return Err(Invalid::en("Choose at least one"));
                }
                if let Some(min) = min
                    && vs.len() < *min as usize
                {
                    return Err(Invalid::en(format!("Choose at least {min}")));
                }
                if let Some(max) = max
                    && vs.len() > *max as usize
                {
                    return Err(Invalid::en(format!("Choose at most {max}")));
                }
                exclusive_alone(q, vs, &self.survey.words)
            }
            (QuestionKind::Rank { from, max }, Answer::Rank(vs)) => {
                let source: Vec<String> = self
                    .live_answers(answers)
                    .get(from.as_str())
                    .map(|a| a.values())
                    .unwrap_or_default();
                // "Up to" `max`: the resident may name fewer, but at least one.
                if vs.is_empty() {
                    return Err(Invalid::en("Rank at least one item"));
                }
                if let Some(bad) = vs.iter().find(|v| !source.contains(v)) {
                    let label = label::item_label(self.survey, q, answers, bad);
                    return Err(Invalid::naming(&label, |l| {
                        format!("\"{l}\" was not among the answers to the earlier question")
                    }));
                }
                self.no_repeats(q, answers, vs)?;
                if vs.len() > *max as usize {
                    return Err(Invalid::en(format!("Rank at most {max}")));
                }
                Ok(())
            }
            (
                QuestionKind::Number {
                    integer, min, max, ..
                },
                Answer::Number(n),
            ) => {
                if !n.is_finite() {
                    return Err(Invalid::en("Enter a number"));
                }
                if *integer && n.fract() != 0.0 {
                    return Err(Invalid::en("Enter a whole number"));
                }
                if let Some(min) = min
                    && n < min
                {
                    return Err(Invalid::en(format!("The smallest allowed is {min}")));
                }
                if let Some(max) = max
                    && n > max
                {
                    return Err(Invalid::en(format!("The largest allowed is {max}")));
                }
                Ok(())
            }
            (QuestionKind::Count { max }, Answer::Count(n)) => match max {
                Some(max) if n > max => Err(Invalid::en(format!("The largest allowed is {max}"))),
                _ => Ok(()),
            },
            (QuestionKind::Text { max_len, .. }, Answer::Text(t)) => {
                if t.trim().is_empty() {
                    return Err(Invalid::en("Type an answer, or skip the question"));
                }
                match max_len {
                    Some(m) if t.chars().count() > *m as usize => {
                        Err(Invalid::en(format!("At most {m} characters")))
                    }
                    _ => Ok(()),
                }
            }
            (QuestionKind::YesNo, Answer::YesNo(_)) | (QuestionKind::Grade, Answer::Grade(_)) => {
                Ok(())
            }
            (QuestionKind::DateTime { mode }, a) => match (mode, a) {
                (DateTimeMode::Date, Answer::Date(_))
                | (DateTimeMode::Time, Answer::Time(_))
                | (DateTimeMode::DateTime, Answer::DateTime(_)) => Ok(()),
                _ => Err(wrong()),
            },
            (QuestionKind::Location { forms }, Answer::Location(loc)) => check_location(forms, loc),
            (QuestionKind::Issues { max, .. }, Answer::Issues(coding)) => {
                let is_code = |v: &str| q.choices().iter().any(|c| c.value == v);
                if let Some(bad) = coding
                    .issues
                    .iter()
                    .find(|i| self.survey.taxonomy.get(i).is_none() && !is_code(i))
                {
                    return Err(Invalid::en(format!("`{bad}` is not in the issue list")));
                }
                self.no_repeats(q, answers, &coding.issues)?;
                let has_other = coding.issues.iter().any(|i| i == OTHER);
                let other_text = coding
                    .other
                    .as_deref()
                    .is_some_and(|t| !t.trim().is_empty());
                if has_other && !other_text {
                    return Err(Invalid::en("Say what the \"other\" issue is"));
                }
                if !has_other && coding.other.is_some() {
                    return Err(Invalid::en("Free text is only for the \"other\" issue"));
                }
                if coding.issues.is_empty() {
                    return Err(Invalid::en("Code at least one issue, or skip the question"));
                }
                exclusive_alone(q, &coding.issues, &self.survey.words)?;
                match max {
                    Some(m) if coding.issues.len() > *m as usize => {
                        Err(Invalid::en(format!("Code at most {m} issues")))
                    }
                    _ => Ok(()),
                }
            }
            _ => Err(wrong()),
        }
    }

    /// Answered questions whose answers no longer count: now hidden, or now invalid.
    pub fn stale(&self, answers: &Answers) -> Vec<String> {
        let visible = self.visibility(answers);
        self.survey
            .questions
            .iter()
            .enumerate()
            .filter_map(|(i, q)| {
                let a = answers.get(&q.id)?;
                let stale = !visible[i] || self.validate(i, a, answers).is_err();
                stale.then(|| q.id.clone())
            })
            .collect()
    }

    /// What changing question `id` to `answer` would invalidate: answers that count now
    /// but would be hidden or invalid afterwards (the changed question itself excluded).
    pub fn invalidated_by(&self, answers: &Answers, id: &str, answer: &Answer) -> Vec<String> {
        let before: BTreeSet<String> = self.stale(answers).into_iter().collect();
        let mut after = answers.clone();
        after.insert(id.to_owned(), answer.clone());
        self.stale(&after)
            .into_iter()
            .filter(|q| q != id && !before.contains(q))
            .collect()
    }

    /// Whether the interview can be finalized as complete.
    pub fn completeness(&self, answers: &Answers) -> Completeness {
        let visible = self.visibility(answers);
        let mut out = Completeness::default();
        for (i, q) in self.survey.questions.iter().enumerate() {
            if !visible[i] || matches!(q.kind, QuestionKind::Note) {
                continue;
            }
            match answers.get(&q.id) {
                None => {
                    if q.required {
                        out.missing.push(q.id.clone());
                    }
                }
                Some(a) => {
                    if let Err(e) = self.validate(i, a, answers) {
                        out.invalid.push((q.id.clone(), e.message.to_string()));
                    }
                }
            }
        }
        out
    }

    /// Section and position of question `index` among the questions that will be asked.
    /// Later questions whose condition waits on an unanswered question count as likely to
    /// be asked, so "of about m" does not start at 1 and jump.
    pub fn progress(&self, answers: &Answers, index: usize) -> Progress {
        let visible = self.visibility(answers);
        // Nothing after a note that ends the interview will be asked.
        let end = (0..visible.len())
            .find(|&i| visible[i] && self.survey.questions[i].ends)
            .unwrap_or(visible.len());
        let undecided = |i: usize| {
            i > index
                && i < end
                && self.survey.questions[i]
                    .show_if
                    .as_ref()
                    .is_some_and(|e| e.settled(&|id| answers.get(id)).is_none())
        };
        let asked = |i: &usize| {
            (visible[*i] || undecided(*i))
                && !matches!(self.survey.questions[*i].kind, QuestionKind::Note)
        };
        let total = (0..visible.len()).filter(asked).count();
        let position = (0..index.min(visible.len())).filter(asked).count() + 1;
        Progress {
            section: self.survey.questions.get(index).map_or(0, |q| q.section),
            position: position.min(total.max(1)),
            total,
        }
    }
}

impl Walker<'_> {
    /// A value given twice, named by its label.
    fn no_repeats(
        &self,
        q: &Question,
        answers: &Answers,
        values: &[String],
    ) -> Result<(), Invalid> {
        let mut seen = BTreeSet::new();
        match values.iter().find(|v| !seen.insert(v.as_str())) {
            Some(dup) => {
                let label = label::item_label(self.survey, q, answers, dup);
                Err(Invalid::naming(&label, |l| {
                    format!("\"{l}\" is given twice")
                }))
            }
            None => Ok(()),
        }
    }

    /// What the questions after a ranking are about: the item ranked first, or the only
    /// item named when there was nothing to rank. Shown on the questions of the section
    /// that follows the ranking's section, so the officer asks about the right issue.
    pub fn ranked_first(&self, index: usize, answers: &Answers) -> Option<LocalText> {
        let q = self.survey.questions.get(index)?;
        let visible = self.visibility(answers);
        let (ri, rank) = self.survey.questions[..index]
            .iter()
            .enumerate()
            .rev()
            .find(|(_, r)| matches!(r.kind, QuestionKind::Rank { .. }))?;
        if q.section != rank.section + 1 {
            return None;
        }
        let QuestionKind::Rank { from, .. } = &rank.kind else {
            return None;
        };
        let live = |id: &str| {
            self.survey
                .index_of(id)
                .filter(|&i| visible[i])
                .and_then(|_| answers.get(id))
        };
        let first = match live(&rank.id) {
            Some(Answer::Rank(vs)) if visible[ri] => vs.first().cloned(),
            _ => match live(from).map(Answer::values) {
                Some(vs) if vs.len() == 1 => vs.first().cloned(),
                _ => None,
            },
        }?;
        Some(label::item_label(self.survey, rank, answers, &first))
    }
}

fn check_location(forms: &[LocationForm], loc: &Location) -> Result<(), Invalid> {
    let (form, result) = match loc {
        Location::LatLon { lat, lon } => (
            LocationForm::LatLon,
            if !(-90.0..=90.0).contains(lat) || !(-180.0..=180.0).contains(lon) {
                Err(Invalid::en(
                    "Latitude must be between -90 and 90 and longitude between -180 and 180",
                ))
            } else {
                Ok(())
            },
        ),
        Location::GridRef { text } => (
            LocationForm::GridRef,
            if is_grid_ref(text) {
                Ok(())
            } else {
                Err(Invalid::en(
                    "A grid reference is two letters and an even number of digits, e.g. SD 5760 0540",
                ))
            },
        ),
        Location::Fixed { text } => (
            LocationForm::Fixed,
            if text.trim().is_empty() {
                Err(Invalid::en("Describe the place, e.g. \"lamp column 14\""))
            } else {
                Ok(())
            },
        ),
    };
    if !forms.contains(&form) {
        return Err(Invalid::en(
            "This question does not take that form of location",
        ));
    }
    result
}

/// Whether `text` is an OS grid reference such as `SD 5760 0540` (the parser the geography
/// also uses decides, so the field and the map agree).
pub fn is_grid_ref(text: &str) -> bool {
    crate::gridref::parse(text).is_ok()
}

/// A choice marked exclusive or non-substantive ("nothing", "don't know", "refused") stands
/// alone: combined with anything else the answer would contradict itself.
fn exclusive_alone(q: &Question, values: &[String], words: &Words) -> Result<(), Invalid> {
    if values.len() < 2 {
        return Ok(());
    }
    match values.iter().find(|v| q.is_exclusive(v)) {
        Some(v) => {
            let label = q
                .choices()
                .iter()
                .find(|c| &c.value == v)
                .map(|c| c.label.clone())
                .unwrap_or_else(|| LocalText::en(v.as_str()));
            // The sentence from words.toml, with the choice's label in the same language.
            let sentence = words.text("cannot_combine");
            let langs: BTreeSet<&String> = sentence.0.keys().chain(label.0.keys()).collect();
            Err(Invalid {
                message: LocalText(
                    langs
                        .into_iter()
                        .map(|lang| {
                            let text = sentence.get(lang).replace("{}", label.get(lang));
                            (lang.clone(), text)
                        })
                        .collect(),
                ),
            })
        }
        None => Ok(()),
    }
}
