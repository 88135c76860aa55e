//! `doorstep export responses` and `doorstep contacts` through the real binary, on a store
//! built by hand with a small survey whose every column is known.

use std::path::Path;
use std::process::Command;

use chrono::Duration;
use doorstep::response::{NewResponse, SettingKey, Status};
use doorstep::seal::CoordinatorIdentity;
use doorstep::store::{Store, journal_path};
use doorstep::survey::registry::Registry;
use doorstep::survey::{Answer, Finding, Grade, Location, Survey};
use uuid::Uuid;

use crate::geography::{Run, doorstep, ok};
use crate::store_helpers::{all_files, new_response, open, t0};

/// A survey with one question of each kind the export lays out differently, plus a
/// personal and an internal question that must never appear.
pub const MINI: &str = r#"
id = "mini"
version = 1
kind = "eva"
title = { en = "Mini" }
languages = ["en"]

[[section]]
id = "all"
title = { en = "All" }

[[section.question]]
id = "who"
kind = "single"
text = { en = "Who?" }
choices = [
  { value = "resident", label = { en = "Resident" } },
  { value = "business", label = { en = "Business" } },
]

[[section.question]]
id = "when"
kind = "multiple"
text = { en = "When?" }
choices = [
  { value = "day", label = { en = "Day" } },
  { value = "night", label = { en = "Night" } },
]

[[section.question]]
id = "top"
kind = "rank"
from = "when"
max = 2
text = { en = "Which matters most?" }

[[section.question]]
id = "years"
kind = "number"
integer = true
text = { en = "Years here?" }

[[section.question]]
id = "feedback_wanted"
kind = "yes_no"
text = { en = "Hear back?" }

[[section.question]]
id = "on"
kind = "date"
text = { en = "On what day?" }

[[section.question]]
id = "why"
kind = "text"
text = { en = "Why?" }

[[section.question]]
id = "where"
kind = "location"
forms = ["fixed", "gridref", "latlon"]
text = { en = "Where?" }

[[section.question]]
id = "litter"
kind = "grade"
text = { en = "Litter" }

[section.question.item]
agency = "Council street scene"

[[section.question]]
id = "contact_name"
kind = "text"
personal = true
text = { en = "Name" }

[[section.question]]
id = "contact_phone"
kind = "text"
personal = true
text = { en = "Phone" }

[[section.question]]
id = "told"
kind = "yes_no"
internal = true
text = { en = "Disclosed something?" }
"#;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub identity: CoordinatorIdentity,
    /// Complete, in DEMO-PAA-2, asked to hear back.
    pub first: Uuid,
    /// Complete, later revised.
    pub revised: Uuid,
    /// The revision of `revised`, complete.
    pub revision: Uuid,
}

fn mini(dir: &Path) -> Survey {
    let (registry, diagnostics) = Registry::load(dir).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    registry.get("mini", None).unwrap().clone()
}

/// The store: two complete interviews (one revised), a draft, a refusal and an interview
/// of another quarter, all on the small survey.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("surveys")).unwrap();
    std::fs::write(dir.path().join("surveys/mini.toml"), MINI).unwrap();
    let s = mini(dir.path());
    let q = |id: &str| s.question(id).unwrap().clone();
    let identity = CoordinatorIdentity::generate();
    let store = open(dir.path());
    store
        .set_setting(SettingKey::Recipient, &identity.recipient().to_string())
        .unwrap();
    let new = |area: &str, minutes: i64| NewResponse {
        survey_id: s.id.clone(),
        survey_version: s.version,
        fingerprint: s.fingerprint.clone(),
        ..new_response(area, t0() + Duration::minutes(minutes))
    };
    let answer = |store: &Store, id, qid: &str, a: Answer| {
        store.record_answer(id, &q(qid), a, t0()).unwrap();
    };

    let first = store.create_draft(new("DEMO-PAA-2", 0)).unwrap().id;
    answer(&store, first, "who", Answer::Choice("resident".into()));
    answer(
        &store,
        first,
        "when",
        Answer::Choices(vec!["night".into(), "day".into()]),
    );
    answer(&store, first, "top", Answer::Rank(vec!["night".into()]));
    answer(&store, first, "years", Answer::Number(12.0));
    answer(&store, first, "feedback_wanted", Answer::YesNo(true));
    answer(
        &store,
        first,
        "on",
        Answer::Date(chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()),
    );
    answer(
        &store,
        first,
        "why",
        Answer::Text("noisy, \"late\" nights".into()),
    );
    answer(
        &store,
        first,
        "where",
        Answer::Location(Location::LatLon {
            lat: 53.5448,
            lon: -2.6318,
        }),
    );
    answer(&store, first, "litter", Answer::Grade(Grade::BMinus));
    store
        .record_finding(
            first,
            "litter",
            Finding {
                location: Some("lamp column 14".into()),
                urgent: true,
                agency: Some("Council street scene".into()),
                ..Finding::default()
            },
        )
        .unwrap();
    answer(
        &store,
        first,
        "contact_name",
        Answer::Text("Bartholomew Quigley".into()),
    );
    answer(
        &store,
        first,
        "contact_phone",
        Answer::Text("07700 900461".into()),
    );
    answer(&store, first, "told", Answer::YesNo(true));
    store
        .finalize(first, Status::Complete, t0() + Duration::hours(1))
        .unwrap();

    let revised = store.create_draft(new("E05000862", 10)).unwrap().id;
    answer(&store, revised, "who", Answer::Choice("business".into()));
    answer(&store, revised, "when", Answer::Skipped);
    answer(&store, revised, "feedback_wanted", Answer::YesNo(false));
    answer(
        &store,
        revised,
        "where",
        Answer::Location(Location::Fixed {
            text: "outside the Co-op".into(),
        }),
    );
    answer(&store, revised, "litter", Answer::Grade(Grade::A));
    store
        .finalize(revised, Status::Complete, t0() + Duration::hours(2))
        .unwrap();
    let revision = store.revise(revised).unwrap().id;
    answer(&store, revision, "who", Answer::Choice("resident".into()));
    store
        .finalize(revision, Status::Complete, t0() + Duration::hours(3))
        .unwrap();

    // Not exported: a draft, a refusal, another quarter.
    let draft = store.create_draft(new("DEMO-PAA-2", 20)).unwrap().id;
    answer(&store, draft, "who", Answer::Choice("resident".into()));
    let refused = store.create_draft(new("DEMO-PAA-2", 30)).unwrap().id;
    store
        .finalize(refused, Status::Refused, t0() + Duration::hours(1))
        .unwrap();
    let mut earlier = new("DEMO-PAA-2", 40);
    earlier.period = Some("2026-Q3".parse().unwrap());
    let q3 = store.create_draft(earlier).unwrap().id;
    store
        .finalize(q3, Status::Complete, t0() + Duration::hours(1))
        .unwrap();
    store.flush().unwrap();
    drop(store);
    Fixture {
        dir,
        identity,
        first,
        revised,
        revision,
    }
}

/// Every byte under the data directory, to show a refused command changed nothing.
pub fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    all_files(dir)
        .into_iter()
        .filter(|p| p.starts_with(dir.join("surveys")) || *p == journal_path(dir))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

const HEADER: &str = "id,survey_id,survey_version,survey_fingerprint,period,status,area,township,ward,paa,interviewer,device,started_at,finalized_at,replaces,\
who,when_day,when_night,top_1,top_2,years,feedback_wanted,on,why,where_lat,where_lon,where_ref,\
litter,litter_finding_urgent,litter_finding_agency,litter_finding_where,litter_finding_note\n";

#[test]
fn the_csv_is_exactly_the_hand_written_table() {
    let f = fixture();
    let dir = f.dir.path();
    let fp = mini(dir).fingerprint;
    let out = dir.join("q4.csv");
    let said = ok(
        dir,
        &[
            "export",
            "responses",
            "--period",
            "2026-Q4",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(said.contains("responses") && said.contains('2'), "{said}");
    let csv = std::fs::read_to_string(&out).unwrap();
    let town = "DEMO Wigan Central township";
    let expected = format!(
        "{HEADER}\
{first},mini,1,{fp},2026-Q4,complete,DEMO-PAA-2,{town},E05000847,DEMO-PAA-2,PC 1234,laptop-3,2026-10-05T09:00:00Z,2026-10-05T10:00:00Z,,\
resident,1,1,night,,12,1,2026-10-01,\"noisy, \"\"late\"\" nights\",53.5448,-2.6318,,\
B-,1,Council street scene,lamp column 14,\n\
{revision},mini,1,{fp},2026-Q4,complete,E05000862,{town},E05000862,,PC 1234,laptop-3,2026-10-05T09:00:00Z,2026-10-05T12:00:00Z,{revised},\
resident,,,,,,0,,,,,outside the Co-op,\
A,,,,\n",
        first = f.first,
        revision = f.revision,
        revised = f.revised,
    );
    assert_eq!(csv, expected);
    for secret in ["Quigley", "900461", "told", "AGE"] {
        assert!(!csv.contains(secret), "{secret} leaked");
    }
}

#[test]
fn jsonl_parses_one_object_per_response_with_typed_values() {
    let f = fixture();
    let dir = f.dir.path();
    let out = dir.join("q4.jsonl");
    let path = out.to_str().unwrap();
    ok(
        dir,
        &[
            "export",
            "responses",
            "--period",
            "2026-Q4",
            "--survey",
            "mini",
            "--format",
            "jsonl",
            "--out",
            path,
        ],
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["id"], f.first.to_string());
    assert_eq!(rows[0]["years"], 12.0);
    assert_eq!(rows[0]["when_night"], 1);
    assert_eq!(rows[0]["where_lat"], 53.5448);
    assert_eq!(rows[0]["top_2"], serde_json::Value::Null);
    assert_eq!(rows[0]["why"], "noisy, \"late\" nights");
    assert_eq!(rows[1]["replaces"], f.revised.to_string());
    assert_eq!(rows[1]["survey_version"], 1);
    // Keys keep the column order of the CSV header.
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), HEADER.trim_end().split(',').count());
}

#[test]
fn bad_arguments_are_refused_with_a_reason_and_nothing_is_written() {
    let f = fixture();
    let dir = f.dir.path();
    let before = snapshot(dir);
    let out = dir.join("never.csv");
    let path = out.to_str().unwrap();
    let missing = dir.join("no/such/folder/x.csv");
    let cases: [(&[&str], i32, &str); 4] = [
        (
            &["--period", "2026-Q5", "--format", "csv", "--out", path],
            2,
            "the quarter must be Q1, Q2, Q3 or Q4",
        ),
        (
            &[
                "--period", "2026-Q4", "--survey", "nope", "--format", "csv", "--out", path,
            ],
            2,
            "no survey `nope` is installed here",
        ),
        (
            &["--period", "2026-Q4", "--format", "xls", "--out", path],
            2,
            "xls",
        ),
        (
            &[
                "--period",
                "2026-Q4",
                "--format",
                "csv",
                "--out",
                missing.to_str().unwrap(),
            ],
            1,
            "no/such/folder/x.csv",
        ),
    ];
    for (args, code, says) in cases {
        let mut all = vec!["export", "responses"];
        all.extend_from_slice(args);
        let run: Run = doorstep(dir, &all);
        assert_eq!(run.code, code, "{all:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{all:?}: {}", run.stderr);
        assert!(!out.exists(), "{all:?} wrote a file");
    }
    // A folder given as the file: refused, the folder untouched.
    let run = doorstep(
        dir,
        &[
            "export",
            "responses",
            "--period",
            "2026-Q4",
            "--format",
            "csv",
            "--out",
            dir.join("surveys").to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is a folder"), "{}", run.stderr);
    assert_eq!(snapshot(dir), before);
}

#[test]
fn the_export_is_the_same_in_every_time_zone() {
    let f = fixture();
    let dir = f.dir.path();
    let mut seen = Vec::new();
    for tz in ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"] {
        let out = dir.join(format!("{}.csv", tz.replace('/', "_")));
        let status = Command::new(env!("CARGO_BIN_EXE_doorstep"))
            .args(["--data-dir", dir.to_str().unwrap()])
            .args([
                "export",
                "responses",
                "--period",
                "2026-Q4",
                "--format",
                "csv",
            ])
            .arg("--out")
            .arg(&out)
            .env("TZ", tz)
            .env_remove("DOORSTEP_DATA_DIR")
            .output()
            .unwrap();
        assert!(status.status.success(), "{tz}");
        seen.push(std::fs::read(&out).unwrap());
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
}

fn key_file(dir: &Path, name: &str, identity: &CoordinatorIdentity) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, identity.to_file_text(t0())).unwrap();
    path
}

#[test]
fn contacts_unseals_the_details_of_those_who_asked_and_says_it_is_personal() {
    let f = fixture();
    let dir = f.dir.path();
    let keys = tempfile::tempdir().unwrap();
    let key = key_file(keys.path(), "coordinator.key", &f.identity);
    let key = key.to_str().unwrap();
    let before = snapshot(dir);
    let run = doorstep(dir, &["contacts", "--identity", key, "--format", "csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "id,area,period,officer,finalized_at,purposes,contact_name,contact_phone\n\
             {},DEMO-PAA-2,2026-Q4,PC 1234,2026-10-05T10:00:00Z,feedback,Bartholomew Quigley,07700 900461\n",
            f.first
        )
    );
    assert!(
        run.stderr
            .contains("this output holds personal data: the contact details of 1 respondent(s)"),
        "{}",
        run.stderr
    );
    let md = ok(dir, &["contacts", "--identity", key]);
    assert!(
        md.contains("| Bartholomew Quigley | 07700 900461 |"),
        "{md}"
    );
    assert!(md.contains("not for publication"), "{md}");
    // Filters: the ward of the revised interview holds nobody who asked; Q3 neither.
    for filter in [["--area", "E05000862"], ["--period", "2026-Q3"]] {
        let mut args = vec!["contacts", "--identity", key, "--format", "csv"];
        args.extend_from_slice(&filter);
        let run = doorstep(dir, &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            run.stdout, "id,area,period,officer,finalized_at,purposes\n",
            "{filter:?}"
        );
        assert!(run.stderr.contains("of 0 respondent(s)"), "{}", run.stderr);
    }
    let by_ward = doorstep(
        dir,
        &[
            "contacts",
            "--identity",
            key,
            "--area",
            "E05000847",
            "--format",
            "csv",
        ],
    );
    assert!(by_ward.stdout.contains("Bartholomew"), "{}", by_ward.stderr);
    assert_eq!(snapshot(dir), before);
}

#[test]
fn contacts_refuses_a_wrong_or_missing_identity_and_prints_nothing() {
    let f = fixture();
    let dir = f.dir.path();
    let keys = tempfile::tempdir().unwrap();
    let other = CoordinatorIdentity::generate();
    let wrong = key_file(keys.path(), "other.key", &other);
    let garbage = keys.path().join("garbage.key");
    std::fs::write(&garbage, "# a comment\nAGE-SECRET-KEY-1NOTAKEY\n").unwrap();
    let missing = keys.path().join("missing.key");
    let before = snapshot(dir);
    let cases: [(Vec<&str>, i32, String); 4] = [
        (
            vec!["contacts", "--identity", wrong.to_str().unwrap()],
            65,
            format!(
                "cannot be opened with this identity (public key {})",
                other.recipient()
            ),
        ),
        (
            vec!["contacts", "--identity", garbage.to_str().unwrap()],
            65,
            "line 2 of the identity file".into(),
        ),
        (
            vec!["contacts", "--identity", missing.to_str().unwrap()],
            65,
            "missing.key".into(),
        ),
        (vec!["contacts"], 2, "--identity".into()),
    ];
    for (args, code, says) in cases {
        let run = doorstep(dir, &args);
        assert_eq!(run.code, code, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(&says), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(!run.stderr.contains("Quigley"), "{args:?}");
    }
    assert_eq!(snapshot(dir), before);
}
