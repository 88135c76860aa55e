//! Helper for `bench/compare.sh`: our side of each comparison, timed in-process, on the
//! same input files the Python side reads.
//!
//! - `scale points FILE N` writes N police.uk-style points (`longitude,latitude`) spread
//!   over Wigan's bounding box, some outside every LSOA as in real data.
//! - `scale locate LSOAS.geojson FILE` assigns every point of FILE to its LSOA and prints
//!   `seconds inside` (the time excludes reading the files).
//! - `scale jsonl DIR OUT` writes every response of the (unencrypted) batch files in DIR
//!   as one JSON line each, for DuckDB to load the same records a merge reads.

// A measuring tool: its results are its printed output.
#![allow(clippy::print_stdout, clippy::print_stderr)]
// Test and benchmark code: a failed unwrap is a failed run, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use doorstep::batch::{self, Record};
use doorstep::geography::boundary::{Fields, read_layer};
use doorstep::geography::{Level, Locator};

type Failure = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["points", file, n] => n
            .parse()
            .map_err(|e| format!("bad N `{n}`: {e}").into())
            .and_then(|n| points(Path::new(file), n)),
        ["locate", lsoas, file] => locate(Path::new(lsoas), Path::new(file)),
        ["jsonl", dir, out] => jsonl(Path::new(dir), Path::new(out)),
        _ => {
            Err("usage: scale points FILE N | scale locate LSOAS FILE | scale jsonl DIR OUT".into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scale: {e}");
            ExitCode::FAILURE
        }
    }
}

fn points(file: &Path, n: usize) -> Result<(), Failure> {
    // Deterministic xorshift over Wigan's bounding box (as bench/locate.rs).
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = BufWriter::new(std::fs::File::create(file)?);
    writeln!(out, "longitude,latitude")?;
    for _ in 0..n {
        writeln!(
            out,
            "{:.6},{:.6}",
            -2.74 + 0.33 * next(),
            53.47 + 0.14 * next()
        )?;
    }
    out.flush()?;
    Ok(())
}

fn locate(lsoas: &Path, file: &Path) -> Result<(), Failure> {
    let text = std::fs::read_to_string(lsoas)?;
    let layer = read_layer(&text, "lsoas", Level::Lsoa, &Fields::default())?.layer;
    let mut points = Vec::new();
    for line in std::io::BufReader::new(std::fs::File::open(file)?)
        .lines()
        .skip(1)
    {
        let line = line?;
        let (lon, lat) = line.split_once(',').ok_or("a line without a comma")?;
        points.push((lon.parse::<f64>()?, lat.parse::<f64>()?));
    }
    // As `crime import` does: the index and grids are built, then every point assigned.
    let t = Instant::now();
    let locator = Locator::from_layers_for_many([&layer], None);
    let inside = points
        .iter()
        .filter(|(lon, lat)| locator.locate_code(Level::Lsoa, *lon, *lat).is_some())
        .count();
    println!("{:.4} {inside}", t.elapsed().as_secs_f64());
    Ok(())
}

fn jsonl(dir: &Path, out: &Path) -> Result<(), Failure> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut w = BufWriter::new(std::fs::File::create(out)?);
    for f in files {
        let b = batch::open(&std::fs::read(&f)?, None)?;
        for r in b.records {
            if let Record::Response(r) = r {
                serde_json::to_writer(&mut w, &r)?;
                w.write_all(b"\n")?;
            }
        }
    }
    w.flush()?;
    Ok(())
}
