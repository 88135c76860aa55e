//! `doorstep simulate` through the real binary: the batches it writes are ones `batch
//! verify` accepts, the same seed gives the same bytes, and the data looks like fieldwork
//! (duplicates, revisions, one conflict, door logs, urgent EVA findings, areas that differ).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use doorstep::batch::{self, Record};
use doorstep::response::{Outcome, StoredAnswer};
use doorstep::seal::CoordinatorIdentity;
use doorstep::survey::Answer;

fn doorstep(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_doorstep"));
    cmd.env_remove("DOORSTEP_DATA_DIR")
        .arg("--data-dir")
        .arg(dir);
    cmd
}

fn simulate(data: &Path, out: &Path, seed: &str, extra: &[&str]) -> Command {
    let mut cmd = doorstep(data);
    cmd.args([
        "simulate",
        "--devices",
        "3",
        "--responses",
        "900",
        "--period",
        "2026-Q4",
        "--periods",
        "2",
        "--seed",
        seed,
        "--out",
    ])
    .arg(out)
    .args(extra);
    cmd
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_does_not() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        out.path().join("a"),
        out.path().join("b"),
        out.path().join("c"),
    );
    simulate(data.path(), &a, "7", &["--unencrypted"])
        .assert()
        .success();
    simulate(data.path(), &b, "7", &["--unencrypted"])
        .assert()
        .success();
    simulate(data.path(), &c, "8", &["--unencrypted"])
        .assert()
        .success();
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    // Three devices, two periods: one batch each.
    assert_eq!(fa.len(), 6);
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.file_name(), y.file_name());
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{x:?}"
        );
    }
    for (x, y) in fa.iter().zip(&fc) {
        assert!(
            std::fs::read(x).unwrap() != std::fs::read(y).unwrap(),
            "{x:?}"
        );
    }
}

#[test]
fn encrypted_batches_verify_and_hold_realistic_fieldwork() {
    let coord = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let key = coord.path().join("coordinator.key");
    // The data directory must exist as one before a key file is kept in it.
    doorstep(coord.path())
        .args(["config", "set", "officer", "PC 1"])
        .assert()
        .success();
    let recipient = String::from_utf8(
        doorstep(coord.path())
            .args(["keys", "new", "--out"])
            .arg(&key)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    let dir = out.path().join("batches");
    simulate(
        coord.path(),
        &dir,
        "2026",
        &["--recipient", recipient.trim()],
    )
    .assert()
    .success();
    let batches = files(&dir);
    assert_eq!(batches.len(), 6);
    let said = doorstep(coord.path())
        .args(["batch", "verify", "--identity"])
        .arg(&key)
        .args(&batches)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let said = String::from_utf8(said).unwrap();
    assert_eq!(said.matches("\n  verified\n").count(), 6, "{said}");

    // The encrypted files decrypt to exactly what --unencrypted writes for the seed.
    let plain = out.path().join("plain");
    simulate(coord.path(), &plain, "2026", &["--unencrypted"])
        .assert()
        .success();
    let identity =
        CoordinatorIdentity::from_file_text(&std::fs::read_to_string(&key).unwrap()).unwrap();
    let mut opened = Vec::new();
    for (enc, clear) in batches.iter().zip(files(&plain)) {
        let e = batch::open(&std::fs::read(enc).unwrap(), Some(&identity)).unwrap();
        let c = batch::open(&std::fs::read(&clear).unwrap(), None).unwrap();
        assert!(e.encrypted && !c.encrypted);
        assert_eq!(e.digest, c.digest, "{enc:?}");
        opened.push(c);
    }

    // Duplicates (same id, same content), exactly one conflict (same id, other content),
    // and revisions.
    let mut by_id: HashMap<uuid::Uuid, Vec<String>> = HashMap::new();
    let mut revisions = 0;
    let mut knocks: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut urgent = 0;
    let mut graded = 0;
    // Share of "safe after dark" answers of `very_unsafe`/`fairly_unsafe` by area.
    let mut feel: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut responses = 0;
    // Doors where an interview was logged, per quarter: two laptops never share one.
    let mut interviewed_doors: HashMap<(String, String, String), usize> = HashMap::new();
    // Every door's knocks: by whom, and in which quarters.
    type Knocked = (BTreeSet<String>, BTreeSet<u64>, usize);
    let mut door_knocks: HashMap<(String, String), Knocked> = HashMap::new();
    let mut under_16 = 0;
    let mut kin = 0;
    for b in &opened {
        for r in &b.records {
            match r {
                Record::Response(r) => {
                    responses += 1;
                    revisions += usize::from(r.replaces.is_some());
                    by_id
                        .entry(r.id)
                        .or_default()
                        .push(serde_json::to_string(r).unwrap());
                    for f in r.findings.values() {
                        urgent += usize::from(f.urgent);
                    }
                    graded += r
                        .answers
                        .values()
                        .filter(|a| matches!(a.value, StoredAnswer::Plain(Answer::Grade(_))))
                        .count();
                    if let Some(a) = r.answers.get("age_check") {
                        kin += 1;
                        under_16 += usize::from(matches!(
                            &a.value,
                            StoredAnswer::Plain(Answer::Choice(v)) if v == "under_16"
                        ));
                    }
                    if let Some(a) = r.answers.get("safe_after_dark") {
                        let e = feel.entry(r.area.clone()).or_default();
                        e.1 += 1;
                        if let StoredAnswer::Plain(Answer::Choice(v)) = &a.value
                            && v.contains("unsafe")
                        {
                            e.0 += 1;
                        }
                    }
                }
                Record::Knock(k) => {
                    let (devices, quarters, n) = door_knocks
                        .entry((k.area.to_lowercase(), k.door.key()))
                        .or_default();
                    devices.insert(k.knock.device.clone().unwrap_or_default());
                    quarters.insert(b.manifest.sequence);
                    *n += 1;
                    let kind = match k.knock.outcome {
                        Outcome::NoAnswer => "no answer",
                        Outcome::Refused => "refused",
                        Outcome::CallBack { .. } => "call back",
                        Outcome::Interviewed { .. } => {
                            // A device's batch n holds quarter n of the simulation.
                            let period = b.manifest.sequence.to_string();
                            *interviewed_doors
                                .entry((period, k.area.clone(), k.door.key()))
                                .or_default() += 1;
                            "interviewed"
                        }
                        Outcome::NotApplicable => "not applicable",
                    };
                    *knocks.entry(kind).or_default() += 1;
                }
                _ => {}
            }
        }
    }
    let duplicates = by_id
        .values()
        .filter(|v| v.len() > 1 && v.iter().collect::<BTreeSet<_>>().len() == 1)
        .count();
    let conflicts = by_id
        .values()
        .filter(|v| v.iter().collect::<BTreeSet<_>>().len() > 1)
        .count();
    assert_eq!(conflicts, 1);
    // One device's last responses go again in its next batch: at least one per device.
    assert!(duplicates >= 3, "{duplicates}");
    assert!(revisions >= 1, "{revisions}");
    assert!(responses >= 900, "{responses}");
    // Every kind of doorstep outcome, no-answers the most common after interviews.
    assert_eq!(knocks.len(), 5, "{knocks:?}");
    assert!(knocks["no answer"] > knocks["refused"], "{knocks:?}");
    assert!(knocks["refused"] > 0 && knocks["call back"] > 0);
    // Each interview at its own door within a quarter (a door shared by two laptops would
    // make the door log count fewer doors than interviews).
    let shared: Vec<_> = interviewed_doors.iter().filter(|(_, n)| **n > 1).collect();
    assert!(shared.len() * 100 <= interviewed_doors.len(), "{shared:?}");
    // A door is one laptop's, visited again the next quarter, and knocked a few times at
    // most, as a real door is (not hundreds of times, whatever the simulation's size).
    assert!(door_knocks.values().all(|(d, _, _)| d.len() == 1));
    assert!(door_knocks.values().any(|(_, q, _)| q.len() > 1));
    let most = door_knocks.values().map(|(_, q, n)| n / q.len()).max();
    assert!(most.is_some_and(|m| m <= 3), "{most:?} knocks a quarter");
    // Under-16s end a KIN interview: a few, not a large share of those met.
    assert!(under_16 * 20 <= kin, "{under_16} of {kin}");
    // EVA transects: graded, and a few urgent findings.
    assert!(graded > 0);
    assert!(urgent > 0);
    // Areas differ: the shares feeling unsafe after dark are not all alike.
    let shares: Vec<f64> = feel
        .values()
        .filter(|(_, n)| *n >= 10)
        .map(|(k, n)| *k as f64 / *n as f64)
        .collect();
    assert!(shares.len() >= 2, "{feel:?}");
    let (lo, hi) = shares
        .iter()
        .fold((1.0f64, 0.0f64), |(lo, hi), s| (lo.min(*s), hi.max(*s)));
    assert!(hi - lo > 0.1, "{feel:?}");
}

#[test]
fn bad_plans_are_refused_and_nothing_is_written() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("b");
    let cases: [(&[&str], &str); 4] = [
        (&["--devices", "0"], "--devices must be at least 1"),
        (
            &["--first-device", "0"],
            "--first-device must be at least 1",
        ),
        (&["--periods", "0"], "--periods must be from 1 to 40"),
        (&["--recipient", "age1nothing"], "--recipient `age1nothing`"),
    ];
    for (args, message) in cases {
        let mut cmd = doorstep(data.path());
        cmd.args([
            "simulate",
            "--responses",
            "10",
            "--period",
            "2026-Q4",
            "--seed",
            "1",
            "--out",
        ])
        .arg(&dir)
        .args(args);
        if !args.contains(&"--devices") {
            cmd.args(["--devices", "1"]);
        }
        if !args.contains(&"--recipient") {
            cmd.arg("--unencrypted");
        }
        cmd.assert()
            .code(doorstep::exit::USAGE as i32)
            .stderr(predicates::str::contains(message));
        assert!(!dir.exists(), "{args:?}");
    }
    // No recipient set and none given: refused, like export.
    doorstep(data.path())
        .args([
            "simulate",
            "--devices",
            "1",
            "--responses",
            "10",
            "--period",
            "2026-Q4",
            "--seed",
            "1",
            "--out",
        ])
        .arg(&dir)
        .assert()
        .code(doorstep::exit::USAGE as i32)
        .stderr(predicates::str::contains(
            "no coordinator recipient is set, so the batches cannot be encrypted",
        ));
    doorstep(data.path())
        .args([
            "simulate",
            "--devices",
            "1",
            "--responses",
            "10",
            "--period",
            "2026-Q5",
            "--seed",
            "1",
            "--unencrypted",
            "--out",
        ])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("bad period `2026-Q5`"));
    assert!(!dir.exists());

    // A batch already there is never overwritten.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("SIM-001-01.batch"), b"mine").unwrap();
    doorstep(data.path())
        .args([
            "simulate",
            "--devices",
            "1",
            "--responses",
            "10",
            "--period",
            "2026-Q4",
            "--seed",
            "1",
            "--unencrypted",
            "--out",
        ])
        .arg(&dir)
        .assert()
        .code(doorstep::exit::USAGE as i32)
        .stderr(predicates::str::contains(
            "SIM-001-01.batch already exists; simulate never overwrites a batch",
        ));
    assert_eq!(
        std::fs::read(dir.join("SIM-001-01.batch")).unwrap(),
        b"mine"
    );
}

/// A second simulation for the same coordinator, numbered on from the first, brings other
/// laptops: new names, keys and records, all merged beside the first's. Without
/// `--first-device` its laptops have the first's names and other keys, and the
/// coordinator's pins refuse them.
#[test]
fn a_second_simulation_numbered_on_brings_new_laptops() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let coord = tempfile::tempdir().unwrap();
    let (first, second, clash) = (
        out.path().join("first"),
        out.path().join("second"),
        out.path().join("clash"),
    );
    simulate(data.path(), &first, "5", &["--unencrypted"])
        .assert()
        .success();
    simulate(
        data.path(),
        &second,
        "6",
        &["--unencrypted", "--first-device", "4"],
    )
    .assert()
    .success();
    let names: Vec<String> = files(&second)
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "SIM-004-01.batch",
            "SIM-004-02.batch",
            "SIM-005-01.batch",
            "SIM-005-02.batch",
            "SIM-006-01.batch",
            "SIM-006-02.batch"
        ]
    );
    let merge = |coord: &Path, dir: &Path| {
        doorstep(coord)
            .args(["batch", "merge"])
            .arg(dir)
            .arg("--json")
            .assert()
    };
    let rows = |said: &[u8]| -> Vec<serde_json::Value> {
        let v: serde_json::Value = serde_json::from_slice(said).unwrap();
        v["blocks"][0]["rows"].as_array().unwrap().clone()
    };
    // The second simulation merged alone, then after the first: the same counts, so
    // none of its records met one of the first's.
    let alone = tempfile::tempdir().unwrap();
    let by_itself = rows(&merge(alone.path(), &second).success().get_output().stdout);
    merge(coord.path(), &first).success();
    let after_first = rows(&merge(coord.path(), &second).success().get_output().stdout);
    assert_eq!(after_first.len(), 6);
    assert_eq!(by_itself, after_first);
    for r in &after_first {
        assert_eq!(r["result"], "merged", "{r}");
    }
    let listed = doorstep(coord.path())
        .args(["devices", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let listed = String::from_utf8(listed).unwrap();
    for n in 1..=6 {
        assert!(listed.contains(&format!("SIM-00{n}")), "{listed}");
    }
    // The same names from another seed carry other keys: refused, nothing merged.
    simulate(data.path(), &clash, "7", &["--unencrypted"])
        .assert()
        .success();
    let before = doorstep(coord.path())
        .args(["responses", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    merge(coord.path(), &clash)
        .code(doorstep::exit::DATA_ERR as i32)
        .stderr(predicates::str::contains("SIM-001"));
    let after = doorstep(coord.path())
        .args(["responses", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(before, after);
}

/// A dry run works the batches out one after another, each seeing what the ones before it
/// would have merged (duplicates across batches, revisions, the one conflict), while
/// holding no more than one batch: it says exactly what the merge then does.
#[test]
fn a_dry_run_says_what_merging_the_batches_one_after_another_does() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let coord = tempfile::tempdir().unwrap();
    simulate(
        data.path(),
        &out.path().join("inbox"),
        "11",
        &["--unencrypted"],
    )
    .assert()
    .success();
    let merge = |extra: &[&str]| {
        let said = doorstep(coord.path())
            .current_dir(out.path())
            .args(["batch", "merge", "inbox"])
            .args(extra)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(said).unwrap()
    };
    let dry = merge(&["--dry-run"]);
    insta::assert_snapshot!("simulate_dry_run", dry);
    let rows = |json: &str| -> Vec<serde_json::Value> {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let mut rows = v["blocks"][0]["rows"].as_array().unwrap().clone();
        for r in &mut rows {
            r["result"] = serde_json::Value::Null;
        }
        rows
    };
    let dry_rows = rows(&merge(&["--dry-run", "--json"]));
    // Nothing was written, so the real merge starts from the same store.
    let real = merge(&["--json"]);
    assert!(real.contains("\"merged\""), "{real}");
    assert_eq!(dry_rows, rows(&real));
    // Duplicates across batches and the conflict are counted as the merge counts them.
    let total = |key: &str| {
        dry_rows
            .iter()
            .map(|r| r[key].as_u64().unwrap())
            .sum::<u64>()
    };
    assert!(
        total("duplicate") > 0 && total("conflict") == 1,
        "{dry_rows:?}"
    );
}

/// Each area's action register travels in the batches of the one device that keeps it:
/// a few actions for each of the area's three top issues each period, tasked to partners,
/// some done with a public "You said, We did" line, some under way, some still open past
/// their date; every one an action doorstep accepts, and merged into the register.
#[test]
fn simulated_batches_carry_a_realistic_action_register() {
    use doorstep::action::{Action, ActionStatus};

    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("sim");
    simulate(data.path(), &dir, "2026", &["--unencrypted"])
        .assert()
        .success();
    let mut actions: Vec<Action> = Vec::new();
    // Which devices carried each area's actions.
    let mut keepers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files(&dir) {
        let b = batch::open(&std::fs::read(&file).unwrap(), None).unwrap();
        for r in b.records {
            if let Record::Action(a) = r {
                a.check_record().unwrap();
                keepers
                    .entry(a.priority.area.clone())
                    .or_default()
                    .insert(b.manifest.device.clone());
                actions.push(a);
            }
        }
    }
    assert!(!actions.is_empty());
    assert!(keepers.values().all(|d| d.len() == 1), "{keepers:?}");
    let mut issues: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for a in &actions {
        issues
            .entry((a.priority.area.clone(), a.priority.period.to_string()))
            .or_default()
            .insert(a.priority.issue.clone());
    }
    assert!(issues.values().all(|i| i.len() == 3), "{issues:?}");
    let periods: BTreeSet<String> = issues.keys().map(|(_, p)| p.clone()).collect();
    assert_eq!(
        periods,
        BTreeSet::from(["2026-Q3".into(), "2026-Q4".into()])
    );
    let with = |s: ActionStatus| actions.iter().filter(|a| a.status == s).count();
    assert!(with(ActionStatus::Done) > 0 && with(ActionStatus::InProgress) > 0);
    assert!(with(ActionStatus::Open) > 0, "no action left open");
    for a in actions.iter().filter(|a| a.status == ActionStatus::Done) {
        let public = a.public.as_deref().unwrap_or_default();
        assert!(
            public.starts_with("You said: ") && public.contains(". We "),
            "{public}"
        );
        assert!(a.outcome.is_some());
    }
    let leads: BTreeSet<&str> = actions.iter().map(|a| a.lead.as_str()).collect();
    assert!(leads.len() >= 2, "{leads:?}");
    // Still open at the end of 2026 with an earlier due date: overdue.
    let end = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
    assert!(actions.iter().any(|a| a.overdue(end).is_some()));

    // Merged, they are the coordinator's register.
    let coord = tempfile::tempdir().unwrap();
    doorstep(coord.path())
        .args(["batch", "merge"])
        .arg(&dir)
        .assert()
        .success();
    let store = doorstep::store::Store::open(coord.path()).unwrap();
    let held = store.actions().unwrap();
    assert!(held.unreadable.is_empty());
    assert_eq!(held.actions.len(), actions.len());
}

/// What `batch merge` of `dir` into `coord` says, having succeeded.
fn merged(coord: &Path, dir: &Path) -> String {
    let out = doorstep(coord)
        .args(["batch", "merge"])
        .arg(dir)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

/// `batch merge` keeps the report's counts beside the store; a report read from them is the
/// report counted afresh from every response (once a write has made them stale), for
/// each period, level and view — and a merge that merges nothing new leaves them be.
#[test]
fn reports_from_the_counts_a_merge_keeps_are_the_reports_counted_afresh() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let coord = tempfile::tempdir().unwrap();
    let dir = out.path().join("batches");
    simulate(data.path(), &dir, "3", &["--unencrypted"])
        .assert()
        .success();
    let merge = || merged(coord.path(), &dir);
    let said = merge();
    assert!(!said.contains("could not be kept"), "{said}");
    let reports = || -> Vec<String> {
        let mut all = Vec::new();
        for period in ["2026-Q3", "2026-Q4", "2027-Q1"] {
            for level in ["ward", "paa", "township"] {
                for internal in [false, true] {
                    let mut cmd = doorstep(coord.path());
                    cmd.args(["report", "--period", period, "--level", level]);
                    if internal {
                        cmd.arg("--internal");
                    }
                    let bytes = cmd
                        .args(["--format", "json"])
                        .assert()
                        .success()
                        .get_output()
                        .stdout
                        .clone();
                    all.push(String::from_utf8(bytes).unwrap());
                }
            }
        }
        all
    };
    let kept = reports();
    let q4: serde_json::Value = serde_json::from_str(&kept[3]).unwrap();
    assert!(
        q4["areas"].as_array().is_some_and(|a| !a.is_empty()),
        "{q4}"
    );
    // Merging the same batches again writes nothing: the counts stay current.
    let again = merge();
    assert!(again.contains("already merged"), "{again}");
    assert_eq!(reports(), kept);
    // Any write moves the store past the counts kept: read from every response now.
    doorstep(coord.path())
        .args(["config", "set", "officer", "PC 2"])
        .assert()
        .success();
    let counted = reports();
    for (i, (a, b)) in kept.iter().zip(&counted).enumerate() {
        assert!(
            a == b,
            "report {i} differs when counted afresh:\n{a}\n---\n{b}"
        );
    }
}

/// Counts that cannot be kept (here a file stands where their folder goes) leave the
/// merge as it is: every batch merged, a warning naming where, and reports counted from
/// every response.
#[test]
fn a_merge_whose_counts_cannot_be_kept_stands_and_says_so() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let coord = tempfile::tempdir().unwrap();
    let dir = out.path().join("batches");
    simulate(data.path(), &dir, "3", &["--unencrypted"])
        .assert()
        .success();
    doorstep(coord.path())
        .args(["config", "set", "officer", "Coordinator"])
        .assert()
        .success();
    let blocker = coord.path().join("report-counts");
    std::fs::write(&blocker, "in the way").unwrap();
    let said = merged(coord.path(), &dir);
    assert!(
        said.contains("the report's counts could not be kept"),
        "{said}"
    );
    assert!(said.contains("report-counts"), "{said}");
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "in the way");
    // Merged all the same: merging again finds every batch in.
    let again = merged(coord.path(), &dir);
    assert!(again.contains("already merged"), "{again}");
    let report = doorstep(coord.path())
        .args(["report", "--period", "2026-Q4", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
    assert!(
        report["areas"].as_array().is_some_and(|a| !a.is_empty()),
        "{report}"
    );
}
