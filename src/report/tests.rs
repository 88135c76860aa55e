//! Hand-computed fixtures for the whole build: interviews and audits made in memory on the
//! built-in surveys, every expected number worked out by hand in the comments.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::geography::{AreaRef, Level};
use crate::response::{NewResponse, Status};
use crate::survey::IssueCoding;

pub(super) fn registry() -> Registry {
    Registry::builtin().unwrap()
}

pub(super) fn ward(code: &str) -> AreaSpec {
    AreaSpec {
        code: code.to_owned(),
        name: format!("Ward {code}"),
        level: AreaLevel::Ward,
        parent: None,
        members: BTreeSet::from([code.to_owned()]),
        crime: AreaSelection::Area {
            level: Level::Ward,
            area: AreaRef {
                code: code.to_owned(),
                name: String::new(),
            },
        },
    }
}

/// Builds responses with ids in creation order.
#[derive(Default)]
pub(super) struct Maker {
    next: u128,
}

impl Maker {
    pub(super) fn response(
        &mut self,
        survey: &str,
        version: u32,
        area: &str,
        period: &str,
        answers: Vec<(&str, Answer)>,
    ) -> Response {
        self.next += 1;
        let at = Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap()
            + chrono::Duration::minutes(self.next as i64);
        let mut r = Response::draft(
            Uuid::from_u128(self.next),
            NewResponse {
                survey_id: survey.to_owned(),
                survey_version: version,
                fingerprint: String::new(),
                area: area.to_owned(),
                period: Some(period.parse().unwrap()),
                interviewer: format!("PC {}", self.next % 2),
                device: "laptop".to_owned(),
                language: "en".to_owned(),
                started_at: at,
            },
        )
        .unwrap();
        for (q, a) in answers {
            r.set_answer(q, StoredAnswer::Plain(a), at);
        }
        r.finalize(Status::Complete, at);
        r
    }

    /// A version 2 KIN interview: consent, an adult, the type, the issues named and ranked.
    pub(super) fn kin(
        &mut self,
        area: &str,
        period: &str,
        kind: &str,
        issues: &[&str],
        rank: &[&str],
        more: Vec<(&str, Answer)>,
    ) -> Response {
        let mut answers = vec![
            ("consent", Answer::YesNo(true)),
            ("age_check", Answer::Choice("aged_16_plus".into())),
            ("respondent_type", Answer::Choice(kind.into())),
            (
                "unsafe_issues",
                Answer::Issues(IssueCoding {
                    issues: if issues.is_empty() {
                        vec!["nothing".into()]
                    } else {
                        issues.iter().map(|s| s.to_string()).collect()
                    },
                    other: None,
                }),
            ),
        ];
        if !rank.is_empty() {
            answers.push((
                "top_three",
                Answer::Rank(rank.iter().map(|s| s.to_string()).collect()),
            ));
        }
        answers.extend(more);
        self.response("kin", 2, area, period, answers)
    }
}

pub(super) fn input<'a>(
    registry: &'a Registry,
    responses: &'a [Response],
    areas: Vec<AreaSpec>,
    period: &str,
    rules: Rules,
) -> Input<'a> {
    let period: Period = period.parse().unwrap();
    Input {
        period,
        compare: Some(period.previous()),
        level: AreaLevel::Ward,
        areas,
        responses,
        surveys: registry,
        taxonomy: &registry.get("kin", None).unwrap().taxonomy,
        doors: &[],
        crime: &[],
        rules,
        profile: None,
    }
}

#[test]
fn issues_count_every_interview_in_the_base_and_split_residents_from_businesses() {
    let reg = registry();
    let mut m = Maker::default();
    let w = "E05000001";
    let q = "2026-Q4";
    let responses = vec![
        // 1: resident names litter and drugs, ranks drugs first.
        m.kin(
            w,
            q,
            "resident",
            &["litter", "drugs"],
            &["drugs", "litter"],
            vec![],
        ),
        // 2: resident names litter only (so it is first and in the top three).
        m.kin(w, q, "resident", &["litter"], &[], vec![]),
        // 3: business names drugs and burglary, ranks burglary first.
        m.kin(
            w,
            q,
            "business",
            &["drugs", "burglary"],
            &["burglary", "drugs"],
            vec![],
        ),
        // 4: resident names nothing: in the base, names nothing.
        m.kin(w, q, "resident", &[], &[], vec![]),
        // 5: a key individual names five issues and ranks three.
        m.kin(
            w,
            q,
            "key_individual",
            &["litter", "drugs", "speeding", "dog_fouling", "burglary"],
            &["speeding", "litter", "drugs"],
            vec![],
        ),
    ];
    let r = build(&input(
        &reg,
        &responses,
        vec![ward(w)],
        q,
        Rules::internal(),
    ));
    let a = &r.areas[0];
    assert_eq!(a.issues.interviews.value, Some(5));
    assert_eq!(a.issues.named_nothing.value, Some(1));
    // Named: litter 3 (1, 2, 5), drugs 3 (1, 3, 5), burglary 2, dog fouling 1, speeding 1;
    // ties by id.
    let order: Vec<&str> = a.issues.all.iter().map(|r| r.issue.as_str()).collect();
    assert_eq!(
        order,
        ["drugs", "litter", "burglary", "dog_fouling", "speeding"]
    );
    let row = |id: &str| a.issues.all.iter().find(|r| r.issue == id).unwrap();
    let drugs = row("drugs");
    assert_eq!((drugs.named.count, drugs.named.base), (Some(3), Some(5)));
    assert_eq!(drugs.named.fraction, Some(0.6));
    // Drugs first only for 1; in the top three of 1, 3 and 5.
    assert_eq!(drugs.ranked_first.count, Some(1));
    assert_eq!(drugs.top_three.count, Some(3));
    let litter = row("litter");
    // Litter first for 2 (named alone); top three for 1, 2 and 5.
    assert_eq!(litter.ranked_first.count, Some(1));
    assert_eq!(litter.top_three.count, Some(3));
    // Dog fouling: named by 5 among five issues but not ranked: not in the top three.
    assert_eq!(row("dog_fouling").top_three.count, Some(0));
    assert_eq!(row("speeding").ranked_first.count, Some(1));
    // 3/5: Wilson 0.2307 to 0.8824, and a low base.
    let (l, h) = (drugs.named.low.unwrap(), drugs.named.high.unwrap());
    assert_eq!(
        ((l * 1e4).round() / 1e4, (h * 1e4).round() / 1e4),
        (0.2307, 0.8824)
    );
    assert!(drugs.named.low_base);
    // Residents: 3 interviews (1, 2, 4); drugs named by 1 of them; businesses: 1 (3).
    assert_eq!(a.issues.residents.interviews.value, Some(3));
    let rd = a
        .issues
        .residents
        .rows
        .iter()
        .find(|r| r.issue == "drugs")
        .unwrap();
    assert_eq!((rd.named.count, rd.named.base), (Some(1), Some(3)));
    assert_eq!(a.issues.businesses.interviews.value, Some(1));
    let bb = &a.issues.businesses.rows[2];
    assert_eq!(
        (bb.issue.as_str(), bb.ranked_first.count),
        ("burglary", Some(1))
    );
    // Fieldwork: five interviews by two interviewers, no door log, no audits.
    assert_eq!(a.fieldwork.interviews.value, Some(5));
    assert_eq!(a.fieldwork.interviewers, 2);
    assert_eq!(a.fieldwork.transects, 0);
    assert_eq!(a.fieldwork.doors_knocked.value, Some(0));
}

#[test]
fn revisions_drafts_declines_and_youth_are_not_interviews() {
    let reg = registry();
    let mut m = Maker::default();
    let w = "E05000001";
    let q = "2026-Q4";
    let original = m.kin(w, q, "resident", &["litter"], &[], vec![]);
    // A finished revision of it replaces it: naming drugs instead.
    let mut revision = m.kin(w, q, "resident", &["drugs"], &[], vec![]);
    revision.replaces = Some(original.id);
    // An abandoned revision leaves its original standing.
    let kept = m.kin(w, q, "resident", &["speeding"], &[], vec![]);
    let mut abandoned = m.kin(w, q, "resident", &["burglary"], &[], vec![]);
    abandoned.replaces = Some(kept.id);
    abandoned.status = Status::Abandoned;
    let mut draft = m.kin(w, q, "resident", &["dog_fouling"], &[], vec![]);
    draft.status = Status::Draft;
    let declined = m.response("kin", 2, w, q, vec![("consent", Answer::YesNo(false))]);
    let youth = m.response(
        "kin",
        2,
        w,
        q,
        vec![
            ("consent", Answer::YesNo(true)),
            ("age_check", Answer::Choice("under_16".into())),
            ("parent_consent", Answer::YesNo(true)),
        ],
    );
    let mut stopped = m.kin(w, q, "resident", &["violence"], &[], vec![]);
    stopped.status = Status::Refused;
    let elsewhere = m.kin("E05000002", q, "resident", &["litter"], &[], vec![]);
    let earlier = m.kin(w, "2026-Q3", "resident", &["litter"], &[], vec![]);
    let responses = vec![
        original, revision, kept, abandoned, draft, declined, youth, stopped, elsewhere, earlier,
    ];
    let r = build(&input(
        &reg,
        &responses,
        vec![ward(w)],
        q,
        Rules::internal(),
    ));
    let a = &r.areas[0];
    let named: Vec<&str> = a.issues.all.iter().map(|r| r.issue.as_str()).collect();
    assert_eq!(named, ["drugs", "speeding"]);
    assert_eq!(a.fieldwork.interviews.value, Some(2));
    assert_eq!(a.fieldwork.declined_consent.value, Some(1));
    assert_eq!(a.fieldwork.youth_interviews.value, Some(1));
    assert_eq!(a.fieldwork.stopped_part_way.value, Some(1));
    assert_eq!(r.unplaced_responses, 1);
    assert_eq!(r.unresolved_conflicts, 0);
    assert_eq!(a.changes.interviews_before.value, Some(1));
}

#[test]
fn the_public_pack_hides_small_counts_and_their_partners() {
    let reg = registry();
    let mut m = Maker::default();
    let w = "E05000001";
    let q = "2026-Q4";
    let mut responses = Vec::new();
    // 8 residents name litter; 2 businesses name litter; 30 residents name nothing.
    for _ in 0..8 {
        responses.push(m.kin(w, q, "resident", &["litter"], &[], vec![]));
    }
    for _ in 0..2 {
        responses.push(m.kin(w, q, "business", &["litter"], &[], vec![]));
    }
    for _ in 0..30 {
        responses.push(m.kin(w, q, "resident", &[], &[], vec![]));
    }
    let r = build(&input(&reg, &responses, vec![ward(w)], q, Rules::public()));
    let a = &r.areas[0];
    let all = &a.issues.all[0];
    // 10 of 40 named litter: shown.
    assert_eq!((all.named.count, all.named.suppressed), (Some(10), false));
    // Businesses: 2 of 2: the base is under 5, hidden whole.
    let b = &a.issues.businesses.rows[0];
    assert_eq!(
        (b.named.count, b.named.base, b.named.suppressed),
        (None, None, true)
    );
    // Residents: 8 of 38 would be shown, but then 10 − 8 gives the businesses' 2: hidden.
    let res = &a.issues.residents.rows[0];
    assert_eq!(
        (res.named.count, res.named.base, res.named.suppressed),
        (None, Some(38), true)
    );
    // Who we heard: 38 residents, 2 businesses (small) and 0 for the rest; the 2 takes the
    // next smallest non-zero cell (the 38) with it.
    let types: Vec<(&str, Option<u64>)> = a
        .heard
        .by_type
        .iter()
        .map(|g| (g.group.as_str(), g.count.value))
        .collect();
    assert_eq!(
        types,
        [
            ("resident", None),
            ("business", None),
            ("key_individual", Some(0)),
            ("other", Some(0)),
            ("not_given", Some(0)),
        ]
    );
    assert_eq!(r.marking, None);
    let internal = build(&input(
        &reg,
        &responses,
        vec![ward(w)],
        q,
        Rules::internal(),
    ));
    assert_eq!(internal.marking.as_deref(), Some("not for publication"));
    assert_eq!(
        internal.areas[0].issues.businesses.rows[0].named.count,
        Some(2)
    );
}
