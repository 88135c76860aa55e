//! EVA checklist rules: which questions form the checklist table, and when an item is
//! urgent. The urgent flag the auditor sees is the one stored with the finding, so every
//! report built on the store sees it too.

use super::model::QuestionKind;
use super::walker::Answers;
use super::{Finding, Question, Survey, SurveyKind};

/// Whether the item's `urgent_if` rule holds for its answer (e.g. any needles found).
pub fn urgent_by_rule(q: &Question, answers: &Answers) -> bool {
    let lookup = |id: &str| answers.get(id);
    q.item
        .as_ref()
        .and_then(|it| it.urgent_if.as_ref())
        .zip(answers.get(&q.id))
        .is_some_and(|(rule, a)| rule.eval(&lookup, Some(a)))
}

/// Whether an item is urgent: flagged by the auditor, or by the survey's `urgent_if`.
pub fn is_urgent(q: &Question, answers: &Answers, finding: Option<&Finding>) -> bool {
    urgent_by_rule(q, answers) || finding.is_some_and(|f| f.urgent)
}

/// The finding to store after the item's answer changed, when its urgency changed with it:
/// the rule sets the flag, and clears only a flag it set itself (an auditor's flag stays).
/// `None` when nothing needs storing.
pub fn settle_urgency(
    q: &Question,
    answers: &Answers,
    finding: Option<&Finding>,
) -> Option<Finding> {
    let old = finding.cloned().unwrap_or_default();
    let by_auditor = old.urgent && !old.urgent_by_rule;
    let rule = urgent_by_rule(q, answers);
    let new = Finding {
        urgent: by_auditor || rule,
        urgent_by_rule: rule && !by_auditor,
        ..old.clone()
    };
    (new != old).then_some(new)
}

/// The auditor's `u` on an item: flags or unflags it. Refused, with what to do instead,
/// when the item has no answer yet (there is nothing to flag) or the survey's rule makes
/// it urgent (it stays urgent while the answer meets the rule).
pub fn toggle_urgent(
    q: &Question,
    answers: &Answers,
    finding: Option<&Finding>,
) -> Result<Finding, String> {
    let answered = answers.get(&q.id).is_some_and(|a| a.is_given());
    if !answered {
        return Err(format!(
            "Record the finding first ({}), then u flags it urgent",
            accepts(q)
        ));
    }
    let old = finding.cloned().unwrap_or_default();
    let flagged_by_auditor = old.urgent && !old.urgent_by_rule;
    if urgent_by_rule(q, answers) && !flagged_by_auditor {
        let rule = q
            .item
            .as_ref()
            .and_then(|i| i.urgent_if.as_ref())
            .map(ToString::to_string)
            .unwrap_or_default();
        return Err(format!(
            "Urgent by the survey's rule ({rule}): it stays urgent while the answer meets it"
        ));
    }
    let urgent = !old.urgent;
    Ok(Finding {
        urgent,
        // An auditor's flag on an item the rule also covers must outlive the rule.
        urgent_by_rule: false,
        ..old
    })
}

/// What answer an item takes, in the checklist's keys.
pub fn accepts(q: &Question) -> String {
    match &q.kind {
        QuestionKind::Grade => "a grade: a–d, then + or − for B+ B− C−".to_owned(),
        QuestionKind::Count { .. } => "a count: digits".to_owned(),
        QuestionKind::YesNo => "yes or no: y or 1, 0".to_owned(),
        QuestionKind::Single { choices } => format!("a choice: 1 to {}", choices.len()),
        QuestionKind::Text { .. } => "text: Enter to type it".to_owned(),
        other => other.name().to_owned(),
    }
}

/// The question naming the transect's street: the text question `street` of an EVA survey
/// (both released versions call it so), else its first text question. Version 2 asks for
/// the transect id first, so "first text question" alone would offer the street there.
pub fn street_question(survey: &Survey) -> Option<&Question> {
    if survey.kind != SurveyKind::Eva {
        return None;
    }
    let text = |q: &&Question| matches!(q.kind, QuestionKind::Text { .. });
    survey
        .questions
        .iter()
        .filter(text)
        .find(|q| q.id == "street")
        .or_else(|| survey.questions.iter().find(text))
}

/// The checklist sections around question `index`: a run of sections holding EVA items.
pub fn block_around(survey: &Survey, index: usize) -> Option<(usize, usize)> {
    if survey.kind != SurveyKind::Eva {
        return None;
    }
    let has_items = |section: usize| {
        survey
            .questions
            .iter()
            .any(|q| q.section == section && q.item.is_some())
    };
    let section = survey.questions.get(index)?.section;
    if !has_items(section) {
        return None;
    }
    let mut first = section;
    while first > 0 && has_items(first - 1) {
        first -= 1;
    }
    let mut last = section;
    while last + 1 < survey.sections.len() && has_items(last + 1) {
        last += 1;
    }
    let start = survey.questions.iter().position(|q| q.section == first)?;
    let end = survey.questions.iter().rposition(|q| q.section == last)? + 1;
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::Answer;
    use crate::survey::registry::Registry;

    fn needles() -> (Survey, Question) {
        let reg = Registry::builtin().unwrap();
        let survey = reg.get("eva", None).unwrap().clone();
        let q = survey.question("needles").unwrap().clone();
        (survey, q)
    }

    fn count(n: u64) -> Answers {
        Answers::from([("needles".to_owned(), Answer::Count(n))])
    }

    #[test]
    fn the_rule_sets_the_stored_flag_and_clears_only_its_own() {
        let (_, q) = needles();
        let set = settle_urgency(&q, &count(3), None).unwrap();
        assert!(set.urgent && set.urgent_by_rule);
        assert_eq!(settle_urgency(&q, &count(4), Some(&set)), None);
        let cleared = settle_urgency(&q, &count(0), Some(&set)).unwrap();
        assert!(!cleared.urgent && !cleared.urgent_by_rule);
        // The auditor's own flag stays when the rule stops holding.
        let flagged = toggle_urgent(&q, &count(0), None).unwrap();
        assert!(flagged.urgent && !flagged.urgent_by_rule);
        assert_eq!(settle_urgency(&q, &count(2), Some(&flagged)), None);
        assert_eq!(settle_urgency(&q, &count(0), Some(&flagged)), None);
    }

    #[test]
    fn u_needs_an_answer_and_cannot_unflag_what_the_rule_flags() {
        let (_, q) = needles();
        let err = toggle_urgent(&q, &Answers::new(), None).unwrap_err();
        assert_eq!(
            err,
            "Record the finding first (a count: digits), then u flags it urgent"
        );
        let set = settle_urgency(&q, &count(3), None).unwrap();
        let err = toggle_urgent(&q, &count(3), Some(&set)).unwrap_err();
        assert!(
            err.starts_with("Urgent by the survey's rule (. > 0)"),
            "{err}"
        );
        assert!(is_urgent(&q, &count(3), None));
        assert!(!is_urgent(&q, &count(0), None));
    }

    #[test]
    fn the_checklist_block_is_the_run_of_item_sections() {
        let (survey, _) = needles();
        let i = survey.index_of("needles").unwrap();
        let (start, end) = block_around(&survey, i).unwrap();
        assert!(start <= i && i < end);
        assert!(
            survey.questions[start..end]
                .iter()
                .any(|q| q.item.is_some())
        );
        assert_eq!(block_around(&survey, 0), None);
        assert_eq!(
            street_question(&survey).map(|q| q.id.as_str()),
            Some("street")
        );
    }
}
