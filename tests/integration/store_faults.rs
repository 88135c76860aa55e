//! Faults in the store and the journal, through the real binary where a command is
//! involved: damage sled notices late, a store that reflects less than the journal, an
//! interrupted recover, a CRLF journal, a deleted journal, drafts brought back by
//! recover, a format-1 journal, and data directories that are not ones.

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use doorstep::response::{Door, Outcome, ResponseFilter, Status, StoredAnswer};
use doorstep::store::{
    JournalEntry, RECOVERING_FILE, STORE_DIR, Store, StoreState, encode_line, journal_path, recover,
};
use doorstep::survey::{Answer, Finding};
use predicates::prelude::*;

use crate::store_helpers::{all_files, env, new_response, open, t0, text_question};

fn doorstep(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_doorstep"));
    cmd.env_remove("DOORSTEP_DATA_DIR")
        .arg("--data-dir")
        .arg(dir);
    cmd
}

fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every file under `dir` with its contents, to show nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    if !dir.exists() {
        return Vec::new();
    }
    all_files(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A data directory with `n` finalized responses, each with an answer.
fn filled(dir: &Path, n: usize) -> Vec<uuid::Uuid> {
    let store = open(dir);
    let q = text_question("q1", false);
    let mut ids = Vec::new();
    for i in 0..n {
        let r = store.create_draft(new_response("E05000650", t0())).unwrap();
        store
            .record_answer(r.id, &q, Answer::Text(format!("answer {i}")), t0())
            .unwrap();
        store.finalize(r.id, Status::Complete, t0()).unwrap();
        ids.push(r.id);
    }
    ids
}

/// Opens with the system clock and ids. Retries while busy: a child another test is
/// spawning at that moment can hold a copy of the lock until it starts.
fn open_system(dir: &Path) -> Store {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Store::open(dir) {
            Ok(s) => return s,
            Err(doorstep::store::StoreError::Busy { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// Puts back the store files copied before `later` wrote more: a store behind its
/// journal, as an engine that dropped its tail leaves it. Returns what the close after
/// `later` wrote to the store's close file.
fn store_left_behind(dir: &Path, later: impl FnOnce(&Store)) -> String {
    let early = tempfile::tempdir().unwrap();
    copy_dir(&dir.join(STORE_DIR), &early.path().join(STORE_DIR));
    // The system id source: the test one would hand out the first ids again.
    later(&open_system(dir));
    let closed = dir.join(STORE_DIR).join(doorstep::store::CLOSED_FILE);
    let closed_text = std::fs::read_to_string(closed).unwrap();
    std::fs::remove_dir_all(dir.join(STORE_DIR)).unwrap();
    copy_dir(&early.path().join(STORE_DIR), &dir.join(STORE_DIR));
    closed_text
}

/// The number of response rows `responses list` printed.
fn rows(list: &str) -> usize {
    list.lines().filter(|l| l.contains("E05000650")).count()
}

/// xorshift64*, so a failing case can be named by its seed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[test]
fn damaged_store_files_are_refused_or_repaired_never_shown_partial() {
    let pristine = tempfile::tempdir().unwrap();
    filled(pristine.path(), 160);
    let db = pristine.path().join(STORE_DIR).join("db");
    let len = std::fs::metadata(&db).unwrap().len();
    assert!(len > 8192, "store/db is {len} bytes");

    // Ten random bit flips per case, and a 4 KiB block of zeros at a few offsets.
    type Damage = Box<dyn Fn(&mut Vec<u8>)>;
    let mut cases: Vec<(String, Damage)> = Vec::new();
    for seed in 1..=12u64 {
        cases.push((
            format!("10 bit flips, seed {seed}"),
            Box::new(move |bytes: &mut Vec<u8>| {
                let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                for _ in 0..10 {
                    let at = (next(&mut s) % bytes.len() as u64) as usize;
                    bytes[at] ^= 1 << (next(&mut s) % 8);
                }
            }),
        ));
    }
    for block in [0u64, 1, 2, 5] {
        cases.push((
            format!("zeros at 4 KiB block {block}"),
            Box::new(move |bytes: &mut Vec<u8>| {
                let start = ((block * 4096) as usize).min(bytes.len());
                let end = (start + 4096).min(bytes.len());
                bytes[start..end].fill(0);
            }),
        ));
    }
    let mut refused = 0;
    for (name, damage) in &cases {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(pristine.path(), dir.path());
        let db = dir.path().join(STORE_DIR).join("db");
        let mut bytes = std::fs::read(&db).unwrap();
        damage(&mut bytes);
        std::fs::write(&db, bytes).unwrap();

        let (code, out, err) = output(doorstep(dir.path()).args(["responses", "list"]));
        if code == 0 {
            assert_eq!(
                rows(&out),
                160,
                "{name}: a partial list shown as whole: {err}"
            );
        } else {
            refused += 1;
            assert!(
                err.contains("doorstep recover"),
                "{name}: exit {code} without the command that fixes it: {err}"
            );
            assert!(!err.contains("panicked"), "{name}: {err}");
        }
        let (code, out, err) = output(doorstep(dir.path()).arg("recover"));
        assert_eq!(code, 0, "{name}: recover failed: {out}{err}");
        let (code, out, err) = output(doorstep(dir.path()).args(["responses", "list"]));
        assert_eq!(code, 0, "{name}: after recover: {err}");
        assert_eq!(rows(&out), 160, "{name}: after recover");
    }
    eprintln!(
        "damage: {refused} of {} cases refused before recover",
        cases.len()
    );
}

#[test]
fn a_store_behind_its_journal_is_brought_up_to_date_at_open() {
    // A copy of the store taken before the last writes stands for a store whose engine
    // dropped its tail (after damage) or a crash between journal and store.
    let dir = tempfile::tempdir().unwrap();
    let ids = filled(dir.path(), 3);
    store_left_behind(dir.path(), |store| {
        let r = store.create_draft(new_response("E05000650", t0())).unwrap();
        store
            .record_answer(r.id, &text_question("q9", false), Answer::Count(9), t0())
            .unwrap();
        store
            .knock(
                "E05000650",
                Door::new("Kay Street", "1").unwrap(),
                Outcome::NoAnswer,
                t0(),
            )
            .unwrap();
    });

    // Three entries behind is what a kill before sled's background flush leaves: put
    // right without a warning (it is logged).
    let (code, _, err) = output(doorstep(dir.path()).args(["config", "get"]));
    assert_eq!((code, err.as_str()), (0, ""));
    let (code, out, err) = output(doorstep(dir.path()).args(["responses", "list"]));
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(rows(&out), 4, "{out}");
    let store = open(dir.path());
    assert!(store.notices().is_empty(), "{:?}", store.notices());
    let drafts = store.drafts().unwrap().responses;
    assert_eq!(drafts.len(), 1);
    assert_eq!(
        drafts[0].answers["q9"].value,
        StoredAnswer::Plain(Answer::Count(9))
    );
    assert_eq!(store.doors("E05000650").unwrap().len(), 1);
    for id in ids {
        assert_eq!(store.get(id).unwrap().status, Status::Complete);
    }
}

#[test]
fn a_store_far_behind_its_journal_is_reported_and_brought_up_to_date() {
    // More than a background flush can leave behind: sled lost data, and the user is told
    // (by a read, which shows the journal's records, and by the write that repairs it).
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), 1);
    let behind = doorstep::store::QUIET_TAIL + 6;
    store_left_behind(dir.path(), |store| {
        for n in 0..behind {
            store
                .knock(
                    "E05000650",
                    Door::new("Kay Street", &(n + 1).to_string()).unwrap(),
                    Outcome::NoAnswer,
                    t0(),
                )
                .unwrap();
        }
    });

    let (code, _, err) = output(doorstep(dir.path()).args(["responses", "list"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err,
        format!(
            "doorstep: warning: the store is missing the last {behind} journal entries; shown from the journal here (run `doorstep recover` to repair the store)\n"
        )
    );
    let (code, _, err) = output(doorstep(dir.path()).args(["config", "get"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err,
        format!(
            "doorstep: warning: replayed {behind} journal entries the store had lost (damage?)\n"
        )
    );
    let store = open(dir.path());
    assert!(store.notices().is_empty(), "{:?}", store.notices());
    assert_eq!(store.doors("E05000650").unwrap().len(), behind);
}

const LOST_FLUSHED: &str = "doorstep: the store is damaged (its files have lost records they held when doorstep last closed them): run `doorstep recover` to rebuild it from the journal\n";

#[test]
fn a_store_that_lost_records_it_held_at_a_clean_close_is_refused_until_recovered() {
    // sled's files as they were three responses in, under the close-file of the fifth:
    // what damage at rest does when sled's recovery stops short. A record lost from the
    // middle leaves the same trace, and replaying the journal's tail would not bring it
    // back, so the store is not shown or written until `recover` has rebuilt it.
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), 3);
    let closed_text = store_left_behind(dir.path(), |store| {
        for i in 0..2 {
            let r = store.create_draft(new_response("E05000650", t0())).unwrap();
            store
                .record_answer(r.id, &text_question("q1", false), Answer::Count(i), t0())
                .unwrap();
            store.finalize(r.id, Status::Complete, t0()).unwrap();
        }
    });
    assert_eq!(
        closed_text.trim(),
        std::fs::metadata(journal_path(dir.path()))
            .unwrap()
            .len()
            .to_string()
    );
    let closed = dir
        .path()
        .join(STORE_DIR)
        .join(doorstep::store::CLOSED_FILE);
    std::fs::write(&closed, &closed_text).unwrap();
    let journal = std::fs::read(journal_path(dir.path())).unwrap();

    // A read refuses, and writes nothing of ours (sled, opening its files where they
    // are, may rewrite the end of its own log).
    let ours = |dir: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let sled_own = |p: &Path| {
            let name = p.file_name().unwrap().to_string_lossy();
            name == "db" || name == "conf" || name.starts_with("snap.")
        };
        snapshot(dir)
            .into_iter()
            .filter(|(p, _)| !sled_own(p))
            .collect()
    };
    let before = ours(dir.path());
    let (code, out, err) = output(doorstep(dir.path()).args(["responses", "list"]));
    assert_eq!((code, out.as_str(), err.as_str()), (1, "", LOST_FLUSHED));
    assert_eq!(ours(dir.path()), before);
    // So does every open for writing, the second as the first (the damage is not
    // forgotten by the first); the journal is as it was.
    for _ in 0..2 {
        let (code, out, err) = output(doorstep(dir.path()).args(["config", "get"]));
        assert_eq!((code, out.as_str(), err.as_str()), (1, "", LOST_FLUSHED));
        assert_eq!(std::fs::read_to_string(&closed).unwrap(), closed_text);
    }
    match Store::open(dir.path()) {
        Err(e) => assert!(e.is_damage(), "{e}"),
        Ok(_) => panic!("a store that lost records opened"),
    }
    assert_eq!(std::fs::read(journal_path(dir.path())).unwrap(), journal);

    let (code, out, err) = output(doorstep(dir.path()).arg("recover"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("store: opened fine; checked against the journal"),
        "{out}"
    );
    let (code, out, err) = output(doorstep(dir.path()).args(["responses", "list"]));
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(rows(&out), 5, "{out}");
    let store = open(dir.path());
    assert!(store.notices().is_empty(), "{:?}", store.notices());
    assert_eq!(
        store
            .list(&ResponseFilter::default())
            .unwrap()
            .responses
            .len(),
        5
    );
    drop(store);
    // Closed cleanly again: read in place, without a word.
    let (code, out, err) = output(doorstep(dir.path()).args(["responses", "list"]));
    assert_eq!((code, err.as_str(), rows(&out)), (0, "", 5));
}

#[test]
fn a_store_whose_tree_lost_a_link_is_rebuilt_by_recover() {
    // tests/fixtures/datadir/lost-link: a store of 160 responses closed cleanly, then ten
    // bits of its sled file flipped. sled opens it without complaint; its responses read
    // 85 forwards and 112 backwards (the rest of the journal's 480 lines were lost).
    let dir = tempfile::tempdir().unwrap();
    copy_tree(Path::new("tests/fixtures/datadir/lost-link"), dir.path());
    let (code, _, err) = output(doorstep(dir.path()).args(["responses", "list"]));
    assert_eq!((code, err.as_str()), (1, LOST_FLUSHED));

    let (code, out, err) = output(doorstep(dir.path()).arg("recover"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "store: damaged (its tree responses reads 85 records forwards and 112 backwards); moved aside to "
        ),
        "{out}"
    );
    assert!(
        out.contains("restored: 160 finalized (160 complete)"),
        "{out}"
    );
    let (code, out, err) = output(doorstep(dir.path()).args(["responses", "list"]));
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(rows(&out), 160);
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("store.damaged-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
}

#[test]
fn a_store_sled_cannot_open_is_named_by_its_own_path_and_recovered() {
    // A snapshot that does not read. Closed cleanly, a read opens the files where they
    // are; without the close file (after a kill, or a recover) it opens a private copy,
    // and the message must still name the user's store, not the copy.
    for closed in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        filled(dir.path(), 3);
        // sled writes a snapshot of its log when it opens its files.
        drop(open_system(dir.path()));
        let store_dir = dir.path().join(STORE_DIR);
        let snap = std::fs::read_dir(&store_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("snap.")
            })
            .expect("a snapshot");
        std::fs::write(&snap, b"not a snapshot").unwrap();
        if !closed {
            std::fs::remove_file(store_dir.join(doorstep::store::CLOSED_FILE)).unwrap();
        }
        let (code, out, err) = output(doorstep(dir.path()).args(["responses", "list"]));
        assert_eq!((code, out.as_str()), (1, ""), "{err}");
        assert_eq!(
            err,
            format!(
                "doorstep: the store in {} cannot be opened: its files hold data that does not read back (run `doorstep recover` to rebuild it from the journal)\n",
                store_dir.display()
            ),
            "closed {closed}"
        );
        let (code, out, err) = output(doorstep(dir.path()).arg("recover"));
        assert_eq!(code, 0, "{out}{err}");
        let (code, out, err) = output(doorstep(dir.path()).args(["responses", "list"]));
        assert_eq!((code, err.as_str(), rows(&out)), (0, "", 3));
    }
}

#[test]
fn an_interrupted_recover_is_refused_until_a_recover_completes() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal_path(dir.path());
    std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
    let mut text = String::new();
    let (env, _) = env();
    for i in 0..20_000u64 {
        let mut r =
            doorstep::response::Response::draft(env.new_id(), new_response("E05000650", t0()))
                .unwrap();
        r.set_answer("q1", StoredAnswer::Plain(Answer::Count(i)), t0());
        r.finalize(Status::Complete, t0());
        text.push_str(&encode_line(&JournalEntry::Response(r)).unwrap());
    }
    std::fs::write(&journal, &text).unwrap();

    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_doorstep"))
        .env_remove("DOORSTEP_DATA_DIR")
        .arg("--data-dir")
        .arg(dir.path())
        .arg("recover")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rebuilding = dir.path().join("store.rebuilding");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !rebuilding.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "recover finished before it could be interrupted"
        );
        assert!(Instant::now() < deadline, "recover never started building");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(50));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(dir.path().join(RECOVERING_FILE).exists());

    let before = snapshot(&dir.path().join(STORE_DIR));
    for args in [vec!["responses", "list"], vec!["config", "get"]] {
        doorstep(dir.path())
            .args(&args)
            .assert()
            .code(1)
            .stdout("")
            .stderr(format!(
                "doorstep: a `doorstep recover` in {} was interrupted before it finished: run `doorstep recover` again to complete it\n",
                dir.path().display()
            ));
    }
    assert_eq!(snapshot(&dir.path().join(STORE_DIR)), before);

    let (code, out, err) = output(doorstep(dir.path()).arg("recover"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("an interrupted recover was found and completed\n"),
        "{out}"
    );
    assert!(
        out.contains("restored: 20000 finalized (20000 complete)"),
        "{out}"
    );
    assert!(!dir.path().join(RECOVERING_FILE).exists());
    assert!(!rebuilding.exists());
    let store = open(dir.path());
    assert_eq!(
        store.summaries().unwrap().summaries.len(),
        20_000,
        "every response is back"
    );
}

#[test]
fn a_crlf_journal_recovers_everything() {
    let dir = tempfile::tempdir().unwrap();
    let journal = journal_path(dir.path());
    std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
    let text = std::fs::read_to_string("tests/fixtures/journal/format1.jsonl").unwrap();
    std::fs::write(&journal, text.replace('\n', "\r\n")).unwrap();
    let out = String::from_utf8(
        doorstep(dir.path())
            .arg("recover")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(out.contains("11 good, 0 corrupt"), "{out}");
    assert!(
        out.contains("restored: 3 finalized (2 complete, 1 refused), 0 draft(s), 2 door(s), 3 knock(s), 4 setting(s)"),
        "{out}"
    );
    // Appending after CRLF lines still reads.
    doorstep(dir.path())
        .args(["config", "set", "officer", "PC 99"])
        .assert()
        .success();
    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
    doorstep(dir.path()).arg("recover").assert().success();
    doorstep(dir.path())
        .args(["config", "get", "officer"])
        .assert()
        .success()
        .stdout("PC 99\n");
}

#[test]
fn a_journal_holding_only_a_torn_first_line_recovers_to_an_empty_store() {
    // What a kill during the first append ever leaves: half a line, no line end.
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), 1);
    let journal = journal_path(dir.path());
    let text = std::fs::read_to_string(&journal).unwrap();
    let first = text.lines().next().unwrap();
    std::fs::write(&journal, &first[..first.len() / 2]).unwrap();
    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
    doorstep(dir.path()).arg("recover").assert().success();
    doorstep(dir.path())
        .args(["responses", "list", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"rows\": []"));
}

#[test]
fn a_journal_with_nothing_readable_is_an_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), 2);
    let journal = journal_path(dir.path());
    let text = std::fs::read_to_string(&journal).unwrap();
    // Every line damaged (as a converter that rewrote the quotes would).
    std::fs::write(&journal, text.replace('"', "'")).unwrap();
    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
    let before = snapshot(dir.path());
    doorstep(dir.path())
        .arg("recover")
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::starts_with(format!(
            "doorstep: the journal {} has 6 line(s) but none could be read (line 1: the checksum does not match the record (damaged or cut short)); nothing was restored and nothing was changed\n",
            journal.display()
        )));
    let after: Vec<_> = snapshot(dir.path())
        .into_iter()
        .filter(|(p, _)| !p.ends_with("doorstep.lock"))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| !p.ends_with("doorstep.lock"))
        .collect();
    assert_eq!(after, before);
    assert!(!dir.path().join(STORE_DIR).exists());
}

#[test]
fn a_deleted_journal_is_rebuilt_from_the_store_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let ids = filled(dir.path(), 3);
    let draft = {
        let store = open_system(dir.path());
        store.create_draft(new_response("E05000650", t0())).unwrap()
    };
    let journal = journal_path(dir.path());
    std::fs::remove_file(&journal).unwrap();

    let (code, _, err) = output(doorstep(dir.path()).args(["config", "get"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err,
        format!(
            "doorstep: warning: the journal {} was missing: rebuilt it from the store (4 entries)\n",
            journal.display()
        )
    );
    // Said once: the next command is quiet.
    let (code, out, err) = output(doorstep(dir.path()).args(["responses", "list"]));
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(rows(&out), 4);
    // And the rebuilt journal is a real backup.
    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
    let report = recover(dir.path(), env().0).unwrap();
    assert_eq!(report.store, StoreState::Missing);
    assert_eq!(report.restored[&Status::Complete], 3);
    assert_eq!(report.restored[&Status::Draft], 1);
    let store = open(dir.path());
    for id in ids.iter().chain([&draft.id]) {
        store.get(*id).unwrap();
    }
}

#[test]
fn a_journal_cut_shorter_than_the_store_is_kept_aside_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), 3);
    let journal = journal_path(dir.path());
    let text = std::fs::read_to_string(&journal).unwrap();
    let first_two: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(&journal, &first_two).unwrap();
    let (code, _, err) = output(doorstep(dir.path()).args(["config", "get"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("had 2 line(s) where the store reflects 9 (cut short or replaced; kept as "),
        "{err}"
    );
    let kept: Vec<_> = std::fs::read_dir(journal.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("journal.jsonl.short-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let rebuilt = doorstep::store::read_journal(&journal).unwrap();
    assert_eq!(rebuilt.entries.len(), 3);
}

#[test]
fn recover_brings_back_drafts_with_their_answers_findings_and_door() {
    let dir = tempfile::tempdir().unwrap();
    let door = Door::new("Kay Street", "12").unwrap();
    let (kin, eva) = {
        let store = open(dir.path());
        let kin = store.create_draft(new_response("E05000650", t0())).unwrap();
        store.set_door(kin.id, &door).unwrap();
        let q = text_question("q1", false);
        store
            .record_answer(kin.id, &q, Answer::Text("first".into()), t0())
            .unwrap();
        store
            .record_answer(kin.id, &q, Answer::Text("second".into()), t0())
            .unwrap();
        let eva = store.create_draft(new_response("E05000650", t0())).unwrap();
        store
            .record_finding(
                eva.id,
                "litter",
                Finding {
                    urgent: true,
                    ..Finding::default()
                },
            )
            .unwrap();
        (store.get(kin.id).unwrap(), store.get(eva.id).unwrap())
    };
    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
    let out = String::from_utf8(
        doorstep(dir.path())
            .arg("recover")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    assert!(
        out.contains("restored: 0 finalized, 2 draft(s), 0 door(s), 0 knock(s), 0 setting(s)"),
        "{out}"
    );
    let store = open(dir.path());
    assert_eq!(store.get(kin.id).unwrap(), kin);
    assert_eq!(store.get(eva.id).unwrap(), eva);
    assert_eq!(
        store
            .list(&ResponseFilter::default())
            .unwrap()
            .responses
            .len(),
        2
    );
}

#[test]
fn a_format_1_journal_still_recovers() {
    // Written by the release before drafts were journaled (tests/fixtures/journal).
    let dir = tempfile::tempdir().unwrap();
    let journal = journal_path(dir.path());
    std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
    std::fs::copy("tests/fixtures/journal/format1.jsonl", &journal).unwrap();
    let report = recover(dir.path(), env().0).unwrap();
    assert!(report.corrupt.is_empty(), "{report}");
    assert_eq!(report.entries, 11);
    assert_eq!(report.restored[&Status::Complete], 2);
    assert_eq!(report.restored[&Status::Refused], 1);
    assert_eq!(
        (
            report.doors_restored,
            report.knocks_restored,
            report.settings_restored
        ),
        (2, 3, 4)
    );
    let store = open(dir.path());
    let rev: uuid::Uuid = "01a10b4a-9680-7000-8000-000000000003".parse().unwrap();
    let rev = store.get(rev).unwrap();
    assert_eq!(
        rev.replaces,
        Some("01a10b4a-9680-7000-8000-000000000001".parse().unwrap())
    );
    assert_eq!(
        rev.answers["q2"].value,
        StoredAnswer::Plain(Answer::YesNo(false))
    );
    assert_eq!(
        store.settings().unwrap().officer.as_deref(),
        Some("PC 1234")
    );
    // New entries append after the old ones and everything recovers again.
    drop(store);
    let store = open_system(dir.path());
    let d = store.create_draft(new_response("E05000650", t0())).unwrap();
    drop(store);
    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
    let report = recover(dir.path(), env().0).unwrap();
    assert_eq!(report.restored[&Status::Draft], 1);
    open(dir.path()).get(d.id).unwrap();
}

#[test]
fn snapshot_leftovers_are_cleaned_up_and_damaged_stores_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path(), 1);
    let leftover = dir
        .path()
        .join(STORE_DIR)
        .join("snap.00000000000001A0.generating");
    std::fs::write(&leftover, b"").unwrap();
    doorstep(dir.path())
        .args(["config", "get"])
        .assert()
        .success();
    assert!(!leftover.exists());

    // Two damaged stores in a row: both are kept, and the report names them.
    for round in 1..=2 {
        for file in all_files(&dir.path().join(STORE_DIR)) {
            std::fs::write(&file, b"\x00\xffnot a sled file").unwrap();
        }
        let report = recover(dir.path(), env().0).unwrap();
        assert!(
            matches!(report.store, StoreState::Damaged { .. }),
            "{report}"
        );
        assert_eq!(report.kept_aside.len(), round, "{report}");
        assert!(
            report.to_string().contains(&format!(
                "{round} damaged store(s) kept in the data directory (store.damaged-20261005T090000Z"
            )),
            "{report}"
        );
    }
}

#[test]
fn folders_that_are_not_data_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let busy = dir.path().join("documents");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("letter.txt"), "hello").unwrap();
    for args in [
        vec!["config", "get"],
        vec!["recover"],
        vec!["responses", "list"],
    ] {
        doorstep(&busy)
            .args(&args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(format!(
                "doorstep: {}: this folder is not empty and holds no doorstep data (no store, journal or surveys): give --data-dir a new or empty folder\n",
                busy.display()
            ));
    }
    assert_eq!(all_files(&busy), vec![busy.join("letter.txt")]);

    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    doorstep(&file)
        .args(["config", "get"])
        .assert()
        .code(2)
        .stderr(format!(
            "doorstep: {}: this is a file, not a folder: give --data-dir a folder (a new one is made if it does not exist)\n",
            file.display()
        ));
    assert_eq!(std::fs::read(&file).unwrap(), b"x");

    // A data dir with surveys only (set up before the first start) is fine.
    let fresh = dir.path().join("fresh");
    std::fs::create_dir_all(fresh.join("surveys")).unwrap();
    doorstep(&fresh).args(["config", "get"]).assert().success();
}

#[test]
fn an_empty_data_dir_variable_is_unset_and_tilde_is_home() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str], data_dir: Option<&str>, env_value: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_doorstep"));
        cmd.env_remove("DOORSTEP_DATA_DIR")
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("xdg"))
            .current_dir(home.path());
        if let Some(v) = env_value {
            cmd.env("DOORSTEP_DATA_DIR", v);
        }
        if let Some(d) = data_dir {
            cmd.arg("--data-dir").arg(d);
        }
        cmd.args(args);
        cmd
    };
    run(&["config", "set", "officer", "PC 1"], None, Some(""))
        .assert()
        .success();
    assert!(
        home.path()
            .join("xdg")
            .join("doorstep")
            .join("store")
            .is_dir()
    );
    run(&["config", "set", "officer", "PC 2"], Some("~/field"), None)
        .assert()
        .success();
    assert!(home.path().join("field").join("store").is_dir());
    assert!(!home.path().join("~").exists());
    run(&["config", "get"], Some("~someone/field"), None)
        .assert()
        .code(2)
        .stderr("doorstep: data directory `~someone/field`: `~name` is not expanded here; give the full path\n");
    assert!(!home.path().join("~someone").exists());
}

/// Unmounts the small file system when the test ends, however it ends.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = StdCommand::new("umount").arg(&self.0).status();
    }
}

#[test]
#[ignore = "mounts a 2 MiB tmpfs to fill it up: needs root; run with --ignored"]
fn a_full_disk_is_said_to_be_full_and_recover_leaves_the_store_alone() {
    let mount = tempfile::tempdir().unwrap();
    let ok = StdCommand::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(mount.path())
        .status()
        .unwrap();
    assert!(ok.success(), "mount failed: this test needs root");
    let _guard = Mounted(mount.path().to_path_buf());
    let dir = mount.path().join("data");
    let id = {
        let store = open_system(&dir);
        let r = store.create_draft(new_response("E05000650", t0())).unwrap();
        store
            .record_answer(r.id, &text_question("q1", false), Answer::Count(1), t0())
            .unwrap();
        r.id
    };
    let filler = mount.path().join("filler");
    let _ = StdCommand::new("dd")
        .args(["if=/dev/zero", "bs=4k"])
        .arg(format!("of={}", filler.display()))
        .stderr(Stdio::null())
        .status();
    // (sled may pad its file with zeros while opening; the records are checked below.)
    let before = all_files(&dir.join(STORE_DIR));
    for args in [
        vec!["config", "set", "officer", "PC 1234567890"],
        vec!["recover"],
    ] {
        let (code, _, err) = output(doorstep(&dir).args(&args));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "the disk holding {} is full: free some space and start again",
                dir.join(STORE_DIR).display()
            )),
            "{args:?}: {err}"
        );
        assert!(!err.contains("recover`"), "not damage: {err}");
    }
    assert_eq!(
        all_files(&dir.join(STORE_DIR)),
        before,
        "the store is where it was"
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| ["store", "journal", "doorstep.lock"].contains(&n.as_str())),
        "nothing left behind: {names:?}"
    );
    std::fs::remove_file(&filler).unwrap();
    let store = open_system(&dir);
    let draft = store.get(id).unwrap();
    assert_eq!(
        draft.answers["q1"].value,
        StoredAnswer::Plain(Answer::Count(1))
    );
}

/// Every file and folder under `dir` with its contents (files) and modification time.
fn tree_state(dir: &Path) -> Vec<(PathBuf, Option<Vec<u8>>, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        out.push((
            d.clone(),
            None,
            std::fs::metadata(&d).unwrap().modified().unwrap(),
        ));
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
                out.push((path.clone(), Some(std::fs::read(&path).unwrap()), modified));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn read_only_commands_create_and_change_nothing_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let ids = filled(dir.path(), 2);
    // A store behind its journal: shown whole (quietly: one entry behind is what a kill
    // leaves), and still not written.
    let mut late = None;
    store_left_behind(dir.path(), |store| {
        late = Some(store.create_draft(new_response("E05000650", t0())).unwrap());
    });
    let late = late.unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let before = tree_state(dir.path());

    let (code, out, err) = output(doorstep(dir.path()).args(["responses", "list"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(rows(&out), 3, "{out}");
    assert!(out.contains(&late.id.to_string()), "{out}");
    assert_eq!(err, "");
    doorstep(dir.path())
        .args(["responses", "show", &ids[0].to_string()])
        .assert()
        .success()
        .stdout(predicate::str::contains(ids[0].to_string()));
    doorstep(dir.path())
        .args(["areas", "list"])
        .assert()
        .success();
    doorstep(dir.path())
        .args(["survey", "list"])
        .assert()
        .success();
    assert_eq!(
        tree_state(dir.path()),
        before,
        "the data directory was written to"
    );

    // A data directory nobody has used yet is not created by a read.
    let never = dir.path().join("never-used");
    doorstep(&never)
        .args(["responses", "list"])
        .assert()
        .success()
        .stdout("no responses\n");
    assert!(!never.exists());

    // A write repairs it for good.
    doorstep(dir.path())
        .args(["config", "get"])
        .assert()
        .success()
        .stderr("");
    doorstep(dir.path())
        .args(["responses", "list"])
        .assert()
        .success()
        .stderr("");
}

/// Copies a kept data directory into a fresh one.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_data_directory_of_the_first_coordinator_release_still_opens_exports_and_recovers() {
    // tests/fixtures/datadir/release1: the format 1 journal recovered, an action added and
    // the format 1 batch merged (one conflict), written by the release of November 2026.
    // An upgraded laptop or coordinator machine must go on from it.
    let dir = tempfile::tempdir().unwrap();
    copy_tree(Path::new("tests/fixtures/datadir/release1"), dir.path());
    let (code, out, err) = output(doorstep(dir.path()).args(["responses", "list"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("3 response(s)\n"), "{out}");
    assert!(
        !err.contains("replayed") && !err.contains("recover"),
        "a whole store is not repaired: {err}"
    );
    let (code, out, err) = output(doorstep(dir.path()).args(["actions", "list"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Litter pick on Kay Street"), "{out}");
    let (code, out, err) = output(doorstep(dir.path()).args(["batch", "conflicts"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("response 01a10b4a-9680-7000-8000-000000000001: 2 versions"),
        "{out}"
    );
    // The laptop's work still leaves it.
    let batch = dir.path().join("out.batch");
    let (code, out, err) = output(doorstep(dir.path()).args([
        "batch",
        "export",
        "--all",
        "--unencrypted",
        "--out",
        batch.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let (_, out, err) =
        output(doorstep(dir.path()).args(["batch", "verify", batch.to_str().unwrap()]));
    // Only this machine's own records: the merged batch's response (active in the
    // conflict), door and knock travel in that batch's own file.
    assert!(
        out.contains(
            "holds      1 responses, 1 revisions, 2 doors, 3 knocks, 2 settings, 1 actions"
        ),
        "{out}{err}"
    );
    // (The merged fixture batch names a survey fingerprint no machine has, so verify goes
    // on to refuse those records; what matters here is that the file is whole and signed.)
    assert!(
        out.contains("✓ every record's checksum, the signature and the counts"),
        "{out}{err}"
    );
    // And the store can be rebuilt from its journal alone.
    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
    let (code, out, err) = output(doorstep(dir.path()).arg("recover"));
    assert_eq!(code, 0, "{out}{err}");
    let (_, out, _) = output(doorstep(dir.path()).args(["responses", "list"]));
    assert!(out.ends_with("3 response(s)\n"), "{out}");
    let (_, out, _) = output(doorstep(dir.path()).args(["batch", "conflicts"]));
    assert!(out.contains("2 versions"), "{out}");
    let (_, out, _) = output(doorstep(dir.path()).args(["actions", "list"]));
    assert!(out.contains("Litter pick on Kay Street"), "{out}");
}

#[test]
fn a_read_alone_reads_the_store_where_it_is_and_two_reads_at_once_both_work() {
    let dir = tempfile::tempdir().unwrap();
    // Enough rows that a reader whose output is not read blocks with the store open.
    let ids = filled(dir.path(), 800);
    let records = |dir: &Path| {
        let store = open_system(dir);
        ids.iter()
            .map(|id| format!("{:?}", store.get(*id).unwrap()))
            .collect::<Vec<_>>()
    };
    let before = records(dir.path());
    let journal = std::fs::read(dir.path().join("journal/journal.jsonl")).unwrap();
    let private = tempfile::tempdir().unwrap();
    let list = |tmp: &Path| {
        let mut cmd = StdCommand::new(env!("CARGO_BIN_EXE_doorstep"));
        cmd.env_remove("DOORSTEP_DATA_DIR")
            .env("TMPDIR", tmp)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["responses", "list", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };

    // Alone and in step with its journal: no private copy of the store is made.
    let alone = list(private.path()).output().unwrap();
    assert!(alone.status.success(), "{alone:?}");
    assert_eq!(std::fs::read_dir(private.path()).unwrap().count(), 0);

    // Two at once: the first holds the store open while its output waits to be read.
    let mut first = list(private.path()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let second = list(private.path()).spawn().unwrap();
    let mut first_out = Vec::new();
    std::io::Read::read_to_end(first.stdout.as_mut().unwrap(), &mut first_out).unwrap();
    let first_status = first.wait().unwrap();
    let second = second.wait_with_output().unwrap();
    assert!(first_status.success());
    assert!(second.status.success(), "{second:?}");
    assert_eq!(first_out, alone.stdout);
    assert_eq!(second.stdout, alone.stdout);
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.is_empty()
            || said
                == "doorstep: waiting for another doorstep command reading the store to finish\n",
        "{said}"
    );

    // Nothing stored changed: every record, and the journal byte for byte.
    assert_eq!(
        std::fs::read(dir.path().join("journal/journal.jsonl")).unwrap(),
        journal
    );
    assert_eq!(records(dir.path()), before);
}
