//! The life of a response: a draft until the officer finalizes it as complete, refused or
//! abandoned.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ResponseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Still being filled in; resumable after a crash.
    Draft,
    /// Finished interview or audit.
    Complete,
    /// The respondent declined part-way (what was given before is kept).
    Refused,
    /// Stopped and not to be resumed (e.g. the officer was called away).
    Abandoned,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Draft,
        Status::Complete,
        Status::Refused,
        Status::Abandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Complete => "complete",
            Status::Refused => "refused",
            Status::Abandoned => "abandoned",
        }
    }

    /// Whether the response is finished (anything but a draft).
    pub fn is_final(self) -> bool {
        self != Status::Draft
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = ResponseError;

    fn from_str(s: &str) -> Result<Status, ResponseError> {
        let wanted = s.trim().to_ascii_lowercase();
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == wanted)
            .ok_or_else(|| ResponseError::BadStatus {
                input: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_status_and_rejects_others() {
        for st in Status::ALL {
            assert_eq!(st.as_str().parse::<Status>().unwrap(), st);
            assert_eq!(st.as_str().to_uppercase().parse::<Status>().unwrap(), st);
        }
        let err = "finished".parse::<Status>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown status `finished`: expected draft, complete, refused or abandoned"
        );
    }
}
