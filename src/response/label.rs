//! Answers as people read them: choices by their labels in a language, not by the values
//! stored for them.

use crate::survey::{Answer, Question, Survey};

/// An answer as its labels in `lang` (falling back to English): choices, ranked and coded
/// issues by label, "other" with its words; yes/no, numbers, dates and text as written.
pub fn answer_label(survey: &Survey, q: &Question, a: &Answer, lang: &str) -> String {
    let label = |v: &String| -> String {
        q.choices()
            .iter()
            .find(|c| &c.value == v)
            .map(|c| c.label.get(lang).to_owned())
            .or_else(|| {
                // Ranked values come from the question ranked from.
                let from = match &q.kind {
                    crate::survey::QuestionKind::Rank { from, .. } => survey.question(from),
                    _ => None,
                };
                from.and_then(|f| f.choices().iter().find(|c| &c.value == v))
                    .map(|c| c.label.get(lang).to_owned())
            })
            .or_else(|| survey.taxonomy.get(v).map(|t| t.label.get(lang).to_owned()))
            .unwrap_or_else(|| v.clone())
    };
    match a {
        Answer::Choice(v) => label(v),
        Answer::YesNo(b) => if *b { "Yes" } else { "No" }.to_owned(),
        Answer::Choices(vs) | Answer::Rank(vs) => {
            vs.iter().map(label).collect::<Vec<_>>().join(", ")
        }
        Answer::Issues(c) => {
            let mut parts: Vec<String> = c
                .issues
                .iter()
                .filter(|v| *v != crate::survey::taxonomy::OTHER)
                .map(label)
                .collect();
            if let Some(o) = &c.other {
                parts.push(format!("other: {o}"));
            }
            parts.join(", ")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::IssueCoding;
    use crate::survey::registry::Registry;

    #[test]
    fn choices_and_issues_read_as_their_labels() {
        let reg = Registry::builtin().unwrap();
        let kin = reg.get("kin", None).unwrap();
        let q = kin.question("respondent_type").unwrap();
        let a = Answer::Choice("resident".into());
        assert_eq!(answer_label(kin, q, &a, "en"), "Someone who lives here (resident)");
        assert_eq!(
            answer_label(kin, q, &a, "pl"),
            "Osoba mieszkająca tutaj (mieszkaniec/mieszkanka)"
        );
        let consent = kin.question("consent").unwrap();
        assert_eq!(answer_label(kin, consent, &Answer::YesNo(false), "en"), "No");
        let issues_q = kin
            .questions
            .iter()
            .find(|q| matches!(q.kind, crate::survey::QuestionKind::Issues { .. }))
            .unwrap();
        let coded = Answer::Issues(IssueCoding {
            issues: vec!["street_lighting".into(), "other".into()],
            other: Some("loose dogs".into()),
        });
        assert_eq!(
            answer_label(kin, issues_q, &coded, "en"),
            "Poor or broken street lighting, other: loose dogs"
        );
    }
}
