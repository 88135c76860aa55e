//! The contact details of respondents who asked to hear back (or to join the KIN roster, or
//! to volunteer): the one place personal answers are unsealed, with the coordinator's
//! identity. What each respondent agreed to is listed beside their details, so they are
//! used only for that.

use super::{latest_complete, survey_of};
use crate::exit;
use crate::response::{Response, StoredAnswer};
use crate::seal::{self, CoordinatorIdentity};
use crate::survey::registry::Registry;
use crate::survey::{Answer, Survey};

/// The yes/no questions by which a respondent asks to be contacted, and what for.
pub const PURPOSES: [(&str, &str); 3] = [
    ("feedback_wanted", "feedback"),
    ("join_kin", "kin"),
    ("volunteer", "volunteer"),
];

#[derive(Debug, thiserror::Error)]
pub enum ContactsError {
    #[error(
        "the sealed answer to {question} in response {id} cannot be opened with this identity (public key {recipient}): it was sealed to another coordinator's key, or is damaged ({reason})"
    )]
    WrongIdentity {
        id: String,
        question: String,
        recipient: String,
        reason: String,
    },
}

impl ContactsError {
    pub fn exit_code(&self) -> u8 {
        exit::DATA_ERR
    }
}

/// One respondent to contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact<'a> {
    pub response: &'a Response,
    /// What they agreed to be contacted for (`feedback`, `kin`, `volunteer`).
    pub purposes: Vec<&'static str>,
    /// The unsealed answer to each personal question, in [`Contacts::questions`] order.
    pub values: Vec<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contacts<'a> {
    /// The personal questions (id and English text), newest survey version's order first.
    pub questions: Vec<(String, String)>,
    pub contacts: Vec<Contact<'a>>,
}

fn said_yes(r: &Response, question: &str) -> bool {
    matches!(
        r.answers.get(question).map(|a| &a.value),
        Some(StoredAnswer::Plain(Answer::YesNo(true)))
    )
}

/// The respondents among `responses` (already filtered by area and period) who asked to be
/// contacted, with their personal answers unsealed. Only complete responses count, each in
/// its latest revision. A response whose survey is not installed here is skipped: which of
/// its answers are personal cannot be known (sealed answers are still opened).
pub fn contacts<'a>(
    responses: &'a [Response],
    registry: &Registry,
    identity: &CoordinatorIdentity,
) -> Result<Contacts<'a>, ContactsError> {
    let chosen: Vec<&Response> = latest_complete(responses)
        .into_iter()
        .filter(|r| PURPOSES.iter().any(|(q, _)| said_yes(r, q)))
        .collect();
    let mut surveys: Vec<&Survey> = chosen
        .iter()
        .filter_map(|r| survey_of(registry, r))
        .collect();
    surveys.sort_by(|a, b| (&a.id, b.version).cmp(&(&b.id, a.version)));
    surveys.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    let mut questions: Vec<(String, String)> = Vec::new();
    for s in &surveys {
        for q in s.questions.iter().filter(|q| q.personal) {
            if !questions.iter().any(|(id, _)| *id == q.id) {
                questions.push((q.id.clone(), q.text.get("en").to_owned()));
            }
        }
    }
    // Sealed answers to questions no installed survey names personal are shown too.
    for r in &chosen {
        for (qid, rec) in &r.answers {
            if rec.value.is_sealed() && !questions.iter().any(|(id, _)| id == qid) {
                questions.push((qid.clone(), qid.clone()));
            }
        }
    }
    let mut out = Contacts {
        questions,
        contacts: Vec::new(),
    };
    for r in chosen {
        let mut values = Vec::with_capacity(out.questions.len());
        for (qid, _) in &out.questions {
            let value = match r.answers.get(qid).map(|a| &a.value) {
                Some(StoredAnswer::Sealed(text)) => {
                    let answer =
                        seal::unseal(identity, text).map_err(|e| ContactsError::WrongIdentity {
                            id: r.id.to_string(),
                            question: qid.clone(),
                            recipient: identity.recipient().to_string(),
                            reason: e.to_string(),
                        })?;
                    answer.is_given().then(|| answer.to_string())
                }
                Some(StoredAnswer::Plain(a)) if a.is_given() => Some(a.to_string()),
                _ => None,
            };
            values.push(value);
        }
        out.contacts.push(Contact {
            response: r,
            purposes: PURPOSES
                .iter()
                .filter(|(q, _)| said_yes(r, q))
                .map(|(_, p)| *p)
                .collect(),
            values,
        });
    }
    Ok(out)
}
