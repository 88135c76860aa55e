//! The report read one response at a time: what it needs of every period (the issue
//! counts behind "what changed" and "persisting", and how many responses are on surveys
//! this device does not know) is folded into counts as each response is read, and only
//! the period reported on is kept whole. A store of any number of periods is then read in
//! memory bounded by one period, and other periods' responses need only the answers
//! [`Fold::needs_answer`] names decoded.
//!
//! Revisions: a response replaced by a finished revision is not counted. Responses are
//! read oldest first, so a revision usually comes after what it replaces: [`Fold::note`]
//! says when a response already counted must be taken back out ([`Fold::take_out`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use uuid::Uuid;

use super::changes::History;
use super::issues::{ISSUES_QUESTION, TallyAcc, said};
use super::{AreaSpec, CLASS_QUESTIONS, Class, Counted, normal_code};
use crate::response::{Period, Response, Status};
use crate::survey::Taxonomy;
use crate::survey::model::QuestionKind;
use crate::survey::registry::Registry;

/// What the report needs of every period, folded.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    /// Each area's issue counts per period, by area code.
    pub history: BTreeMap<String, History>,
    /// Counted responses (every period) whose survey is not installed here.
    pub unknown: u64,
}

/// What to do with a response about to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note {
    /// A revision read earlier replaces it: not counted, not kept.
    pub skip: bool,
    /// A response read (and counted) earlier that this one replaces: pass it to
    /// [`Fold::take_out`].
    pub take_out: Option<Uuid>,
}

pub struct Fold<'a> {
    surveys: &'a Registry,
    taxonomy: &'a Taxonomy,
    period: Period,
    codes: Vec<String>,
    /// Area code as filed (normalised) → the areas it belongs to.
    members: BTreeMap<String, Vec<usize>>,
    tallies: BTreeMap<(usize, Period), TallyAcc>,
    unknown: u64,
    replaced: HashSet<Uuid>,
    kept: BTreeMap<Uuid, Response>,
    /// The questions that rank the issues named, in any survey installed.
    rank_questions: BTreeSet<String>,
}

/// Whether a response's status counts in the report (as [`super::active_responses`]).
fn counted(status: Status) -> bool {
    matches!(status, Status::Complete | Status::Refused)
}

impl<'a> Fold<'a> {
    /// A fold for a report on `period` over `areas`.
    pub fn new(
        surveys: &'a Registry,
        taxonomy: &'a Taxonomy,
        period: Period,
        areas: &[AreaSpec],
    ) -> Fold<'a> {
        let mut members: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, spec) in areas.iter().enumerate() {
            for m in &spec.members {
                members.entry(m.clone()).or_default().push(i);
            }
        }
        Fold {
            surveys,
            taxonomy,
            period,
            codes: areas.iter().map(|a| a.code.clone()).collect(),
            members,
            tallies: BTreeMap::new(),
            unknown: 0,
            replaced: HashSet::new(),
            kept: BTreeMap::new(),
            rank_questions: surveys
                .entries()
                .iter()
                .flat_map(|e| &e.survey.questions)
                .filter(|q| {
                    matches!(&q.kind, QuestionKind::Rank { from, .. } if from == ISSUES_QUESTION)
                })
                .map(|q| q.id.clone())
                .collect(),
        }
    }

    /// Whether a response of `period` is kept whole (the period reported on) rather than
    /// only counted.
    pub fn keeps(&self, period: Period) -> bool {
        period == self.period
    }

    /// Whether counting a response of another period reads answer `question`: the others
    /// need not be decoded. (A ranking question of any installed survey is read whatever
    /// the response's survey: decoding one answer too many changes no count.)
    pub fn needs_answer(&self, question: &str) -> bool {
        question == ISSUES_QUESTION
            || CLASS_QUESTIONS.contains(&question)
            || self.rank_questions.contains(question)
    }

    /// Notes response `id` (its status, and what it revises) before it is read; it must
    /// be called for every response, in the order they are read.
    pub fn note(&mut self, id: Uuid, status: Status, replaces: Option<Uuid>) -> Note {
        let take_out = match replaces {
            // Replaced once is replaced: a second revision of it takes nothing out again.
            // An id after this one's is not read yet, and will be skipped when it is.
            Some(old) if counted(status) && self.replaced.insert(old) && old < id => Some(old),
            _ => None,
        };
        Note {
            skip: self.replaced.contains(&id),
            take_out,
        }
    }

    /// Counts a response in (and keeps it, if of the period reported on).
    pub fn add(&mut self, response: Response) {
        self.count(&response, true);
        if self.keeps(response.period) {
            self.kept.insert(response.id, response);
        }
    }

    /// Takes a response counted earlier back out, as read again from the store.
    pub fn take_out(&mut self, response: &Response) {
        self.count(response, false);
        self.kept.remove(&response.id);
    }

    fn count(&mut self, r: &Response, add: bool) {
        if !counted(r.status) {
            return;
        }
        let Some(survey) = self.surveys.get(&r.survey_id, Some(r.survey_version)) else {
            self.unknown = if add {
                self.unknown + 1
            } else {
                self.unknown.saturating_sub(1)
            };
            return;
        };
        let c = Counted {
            response: r,
            survey,
        };
        let Class::Interview(who) = Class::of(&c) else {
            return;
        };
        let Some(areas) = self.members.get(&normal_code(&r.area)) else {
            return;
        };
        let s = said(&c, self.taxonomy);
        for &i in areas {
            self.tallies
                .entry((i, r.period))
                .or_default()
                .count(who, &s, add);
        }
    }

    /// The responses kept (the period reported on, oldest first), and the counts.
    pub fn finish(self) -> (Vec<Response>, Folded) {
        let mut history: BTreeMap<String, History> = BTreeMap::new();
        for ((i, period), acc) in self.tallies {
            // A period whose interviews were all taken out again has none.
            if acc.interviews() == 0 {
                continue;
            }
            if let Some(code) = self.codes.get(i) {
                history
                    .entry(code.clone())
                    .or_default()
                    .periods
                    .insert(period, acc.finish());
            }
        }
        (
            self.kept.into_values().collect(),
            Folded {
                history,
                unknown: self.unknown,
            },
        )
    }
}
