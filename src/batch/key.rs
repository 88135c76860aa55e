//! The device signing key: Ed25519, made once per device, kept in its data directory and
//! never exported. Its public half travels in every batch manifest.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{from_hex, to_hex};

const SECRET_PREFIX: &str = "ed25519-secret:";
const PUBLIC_PREFIX: &str = "ed25519:";

/// Why a device key file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    #[error("line {line}: {reason}")]
    BadLine { line: usize, reason: String },
    #[error("it holds no key line (`{SECRET_PREFIX}…`)")]
    NoKey,
    #[error("the system gave no randomness for a new key: {0}")]
    NoRandomness(String),
}

/// A device's signing key. Its `Debug` never shows the secret.
pub struct DeviceKey(SigningKey);

impl DeviceKey {
    pub fn generate() -> Result<DeviceKey, KeyFileError> {
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret).map_err(|e| KeyFileError::NoRandomness(e.to_string()))?;
        Ok(DeviceKey(SigningKey::from_bytes(&secret)))
    }

    /// A key from fixed bytes, for tests and fixtures.
    pub fn from_secret_bytes(secret: [u8; 32]) -> DeviceKey {
        DeviceKey(SigningKey::from_bytes(&secret))
    }

    pub fn public(&self) -> DevicePublicKey {
        DevicePublicKey(self.0.verifying_key())
    }

    pub(crate) fn sign(&self, bytes: &[u8]) -> [u8; 64] {
        self.0.sign(bytes).to_bytes()
    }

    /// The key file's text.
    pub fn to_file_text(&self) -> String {
        format!(
            "# doorstep device signing key: signs this device's batches.\n\
             # Never copy, print or share it; a new device makes its own.\n\
             # public key: {}\n{SECRET_PREFIX}{}\n",
            self.public(),
            to_hex(self.0.as_bytes())
        )
    }

    /// Reads a key file: `#` comments and blank lines skipped, the first other line is
    /// the key.
    pub fn from_file_text(text: &str) -> Result<DeviceKey, KeyFileError> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: &str| KeyFileError::BadLine {
                line: i + 1,
                reason: reason.to_owned(),
            };
            let hex = line
                .strip_prefix(SECRET_PREFIX)
                .ok_or_else(|| bad("expected `ed25519-secret:` and 64 hex digits"))?;
            let secret = from_hex::<32>(hex).ok_or_else(|| bad("expected 64 hex digits"))?;
            return Ok(DeviceKey::from_secret_bytes(secret));
        }
        Err(KeyFileError::NoKey)
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceKey(public {})", self.public())
    }
}

/// A device's public key, written `ed25519:` and 64 hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct DevicePublicKey(VerifyingKey);

impl DevicePublicKey {
    /// Whether `signature` is this key's over exactly `bytes` (strict verification: no
    /// malleable or weak-key signatures).
    pub fn verifies(&self, bytes: &[u8], signature: &[u8; 64]) -> bool {
        self.0
            .verify_strict(bytes, &Signature::from_bytes(signature))
            .is_ok()
    }
}

impl fmt::Display for DevicePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PUBLIC_PREFIX}{}", to_hex(self.0.as_bytes()))
    }
}

impl fmt::Debug for DevicePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DevicePublicKey({self})")
    }
}

impl FromStr for DevicePublicKey {
    type Err = String;

    fn from_str(s: &str) -> Result<DevicePublicKey, String> {
        let shown: String = s.chars().take(80).collect();
        let hex = s.trim().strip_prefix(PUBLIC_PREFIX).ok_or_else(|| {
            format!("`{shown}` is not a device key (expected `ed25519:` and 64 hex digits)")
        })?;
        let bytes = from_hex::<32>(hex)
            .ok_or_else(|| format!("`{shown}` is not a device key: expected 64 hex digits"))?;
        VerifyingKey::from_bytes(&bytes)
            .map(DevicePublicKey)
            .map_err(|_| format!("`{shown}` is not a valid Ed25519 public key"))
    }
}

impl Serialize for DevicePublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DevicePublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DevicePublicKey, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_round_trip_and_bad_ones_name_their_line() {
        let key = DeviceKey::generate().unwrap();
        let text = key.to_file_text();
        let back = DeviceKey::from_file_text(&text).unwrap();
        assert_eq!(back.public(), key.public());
        assert!(!format!("{key:?}").contains(&to_hex(key.0.as_bytes())));
        let err = DeviceKey::from_file_text("# c\n\ned25519-secret:zz\n").unwrap_err();
        assert_eq!(err.to_string(), "line 3: expected 64 hex digits");
        let err = DeviceKey::from_file_text("# only a comment\n").unwrap_err();
        assert_eq!(err, KeyFileError::NoKey);
        let err = DeviceKey::from_file_text("hello\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("line 1: expected `ed25519-secret:`"),
            "{err}"
        );
    }

    #[test]
    fn public_keys_parse_print_and_verify() {
        let key = DeviceKey::from_secret_bytes([7; 32]);
        let public: DevicePublicKey = key.public().to_string().parse().unwrap();
        assert_eq!(public, key.public());
        let sig = key.sign(b"batch");
        assert!(public.verifies(b"batch", &sig));
        assert!(!public.verifies(b"batcH", &sig));
        for bad in ["", "ed25519:", "ed25519:xyz", "rsa:00"] {
            assert!(bad.parse::<DevicePublicKey>().is_err(), "{bad}");
        }
    }
}
