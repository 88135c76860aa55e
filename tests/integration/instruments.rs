//! The built-in instruments: released versions kept, version 2's codes and marks, the paper
//! form in words, and transect re-audits.

use std::path::Path;

use assert_cmd::Command;
use chrono::Duration;
use doorstep::response::NewResponse;
use doorstep::response::transect::{earlier_audit, transect_id};
use doorstep::survey::model::{Audience, QuestionKind};
use doorstep::survey::paper;
use doorstep::survey::registry::Registry;
use doorstep::survey::walker::{Answers, Walker};
use doorstep::survey::{Answer, IssueCoding, Survey};

use crate::store_helpers::{new_response, open, t0};

fn builtin() -> Registry {
    Registry::builtin().expect("the built-in surveys load")
}

fn survey(id: &str, version: u32) -> Survey {
    builtin()
        .get(id, Some(version))
        .unwrap_or_else(|| panic!("{id} v{version} is built in"))
        .clone()
}

#[test]
fn released_versions_keep_their_fingerprints() {
    // Version 1 as released: responses name it by this fingerprint.
    assert_eq!(
        survey("kin", 1).fingerprint,
        "sha256:6e9ecba53b13aaf89ba98706f2435ec7de11791f0929689e635413b01da033ff"
    );
    assert_eq!(
        survey("eva", 1).fingerprint,
        "sha256:035dfc7d697b389cafd0c3419153adc334a90ef331b8ee612fe12ad0d9e60fa7"
    );
}

#[test]
fn new_work_uses_the_latest_version_and_version_1_still_validates() {
    let registry = builtin();
    assert_eq!(registry.get("kin", None).unwrap().version, 2);
    assert_eq!(registry.get("eva", None).unwrap().version, 2);
    // A version-1 answer set still validates against version 1.
    let v1 = survey("kin", 1);
    let walker = Walker::new(&v1);
    let mut answers = Answers::new();
    answers.insert("consent".into(), Answer::YesNo(true));
    let ni21 = v1.index_of("ni21").unwrap();
    assert!(walker.is_visible(ni21, &answers));
    walker
        .validate(ni21, &Answer::Choice("tend_to_agree".into()), &answers)
        .unwrap();
    // Version 1 knows nothing of version 2's refusal code.
    assert!(
        walker
            .validate(ni21, &Answer::Choice("refused".into()), &answers)
            .is_err()
    );
}

/// A second value that is allowed on its own in this question.
fn other_value(q: &doorstep::survey::Question, survey: &Survey, not: &str) -> String {
    q.choices()
        .iter()
        .find(|c| c.value != not && !q.is_exclusive(&c.value))
        .map(|c| c.value.clone())
        .or_else(|| {
            survey
                .taxonomy
                .issues
                .iter()
                .find(|i| i.id != "other")
                .map(|i| i.id.clone())
        })
        .unwrap()
}

fn as_answer(q: &doorstep::survey::Question, values: Vec<String>) -> Answer {
    match q.kind {
        QuestionKind::Issues { .. } => Answer::Issues(IssueCoding {
            issues: values,
            other: None,
        }),
        _ => Answer::Choices(values),
    }
}

#[test]
fn every_exclusive_code_stands_alone() {
    let mut checked = 0;
    for entry in builtin().entries() {
        let s = &entry.survey;
        let walker = Walker::new(s);
        for (i, q) in s.questions.iter().enumerate() {
            if !matches!(
                q.kind,
                QuestionKind::Multiple { .. } | QuestionKind::Issues { .. }
            ) {
                continue;
            }
            for c in q.choices().iter().filter(|c| q.is_exclusive(&c.value)) {
                let answers = Answers::new();
                let alone = as_answer(q, vec![c.value.clone()]);
                // Validation of the answer's own shape; conditions on other answers aside.
                let other = other_value(q, s, &c.value);
                let both = as_answer(q, vec![other, c.value.clone()]);
                let err = walker.validate(i, &both, &answers).expect_err(&format!(
                    "{} v{} {}: {} combined",
                    s.id, s.version, q.id, c.value
                ));
                assert!(
                    err.message.get("en").contains(c.label.get("en")),
                    "{}: {}",
                    q.id,
                    err.message.get("en")
                );
                assert!(
                    err.message.get("pl").contains(c.label.get("pl")),
                    "{}: {}",
                    q.id,
                    err.message.get("pl")
                );
                if q.constraint.is_none() {
                    walker.validate(i, &alone, &answers).unwrap_or_else(|e| {
                        panic!("{} {}: {} alone: {:?}", s.id, q.id, c.value, e.message)
                    });
                }
                checked += 1;
            }
        }
    }
    // KIN v2 alone has nothing/don't know/refused on two issues questions, and more.
    assert!(checked >= 15, "only {checked} exclusive codes checked");
}

#[test]
fn version_2_marks_refusals_and_dont_know_non_substantive() {
    let kin = survey("kin", 2);
    for q in &kin.questions {
        let needs_codes =
            q.indicator.is_some() || (q.required && !q.choices().is_empty() && q.id != "age_check");
        if !needs_codes {
            continue;
        }
        for code in ["refused", "dont_know"] {
            // respondent_type has no "don't know": one knows why one is talking.
            if code == "dont_know" && q.id == "respondent_type" {
                continue;
            }
            let c = q
                .choices()
                .iter()
                .find(|c| c.value == code)
                .unwrap_or_else(|| panic!("{} has no `{code}`", q.id));
            assert!(
                c.non_substantive,
                "{}: `{code}` counts as substantive",
                q.id
            );
        }
    }
    // The confidence question is named for the measure whose wording it uses.
    let q = kin.question("police_council_dealing").unwrap();
    assert_eq!(q.indicator.as_deref(), Some("psa23.confidence"));
    assert!(kin.question("ni21").is_none());
}

#[test]
fn version_2_marks_officer_texts_internal_records_and_self_completion() {
    let kin = survey("kin", 2);
    for id in ["disclosure", "disclosure_action", "disclosure_reference"] {
        let q = kin.question(id).unwrap();
        assert!(q.internal && q.audience == Audience::Officer, "{id}");
    }
    assert_eq!(
        kin.question("selection_reason").unwrap().audience,
        Audience::Officer
    );
    for sensitive in [
        "sexual_orientation",
        "religion",
        "victim",
        "gender_identity",
    ] {
        let q = kin.question(sensitive).unwrap();
        assert!(kin.sections[q.section].self_completion, "{sensitive}");
    }
    for personal in ["kin_roster_consent", "kin_roster_until", "contact_name"] {
        assert!(kin.question(personal).unwrap().personal, "{personal}");
    }
    let eva = survey("eva", 2);
    let youths = eva.question("youths_gathering").unwrap();
    assert!(
        youths.item.is_none(),
        "young people gathering is not a finding"
    );
    for element in ["litter", "detritus", "graffiti", "fly_posting"] {
        let q = eva.question(element).unwrap();
        assert_eq!(eva.sections[q.section].id, "ni195");
        assert_eq!(
            q.indicator.as_deref(),
            Some(format!("ni195.{element}").as_str())
        );
    }
    assert_ne!(
        eva.sections[eva.question("weeds").unwrap().section].id,
        "ni195"
    );
    let land_use: Vec<&str> = eva
        .question("land_use")
        .unwrap()
        .choices()
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    assert!(land_use.contains(&"medium_obstruction_housing") && !land_use.contains(&"other"));
}

#[test]
fn an_under_16_ends_the_kin_interview_and_the_youth_kin_needs_a_parent_first() {
    let kin = survey("kin", 2);
    let walker = Walker::new(&kin);
    let mut answers = Answers::new();
    answers.insert("consent".into(), Answer::YesNo(true));
    answers.insert("age_check".into(), Answer::Choice("under_16".into()));
    let end = kin.index_of("under_16_end").unwrap();
    let visible = walker.visibility(&answers);
    assert!(visible[end]);
    assert!(visible[end + 1..].iter().all(|v| !v), "asked after the end");
    // The note sends the officer to the youth KIN, with a parent or guardian there.
    let text = kin.questions[end].text.get("en");
    assert!(
        text.contains("youth KIN") && text.contains("parent or guardian"),
        "{text}"
    );
    assert!(kin.index_of("parent_consent").is_none());
    assert!(kin.index_of("youth_issues").is_none());
    // An adult goes straight on.
    answers.insert("age_check".into(), Answer::Choice("aged_16_plus".into()));
    let visible = walker.visibility(&answers);
    assert!(!visible[end]);
    assert!(visible[kin.index_of("ni17_drugs").unwrap()]);

    // The youth KIN: its own survey, the parent's or guardian's agreement first.
    let youth = survey("kin_youth", 1);
    let walker = Walker::new(&youth);
    assert_eq!(youth.questions[0].id, "parent_consent");
    assert_eq!(walker.consent_question(), Some(0));
    let q = |id: &str| youth.index_of(id).unwrap();
    let mut answers = Answers::new();
    answers.insert("parent_consent".into(), Answer::YesNo(false));
    let visible = walker.visibility(&answers);
    assert!(visible[q("no_parent_consent_end")]);
    assert!(visible[q("no_parent_consent_end") + 1..].iter().all(|v| !v));
    assert!(walker.declined(&answers));
    // Agreed: the young person is asked too, and may say no.
    answers.insert("parent_consent".into(), Answer::YesNo(true));
    answers.insert("youth_agrees".into(), Answer::YesNo(false));
    let visible = walker.visibility(&answers);
    assert!(visible[q("youth_declined_end")] && !visible[q("youth_issues")]);
    answers.insert("youth_agrees".into(), Answer::YesNo(true));
    let visible = walker.visibility(&answers);
    for id in [
        "youth_issues",
        "youth_safe_day",
        "youth_safe_after_dark",
        "youth_better",
        "youth_places",
    ] {
        assert!(visible[q(id)], "{id}");
    }
    // None of it feeds the adult indicators; every text is in both languages.
    assert!(youth.questions.iter().all(|q| q.indicator.is_none()));
    assert!(
        youth
            .questions
            .iter()
            .all(|q| !q.text.get("pl").is_empty() && q.text.get("pl") != q.text.get("en"))
    );
}

#[test]
fn the_taxonomy_edition_keeps_version_1_and_corrects_version_2() {
    let v1 = survey("kin", 1);
    let v2 = survey("kin", 2);
    assert!(v1.taxonomy.get("nothing_for_young_people").is_none());
    assert!(v2.taxonomy.get("nothing_for_young_people").is_some());
    // Ids are shared across editions; the corrected mapping is edition 2's.
    assert_eq!(
        v1.taxonomy.get("hate_incidents").unwrap().police_categories,
        ["public-order", "violent-crime"]
    );
    assert!(
        v2.taxonomy
            .get("hate_incidents")
            .unwrap()
            .police_categories
            .is_empty()
    );
    assert_eq!(v1.taxonomy.issues.len() + 3, v2.taxonomy.issues.len());
}

#[test]
fn the_paper_form_prints_labels_never_raw_values_in_both_languages() {
    for entry in builtin().entries() {
        let s = &entry.survey;
        for lang in ["en", "pl"] {
            let text = paper::render(s, lang);
            for code in ["answered(", "count(", " in [", " = '", " != '"] {
                assert!(
                    !text.contains(code),
                    "{} v{} in {lang}: condition syntax `{code}` printed",
                    s.id,
                    s.version
                );
            }
            // Values with an underscore never occur in prose: printed, they are raw values.
            for q in &s.questions {
                for c in q.choices().iter().filter(|c| c.value.contains('_')) {
                    assert!(
                        !text.contains(&c.value),
                        "{} v{} in {lang}: raw value `{}` of {}",
                        s.id,
                        s.version,
                        c.value,
                        q.id
                    );
                }
            }
            for i in s.taxonomy.issues.iter().filter(|i| i.id.contains('_')) {
                assert!(!text.contains(&i.id), "{lang}: raw issue id {}", i.id);
            }
        }
    }
    // Version 2's marks, in the printed language.
    let kin = paper::render(&survey("kin", 2), "pl");
    assert!(kin.contains("dla funkcjonariusza — nie odczytywać"));
    assert!(kin.contains("zapis wewnętrzny — nigdy w materiałach na spotkanie"));
    assert!(kin.contains("Samodzielne wypełnianie"));
    assert!(kin.contains("Nic / żadnych problemów (jedyna odpowiedź)"));
    assert!(kin.contains("liczba odpowiedzi na Q"), "{kin}");
    assert!(!kin.contains("jest większe"));
}

fn doorstep(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("doorstep").unwrap();
    cmd.arg("--data-dir").arg(dir).env("NO_COLOR", "1");
    cmd
}

#[test]
fn a_transect_re_audit_links_to_the_audit_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let eva = survey("eva", 2);
    let q = eva.question("transect_id").unwrap().clone();
    let store = open(dir.path());
    let audit = |started, transect: &str| {
        let r = store
            .create_draft(NewResponse {
                survey_id: eva.id.clone(),
                survey_version: eva.version,
                fingerprint: eva.fingerprint.clone(),
                ..new_response("E05000650", started)
            })
            .unwrap();
        store
            .record_answer(r.id, &q, Answer::Text(transect.into()), started)
            .unwrap();
        store.get(r.id).unwrap()
    };
    let first = audit(t0(), "PEM-014");
    let elsewhere = audit(t0() + Duration::days(1), "PEM-015");
    let again = audit(t0() + Duration::days(90), " pem-014 ");
    assert_eq!(transect_id(&again).as_deref(), Some("PEM-014"));
    let all = vec![first.clone(), elsewhere.clone(), again.clone()];
    assert_eq!(earlier_audit(&again, &all).map(|r| r.id), Some(first.id));
    assert_eq!(earlier_audit(&first, &all).map(|r| r.id), None);
    // A KIN interview never has a transect.
    let kin = store.create_draft(new_response("E05000650", t0())).unwrap();
    assert_eq!(transect_id(&kin), None);
    drop(store);

    let out = doorstep(dir.path())
        .args(["responses", "show", &again.id.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "transect  PEM-014: re-audit; the audit before is {}",
            first.id
        )),
        "{text}"
    );
    let out = doorstep(dir.path())
        .args(["responses", "show", &first.id.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("transect  PEM-014: first audit on this device"),
        "{text}"
    );
}

#[test]
fn broken_words_and_taxonomy_editions_are_reported_at_line_and_column() {
    use doorstep::survey::diagnostic::SourceFile;
    use doorstep::survey::load::load_set;
    use doorstep::survey::registry::builtin_files;
    let shown = |files: &[SourceFile]| -> Vec<String> {
        load_set(files, &builtin_files())
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let words = SourceFile::new(
        "words.toml",
        "yes = { en = \"Yes\" }\nmaybe = { en = \"Maybe\" }\n",
    );
    let out = shown(&[words]);
    assert!(
        out.contains(&"words.toml:2:9: error: unknown word `maybe` (the words are: yes, no, cannot_combine, sc_turn_round, sc_answering, sc_hand_back, sc_continue, sc_closed, required, personal, officer, internal, ends, self_completion, only_answer, ask_if, must, help, other, rank, of_answers, whole, fixed, gridref, latlon, finding, agency, urgent_if, choose_any, languages, fingerprint, is, is not, is less than, is at most, is more than, is at least, and, or, not, was answered, is one of, includes, the answer, the number of answers to, the number of answers given)".to_owned()),
        "{out:#?}"
    );
    assert!(
        out.contains(&"words.toml:1:1: error: the word `no` is missing".to_owned()),
        "{out:#?}"
    );
    let issues = SourceFile::new(
        "issues.toml",
        "[[issue]]\nid = \"other\"\nlabel = \"Other\"\n\n[[issue]]\nid = \"other\"\nlabel = \"Other (describe)\"\nsince = 0\n",
    );
    let out = shown(&[issues]);
    assert!(
        out.contains(&"issues.toml:8:9: error: issue `other`: `since` must be an edition number of at least 1".to_owned()),
        "{out:#?}"
    );
    assert!(
        out.contains(&"issues.toml:6:6: error: issue `other` is defined twice for the same edition (give the older entry `until` and this one `since`)".to_owned()),
        "{out:#?}"
    );
    // Corrected properly, the same id in two editions loads.
    let issues = SourceFile::new(
        "issues.toml",
        "[[issue]]\nid = \"other\"\nlabel = \"Other\"\nuntil = 1\n\n[[issue]]\nid = \"other\"\nlabel = \"Other (describe)\"\nsince = 2\n",
    );
    assert_eq!(shown(&[issues]), Vec::<String>::new());
}

#[test]
fn a_version_1_interview_still_shows_with_its_own_questions() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = survey("kin", 1);
    let id = {
        let store = open(dir.path());
        let r = store
            .create_draft(NewResponse {
                survey_id: v1.id.clone(),
                survey_version: v1.version,
                fingerprint: v1.fingerprint.clone(),
                ..new_response("E05000650", t0())
            })
            .unwrap();
        let q = v1.question("ni21").unwrap();
        store
            .record_answer(r.id, q, Answer::Choice("tend_to_agree".into()), t0())
            .unwrap();
        r.id
    };
    let out = doorstep(dir.path())
        .args(["responses", "show", &id.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("kin v1"), "{text}");
    // Found by its fingerprint: the question is named by its version-1 wording.
    assert!(
        text.contains("dealing with the anti-social behaviour and crime issues that matter"),
        "{text}"
    );
    assert!(String::from_utf8(out.stderr).unwrap().is_empty());
}
