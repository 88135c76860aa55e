//! How an answer is worded for people: choice values by their labels, Yes/No in the
//! interview language, "other" with the words typed. The review, `responses show` and the
//! report share this, so an answer reads the same everywhere.

use super::answer::Answer;
use super::model::{LocalText, Question, QuestionKind, Survey};
use super::taxonomy::OTHER;
use super::walker::Answers;

/// Yes and No in the languages of the survey's words (`surveys/words.toml`).
pub fn yes_no_text(survey: &Survey, yes: bool) -> LocalText {
    survey.words.text(if yes { "yes" } else { "no" })
}

/// The label of value `v` of question `q`: its choice, else the issue taxonomy, else the
/// value itself (an answer recorded under an older survey version).
pub fn value_label(survey: &Survey, q: &Question, v: &str) -> LocalText {
    q.choices()
        .iter()
        .find(|c| c.value == v)
        .map(|c| c.label.clone())
        .or_else(|| survey.taxonomy.get(v).map(|t| t.label.clone()))
        .or_else(|| match v {
            "yes" => Some(yes_no_text(survey, true)),
            "no" => Some(yes_no_text(survey, false)),
            _ => None,
        })
        .unwrap_or_else(|| LocalText::en(v))
}

/// The label of value `v` as an item of `q`: a rank question's items come from its source
/// question, and its "other" item reads with the words typed there ("Other: loose dogs").
pub fn item_label(survey: &Survey, q: &Question, answers: &Answers, v: &str) -> LocalText {
    let QuestionKind::Rank { from, .. } = &q.kind else {
        return value_label(survey, q, v);
    };
    let Some(source) = survey.question(from) else {
        return value_label(survey, q, v);
    };
    let label = value_label(survey, source, v);
    match answers.get(from) {
        Some(Answer::Issues(c)) if v == OTHER => match &c.other {
            Some(words) => LocalText(
                label
                    .0
                    .into_iter()
                    .map(|(lang, l)| (lang, format!("{l}: {words}")))
                    .collect(),
            ),
            None => label,
        },
        _ => label,
    }
}

/// `answer` to `q` in words, in `lang`; `answers` (the whole response) gives a ranking the
/// words typed for "other" in the question it ranks.
pub fn answer_label(
    survey: &Survey,
    q: &Question,
    answer: &Answer,
    answers: &Answers,
    lang: &str,
) -> String {
    let label = |v: &String| item_label(survey, q, answers, v).get(lang).to_owned();
    match answer {
        Answer::Choice(v) => label(v),
        Answer::YesNo(b) => yes_no_text(survey, *b).get(lang).to_owned(),
        Answer::Choices(vs) | Answer::Rank(vs) => {
            vs.iter().map(label).collect::<Vec<_>>().join(", ")
        }
        Answer::Issues(c) => {
            let mut parts: Vec<String> =
                c.issues.iter().filter(|v| *v != OTHER).map(label).collect();
            if let Some(o) = &c.other {
                parts.push(format!("{}: {o}", label(&OTHER.to_owned())));
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
    fn answers_read_as_labels_in_the_interview_language() {
        let reg = Registry::builtin().unwrap();
        let none = Answers::new();
        let kin = reg.get("kin", None).unwrap();
        let q = |id: &str| kin.question(id).unwrap();
        assert_eq!(
            answer_label(
                kin,
                q("time_in_area"),
                &Answer::Choice("years_5_to_under_10".into()),
                &none,
                "en"
            ),
            "5 years to less than 10 years"
        );
        assert_eq!(
            answer_label(kin, q("consent"), &Answer::YesNo(true), &none, "pl"),
            "Tak"
        );
        let coding = Answer::Issues(IssueCoding {
            issues: vec!["litter".into(), "other".into()],
            other: Some("loose dogs".into()),
        });
        let words = answer_label(kin, q("unsafe_issues"), &coding, &none, "en");
        assert!(
            words.contains("Litter") && words.ends_with(": loose dogs"),
            "{words}"
        );
        let answers = Answers::from([("unsafe_issues".to_owned(), coding)]);
        let ranked = Answer::Rank(vec!["other".into(), "litter".into()]);
        let words = answer_label(kin, q("top_three"), &ranked, &answers, "en");
        assert!(
            words.starts_with("Other") && words.contains(": loose dogs, Litter"),
            "{words}"
        );
        assert_eq!(
            answer_label(
                kin,
                q("time_in_area"),
                &Answer::Choice("gone".into()),
                &none,
                "en"
            ),
            "gone"
        );
    }

    #[test]
    fn choices_and_issues_read_as_their_labels() {
        let reg = Registry::builtin().unwrap();
        let none = Answers::new();
        let kin = reg.get("kin", None).unwrap();
        let q = kin.question("respondent_type").unwrap();
        let a = Answer::Choice("resident".into());
        assert_eq!(
            answer_label(kin, q, &a, &none, "en"),
            "Someone who lives here (resident)"
        );
        assert_eq!(
            answer_label(kin, q, &a, &none, "pl"),
            "Osoba mieszkająca tutaj (mieszkaniec/mieszkanka)"
        );
        let consent = kin.question("consent").unwrap();
        assert_eq!(
            answer_label(kin, consent, &Answer::YesNo(false), &none, "en"),
            "No"
        );
        let issues_q = kin
            .questions
            .iter()
            .find(|q| matches!(q.kind, QuestionKind::Issues { .. }))
            .unwrap();
        let coded = Answer::Issues(IssueCoding {
            issues: vec!["street_lighting".into(), "other".into()],
            other: Some("loose dogs".into()),
        });
        assert_eq!(
            answer_label(kin, issues_q, &coded, &none, "en"),
            "Poor or broken street lighting, Other (describe): loose dogs"
        );
    }
}
