//! What the store's unit tests share.

use chrono::{DateTime, Utc};

use crate::response::NewResponse;

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
