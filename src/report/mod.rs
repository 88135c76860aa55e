//! The priority-setting pack (issue 13): what each area told us, how sure we can be, what
//! the street and recorded crime say, who we heard, what changed, and the three priorities
//! the evidence proposes.
//!
//! Pure domain code: the caller (the `report` command) reads the store and passes the
//! responses, door log, surveys, taxonomy, areas and crime records in; [`build`] returns a
//! [`Report`], whose serde form is the JSON contract every renderer reads. Nothing here
//! touches the store, the terminal or the clock, so the same inputs give the same report.

pub mod changes;
pub mod fieldwork;
pub mod figure;
pub mod fold;
pub mod heard;
pub mod indicators;
pub mod issues;
pub mod model;
pub mod priority;
pub mod profile;
pub mod record;
pub mod render;
pub mod select;
pub mod street;
pub mod tidy;
pub mod wilson;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use figure::{LOW_BASE, Rules, THRESHOLD, Tally};
pub use model::*;
pub use profile::{Profile, ProfileError};
pub use select::{Active, active_responses};

use crate::geography::AreaSelection;
use crate::geography::crime::CrimeRecord;
use crate::response::{DoorRecord, Period, Response, StoredAnswer};
use crate::survey::registry::Registry;
use crate::survey::{Answer, Survey, SurveyKind, Taxonomy};

/// One area to report on, as the caller resolved it from the geography.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaSpec {
    /// Ward or PAA code; a township's name.
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    /// The ward of a PAA, the township of a ward.
    pub parent: Option<String>,
    /// The area codes responses and door logs are filed under that belong to this area:
    /// its own code and, for a ward, its PAAs; for a township, its wards and their PAAs.
    pub members: BTreeSet<String>,
    /// Which recorded crime lies in it.
    pub crime: AreaSelection,
}

impl AreaSpec {
    /// Whether a response or door filed under `code` belongs here (codes compared trimmed,
    /// ignoring case, as the response filter does).
    pub fn holds(&self, code: &str) -> bool {
        self.members.contains(&normal_code(code))
    }
}

/// An area code as compared: trimmed, upper case.
pub fn normal_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// Everything a report is built from.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub period: Period,
    /// The period compared with; the caller passes the previous period by default.
    pub compare: Option<Period>,
    pub level: AreaLevel,
    pub areas: Vec<AreaSpec>,
    /// Every area code the geography knows responses under (its wards and PAAs, as
    /// [`normal_code`]s): a finished response under any other code is counted as unplaced.
    pub known_areas: BTreeSet<String>,
    /// Every response in the store (drafts, revisions and all); [`active_responses`] picks.
    /// Not read when `folded` is given.
    pub responses: &'a [Response],
    pub surveys: &'a Registry,
    /// The taxonomy whose labels and mappings the pack uses (the latest edition).
    pub taxonomy: &'a Taxonomy,
    /// The door log; not read when `folded` is given.
    pub doors: &'a [DoorRecord],
    pub crime: &'a [CrimeRecord],
    pub rules: Rules,
    pub profile: Option<&'a Profile>,
    /// Merge conflicts the store holds unresolved (their active side is among
    /// `responses`; the pack says how many there are).
    pub unresolved_conflicts: u64,
    /// The responses and doors folded while reading the store ([`fold::Fold`]): then
    /// `responses` and `doors` are not read, and may be empty.
    pub folded: Option<&'a fold::Folded>,
}

/// The priority score formula, as printed in the pack and the README.
pub const PRIORITY_FORMULA: &str = "score (0–100) = 40 × share of interviews naming it \
     + 20 × share ranking it first + 15 × share of audited transects showing it (EVA) \
     + 15 × its share of the area's recorded crime (only where one police.uk category maps \
     to it alone) + 10 if persisting (among the three most named issues in 2 or more \
     consecutive periods)";

/// The caveats every pack carries.
pub fn caveats() -> Vec<String> {
    vec![
        "Indicators are computed on residents only. A KIN sample is chosen on purpose and \
         includes businesses and groups often missed, so they are not comparable with the \
         national surveys (British Crime Survey, Place Survey)."
            .to_owned(),
        "NI 4, NI 17, NI 41 and NI 42 are legacy measures (the National Indicator Set was \
         abolished in 2010–11), kept for comparison over time here."
            .to_owned(),
        "Intervals are Wilson 95% score intervals. A base under 30 is flagged \"low base\"."
            .to_owned(),
        "A change is only claimed where both bases are 30 or more and the intervals do not \
         overlap."
            .to_owned(),
    ]
}

/// The suppression rule in words.
pub fn suppression(rules: &Rules) -> Suppression {
    Suppression {
        applied: rules.public,
        threshold: rules.threshold,
        rule: if rules.public {
            format!(
                "Public pack: counts from 1 to {} and any figure on a base under {} are \
                 hidden, with a second cell hidden where one could be worked out from a \
                 total; \"about you\" is not shown below ward level; no free text.",
                rules.threshold.saturating_sub(1),
                rules.threshold
            )
        } else {
            "Internal view: nothing hidden. Not for publication.".to_owned()
        },
    }
}

/// Builds the pack. With `input.folded` the responses and doors were folded as they
/// were read ([`fold::Fold`]); without it, `input.responses` and `input.doors` are folded
/// here the same way, so both give the same report.
pub fn build(input: &Input<'_>) -> Report {
    let own;
    let folded = match input.folded {
        Some(f) => f,
        None => {
            own = fold::Fold::of_input(input);
            &own
        }
    };
    let unplaced = folded
        .filed
        .iter()
        .filter(|(code, _)| !input.known_areas.contains(*code))
        .map(|(_, n)| n)
        .sum();
    let areas = input
        .areas
        .iter()
        .map(|spec| area_report(input, spec, folded))
        .collect();
    Report {
        format: FORMAT,
        version: VERSION,
        period: input.period,
        compared_with: input.compare,
        level: input.level,
        public: input.rules.public,
        marking: (!input.rules.public).then(|| "not for publication".to_owned()),
        suppression: suppression(&input.rules),
        low_base_below: LOW_BASE,
        unresolved_conflicts: input.unresolved_conflicts,
        unplaced_responses: unplaced,
        unknown_survey_responses: folded.unknown,
        priority_formula: PRIORITY_FORMULA.to_owned(),
        caveats: caveats(),
        areas,
    }
}

/// A counted response with the survey it was recorded on.
#[derive(Debug, Clone, Copy)]
pub struct Counted<'a> {
    pub response: &'a Response,
    pub survey: &'a Survey,
}

impl<'a> Counted<'a> {
    pub fn kind(&self) -> SurveyKind {
        self.survey.kind
    }

    /// A plain (unsealed) answer other than "skipped".
    pub fn answer(&self, question: &str) -> Option<&'a Answer> {
        match &self.response.answers.get(question)?.value {
            StoredAnswer::Plain(Answer::Skipped) | StoredAnswer::Sealed(_) => None,
            StoredAnswer::Plain(a) => Some(a),
        }
    }

    /// The value of a single-choice or scale answer.
    pub fn choice(&self, question: &str) -> Option<&'a str> {
        match self.answer(question)? {
            Answer::Choice(v) => Some(v.as_str()),
            Answer::YesNo(true) => Some("yes"),
            Answer::YesNo(false) => Some("no"),
            _ => None,
        }
    }
}

/// One area's counts in the period reported, added to one response at a time (and taken
/// back out when a revision read later replaces one): what every section needs, and no
/// response. Its size grows with the areas, questions and answers' values, the officers
/// and the EVA findings the pack lists, never with the number of interviews.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AreaPeriod {
    /// Adult interviews with consent (every table's base), per respondent type in
    /// [`Respondent::ALL`] order.
    pub by_type: [u64; 5],
    /// Interviews with under-16s.
    pub youth: u64,
    /// Records where consent was declined.
    pub declined: u64,
    /// Interviews stopped part-way (status refused).
    pub stopped: u64,
    /// Completed EVA audits.
    pub audits: u64,
    /// The interviews' issue counts.
    pub issues: issues::TallyAcc,
    /// Interviews per interviewer (trimmed, non-empty): a distinct count must know the
    /// names, and a revision taken out must be able to take its interviewer out again.
    pub interviewers: BTreeMap<String, u64>,
    pub indicators: indicators::Acc,
    pub street: street::Acc,
    pub evidence: record::Evidence,
    pub heard: heard::Acc,
}

/// What counting a response looks up in the surveys and taxonomy, worked out once.
#[derive(Debug, Clone)]
pub struct Lookups<'a> {
    pub taxonomy: &'a Taxonomy,
    pub measures: Vec<indicators::Measure>,
    /// Every "about you" question of an installed survey (see [`heard::Acc`]).
    pub about_you: BTreeMap<String, BTreeSet<String>>,
    /// Each taxonomy issue's EVA items (see [`record::Evidence`]).
    pub eva_items: Vec<(String, Vec<String>)>,
}

impl<'a> Lookups<'a> {
    pub fn new(surveys: &Registry, taxonomy: &'a Taxonomy) -> Lookups<'a> {
        let mut seen = BTreeSet::new();
        let mut eva_items: Vec<(String, Vec<String>)> = Vec::new();
        for def in &taxonomy.issues {
            // As [`Taxonomy::get`]: the first definition of an id is the one read.
            if seen.insert(def.id.as_str()) && !def.eva_items.is_empty() {
                eva_items.push((def.id.clone(), def.eva_items.clone()));
            }
        }
        Lookups {
            taxonomy,
            measures: indicators::measures(),
            about_you: heard::about_you_values(surveys),
            eva_items,
        }
    }
}

/// The respondent types the pack tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Respondent {
    Resident,
    Business,
    KeyIndividual,
    Other,
    NotGiven,
}

impl Respondent {
    pub const ALL: [Respondent; 5] = [
        Respondent::Resident,
        Respondent::Business,
        Respondent::KeyIndividual,
        Respondent::Other,
        Respondent::NotGiven,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Respondent::Resident => "resident",
            Respondent::Business => "business",
            Respondent::KeyIndividual => "key_individual",
            Respondent::Other => "other",
            Respondent::NotGiven => "not_given",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Respondent::Resident => "Residents",
            Respondent::Business => "Businesses",
            Respondent::KeyIndividual => "Key individuals",
            Respondent::Other => "Others",
            Respondent::NotGiven => "Not given (refused or not answered)",
        }
    }

    fn of(value: Option<&str>) -> Respondent {
        match value {
            Some("resident") => Respondent::Resident,
            Some("business") => Respondent::Business,
            Some("key_individual") => Respondent::KeyIndividual,
            Some("other") => Respondent::Other,
            _ => Respondent::NotGiven,
        }
    }
}

impl Respondent {
    /// Its place in [`Respondent::ALL`].
    pub fn index(self) -> usize {
        match self {
            Respondent::Resident => 0,
            Respondent::Business => 1,
            Respondent::KeyIndividual => 2,
            Respondent::Other => 3,
            Respondent::NotGiven => 4,
        }
    }
}

/// A map whose keys are not strings, (de)serialized as a list of pairs: JSON keys can only
/// be strings.
pub(crate) mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

/// One more (`add`) or one fewer.
pub(crate) fn step(n: u64, add: bool) -> u64 {
    if add { n + 1 } else { n.saturating_sub(1) }
}

impl AreaPeriod {
    /// Adds the counts of other responses (another area code's of the same period, read
    /// in the same reading order) to these: an area's counts are its codes' added up.
    pub fn absorb(&mut self, other: &AreaPeriod) {
        for (n, o) in self.by_type.iter_mut().zip(other.by_type) {
            *n += o;
        }
        self.youth += other.youth;
        self.declined += other.declined;
        self.stopped += other.stopped;
        self.audits += other.audits;
        self.issues.absorb(&other.issues);
        for (name, n) in &other.interviewers {
            *self.interviewers.entry(name.clone()).or_insert(0) += n;
        }
        self.indicators.absorb(&other.indicators);
        self.street.absorb(&other.street);
        self.evidence.absorb(&other.evidence);
        self.heard.absorb(&other.heard);
    }

    /// Adult interviews with consent.
    pub fn interviews(&self) -> u64 {
        self.by_type.iter().sum()
    }

    /// Interviews per respondent type, in [`Respondent::ALL`] order.
    pub fn by_type(&self) -> Vec<u64> {
        self.by_type.to_vec()
    }

    /// Which respondent-type counts the public pack hides, in [`Respondent::ALL`] order:
    /// the small ones, and a second cell so none is the total less the rest (residents
    /// last, since they carry the indicators). Every table on a hidden group hides its
    /// figures whole, so no base gives the count away.
    pub fn hidden_types(&self, rules: &Rules) -> Vec<bool> {
        figure::hide_in_table_sparing(&self.by_type(), rules, Some(0))
    }

    /// Counts a counted response of this area and period in (`add`) or back out; `order`
    /// is its place in reading order (what lists of findings are sorted by).
    pub fn count(&mut self, look: &Lookups<'_>, c: &Counted<'_>, order: u64, add: bool) {
        match Class::of(c) {
            Class::Audit => {
                self.audits = step(self.audits, add);
                self.street.count(c, order, add);
                self.evidence.count(&look.eva_items, c, add);
            }
            Class::Stopped => self.stopped = step(self.stopped, add),
            Class::Declined => self.declined = step(self.declined, add),
            Class::Youth => self.youth = step(self.youth, add),
            Class::Interview(who) => {
                let n = &mut self.by_type[who.index()];
                *n = step(*n, add);
                self.issues.count(who, &issues::said(c, look.taxonomy), add);
                let name = c.response.interviewer.trim();
                if !name.is_empty() {
                    let n = self.interviewers.entry(name.to_owned()).or_insert(0);
                    *n = step(*n, add);
                    if *n == 0 {
                        self.interviewers.remove(name);
                    }
                }
                if who == Respondent::Resident {
                    self.indicators.count(&look.measures, c, add);
                }
                self.heard.count(&look.about_you, c, order, add);
            }
            Class::Other => {}
        }
    }
}

/// What a counted response is to the pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// A completed EVA audit.
    Audit,
    /// A KIN interview stopped part-way.
    Stopped,
    Declined,
    /// An interview with an under-16.
    Youth,
    /// An adult interview with consent.
    Interview(Respondent),
    /// An EVA audit not completed.
    Other,
}

/// The answers [`Class::of`] reads.
pub const CLASS_QUESTIONS: [&str; 4] =
    ["consent", "parent_consent", "age_check", "respondent_type"];

impl Class {
    pub fn of(c: &Counted<'_>) -> Class {
        match c.kind() {
            SurveyKind::Eva => {
                if c.response.status == crate::response::Status::Complete {
                    Class::Audit
                } else {
                    Class::Other
                }
            }
            SurveyKind::Kin => {
                if c.response.status == crate::response::Status::Refused {
                    Class::Stopped
                } else if c.choice("consent") == Some("no")
                    || c.choice("parent_consent") == Some("no")
                {
                    Class::Declined
                } else if c.choice("age_check") == Some("under_16") {
                    Class::Youth
                } else {
                    Class::Interview(Respondent::of(c.choice("respondent_type")))
                }
            }
        }
    }
}

fn area_report(input: &Input<'_>, spec: &AreaSpec, folded: &fold::Folded) -> AreaReport {
    let empty = AreaPeriod::default();
    let now = folded.now.get(&spec.code).unwrap_or(&empty);
    let rules = &input.rules;
    let doors = folded.doors.get(&spec.code).copied().unwrap_or_default();
    let fieldwork = fieldwork::fieldwork(now, doors, rules);
    let issue_tallies = now.issues.clone().finish();
    let hidden_types = now.hidden_types(rules);
    let issues = issues::tables(&issue_tallies, input.taxonomy, rules, &hidden_types);
    let indicators = indicators::indicators(now, rules, hidden_types[0]);
    let street = street::street(now, rules.public);
    let record = record::street_and_record(
        now,
        &issue_tallies,
        input.taxonomy,
        input.crime,
        spec,
        input.period,
        rules,
    );
    let no_history = changes::History::default();
    let history = folded.history.get(&spec.code).unwrap_or(&no_history);
    let changes = changes::changes(
        &issue_tallies,
        history,
        input.period,
        input.compare,
        input.taxonomy,
        rules,
    );
    let top_three = priority::top_three(&issue_tallies, &record, &changes, rules);
    let heard = heard::heard(
        now,
        spec,
        input.surveys,
        input.profile,
        rules,
        &hidden_types,
    );
    let street_and_record = record.into_iter().map(|r| r.row).collect();
    AreaReport {
        code: spec.code.clone(),
        name: spec.name.clone(),
        level: spec.level,
        period: input.period,
        parent: spec.parent.clone(),
        fieldwork,
        issues,
        indicators,
        street,
        street_and_record,
        changes,
        top_three,
        heard,
    }
}

#[cfg(test)]
mod tests;
