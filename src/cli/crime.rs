//! `doorstep crime import|summary`: police.uk street-level crime for the area profile.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::Error;
use crate::geography::crime::{
    CrimeFile, CrimeSummary, IssueMapping, is_month, map_to_issues, read_street_csv,
};
use crate::geography::{AreaSelection, GeographyError};
use crate::output::{Cell, Column, Document, Fields, Format, Kind, Table, Value};

use super::print;

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
        /// Print JSON: fields `summary` (`area`, `level`, `name`, `from`, `to`, `builtin`),
        /// table `categories` (`category`, `slug`, one integer per month keyed `YYYY-MM`,
        /// `total`; the last row is `all categories` with `slug` null) and, with a taxonomy,
        /// table `issues` (`issue`, months, `total`, `categories`).
        #[arg(long)]
        json: bool,
    },
}

pub fn run(
    cmd: &CrimeCommand,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    match cmd {
        CrimeCommand::Import { files } => import(files, data_dir, out, err),
        CrimeCommand::Summary {
            area,
            from,
            to,
            taxonomy,
            json,
        } => summary(
            area,
            (from.as_deref(), to.as_deref()),
            taxonomy.as_deref(),
            data_dir,
            Format::json_if(*json),
            out,
            err,
        ),
    }
}

/// Upper limit on malformed rows listed one by one per file.
const SHOW_MALFORMED: usize = 20;

fn import(
    files: &[PathBuf],
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    // Parse every file first: a file that is not a police.uk CSV stops the import before
    // anything is stored.
    let mut parsed: Vec<CrimeFile> = Vec::new();
    for path in files {
        parsed.push(read_street_csv(path)?);
    }
    let store = super::open_store(data_dir, err)?;
    let geography = store.stored_geography()?.or_builtin()?;
    let locator = geography.bulk_locator();
    let ward_name = |code: &str| {
        geography
            .wards
            .as_ref()
            .and_then(|w| w.get(code))
            .map_or(String::new(), |a| a.name.clone())
    };
    let mut doc = Document::new();
    if geography.builtin {
        doc.paragraph("Assigning to the built-in Wigan demo geography (no boundaries imported).");
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
        doc.paragraph(format!(
            "{}: {} rows read, {} assigned to an area, {} \"No Location\", {} outside every area, \
             {} malformed, {} repeated Crime ID(s)",
            file.file,
            file.rows_read,
            assigned,
            file.no_location,
            outside,
            file.malformed.len(),
            file.repeated_ids.len()
        ));
        for (line, problem) in file.malformed.iter().take(SHOW_MALFORMED) {
            doc.paragraph(format!("  {}:{line}: skipped: {problem}", file.file));
        }
        if file.malformed.len() > SHOW_MALFORMED {
            doc.paragraph(format!(
                "  … and {} more malformed rows",
                file.malformed.len() - SHOW_MALFORMED
            ));
        }
        for (id, first, again) in &file.repeated_ids {
            doc.paragraph(format!(
                "  {}:{again}: Crime ID {id} repeats line {first}: counted once",
                file.file
            ));
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
        doc.paragraph(format!(
            "Total: {t_read} rows read, {t_assigned} assigned, {t_noloc} \"No Location\", \
             {t_outside} outside every area, {t_bad} malformed, {t_rep} repeated Crime ID(s)"
        ));
    }
    if !per_ward.is_empty() {
        doc.heading("Assigned per ward:");
        let mut wards = Table::new(
            "wards",
            vec![
                Column::text("code", "WARD"),
                Column::text("name", "NAME").max_width(40),
                Column::integer("records", "RECORDS"),
            ],
        );
        for (code, n) in &per_ward {
            wards.push(vec![
                Cell::from(code),
                Cell::from(ward_name(code)),
                Cell::from(*n),
            ]);
        }
        doc.table(wards);
    }
    doc.paragraph(format!(
        "Stored {} new record(s); {} already stored. The store holds {} crime record(s).",
        inserted.added,
        inserted.already_stored,
        store.crime_count()?
    ));
    print(out, &doc, Format::Text)
}

/// `months` is `--from` and `--to`, either open.
fn summary(
    area: &str,
    months: (Option<&str>, Option<&str>),
    taxonomy: Option<&Path>,
    data_dir: &Path,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let (from, to) = months;
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
    let store = super::open_store(data_dir, err)?;
    let geography = store.stored_geography()?.or_builtin()?;
    let selection = geography
        .select(area)
        .ok_or_else(|| GeographyError::UnknownArea(area.to_string()))?;
    let records = store.crime_records()?;
    let summary = CrimeSummary::of(&records, &selection, from, to);

    let (level, code, name) = match &selection {
        AreaSelection::Township(t) => ("township".to_string(), None, t.name.clone()),
        AreaSelection::Area { level, area } => (
            level.to_string(),
            Some(area.code.clone()),
            area.name.clone(),
        ),
    };
    let heading = match &selection {
        AreaSelection::Township(t) => format!("township {} ({} wards)", t.name, t.wards.len()),
        AreaSelection::Area { level, area } => format!("{level} {} {}", area.code, area.name),
    };
    let mut doc = Document::new();
    doc.heading(format!(
        "Recorded crime in {heading}{}, {}",
        if geography.builtin {
            " (built-in demo)"
        } else {
            ""
        },
        match (from, to) {
            (None, None) => "all months".to_string(),
            (f, t) => format!("{} to {}", f.unwrap_or("start"), t.unwrap_or("end")),
        }
    ));
    let mut about = Fields::new("summary");
    about.add_hidden("area", code);
    about.add_hidden("level", level);
    about.add_hidden("name", name);
    about.add_hidden("from", from);
    about.add_hidden("to", to);
    about.add_hidden("builtin", geography.builtin);
    doc.fields(about);
    doc.paragraph("(police.uk street-level data; locations are anonymised to nearby points)");
    if summary.total == 0 {
        doc.paragraph("No recorded crime in this area for these months.");
        return print(out, &doc, format);
    }
    let months: Vec<&String> = summary.months.iter().collect();
    // One integer column per month, then the total.
    let columns = |first: Column, slug: Option<Column>| {
        let mut c = vec![first];
        c.extend(slug);
        c.extend(months.iter().map(|m| Column::integer(m, m)));
        c.push(Column::integer("total", "total"));
        c
    };
    let counts = |cells: &mut Vec<Cell>, counts: Vec<usize>| {
        let total: usize = counts.iter().sum();
        cells.extend(counts.into_iter().map(Cell::from));
        cells.push(Cell::from(total));
    };
    let mut categories = Table::new(
        "categories",
        columns(
            Column::text("category", "police.uk category").max_width(30),
            Some(Column::text("slug", "SLUG").machine_only()),
        ),
    );
    for (slug, _) in crate::police::CATEGORIES {
        if !summary.by_category.contains_key(slug) {
            continue;
        }
        let name = crate::police::name_for_slug(slug).unwrap_or(slug);
        let mut row = vec![Cell::from(name), Cell::from(slug)];
        counts(
            &mut row,
            months.iter().map(|m| summary.count(slug, m)).collect(),
        );
        categories.push(row);
    }
    let mut all = vec![Cell::from("all categories"), Cell::from(Value::Null)];
    counts(
        &mut all,
        months
            .iter()
            .map(|m| {
                summary
                    .by_category
                    .values()
                    .map(|c| c.get(*m).copied().unwrap_or(0))
                    .sum()
            })
            .collect(),
    );
    categories.push(all);
    doc.table(categories);
    match issues {
        Some(issues) => {
            doc.heading(
                "By PACT issue (one police.uk category can record several issues, so these rows \
                 overlap):",
            );
            let mut cols = columns(Column::text("issue", "issue").max_width(30), None);
            cols.push(Column::new(
                "categories",
                "police.uk categories",
                Kind::List,
            ));
            let mut table = Table::new("issues", cols);
            for issue in map_to_issues(&summary, &issues) {
                let mut row = vec![Cell::from(issue.label.clone())];
                counts(&mut row, issue.by_month.values().copied().collect());
                row.push(
                    Cell::from(issue.categories.clone())
                        .shown_as(format!("({})", issue.categories.join(", "))),
                );
                table.push(row);
            }
            doc.table(table);
        }
        None => {
            doc.note(
                "No issue taxonomy loaded: pass --taxonomy issues.toml to map categories to PACT issues.",
            );
        }
    }
    print(out, &doc, format)
}

/// The built-in PACT issue taxonomy (`surveys/issues.toml`, compiled in), latest edition.
fn builtin_issue_taxonomy() -> Result<Option<Vec<IssueMapping>>, Error> {
    let file = crate::survey::registry::builtin_files()
        .into_iter()
        .find(|f| f.name.ends_with("issues.toml"));
    let Some(file) = file else {
        return Ok(None);
    };
    let (taxonomy, diagnostics) = crate::survey::load::load_taxonomy_file(&file);
    if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
        return Err(crate::survey::SurveyError::BuiltIn(d.to_string()).into());
    }
    Ok(Some(issue_mappings(&taxonomy)))
}

/// The survey's taxonomy as the crime summary needs it (built here, so geography need not
/// know the survey model).
fn issue_mappings(t: &crate::survey::Taxonomy) -> Vec<IssueMapping> {
    t.issues
        .iter()
        .map(|i| IssueMapping {
            id: i.id.clone(),
            label: i.label.get("en").to_string(),
            police_categories: i.police_categories.clone(),
        })
        .collect()
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
    Ok(issue_mappings(&taxonomy))
}
