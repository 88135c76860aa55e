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
        (
            logical(&store),
            store.merged_batches().unwrap(),
            store.batch_gaps().unwrap(),
        )
    };
    // Healthy store: recover keeps everything.
    recover(dir.path(), env().0).unwrap();
    {
        let store = open(dir.path());
        assert_eq!(
            (
                logical(&store),
                store.merged_batches().unwrap(),
                store.batch_gaps().unwrap()
            ),
            before
        );
    }
    // No store at all: the journal alone.
    std::fs::remove_dir_all(dir.path().join("store")).unwrap();
    recover(dir.path(), env().0).unwrap();
    let store = open(dir.path());
    assert_eq!(
        (
            logical(&store),
            store.merged_batches().unwrap(),
            store.batch_gaps().unwrap()
        ),
        before
    );
}

// ---- order independence and idempotence ----

/// The pool a generated batch draws its records from: responses 1-3 in two variants,
/// a revision of response 1, doors 1-2 and knocks 1-4.
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
    out.push(Record::Response(revision(4, &response(1, 0, 1))));
    out.push(door_record("1"));
    out.push(door_record("2"));
    for k in 1..=4u128 {
        out.push(knock(k, if k % 2 == 0 { "1" } else { "2" }, "laptop-1"));
    }
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
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any set of batches in any order gives the same store; merging them all again
    /// changes nothing.
    #[test]
    fn merging_is_order_independent_and_idempotent(
        spec in batches_strategy(),
        rotate in 0usize..3,
    ) {
        let batches = build(&spec);
        let forward: Vec<usize> = (0..batches.len()).collect();
        let mut other: Vec<usize> = forward.iter().rev().copied().collect();
        let len = other.len();
        other.rotate_left(rotate % len);
        let a = merged_in(&forward, &batches, false);
        prop_assert_eq!(&a, &merged_in(&other, &batches, false));
        prop_assert_eq!(&a, &merged_in(&forward, &batches, true));
    }
}
