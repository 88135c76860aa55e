//! `doorstep actions …` through the real binary: the register's round trip, every bad
//! input refused with exit 65 and the store left as it was, and an action started from an
//! urgent EVA finding.

use std::path::Path;

use assert_cmd::Command;
use doorstep::response::NewResponse;
use doorstep::survey::Finding;

use crate::store_helpers::{open, t0};

pub fn doorstep(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_doorstep"));
    cmd.env_remove("DOORSTEP_DATA_DIR")
        .arg("--data-dir")
        .arg(dir);
    cmd
}

pub fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

/// A data directory with the officer set.
pub fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    doorstep(dir.path())
        .args(["config", "set", "officer", "Sgt Ada Jones"])
        .assert()
        .success();
    dir
}

/// The flags of a good `actions add`, with `over` (flag, value pairs) replacing the
/// defaults of the flags it names and adding the rest (`--support` may repeat).
pub fn add_args(over: &[&str]) -> Vec<String> {
    let base = [
        ("--area", "E05000861"),
        ("--period", "2026-Q4"),
        ("--issue", "litter"),
        ("--action", "Weekly litter pick on Kay Street"),
        ("--lead", "Council street scene"),
        ("--owner", "Neighbourhood manager"),
        ("--agreed", "2026-10-05"),
        ("--due", "2026-11-30"),
    ];
    let pairs: Vec<(&str, &str)> = over.chunks(2).map(|c| (c[0], c[1])).collect();
    let mut args = vec!["actions".to_owned(), "add".to_owned()];
    for (flag, value) in base {
        let value = pairs
            .iter()
            .find(|(f, _)| *f == flag)
            .map_or(value, |(_, v)| *v);
        args.extend([flag.to_owned(), value.to_owned()]);
    }
    for (flag, value) in pairs
        .iter()
        .filter(|(f, _)| !base.iter().any(|(b, _)| b == f))
    {
        args.extend([(*flag).to_owned(), (*value).to_owned()]);
    }
    args
}

/// Adds an action through the binary; returns its id.
pub fn add(dir: &Path, over: &[&str]) -> String {
    let out = stdout_of(doorstep(dir).args(add_args(over)));
    let line = out
        .lines()
        .find(|l| l.contains("added action "))
        .unwrap_or_else(|| panic!("no id in {out}"));
    line.rsplit(' ').next().unwrap().to_owned()
}

fn list_json(dir: &Path, filter: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["actions", "list", "--json"];
    args.extend_from_slice(filter);
    let out = stdout_of(doorstep(dir).args(&args));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["blocks"][0]["rows"].as_array().unwrap().clone()
}

/// What the store holds, to check a refused command changed nothing.
fn snapshot(dir: &Path) -> (Vec<u8>, String) {
    let journal = std::fs::read(doorstep::store::journal_path(dir)).unwrap();
    let list = stdout_of(doorstep(dir).args(["actions", "list", "--json"]));
    (journal, list)
}

#[test]
fn add_list_show_update_round_trip() {
    let dir = data_dir();
    let a = add(
        dir.path(),
        &[
            "--support",
            "Police",
            "--support",
            "Housing",
            "--problem",
            "Bags dumped",
        ],
    );
    // An action due long ago and one not due for years: overdue does not hang on today.
    let b = add(
        dir.path(),
        &[
            "--area",
            "DEMO-PAA-2",
            "--issue",
            "drugs",
            "--lead",
            "Police",
            "--agreed",
            "2019-12-01",
            "--due",
            "2020-01-31",
        ],
    );
    let rows = list_json(dir.path(), &[]);
    assert_eq!(rows.len(), 2);
    // Soonest due first.
    assert_eq!(rows[0]["id"], b.as_str());
    assert_eq!(rows[0]["area"], "DEMO-PAA-2");
    assert_eq!(rows[0]["status"], "open");
    assert!(rows[0]["overdue_days"].as_i64().unwrap() > 2000);
    assert_eq!(rows[1]["support"], serde_json::json!(["Police", "Housing"]));
    assert_eq!(rows[1]["due"], "2026-11-30");

    // Filters: agency (lead or support), area (a ward takes its PAAs; a township its
    // wards), period, status, overdue.
    let ids = |filter: &[&str]| -> Vec<String> {
        list_json(dir.path(), filter)
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&["--agency", "police"]), [b.clone(), a.clone()]);
    assert_eq!(ids(&["--agency", "housing"]), [a.as_str()]);
    assert_eq!(ids(&["--area", "E05000847"]), [b.as_str()]);
    assert_eq!(
        ids(&["--area", "DEMO Wigan Central township"]),
        [b.clone(), a.clone()]
    );
    assert_eq!(ids(&["--area", "E05000840"]), Vec::<String>::new());
    assert_eq!(ids(&["--period", "2026-Q3"]), Vec::<String>::new());
    assert_eq!(ids(&["--overdue", "--status", "open"]), [b.as_str()]);

    // Updates: each one dated and signed by the officer setting.
    let prefix = &a[..a.len() - 1];
    stdout_of(doorstep(dir.path()).args([
        "actions",
        "update",
        prefix,
        "--status",
        "in_progress",
        "--note",
        "first pick done",
        "--spend",
        "£120.50",
    ]));
    let out = stdout_of(doorstep(dir.path()).args([
        "actions",
        "update",
        &a,
        "--status",
        "done",
        "--outcome",
        "Street clear at re-audit",
        "--evidence",
        "crime:ASB down from 14 to 6",
        "--public",
        "You told us about litter on Kay Street: it is now picked weekly.",
    ]));
    assert!(out.contains("updated action"), "{out}");
    stdout_of(doorstep(dir.path()).args([
        "actions",
        "update",
        &b,
        "--escalate-to",
        "Joint Action Group",
        "--why",
        "needs a closure order",
    ]));
    let shown = stdout_of(doorstep(dir.path()).args(["actions", "show", &a, "--json"]));
    let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
    let fields = &v["blocks"][0]["fields"];
    assert_eq!(fields["status"], "done");
    assert_eq!(fields["spend"], "12050");
    assert_eq!(
        fields["evidence"],
        serde_json::json!(["recorded crime: ASB down from 14 to 6"])
    );
    assert_eq!(fields["problem"], "Bags dumped");
    let history = v["blocks"][2]["items"].as_array().unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0]["status"], "open");
    assert_eq!(history[1]["note"], "first pick done");
    assert_eq!(history[1]["spend_pence"], 12050);
    assert!(history.iter().all(|h| h["by"] == "Sgt Ada Jones"));
    let text = stdout_of(doorstep(dir.path()).args(["actions", "show", &b]));
    assert!(text.contains("to Joint Action Group on"), "{text}");
    assert!(text.contains("needs a closure order"), "{text}");
    assert!(text.contains("(overdue by "), "{text}");
    assert_eq!(ids(&["--status", "escalated"]), [b.as_str()]);
    assert_eq!(ids(&["--overdue"]), [b.as_str()], "done is never overdue");
}

#[test]
fn bad_input_exits_65_names_the_flag_and_writes_nothing() {
    let dir = data_dir();
    let id = add(dir.path(), &[]);
    let before = snapshot(dir.path());
    let cases: &[(&[&str], &str)] = &[
        (&["--area", "E09999999"], "no area with code `E09999999`"),
        (&["--area", "DEMO Wigan Central township"], "is a township"),
        (&["--area", " "], "--area is empty"),
        (
            &["--issue", "dragons"],
            "no issue `dragons` in the issue list",
        ),
        (&["--issue", ""], "--issue is empty"),
        (&["--lead", ""], "--lead is empty: give the lead agency"),
        (&["--owner", "  "], "--owner is empty"),
        (&["--support", ""], "--support is empty"),
        (&["--action", ""], "--action is empty"),
        (
            &["--due", "2026-10-04"],
            "the due date 2026-10-04 is before the agreed date 2026-10-05",
        ),
        (&["--due", "30/11/2026"], "bad date `30/11/2026` for --due"),
        (
            &["--agreed", "yesterday"],
            "bad date `yesterday` for --agreed",
        ),
        (&["--period", "2026-Q5"], "bad period `2026-Q5`"),
        (&["--from-finding", "nonsense"], "bad finding `nonsense`"),
    ];
    for (extra, message) in cases {
        let args = add_args(extra);
        let out = doorstep(dir.path()).args(&args).assert().code(65);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert_eq!(snapshot(dir.path()), before, "{extra:?} changed the store");
    }
    let updates: &[(&[&str], &str)] = &[
        (&["--status", "closed"], "unknown status `closed`"),
        (&["--status", "not_possible"], "not_possible needs --note"),
        (&["--status", "escalated"], "escalated needs --escalate-to"),
        (&[], "nothing to change"),
        (&["--spend", "lots"], "bad spend `lots`"),
        (&["--public", " "], "--public is empty"),
        (&["--evidence", "reaudit:"], "bad evidence `reaudit:`"),
        (
            &["--evidence", "reaudit:abc123"],
            "no response id starts with `abc123`",
        ),
        (
            &["--status", "done", "--escalate-to", "JAG", "--why", "x"],
            "leave --status out or give escalated, not done",
        ),
    ];
    for (extra, message) in updates {
        let mut args = vec!["actions", "update", id.as_str()];
        args.extend_from_slice(extra);
        let out = doorstep(dir.path()).args(&args).assert().code(65);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert_eq!(snapshot(dir.path()), before, "{extra:?} changed the store");
    }
    // Done back to open needs a note.
    doorstep(dir.path())
        .args(["actions", "update", &id, "--status", "done"])
        .assert()
        .success();
    let before = snapshot(dir.path());
    let out = doorstep(dir.path())
        .args(["actions", "update", &id, "--status", "open"])
        .assert()
        .code(65);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains(&format!(
            "action {id} is done: reopening it as open needs --note"
        )),
        "{stderr}"
    );
    assert_eq!(snapshot(dir.path()), before);
    doorstep(dir.path())
        .args([
            "actions",
            "update",
            &id,
            "--status",
            "open",
            "--note",
            "bags back",
        ])
        .assert()
        .success();
    // Ids that name nothing are usage errors, as for responses.
    doorstep(dir.path())
        .args(["actions", "show", "ffff"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "no action id is or starts with `ffff`",
        ));
    doorstep(dir.path())
        .args(["actions", "show", "12g"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "`12g` is not an action id: give the id, or its first characters (hex digits)",
        ));
    // Two actions added the same minute share the start of their (time-ordered) ids.
    let other = add(dir.path(), &[]);
    let common: String = id
        .chars()
        .zip(other.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    assert!(!common.is_empty(), "{id} {other}");
    let out = doorstep(dir.path())
        .args(["actions", "show", &common])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains(&format!("`{common}` is the start of 2 action ids"))
            && stderr.contains(&id)
            && stderr.contains(&other),
        "{stderr}"
    );
}

#[test]
fn without_the_officer_setting_nothing_is_added() {
    let dir = tempfile::tempdir().unwrap();
    let out = doorstep(dir.path())
        .args([
            "actions",
            "add",
            "--area",
            "E05000861",
            "--period",
            "2026-Q4",
            "--issue",
            "litter",
            "--action",
            "Pick",
            "--lead",
            "Council",
            "--owner",
            "NM",
            "--due",
            "2099-01-01",
        ])
        .assert()
        .code(65);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("doorstep config set officer"), "{stderr}");
    let rows = list_json(dir.path(), &[]);
    assert!(rows.is_empty());
}

#[test]
fn an_urgent_eva_finding_starts_an_action_and_names_it() {
    let dir = data_dir();
    let response = {
        let store = open(dir.path());
        let r = store
            .create_draft(NewResponse {
                survey_id: "eva".into(),
                survey_version: 1,
                fingerprint: "test".into(),
                area: "E05000861".into(),
                period: None,
                interviewer: "PC 1".into(),
                device: "laptop-1".into(),
                language: "en".into(),
                started_at: t0(),
            })
            .unwrap();
        store
            .record_finding(
                r.id,
                "needles",
                Finding {
                    note: Some("three in the bin".into()),
                    location: Some("rear of 22 Kay Street".into()),
                    urgent: true,
                    urgent_by_rule: true,
                    agency: Some("Council street scene".into()),
                },
            )
            .unwrap();
        r.id
    };
    let short = &response.simple().to_string()[..]; // the whole id, without dashes
    let out = stdout_of(doorstep(dir.path()).args([
        "actions",
        "add",
        "--from-finding",
        &format!("{short}/needles"),
        "--action",
        "Remove needles; sharps bin request",
        "--owner",
        "Street scene supervisor",
        "--agreed",
        "2026-10-05",
        "--due",
        "2026-10-06",
    ]));
    let id = out
        .lines()
        .find(|l| l.contains("added action "))
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    let v: serde_json::Value = serde_json::from_str(&stdout_of(
        doorstep(dir.path()).args(["actions", "show", &id, "--json"]),
    ))
    .unwrap();
    let f = &v["blocks"][0]["fields"];
    assert_eq!(f["lead"], "Council street scene");
    assert_eq!(f["area"], "E05000861");
    assert_eq!(f["period"], "2026-Q4");
    assert_eq!(
        f["issue"], "drugs",
        "needles are observed for the drugs issue"
    );
    assert_eq!(
        f["problem"],
        "EVA finding on needles, at rear of 22 Kay Street, three in the bin"
    );
    assert_eq!(f["finding"], format!("{response}/needles"));

    // The finding names the action that answers it.
    let shown = stdout_of(doorstep(dir.path()).args(["responses", "show", short]));
    assert!(shown.contains("Actions answering its findings:"), "{shown}");
    assert!(shown.contains(&id), "{shown}");

    // An item with no finding is refused, naming the items that have one.
    let before = snapshot(dir.path());
    let out = doorstep(dir.path())
        .args([
            "actions",
            "add",
            "--from-finding",
            &format!("{short}/graffiti"),
            "--action",
            "x",
            "--owner",
            "y",
            "--due",
            "2099-01-01",
        ])
        .assert()
        .code(65);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("has no finding on item `graffiti` (it has findings on needles)"),
        "{stderr}"
    );
    assert_eq!(snapshot(dir.path()), before);
}
