//! Door corrections and removals travel in batches: a laptop corrects a door and removes
//! another after exporting, exports again, and the coordinator ends with the same door log
//! whichever batch it merges first (through the real binary); broken records are refused
//! naming the record; the format-3 fixture keeps reading and merging.

use std::path::{Path, PathBuf};

use chrono::Duration;
use doorstep::batch::{self, DeviceKey, DoorEditEntry, DoorRemoveEntry, Manifest, Origin, Record};
use doorstep::response::{Door, DoorRecord, Outcome, SettingKey};
use doorstep::store::Store;
use predicates::prelude::*;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::batches::{coordinator, doorstep, export, interview, stdout_of};
use crate::merge::logical;
use crate::store_helpers::{open, t0};

/// A ward of the built-in geography, so the report covers it.
const AREA: &str = "E05000857";

fn door(street: &str, number: &str) -> Door {
    Door::new(street, number).unwrap()
}

/// The door log as (door, outcomes of its knocks), by door.
fn door_log(store: &Store) -> Vec<(String, Vec<String>)> {
    store
        .doors(AREA)
        .unwrap()
        .into_iter()
        .map(|d: DoorRecord| {
            (
                d.door.to_string(),
                d.knocks.iter().map(|k| k.outcome.to_string()).collect(),
            )
        })
        .collect()
}

fn merge_cmd(coord: &Path, file: &Path, identity: &Path) -> assert_cmd::Command {
    let mut cmd = doorstep(coord);
    cmd.args(["batch", "merge"])
        .arg(file)
        .arg("--identity")
        .arg(identity);
    cmd
}

/// The report's door counts for the area: knocked, answered, interviewed.
fn report_doors(coord: &Path) -> (i64, i64, i64) {
    let said = stdout_of(doorstep(coord).args([
        "report",
        "--period",
        "2026-Q4",
        "--area",
        AREA,
        "--format",
        "json",
        // Small counts shown, not suppressed as in the public pack.
        "--internal",
    ]));
    let json: serde_json::Value = serde_json::from_str(&said).unwrap();
    let fw = &json["areas"][0]["fieldwork"];
    let n = |k: &str| fw[k]["value"].as_i64().unwrap_or(-1);
    (
        n("doors_knocked"),
        n("doors_answered"),
        n("doors_interviewed"),
    )
}

#[test]
fn a_corrected_and_a_removed_door_reach_the_coordinator_in_either_order() {
    let inbox = tempfile::tempdir().unwrap();
    let (c1, c2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (identity, recipient) = coordinator(c1.path());
    drop(Store::open(c2.path()).unwrap());
    let key2 = c2.path().join("coordinator.key");
    std::fs::copy(&identity, &key2).unwrap();

    // The laptop: an interview elsewhere; here no answer then a refusal at "14 Kay Stret"
    // (a typo), no answer at 16 Kay Street and at 99 Kay Street (a door entered by
    // mistake); exported.
    let lap = tempfile::tempdir().unwrap();
    let interviewed;
    {
        let store = Store::open(lap.path()).unwrap();
        store.set_setting(SettingKey::Device, "laptop-5").unwrap();
        store.set_setting(SettingKey::Officer, "PC 5").unwrap();
        store
            .set_setting(SettingKey::Recipient, &recipient)
            .unwrap();
        interviewed = interview(&store, "12").id;
        let at = |m: i64| t0() + Duration::minutes(m);
        store
            .knock(AREA, door("Kay Stret", "14"), Outcome::NoAnswer, at(10))
            .unwrap();
        store
            .knock(AREA, door("Kay Stret", "14"), Outcome::Refused, at(20))
            .unwrap();
        store
            .knock(AREA, door("Kay Street", "16"), Outcome::NoAnswer, at(25))
            .unwrap();
        store
            .knock(AREA, door("Kay Street", "99"), Outcome::NoAnswer, at(30))
            .unwrap();
    }
    let first = inbox.path().join("1.batch");
    export(lap.path(), &first, &[]);
    // Then the officer corrects the typo and removes the mistaken door, and exports again.
    {
        let store = Store::open(lap.path()).unwrap();
        store
            .edit_door(AREA, &door("Kay Stret", "14"), door("Kay Street", "14"))
            .unwrap();
        store.remove_door(AREA, &door("Kay Street", "99")).unwrap();
    }
    let second = inbox.path().join("2.batch");
    let said = export(lap.path(), &second, &[]);
    assert!(
        said.contains("1 door corrections, 1 door removals"),
        "{said}"
    );
    let verified = stdout_of(
        doorstep(c1.path())
            .args(["batch", "verify"])
            .arg(&second)
            .arg("--identity")
            .arg(&identity),
    );
    assert!(
        verified.contains("1 door corrections, 1 door removals"),
        "{verified}"
    );
    let json = stdout_of(
        doorstep(c1.path())
            .args(["batch", "verify", "--json"])
            .arg(&second)
            .arg("--identity")
            .arg(&identity),
    );
    assert!(json.contains("\"door_edits\": 1"), "{json}");
    assert!(json.contains("\"door_removals\": 1"), "{json}");

    // One coordinator merges them in order, the other the other way round.
    for (coord, key, order) in [
        (c1.path(), &identity, [&first, &second]),
        (c2.path(), &key2, [&second, &first]),
    ] {
        for file in order {
            merge_cmd(coord, file, key).assert().success();
        }
    }
    let want = vec![
        (
            "14 Kay Street".to_owned(),
            vec!["no answer".to_owned(), "refused".to_owned()],
        ),
        ("16 Kay Street".to_owned(), vec!["no answer".to_owned()]),
    ];
    let (one, two) = (
        Store::open(c1.path()).unwrap(),
        Store::open(c2.path()).unwrap(),
    );
    assert_eq!(door_log(&one), want);
    assert_eq!(door_log(&two), want);
    assert_eq!(logical(&one), logical(&two));
    // The interview's door, in its own area, is untouched.
    let interviews: Vec<String> = one
        .doors("E05000650")
        .unwrap()
        .iter()
        .flat_map(|d| d.knocks.iter().map(|k| k.outcome.to_string()))
        .collect();
    assert_eq!(interviews, [format!("interviewed ({interviewed})")]);
    drop((one, two));
    // Two doors knocked (the removed one no longer counts), the corrected one answered.
    assert_eq!(report_doors(c1.path()), (2, 1, 0));
    assert_eq!(report_doors(c2.path()), (2, 1, 0));

    // Merging both again changes nothing.
    let before = logical(&Store::open(c1.path()).unwrap());
    for file in [&first, &second] {
        let said = stdout_of(&mut merge_cmd(c1.path(), file, &identity));
        assert!(said.contains("already merged"), "{said}");
    }
    assert_eq!(logical(&Store::open(c1.path()).unwrap()), before);

    // Everything again (--all): the door log stays as it is, and `recover` rebuilds it.
    let all = inbox.path().join("3.batch");
    export(lap.path(), &all, &["--all"]);
    let said = stdout_of(merge_cmd(c1.path(), &all, &identity).arg("--json"));
    let report: serde_json::Value = serde_json::from_str(&said).unwrap();
    let row = &report["blocks"][0]["rows"][0];
    assert_eq!(
        (row["new"].as_i64(), row["rejected"].as_i64()),
        (Some(0), Some(0)),
        "{said}"
    );
    assert_eq!(door_log(&Store::open(c1.path()).unwrap()), want);
    doorstep(c1.path()).arg("recover").assert().success();
    let store = Store::open(c1.path()).unwrap();
    assert_eq!(door_log(&store), want);
}

/// A knock merged after the correction that moved it lands on the corrected door, where
/// another laptop had knocked already: both laptops' knocks are kept there, in the store
/// and in what `recover` rebuilds (of the store, and from the journal alone; recover keeps
/// the doors out of memory between journal lines and must read that door back first).
#[test]
fn a_knock_merged_after_its_correction_joins_the_knocks_at_the_corrected_door() {
    let inbox = tempfile::tempdir().unwrap();
    let coord = tempfile::tempdir().unwrap();
    let (identity, recipient) = coordinator(coord.path());
    let at = |m: i64| t0() + Duration::minutes(m);
    let laptop = |device: &str, officer: &str| {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.set_setting(SettingKey::Device, device).unwrap();
        store.set_setting(SettingKey::Officer, officer).unwrap();
        store
            .set_setting(SettingKey::Recipient, &recipient)
            .unwrap();
        (dir, store)
    };
    // Another laptop found no answer at 14 Kay Street.
    let (other, store) = laptop("laptop-6", "PC 6");
    store
        .knock(AREA, door("Kay Street", "14"), Outcome::NoAnswer, at(5))
        .unwrap();
    drop(store);
    let theirs = inbox.path().join("0.batch");
    export(other.path(), &theirs, &[]);
    // This one was refused at "14 Kay Stret", exported, then corrected the typo.
    let (lap, store) = laptop("laptop-5", "PC 5");
    store
        .knock(AREA, door("Kay Stret", "14"), Outcome::Refused, at(20))
        .unwrap();
    drop(store);
    let first = inbox.path().join("1.batch");
    export(lap.path(), &first, &[]);
    Store::open(lap.path())
        .unwrap()
        .edit_door(AREA, &door("Kay Stret", "14"), door("Kay Street", "14"))
        .unwrap();
    let second = inbox.path().join("2.batch");
    export(lap.path(), &second, &[]);

    // The correction reaches the coordinator before the knock it moves.
    for file in [&theirs, &second, &first] {
        merge_cmd(coord.path(), file, &identity).assert().success();
    }
    let want = vec![(
        "14 Kay Street".to_owned(),
        vec!["no answer".to_owned(), "refused".to_owned()],
    )];
    let merged = Store::open(coord.path()).unwrap();
    assert_eq!(door_log(&merged), want);
    let before = logical(&merged);
    drop(merged);

    doorstep(coord.path()).arg("recover").assert().success();
    let healthy = Store::open(coord.path()).unwrap();
    assert_eq!(door_log(&healthy), want);
    assert_eq!(logical(&healthy), before);
    drop(healthy);

    std::fs::remove_dir_all(coord.path().join(doorstep::store::STORE_DIR)).unwrap();
    doorstep(coord.path()).arg("recover").assert().success();
    assert_eq!(door_log(&Store::open(coord.path()).unwrap()), want);
}

/// A change exported once is not exported again, unless everything (or everything since
/// an earlier batch) is asked for.
#[test]
fn a_correction_is_exported_once() {
    let lap = tempfile::tempdir().unwrap();
    {
        let store = open(lap.path());
        store.set_setting(SettingKey::Device, "laptop-6").unwrap();
        store
            .knock(AREA, door("Kay Street", "3"), Outcome::NoAnswer, t0())
            .unwrap();
        store
            .edit_door(AREA, &door("Kay Street", "3"), door("Kay Street", "5"))
            .unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let said = export(lap.path(), &out.path().join("a.batch"), &["--unencrypted"]);
    assert!(said.contains("1 door corrections"), "{said}");
    let first = said.split_whitespace().nth(1).unwrap().to_owned();
    let said = export(lap.path(), &out.path().join("b.batch"), &["--unencrypted"]);
    assert!(!said.contains("door corrections"), "{said}");
    // A second correction, exported in a batch of its own; `--since` the first batch
    // takes it and not the first correction.
    open(lap.path())
        .edit_door(AREA, &door("Kay Street", "5"), door("Kay Street", "15"))
        .unwrap();
    let said = export(lap.path(), &out.path().join("b2.batch"), &["--unencrypted"]);
    assert!(said.contains("1 door corrections"), "{said}");
    let since = out.path().join("since.batch");
    export(lap.path(), &since, &["--unencrypted", "--since", &first]);
    let b = batch::open(&std::fs::read(&since).unwrap(), None).unwrap();
    let edits: Vec<(String, String)> = b
        .records
        .iter()
        .filter_map(|r| match r {
            Record::DoorEdit(e) => Some((e.from.number.clone(), e.to.number.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(edits, [("5".to_owned(), "15".to_owned())]);
    let said = export(
        lap.path(),
        &out.path().join("c.batch"),
        &["--unencrypted", "--all"],
    );
    assert!(said.contains("2 door corrections"), "{said}");
    let b = batch::open(&std::fs::read(out.path().join("c.batch")).unwrap(), None).unwrap();
    let Some(Record::DoorEdit(e)) = b
        .records
        .iter()
        .find(|r| matches!(r, Record::DoorEdit(e) if e.from.number == "3"))
    else {
        panic!("no door-edit record from 3: {:?}", b.records);
    };
    assert_eq!((e.from.number.as_str(), e.to.number.as_str()), ("3", "5"));
    assert_eq!(e.device, "laptop-6");
    assert_eq!(e.knocks.len(), 1);
}

fn secret() -> [u8; 32] {
    [41; 32]
}

/// A signed batch of `records` (format as this release writes it), as bytes.
fn signed(records: &[Record]) -> Vec<u8> {
    let key = DeviceKey::from_secret_bytes(secret());
    let origin = Origin {
        batch: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0003),
        sequence: 1,
        previous: None,
        device: "laptop-d".into(),
        officer: Some("PC 9".into()),
        created_at: t0(),
        selection: batch::Selection::New,
    };
    let manifest = Manifest::describe(origin, &key.public(), records);
    batch::write(&manifest, records, &key).unwrap()
}

/// `bytes` with the JSON of record 1 changed by `edit`, its checksum and the signature
/// made again: a batch a broken writer could have signed.
fn resigned(bytes: &[u8], edit: impl Fn(&str) -> String) -> Vec<u8> {
    use ed25519_dalek::Signer;
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let body = edit(&lines[2][72..]);
    let sum: String = Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    lines[2] = format!("sha256:{sum} {body}");
    lines.pop();
    let mut out = lines.join("\n");
    out.push('\n');
    let signature = ed25519_dalek::SigningKey::from_bytes(&secret()).sign(out.as_bytes());
    let hex: String = signature
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    out.push_str(&format!("ed25519:{hex}\n"));
    out.into_bytes()
}

fn correction() -> Record {
    Record::DoorEdit(DoorEditEntry {
        id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0010),
        area: AREA.into(),
        from: door("Kay Stret", "14"),
        to: door("Kay Street", "14"),
        at: t0() + Duration::hours(2),
        device: "laptop-d".into(),
        officer: Some("PC 9".into()),
        knocks: vec![Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0020)],
    })
}

#[test]
fn a_broken_door_change_is_refused_naming_the_record_and_changes_nothing() {
    let coord = tempfile::tempdir().unwrap();
    drop(Store::open(coord.path()).unwrap());
    let good = signed(&[correction()]);
    let no_knocks = resigned(&good, |json| {
        json.replace(",\"knocks\":[", ",\"knocks_\":[")
    });
    let mut bad_door = correction();
    if let Record::DoorEdit(e) = &mut bad_door {
        e.to.street = String::new();
    }
    let mut no_area = Record::DoorRemove(DoorRemoveEntry {
        id: Uuid::from_u128(5),
        area: " ".into(),
        door: door("Kay Street", "1"),
        at: t0(),
        device: "laptop-d".into(),
        officer: None,
        knocks: Vec::new(),
    });
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "missing",
            no_knocks,
            "record 1 (line 3): missing field `knocks`",
        ),
        (
            "door",
            signed(&[bad_door]),
            "record 1 (line 3): door_edit: `to`:",
        ),
        (
            "area",
            signed(std::slice::from_mut(&mut no_area)),
            "record 1 (line 3): door_remove: `area` is empty",
        ),
    ];
    let before = logical(&Store::open(coord.path()).unwrap());
    let journal = std::fs::read(doorstep::store::journal_path(coord.path())).unwrap_or_default();
    for (name, bytes, reason) in cases {
        let file = coord.path().join(format!("{name}.batch"));
        std::fs::write(&file, bytes).unwrap();
        for command in ["verify", "merge"] {
            doorstep(coord.path())
                .args(["batch", command])
                .arg(&file)
                .assert()
                .code(65)
                .stderr(predicate::str::contains(reason));
        }
    }
    assert_eq!(logical(&Store::open(coord.path()).unwrap()), before);
    assert_eq!(
        std::fs::read(doorstep::store::journal_path(coord.path())).unwrap_or_default(),
        journal
    );
    // The records are sound again once the broken field is put right: the same signed
    // layout reads.
    assert!(batch::open(&good, None).is_ok());
}

fn format3_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/batches/format3-doors.batch")
}

/// The records of the format-3 fixture: two knocks at a misspelled door, a correction of
/// it naming the first (the second arrived after it on another laptop, say), a knock and a
/// removal of a mistaken door.
fn format3_records() -> Vec<Record> {
    use doorstep::batch::{DoorEntry, KnockEntry};
    use doorstep::response::Knock;
    let knock = |n: u128, number: &str, street: &str, outcome: Outcome| {
        Record::Knock(KnockEntry {
            area: AREA.into(),
            door: door(street, number),
            knock: Knock {
                id: Some(Uuid::from_u128(
                    0x0190_0000_0000_7000_8000_0000_0000_0020 + n,
                )),
                device: Some("laptop-d".into()),
                officer: Some("PC 9".into()),
                ..Knock::new(t0() + Duration::minutes(n as i64), outcome)
            },
        })
    };
    vec![
        Record::Door(DoorEntry {
            area: AREA.into(),
            door: door("Kay Stret", "14"),
        }),
        Record::Door(DoorEntry {
            area: AREA.into(),
            door: door("Kay Street", "99"),
        }),
        knock(0, "14", "Kay Stret", Outcome::NoAnswer),
        knock(1, "99", "Kay Street", Outcome::NoAnswer),
        correction(),
        Record::DoorRemove(DoorRemoveEntry {
            id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0011),
            area: AREA.into(),
            door: door("Kay Street", "99"),
            at: t0() + Duration::hours(3),
            device: "laptop-d".into(),
            officer: Some("PC 9".into()),
            knocks: vec![Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0021)],
        }),
    ]
}

/// Format 3, as this release writes it; every later release must keep reading it.
#[test]
fn the_format_3_fixture_reads_and_merges() {
    let bytes = std::fs::read(format3_fixture()).unwrap();
    let b = batch::open(&bytes, None).unwrap();
    assert_eq!(b.manifest.format, 3);
    assert_eq!(
        (
            b.manifest.counts.door_edits,
            b.manifest.counts.door_removals
        ),
        (1, 1)
    );
    assert_eq!(b.records, format3_records());
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = store.merge_batch(&b, &mut |_, _| {}).unwrap();
    let doorstep::store::MergeResult::Merged { batch: merged, .. } = r else {
        panic!("not merged: {r:?}");
    };
    // Two doors and two knocks new (the first door then corrected away), two changes new.
    assert_eq!((merged.outcome.new, merged.outcome.rejected), (6, 0));
    assert_eq!(
        door_log(&store),
        vec![("14 Kay Street".to_owned(), vec!["no answer".to_owned()])]
    );
    // The same file through the binary on another store gives the same door log.
    let other = tempfile::tempdir().unwrap();
    drop(Store::open(other.path()).unwrap());
    doorstep(other.path())
        .args(["batch", "merge"])
        .arg(format3_fixture())
        .assert()
        .success();
    assert_eq!(
        door_log(&Store::open(other.path()).unwrap()),
        door_log(&store)
    );
}

/// Writes the format-3 fixture; run by hand only when a new format version is added
/// (`cargo test --test integration write_format3_fixture -- --ignored`).
#[test]
#[ignore = "regenerates the format-3 batch fixture; run by hand only, never in the suite"]
fn write_format3_fixture() {
    std::fs::write(format3_fixture(), signed(&format3_records())).unwrap();
}

/// Corrections and removals not to be lost before they are exported: `recover` rebuilds
/// them from the journal, and a journal rebuilt from the store (it went missing) keeps them.
#[test]
fn door_changes_survive_recover_and_a_rebuilt_journal() {
    let lap = tempfile::tempdir().unwrap();
    {
        let store = open(lap.path());
        store.set_setting(SettingKey::Device, "laptop-7").unwrap();
        for n in ["3", "7"] {
            store
                .knock(AREA, door("Kay Street", n), Outcome::NoAnswer, t0())
                .unwrap();
        }
        store
            .edit_door(AREA, &door("Kay Street", "3"), door("Kay Street", "5"))
            .unwrap();
        store.remove_door(AREA, &door("Kay Street", "7")).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let exported = |name: &str| {
        export(
            lap.path(),
            &out.path().join(name),
            &["--unencrypted", "--all"],
        )
    };
    let store_dir = lap.path().join(doorstep::store::STORE_DIR);
    std::fs::remove_dir_all(&store_dir).unwrap();
    doorstep(lap.path()).arg("recover").assert().success();
    let said = exported("a.batch");
    assert!(
        said.contains("1 door corrections, 1 door removals"),
        "{said}"
    );

    std::fs::remove_file(doorstep::store::journal_path(lap.path())).unwrap();
    doorstep(lap.path())
        .args(["config", "get"])
        .assert()
        .success()
        .stderr(predicate::str::contains("rebuilt it from the store"));
    std::fs::remove_dir_all(&store_dir).unwrap();
    doorstep(lap.path()).arg("recover").assert().success();
    let said = exported("b.batch");
    assert!(
        said.contains("1 door corrections, 1 door removals"),
        "{said}"
    );
    let store = open(lap.path());
    let doors: Vec<String> = store
        .doors(AREA)
        .unwrap()
        .iter()
        .map(|d| format!("{} ({} knocks)", d.door, d.knocks.len()))
        .collect();
    assert_eq!(doors, ["5 Kay Street (1 knocks)"]);
}
