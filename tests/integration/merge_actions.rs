//! The action register in batches: action records exported and merged by the response
//! rules mapped onto an action's history (duplicate, the longer history supersedes,
//! diverged histories conflict), through the store and through the real binary (two
//! laptops, a coordinator in both orders, a conflict resolved, a malformed record
//! refused, kill -9 and `recover`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use doorstep::action::{Action, ActionStatus, Change, NewAction, Priority};
use doorstep::batch::{self, DeviceKey, Manifest, Origin, Record, Selection};
use doorstep::store::{MergeResult, STORE_DIR, Store, journal_path};
use predicates::prelude::*;
use uuid::Uuid;

use crate::actions_cli::{add, data_dir, doorstep, stdout_of};
use crate::batches::export;
use crate::merge::make_batch;
use crate::store_helpers::{open, t0};

/// Action `n` as added by PC 1 at t0.
pub fn action(n: u128) -> Action {
    let new = NewAction {
        priority: Priority {
            issue: "litter".into(),
            area: "E05000650".into(),
            period: "2026-Q4".parse().unwrap(),
        },
        problem: None,
        action: format!("Litter pick {n}"),
        lead: "Council street scene".into(),
        owner: "Neighbourhood manager".into(),
        support: Vec::new(),
        agreed: NaiveDate::from_ymd_opt(2026, 10, 5).unwrap(),
        due: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        source: None,
    };
    Action::new(Uuid::from_u128(0xac00 + n), new, t0(), "PC 1").unwrap()
}

/// `a` with a change at `minutes` after t0 by `by` to `status`.
pub fn changed(a: &Action, minutes: i64, by: &str, status: ActionStatus) -> Action {
    let mut a = a.clone();
    let mut c = Change::new(t0() + Duration::minutes(minutes), by);
    c.status = Some(status);
    c.note = Some(format!("{by} at {minutes}"));
    a.update(c).unwrap();
    a
}

fn outcome(r: &MergeResult) -> [u64; 5] {
    match r {
        MergeResult::Merged { batch, .. } => {
            let o = batch.outcome;
            [o.new, o.duplicate, o.superseded, o.conflict, o.rejected]
        }
        MergeResult::AlreadyMerged(_) => panic!("already merged"),
    }
}

fn merge(store: &Store, device: &str, seq: u64, records: Vec<Record>) -> MergeResult {
    store
        .merge_batch(&make_batch(device, seq, records), &mut |_, _| {})
        .unwrap()
}

#[test]
fn the_longer_history_supersedes_whichever_arrives_first_and_duplicates_change_nothing() {
    let a0 = action(1);
    let a1 = changed(&a0, 10, "PC 2", ActionStatus::InProgress);
    for order in [[0usize, 1], [1, 0]] {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let versions = [a0.clone(), a1.clone()];
        let first = merge(
            &store,
            "laptop-a",
            1,
            vec![Record::Action(versions[order[0]].clone())],
        );
        assert_eq!(outcome(&first), [1, 0, 0, 0, 0]);
        let second = merge(
            &store,
            "laptop-b",
            1,
            vec![Record::Action(versions[order[1]].clone())],
        );
        assert_eq!(outcome(&second), [0, 0, 1, 0, 0], "order {order:?}");
        assert_eq!(store.action(a0.id).unwrap(), a1, "order {order:?}");
        assert!(store.action_conflicts().unwrap().is_empty());
        assert_eq!(store.action_sources(a0.id).unwrap().len(), 2);
        let again = merge(&store, "laptop-c", 1, vec![Record::Action(a1.clone())]);
        assert_eq!(outcome(&again), [0, 1, 0, 0, 0]);
        assert_eq!(store.action(a0.id).unwrap(), a1);
    }
}

#[test]
fn diverged_histories_conflict_the_first_divergent_active_until_resolved_and_local_edits_go_on() {
    let a0 = action(2);
    let early = changed(&a0, 10, "PC 2", ActionStatus::Done);
    let late = changed(&a0, 20, "PC 3", ActionStatus::NotPossible);
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    merge(&store, "laptop-b", 1, vec![Record::Action(late.clone())]);
    let r = merge(&store, "laptop-a", 1, vec![Record::Action(early.clone())]);
    assert_eq!(outcome(&r), [0, 0, 0, 1, 0]);
    assert_eq!(
        store.action(a0.id).unwrap(),
        early,
        "the earlier divergent change"
    );
    let conflicts = store.unresolved_action_conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0];
    assert_eq!((c.versions.len(), c.active), (2, 0));
    assert_eq!(c.versions[1].action, late);
    assert_eq!(
        c.versions[1].sources.iter().next().unwrap().device,
        "laptop-b"
    );
    assert_eq!(c.shared_changes(), 1);

    let settled = store.resolve_action_conflict(a0.id, 1).unwrap();
    assert!(settled.is_resolved());
    assert_eq!(store.action(a0.id).unwrap(), late);
    assert!(store.unresolved_action_conflicts().unwrap().is_empty());

    // The coordinator's own change after the merge is kept, and a later batch carrying
    // the kept version again changes nothing.
    let mut note = Change::new(t0() + Duration::minutes(30), "Sgt Ada Jones");
    note.note = Some("checked at the meeting".into());
    let edited = store.update_action(a0.id, note).unwrap();
    assert_eq!(edited.history.len(), 3);
    let r = merge(&store, "laptop-b", 2, vec![Record::Action(late.clone())]);
    assert_eq!(outcome(&r), [0, 1, 0, 0, 0]);
    assert_eq!(store.action(a0.id).unwrap(), edited);
    // A third line of changes reopens the conflict; the kept line (with the local edit)
    // stays active.
    let third = changed(&a0, 5, "PC 4", ActionStatus::InProgress);
    let r = merge(&store, "laptop-c", 1, vec![Record::Action(third)]);
    assert_eq!(outcome(&r), [0, 0, 0, 1, 0]);
    let c = store.action_conflict(a0.id).unwrap().unwrap();
    assert!(!c.is_resolved());
    assert_eq!(c.versions.len(), 3);
    assert_eq!(c.versions[c.active].action, edited);
    assert_eq!(store.action(a0.id).unwrap(), edited);
}

#[test]
fn an_action_record_doorstep_could_not_have_written_is_rejected_by_the_merge() {
    let mut forged = changed(&action(3), 10, "PC 2", ActionStatus::Done);
    forged.status = ActionStatus::Open;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    match merge(&store, "laptop-a", 1, vec![Record::Action(forged)]) {
        MergeResult::Merged { rejections, .. } => {
            assert_eq!(rejections.len(), 1);
            assert_eq!((rejections[0].record, rejections[0].kind), (1, "action"));
            assert!(rejections[0].reason.contains("not what its history makes"));
        }
        other => panic!("{other:?}"),
    }
    assert!(store.actions().unwrap().actions.is_empty());
}

// ---- through the real binary ----

fn set(dir: &Path, key: &str, value: &str) {
    doorstep(dir)
        .args(["config", "set", key, value])
        .assert()
        .success();
}

fn laptop(device: &str) -> tempfile::TempDir {
    let dir = data_dir();
    set(dir.path(), "device", device);
    dir
}

fn update(dir: &Path, id: &str, args: &[&str]) {
    stdout_of(doorstep(dir).args(["actions", "update", id]).args(args));
}

fn merge_files(dir: &Path, files: &[&Path]) -> String {
    let mut cmd = doorstep(dir);
    cmd.args(["batch", "merge"]);
    for f in files {
        cmd.arg(f);
    }
    stdout_of(&mut cmd)
}

fn register(dir: &Path) -> String {
    stdout_of(doorstep(dir).args(["actions", "list", "--json"]))
}

/// Everything a refused verify must leave as it was: the register, the pins and the
/// journal's bytes.
fn state(dir: &Path) -> (String, String, Vec<u8>) {
    (
        register(dir),
        stdout_of(doorstep(dir).args(["devices", "list"])),
        std::fs::read(journal_path(dir)).unwrap_or_default(),
    )
}

#[test]
fn two_laptops_work_the_register_and_a_coordinator_merges_them_in_either_order() {
    let files = tempfile::tempdir().unwrap();
    let f = |name: &str| files.path().join(name);
    let (a, b) = (laptop("laptop-a"), laptop("laptop-b"));
    let x = add(a.path(), &[]);
    let out = export(a.path(), &f("a1.batch"), &["--unencrypted"]);
    assert!(out.contains("1 actions"), "{out}");
    // Laptop B (a deputy) takes A's register in, moves X on and adds its own action.
    merge_files(b.path(), &[&f("a1.batch")]);
    update(
        b.path(),
        &x,
        &["--status", "in_progress", "--note", "bins ordered"],
    );
    let z = add(
        b.path(),
        &[
            "--issue",
            "inconsiderate_parking",
            "--action",
            "School run patrol",
        ],
    );
    let out = export(b.path(), &f("b1.batch"), &["--unencrypted"]);
    assert!(out.contains("2 actions"), "{out}");
    // Exporting again exports nothing new; a change goes out again.
    let again = export(b.path(), &f("b2.batch"), &["--unencrypted"]);
    assert!(again.contains("nothing new to export"), "{again}");
    assert!(!f("b2.batch").exists());
    let all = export(b.path(), &f("b-all.batch"), &["--unencrypted", "--all"]);
    assert!(
        all.contains("2 actions"),
        "--all takes every action again: {all}"
    );
    let verified = stdout_of(
        doorstep(a.path())
            .args(["batch", "verify"])
            .arg(f("b1.batch")),
    );
    assert!(verified.contains("format     2"), "{verified}");

    let (c1, c2) = (data_dir(), data_dir());
    merge_files(c1.path(), &[&f("a1.batch")]);
    merge_files(c1.path(), &[&f("b1.batch")]);
    merge_files(c2.path(), &[&f("b1.batch")]);
    merge_files(c2.path(), &[&f("a1.batch")]);
    let reg = register(c1.path());
    assert_eq!(
        reg,
        register(c2.path()),
        "the order batches came in does not matter"
    );
    let v: serde_json::Value = serde_json::from_str(&reg).unwrap();
    let rows = v["blocks"][0]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{reg}");
    assert!(reg.contains(&x) && reg.contains(&z));
    assert!(
        reg.contains("in_progress"),
        "B's update superseded A's version: {reg}"
    );
    let none = stdout_of(doorstep(c1.path()).args(["batch", "conflicts"]));
    assert!(none.contains("no unresolved conflicts"), "{none}");

    // A marks X done without seeing B's update: the histories diverge.
    update(a.path(), &x, &["--status", "done", "--note", "cleared"]);
    let out = export(a.path(), &f("a2.batch"), &["--unencrypted"]);
    assert!(
        out.contains("1 actions"),
        "only the changed action goes again: {out}"
    );
    let merged = merge_files(c1.path(), &[&f("a2.batch")]);
    assert!(merged.contains("1 conflict unresolved"), "{merged}");
    let listed = stdout_of(doorstep(c1.path()).args(["batch", "conflicts"]));
    assert!(
        listed.contains(&format!("action {x}: 2 versions")),
        "{listed}"
    );
    assert!(
        listed.contains("laptop-a") && listed.contains("laptop-b"),
        "{listed}"
    );
    assert!(
        listed.contains("in_progress") && listed.contains("done"),
        "{listed}"
    );
    assert!(
        !listed.contains("laptop-a, laptop-a"),
        "a device is named once: {listed}"
    );
    let json = stdout_of(doorstep(c1.path()).args(["batch", "conflicts", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let fields = v["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["fields"]["action"].is_string())
        .unwrap_or_else(|| panic!("{json}"));
    // Whichever line changed first is active; keep the other.
    let active = fields["fields"]["active"].as_str().unwrap().to_owned();
    let other = if active == "A" { "B" } else { "A" };
    doorstep(c1.path())
        .args(["batch", "resolve", &x, "--keep", "C"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has versions A, B"));
    let said = stdout_of(doorstep(c1.path()).args(["batch", "resolve", &x, "--keep", other]));
    assert!(said.contains("is now the one in the register"), "{said}");
    let none = stdout_of(doorstep(c1.path()).args(["batch", "conflicts"]));
    assert!(none.contains("no unresolved conflicts"), "{none}");
    let kept = register(c1.path());
    assert_ne!(kept, reg, "the kept version is active now");

    // The coordinator's own edit after the merge works, and recover rebuilds it all.
    update(c1.path(), &x, &["--note", "agreed at the PACT meeting"]);
    let before = register(c1.path());
    let shown = stdout_of(doorstep(c1.path()).args(["actions", "show", &x]));
    assert!(shown.contains("agreed at the PACT meeting"), "{shown}");
    std::fs::remove_dir_all(c1.path().join(STORE_DIR)).unwrap();
    doorstep(c1.path()).arg("recover").assert().success();
    assert_eq!(
        register(c1.path()),
        before,
        "recover keeps the merged register"
    );
    let none = stdout_of(doorstep(c1.path()).args(["batch", "conflicts"]));
    assert!(
        none.contains("no unresolved conflicts"),
        "the resolution is journaled: {none}"
    );
}

fn key() -> DeviceKey {
    DeviceKey::from_secret_bytes([9; 32])
}

fn write_batch(path: &Path, records: Vec<Record>) {
    let origin = Origin {
        batch: Uuid::now_v7(),
        sequence: 1,
        previous: None,
        device: "laptop-x".into(),
        officer: Some("PC 9".into()),
        created_at: t0(),
        selection: Selection::New,
    };
    let manifest = Manifest::describe(origin, &key().public(), &records);
    std::fs::write(path, batch::write(&manifest, &records, &key()).unwrap()).unwrap();
}

#[test]
fn a_malformed_action_record_is_refused_by_verify_and_merge_with_its_record_number() {
    let coord = data_dir();
    add(coord.path(), &[]);
    let files = tempfile::tempdir().unwrap();
    let before = state(coord.path());

    // Honestly signed, but its state is not what its history makes.
    let mut forged = changed(&action(4), 10, "PC 2", ActionStatus::Done);
    forged.status = ActionStatus::Open;
    let bad = files.path().join("forged.batch");
    write_batch(
        &bad,
        vec![Record::Action(action(5)), Record::Action(forged.clone())],
    );
    for cmd in ["verify", "merge"] {
        doorstep(coord.path())
            .args(["batch", cmd])
            .arg(&bad)
            .assert()
            .code(65)
            .stderr(predicate::str::contains(format!(
                "record 2 (line 4), action {}: its status, outcome",
                forged.id
            )));
        assert_eq!(state(coord.path()), before, "{cmd} changed nothing");
    }

    // Not even an action: a required field is missing from the JSON.
    let good = files.path().join("good.batch");
    write_batch(&good, vec![Record::Action(action(6))]);
    let text = std::fs::read_to_string(&good).unwrap();
    let records: Vec<&str> = text.lines().collect();
    let line = records[2];
    let body = &line[72..];
    let broken = body.replacen("\"lead\":\"Council street scene\",", "", 1);
    assert_ne!(broken, body);
    let sum = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(broken.as_bytes());
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    // Records are read (checksum, then JSON) before the signature is checked, so the
    // old signature line is never reached.
    let signed = format!(
        "{}\n{}\nsha256:{sum} {broken}\n{}\n",
        records[0], records[1], records[3]
    );
    let missing = files.path().join("missing.batch");
    std::fs::write(&missing, signed).unwrap();
    doorstep(coord.path())
        .args(["batch", "verify"])
        .arg(&missing)
        .assert()
        .code(65)
        .stderr(predicate::str::contains(
            "record 1 (line 3): missing field `lead`",
        ));
    assert_eq!(state(coord.path()), before, "verify changed nothing");
}

/// (actions, merged batches) in the register at `dir`.
fn held(dir: &Path) -> (usize, usize) {
    let store = Store::open(dir).unwrap();
    (
        store.actions().unwrap().actions.len(),
        store.merged_batches().unwrap().len(),
    )
}

#[test]
fn kill_9_during_a_merge_leaves_the_register_wholly_in_or_out_and_recover_agrees() {
    const ACTIONS: u128 = 400;
    let files = tempfile::tempdir().unwrap();
    let file: PathBuf = files.path().join("big.batch");
    let records = (0..ACTIONS)
        .map(|n| {
            Record::Action(changed(
                &action(100 + n),
                3,
                "PC 2",
                ActionStatus::InProgress,
            ))
        })
        .collect();
    write_batch(&file, records);
    let spawn = |dir: &Path| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_doorstep"));
        cmd.env_remove("DOORSTEP_DATA_DIR")
            .arg("--data-dir")
            .arg(dir)
            .args(["batch", "merge"])
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        cmd.spawn().unwrap()
    };
    let whole = (ACTIONS as usize, 1);
    let timing = data_dir();
    let started = Instant::now();
    let mut child = spawn(timing.path());
    let _ = BufReader::new(child.stdout.take().unwrap()).lines().count();
    assert!(child.wait().unwrap().success());
    let took = started.elapsed();
    assert_eq!(held(timing.path()), whole);

    let (mut wholly_in, mut wholly_out) = (0, 0);
    let runs = 8u32;
    for run in 0..runs {
        let dir = data_dir();
        let mut child = spawn(dir.path());
        std::thread::sleep(took * (run + 1) / runs * 6 / 5);
        let _ = child.kill();
        child.wait().unwrap();
        // The next start finishes a merge whose journal line is whole.
        let got = held(dir.path());
        assert!(
            got == whole || got == (0, 0),
            "run {run}: after kill -9 the register holds {got:?}"
        );
        if got == whole {
            wholly_in += 1;
        } else {
            wholly_out += 1;
        }
        std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
        doorstep(dir.path()).arg("recover").assert().success();
        assert_eq!(held(dir.path()), got, "run {run}: recover disagrees");
    }
    eprintln!(
        "action merge kill test: a whole merge took {:.0} ms; {runs} kills: {wholly_in} wholly in, {wholly_out} wholly out",
        took.as_secs_f64() * 1000.0
    );
}

#[test]
fn batches_without_actions_stay_format_1_and_a_format_1_batch_with_an_action_is_refused() {
    let key = key();
    let origin = |n: u128| Origin {
        batch: Uuid::from_u128(n),
        sequence: 1,
        previous: None,
        device: "laptop-x".into(),
        officer: None,
        created_at: t0(),
        selection: Selection::New,
    };
    let plain = Manifest::describe(origin(1), &key.public(), &[]);
    assert_eq!(plain.format, 1);
    let text = String::from_utf8(batch::write(&plain, &[], &key).unwrap()).unwrap();
    assert!(
        !text.contains("\"actions\""),
        "format 1 manifests stay as they were"
    );

    let records = vec![Record::Action(action(7))];
    let mut manifest = Manifest::describe(origin(2), &key.public(), &records);
    assert_eq!((manifest.format, manifest.counts.actions), (2, 1));
    assert!(manifest.counts.to_string().ends_with(", 1 actions"));
    let bytes = batch::write(&manifest, &records, &key).unwrap();
    assert_eq!(batch::open(&bytes, None).unwrap().records, records);
    // The same records signed as format 1: no release wrote that.
    manifest.format = 1;
    let bytes = batch::write(&manifest, &records, &key).unwrap();
    let e = batch::open(&bytes, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "record 1 (line 3): an action record in a format 1 batch (actions came with format 2)"
    );
}

fn format2_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/batches/format2-actions.batch")
}

/// The records of the format-2 fixture: an action as added, and another moved on.
fn format2_records() -> Vec<Record> {
    vec![
        Record::Action(action(20)),
        Record::Action(changed(&action(21), 15, "PC 2", ActionStatus::InProgress)),
    ]
}

/// Format 2, as this release writes it; every later release must keep reading it.
#[test]
fn the_format_2_fixture_still_reads_and_merges() {
    let bytes = std::fs::read(format2_fixture()).unwrap();
    let b = batch::open(&bytes, None).unwrap();
    assert_eq!(b.manifest.format, 2);
    assert_eq!(b.manifest.counts.actions, 2);
    assert_eq!(b.records, format2_records());
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = store.merge_batch(&b, &mut |_, _| {}).unwrap();
    assert_eq!(outcome(&r), [2, 0, 0, 0, 0]);
    assert_eq!(store.actions().unwrap().actions.len(), 2);
}

/// Writes the format-2 fixture; run by hand only when a new format version is added
/// (`cargo test --test integration write_format2_fixture -- --ignored`).
#[test]
#[ignore = "regenerates the format-2 batch fixture; run by hand only, never in the suite"]
fn write_format2_fixture() {
    let records = format2_records();
    let origin = Origin {
        batch: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002),
        sequence: 1,
        previous: None,
        device: "laptop-x".into(),
        officer: Some("PC 9".into()),
        created_at: t0(),
        selection: Selection::New,
    };
    let manifest = Manifest::describe(origin, &key().public(), &records);
    let bytes = batch::write(&manifest, &records, &key()).unwrap();
    std::fs::write(format2_fixture(), bytes).unwrap();
}
