//! The fixture corpora: every file in `tests/fixtures/surveys/invalid/` states the errors it
//! must produce (`# expect: LINE:COL: error: message`) and produces exactly those; every file
//! in `valid/` loads with no errors and only the warnings it states.

use std::path::{Path, PathBuf};

use doorstep::survey::diagnostic::{Diagnostic, SourceFile};
use doorstep::survey::load::load_set;
use doorstep::survey::registry::builtin_files;

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/surveys")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// `(line, col, "error"|"warning", message)` from the file's `# expect:` lines.
fn expectations(text: &str) -> Vec<(usize, usize, String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|e| {
            let mut parts = e.splitn(4, ':');
            let line = parts.next().unwrap().trim().parse().unwrap();
            let col = parts.next().unwrap().trim().parse().unwrap();
            let sev = parts.next().unwrap().trim().to_owned();
            let msg = parts.next().unwrap().trim().to_owned();
            (line, col, sev, msg)
        })
        .collect()
}

fn load(path: &Path) -> (String, Vec<Diagnostic>, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let file = SourceFile::new(path.display().to_string(), text.clone());
    let loaded = load_set(&[file], &builtin_files());
    (text, loaded.diagnostics, loaded.surveys.len())
}

fn severity(d: &Diagnostic) -> &'static str {
    if d.is_error() { "error" } else { "warning" }
}

fn check_expectations(path: &Path, text: &str, diagnostics: &[Diagnostic], severities: &[&str]) {
    let expected = expectations(text);
    let got: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| severities.contains(&severity(d)))
        .collect();
    let shown = got
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        got.len(),
        expected.len(),
        "{}: expected {expected:?}, got:\n{shown}",
        path.display()
    );
    for (line, col, sev, msg) in &expected {
        assert!(
            got.iter().any(|d| d.line == *line
                && d.col == *col
                && severity(d) == sev
                && d.message.starts_with(msg.as_str())),
            "{}: no {sev} at {line}:{col} starting `{msg}`; got:\n{shown}",
            path.display()
        );
        assert!(
            got.iter().all(|d| d.file == path.display().to_string()),
            "{}: diagnostics name the file",
            path.display()
        );
    }
}

#[test]
fn every_invalid_fixture_reports_its_own_error_and_line() {
    let files = corpus("invalid");
    assert!(
        files.len() >= 30,
        "the invalid corpus has {} cases",
        files.len()
    );
    for path in files {
        let (text, diagnostics, surveys) = load(&path);
        assert!(
            !expectations(&text).is_empty(),
            "{} states no expectation",
            path.display()
        );
        assert_eq!(
            surveys,
            0,
            "{}: an invalid survey must not load",
            path.display()
        );
        check_expectations(&path, &text, &diagnostics, &["error"]);
    }
}

#[test]
fn every_valid_fixture_loads_with_only_its_stated_warnings() {
    let files = corpus("valid");
    assert!(files.len() >= 3);
    for path in files {
        let (text, diagnostics, surveys) = load(&path);
        assert_eq!(surveys, 1, "{}: {diagnostics:?}", path.display());
        check_expectations(&path, &text, &diagnostics, &["error", "warning"]);
    }
}

#[test]
fn the_builtin_surveys_load_with_zero_warnings() {
    let loaded = load_set(&builtin_files(), &[]);
    assert_eq!(loaded.diagnostics, Vec::<Diagnostic>::new());
    let ids: Vec<&str> = loaded.surveys.iter().map(|(s, _)| s.id.as_str()).collect();
    // Every released version stays built in.
    let versions: Vec<(&str, u32)> = loaded
        .surveys
        .iter()
        .map(|(s, _)| (s.id.as_str(), s.version))
        .collect();
    assert_eq!(
        versions,
        [
            ("kin", 1),
            ("kin", 2),
            ("kin_youth", 1),
            ("eva", 1),
            ("eva", 2)
        ]
    );
    assert_eq!(ids, ["kin", "kin", "kin_youth", "eva", "eva"]);
}

#[test]
fn the_builtin_kin_interview_covers_the_method() {
    let loaded = load_set(&builtin_files(), &[]);
    let kin = &loaded
        .surveys
        .iter()
        .find(|(s, _)| s.id == "kin")
        .unwrap()
        .0;
    let indicators: Vec<&str> = kin
        .questions
        .iter()
        .filter_map(|q| q.indicator.as_deref())
        .collect();
    for strand in doorstep::survey::taxonomy::NI17_STRANDS {
        assert!(
            indicators.contains(&format!("ni17.{strand}").as_str()),
            "NI 17 strand {strand} is asked"
        );
    }
    for ind in [
        "ni21",
        "ni4",
        "police_confidence",
        "safety.after_dark",
        "safety.day",
    ] {
        assert!(indicators.contains(&ind), "{ind} is asked");
    }
    assert!(kin.languages.len() >= 2);
    assert!(
        kin.questions.iter().any(|q| q.personal),
        "contact details are marked personal"
    );
    assert!(
        kin.taxonomy.issues.len() >= 19,
        "at least 18 issues plus other"
    );
}

fn taxonomy_errors(issues: &str) -> Vec<String> {
    let files = [
        SourceFile::new("issues.toml", issues),
        SourceFile::new(
            "case.toml",
            "id = \"c\"\nversion = 1\nkind = \"kin\"\ntitle = \"C\"\nlanguages = [\"en\"]\n[[section]]\nid = \"s\"\ntitle = \"S\"\n[[section.question]]\nid = \"q\"\nkind = \"issues\"\ntext = \"Q\"\n",
        ),
    ];
    load_set(&files, &builtin_files())
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(ToString::to_string)
        .collect()
}

#[test]
fn broken_taxonomies_are_reported_at_their_line() {
    let other = "[[issue]]\nid = \"other\"\nlabel = \"Other\"\n";
    let cases = [
        (
            format!(
                "[[issue]]\nid = \"noise\"\nlabel = \"Noise\"\npolice_categories = [\"noise\"]\n{other}"
            ),
            "issues.toml:4:22: error: `noise` is not a police.uk category slug",
        ),
        (
            format!("[[issue]]\nid = \"noise\"\nlabel = \"Noise\"\nni17 = \"noise\"\n{other}"),
            "issues.toml:4:8: error: `noise` is not an NI 17 strand",
        ),
        (
            "[[issue]]\nid = \"noise\"\nlabel = \"Noise\"\n".to_owned(),
            "issues.toml:1:1: error: the taxonomy needs an issue with id `other`",
        ),
        (
            format!("{other}{other}"),
            "issues.toml:5:6: error: issue `other` is defined twice",
        ),
        (
            format!("[[issue]]\nid = \"noise\"\n{other}"),
            "issues.toml:1:1: error: missing field `label`",
        ),
    ];
    for (text, expected) in cases {
        let errors = taxonomy_errors(&text);
        assert!(
            errors.iter().any(|e| e.starts_with(expected)),
            "expected `{expected}` in {errors:?}"
        );
    }
}

#[test]
fn broken_scales_are_reported_at_their_line() {
    let files = [
        SourceFile::new(
            "scales.toml",
            "[scale.empty]\ntitle = \"Empty\"\nchoices = []\n",
        ),
        SourceFile::new(
            "case.toml",
            "id = \"c\"\nversion = 1\nkind = \"kin\"\ntitle = \"C\"\nlanguages = [\"en\"]\n[[section]]\nid = \"s\"\ntitle = \"S\"\n[[section.question]]\nid = \"q\"\nkind = \"scale\"\nscale = \"empty\"\ntext = \"Q\"\n",
        ),
    ];
    let loaded = load_set(&files, &builtin_files());
    let errors: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        errors
            .iter()
            .any(|e| e == "scales.toml:3:11: error: scale `empty` has no choices"),
        "{errors:?}"
    );
}

#[test]
fn fingerprints_ignore_formatting_but_not_content() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/surveys/valid/minimal.toml"),
    )
    .unwrap();
    let fp = |text: &str| {
        let loaded = load_set(&[SourceFile::new("x.toml", text)], &builtin_files());
        assert_eq!(loaded.error_count(), 0, "{:?}", loaded.diagnostics);
        loaded.surveys[0].0.fingerprint.clone()
    };
    let reformatted = format!("# a comment\n{}", base.replace(" = ", "   =   "));
    assert_eq!(fp(&base), fp(&reformatted));
    assert_ne!(
        fp(&base),
        fp(&base.replace("Happy to take part?", "Happy to take part today?"))
    );
    assert!(fp(&base).starts_with("sha256:") && fp(&base).len() == 7 + 64);
}
