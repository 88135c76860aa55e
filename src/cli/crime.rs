//! `doorstep crime import|summary`: police.uk street-level crime for the area profile.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::Error;
use crate::geography::crime::{
    CrimeFile, CrimeSummary, IssueMapping, is_month, map_to_issues, parse_street_csv,
};
use crate::geography::{AreaSelection, GeographyError};

use super::areas::effective_geography;
use super::emit;

#[derive(Debug, Subcommand)]
pub enum CrimeCommand {
    /// Import police.uk street-level crime CSVs; each located row is assigned to its ward, PAA
    /// and LSOA by point-in-polygon. Re-importing the same rows changes nothing.
    Import {
        #[arg(required = true, value_name = "FILE.csv")]
        files: Vec<PathBuf>,
    },
    /// Recorded crime per category per month for an area, mapped to the issue taxonomy.
    Summary {
        /// A ward, PAA or LSOA code, or a township name.
        #[arg(long, value_name = "CODE")]
        area: String,
        #[arg(long, value_name = "YYYY-MM")]
        from: Option<String>,
        #[arg(long, value_name = "YYYY-MM")]
        to: Option<String>,
        /// An issue taxonomy file (`issues.toml`) to map categories to PACT issues.
        #[arg(long, value_name = "FILE")]
        taxonomy: Option<PathBuf>,
    },
}

pub fn run(cmd: &CrimeCommand, data_dir: &Path, out: &mut dyn Write) -> Result<(), Error> {
    match cmd {
        CrimeCommand::Import { files } => import(files, data_dir, out),
        CrimeCommand::Summary {
            area,
            from,
            to,
            taxonomy,
        } => summary(
            area,
            from.as_deref(),
            to.as_deref(),
            taxonomy.as_deref(),
            data_dir,
            out,
        ),
    }
}

/// Upper limit on malformed rows listed one by one per file.
const SHOW_MALFORMED: usize = 20;

fn import(files: &[PathBuf], data_dir: &Path, out: &mut dyn Write) -> Result<(), Error> {
    // Parse every file first: a file that is not a police.uk CSV stops the import before
    // anything is stored.
    let mut parsed: Vec<CrimeFile> = Vec::new();
    for path in files {
        let f = std::fs::File::open(path).map_err(|e| GeographyError::io(path, e))?;
        parsed.push(parse_street_csv(
            std::io::BufReader::new(f),
            &path.display().to_string(),
        )?);
    }
    let store = super::open_store(data_dir)?;
    let geography = effective_geography(&store)?;
    let locator = geography.locator();
    let ward_name = |code: &str| {
        geography
            .wards
            .as_ref()
            .and_then(|w| w.get(code))
            .map_or(String::new(), |a| a.name.clone())
    };
    let mut text = String::new();
    if geography.builtin {
        let _ = writeln!(
            text,
            "Assigning to the built-in Wigan demo geography (no boundaries imported)."
        );
    }
    let mut per_ward: BTreeMap<String, usize> = BTreeMap::new();
    let mut all = Vec::new();
    let (mut t_read, mut t_noloc, mut t_assigned, mut t_outside, mut t_bad, mut t_rep) =
        (0, 0, 0, 0, 0, 0);
    for mut file in parsed {
        let mut assigned = 0;
        let mut outside = 0;
        for (_, record) in &mut file.records {
            record.assign(&locator);
            if record.is_outside() {
                outside += 1;
            } else if record.is_located() {
                assigned += 1;
                if let Some(w) = &record.ward {
                    *per_ward.entry(w.clone()).or_insert(0) += 1;
                }
            }
        }
        let _ = writeln!(
            text,
            "{}: {} rows read, {} assigned to an area, {} \"No Location\", {} outside every area, \
             {} malformed, {} repeated Crime ID(s)",
            file.file,
            file.rows_read,
            assigned,
            file.no_location,
            outside,
            file.malformed.len(),
            file.repeated_ids.len()
        );
        for (line, problem) in file.malformed.iter().take(SHOW_MALFORMED) {
            let _ = writeln!(text, "  {}:{line}: skipped: {problem}", file.file);
        }
        if file.malformed.len() > SHOW_MALFORMED {
            let _ = writeln!(
                text,
                "  … and {} more malformed rows",
                file.malformed.len() - SHOW_MALFORMED
            );
        }
        for (id, first, again) in &file.repeated_ids {
            let _ = writeln!(
                text,
                "  {}:{again}: Crime ID {id} repeats line {first}: counted once",
                file.file
            );
        }
        t_read += file.rows_read;
        t_noloc += file.no_location;
        t_assigned += assigned;
        t_outside += outside;
        t_bad += file.malformed.len();
        t_rep += file.repeated_ids.len();
        all.extend(file.records);
    }
    let inserted = store.insert_crime(&all)?;
    if files.len() > 1 {
        let _ = writeln!(
            text,
            "Total: {t_read} rows read, {t_assigned} assigned, {t_noloc} \"No Location\", \
             {t_outside} outside every area, {t_bad} malformed, {t_rep} repeated Crime ID(s)"
        );
    }
    if !per_ward.is_empty() {
        let _ = writeln!(text, "Assigned per ward:");
        for (code, n) in &per_ward {
            let _ = writeln!(text, "  {code}  {:<32} {n:>6}", ward_name(code));
        }
    }
    let _ = writeln!(
        text,
        "Stored {} new record(s); {} already stored. The store holds {} crime record(s).",
        inserted.added,
        inserted.already_stored,
        store.crime_count()?
    );
    emit(out, &text)
}

fn summary(
    area: &str,
    from: Option<&str>,
    to: Option<&str>,
    taxonomy: Option<&Path>,
    data_dir: &Path,
    out: &mut dyn Write,
) -> Result<(), Error> {
    for m in [from, to].into_iter().flatten() {
        if !is_month(m) {
            return Err(GeographyError::Usage(format!("`{m}` is not a month (YYYY-MM)")).into());
        }
    }
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(GeographyError::Usage(format!("--from {f} is after --to {t}")).into());
    }
    let issues = match taxonomy {
        Some(path) => Some(read_taxonomy(path)?),
        None => builtin_issue_taxonomy()?,
    };
    let store = super::open_store(data_dir)?;
    let geography = effective_geography(&store)?;
    let selection = geography
        .select(area)
        .ok_or_else(|| GeographyError::UnknownArea(area.to_string()))?;
    let records = store.crime_records()?;
    let summary = CrimeSummary::of(&records, &selection, from, to);

    let heading = match &selection {
        AreaSelection::Township(t) => format!("township {} ({} wards)", t.name, t.wards.len()),
        AreaSelection::Area { level, area } => format!("{level} {} {}", area.code, area.name),
    };
    let mut text = format!(
        "Recorded crime in {heading}{}, {}\n(police.uk street-level data; locations are anonymised \
         to nearby points)\n",
        if geography.builtin {
            " (built-in demo)"
        } else {
            ""
        },
        match (from, to) {
            (None, None) => "all months".to_string(),
            (f, t) => format!("{} to {}", f.unwrap_or("start"), t.unwrap_or("end")),
        }
    );
    if summary.total == 0 {
        let _ = writeln!(text, "No recorded crime in this area for these months.");
        return emit(out, &text);
    }
    let months: Vec<&String> = summary.months.iter().collect();
    let row = |label: &str, counts: &mut dyn Iterator<Item = usize>| {
        let counts: Vec<usize> = counts.collect();
        let total: usize = counts.iter().sum();
        let mut line = format!("{label:<30}");
        for c in counts {
            let _ = write!(line, " {c:>7}");
        }
        let _ = write!(line, " {total:>7}");
        line
    };
    let header = {
        let mut h = format!("{:<30}", "police.uk category");
        for m in &months {
            let _ = write!(h, " {m:>7}");
        }
        let _ = write!(h, " {:>7}", "total");
        h
    };
    let _ = writeln!(text, "{header}");
    for (slug, _) in crate::police::CATEGORIES {
        if !summary.by_category.contains_key(slug) {
            continue;
        }
        let name = crate::police::name_for_slug(slug).unwrap_or(slug);
        let _ = writeln!(
            text,
            "{}",
            row(name, &mut months.iter().map(|m| summary.count(slug, m)))
        );
    }
    let _ = writeln!(
        text,
        "{}",
        row(
            "all categories",
            &mut months.iter().map(|m| summary
                .by_category
                .values()
                .map(|c| c.get(*m).copied().unwrap_or(0))
                .sum())
        )
    );
    match issues {
        Some(issues) => {
            let _ = writeln!(
                text,
                "\nBy PACT issue (one police.uk category can record several issues, so these \
                 rows overlap):"
            );
            let _ = writeln!(
                text,
                "{}",
                header.replacen("police.uk category", "issue", 1)
            );
            for issue in map_to_issues(&summary, &issues) {
                let label: String = issue.label.chars().take(30).collect();
                let _ = writeln!(
                    text,
                    "{}   ({})",
                    row(&label, &mut issue.by_month.values().copied()),
                    issue.categories.join(", ")
                );
            }
        }
        None => {
            let _ = writeln!(
                text,
                "\nNo issue taxonomy loaded: pass --taxonomy issues.toml to map categories to PACT issues."
            );
        }
    }
    emit(out, &text)
}

/// The built-in PACT issue taxonomy (`surveys/issues.toml`, compiled in).
fn builtin_issue_taxonomy() -> Result<Option<Vec<IssueMapping>>, Error> {
    let registry = crate::survey::registry::Registry::builtin()?;
    Ok(registry
        .entries()
        .first()
        .map(|e| Vec::<IssueMapping>::from(&e.survey.taxonomy)))
}

/// A taxonomy file, checked by the survey engine's own loader (same messages as
/// `survey check`).
fn read_taxonomy(path: &Path) -> Result<Vec<IssueMapping>, Error> {
    let file =
        crate::survey::registry::read_file(path).map_err(|d| Error::BadInput(d.to_string()))?;
    let (taxonomy, diagnostics) = crate::survey::load::load_taxonomy_file(&file);
    if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
        return Err(Error::BadInput(d.to_string()));
    }
    Ok(Vec::<IssueMapping>::from(&taxonomy))
}
