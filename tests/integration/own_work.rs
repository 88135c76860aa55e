//! A machine exports only the work it made itself, and home counts exactly that work not
//! yet exported: on a laptop, on a coordinator that merged batches, after an export, a
//! merge, a recover, and on a store written by the previous release.

use std::path::Path;

use doorstep::action::{Action, Change};
use doorstep::batch::{self, Record};
use doorstep::response::SettingKey;
use doorstep::store::{NotExported, Store, recover};
use doorstep::survey::registry::Registry;

use crate::batches::{doorstep, export, interview, laptop, stdout_of};
use crate::store_helpers::{env, open, t0};

fn merge(dir: &Path, file: &Path) -> String {
    stdout_of(doorstep(dir).args(["batch", "merge"]).arg(file))
}

fn records(file: &Path) -> Vec<Record> {
    batch::open(&std::fs::read(file).unwrap(), None)
        .unwrap()
        .records
}

fn pending(dir: &Path) -> NotExported {
    open(dir).not_exported().unwrap()
}

/// A store with ids of its own (the manual environment of the tests gives every store
/// the same sequence of ids, as two laptops never would).
fn open_own(dir: &Path) -> Store {
    Store::open(dir).unwrap()
}

fn counts(responses: u64, doors: u64, knocks: u64, actions: u64) -> NotExported {
    NotExported {
        responses,
        doors,
        knocks,
        actions,
        door_changes: 0,
    }
}

/// An action added on this machine.
fn add_action(store: &Store) -> Action {
    let new = crate::actions_store::new_action("E05000650", "litter");
    let action = Action::new(store.env().new_id(), new, t0(), "PS 9").unwrap();
    store.add_action(&action).unwrap();
    action
}

/// A coordinator that merged a laptop's batch and then recorded one interview itself
/// exports that interview (its door and knock) and nothing of the laptop's; a third
/// machine merging both batches holds each record once, the laptop's carried only by the
/// laptop's batch.
#[test]
fn a_coordinator_exports_only_its_own_work_not_what_it_merged() {
    let (lap, coord, third) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    laptop(lap.path());
    let lap_file = lap.path().join("laptop-3-1.batch");
    export(lap.path(), &lap_file, &["--unencrypted"]);
    let lap_records = records(&lap_file);
    let lap_response = lap_records
        .iter()
        .find_map(|r| match r {
            Record::Response(r) => Some(r.id),
            _ => None,
        })
        .unwrap();

    {
        let store = open(coord.path());
        store.set_setting(SettingKey::Device, "coord-1").unwrap();
        store.set_setting(SettingKey::Officer, "PS 9").unwrap();
    }
    merge(coord.path(), &lap_file);
    // Merged work is not this machine's: nothing of it waits for export.
    assert_eq!(pending(coord.path()), NotExported::default());
    let said = export(
        coord.path(),
        &coord.path().join("none.batch"),
        &["--unencrypted"],
    );
    assert!(said.starts_with("nothing to export"), "{said}");
    assert!(!coord.path().join("none.batch").exists());

    let own = {
        let store = open_own(coord.path());
        let own = interview(&store, "14");
        assert_eq!(store.not_exported().unwrap(), counts(1, 1, 1, 0));
        own
    };
    let coord_file = coord.path().join("coord-1-1.batch");
    let said = export(coord.path(), &coord_file, &["--unencrypted"]);
    assert!(
        said.contains("holds 1 responses, 0 revisions, 1 doors, 1 knocks, 2 settings"),
        "{said}"
    );
    assert_eq!(pending(coord.path()), NotExported::default());
    let taken = records(&coord_file);
    let responses: Vec<_> = taken
        .iter()
        .filter_map(|r| match r {
            Record::Response(r) => Some(r.id),
            _ => None,
        })
        .collect();
    assert_eq!(responses, vec![own.id]);
    let doors: Vec<_> = taken
        .iter()
        .filter_map(|r| match r {
            Record::Door(d) => Some(d.door.number.clone()),
            Record::Knock(k) => Some(k.door.number.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(doors, vec!["14", "14"]);
    // --all takes everything of its own again, and still nothing merged.
    let all_file = coord.path().join("coord-1-2.batch");
    export(coord.path(), &all_file, &["--unencrypted", "--all"]);
    assert_eq!(records(&all_file), taken);

    // A third machine: each record once, each carried by the batch of the machine that
    // made it.
    {
        let store = open(third.path());
        store.set_setting(SettingKey::Device, "county").unwrap();
    }
    let said = merge(third.path(), &coord_file);
    assert!(!said.contains("duplicate: 1"), "{said}");
    merge(third.path(), &lap_file);
    let store = open(third.path());
    let listed = store.list(&Default::default()).unwrap().responses;
    assert_eq!(listed.len(), 2);
    let from = |id| -> Vec<String> {
        store
            .response_sources(id)
            .unwrap()
            .into_iter()
            .map(|s| s.device)
            .collect()
    };
    assert_eq!(from(lap_response), vec!["laptop-3"]);
    assert_eq!(from(own.id), vec!["coord-1"]);
    let sources = store.record_sources().unwrap();
    for (record, carried) in &sources {
        let devices: Vec<&str> = carried.iter().map(|s| s.device.as_str()).collect();
        assert_eq!(devices.len(), 1, "{record} carried by {devices:?}");
    }
    // Merged records are not the third machine's either.
    assert_eq!(store.not_exported().unwrap(), NotExported::default());
}

/// What home counts follows every write of this machine's own work (responses, doors,
/// knocks, actions), drops to nothing after an export, is not moved by merged records, and
/// is rebuilt the same by `recover`.
#[test]
fn not_yet_exported_counts_own_work_of_every_kind_and_survives_recover() {
    let (lap, coord) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    laptop(lap.path());
    let lap_file = lap.path().join("1.batch");
    export(lap.path(), &lap_file, &["--unencrypted"]);

    let store = open_own(coord.path());
    store.set_setting(SettingKey::Device, "coord-1").unwrap();
    interview(&store, "1");
    interview(&store, "2");
    store
        .add_door(
            "E05000650",
            doorstep::response::Door::new("Kay Street", "3").unwrap(),
        )
        .unwrap();
    let action = add_action(&store);
    assert_eq!(store.not_exported().unwrap(), counts(2, 3, 2, 1));
    drop(store);
    merge(coord.path(), &lap_file);
    assert_eq!(pending(coord.path()), counts(2, 3, 2, 1));

    export(
        coord.path(),
        &coord.path().join("c1.batch"),
        &["--unencrypted"],
    );
    assert_eq!(pending(coord.path()), NotExported::default());

    // A changed action waits again; a door taken out of the log is no longer counted.
    let store = open_own(coord.path());
    store
        .update_action(action.id, {
            let mut c = Change::new(t0(), "PS 9");
            c.note = Some("First pick done".into());
            c
        })
        .unwrap();
    store
        .add_door(
            "E05000650",
            doorstep::response::Door::new("Kay Street", "5").unwrap(),
        )
        .unwrap();
    assert_eq!(store.not_exported().unwrap(), counts(0, 1, 0, 1));
    store
        .remove_door(
            "E05000650",
            &doorstep::response::Door::new("Kay Street", "5").unwrap(),
        )
        .unwrap();
    let revision = store.revise(store.list(&Default::default()).unwrap().responses[0].id);
    let revision = revision.unwrap();
    store
        .finalize(revision.id, doorstep::response::Status::Complete, t0())
        .unwrap();
    // The removal itself waits to be exported (the coordinator may have the door).
    let now = NotExported {
        door_changes: 1,
        ..counts(1, 0, 0, 1)
    };
    assert_eq!(store.not_exported().unwrap(), now);
    drop(store);

    // Recover counts the same, in place and from the journal alone (the export marks
    // are kept from the old store in both).
    recover(coord.path(), env().0).unwrap();
    assert_eq!(pending(coord.path()), now);
    std::fs::remove_dir_all(coord.path().join(doorstep::store::STORE_DIR)).unwrap();
    recover(coord.path(), env().0).unwrap();
    let store = open(coord.path());
    // Without the old store the marks are gone: everything own waits again.
    assert_eq!(
        store.not_exported().unwrap(),
        NotExported {
            door_changes: 1,
            ..counts(3, 3, 2, 1)
        }
    );
}

/// Batches that knock at a door where this machine knocked: their knocks are not this
/// machine's, and its own knocks there keep what they were (waiting for export until it
/// exports, settled after), merge after merge; `recover` counts the same.
#[test]
fn merged_knocks_at_a_door_with_own_knocks_leave_those_as_they_were() {
    let (lap, lap2, coord) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    // Both laptops and the coordinator knock at Kay Street 12.
    laptop(lap.path());
    let lap_file = lap.path().join("1.batch");
    export(lap.path(), &lap_file, &["--unencrypted"]);
    {
        let store = open_own(lap2.path());
        store.set_setting(SettingKey::Device, "laptop-4").unwrap();
        interview(&store, "12");
    }
    let lap2_file = lap2.path().join("1.batch");
    export(lap2.path(), &lap2_file, &["--unencrypted"]);
    {
        let store = open_own(coord.path());
        store.set_setting(SettingKey::Device, "coord-1").unwrap();
        interview(&store, "12");
        assert_eq!(store.not_exported().unwrap(), counts(1, 1, 1, 0));
    }

    merge(coord.path(), &lap_file);
    // The door came in a batch too, so it is no longer only this machine's; its own
    // knock still waits, the laptop's does not.
    assert_eq!(pending(coord.path()), counts(1, 0, 1, 0));
    assert_eq!(
        open(coord.path()).doors("E05000650").unwrap()[0]
            .knocks
            .len(),
        2
    );

    export(
        coord.path(),
        &coord.path().join("c1.batch"),
        &["--unencrypted"],
    );
    assert_eq!(pending(coord.path()), NotExported::default());
    // Another knock of its own there, then another laptop's batch: the exported knock
    // stays settled, the new one waits.
    interview(&open_own(coord.path()), "12");
    assert_eq!(pending(coord.path()), counts(1, 0, 1, 0));
    merge(coord.path(), &lap2_file);
    assert_eq!(pending(coord.path()), counts(1, 0, 1, 0));
    assert_eq!(
        open(coord.path()).doors("E05000650").unwrap()[0]
            .knocks
            .len(),
        4
    );

    recover(coord.path(), env().0).unwrap();
    assert_eq!(pending(coord.path()), counts(1, 0, 1, 0));
}

/// A data directory written by the previous release (its tallies without the counts of
/// what is not yet exported) shows the right numbers at its first open, on home too, and
/// the same after `recover`.
#[test]
fn a_store_of_the_previous_release_counts_what_is_not_yet_exported() {
    use doorstep::tui::app::App;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    let dir = tempfile::tempdir().unwrap();
    crate::store_faults::copy_tree(Path::new("tests/fixtures/datadir/release1"), dir.path());
    // Its own work: two responses (one a revision), two doors with three knocks and an
    // action; the merged batch's response, door and knock are not counted.
    let expected = counts(2, 2, 3, 1);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.not_exported().unwrap(), expected);
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
        screen.contains("Not yet exported: 2 interviews or audits, 2 doors, 3 knocks, 1 action"),
        "{screen}"
    );
    drop(app);
    // What the next export takes is what was counted.
    let said = export(
        dir.path(),
        &dir.path().join("out.batch"),
        &["--unencrypted"],
    );
    assert!(
        said.contains("holds 1 responses, 1 revisions, 2 doors, 3 knocks, 2 settings, 1 actions"),
        "{said}"
    );
    assert_eq!(pending(dir.path()), NotExported::default());
    recover(dir.path(), doorstep::response::Env::system()).unwrap();
    assert_eq!(pending(dir.path()), NotExported::default());
}

/// A door corrected after an export waits to be exported, is counted on home, and an
/// export takes it and settles the count; `recover` counts it the same.
#[test]
fn a_door_correction_after_an_export_waits_until_exported() {
    let lap = tempfile::tempdir().unwrap();
    laptop(lap.path());
    export(lap.path(), &lap.path().join("1.batch"), &["--unencrypted"]);
    assert_eq!(pending(lap.path()), NotExported::default());
    {
        let store = open(lap.path());
        let door = store.doors("E05000650").unwrap()[0].door.clone();
        let to = doorstep::response::Door::new(&door.street, "12A").unwrap();
        store.edit_door("E05000650", &door, to).unwrap();
        let waiting = store.not_exported().unwrap();
        assert_eq!(
            waiting,
            NotExported {
                door_changes: 1,
                ..counts(0, 1, 0, 0)
            },
            "the door under its new key waits too; its knock (same id) went already"
        );
        assert_eq!(waiting.to_string(), "1 door, 1 door correction or removal");
    }
    recover(lap.path(), env().0).unwrap();
    assert_eq!(pending(lap.path()).door_changes, 1);
    let file = lap.path().join("2.batch");
    export(lap.path(), &file, &["--unencrypted"]);
    assert!(
        records(&file)
            .iter()
            .any(|r| matches!(r, Record::DoorEdit(_))),
        "the correction travels"
    );
    assert_eq!(pending(lap.path()), NotExported::default());
}
