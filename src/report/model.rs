//! The priority-setting pack as data: the JSON contract every renderer (Markdown, CSV, HTML,
//! GeoJSON, XLSX) reads. `serde_json::to_string_pretty(&report)` IS the JSON format.
//!
//! Contract rules: field names are snake_case and are never renamed within a `version`
//! (fields may be added); every fraction is 0–1 (never a percentage); every figure carries
//! its count, base, excluded count, interval and suppressed flag; a value hidden by the
//! small-numbers rule is `null` with `suppressed: true`. Lists are in a fixed order (see
//! each field), so the same store and arguments give byte-identical output.

use serde::{Deserialize, Serialize};

use crate::response::Period;

/// The format name written in [`Report::format`].
pub const FORMAT: &str = "doorstep-report";
/// The contract version written in [`Report::version`].
pub const VERSION: u32 = 1;

/// The whole pack: one entry per area, plus what applies to all of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Always `doorstep-report`.
    pub format: &'static str,
    /// The contract version (1): fields are added within a version, never renamed.
    pub version: u32,
    /// The period reported, e.g. `2026-Q4` (a month such as `2026-11` once periods may be
    /// months).
    pub period: Period,
    /// The period compared with (by default the one before `period`); `null` when none.
    pub compared_with: Option<Period>,
    /// The level the areas are reported at: `township`, `ward` or `paa`.
    pub level: AreaLevel,
    /// True for the public pack (small numbers suppressed); false for `--internal`.
    pub public: bool,
    /// `"not for publication"` on the internal view (print it on every page); `null` on the
    /// public pack.
    pub marking: Option<String>,
    /// The small-numbers rule applied (see [`Suppression`]).
    pub suppression: Suppression,
    /// A base below this is flagged `low_base` (30).
    pub low_base_below: u64,
    /// Merge conflicts between batches still unresolved in the store; the active side of
    /// each was counted.
    pub unresolved_conflicts: u64,
    /// Finished responses in the period filed under an area code the geography does not
    /// know (counted nowhere).
    pub unplaced_responses: u64,
    /// Responses of surveys this device does not have (counted nowhere).
    pub unknown_survey_responses: u64,
    /// The priority score formula, in words, as printed in the pack.
    pub priority_formula: String,
    /// Caveats printed with the pack (residents-only indicators, not comparable with the
    /// national surveys, …), in print order.
    pub caveats: Vec<String>,
    /// One entry per area, in area order (township plan order; wards and PAAs by code).
    pub areas: Vec<AreaReport>,
}

/// The levels a pack can be drawn up at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    /// A named group of wards (the area plan's townships).
    Township,
    /// An electoral ward (ONS code).
    Ward,
    /// A priority action area inside a ward (our code).
    Paa,
}

impl AreaLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::Township => "township",
            AreaLevel::Ward => "ward",
            AreaLevel::Paa => "paa",
        }
    }

    /// Whether "about you" breakdowns may be shown at this level in the public pack (never
    /// below ward level).
    pub fn shows_about_you(self) -> bool {
        self != AreaLevel::Paa
    }
}

impl std::fmt::Display for AreaLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The small-numbers rule in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppression {
    /// Whether anything was suppressed at all (false on the internal view).
    pub applied: bool,
    /// Counts from 1 to `threshold − 1` are hidden, and so is any figure whose base is below
    /// `threshold` (5).
    pub threshold: u64,
    /// The rule in words, as printed in the pack.
    pub rule: String,
}

/// A count of people (or doors) that the small-numbers rule may hide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Count {
    /// The count; `null` when suppressed.
    pub value: Option<u64>,
    /// True when `value` is hidden by the small-numbers rule.
    pub suppressed: bool,
}

/// One proportion with everything needed to judge it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Figure {
    /// How many in the base have the property (e.g. named the issue); `null` when suppressed.
    pub count: Option<u64>,
    /// How many the fraction is out of; `null` when suppressed.
    pub base: Option<u64>,
    /// How many were left out of the base (don't know, refused, missing, not asked);
    /// `null` when suppressed.
    pub excluded: Option<u64>,
    /// `count / base`, 0–1; `null` when suppressed or the base is 0.
    pub fraction: Option<f64>,
    /// Lower end of the Wilson 95% interval, 0–1; `null` when `fraction` is.
    pub low: Option<f64>,
    /// Upper end of the Wilson 95% interval, 0–1; `null` when `fraction` is.
    pub high: Option<f64>,
    /// The base is under 30: read with care ("low base").
    pub low_base: bool,
    /// Some part of this figure is hidden by the small-numbers rule.
    pub suppressed: bool,
}

/// Everything reported for one area and period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaReport {
    /// The area's code: ONS code for a ward, our code for a PAA, the name for a township.
    pub code: String,
    /// The area's name.
    pub name: String,
    /// The area's level.
    pub level: AreaLevel,
    /// The period reported (the same as [`Report::period`]).
    pub period: Period,
    /// The ward a PAA lies in, or the township a ward belongs to; `null` when unknown.
    pub parent: Option<String>,
    pub fieldwork: Fieldwork,
    pub issues: Issues,
    pub indicators: Indicators,
    /// The street as audited (NI 195 and urgent findings).
    pub street: Street,
    /// Per issue: EVA evidence and recorded crime beside what people said; the issues of
    /// [`Issues::all`] in that order, then issues nobody named whose own police.uk
    /// category recorded incidents (by taxonomy order).
    pub street_and_record: Vec<StreetAndRecord>,
    pub changes: Changes,
    /// The proposed top three (fewer when fewer issues were named), highest score first.
    pub top_three: Vec<Priority>,
    /// Who we heard.
    pub heard: Heard,
}

/// What was done in the area in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fieldwork {
    /// Doors in the door log knocked at least once in the period.
    pub doors_knocked: Count,
    /// Of those, doors where someone came to the door (refused, call back or interviewed).
    pub doors_answered: Count,
    /// Doors with an interview recorded in the door log.
    pub doors_interviewed: Count,
    /// Doors whose latest knock in the period is a refusal (and no interview).
    pub refused_at_door: Count,
    /// Completed adult KIN interviews counted in this pack (consent given; the latest
    /// revision of each).
    pub interviews: Count,
    /// Completed interviews with under-16s (youth questions only; not in the adult tables).
    pub youth_interviews: Count,
    /// Completed records where consent was declined (no answers used).
    pub declined_consent: Count,
    /// Interviews the respondent stopped part-way (status refused; not counted).
    pub stopped_part_way: Count,
    /// Doors interviewed out of doors answered (the door log's response rate).
    pub response_rate: Figure,
    /// Distinct interviewers on the counted interviews.
    pub interviewers: u64,
    /// Completed EVA transect audits.
    pub transects: u64,
}

/// What people told us: the issues named in the open question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issues {
    /// Every counted interview: the base of every fraction below, including those who
    /// named nothing.
    pub interviews: Count,
    /// Interviews that named no issue (nothing, don't know, refused or no answer).
    pub named_nothing: Count,
    /// All respondents, one row per issue named at least once, most named first (then by
    /// issue id).
    pub all: Vec<IssueRow>,
    /// Residents only: the same issues in the same order.
    pub residents: IssueGroup,
    /// Businesses only: the same issues in the same order.
    pub businesses: IssueGroup,
}

/// The issue table for one kind of respondent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueGroup {
    /// Counted interviews with respondents of this kind (the base).
    pub interviews: Count,
    pub rows: Vec<IssueRow>,
}

/// One issue of the taxonomy, as named.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueRow {
    /// The taxonomy id (`litter`, `drugs`, …).
    pub issue: String,
    /// The issue's English label.
    pub label: String,
    /// Interviews naming it, out of all interviews.
    pub named: Figure,
    /// Interviews ranking it first (or naming only it), out of all interviews.
    pub ranked_first: Figure,
    /// Interviews putting it in their top three (or naming it among three or fewer), out
    /// of all interviews.
    pub top_three: Figure,
}

/// The standard perception indicators, residents only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicators {
    /// Who the indicators are computed on: always `"residents only"`.
    pub population: String,
    /// Counted interviews with residents.
    pub residents: Count,
    /// In a fixed order: `ni17_high`, the seven `ni17.*` strands, `ni41`, `ni42`,
    /// `unsafe_after_dark`, `unsafe_day`, `single_confidence_measure`, `ni4`,
    /// `police_confidence`.
    pub measures: Vec<Indicator>,
}

/// One indicator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    /// Stable id: `ni17_high`, `ni17.noisy_neighbours` …, `ni41`, `ni42`,
    /// `unsafe_after_dark`, `unsafe_day`, `single_confidence_measure`, `ni4`,
    /// `police_confidence`.
    pub id: String,
    /// What it is, named for the wording actually asked.
    pub label: String,
    /// What is counted, e.g. "very or fairly big problem".
    pub counts: String,
    pub figure: Figure,
}

/// The street as audited: NI 195 and urgent findings from the area's EVA transects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Street {
    /// Completed EVA transect audits in the area and period.
    pub transects: u64,
    /// NI 195 per element, in the order litter, detritus, graffiti, fly_posting.
    pub ni195: Vec<Ni195Element>,
    /// Urgent findings, in audit order then checklist order.
    pub urgent: Vec<UrgentFinding>,
    /// Every EVA finding (urgent or not) with a position on the map, in audit order then
    /// checklist order; findings without one are left out (see [`LocatedFinding`]).
    pub located_findings: Vec<LocatedFinding>,
}

/// One NI 195 element over the area's transects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ni195Element {
    /// `litter`, `detritus`, `graffiti` or `fly_posting`.
    pub element: String,
    /// Transects with a grade for this element.
    pub graded: u64,
    /// Transects graded C, C− or D (counted in full).
    pub below_b: u64,
    /// Transects graded B− (counted with half weight).
    pub b_minus: u64,
    /// NI 195 score, 0–1: (below_b + b_minus / 2) / graded; lower is better; `null` when
    /// nothing was graded.
    pub score: Option<f64>,
}

/// An urgent EVA finding, located by its fixed references (never free-text notes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrgentFinding {
    /// The transect id (EVA version 2 on); `null` on version 1 audits.
    pub transect: Option<String>,
    /// The street of the transect.
    pub street: Option<String>,
    /// The transect's fixed start and end points.
    pub from_ref: Option<String>,
    pub to_ref: Option<String>,
    /// The checklist item id (`needles`, …) and its label.
    pub item: String,
    pub item_label: String,
    /// The answer recorded on the item (a count or grade), as text.
    pub answer: String,
    /// The finding's own fixed reference ("lamp column 14"), when given.
    pub location: Option<String>,
    /// The agency responsible: the finding's, else the item's usual agency.
    pub agency: Option<String>,
}

/// An EVA finding with a position on the map. Findings are about places, not people, so
/// the public pack shows them; the auditor's free-text note only on the internal view.
/// The position is the finding's own fixed reference when that is a grid reference, else
/// the transect's start point (its grid reference or GPS fix); a finding with neither is
/// not located and not listed here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocatedFinding {
    /// The transect id (EVA version 2 on); `null` on version 1 audits.
    pub transect: Option<String>,
    /// The checklist item id (`needles`, …).
    pub item: String,
    /// The item's English label.
    pub item_label: String,
    /// The grade given on the item (`A`, `B+`, `B`, `B-`, `C`, `C-`, `D`) when it is a graded
    /// item; `null` otherwise.
    pub grade: Option<String>,
    /// The agency responsible: the finding's, else the item's usual agency.
    pub agency: Option<String>,
    /// Whether the finding is urgent (flagged by the auditor or by the item's rule).
    pub urgent: bool,
    /// The finding's own fixed reference ("lamp column 14", or a grid reference), when given.
    pub reference: Option<String>,
    /// WGS84 longitude and latitude of the position, degrees, rounded to 6 places.
    pub lon: f64,
    pub lat: f64,
    /// Where the position comes from: `"finding"` (its reference is a grid reference) or
    /// `"transect_start"` (the transect's start point; the finding is somewhere along it).
    pub position_from: String,
    /// The auditor's free-text note: on the internal view only, always `null` in the
    /// public pack.
    pub note: Option<String>,
}

/// Whether what people say and what police recorded disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Disagreement {
    /// Many named it, few incidents recorded: reassurance and visibility.
    HighConcernLittleRecorded,
    /// Few named it, many incidents recorded: a hidden problem to raise.
    LittleConcernMuchRecorded,
}

/// One issue named: what people said, what the street showed, what police recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreetAndRecord {
    /// The taxonomy id and label.
    pub issue: String,
    pub label: String,
    /// Interviews naming it (the same figure as [`IssueRow::named`]).
    pub concern: Figure,
    /// The EVA checklist items that observe it (from the taxonomy).
    pub eva_items: Vec<String>,
    /// Transects in the area audited on at least one of those items.
    pub transects_audited: u64,
    /// Of those, transects with evidence: a graded item at B− or worse, or a counted item
    /// above zero, or a yes/no item answered yes.
    pub transects_with_evidence: u64,
    /// Urgent findings on those items.
    pub urgent_findings: u64,
    /// The police.uk categories mapped to it (slugs).
    pub police_categories: Vec<String>,
    /// Incidents recorded in the area in the period's months, shown only where the issue
    /// maps to exactly one category and that category to no other issue; otherwise `null`.
    pub recorded: Option<u64>,
    /// How to read `recorded`: `"recorded"`, `"recorded in related categories"` or `"no
    /// police.uk category records this"`.
    pub recorded_note: String,
    /// The months the recorded count covers (`YYYY-MM`), when police data for any of them
    /// is stored.
    pub months: Vec<String>,
    /// Set where concern and the record disagree.
    pub disagreement: Option<Disagreement>,
    /// The disagreement in words ("high concern, little recorded: reassurance and
    /// visibility"); `null` when none.
    pub disagreement_note: Option<String>,
}

/// What changed since the compared period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changes {
    /// The period compared with; `null` when there is none.
    pub compared_with: Option<Period>,
    /// Counted interviews in the compared period.
    pub interviews_before: Count,
    /// One row per issue named in either period, in the order of [`Issues::all`] then by
    /// issue id.
    pub issues: Vec<IssueChange>,
}

/// How an issue moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Named now, named by nobody in the compared period.
    New,
    /// Both bases ≥ 30 and the intervals do not overlap, higher now.
    Up,
    /// Both bases ≥ 30 and the intervals do not overlap, lower now.
    Down,
    /// Both bases ≥ 30 and the intervals overlap: no change can be claimed.
    Same,
    /// A base under 30 (or no compared period): no change can be claimed either way.
    NotComparable,
}

/// One issue now and before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueChange {
    pub issue: String,
    pub label: String,
    /// Share naming it now.
    pub now: Figure,
    /// Share naming it in the compared period.
    pub before: Figure,
    pub change: Change,
    /// How many consecutive periods, ending with this one, it was among the area's three
    /// most named issues.
    pub consecutive_periods: u32,
    /// Raised (among the three most named) in 2 or more consecutive periods.
    pub persisting: bool,
}

/// One proposed priority.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Priority {
    /// 1, 2 or 3.
    pub rank: u32,
    pub issue: String,
    pub label: String,
    /// The priority score, 0–100 (see [`Report::priority_formula`]); `null` in the public
    /// pack when a share it is made from is hidden (the score would give it away).
    pub score: Option<f64>,
    /// The score's parts, each already weighted (they add up to `score`); `null` when
    /// `score` is.
    pub parts: Option<ScoreParts>,
    /// The score and its parts are hidden by the small-numbers rule (the ranking stands).
    pub suppressed: bool,
    /// One line saying why.
    pub why: String,
}

/// The weighted parts of a priority score.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ScoreParts {
    /// 40 × share of interviews naming it.
    pub named: f64,
    /// 20 × share of interviews ranking it first.
    pub ranked_first: f64,
    /// 15 × share of audited transects with evidence of it.
    pub street: f64,
    /// 15 × its share of the area's recorded crime (one-to-one categories only).
    pub recorded: f64,
    /// 10 when persisting (2+ consecutive periods among the three most named), else 0.
    pub persisting: f64,
}

/// Who we heard from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Heard {
    /// Counted interviews (the total of `by_type`).
    pub interviews: Count,
    /// Respondents by type: `resident`, `business`, `key_individual`, `other`,
    /// `not_given` (refused or unanswered), in that order.
    pub by_type: Vec<GroupCount>,
    /// Each "about you" question in survey order; empty where not shown (see
    /// `about_you_note`).
    pub about_you: Vec<AboutYou>,
    /// Why `about_you` is empty, when it is ("not shown below ward level").
    pub about_you_note: Option<String>,
    /// The margin (0–1) by which a group's share among respondents must fall below its
    /// population share to be flagged; `null` without a profile.
    pub profile_margin: Option<f64>,
}

/// One "about you" question's answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AboutYou {
    /// The question id (`age_band`, …) and its English text.
    pub question: String,
    pub text: String,
    /// One row per choice in survey order ("prefer not to say" included), then
    /// `not_answered`.
    pub rows: Vec<GroupCount>,
}

/// One group's count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupCount {
    /// The stored value (`resident`, `age_18_24`, `prefer_not_to_say`, `not_answered`).
    pub group: String,
    pub label: String,
    pub count: Count,
    /// Share among those who gave a substantive answer, 0–1; `null` for prefer not to say,
    /// not answered, or when suppressed.
    pub share: Option<f64>,
    /// The group's share of the area's population from `--profile`, 0–1.
    pub population_share: Option<f64>,
    /// The group's share among respondents is below its population share by more than the
    /// margin.
    pub under_represented: bool,
}
