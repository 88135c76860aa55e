//! The last gaps in conflicts of revisions: a revision made here that loses one is still
//! this machine's work (counted, exported, and kept when the coordinator chooses it), and
//! a store whose revisions were made before they were recorded as revisions records them
//! at its first open and at `recover`.

use std::path::Path;

use chrono::Duration;
use doorstep::batch::{self, Record};
use doorstep::response::{Response, SettingKey, Status};
use doorstep::store::{Conflict, NotExported, STORE_DIR, Store, recover};
use uuid::Uuid;

use crate::batches::{doorstep, export, laptop, stdout_of};
use crate::merge::make_batch;
use crate::store_helpers::{env, t0};

fn merge(dir: &Path, file: &Path) -> String {
    stdout_of(doorstep(dir).args(["batch", "merge"]).arg(file))
}

fn responses_in(file: &Path) -> Vec<Response> {
    batch::open(&std::fs::read(file).unwrap(), None)
        .unwrap()
        .records
        .into_iter()
        .filter_map(|r| match r {
            Record::Response(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// A store with ids of its own (the tests' manual environment gives every store the
/// same ids, as two machines never would).
fn own(dir: &Path) -> Store {
    Store::open(dir).unwrap()
}

fn pending(dir: &Path) -> NotExported {
    own(dir).not_exported().unwrap()
}

fn responses(n: u64) -> NotExported {
    NotExported {
        responses: n,
        ..NotExported::default()
    }
}

/// The ids the store holds as responses.
fn held(dir: &Path) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = own(dir)
        .list(&Default::default())
        .unwrap()
        .responses
        .iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    ids
}

/// What a conflict of revisions says, whatever machine holds it: each version's digest
/// and revision, and which is active.
fn shape(c: &Conflict) -> (Vec<(String, Uuid)>, usize) {
    assert!(c.revisions, "{c:?}");
    (
        c.versions
            .iter()
            .map(|v| (v.digest.clone(), v.response.id))
            .collect(),
        c.active_index(),
    )
}

#[derive(Clone, Copy, Debug)]
enum Order {
    /// The coordinator finalizes its revision, then merges the laptop's.
    OwnFirst,
    /// The coordinator starts its revision, merges the laptop's, then finalizes its own.
    MergedFirst,
}

/// Laptop A and coordinator C both revise the laptop's interview; A's revision was
/// finalized first, so C's own loses the conflict of revisions, in either arrival order.
/// C still counts it and exports it; a third machine merging everything sees the same
/// conflict; C keeping its own makes it the active one, live and after `recover`.
#[test]
fn a_losing_revision_made_here_is_counted_exported_and_can_be_kept() {
    for order in [Order::OwnFirst, Order::MergedFirst] {
        let (a, c, d) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        laptop(a.path());
        let a1 = a.path().join("a1.batch");
        export(a.path(), &a1, &["--unencrypted"]);
        let original = responses_in(&a1)[0].id;
        {
            let store = own(c.path());
            store.set_setting(SettingKey::Device, "coord-1").unwrap();
            store.set_setting(SettingKey::Officer, "PS 9").unwrap();
        }
        merge(c.path(), &a1);

        let laptops = {
            let store = own(a.path());
            let draft = store.revise(original).unwrap();
            store
                .finalize(draft.id, Status::Complete, t0() + Duration::hours(1))
                .unwrap()
        };
        let a2 = a.path().join("a2.batch");
        export(a.path(), &a2, &["--unencrypted"]);

        let at = t0() + Duration::hours(2);
        let mine = match order {
            Order::OwnFirst => {
                let store = own(c.path());
                let draft = store.revise(original).unwrap();
                let mine = store.finalize(draft.id, Status::Complete, at).unwrap();
                drop(store);
                merge(c.path(), &a2);
                mine
            }
            Order::MergedFirst => {
                let draft = own(c.path()).revise(original).unwrap();
                merge(c.path(), &a2);
                own(c.path())
                    .finalize(draft.id, Status::Complete, at)
                    .unwrap()
            }
        };
        let conflict = own(c.path()).revision_conflict(original).unwrap().unwrap();
        let (versions, active) = shape(&conflict);
        assert_eq!(versions[active].1, laptops.id, "{order:?}");
        // Out of the responses (one interview counts once) …
        assert!(!held(c.path()).contains(&mine.id), "{order:?}");
        // … but still this machine's work, waiting to be exported.
        assert_eq!(pending(c.path()), responses(1), "{order:?}");

        let c1 = c.path().join("c1.batch");
        let said = export(c.path(), &c1, &["--unencrypted"]);
        assert!(
            said.contains("holds 0 responses, 1 revisions"),
            "{order:?}: {said}"
        );
        let sent: Vec<Uuid> = responses_in(&c1).iter().map(|r| r.id).collect();
        assert_eq!(sent, vec![mine.id], "{order:?}");
        assert_eq!(pending(c.path()), NotExported::default(), "{order:?}");

        // A third machine merging everything, the coordinator's batch first.
        {
            let store = own(d.path());
            store.set_setting(SettingKey::Device, "county").unwrap();
        }
        for file in [&a1, &c1, &a2] {
            merge(d.path(), file);
        }
        let third = own(d.path()).revision_conflict(original).unwrap().unwrap();
        assert_eq!(shape(&third), shape(&conflict), "{order:?}");
        assert_eq!(held(d.path()), held(c.path()), "{order:?}");

        // The coordinator keeps its own revision.
        let letter = Conflict::letter(versions.iter().position(|v| v.1 == mine.id).unwrap());
        stdout_of(doorstep(c.path()).args([
            "batch",
            "resolve",
            &original.to_string(),
            "--keep",
            &letter,
        ]));
        let kept = |dir: &Path| {
            let ids = held(dir);
            assert!(ids.contains(&mine.id), "{order:?}: {ids:?}");
            assert!(!ids.contains(&laptops.id), "{order:?}: {ids:?}");
        };
        kept(c.path());
        // Exported already: nothing waits.
        assert_eq!(pending(c.path()), NotExported::default(), "{order:?}");
        recover(c.path(), env().0).unwrap();
        kept(c.path());
        std::fs::remove_dir_all(c.path().join(STORE_DIR)).unwrap();
        recover(c.path(), env().0).unwrap();
        kept(c.path());
        // Without the old store the export marks are gone: its own revision waits again.
        assert_eq!(pending(c.path()), responses(1), "{order:?}");
    }
}

/// The release-1 fixture holds a revision made on the laptop (…0003 of …0001) from
/// before revisions made here were recorded as revisions: after the first open, and
/// after `recover` from the journal alone, a revision of the same response merged later
/// finds it and the two are a conflict of revisions.
#[test]
fn revisions_of_an_older_store_are_recorded_at_its_first_open_and_by_recover() {
    let original = Uuid::parse_str("01a10b4a-9680-7000-8000-000000000001").unwrap();
    let local = Uuid::parse_str("01a10b4a-9680-7000-8000-000000000003").unwrap();
    for from_journal in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        crate::store_faults::copy_tree(Path::new("tests/fixtures/datadir/release1"), dir.path());
        if from_journal {
            std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
            recover(dir.path(), env().0).unwrap();
        }
        let store = Store::open_with(dir.path(), env().0).unwrap();
        let mut merged = store
            .get(original)
            .unwrap()
            .revision(Uuid::from_u128(99), t0() + Duration::hours(3));
        merged.interviewer = "PC 77".into();
        merged.finalize(Status::Complete, t0() + Duration::hours(4));
        store
            .merge_batch(
                &make_batch("laptop-9", 1, vec![Record::Response(merged.clone())]),
                &mut |_, _| {},
            )
            .unwrap();
        let conflict = store.revision_conflict(original).unwrap();
        let conflict = conflict.unwrap_or_else(|| panic!("from journal {from_journal}"));
        let ids: Vec<Uuid> = conflict.versions.iter().map(|v| v.response.id).collect();
        // The one made here was finalized first: it stays active.
        assert_eq!(ids, vec![local, merged.id], "from journal {from_journal}");
        assert_eq!(conflict.active_index(), 0);
        // One interview counts once.
        let listed: Vec<Uuid> = store
            .list(&Default::default())
            .unwrap()
            .responses
            .iter()
            .map(|r| r.id)
            .collect();
        assert!(
            listed.contains(&local) && !listed.contains(&merged.id),
            "{listed:?}"
        );
    }
}
