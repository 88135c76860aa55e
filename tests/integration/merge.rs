//! Merging batches into a coordinator's store: the rules (duplicate, revision either
//! order, conflict and resolution, doors and knocks by identity, already merged, gaps),
//! atomicity across a crash, `recover`, and order independence (proptest). The command
//! line (`batch merge|conflicts|resolve`) is tested at the end through the real binary.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use doorstep::batch::{
    self, Batch, DeviceKey, DoorEntry, KnockEntry, Manifest, Origin, Record, Selection,
};
use doorstep::response::{Door, Knock, Outcome, Response, Status};
use doorstep::store::{
    Conflict, JournalEntry, MergeResult, Source, Store, encode_line, journal_path, recover,
    recover_in_slices,
};
use proptest::prelude::*;
use uuid::Uuid;

use crate::store_helpers::{env, new_response, open, t0};

const AREA: &str = "E05000650";

/// A finalized response with id `n`; `variant` changes its content (its interviewer).
pub fn response(n: u128, variant: u8, finalized_min: i64) -> Response {
    let mut r = Response::draft(Uuid::from_u128(n), new_response(AREA, t0())).unwrap();
    r.interviewer = format!("PC {variant}");
    r.finalize(Status::Complete, t0() + Duration::minutes(finalized_min));
    r
}

/// A revision `n` of `original`.
pub fn revision(n: u128, original: &Response) -> Response {
    let mut r = original.revision(Uuid::from_u128(n), t0() + Duration::hours(1));
    r.finalize(Status::Complete, t0() + Duration::hours(2));
    r
}

pub fn door(number: &str) -> Door {
    Door::new("Kay Street", number).unwrap()
}

pub fn knock(n: u128, number: &str, device: &str) -> Record {
    Record::Knock(KnockEntry {
        area: AREA.into(),
        door: door(number),
        knock: Knock {
            id: Some(Uuid::from_u128(1000 + n)),
            device: Some(device.into()),
            officer: Some("PC 1".into()),
            ..Knock::new(t0() + Duration::minutes(n as i64 % 7), Outcome::NoAnswer)
        },
    })
}

pub fn door_record(number: &str) -> Record {
    Record::Door(DoorEntry {
        area: AREA.into(),
        door: door(number),
    })
}

fn key_of(device: &str) -> DeviceKey {
    let seed = device
        .bytes()
        .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    DeviceKey::from_secret_bytes([seed; 32])
}

/// A signed batch `sequence` of `device` holding `records`, opened as the merge sees it.
pub fn make_batch(device: &str, sequence: u64, records: Vec<Record>) -> Batch {
    let bytes = batch_bytes(device, sequence, records);
    batch::open(&bytes, None).unwrap()
}

pub fn batch_bytes(device: &str, sequence: u64, records: Vec<Record>) -> Vec<u8> {
    let key = key_of(device);
    let id_seed = device.bytes().map(u128::from).sum::<u128>() << 32;
    let origin = Origin {
        batch: Uuid::from_u128(id_seed + u128::from(sequence)),
        sequence,
        previous: None,
        device: device.into(),
        officer: Some("PC 1".into()),
        created_at: t0() + Duration::days(1),
        selection: Selection::New,
    };
    let manifest = Manifest::describe(origin, &key.public(), &records);
    batch::write(&manifest, &records, &key).unwrap()
}

fn merge(store: &Store, batch: &Batch) -> MergeResult {
    store.merge_batch(batch, &mut |_, _| {}).unwrap()
}

fn counts(result: &MergeResult) -> [u64; 5] {
    match result {
        MergeResult::Merged { batch, .. } => {
            let o = batch.outcome;
            [o.new, o.duplicate, o.superseded, o.conflict, o.rejected]
        }
        MergeResult::AlreadyMerged(_) => panic!("already merged: {result:?}"),
    }
}

/// What a merged store logically holds: responses, which are active, conflicts, doors
/// with their knocks, and which batches carried what. Not when merges happened.
#[derive(Debug, PartialEq)]
pub struct Logical {
    responses: Vec<Response>,
    active: Vec<Uuid>,
    conflicts: Vec<Conflict>,
    doors: Vec<(String, Door, Vec<Knock>)>,
    sources: BTreeMap<String, BTreeSet<Source>>,
    actions: Vec<doorstep::action::Action>,
    action_versions: BTreeMap<Uuid, doorstep::store::ActionVersions>,
    action_conflicts: Vec<doorstep::store::ActionConflict>,
}

/// What a recover must give back of a coordinator's store: its records, the batches
/// merged and the gaps in each device's chain.
fn recovered_state(
    store: &Store,
) -> (
    Logical,
    Vec<doorstep::store::MergedBatch>,
    Vec<doorstep::store::Gap>,
) {
    (
        logical(store),
        store.merged_batches().unwrap(),
        store.batch_gaps().unwrap(),
    )
}

pub fn logical(store: &Store) -> Logical {
    let listing = store.list(&Default::default()).unwrap();
    assert!(listing.unreadable.is_empty());
    let mut doors: Vec<_> = store
        .all_doors()
        .unwrap()
        .into_iter()
        .map(|d| (d.area, d.door, d.knocks))
        .collect();
    doors.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Logical {
        responses: listing.responses,
        active: store
            .active_responses()
            .unwrap()
            .map(|r| r.unwrap().id)
            .collect(),
        conflicts: store.conflicts().unwrap(),
        doors,
        sources: store.record_sources().unwrap(),
        actions: store.actions().unwrap().actions,
        action_versions: store.action_versions().unwrap(),
        action_conflicts: store.action_conflicts().unwrap(),
    }
}

#[test]
fn the_same_response_twice_is_a_duplicate_and_remembers_both_batches() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = response(1, 0, 10);
    let first = make_batch("laptop-1", 1, vec![Record::Response(r.clone())]);
    // The laptop exported everything again (--all): a new batch, the same record.
    let again = make_batch("laptop-1", 2, vec![Record::Response(r.clone())]);
    assert_eq!(counts(&merge(&store, &first)), [1, 0, 0, 0, 0]);
    let before = store.list(&Default::default()).unwrap().responses;
    assert_eq!(counts(&merge(&store, &again)), [0, 1, 0, 0, 0]);
    assert_eq!(store.list(&Default::default()).unwrap().responses, before);
    assert_eq!(before, vec![r.clone()]);
    let sources: Vec<Uuid> = store
        .response_sources(r.id)
        .unwrap()
        .into_iter()
        .map(|s| {
            assert_eq!(s.device, "laptop-1");
            s.batch
        })
        .collect();
    assert_eq!(sources, vec![first.manifest.batch, again.manifest.batch]);
    assert!(store.conflicts().unwrap().is_empty());
}

#[test]
fn a_revision_supersedes_its_original_whichever_arrives_first() {
    let original = response(1, 0, 10);
    let rev = revision(2, &original);
    let other = response(3, 0, 20);
    let mut seen = Vec::new();
    for revision_first in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let a = make_batch(
            "laptop-1",
            1,
            vec![
                Record::Response(original.clone()),
                Record::Response(other.clone()),
            ],
        );
        let b = make_batch("laptop-1", 2, vec![Record::Response(rev.clone())]);
        let (first, second) = if revision_first { (&b, &a) } else { (&a, &b) };
        merge(&store, first);
        let result = merge(&store, second);
        // The second batch's revision link is made: counted once as superseded.
        let expect = if revision_first {
            [1, 0, 1, 0, 0]
        } else {
            [0, 0, 1, 0, 0]
        };
        assert_eq!(counts(&result), expect, "revision first: {revision_first}");
        let active: Vec<Uuid> = store
            .active_responses()
            .unwrap()
            .map(|r| r.unwrap().id)
            .collect();
        assert_eq!(
            active,
            vec![rev.id, other.id],
            "revision first: {revision_first}"
        );
        // Both are kept.
        assert_eq!(store.list(&Default::default()).unwrap().responses.len(), 3);
        seen.push(logical(&store).responses);
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn a_conflict_keeps_both_the_first_finalized_active_until_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let early = response(1, 0, 10);
    let late = response(1, 1, 30);
    {
        let store = open(dir.path());
        // The later-finalized version arrives first; the earlier one still wins.
        let b1 = make_batch("laptop-1", 1, vec![Record::Response(late.clone())]);
        let b2 = make_batch("laptop-2", 1, vec![Record::Response(early.clone())]);
        merge(&store, &b1);
        assert_eq!(counts(&merge(&store, &b2)), [0, 0, 0, 1, 0]);
        assert_eq!(store.get(early.id).unwrap(), early);
        assert_eq!(store.unresolved_conflict_count().unwrap(), 1);
        let c = &store.unresolved_conflicts().unwrap()[0];
        assert_eq!(c.versions.len(), 2);
        assert_eq!(c.versions[0].response, early);
        assert_eq!(c.versions[1].response, late);
        assert_eq!(
            c.versions[0].sources.iter().next().unwrap().device,
            "laptop-2"
        );
        assert_eq!(
            c.versions[1].sources.iter().next().unwrap().device,
            "laptop-1"
        );
        assert_eq!(c.active_index(), 0);
        // The same version once more: a duplicate, the conflict stays as it is.
        let b3 = make_batch("laptop-1", 2, vec![Record::Response(late.clone())]);
        assert_eq!(counts(&merge(&store, &b3)), [0, 1, 0, 0, 0]);
        assert_eq!(store.unresolved_conflict_count().unwrap(), 1);

        let resolved = store.resolve_conflict(early.id, 1).unwrap();
        assert!(resolved.is_resolved());
        assert_eq!(store.get(early.id).unwrap(), late);
        assert_eq!(store.unresolved_conflict_count().unwrap(), 0);
        assert_eq!(store.conflicts().unwrap().len(), 1);
        let err = store.resolve_conflict(early.id, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the conflict of response {} has no version C: it has 2 (A to B)",
                early.id
            )
        );
        let err = store.resolve_conflict(Uuid::from_u128(99), 0).unwrap_err();
        assert!(
            err.to_string().contains("has no conflict to resolve"),
            "{err}"
        );
    }
    // Kept across a reopen, and rebuilt by recover from the journal alone.
    let store = open(dir.path());
    assert_eq!(store.get(early.id).unwrap(), late);
    let before = logical(&store);
    drop(store);
    std::fs::remove_dir_all(dir.path().join("store")).unwrap();
    recover(dir.path(), env().0).unwrap();
    let store = open(dir.path());
    assert_eq!(logical(&store), before);
    assert_eq!(store.unresolved_conflict_count().unwrap(), 0);
    assert_eq!(store.merged_batches().unwrap().len(), 3);
}

#[test]
fn two_laptops_on_one_street_give_one_door_log_without_double_counted_knocks() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    // Both laptops have door 12 and door 14; laptop-2 also carries laptop-1's knock 1
    // (it was handed over on a memory stick and exported again).
    let a = make_batch(
        "laptop-1",
        1,
        vec![
            door_record("12"),
            door_record("14"),
            knock(1, "12", "laptop-1"),
            knock(2, "14", "laptop-1"),
        ],
    );
    let b = make_batch(
        "laptop-2",
        1,
        vec![
            door_record("12"),
            knock(3, "12", "laptop-2"),
            knock(1, "12", "laptop-1"),
        ],
    );
    assert_eq!(counts(&merge(&store, &a)), [4, 0, 0, 0, 0]);
    assert_eq!(counts(&merge(&store, &b)), [1, 2, 0, 0, 0]);
    let doors = store.doors(AREA).unwrap();
    assert_eq!(doors.len(), 2);
    let knocks: Vec<u128> = doors[0]
        .knocks
        .iter()
        .map(|k| k.id.unwrap().as_u128() - 1000)
        .collect();
    assert_eq!((doors[0].door.number.as_str(), knocks), ("12", vec![1, 3]));
    assert_eq!(doors[1].knocks.len(), 1);
    let sources = store.record_sources().unwrap();
    let knock1 = &sources[&format!("knock:{}", Uuid::from_u128(1001))];
    assert_eq!(knock1.len(), 2, "{knock1:?}");
}

#[test]
fn a_batch_merged_before_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let b = make_batch(
        "laptop-1",
        1,
        vec![Record::Response(response(1, 0, 1)), door_record("1")],
    );
    merge(&store, &b);
    let journal = std::fs::read(journal_path(dir.path())).unwrap();
    let before = logical(&store);
    match merge(&store, &b) {
        MergeResult::AlreadyMerged(m) => {
            assert_eq!((m.batch, m.outcome.new), (b.manifest.batch, 2));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(logical(&store), before);
    assert_eq!(std::fs::read(journal_path(dir.path())).unwrap(), journal);
    assert!(store.already_merged(&b).unwrap().is_some());
}

#[test]
fn gaps_in_a_devices_chain_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for seq in [1, 3, 5] {
        merge(
            &store,
            &make_batch("laptop-1", seq, vec![door_record(&seq.to_string())]),
        );
    }
    merge(&store, &make_batch("laptop-2", 1, vec![door_record("20")]));
    let gaps: Vec<String> = store
        .batch_gaps()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(gaps, vec!["device laptop-1: batches 2, 4 of 5 missing"]);
    merge(&store, &make_batch("laptop-1", 2, vec![door_record("2")]));
    let gaps: Vec<String> = store
        .batch_gaps()
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(gaps, vec!["device laptop-1: batch 4 of 5 missing"]);
}

#[test]
fn a_draft_in_a_batch_is_rejected_with_its_reason_and_settings_are_not_imported() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .set_setting(doorstep::response::SettingKey::Device, "coordinator")
        .unwrap();
    let draft = Response::draft(Uuid::from_u128(5), new_response(AREA, t0())).unwrap();
    let b = make_batch(
        "laptop-1",
        1,
        vec![
            Record::Setting(batch::SettingEntry {
                key: doorstep::response::SettingKey::Device,
                value: "laptop-1".into(),
            }),
            Record::Response(response(1, 0, 1)),
            Record::Response(draft.clone()),
        ],
    );
    let MergeResult::Merged { batch, rejections } = merge(&store, &b) else {
        panic!("not merged");
    };
    assert_eq!(batch.outcome.new, 1);
    assert_eq!(batch.outcome.rejected, 1);
    assert_eq!(rejections.len(), 1);
    assert_eq!((rejections[0].record, rejections[0].line), (3, 5));
    assert_eq!(
        rejections[0].reason,
        format!(
            "response {} is a draft; only finalized responses are merged",
            draft.id
        )
    );
    assert!(store.get(draft.id).is_err());
    assert_eq!(
        store.settings().unwrap().device.as_deref(),
        Some("coordinator")
    );
}

/// A `Merged` journal line written but the store never updated (killed between the two):
/// the next open brings the whole batch in; cut short (killed inside the journal write):
/// nothing of it is in.
#[test]
fn a_merge_is_wholly_in_or_wholly_out_after_a_crash_around_its_journal_line() {
    let records = vec![
        Record::Response(response(1, 0, 1)),
        Record::Response(response(2, 0, 2)),
        door_record("7"),
        knock(1, "7", "laptop-1"),
    ];
    let b = make_batch("laptop-1", 1, records.clone());
    // The expected store: the batch merged normally.
    let whole = {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        merge(&store, &b);
        logical(&store)
    };
    let empty = {
        let dir = tempfile::tempdir().unwrap();
        logical(&open(dir.path()))
    };
    let MergeResult::Merged {
        batch: recorded, ..
    } = ({
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        merge(&store, &b)
    })
    else {
        panic!()
    };
    let line = encode_line(&JournalEntry::Merged {
        batch: recorded,
        records: records.clone(),
    })
    .unwrap();
    for (cut, expect_whole) in [
        (line.len(), true),
        (line.len() / 2, false),
        (line.len() - 2, false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        drop(open(dir.path()));
        let mut journal = std::fs::OpenOptions::new()
            .append(true)
            .open(journal_path(dir.path()))
            .unwrap();
        std::io::Write::write_all(&mut journal, &line.as_bytes()[..cut]).unwrap();
        drop(journal);
        let store = open(dir.path());
        let got = logical(&store);
        if expect_whole {
            assert_eq!(got, whole, "cut at {cut} of {}", line.len());
            assert_eq!(store.merged_batches().unwrap().len(), 1);
            assert!(matches!(merge(&store, &b), MergeResult::AlreadyMerged(_)));
        } else {
            assert_eq!(got, empty, "cut at {cut} of {}", line.len());
            // It can be merged now, whole.
            merge(&store, &b);
            assert_eq!(logical(&store), whole);
        }
    }
}

/// A batch merged from its file is journaled from the file's own record text (not encoded
/// again): the journal line is the one encoding the entry gives, and `recover` rebuilds
/// the same store from it.
#[test]
fn a_merged_file_is_journaled_with_the_records_as_the_file_has_them() {
    let original = response(1, 0, 1);
    let records = vec![
        Record::Setting(batch::SettingEntry {
            key: doorstep::response::SettingKey::Device,
            value: "laptop-1".into(),
        }),
        Record::Response(original.clone()),
        Record::Response(revision(2, &original)),
        door_record("7"),
        knock(1, "7", "laptop-1"),
    ];
    let bytes = batch_bytes("laptop-1", 1, records.clone());
    let opened = batch::open(&bytes, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("laptop-1.batch");
    std::fs::write(&path, &bytes).unwrap();
    let data = dir.path().join("data");
    let store = open(&data);
    // Verified as `batch merge` verifies it first (its answers are not checked again).
    let verified = doorstep::store::Verified {
        manifest: opened.manifest.clone(),
        digest: opened.digest.clone(),
        encrypted: false,
        pin: doorstep::store::PinCheck::FirstUse,
        already_merged: false,
    };
    let registry = doorstep::survey::registry::Registry::builtin().unwrap();
    let result = store
        .merge_verified_file(&path, None, &registry, &verified, &mut |_, _| {})
        .unwrap();
    let MergeResult::Merged {
        batch: recorded, ..
    } = result
    else {
        panic!("not merged: {result:?}")
    };
    assert_eq!((recorded.outcome.new, recorded.outcome.superseded), (3, 1));
    let journal = std::fs::read_to_string(journal_path(&data)).unwrap();
    let last = journal.lines().last().unwrap();
    let expected = encode_line(&JournalEntry::Merged {
        batch: recorded,
        records,
    })
    .unwrap();
    assert_eq!(format!("{last}\n"), expected);
    let merged = logical(&store);
    drop(store);
    std::fs::remove_dir_all(data.join(doorstep::store::STORE_DIR)).unwrap();
    recover(&data, env().0).unwrap();
    assert_eq!(logical(&open(&data)), merged);
}

#[test]
fn recover_rebuilds_merged_data_over_a_damaged_store() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let store = open(dir.path());
        let r = response(1, 0, 1);
        merge(
            &store,
            &make_batch(
                "laptop-1",
                1,
                vec![Record::Response(r.clone()), door_record("3")],
            ),
        );
        merge(
            &store,
            &make_batch(
                "laptop-2",
                1,
                vec![
                    Record::Response(response(1, 1, 2)),
                    knock(4, "3", "laptop-2"),
                ],
            ),
        );
        merge(
            &store,
            &make_batch("laptop-2", 3, vec![Record::Response(revision(9, &r))]),
        );
        store.resolve_conflict(r.id, 1).unwrap();
        recovered_state(&store)
    };
    // Healthy store: recover keeps everything.
    recover(dir.path(), env().0).unwrap();
    {
        let store = open(dir.path());
        assert_eq!(recovered_state(&store), before);
    }
    // No store at all: the journal alone.
    std::fs::remove_dir_all(dir.path().join("store")).unwrap();
    recover(dir.path(), env().0).unwrap();
    let store = open(dir.path());
    assert_eq!(recovered_state(&store), before);
}

/// Recover reads a merged response back from its `Merged` line rather than holding every
/// batch's responses: whatever later lines do to one (merged again, duplicated, in
/// conflict, revised, resolved), the store rebuilt from the journal alone is the same,
/// and each response is restored once.
#[test]
fn recover_from_the_journal_alone_reads_each_merged_response_back_once() {
    let dir = tempfile::tempdir().unwrap();
    let plain: Vec<Response> = (1..=20).map(|n| response(n, 0, n as i64)).collect();
    let before = {
        let store = open(dir.path());
        merge(
            &store,
            &make_batch(
                "laptop-1",
                1,
                plain[..10].iter().cloned().map(Record::Response).collect(),
            ),
        );
        merge(
            &store,
            &make_batch(
                "laptop-2",
                1,
                plain[10..]
                    .iter()
                    .cloned()
                    .map(Record::Response)
                    .chain([
                        // The same as merged before: a duplicate.
                        Record::Response(plain[0].clone()),
                        // Another content under an id merged before: a conflict.
                        Record::Response(response(2, 1, 2)),
                        // A revision of one merged before.
                        Record::Response(revision(90, &plain[2])),
                    ])
                    .collect(),
            ),
        );
        store.resolve_conflict(plain[1].id, 1).unwrap();
        recovered_state(&store)
    };
    std::fs::remove_dir_all(dir.path().join("store")).unwrap();
    let report = recover(dir.path(), env().0).unwrap();
    // Twenty merged responses and one revision; the conflict's version is a record of its own.
    assert_eq!(report.responses_restored(), 21, "{report:?}");
    let store = open(dir.path());
    assert_eq!(recovered_state(&store), before);
}

/// A merged batch's line whose checksum holds but one of whose records this release
/// cannot read (a record edited by hand, or by a bug) is skipped whole by recover and
/// reported by line and record, as a line that does not decode at all is: no record of
/// it is half applied, whatever the slice the records are read in. The lines around it
/// are recovered.
#[test]
fn a_merged_line_with_an_unreadable_record_is_skipped_whole_and_named() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let plain: Vec<Response> = (1..=9).map(|n| response(n, 0, n as i64)).collect();
    let batch = |device: &str, rs: &[Response]| {
        make_batch(
            device,
            1,
            rs.iter().cloned().map(Record::Response).collect(),
        )
    };
    {
        let store = open(dir.path());
        merge(&store, &batch("laptop-1", &plain[..3]));
        merge(&store, &batch("laptop-2", &plain[3..6]));
        merge(&store, &batch("laptop-3", &plain[6..]));
    }
    // The second batch's line: its second response's status made one no release has.
    let path = journal_path(dir.path());
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&plain[4].id.to_string()))
        .unwrap();
    let (_, json) = lines[at].split_once(' ').unwrap();
    let id = plain[4].id.to_string();
    let from = json.find(&id).unwrap();
    let status = from + json[from..].find(r#""status":""#).unwrap();
    let json = format!(
        "{}\"status\":\"lost\"{}",
        &json[..status],
        &json[status + json[status..].find(',').unwrap()..]
    );
    let sum: String = Sha256::digest(json.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    lines[at] = format!("sha256:{sum} {json}");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();

    for slice in [1, 2, 1024] {
        std::fs::remove_dir_all(dir.path().join("store")).ok();
        let report = recover_in_slices(dir.path(), env().0, slice).unwrap();
        assert_eq!(report.corrupt.len(), 1, "{report}");
        assert_eq!(report.corrupt[0].line, at + 1);
        let reason = &report.corrupt[0].reason;
        assert!(
            reason.contains(&format!("journal line {}, record 2 of its batch", at + 1))
                && reason.contains("not readable")
                && reason.contains("lost"),
            "{reason}"
        );
        let store = open(dir.path());
        let ids: BTreeSet<Uuid> = store
            .active_responses()
            .unwrap()
            .map(|r| r.unwrap().id)
            .collect();
        let expected: BTreeSet<Uuid> = plain[..3].iter().chain(&plain[6..]).map(|r| r.id).collect();
        assert_eq!(ids, expected, "slice {slice}");
    }
}

/// Recover writes where merged responses and knocks came from as it replays each batch,
/// and reads back only those a later batch names: over many batches (a response and a
/// knock carried by two of them, a conflict, a conflict of revisions and a door
/// correction naming a knock, each some batches after what they name), a healthy store
/// and one rebuilt from the journal alone hold the same sources as the merge left.
#[test]
fn recover_writes_sources_batch_by_batch_and_rebuilds_them_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let plain: Vec<Response> = (1..=12).map(|n| response(n, 0, n as i64)).collect();
    // A knock that does not name its device: a correction reads who sent it.
    let unnamed = match knock(7, "5", "laptop-1") {
        Record::Knock(mut k) => {
            k.knock.device = None;
            Record::Knock(k)
        }
        _ => unreachable!(),
    };
    let unnamed_id = match &unnamed {
        Record::Knock(k) => k.knock.identity(&k.area, &k.door),
        _ => unreachable!(),
    };
    let batches = vec![
        make_batch(
            "laptop-1",
            1,
            plain[..4]
                .iter()
                .cloned()
                .map(Record::Response)
                .chain([door_record("3"), knock(1, "3", "laptop-1"), unnamed])
                .collect(),
        ),
        make_batch(
            "laptop-2",
            1,
            plain[4..8]
                .iter()
                .cloned()
                .map(Record::Response)
                .chain([knock(2, "4", "laptop-2")])
                .collect(),
        ),
        make_batch(
            "laptop-3",
            1,
            plain[8..]
                .iter()
                .cloned()
                .map(Record::Response)
                .chain([Record::Response(revision(50, &plain[5]))])
                .collect(),
        ),
        // Two batches later: the same response and knock again (two sources each), another
        // content under an id merged before (a conflict), and a second revision.
        make_batch(
            "laptop-2",
            2,
            vec![
                Record::Response(plain[0].clone()),
                knock(1, "3", "laptop-1"),
                door_record("3"),
                Record::Response(response(10, 1, 10)),
                Record::Response(other_revision(51, &plain[5])),
            ],
        ),
        make_batch(
            "laptop-1",
            2,
            vec![Record::DoorEdit(doorstep::batch::DoorEditEntry {
                id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0099),
                area: AREA.into(),
                from: door("5"),
                to: door("5A"),
                at: t0() + Duration::hours(3),
                device: "laptop-1".into(),
                officer: Some("PC 1".into()),
                knocks: vec![unnamed_id],
            })],
        ),
    ];
    let before = {
        let store = open(dir.path());
        for b in &batches {
            merge(&store, b);
        }
        let sources = store.record_sources().unwrap();
        let two: Vec<Uuid> = sources[&format!("response:{}", plain[0].id)]
            .iter()
            .map(|s| s.batch)
            .collect();
        assert_eq!(
            two,
            vec![batches[0].manifest.batch, batches[3].manifest.batch]
        );
        assert_eq!(store.unresolved_conflicts().unwrap().len(), 2);
        recovered_state(&store)
    };
    let rebuilt = |report: doorstep::store::RecoveryReport| {
        let store = open(dir.path());
        let after = recovered_state(&store);
        assert_eq!(after, before, "{report:?}");
    };
    // Healthy: the replay's sources go aside and are written back the same.
    rebuilt(recover(dir.path(), env().0).unwrap());
    // The journal alone.
    std::fs::remove_dir_all(dir.path().join("store")).unwrap();
    rebuilt(recover(dir.path(), env().0).unwrap());
}

/// A second revision `n` of `original`, made on another laptop (other content).
fn other_revision(n: u128, original: &Response) -> Response {
    let mut r = revision(n, original);
    r.interviewer = "PC 9".into();
    r
}

#[test]
fn two_revisions_of_one_response_from_two_laptops_are_a_conflict_counted_once() {
    let original = response(1, 0, 10);
    let r1 = revision(2, &original);
    let r2 = other_revision(3, &original);
    let mut seen = Vec::new();
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let batches = [
            make_batch("laptop-1", 1, vec![Record::Response(original.clone())]),
            make_batch("laptop-1", 2, vec![Record::Response(r1.clone())]),
            make_batch("laptop-2", 1, vec![Record::Response(r2.clone())]),
        ];
        for i in order {
            merge(&store, &batches[i]);
        }
        let conflicts = store.unresolved_conflicts().unwrap();
        assert_eq!(conflicts.len(), 1, "order {order:?}");
        let c = &conflicts[0];
        assert!(c.revisions);
        assert_eq!(c.id, original.id);
        let ids: BTreeSet<Uuid> = c.versions.iter().map(|v| v.response.id).collect();
        assert_eq!(ids, BTreeSet::from([r1.id, r2.id]));
        // One interview, counted once: the active revision only.
        let active_id = c.active().unwrap().response.id;
        let active: Vec<Uuid> = store
            .active_responses()
            .unwrap()
            .map(|r| r.unwrap().id)
            .collect();
        assert_eq!(active, vec![active_id], "order {order:?}");
        assert_eq!(store.list(&Default::default()).unwrap().responses.len(), 2);
        assert_eq!(store.conflict(original.id).unwrap().as_ref(), Some(c));
        seen.push(logical(&store));
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn a_conflict_of_revisions_is_resolved_journaled_and_rebuilt_by_recover() {
    let dir = tempfile::tempdir().unwrap();
    let original = response(1, 0, 10);
    let r1 = revision(2, &original);
    let r2 = other_revision(3, &original);
    let (kept, other) = {
        let store = open(dir.path());
        merge(
            &store,
            &make_batch(
                "laptop-1",
                1,
                vec![
                    Record::Response(original.clone()),
                    Record::Response(r1.clone()),
                ],
            ),
        );
        let b = make_batch("laptop-2", 1, vec![Record::Response(r2.clone())]);
        assert_eq!(counts(&merge(&store, &b)), [0, 0, 0, 1, 0]);
        // The same revision again: a duplicate, the conflict stays as it is.
        let again = make_batch("laptop-2", 2, vec![Record::Response(r2.clone())]);
        assert_eq!(counts(&merge(&store, &again)), [0, 1, 0, 0, 0]);
        let c = store.conflict(original.id).unwrap().unwrap();
        let inactive = 1 - c.active_index();
        let (kept, other) = (
            c.versions[inactive].response.clone(),
            c.versions[c.active_index()].response.clone(),
        );

        // A refused resolution changes nothing.
        let before = logical(&store);
        let err = store.resolve_conflict(original.id, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the conflict of response {} has no version C: it has 2 (A to B)",
                original.id
            )
        );
        assert_eq!(logical(&store), before);

        let settled = store.resolve_conflict(original.id, inactive).unwrap();
        assert!(settled.is_resolved() && settled.revisions);
        assert_eq!(store.get(kept.id).unwrap(), kept);
        assert!(store.get(other.id).is_err());
        let active: Vec<Uuid> = store
            .active_responses()
            .unwrap()
            .map(|r| r.unwrap().id)
            .collect();
        assert_eq!(active, vec![kept.id]);
        assert_eq!(store.unresolved_conflict_count().unwrap(), 0);
        (kept, other)
    };
    let store = open(dir.path());
    assert_eq!(store.get(kept.id).unwrap(), kept);
    let before = logical(&store);
    drop(store);
    // Healthy store, then the journal alone.
    recover(dir.path(), env().0).unwrap();
    assert_eq!(logical(&open(dir.path())), before);
    std::fs::remove_dir_all(dir.path().join("store")).unwrap();
    recover(dir.path(), env().0).unwrap();
    let store = open(dir.path());
    assert_eq!(logical(&store), before);
    assert!(store.get(other.id).is_err());
}

#[test]
fn a_chain_of_revisions_in_any_order_is_no_conflict_and_the_last_counts() {
    let original = response(1, 0, 10);
    let r1 = revision(2, &original);
    let mut r2 = r1.revision(Uuid::from_u128(3), t0() + Duration::hours(3));
    r2.finalize(Status::Complete, t0() + Duration::hours(4));
    let records = [original, r1, r2.clone()];
    let mut seen = Vec::new();
    for order in [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        for (seq, i) in order.iter().enumerate() {
            let device = format!("laptop-{i}");
            merge(
                &store,
                &make_batch(
                    &device,
                    seq as u64 + 1,
                    vec![Record::Response(records[*i].clone())],
                ),
            );
        }
        assert!(store.conflicts().unwrap().is_empty(), "order {order:?}");
        let active: Vec<Uuid> = store
            .active_responses()
            .unwrap()
            .map(|r| r.unwrap().id)
            .collect();
        assert_eq!(active, vec![r2.id], "order {order:?}");
        let mut l = logical(&store);
        // Which batch carried what differs with the order; the records do not.
        l.sources.clear();
        seen.push(l);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
}

// ---- order independence and idempotence ----

/// The pool a generated batch draws its records from: responses 1-3 in two variants,
/// two conflicting revisions of response 1 and a revision of each, doors 1-2, knocks 1-4,
/// and an action in four versions (as added, moved on, moved on further, and changed
/// differently), a correction of door 1 to door 3 and a later one of door 3 to door 4 (both
/// naming knocks 2 and 4), and a removal of door 2 (naming knocks 1 and 3).
fn pool() -> Vec<Record> {
    let mut out = Vec::new();
    for n in 1..=3u128 {
        for v in 0..2u8 {
            out.push(Record::Response(response(
                n,
                v,
                i64::from(v) * 3 + n as i64,
            )));
        }
    }
    let first = revision(4, &response(1, 0, 1));
    out.push(Record::Response(first.clone()));
    // Another laptop's revision of the same response (a conflict of revisions), and a
    // revision of the first revision (a chain).
    out.push(Record::Response(other_revision(5, &response(1, 0, 1))));
    let mut chained = first.revision(Uuid::from_u128(6), t0() + Duration::hours(3));
    chained.finalize(Status::Complete, t0() + Duration::hours(4));
    out.push(Record::Response(chained));
    // A revision of the other laptop's revision: whichever side loses, its later
    // revision must not count beside the winner.
    let mut other_side = other_revision(5, &response(1, 0, 1))
        .revision(Uuid::from_u128(7), t0() + Duration::hours(3));
    other_side.finalize(Status::Complete, t0() + Duration::hours(5));
    out.push(Record::Response(other_side));
    out.push(door_record("1"));
    out.push(door_record("2"));
    for k in 1..=4u128 {
        out.push(knock(k, if k % 2 == 0 { "1" } else { "2" }, "laptop-1"));
    }
    use crate::merge_actions::{action, changed};
    use doorstep::action::ActionStatus;
    let a0 = action(1);
    let a1 = changed(&a0, 10, "PC 2", ActionStatus::InProgress);
    let a2 = changed(&a1, 30, "PC 2", ActionStatus::Done);
    let diverged = changed(&a0, 20, "PC 3", ActionStatus::Done);
    out.extend([a0, a1, a2, diverged].into_iter().map(Record::Action));
    let knocks = |ks: [u128; 2]| ks.iter().map(|k| Uuid::from_u128(1000 + k)).collect();
    let edit = |n: u128, from: &str, to: &str, hours: i64| {
        Record::DoorEdit(batch::DoorEditEntry {
            id: Uuid::from_u128(2000 + n),
            area: AREA.into(),
            from: door(from),
            to: door(to),
            at: t0() + Duration::hours(hours),
            device: "laptop-1".into(),
            officer: Some("PC 1".into()),
            knocks: knocks([2, 4]),
        })
    };
    out.push(edit(1, "1", "3", 1));
    out.push(edit(2, "3", "4", 2));
    out.push(Record::DoorRemove(batch::DoorRemoveEntry {
        id: Uuid::from_u128(2003),
        area: AREA.into(),
        door: door("2"),
        at: t0() + Duration::hours(1),
        device: "laptop-1".into(),
        officer: None,
        knocks: knocks([1, 3]),
    }));
    out
}

/// Batches as subsets of the pool, each from its own device.
fn batches_strategy() -> impl Strategy<Value = Vec<Vec<usize>>> {
    let n = pool().len();
    proptest::collection::vec(
        proptest::sample::subsequence((0..n).collect::<Vec<_>>(), 1..5),
        1..4,
    )
}

fn build(spec: &[Vec<usize>]) -> Vec<Batch> {
    let pool = pool();
    spec.iter()
        .enumerate()
        .map(|(i, picks)| {
            make_batch(
                &format!("laptop-{i}"),
                1,
                picks.iter().map(|p| pool[*p].clone()).collect(),
            )
        })
        .collect()
}

fn merged_in(order: &[usize], batches: &[Batch], twice: bool) -> Logical {
    merged_in_slices(order, batches, twice, None)
}

/// [`merged_in`], each batch worked out `slice` records at a time if given.
fn merged_in_slices(
    order: &[usize],
    batches: &[Batch],
    twice: bool,
    slice: Option<usize>,
) -> Logical {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    if let Some(slice) = slice {
        store.set_merge_slice(slice);
    }
    for _ in 0..(if twice { 2 } else { 1 }) {
        for i in order {
            merge_any(&store, &batches[*i]);
        }
    }
    logical(&store)
}

fn merge_any(store: &Store, batch: &Batch) {
    store.merge_batch(batch, &mut |_, _| {}).unwrap();
}

/// The case the slices first failed on: a door removal in a later slice than the knock
/// it takes out did not see the door that knock was written to (doors of an area were
/// read from the store, not through what the slices before had staged), and left the
/// knock. One laptop sends the door, another a knock there, an action and the removal.
#[test]
fn a_door_removal_a_slice_after_its_knock_takes_the_knock_out() {
    let spec = vec![vec![11], vec![14, 16, 22]];
    let batches = build(&spec);
    let whole = merged_in(&[0, 1], &batches, false);
    assert_eq!(whole.doors.len(), 1);
    assert!(whole.doors[0].2.is_empty(), "{:?}", whole.doors);
    for slice in 1..=3 {
        for order in [[0, 1], [1, 0]] {
            assert_eq!(
                merged_in_slices(&order, &batches, false, Some(slice)),
                whole,
                "order {order:?}, {slice} at a time"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any set of batches in any order gives the same store; merging them all again
    /// changes nothing; neither does working each batch out a few records at a time.
    #[test]
    fn merging_is_order_independent_and_idempotent(
        spec in batches_strategy(),
        rotate in 0usize..3,
        slice in 1usize..4,
    ) {
        let batches = build(&spec);
        let forward: Vec<usize> = (0..batches.len()).collect();
        let mut other: Vec<usize> = forward.iter().rev().copied().collect();
        let len = other.len();
        other.rotate_left(rotate % len);
        let a = merged_in(&forward, &batches, false);
        // Once both revisions of response 1 are here (pool records 6 and 7, each the
        // start of a chain), never two of their chains count at once.
        let picked = |p: usize| spec.iter().any(|b| b.contains(&p));
        if picked(6) && picked(7) {
            let revisions = (4..=7u128).map(Uuid::from_u128).collect::<Vec<_>>();
            prop_assert!(a.active.iter().filter(|id| revisions.contains(id)).count() <= 1);
        }
        prop_assert_eq!(&a, &merged_in(&other, &batches, false));
        prop_assert_eq!(&a, &merged_in(&forward, &batches, true));
        prop_assert_eq!(&a, &merged_in_slices(&other, &batches, false, Some(slice)));
    }
}

/// Merges each of `picks` from the pool on a journal line of its own, in every rotation of
/// them forwards and backwards, then `after` on the store; a healthy recover and one from
/// the journal alone must each give back the store this made.
fn recovers_in_orders(picks: &[usize], after: impl Fn(&Store, &[usize])) {
    let pool = pool();
    for start in 0..picks.len() {
        for reverse in [false, true] {
            let mut order = picks.to_vec();
            if reverse {
                order.reverse();
            }
            order.rotate_left(start);
            let dir = tempfile::tempdir().unwrap();
            let before = {
                let store = open(dir.path());
                for p in &order {
                    merge_any(
                        &store,
                        &make_batch(&format!("laptop-{p}"), 1, vec![pool[*p].clone()]),
                    );
                }
                after(&store, &order);
                recovered_state(&store)
            };
            recover(dir.path(), env().0).unwrap();
            assert_eq!(
                recovered_state(&open(dir.path())),
                before,
                "order {order:?}"
            );
            std::fs::remove_dir_all(dir.path().join("store")).unwrap();
            recover(dir.path(), env().0).unwrap();
            assert_eq!(
                recovered_state(&open(dir.path())),
                before,
                "order {order:?}"
            );
        }
    }
}

/// Response 1 in two versions (a conflict), two revisions of it (a conflict of
/// revisions) and a revision of each (chains), each merged on a journal line of its own,
/// in twelve orders: recover, which keeps what earlier lines made out of memory and reads
/// it back for the lines that name it, gives back the store the merges made.
#[test]
fn recover_reads_back_revisions_merged_lines_apart() {
    recovers_in_orders(&[0, 1, 6, 7, 8, 9], |store, order| {
        assert_eq!(store.conflicts().unwrap().len(), 2, "order {order:?}");
    });
}

/// The same without the conflict of versions, the conflict of revisions then resolved
/// for the side the merges did not make active and both chains merged again by another
/// laptop: the resolution and the lines after it read back what earlier lines set aside
/// and brought back.
#[test]
fn recover_reads_back_a_resolved_conflict_of_revisions_named_again() {
    let pool = pool();
    recovers_in_orders(&[0, 6, 7, 8, 9], |store, order| {
        let original = Uuid::from_u128(1);
        let c = store.conflict(original).unwrap().unwrap();
        assert!(c.revisions, "order {order:?}");
        let active = store.active_responses().unwrap().count();
        store
            .resolve_conflict(original, 1 - c.active_index())
            .unwrap();
        merge_any(
            store,
            &make_batch("laptop-again", 1, vec![pool[8].clone(), pool[9].clone()]),
        );
        assert_eq!(store.active_responses().unwrap().count(), active);
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// `recover` gives back what any set of batches made, over the healthy store and from
    /// the journal alone. Each batch is a journal line of its own, so revisions, chains of
    /// revisions and conflicts of revisions arrive lines apart: what an earlier line made
    /// must be read back (recover does not hold it) with everything it touches.
    #[test]
    fn recover_gives_back_any_set_of_merged_batches(
        spec in batches_strategy(),
        reverse in any::<bool>(),
        slice in 1usize..4,
    ) {
        let batches = build(&spec);
        let mut order: Vec<usize> = (0..batches.len()).collect();
        if reverse {
            order.reverse();
        }
        let dir = tempfile::tempdir().unwrap();
        let before = {
            let store = open(dir.path());
            // Worked out two records at a time; the replay reads each batch's records
            // back `slice` at a time, each slice as if a line of its own.
            store.set_merge_slice(2);
            for i in &order {
                merge_any(&store, &batches[*i]);
            }
            recovered_state(&store)
        };
        // A store that missed every line of that journal (an empty one left behind it)
        // replays them as it opens, `slice` records at a time, to the same.
        let behind = tempfile::tempdir().unwrap();
        drop(open(behind.path()));
        std::fs::copy(journal_path(dir.path()), journal_path(behind.path())).unwrap();
        let replayed = Store::lock(behind.path(), env().0).unwrap().slice(slice).open().unwrap();
        prop_assert_eq!(&recovered_state(&replayed), &before);
        drop(replayed);
        recover_in_slices(dir.path(), env().0, slice).unwrap();
        prop_assert_eq!(&recovered_state(&open(dir.path())), &before);
        std::fs::remove_dir_all(dir.path().join("store")).unwrap();
        recover_in_slices(dir.path(), env().0, slice).unwrap();
        prop_assert_eq!(&recovered_state(&open(dir.path())), &before);
    }
}

// ---- through the real binary ----

mod cli {
    use std::path::{Path, PathBuf};

    use doorstep::batch::{self, DeviceKey, Manifest, Origin, Record, Selection};
    use doorstep::response::{AnswerRecord, Response, SettingKey, StoredAnswer};
    use doorstep::store::{Store, journal_path};
    use doorstep::survey::Answer;
    use predicates::prelude::*;
    use uuid::Uuid;

    use super::{AREA, logical};
    use crate::batches::{coordinator, doorstep, export, interview, pins, stdout_of};
    use crate::store_helpers::t0;

    /// A laptop named `device`, sending to `recipient`, with one interview at 12 Kay Street.
    fn laptop(dir: &Path, device: &str, recipient: &str) -> Response {
        // The system clock and ids: two laptops must not make the same ids.
        let store = Store::open(dir).unwrap();
        store.set_setting(SettingKey::Device, device).unwrap();
        store.set_setting(SettingKey::Officer, "PC 7").unwrap();
        store.set_setting(SettingKey::Recipient, recipient).unwrap();
        interview(&store, "12")
    }

    /// Everything about the coordinator's store a refused or dry-run merge must leave as
    /// it was: its logical content, pins and the journal's bytes.
    fn state(dir: &Path) -> (super::Logical, String, Vec<u8>) {
        let pinned = pins(dir);
        let store = Store::open(dir).unwrap();
        let logical = logical(&store);
        drop(store);
        (
            logical,
            pinned,
            std::fs::read(journal_path(dir)).unwrap_or_default(),
        )
    }

    fn merge_cmd(coord: &Path, paths: &[&Path], identity: Option<&Path>) -> assert_cmd::Command {
        let mut cmd = doorstep(coord);
        cmd.args(["batch", "merge"]);
        for p in paths {
            cmd.arg(p);
        }
        if let Some(id) = identity {
            cmd.arg("--identity").arg(id);
        }
        cmd
    }

    /// A signed, unencrypted batch of `records` from `device`, written to `path`.
    fn write_batch(
        path: &Path,
        key: &DeviceKey,
        device: &str,
        sequence: u64,
        records: Vec<Record>,
    ) {
        let origin = Origin {
            batch: Uuid::now_v7(),
            sequence,
            previous: None,
            device: device.into(),
            officer: Some("PC 7".into()),
            created_at: t0(),
            selection: Selection::New,
        };
        let manifest = Manifest::describe(origin, &key.public(), &records);
        std::fs::write(path, batch::write(&manifest, &records, key).unwrap()).unwrap();
    }

    /// A valid KIN interview made on a scratch laptop.
    fn kin_response() -> Response {
        let lap = tempfile::tempdir().unwrap();
        interview(&Store::open(lap.path()).unwrap(), "1")
    }

    fn data_dir_with_store() -> (tempfile::TempDir, PathBuf) {
        let coord = tempfile::tempdir().unwrap();
        drop(Store::open(coord.path()).unwrap());
        let inbox = coord.path().join("inbox");
        std::fs::create_dir(&inbox).unwrap();
        (coord, inbox)
    }

    #[test]
    fn two_laptops_revisions_of_one_response_are_listed_and_resolved_by_the_cli() {
        let (coord, inbox) = data_dir_with_store();
        let original = kin_response();
        let revise = |n: u128, officer: &str| {
            let mut r = original.revision(Uuid::from_u128(n), t0() + chrono::Duration::hours(1));
            r.interviewer = officer.into();
            r.finalize(
                doorstep::response::Status::Complete,
                t0() + chrono::Duration::hours(2),
            );
            r
        };
        let (r1, r2) = (revise(1, "PC 1"), revise(2, "PC 2"));
        let (k1, k2) = (
            DeviceKey::from_secret_bytes([5; 32]),
            DeviceKey::from_secret_bytes([6; 32]),
        );
        write_batch(
            &inbox.join("a.batch"),
            &k1,
            "laptop-1",
            1,
            vec![
                Record::Response(original.clone()),
                Record::Response(r1.clone()),
            ],
        );
        write_batch(
            &inbox.join("b.batch"),
            &k2,
            "laptop-2",
            1,
            vec![Record::Response(r2.clone())],
        );
        merge_cmd(coord.path(), &[&inbox], None).assert().success();
        let listed = stdout_of(doorstep(coord.path()).args(["batch", "conflicts"]));
        assert!(
            listed.contains(&format!(
                "revisions of response {}: 2 versions",
                original.id
            )),
            "{listed}"
        );
        assert!(listed.contains(&r1.id.to_string()) && listed.contains(&r2.id.to_string()));
        // A version that is not there: a usage error, nothing changed.
        let before = state(coord.path());
        doorstep(coord.path())
            .args(["batch", "resolve", &original.id.to_string(), "--keep", "C"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("has versions A, B"));
        assert_eq!(state(coord.path()), before);
        let said = stdout_of(doorstep(coord.path()).args([
            "batch",
            "resolve",
            &original.id.to_string(),
            "--keep",
            "B",
        ]));
        assert!(
            said.starts_with(&format!(
                "revisions of response {}: version B (revision",
                original.id
            )),
            "{said}"
        );
        let store = Store::open(coord.path()).unwrap();
        assert_eq!(store.unresolved_conflict_count().unwrap(), 0);
        let active: Vec<Uuid> = store
            .active_responses()
            .unwrap()
            .map(|r| r.unwrap().id)
            .collect();
        assert_eq!(active.len(), 1);
    }

    #[test]
    fn two_laptops_on_one_street_merge_into_one_door_log_on_the_coordinator() {
        let coord = tempfile::tempdir().unwrap();
        let (identity, recipient) = coordinator(coord.path());
        let inbox = tempfile::tempdir().unwrap();
        let (lap1, lap2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let r1 = laptop(lap1.path(), "laptop-1", &recipient);
        let r2 = laptop(lap2.path(), "laptop-2", &recipient);
        export(lap1.path(), &inbox.path().join("a-laptop-1.batch"), &[]);
        export(lap2.path(), &inbox.path().join("b-laptop-2.batch"), &[]);

        let said =
            stdout_of(merge_cmd(coord.path(), &[inbox.path()], Some(&identity)).arg("--json"));
        let json: serde_json::Value = serde_json::from_str(&said).unwrap();
        let rows = &json["blocks"][0]["rows"];
        assert_eq!(json["blocks"][0]["name"], "merges");
        // laptop-1: its interview, the door and its knock are new; laptop-2: its
        // interview and knock are new, the door is the same door.
        for (i, (device, new, dup)) in [("laptop-1", 3, 0), ("laptop-2", 2, 1)].iter().enumerate() {
            assert_eq!(rows[i]["device"], *device, "{said}");
            assert_eq!(rows[i]["result"], "merged");
            assert_eq!(
                (rows[i]["new"].as_i64(), rows[i]["duplicate"].as_i64()),
                (Some(*new), Some(*dup)),
                "{said}"
            );
            assert_eq!(rows[i]["conflict"], 0);
        }
        let check = |coord: &Path| {
            let store = Store::open(coord).unwrap();
            let doors = store.doors(AREA).unwrap();
            assert_eq!(doors.len(), 1);
            let devices: Vec<Option<&str>> = doors[0]
                .knocks
                .iter()
                .map(|k| k.device.as_deref())
                .collect();
            assert_eq!(devices.len(), 2, "{devices:?}");
            assert!(devices.contains(&Some("laptop-1")) && devices.contains(&Some("laptop-2")));
            let mut active: Vec<Uuid> = store
                .active_responses()
                .unwrap()
                .map(|r| r.unwrap().id)
                .collect();
            active.sort();
            let mut want = vec![r1.id, r2.id];
            want.sort();
            assert_eq!(active, want);
            assert_eq!(
                store
                    .response_sources(r1.id)
                    .unwrap()
                    .iter()
                    .next()
                    .unwrap()
                    .device,
                "laptop-1"
            );
        };
        check(coord.path());
        let listed = pins(coord.path());
        assert!(
            listed.contains("laptop-1") && listed.contains("laptop-2"),
            "{listed}"
        );

        // The same folder again: already merged, nothing changes.
        let before = state(coord.path());
        let said = stdout_of(&mut merge_cmd(
            coord.path(),
            &[inbox.path()],
            Some(&identity),
        ));
        assert_eq!(said.matches("already merged").count(), 2, "{said}");
        assert_eq!(state(coord.path()).0, before.0);

        // laptop-1 exports everything again: a new batch of duplicates, no knock twice.
        let again = inbox.path().join("c-laptop-1-all.batch");
        export(lap1.path(), &again, &["--all"]);
        let said = stdout_of(merge_cmd(coord.path(), &[&again], Some(&identity)).arg("--json"));
        let json: serde_json::Value = serde_json::from_str(&said).unwrap();
        let row = &json["blocks"][0]["rows"][0];
        assert_eq!(
            (row["new"].as_i64(), row["duplicate"].as_i64()),
            (Some(0), Some(3)),
            "{said}"
        );
        check(coord.path());
    }

    #[test]
    fn every_refusal_names_its_reason_and_merges_nothing() {
        let (coord, inbox) = data_dir_with_store();
        let (identity, recipient) = coordinator(coord.path());
        let lap = tempfile::tempdir().unwrap();
        laptop(lap.path(), "laptop-1", &recipient);
        let encrypted = inbox.join("encrypted.batch");
        export(lap.path(), &encrypted, &[]);
        let key = DeviceKey::from_secret_bytes([9; 32]);
        let good = inbox.join("good.batch");
        write_batch(
            &good,
            &key,
            "laptop-9",
            1,
            vec![Record::Response(kin_response())],
        );
        let changed = inbox.join("changed.batch");
        let mut bytes = std::fs::read(&good).unwrap();
        let at = bytes.iter().rposition(|b| *b == b'"').unwrap() - 2;
        bytes[at] ^= 1;
        std::fs::write(&changed, &bytes).unwrap();
        let unknown_survey = inbox.join("unknown-survey.batch");
        let mut odd = kin_response();
        odd.fingerprint = "sha256:0000".into();
        write_batch(
            &unknown_survey,
            &key,
            "laptop-9",
            2,
            vec![Record::Response(odd)],
        );

        let before = state(coord.path());
        for (files, identity, reason) in [
            (
                vec![&encrypted],
                None,
                "the batch is encrypted; give the coordinator identity with --identity KEY",
            ),
            (
                vec![&good, &changed],
                Some(identity.as_path()),
                "was changed after the batch was written: its checksum does not match",
            ),
            (
                vec![&good, &unknown_survey],
                Some(identity.as_path()),
                "survey kin version",
            ),
        ] {
            let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
            merge_cmd(coord.path(), &paths, identity)
                .assert()
                .code(65)
                .stdout(predicate::str::contains("refused"))
                .stderr(predicate::str::contains("refused, nothing merged"))
                .stderr(predicate::str::contains(reason));
            assert_eq!(
                state(coord.path()),
                before,
                "refused merge changed the store ({reason})"
            );
        }
        // A key other than the pinned one, and a revoked key.
        doorstep(coord.path())
            .args(["devices", "trust", "laptop-9"])
            .arg(DeviceKey::from_secret_bytes([8; 32]).public().to_string())
            .assert()
            .success();
        let before = state(coord.path());
        merge_cmd(coord.path(), &[&good], None)
            .assert()
            .code(65)
            .stderr(predicate::str::contains("but this machine pinned"));
        assert_eq!(state(coord.path()), before);
        doorstep(coord.path())
            .args(["devices", "trust", "laptop-9"])
            .arg(key.public().to_string())
            .assert()
            .success();
        doorstep(coord.path())
            .args(["devices", "revoke", "laptop-9"])
            .assert()
            .success();
        let before = state(coord.path());
        merge_cmd(coord.path(), &[&good], None)
            .assert()
            .code(65)
            .stderr(predicate::str::contains("was revoked on"));
        assert_eq!(state(coord.path()), before);
        // A folder with no batch files is a usage error.
        let empty = tempfile::tempdir().unwrap();
        merge_cmd(coord.path(), &[empty.path()], None)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("holds no batch files"));
    }

    #[test]
    fn dry_run_writes_nothing_and_says_what_would_happen() {
        let (coord, inbox) = data_dir_with_store();
        let key = DeviceKey::from_secret_bytes([5; 32]);
        let r = kin_response();
        write_batch(
            &inbox.join("1.batch"),
            &key,
            "laptop-5",
            1,
            vec![Record::Response(r.clone())],
        );
        write_batch(
            &inbox.join("2.batch"),
            &key,
            "laptop-5",
            2,
            vec![Record::Response(r)],
        );
        let before = state(coord.path());
        let said =
            stdout_of(merge_cmd(coord.path(), &[&inbox], None).args(["--dry-run", "--json"]));
        let json: serde_json::Value = serde_json::from_str(&said).unwrap();
        let rows = &json["blocks"][0]["rows"];
        assert_eq!(rows[0]["result"], "would_merge");
        assert_eq!(rows[0]["new"], 1);
        // The dry run applies the batches one after another: the second is a duplicate.
        assert_eq!(rows[1]["duplicate"], 1, "{said}");
        assert_eq!(state(coord.path()), before);
        assert_eq!(pins(coord.path()), before.1);
    }

    #[test]
    fn conflicts_are_listed_side_by_side_and_resolved() {
        let (coord, inbox) = data_dir_with_store();
        let key = DeviceKey::from_secret_bytes([6; 32]);
        let a = kin_response();
        let mut b = a.clone();
        b.interviewer = "PC 9999".into();
        b.finalized_at = a.finalized_at.map(|t| t + chrono::Duration::minutes(3));
        b.answers.insert(
            "respondent_type".into(),
            AnswerRecord {
                value: StoredAnswer::Plain(Answer::Choice("business".into())),
                ..b.answers["respondent_type"].clone()
            },
        );
        // Another interview whose id starts as `a`'s does (UUID v7 ids of the same minute
        // do): the short id below is ambiguous among responses, not among conflicts.
        let mut c = a.clone();
        c.id = Uuid::from_u128(a.id.as_u128() ^ 1);
        write_batch(
            &inbox.join("1.batch"),
            &key,
            "laptop-6",
            1,
            vec![Record::Response(b.clone()), Record::Response(c.clone())],
        );
        write_batch(
            &inbox.join("3.batch"),
            &key,
            "laptop-6",
            3,
            vec![Record::Response(a.clone())],
        );
        let said = stdout_of(&mut merge_cmd(coord.path(), &[&inbox], None));
        assert!(
            said.contains("warning: device laptop-6: batch 2 of 3 missing"),
            "{said}"
        );
        assert!(said.contains("warning: 1 conflict unresolved"), "{said}");

        let listed = stdout_of(doorstep(coord.path()).args(["batch", "conflicts"]));
        assert!(
            listed.contains(&format!(
                "response {}: 2 versions, A active (finalized first)",
                a.id
            )),
            "{listed}"
        );
        let line = |start: &str| {
            listed
                .lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("no {start} in\n{listed}"))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(line("interviewer"), "interviewer PC 1234 PC 9999");
        assert_eq!(line("sent by"), "sent by laptop-6 laptop-6");
        assert_eq!(line("respondent_type"), "respondent_type resident business");
        assert!(
            !listed.contains("\nconsent"),
            "answers that agree are not shown:\n{listed}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&stdout_of(doorstep(coord.path()).args([
                "batch",
                "conflicts",
                "--json",
            ])))
            .unwrap();
        assert_eq!(json["blocks"][1]["fields"]["response"], a.id.to_string());
        assert_eq!(json["blocks"][1]["fields"]["active"], "A");

        // Settle it by its short id: keep B.
        let short = &a.id.simple().to_string()[..12];
        assert!(matches!(
            Store::open(coord.path()).unwrap().resolve_id(short),
            Err(doorstep::store::StoreError::AmbiguousPrefix { .. })
        ));
        doorstep(coord.path())
            .args(["batch", "resolve", short, "--keep", "C"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("has versions A, B"));
        let said =
            stdout_of(doorstep(coord.path()).args(["batch", "resolve", short, "--keep", "b"]));
        assert!(said.contains("version B (device"), "{said}");
        let listed = stdout_of(doorstep(coord.path()).args(["batch", "conflicts"]));
        assert_eq!(listed.trim(), "no unresolved conflicts");
        let store = Store::open(coord.path()).unwrap();
        assert_eq!(store.get(a.id).unwrap().interviewer, "PC 9999");
        assert_eq!(store.unresolved_conflict_count().unwrap(), 0);
        drop(store);
        // recover keeps the resolution.
        std::fs::remove_dir_all(coord.path().join("store")).unwrap();
        doorstep(coord.path()).arg("recover").assert().success();
        assert_eq!(
            Store::open(coord.path())
                .unwrap()
                .get(a.id)
                .unwrap()
                .interviewer,
            "PC 9999"
        );
        // A settled conflict can be settled again; an id with no conflict is refused.
        doorstep(coord.path())
            .args(["batch", "resolve", short, "--keep", "A"])
            .assert()
            .success();
        let other = Uuid::from_u128(77);
        doorstep(coord.path())
            .args(["batch", "resolve", &other.to_string(), "--keep", "A"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "no response with id {other}"
            )));
    }

    #[test]
    fn verify_and_export_speak_json() {
        let coord = tempfile::tempdir().unwrap();
        let (identity, recipient) = coordinator(coord.path());
        let lap = tempfile::tempdir().unwrap();
        laptop(lap.path(), "laptop-1", &recipient);
        let file = coord.path().join("1.batch");
        let said = stdout_of(
            doorstep(lap.path())
                .args(["batch", "export", "--json", "--out"])
                .arg(&file),
        );
        let json: serde_json::Value = serde_json::from_str(&said).unwrap();
        let f = &json["blocks"][4]["fields"];
        assert_eq!(
            (f["written"].as_bool(), f["device"].as_str()),
            (Some(true), Some("laptop-1")),
            "{said}"
        );
        assert_eq!(
            (
                f["responses"].as_i64(),
                f["knocks"].as_i64(),
                f["encrypted"].as_bool()
            ),
            (Some(1), Some(1), Some(true))
        );
        let said = stdout_of(
            doorstep(coord.path())
                .args(["batch", "verify", "--json", "--identity"])
                .arg(&identity)
                .arg(&file),
        );
        let json: serde_json::Value = serde_json::from_str(&said).unwrap();
        let f = &json["blocks"][1]["fields"];
        assert_eq!(f["verified"], true, "{said}");
        assert_eq!(f["device"], "laptop-1");
        assert_eq!(f["sequence"], 1);
        assert_eq!(f["encrypted"], true);
        // A refusal carries its reasons.
        std::fs::write(&file, b"doorstep-batch 9\n").unwrap();
        let out = doorstep(coord.path())
            .args(["batch", "verify", "--json"])
            .arg(&file)
            .assert()
            .code(65);
        let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        let f = &json["blocks"][1]["fields"];
        assert_eq!(f["verified"], false);
        assert!(
            f["reasons"][0]
                .as_str()
                .unwrap()
                .contains("batch format 9 is not one this doorstep reads"),
            "{f}"
        );
    }
}

// ---- kill -9 during a merge ----

mod kill {
    use std::io::{BufRead, BufReader, Write};
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use doorstep::batch::{self, Record};
    use doorstep::store::{STORE_DIR, Store, StoreError, recover};

    use super::{door_record, knock, response};
    use crate::store_helpers::env;

    const CHILD_DIR: &str = "DOORSTEP_MERGE_CHILD_DIR";
    const CHILD_BATCH: &str = "DOORSTEP_MERGE_CHILD_BATCH";
    const DOORS: usize = 300;
    const KNOCKS_PER_DOOR: u128 = 6;
    const RESPONSES: u128 = 300;

    /// The child: merges the batch file it is given, saying when it starts and ends.
    #[test]
    #[ignore = "the child process of the merge kill test; run by it"]
    fn merge_kill_child() {
        let dir = std::env::var(CHILD_DIR).expect("run by the kill test");
        let file = std::env::var(CHILD_BATCH).expect("run by the kill test");
        let deadline = Instant::now() + Duration::from_secs(30);
        let store = loop {
            match Store::open(dir.as_ref()) {
                Ok(s) => break s,
                Err(StoreError::Busy { .. }) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("child could not open the store: {e}"),
            }
        };
        let batch = batch::open(&std::fs::read(file).unwrap(), None).unwrap();
        let mut out = std::io::stdout().lock();
        writeln!(out, "start").unwrap();
        out.flush().unwrap();
        store.merge_batch(&batch, &mut |_, _| {}).unwrap();
        writeln!(out, "done").unwrap();
        out.flush().unwrap();
    }

    fn big_batch() -> Vec<u8> {
        let mut records = Vec::new();
        for n in 0..RESPONSES {
            records.push(Record::Response(response(10_000 + n, 0, 1)));
        }
        for d in 0..DOORS {
            records.push(door_record(&d.to_string()));
        }
        for d in 0..DOORS as u128 {
            for k in 0..KNOCKS_PER_DOOR {
                records.push(knock(d * KNOCKS_PER_DOOR + k, &d.to_string(), "laptop-1"));
            }
        }
        super::batch_bytes("laptop-1", 1, records)
    }

    /// (responses, doors, knocks, merged batches) in the store at `dir`.
    fn held(dir: &Path) -> (usize, usize, usize, usize) {
        let store = Store::open(dir).unwrap();
        let responses = store.list(&Default::default()).unwrap().responses.len();
        let doors = store.all_doors().unwrap();
        let knocks = doors.iter().map(|d| d.knocks.len()).sum();
        (
            responses,
            doors.len(),
            knocks,
            store.merged_batches().unwrap().len(),
        )
    }

    #[test]
    fn sigkill_during_a_merge_leaves_the_batch_wholly_in_or_wholly_out() {
        let files = tempfile::tempdir().unwrap();
        let file = files.path().join("big.batch");
        std::fs::write(&file, big_batch()).unwrap();
        let whole = (
            RESPONSES as usize,
            DOORS,
            DOORS * KNOCKS_PER_DOOR as usize,
            1,
        );
        let empty = (0, 0, 0, 0);
        let exe = std::env::current_exe().unwrap();
        let spawn = |dir: &Path| {
            Command::new(&exe)
                .args([
                    "--ignored",
                    "--exact",
                    "merge::kill::merge_kill_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_DIR, dir)
                .env(CHILD_BATCH, &file)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        // How long a whole merge takes here, to kill within it.
        let timing = tempfile::tempdir().unwrap();
        let mut child = spawn(timing.path());
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        lines.find(|l| l.as_deref().is_ok_and(|l| l.ends_with("start")));
        let started = Instant::now();
        lines.find(|l| l.as_deref().is_ok_and(|l| l.ends_with("done")));
        let took = started.elapsed();
        assert!(child.wait().unwrap().success());
        assert_eq!(held(timing.path()), whole);

        let (mut wholly_in, mut wholly_out) = (0, 0);
        let runs = 10u32;
        for run in 0..runs {
            let dir = tempfile::tempdir().unwrap();
            // One entry before the merge's: `recover` refuses a journal that holds nothing
            // but a torn line (a kill inside the first line ever written), which is
            // recover's rule for an unreadable journal, not what this test is about.
            Store::open(dir.path())
                .unwrap()
                .set_setting(doorstep::response::SettingKey::Device, "coordinator")
                .unwrap();
            let mut child = spawn(dir.path());
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            lines.find(|l| l.as_deref().is_ok_and(|l| l.ends_with("start")));
            // Spread over the merge, a little past its usual end.
            std::thread::sleep(took * (run + 1) / runs * 6 / 5);
            child.kill().unwrap();
            child.wait().unwrap();
            let got = held(dir.path());
            assert!(
                got == whole || got == empty,
                "run {run}: after kill -9 the store holds {got:?}"
            );
            if got == whole {
                wholly_in += 1;
            } else {
                wholly_out += 1;
            }
            // The journal says the same: a store rebuilt from it alone agrees.
            std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
            recover(dir.path(), env().0).unwrap();
            assert_eq!(held(dir.path()), got, "run {run}: recover disagrees");
        }
        eprintln!(
            "merge kill test: a whole merge took {:.0} ms; {runs} kills: {wholly_in} wholly in, {wholly_out} wholly out",
            took.as_secs_f64() * 1000.0
        );
    }
}
