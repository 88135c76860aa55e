//! The questionnaire as plain text: the paper fallback when a laptop dies, and a readable
//! review copy for coordinators. Conditions are written out in words.

use std::fmt::Write;

use super::answer::Grade;
use super::model::{DateTimeMode, LocationForm, Question, QuestionKind, Survey};

/// Fixed words on the printed form, in the languages the built-in surveys offer.
fn word(lang: &str, key: &str) -> &'static str {
    let pl = lang == "pl";
    match key {
        "required" => {
            if pl {
                "wymagane"
            } else {
                "required"
            }
        }
        "personal" => {
            if pl {
                "dane osobowe — szyfrowane dla koordynatora"
            } else {
                "personal — sealed for the coordinator"
            }
        }
        "ask_if" => {
            if pl {
                "Pytaj tylko, jeśli"
            } else {
                "Ask only if"
            }
        }
        "must" => {
            if pl {
                "Odpowiedź musi spełniać"
            } else {
                "The answer must satisfy"
            }
        }
        "help" => {
            if pl {
                "Pomoc"
            } else {
                "Help"
            }
        }
        "yes" => {
            if pl {
                "Tak"
            } else {
                "Yes"
            }
        }
        "no" => {
            if pl {
                "Nie"
            } else {
                "No"
            }
        }
        "other" => {
            if pl {
                "Inne"
            } else {
                "Other"
            }
        }
        "rank" => {
            if pl {
                "Uszereguj do"
            } else {
                "Rank up to"
            }
        }
        "of_answers" => {
            if pl {
                "spośród odpowiedzi na"
            } else {
                "of the answers to"
            }
        }
        "whole" => {
            if pl {
                "liczba całkowita"
            } else {
                "whole number"
            }
        }
        "fixed" => {
            if pl {
                "Stały punkt odniesienia"
            } else {
                "Fixed reference"
            }
        }
        "gridref" => {
            if pl {
                "Odniesienie siatki OS"
            } else {
                "OS grid reference"
            }
        }
        "latlon" => {
            if pl {
                "Szer./dł. geogr."
            } else {
                "Lat/lon"
            }
        }
        "finding" => {
            if pl {
                "Ustalenie: notatka / miejsce / pilne [ ] / odpowiedzialna instytucja"
            } else {
                "Finding: note / location / urgent [ ] / responsible agency"
            }
        }
        "agency" => {
            if pl {
                "zwykle"
            } else {
                "usually"
            }
        }
        "urgent_if" => {
            if pl {
                "Pilne, jeśli"
            } else {
                "Urgent if"
            }
        }
        "choose_any" => {
            if pl {
                "zaznacz wszystkie pasujące"
            } else {
                "tick all that apply"
            }
        }
        "languages" => {
            if pl {
                "Języki"
            } else {
                "Languages"
            }
        }
        "fingerprint" => {
            if pl {
                "Odcisk"
            } else {
                "Fingerprint"
            }
        }
        _ => "",
    }
}

/// Renders `survey` in `lang` (falling back to English string by string).
pub fn render(survey: &Survey, lang: &str) -> String {
    let mut out = String::new();
    let number = |id: &str| {
        survey
            .index_of(id)
            .map(|i| survey.number(i))
            .unwrap_or_else(|| id.to_owned())
    };
    let label = |id: &str| number(id);
    let connective = |w: &str| connective(lang, w);
    // Choice values in conditions are shown by their labels, in the printed language.
    let value = |qid: &str, v: &str| -> Option<String> {
        let q = survey.question(qid)?;
        match &q.kind {
            QuestionKind::YesNo => Some(word(lang, v).to_owned()).filter(|w| !w.is_empty()),
            QuestionKind::Issues { .. } => {
                survey.taxonomy.get(v).map(|i| i.label.get(lang).to_owned())
            }
            _ => q
                .choices()
                .iter()
                .find(|c| c.value == v)
                .map(|c| c.label.get(lang).to_owned()),
        }
    };
    let _ = writeln!(out, "{}", survey.title.get(lang));
    let _ = writeln!(
        out,
        "{} v{} ({}) · {}: {} · {}: {}",
        survey.id,
        survey.version,
        survey.kind,
        word(lang, "languages"),
        survey.languages.join(", "),
        word(lang, "fingerprint"),
        survey.fingerprint
    );
    let mut section = usize::MAX;
    for (i, q) in survey.questions.iter().enumerate() {
        if q.section != section {
            section = q.section;
            if let Some(s) = survey.sections.get(section) {
                let _ = writeln!(out, "\n== {}. {} ==", section + 1, s.title.get(lang));
                if let Some(h) = &s.help {
                    let _ = writeln!(out, "   {}", h.get(lang));
                }
            }
        }
        let mut flags = Vec::new();
        if q.required {
            flags.push(word(lang, "required"));
        }
        if q.personal {
            flags.push(word(lang, "personal"));
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
                word(lang, "ask_if"),
                c.describe_in(&label, &value, &connective)
            );
        }
        answer_space(&mut out, survey, q, lang, &number);
        if let Some(c) = &q.constraint {
            let _ = writeln!(
                out,
                "     {}: {} — \"{}\"",
                word(lang, "must"),
                c.expr.describe_in(&label, &value, &connective),
                c.message.get(lang)
            );
        }
        if let Some(item) = &q.item {
            let _ = writeln!(out, "     {}", word(lang, "finding"));
            if let Some(a) = &item.agency {
                let _ = writeln!(out, "       ({} {a})", word(lang, "agency"));
            }
            if let Some(u) = &item.urgent_if {
                let _ = writeln!(
                    out,
                    "       {}: {}",
                    word(lang, "urgent_if"),
                    u.describe_in(&label, &value, &connective)
                );
            }
        }
        if let Some(h) = &q.help {
            let _ = writeln!(out, "     {}: {}", word(lang, "help"), h.get(lang));
        }
    }
    out
}

fn answer_space(
    out: &mut String,
    survey: &Survey,
    q: &Question,
    lang: &str,
    number: &dyn Fn(&str) -> String,
) {
    let pad = "     ";
    match &q.kind {
        QuestionKind::Single { choices } | QuestionKind::Scale { choices, .. } => {
            for c in choices {
                let _ = writeln!(out, "{pad}( ) {}", c.label.get(lang));
            }
        }
        QuestionKind::Multiple { choices, .. } => {
            let _ = writeln!(out, "{pad}({})", word(lang, "choose_any"));
            for c in choices {
                let _ = writeln!(out, "{pad}[ ] {}", c.label.get(lang));
            }
        }
        QuestionKind::Rank { from, max } => {
            let _ = writeln!(
                out,
                "{pad}{} {max} {} {}:",
                word(lang, "rank"),
                word(lang, "of_answers"),
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
                notes.push(word(lang, "whole").to_owned());
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
                word(lang, "yes"),
                word(lang, "no")
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
                let _ = writeln!(out, "{pad}{}: ______________________", word(lang, key));
            }
        }
        QuestionKind::Grade => {
            let grades: Vec<String> = Grade::ALL.iter().map(|g| format!("( ) {g}")).collect();
            let _ = writeln!(out, "{pad}{}", grades.join("  "));
        }
        QuestionKind::Note => {}
        QuestionKind::Issues { .. } => {
            let _ = writeln!(out, "{pad}({})", word(lang, "choose_any"));
            for issue in &survey.taxonomy.issues {
                if issue.id == super::taxonomy::OTHER {
                    continue;
                }
                let _ = writeln!(out, "{pad}[ ] {}", issue.label.get(lang));
            }
            let _ = writeln!(
                out,
                "{pad}[ ] {}: ______________________",
                word(lang, "other")
            );
        }
    }
}

/// The connecting words of conditions, in the languages the built-in surveys offer.
fn connective(lang: &str, word: &str) -> String {
    if lang != "pl" {
        return word.to_owned();
    }
    match word {
        "is" => "to",
        "is not" => "to nie",
        "is less than" => "jest mniejsze niż",
        "is at most" => "jest co najwyżej",
        "is more than" => "jest większe niż",
        "is at least" => "jest co najmniej",
        "and" => "i",
        "or" => "lub",
        "not" => "nie",
        "was answered" => "ma odpowiedź",
        "is one of" => "to jedno z",
        "includes" => "obejmuje",
        "the answer" => "odpowiedź",
        "the number of answers to" => "liczba odpowiedzi na",
        "the number of answers given" => "liczba podanych odpowiedzi",
        other => other,
    }
    .to_owned()
}
