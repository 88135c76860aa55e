//! The report read one response at a time: each response is folded into the counts the
//! sections need as it is read, then dropped. For the period reported that is each area's
//! [`AreaPeriod`]; for every period, the issue counts behind "what changed" and
//! "persisting", and how many responses are on surveys this device does not know. A store
//! of any size is then read in memory bounded by its areas, questions and periods (and the
//! EVA findings the pack lists), not by its responses, and only the answers
//! [`Fold::needs_answer`] names need be decoded.
//!
//! Revisions: a response replaced by a finished revision is not counted. Responses are
//! read oldest first, so a revision usually comes after what it replaces: [`Fold::note`]
//! says when a response already counted must be taken back out ([`Fold::take_out`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use uuid::Uuid;

use super::changes::History;
use super::fieldwork::DoorTally;
use super::issues::{ISSUES_QUESTION, TallyAcc, said};
use super::street::NI195_ELEMENTS;
use super::{AreaPeriod, AreaSpec, CLASS_QUESTIONS, Class, Counted, Input, Lookups, normal_code};
use crate::response::transect::TRANSECT_QUESTION;
use crate::response::{DoorRecord, Period, Response, Status};
use crate::survey::Taxonomy;
use crate::survey::model::QuestionKind;
use crate::survey::registry::Registry;

/// Everything the report needs of the responses and doors, folded.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    /// Each area's issue counts per period, by area code.
    pub history: BTreeMap<String, History>,
    /// Counted responses (every period) whose survey is not installed here.
    pub unknown: u64,
    /// Each area's counts in the period reported, by area code.
    pub now: BTreeMap<String, AreaPeriod>,
    /// Each area's door log counts in the period reported, by area code.
    pub doors: BTreeMap<String, DoorTally>,
    /// Counted responses of the period on an installed survey, per area code as filed
    /// ([`normal_code`]): those under a code the geography does not know are unplaced.
    pub filed: BTreeMap<String, u64>,
    /// The area codes as filed with any finished response or knock in the period.
    pub worked: BTreeSet<String>,
}

/// What to do with a response about to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note {
    /// A revision read earlier replaces it: not counted.
    pub skip: bool,
    /// A response read (and counted) earlier that this one replaces: pass it to
    /// [`Fold::take_out`].
    pub take_out: Option<Uuid>,
}

pub struct Fold<'a> {
    surveys: &'a Registry,
    look: Lookups<'a>,
    period: Period,
    codes: Vec<String>,
    /// Area code as filed (normalised) → the areas it belongs to.
    members: BTreeMap<String, Vec<usize>>,
    tallies: BTreeMap<(usize, Period), TallyAcc>,
    /// Per area, the period reported.
    now: Vec<AreaPeriod>,
    doors: Vec<DoorTally>,
    unknown: u64,
    filed: BTreeMap<String, u64>,
    /// Finished responses of the period per area code as filed (a count, so a response
    /// taken out again can be).
    worked: BTreeMap<String, u64>,
    door_worked: BTreeSet<String>,
    /// The responses replaced by a finished revision: the one thing kept per response,
    /// and only per revision.
    replaced: HashSet<Uuid>,
    /// Responses counted so far: the next one's place in reading order.
    read: u64,
    wants: Wants,
}

/// What a fold reads of a response: which answers need decoding, and whether its EVA
/// findings do. Apart from the fold, so that responses can be decoded on another thread.
#[derive(Debug, Clone)]
pub struct Wants {
    period: Period,
    /// The questions that rank the issues named, in any survey installed.
    rank_questions: BTreeSet<String>,
    /// The questions the sections read of a response of the period reported.
    period_questions: BTreeSet<String>,
}

impl Wants {
    /// Whether counting a response of `period` reads answer `question`: the others need
    /// not be decoded. (A question of any installed survey is read whatever the
    /// response's survey: decoding one answer too many changes no count.)
    pub fn needs_answer(&self, period: Period, question: &str) -> bool {
        if period == self.period {
            self.period_questions.contains(question)
        } else {
            question == ISSUES_QUESTION
                || CLASS_QUESTIONS.contains(&question)
                || self.rank_questions.contains(question)
        }
    }

    /// Whether counting a response of `period` reads its EVA findings.
    pub fn needs_findings(&self, period: Period) -> bool {
        period == self.period
    }
}

/// A door's counts in `period`, with the area code it is filed under ([`normal_code`]);
/// `None` for a door not knocked in the period. See [`Fold::door_tally`].
pub fn door_tally(door: &DoorRecord, period: Period) -> Option<(String, DoorTally)> {
    let t = DoorTally::of(door, period);
    (t.knocked > 0).then(|| (normal_code(&door.area), t))
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
        let questions = || surveys.entries().iter().flat_map(|e| &e.survey.questions);
        let rank_questions: BTreeSet<String> = questions()
            .filter(
                |q| matches!(&q.kind, QuestionKind::Rank { from, .. } if from == ISSUES_QUESTION),
            )
            .map(|q| q.id.clone())
            .collect();
        let look = Lookups::new(surveys, taxonomy);
        // What the sections read: see `AreaPeriod::count` and the sections' `count`s.
        let mut period_questions: BTreeSet<String> = rank_questions.clone();
        period_questions.extend(
            [
                ISSUES_QUESTION,
                TRANSECT_QUESTION,
                "street",
                "from_ref",
                "to_ref",
            ]
            .into_iter()
            .chain(CLASS_QUESTIONS)
            .chain(NI195_ELEMENTS)
            .map(str::to_owned),
        );
        period_questions.extend(
            questions()
                .filter(|q| {
                    q.indicator.is_some()
                        || q.item.is_some()
                        || matches!(q.kind, QuestionKind::Location { .. })
                })
                .map(|q| q.id.clone()),
        );
        period_questions.extend(look.eva_items.iter().flat_map(|(_, i)| i.iter().cloned()));
        period_questions.extend(look.about_you.keys().cloned());
        Fold {
            surveys,
            look,
            period,
            codes: areas.iter().map(|a| a.code.clone()).collect(),
            members,
            tallies: BTreeMap::new(),
            now: vec![AreaPeriod::default(); areas.len()],
            doors: vec![DoorTally::default(); areas.len()],
            unknown: 0,
            filed: BTreeMap::new(),
            worked: BTreeMap::new(),
            door_worked: BTreeSet::new(),
            replaced: HashSet::new(),
            read: 0,
            wants: Wants {
                period,
                rank_questions,
                period_questions,
            },
        }
    }

    /// The fold of a report's own responses and doors, all in memory (as the field app
    /// reads them): the latest finished revision of each response, in the order given.
    pub fn of_input(input: &Input<'_>) -> Folded {
        let mut f = Fold::new(input.surveys, input.taxonomy, input.period, &input.areas);
        for r in super::active_responses(input.responses).responses {
            f.count(r, true);
        }
        for d in input.doors {
            f.door(d);
        }
        f.finish()
    }

    /// See [`Wants::needs_answer`].
    pub fn needs_answer(&self, period: Period, question: &str) -> bool {
        self.wants.needs_answer(period, question)
    }

    /// See [`Wants::needs_findings`].
    pub fn needs_findings(&self, period: Period) -> bool {
        self.wants.needs_findings(period)
    }

    /// What this fold reads of a response, for a decoder on another thread.
    pub fn wants(&self) -> Wants {
        self.wants.clone()
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

    /// Counts a response in. It is taken by value and dropped: nothing of it is kept but
    /// counts (and the EVA findings the pack lists).
    pub fn add(&mut self, response: Response) {
        self.count(&response, true);
    }

    /// Takes a response counted earlier back out, as read again from the store.
    pub fn take_out(&mut self, response: &Response) {
        self.count(response, false);
    }

    /// Counts a door's knocks in the period reported.
    pub fn door(&mut self, door: &DoorRecord) {
        if let Some((code, t)) = door_tally(door, self.period) {
            self.door_tally(code, t);
        }
    }

    /// Counts the doors' counts [`door_tally`] gives, added up per area code as filed in
    /// any order: the same as counting each door.
    pub fn door_tally(&mut self, code: String, t: DoorTally) {
        if t.knocked == 0 {
            return;
        }
        if let Some(areas) = self.members.get(&code) {
            for &i in areas {
                if let Some(d) = self.doors.get_mut(i) {
                    d.add(t);
                }
            }
        }
        self.door_worked.insert(code);
    }

    fn count(&mut self, r: &Response, add: bool) {
        let step = |n: &mut u64| *n = super::step(*n, add);
        let in_period = r.period == self.period;
        if in_period && r.status.is_final() {
            step(self.worked.entry(normal_code(&r.area)).or_insert(0));
        }
        if !counted(r.status) {
            return;
        }
        let Some(survey) = self.surveys.get(&r.survey_id, Some(r.survey_version)) else {
            step(&mut self.unknown);
            return;
        };
        let code = normal_code(&r.area);
        if in_period {
            step(self.filed.entry(code.clone()).or_insert(0));
        }
        let Some(areas) = self.members.get(&code) else {
            return;
        };
        let c = Counted {
            response: r,
            survey,
        };
        if in_period {
            if add {
                self.read += 1;
            }
            for &i in areas {
                if let Some(now) = self.now.get_mut(i) {
                    now.count(&self.look, &c, self.read, add);
                }
            }
        }
        let Class::Interview(who) = Class::of(&c) else {
            return;
        };
        let s = said(&c, self.look.taxonomy);
        for &i in areas {
            self.tallies
                .entry((i, r.period))
                .or_default()
                .count(who, &s, add);
        }
    }

    /// The counts.
    pub fn finish(self) -> Folded {
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
        let worked = self
            .worked
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(code, _)| code)
            .chain(self.door_worked)
            .collect();
        Folded {
            history,
            unknown: self.unknown,
            now: self.codes.iter().cloned().zip(self.now).collect(),
            doors: self.codes.into_iter().zip(self.doors).collect(),
            filed: self.filed,
            worked,
        }
    }
}
