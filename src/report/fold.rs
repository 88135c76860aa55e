//! The report read one response at a time: each response is folded into the counts the
//! sections need as it is read, then dropped. Counts are kept per area code as filed and
//! period ([`CodeCounts`]): for the period reported, everything the sections count (an
//! [`AreaPeriod`]); for every other period, the issue counts behind "what changed" and
//! "persisting"; and how many responses are on surveys this device does not know. An
//! area's counts are then its codes' added up ([`folded`]). A store of any size is read in
//! memory bounded by its area codes, questions and periods (and the EVA findings the pack
//! lists), not by its responses, and only the answers [`Fold::needs_answer`] names need be
//! decoded. The same counts taken over every period ([`Fold::every_period`]) are what a
//! store keeps after a merge for the reports that follow.
//!
//! Revisions: a response replaced by a finished revision is not counted. Responses are
//! read oldest first, so a revision usually comes after what it replaces: [`Fold::note`]
//! says when a response already counted must be taken back out ([`Fold::take_out`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
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

/// The format of [`Counts`] as a store keeps them: moved whenever what a fold counts, or
/// how, changes, so that counts kept by another release are counted again, not misread.
/// 2: an audit's findings kept once for the urgent and located lists, their transect's
/// texts once per audit.
pub const COUNTS_FORMAT: u32 = 2;

/// What the report counts of the responses and doors filed under one area code in one
/// period. Areas are made of area codes ([`AreaSpec::members`]), so an area's counts are
/// its codes' added up ([`folded`]): the same counts serve every level and area, and a
/// store can keep them between reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CodeCounts {
    /// The period's counts in full; `None` where only `issues` was counted (a period
    /// other than the one reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<AreaPeriod>,
    /// The interviews' issue counts, for "what changed" and "persisting"; with `now`,
    /// in `now` instead (the same counts).
    #[serde(default)]
    pub issues: TallyAcc,
    /// Counted responses on an installed survey.
    #[serde(default)]
    pub filed: u64,
    /// Finished responses (a count, so a response taken out again can be).
    #[serde(default)]
    pub worked: u64,
    /// The door log's counts over the period's knocks.
    #[serde(default)]
    pub doors: DoorTally,
}

impl CodeCounts {
    /// The interviews' issue counts.
    pub fn issues(&self) -> &TallyAcc {
        self.now.as_ref().map_or(&self.issues, |n| &n.issues)
    }
}

/// One period's [`CodeCounts`], by area code as filed ([`normal_code`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PeriodCounts {
    pub codes: BTreeMap<String, CodeCounts>,
    /// Counted responses whose survey is not installed here.
    #[serde(default)]
    pub unknown: u64,
}

impl PeriodCounts {
    /// These counts without each code's full counts ([`CodeCounts::now`]), which are
    /// returned apart: a report on another period needs only the rest.
    pub fn split(mut self) -> (PeriodCounts, BTreeMap<String, AreaPeriod>) {
        let mut now = BTreeMap::new();
        for (code, c) in &mut self.codes {
            if let Some(full) = c.now.take() {
                c.issues = full.issues.clone();
                now.insert(code.clone(), full);
            }
        }
        (self, now)
    }

    /// Puts back the full counts [`PeriodCounts::split`] took out.
    pub fn join(&mut self, now: BTreeMap<String, AreaPeriod>) {
        for (code, full) in now {
            self.codes.entry(code).or_default().now = Some(full);
        }
    }
}

/// The counts of every period read.
pub type Counts = BTreeMap<Period, PeriodCounts>;

/// The report's counts for `areas` in `period` from the counts per area code: each
/// area's are its members' added up.
pub fn folded(counts: &Counts, period: Period, areas: &[AreaSpec]) -> Folded {
    let none = PeriodCounts::default();
    let this = counts.get(&period).unwrap_or(&none);
    let mut out = Folded {
        unknown: counts.values().map(|p| p.unknown).sum(),
        filed: this
            .codes
            .iter()
            .filter(|(_, c)| c.filed > 0)
            .map(|(code, c)| (code.clone(), c.filed))
            .collect(),
        worked: this
            .codes
            .iter()
            .filter(|(_, c)| c.worked > 0 || c.doors.knocked > 0)
            .map(|(code, _)| code.clone())
            .collect(),
        ..Folded::default()
    };
    for spec in areas {
        let mut now = AreaPeriod::default();
        let mut doors = DoorTally::default();
        for c in spec.members.iter().filter_map(|m| this.codes.get(m)) {
            if let Some(n) = &c.now {
                now.absorb(n);
            }
            doors.add(c.doors);
        }
        out.now.insert(spec.code.clone(), now);
        out.doors.insert(spec.code.clone(), doors);
        for (p, counts) in counts {
            let mut acc = TallyAcc::default();
            for m in &spec.members {
                if let Some(c) = counts.codes.get(m) {
                    acc.absorb(c.issues());
                }
            }
            // A period whose interviews were all taken out again has none.
            if acc.interviews() == 0 {
                continue;
            }
            out.history
                .entry(spec.code.clone())
                .or_default()
                .periods
                .insert(*p, acc.finish());
        }
    }
    out
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
    /// The period counted in full; `None`: every period (the counts a store keeps).
    full: Option<Period>,
    counts: Counts,
    /// The responses replaced by a finished revision: the one thing kept per response,
    /// and only per revision.
    replaced: HashSet<Uuid>,
    /// Responses counted in full so far: the next one's place in reading order.
    read: u64,
    wants: Wants,
}

/// What a fold reads of a response: which answers need decoding, and whether its EVA
/// findings do. Apart from the fold, so that responses can be decoded on another thread.
#[derive(Debug, Clone)]
pub struct Wants {
    /// The period counted in full (every period when `None`).
    full: Option<Period>,
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
        if self.needs_findings(period) {
            self.period_questions.contains(question)
        } else {
            question == ISSUES_QUESTION
                || CLASS_QUESTIONS.contains(&question)
                || self.rank_questions.contains(question)
        }
    }

    /// The period counted in full; `None`: every period.
    pub fn full(&self) -> Option<Period> {
        self.full
    }

    /// Whether counting a response of `period` reads its EVA findings.
    pub fn needs_findings(&self, period: Period) -> bool {
        self.full.is_none_or(|p| p == period)
    }
}

/// A door's counts in `period`, with the area code it is filed under ([`normal_code`]);
/// `None` for a door not knocked in the period. See [`Fold::door_tally`].
pub fn door_tally(door: &DoorRecord, period: Period) -> Option<(String, DoorTally)> {
    let t = DoorTally::of(door, period);
    (t.knocked > 0).then(|| (normal_code(&door.area), t))
}

/// A door's counts ([`door_tally`]) in each period counted in full: `full`, or when
/// `None` every period it was knocked in.
pub fn door_tallies(door: &DoorRecord, full: Option<Period>) -> Vec<(Period, String, DoorTally)> {
    let periods: BTreeSet<Period> = match full {
        Some(p) => BTreeSet::from([p]),
        None => door
            .knocks
            .iter()
            .map(|k| Period::of_fieldwork(k.at))
            .collect(),
    };
    periods
        .into_iter()
        .filter_map(|p| door_tally(door, p).map(|(code, t)| (p, code, t)))
        .collect()
}

/// Whether a response's status counts in the report (as [`super::active_responses`]).
fn counted(status: Status) -> bool {
    matches!(status, Status::Complete | Status::Refused)
}

impl<'a> Fold<'a> {
    /// A fold for a report on `period`: that period's responses are counted in full, the
    /// others' issue counts only.
    pub fn new(surveys: &'a Registry, taxonomy: &'a Taxonomy, period: Period) -> Fold<'a> {
        Fold::counting(surveys, taxonomy, Some(period))
    }

    /// A fold counting every period in full: the counts a store keeps for reports on any
    /// period ([`Fold::into_counts`]).
    pub fn every_period(surveys: &'a Registry, taxonomy: &'a Taxonomy) -> Fold<'a> {
        Fold::counting(surveys, taxonomy, None)
    }

    fn counting(surveys: &'a Registry, taxonomy: &'a Taxonomy, full: Option<Period>) -> Fold<'a> {
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
            full,
            counts: Counts::new(),
            replaced: HashSet::new(),
            read: 0,
            wants: Wants {
                full,
                rank_questions,
                period_questions,
            },
        }
    }

    /// The fold of a report's own responses and doors, all in memory (as the field app
    /// reads them): the latest finished revision of each response, in the order given.
    pub fn of_input(input: &Input<'_>) -> Folded {
        let mut f = Fold::new(input.surveys, input.taxonomy, input.period);
        for r in super::active_responses(input.responses).responses {
            f.count(r, true);
        }
        for d in input.doors {
            f.door(d);
        }
        f.finish(input.period, &input.areas)
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

    /// Counts a door's knocks in the periods counted in full.
    pub fn door(&mut self, door: &DoorRecord) {
        for (p, code, t) in door_tallies(door, self.full) {
            self.door_tally(p, code, t);
        }
    }

    /// Counts the doors' counts [`door_tally`] gives for `period`, added up per area code
    /// as filed in any order: the same as counting each door.
    pub fn door_tally(&mut self, period: Period, code: String, t: DoorTally) {
        if t.knocked == 0 {
            return;
        }
        self.counts
            .entry(period)
            .or_default()
            .codes
            .entry(code)
            .or_default()
            .doors
            .add(t);
    }

    fn count(&mut self, r: &Response, add: bool) {
        let step = |n: &mut u64| *n = super::step(*n, add);
        let full = self.wants.needs_findings(r.period);
        let period = self.counts.entry(r.period).or_default();
        let counts = period.codes.entry(normal_code(&r.area)).or_default();
        if full && r.status.is_final() {
            step(&mut counts.worked);
        }
        if !counted(r.status) {
            return;
        }
        let Some(survey) = self.surveys.get(&r.survey_id, Some(r.survey_version)) else {
            step(&mut period.unknown);
            return;
        };
        let c = Counted {
            response: r,
            survey,
        };
        if full {
            step(&mut counts.filed);
            if add {
                self.read += 1;
            }
            counts
                .now
                .get_or_insert_with(AreaPeriod::default)
                .count(&self.look, &c, self.read, add);
        } else if let Class::Interview(who) = Class::of(&c) {
            counts.issues.count(who, &said(&c, self.look.taxonomy), add);
        }
    }

    /// The report's counts for `areas` in `period` (the period this fold counts in full).
    pub fn finish(self, period: Period, areas: &[AreaSpec]) -> Folded {
        folded(&self.counts, period, areas)
    }

    /// The counts per period and area code.
    pub fn into_counts(self) -> Counts {
        self.counts
    }
}
