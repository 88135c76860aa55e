//! Device settings: who is using the laptop, what it is called, who can read sealed
//! answers, and the interview language.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ResponseError;
use crate::seal::SealRecipient;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKey {
    /// The officer's or staff member's id (collar number, staff number).
    Officer,
    /// A name for this device, recorded on every response.
    Device,
    /// The coordinator's age X25519 recipient (`age1…`), to which personal answers are sealed.
    Recipient,
    /// The default interview language (ISO 639-1, e.g. `en`, `ur`, `pl`).
    Language,
    /// The area (PAA or ward code) fieldwork was last done in; the field app reopens on it.
    Area,
}

impl SettingKey {
    pub const ALL: [SettingKey; 5] = [
        SettingKey::Officer,
        SettingKey::Device,
        SettingKey::Recipient,
        SettingKey::Language,
        SettingKey::Area,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SettingKey::Officer => "officer",
            SettingKey::Device => "device",
            SettingKey::Recipient => "recipient",
            SettingKey::Language => "language",
            SettingKey::Area => "area",
        }
    }

    /// Checks a value for this setting and returns it as it will be stored.
    pub fn validate(self, value: &str) -> Result<String, ResponseError> {
        // The message quotes the value: escaped, so a pasted escape sequence or line break
        // shows as text instead of acting on the terminal.
        let bad = |reason: String| ResponseError::BadSetting {
            key: self,
            value: crate::output::escape(value),
            reason,
        };
        let v = value.trim();
        // A pasted secret identity must never be echoed back (terminal scrollback, logs).
        if self == SettingKey::Recipient && v.to_ascii_uppercase().contains(SECRET_KEY_PREFIX) {
            return Err(ResponseError::BadSetting {
                key: self,
                value: format!("{SECRET_KEY_PREFIX}…"),
                reason: "that is a coordinator's secret key, which must stay off field devices; \
                         set the public recipient (`age1…`) that `doorstep keys new` printed"
                    .into(),
            });
        }
        match self {
            SettingKey::Officer | SettingKey::Device => {
                if v.is_empty() {
                    return Err(bad("it must not be empty".into()));
                }
                if v.chars().any(char::is_control) {
                    return Err(bad("control characters are not allowed".into()));
                }
                if v.chars().count() > 64 {
                    return Err(bad("it must be at most 64 characters".into()));
                }
                Ok(v.to_owned())
            }
            SettingKey::Recipient => {
                let r: SealRecipient = v.parse().map_err(|e| match e {
                    crate::seal::SealError::BadRecipient { reason, .. } => bad(format!(
                        "not an age X25519 recipient (expected `age1…`, as printed by `doorstep keys new`): {reason}"
                    )),
                    other => bad(other.to_string()),
                })?;
                Ok(r.to_string())
            }
            SettingKey::Area => {
                let ok = (1..=32).contains(&v.len())
                    && v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if ok {
                    Ok(v.to_owned())
                } else {
                    Err(bad(
                        "expected an area code such as E05000841 or DEMO-PAA-1".into()
                    ))
                }
            }
            SettingKey::Language => {
                let lower = v.to_ascii_lowercase();
                if (2..=3).contains(&lower.len()) && lower.bytes().all(|b| b.is_ascii_lowercase()) {
                    Ok(lower)
                } else {
                    Err(bad(
                        "expected a two- or three-letter ISO 639 code such as en, ur or pl".into(),
                    ))
                }
            }
        }
    }
}

/// How every age secret key begins; only this prefix is ever quoted back.
const SECRET_KEY_PREFIX: &str = "AGE-SECRET-KEY-";

impl fmt::Display for SettingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SettingKey {
    type Err = ResponseError;

    fn from_str(s: &str) -> Result<SettingKey, ResponseError> {
        let wanted = s.trim().to_ascii_lowercase();
        SettingKey::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted)
            .ok_or_else(|| ResponseError::UnknownSetting {
                input: s.to_owned(),
            })
    }
}

/// Every setting, each unset until configured.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Settings {
    pub officer: Option<String>,
    pub device: Option<String>,
    pub recipient: Option<String>,
    pub language: Option<String>,
    #[serde(default)]
    pub area: Option<String>,
}

impl Settings {
    pub fn get(&self, key: SettingKey) -> Option<&str> {
        match key {
            SettingKey::Officer => self.officer.as_deref(),
            SettingKey::Device => self.device.as_deref(),
            SettingKey::Recipient => self.recipient.as_deref(),
            SettingKey::Language => self.language.as_deref(),
            SettingKey::Area => self.area.as_deref(),
        }
    }

    pub fn set(&mut self, key: SettingKey, value: String) {
        let slot = match key {
            SettingKey::Officer => &mut self.officer,
            SettingKey::Device => &mut self.device,
            SettingKey::Recipient => &mut self.recipient,
            SettingKey::Language => &mut self.language,
            SettingKey::Area => &mut self.area,
        };
        *slot = Some(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_each_key() {
        assert_eq!(
            SettingKey::Officer.validate(" PC 1234 ").unwrap(),
            "PC 1234"
        );
        assert_eq!(SettingKey::Language.validate("UR").unwrap(), "ur");
        for (key, value, reason) in [
            (SettingKey::Officer, "  ", "must not be empty"),
            (SettingKey::Device, "lap\ttop", "control characters"),
            (SettingKey::Language, "english", "ISO 639"),
            (SettingKey::Language, "e1", "ISO 639"),
            (
                SettingKey::Recipient,
                "age1nonsense",
                "not an age X25519 recipient",
            ),
            (SettingKey::Recipient, "", "not an age X25519 recipient"),
        ] {
            let err = key.validate(value).unwrap_err().to_string();
            assert!(err.contains(reason), "{key} {value:?}: {err}");
            assert!(err.starts_with(&format!("bad {key} `")), "{err}");
        }
        let long = "x".repeat(65);
        assert!(SettingKey::Device.validate(&long).is_err());
    }

    #[test]
    fn a_secret_key_is_refused_and_never_quoted() {
        let secret = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS";
        for pasted in [
            secret.to_owned(),
            secret.to_lowercase(),
            format!("# key\n{secret}\n"),
        ] {
            let err = SettingKey::Recipient
                .validate(&pasted)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(
                    "bad recipient `AGE-SECRET-KEY-…`: that is a coordinator's secret key"
                ),
                "{err}"
            );
            assert!(!err.to_uppercase().contains("QYQSZQGP"), "{err}");
        }
        // Quoted values are escaped: a line break or escape sequence cannot act on the terminal.
        let err = SettingKey::Officer
            .validate("PC\u{1b}[31m\n1")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "bad officer `PC\\e[31m\\n1`: control characters are not allowed"
        );
    }

    #[test]
    fn parses_keys() {
        assert_eq!(
            "Recipient".parse::<SettingKey>().unwrap(),
            SettingKey::Recipient
        );
        let err = "colour".parse::<SettingKey>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown setting `colour`: expected officer, device, recipient, language or area"
        );
    }
}
