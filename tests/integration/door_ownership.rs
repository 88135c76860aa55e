//! A door correction or removal moves only the knocks of the device that signed its
//! batch: naming another device's knock leaves that knock where it is, whichever of the
//! two batches arrives first.

use chrono::Duration;
use doorstep::batch::{DoorEditEntry, DoorRemoveEntry, KnockEntry, Record};
use doorstep::response::{Knock, Outcome};
use doorstep::store::Store;
use uuid::Uuid;

use crate::merge::{door, door_record, knock, make_batch};
use crate::store_helpers::{open, t0};

const AREA: &str = "E05000650";

/// Each door of the log with the ids of its knocks.
fn placed(store: &Store) -> Vec<(String, Vec<Uuid>)> {
    store
        .doors(AREA)
        .unwrap()
        .into_iter()
        .map(|d| {
            let ids = d
                .knocks
                .iter()
                .map(|k| k.identity(&d.area, &d.door))
                .collect();
            (d.door.to_string(), ids)
        })
        .collect()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(1000 + n)
}

fn edit(n: u128, from: &str, to: &str, device: &str, knocks: Vec<Uuid>) -> Record {
    Record::DoorEdit(DoorEditEntry {
        id: Uuid::from_u128(3000 + n),
        area: AREA.into(),
        from: door(from),
        to: door(to),
        at: t0() + Duration::hours(1),
        device: device.into(),
        officer: None,
        knocks,
    })
}

fn remove(n: u128, at: &str, device: &str, knocks: Vec<Uuid>) -> Record {
    Record::DoorRemove(DoorRemoveEntry {
        id: Uuid::from_u128(3000 + n),
        area: AREA.into(),
        door: door(at),
        at: t0() + Duration::hours(1),
        device: device.into(),
        officer: None,
        knocks,
    })
}

#[test]
fn a_door_change_naming_another_devices_knock_leaves_it_where_it_is() {
    // laptop-1's door log: knocks 1 and 2 at 12, knock 3 at 14, and knock 4 at 14 sent
    // without naming its device (as a batch of an earlier release did).
    let mut unnamed = Knock::new(t0() + Duration::minutes(9), Outcome::Refused);
    unnamed.id = Some(id(4));
    let laptop = make_batch(
        "laptop-1",
        1,
        vec![
            door_record("12"),
            door_record("14"),
            knock(1, "12", "laptop-1"),
            knock(2, "12", "laptop-1"),
            knock(3, "14", "laptop-1"),
            Record::Knock(KnockEntry {
                area: AREA.into(),
                door: door("14"),
                knock: unnamed,
            }),
        ],
    );
    // laptop-2 names them all: it removes door 12 and corrects 14 to 16; its own knock
    // 5 at 12, which its removal names too, does go.
    let rogue = make_batch(
        "laptop-2",
        1,
        vec![
            knock(5, "12", "laptop-2"),
            remove(1, "12", "laptop-2", vec![id(1), id(2), id(5)]),
            edit(2, "14", "16", "laptop-2", vec![id(3), id(4)]),
        ],
    );
    let alone = {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        store.merge_batch(&laptop, &mut |_, _| {}).unwrap();
        placed(&store)
    };
    let mut seen = Vec::new();
    for order in [[&laptop, &rogue], [&rogue, &laptop]] {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        for b in order {
            store.merge_batch(b, &mut |_, _| {}).unwrap();
        }
        let now = placed(&store);
        // laptop-1's knocks are where laptop-1 put them; laptop-2's own knock is gone;
        // laptop-2's correction leaves only its own (empty) door 16.
        let mut expected = alone.clone();
        expected.push(("16 Kay Street".to_owned(), Vec::new()));
        assert_eq!(now, expected);
        seen.push(now);
        // Merging both again changes nothing.
        for b in [&laptop, &rogue] {
            store.merge_batch(b, &mut |_, _| {}).unwrap();
        }
        assert_eq!(placed(&store), seen[seen.len() - 1]);
    }
    // And laptop-1's own correction still moves its knocks, the unnamed one too.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.merge_batch(&laptop, &mut |_, _| {}).unwrap();
    store
        .merge_batch(
            &make_batch(
                "laptop-1",
                2,
                vec![edit(3, "14", "18", "laptop-1", vec![id(3), id(4)])],
            ),
            &mut |_, _| {},
        )
        .unwrap();
    let now = placed(&store);
    assert!(
        now.contains(&("18 Kay Street".to_owned(), vec![id(3), id(4)])),
        "{now:?}"
    );
}
