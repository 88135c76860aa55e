//! Large but legitimate input: one boundary polygon with 10,000 to 100,000 vertices (council
//! files have such polygons; validity checking was quadratic) and a condition with 40,000
//! clauses (placing each clause in the file was quadratic), and a survey of many thousand
//! conditional questions (looking up earlier questions was a scan). All should now grow about
//! linearly: compare the times across sizes.

// Benchmark code: a failed unwrap is a failed run, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::f64::consts::TAU;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use doorstep::geography::Level;
use doorstep::geography::boundary::{Fields, read_layer};
use doorstep::survey::diagnostic::SourceFile;
use doorstep::survey::expr::Expr;
use doorstep::survey::load::load_set;
use doorstep::survey::registry::builtin_files;

/// A ward-sized ellipse near Wigan with `n` vertices, as a one-feature GeoJSON file.
fn polygon_file(n: usize) -> String {
    let ring: Vec<String> = (0..=n)
        .map(|i| {
            let a = TAU * (i % n) as f64 / n as f64;
            format!(
                "[{:.7}, {:.7}]",
                -2.6 + 0.05 * a.cos(),
                53.55 + 0.03 * a.sin()
            )
        })
        .collect();
    format!(
        r#"{{"type": "FeatureCollection", "features": [{{"type": "Feature",
        "properties": {{"WD13CD": "E05000001", "WD13NM": "Round"}},
        "geometry": {{"type": "Polygon", "coordinates": [[{}]]}}}}]}}"#,
        ring.join(", ")
    )
}

fn polygon_import(c: &mut Criterion) {
    let mut group = c.benchmark_group("boundary import, one polygon");
    group.sample_size(10);
    for n in [10_000, 50_000, 100_000] {
        let text = polygon_file(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| {
                read_layer(
                    black_box(text),
                    "round.geojson",
                    Level::Ward,
                    &Fields::default(),
                )
                .expect("the polygon imports")
            })
        });
    }
    group.finish();
}

fn chain(clauses: usize) -> String {
    vec!["a = 'yes'"; clauses].join(" and ")
}

fn survey_file(condition: &str) -> SourceFile {
    SourceFile::new(
        "long.toml",
        format!(
            "id = \"long\"\nversion = 1\nkind = \"kin\"\ntitle = \"Long\"\nlanguages = [\"en\"]\n\
             [[section]]\nid = \"main\"\ntitle = \"Main\"\n\
             [[section.question]]\nid = \"a\"\nkind = \"yes_no\"\ntext = \"A?\"\n\
             [[section.question]]\nid = \"b\"\nkind = \"text\"\ntext = \"B?\"\nshow_if = \"{condition}\"\n"
        ),
    )
}

fn long_conditions(c: &mut Criterion) {
    let mut group = c.benchmark_group("condition of N and-clauses");
    group.sample_size(10);
    let builtin = builtin_files();
    for n in [10_000, 40_000] {
        let source = chain(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("parse", n), &source, |b, s| {
            b.iter(|| Expr::parse(black_box(s)).expect("the chain parses"))
        });
        let file = survey_file(&source);
        group.bench_with_input(BenchmarkId::new("survey check", n), &file, |b, f| {
            b.iter(|| {
                let loaded = load_set(std::slice::from_ref(f), &builtin);
                assert_eq!(loaded.error_count(), 0);
                loaded
            })
        });
    }
    group.finish();
}

/// A survey of `n` yes/no questions, each shown only if the one before was answered yes.
fn many_questions(n: usize) -> SourceFile {
    let mut text = String::from(
        "id = \"many\"\nversion = 1\nkind = \"kin\"\ntitle = \"Many\"\nlanguages = [\"en\"]\n\
         [[section]]\nid = \"main\"\ntitle = \"Main\"\n",
    );
    for i in 0..n {
        text.push_str(&format!(
            "[[section.question]]\nid = \"q{i}\"\nkind = \"yes_no\"\ntext = \"Q?\"\n"
        ));
        if i > 0 {
            text.push_str(&format!("show_if = \"q{} = 'yes'\"\n", i - 1));
        }
    }
    SourceFile::new("many.toml", text)
}

fn many_questions_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("survey check, N conditional questions");
    group.sample_size(10);
    let builtin = builtin_files();
    for n in [2_000, 18_000] {
        let file = many_questions(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &file, |b, f| {
            b.iter(|| {
                let loaded = load_set(std::slice::from_ref(f), &builtin);
                assert_eq!(loaded.error_count(), 0);
                loaded
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    polygon_import,
    long_conditions,
    many_questions_check
);
criterion_main!(benches);
