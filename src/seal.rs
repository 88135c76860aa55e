//! Sealing personal answers with age: the device encrypts to the coordinator's X25519
//! recipient and can never read the value back; only the coordinator's identity can.

use std::fmt;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use chrono::{DateTime, Utc};

use crate::exit;
use crate::survey::Answer;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("`{input}` is not an age X25519 recipient (expected `age1…`): {reason}")]
    BadRecipient { input: String, reason: String },
    #[error("line {line} of the identity file: {reason}")]
    BadIdentity { line: usize, reason: String },
    #[error("the identity file holds no age identity (`AGE-SECRET-KEY-1…`)")]
    NoIdentity,
    #[error("sealing an answer failed: {0}")]
    Encrypt(String),
    #[error("a sealed answer cannot be opened: {0}")]
    Decrypt(String),
}

impl SealError {
    pub fn exit_code(&self) -> u8 {
        match self {
            SealError::Encrypt(_) => exit::FAILURE,
            _ => exit::DATA_ERR,
        }
    }
}

/// The coordinator's public key, to which personal answers are sealed.
#[derive(Clone)]
pub struct SealRecipient(age::x25519::Recipient);

impl FromStr for SealRecipient {
    type Err = SealError;

    fn from_str(s: &str) -> Result<SealRecipient, SealError> {
        let shown: String = s.chars().take(80).collect();
        s.trim()
            .parse::<age::x25519::Recipient>()
            .map(SealRecipient)
            .map_err(|reason| SealError::BadRecipient {
                input: shown,
                reason: reason.to_owned(),
            })
    }
}

impl fmt::Display for SealRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for SealRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealRecipient({})", self.0)
    }
}

/// Seals an answer: age-encrypts its JSON to the recipient, ASCII-armored.
pub fn seal(recipient: &SealRecipient, answer: &Answer) -> Result<String, SealError> {
    let json = serde_json::to_vec(answer).map_err(|e| SealError::Encrypt(e.to_string()))?;
    age::encrypt_and_armor(&recipient.0, &json).map_err(|e| SealError::Encrypt(e.to_string()))
}

/// Opens a sealed answer with the coordinator's identity.
pub fn unseal(identity: &CoordinatorIdentity, sealed: &str) -> Result<Answer, SealError> {
    let json = age::decrypt(&identity.0, sealed.as_bytes())
        .map_err(|e| SealError::Decrypt(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| SealError::Decrypt(e.to_string()))
}

/// Encrypts a whole file (a batch) to the coordinator's recipient: binary age format.
pub fn encrypt_file(recipient: &SealRecipient, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    age::encrypt(&recipient.0, plaintext).map_err(|e| SealError::Encrypt(e.to_string()))
}

/// Why an encrypted file could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenFileError {
    /// It was encrypted to someone else's recipient.
    NotForThisIdentity,
    /// It is damaged: changed or cut short after it was encrypted.
    Damaged(String),
}

/// Decrypts a file written by [`encrypt_file`].
pub fn decrypt_file(
    identity: &CoordinatorIdentity,
    ciphertext: &[u8],
) -> Result<Vec<u8>, OpenFileError> {
    decrypt_from(identity, ciphertext, ciphertext.len())
}

/// [`decrypt_file`] reading the ciphertext (`len` bytes) from `ciphertext` as it
/// decrypts, so it need not be held whole.
pub fn decrypt_from(
    identity: &CoordinatorIdentity,
    ciphertext: impl std::io::BufRead,
    len: usize,
) -> Result<Vec<u8>, OpenFileError> {
    use std::io::Read;
    let refused = |e: age::DecryptError| match e {
        age::DecryptError::NoMatchingKeys => OpenFileError::NotForThisIdentity,
        other => OpenFileError::Damaged(other.to_string()),
    };
    // As `age::decrypt`, but with room for the plaintext (a little shorter than the
    // ciphertext) made at once: a batch is tens of megabytes, and room grown by doubling
    // held up to three times it while it grew.
    let decryptor = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(ciphertext))
        .map_err(refused)?;
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity.0 as &dyn age::Identity))
        .map_err(refused)?;
    let mut plaintext = Vec::with_capacity(len);
    reader
        .read_to_end(&mut plaintext)
        .map_err(|e| refused(e.into()))?;
    Ok(plaintext)
}

/// A reader of the plaintext of `ciphertext`, decrypted as it is read (nothing held
/// whole): for a file read once more after it was opened with [`decrypt_file`].
pub fn decrypting_reader<'a>(
    identity: &CoordinatorIdentity,
    ciphertext: impl std::io::BufRead + 'a,
) -> Result<impl std::io::Read + 'a, OpenFileError> {
    let refused = |e: age::DecryptError| match e {
        age::DecryptError::NoMatchingKeys => OpenFileError::NotForThisIdentity,
        other => OpenFileError::Damaged(other.to_string()),
    };
    let decryptor = age::Decryptor::new_buffered(age::armor::ArmoredReader::new(ciphertext))
        .map_err(refused)?;
    decryptor
        .decrypt(std::iter::once(&identity.0 as &dyn age::Identity))
        .map_err(refused)
}

/// A coordinator's secret identity. Lives on the coordinator's machine, never on a
/// field device.
pub struct CoordinatorIdentity(age::x25519::Identity);

impl CoordinatorIdentity {
    pub fn generate() -> CoordinatorIdentity {
        CoordinatorIdentity(age::x25519::Identity::generate())
    }

    pub fn recipient(&self) -> SealRecipient {
        SealRecipient(self.0.to_public())
    }

    /// The identity file text, in the same layout `age-keygen` writes.
    pub fn to_file_text(&self, created: DateTime<Utc>) -> String {
        format!(
            "# doorstep coordinator identity: keep this file off field devices\n\
             # created: {}\n# public key: {}\n{}\n",
            created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            self.0.to_public(),
            self.0.to_string().expose_secret()
        )
    }

    /// Reads an identity file: `#` comments and blank lines are skipped; the first key
    /// line is the identity.
    pub fn from_file_text(text: &str) -> Result<CoordinatorIdentity, SealError> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            return line
                .parse::<age::x25519::Identity>()
                .map(CoordinatorIdentity)
                .map_err(|reason| SealError::BadIdentity {
                    line: i + 1,
                    reason: reason.to_owned(),
                });
        }
        Err(SealError::NoIdentity)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn sealed_answers_open_only_with_the_identity() {
        let id = CoordinatorIdentity::generate();
        let answer = Answer::Text("Bartholomew Quigley".into());
        let sealed = seal(&id.recipient(), &answer).unwrap();
        assert!(sealed.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        assert!(!sealed.contains("Quigley"));
        assert_eq!(unseal(&id, &sealed).unwrap(), answer);
        let other = CoordinatorIdentity::generate();
        assert!(unseal(&other, &sealed).is_err());
        assert!(unseal(&id, "not age at all").is_err());
    }

    #[test]
    fn identity_file_round_trips() {
        let id = CoordinatorIdentity::generate();
        let at = Utc.with_ymd_and_hms(2026, 10, 1, 9, 0, 0).unwrap();
        let text = id.to_file_text(at);
        assert!(text.contains(&format!("# public key: {}", id.recipient())));
        let back = CoordinatorIdentity::from_file_text(&text).unwrap();
        assert_eq!(back.recipient().to_string(), id.recipient().to_string());
        assert!(matches!(
            CoordinatorIdentity::from_file_text("# nothing\n\n"),
            Err(SealError::NoIdentity)
        ));
        let err = CoordinatorIdentity::from_file_text("# c\nAGE-SECRET-KEY-1XYZ\n")
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("line 2 of the identity file"), "{err}");
    }

    /// A file decrypts to what was encrypted, as `age::decrypt` gives it (binary or
    /// armored), and only with its identity; a changed or cut file is damaged.
    #[test]
    fn files_decrypt_as_age_decrypts_them() {
        let id = CoordinatorIdentity::generate();
        // Longer than age's 64 KiB chunks, so the plaintext spans several.
        let plaintext: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let sealed = encrypt_file(&id.recipient(), &plaintext).unwrap();
        let opened = decrypt_file(&id, &sealed).unwrap();
        assert_eq!(opened, plaintext);
        assert_eq!(opened, age::decrypt(&id.0, &sealed).unwrap());
        let armored = age::encrypt_and_armor(&id.recipient().0, &plaintext).unwrap();
        assert_eq!(decrypt_file(&id, armored.as_bytes()).unwrap(), plaintext);

        let other = CoordinatorIdentity::generate();
        assert_eq!(
            decrypt_file(&other, &sealed),
            Err(OpenFileError::NotForThisIdentity)
        );
        let mut changed = sealed.clone();
        let at = changed.len() - 1000;
        changed[at] ^= 1;
        assert!(matches!(
            decrypt_file(&id, &changed),
            Err(OpenFileError::Damaged(_))
        ));
        assert!(matches!(
            decrypt_file(&id, &sealed[..sealed.len() - 10]),
            Err(OpenFileError::Damaged(_))
        ));
        assert!(matches!(
            decrypt_file(&id, b"not age at all"),
            Err(OpenFileError::Damaged(_))
        ));
    }

    #[test]
    fn recipients_parse_and_print() {
        let id = CoordinatorIdentity::generate();
        let text = id.recipient().to_string();
        let r: SealRecipient = format!(" {text} ").parse().unwrap();
        assert_eq!(r.to_string(), text);
        let err = "age1xyz".parse::<SealRecipient>().unwrap_err().to_string();
        assert!(
            err.contains("`age1xyz` is not an age X25519 recipient"),
            "{err}"
        );
    }
}
