//! The real binary in a pseudo-terminal, from plain `cargo test`: a whole KIN interview and
//! a whole EVA to finalize, and SIGKILL in the middle of an interview with every answer
//! given before the kill still there after a restart.

use std::path::Path;

use assert_cmd::Command;

use crate::pty::{CTRL_S, ENTER, ESC, Tui};

fn doorstep(data_dir: &Path, args: &[&str]) -> String {
    let out = Command::cargo_bin("doorstep")
        .unwrap()
        .env("DOORSTEP_DATA_DIR", data_dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "doorstep {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A device already set up, working in the demo PAA in Douglas.
fn set_up(data_dir: &Path) {
    doorstep(data_dir, &["config", "set", "officer", "PC 4521"]);
    doorstep(data_dir, &["config", "set", "device", "WIGAN-NPT-07"]);
    doorstep(data_dir, &["config", "set", "area", "DEMO-PAA-2"]);
}

/// Home → door log → add 12 Kay Street → interview.
fn start_kin_at_door(tui: &mut Tui) {
    tui.wait_text("Start an interview or audit");
    tui.send("1");
    tui.wait_text("Start which?");
    tui.send("1");
    tui.wait_text("press a to add the first one");
    tui.send("a");
    tui.wait_text("New door");
    tui.send("Kay Street");
    tui.send(ENTER);
    tui.wait_text("house number or name");
    tui.send("12");
    tui.send(ENTER);
    tui.wait_text("Kay Street");
    tui.send("i");
    tui.wait_text("Enter to continue");
}

/// A set-up device with a KIN interview started at a door, consent given and the
/// respondent 16 or over.
fn consented_kin(data_dir: &Path) -> Tui {
    set_up(data_dir);
    let mut tui = Tui::start(data_dir);
    start_kin_at_door(&mut tui);
    tui.step(ENTER);
    tui.wait_text("Are you happy to take part?");
    tui.step("1");
    tui.wait_text("are you aged 16 or over?");
    tui.step("1");
    tui
}

/// Answers whatever question is on screen with something valid; returns false at the review.
fn answer_current(tui: &mut Tui) -> bool {
    let s = tui.screen();
    if s.contains("Review: Enter changes an answer") {
        return false;
    }
    if s.contains("Enter to continue") {
        tui.step(ENTER);
    } else if s.contains("1-9 tick") || s.contains("1-9 rank next") {
        tui.step("1");
        tui.step(ENTER);
    } else if s.contains("1-9 pick") {
        tui.step("1");
    } else if s.contains("Item ") && s.contains("Urg") {
        // The EVA checklist: Enter walks down the rows and out of the table.
        tui.step(ENTER);
    } else if s.contains("YYYY")
        || s.contains("HH:MM")
        || s.contains("time as")
        || s.contains("date as")
    {
        tui.step(ENTER); // dates and times start at now
    } else if s.contains("choose the form") {
        tui.send(if s.contains("(•) fixed reference") {
            "lamp column 14"
        } else if s.contains("(•) OS grid reference") {
            "SD 5760 0540"
        } else {
            "53.5451, -2.6325"
        });
        tui.settle();
        tui.step(ENTER);
    } else if s.contains("[required]") || s.contains("how many") || s.contains("number") {
        tui.send("3");
        tui.settle();
        tui.step(ENTER);
    } else {
        tui.step(CTRL_S);
    }
    true
}

#[test]
fn a_whole_kin_interview_to_finalize_through_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    let mut tui = consented_kin(dir.path());
    let mut steps = 0;
    while answer_current(&mut tui) {
        steps += 1;
        assert!(steps < 150, "the interview did not end:\n{}", tui.screen());
    }
    tui.send("f");
    let s = tui.wait_text("Interview finalized and journaled");
    assert!(
        s.contains("Door log"),
        "finalizing returns to the door log:\n{s}"
    );
    assert!(s.contains("interviewed 1"), "{s}");
    tui.send(ESC);
    tui.wait_text("Start an interview or audit");
    tui.send("q");
    assert_eq!(tui.wait_exit(), 0);
    let list = doorstep(dir.path(), &["responses", "list", "--status", "complete"]);
    assert_eq!(
        list.lines().filter(|l| l.contains("kin")).count(),
        1,
        "{list}"
    );
    assert!(list.contains("DEMO-PAA-2"), "{list}");
}

#[test]
fn a_whole_eva_to_finalize_through_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    set_up(dir.path());
    let mut tui = Tui::start(dir.path());
    tui.wait_text("Start an interview or audit");
    tui.send("1");
    tui.wait_text("Start which?");
    tui.send("3");
    tui.wait_text("Transect id");
    for text in [
        "PEM-014",
        "Kay Street",
        "junction with Bell Lane",
        "lamp column 14",
    ] {
        tui.send(text);
        tui.settle();
        tui.step(ENTER);
    }
    // Grade the first item on the way through the checklist.
    let mut graded = false;
    let mut steps = 0;
    loop {
        let s = tui.screen();
        if !graded && s.contains("Litter and refuse") && s.contains("Urg") {
            tui.step("c");
            tui.step("u");
            graded = true;
        }
        if !answer_current(&mut tui) {
            break;
        }
        steps += 1;
        assert!(steps < 150, "the audit did not end:\n{}", tui.screen());
    }
    assert!(graded, "the checklist was shown");
    let s = tui.screen();
    assert!(
        s.contains("! URGENT: Litter and refuse (C)"),
        "urgent items are summarised before finalizing:\n{s}"
    );
    tui.send("f");
    tui.wait_text("Audit finalized and journaled");
    tui.send("q");
    assert_eq!(tui.wait_exit(), 0);
    let list = doorstep(dir.path(), &["responses", "list", "--status", "complete"]);
    assert_eq!(
        list.lines().filter(|l| l.contains("eva")).count(),
        1,
        "{list}"
    );
}

#[test]
fn sigkill_mid_interview_then_restart_and_resume_with_every_answer_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut tui = consented_kin(dir.path());
    tui.wait_text("Are you talking to us mainly as");
    tui.step("2"); // business
    tui.wait_text("How long have you lived or worked");
    tui.step("3"); // 5 years to less than 10 years
    // The next question is on screen, so the last answer was acknowledged: kill now.
    let before = tui.wait_text("Thinking about your local area");
    assert!(before.contains("of about"), "{before}");
    tui.sigkill();
    drop(tui);

    // Straight after the kill, the store opens (the lock died with the process) and holds
    // every answer given.
    let list = doorstep(dir.path(), &["responses", "list", "--status", "draft"]);
    let id = list
        .lines()
        .find(|l| l.contains("kin"))
        .and_then(|l| l.split_whitespace().next())
        .expect("the draft is listed")
        .to_owned();
    let shown = doorstep(dir.path(), &["responses", "show", &id]);
    for expected in ["consent", "age_check", "respondent_type", "time_in_area"] {
        assert!(
            shown.contains(expected),
            "{expected} missing after the kill:\n{shown}"
        );
    }
    // Shown by their labels, not their stored values.
    assert!(
        shown.contains("= Someone who runs or works in a local business")
            && shown.contains("= 5 years to less than 10 years")
            && !shown.contains("years_5_to_under_10"),
        "{shown}"
    );

    // Restart, resume from Drafts: back at the question after the last answer.
    let mut tui = Tui::start(dir.path());
    let home = tui.wait_text("Resume drafts and call-backs (1)");
    // Replaying what sled had not flushed when killed is routine: no alarm on screen.
    assert!(
        !home.contains("damage") && !home.contains("crash") && !home.contains("replayed"),
        "{home}"
    );
    tui.send("2");
    tui.wait_text("Drafts");
    tui.send("1");
    let s = tui.wait_text("Thinking about your local area");
    assert!(s.contains("Resumed where it was left"), "{s}");
    // ← shows the earlier answer still selected.
    let s = tui.step("\x1b[D");
    assert!(s.contains("(•) 5 years to less than 10 years"), "{s}");
    tui.send(ESC);
    tui.wait_text("Kept as a draft");
}

#[test]
fn sigterm_restores_the_terminal_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut tui = consented_kin(dir.path());
    tui.wait_text("Are you talking to us mainly as");
    assert!(tui.on_alternate_screen());
    tui.sigterm();
    assert_eq!(tui.wait_exit(), 0);
    // Give the reader thread a moment to pass on the last bytes the app wrote.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!tui.on_alternate_screen(), "the terminal was restored");
    let list = doorstep(dir.path(), &["responses", "list", "--status", "draft"]);
    let id = list
        .lines()
        .find(|l| l.contains("kin"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    assert!(doorstep(dir.path(), &["responses", "show", &id]).contains("consent"));
}

/// The draft's stored answers, through a second doorstep process (so the data directory
/// must be free).
fn stored_draft(data_dir: &Path) -> String {
    let list = doorstep(data_dir, &["responses", "list", "--status", "draft"]);
    let id = list
        .lines()
        .find(|l| l.contains("kin"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no KIN draft listed:\n{list}"))
        .to_owned();
    doorstep(data_dir, &["responses", "show", &id])
}

#[test]
fn closing_the_terminal_ends_the_app_frees_the_data_dir_and_keeps_the_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mut tui = consented_kin(dir.path());
    tui.wait_text("Are you talking to us mainly as");
    tui.step("2"); // business
    tui.wait_text("How long have you lived or worked");
    // The window is closed (or the SSH session drops) with the app waiting for a key.
    tui.hang_up();
    assert_eq!(tui.wait_exit(), 0, "a lost terminal is an orderly exit");
    drop(tui);
    let shown = stored_draft(dir.path());
    assert!(
        shown.contains("consent") && shown.contains("business"),
        "{shown}"
    );
}

#[test]
fn sighup_while_idle_restores_the_terminal_and_frees_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let mut tui = consented_kin(dir.path());
    tui.wait_text("Are you talking to us mainly as");
    assert!(tui.on_alternate_screen());
    tui.signal("HUP");
    assert_eq!(tui.wait_exit(), 0);
    // Give the reader thread a moment to pass on the last bytes the app wrote.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!tui.on_alternate_screen(), "the terminal was restored");
    drop(tui);
    assert!(stored_draft(dir.path()).contains("consent"));
}

#[test]
fn a_log_file_that_cannot_be_opened_is_one_notice_not_a_crash() {
    // `logs` a file (as root, permission bits would not stop the app writing, so no
    // permission trick), and `logs/doorstep.log` a folder: either way, no log file.
    for make in [
        |d: &Path| std::fs::write(d.join("logs"), "not a folder").unwrap(),
        |d: &Path| std::fs::create_dir_all(d.join("logs").join("doorstep.log")).unwrap(),
    ] {
        let dir = tempfile::tempdir().unwrap();
        set_up(dir.path());
        make(dir.path());
        let mut tui = Tui::start(dir.path());
        let s = tui.wait_text("not logging:");
        assert!(s.contains("Start an interview or audit"), "{s}");
        assert_eq!(s.matches("not logging").count(), 1, "{s}");
        // The app works as usual: a key moves on and the notice goes.
        let s = tui.step("1");
        assert!(!s.contains("not logging"), "{s}");
        tui.sigterm();
        assert_eq!(tui.wait_exit(), 0);
    }
}

/// A store held by another process is refused before the terminal changes mode: the
/// message on the ordinary screen, the exit code a busy store has everywhere else.
#[test]
fn a_busy_store_is_refused_before_the_first_frame() {
    let dir = tempfile::tempdir().unwrap();
    set_up(dir.path());
    let before = doorstep(dir.path(), &["responses", "list"]);
    let held = doorstep::store::Store::open(dir.path()).unwrap();
    let mut tui = Tui::start(dir.path());
    assert_eq!(tui.wait_exit(), 75, "{}", tui.screen());
    let s = tui.screen();
    assert!(s.contains("doorstep:"), "{s}");
    assert!(
        !s.contains("Start an interview"),
        "no frame was drawn:\n{s}"
    );
    assert!(!tui.on_alternate_screen());
    drop(held);
    assert_eq!(doorstep(dir.path(), &["responses", "list"]), before);
}

/// sled's files are opened behind the first frame; when they cannot be, the terminal is
/// put back and the same message and exit code as any command's are shown.
#[test]
fn a_store_that_fails_to_open_behind_the_first_frame_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    set_up(dir.path());
    let store = dir.path().join("store");
    std::fs::remove_dir_all(&store).unwrap();
    std::fs::write(&store, b"not a store").unwrap();
    let cli = Command::cargo_bin("doorstep")
        .unwrap()
        .env("DOORSTEP_DATA_DIR", dir.path())
        .args(["config", "set", "officer", "PC 1"])
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&cli.stderr).trim().to_owned();
    assert!(!cli.status.success() && !message.is_empty(), "{message}");
    let mut tui = Tui::start(dir.path());
    let code = tui.wait_exit();
    assert_eq!(Some(code as i32), cli.status.code());
    let s = tui.screen();
    assert!(!tui.on_alternate_screen(), "{s}");
    let first_words: String = message.chars().take(40).collect();
    assert!(s.replace('\n', "").contains(&first_words), "{message}\n{s}");
    assert_eq!(std::fs::read(&store).unwrap(), b"not a store");
}

/// A set-up device whose store holds a KIN interview finalized now and a draft, closed
/// cleanly: home's counts are "Today: 1 KIN · 0 EVA   Drafts: 1", one not yet exported.
fn one_done_one_draft(data_dir: &Path) {
    set_up(data_dir);
    let (registry, _) = doorstep::survey::registry::Registry::load(data_dir).unwrap();
    let kin = registry.get("kin", None).unwrap();
    let store = doorstep::store::Store::open(data_dir).unwrap();
    let now = chrono::Utc::now();
    let new = || doorstep::response::NewResponse {
        survey_id: kin.id.clone(),
        survey_version: kin.version,
        fingerprint: kin.fingerprint.clone(),
        area: "DEMO-PAA-2".into(),
        period: None,
        interviewer: "PC 4521".into(),
        device: "WIGAN-NPT-07".into(),
        language: "en".into(),
        started_at: now,
    };
    let done = store.create_draft(new()).unwrap();
    store
        .finalize(done.id, doorstep::response::Status::Complete, now)
        .unwrap();
    store.create_draft(new()).unwrap();
}

/// Holds sled's own lock on the store's files, as sled does while a process has them
/// open: the app's store waits behind it (up to two seconds), so what home shows before
/// the store is open can be seen.
fn hold_sled(data_dir: &Path) -> std::fs::File {
    let db = std::fs::File::open(data_dir.join("store").join("db")).unwrap();
    db.try_lock().unwrap();
    db
}

const COUNTS: &str = "Today: 1 KIN · 0 EVA   Drafts: 1";
const NOT_EXPORTED: &str = "Not yet exported: 1 interview or audit";

/// Home's counts kept at the last clean close appear before the store has opened; once
/// it is open the store's own replace them (the same). A kept file from before the
/// journal last grew is not shown, nor is any after a kill (opening removed it).
#[test]
fn home_shows_the_counts_kept_at_close_before_the_store_opens_and_never_stale_ones() {
    let dir = tempfile::tempdir().unwrap();
    one_done_one_draft(dir.path());
    let kept = dir
        .path()
        .join("store")
        .join(doorstep::store::HOME_COUNTS_FILE);
    let at_close = std::fs::read(&kept).unwrap();

    let sled = hold_sled(dir.path());
    let mut tui = Tui::start(dir.path());
    let s = tui.wait_text(COUNTS);
    // The store is not open yet: its files are held.
    assert!(s.contains("Opening the store"), "{s}");
    assert!(s.contains(NOT_EXPORTED), "{s}");
    assert!(s.contains("Resume drafts and call-backs (1)"), "{s}");
    assert!(!s.contains("(loading)"), "{s}");
    assert!(!s.contains("officer PC 4521"), "{s}");
    drop(sled);
    let s = tui.wait_text("officer PC 4521");
    assert!(s.contains(COUNTS) && s.contains(NOT_EXPORTED), "{s}");
    assert!(!s.contains("Opening the store"), "{s}");
    tui.send("q");
    assert_eq!(tui.wait_exit(), 0);
    // Written again at this close, for the same counts and journal.
    assert_eq!(std::fs::read(&kept).unwrap(), at_close);

    // A journaled change grows the journal; the counts kept before it are stale.
    doorstep(dir.path(), &["config", "set", "area", "DEMO-PAA-1"]);
    assert!(kept.exists());
    std::fs::write(&kept, &at_close).unwrap();
    let sled = hold_sled(dir.path());
    let mut tui = Tui::start(dir.path());
    let s = tui.wait_text("(loading)");
    assert!(s.contains("Opening the store"), "{s}");
    assert!(!s.contains(COUNTS), "{s}");
    drop(sled);
    let s = tui.wait_text("officer PC 4521");
    assert!(s.contains(COUNTS) && s.contains(NOT_EXPORTED), "{s}");
    // Killed while open: nothing kept, so the next start shows the counts loading.
    tui.sigkill();
    assert!(!kept.exists());
    let sled = hold_sled(dir.path());
    let mut tui = Tui::start(dir.path());
    let s = tui.wait_text("(loading)");
    assert!(!s.contains(COUNTS), "{s}");
    drop(sled);
    tui.wait_text("officer PC 4521");
    tui.send("q");
    assert_eq!(tui.wait_exit(), 0);
    assert!(kept.exists());
}
