//! `doorstep areas import|apply|list|locate`: boundary layers, the area plan, and point lookup.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{ArgGroup, Subcommand};

use crate::Error;
use crate::geography::boundary::{Fields, read_layer};
use crate::geography::plan::{AreaPlan, Paa, resolve_plan, share_outside};
use crate::geography::{
    Geography, GeographyError, Layer, LayerChange, Level, bng, builtin, read_file,
};
use crate::output::{self, Cell, Column, Document, Format, Item, Outline, Table};
use crate::store::Store;

use super::print;

#[derive(Debug, Subcommand)]
pub enum AreasCommand {
    /// Import a boundary layer from GeoJSON (WGS84 or British National Grid); replaces the
    /// stored layer of that level and says what changed.
    Import {
        #[arg(value_name = "FILE.geojson")]
        file: PathBuf,
        /// ward, lsoa or paa.
        #[arg(long)]
        level: Level,
        /// The property holding the area code (detected for common ONS files).
        #[arg(long, value_name = "F")]
        code_field: Option<String>,
        /// The property holding the area name (detected for common ONS files).
        #[arg(long, value_name = "F")]
        name_field: Option<String>,
        /// Allow an import that removes more than half of the stored layer's areas.
        #[arg(long)]
        replace: bool,
    },
    /// Apply an area plan (TOML): townships as lists of wards, PAAs inside wards.
    Apply {
        #[arg(value_name = "PLAN.toml")]
        plan: PathBuf,
    },
    /// List the layers and plan in use; `--tree` shows township → ward → PAA.
    List {
        #[arg(long)]
        tree: bool,
        /// Print JSON: table `layers` (`level`, `areas`, `source`), fields `plan` (`name`,
        /// `townships`, `paas`, `source`, `builtin`); with --tree, outline `townships`
        /// (`township`, then `wards` with `code`, `name`, then `paas` with `code`, `name`).
        #[arg(long)]
        json: bool,
    },
    /// The township, ward, PAA and LSOA containing a point.
    #[command(group(ArgGroup::new("point").required(true).args(["lat", "grid_ref", "bng"])))]
    Locate {
        /// Latitude (WGS84), with --lon.
        #[arg(
            long,
            requires = "lon",
            allow_negative_numbers = true,
            value_name = "Y"
        )]
        lat: Option<f64>,
        /// Longitude (WGS84), with --lat.
        #[arg(
            long,
            requires = "lat",
            allow_negative_numbers = true,
            value_name = "X"
        )]
        lon: Option<f64>,
        /// An Ordnance Survey grid reference, e.g. "SD 5760 0540".
        #[arg(long, value_name = "REF")]
        grid_ref: Option<String>,
        /// British National Grid easting and northing in metres.
        #[arg(long, num_args = 2, value_names = ["E", "N"], allow_negative_numbers = true)]
        bng: Option<Vec<f64>>,
        /// Print JSON: fields `location` with `lat`, `lon`, `point` (as described in text),
        /// `outside`, `township`, `ward_code`, `ward_name`, `paa_code`, `paa_name`,
        /// `lsoa_code`, `lsoa_name`, `builtin`.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(
    cmd: &AreasCommand,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    match cmd {
        AreasCommand::Import {
            file,
            level,
            code_field,
            name_field,
            replace,
        } => import(
            file,
            *level,
            &Fields {
                code: code_field.clone(),
                name: name_field.clone(),
            },
            *replace,
            data_dir,
            out,
            err,
        ),
        AreasCommand::Apply { plan } => apply(plan, data_dir, out, err),
        AreasCommand::List { tree, json } => {
            list(*tree, data_dir, Format::json_if(*json), out, err)
        }
        AreasCommand::Locate {
            lat,
            lon,
            grid_ref,
            bng,
            json,
        } => locate(
            PointArgs {
                lat: *lat,
                lon: *lon,
                grid_ref: grid_ref.as_deref(),
                bng_en: bng.as_deref(),
            },
            data_dir,
            Format::json_if(*json),
            out,
            err,
        ),
    }
}

fn file_label(path: &Path) -> String {
    path.display().to_string()
}

fn import(
    path: &Path,
    level: Level,
    fields: &Fields,
    replace: bool,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let text = read_file(path)?;
    let label = file_label(path);
    let imported = read_layer(&text, &label, level, fields)?;
    let store = super::open_store(data_dir, err)?;
    let mut geography = store.stored_geography()?;
    let was_empty = geography.is_empty();
    let mut report = Document::new();
    let mut layer = imported.layer;
    let mut warnings = Vec::new();

    if level == Level::Paa {
        let Some(wards) = &geography.wards else {
            return Err(GeographyError::Usage(
                "import a ward layer before PAAs: each PAA is placed in the ward holding most of it"
                    .into(),
            )
            .into());
        };
        let paas = place_paas(&layer, wards, &mut warnings);
        let plan = geography.plan.get_or_insert_with(|| AreaPlan {
            name: format!("PAAs from {label}"),
            source: label.clone(),
            townships: Vec::new(),
            paas: Vec::new(),
        });
        plan.paas = paas;
    }
    let change = LayerChange::between(geography.layer(level), &layer);
    change.check_replacement(geography.layer(level), &label, replace)?;
    let previous_source = geography.layer(level).map(|l| l.source.clone());
    layer.source = label.clone();
    match level {
        Level::Ward => geography.wards = Some(layer),
        Level::Lsoa => geography.lsoas = Some(layer),
        Level::Paa => geography.paas = Some(layer),
    }
    plan_consistency(&geography, level, &mut warnings);

    let count = geography.layer(level).map_or(0, |l| l.areas.len());
    report.paragraph(format!(
        "Imported {label} as the {level} layer: {count} areas ({}, code `{}`, name `{}`).",
        imported.crs, imported.code_field, imported.name_field
    ));
    for note in &imported.notes {
        report.paragraph(format!("  {note}"));
    }
    match previous_source {
        None => report.paragraph(format!("New {level} layer.")),
        Some(source) => report.paragraph(format!(
            "Replaced the {level} layer from {source}: {}",
            describe_change(&change)
        )),
    };
    if was_empty {
        report.paragraph(
            "The built-in Wigan demo geography is no longer used: only imported layers are.",
        );
    }
    store.write_geography(&geography)?;
    let moved = reassign(&store, &geography)?;
    for w in &warnings {
        report.warning(w);
    }
    if let Some(moved) = moved {
        report.paragraph(format!(
            "{moved} stored crime record(s) moved to different areas."
        ));
    }
    print(out, &report, Format::Text)
}

/// Each imported PAA goes in the ward holding most of it; any share outside is a warning.
fn place_paas(layer: &Layer, wards: &Layer, warnings: &mut Vec<String>) -> Vec<Paa> {
    layer
        .areas
        .iter()
        .map(|paa| {
            let best = wards
                .areas
                .iter()
                .map(|w| (w, 1.0 - share_outside(&paa.shape, &w.shape)))
                .filter(|(_, inside)| *inside > 0.0)
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let ward = match best {
                Some((w, inside)) => {
                    if inside < 0.999 {
                        warnings.push(format!(
                            "PAA {} ({}): {:.1}% of it lies outside its ward {} ({})",
                            paa.code,
                            paa.name,
                            (1.0 - inside) * 100.0,
                            w.code,
                            w.name
                        ));
                    }
                    w.code.clone()
                }
                None => {
                    warnings.push(format!(
                        "PAA {} ({}) lies in no ward of the ward layer",
                        paa.code, paa.name
                    ));
                    String::new()
                }
            };
            Paa {
                code: paa.code.clone(),
                name: paa.name.clone(),
                ward,
                lsoas: Vec::new(),
                polygon_file: Some(layer.source.clone()),
            }
        })
        .collect()
}

/// After a layer changes, the plan may name wards that are gone or PAAs built from old LSOAs.
fn plan_consistency(geography: &Geography, level: Level, warnings: &mut Vec<String>) {
    let Some(plan) = &geography.plan else {
        return;
    };
    match level {
        Level::Ward => {
            let has = |code: &str| {
                geography
                    .wards
                    .as_ref()
                    .is_some_and(|w| w.get(code).is_some())
            };
            for t in &plan.townships {
                for w in t.wards.iter().filter(|w| !has(w)) {
                    warnings.push(format!(
                        "township `{}` lists ward {w}, which the new ward layer lacks",
                        t.name
                    ));
                }
            }
            for p in plan.paas.iter().filter(|p| !has(&p.ward)) {
                warnings.push(format!(
                    "PAA {} ({}) is in ward {}, which the new ward layer lacks",
                    p.code, p.name, p.ward
                ));
            }
        }
        Level::Lsoa => {
            let built: Vec<&str> = plan
                .paas
                .iter()
                .filter(|p| !p.lsoas.is_empty())
                .map(|p| p.code.as_str())
                .collect();
            if !built.is_empty() {
                warnings.push(format!(
                    "PAA(s) {} were built from the previous LSOA layer; apply the plan \
                     again (`doorstep areas apply PLAN`) to rebuild them",
                    built.join(", ")
                ));
            }
        }
        Level::Paa => {}
    }
}

fn describe_change(change: &LayerChange) -> String {
    if change.is_empty() {
        return format!("no change ({} areas unchanged).", change.unchanged);
    }
    let list = |codes: &[String]| {
        let shown: Vec<&str> = codes.iter().take(10).map(String::as_str).collect();
        let more = codes.len().saturating_sub(10);
        if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    let mut parts = vec![format!("{} unchanged", change.unchanged)];
    if !change.added.is_empty() {
        parts.push(format!(
            "{} added ({})",
            change.added.len(),
            list(&change.added)
        ));
    }
    if !change.removed.is_empty() {
        parts.push(format!(
            "{} removed ({})",
            change.removed.len(),
            list(&change.removed)
        ));
    }
    if !change.renamed.is_empty() {
        let renamed: Vec<String> = change
            .renamed
            .iter()
            .map(|(c, old, new)| format!("{c}: {old} → {new}"))
            .collect();
        parts.push(format!("{} renamed ({})", renamed.len(), list(&renamed)));
    }
    if !change.reshaped.is_empty() {
        parts.push(format!(
            "{} with new boundaries ({})",
            change.reshaped.len(),
            list(&change.reshaped)
        ));
    }
    format!("{}.", parts.join(", "))
}

/// Re-assigns stored crime after the geography changed; `None` when there is none stored.
fn reassign(store: &Store, geography: &Geography) -> Result<Option<usize>, Error> {
    if store.crime_count()? == 0 {
        return Ok(None);
    }
    Ok(Some(store.reassign_crime(&geography.bulk_locator())?))
}

fn apply(
    path: &Path,
    data_dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let text = read_file(path)?;
    let label = file_label(path);
    let store = super::open_store(data_dir, err)?;
    let mut geography = store.stored_geography()?;
    let mut report = Document::new();
    if geography.is_empty() {
        // The plan is checked against the built-in boundaries, so those become the stored ones.
        let builtin = builtin::geography()?;
        geography.wards = builtin.wards;
        geography.lsoas = builtin.lsoas;
        report.paragraph(
            "No boundaries imported: the plan is checked against the built-in Wigan wards (2013) \
             and LSOAs (2011), which are now stored.",
        );
    }
    let Some(wards) = &geography.wards else {
        return Err(GeographyError::Usage(
            "import a ward layer first (`doorstep areas import FILE --level ward`)".into(),
        )
        .into());
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let resolved = resolve_plan(&text, &label, base, wards, geography.lsoas.as_ref())?;
    let old_plan = geography.plan.take();
    let paa_change = LayerChange::between(geography.paas.as_ref(), &resolved.paa_layer);
    report.paragraph(format!(
        "Applied plan `{}` from {label}: {} township(s), {} ward(s) in townships, {} PAA(s).",
        resolved.plan.name,
        resolved.plan.townships.len(),
        resolved
            .plan
            .townships
            .iter()
            .map(|t| t.wards.len())
            .sum::<usize>(),
        resolved.plan.paas.len()
    ));
    match &old_plan {
        None => report.paragraph("No plan was applied before."),
        Some(old) => report.paragraph(format!(
            "Replaced plan `{}`: townships {}; PAAs: {}",
            old.name,
            describe_townships(old, &resolved.plan),
            describe_change(&paa_change)
        )),
    };
    geography.paas = Some(resolved.paa_layer);
    geography.plan = Some(resolved.plan);
    store.write_geography(&geography)?;
    for w in &resolved.warnings {
        // The plan reader words its warnings whole (`warning: …`).
        match w.strip_prefix("warning: ") {
            Some(w) => report.warning(w),
            None => report.paragraph(w),
        };
    }
    if let Some(moved) = reassign(&store, &geography)? {
        report.paragraph(format!(
            "{moved} stored crime record(s) moved to different areas."
        ));
    }
    print(out, &report, Format::Text)
}

fn describe_townships(old: &AreaPlan, new: &AreaPlan) -> String {
    let mut parts = Vec::new();
    for t in &new.townships {
        match old.townships.iter().find(|o| o.name == t.name) {
            None => parts.push(format!("`{}` added", t.name)),
            Some(o) if o.wards != t.wards => parts.push(format!("`{}` wards changed", t.name)),
            Some(_) => {}
        }
    }
    for o in &old.townships {
        if !new.townships.iter().any(|t| t.name == o.name) {
            parts.push(format!("`{}` removed", o.name));
        }
    }
    if parts.is_empty() {
        "unchanged".into()
    } else {
        parts.join(", ")
    }
}

const DEMO_LABEL: &str = "(built-in demo)";

fn list(
    tree: bool,
    data_dir: &Path,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    // Only reads: a shared lock, nothing in the data directory written.
    let store = super::open_store_read_only(data_dir, err)?;
    let geography = store.stored_geography()?.or_builtin()?;
    let demo = if geography.builtin {
        format!(" {DEMO_LABEL}")
    } else {
        String::new()
    };
    let mut doc = Document::new();
    if tree {
        match &geography.plan {
            Some(plan) => doc.heading(format!("Area plan: {}{demo}", plan.name)),
            None => doc.heading(format!("No area plan applied{demo}")),
        };
        let items: Vec<Item> = geography
            .tree()
            .into_iter()
            .map(|node| {
                let wards = node
                    .wards
                    .into_iter()
                    .map(|w| {
                        let paas = w
                            .paas
                            .into_iter()
                            .map(|p| {
                                Item::new(format!("PAA {}  {}", p.code, p.name))
                                    .field("code", p.code)
                                    .field("name", p.name)
                            })
                            .collect();
                        Item::new(format!("ward {}  {}", w.ward.code, w.ward.name))
                            .field("code", w.ward.code)
                            .field("name", w.ward.name)
                            .children("paas", paas)
                    })
                    .collect();
                Item::new(node.name.as_deref().unwrap_or("(wards in no township)"))
                    .field("township", node.name)
                    .children("wards", wards)
            })
            .collect();
        doc.outline(Outline::new("townships", items).when_empty("No ward layer: nothing to show."));
    } else {
        doc.heading(format!("Boundary layers{demo}:"));
        let mut layers = Table::new(
            "layers",
            vec![
                Column::text("level", "LEVEL"),
                Column::integer("areas", "AREAS"),
                Column::text("source", "SOURCE"),
            ],
        );
        for level in Level::ALL {
            match geography.layer(level) {
                Some(l) => layers.push(vec![
                    Cell::from(level.to_string()),
                    Cell::from(l.areas.len()),
                    Cell::from(&l.source),
                ]),
                None => layers.push(vec![
                    Cell::from(level.to_string()),
                    Cell::from(None::<usize>).shown_as("-"),
                    Cell::from(None::<String>).shown_as("not imported"),
                ]),
            }
        }
        doc.table(layers);
        let mut plan = output::Fields::new("plan");
        match &geography.plan {
            Some(p) => {
                plan.add_labelled(
                    "name",
                    "Area plan",
                    Cell::from(&p.name).shown_as(format!(
                        "{}{demo} ({} township(s), {} PAA(s)) from {}",
                        p.name,
                        p.townships.len(),
                        p.paas.len(),
                        p.source
                    )),
                );
                plan.add_hidden("townships", p.townships.len());
                plan.add_hidden("paas", p.paas.len());
                plan.add_hidden("source", &p.source);
            }
            None => {
                plan.add_labelled(
                    "name",
                    "Area plan",
                    Cell::from(None::<String>).shown_as("none applied"),
                );
            }
        }
        plan.add_hidden("builtin", geography.builtin);
        doc.fields(plan);
        doc.note("Use --tree for township → ward → PAA.");
    }
    if geography.builtin {
        doc.note(builtin::ATTRIBUTION);
    }
    print(out, &doc, format)
}

/// The point `areas locate` was given, in whichever of its three forms.
struct PointArgs<'a> {
    lat: Option<f64>,
    lon: Option<f64>,
    grid_ref: Option<&'a str>,
    bng_en: Option<&'a [f64]>,
}

fn locate(
    point: PointArgs<'_>,
    data_dir: &Path,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    // Work out the point before touching the store, so a bad point changes nothing.
    let PointArgs {
        lat,
        lon,
        grid_ref,
        bng_en,
    } = point;
    let (lon, lat, described) = match (lat, lon, grid_ref, bng_en) {
        (Some(lat), Some(lon), _, _) => {
            bng::check_lat_lon(lat, lon)?;
            let grid = bng::wgs84_to_bng(lon, lat)
                .ok()
                .and_then(|(e, n)| bng::format_grid_ref(e, n, 5).ok())
                .map(|g| format!(", grid ref {g}"))
                .unwrap_or_default();
            (lon, lat, format!("lat {lat:.6}, lon {lon:.6}{grid}"))
        }
        (_, _, Some(text), _) => {
            let g = bng::parse_grid_ref(text)?;
            let (e, n) = g.centre();
            let (lon, lat) = bng::bng_to_wgs84(e, n)?;
            (
                lon,
                lat,
                format!(
                    "grid ref {} (centre of its {} m square: E {e:.0}, N {n:.0}; lat {lat:.6}, lon {lon:.6})",
                    text.trim(),
                    g.precision_m
                ),
            )
        }
        (_, _, _, Some([e, n])) => {
            let (lon, lat) = bng::bng_to_wgs84(*e, *n)?;
            let grid = bng::format_grid_ref(*e, *n, 5)?;
            (
                lon,
                lat,
                format!("E {e}, N {n} (grid ref {grid}; lat {lat:.6}, lon {lon:.6})"),
            )
        }
        _ => {
            return Err(Error::Usage(
                "give --lat and --lon, --grid-ref, or --bng E N".into(),
            ));
        }
    };
    let store = super::open_store(data_dir, err)?;
    let geography = store.stored_geography()?.or_builtin()?;
    let found = geography.locator().locate(lon, lat);
    let demo = if geography.builtin {
        format!(" {DEMO_LABEL}")
    } else {
        String::new()
    };
    let mut fields = output::Fields::new("location");
    fields.add_labelled("point", "Point", described);
    fields.add_hidden("lat", lat);
    fields.add_hidden("lon", lon);
    fields.add_hidden("outside", found.is_outside());
    fields.add_hidden("builtin", geography.builtin);
    let mut doc = Document::new();
    if found.is_outside() {
        doc.fields(fields);
        doc.paragraph(format!("Outside every area{demo}."));
    } else {
        let township = found.township.as_deref().unwrap_or("none");
        fields.add_labelled(
            "township",
            "Township",
            Cell::from(found.township.clone()).shown_as(format!("{township}{demo}")),
        );
        for (key, label, area) in [
            ("ward", "Ward", &found.ward),
            ("paa", "PAA", &found.paa),
            ("lsoa", "LSOA", &found.lsoa),
        ] {
            let code = area.as_ref().map(|a| a.code.clone());
            let name = area.as_ref().map(|a| a.name.clone());
            let shown = area
                .as_ref()
                .map_or("none".to_string(), |a| format!("{}  {}", a.code, a.name));
            fields.add_labelled(
                &format!("{key}_code"),
                label,
                Cell::from(code).shown_as(shown),
            );
            fields.add_hidden(&format!("{key}_name"), name);
        }
        doc.fields(fields);
    }
    print(out, &doc, format)
}
