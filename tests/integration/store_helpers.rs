//! Shared helpers for the store tests.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use doorstep::response::{Env, ManualClock, NewResponse, SettingKey};
use doorstep::store::Store;
use doorstep::survey::{LocalText, Question, QuestionKind};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 5, 9, 0, 0).unwrap()
}

pub fn env() -> (Env, Arc<ManualClock>) {
    Env::manual(t0())
}

pub fn open(dir: &Path) -> Store {
    Store::open_with(dir, env().0).expect("store opens")
}

pub fn new_response(area: &str, at: DateTime<Utc>) -> NewResponse {
    NewResponse {
        survey_id: "kin".into(),
        survey_version: 1,
        fingerprint: "test-fingerprint".into(),
        area: area.into(),
        period: None,
        interviewer: "PC 1234".into(),
        device: "laptop-3".into(),
        language: "en".into(),
        started_at: at,
    }
}

/// A free-text question built by hand.
pub fn text_question(id: &str, personal: bool) -> Question {
    Question {
        id: id.into(),
        section: 0,
        kind: QuestionKind::Text {
            long: false,
            max_len: None,
        },
        text: LocalText::en(format!("Question {id}")),
        help: None,
        audience: Default::default(),
        internal: false,
        ends: false,
        required: false,
        personal,
        show_if: None,
        constraint: None,
        indicator: None,
        item: None,
    }
}

/// Every file under `dir`, recursively.
pub fn all_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A KIN draft of `survey` in a store whose coordinator recipient is `identity`'s.
pub fn kin_draft_sealed_to(
    store: &Store,
    survey: &doorstep::survey::Survey,
    identity: &doorstep::seal::CoordinatorIdentity,
) -> doorstep::response::Response {
    store
        .set_setting(SettingKey::Recipient, &identity.recipient().to_string())
        .unwrap();
    store
        .create_draft(NewResponse {
            survey_id: survey.id.clone(),
            survey_version: survey.version,
            fingerprint: survey.fingerprint.clone(),
            ..new_response("E05000650", t0())
        })
        .unwrap()
}
