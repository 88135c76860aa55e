//! Who we heard: respondents by type and by each "about you" question (prefer not to say
//! shown), with groups under-represented against an area profile flagged.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::figure::{Rules, hide_in_table};
use super::model::{AboutYou, GroupCount, Heard};
use super::profile::{MARGIN, Profile, about_you_questions};
use super::{AreaPeriod, AreaSpec, Counted, Respondent, step};
use crate::survey::registry::Registry;
use crate::survey::{Question, Survey};

/// The value counted for an interview that did not answer a question.
pub const NOT_ANSWERED: &str = "not_answered";

pub fn heard(
    now: &AreaPeriod,
    spec: &AreaSpec,
    surveys: &Registry,
    profile: Option<&Profile>,
    rules: &Rules,
    hidden: &[bool],
) -> Heard {
    let total = now.interviews();
    let by_type_counts = now.by_type();
    let by_type = Respondent::ALL
        .iter()
        .zip(&by_type_counts)
        .zip(hidden)
        .map(|((t, n), h)| GroupCount {
            group: t.as_str().to_owned(),
            label: t.label().to_owned(),
            count: rules.count_hidden(*n, *h),
            share: None,
            population_share: None,
            under_represented: false,
        })
        .collect();
    let (about_you, about_you_note) = if rules.public && !spec.level.shows_about_you() {
        (
            Vec::new(),
            Some("\"About you\" answers are not shown below ward level.".to_owned()),
        )
    } else {
        (about_you(now, spec, surveys, profile, rules), None)
    };
    Heard {
        interviews: rules.count(total),
        by_type,
        about_you,
        about_you_note,
        profile_margin: profile.map(|_| MARGIN),
    }
}

/// Every "about you" question id of an installed survey, with the values every version
/// of it offers (the values that are a row whatever version's question the pack shows).
pub fn about_you_values(surveys: &Registry) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in surveys.entries() {
        for q in about_you_questions(&e.survey) {
            let values: BTreeSet<String> = q.choices().iter().map(|c| c.value.clone()).collect();
            match out.get_mut(&q.id) {
                Some(common) => common.retain(|v| values.contains(v)),
                None => {
                    out.insert(q.id.clone(), values);
                }
            }
        }
    }
    out
}

/// The interviews' "about you" answers, counted one interview at a time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Acc {
    /// Interviews per survey id and version: which questions the pack shows.
    #[serde(with = "super::pairs")]
    surveys: BTreeMap<(String, u32), u64>,
    /// Per "about you" question of any installed survey, interviews per value given
    /// ([`NOT_ANSWERED`] included).
    counts: BTreeMap<String, BTreeMap<String, u64>>,
    /// Values some version does not offer are listed in the order first given, so for them
    /// alone the interviews giving each are kept, as (reading order, id): rare answers.
    unusual: BTreeMap<String, BTreeMap<String, BTreeSet<(u64, Uuid)>>>,
}

impl Acc {
    /// Adds other interviews' counts (another area code's, read in the same reading
    /// order) to these.
    pub fn absorb(&mut self, other: &Acc) {
        for (k, n) in &other.surveys {
            *self.surveys.entry(k.clone()).or_insert(0) += n;
        }
        for (q, values) in &other.counts {
            let mine = self.counts.entry(q.clone()).or_default();
            for (v, n) in values {
                *mine.entry(v.clone()).or_insert(0) += n;
            }
        }
        for (q, values) in &other.unusual {
            let mine = self.unusual.entry(q.clone()).or_default();
            for (v, given) in values {
                mine.entry(v.clone())
                    .or_default()
                    .extend(given.iter().cloned());
            }
        }
    }

    /// Counts an interview in (`add`) or back out; `order` is its place in reading order,
    /// `questions` every "about you" question ([`about_you_values`]).
    pub fn count(
        &mut self,
        questions: &BTreeMap<String, BTreeSet<String>>,
        c: &Counted<'_>,
        order: u64,
        add: bool,
    ) {
        let key = (c.survey.id.clone(), c.survey.version);
        let n = self.surveys.entry(key.clone()).or_insert(0);
        *n = step(*n, add);
        if *n == 0 {
            self.surveys.remove(&key);
        }
        for (q, common) in questions {
            let v = c.choice(q).unwrap_or(NOT_ANSWERED);
            let counts = self.counts.entry(q.clone()).or_default();
            match counts.get_mut(v) {
                Some(n) => *n = step(*n, add),
                None if add => {
                    counts.insert(v.to_owned(), 1);
                }
                None => {}
            }
            if v != NOT_ANSWERED && !common.contains(v) {
                let given = self
                    .unusual
                    .entry(q.clone())
                    .or_default()
                    .entry(v.to_owned())
                    .or_default();
                if add {
                    given.insert((order, c.response.id));
                } else {
                    given.retain(|(_, id)| *id != c.response.id);
                }
            }
        }
    }
}

/// The "about you" questions of the surveys the interviews were on: the newest version's
/// order first, then questions only older versions asked.
fn questions<'a>(now: &AreaPeriod, registry: &'a Registry) -> Vec<&'a Question> {
    let mut surveys: Vec<&'a Survey> = now
        .heard
        .surveys
        .keys()
        .filter_map(|(id, version)| registry.get(id, Some(*version)))
        .collect();
    surveys.sort_by(|a, b| b.version.cmp(&a.version).then(a.id.cmp(&b.id)));
    let mut out: Vec<&'a Question> = Vec::new();
    for s in surveys {
        for q in about_you_questions(s) {
            if !out.iter().any(|k| k.id == q.id) {
                out.push(q);
            }
        }
    }
    out
}

fn about_you(
    now: &AreaPeriod,
    spec: &AreaSpec,
    surveys: &Registry,
    profile: Option<&Profile>,
    rules: &Rules,
) -> Vec<AboutYou> {
    let no_counts = BTreeMap::new();
    questions(now, surveys)
        .into_iter()
        .map(|q| {
            // Rows: the question's choices in order, then any value older versions offered
            // (in the order first given), then "not answered".
            let mut rows: Vec<(String, String, bool)> = q
                .choices()
                .iter()
                .map(|c| {
                    (
                        c.value.clone(),
                        c.label.get("en").to_owned(),
                        c.non_substantive,
                    )
                })
                .collect();
            let mut others: Vec<(&(u64, Uuid), &String)> = now
                .heard
                .unusual
                .get(&q.id)
                .into_iter()
                .flatten()
                .filter_map(|(v, given)| given.first().map(|first| (first, v)))
                .filter(|(_, v)| !rows.iter().any(|r| r.0 == **v))
                .collect();
            others.sort();
            for (_, v) in others {
                rows.push((v.clone(), v.clone(), false));
            }
            let counts = now.heard.counts.get(&q.id).unwrap_or(&no_counts);
            rows.push((NOT_ANSWERED.to_owned(), "Not answered".to_owned(), true));
            let values: Vec<u64> = rows
                .iter()
                .map(|r| counts.get(&r.0).copied().unwrap_or(0))
                .collect();
            let hidden = hide_in_table(&values, rules);
            let substantive: u64 = rows
                .iter()
                .zip(&values)
                .filter(|(r, _)| !r.2)
                .map(|(_, n)| n)
                .sum();
            let rows = rows
                .into_iter()
                .zip(values)
                .zip(hidden)
                .map(|(((value, label, non_substantive), n), h)| {
                    let share = (!non_substantive && substantive > 0)
                        .then(|| n as f64 / substantive as f64);
                    let population_share = profile.and_then(|p| p.share(&spec.code, &q.id, &value));
                    GroupCount {
                        under_represented: match (share, population_share) {
                            (Some(s), Some(p)) => s + MARGIN < p,
                            _ => false,
                        },
                        share: share.filter(|_| !h),
                        population_share,
                        count: rules.count_hidden(n, h),
                        group: value,
                        label,
                    }
                })
                .collect();
            AboutYou {
                question: q.id.clone(),
                text: q.text.get("en").to_owned(),
                rows,
            }
        })
        .collect()
}
