//! "You said, We did" (the PACT cycle, step 6): one page per ward, for every address —
//! the issues residents raised most, in plain words, with small counts hidden; what was
//! done, what is in hand and what could not be done and why, told only in the approved
//! public lines; how to take part. Nothing on it can identify anyone: no free text from
//! interviews, no names, no count under the threshold.
//!
//! Pure: the caller passes the report model's area (built with the public rules), the
//! taxonomy for labels, and the register. The words are data (`yousaid.toml`).

use std::collections::BTreeMap;

use super::{Action, ActionStatus};
use crate::report::AreaReport;
use crate::response::Period;
use crate::survey::{LocalText, Taxonomy};

/// How many of the issues residents named most are shown.
pub const TOP_ISSUES: usize = 3;

const WORDS: &str = include_str!("yousaid.toml");

/// Every key the leaflet uses.
const KEYS: &[&str] = &[
    "title",
    "q1",
    "q2",
    "q3",
    "q4",
    "intro",
    "you_said",
    "named_by",
    "named_by_few",
    "nothing_said",
    "we_did",
    "in_hand",
    "not_possible",
    "nothing_yet",
    "take_part",
    "take_part_text",
    "next_meeting",
    "next_meeting_unknown",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeafletError {
    #[error("the leaflet words are broken: {0}")]
    Words(String),
    #[error("--lang {input}: the leaflet is in {known} only")]
    Language { input: String, known: String },
}

/// The leaflet's words, by key and language.
#[derive(Debug, Clone)]
pub struct Words {
    words: BTreeMap<String, BTreeMap<String, String>>,
    languages: Vec<String>,
}

impl Words {
    /// The built-in words; every key must be there in every language any key has.
    pub fn builtin() -> Result<Words, LeafletError> {
        Words::parse(WORDS)
    }

    pub fn parse(text: &str) -> Result<Words, LeafletError> {
        let words: BTreeMap<String, BTreeMap<String, String>> =
            toml::from_str(text).map_err(|e| LeafletError::Words(e.to_string()))?;
        let mut languages: Vec<String> = words.values().flat_map(|m| m.keys().cloned()).collect();
        languages.sort();
        languages.dedup();
        for key in KEYS {
            let Some(by_lang) = words.get(*key) else {
                return Err(LeafletError::Words(format!("key `{key}` is missing")));
            };
            if let Some(lang) = languages.iter().find(|l| !by_lang.contains_key(*l)) {
                return Err(LeafletError::Words(format!(
                    "key `{key}` has no `{lang}` text"
                )));
            }
        }
        if let Some(extra) = words.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(LeafletError::Words(format!("unknown key `{extra}`")));
        }
        Ok(Words { words, languages })
    }

    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    /// Checks that the leaflet has `lang`.
    pub fn check(&self, lang: &str) -> Result<(), LeafletError> {
        if self.languages.iter().any(|l| l == lang) {
            Ok(())
        } else {
            Err(LeafletError::Language {
                input: lang.to_owned(),
                known: self.languages.join(", "),
            })
        }
    }

    fn get(&self, key: &str, lang: &str) -> String {
        self.words
            .get(key)
            .and_then(|m| m.get(lang).or_else(|| m.get("en")))
            .cloned()
            .unwrap_or_else(|| key.to_owned())
    }

    fn fill(&self, key: &str, lang: &str, values: &[(&str, &str)]) -> String {
        let mut s = self.get(key, lang);
        for (name, value) in values {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }
}

/// One ward's leaflet, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaflet {
    pub title: String,
    pub intro: String,
    pub you_said_heading: String,
    /// The top issues: the issue in plain words, and how many named it (or that few did).
    pub you_said: Vec<(String, String)>,
    /// Shown instead of the issues when there are none to show.
    pub nothing_said: Option<String>,
    pub we_did_heading: String,
    pub we_did: Vec<String>,
    pub in_hand_heading: String,
    pub in_hand: Vec<String>,
    pub not_possible_heading: String,
    pub not_possible: Vec<String>,
    /// Said under an empty list.
    pub nothing_yet: String,
    pub take_part_heading: String,
    pub take_part: String,
    pub next_meeting: String,
}

/// The period in plain words: `October to December 2026`.
pub fn period_words(words: &Words, period: Period, lang: &str) -> String {
    words.fill(
        &format!("q{}", period.quarter()),
        lang,
        &[("year", &period.year().to_string())],
    )
}

/// What every page of a run shares.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    pub words: &'a Words,
    pub lang: &'a str,
    pub next_meeting: Option<&'a str>,
}

/// Builds the leaflet for the ward `area` (the report model's, public rules); `holds`
/// says whether an action's area code lies in the ward.
pub fn leaflet(
    options: &Options<'_>,
    area: &AreaReport,
    taxonomy: &Taxonomy,
    actions: &[Action],
    holds: impl Fn(&str) -> bool,
) -> Leaflet {
    let Options {
        words,
        lang,
        next_meeting,
    } = *options;
    let period = area.period;
    let when = period_words(words, period, lang);
    let name = area.name.as_str();
    let label = |issue: &str, english: &str| -> String {
        taxonomy
            .get(issue)
            .map(|i| i.label.get(lang).to_owned())
            .unwrap_or_else(|| LocalText::en(english).get(lang).to_owned())
    };
    let you_said: Vec<(String, String)> = area
        .issues
        .residents
        .rows
        .iter()
        .filter(|r| r.named.suppressed || r.named.count.is_some_and(|c| c > 0))
        .take(TOP_ISSUES)
        .map(|r| {
            let how = match (r.named.suppressed, r.named.count, r.named.base) {
                (false, Some(count), Some(base)) => words.fill(
                    "named_by",
                    lang,
                    &[("count", &count.to_string()), ("base", &base.to_string())],
                ),
                // Hidden by the report's small-numbers rule (a small count, or one that
                // would let a hidden one be worked out).
                _ => words.get("named_by_few", lang),
            };
            (label(&r.issue, &r.label), how)
        })
        .collect();
    let mine: Vec<&Action> = actions
        .iter()
        .filter(|a| a.priority.period == period && holds(&a.priority.area))
        .collect();
    // Only the approved public line ever goes on the leaflet.
    let lines = |keep: &dyn Fn(ActionStatus) -> bool| -> Vec<String> {
        mine.iter()
            .filter(|a| keep(a.status))
            .filter_map(|a| a.public.clone())
            .collect()
    };
    Leaflet {
        title: words.fill("title", lang, &[("area", name)]),
        intro: words.fill("intro", lang, &[("area", name), ("period", &when)]),
        you_said_heading: words.get("you_said", lang),
        nothing_said: you_said.is_empty().then(|| words.get("nothing_said", lang)),
        you_said,
        we_did_heading: words.get("we_did", lang),
        we_did: lines(&|s| s == ActionStatus::Done),
        in_hand_heading: words.get("in_hand", lang),
        in_hand: lines(&|s| s.is_live()),
        not_possible_heading: words.get("not_possible", lang),
        not_possible: lines(&|s| s == ActionStatus::NotPossible),
        nothing_yet: words.get("nothing_yet", lang),
        take_part_heading: words.get("take_part", lang),
        take_part: words.get("take_part_text", lang),
        next_meeting: match next_meeting.map(str::trim).filter(|m| !m.is_empty()) {
            Some(m) => words.fill("next_meeting", lang, &[("when", m)]),
            None => words.get("next_meeting_unknown", lang),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_words_have_every_key_in_english_and_polish() {
        let w = Words::builtin().unwrap();
        assert_eq!(w.languages(), ["en", "pl"]);
        assert!(w.check("pl").is_ok());
        assert_eq!(
            w.check("de").unwrap_err().to_string(),
            "--lang de: the leaflet is in en, pl only"
        );
        let p: Period = "2026-Q4".parse().unwrap();
        assert_eq!(period_words(&w, p, "en"), "October to December 2026");
        assert_eq!(period_words(&w, p, "pl"), "październik–grudzień 2026");
    }

    #[test]
    fn broken_words_say_what_is_wrong() {
        let e = Words::parse("title = { en = \"x\" }").unwrap_err();
        assert!(e.to_string().contains("key `q1` is missing"), "{e}");
        let mut all: String = KEYS
            .iter()
            .map(|k| format!("{k} = {{ en = \"x\", pl = \"y\" }}\n"))
            .collect();
        assert!(Words::parse(&all).is_ok());
        all.push_str("extra = { en = \"x\", pl = \"y\" }\n");
        assert!(
            Words::parse(&all)
                .unwrap_err()
                .to_string()
                .contains("unknown key `extra`")
        );
        let missing_pl = all.replace(
            "intro = { en = \"x\", pl = \"y\" }",
            "intro = { en = \"x\" }",
        );
        assert!(
            Words::parse(&missing_pl)
                .unwrap_err()
                .to_string()
                .contains("key `intro` has no `pl` text")
        );
    }
}
