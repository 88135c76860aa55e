//! Personal answers never reach the disk in plaintext.

use chrono::Duration;
use doorstep::response::{Status, StoredAnswer};
use doorstep::seal::{CoordinatorIdentity, unseal};
use doorstep::store::{StoreError, journal_path};
use doorstep::survey::Answer;
use doorstep::survey::registry::Registry;

use crate::store_helpers::{all_files, kin_draft_sealed_to, new_response, open, t0, text_question};

/// Planted values: each must appear nowhere under the data directory.
const PLANTED: [(&str, &str); 4] = [
    ("contact_name", "Bartholomew Quigley-Fairweather"),
    ("contact_phone", "07700 900461"),
    ("contact_email", "b.quigley@example.org"),
    ("contact_address", "Flat 9, Lavender Court, WN1 9ZZ"),
];

const CONTROL: &str = "control: lamp column 14 is out";

fn needles() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (_, v) in PLANTED {
        out.push(v.as_bytes().to_vec());
        out.push(v.to_lowercase().into_bytes());
        // Fragments that would show a value split or re-encoded.
        out.push(v.split_whitespace().next().unwrap().as_bytes().to_vec());
        out.push(v.replace(' ', "").into_bytes());
    }
    out.push(b"Quigley".to_vec());
    out.push(b"900461".to_vec());
    out
}

#[test]
fn personal_answers_are_sealed_everywhere_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let identity = CoordinatorIdentity::generate();
    let registry = Registry::builtin().unwrap();
    let kin = registry.get("kin", None).expect("the built-in KIN survey");
    let id = {
        let store = open(dir.path());
        let r = kin_draft_sealed_to(&store, kin, &identity);
        for (i, (qid, value)) in PLANTED.iter().enumerate() {
            let q = kin.question(qid).expect("a contact question");
            assert!(q.personal, "{qid} is marked personal in the KIN survey");
            let at = t0() + Duration::minutes(i as i64);
            // Give a first value, then correct it: both go through the history.
            store
                .record_answer(r.id, q, Answer::Text(format!("{value} (draft)")), at)
                .unwrap();
            store
                .record_answer(
                    r.id,
                    q,
                    Answer::Text((*value).to_owned()),
                    at + Duration::seconds(30),
                )
                .unwrap();
        }
        // A control: a non-personal answer is stored as given, so the search below can
        // see plaintext when there is some.
        store
            .record_answer(
                r.id,
                &text_question("q_control", false),
                Answer::Text(CONTROL.into()),
                t0(),
            )
            .unwrap();
        store
            .finalize(r.id, Status::Complete, t0() + Duration::hours(1))
            .unwrap();
        r.id
    };

    let files = all_files(dir.path());
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(dir.path().join("store")))
    );
    assert!(files.contains(&journal_path(dir.path())));
    let mut bytes_read = 0;
    let mut control_hits = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        bytes_read += bytes.len();
        if bytes
            .windows(CONTROL.len())
            .any(|w| w == CONTROL.as_bytes())
        {
            control_hits += 1;
        }
        for needle in needles() {
            let hit = bytes.windows(needle.len()).any(|w| w == needle.as_slice());
            assert!(
                !hit,
                "{} holds `{}` in plaintext",
                file.display(),
                String::from_utf8_lossy(&needle)
            );
        }
    }
    assert!(bytes_read > 0);
    assert!(
        control_hits >= 2,
        "the control value is in the store and the journal"
    );

    // The device shows "sealed"; the coordinator's identity opens each value.
    let store = open(dir.path());
    let r = store.get(id).unwrap();
    for (qid, value) in PLANTED {
        let rec = &r.answers[qid];
        assert_eq!(rec.value.display(), "sealed");
        let StoredAnswer::Sealed(armored) = &rec.value else {
            panic!("{qid} stored unsealed");
        };
        assert_eq!(
            unseal(&identity, armored).unwrap(),
            Answer::Text(value.into())
        );
        let (_, StoredAnswer::Sealed(old)) = &rec.history[0] else {
            panic!("{qid} history stored unsealed");
        };
        assert_eq!(
            unseal(&identity, old).unwrap(),
            Answer::Text(format!("{value} (draft)"))
        );
    }
}

#[test]
fn without_a_recipient_personal_answers_are_refused_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let r = store.create_draft(new_response("E05000650", t0())).unwrap();
    let q = text_question("contact_phone", true);
    let err = store
        .record_answer(r.id, &q, Answer::Text("07700 900999".into()), t0())
        .unwrap_err();
    assert!(matches!(err, StoreError::NoRecipient { ref question } if question == "contact_phone"));
    assert!(
        err.to_string().contains("no coordinator recipient is set"),
        "{err}"
    );
    assert!(store.get(r.id).unwrap().answers.is_empty());
    // Skipping it is allowed: a skip carries nothing personal.
    store
        .record_answer(r.id, &q, Answer::Skipped, t0())
        .unwrap();
    assert_eq!(
        store.get(r.id).unwrap().answers["contact_phone"].value,
        StoredAnswer::Plain(Answer::Skipped)
    );
    // Non-personal questions are unaffected.
    store
        .record_answer(
            r.id,
            &text_question("q1", false),
            Answer::Text("fine".into()),
            t0(),
        )
        .unwrap();
    drop(store);
    for file in all_files(dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(6).any(|w| w == b"900999"),
            "{}",
            file.display()
        );
    }
}
