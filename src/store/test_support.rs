//! What the store's unit tests share.

use chrono::{DateTime, Utc};

use crate::response::NewResponse;
use crate::survey::{LocalText, Question, QuestionKind};

/// A KIN interview started at `at` in a Wigan ward.
pub(super) fn new(at: DateTime<Utc>) -> NewResponse {
    NewResponse {
        survey_id: "kin".into(),
        survey_version: 2,
        fingerprint: "f".into(),
        area: "E05000841".into(),
        period: None,
        interviewer: "PC 1".into(),
        device: "d".into(),
        language: "en".into(),
        started_at: at,
    }
}

/// A plain yes/no question with id `id` (recording an answer needs only its id and kind).
pub(super) fn question(id: &str) -> Question {
    Question {
        id: id.into(),
        section: 0,
        kind: QuestionKind::YesNo,
        text: LocalText::en("q"),
        help: None,
        audience: Default::default(),
        internal: false,
        ends: false,
        required: false,
        personal: false,
        show_if: None,
        constraint: None,
        indicator: None,
        item: None,
    }
}
