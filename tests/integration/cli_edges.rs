//! Shell completions and the manual page, through the real binary.

use assert_cmd::Command;
use predicates::prelude::*;

fn doorstep() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_doorstep"));
    cmd.env_remove("DOORSTEP_DATA_DIR");
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

#[test]
fn completions_name_every_subcommand_in_each_shell() {
    let bash = stdout_of(doorstep().args(["completions", "bash"]));
    assert!(bash.contains("complete -F _doorstep"), "{bash}");
    for sub in [
        "survey",
        "config",
        "responses",
        "recover",
        "areas",
        "crime",
        "man",
    ] {
        assert!(bash.contains(sub), "bash completion lacks {sub}");
    }
    // Nested subcommands and their flags are completed too.
    assert!(bash.contains("--grid-ref"));

    let zsh = stdout_of(doorstep().args(["completions", "zsh"]));
    assert!(zsh.starts_with("#compdef doorstep"), "{zsh}");
    assert!(zsh.contains("'recover:"));

    let fish = stdout_of(doorstep().args(["completions", "fish"]));
    assert!(fish.contains("complete -c doorstep"));
    assert!(fish.contains("-a \"survey\""));

    let ps = stdout_of(doorstep().args(["completions", "powershell"]));
    assert!(ps.contains("Register-ArgumentCompleter"));
    assert!(ps.contains("'survey'"));
}

#[test]
fn completions_for_an_unknown_or_missing_shell_are_a_usage_error() {
    doorstep()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "invalid value 'tcsh' for '<SHELL>'",
        ))
        .stderr(predicate::str::contains("possible values: bash"));
    doorstep()
        .args(["completions"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "required arguments were not provided",
        ));
}

#[test]
fn man_page_to_standard_output() {
    let page = stdout_of(doorstep().arg("man"));
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &page[..80.min(page.len())]
    );
    assert!(page.contains(".TH doorstep 1"), "{page}");
    assert!(page.contains(".SH SUBCOMMANDS"));
    assert!(page.contains("doorstep\\-completions"));
}

#[test]
fn man_pages_into_a_folder_one_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let listed = stdout_of(doorstep().arg("man").arg("--out").arg(&out));
    let top = out.join("doorstep.1");
    assert!(
        listed.lines().any(|l| l == top.display().to_string()),
        "{listed}"
    );
    let check = out.join("doorstep-survey-check.1");
    assert!(
        listed.lines().any(|l| l == check.display().to_string()),
        "{listed}"
    );
    assert_eq!(
        listed.lines().count(),
        std::fs::read_dir(&out).unwrap().count()
    );
    let page = std::fs::read_to_string(check).unwrap();
    assert!(
        page.starts_with(".ie") && page.contains(".TH doorstep-survey-check 1"),
        "{page}"
    );
}

#[test]
fn man_into_a_file_says_which_path_failed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "keep me").unwrap();
    doorstep()
        .arg("man")
        .arg("--out")
        .arg(&file)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(file.display().to_string()));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}
