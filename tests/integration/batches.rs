//! Batches through the real binary: a laptop exports, a coordinator verifies; every refusal
//! names its reason and leaves the coordinator's store as it was; the reader never panics.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::Duration;
use doorstep::batch::{self, DeviceKey, Manifest, Origin, Record, Selection};
use doorstep::response::{Door, Outcome, Response, SettingKey, Status};
use doorstep::seal::CoordinatorIdentity;
use doorstep::store::Store;
use doorstep::survey::registry::Registry;
use doorstep::survey::{Answer, Survey};
use predicates::prelude::*;
use proptest::prelude::*;
use uuid::Uuid;

use crate::store_helpers::{new_response, open, t0};

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

pub fn kin() -> Survey {
    Registry::builtin()
        .unwrap()
        .get("kin", None)
        .unwrap()
        .clone()
}

/// A finalized KIN interview with two valid answers, and its knock, on a laptop.
pub fn interview(store: &Store, door: &str) -> Response {
    let survey = kin();
    let draft = store
        .create_draft(doorstep::response::NewResponse {
            survey_id: survey.id.clone(),
            survey_version: survey.version,
            fingerprint: survey.fingerprint.clone(),
            ..new_response("E05000650", t0())
        })
        .unwrap();
    let at = t0() + Duration::minutes(5);
    let q = |id: &str| survey.question(id).unwrap().clone();
    store
        .record_answer(draft.id, &q("consent"), Answer::YesNo(true), at)
        .unwrap();
    store
        .record_answer(
            draft.id,
            &q("respondent_type"),
            Answer::Choice("resident".into()),
            at,
        )
        .unwrap();
    let done = store.finalize(draft.id, Status::Complete, at).unwrap();
    store
        .knock(
            "E05000650",
            Door::new("Kay Street", door).unwrap(),
            Outcome::Interviewed { response: done.id },
            at,
        )
        .unwrap();
    done
}

/// A laptop data dir with device and officer set and one interview.
pub fn laptop(dir: &Path) {
    let store = open(dir);
    store.set_setting(SettingKey::Device, "laptop-3").unwrap();
    store.set_setting(SettingKey::Officer, "PC 1234").unwrap();
    interview(&store, "12");
}

/// A coordinator: its identity file and recipient. The data directory is made one first:
/// these tests keep the coordinator's files in it, and doorstep refuses a folder that
/// holds other files but no doorstep data.
pub fn coordinator(dir: &Path) -> (PathBuf, String) {
    pins(dir);
    let key = dir.join("coordinator.key");
    let recipient = stdout_of(doorstep(dir).args(["keys", "new", "--out"]).arg(&key));
    (key, recipient.trim().to_owned())
}

/// What a coordinator's store holds that verification could change: the device pins.
pub fn pins(dir: &Path) -> String {
    stdout_of(doorstep(dir).args(["devices", "list"]))
}

pub fn export(dir: &Path, out: &Path, extra: &[&str]) -> String {
    stdout_of(
        doorstep(dir)
            .args(["batch", "export", "--out"])
            .arg(out)
            .args(extra),
    )
}

/// Asserts `verify` refuses the file with exit 65 and `reason`, and pins nothing new.
fn refused(coord: &Path, file: &Path, identity: Option<&Path>, reason: &str) {
    let before = pins(coord);
    let mut cmd = doorstep(coord);
    cmd.args(["batch", "verify"]).arg(file);
    if let Some(id) = identity {
        cmd.arg("--identity").arg(id);
    }
    cmd.assert()
        .code(65)
        .stdout(predicate::str::contains(reason))
        .stderr(predicate::str::contains(reason));
    assert_eq!(pins(coord), before, "verification changed the store");
}

#[test]
fn laptop_to_coordinator_round_trip() {
    let (lap, coord) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    laptop(lap.path());
    let (identity, recipient) = coordinator(coord.path());
    doorstep(lap.path())
        .args(["config", "set", "recipient", &recipient])
        .assert()
        .success();
    let file = coord.path().join("laptop-3-1.batch");
    let said = export(lap.path(), &file, &[]);
    assert!(said.contains("(number 1 from laptop-3)"), "{said}");
    assert!(
        said.contains("holds 1 responses, 0 revisions, 1 doors, 1 knocks, 2 settings"),
        "{said}"
    );
    assert!(
        said.contains(&format!("encrypted to {recipient}")),
        "{said}"
    );
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    // The device key stays on the laptop, readable by its owner only.
    let key_file = lap.path().join("device.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let secret = std::fs::read_to_string(&key_file).unwrap();
    let secret_hex = secret
        .lines()
        .last()
        .unwrap()
        .trim_start_matches("ed25519-secret:");
    assert!(!said.contains(secret_hex));

    let first = stdout_of(
        doorstep(coord.path())
            .args(["batch", "verify"])
            .arg(&file)
            .arg("--identity")
            .arg(&identity),
    );
    for line in [
        "device     laptop-3, officer PC 1234",
        "holds      1 responses, 0 revisions, 1 doors, 1 knocks, 2 settings",
        "encrypted (opened with the given identity)",
        "✓ every record's checksum, the signature and the counts",
        "✓ every survey is on this machine and every answer passes its survey's checks",
        "first batch seen from `laptop-3`: its key is now pinned",
        "verified",
    ] {
        assert!(first.contains(line), "missing {line:?} in\n{first}");
    }
    let listed = pins(coord.path());
    let row = listed.lines().nth(1).unwrap_or_default();
    assert!(
        row.starts_with("laptop-3 ") && row.contains("ed25519:") && row.contains("first use"),
        "{listed}"
    );
    let again = stdout_of(
        doorstep(coord.path())
            .args(["batch", "verify"])
            .arg(&file)
            .arg("--identity")
            .arg(&identity),
    );
    assert!(
        again.contains("✓ device key matches the one pinned for `laptop-3`"),
        "{again}"
    );

    // Nothing new: said so, and no file.
    let second = coord.path().join("laptop-3-2.batch");
    let said = export(lap.path(), &second, &[]);
    assert!(said.starts_with("nothing new to export"), "{said}");
    assert!(!second.exists());
    // --all takes everything again, as batch number 2 following the first.
    let said = export(lap.path(), &second, &["--all"]);
    assert!(said.contains("(number 2 from laptop-3)"), "{said}");
    let opened = batch::open(
        &std::fs::read(&second).unwrap(),
        Some(
            &CoordinatorIdentity::from_file_text(&std::fs::read_to_string(&identity).unwrap())
                .unwrap(),
        ),
    )
    .unwrap();
    let first_batch = batch::open(
        &bytes,
        Some(
            &CoordinatorIdentity::from_file_text(&std::fs::read_to_string(&identity).unwrap())
                .unwrap(),
        ),
    )
    .unwrap();
    assert_eq!(opened.manifest.previous, Some(first_batch.manifest.batch));
    assert_eq!(opened.records, first_batch.records);
}

#[test]
fn export_refuses_without_a_recipient_or_a_device_name() {
    let lap = tempfile::tempdir().unwrap();
    let file = lap.path().join("b.batch");
    {
        let store = open(lap.path());
        interview(&store, "1");
    }
    doorstep(lap.path())
        .args(["batch", "export", "--out"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("doorstep config set device NAME"));
    doorstep(lap.path())
        .args(["config", "set", "device", "laptop-9"])
        .assert()
        .success();
    doorstep(lap.path())
        .args(["batch", "export", "--out"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no coordinator recipient is set, so the batch cannot be encrypted: set one with `doorstep config set recipient age1…`",
        ));
    assert!(!file.exists());
    // Nothing was marked: an explicit unencrypted export still takes the interview.
    let said = export(lap.path(), &file, &["--unencrypted"]);
    assert!(said.contains("holds 1 responses"), "{said}");
    assert!(said.contains("NOT encrypted"), "{said}");
    assert!(
        std::fs::read(&file)
            .unwrap()
            .starts_with(b"doorstep-batch 1\n")
    );
    // An existing file is never overwritten.
    let before = std::fs::read(&file).unwrap();
    doorstep(lap.path())
        .args(["batch", "export", "--all", "--unencrypted", "--out"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "already exists; batches are never overwritten",
        ));
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

#[test]
fn since_takes_what_was_first_exported_after_a_batch_plus_what_is_new() {
    let lap = tempfile::tempdir().unwrap();
    let dir = lap.path();
    // The system clock and ids: each open of the store must not reuse ids.
    let open = |dir: &Path| Store::open(dir).unwrap();
    let ids: Vec<Uuid> = {
        let store = open(dir);
        store.set_setting(SettingKey::Device, "laptop-3").unwrap();
        vec![interview(&store, "1").id]
    };
    export(dir, &dir.join("1.batch"), &["--unencrypted"]);
    let second = open(dir).exported_batches().unwrap();
    let b1 = second[0].batch;
    let r2 = interview(&open(dir), "2").id;
    export(dir, &dir.join("2.batch"), &["--unencrypted"]);
    let r3 = interview(&open(dir), "3").id;
    export(
        dir,
        &dir.join("3.batch"),
        &["--unencrypted", "--since", &b1.to_string()],
    );
    let batch = batch::open(&std::fs::read(dir.join("3.batch")).unwrap(), None).unwrap();
    let responses: Vec<Uuid> = batch
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Response(r) => Some(r.id),
            _ => None,
        })
        .collect();
    assert_eq!(responses, vec![r2, r3]);
    assert!(!responses.contains(&ids[0]));
    assert_eq!(batch.manifest.sequence, 3);
    assert_eq!(batch.manifest.selection, Selection::Since { batch: b1 });
    assert_eq!(batch.manifest.counts.knocks, 2);
    let unknown = Uuid::from_u128(42);
    doorstep(dir)
        .args(["batch", "export", "--unencrypted", "--out"])
        .arg(dir.join("4.batch"))
        .args(["--since", &unknown.to_string()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "this device exported no batch {unknown} (its batches are numbered 1 to 3"
        )));
}

/// A signed, unencrypted batch of one KIN response built with the library, so tests can
/// write what no honest laptop would.
pub fn crafted(
    key: &DeviceKey,
    device: &str,
    edit: impl FnOnce(&mut Manifest, &mut Vec<Record>),
) -> Vec<u8> {
    let lap = tempfile::tempdir().unwrap();
    let store = open(lap.path());
    let response = interview(&store, "1");
    let mut records = vec![Record::Response(response)];
    let origin = Origin {
        batch: Uuid::from_u128(1),
        sequence: 1,
        previous: None,
        device: device.into(),
        officer: Some("PC 1".into()),
        created_at: t0(),
        selection: Selection::New,
    };
    let mut manifest = Manifest::describe(origin, &key.public(), &records);
    edit(&mut manifest, &mut records);
    batch::write(&manifest, &records, key).unwrap()
}

#[test]
fn verify_refuses_each_kind_of_bad_batch_and_changes_nothing() {
    let coord = tempfile::tempdir().unwrap();
    let dir = coord.path();
    let (identity, recipient) = coordinator(dir);
    let key = DeviceKey::from_secret_bytes([3; 32]);
    let good = crafted(&key, "laptop-3", |_, _| {});
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };

    // Truncation, at a record boundary and inside a line.
    let signature_at = good.len() - 137; // `ed25519:`, 128 hex digits, newline
    refused(
        dir,
        &write("t1", &good[..signature_at]),
        None,
        "the batch is truncated: it ends after line 3 with no signature (1 of the 1 records the manifest announces are there)",
    );
    refused(
        dir,
        &write("t2", &good[..signature_at - 3]),
        None,
        "the batch is truncated: line 3 is cut short",
    );
    refused(
        dir,
        &write("t4", &good[..good.len() - 1]),
        None,
        "the batch is truncated: line 4 is cut short",
    );
    refused(
        dir,
        &write("t3", b""),
        None,
        "the batch is truncated: the file is empty",
    );
    // A changed byte in a record, in the manifest, in the signature.
    let text = String::from_utf8(good.clone()).unwrap();
    let changed = text.replacen("resident", "residenT", 1);
    refused(
        dir,
        &write("c1", changed.as_bytes()),
        None,
        "record 1 (line 3) was changed after the batch was written: its checksum does not match",
    );
    let changed = text.replacen("\"PC 1\"", "\"PC 2\"", 1);
    refused(
        dir,
        &write("c2", changed.as_bytes()),
        None,
        "bad signature: the batch was not signed by the device key its manifest names",
    );
    let mut flipped = good.clone();
    let at = flipped.len() - 5;
    flipped[at] = if flipped[at] == b'0' { b'1' } else { b'0' };
    refused(dir, &write("c3", &flipped), None, "bad signature");
    // Signed by another key than the manifest names: the content of `good`, the
    // signature of a batch from another device.
    let other = DeviceKey::from_secret_bytes([4; 32]);
    let theirs = crafted(&other, "laptop-3", |_, _| {});
    let mut forged = good[..good.len() - 137].to_vec();
    forged.extend_from_slice(&theirs[theirs.len() - 137..]);
    refused(dir, &write("f1", &forged), None, "bad signature");
    // An unknown format version.
    let v4 = text.replacen("doorstep-batch 1\n", "doorstep-batch 4\n", 1);
    refused(
        dir,
        &write("v4", v4.as_bytes()),
        None,
        "batch format 4 is not one this doorstep reads (it reads formats 1 to 3); upgrade doorstep",
    );
    refused(
        dir,
        &write("nb", b"PK\x03\x04 a zip"),
        None,
        "not a doorstep batch",
    );
    // Counts that do not match the records, though honestly signed.
    let miscounted = crafted(&key, "laptop-3", |m, _| m.counts.knocks = 2);
    refused(
        dir,
        &write("m1", &miscounted),
        None,
        "the manifest counts 2 knocks but the batch holds 0",
    );
    // A record that fails its survey's validation.
    let invalid = crafted(&key, "laptop-3", |_, records| {
        if let Record::Response(r) = &mut records[0] {
            r.answers.get_mut("respondent_type").unwrap().value =
                doorstep::response::StoredAnswer::Plain(Answer::Choice("martian".into()));
        }
    });
    let id = match batch::open(&invalid, None).unwrap().records[0].clone() {
        Record::Response(r) => r.id,
        _ => unreachable!(),
    };
    refused(
        dir,
        &write("a1", &invalid),
        None,
        &format!("record 1 (line 3), response {id}, question `respondent_type`:"),
    );
    // A survey this machine does not have.
    let unknown = crafted(&key, "laptop-3", |m, records| {
        if let Record::Response(r) = &mut records[0] {
            r.fingerprint = "sha256:0123".into();
        }
        m.surveys[0].fingerprint = "sha256:0123".into();
    });
    refused(
        dir,
        &write("s1", &unknown),
        None,
        "survey kin version 3 (sha256:0123) is not on this machine: copy its definition file from the laptop that recorded it",
    );

    // Encryption: missing identity, wrong identity, damaged ciphertext.
    let r: doorstep::seal::SealRecipient = recipient.parse().unwrap();
    let sealed = doorstep::seal::encrypt_file(&r, &good).unwrap();
    let e = write("e1", &sealed);
    refused(
        dir,
        &e,
        None,
        "the batch is encrypted; give the coordinator identity with --identity KEY",
    );
    let other_id = dir.join("other.key");
    doorstep(dir)
        .args(["keys", "new", "--out"])
        .arg(&other_id)
        .assert()
        .success();
    refused(
        dir,
        &e,
        Some(&other_id),
        "the batch is encrypted to another coordinator's recipient",
    );
    let mut damaged = sealed.clone();
    let at = damaged.len() - 20;
    damaged[at] ^= 1;
    refused(
        dir,
        &write("e2", &damaged),
        Some(&identity),
        "the encrypted batch is damaged",
    );
    refused(
        dir,
        &write("e3", &sealed[..sealed.len() - 30]),
        Some(&identity),
        "the encrypted batch is damaged",
    );
    assert!(pins(dir).starts_with("no devices yet"));

    // The good one passes and pins; then the same device name with another key is refused.
    let good_file = write("good", &good);
    doorstep(dir)
        .args(["batch", "verify"])
        .arg(&good_file)
        .assert()
        .success();
    let impostor = crafted(&other, "laptop-3", |_, _| {});
    refused(
        dir,
        &write("i1", &impostor),
        None,
        &format!(
            "device `laptop-3` signed this batch with key {}, but this machine pinned {} for it on",
            other.public(),
            key.public()
        ),
    );
    // Several files: each reported, exit 65 naming the refused ones.
    doorstep(dir)
        .args(["batch", "verify"])
        .arg(&good_file)
        .arg(dir.join("t1"))
        .assert()
        .code(65)
        .stdout(predicate::str::contains("verified"))
        .stderr(predicate::str::contains("1 of 2").not())
        .stderr(predicate::str::contains("t1: the batch is truncated"));
}

/// `batch verify` checks its files two at a time, yet a device first seen in one file is
/// pinned before the next is judged: another file from it with the same key matches the
/// pin, one with another key is refused as forged, as if checked one after the other.
#[test]
fn verify_in_one_run_pins_the_first_key_and_refuses_another_after_it() {
    let coord = tempfile::tempdir().unwrap();
    let dir = coord.path();
    let stick = tempfile::tempdir().unwrap();
    let key = DeviceKey::from_secret_bytes([3; 32]);
    let other = DeviceKey::from_secret_bytes([4; 32]);
    let files: Vec<PathBuf> = [
        ("a.batch", crafted(&key, "laptop-3", |_, _| {})),
        (
            "b.batch",
            crafted(&key, "laptop-3", |m, _| m.batch = Uuid::from_u128(2)),
        ),
        (
            "c.batch",
            crafted(&other, "laptop-3", |m, _| m.batch = Uuid::from_u128(3)),
        ),
        (
            "d.batch",
            crafted(&key, "laptop-3", |m, _| m.batch = Uuid::from_u128(4)),
        ),
    ]
    .into_iter()
    .map(|(name, bytes)| {
        let p = stick.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    })
    .collect();
    let output = doorstep(dir)
        .args(["batch", "verify"])
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(65));
    let out = String::from_utf8(output.stdout).unwrap();
    let err = String::from_utf8(output.stderr).unwrap();
    // Each file's report runs from its path to the next file's.
    let section = |name: &str| {
        let at = |f: &PathBuf| out.find(&f.display().to_string());
        let i = files.iter().position(|f| f.ends_with(name)).unwrap();
        let from = at(&files[i]).unwrap_or_else(|| panic!("{name}: {out}"));
        let end = files.get(i + 1).and_then(at).unwrap_or(out.len());
        out[from..end].to_owned()
    };
    assert!(
        section("a.batch").contains("its key is now pinned on this machine"),
        "{out}"
    );
    for name in ["b.batch", "d.batch"] {
        assert!(
            section(name).contains("device key matches the one pinned for `laptop-3`"),
            "{name}: {out}"
        );
    }
    let refusal = format!(
        "device `laptop-3` signed this batch with key {}, but this machine pinned {} for it on",
        other.public(),
        key.public()
    );
    assert!(section("c.batch").contains(&refusal), "{out}");
    assert!(
        err.contains(&format!("{}: {refusal}", files[2].display())) && !err.contains("1 of 4"),
        "{err}"
    );
    assert!(
        pins(dir).contains(&key.public().to_string()),
        "{}",
        pins(dir)
    );
}

/// `batch merge` checks its files two at a time: each refusal is still reported with its
/// own reason, in the order the files were given, and nothing is merged or pinned.
#[test]
fn merge_reports_every_refused_file_in_the_order_given() {
    let coord = tempfile::tempdir().unwrap();
    let dir = coord.path();
    let stick = tempfile::tempdir().unwrap();
    let key = DeviceKey::from_secret_bytes([3; 32]);
    let good = crafted(&key, "laptop-3", |_, _| {});
    let text = String::from_utf8(good.clone()).unwrap();
    let bad: [(&str, Vec<u8>, &str); 4] = [
        (
            "b1.batch",
            good[..good.len() - 137].to_vec(),
            "the batch is truncated: it ends after line 3 with no signature",
        ),
        (
            "b3.batch",
            text.replacen("resident", "residenT", 1).into_bytes(),
            "record 1 (line 3) was changed after the batch was written",
        ),
        (
            "b5.batch",
            text.replacen("doorstep-batch 1\n", "doorstep-batch 4\n", 1)
                .into_bytes(),
            "batch format 4 is not one this doorstep reads",
        ),
        (
            "b7.batch",
            crafted(&key, "laptop-3", |m, _| m.counts.knocks = 2),
            "the manifest counts 2 knocks but the batch holds 0",
        ),
    ];
    let mut files = Vec::new();
    for i in 0..8 {
        let (name, bytes) = match bad.iter().find(|b| b.0 == format!("b{i}.batch")) {
            Some((name, bytes, _)) => (name.to_string(), bytes.clone()),
            None => (format!("b{i}.batch"), good.clone()),
        };
        let path = stick.path().join(&name);
        std::fs::write(&path, bytes).unwrap();
        files.push(path);
    }
    let before = pins(dir);
    let output = doorstep(dir)
        .args(["batch", "merge"])
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(65));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.contains("4 of 8 batch files refused, nothing merged"),
        "{err}"
    );
    let mut from = 0;
    for (name, _, reason) in &bad {
        let line = format!("{}: {reason}", stick.path().join(name).display());
        let at = err[from..]
            .find(&line)
            .unwrap_or_else(|| panic!("`{line}` missing or out of order: {err}"));
        from += at + line.len();
    }
    assert_eq!(pins(dir), before, "a refused merge pinned a device");
    let listed = stdout_of(doorstep(dir).args(["responses", "list"]));
    assert!(!listed.contains("laptop-3"), "{listed}");
}

#[test]
fn devices_trust_and_revoke_change_what_verify_accepts() {
    let coord = tempfile::tempdir().unwrap();
    let dir = coord.path();
    // A data directory before the batch files are put in it (see `coordinator`).
    assert!(pins(dir).starts_with("no devices yet"));
    let key = DeviceKey::from_secret_bytes([3; 32]);
    let new_key = DeviceKey::from_secret_bytes([5; 32]);
    let old = dir.join("old.batch");
    let new = dir.join("new.batch");
    std::fs::write(&old, crafted(&key, "laptop-3", |_, _| {})).unwrap();
    std::fs::write(&new, crafted(&new_key, "laptop-3", |_, _| {})).unwrap();
    doorstep(dir)
        .args(["batch", "verify"])
        .arg(&old)
        .assert()
        .success();
    refused(dir, &new, None, "otherwise treat the batch as forged");
    doorstep(dir)
        .args([
            "devices",
            "trust",
            "laptop-3",
            &new_key.public().to_string(),
        ])
        .assert()
        .success()
        .stdout(format!(
            "device `laptop-3` now trusted with key {}\n",
            new_key.public()
        ));
    doorstep(dir)
        .args(["batch", "verify"])
        .arg(&new)
        .assert()
        .success();
    doorstep(dir)
        .args(["devices", "revoke", "laptop-3"])
        .assert()
        .success();
    assert!(pins(dir).contains("REVOKED"));
    // The same pins for scripts: the key trusted by hand, and when it was revoked.
    let json: serde_json::Value = serde_json::from_str(&stdout_of(
        doorstep(dir).args(["devices", "list", "--json"]),
    ))
    .unwrap();
    let rows = json["blocks"][0]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{json}");
    assert_eq!(rows[0]["device"], "laptop-3");
    assert_eq!(rows[0]["key"], new_key.public().to_string());
    assert_eq!(rows[0]["source"], "trusted");
    assert!(rows[0]["revoked_at"].as_str().is_some(), "{json}");
    refused(
        dir,
        &new,
        None,
        "the key of device `laptop-3` was revoked on",
    );
    // Pins are journaled: with the store lost, `recover` gives them back as they were.
    let listed = stdout_of(doorstep(dir).args(["devices", "list", "--json"]));
    std::fs::remove_dir_all(dir.join("store")).unwrap();
    doorstep(dir).arg("recover").assert().success();
    assert_eq!(
        stdout_of(doorstep(dir).args(["devices", "list", "--json"])),
        listed
    );
    refused(dir, &new, None, "was revoked on");
    refused(dir, &old, None, "otherwise treat the batch as forged");
    for (args, message) in [
        (
            vec!["devices", "revoke", "laptop-9"],
            "no device `laptop-9` is known here",
        ),
        (
            vec!["devices", "trust", "laptop-3", "ed25519:12"],
            "is not a device key: expected 64 hex digits",
        ),
        (
            vec!["devices", "trust", "laptop-3", "rsa:00"],
            "is not a device key (expected `ed25519:`",
        ),
    ] {
        let before = pins(dir);
        doorstep(dir)
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
        assert_eq!(pins(dir), before);
    }
    let bad_identity = dir.join("bad.key");
    std::fs::write(&bad_identity, "# c\nAGE-SECRET-KEY-1XYZ\n").unwrap();
    doorstep(dir)
        .args(["batch", "verify"])
        .arg(&old)
        .arg("--identity")
        .arg(&bad_identity)
        .assert()
        .code(65)
        .stderr(predicate::str::contains(
            "bad.key: line 2 of the identity file",
        ));
}

/// The fixture written by format 1; every later release must keep reading it.
#[test]
fn the_format_1_fixture_still_reads_and_verifies() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/batches");
    let plain = std::fs::read(fixtures.join("format1-unencrypted.batch")).unwrap();
    let b = batch::open(&plain, None).unwrap();
    assert_eq!(b.manifest.format, 1);
    assert_eq!(b.manifest.device, "laptop-3");
    assert_eq!(
        b.manifest.counts.to_string(),
        "1 responses, 0 revisions, 1 doors, 1 knocks, 2 settings"
    );
    assert_eq!(
        b.manifest.device_key,
        DeviceKey::from_secret_bytes([3; 32]).public()
    );
    let identity = CoordinatorIdentity::from_file_text(
        &std::fs::read_to_string(fixtures.join("coordinator.key")).unwrap(),
    )
    .unwrap();
    let sealed = std::fs::read(fixtures.join("format1-encrypted.batch")).unwrap();
    let e = batch::open(&sealed, Some(&identity)).unwrap();
    assert!(e.encrypted);
    assert_eq!(e.records, b.records);
    assert_eq!(e.digest, b.digest);
}

/// A batch of the last format-1 release, written by `doorstep simulate` (one laptop, three
/// responses, four doors, five knocks): it must keep verifying and merging on a fresh
/// coordinator, whatever later formats add.
#[test]
fn the_simulated_format_1_fixture_still_verifies_and_merges() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/batches/format1-simulated.batch");
    let b = batch::open(&std::fs::read(&fixture).unwrap(), None).unwrap();
    assert_eq!(b.manifest.format, 1);
    assert_eq!(b.manifest.counts.responses, 3);
    let coord = tempfile::tempdir().unwrap();
    let verified = stdout_of(
        doorstep(coord.path())
            .args(["batch", "verify"])
            .arg(&fixture),
    );
    assert!(
        verified.contains("format     1, NOT encrypted"),
        "{verified}"
    );
    assert!(verified.contains("  verified"), "{verified}");
    let merged = stdout_of(
        doorstep(coord.path())
            .args(["batch", "merge", "--json"])
            .arg(&fixture),
    );
    let json: serde_json::Value = serde_json::from_str(&merged).unwrap();
    let row = &json["blocks"][0]["rows"][0];
    assert_eq!(row["result"], "merged", "{merged}");
    assert_eq!(row["new"], 12, "{merged}");
    let store = open(coord.path());
    assert_eq!(store.finalized_responses().unwrap().len(), 3);
    assert_eq!(store.all_doors().unwrap().len(), 4);
}

/// Writes the fixtures above; run by hand only when a new format version is added
/// (`cargo test --test integration write_batch_fixtures -- --ignored`).
#[test]
#[ignore = "regenerates the format-1 batch fixtures; run by hand only when writing a new format, never in the suite"]
fn write_batch_fixtures() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/batches");
    std::fs::create_dir_all(&fixtures).unwrap();
    let lap = tempfile::tempdir().unwrap();
    laptop(lap.path());
    let key = DeviceKey::from_secret_bytes([3; 32]);
    let store = open(lap.path());
    let mut records = vec![
        Record::Setting(doorstep::batch::SettingEntry {
            key: SettingKey::Device,
            value: "laptop-3".into(),
        }),
        Record::Setting(doorstep::batch::SettingEntry {
            key: SettingKey::Officer,
            value: "PC 1234".into(),
        }),
    ];
    records.extend(
        store
            .finalized_responses()
            .unwrap()
            .into_iter()
            .map(Record::Response),
    );
    for d in store.all_doors().unwrap() {
        records.push(Record::Door(doorstep::batch::DoorEntry {
            area: d.area.clone(),
            door: d.door.clone(),
        }));
        for k in &d.knocks {
            records.push(Record::Knock(doorstep::batch::KnockEntry {
                area: d.area.clone(),
                door: d.door.clone(),
                knock: k.clone(),
            }));
        }
    }
    let origin = Origin {
        batch: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
        sequence: 1,
        previous: None,
        device: "laptop-3".into(),
        officer: Some("PC 1234".into()),
        created_at: t0(),
        selection: Selection::New,
    };
    let manifest = Manifest::describe(origin, &key.public(), &records);
    let plain = batch::write(&manifest, &records, &key).unwrap();
    std::fs::write(fixtures.join("format1-unencrypted.batch"), &plain).unwrap();
    let identity = CoordinatorIdentity::generate();
    std::fs::write(
        fixtures.join("coordinator.key"),
        identity.to_file_text(t0()),
    )
    .unwrap();
    let sealed = batch::write_encrypted(&manifest, &records, &key, &identity.recipient()).unwrap();
    std::fs::write(fixtures.join("format1-encrypted.batch"), sealed).unwrap();
}

fn valid_batch() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| {
        crafted(
            &DeviceKey::from_secret_bytes([3; 32]),
            "laptop-3",
            |_, _| {},
        )
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, m)| Mutation::Flip(i, m)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
    ]
}

fn mutate(bytes: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for m in mutations {
        match *m {
            Mutation::Flip(i, mask) if !b.is_empty() => {
                let i = i % b.len();
                b[i] ^= mask;
            }
            Mutation::Truncate(n) => b.truncate(n % (b.len() + 1)),
            Mutation::Insert(i, byte) => b.insert(i % (b.len() + 1), byte),
            Mutation::Flip(..) => {}
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Any change to a signed batch is refused with a reason, never a panic.
    #[test]
    fn the_reader_refuses_every_mutation_without_panicking(
        mutations in proptest::collection::vec(mutation(), 1..4)
    ) {
        let original = valid_batch();
        let bytes = mutate(original, &mutations);
        let result = batch::open(&bytes, None);
        if bytes != original {
            prop_assert!(result.is_err(), "accepted a changed batch: {mutations:?}");
        }
        same_as_checked_each(&bytes, None, &result)?;
    }

    /// Arbitrary bytes, and bytes that start like a batch, never panic the reader.
    #[test]
    fn the_reader_never_panics_on_arbitrary_bytes(
        tail in proptest::collection::vec(any::<u8>(), 0..300),
        header in prop_oneof![Just(&b""[..]), Just(&b"doorstep-batch 1\n"[..]), Just(&b"age-encryption.org/v1\n"[..])]
    ) {
        let mut bytes = header.to_vec();
        bytes.extend(tail);
        let identity = CoordinatorIdentity::generate();
        let opened = batch::open(&bytes, Some(&identity));
        same_as_checked_each(&bytes, Some(&identity), &opened)?;
        let opened = batch::open(&bytes, None);
        same_as_checked_each(&bytes, None, &opened)?;
    }
}

/// `check_each` (verifying a file a record at a time) accepts what `open` accepts, with
/// the same manifest, digest and records, and refuses what it refuses with the same words.
fn same_as_checked_each(
    bytes: &[u8],
    identity: Option<&CoordinatorIdentity>,
    opened: &Result<batch::Batch, batch::BatchError>,
) -> Result<(), TestCaseError> {
    let mut seen = Vec::new();
    let checked = batch::check_each(bytes.to_vec(), identity, &mut |i, r| {
        seen.push((i, r.clone()))
    });
    match (opened, checked) {
        (Ok(b), Ok(c)) => {
            prop_assert_eq!(&b.manifest, &c.manifest);
            prop_assert_eq!(&b.digest, &c.digest);
            prop_assert_eq!(b.encrypted, c.encrypted);
            let records: Vec<(usize, Record)> = b.records.iter().cloned().enumerate().collect();
            prop_assert_eq!(records, seen);
        }
        (Err(e), Err(f)) => prop_assert_eq!(e.to_string(), f.to_string()),
        (o, c) => prop_assert!(false, "open gave {o:?}, check_each {c:?}"),
    }
    Ok(())
}

/// A good batch, clear and encrypted, checked a record at a time is the batch `open` gives.
#[test]
fn a_batch_checked_a_record_at_a_time_is_the_batch_opened_whole() {
    same_as_checked_each(valid_batch(), None, &batch::open(valid_batch(), None)).unwrap();
    let identity = CoordinatorIdentity::generate();
    let key = DeviceKey::from_secret_bytes([3; 32]);
    let opened = batch::open(valid_batch(), None).unwrap();
    let sealed = batch::write_encrypted(
        &opened.manifest,
        &opened.records,
        &key,
        &identity.recipient(),
    )
    .unwrap();
    let again = batch::open(&sealed, Some(&identity));
    assert!(
        again
            .as_ref()
            .is_ok_and(|b| b.encrypted && !b.records.is_empty())
    );
    same_as_checked_each(&sealed, Some(&identity), &again).unwrap();
    // Without the identity both refuse it the same way.
    same_as_checked_each(&sealed, None, &batch::open(&sealed, None)).unwrap();
}

/// The home screen counts finalized responses no batch has carried yet.
#[test]
fn home_counts_only_what_is_not_yet_exported() {
    use doorstep::tui::app::App;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    let lap = tempfile::tempdir().unwrap();
    let dir = lap.path();
    {
        let store = Store::open(dir).unwrap();
        store.set_setting(SettingKey::Officer, "PC 4521").unwrap();
        store.set_setting(SettingKey::Device, "laptop-3").unwrap();
        interview(&store, "1");
    }
    export(dir, &dir.join("1.batch"), &["--unencrypted"]);
    let store = Store::open(dir).unwrap();
    interview(&store, "2");
    interview(&store, "3");
    let app = App::new(
        store,
        Registry::builtin().unwrap(),
        doorstep::tui::theme::Theme::monochrome(),
    )
    .unwrap();
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| doorstep::tui::view::render(&app, f)).unwrap();
    let screen = t.backend().to_string();
    assert!(
        screen.contains("Not yet exported: 2 interviews or audits, 2 doors, 2 knocks"),
        "{screen}"
    );
}

/// Knocks and door records stored before knocks had identity still read, and export with
/// a stable derived id, the laptop's device and officer.
#[test]
fn knocks_stored_before_knock_identity_still_export() {
    let lap = tempfile::tempdir().unwrap();
    let dir = lap.path();
    // A journal written by the release before knock identity: a door and a knock line.
    let old_knock = r#"{"format":1,"entry":{"knock":{"area":"E05000650","door":{"street":"Kay Street","number":"4"},"knock":{"at":"2026-10-05T09:00:00Z","outcome":{"type":"no_answer"}}}}}"#;
    let journal = doorstep::store::journal_path(dir);
    std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
    let line = {
        use sha2::{Digest, Sha256};
        let hex: String = Sha256::digest(old_knock.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("sha256:{hex} {old_knock}\n")
    };
    std::fs::write(&journal, line).unwrap();
    doorstep(dir).arg("recover").assert().success();
    {
        let store = Store::open(dir).unwrap();
        let doors = store.all_doors().unwrap();
        assert_eq!(doors.len(), 1);
        assert_eq!(doors[0].knocks[0].id, None);
        store.set_setting(SettingKey::Device, "laptop-3").unwrap();
        store.set_setting(SettingKey::Officer, "PC 1234").unwrap();
    }
    let export_knock = |name: &str| {
        let file = dir.join(name);
        export(dir, &file, &["--unencrypted", "--all"]);
        let b = batch::open(&std::fs::read(&file).unwrap(), None).unwrap();
        b.records
            .into_iter()
            .find_map(|r| match r {
                Record::Knock(k) => Some(k.knock),
                _ => None,
            })
            .unwrap()
    };
    let first = export_knock("1.batch");
    let second = export_knock("2.batch");
    assert!(first.id.is_some());
    assert_eq!(first.id, second.id);
    assert_eq!(first.device.as_deref(), Some("laptop-3"));
    assert_eq!(first.officer.as_deref(), Some("PC 1234"));
    assert_eq!(first.outcome, Outcome::NoAnswer);
}

/// A personal answer stays sealed in the batch, encrypted or not, and verifies (sealed
/// answers are not judged: only the coordinator's identity can open them).
#[test]
fn sealed_answers_travel_sealed() {
    let lap = tempfile::tempdir().unwrap();
    let dir = lap.path();
    let identity = CoordinatorIdentity::generate();
    {
        let store = Store::open(dir).unwrap();
        store.set_setting(SettingKey::Device, "laptop-3").unwrap();
        let survey = kin();
        let draft = crate::store_helpers::kin_draft_sealed_to(&store, &survey, &identity);
        let q = |id: &str| survey.question(id).unwrap().clone();
        for (id, answer) in [
            ("consent", Answer::YesNo(true)),
            ("contact_name", Answer::Text("Bartholomew Quigley".into())),
        ] {
            store.record_answer(draft.id, &q(id), answer, t0()).unwrap();
        }
        store.finalize(draft.id, Status::Complete, t0()).unwrap();
    }
    let file = dir.join("1.batch");
    export(dir, &file, &["--unencrypted"]);
    let text = String::from_utf8(std::fs::read(&file).unwrap()).unwrap();
    assert!(!text.contains("Quigley"));
    assert!(text.contains(r#"{"sealed":"-----BEGIN AGE ENCRYPTED FILE-----"#));
    let b = batch::open(text.as_bytes(), None).unwrap();
    let Record::Response(r) = &b.records[1] else {
        panic!("{:?}", b.records[1]);
    };
    let sealed = match &r.answers["contact_name"].value {
        doorstep::response::StoredAnswer::Sealed(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        doorstep::seal::unseal(&identity, &sealed).unwrap(),
        Answer::Text("Bartholomew Quigley".into())
    );
    let coord = tempfile::tempdir().unwrap();
    doorstep(coord.path())
        .args(["batch", "verify"])
        .arg(&file)
        .assert()
        .success();
}

/// A damaged device key file stops the export with its line, writes no file and marks
/// nothing.
#[test]
fn a_damaged_device_key_stops_the_export_and_changes_nothing() {
    let lap = tempfile::tempdir().unwrap();
    let dir = lap.path();
    laptop(dir);
    std::fs::write(dir.join("device.key"), "# key\ned25519-secret:nothex\n").unwrap();
    let file = dir.join("1.batch");
    doorstep(dir)
        .args(["batch", "export", "--unencrypted", "--out"])
        .arg(&file)
        .assert()
        .code(65)
        .stderr(predicate::str::contains(
            "device.key is unreadable: line 2: expected 64 hex digits",
        ));
    assert!(!file.exists());
    assert!(open(dir).exported_batches().unwrap().is_empty());
    assert!(open(dir).export_marks().unwrap().is_empty());
}
