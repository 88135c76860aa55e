//! `doorstep report` through the real binary on a store filled here: every expected number
//! is worked out by hand from the fixture below.
//!
//! The fixture (built-in Wigan demo geography; 2026-Q4 unless said):
//! - Pemberton ward E05000857: six residents filed under its PAA DEMO-PAA-3 (four name
//!   litter, two name drugs), two businesses filed under the ward (both name litter), a
//!   draft naming burglary (not counted), and in 2026-Q3 one resident naming litter;
//!   door log in DEMO-PAA-3: door 1 no answer then interviewed, door 2 refused, door 3 no
//!   answer; police records in the ward: two drugs in 2026-10.
//! - Douglas ward E05000847: five residents naming speeding.
//!
//! Both wards are in the township "DEMO Wigan Central township".

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use doorstep::geography::crime::CrimeRecord;
use doorstep::response::{Door, NewResponse, Outcome, Status};
use doorstep::survey::registry::Registry;
use doorstep::survey::{Answer, IssueCoding};

use super::geography::{doorstep, ok};
use super::store_helpers::{all_files, open, t0};

const PEMBERTON: &str = "E05000857";
const PEMBERTON_PAA: &str = "DEMO-PAA-3";
const DOUGLAS: &str = "E05000847";

fn at(minutes: i64) -> DateTime<Utc> {
    // 5 October 2026, 09:00 UTC: 2026-Q4 by the UK date.
    t0() + Duration::minutes(minutes)
}

/// Adds one version 2 KIN interview, finished as `status` (left a draft for `Draft`).
#[allow(clippy::too_many_arguments)]
fn interview(
    store: &doorstep::store::Store,
    registry: &Registry,
    area: &str,
    period: &str,
    kind: &str,
    issues: &[&str],
    status: Status,
    n: i64,
) -> uuid::Uuid {
    let survey = registry.get("kin", Some(2)).unwrap();
    let draft = store
        .create_draft(NewResponse {
            survey_id: "kin".into(),
            survey_version: 2,
            fingerprint: survey.fingerprint.clone(),
            area: area.into(),
            period: Some(period.parse().unwrap()),
            interviewer: format!("PC {}", n % 3),
            device: "laptop-1".into(),
            language: "en".into(),
            started_at: at(n),
        })
        .unwrap();
    let answers = [
        ("consent", Answer::YesNo(true)),
        ("age_check", Answer::Choice("aged_16_plus".into())),
        ("respondent_type", Answer::Choice(kind.into())),
        (
            "unsafe_issues",
            Answer::Issues(IssueCoding {
                issues: issues.iter().map(|s| s.to_string()).collect(),
                other: None,
            }),
        ),
    ];
    for (q, a) in answers {
        store
            .record_answer(draft.id, survey.question(q).unwrap(), a, at(n))
            .unwrap();
    }
    if status != Status::Draft {
        store.finalize(draft.id, status, at(n)).unwrap();
    }
    draft.id
}

fn crime(month: &str, category: &str) -> CrimeRecord {
    CrimeRecord {
        month: month.into(),
        category: category.into(),
        crime_id: None,
        lon: Some(-2.67),
        lat: Some(53.54),
        ward: Some(PEMBERTON.into()),
        lsoa: None,
        paa: None,
    }
}

/// Builds the fixture store in `dir`.
pub(super) fn fixture(dir: &Path) {
    let registry = Registry::builtin().unwrap();
    let store = open(dir);
    let q4 = "2026-Q4";
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    let mut first = None;
    for issues in [
        &["litter"][..],
        &["litter"],
        &["litter"],
        &["litter"],
        &["drugs"],
        &["drugs"],
    ] {
        let id = interview(
            &store,
            &registry,
            PEMBERTON_PAA,
            q4,
            "resident",
            issues,
            Status::Complete,
            next(),
        );
        first.get_or_insert(id);
    }
    for _ in 0..2 {
        interview(
            &store,
            &registry,
            PEMBERTON,
            q4,
            "business",
            &["litter"],
            Status::Complete,
            next(),
        );
    }
    interview(
        &store,
        &registry,
        PEMBERTON,
        q4,
        "resident",
        &["burglary"],
        Status::Draft,
        next(),
    );
    interview(
        &store,
        &registry,
        PEMBERTON,
        "2026-Q3",
        "resident",
        &["litter"],
        Status::Complete,
        next(),
    );
    for _ in 0..5 {
        interview(
            &store,
            &registry,
            DOUGLAS,
            q4,
            "resident",
            &["speeding"],
            Status::Complete,
            next(),
        );
    }
    let door = |d: &str| Door::new("Kay Street", d).unwrap();
    store
        .knock(PEMBERTON_PAA, door("1"), Outcome::NoAnswer, at(1))
        .unwrap();
    store
        .knock(
            PEMBERTON_PAA,
            door("1"),
            Outcome::Interviewed {
                response: first.unwrap(),
            },
            at(2),
        )
        .unwrap();
    store
        .knock(PEMBERTON_PAA, door("2"), Outcome::Refused, at(3))
        .unwrap();
    store
        .knock(PEMBERTON_PAA, door("3"), Outcome::NoAnswer, at(4))
        .unwrap();
    store
        .insert_crime(&[
            ("r1".into(), crime("2026-10", "drugs")),
            ("r2".into(), crime("2026-10", "drugs")),
        ])
        .unwrap();
}

fn fixture_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    dir
}

fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["report", "--period", "2026-Q4", "--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(dir, &all)).unwrap()
}

fn area<'a>(report: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    report["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == code)
        .unwrap_or_else(|| panic!("no area {code}"))
}

fn issue<'a>(rows: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["issue"] == id)
        .unwrap_or_else(|| panic!("no issue {id}"))
}

#[test]
fn json_counts_the_fixture_per_ward() {
    let dir = fixture_dir();
    let r = json(dir.path(), &["--internal"]);
    assert_eq!(r["format"], "doorstep-report");
    assert_eq!(r["marking"], "not for publication");
    assert_eq!(r["compared_with"], "2026-Q3");
    assert_eq!(r["unresolved_conflicts"], 0);
    let codes: Vec<&str> = r["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    // Wards with fieldwork only, by code.
    assert_eq!(codes, [DOUGLAS, PEMBERTON]);
    let p = area(&r, PEMBERTON);
    assert_eq!(p["parent"], "DEMO Wigan Central township");
    // 6 residents (filed under the PAA) + 2 businesses; the draft is not counted.
    assert_eq!(p["issues"]["interviews"]["value"], 8);
    let litter = issue(&p["issues"]["all"], "litter");
    assert_eq!(litter["named"]["count"], 6);
    assert_eq!(litter["named"]["base"], 8);
    assert_eq!(litter["named"]["fraction"], 0.75);
    // Wilson 95% for 6 of 8, worked out from DOMAIN.md's formula: 0.4093 to 0.9285.
    let low = litter["named"]["low"].as_f64().unwrap();
    let high = litter["named"]["high"].as_f64().unwrap();
    assert!((low - 0.409_27).abs() < 1e-4 && (high - 0.928_52).abs() < 1e-4);
    assert_eq!(litter["named"]["low_base"], true);
    // Named alone, so ranked first and in the top three by all six.
    assert_eq!(litter["ranked_first"]["count"], 6);
    assert_eq!(
        issue(&p["issues"]["residents"]["rows"], "litter")["named"]["count"],
        4
    );
    assert_eq!(
        issue(&p["issues"]["businesses"]["rows"], "litter")["named"]["count"],
        2
    );
    assert!(
        !p["issues"]["all"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["issue"] == "burglary")
    );
    let fw = &p["fieldwork"];
    assert_eq!(fw["doors_knocked"]["value"], 3);
    assert_eq!(fw["doors_answered"]["value"], 2);
    assert_eq!(fw["doors_interviewed"]["value"], 1);
    assert_eq!(fw["refused_at_door"]["value"], 1);
    assert_eq!(fw["response_rate"]["fraction"], 0.5);
    assert_eq!(fw["interviews"]["value"], 8);
    // Interviews 1 to 8 by PC 1, PC 2 and PC 0.
    assert_eq!(fw["interviewers"], 3);
    let drugs = issue(&p["street_and_record"], "drugs");
    assert_eq!(drugs["recorded"], 2);
    assert_eq!(drugs["recorded_note"], "recorded");
    // Litter: 6/8 now against 1/1 in Q3: bases under 30, no change claimed.
    let change = issue(&p["changes"]["issues"], "litter");
    assert_eq!(change["change"], "not_comparable");
    assert_eq!(change["persisting"], true);
    assert_eq!(p["top_three"][0]["issue"], "litter");
    assert_eq!(p["top_three"][1]["issue"], "drugs");
    let d = area(&r, DOUGLAS);
    assert_eq!(d["issues"]["interviews"]["value"], 5);
    assert_eq!(
        issue(&d["issues"]["all"], "speeding")["named"]["fraction"],
        1.0
    );
}

#[test]
fn the_public_pack_hides_small_counts() {
    let dir = fixture_dir();
    let r = json(dir.path(), &["--area", PEMBERTON]);
    assert_eq!(r["public"], true);
    assert_eq!(r["marking"], serde_json::Value::Null);
    let p = area(&r, PEMBERTON);
    // Drugs: 2 of 8: hidden; litter 6 of 8: the 2 who did not name it would show: hidden.
    let drugs = issue(&p["issues"]["all"], "drugs");
    assert_eq!(drugs["named"]["count"], serde_json::Value::Null);
    assert_eq!(drugs["named"]["suppressed"], true);
    assert_eq!(drugs["named"]["base"], 8);
    assert_eq!(
        issue(&p["issues"]["all"], "litter")["named"]["suppressed"],
        true
    );
    // Businesses: a base of 2, hidden whole.
    let b = issue(&p["issues"]["businesses"]["rows"], "litter");
    assert_eq!(b["named"]["base"], serde_json::Value::Null);
    // Who we heard: 6 residents, 2 businesses: the 2 and, sparing the residents, the key
    // individuals' 0.
    let types = p["heard"]["by_type"].as_array().unwrap();
    assert_eq!(types[0]["count"]["value"], 6);
    assert_eq!(types[1]["count"]["suppressed"], true);
    assert_eq!(types[2]["count"]["suppressed"], true);
    assert_eq!(types[3]["count"]["value"], 0);
    let md = ok(
        dir.path(),
        &["report", "--period", "2026-Q4", "--area", PEMBERTON],
    );
    assert!(md.contains("## ward E05000857 Pemberton (in DEMO Wigan Central township): 2026-Q4"));
    assert!(
        md.contains("| Litter or rubbish lying around | \\* | \\* | \\* |"),
        "{md}"
    );
    assert!(!md.contains("NOT FOR PUBLICATION"));
}

#[test]
fn the_internal_pack_marks_every_area() {
    let dir = fixture_dir();
    let md = ok(dir.path(), &["report", "--period", "2026-Q4", "--internal"]);
    // Once at the top and once per area (two wards).
    assert_eq!(md.matches("NOT FOR PUBLICATION").count(), 3, "{md}");
    assert!(
        md.contains("| Litter or rubbish lying around | 6 | 75% | 41%–93% | 6 | 6 | low base |"),
        "{md}"
    );
}

#[test]
fn levels_and_single_areas() {
    let dir = fixture_dir();
    let r = json(dir.path(), &["--level", "paa", "--internal"]);
    assert_eq!(r["level"], "paa");
    assert_eq!(r["areas"].as_array().unwrap().len(), 1);
    let paa = area(&r, PEMBERTON_PAA);
    assert_eq!(paa["parent"], PEMBERTON);
    assert_eq!(paa["issues"]["interviews"]["value"], 6);
    assert_eq!(paa["fieldwork"]["doors_knocked"]["value"], 3);
    let r = json(dir.path(), &["--level", "township", "--internal"]);
    let t = area(&r, "DEMO Wigan Central township");
    assert_eq!(t["level"], "township");
    assert_eq!(t["issues"]["interviews"]["value"], 13);
    let r = json(dir.path(), &["--area", PEMBERTON_PAA]);
    assert_eq!(r["level"], "paa");
    // Public and below ward level: no "about you".
    let heard = &area(&r, PEMBERTON_PAA)["heard"];
    assert_eq!(heard["about_you"].as_array().unwrap().len(), 0);
    assert!(
        heard["about_you_note"]
            .as_str()
            .unwrap()
            .contains("ward level")
    );
}

#[test]
fn csv_is_one_tidy_table() {
    let dir = fixture_dir();
    let csv = ok(
        dir.path(),
        &[
            "report",
            "--period",
            "2026-Q4",
            "--format",
            "csv",
            "--internal",
            "--area",
            PEMBERTON,
        ],
    );
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("area,period,measure,value,base,low,high,suppressed")
    );
    assert!(
        csv.contains("E05000857,2026-Q4,issues.all.litter.named,0.75,8,0.40927,0.928522,false\n"),
        "{csv}"
    );
    assert!(csv.contains("E05000857,2026-Q4,issues.all.litter.named.count,6,8,,,false\n"));
    assert!(csv.contains("E05000857,2026-Q4,fieldwork.doors_knocked,3,,,,false\n"));
    assert!(csv.contains("E05000857,2026-Q4,priority.1,litter,,,,false\n"));
    // Every row has the eight columns.
    for l in csv.lines() {
        assert_eq!(l.split(',').count(), 8, "{l}");
    }
}

#[test]
fn the_same_store_gives_the_same_bytes_in_any_time_zone() {
    let dir = fixture_dir();
    for format in ["md", "json", "csv"] {
        let args = ["report", "--period", "2026-Q4", "--format", format];
        let a = ok(dir.path(), &args);
        let b = ok(dir.path(), &args);
        assert_eq!(a, b, "{format}");
        let out = dir.path().join(format!("pack.{format}"));
        let mut with_out = args.to_vec();
        with_out.extend(["--out", out.to_str().unwrap()]);
        assert_eq!(ok(dir.path(), &with_out), "");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), a, "{format}");
        let other_zone = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env("TZ", "America/New_York")
            .env_remove("DOORSTEP_DATA_DIR")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(other_zone.stdout).unwrap(), a, "{format}");
    }
}

#[test]
fn a_profile_flags_under_represented_groups_and_bad_profiles_name_their_line() {
    let dir = fixture_dir();
    let good = dir.path().join("profile.csv");
    std::fs::write(&good, "area,group,share\nE05000857,resident,0.5\n").unwrap();
    // `resident` is not an "about you" answer: an error naming line 2.
    let before: Vec<_> = all_files(dir.path())
        .into_iter()
        .filter(|p| !p.ends_with("profile.csv"))
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    let run = doorstep(
        dir.path(),
        &[
            "report",
            "--period",
            "2026-Q4",
            "--profile",
            good.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("profile.csv:2: `resident` is not an answer to any \"about you\" question"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    for bad in [
        (
            "area,group\n",
            "profile.csv:1: the header must be `area,group,share`",
        ),
        (
            "area,group,share\nE05000857,age_18_24,half\n",
            "profile.csv:2: the share `half` is not a number",
        ),
    ] {
        std::fs::write(&good, bad.0).unwrap();
        let run = doorstep(
            dir.path(),
            &[
                "report",
                "--period",
                "2026-Q4",
                "--profile",
                good.to_str().unwrap(),
            ],
        );
        assert_eq!(run.code, 65, "{}", run.stderr);
        assert!(run.stderr.contains(bad.1), "{}", run.stderr);
    }
    let after: Vec<_> = all_files(dir.path())
        .into_iter()
        .filter(|p| !p.ends_with("profile.csv"))
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    assert_eq!(before, after, "the store changed");
    // A good profile: nobody answered age, so 18–24 (share 0 of 0) is not flagged, but the
    // margin is stated and the profile share shown.
    std::fs::write(&good, "area,group,share\nE05000857,age_18_24,12%\n").unwrap();
    let r = json(
        dir.path(),
        &[
            "--internal",
            "--area",
            PEMBERTON,
            "--profile",
            good.to_str().unwrap(),
        ],
    );
    let heard = &area(&r, PEMBERTON)["heard"];
    assert_eq!(heard["profile_margin"], 0.05);
    let age = heard["about_you"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["question"] == "age_band")
        .unwrap();
    let row = issue_like(&age["rows"], "age_18_24");
    assert_eq!(row["population_share"], 0.12);
    assert_eq!(row["under_represented"], false);
}

fn issue_like<'a>(rows: &'a serde_json::Value, group: &str) -> &'a serde_json::Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"] == group)
        .unwrap()
}

#[test]
fn bad_arguments_say_what_is_wrong() {
    let dir = fixture_dir();
    for (args, code, message) in [
        (
            &["report", "--period", "2026-Q5"][..],
            2,
            "--period: bad period `2026-Q5`: the quarter must be Q1, Q2, Q3 or Q4",
        ),
        (
            &["report", "--period", "2026-Q4", "--compare", "Q3"],
            2,
            "--compare: bad period `Q3`",
        ),
        (
            &["report", "--period", "2026-Q4", "--area", "E05999999"],
            2,
            "no area with code or name `E05999999`",
        ),
        (
            &[
                "report", "--period", "2026-Q4", "--area", PEMBERTON, "--level", "paa",
            ],
            2,
            "`E05000857` is a ward, not a paa",
        ),
        (
            &["report", "--period", "2026-Q4", "--format", "pdf"],
            2,
            "invalid value 'pdf'",
        ),
    ] {
        let run = doorstep(dir.path(), args);
        assert_eq!(run.code, code, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "");
    }
    let missing = dir.path().join("missing.csv");
    let run = doorstep(
        dir.path(),
        &[
            "report",
            "--period",
            "2026-Q4",
            "--profile",
            missing.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(run.stderr.contains("missing.csv"), "{}", run.stderr);
}

#[test]
fn an_empty_store_reports_no_fieldwork() {
    let dir = tempfile::tempdir().unwrap();
    let md = ok(dir.path(), &["report", "--period", "2026-Q4"]);
    assert!(
        md.contains("No fieldwork in 2026-Q4 at ward level."),
        "{md}"
    );
    assert!(md.contains("Unresolved merge conflicts: 0."));
}
