//! `doorstep review` and `doorstep yousaid` through the binary, on a fixture whose answer
//! is worked out by hand.

use std::path::Path;

use chrono::Duration;
use doorstep::response::{NewResponse, Status};
use doorstep::survey::registry::Registry;
use doorstep::survey::{Answer, IssueCoding};

use crate::actions_cli::{add, data_dir, doorstep, stdout_of};
use crate::store_helpers::{open, t0};

const WARD: &str = "E05000861"; // Wigan Central, in the built-in demo township

/// Twelve resident interviews in Wigan Central in 2026-Q4 (t0 is 5 October 2026):
/// litter named by 7, drugs by 6, fly-tipping by 3 (under 5: hidden), dog fouling by 1.
/// (Litter by 8 would be hidden too: the 4 who did not name it could be worked out.)
/// And one in Douglas, which the Wigan Central page must not count.
fn interviews(dir: &Path) {
    let registry = Registry::builtin().unwrap();
    let kin = registry.get("kin", Some(2)).unwrap();
    let store = open(dir);
    let q = |id: &str| kin.question(id).unwrap().clone();
    let plan: Vec<(&str, Vec<&str>)> = (0..12)
        .map(|i| {
            let mut named = Vec::new();
            if i < 7 {
                named.push("litter");
            }
            if (4..10).contains(&i) {
                named.push("drugs");
            }
            if i >= 9 {
                named.push("fly_tipping");
            }
            if i == 0 {
                named.push("dog_fouling");
            }
            (WARD, named)
        })
        .chain([("E05000847", vec!["speeding"])])
        .collect();
    for (n, (area, named)) in plan.into_iter().enumerate() {
        let at = t0() + Duration::minutes(n as i64);
        let r = store
            .create_draft(NewResponse {
                survey_id: kin.id.clone(),
                survey_version: kin.version,
                fingerprint: kin.fingerprint.clone(),
                area: area.into(),
                period: None,
                interviewer: "PC 1".into(),
                device: "laptop-1".into(),
                language: "en".into(),
                started_at: at,
            })
            .unwrap();
        for (qid, a) in [
            ("consent", Answer::YesNo(true)),
            ("age_check", Answer::Choice("aged_16_plus".into())),
            ("respondent_type", Answer::Choice("resident".into())),
            (
                "unsafe_issues",
                Answer::Issues(IssueCoding {
                    issues: named.iter().map(|s| (*s).to_owned()).collect(),
                    other: None,
                }),
            ),
        ] {
            store.record_answer(r.id, &q(qid), a, at).unwrap();
        }
        store.finalize(r.id, Status::Complete, at).unwrap();
    }
}

fn update(dir: &Path, id: &str, args: &[&str]) {
    let mut all = vec!["actions", "update", id];
    all.extend_from_slice(args);
    doorstep(dir).args(&all).assert().success();
}

/// The register for the fixture: returns (done, in hand, not possible, no public line).
fn register(dir: &Path) -> [String; 4] {
    let done = add(
        dir,
        &[
            "--issue",
            "litter",
            "--action",
            "Litter pick by Sgt Ada Jones",
        ],
    );
    update(
        dir,
        &done,
        &[
            "--status",
            "done",
            "--public",
            "Litter is now picked up every week on Kay Street.",
        ],
    );
    let in_hand = add(
        dir,
        &[
            "--area",
            "DEMO-PAA-1",
            "--issue",
            "drugs",
            "--lead",
            "Police",
            "--due",
            "2099-01-01",
        ],
    );
    update(
        dir,
        &in_hand,
        &[
            "--status",
            "in_progress",
            "--public",
            "Extra patrols in the town centre in the evenings.",
        ],
    );
    let impossible = add(dir, &["--issue", "fly_tipping"]);
    update(
        dir,
        &impossible,
        &[
            "--status",
            "not_possible",
            "--note",
            "owner of the land refuses (internal note)",
            "--public",
            "The land behind the shops is private; we have asked its owner to fence it.",
        ],
    );
    // Done, but no approved line: it must not appear on the leaflet.
    let silent = add(dir, &["--issue", "litter", "--action", "Bin audit"]);
    update(dir, &silent, &["--status", "done"]);
    // Another ward and another period: neither belongs on the Wigan Central Q4 page.
    let elsewhere = add(dir, &["--area", "E05000847", "--issue", "speeding"]);
    update(
        dir,
        &elsewhere,
        &["--public", "Speed checks on Douglas Road."],
    );
    let earlier = add(dir, &["--period", "2026-Q3", "--due", "2026-10-30"]);
    update(dir, &earlier, &["--public", "Line from the summer."]);
    [done, in_hand, impossible, silent]
}

#[test]
fn the_leaflet_tells_what_residents_said_and_what_was_done_in_english_and_polish() {
    let dir = data_dir();
    interviews(dir.path());
    register(dir.path());
    let md = stdout_of(doorstep(dir.path()).args([
        "yousaid",
        "--area",
        WARD,
        "--period",
        "2026-Q4",
        "--format",
        "md",
        "--next-meeting",
        "Tuesday 20 January 2027, 7pm, Wigan Library",
    ]));
    let expected = "\
## You said, We did: Wigan Central

In October to December 2026 police officers, council staff and partners knocked on doors in Wigan Central and asked what worried you most where you live. This is what you told us, and what we have done about it.

## You said

- Litter or rubbish lying around: 7 of the 12 residents we spoke to named this
- Drug use or dealing: 6 of the 12 residents we spoke to named this
- Fly-tipping (dumped rubbish, furniture, waste): some of the residents we spoke to named this (the number is not shown, so that no one can be identified)

## We did

- Litter is now picked up every week on Kay Street.

## In hand

- Extra patrols in the town centre in the evenings.

## What we could not do, and why

- The land behind the shops is private; we have asked its owner to fence it.

## Take part

Come to the next PACT meeting to say what should be done next: residents, police and council set the priorities together there. To report a crime call 101, or 999 in an emergency.

Next meeting: Tuesday 20 January 2027, 7pm, Wigan Library

";
    assert_eq!(md, expected);
    for private in [
        "Sgt Ada Jones",
        "internal note",
        "Bin audit",
        "Douglas",
        "summer",
        "PC 1",
    ] {
        assert!(!md.contains(private), "{private} is on the public leaflet");
    }

    let pl = stdout_of(doorstep(dir.path()).args([
        "yousaid", "--area", WARD, "--period", "2026-Q4", "--lang", "pl", "--format", "txt",
    ]));
    assert!(
        pl.contains("Wy mówiliście, my działamy: Wigan Central"),
        "{pl}"
    );
    assert!(pl.contains("W okresie październik–grudzień 2026"), "{pl}");
    assert!(pl.contains("7 z 12 mieszkańców"), "{pl}");
    assert!(pl.contains("liczby nie podajemy"), "{pl}");
    assert!(
        pl.contains("Termin następnego spotkania zostanie ogłoszony"),
        "{pl}"
    );
    // The approved lines are shown as approved (the partnership writes them per language).
    assert!(pl.contains("Litter is now picked up every week"), "{pl}");
    assert!(!pl.contains("You said"), "no English headings: {pl}");

    // The printable page: one A4 section per ward; a township gives a page per ward.
    let out = dir.path().join("leaflet.html");
    doorstep(dir.path())
        .args([
            "yousaid",
            "--area",
            "DEMO Wigan Central township",
            "--period",
            "2026-Q4",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        html.matches("<section class=\"page\">").count(),
        4,
        "four wards"
    );
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("size:A4"));
    assert!(html.contains(
        "<li>Litter or rubbish lying around: 7 of the 12 residents we spoke to named this</li>"
    ));
}

#[test]
fn leaflet_and_review_refuse_bad_input_with_exit_65() {
    let dir = data_dir();
    for (args, message) in [
        (
            vec![
                "yousaid", "--area", WARD, "--period", "2026-Q4", "--lang", "de",
            ],
            "--lang de: the leaflet is in en, pl only",
        ),
        (
            vec!["yousaid", "--area", "DEMO-PAA-1", "--period", "2026-Q4"],
            "the leaflet goes to a whole ward",
        ),
        (
            vec!["yousaid", "--area", WARD, "--period", "2026-Q7"],
            "bad period `2026-Q7`",
        ),
        (
            vec![
                "review", "--level", "ward", "--period", "2026-Q4", "--year", "26",
            ],
            "--year 26: expected a four-digit year",
        ),
        (
            vec![
                "review", "--level", "township", "--area", WARD, "--period", "2026-Q4",
            ],
            "--area: `E05000861` is a ward, not a township",
        ),
    ] {
        let out = doorstep(dir.path()).args(&args).assert().code(65);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn review_shows_overdue_done_not_possible_escalations_and_persisting_issues() {
    let dir = data_dir();
    interviews(dir.path());
    let [done, in_hand, impossible, _] = register(dir.path());
    let late = add(
        dir.path(),
        &[
            "--issue",
            "drugs",
            "--lead",
            "Police",
            "--owner",
            "Sgt X",
            "--agreed",
            "2020-01-01",
            "--due",
            "2020-01-31",
        ],
    );
    update(
        dir.path(),
        &late,
        &[
            "--escalate-to",
            "Joint Action Group",
            "--why",
            "needs a closure order",
        ],
    );
    let json = stdout_of(doorstep(dir.path()).args([
        "review", "--level", "ward", "--area", WARD, "--period", "2026-Q4", "--format", "json",
        "--year", "2026",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let table = |name: &str| -> Vec<serde_json::Value> {
        v["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == name)
            .unwrap_or_else(|| panic!("no table {name}"))["rows"]
            .as_array()
            .unwrap()
            .clone()
    };
    let ids = |name: &str| -> Vec<String> {
        table(name)
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // The fixture's 2026-Q4 actions in the ward (its PAA included): done twice (one
    // without a public line), one in progress due 2099, one not possible, one escalated
    // and overdue since 31 January 2020 (the one due 2026-11-30 is overdue or due by the
    // real date, so it is only checked for being in one of the two).
    assert!(ids("done").contains(&done));
    assert_eq!(ids("done").len(), 2);
    assert!(ids("due").contains(&in_hand));
    assert_eq!(ids("not_possible"), [impossible.as_str()]);
    assert_eq!(
        table("not_possible")[0]["reason"],
        "owner of the land refuses (internal note)"
    );
    assert!(ids("overdue").contains(&late));
    assert!(
        table("overdue")
            .iter()
            .all(|r| r["overdue_days"].as_i64().unwrap() > 0)
    );
    assert_eq!(ids("escalations"), [late.as_str()]);
    assert_eq!(
        table("escalations")[0]["escalated_to"],
        "Joint Action Group"
    );
    let police = table("by_agency")
        .into_iter()
        .find(|r| r["lead"] == "Police" && r["owner"] == "Sgt X")
        .unwrap();
    assert_eq!(
        (police["actions"].as_i64(), police["escalated"].as_i64()),
        (Some(1), Some(1))
    );
    // Only one period of fieldwork: nothing has persisted yet.
    assert!(table("recurring").is_empty());
    let year = table("year");
    assert_eq!(year.len(), 1);
    assert_eq!(year[0]["ward"], WARD);
    // litter, drugs, fly_tipping in Q4 and litter in Q3: four priorities; six actions (with the escalated one).
    assert_eq!(year[0]["priorities"], 4);
    assert_eq!(year[0]["actions"], 6);
    assert_eq!(year[0]["done"], 2);
    assert_eq!(year[0]["not_possible"], 1);

    // The same review, printable and as CSV.
    let html = stdout_of(doorstep(dir.path()).args([
        "review", "--level", "township", "--period", "2026-Q4", "--format", "html",
    ]));
    assert!(
        html.contains("<h2>DEMO Wigan Central township</h2>"),
        "{html}"
    );
    assert!(html.contains("needs a closure order"));
    let csv = stdout_of(doorstep(dir.path()).args([
        "review", "--level", "ward", "--area", WARD, "--period", "2026-Q4", "--format", "csv",
    ]));
    assert!(
        csv.starts_with("area,id,issue,action,lead,owner,due,overdue_by,overdue_days,status\n"),
        "{csv}"
    );
}

#[test]
fn an_issue_raised_two_quarters_running_with_no_action_done_is_flagged() {
    let dir = data_dir();
    interviews(dir.path());
    // The same interviews again in the quarter before (2026-Q3).
    {
        let registry = Registry::builtin().unwrap();
        let kin = registry.get("kin", Some(2)).unwrap();
        // Its own id sequence (the helper's starts at t0 and would reuse the ids above).
        let store = doorstep::store::Store::open_with(
            dir.path(),
            doorstep::response::Env::manual(t0() - Duration::days(30)).0,
        )
        .unwrap();
        for n in 0..12 {
            let at = t0() - Duration::days(30) + Duration::minutes(n);
            let r = store
                .create_draft(NewResponse {
                    survey_id: kin.id.clone(),
                    survey_version: kin.version,
                    fingerprint: kin.fingerprint.clone(),
                    area: WARD.into(),
                    period: None,
                    interviewer: "PC 1".into(),
                    device: "laptop-1".into(),
                    language: "en".into(),
                    started_at: at,
                })
                .unwrap();
            let named: Vec<String> = if n < 8 {
                vec!["litter".into(), "drugs".into()]
            } else {
                vec!["fly_tipping".into()]
            };
            for (qid, a) in [
                ("consent", Answer::YesNo(true)),
                ("age_check", Answer::Choice("aged_16_plus".into())),
                ("respondent_type", Answer::Choice("resident".into())),
                (
                    "unsafe_issues",
                    Answer::Issues(IssueCoding {
                        issues: named,
                        other: None,
                    }),
                ),
            ] {
                store
                    .record_answer(r.id, kin.question(qid).unwrap(), a, at)
                    .unwrap();
            }
            store.finalize(r.id, Status::Complete, at).unwrap();
        }
    }
    // Litter has an action done; drugs has one in hand only.
    let litter = add(dir.path(), &["--issue", "litter"]);
    update(dir.path(), &litter, &["--status", "done"]);
    add(dir.path(), &["--issue", "drugs", "--due", "2099-01-01"]);
    let json = stdout_of(doorstep(dir.path()).args([
        "review", "--level", "ward", "--area", WARD, "--period", "2026-Q4", "--format", "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let recurring = v["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "recurring")
        .unwrap()["rows"]
        .as_array()
        .unwrap()
        .clone();
    let issues: Vec<&str> = recurring
        .iter()
        .map(|r| r["issue"].as_str().unwrap())
        .collect();

    // Both quarters' top three: litter and drugs (and fly-tipping, 4 of 12 then 3 of 12);
    // litter had an action done, so drugs and fly-tipping are the ones flagged.
    assert!(issues.contains(&"drugs"), "{recurring:?}");
    assert!(!issues.contains(&"litter"), "{recurring:?}");
    let drugs = recurring.iter().find(|r| r["issue"] == "drugs").unwrap();
    assert_eq!(drugs["periods"], 2);
    assert_eq!(drugs["actions_not_done"], 1);
}
