//! The store through its public API: round trips through reopen, the draft → finalize →
//! revision life, the door log, the lock, and recovery from the journal.

use chrono::Duration;
use doorstep::response::{
    Door, DoorCounts, Outcome, ResponseFilter, SettingKey, Status, StoredAnswer,
};
use doorstep::store::{
    STORE_DIR, Store, StoreError, StoreState, journal_path, read_journal, recover,
};
use doorstep::survey::{Answer, Finding, Grade, IssueCoding, Location};

use crate::store_helpers::{env, new_response, open, t0, text_question};

#[test]
fn responses_round_trip_through_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let answers = [
        ("q_choice", Answer::Choice("fairly_big".into())),
        ("q_count", Answer::Count(3)),
        (
            "q_text",
            Answer::Text("the lights on Kay Street are out".into()),
        ),
        ("q_grade", Answer::Grade(Grade::BMinus)),
        (
            "q_loc",
            Answer::Location(Location::Fixed {
                text: "lamp column 14".into(),
            }),
        ),
        (
            "q_issues",
            Answer::Issues(IssueCoding {
                issues: vec!["litter".into(), "speeding".into()],
                other: Some("fireworks".into()),
            }),
        ),
        ("q_skip", Answer::Skipped),
    ];
    let id = {
        let store = open(dir.path());
        let r = store.create_draft(new_response("E05000650", t0())).unwrap();
        for (i, (qid, a)) in answers.iter().enumerate() {
            let at = t0() + Duration::minutes(i as i64);
            store
                .record_answer(r.id, &text_question(qid, false), a.clone(), at)
                .unwrap();
        }
        let finding = Finding {
            note: Some("three needles by the bins".into()),
            location: Some("rear of 22 Kay Street".into()),
            urgent: true,
            agency: Some("council street scene".into()),
            ..Finding::default()
        };
        store.record_finding(r.id, "q_count", finding).unwrap();
        store.set_position(r.id, "q_skip").unwrap();
        r.id
    };
    let store = open(dir.path());
    let r = store.get(id).unwrap();
    assert_eq!(r.status, Status::Draft);
    assert_eq!(r.period.to_string(), "2026-Q4");
    assert_eq!(r.position.as_deref(), Some("q_skip"));
    assert_eq!(r.answers.len(), answers.len());
    for (i, (qid, a)) in answers.iter().enumerate() {
        let rec = &r.answers[*qid];
        assert_eq!(rec.value, StoredAnswer::Plain(a.clone()), "{qid}");
        assert_eq!(rec.given_at, t0() + Duration::minutes(i as i64));
    }
    assert!(r.findings["q_count"].urgent);
    assert_eq!(r.answered_count(), answers.len() - 1);
    let drafts = store.drafts().unwrap();
    assert_eq!(drafts.responses, vec![r]);
    assert!(drafts.unreadable.is_empty());
}

#[test]
fn draft_finalize_then_revision_keeps_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let (env, clock) = env();
    let store = Store::open_with(dir.path(), env).unwrap();
    let q = text_question("q1", false);
    let r = store.create_draft(new_response("E05000650", t0())).unwrap();
    store
        .record_answer(r.id, &q, Answer::Text("first".into()), t0())
        .unwrap();
    store
        .record_answer(
            r.id,
            &q,
            Answer::Text("second".into()),
            t0() + Duration::minutes(2),
        )
        .unwrap();

    // Only final statuses finalize.
    assert!(matches!(
        store.finalize(r.id, Status::Draft, t0()),
        Err(StoreError::FinalizeAsDraft { .. })
    ));
    let done = store
        .finalize(r.id, Status::Complete, t0() + Duration::minutes(5))
        .unwrap();
    assert_eq!(done.status, Status::Complete);
    assert_eq!(done.finalized_at, Some(t0() + Duration::minutes(5)));
    let rec = &done.answers["q1"];
    assert_eq!(
        rec.history,
        vec![(t0(), StoredAnswer::Plain(Answer::Text("first".into())))]
    );

    // A finalized response cannot be edited or finalized again; nothing changes.
    let err = store
        .record_answer(
            r.id,
            &q,
            Answer::Text("third".into()),
            t0() + Duration::minutes(9),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "response {} is complete, not a draft (use a revision to change it)",
            r.id
        )
    );
    assert!(matches!(
        store.finalize(r.id, Status::Refused, t0()),
        Err(StoreError::NotDraft {
            status: Status::Complete,
            ..
        })
    ));
    assert_eq!(store.get(r.id).unwrap(), done);

    // A draft cannot be revised.
    let other = store.create_draft(new_response("E05000651", t0())).unwrap();
    assert!(matches!(
        store.revise(other.id),
        Err(StoreError::NotFinal { .. })
    ));

    clock.advance(Duration::days(1));
    let rev = store.revise(r.id).unwrap();
    assert_ne!(rev.id, r.id);
    assert_eq!(rev.replaces, Some(r.id));
    assert_eq!(rev.status, Status::Draft);
    assert_eq!(rev.started_at, t0() + Duration::days(1));
    assert_eq!(rev.answers, done.answers);
    assert!(matches!(
        store.revise(r.id),
        Err(StoreError::AlreadyRevised { by, .. }) if by == rev.id
    ));
    store
        .record_answer(
            rev.id,
            &q,
            Answer::Text("corrected".into()),
            t0() + Duration::days(1),
        )
        .unwrap();
    store
        .finalize(rev.id, Status::Complete, t0() + Duration::days(1))
        .unwrap();
    assert_eq!(
        store.get(r.id).unwrap(),
        done,
        "the original is kept as it was"
    );

    // Both finalized versions are in the journal, in order, after their drafts' events.
    let journal = read_journal(&journal_path(dir.path())).unwrap();
    let finalized: Vec<uuid::Uuid> = journal
        .entries
        .iter()
        .filter_map(|(_, e)| match e {
            doorstep::store::JournalEntry::Response(r) => Some(r.id),
            _ => None,
        })
        .collect();
    assert_eq!(finalized, vec![r.id, rev.id]);
    assert!(journal.corrupt.is_empty());

    // Filters.
    let all = store.list(&ResponseFilter::default()).unwrap().responses;
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![r.id, other.id, rev.id]
    );
    let complete = store
        .list(&ResponseFilter {
            status: Some(Status::Complete),
            ..ResponseFilter::default()
        })
        .unwrap()
        .responses;
    assert_eq!(complete.len(), 2);
    let in_651 = store
        .list(&ResponseFilter {
            area: Some("e05000651".into()),
            ..ResponseFilter::default()
        })
        .unwrap()
        .responses;
    assert_eq!(
        in_651.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![other.id]
    );
    let q3 = store
        .list(&ResponseFilter {
            period: Some("2026-Q3".parse().unwrap()),
            ..ResponseFilter::default()
        })
        .unwrap()
        .responses;
    assert!(q3.is_empty());
}

#[test]
fn unknown_ids_and_bad_new_responses_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = uuid::Uuid::from_u128(42);
    assert_eq!(
        store.get(id).unwrap_err().to_string(),
        format!("no response with id {id}")
    );
    let q = text_question("q1", false);
    assert!(matches!(
        store.record_answer(id, &q, Answer::Count(1), t0()),
        Err(StoreError::NotFound { .. })
    ));
    let mut bad = new_response(" ", t0());
    bad.area = " ".into();
    assert_eq!(
        store.create_draft(bad).unwrap_err().to_string(),
        "a new response needs an area code"
    );
    assert!(
        store
            .list(&ResponseFilter::default())
            .unwrap()
            .responses
            .is_empty()
    );
}

#[test]
fn door_log_counts_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let area = "WIGAN-PAA-3";
    let door = |n: &str| Door::new("Kay Street", n).unwrap();
    let response = uuid::Uuid::from_u128(9);
    {
        let store = open(dir.path());
        store.add_door(area, door("1")).unwrap();
        store
            .knock(area, door("2"), Outcome::NoAnswer, t0())
            .unwrap();
        store
            .knock(
                area,
                door("2"),
                Outcome::Interviewed { response },
                t0() + Duration::hours(2),
            )
            .unwrap();
        store
            .knock(area, door("3"), Outcome::Refused, t0())
            .unwrap();
        store
            .knock(
                area,
                door("4"),
                Outcome::CallBack {
                    at: t0() + Duration::hours(1),
                },
                t0(),
            )
            .unwrap();
        store
            .knock(area, door("Rose Cottage"), Outcome::NotApplicable, t0())
            .unwrap();
        // Same door, written differently: one record.
        store
            .knock(
                &area.to_lowercase(),
                Door::new("kay  street", "1").unwrap(),
                Outcome::NoAnswer,
                t0(),
            )
            .unwrap();
        // Another area stays apart.
        store
            .knock("OTHER", door("1"), Outcome::Refused, t0())
            .unwrap();
        // Adding a door that exists changes nothing.
        let again = store.add_door(area, door("2")).unwrap();
        assert_eq!(again.knocks.len(), 2);
    }
    let store = open(dir.path());
    let doors = store.doors(area).unwrap();
    assert_eq!(doors.len(), 5);
    let counts = DoorCounts::new(&doors, t0() + Duration::hours(3));
    assert_eq!(
        counts,
        DoorCounts {
            doors: 5,
            knocked: 5,
            answered: 3,
            interviewed: 1,
            refused: 1,
            not_applicable: 1,
            call_backs_due: 1,
            call_backs_later: 0,
            to_knock: 2,
        }
    );
    assert_eq!(counts.response_rate(), Some(0.25));
    assert_eq!(store.doors("OTHER").unwrap().len(), 1);
    assert!(store.doors("NOWHERE").unwrap().is_empty());
    assert!(store.doors(" ").is_err());
    let first = doors.iter().find(|d| d.door.number == "1").unwrap();
    assert_eq!(
        first.door.street, "Kay Street",
        "the first spelling is kept"
    );
}

#[test]
fn settings_are_checked_and_bad_values_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert_eq!(store.settings().unwrap().officer, None);
    store.set_setting(SettingKey::Officer, " PC 1234 ").unwrap();
    store.set_setting(SettingKey::Language, "PL").unwrap();
    let before = std::fs::read(journal_path(dir.path())).unwrap();
    for (key, value) in [
        (SettingKey::Recipient, "age1notakey"),
        (SettingKey::Language, "polish"),
        (SettingKey::Officer, ""),
    ] {
        let err = store.set_setting(key, value).unwrap_err();
        assert_eq!(err.exit_code(), 65, "{err}");
        assert!(
            err.to_string().starts_with(&format!("bad {key} `{value}`")),
            "{err}"
        );
    }
    let s = store.settings().unwrap();
    assert_eq!(s.officer.as_deref(), Some("PC 1234"));
    assert_eq!(s.language.as_deref(), Some("pl"));
    assert_eq!(s.recipient, None);
    assert_eq!(std::fs::read(journal_path(dir.path())).unwrap(), before);
}

#[test]
fn a_second_open_fails_fast_with_the_holders_pid() {
    let dir = tempfile::tempdir().unwrap();
    let _held = open(dir.path());
    let err = match Store::open(dir.path()) {
        Err(e) => e,
        Ok(_) => panic!("a second store opened on a held data directory"),
    };
    assert_eq!(
        err.to_string(),
        format!(
            "doorstep is already running on {} (pid {})",
            dir.path().display(),
            std::process::id()
        )
    );
    assert_eq!(err.exit_code(), 75);
}

#[test]
fn a_lock_being_let_go_is_waited_for_not_called_busy() {
    let dir = tempfile::tempdir().unwrap();
    let held = open(dir.path());
    // The holder closes a moment after the second start begins, as when the app is
    // quitting, or another program's child has not yet let go of a copied descriptor.
    let closer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(held);
    });
    let second = Store::open(dir.path());
    closer.join().unwrap();
    assert!(second.is_ok(), "{:?}", second.err());
}

#[test]
fn a_lock_file_left_behind_does_not_block() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("doorstep.lock"), "999999\n").unwrap();
    let store = open(dir.path());
    drop(store);
    let lock = std::fs::read_to_string(dir.path().join("doorstep.lock")).unwrap();
    assert_eq!(lock.trim(), std::process::id().to_string());
    open(dir.path());
}

/// Three finalized responses, a draft, knocks and settings; returns the finalized ones.
fn fill(dir: &std::path::Path) -> Vec<doorstep::response::Response> {
    let store = open(dir);
    let q = text_question("q1", false);
    let mut done = Vec::new();
    for (i, status) in [Status::Complete, Status::Refused, Status::Abandoned]
        .into_iter()
        .enumerate()
    {
        let r = store.create_draft(new_response("E05000650", t0())).unwrap();
        store
            .record_answer(r.id, &q, Answer::Text(format!("answer {i}")), t0())
            .unwrap();
        done.push(
            store
                .finalize(r.id, status, t0() + Duration::minutes(i as i64))
                .unwrap(),
        );
    }
    let draft = store.create_draft(new_response("E05000650", t0())).unwrap();
    store
        .record_answer(draft.id, &q, Answer::Count(1), t0())
        .unwrap();
    let door = Door::new("Kay Street", "12").unwrap();
    store
        .knock("E05000650", door.clone(), Outcome::NoAnswer, t0())
        .unwrap();
    store
        .knock(
            "E05000650",
            door,
            Outcome::Interviewed {
                response: done[0].id,
            },
            t0() + Duration::hours(1),
        )
        .unwrap();
    store
        .add_door("E05000650", Door::new("Kay Street", "14").unwrap())
        .unwrap();
    store.set_setting(SettingKey::Officer, "PC 1234").unwrap();
    done
}

#[test]
fn recover_rebuilds_a_deleted_store_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let done = fill(dir.path());
    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();

    let err = match Store::open(dir.path()) {
        Err(e) => e,
        Ok(_) => panic!("an empty store opened over a journal with records"),
    };
    assert!(err.to_string().contains("run `doorstep recover`"), "{err}");

    let report = recover(dir.path(), env().0).unwrap();
    assert_eq!(report.store, StoreState::Missing);
    assert_eq!(report.responses_restored(), 4);
    assert_eq!(report.restored[&Status::Draft], 1);
    assert_eq!(report.restored[&Status::Complete], 1);
    assert_eq!(report.restored[&Status::Refused], 1);
    assert_eq!(report.restored[&Status::Abandoned], 1);
    assert_eq!((report.doors_restored, report.knocks_restored), (2, 2));
    assert_eq!(report.settings_restored, 1);
    assert!(report.corrupt.is_empty());
    let text = report.to_string();
    assert!(
        text.contains("store: missing; rebuilt from the journal"),
        "{text}"
    );
    assert!(text.contains("restored: 3 finalized (1 complete, 1 refused, 1 abandoned), 1 draft(s), 2 door(s), 2 knock(s), 1 setting(s)"), "{text}");

    let store = open(dir.path());
    for r in &done {
        assert_eq!(&store.get(r.id).unwrap(), r);
    }
    // Drafts are journaled too: the draft and its answer are back.
    let listing = store.list(&ResponseFilter::default()).unwrap();
    assert_eq!(listing.responses.len(), 4);
    let draft = listing
        .responses
        .iter()
        .find(|r| r.status == Status::Draft)
        .unwrap();
    assert_eq!(
        draft.answers["q1"].value,
        StoredAnswer::Plain(Answer::Count(1))
    );
    assert_eq!(store.doors("E05000650").unwrap().len(), 2);
    assert_eq!(
        store.settings().unwrap().officer.as_deref(),
        Some("PC 1234")
    );
    drop(store);

    // Running it again changes nothing.
    let again = recover(dir.path(), env().0).unwrap();
    assert_eq!(again.store, StoreState::Healthy);
    assert_eq!(again.responses_restored(), 0);
    assert_eq!(again.already_present, 4);
    assert_eq!((again.knocks_restored, again.settings_restored), (0, 0));
}

#[test]
fn recover_moves_a_damaged_store_aside_and_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    let done = fill(dir.path());
    let store_dir = dir.path().join(STORE_DIR);
    for file in crate::store_helpers::all_files(&store_dir) {
        std::fs::write(&file, b"\x00\xffnot a sled file at all\x13\x37").unwrap();
    }
    let err = match Store::open(dir.path()) {
        Err(e) => e,
        Ok(_) => panic!("a damaged store opened"),
    };
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(err.to_string().contains("run `doorstep recover`"), "{err}");

    let report = recover(dir.path(), env().0).unwrap();
    let StoreState::Damaged { moved_to, .. } = &report.store else {
        panic!("store state {:?}", report.store);
    };
    assert_eq!(moved_to, &dir.path().join("store.damaged-20261005T090000Z"));
    assert!(moved_to.is_dir(), "the damaged store is kept");
    assert_eq!(report.responses_restored(), 4);
    let store = open(dir.path());
    for r in &done {
        assert_eq!(&store.get(r.id).unwrap(), r);
    }
}

#[test]
fn corrupt_journal_lines_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let done = fill(dir.path());
    let path = journal_path(dir.path());
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // Each response is three lines (draft, answer, finalized). Line 6 finalizes the
    // second: damage it; add garbage after the third and a torn line at the end.
    lines[5] = lines[5].replacen("answer 1", "answer X", 1);
    lines.insert(9, "this is not a journal line".into());
    let torn = lines[0][..40].to_owned();
    let mut damaged = lines.join("\n");
    damaged.push('\n');
    damaged.push_str(&torn);
    std::fs::write(&path, damaged).unwrap();
    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();

    let report = recover(dir.path(), env().0).unwrap();
    let corrupt: Vec<usize> = report.corrupt.iter().map(|c| c.line).collect();
    assert_eq!(corrupt, vec![6, 10, lines.len() + 1]);
    assert!(report.corrupt[0].reason.contains("checksum does not match"));
    assert_eq!(report.responses_restored(), 4);
    assert_eq!(report.restored[&Status::Draft], 2);
    assert!(
        report
            .to_string()
            .contains("skipped corrupt journal line 6: the checksum does not match")
    );
    let store = open(dir.path());
    assert_eq!(store.get(done[0].id).unwrap(), done[0]);
    // Its finalizing line is lost, but the draft and its answer came back.
    let second = store.get(done[1].id).unwrap();
    assert_eq!(second.status, Status::Draft);
    assert_eq!(
        second.answers["q1"].value,
        StoredAnswer::Plain(Answer::Text("answer 1".into()))
    );
    assert_eq!(store.get(done[2].id).unwrap(), done[2]);
    // The store keeps working and appends after the torn line.
    let r = store.create_draft(new_response("E05000650", t0())).unwrap();
    store.finalize(r.id, Status::Abandoned, t0()).unwrap();
    let journal = read_journal(&path).unwrap();
    assert_eq!(journal.corrupt.len(), 3);
    assert!(
        matches!(journal.entries.last(), Some((_, doorstep::store::JournalEntry::Response(j))) if j.id == r.id)
    );
}

#[test]
fn doors_are_corrected_and_removed_through_the_journal_and_recover_replays_it() {
    let dir = tempfile::tempdir().unwrap();
    let area = "WIGAN-PAA-3";
    let door = |s: &str, n: &str| Door::new(s, n).unwrap();
    {
        let store = open(dir.path());
        store
            .knock(area, door("Kay Stret", "12"), Outcome::NoAnswer, t0())
            .unwrap();
        store.add_door(area, door("Kay Street", "14")).unwrap();
        store.add_door(area, door("Kay Street", "99")).unwrap();
        let interviewed = uuid::Uuid::from_u128(5);
        store
            .knock(
                area,
                door("Kay Street", "16"),
                Outcome::Interviewed {
                    response: interviewed,
                },
                t0(),
            )
            .unwrap();
        // A draft started at the misspelt door follows the correction.
        let draft = store.create_draft(new_response(area, t0())).unwrap();
        store.set_door(draft.id, &door("Kay Stret", "12")).unwrap();

        let fixed = store
            .edit_door(area, &door("Kay Stret", "12"), door("Kay Street", "12"))
            .unwrap();
        assert_eq!(fixed.knocks.len(), 1, "the knocks go with the door");
        assert_eq!(
            store.get(draft.id).unwrap().door,
            Some(door("Kay Street", "12"))
        );
        store.remove_door(area, &door("Kay Street", "99")).unwrap();

        // Refused, and nothing changes: unknown door, a clash, an interviewed door.
        let before = store.doors(area).unwrap();
        let err = store
            .edit_door(area, &door("Kay Street", "1"), door("Kay Street", "2"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 Kay Street is not in the door log of WIGAN-PAA-3"
        );
        let err = store
            .edit_door(area, &door("Kay Street", "14"), door("kay street", "12"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "12 kay street is already in the door log of WIGAN-PAA-3: choose another street or number"
        );
        let err = store
            .remove_door(area, &door("Kay Street", "16"))
            .unwrap_err();
        assert!(
            err.to_string().contains("has an interview recorded"),
            "{err}"
        );
        let err = store
            .remove_door(area, &door("Kay Street", "99"))
            .unwrap_err();
        assert!(matches!(err, StoreError::NoSuchDoor { .. }), "{err}");
        assert_eq!(store.doors(area).unwrap(), before);

        // Discarding a draft keeps it, as abandoned and journaled.
        let gone = store.abandon_draft(draft.id).unwrap();
        assert_eq!(gone.status, Status::Abandoned);
        assert!(store.drafts().unwrap().responses.is_empty());
        assert!(store.abandon_draft(draft.id).is_err());
    }
    let shown = |store: &Store| -> Vec<String> {
        store
            .doors(area)
            .unwrap()
            .iter()
            .map(|r| format!("{} ({} knocks)", r.door, r.knocks.len()))
            .collect()
    };
    let expected = [
        "12 Kay Street (1 knocks)",
        "14 Kay Street (0 knocks)",
        "16 Kay Street (1 knocks)",
    ];
    assert_eq!(shown(&open(dir.path())), expected);

    std::fs::remove_dir_all(dir.path().join(STORE_DIR)).unwrap();
    let report = recover(dir.path(), env().0).unwrap();
    assert_eq!(report.doors_restored, 3);
    let store = open(dir.path());
    assert_eq!(shown(&store), expected);
    let abandoned = store.list(&ResponseFilter::default()).unwrap().responses;
    assert_eq!(abandoned.len(), 1);
    assert_eq!(abandoned[0].status, Status::Abandoned);
}
