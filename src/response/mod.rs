//! Responses: one KIN interview or one EVA transect as recorded in the field, with an
//! audit trail of when each answer was given and changed; the door log; device settings.
//!
//! Pure domain code: the store (`crate::store`) persists these, sealing
//! (`crate::seal`) protects personal answers; nothing here touches the disk.

mod door;
mod env;
mod period;
mod place;
mod settings;
mod status;
pub mod transect;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use door::{
    Door, DoorCounts, DoorRecord, Knock, Outcome, call_back_time, latest_street, walk_order,
};
pub use env::{
    Clock, Env, FIELDWORK_ZONE, IdSource, ManualClock, SequentialIds, SystemClock, SystemIds,
};
pub use period::Period;
pub use place::{location_point, outside_warning};
pub use settings::{SettingKey, Settings};
pub use status::Status;

use crate::exit;
use crate::survey::{Answer, Finding};

#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error("bad period `{input}`: {reason}")]
    BadPeriod { input: String, reason: String },
    #[error("unknown status `{input}`: expected draft, complete, refused or abandoned")]
    BadStatus { input: String },
    #[error("unknown setting `{input}`: expected officer, device, recipient, language or area")]
    UnknownSetting { input: String },
    #[error("bad {key} `{value}`: {reason}")]
    BadSetting {
        key: SettingKey,
        value: String,
        reason: String,
    },
    #[error("bad door `{number}` on `{street}`: {reason}")]
    BadDoor {
        street: String,
        number: String,
        reason: String,
    },
    #[error("a new response needs {what}")]
    Incomplete { what: &'static str },
}

impl ResponseError {
    pub fn exit_code(&self) -> u8 {
        exit::DATA_ERR
    }
}

/// An answer as kept on disk: personal answers are only ever kept sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredAnswer {
    Plain(Answer),
    /// An age-encrypted, ASCII-armored JSON [`Answer`], readable only by the coordinator.
    Sealed(String),
}

impl StoredAnswer {
    pub fn is_sealed(&self) -> bool {
        matches!(self, StoredAnswer::Sealed(_))
    }

    /// The answer as the device may show it: sealed answers read "sealed".
    pub fn display(&self) -> String {
        match self {
            StoredAnswer::Plain(a) => a.to_string(),
            StoredAnswer::Sealed(_) => "sealed".to_owned(),
        }
    }
}

/// One answer with its audit trail (like ODK's): when it was first given, when it was
/// last changed, and every earlier value with the time it was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerRecord {
    pub value: StoredAnswer,
    pub given_at: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
    /// Earlier values, oldest first, each with the time it was set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<(DateTime<Utc>, StoredAnswer)>,
}

/// What is needed to start a response.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResponse {
    pub survey_id: String,
    pub survey_version: u32,
    pub fingerprint: String,
    /// The priority action area or ward code the fieldwork is in.
    pub area: String,
    /// The fieldwork quarter; from `started_at` when not set.
    pub period: Option<Period>,
    pub interviewer: String,
    pub device: String,
    pub language: String,
    pub started_at: DateTime<Utc>,
}

/// One KIN interview or EVA transect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub id: Uuid,
    pub survey_id: String,
    pub survey_version: u32,
    pub fingerprint: String,
    pub area: String,
    pub period: Period,
    pub interviewer: String,
    pub device: String,
    pub language: String,
    pub started_at: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub status: Status,
    /// Answers keyed by question id.
    pub answers: BTreeMap<String, AnswerRecord>,
    /// EVA findings keyed by checklist question id.
    #[serde(default)]
    pub findings: BTreeMap<String, Finding>,
    /// The finalized response this one revises.
    pub replaces: Option<Uuid>,
    /// The question to resume at.
    pub position: Option<String>,
    /// The door (door log) a KIN interview was started at, so a resumed draft still
    /// records its knock when finalized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door: Option<Door>,
    /// Text typed into a question but not yet confirmed when the app was left or closed:
    /// shown again on resuming, and not an answer until it is confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typed: Option<Box<TypedText>>,
}

/// Unconfirmed text in the field of question `question` (never for personal questions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedText {
    pub question: String,
    pub text: String,
}

impl Response {
    /// A new draft with no answers.
    pub fn draft(id: Uuid, new: NewResponse) -> Result<Response, ResponseError> {
        if new.survey_id.trim().is_empty() {
            return Err(ResponseError::Incomplete {
                what: "a survey id",
            });
        }
        if new.area.trim().is_empty() {
            return Err(ResponseError::Incomplete {
                what: "an area code",
            });
        }
        Ok(Response {
            id,
            period: new
                .period
                .unwrap_or_else(|| Period::of_fieldwork(new.started_at)),
            survey_id: new.survey_id,
            survey_version: new.survey_version,
            fingerprint: new.fingerprint,
            area: new.area.trim().to_owned(),
            interviewer: new.interviewer,
            device: new.device,
            language: new.language,
            started_at: new.started_at,
            changed_at: new.started_at,
            finalized_at: None,
            status: Status::Draft,
            answers: BTreeMap::new(),
            findings: BTreeMap::new(),
            replaces: None,
            position: None,
            door: None,
            typed: None,
        })
    }

    /// Sets an answer at `at`, keeping the earlier value in the history. Setting the same
    /// value again changes nothing.
    pub fn set_answer(&mut self, question: &str, value: StoredAnswer, at: DateTime<Utc>) {
        // An answer confirmed replaces whatever was left typed in its field.
        if self.typed.as_ref().is_some_and(|t| t.question == question) {
            self.typed = None;
        }
        match self.answers.get_mut(question) {
            Some(rec) => {
                if rec.value == value {
                    return;
                }
                let old = std::mem::replace(&mut rec.value, value);
                rec.history.push((rec.changed_at, old));
                rec.changed_at = at;
            }
            None => {
                self.answers.insert(
                    question.to_owned(),
                    AnswerRecord {
                        value,
                        given_at: at,
                        changed_at: at,
                        history: Vec::new(),
                    },
                );
            }
        }
        self.touch(at);
    }

    /// Moves `changed_at` forward (never back: a clock that jumped back must not make a
    /// later change look older).
    pub fn touch(&mut self, at: DateTime<Utc>) {
        if at > self.changed_at {
            self.changed_at = at;
        }
    }

    /// Finalizes a draft as `status` at `at`.
    pub fn finalize(&mut self, status: Status, at: DateTime<Utc>) {
        self.status = status;
        self.finalized_at = Some(at);
        self.touch(at);
    }

    /// A new draft revision of this (finalized) response: same survey, area and answers,
    /// naming this one as the one it replaces.
    pub fn revision(&self, id: Uuid, at: DateTime<Utc>) -> Response {
        Response {
            id,
            started_at: at,
            changed_at: at,
            finalized_at: None,
            status: Status::Draft,
            replaces: Some(self.id),
            position: None,
            typed: None,
            ..self.clone()
        }
    }

    /// How many questions have an answer other than "skipped".
    pub fn answered_count(&self) -> usize {
        self.answers
            .values()
            .filter(|r| !matches!(r.value, StoredAnswer::Plain(Answer::Skipped)))
            .count()
    }
}

/// What counts and lists need of a response, without its answers: read from a stored
/// record it skips the answers instead of decoding them, which is most of the work.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResponseSummary {
    pub id: Uuid,
    pub survey_id: String,
    pub survey_version: u32,
    pub area: String,
    pub period: Period,
    pub status: Status,
    pub finalized_at: Option<DateTime<Utc>>,
    /// The response this one revises, so "latest revision" is found without the answers.
    #[serde(default)]
    pub replaces: Option<Uuid>,
}

impl From<&Response> for ResponseSummary {
    fn from(r: &Response) -> ResponseSummary {
        ResponseSummary {
            id: r.id,
            survey_id: r.survey_id.clone(),
            survey_version: r.survey_version,
            area: r.area.clone(),
            period: r.period,
            status: r.status,
            finalized_at: r.finalized_at,
            replaces: r.replaces,
        }
    }
}

/// Which responses to list; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseFilter {
    pub area: Option<String>,
    pub status: Option<Status>,
    pub period: Option<Period>,
}

impl ResponseFilter {
    pub fn matches(&self, r: &Response) -> bool {
        self.area
            .as_deref()
            .is_none_or(|a| a.trim().eq_ignore_ascii_case(&r.area))
            && self.status.is_none_or(|s| s == r.status)
            && self.period.is_none_or(|p| p == r.period)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap()
    }

    fn new() -> NewResponse {
        NewResponse {
            survey_id: "kin".into(),
            survey_version: 1,
            fingerprint: "abc".into(),
            area: " E05000650 ".into(),
            period: None,
            interviewer: "PC 1234".into(),
            device: "laptop-3".into(),
            language: "en".into(),
            started_at: t0(),
        }
    }

    #[test]
    fn draft_takes_period_from_date_and_trims_area() {
        let r = Response::draft(Uuid::from_u128(1), new()).unwrap();
        assert_eq!(r.period.to_string(), "2026-Q4");
        assert_eq!(r.area, "E05000650");
        assert_eq!(r.status, Status::Draft);
        let mut n = new();
        n.area = " ".into();
        assert_eq!(
            Response::draft(Uuid::from_u128(1), n)
                .unwrap_err()
                .to_string(),
            "a new response needs an area code"
        );
    }

    #[test]
    fn answers_keep_an_audit_trail() {
        let mut r = Response::draft(Uuid::from_u128(1), new()).unwrap();
        let a = |s: &str| StoredAnswer::Plain(Answer::Choice(s.into()));
        r.set_answer("q1", a("yes"), t0() + Duration::minutes(1));
        r.set_answer("q1", a("yes"), t0() + Duration::minutes(2));
        r.set_answer("q1", a("no"), t0() + Duration::minutes(3));
        let rec = &r.answers["q1"];
        assert_eq!(rec.value, a("no"));
        assert_eq!(rec.given_at, t0() + Duration::minutes(1));
        assert_eq!(rec.changed_at, t0() + Duration::minutes(3));
        assert_eq!(rec.history, vec![(t0() + Duration::minutes(1), a("yes"))]);
        assert_eq!(r.changed_at, t0() + Duration::minutes(3));
    }

    #[test]
    fn revision_names_the_original() {
        let mut r = Response::draft(Uuid::from_u128(1), new()).unwrap();
        r.set_answer("q1", StoredAnswer::Plain(Answer::Count(3)), t0());
        r.finalize(Status::Complete, t0() + Duration::hours(1));
        let rev = r.revision(Uuid::from_u128(2), t0() + Duration::days(1));
        assert_eq!(rev.replaces, Some(r.id));
        assert_eq!(rev.status, Status::Draft);
        assert_eq!(rev.finalized_at, None);
        assert_eq!(rev.answers, r.answers);
    }

    #[test]
    fn a_summary_reads_from_a_whole_response() {
        let mut r = Response::draft(Uuid::from_u128(1), new()).unwrap();
        r.set_answer("q1", StoredAnswer::Plain(Answer::Count(3)), t0());
        r.finalize(Status::Refused, t0() + Duration::hours(1));
        let json = serde_json::to_string(&r).unwrap();
        let summary: ResponseSummary = serde_json::from_str(&json).unwrap();
        assert_eq!(summary, ResponseSummary::from(&r));
        assert_eq!(summary.status, Status::Refused);
        assert_eq!(summary.finalized_at, Some(t0() + Duration::hours(1)));
    }

    #[test]
    fn filter_matches_each_field() {
        let r = Response::draft(Uuid::from_u128(1), new()).unwrap();
        assert!(ResponseFilter::default().matches(&r));
        let f = |area: Option<&str>, status, period: Option<&str>| ResponseFilter {
            area: area.map(str::to_owned),
            status,
            period: period.map(|p| p.parse().unwrap()),
        };
        assert!(f(Some("e05000650"), Some(Status::Draft), Some("2026-Q4")).matches(&r));
        assert!(!f(Some("E05000651"), None, None).matches(&r));
        assert!(!f(None, Some(Status::Complete), None).matches(&r));
        assert!(!f(None, None, Some("2026-Q3")).matches(&r));
    }
}
