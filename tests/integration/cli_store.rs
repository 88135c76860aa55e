//! The store commands through the real binary: config, keys, responses, recover.

use std::path::Path;

use assert_cmd::Command;
use chrono::Duration;
use doorstep::response::{SettingKey, Status};
use doorstep::store::{STORE_DIR, journal_path};
use doorstep::survey::Answer;
use doorstep::survey::registry::Registry;
use predicates::prelude::*;

use crate::store_helpers::{kin_draft_sealed_to, new_response, open, t0, text_question};

fn doorstep(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_doorstep"));
    cmd.env_remove("DOORSTEP_DATA_DIR")
        .arg("--data-dir")
        .arg(dir);
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

#[test]
fn config_set_and_get() {
    let dir = tempfile::tempdir().unwrap();
    doorstep(dir.path())
        .args(["config", "set", "officer", "PC 1234"])
        .assert()
        .success()
        .stdout("officer set to PC 1234\n");
    doorstep(dir.path())
        .args(["config", "get", "officer"])
        .assert()
        .success()
        .stdout("PC 1234\n");
    doorstep(dir.path())
        .args(["config", "get", "device"])
        .assert()
        .code(1)
        .stderr("doorstep: device is not set (doorstep config set device VALUE)\n");
    let all = stdout_of(doorstep(dir.path()).args(["config", "get"]));
    assert_eq!(
        all,
        "officer    PC 1234\ndevice     (not set)\nrecipient  (not set)\nlanguage   (not set)\narea       (not set)\n"
    );
}

#[test]
fn bad_config_values_exit_65_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    doorstep(dir.path())
        .args(["config", "set", "language", "en"])
        .assert()
        .success();
    let journal_before = std::fs::read(journal_path(dir.path())).unwrap();
    doorstep(dir.path())
        .args(["config", "set", "recipient", "age1notarealkey"])
        .assert()
        .code(65)
        .stderr(predicate::str::starts_with(
            "doorstep: bad recipient `age1notarealkey`: not an age X25519 recipient",
        ));
    doorstep(dir.path())
        .args(["config", "set", "language", "English"])
        .assert()
        .code(65)
        .stderr(predicate::str::contains(
            "bad language `English`: expected a two- or three-letter ISO 639 code",
        ));
    doorstep(dir.path())
        .args(["config", "set", "area", "Kay Street!"])
        .assert()
        .code(65)
        .stderr(predicate::str::contains(
            "bad area `Kay Street!`: expected an area code such as E05000841 or DEMO-PAA-1",
        ));
    doorstep(dir.path())
        .args(["config", "set", "colour", "blue"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown setting `colour`: expected officer, device, recipient, language or area",
        ));
    assert_eq!(
        std::fs::read(journal_path(dir.path())).unwrap(),
        journal_before
    );
    doorstep(dir.path())
        .args(["config", "get", "language"])
        .assert()
        .success()
        .stdout("en\n");
    doorstep(dir.path())
        .args(["config", "get", "recipient"])
        .assert()
        .code(1);
}

#[test]
fn keys_new_writes_an_identity_and_prints_its_recipient() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("coordinator.key");
    let out = stdout_of(
        doorstep(dir.path())
            .args(["keys", "new", "--out"])
            .arg(&key),
    );
    let recipient = out.trim();
    assert!(recipient.starts_with("age1"), "{out}");
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.contains(&format!("# public key: {recipient}")));
    let identity = doorstep::seal::CoordinatorIdentity::from_file_text(&text).unwrap();
    assert_eq!(identity.recipient().to_string(), recipient);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The printed recipient is what the device takes.
    doorstep(dir.path())
        .args(["config", "set", "recipient", recipient])
        .assert()
        .success();
    // Never overwrites an identity.
    doorstep(dir.path())
        .args(["keys", "new", "--out"])
        .arg(&key)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exists; not overwriting"));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), text);
}

#[test]
fn responses_list_filters_and_rejects_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = {
        let store = open(dir.path());
        let q = text_question("q1", false);
        let a = store.create_draft(new_response("E05000650", t0())).unwrap();
        store
            .record_answer(a.id, &q, Answer::Count(2), t0())
            .unwrap();
        store
            .finalize(a.id, Status::Complete, t0() + Duration::minutes(30))
            .unwrap();
        let b = store.create_draft(new_response("E05000651", t0())).unwrap();
        (a, b)
    };
    let all = stdout_of(doorstep(dir.path()).args(["responses", "list"]));
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 4, "{all}");
    assert!(lines[0].starts_with("ID "), "{all}");
    for col in [
        "SURVEY", "AREA", "PERIOD", "STATUS", "OFFICER", "CHANGED", "ANSWERS", "REPLACES",
    ] {
        assert!(lines[0].contains(col), "{all}");
    }
    assert!(lines[1].starts_with(&a.id.to_string()));
    assert!(
        lines[1].contains("kin v1")
            && lines[1].contains("2026-Q4")
            && lines[1].contains("complete")
    );
    // 09:30 UTC, shown in UK summer time.
    assert!(lines[1].contains("2026-10-05 10:30"));
    assert!(lines[2].starts_with(&b.id.to_string()) && lines[2].contains("draft"));
    assert_eq!(lines[3], "2 response(s)");

    let complete =
        stdout_of(doorstep(dir.path()).args(["responses", "list", "--status", "complete"]));
    assert!(complete.contains(&a.id.to_string()) && !complete.contains(&b.id.to_string()));
    let area = stdout_of(doorstep(dir.path()).args(["responses", "list", "--area", "e05000651"]));
    assert!(area.contains(&b.id.to_string()) && !area.contains(&a.id.to_string()));
    let none = stdout_of(doorstep(dir.path()).args(["responses", "list", "--period", "2026-Q3"]));
    assert_eq!(none, "no responses\n");

    for (args, message) in [
        (
            vec!["--status", "done"],
            "unknown status `done`: expected draft, complete, refused or abandoned",
        ),
        (
            vec!["--period", "2026-Q5"],
            "bad period `2026-Q5`: the quarter must be Q1, Q2, Q3 or Q4",
        ),
        (
            vec!["--period", "Q4"],
            "bad period `Q4`: expected YEAR-QN, such as 2026-Q4",
        ),
    ] {
        doorstep(dir.path())
            .args(["responses", "list"])
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    doorstep(dir.path())
        .args(["responses", "show", "not-a-uuid"])
        .assert()
        .code(2)
        .stderr(
            "doorstep: `not-a-uuid` is not a response id: give the id, or its first characters as shown in the app (hex digits)\n",
        );
    let missing = uuid::Uuid::from_u128(5);
    doorstep(dir.path())
        .args(["responses", "show", &missing.to_string()])
        .assert()
        .code(2)
        .stderr(format!("doorstep: no response with id {missing}\n"));
}

#[test]
fn responses_show_lists_answers_in_survey_order_with_personal_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::builtin().unwrap();
    let kin = registry.get("kin", None).unwrap();
    let identity = doorstep::seal::CoordinatorIdentity::generate();
    let answerable: Vec<&doorstep::survey::Question> = kin
        .questions
        .iter()
        .filter(|q| !q.personal && !matches!(q.kind, doorstep::survey::QuestionKind::Note))
        .take(3)
        .collect();
    let name = kin.question("contact_name").unwrap();
    let (id, unknown) = {
        let store = open(dir.path());
        let r = kin_draft_sealed_to(&store, kin, &identity);
        // Answered out of survey order.
        store
            .record_answer(
                r.id,
                name,
                Answer::Text("Mary Ashworth-Tolland".into()),
                t0(),
            )
            .unwrap();
        for q in answerable.iter().rev() {
            store
                .record_answer(r.id, q, Answer::Text(format!("answer to {}", q.id)), t0())
                .unwrap();
        }
        store.set_position(r.id, &answerable[2].id).unwrap();
        let u = store.create_draft(new_response("E05000650", t0())).unwrap();
        store
            .record_answer(u.id, &text_question("zeta", false), Answer::Count(1), t0())
            .unwrap();
        store
            .record_answer(u.id, &text_question("alpha", false), Answer::Count(2), t0())
            .unwrap();
        (r.id, u.id)
    };

    let assert = doorstep(dir.path())
        .args(["responses", "show", &id.to_string()])
        .assert()
        .success();
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(assert.get_output().stderr.is_empty());
    assert!(out.starts_with(&format!("response   {id}\n")), "{out}");
    assert!(out.contains(&format!(
        "survey     kin v{} (fingerprint {})",
        kin.version, kin.fingerprint
    )));
    assert!(out.contains(&format!("resume at  {}", answerable[2].id)));
    let positions: Vec<usize> = answerable
        .iter()
        .map(|q| {
            out.find(&format!("{}: {}", q.id, q.text.get("en")))
                .unwrap_or_else(|| panic!("{} in {out}", q.id))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "survey order: {out}"
    );
    let name_at = out.find("contact_name: Name").unwrap();
    assert!(name_at > positions[2]);
    assert!(
        out[name_at..].starts_with("contact_name: Name\n  = sealed  [given 2026-10-05 10:00]"),
        "{out}"
    );
    assert!(!out.contains("Ashworth"));

    // A survey this device does not know: question-id order, with a warning.
    doorstep(dir.path())
        .args(["responses", "show", &unknown.to_string()])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning: survey kin v1 with fingerprint test-fingerprint is unknown",
        ))
        .stdout(predicate::function(|out: &str| {
            out.find("alpha\n  = 2").unwrap() < out.find("zeta\n  = 1").unwrap()
        }));
}

#[test]
fn commands_fail_fast_while_another_process_holds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let _held = open(dir.path());
    for args in [
        vec!["config", "get"],
        vec!["responses", "list"],
        vec!["recover"],
    ] {
        doorstep(dir.path())
            .args(&args)
            .assert()
            .code(75)
            .stderr(format!(
                "doorstep: doorstep is already running on {} (pid {})\n",
                dir.path().display(),
                std::process::id()
            ));
    }
}

#[test]
fn recover_command_rebuilds_and_reports_corrupt_lines() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = open(dir.path());
        let r = store.create_draft(new_response("E05000650", t0())).unwrap();
        store.finalize(r.id, Status::Complete, t0()).unwrap();
        store.set_setting(SettingKey::Device, "laptop-3").unwrap();
        r.id
    };
    let journal = journal_path(dir.path());
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str("sha256:00 {\"half\n");
    std::fs::write(&journal, text).unwrap();
    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();

    doorstep(dir.path())
        .args(["responses", "list"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "is missing but the journal has records (run `doorstep recover`",
        ));
    let out = stdout_of(doorstep(dir.path()).arg("recover"));
    assert!(
        out.starts_with("store: missing; rebuilt from the journal\n"),
        "{out}"
    );
    assert!(out.contains("4 line(s) read"), "{out}");
    assert!(out.contains("3 good, 1 corrupt"), "{out}");
    assert!(
        out.contains(
            "restored: 1 finalized (1 complete), 0 draft(s), 0 door(s), 0 knock(s), 1 setting(s)"
        ),
        "{out}"
    );
    assert!(
        out.contains("skipped corrupt journal line 4: the checksum is not 64 hex digits"),
        "{out}"
    );
    let list = stdout_of(doorstep(dir.path()).args(["responses", "list"]));
    assert!(list.contains(&id.to_string()), "{list}");
    doorstep(dir.path())
        .args(["config", "get", "device"])
        .assert()
        .success()
        .stdout("laptop-3\n");
}

#[test]
fn unusable_paths_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    doorstep(&file)
        .args(["config", "get"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(format!(
            "doorstep: {}",
            file.display()
        )));
    let nowhere = dir.path().join("missing").join("coordinator.key");
    doorstep(dir.path())
        .args(["keys", "new", "--out"])
        .arg(&nowhere)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with(format!(
            "doorstep: {}",
            nowhere.display()
        )));
    assert!(!nowhere.exists());
}

#[test]
fn responses_show_takes_a_unique_short_id_and_list_takes_a_ward_or_township() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::builtin().unwrap();
    let kin = registry.get("kin", None).unwrap();
    let (a, b, c) = {
        let store = open(dir.path());
        let new = |area: &str| {
            let mut n = new_response(area, t0());
            n.fingerprint = kin.fingerprint.clone();
            store.create_draft(n).unwrap()
        };
        // A PAA inside ward E05000861, the ward itself, and a ward elsewhere.
        let (a, b, c) = (new("DEMO-PAA-1"), new("E05000861"), new("E05000857"));
        let q = kin.question("respondent_type").unwrap();
        store
            .record_answer(a.id, q, Answer::Choice("resident".into()), t0())
            .unwrap();
        let consent = kin.question("consent").unwrap();
        store
            .record_answer(a.id, consent, Answer::YesNo(true), t0())
            .unwrap();
        (a.id, b.id, c.id)
    };
    // The whole id without hyphens, in capitals, is still a unique start.
    let full = a.simple().to_string().to_uppercase();
    let out = stdout_of(doorstep(dir.path()).args(["responses", "show", &full]));
    // The first line names the response (aligned as the fields shown need).
    let first: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(first, ["response", a.to_string().as_str()], "{out}");
    // Labels, not stored values.
    assert!(
        out.contains("  = Someone who lives here (resident)  [given"),
        "{out}"
    );
    assert!(out.contains("  = Yes  [given"), "{out}");
    assert!(!out.contains("= resident"), "{out}");
    // These ids were made in the same millisecond: their first 8 characters are shared.
    let short = &a.to_string()[..8];
    doorstep(dir.path())
        .args(["responses", "show", short])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "doorstep: `{short}` is the start of 3 response ids ({a}, {b}, {c}): give more of the id"
        )));
    doorstep(dir.path())
        .args(["responses", "show", "fff"])
        .assert()
        .code(2)
        .stderr("doorstep: no response id starts with `fff`\n");

    let ids = |args: &[&str]| -> Vec<String> {
        let out = stdout_of(doorstep(dir.path()).args(["responses", "list"]).args(args));
        [a, b, c]
            .iter()
            .map(|id| id.to_string())
            .filter(|id| out.contains(id.as_str()))
            .collect()
    };
    // A ward takes in its PAAs; a township its wards and their PAAs; a PAA only itself.
    assert_eq!(
        ids(&["--area", "E05000861"]),
        [a.to_string(), b.to_string()]
    );
    assert_eq!(ids(&["--area", "demo-paa-1"]), [a.to_string()]);
    assert_eq!(
        ids(&["--area", "DEMO Wigan Central township"]),
        [a.to_string(), b.to_string(), c.to_string()]
    );
    assert!(ids(&["--area", "E05999999"]).is_empty());

    // The same for machines: --json lists only the ward's responses, and the id typed as
    // above shows the response with its answers by label and by stored value.
    let json = |args: &[&str]| -> serde_json::Value {
        let out = stdout_of(doorstep(dir.path()).args(args));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}"))
    };
    let listed = json(&["responses", "list", "--area", "E05000861", "--json"]);
    let listed: Vec<&str> = crate::crime::block(&listed, "responses")["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(listed, [a.to_string(), b.to_string()]);
    let shown = json(&["responses", "show", &full, "--json"]);
    assert_eq!(
        crate::crime::block(&shown, "response")["fields"]["id"],
        a.to_string()
    );
    let answers = crate::crime::block(&shown, "answers")["items"]
        .as_array()
        .unwrap();
    let resident = answers
        .iter()
        .find(|i| i["question"] == "respondent_type")
        .unwrap();
    assert_eq!(resident["answer"], "resident");
    assert_eq!(
        resident["answer_label"],
        "Someone who lives here (resident)"
    );
}
