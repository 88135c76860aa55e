//! The questionnaire as plain text: the paper fallback when a laptop dies, and a readable
//! review copy for coordinators. Conditions are written out in words.

use std::fmt::Write;

use super::answer::Grade;
use super::model::{Audience, Choice, DateTimeMode, LocationForm, Question, QuestionKind, Survey};

/// Renders `survey` in `lang` (falling back to English string by string).
/// Every fixed word comes from the survey's words (`words.toml`), so a new language is a
/// data change.
pub fn render(survey: &Survey, lang: &str) -> String {
    let mut out = String::new();
    let word = |key: &str, lang: &str| survey.words.get(key, lang).to_owned();
    let number = |id: &str| {
        survey
            .index_of(id)
            .map(|i| survey.number(i))
            .unwrap_or_else(|| id.to_owned())
    };
    let label = |id: &str| number(id);
    let connective = |w: &str| word(w, lang);
    // Choice values in conditions are shown by their labels, in the printed language.
    let value = |qid: &str, v: &str| -> Option<String> {
        let q = survey.question(qid)?;
        match &q.kind {
            QuestionKind::YesNo => matches!(v, "yes" | "no").then(|| word(v, lang)),
            QuestionKind::Issues { .. } => survey
                .taxonomy
                .get(v)
                .map(|i| i.label.get(lang).to_owned())
                .or_else(|| choice_label(q.choices(), v, lang)),
            _ => choice_label(q.choices(), v, lang),
        }
    };
    let _ = writeln!(out, "{}", survey.title.get(lang));
    let _ = writeln!(
        out,
        "{} v{} ({}) · {}: {} · {}: {}",
        survey.id,
        survey.version,
        survey.kind,
        word("languages", lang),
        survey.languages.join(", "),
        word("fingerprint", lang),
        survey.fingerprint
    );
    let mut section = usize::MAX;
    for (i, q) in survey.questions.iter().enumerate() {
        if q.section != section {
            section = q.section;
            if let Some(s) = survey.sections.get(section) {
                let _ = writeln!(out, "\n== {}. {} ==", section + 1, s.title.get(lang));
                if s.self_completion {
                    let _ = writeln!(out, "   [{}]", word("self_completion", lang));
                }
                if let Some(h) = &s.help {
                    let _ = writeln!(out, "   {}", h.get(lang));
                }
            }
        }
        let mut flags = Vec::new();
        if q.required {
            flags.push(word("required", lang));
        }
        if q.personal {
            flags.push(word("personal", lang));
        }
        if q.audience == Audience::Officer {
            flags.push(word("officer", lang));
        }
        if q.internal {
            flags.push(word("internal", lang));
        }
        if q.ends {
            flags.push(word("ends", lang));
        }
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!("  ({})", flags.join("; "))
        };
        let _ = writeln!(out, "\n{}  {}{flags}", survey.number(i), q.text.get(lang));
        if let Some(c) = &q.show_if {
            let _ = writeln!(
                out,
                "     {}: {}",
                word("ask_if", lang),
                c.describe_in(&label, &value, &connective)
            );
        }
        answer_space(&mut out, survey, q, lang, &number);
        // In a constraint or urgent_if, `.` is this question's answer.
        let value = |qid: &str, v: &str| value(if qid == "." { &q.id } else { qid }, v);
        if let Some(c) = &q.constraint {
            let _ = writeln!(
                out,
                "     {}: {} — \"{}\"",
                word("must", lang),
                c.expr.describe_in(&label, &value, &connective),
                c.message.get(lang)
            );
        }
        if let Some(item) = &q.item {
            let _ = writeln!(out, "     {}", word("finding", lang));
            if let Some(a) = &item.agency {
                let _ = writeln!(out, "       ({} {a})", word("agency", lang));
            }
            if let Some(u) = &item.urgent_if {
                let _ = writeln!(
                    out,
                    "       {}: {}",
                    word("urgent_if", lang),
                    u.describe_in(&label, &value, &connective)
                );
            }
        }
        if let Some(h) = &q.help {
            let _ = writeln!(out, "     {}: {}", word("help", lang), h.get(lang));
        }
    }
    out
}

fn choice_label(choices: &[Choice], value: &str, lang: &str) -> Option<String> {
    choices
        .iter()
        .find(|c| c.value == value)
        .map(|c| c.label.get(lang).to_owned())
}

fn answer_space(
    out: &mut String,
    survey: &Survey,
    q: &Question,
    lang: &str,
    number: &dyn Fn(&str) -> String,
) {
    let pad = "     ";
    let word = |key: &str, lang: &str| survey.words.get(key, lang).to_owned();
    // Exclusive codes say so on paper, where nothing else stops a second tick.
    let tick = |c: &Choice| {
        if q.is_exclusive(&c.value) {
            format!("{} ({})", c.label.get(lang), word("only_answer", lang))
        } else {
            c.label.get(lang).to_owned()
        }
    };
    match &q.kind {
        QuestionKind::Single { choices } | QuestionKind::Scale { choices, .. } => {
            for c in choices {
                let _ = writeln!(out, "{pad}( ) {}", c.label.get(lang));
            }
        }
        QuestionKind::Multiple { choices, .. } => {
            let _ = writeln!(out, "{pad}({})", word("choose_any", lang));
            for c in choices {
                let _ = writeln!(out, "{pad}[ ] {}", tick(c));
            }
        }
        QuestionKind::Rank { from, max } => {
            let _ = writeln!(
                out,
                "{pad}{} {max} {} {}:",
                word("rank", lang),
                word("of_answers", lang),
                number(from)
            );
            for n in 1..=*max {
                let _ = writeln!(out, "{pad}{n}. ______________________");
            }
        }
        QuestionKind::Number {
            integer,
            min,
            max,
            unit,
        } => {
            let mut notes = Vec::new();
            if *integer {
                notes.push(word("whole", lang).to_owned());
            }
            match (min, max) {
                (Some(lo), Some(hi)) => notes.push(format!("{lo}–{hi}")),
                (Some(lo), None) => notes.push(format!("≥ {lo}")),
                (None, Some(hi)) => notes.push(format!("≤ {hi}")),
                (None, None) => {}
            }
            let unit = unit
                .as_ref()
                .map(|u| format!(" {}", u.get(lang)))
                .unwrap_or_default();
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!("  ({})", notes.join(", "))
            };
            let _ = writeln!(out, "{pad}________{unit}{notes}");
        }
        QuestionKind::Count { max } => {
            let max = max.map(|m| format!("  (0–{m})")).unwrap_or_default();
            let _ = writeln!(out, "{pad}________{max}");
        }
        QuestionKind::Text { long, .. } => {
            let lines = if *long { 3 } else { 1 };
            for _ in 0..lines {
                let _ = writeln!(
                    out,
                    "{pad}__________________________________________________"
                );
            }
        }
        QuestionKind::YesNo => {
            let _ = writeln!(
                out,
                "{pad}( ) {}   ( ) {}",
                word("yes", lang),
                word("no", lang)
            );
        }
        QuestionKind::DateTime { mode } => {
            let blank = match mode {
                DateTimeMode::Date => "____-__-__",
                DateTimeMode::Time => "__:__",
                DateTimeMode::DateTime => "____-__-__ __:__",
            };
            let _ = writeln!(out, "{pad}{blank}");
        }
        QuestionKind::Location { forms } => {
            for f in forms {
                let key = match f {
                    LocationForm::Fixed => "fixed",
                    LocationForm::GridRef => "gridref",
                    LocationForm::LatLon => "latlon",
                };
                let _ = writeln!(out, "{pad}{}: ______________________", word(key, lang));
            }
        }
        QuestionKind::Grade => {
            let grades: Vec<String> = Grade::ALL.iter().map(|g| format!("( ) {g}")).collect();
            let _ = writeln!(out, "{pad}{}", grades.join("  "));
        }
        QuestionKind::Note => {}
        QuestionKind::Issues { choices, .. } => {
            let _ = writeln!(out, "{pad}({})", word("choose_any", lang));
            for issue in &survey.taxonomy.issues {
                if issue.id == super::taxonomy::OTHER {
                    continue;
                }
                let _ = writeln!(out, "{pad}[ ] {}", issue.label.get(lang));
            }
            let _ = writeln!(
                out,
                "{pad}[ ] {}: ______________________",
                word("other", lang)
            );
            for c in choices {
                let _ = writeln!(out, "{pad}[ ] {}", tick(c));
            }
        }
    }
}
