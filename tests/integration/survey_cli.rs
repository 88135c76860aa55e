//! `doorstep survey …` through the real binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn doorstep(data_dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("doorstep").unwrap();
    cmd.env("DOORSTEP_DATA_DIR", data_dir)
        .env_remove("NO_COLOR");
    cmd
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn the_builtin_surveys_pass_check_with_zero_warnings() {
    let dir = tempfile::tempdir().unwrap();
    doorstep(dir.path())
        .args(["survey", "check"])
        .arg(repo("surveys"))
        .assert()
        .success()
        .stdout("checked 8 file(s): 5 survey(s) ok, 0 error(s), 0 warning(s)\n");
}

#[test]
fn check_reports_every_problem_in_one_run_with_file_line_col_and_exit_65() {
    let dir = tempfile::tempdir().unwrap();
    let a = repo("tests/fixtures/surveys/invalid/show_if_later_question.toml");
    let b = repo("tests/fixtures/surveys/invalid/unknown_key.toml");
    let out = doorstep(dir.path())
        .args(["survey", "check"])
        .arg(&a)
        .arg(&b)
        .assert()
        .code(65);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains(&format!(
            "{}:31:32: error: question `early` show_if: refers to `late`",
            a.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{}:31:1: error: unknown field `requried`",
            b.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("checked 2 file(s): 0 survey(s) ok, 2 error(s), 0 warning(s)\n"),
        "{stdout}"
    );
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr, "doorstep: 2 error(s) in survey definitions\n");
}

#[test]
fn check_a_folder_takes_every_toml_in_it() {
    let dir = tempfile::tempdir().unwrap();
    doorstep(dir.path())
        .args(["survey", "check"])
        .arg(repo("tests/fixtures/surveys/invalid"))
        .assert()
        .code(65)
        .stdout(
            predicate::str::contains("error(s)").and(predicate::str::contains(
                "no_sections.toml:1:1: error: the survey has no sections",
            )),
        );
}

#[test]
fn check_reports_missing_and_non_utf8_files() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("latin1.toml");
    std::fs::write(&bad, b"id = \"caf\xe9\"\n").unwrap();
    let missing = dir.path().join("nope.toml");
    doorstep(dir.path())
        .args(["survey", "check"])
        .arg(&missing)
        .arg(&bad)
        .assert()
        .code(65)
        .stdout(predicate::str::contains(format!(
            "{}:1:1: error: cannot read:",
            missing.display()
        )))
        .stdout(predicate::str::contains(format!(
            "{}:1:10: error: the file is not valid UTF-8 text",
            bad.display()
        )));
}

#[test]
fn check_without_paths_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    doorstep(dir.path())
        .args(["survey", "check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("PATH"));
}

#[test]
fn list_shows_builtins_and_data_dir_surveys_with_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    let surveys = dir.path().join("surveys");
    std::fs::create_dir_all(&surveys).unwrap();
    std::fs::copy(
        repo("tests/fixtures/surveys/valid/minimal.toml"),
        surveys.join("minimal.toml"),
    )
    .unwrap();
    std::fs::copy(
        repo("tests/fixtures/surveys/invalid/unknown_kind.toml"),
        surveys.join("broken.toml"),
    )
    .unwrap();
    let out = doorstep(dir.path())
        .args(["survey", "list"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "ID",
            "VERSION",
            "KIND",
            "TITLE",
            "QUESTIONS",
            "FINGERPRINT",
            "SOURCE"
        ]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("kin ") && l.ends_with("built-in")),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("eva ") && l.ends_with("built-in")),
        "{stdout}"
    );
    let minimal = lines
        .iter()
        .find(|l| l.starts_with("minimal"))
        .expect("data-dir survey listed");
    assert!(
        minimal.contains(" 1 ")
            && minimal.ends_with(&surveys.join("minimal.toml").display().to_string()),
        "{minimal}"
    );
    // The broken file is named on stderr and does not stop the listing.
    out.stderr(predicate::str::contains(
        "broken.toml:29:8: error: question `rating`: unknown kind `slider`",
    ));
}

#[test]
fn a_data_dir_survey_overrides_the_builtin_with_the_same_id_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let surveys = dir.path().join("surveys");
    std::fs::create_dir_all(&surveys).unwrap();
    let kin = std::fs::read_to_string(repo("surveys/kin.toml")).unwrap();
    let changed = kin.replacen(
        "title = {",
        "title = { en = \"Local KIN\", pl = \"Lokalny KIN\" }\nold_title = {",
        1,
    );
    // Replace the title line wholesale so the file stays valid.
    let changed: String = changed
        .lines()
        .filter(|l| !l.starts_with("old_title"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(surveys.join("kin.toml"), changed).unwrap();
    let out = doorstep(dir.path())
        .args(["survey", "list"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    // Version 1 is replaced by the file; the built-in version 2 stays.
    let kin_rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("kin ")).collect();
    assert_eq!(kin_rows.len(), 2, "{stdout}");
    assert!(
        kin_rows[0].contains(" 1 ")
            && kin_rows[0].contains("Local KIN")
            && kin_rows[0].ends_with("kin.toml"),
        "{stdout}"
    );
    assert!(
        kin_rows[1].contains(" 2 ") && kin_rows[1].ends_with("built-in"),
        "{stdout}"
    );
}

#[test]
fn show_prints_the_paper_questionnaire_with_conditions_in_words() {
    let dir = tempfile::tempdir().unwrap();
    // Version 1 as released (its numbering does not move).
    let out = doorstep(dir.path())
        .args(["survey", "show", "kin", "--version", "1"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.starts_with("KIN doorstep interview\nkin v1 (kin)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Ask only if: Q2 is \"Yes\" and Q4 is \"Other (e.g. passes through regularly)\""
        ),
        "conditions name choices by their labels: {stdout}"
    );
    assert!(stdout.contains("( ) A very big problem"), "{stdout}");
    assert!(
        stdout.contains("personal — sealed for the coordinator"),
        "{stdout}"
    );
}

#[test]
fn show_in_polish_translates_the_form() {
    let dir = tempfile::tempdir().unwrap();
    doorstep(dir.path())
        .args(["survey", "show", "eva", "--lang", "pl"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Pytaj tylko, jeśli").and(predicate::str::contains("( ) B+")),
        );
    doorstep(dir.path())
        .args(["survey", "show", "kin", "--version", "1", "--lang", "pl"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Pytaj tylko, jeśli: Q2 to \"Tak\" i Q4 to \"Inne",
        ));
}

#[test]
fn show_rejects_unknown_surveys_versions_and_languages() {
    let dir = tempfile::tempdir().unwrap();
    doorstep(dir.path())
        .args(["survey", "show", "census"])
        .assert()
        .code(2)
        .stderr("doorstep: no survey with id `census`\n");
    doorstep(dir.path())
        .args(["survey", "show", "kin", "--version", "9"])
        .assert()
        .code(2)
        .stderr("doorstep: no survey with id `kin` and version 9\n");
    doorstep(dir.path())
        .args(["survey", "show", "kin", "--lang", "xx"])
        .assert()
        .code(2)
        .stderr("doorstep: survey `kin` is not offered in `xx` (it offers: en, pl)\n");
    doorstep(dir.path())
        .args(["survey", "show", "kin", "--version", "one"])
        .assert()
        .code(2);
}
