//! Hand-computed fixtures for the whole build: interviews and audits made in memory on the
//! built-in surveys, every expected number worked out by hand in the comments.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::geography::crime::CrimeRecord;
use crate::geography::{AreaRef, Level};
use crate::response::{NewResponse, Status};
use crate::survey::{Finding, Grade, IssueCoding};

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
        known_areas: areas.iter().flat_map(|a| a.members.clone()).collect(),
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
        unresolved_conflicts: 0,
        folded: None,
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

/// The report as `doorstep report` builds it (see [`fold`]): the responses read once in
/// id order (the store's), each with only the answers (and findings) the fold needs,
/// folded and dropped; the doors likewise.
///
/// Also checks that the counts a store keeps ([`fold::Fold::every_period`], through their
/// JSON and back) give the same report for the period.
fn folded(inp: &Input<'_>) -> Report {
    let read = fold_as_read(inp, fold::Fold::new(inp.surveys, inp.taxonomy, inp.period))
        .finish(inp.period, &inp.areas);
    let every = fold_as_read(inp, fold::Fold::every_period(inp.surveys, inp.taxonomy));
    let json = serde_json::to_string(&every.into_counts()).unwrap();
    let kept: fold::Counts = serde_json::from_str(&json).unwrap();
    let kept = fold::folded(&kept, inp.period, &inp.areas);
    let report = |counts: &fold::Folded| {
        build(&Input {
            responses: &[],
            doors: &[],
            folded: Some(counts),
            ..inp.clone()
        })
    };
    let (read, kept) = (report(&read), report(&kept));
    assert_eq!(read, kept, "the counts a store keeps give another report");
    read
}

/// `f` with the input's responses read into it in id order (the store's), each with only
/// the answers (and findings) the fold needs; the doors likewise.
fn fold_as_read<'a>(inp: &Input<'_>, mut f: fold::Fold<'a>) -> fold::Fold<'a> {
    let mut all: Vec<&Response> = inp.responses.iter().collect();
    all.sort_by_key(|r| r.id);
    let read = |f: &fold::Fold<'_>, r: &Response| {
        let mut read = r.clone();
        read.answers.retain(|q, _| f.needs_answer(r.period, q));
        if !f.needs_findings(r.period) {
            read.findings.clear();
        }
        read
    };
    for r in &all {
        let note = f.note(r.id, r.status, r.replaces);
        if let Some(old) = note.take_out
            && let Some(o) = all.iter().find(|o| o.id == old)
        {
            f.take_out(o);
        }
        if note.skip {
            continue;
        }
        let one = read(&f, r);
        f.add(one);
    }
    for d in inp.doors {
        f.door(d);
    }
    f
}

#[test]
fn a_folded_read_counts_revisions_in_any_order_and_period() {
    let reg = registry();
    let mut m = Maker::default();
    let w = "E05000001";
    // A revision read before the response it replaces (an id from an earlier clock).
    let early_revision = m.kin(w, "2026-Q4", "resident", &["drugs"], &[], vec![]);
    let late_original = m.kin(w, "2026-Q4", "resident", &["litter"], &[], vec![]);
    let mut early_revision = early_revision;
    early_revision.replaces = Some(late_original.id);
    // An original in the reported period revised into another period, and one in an
    // earlier period revised twice (the second revision replacing the first).
    let moved = m.kin(w, "2026-Q4", "business", &["speeding"], &[], vec![]);
    let mut moved_revision = m.kin(w, "2026-Q3", "business", &["speeding"], &[], vec![]);
    moved_revision.replaces = Some(moved.id);
    let before = m.kin(w, "2026-Q3", "resident", &["burglary"], &[], vec![]);
    let mut first = m.kin(w, "2026-Q3", "resident", &["violence"], &[], vec![]);
    first.replaces = Some(before.id);
    let mut second = m.kin(w, "2026-Q3", "resident", &["litter"], &[], vec![]);
    second.replaces = Some(first.id);
    // On a survey this device does not know: counted as unknown, in every period.
    let mut unknown = m.kin(w, "2026-Q2", "resident", &["litter"], &[], vec![]);
    unknown.survey_version = 99;
    let responses = vec![
        early_revision,
        late_original,
        moved,
        moved_revision,
        before,
        first,
        second,
        unknown,
    ];
    let inp = input(
        &reg,
        &responses,
        vec![ward(w)],
        "2026-Q4",
        Rules::internal(),
    );
    let r = build(&inp);
    assert_eq!(folded(&inp), r);
    let named: Vec<&str> = r.areas[0]
        .issues
        .all
        .iter()
        .map(|r| r.issue.as_str())
        .collect();
    assert_eq!(named, ["drugs"]);
    assert_eq!(r.unknown_survey_responses, 1);
    assert_eq!(r.areas[0].changes.interviews_before.value, Some(2));
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
    let inp = input(&reg, &responses, vec![ward(w)], q, Rules::internal());
    let r = build(&inp);
    assert_eq!(folded(&inp), r);
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
    // Who we heard: 38 residents, 2 businesses (small) and 0 for the rest; the 2 takes a
    // second cell with it, sparing the residents (who carry the indicators): the key
    // individuals' 0, so businesses + key individuals = 2 but not how it splits.
    let types: Vec<(&str, Option<u64>)> = a
        .heard
        .by_type
        .iter()
        .map(|g| (g.group.as_str(), g.count.value))
        .collect();
    assert_eq!(
        types,
        [
            ("resident", Some(38)),
            ("business", None),
            ("key_individual", None),
            ("other", Some(0)),
            ("not_given", Some(0)),
        ]
    );
    // The businesses' issue table is hidden whole, its base with it.
    assert_eq!(a.issues.businesses.interviews.value, None);
    assert_eq!(a.issues.residents.interviews.value, Some(38));
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

fn choice(v: &str) -> Answer {
    Answer::Choice(v.into())
}

/// The seven NI 17 answers of version 2, in strand order.
fn ni17(values: [&str; 7]) -> Vec<(&'static str, Answer)> {
    const IDS: [&str; 7] = [
        "ni17_noisy_neighbours",
        "ni17_teenagers",
        "ni17_rubbish",
        "ni17_vandalism",
        "ni17_drugs",
        "ni17_drunk_rowdy",
        "ni17_abandoned_cars",
    ];
    IDS.iter()
        .zip(values)
        .map(|(q, v)| (*q, choice(v)))
        .collect()
}

fn with(
    mut a: Vec<(&'static str, Answer)>,
    more: &[(&'static str, &str)],
) -> Vec<(&'static str, Answer)> {
    a.extend(more.iter().map(|(q, v)| (*q, choice(v))));
    a
}

#[test]
fn indicators_follow_the_exact_rules_on_residents_only() {
    let reg = registry();
    let mut m = Maker::default();
    let w = "E05000001";
    let q = "2026-Q4";
    let (vb, fb, nv, na) = ("very_big", "fairly_big", "not_very_big", "not_at_all");
    let responses = vec![
        // R1: 2 on every strand = 14: high.
        m.kin(
            w,
            q,
            "resident",
            &[],
            &[],
            with(
                ni17([fb; 7]),
                &[
                    ("safe_after_dark", "a_bit_unsafe"),
                    ("ni4", "definitely_agree"),
                    ("police_council_dealing", "strongly_agree"),
                    ("police_confidence", "tend_to_agree"),
                ],
            ),
        ),
        // R2: 3+3+2+2+1+0+0 = exactly 11: high.
        m.kin(
            w,
            q,
            "resident",
            &[],
            &[],
            with(
                ni17([vb, vb, fb, fb, nv, na, na]),
                &[
                    ("safe_after_dark", "very_safe"),
                    ("ni4", "dont_know"),
                    ("police_council_dealing", "neither"),
                ],
            ),
        ),
        // R3: 3+3+2+1+1+0+0 = 10: not high.
        m.kin(
            w,
            q,
            "resident",
            &[],
            &[],
            with(
                ni17([vb, vb, fb, nv, nv, na, na]),
                &[
                    ("safe_after_dark", "never_alone"),
                    ("ni4", "tend_to_disagree"),
                    ("police_council_dealing", "tend_to_agree"),
                ],
            ),
        ),
        // R4: all zero: in the base, not high.
        m.kin(
            w,
            q,
            "resident",
            &[],
            &[],
            with(ni17([na; 7]), &[("safe_after_dark", "refused")]),
        ),
        // R5: don't know on the drugs strand: out of the NI 17 base and NI 42's.
        m.kin(
            w,
            q,
            "resident",
            &[],
            &[],
            with(
                ni17([vb, vb, vb, vb, "dont_know", vb, vb]),
                &[("safe_after_dark", "very_unsafe")],
            ),
        ),
        // B1: a business with every strand very big: no indicator counts it.
        m.kin(
            w,
            q,
            "business",
            &[],
            &[],
            with(
                ni17([vb; 7]),
                &[
                    ("safe_after_dark", "very_unsafe"),
                    ("ni4", "definitely_agree"),
                ],
            ),
        ),
        // R6: a version 1 resident, whose confidence question was tagged `ni21`.
        m.response(
            "kin",
            1,
            w,
            q,
            vec![
                ("consent", Answer::YesNo(true)),
                ("respondent_type", choice("resident")),
                ("ni21", choice("tend_to_agree")),
            ],
        ),
    ];
    let r = build(&input(
        &reg,
        &responses,
        vec![ward(w)],
        q,
        Rules::internal(),
    ));
    let ind = &r.areas[0].indicators;
    assert_eq!(ind.population, "residents only");
    assert_eq!(ind.residents.value, Some(6));
    let get = |id: &str| {
        let f = ind.measures.iter().find(|m| m.id == id).unwrap().figure;
        (f.count.unwrap(), f.base.unwrap(), f.excluded.unwrap())
    };
    assert_eq!(get("ni17_high"), (2, 4, 2));
    assert_eq!(get("ni42"), (1, 4, 2));
    assert_eq!(get("ni17.drugs"), (1, 4, 2));
    // Drunk or rowdy: R1 fairly, R5 very; R2, R3, R4 not; R6 not asked.
    assert_eq!(get("ni41"), (2, 5, 1));
    // Noisy neighbours: R1, R2, R3, R5 very or fairly big.
    assert_eq!(get("ni17.noisy_neighbours"), (4, 5, 1));
    // Never walks alone and refused are excluded, with R6's missing answer.
    assert_eq!(get("unsafe_after_dark"), (2, 3, 3));
    assert_eq!(get("unsafe_day"), (0, 0, 6));
    // NI 4: don't know excluded.
    assert_eq!(get("ni4"), (1, 2, 4));
    assert_eq!(get("single_confidence_measure"), (3, 4, 2));
    assert_eq!(get("police_confidence"), (1, 1, 5));
    let ids: Vec<&str> = ind.measures.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 15);
    assert!(!ind.measures.iter().any(|m| m.label.contains("(NI 21)")));
    // 2 of 4: a low base, flagged.
    assert!(ind.measures[0].figure.low_base);
}

fn eva(
    m: &mut Maker,
    area: &str,
    period: &str,
    id: &str,
    answers: Vec<(&str, Answer)>,
) -> Response {
    let mut a = vec![
        ("transect_id", Answer::Text(id.into())),
        ("street", Answer::Text("Kay Street".into())),
        ("from_ref", Answer::Text("lamp column 3".into())),
        ("to_ref", Answer::Text("lamp column 9".into())),
    ];
    a.extend(answers);
    m.response("eva", 2, area, period, a)
}

fn crime(ward: &str, month: &str, category: &str) -> CrimeRecord {
    CrimeRecord {
        month: month.into(),
        category: category.into(),
        crime_id: None,
        lon: Some(-2.6),
        lat: Some(53.5),
        ward: Some(ward.into()),
        lsoa: None,
        paa: None,
    }
}

#[test]
fn ni195_counts_b_minus_half_and_reads_version_1_audits() {
    let reg = registry();
    let mut m = Maker::default();
    let w = "E05000001";
    let q = "2026-Q4";
    let g = Answer::Grade;
    let mut audits = vec![
        eva(
            &mut m,
            w,
            q,
            "T1",
            vec![
                ("litter", g(Grade::A)),
                ("graffiti", g(Grade::BPlus)),
                ("fly_posting", g(Grade::BMinus)),
            ],
        ),
        eva(
            &mut m,
            w,
            q,
            "T2",
            vec![
                ("litter", g(Grade::BMinus)),
                ("graffiti", g(Grade::CMinus)),
                ("fly_posting", g(Grade::A)),
            ],
        ),
        eva(
            &mut m,
            w,
            q,
            "T3",
            vec![("litter", g(Grade::C)), ("fly_posting", g(Grade::A))],
        ),
        eva(
            &mut m,
            w,
            q,
            "T4",
            vec![("litter", g(Grade::D)), ("fly_posting", g(Grade::A))],
        ),
        eva(&mut m, w, q, "T5", vec![("litter", g(Grade::B))]),
    ];
    // An EVA version 1 audit: its litter grade is untagged.
    audits.push(m.response("eva", 1, w, q, vec![("litter", g(Grade::D))]));
    let r = build(&input(&reg, &audits, vec![ward(w)], q, Rules::public()));
    let s = &r.areas[0].street;
    assert_eq!(s.transects, 6);
    let e = |name: &str| s.ni195.iter().find(|e| e.element == name).unwrap();
    // Litter: A, B−, C, D, B, D: 3 below B, 1 B−: (3 + 0.5) / 6.
    let l = e("litter");
    assert_eq!((l.graded, l.below_b, l.b_minus), (6, 3, 1));
    assert!((l.score.unwrap() - 3.5 / 6.0).abs() < 1e-12);
    // Graffiti: B+, C−: 1 of 2.
    assert_eq!(e("graffiti").score, Some(0.5));
    // Fly-posting: B−, A, A, A: 0.5 / 4.
    assert_eq!(e("fly_posting").score, Some(0.125));
    // Detritus: nothing graded, no score.
    assert_eq!((e("detritus").graded, e("detritus").score), (0, None));
    assert_eq!(r.areas[0].fieldwork.transects, 6);
}

/// Ten interviews in 2026-Q4 and three in 2026-Q3, three audits, police data for the three
/// months of Q4: a fixture whose top three is known.
fn street_fixture() -> (Registry, Vec<Response>, Vec<CrimeRecord>) {
    let reg = registry();
    let mut m = Maker::default();
    let w = "E05000001";
    let (q3, q4) = ("2026-Q3", "2026-Q4");
    let mut rs = Vec::new();
    for _ in 0..3 {
        rs.push(m.kin(
            w,
            q4,
            "resident",
            &["drugs", "litter"],
            &["drugs", "litter"],
            vec![],
        ));
    }
    for _ in 0..2 {
        rs.push(m.kin(w, q4, "resident", &["litter"], &[], vec![]));
    }
    rs.push(m.kin(w, q4, "resident", &["robbery_theft"], &[], vec![]));
    for _ in 0..4 {
        rs.push(m.kin(w, q4, "resident", &[], &[], vec![]));
    }
    rs.push(m.kin(w, q3, "resident", &["litter"], &[], vec![]));
    rs.push(m.kin(w, q3, "resident", &["litter"], &[], vec![]));
    rs.push(m.kin(w, q3, "resident", &["speeding"], &[], vec![]));
    let mut a1 = eva(
        &mut m,
        w,
        q4,
        "PEM-014",
        vec![
            ("needles", Answer::Count(2)),
            ("litter", Answer::Grade(Grade::C)),
        ],
    );
    a1.findings.insert(
        "needles".into(),
        Finding {
            note: Some("free text that must not be published".into()),
            location: Some("rear of 22 Kay Street".into()),
            urgent: true,
            urgent_by_rule: true,
            agency: None,
        },
    );
    rs.push(a1);
    rs.push(eva(
        &mut m,
        w,
        q4,
        "PEM-015",
        vec![
            ("needles", Answer::Count(0)),
            ("litter", Answer::Grade(Grade::A)),
        ],
    ));
    rs.push(eva(
        &mut m,
        w,
        q4,
        "PEM-016",
        vec![
            ("needles", Answer::Count(0)),
            ("litter", Answer::Grade(Grade::BMinus)),
        ],
    ));
    let mut crime_records = vec![crime(w, "2026-10", "drugs")];
    for month in ["2026-10", "2026-11", "2026-12"] {
        for _ in 0..4 {
            crime_records.push(crime(w, month, "burglary"));
        }
    }
    crime_records.push(crime(w, "2026-11", "other-theft"));
    crime_records.push(crime(w, "2026-12", "other-theft"));
    // Elsewhere, or another quarter: not counted.
    crime_records.push(crime("E05000002", "2026-10", "drugs"));
    crime_records.push(crime(w, "2026-09", "drugs"));
    (reg, rs, crime_records)
}

#[test]
fn the_street_and_the_record_side_by_side() {
    let (reg, rs, crime) = street_fixture();
    let mut inp = input(
        &reg,
        &rs,
        vec![ward("E05000001")],
        "2026-Q4",
        Rules::internal(),
    );
    inp.crime = &crime;
    let r = build(&inp);
    let a = &r.areas[0];
    let order: Vec<&str> = a
        .street_and_record
        .iter()
        .map(|r| r.issue.as_str())
        .collect();
    // Named issues first (most named first), then burglary: recorded, named by nobody.
    assert_eq!(order, ["litter", "drugs", "robbery_theft", "burglary"]);
    let row = |id: &str| a.street_and_record.iter().find(|r| r.issue == id).unwrap();
    let drugs = row("drugs");
    assert_eq!(
        (
            drugs.transects_audited,
            drugs.transects_with_evidence,
            drugs.urgent_findings
        ),
        (3, 1, 1)
    );
    assert_eq!(
        (drugs.recorded, drugs.recorded_note.as_str()),
        (Some(1), "recorded")
    );
    assert_eq!(drugs.months, ["2026-10", "2026-11", "2026-12"]);
    // 3 of 10 named drugs; 1 recorded in 3 months: high concern, little recorded.
    assert_eq!(
        drugs.disagreement,
        Some(Disagreement::HighConcernLittleRecorded)
    );
    let litter = row("litter");
    assert_eq!(
        (litter.transects_audited, litter.transects_with_evidence),
        (3, 2)
    );
    assert_eq!(
        (litter.recorded, litter.recorded_note.as_str()),
        (None, "no police.uk category records this")
    );
    let theft = row("robbery_theft");
    assert_eq!(
        (theft.recorded, theft.recorded_note.as_str()),
        (None, "recorded in related categories")
    );
    // Burglary: nobody named it, 12 recorded (4 a month): a hidden problem.
    let burglary = row("burglary");
    assert_eq!(
        (burglary.recorded, burglary.concern.count),
        (Some(12), Some(0))
    );
    assert_eq!(
        burglary.disagreement,
        Some(Disagreement::LittleConcernMuchRecorded)
    );
    // The urgent finding, with its fixed references and the item's agency; no note.
    let u = &a.street.urgent;
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].transect.as_deref(), Some("PEM-014"));
    assert_eq!(u[0].location.as_deref(), Some("rear of 22 Kay Street"));
    assert_eq!(u[0].from_ref.as_deref(), Some("lamp column 3"));
    assert_eq!(
        u[0].agency.as_deref(),
        Some("Council street scene — needle removal")
    );
    assert_eq!(u[0].answer, "2");
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("must not be published"));
}

#[test]
fn changes_persistence_and_the_top_three_on_a_known_fixture() {
    let (reg, rs, crime) = street_fixture();
    let mut inp = input(
        &reg,
        &rs,
        vec![ward("E05000001")],
        "2026-Q4",
        Rules::internal(),
    );
    inp.crime = &crime;
    let r = build(&inp);
    assert_eq!(folded(&inp), r);
    let a = &r.areas[0];
    let ch: Vec<(&str, Change, u32, bool)> = a
        .changes
        .issues
        .iter()
        .map(|c| {
            (
                c.issue.as_str(),
                c.change,
                c.consecutive_periods,
                c.persisting,
            )
        })
        .collect();
    assert_eq!(
        ch,
        [
            // 5/10 against 2/3: bases under 30, nothing claimed; most named both times.
            ("litter", Change::NotComparable, 2, true),
            ("drugs", Change::New, 1, false),
            ("robbery_theft", Change::New, 1, false),
            ("speeding", Change::NotComparable, 0, false),
        ]
    );
    assert_eq!(a.changes.interviews_before.value, Some(3));
    // Litter: 40 × 5/10 + 20 × 2/10 + 15 × 2/3 + 0 + 10 = 44.
    // Drugs: 40 × 3/10 + 20 × 3/10 + 15 × 1/3 + 15 × 1/15 + 0 = 24.
    // Robbery and theft: 40 × 1/10 + 20 × 1/10 = 6.
    let top: Vec<(&str, f64)> = a
        .top_three
        .iter()
        .map(|p| (p.issue.as_str(), p.score.unwrap()))
        .collect();
    assert_eq!(top.len(), 3);
    for ((issue, score), (want, expected)) in
        top.iter()
            .zip([("litter", 44.0), ("drugs", 24.0), ("robbery_theft", 6.0)])
    {
        assert_eq!(*issue, want);
        assert!((score - expected).abs() < 1e-9, "{issue}: {score}");
    }
    let litter = &a.top_three[0];
    assert_eq!(litter.rank, 1);
    let parts = litter.parts.unwrap();
    assert!((parts.street - 10.0).abs() < 1e-9);
    assert_eq!(parts.persisting, 10.0);
    assert!(!litter.suppressed);
    assert_eq!(
        litter.why,
        "named by 50% (5 of 10); ranked first by 20% (2 of 10); seen on 2 of 3 audited \
         transects; among the most named 2 periods running"
    );
    assert!((a.top_three[1].parts.unwrap().recorded - 1.0).abs() < 1e-9);
    // In public, 1 of 10 naming robbery and theft is hidden, and so is its score (40 ×
    // 1/10 would give it away); the ranking stands.
    let public = build(&Input {
        rules: Rules::public(),
        ..inp.clone()
    });
    let third = &public.areas[0].top_three[2];
    assert_eq!(
        (third.issue.as_str(), third.score, third.parts),
        ("robbery_theft", None, None)
    );
    assert!(third.suppressed);
    assert!(
        third
            .why
            .starts_with("named by a share hidden under the 5-count rule")
    );
}

#[test]
fn who_we_heard_with_a_profile_and_never_below_ward_level_in_public() {
    let reg = registry();
    let mut m = Maker::default();
    let w = "E05000001";
    let q = "2026-Q4";
    let mut rs = Vec::new();
    let ages = [
        "age_65_74",
        "age_65_74",
        "age_65_74",
        "age_65_74",
        "age_65_74",
        "age_65_74",
        "age_18_24",
        "age_18_24",
        "prefer_not_to_say",
    ];
    for a in ages {
        rs.push(m.kin(w, q, "resident", &[], &[], vec![("age_band", choice(a))]));
    }
    rs.push(m.kin(w, q, "resident", &[], &[], vec![]));
    let groups = vec![
        ("age_band".to_owned(), "age_18_24".to_owned()),
        ("age_band".to_owned(), "age_65_74".to_owned()),
    ];
    let profile = profile::parse(
        "area,group,share\nE05000001,age_18_24,0.35\nE05000001,age_65_74,20%\n",
        "p.csv",
        &groups,
    )
    .unwrap();
    let mut inp = input(&reg, &rs, vec![ward(w)], q, Rules::internal());
    inp.profile = Some(&profile);
    let r = build(&inp);
    let h = &r.areas[0].heard;
    let age = h
        .about_you
        .iter()
        .find(|q| q.question == "age_band")
        .unwrap();
    let row = |g: &str| age.rows.iter().find(|r| r.group == g).unwrap();
    // 8 substantive answers: 6 aged 65–74 (75%), 2 aged 18–24 (25%, against 35%: under by
    // more than 5 points).
    assert_eq!(row("age_65_74").share, Some(0.75));
    assert!(!row("age_65_74").under_represented);
    assert_eq!(row("age_18_24").share, Some(0.25));
    assert_eq!(row("age_18_24").population_share, Some(0.35));
    assert!(row("age_18_24").under_represented);
    assert_eq!(row("prefer_not_to_say").count.value, Some(1));
    assert_eq!(row("prefer_not_to_say").share, None);
    assert_eq!(row(heard::NOT_ANSWERED).count.value, Some(1));
    assert_eq!(h.profile_margin, Some(profile::MARGIN));
    // Public, at ward level: the 2, the 1 and the 1 are hidden, the 6 shown.
    let public = build(&input(&reg, &rs, vec![ward(w)], q, Rules::public()));
    let age = public.areas[0]
        .heard
        .about_you
        .iter()
        .find(|q| q.question == "age_band")
        .unwrap();
    let counts: Vec<(&str, Option<u64>)> = age
        .rows
        .iter()
        .filter(|r| r.count.value != Some(0))
        .map(|r| (r.group.as_str(), r.count.value))
        .collect();
    assert_eq!(
        counts,
        [
            ("age_18_24", None),
            ("age_65_74", Some(6)),
            ("prefer_not_to_say", None),
            (heard::NOT_ANSWERED, None),
        ]
    );
    // Public, at PAA level: no "about you" at all.
    let mut paa = ward(w);
    paa.level = AreaLevel::Paa;
    let public = build(&input(&reg, &rs, vec![paa], q, Rules::public()));
    let h = &public.areas[0].heard;
    assert!(h.about_you.is_empty());
    assert_eq!(
        h.about_you_note.as_deref(),
        Some("\"About you\" answers are not shown below ward level.")
    );
}

#[test]
fn when_the_residents_count_is_hidden_every_indicator_is_hidden_whole() {
    let reg = registry();
    let mut m = Maker::default();
    let (w, q) = ("E05000001", "2026-Q4");
    let mut rs = Vec::new();
    for _ in 0..3 {
        rs.push(m.kin(
            w,
            q,
            "resident",
            &[],
            &[],
            vec![("ni4", choice("tend_to_agree"))],
        ));
    }
    for _ in 0..10 {
        rs.push(m.kin(w, q, "business", &[], &[], vec![]));
    }
    let r = build(&input(&reg, &rs, vec![ward(w)], q, Rules::public()));
    let ind = &r.areas[0].indicators;
    assert_eq!(
        ind.residents,
        Count {
            value: None,
            suppressed: true
        }
    );
    for m in &ind.measures {
        let f = &m.figure;
        assert_eq!(
            (f.count, f.base, f.excluded, f.fraction),
            (None, None, None, None),
            "{}",
            m.id
        );
        assert!(f.suppressed);
    }
    // Internal: NI 4 is 3 of 3.
    let r = build(&input(&reg, &rs, vec![ward(w)], q, Rules::internal()));
    let ni4 = r.areas[0]
        .indicators
        .measures
        .iter()
        .find(|m| m.id == "ni4")
        .unwrap();
    assert_eq!((ni4.figure.count, ni4.figure.base), (Some(3), Some(3)));
}

/// The counts the fold holds, their structure only: the numbers are taken out, so two
/// folds of the same kinds of response in different numbers compare equal exactly when
/// neither holds more entries, lists or names than the other.
fn shape(f: &fold::Folded) -> String {
    format!("{f:?}")
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .collect()
}

/// The same interviews and audits (with a revision of each) `times` times over, with
/// fresh ids, folded one at a time as `doorstep report` reads them.
fn fold_times(reg: &Registry, times: usize) -> fold::Folded {
    let w = "E05000001";
    let taxonomy = &reg.get("kin", None).unwrap().taxonomy;
    let period: Period = "2026-Q4".parse().unwrap();
    let mut f = fold::Fold::new(reg, taxonomy, period);
    let mut m = Maker::default();
    for _ in 0..times {
        let more = with(ni17(["very_big"; 7]), &[("age_band", "age_65_74")]);
        let kin = m.kin(
            w,
            "2026-Q4",
            "resident",
            &["drugs", "litter"],
            &["litter"],
            more,
        );
        let mut revision = m.kin(w, "2026-Q4", "business", &["speeding"], &[], vec![]);
        revision.replaces = Some(kin.id);
        let before = m.kin(w, "2026-Q3", "resident", &["burglary"], &[], vec![]);
        let audit = eva(
            &mut m,
            w,
            "2026-Q4",
            "PEM-001",
            vec![("litter", Answer::Grade(Grade::C))],
        );
        for r in [kin.clone(), before, audit] {
            assert_eq!(f.note(r.id, r.status, r.replaces).take_out, None);
            f.add(r);
        }
        let note = f.note(revision.id, revision.status, revision.replaces);
        assert_eq!(note.take_out, Some(kin.id));
        f.take_out(&kin);
        f.add(revision);
    }
    f.finish(period, &[ward(w)])
}

#[test]
fn the_fold_holds_counts_not_responses() {
    let reg = registry();
    let few = fold_times(&reg, 3);
    let many = fold_times(&reg, 300);
    // Three hundred times the responses, and not one entry more.
    assert_eq!(shape(&few), shape(&many));
    // The counts did move: 300 revised interviews (businesses now), 300 audits.
    let now = &many.now["E05000001"];
    assert_eq!(now.by_type, [0, 300, 0, 0, 0]);
    assert_eq!(now.audits, 300);
    assert_eq!(few.now["E05000001"].by_type, [0, 3, 0, 0, 0]);
}

#[test]
fn the_folded_read_gives_the_same_pack_as_the_whole_one() {
    // Street findings, crime, doors, "about you" and indicators, public and internal.
    let (reg, rs, crime) = street_fixture();
    let mut m = Maker {
        next: rs.len() as u128 + 100,
    };
    let w = "E05000001";
    let mut rs = rs;
    for (age, v) in [("age_65_74", "very_big"), ("age_18_24", "not_a_problem")] {
        for _ in 0..6 {
            let more = with(ni17([v; 7]), &[("age_band", age)]);
            rs.push(m.kin(w, "2026-Q4", "resident", &["drugs"], &[], more));
        }
    }
    // An age band no version offers: a row of its own.
    rs.push(m.kin(
        w,
        "2026-Q4",
        "resident",
        &[],
        &[],
        vec![("age_band", choice("age_200_plus"))],
    ));
    let door = |number: &str, outcome: crate::response::Outcome| {
        let mut d = DoorRecord::new(
            w,
            crate::response::Door {
                street: "Kay Street".into(),
                number: number.into(),
            },
        );
        d.knocks.push(crate::response::Knock::new(
            Utc.with_ymd_and_hms(2026, 11, 3, 10, 0, 0).unwrap(),
            outcome,
        ));
        d
    };
    let doors = vec![
        door("1", crate::response::Outcome::Refused),
        door("2", crate::response::Outcome::NoAnswer),
    ];
    for rules in [Rules::internal(), Rules::public()] {
        let mut inp = input(&reg, &rs, vec![ward(w)], "2026-Q4", rules);
        inp.crime = &crime;
        inp.doors = &doors;
        let whole = build(&inp);
        assert_eq!(folded(&inp), whole);
        let a = &whole.areas[0];
        assert_eq!(
            a.fieldwork.doors_knocked.value,
            Some(2).filter(|_| !rules.public)
        );
        assert_eq!(a.street.urgent.len(), 1);
        assert!(
            a.heard
                .about_you
                .iter()
                .any(|q| q.rows.iter().any(|r| r.group == "age_200_plus"))
        );
    }
}
