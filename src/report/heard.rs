//! Who we heard: respondents by type and by each "about you" question (prefer not to say
//! shown), with groups under-represented against an area profile flagged.

use std::collections::BTreeMap;

use super::figure::{Rules, hide_in_table};
use super::model::{AboutYou, GroupCount, Heard};
use super::profile::{MARGIN, Profile, about_you_questions};
use super::{AreaPeriod, AreaSpec, Respondent};
use crate::survey::{Question, Survey};

/// The value counted for an interview that did not answer a question.
pub const NOT_ANSWERED: &str = "not_answered";

pub fn heard(
    now: &AreaPeriod<'_>,
    spec: &AreaSpec,
    profile: Option<&Profile>,
    rules: &Rules,
    hidden: &[bool],
) -> Heard {
    let total = now.interviews.len() as u64;
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
        (about_you(now, spec, profile, rules), None)
    };
    Heard {
        interviews: rules.count(total),
        by_type,
        about_you,
        about_you_note,
        profile_margin: profile.map(|_| MARGIN),
    }
}

/// The "about you" questions of the surveys the interviews were on: the newest version's
/// order first, then questions only older versions asked.
fn questions<'a>(now: &AreaPeriod<'a>) -> Vec<&'a Question> {
    let mut surveys: Vec<&'a Survey> = Vec::new();
    for i in &now.interviews {
        let s = i.counted.survey;
        if !surveys
            .iter()
            .any(|k| k.id == s.id && k.version == s.version)
        {
            surveys.push(s);
        }
    }
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
    now: &AreaPeriod<'_>,
    spec: &AreaSpec,
    profile: Option<&Profile>,
    rules: &Rules,
) -> Vec<AboutYou> {
    questions(now)
        .into_iter()
        .map(|q| {
            // Rows: the question's choices in order, then any value older versions offered,
            // then "not answered".
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
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            for i in &now.interviews {
                let v = i.counted.choice(&q.id).unwrap_or(NOT_ANSWERED).to_owned();
                if v != NOT_ANSWERED && !rows.iter().any(|r| r.0 == v) {
                    rows.push((v.clone(), v.clone(), false));
                }
                *counts.entry(v).or_insert(0) += 1;
            }
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
