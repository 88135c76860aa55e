//! The interview walker over the built-in instruments: skip logic, validation, what a change
//! invalidates, and property tests that it never panics and always reaches the end.

use chrono::{NaiveDate, NaiveTime};
use doorstep::survey::registry::Registry;
use doorstep::survey::walker::{Answers, Walker};
use doorstep::survey::{Answer, Grade, IssueCoding, Location, QuestionKind, Survey};
use proptest::prelude::*;

fn survey(id: &str) -> Survey {
    Registry::builtin().unwrap().get(id, None).unwrap().clone()
}

/// A valid answer to question `i`, steered by `pick` (trying nearby picks until one passes
/// the question's constraint).
fn valid_answer(s: &Survey, i: usize, answers: &Answers, pick: u32) -> Option<Answer> {
    let w = Walker::new(s);
    let mut last = None;
    for k in 0..64 {
        let a = candidate_answer(s, i, answers, pick.wrapping_add(k))?;
        if w.validate(i, &a, answers).is_ok() {
            return Some(a);
        }
        last = Some(a);
    }
    last
}

fn candidate_answer(s: &Survey, i: usize, answers: &Answers, pick: u32) -> Option<Answer> {
    let q = &s.questions[i];
    let p = pick as usize;
    let a = match &q.kind {
        QuestionKind::Single { choices } | QuestionKind::Scale { choices, .. } => {
            Answer::Choice(choices[p % choices.len()].value.clone())
        }
        QuestionKind::Multiple { choices, .. } => {
            let substantive: Vec<_> = choices.iter().filter(|c| !c.non_substantive).collect();
            Answer::Choices(vec![substantive[p % substantive.len()].value.clone()])
        }
        QuestionKind::Rank { from, max } => {
            let source = answers.get(from).map(|a| a.values()).unwrap_or_default();
            Answer::Rank(source.into_iter().take(*max as usize).collect())
        }
        QuestionKind::Number {
            min, max, integer, ..
        } => {
            let lo = min.unwrap_or(0.0);
            let hi = max.unwrap_or(lo + 50.0);
            let n = lo + (p as f64 % (hi - lo + 1.0)).floor();
            Answer::Number(if *integer { n.floor() } else { n })
        }
        QuestionKind::Count { max } => Answer::Count((p as u64) % max.unwrap_or(20).max(1)),
        QuestionKind::Text { .. } => Answer::Text(format!("answer {p}")),
        QuestionKind::YesNo => Answer::YesNo(p.is_multiple_of(2)),
        QuestionKind::DateTime { mode } => match mode {
            doorstep::survey::model::DateTimeMode::Date => {
                Answer::Date(NaiveDate::from_ymd_opt(2026, 11, 1 + (p % 28) as u32).unwrap())
            }
            doorstep::survey::model::DateTimeMode::Time => {
                Answer::Time(NaiveTime::from_hms_opt((p % 24) as u32, 0, 0).unwrap())
            }
            doorstep::survey::model::DateTimeMode::DateTime => Answer::DateTime(
                NaiveDate::from_ymd_opt(2026, 11, 2)
                    .unwrap()
                    .and_hms_opt((p % 24) as u32, 30, 0)
                    .unwrap(),
            ),
        },
        QuestionKind::Location { forms } => match forms[p % forms.len()] {
            doorstep::survey::model::LocationForm::Fixed => Answer::Location(Location::Fixed {
                text: "lamp column 14".into(),
            }),
            doorstep::survey::model::LocationForm::GridRef => Answer::Location(Location::GridRef {
                text: "SD 5760 0540".into(),
            }),
            doorstep::survey::model::LocationForm::LatLon => Answer::Location(Location::LatLon {
                lat: 53.54,
                lon: -2.63,
            }),
        },
        QuestionKind::Grade => Answer::Grade(Grade::ALL[p % 7]),
        QuestionKind::Note => return None,
        QuestionKind::Issues { .. } => {
            let ids: Vec<String> = s
                .taxonomy
                .issues
                .iter()
                .map(|i| i.id.clone())
                .filter(|i| i != "other")
                .collect();
            let n = 1 + p % 4;
            Answer::Issues(IssueCoding {
                issues: (0..n)
                    .map(|k| ids[(p + k * 7) % ids.len()].clone())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                other: None,
            })
        }
    };
    Some(a)
}

/// Any answer at all, often of the wrong kind.
fn any_answer(pick: u32) -> Answer {
    match pick % 9 {
        0 => Answer::Skipped,
        1 => Answer::Choice(format!("c{pick}")),
        2 => Answer::Number(f64::from(pick) - 1e6),
        3 => Answer::Text(String::new()),
        4 => Answer::Count(u64::from(pick)),
        5 => Answer::Rank(vec!["x".into(), "x".into()]),
        6 => Answer::Issues(IssueCoding {
            issues: vec!["other".into()],
            other: None,
        }),
        7 => Answer::Number(f64::NAN),
        _ => Answer::Location(Location::LatLon {
            lat: 91.0,
            lon: 0.0,
        }),
    }
}

#[test]
fn refusing_consent_ends_the_kin_interview() {
    let s = survey("kin");
    let w = Walker::new(&s);
    let consent = s.index_of("consent").unwrap();
    let mut a = Answers::new();
    a.insert("consent".into(), Answer::YesNo(false));
    let after = w.next(&a, Some(consent)).map(|i| s.questions[i].id.clone());
    assert_eq!(after.as_deref(), Some("no_consent_end"));
    let end = w.next(&a, s.index_of("no_consent_end"));
    assert_eq!(end, None, "nothing is asked after a refusal");
    assert!(w.completeness(&a).is_complete());
}

#[test]
fn the_ranking_appears_only_when_more_than_one_issue_is_named() {
    let s = survey("kin");
    let w = Walker::new(&s);
    let rank = s
        .questions
        .iter()
        .position(|q| matches!(q.kind, QuestionKind::Rank { .. }))
        .unwrap();
    let QuestionKind::Rank { from, .. } = &s.questions[rank].kind else {
        unreachable!()
    };
    let mut a = Answers::new();
    a.insert("consent".into(), Answer::YesNo(true));
    a.insert(
        from.clone(),
        Answer::Issues(IssueCoding {
            issues: vec!["drugs".into()],
            other: None,
        }),
    );
    assert!(!w.is_visible(rank, &a));
    a.insert(
        from.clone(),
        Answer::Issues(IssueCoding {
            issues: vec!["drugs".into(), "litter".into()],
            other: None,
        }),
    );
    assert!(w.is_visible(rank, &a));
    // Ranking something that was not named is refused with a message.
    let err = w
        .validate(rank, &Answer::Rank(vec!["burglary".into()]), &a)
        .unwrap_err();
    // Named by its label, in the interview language, never by its id.
    assert_eq!(
        err.message.to_string(),
        "\"Burglary\" was not among the answers to the earlier question"
    );
    assert!(!err.message.get("pl").contains("burglary"));
    w.validate(
        rank,
        &Answer::Rank(vec!["litter".into(), "drugs".into()]),
        &a,
    )
    .unwrap();
    // "Up to three": one is enough when the resident names only one as mattering.
    w.validate(rank, &Answer::Rank(vec!["litter".into()]), &a)
        .unwrap();
    let twice = w
        .validate(
            rank,
            &Answer::Rank(vec!["litter".into(), "litter".into()]),
            &a,
        )
        .unwrap_err();
    assert!(
        twice.message.to_string().starts_with("\"Litter"),
        "{}",
        twice.message
    );
}

#[test]
fn changing_an_earlier_answer_says_what_it_invalidates() {
    let s = survey("kin");
    let w = Walker::new(&s);
    let rank = s
        .questions
        .iter()
        .find(|q| matches!(q.kind, QuestionKind::Rank { .. }))
        .unwrap();
    let QuestionKind::Rank { from, .. } = &rank.kind else {
        unreachable!()
    };
    let mut a = Answers::new();
    a.insert("consent".into(), Answer::YesNo(true));
    a.insert(
        from.clone(),
        Answer::Issues(IssueCoding {
            issues: vec!["drugs".into(), "litter".into(), "speeding".into()],
            other: None,
        }),
    );
    a.insert(
        rank.id.clone(),
        Answer::Rank(vec!["speeding".into(), "drugs".into(), "litter".into()]),
    );
    // Dropping "speeding" from the issues named invalidates the ranking that put it first.
    let new = Answer::Issues(IssueCoding {
        issues: vec!["drugs".into(), "litter".into()],
        other: None,
    });
    assert_eq!(w.invalidated_by(&a, from, &new), vec![rank.id.clone()]);
    // Withdrawing consent hides everything answered after it.
    let hidden = w.invalidated_by(&a, "consent", &Answer::YesNo(false));
    assert_eq!(hidden, vec![from.clone(), rank.id.clone()]);
}

#[test]
fn validation_messages_are_specific() {
    let s = survey("kin");
    let w = Walker::new(&s);
    let a = Answers::new();
    let consent = s.index_of("consent").unwrap();
    assert_eq!(
        w.validate(consent, &Answer::Skipped, &a)
            .unwrap_err()
            .message
            .to_string(),
        "This question needs an answer"
    );
    assert_eq!(
        w.validate(consent, &Answer::Choice("maybe".into()), &a)
            .unwrap_err()
            .message
            .to_string(),
        "A yes_no question cannot take this kind of answer"
    );
    let issues = s
        .questions
        .iter()
        .position(|q| matches!(q.kind, QuestionKind::Issues { .. }))
        .unwrap();
    let other_without_text = Answer::Issues(IssueCoding {
        issues: vec!["other".into()],
        other: None,
    });
    assert_eq!(
        w.validate(issues, &other_without_text, &a)
            .unwrap_err()
            .message
            .to_string(),
        "Say what the \"other\" issue is"
    );
    let constrained = s
        .questions
        .iter()
        .position(|q| q.constraint.is_some() && matches!(q.kind, QuestionKind::Number { .. }))
        .unwrap();
    let err = w
        .validate(constrained, &Answer::Number(100000.0), &a)
        .unwrap_err();
    assert_eq!(
        err.message,
        s.questions[constrained]
            .constraint
            .as_ref()
            .unwrap()
            .message
    );
    assert!(err.message.has("pl"), "constraint messages are translated");
}

#[test]
fn progress_counts_only_questions_that_will_be_asked() {
    let s = survey("kin");
    let w = Walker::new(&s);
    let mut a = Answers::new();
    let consent = s.index_of("consent").unwrap();
    let p = w.progress(&a, consent);
    assert_eq!(p.position, 1);
    a.insert("consent".into(), Answer::YesNo(false));
    assert_eq!(
        w.progress(&a, consent).total,
        1,
        "after a refusal only consent is asked"
    );
    a.insert("consent".into(), Answer::YesNo(true));
    let total = w.progress(&a, consent).total;
    assert!(total > 25, "{total}");
    // Naming no issues settles that the questions about the top issue will not be asked.
    let issues = s.question("unsafe_issues").unwrap();
    assert!(matches!(issues.kind, QuestionKind::Issues { .. }));
    a.insert(issues.id.clone(), Answer::Skipped);
    assert!(w.progress(&a, consent).total < total);
}

#[test]
fn an_eva_can_be_walked_to_completion_with_valid_answers() {
    let s = survey("eva");
    let w = Walker::new(&s);
    let mut a = Answers::new();
    let mut at = w.next(&a, None);
    let mut steps = 0;
    while let Some(i) = at {
        if let Some(ans) = valid_answer(&s, i, &a, 3) {
            w.validate(i, &ans, &a)
                .unwrap_or_else(|e| panic!("{}: {}", s.questions[i].id, e.message));
            a.insert(s.questions[i].id.clone(), ans);
        }
        at = w.next(&a, Some(i));
        steps += 1;
    }
    assert!(steps >= 30);
    assert!(w.completeness(&a).is_complete(), "{:?}", w.completeness(&a));
}

/// Walks `s` with an arbitrary sequence of moves; returns the answers and steps taken.
fn walk(s: &Survey, moves: &[(u8, u32)]) -> (Answers, usize, bool) {
    let w = Walker::new(s);
    let mut a = Answers::new();
    let mut at = w.next(&a, None);
    let mut steps = 0;
    let mut moves = moves.iter();
    let limit = s.questions.len() * 4;
    while let Some(i) = at {
        steps += 1;
        if steps > limit {
            return (a, steps, false);
        }
        let (action, pick) = moves.next().copied().unwrap_or((0, 0));
        match action % 6 {
            // Go back (a few times at most, so the walk still moves forward on balance).
            0 if steps % 3 == 0 => {
                at = w.prev(&a, i).or(Some(i));
                continue;
            }
            // Try an arbitrary answer; keep it only if valid.
            1 => {
                let ans = any_answer(pick);
                if w.validate(i, &ans, &a).is_ok() {
                    a.insert(s.questions[i].id.clone(), ans);
                }
            }
            _ => {}
        }
        // Move on only once the question is settled: a valid answer, or a skip if allowed.
        let q = &s.questions[i];
        if !matches!(q.kind, QuestionKind::Note)
            && a.get(&q.id).is_none_or(|x| w.validate(i, x, &a).is_err())
        {
            let ans = if q.required || pick % 5 != 0 {
                valid_answer(s, i, &a, pick)
            } else {
                Some(Answer::Skipped)
            };
            if let Some(ans) = ans {
                assert!(
                    w.validate(i, &ans, &a).is_ok(),
                    "{}: generated answer {ans:?} rejected",
                    q.id
                );
                a.insert(q.id.clone(), ans);
            }
        }
        for stale in w.stale(&a) {
            a.remove(&stale);
        }
        at = w.next(&a, Some(i));
    }
    (a, steps, true)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_walker_never_panics_and_always_reaches_the_end(
        kin in any::<bool>(),
        moves in proptest::collection::vec((any::<u8>(), any::<u32>()), 0..200),
    ) {
        let s = survey(if kin { "kin" } else { "eva" });
        let (answers, steps, finished) = walk(&s, &moves);
        prop_assert!(finished, "walk did not finish within {steps} steps");
        let w = Walker::new(&s);
        let c = w.completeness(&answers);
        prop_assert!(c.is_complete(), "{:?}", c);
        // Deterministic: the same moves give the same answers.
        prop_assert_eq!(walk(&s, &moves).0, answers);
    }

    #[test]
    fn validation_and_navigation_never_panic_on_arbitrary_answers(
        picks in proptest::collection::vec(any::<u32>(), 1..120),
        index in any::<usize>(),
    ) {
        let s = survey("kin");
        let w = Walker::new(&s);
        let mut a = Answers::new();
        for (k, p) in picks.iter().enumerate() {
            let q = &s.questions[k % s.questions.len()];
            a.insert(q.id.clone(), any_answer(*p));
        }
        let _ = w.validate(index, &any_answer(index as u32), &a);
        let _ = w.next(&a, Some(index));
        let _ = w.prev(&a, index);
        let _ = w.progress(&a, index);
        let _ = w.completeness(&a);
        let _ = w.stale(&a);
        let _ = w.first_unanswered(&a);
    }
}

#[test]
fn the_consent_question_is_found_from_the_survey_conditions_not_its_id() {
    let kin = survey("kin");
    let w = Walker::new(&kin);
    let i = w
        .consent_question()
        .expect("the KIN survey states a consent question");
    assert_eq!(kin.questions[i].id, "consent");
    let no = Answers::from([("consent".to_owned(), Answer::YesNo(false))]);
    let yes = Answers::from([("consent".to_owned(), Answer::YesNo(true))]);
    assert!(w.declined(&no));
    assert!(!w.declined(&yes));
    assert!(!w.declined(&Answers::new()));
    // The same survey with its consent question renamed: still found by what "no" does.
    let mut renamed = kin.clone();
    let text = kin.questions[i].clone();
    renamed.questions[i].id = "agrees".into();
    for q in &mut renamed.questions {
        if let Some(e) = &q.show_if
            && e.to_string().contains("consent")
        {
            let src = e.to_string().replace("consent", "agrees");
            q.show_if = Some(doorstep::survey::expr::Expr::parse(&src).unwrap());
        }
    }
    let w = Walker::new(&renamed);
    assert_eq!(w.consent_question(), Some(i), "{}", text.id);
    assert!(w.declined(&Answers::from([(
        "agrees".to_owned(),
        Answer::YesNo(false)
    )])));
    // The EVA has no such question: no audit is ever a refusal by this rule.
    assert_eq!(Walker::new(&survey("eva")).consent_question(), None);
}
