use std::collections::BTreeMap;

use chrono::{Duration, TimeZone};
use uuid::Uuid;

use super::*;
use crate::geography::builtin;
use crate::response::AnswerRecord;
use crate::survey::IssueCoding;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap()
}

fn kin2(registry: &Registry) -> &Survey {
    registry.get("kin", Some(2)).unwrap()
}

fn plain(a: Answer) -> AnswerRecord {
    AnswerRecord {
        value: StoredAnswer::Plain(a),
        given_at: t0(),
        changed_at: t0(),
        history: Vec::new(),
    }
}

fn response(n: u128, s: &Survey, status: Status, answers: Vec<(&str, AnswerRecord)>) -> Response {
    Response {
        id: Uuid::from_u128(n),
        survey_id: s.id.clone(),
        survey_version: s.version,
        fingerprint: s.fingerprint.clone(),
        area: "DEMO-PAA-1".into(),
        period: "2026-Q4".parse().unwrap(),
        interviewer: "PC 1".into(),
        device: "laptop-1".into(),
        language: "en".into(),
        started_at: t0() + Duration::minutes(n as i64),
        changed_at: t0(),
        finalized_at: Some(t0() + Duration::hours(1)),
        status,
        answers: answers
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<BTreeMap<_, _>>(),
        findings: BTreeMap::new(),
        replaces: None,
        position: None,
        door: None,
        typed: None,
    }
}

fn column<'a>(t: &'a ExportTable, row: usize, name: &str) -> &'a ExportValue {
    let i = t.columns.iter().position(|c| c == name).unwrap_or_else(|| {
        panic!("no column {name}");
    });
    &t.rows[row][i]
}

#[test]
fn only_the_latest_complete_revision_counts() {
    let registry = Registry::builtin().unwrap();
    let s = kin2(&registry);
    let a = response(1, s, Status::Complete, vec![]);
    let mut b = response(2, s, Status::Complete, vec![]);
    b.replaces = Some(a.id);
    let mut c = response(3, s, Status::Draft, vec![]);
    c.replaces = Some(b.id);
    let refused = response(4, s, Status::Refused, vec![]);
    let abandoned = response(5, s, Status::Abandoned, vec![]);
    let all = [c.clone(), refused, b.clone(), a, abandoned];
    let ids: Vec<Uuid> = latest_complete(&all).iter().map(|r| r.id).collect();
    // A draft revision does not supersede what it revises; a complete one does.
    assert_eq!(ids, vec![b.id]);
}

#[test]
fn personal_internal_and_sealed_answers_never_appear() {
    let registry = Registry::builtin().unwrap();
    let s = kin2(&registry);
    let r = response(
        1,
        s,
        Status::Complete,
        vec![
            ("respondent_type", plain(Answer::Choice("resident".into()))),
            (
                "unsafe_words",
                plain(Answer::Text("the alley by the chip shop".into())),
            ),
            ("disclosure", plain(Answer::YesNo(true))),
            ("contact_name", plain(Answer::Text("Bartholomew".into()))),
            (
                "feedback_wanted",
                AnswerRecord {
                    value: StoredAnswer::Sealed("-----BEGIN AGE".into()),
                    ..plain(Answer::Skipped)
                },
            ),
        ],
    );
    let geo = builtin::geography().unwrap();
    let period = "2026-Q4".parse().unwrap();
    let t = build(&[r], &registry, &geo, period, None).unwrap();
    for banned in [
        "contact_name",
        "contact_phone",
        "kin_roster_until",
        "disclosure",
    ] {
        assert!(!t.columns.iter().any(|c| c == banned), "{banned}");
    }
    assert!(!t.columns.iter().any(|c| c.starts_with("disclosure_")));
    assert_eq!(
        column(&t, 0, "respondent_type"),
        &ExportValue::Code("resident".into())
    );
    assert_eq!(
        column(&t, 0, "unsafe_words"),
        &ExportValue::FreeText("the alley by the chip shop".into())
    );
    // A (wrongly) sealed non-personal answer is left empty, never copied out sealed.
    assert_eq!(column(&t, 0, "feedback_wanted"), &ExportValue::Empty);
    let mut csv = Vec::new();
    write_csv(&t, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        !csv.contains("Bartholomew") && !csv.contains("AGE"),
        "{csv}"
    );
    // The area at every level, from the plan.
    assert_eq!(
        column(&t, 0, "paa"),
        &ExportValue::Code("DEMO-PAA-1".into())
    );
    assert_eq!(
        column(&t, 0, "ward"),
        &ExportValue::Code("E05000861".into())
    );
    assert_eq!(
        column(&t, 0, "township"),
        &ExportValue::Code("DEMO Wigan Central township".into())
    );
}

#[test]
fn issues_get_a_column_per_issue_and_the_other_words() {
    let registry = Registry::builtin().unwrap();
    let s = kin2(&registry);
    let q = s.question("unsafe_issues").unwrap();
    let cols = question_columns(s, q);
    // Every taxonomy issue, then nothing / don't know / refused, then the words for other.
    assert_eq!(cols.len(), s.taxonomy.issues.len() + q.choices().len() + 1);
    assert_eq!(cols.last().unwrap(), "unsafe_issues_other_text");
    let r = response(
        1,
        s,
        Status::Complete,
        vec![
            (
                "unsafe_issues",
                plain(Answer::Issues(IssueCoding {
                    issues: vec!["litter".into(), "other".into()],
                    other: Some("=loose dogs".into()),
                })),
            ),
            (
                "top_three",
                plain(Answer::Rank(vec!["other".into(), "litter".into()])),
            ),
        ],
    );
    let geo = builtin::geography().unwrap();
    let t = build(&[r], &registry, &geo, "2026-Q4".parse().unwrap(), None).unwrap();
    assert_eq!(column(&t, 0, "unsafe_issues_litter"), &ExportValue::Int(1));
    assert_eq!(column(&t, 0, "unsafe_issues_other"), &ExportValue::Int(1));
    assert_eq!(column(&t, 0, "unsafe_issues_nothing"), &ExportValue::Int(0));
    assert_eq!(
        column(&t, 0, "top_three_1"),
        &ExportValue::Code("other".into())
    );
    assert_eq!(
        column(&t, 0, "top_three_2"),
        &ExportValue::Code("litter".into())
    );
    assert_eq!(column(&t, 0, "top_three_3"), &ExportValue::Empty);
    let mut csv = Vec::new();
    write_csv(&t, &mut csv).unwrap();
    // A formula typed as free text is defused for spreadsheets in CSV, kept in JSON Lines.
    assert!(String::from_utf8_lossy(&csv).contains(",'=loose dogs,"));
    let mut jsonl = Vec::new();
    write_jsonl(&t, &mut jsonl).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&jsonl).unwrap();
    assert_eq!(v["unsafe_issues_other_text"], "=loose dogs");
    assert_eq!(v["unsafe_issues_litter"], 1);
    assert_eq!(v["top_three_3"], serde_json::Value::Null);
}

#[test]
fn a_period_with_two_surveys_asks_for_one_and_an_unknown_survey_is_named() {
    let registry = Registry::builtin().unwrap();
    let kin = kin2(&registry);
    let eva = registry.get("eva", None).unwrap();
    let geo = builtin::geography().unwrap();
    let p: Period = "2026-Q4".parse().unwrap();
    let rs = [
        response(1, kin, Status::Complete, vec![]),
        response(2, eva, Status::Complete, vec![]),
    ];
    let e = build(&rs, &registry, &geo, p, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "2026-Q4 holds responses to more than one survey (eva, kin): choose one with --survey"
    );
    assert_eq!(
        build(&rs, &registry, &geo, p, Some("eva"))
            .unwrap()
            .rows
            .len(),
        1
    );
    let e = build(&rs, &registry, &geo, p, Some("kni")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no survey `kni` is installed here (see `doorstep survey list`)"
    );
    let mut odd = response(3, kin, Status::Complete, vec![]);
    odd.survey_version = 9;
    odd.fingerprint = "sha256:feed".into();
    let e = build(&[odd], &registry, &geo, p, None).unwrap_err();
    assert!(
        e.to_string()
            .contains("survey kin v9 (fingerprint sha256:feed)"),
        "{e}"
    );
    assert_eq!(e.exit_code(), exit::DATA_ERR);
}
