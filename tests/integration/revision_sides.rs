//! Conflicts of revisions are between the heads of two chains: a revision of a revision
//! in such a conflict joins that side (counting only when its side is the active one),
//! whatever the order things arrive in, and a revision finalized on this machine is
//! checked the same way as a merged one.

use chrono::Duration;
use doorstep::batch::Record;
use doorstep::response::{Response, Status};
use doorstep::store::{Conflict, Store, recover};
use uuid::Uuid;

use crate::merge::{Logical, logical, make_batch, response, revision};
use crate::store_helpers::{env, open, t0};

fn merge(store: &Store, records: Vec<Record>, device: &str, sequence: u64) {
    store
        .merge_batch(&make_batch(device, sequence, records), &mut |_, _| {})
        .unwrap();
}

fn active(store: &Store) -> Vec<Uuid> {
    store
        .active_responses()
        .unwrap()
        .map(|r| r.unwrap().id)
        .collect()
}

fn stored(store: &Store) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = store
        .list(&Default::default())
        .unwrap()
        .responses
        .iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    ids
}

fn revisions_conflict(store: &Store, original: Uuid) -> Conflict {
    let c = store.conflict(original).unwrap().unwrap();
    assert!(c.revisions);
    c
}

/// R; R1 and R2 both revise R (R2 finalized first, so active); R3 revises R1.
fn chains() -> (Response, Response, Response, Response) {
    let original = response(1, 0, 10);
    let r1 = revision(2, &original);
    let mut r2 = revision(3, &original);
    r2.interviewer = "PC 9".into();
    r2.finalized_at = Some(t0() + Duration::minutes(90));
    let mut r3 = r1.revision(Uuid::from_u128(4), t0() + Duration::hours(3));
    r3.finalize(Status::Complete, t0() + Duration::hours(4));
    (original, r1, r2, r3)
}

#[test]
fn a_revision_of_the_losing_revision_joins_its_side_in_every_arrival_order() {
    let (original, r1, r2, r3) = chains();
    let records = [r1.clone(), r2.clone(), r3.clone()];
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut seen: Vec<Logical> = Vec::new();
    for order in orders {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        merge(
            &store,
            vec![Record::Response(original.clone())],
            "laptop-1",
            1,
        );
        // Each revision in its own batch, the same batch whatever the order.
        for i in order {
            let (device, sequence) = [("laptop-1", 2), ("laptop-2", 1), ("laptop-1", 3)][i];
            merge(
                &store,
                vec![Record::Response(records[i].clone())],
                device,
                sequence,
            );
        }
        let c = revisions_conflict(&store, original.id);
        assert_eq!(c.versions.len(), 2, "order {order:?}");
        // R2's side is active and counts alone; R1's side holds R1 and, after it, R3.
        let a = c.active().unwrap();
        assert_eq!(a.response.id, r2.id, "order {order:?}");
        assert!(a.later.is_empty());
        let losing = c.versions.iter().find(|v| v.response.id == r1.id).unwrap();
        assert_eq!(
            losing.later.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![r3.id],
            "order {order:?}"
        );
        assert_eq!(active(&store), vec![r2.id], "order {order:?}");
        assert_eq!(stored(&store), vec![original.id, r2.id], "order {order:?}");
        seen.push(logical(&store));
    }
    for (i, l) in seen.iter().enumerate() {
        assert_eq!(l, &seen[0], "order {:?} differs from the first", orders[i]);
    }
    // `batch conflicts` shows R1's later revision under it.
    {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open(dir.path());
            merge(
                &store,
                vec![Record::Response(original.clone())],
                "laptop-1",
                1,
            );
            merge(&store, vec![Record::Response(r1.clone())], "laptop-1", 2);
            merge(&store, vec![Record::Response(r2.clone())], "laptop-2", 1);
            merge(&store, vec![Record::Response(r3.clone())], "laptop-1", 3);
        }
        let shown = crate::batches::stdout_of(
            crate::batches::doorstep(dir.path()).args(["batch", "conflicts"]),
        );
        let line = shown
            .lines()
            .find(|l| l.starts_with("revised since"))
            .unwrap_or_else(|| panic!("{shown}"));
        assert!(
            line.contains("—") && line.contains(&r3.id.to_string()),
            "{shown}"
        );
    }

    // Keeping R1's side: its head, R3, is what counts, and R2 leaves the responses; the
    // same after a rebuild from the journal alone.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    merge(
        &store,
        vec![Record::Response(original.clone())],
        "laptop-1",
        1,
    );
    for (n, r) in [&r3, &r2, &r1].into_iter().enumerate() {
        merge(
            &store,
            vec![Record::Response(r.clone())],
            "laptop-1",
            n as u64 + 2,
        );
    }
    let c = revisions_conflict(&store, original.id);
    let keep = c
        .versions
        .iter()
        .position(|v| v.response.id == r1.id)
        .unwrap();
    store.resolve_conflict(original.id, keep).unwrap();
    assert_eq!(active(&store), vec![r3.id]);
    assert_eq!(stored(&store), {
        let mut ids = vec![original.id, r1.id, r3.id];
        ids.sort();
        ids
    });
    let before = logical(&store);
    drop(store);
    std::fs::remove_dir_all(dir.path().join(doorstep::store::STORE_DIR)).unwrap();
    recover(dir.path(), env().0).unwrap();
    assert_eq!(logical(&open(dir.path())), before);
}

/// Finalizes a revision of `original` made on this machine.
fn revise_here(store: &Store, original: Uuid) -> Response {
    let draft = store.revise(original).unwrap();
    store
        .finalize(draft.id, Status::Complete, t0() + Duration::hours(5))
        .unwrap()
}

#[test]
fn a_revision_made_here_is_checked_against_merged_revisions_in_either_order() {
    let (original, _, r2, _) = chains();
    // Revised here, then a laptop's revision of the same response is merged.
    let first = {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        merge(
            &store,
            vec![Record::Response(original.clone())],
            "laptop-1",
            1,
        );
        let here = revise_here(&store, original.id);
        merge(&store, vec![Record::Response(r2.clone())], "laptop-2", 1);
        let c = revisions_conflict(&store, original.id);
        let ids: Vec<Uuid> = c.versions.iter().map(|v| v.response.id).collect();
        assert_eq!(ids, vec![r2.id, here.id]);
        // The version made here carries no batch; the one counting is the laptop's
        // (finalized first).
        assert!(c.versions[1].sources.is_empty());
        assert_eq!(active(&store), vec![r2.id]);
        assert_eq!(stored(&store), vec![original.id, r2.id]);
        // Rebuilt the same from the journal alone.
        let before = logical(&store);
        drop(store);
        std::fs::remove_dir_all(dir.path().join(doorstep::store::STORE_DIR)).unwrap();
        recover(dir.path(), env().0).unwrap();
        assert_eq!(logical(&open(dir.path())), before);
        c
    };
    // The revision started here, the laptop's merged, then this one finalized.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    merge(
        &store,
        vec![Record::Response(original.clone())],
        "laptop-1",
        1,
    );
    let draft = store.revise(original.id).unwrap();
    merge(&store, vec![Record::Response(r2.clone())], "laptop-2", 1);
    // Two finalized heads never count: not before this one is finalized ...
    assert_eq!(active(&store), vec![r2.id]);
    let here = store
        .finalize(draft.id, Status::Complete, t0() + Duration::hours(5))
        .unwrap();
    // ... nor after: it joins a conflict of revisions, as a merged one would.
    let c = revisions_conflict(&store, original.id);
    let ids: Vec<Uuid> = c.versions.iter().map(|v| v.response.id).collect();
    assert_eq!(ids, vec![r2.id, here.id]);
    assert_eq!(c.versions, first.versions);
    assert_eq!(active(&store), vec![r2.id]);

    // Keeping the revision made here: it counts, the laptop's leaves the responses.
    store.resolve_conflict(original.id, 1).unwrap();
    assert_eq!(active(&store), vec![here.id]);

    // A revision made here of the revision that counts joins its side: it counts now,
    // and leaves with its side if the other is kept.
    let later = revise_here(&store, here.id);
    assert_eq!(active(&store), vec![later.id]);
    let c = revisions_conflict(&store, original.id);
    assert_eq!(c.active().unwrap().head().id, later.id);
    store.resolve_conflict(original.id, 0).unwrap();
    assert_eq!(active(&store), vec![r2.id]);
    assert_eq!(stored(&store), vec![original.id, r2.id]);
}

/// A revision whose id is already on a side of a conflict of revisions, with other content,
/// is rejected with its reason; nothing else of the conflict or the responses changes.
#[test]
fn a_changed_copy_of_a_revision_on_a_side_is_rejected_and_changes_nothing() {
    let (original, r1, r2, r3) = chains();
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    merge(
        &store,
        vec![Record::Response(original.clone())],
        "laptop-1",
        1,
    );
    merge(&store, vec![Record::Response(r1.clone())], "laptop-1", 2);
    merge(&store, vec![Record::Response(r2.clone())], "laptop-2", 1);
    merge(&store, vec![Record::Response(r3.clone())], "laptop-1", 3);
    let before = logical(&store);
    let mut changed = r3.clone();
    changed.interviewer = "PC 5".into();
    let result = store
        .merge_batch(
            &make_batch("laptop-4", 1, vec![Record::Response(changed)]),
            &mut |_, _| {},
        )
        .unwrap();
    let doorstep::store::MergeResult::Merged { batch, rejections } = result else {
        panic!("not merged: {result:?}");
    };
    assert_eq!(batch.outcome.rejected, 1);
    assert_eq!(rejections.len(), 1);
    assert_eq!(
        rejections[0].reason,
        format!(
            "response {} is already here, in the conflict of the revisions of {}, with other content",
            r3.id, original.id
        )
    );
    assert_eq!(logical(&store), before);
}

/// The coordinator screen shows, above a side of a conflict of revisions, that it was
/// revised since and by which revision.
#[test]
fn the_coordinator_screen_shows_a_side_revised_since() {
    use doorstep::tui::action::Action;
    use doorstep::tui::app::App;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    let (original, r1, r2, r3) = chains();
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .set_setting(doorstep::response::SettingKey::Officer, "PS 9")
        .unwrap();
    store
        .set_setting(doorstep::response::SettingKey::Device, "coord-1")
        .unwrap();
    merge(
        &store,
        vec![Record::Response(original.clone())],
        "laptop-1",
        1,
    );
    merge(&store, vec![Record::Response(r1.clone())], "laptop-1", 2);
    merge(&store, vec![Record::Response(r2.clone())], "laptop-2", 1);
    merge(&store, vec![Record::Response(r3.clone())], "laptop-1", 3);
    let mut app = App::new(
        store,
        doorstep::survey::registry::Registry::builtin().unwrap(),
        doorstep::tui::theme::Theme::monochrome(),
    )
    .unwrap();
    // An empty folder of batches: straight to the conflicts already here.
    let usb = tempfile::tempdir().unwrap();
    let events = app.take_events().unwrap();
    app.update(Action::Digit(5));
    crate::tui_flows::type_text(&mut app, &usb.path().display().to_string());
    app.update(Action::Confirm);
    app.update(Action::Confirm);
    crate::tui_flows::finish_coordinator_job(&mut app, &events);
    app.update(Action::Conflicts);
    app.update(Action::Confirm);
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| doorstep::tui::view::render(&app, f)).unwrap();
    let screen = t.backend().to_string();
    let short: String = r3.id.to_string().chars().take(8).collect();
    assert!(screen.contains("Revisions of response"), "{screen}");
    assert!(
        screen.contains(&format!("revised since (last {short}")),
        "{screen}"
    );
}
