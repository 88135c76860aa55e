//! Assigning 1,000,000 points to the 200 Wigan LSOAs: by the shapes alone (R-tree of
//! bounding boxes, then exact point-in-polygon), and with the grids of a locator for many
//! points built first. Criterion reports the throughput in points per second.

// Test and benchmark code: a failed unwrap is a failed run, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use doorstep::geography::boundary::{Fields, read_layer};
use doorstep::geography::{Level, Locator};

const POINTS: usize = 1_000_000;

fn points() -> Vec<(f64, f64)> {
    // Deterministic xorshift over Wigan's bounding box (some points fall outside every LSOA,
    // as real data does).
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..POINTS)
        .map(|_| (-2.74 + 0.33 * next(), 53.47 + 0.14 * next()))
        .collect()
}

fn locate(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/geodata/boundaries/wigan_lsoa_2011_E08000010.geojson");
    let text = std::fs::read_to_string(&path).expect("the Wigan LSOA fixture is readable");
    let layer = read_layer(&text, "wigan_lsoa_2011", Level::Lsoa, &Fields::default())
        .expect("the Wigan LSOAs import")
        .layer;
    let points = points();
    let count = |locator: &Locator| {
        let mut inside = 0usize;
        for &(lon, lat) in &points {
            if locator
                .locate_code(Level::Lsoa, black_box(lon), black_box(lat))
                .is_some()
            {
                inside += 1;
            }
        }
        inside
    };
    let mut group = c.benchmark_group("locate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(POINTS as u64));
    let one = Locator::from_layers([&layer], None);
    group.bench_function("1M points to 200 Wigan LSOAs, by the shapes", |b| {
        b.iter(|| black_box(count(&one)))
    });
    // As `crime import` does: the grids are built, then every point assigned.
    group.bench_function(
        "1M points to 200 Wigan LSOAs, gridded (grids built each time)",
        |b| b.iter(|| black_box(count(&Locator::from_layers_for_many([&layer], None)))),
    );
    group.finish();
}

criterion_group!(benches, locate);
criterion_main!(benches);
