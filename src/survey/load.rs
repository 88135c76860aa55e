//! Loading definition files: TOML → checked [`Survey`] model, with every problem reported
//! as a [`Diagnostic`] at its line and column. One run reports all problems it can find.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::answer::Grade;
use super::diagnostic::{Diagnostic, Sink, SourceFile};
use super::expr::Expr;
use super::model::{
    Audience, BASE_LANGUAGE, Choice, Constraint, DateTimeMode, EvaItem, LocalText, LocationForm,
    Question, QuestionKind, Section, Survey, SurveyKind, WORD_KEYS, Words,
};
use super::taxonomy::{IssueDef, NI17_STRANDS, OTHER, Taxonomy};

/// What a file in a survey folder holds, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    Taxonomy,
    Scales,
    Words,
    Survey,
}

impl FileRole {
    pub fn of(name: &str) -> FileRole {
        let base = name.rsplit(['/', '\\', ':']).next().unwrap_or(name);
        match base {
            "issues.toml" => FileRole::Taxonomy,
            "scales.toml" => FileRole::Scales,
            "words.toml" => FileRole::Words,
            _ => FileRole::Survey,
        }
    }
}

/// The outcome of loading a set of files.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Surveys that loaded without errors, with the index of their file in the input.
    pub surveys: Vec<(Survey, usize)>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

/// The most languages one survey may offer.
pub const MAX_LANGUAGES: usize = 32;

/// Loads every file in `files`. Shared lists (`issues.toml`, `scales.toml`) present in
/// `files` are used; otherwise the ones in `fallback` are.
pub fn load_set(files: &[SourceFile], fallback: &[SourceFile]) -> Loaded {
    let mut loaded = Loaded::default();
    let role_file = |role| {
        files
            .iter()
            .find(|f| FileRole::of(&f.name) == role)
            .or_else(|| fallback.iter().find(|f| FileRole::of(&f.name) == role))
    };

    // Pass 1: parse survey files, to learn which languages the shared lists must offer.
    let mut raws: Vec<(usize, RawSurvey)> = Vec::new();
    for (i, file) in files.iter().enumerate() {
        if FileRole::of(&file.name) != FileRole::Survey {
            continue;
        }
        let mut sink = file.sink();
        if let Some(raw) = parse_toml::<RawSurvey>(&mut sink) {
            let count = raw.languages.get_ref().len();
            // Every text is checked against every language: bound the product.
            if count > MAX_LANGUAGES {
                sink.error(
                    raw.languages.span().start,
                    format!("a survey may offer at most {MAX_LANGUAGES} languages, not {count}"),
                );
            } else {
                raws.push((i, raw));
            }
        }
        loaded.diagnostics.extend(sink.out);
    }
    let languages: BTreeSet<String> = raws
        .iter()
        .flat_map(|(_, r)| r.languages.get_ref().iter().map(|l| l.get_ref().clone()))
        .collect();

    let scales = match role_file(FileRole::Scales) {
        Some(f) => {
            let mut sink = f.sink();
            let scales = load_scales(&mut sink, &languages);
            loaded.diagnostics.extend(sink.out);
            scales
        }
        None => BTreeMap::new(),
    };
    let taxonomy_file = role_file(FileRole::Taxonomy);
    let (taxonomy, eva_refs) = match taxonomy_file {
        Some(f) => {
            let mut sink = f.sink();
            let t = load_taxonomy(&mut sink, &languages);
            loaded.diagnostics.extend(sink.out);
            t
        }
        None => (Editions::default(), Vec::new()),
    };
    let words = match role_file(FileRole::Words) {
        Some(f) => {
            let mut sink = f.sink();
            let w = load_words(&mut sink, &languages);
            loaded.diagnostics.extend(sink.out);
            w
        }
        None => Words::default(),
    };

    let mut seen: HashMap<(String, u32), String> = HashMap::new();
    for (i, raw) in raws {
        let file = &files[i];
        let mut sink = file.sink();
        let key = (
            raw.id.get_ref().clone(),
            raw.version.get_ref().max(&0).to_owned() as u32,
        );
        if let Some(other) = seen.get(&key) {
            sink.error(
                raw.id.span().start,
                format!(
                    "survey `{}` version {} is also defined in {other}",
                    key.0, key.1
                ),
            );
        }
        let survey = Compiler {
            sink: &mut sink,
            scales: &scales,
            taxonomy: &taxonomy,
            taxonomy_present: taxonomy_file.is_some(),
            words: &words,
            edition: Taxonomy::default(),
        }
        .survey(&raw);
        let ok = !sink.has_errors();
        loaded.diagnostics.extend(sink.out);
        if let (true, Some(survey)) = (ok, survey) {
            seen.insert(key, file.name.clone());
            loaded.surveys.push((survey, i));
        }
    }

    // Taxonomy entries name EVA items: check them against the EVA surveys in the set.
    let eva_questions: BTreeSet<&str> = loaded
        .surveys
        .iter()
        .filter(|(s, _)| s.kind == SurveyKind::Eva)
        .flat_map(|(s, _)| s.questions.iter().map(|q| q.id.as_str()))
        .collect();
    // Only when the taxonomy is one of the files being checked: a custom EVA survey checked
    // against the built-in taxonomy is not expected to carry every built-in item.
    let taxonomy_in_set = files
        .iter()
        .any(|f| FileRole::of(&f.name) == FileRole::Taxonomy);
    if !eva_questions.is_empty()
        && taxonomy_in_set
        && let Some(f) = taxonomy_file
    {
        let mut sink = f.sink();
        for (item, offset) in &eva_refs {
            if !eva_questions.contains(item.as_str()) {
                sink.error(
                    *offset,
                    format!("EVA item `{item}` is not a question in any EVA survey"),
                );
            }
        }
        loaded.diagnostics.extend(sink.out);
    }
    loaded
}

/// Loads a taxonomy file on its own (for tools that map issues without a survey): its
/// latest edition.
pub fn load_taxonomy_file(file: &SourceFile) -> (Taxonomy, Vec<Diagnostic>) {
    let mut sink = file.sink();
    let (editions, _) = load_taxonomy(&mut sink, &BTreeSet::new());
    (editions.latest(), sink.out)
}

/// The fingerprint of a survey version: SHA-256 of its canonical (compiled, JSON) form.
/// Formatting, comments and key order in the file do not change it; any change to what an
/// interviewer sees or to the logic does.
pub fn fingerprint(survey: &Survey) -> String {
    // Serialising plain data with BTreeMaps cannot fail; an empty hash would still be stable.
    let canonical = serde_json::to_vec(survey).unwrap_or_default();
    let digest = Sha256::digest(&canonical);
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    format!("sha256:{hex}")
}

fn parse_toml<T: de::DeserializeOwned>(sink: &mut Sink<'_>) -> Option<T> {
    match toml::from_str::<T>(&sink.file.text) {
        Ok(v) => Some(v),
        Err(e) => {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            sink.error(offset, e.message().trim().to_owned());
            None
        }
    }
}

// ---- raw file shapes (serde) ----

/// A string in one or more languages: `"text"` or `{ en = "…", pl = "…" }`.
#[derive(Debug, Clone, Default)]
struct RawText(BTreeMap<String, String>);

impl<'de> Deserialize<'de> for RawText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a table of language = \"text\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawText, E> {
                Ok(RawText(BTreeMap::from([(
                    BASE_LANGUAGE.to_owned(),
                    v.to_owned(),
                )])))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawText, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.insert(k, v);
                }
                Ok(RawText(out))
            }
        }
        d.deserialize_any(V)
    }
}

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSurvey {
    id: S<String>,
    version: S<i64>,
    kind: S<String>,
    title: S<RawText>,
    languages: S<Vec<S<String>>>,
    taxonomy: Option<S<i64>>,
    #[serde(default)]
    section: Vec<S<RawSection>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: S<String>,
    title: S<RawText>,
    help: Option<S<RawText>>,
    #[serde(default)]
    self_completion: bool,
    #[serde(default)]
    question: Vec<S<RawQuestion>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: S<String>,
    kind: S<String>,
    text: S<RawText>,
    help: Option<S<RawText>>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    personal: bool,
    audience: Option<S<String>>,
    internal: Option<S<bool>>,
    ends: Option<S<bool>>,
    show_if: Option<S<String>>,
    constraint: Option<S<String>>,
    constraint_message: Option<S<RawText>>,
    indicator: Option<S<String>>,
    choices: Option<S<Vec<S<RawChoice>>>>,
    scale: Option<S<String>>,
    from: Option<S<String>>,
    min: Option<S<f64>>,
    max: Option<S<f64>>,
    integer: Option<S<bool>>,
    unit: Option<S<RawText>>,
    long: Option<S<bool>>,
    max_len: Option<S<i64>>,
    forms: Option<S<Vec<S<String>>>>,
    item: Option<S<RawItem>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    value: S<String>,
    label: S<RawText>,
    #[serde(default)]
    non_substantive: bool,
    exclusive: Option<S<bool>>,
    score: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    urgent_if: Option<S<String>>,
    agency: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaxonomy {
    #[serde(default)]
    issue: Vec<S<RawIssue>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssue {
    id: S<String>,
    label: S<RawText>,
    #[serde(default)]
    police_categories: Vec<S<String>>,
    ni17: Option<S<String>>,
    #[serde(default)]
    eva_items: Vec<S<String>>,
    since: Option<S<i64>>,
    until: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScales {
    #[serde(default)]
    scale: BTreeMap<String, S<RawScale>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScale {
    title: S<RawText>,
    choices: S<Vec<S<RawChoice>>>,
}

// ---- shared lists ----

/// A named scale as loaded.
#[derive(Debug, Clone)]
pub(crate) struct Scale {
    choices: Vec<Choice>,
}

fn load_scales(sink: &mut Sink<'_>, languages: &BTreeSet<String>) -> BTreeMap<String, Scale> {
    let Some(raw) = parse_toml::<RawScales>(sink) else {
        return BTreeMap::new();
    };
    let langs: Vec<String> = languages.iter().cloned().collect();
    let mut out = BTreeMap::new();
    for (name, scale) in &raw.scale {
        let at = scale.span().start;
        check_id(sink, name, at, "scale name");
        let scale = scale.get_ref();
        shared_text(sink, &scale.title, &langs, &format!("scale `{name}` title"));
        let choices = choices(
            sink,
            &scale.choices,
            &langs,
            &format!("scale `{name}`"),
            true,
        );
        no_exclusive(
            sink,
            &scale.choices,
            &format!("scale `{name}`"),
            "a scale: one answer is chosen",
        );
        out.insert(name.clone(), Scale { choices });
    }
    out
}

/// Every issue of the taxonomy file with the editions it belongs to. An edition is a
/// released state of the list: a survey names the edition it was written for, so adding or
/// correcting an issue never changes a released survey (nor its fingerprint).
#[derive(Debug, Clone, Default)]
pub(crate) struct Editions {
    issues: Vec<(IssueDef, u32, Option<u32>)>,
}

impl Editions {
    /// The newest edition any issue belongs to (1 when the file names none).
    fn newest(&self) -> u32 {
        self.issues
            .iter()
            .map(|(_, since, until)| (*since).max(until.unwrap_or(0)))
            .max()
            .unwrap_or(1)
            .max(1)
    }

    /// The issues of edition `n`, in file order.
    fn edition(&self, n: u32) -> Taxonomy {
        Taxonomy {
            issues: self
                .issues
                .iter()
                .filter(|(_, since, until)| *since <= n && until.is_none_or(|u| n <= u))
                .map(|(i, _, _)| i.clone())
                .collect(),
        }
    }

    pub(crate) fn latest(&self) -> Taxonomy {
        self.edition(self.newest())
    }
}

fn load_taxonomy(
    sink: &mut Sink<'_>,
    languages: &BTreeSet<String>,
) -> (Editions, Vec<(String, usize)>) {
    let Some(raw) = parse_toml::<RawTaxonomy>(sink) else {
        return (Editions::default(), Vec::new());
    };
    let langs: Vec<String> = languages.iter().cloned().collect();
    let mut editions = Editions::default();
    // The editions each id is defined for, so a repeated id is found without scanning
    // every issue (a huge taxonomy stays linear).
    let mut spans_by_id: HashMap<String, Vec<(u32, Option<u32>)>> = HashMap::new();
    let mut eva_refs = Vec::new();
    for issue in &raw.issue {
        let i = issue.get_ref();
        let id = i.id.get_ref();
        check_id(sink, id, i.id.span().start, "issue id");
        let edition = |sink: &mut Sink<'_>, v: &Option<S<i64>>, key: &str| -> Option<u32> {
            let v = v.as_ref()?;
            match u32::try_from(*v.get_ref()) {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    sink.error(
                        v.span().start,
                        format!("issue `{id}`: `{key}` must be an edition number of at least 1"),
                    );
                    None
                }
            }
        };
        let since = edition(sink, &i.since, "since").unwrap_or(1);
        let until = edition(sink, &i.until, "until");
        if let (Some(u), Some(s)) = (until, &i.since)
            && u < since
        {
            sink.error(
                s.span().start,
                format!("issue `{id}`: `since` ({since}) is after `until` ({u})"),
            );
        }
        // The same id may appear again only for editions the earlier entry does not cover
        // (a corrected mapping is a new entry from the next edition on).
        let spans = spans_by_id.entry(id.clone()).or_default();
        let overlaps = spans
            .iter()
            .any(|(s, u)| *s <= until.unwrap_or(u32::MAX) && since <= u.unwrap_or(u32::MAX));
        spans.push((since, until));
        if overlaps {
            sink.error(
                i.id.span().start,
                format!("issue `{id}` is defined twice for the same edition (give the older entry `until` and this one `since`)"),
            );
        }
        let label = shared_text(sink, &i.label, &langs, &format!("issue `{id}` label"));
        for cat in &i.police_categories {
            if !crate::police::is_slug(cat.get_ref()) {
                sink.error(
                    cat.span().start,
                    format!("`{}` is not a police.uk category slug (e.g. anti-social-behaviour, burglary, vehicle-crime)", cat.get_ref()),
                );
            }
        }
        if let Some(s) = &i.ni17
            && !NI17_STRANDS.contains(&s.get_ref().as_str())
        {
            sink.error(
                s.span().start,
                format!(
                    "`{}` is not an NI 17 strand ({})",
                    s.get_ref(),
                    NI17_STRANDS.join(", ")
                ),
            );
        }
        for item in &i.eva_items {
            eva_refs.push((item.get_ref().clone(), item.span().start));
        }
        editions.issues.push((
            IssueDef {
                id: id.clone(),
                label,
                police_categories: i
                    .police_categories
                    .iter()
                    .map(|c| c.get_ref().clone())
                    .collect(),
                ni17: i.ni17.as_ref().map(|s| s.get_ref().clone()),
                eva_items: i.eva_items.iter().map(|s| s.get_ref().clone()).collect(),
            },
            since,
            until,
        ));
    }
    for n in 1..=editions.newest() {
        if !editions.edition(n).issues.iter().any(|i| i.id == OTHER) {
            sink.error(
                0,
                format!("the taxonomy needs an issue with id `{OTHER}` for things it does not list (edition {n} has none)"),
            );
        }
    }
    (editions, eva_refs)
}

/// `words.toml`: `key = { en = "…", pl = "…" }` for every key in [`WORD_KEYS`].
fn load_words(sink: &mut Sink<'_>, languages: &BTreeSet<String>) -> Words {
    let Some(raw) = parse_toml::<BTreeMap<String, S<RawText>>>(sink) else {
        return Words::default();
    };
    let langs: Vec<String> = languages.iter().cloned().collect();
    let mut words = BTreeMap::new();
    for (key, text) in &raw {
        if !WORD_KEYS.contains(&key.as_str()) {
            sink.error(
                text.span().start,
                format!(
                    "unknown word `{key}` (the words are: {})",
                    WORD_KEYS.join(", ")
                ),
            );
            continue;
        }
        words.insert(
            key.clone(),
            shared_text(sink, text, &langs, &format!("word `{key}`")),
        );
    }
    for key in WORD_KEYS {
        if !raw.contains_key(*key) {
            sink.error(0, format!("the word `{key}` is missing"));
        }
    }
    Words(words)
}

// ---- helpers ----

fn check_id(sink: &mut Sink<'_>, id: &str, at: usize, what: &str) {
    let ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !ok {
        sink.error(
            at,
            format!(
                "{what} `{id}` must start with a lower-case letter and use only a-z, 0-9, _ and -"
            ),
        );
    }
}

/// Checks a translated string: English is required; each survey language should be there.
fn local_text(sink: &mut Sink<'_>, raw: &S<RawText>, langs: &[String], what: &str) -> LocalText {
    translated(sink, raw, langs, what, false)
}

/// As [`local_text`], for shared lists: they may offer more languages than a survey uses.
fn shared_text(sink: &mut Sink<'_>, raw: &S<RawText>, langs: &[String], what: &str) -> LocalText {
    translated(sink, raw, langs, what, true)
}

fn translated(
    sink: &mut Sink<'_>,
    raw: &S<RawText>,
    langs: &[String],
    what: &str,
    extra_ok: bool,
) -> LocalText {
    let at = raw.span().start;
    let map = &raw.get_ref().0;
    if !map.contains_key(BASE_LANGUAGE) {
        sink.error(
            at,
            format!("{what} has no English (`{BASE_LANGUAGE}`) text"),
        );
    }
    for (lang, text) in map {
        if text.trim().is_empty() {
            sink.error(at, format!("{what} is empty in `{lang}`"));
        }
        if !extra_ok && !langs.iter().any(|l| l == lang) {
            sink.warn(
                at,
                format!("{what} has `{lang}` text but the survey does not offer `{lang}`"),
            );
        }
    }
    for lang in langs {
        if lang != BASE_LANGUAGE && !map.contains_key(lang) {
            sink.warn(
                at,
                format!("{what} has no `{lang}` translation; English will be shown"),
            );
        }
    }
    LocalText(map.clone())
}

fn choices(
    sink: &mut Sink<'_>,
    raw: &S<Vec<S<RawChoice>>>,
    langs: &[String],
    what: &str,
    shared: bool,
) -> Vec<Choice> {
    if raw.get_ref().is_empty() {
        sink.error(raw.span().start, format!("{what} has no choices"));
    }
    let mut out: Vec<Choice> = Vec::new();
    // A set, not a scan of `out`: a generated list of many thousand choices stays linear.
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for c in raw.get_ref() {
        let c = c.get_ref();
        let value = c.value.get_ref();
        check_id(sink, value, c.value.span().start, "choice value");
        if !seen.insert(value.as_str()) {
            sink.error(
                c.value.span().start,
                format!("{what}: choice `{value}` appears twice"),
            );
        }
        let label = translated(
            sink,
            &c.label,
            langs,
            &format!("{what}: choice `{value}`"),
            shared,
        );
        out.push(Choice {
            value: value.clone(),
            label,
            non_substantive: c.non_substantive,
            exclusive: c.exclusive.as_ref().is_some_and(|e| *e.get_ref()),
            score: c.score,
        });
    }
    out
}

/// Where the characters of an expression written as a TOML string at `span` are in the file.
/// Exact for plain one-line strings; otherwise every character maps to the string's start.
/// Built once per expression, so placing each of many problems costs nothing more.
struct ExprPositions {
    start: usize,
    /// Byte offset in the file of each character, or empty when only `start` is known.
    chars: Vec<usize>,
}

impl ExprPositions {
    fn new(span: &Range<usize>, value: &str) -> ExprPositions {
        let raw_len = span.end.saturating_sub(span.start);
        let quote = if raw_len == value.len() + 2 {
            1
        } else if raw_len == value.len() + 6 {
            3
        } else {
            return ExprPositions {
                start: span.start,
                chars: Vec::new(),
            };
        };
        let base = span.start + quote;
        let mut chars: Vec<usize> = value.char_indices().map(|(b, _)| base + b).collect();
        // One past the end, for "expected … at the end".
        chars.push(base + value.len());
        ExprPositions {
            start: span.start,
            chars,
        }
    }

    fn at(&self, char_offset: usize) -> usize {
        match self.chars.last() {
            None => self.start,
            Some(&end) => self.chars.get(char_offset).copied().unwrap_or(end),
        }
    }
}

/// Problems reported one by one per expression; past this, one line counts the rest (a
/// generated condition with thousands of bad references must not drown the report).
const PROBLEMS_PER_EXPR: usize = 10;

/// The questions compiled so far, with an index by id: looking one up must not scan them all,
/// or a file of many thousand questions with conditions takes quadratic time.
struct Earlier<'a> {
    questions: &'a [Question],
    index: &'a HashMap<String, usize>,
}

impl Earlier<'_> {
    fn get(&self, id: &str) -> Option<&Question> {
        self.index.get(id).and_then(|&i| self.questions.get(i))
    }
}

struct Compiler<'a, 'f> {
    sink: &'a mut Sink<'f>,
    scales: &'a BTreeMap<String, Scale>,
    taxonomy: &'a Editions,
    taxonomy_present: bool,
    words: &'a Words,
    /// The taxonomy edition of the survey being compiled.
    edition: Taxonomy,
}

/// Where an expression appears, which decides what it may refer to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExprUse {
    ShowIf,
    Constraint,
    UrgentIf,
}

impl ExprUse {
    fn key(self) -> &'static str {
        match self {
            ExprUse::ShowIf => "show_if",
            ExprUse::Constraint => "constraint",
            ExprUse::UrgentIf => "urgent_if",
        }
    }
}

impl Compiler<'_, '_> {
    fn survey(&mut self, raw: &RawSurvey) -> Option<Survey> {
        let id = raw.id.get_ref().clone();
        check_id(self.sink, &id, raw.id.span().start, "survey id");
        let version = *raw.version.get_ref();
        if !(1..=i64::from(u32::MAX)).contains(&version) {
            self.sink.error(
                raw.version.span().start,
                format!("version must be a whole number of at least 1, not {version}"),
            );
        }
        let kind = match raw.kind.get_ref().as_str() {
            "kin" => Some(SurveyKind::Kin),
            "eva" => Some(SurveyKind::Eva),
            other => {
                self.sink.error(
                    raw.kind.span().start,
                    format!("unknown survey kind `{other}` (expected kin or eva)"),
                );
                None
            }
        };
        let languages: Vec<String> = raw
            .languages
            .get_ref()
            .iter()
            .map(|l| l.get_ref().clone())
            .collect();
        if languages.first().map(String::as_str) != Some(BASE_LANGUAGE) {
            self.sink.error(
                raw.languages.span().start,
                format!("languages must list `{BASE_LANGUAGE}` first"),
            );
        }
        for (i, l) in raw.languages.get_ref().iter().enumerate() {
            let code = l.get_ref();
            if !(2..=3).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_lowercase()) {
                self.sink.error(
                    l.span().start,
                    format!("`{code}` is not a language code like en, pl or ur"),
                );
            }
            if languages[..i].contains(code) {
                self.sink
                    .error(l.span().start, format!("language `{code}` is listed twice"));
            }
        }
        let title = local_text(self.sink, &raw.title, &languages, "survey title");
        let edition = match &raw.taxonomy {
            None => 1,
            Some(v) => {
                let newest = self.taxonomy.newest();
                match u32::try_from(*v.get_ref()) {
                    Ok(n) if (1..=newest).contains(&n) => n,
                    _ => {
                        self.sink.error(
                            v.span().start,
                            format!(
                                "taxonomy must name an edition of issues.toml from 1 to {newest}, not {}",
                                v.get_ref()
                            ),
                        );
                        1
                    }
                }
            }
        };
        self.edition = self.taxonomy.edition(edition);

        if raw.section.is_empty() {
            self.sink
                .error(0, "the survey has no sections ([[section]])");
        }
        // Every question id with its position, so a reference to a later question can say so.
        let mut positions: HashMap<&str, (usize, usize)> = HashMap::new();
        let mut n = 0;
        for s in &raw.section {
            for q in &s.get_ref().question {
                let qid = q.get_ref().id.get_ref();
                if let Some(&(_, offset)) = positions.get(qid.as_str()) {
                    let (line, _) = self.sink.file.line_col(offset);
                    self.sink.error(
                        q.get_ref().id.span().start,
                        format!("question id `{qid}` is already used on line {line}"),
                    );
                } else {
                    positions.insert(qid, (n, q.get_ref().id.span().start));
                }
                n += 1;
            }
        }

        let mut sections = Vec::new();
        let mut questions: Vec<Question> = Vec::new();
        let mut earlier_index: HashMap<String, usize> = HashMap::new();
        let mut section_ids = BTreeSet::new();
        for (si, s) in raw.section.iter().enumerate() {
            let s = s.get_ref();
            let sid = s.id.get_ref();
            check_id(self.sink, sid, s.id.span().start, "section id");
            if !section_ids.insert(sid.clone()) {
                self.sink.error(
                    s.id.span().start,
                    format!("section id `{sid}` is used twice"),
                );
            }
            if s.question.is_empty() {
                self.sink.warn(
                    s.id.span().start,
                    format!("section `{sid}` has no questions"),
                );
            }
            sections.push(Section {
                id: sid.clone(),
                title: local_text(
                    self.sink,
                    &s.title,
                    &languages,
                    &format!("section `{sid}` title"),
                ),
                help: s.help.as_ref().map(|h| {
                    local_text(self.sink, h, &languages, &format!("section `{sid}` help"))
                }),
                self_completion: s.self_completion,
            });
            for q in &s.question {
                let earlier = Earlier {
                    questions: &questions,
                    index: &earlier_index,
                };
                if let Some(q) =
                    self.question(q.get_ref(), si, &languages, kind, &earlier, &positions)
                {
                    earlier_index.entry(q.id.clone()).or_insert(questions.len());
                    questions.push(q);
                }
            }
        }
        let mut survey = Survey {
            id,
            version: version.clamp(0, i64::from(u32::MAX)) as u32,
            kind: kind?,
            title,
            languages,
            sections,
            questions,
            taxonomy: std::mem::take(&mut self.edition),
            words: self.words.clone(),
            fingerprint: String::new(),
        };
        survey.fingerprint = fingerprint(&survey);
        Some(survey)
    }

    fn question(
        &mut self,
        q: &RawQuestion,
        section: usize,
        langs: &[String],
        survey_kind: Option<SurveyKind>,
        earlier: &Earlier<'_>,
        positions: &HashMap<&str, (usize, usize)>,
    ) -> Option<Question> {
        let id = q.id.get_ref().clone();
        check_id(self.sink, &id, q.id.span().start, "question id");
        let what = format!("question `{id}`");
        let text = local_text(self.sink, &q.text, langs, &format!("{what} text"));
        let help = q
            .help
            .as_ref()
            .map(|h| local_text(self.sink, h, langs, &format!("{what} help")));
        let kind = self.kind(q, &what, langs, earlier);

        let show_if = q
            .show_if
            .as_ref()
            .and_then(|e| self.expr(e, ExprUse::ShowIf, &id, earlier, positions, None));
        let constraint = match (&q.constraint, &q.constraint_message) {
            (Some(c), Some(m)) => {
                let message =
                    local_text(self.sink, m, langs, &format!("{what} constraint_message"));
                let this = kind.as_ref().map(|k| (id.as_str(), k));
                self.expr(c, ExprUse::Constraint, &id, earlier, positions, this)
                    .map(|expr| Constraint { expr, message })
            }
            (Some(c), None) => {
                self.sink.error(
                    c.span().start,
                    format!(
                        "{what} has a constraint but no constraint_message to show when it fails"
                    ),
                );
                None
            }
            (None, Some(m)) => {
                self.sink.error(
                    m.span().start,
                    format!("{what} has a constraint_message but no constraint"),
                );
                None
            }
            (None, None) => None,
        };
        let item = match &q.item {
            Some(item) if survey_kind == Some(SurveyKind::Kin) => {
                self.sink.error(
                    item.span().start,
                    format!("{what}: `item` (EVA finding settings) only applies to EVA surveys"),
                );
                None
            }
            Some(item) => {
                let this = kind.as_ref().map(|k| (id.as_str(), k));
                let i = item.get_ref();
                Some(EvaItem {
                    urgent_if: i.urgent_if.as_ref().and_then(|e| {
                        self.expr(e, ExprUse::UrgentIf, &id, earlier, positions, this)
                    }),
                    agency: i.agency.as_ref().map(|a| a.get_ref().clone()),
                })
            }
            None => None,
        };
        if let Some(ind) = &q.indicator {
            let ok = !ind.get_ref().is_empty()
                && ind
                    .get_ref()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
            if !ok {
                self.sink.error(
                    ind.span().start,
                    format!(
                        "indicator `{}` must use only a-z, 0-9, _ and .",
                        ind.get_ref()
                    ),
                );
            }
        }
        let audience = match &q.audience {
            None => Audience::Resident,
            Some(a) => match a.get_ref().as_str() {
                "resident" => Audience::Resident,
                "officer" => Audience::Officer,
                other => {
                    self.sink.error(
                        a.span().start,
                        format!("{what}: audience `{other}` is neither resident nor officer"),
                    );
                    Audience::Resident
                }
            },
        };
        let kind = kind?;
        let is_note = matches!(kind, QuestionKind::Note);
        if let Some(e) = &q.ends
            && *e.get_ref()
            && !is_note
        {
            self.sink.error(
                e.span().start,
                format!("{what}: only a note can end the interview (`ends`)"),
            );
        }
        if let Some(i) = &q.internal
            && *i.get_ref()
            && is_note
        {
            self.sink.error(
                i.span().start,
                format!("{what} is a note and records nothing, so it cannot be internal"),
            );
        }
        if is_note {
            if q.required {
                self.sink.error(
                    q.id.span().start,
                    format!("{what} is a note and cannot be required"),
                );
            }
            if q.personal {
                self.sink.error(
                    q.id.span().start,
                    format!("{what} is a note and cannot be personal"),
                );
            }
        }
        Some(Question {
            id,
            section,
            kind,
            text,
            help,
            audience,
            internal: q.internal.as_ref().is_some_and(|v| *v.get_ref()),
            ends: q.ends.as_ref().is_some_and(|v| *v.get_ref()),
            required: q.required,
            personal: q.personal,
            show_if,
            constraint,
            indicator: q.indicator.as_ref().map(|i| i.get_ref().clone()),
            item,
        })
    }

    fn kind(
        &mut self,
        q: &RawQuestion,
        what: &str,
        langs: &[String],
        earlier: &Earlier<'_>,
    ) -> Option<QuestionKind> {
        let kind_name = q.kind.get_ref().as_str();
        // Keys that only some kinds take; any other present key is a mistake worth naming.
        let allowed: &[&str] = match kind_name {
            "single" => &["choices"],
            "multiple" => &["choices", "min", "max"],
            "scale" => &["scale"],
            "rank" => &["from", "max"],
            "number" => &["min", "max", "integer", "unit"],
            "text" => &["long", "max_len"],
            "location" => &["forms"],
            "count" => &["max"],
            "issues" => &["max", "choices"],
            "yes_no" | "date" | "time" | "datetime" | "grade" | "note" => &[],
            other => {
                self.sink.error(
                    q.kind.span().start,
                    format!("{what}: unknown kind `{other}` (expected single, multiple, scale, rank, number, text, yes_no, date, time, datetime, location, grade, count, note or issues)"),
                );
                return None;
            }
        };
        let present: [(&str, Option<usize>); 10] = [
            ("choices", q.choices.as_ref().map(|v| v.span().start)),
            ("scale", q.scale.as_ref().map(|v| v.span().start)),
            ("from", q.from.as_ref().map(|v| v.span().start)),
            ("min", q.min.as_ref().map(|v| v.span().start)),
            ("max", q.max.as_ref().map(|v| v.span().start)),
            ("integer", q.integer.as_ref().map(|v| v.span().start)),
            ("unit", q.unit.as_ref().map(|v| v.span().start)),
            ("long", q.long.as_ref().map(|v| v.span().start)),
            ("max_len", q.max_len.as_ref().map(|v| v.span().start)),
            ("forms", q.forms.as_ref().map(|v| v.span().start)),
        ];
        for (key, at) in present {
            if let Some(at) = at
                && !allowed.contains(&key)
            {
                self.sink.error(
                    at,
                    format!("{what}: `{key}` does not apply to a {kind_name} question"),
                );
            }
        }
        let whole = |sink: &mut Sink<'_>, v: &Option<S<f64>>, key: &str| -> Option<u64> {
            let v = v.as_ref()?;
            let n = *v.get_ref();
            if n < 0.0 || n.fract() != 0.0 || n > u32::MAX as f64 {
                sink.error(
                    v.span().start,
                    format!("{what}: `{key}` must be a whole number of 0 or more"),
                );
                return None;
            }
            Some(n as u64)
        };
        let kind = match kind_name {
            "single" | "multiple" => {
                let Some(raw) = &q.choices else {
                    self.sink.error(
                        q.kind.span().start,
                        format!("{what}: a {kind_name} question needs `choices`"),
                    );
                    return None;
                };
                let choices = choices(self.sink, raw, langs, what, false);
                if kind_name == "single" {
                    no_exclusive(
                        self.sink,
                        raw,
                        what,
                        "a single question: its choices already exclude each other",
                    );
                    QuestionKind::Single { choices }
                } else {
                    let min = whole(self.sink, &q.min, "min").map(|n| n as u32);
                    let max = whole(self.sink, &q.max, "max").map(|n| n as u32);
                    if let (Some(lo), Some(hi)) = (min, max)
                        && lo > hi
                    {
                        self.sink.error(
                            q.kind.span().start,
                            format!("{what}: min ({lo}) is more than max ({hi})"),
                        );
                    }
                    QuestionKind::Multiple { choices, min, max }
                }
            }
            "scale" => {
                let Some(name) = &q.scale else {
                    self.sink.error(
                        q.kind.span().start,
                        format!("{what}: a scale question needs `scale = \"name\"`"),
                    );
                    return None;
                };
                let Some(scale) = self.scales.get(name.get_ref()) else {
                    let known: Vec<&str> = self.scales.keys().map(String::as_str).collect();
                    self.sink.error(
                        name.span().start,
                        format!(
                            "{what}: no scale named `{}` (known: {})",
                            name.get_ref(),
                            if known.is_empty() {
                                "none".into()
                            } else {
                                known.join(", ")
                            }
                        ),
                    );
                    return None;
                };
                QuestionKind::Scale {
                    scale: name.get_ref().clone(),
                    choices: scale.choices.clone(),
                }
            }
            "rank" => {
                let Some(from) = &q.from else {
                    self.sink.error(
                        q.kind.span().start,
                        format!("{what}: a rank question needs `from = \"question id\"`"),
                    );
                    return None;
                };
                match earlier.get(from.get_ref()) {
                    Some(src)
                        if matches!(
                            src.kind,
                            QuestionKind::Multiple { .. } | QuestionKind::Issues { .. }
                        ) => {}
                    Some(src) => {
                        self.sink.error(
                            from.span().start,
                            format!("{what}: ranks must come from a multiple or issues question, but `{}` is {}", src.id, src.kind.name()),
                        );
                    }
                    None => {
                        self.sink.error(
                            from.span().start,
                            format!(
                                "{what}: `from` must name an earlier question, and `{}` is not one",
                                from.get_ref()
                            ),
                        );
                    }
                }
                let max = whole(self.sink, &q.max, "max").unwrap_or(3) as u32;
                if max == 0 {
                    self.sink.error(
                        q.kind.span().start,
                        format!("{what}: max must be at least 1"),
                    );
                }
                QuestionKind::Rank {
                    from: from.get_ref().clone(),
                    max,
                }
            }
            "number" => {
                let (min, max) = (
                    q.min.as_ref().map(|v| *v.get_ref()),
                    q.max.as_ref().map(|v| *v.get_ref()),
                );
                if let (Some(lo), Some(hi)) = (min, max)
                    && lo > hi
                {
                    self.sink.error(
                        q.kind.span().start,
                        format!("{what}: min ({lo}) is more than max ({hi})"),
                    );
                }
                QuestionKind::Number {
                    integer: q.integer.as_ref().is_some_and(|v| *v.get_ref()),
                    min,
                    max,
                    unit: q
                        .unit
                        .as_ref()
                        .map(|u| local_text(self.sink, u, langs, &format!("{what} unit"))),
                }
            }
            "text" => {
                let max_len = match &q.max_len {
                    Some(v) if *v.get_ref() < 1 => {
                        self.sink.error(
                            v.span().start,
                            format!("{what}: max_len must be at least 1"),
                        );
                        None
                    }
                    Some(v) => Some((*v.get_ref()).min(i64::from(u32::MAX)) as u32),
                    None => None,
                };
                QuestionKind::Text {
                    long: q.long.as_ref().is_some_and(|v| *v.get_ref()),
                    max_len,
                }
            }
            "yes_no" => QuestionKind::YesNo,
            "date" => QuestionKind::DateTime {
                mode: DateTimeMode::Date,
            },
            "time" => QuestionKind::DateTime {
                mode: DateTimeMode::Time,
            },
            "datetime" => QuestionKind::DateTime {
                mode: DateTimeMode::DateTime,
            },
            "grade" => QuestionKind::Grade,
            "note" => QuestionKind::Note,
            "count" => QuestionKind::Count {
                max: whole(self.sink, &q.max, "max"),
            },
            "issues" => {
                if !self.taxonomy_present {
                    self.sink.error(
                        q.kind.span().start,
                        format!(
                            "{what}: an issues question needs the issue taxonomy (issues.toml)"
                        ),
                    );
                }
                // Codes beside the issues ("nothing", "don't know", "refused") must stand
                // alone, and must not hide an issue of the list.
                let codes = match &q.choices {
                    None => Vec::new(),
                    Some(raw) => {
                        let codes = choices(self.sink, raw, langs, what, false);
                        for (c, rc) in codes.iter().zip(raw.get_ref()) {
                            let at = rc.get_ref().value.span().start;
                            if self.edition.get(&c.value).is_some() {
                                self.sink.error(at, format!("{what}: `{}` is an issue in issues.toml; codes added here must not be issues", c.value));
                            } else if !c.exclusive && !c.non_substantive {
                                self.sink.error(at, format!("{what}: code `{}` must be exclusive or non_substantive (issues belong in issues.toml)", c.value));
                            }
                        }
                        codes
                    }
                };
                QuestionKind::Issues {
                    max: whole(self.sink, &q.max, "max").map(|n| n as u32),
                    choices: codes,
                }
            }
            "location" => {
                let forms = match &q.forms {
                    None => vec![
                        LocationForm::Fixed,
                        LocationForm::GridRef,
                        LocationForm::LatLon,
                    ],
                    Some(raw) => {
                        let mut forms = Vec::new();
                        for f in raw.get_ref() {
                            match f.get_ref().as_str() {
                                "latlon" => forms.push(LocationForm::LatLon),
                                "gridref" => forms.push(LocationForm::GridRef),
                                "fixed" => forms.push(LocationForm::Fixed),
                                other => self.sink.error(
                                    f.span().start,
                                    format!("{what}: unknown location form `{other}` (expected latlon, gridref or fixed)"),
                                ),
                            }
                        }
                        if raw.get_ref().is_empty() {
                            self.sink
                                .error(raw.span().start, format!("{what}: `forms` lists no forms"));
                        }
                        forms
                    }
                };
                QuestionKind::Location { forms }
            }
            _ => return None,
        };
        Some(kind)
    }

    /// Parses and checks one expression. `this` is the question being defined, for `.`.
    fn expr(
        &mut self,
        raw: &S<String>,
        usage: ExprUse,
        qid: &str,
        earlier: &Earlier<'_>,
        positions: &HashMap<&str, (usize, usize)>,
        this: Option<(&str, &QuestionKind)>,
    ) -> Option<Expr> {
        let span = raw.span();
        let src = raw.get_ref();
        let key = usage.key();
        let expr = Expr::parse(src);
        let positions_in_file = ExprPositions::new(&span, src);
        let at = |o: usize| positions_in_file.at(o);
        let expr = match expr {
            Ok(e) => e,
            Err(e) => {
                let offset = at(e.offset);
                self.sink
                    .error(offset, format!("question `{qid}` {key}: {}", e.message));
                return None;
            }
        };
        // Problems as (file offset, message), in order; at most PROBLEMS_PER_EXPR are listed.
        let mut problems: Vec<(usize, String)> = Vec::new();
        if usage == ExprUse::ShowIf && expr.uses_current() {
            problems.push((span.start, format!("question `{qid}` show_if: `.` (this answer) only means something in a constraint or urgent_if")));
        }
        for r in expr.references() {
            if earlier.get(&r.id).is_some() {
                continue;
            }
            let message = if r.id == qid {
                format!("question `{qid}` {key}: refers to itself; use `.` for this answer")
            } else if let Some(&(_, def)) = positions.get(r.id.as_str()) {
                let (line, _) = self.sink.file.line_col(def);
                format!(
                    "question `{qid}` {key}: refers to `{}`, which comes later (line {line}); conditions may only use earlier answers",
                    r.id
                )
            } else {
                format!(
                    "question `{qid}` {key}: refers to unknown question `{}`",
                    r.id
                )
            };
            problems.push((at(r.offset), message));
            if problems.len() > PROBLEMS_PER_EXPR {
                break;
            }
        }
        let mut valid_of: HashMap<&str, Option<Vec<String>>> = HashMap::new();
        for lit in expr.literal_uses() {
            if problems.len() > PROBLEMS_PER_EXPR {
                break;
            }
            let Some(q) = earlier.get(&lit.question.id) else {
                continue;
            };
            let valid = valid_of
                .entry(q.id.as_str())
                .or_insert_with(|| valid_values(&q.kind, &self.edition));
            if let Some(valid) = valid
                && !valid.iter().any(|v| v == lit.value)
            {
                problems.push((
                    at(lit.offset),
                    format!(
                        "question `{qid}` {key}: `{}` has no choice `{}` (its values: {})",
                        q.id,
                        lit.value,
                        valid.join(", ")
                    ),
                ));
            }
        }
        // Literals compared with `.` must suit this question too.
        if let Some((_, kind)) = this
            && let Some(valid) = valid_values(kind, &self.edition)
        {
            for (value, offset) in expr.current_literal_uses() {
                if problems.len() > PROBLEMS_PER_EXPR {
                    break;
                }
                if !valid.contains(&value) {
                    problems.push((
                        at(offset),
                        format!("question `{qid}` {key}: this question has no choice `{value}`"),
                    ));
                }
            }
        }
        if problems.is_empty() {
            return Some(expr);
        }
        let more = problems.len() > PROBLEMS_PER_EXPR;
        for (offset, message) in problems.into_iter().take(PROBLEMS_PER_EXPR) {
            self.sink.error(offset, message);
        }
        if more {
            self.sink.error(
                span.start,
                format!(
                    "question `{qid}` {key}: more problems in this condition; \
                     only the first {PROBLEMS_PER_EXPR} are listed"
                ),
            );
        }
        None
    }
}

/// The values a quoted literal may take when compared with an answer of this kind.
fn valid_values(kind: &QuestionKind, taxonomy: &Taxonomy) -> Option<Vec<String>> {
    match kind {
        QuestionKind::Single { choices }
        | QuestionKind::Multiple { choices, .. }
        | QuestionKind::Scale { choices, .. } => {
            Some(choices.iter().map(|c| c.value.clone()).collect())
        }
        QuestionKind::YesNo => Some(vec!["yes".into(), "no".into()]),
        QuestionKind::Grade => Some(Grade::ALL.iter().map(|g| g.as_str().to_owned()).collect()),
        QuestionKind::Issues { choices, .. } => Some(
            taxonomy
                .issues
                .iter()
                .map(|i| i.id.clone())
                .chain(choices.iter().map(|c| c.value.clone()))
                .collect(),
        ),
        _ => None,
    }
}

/// `exclusive` only means something among choices that can be combined.
fn no_exclusive(sink: &mut Sink<'_>, raw: &S<Vec<S<RawChoice>>>, what: &str, why: &str) {
    for c in raw.get_ref() {
        if let Some(e) = &c.get_ref().exclusive
            && *e.get_ref()
        {
            sink.error(
                e.span().start,
                format!("{what}: `exclusive` does not apply to {why}"),
            );
        }
    }
}
