//! Answer commit, as the field app does it for every answer (`Store::record_answer`: the
//! journal line appended and fsynced, the draft written to sled, sled flushed), against
//! the floor any durable write has: appending the same journal line to a file in the same
//! directory and `fdatasync`ing it. Prints the ratio of the medians (target ≤ 1.5).
//!
//! Each draft takes `PER_DRAFT` answers, each to a question of its own, as an interview
//! does; then a new draft is started (untimed). Answering one question of one draft over
//! and over instead grows that answer's history without end, so every commit would decode
//! and encode a record many times an interview's size.

// Test and benchmark code: a failed unwrap is a failed run, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// A measuring tool: its ratio is printed.
#![allow(clippy::print_stdout)]

use std::fs::OpenOptions;
use std::io::Write;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, criterion_group};
use doorstep::response::{Env, NewResponse, StoredAnswer};
use doorstep::store::{JournalEntry, Store, encode_line};
use doorstep::survey::registry::Registry;
use doorstep::survey::{Answer, Question};

const TEXT: &str = "Cars speeding past the school at home time, and litter by the shops";
/// Answers per draft: about a KIN interview's.
const PER_DRAFT: u64 = 50;

/// A store in `dir` with one KIN draft, and KIN's free-text question (answered under a
/// new id each time: `nth`).
fn setup(dir: &std::path::Path) -> (Store, uuid::Uuid, Question) {
    let registry = Registry::builtin().unwrap();
    let kin = registry.get("kin", None).unwrap();
    let question = kin
        .questions
        .iter()
        .find(|q| matches!(q.kind, doorstep::survey::QuestionKind::Text { .. }) && !q.personal)
        .unwrap()
        .clone();
    let store = Store::open_with(dir, Env::system()).unwrap();
    let draft = new_draft(&store);
    (store, draft, question)
}

/// The `n`th answer's question: the free-text one under an id of its own within a draft.
fn nth(question: &Question, n: u64) -> Question {
    let mut q = question.clone();
    q.id = format!("{}_{}", question.id, n % PER_DRAFT);
    q
}

fn new_draft(store: &Store) -> uuid::Uuid {
    let registry = Registry::builtin().unwrap();
    let kin = registry.get("kin", None).unwrap();
    store
        .create_draft(NewResponse {
            survey_id: kin.id.clone(),
            survey_version: kin.version,
            fingerprint: kin.fingerprint.clone(),
            area: "E05000841".into(),
            period: None,
            interviewer: "PC 4521".into(),
            device: "WIGAN-NPT-07".into(),
            language: "en".into(),
            started_at: Utc::now(),
        })
        .unwrap()
        .id
}

/// The journal line one answer writes: what the bare write writes too.
fn line(id: uuid::Uuid, question: &Question, n: u64) -> Vec<u8> {
    encode_line(&JournalEntry::Answer {
        id,
        question: nth(question, n).id,
        value: StoredAnswer::Plain(Answer::Text(format!("{TEXT} {n}"))),
        at: Utc::now(),
    })
    .unwrap()
    .into_bytes()
}

fn commit(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (store, mut id, question) = setup(dir.path());
    let mut group = c.benchmark_group("commit");
    group.sample_size(50);
    let mut n = 0u64;
    group.bench_function("store answer commit", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                if n.is_multiple_of(PER_DRAFT) {
                    id = new_draft(&store);
                }
                let q = nth(&question, n);
                let t = Instant::now();
                store
                    .record_answer(id, &q, Answer::Text(format!("{TEXT} {n}")), Utc::now())
                    .unwrap();
                spent += t.elapsed();
            }
            spent
        })
    });
    let bare = dir.path().join("bare.jsonl");
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&bare)
        .unwrap();
    group.bench_function("bare write + fdatasync", |b| {
        b.iter(|| {
            n += 1;
            file.write_all(&line(id, &question, n)).unwrap();
            file.sync_data().unwrap();
        })
    });
    group.finish();
}

/// The medians of both, measured back to back in one run, and their ratio.
fn ratio() {
    let dir = tempfile::tempdir().unwrap();
    let (store, mut id, question) = setup(dir.path());
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.path().join("bare.jsonl"))
        .unwrap();
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for n in 1..=400u64 {
        if n.is_multiple_of(PER_DRAFT) {
            id = new_draft(&store);
        }
        let q = nth(&question, n);
        let t = Instant::now();
        store
            .record_answer(id, &q, Answer::Text(format!("{TEXT} {n}")), Utc::now())
            .unwrap();
        ours.push(t.elapsed());
        let bytes = line(id, &question, n);
        let t = Instant::now();
        file.write_all(&bytes).unwrap();
        file.sync_data().unwrap();
        bare.push(t.elapsed());
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (o, b) = (median(&mut ours), median(&mut bare));
    println!(
        "commit ratio: store answer commit median {:.3} ms, bare write + fdatasync median {:.3} ms, ratio {:.2} (target <= 1.5)",
        o.as_secs_f64() * 1e3,
        b.as_secs_f64() * 1e3,
        o.as_secs_f64() / b.as_secs_f64()
    );
}

criterion_group!(benches, commit);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratio();
}
