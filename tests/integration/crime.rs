//! police.uk crime import and summary with the real Medway and Kent months. Expected counts are
//! derived here independently: a plain line split (these files quote nothing) and a
//! ray-casting point-in-polygon over the raw GeoJSON, not doorstep's parser or geo.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use doorstep::store::Store;

use super::geography::{doorstep, fixture, ok};

const MONTHS: [&str; 5] = ["2018-10", "2018-11", "2018-12", "2019-01", "2019-02"];

/// The block of a `--json` document with this name.
pub fn block<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["blocks"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["name"] == name))
        .unwrap_or_else(|| panic!("no block `{name}` in {json}"))
}

fn medway_file(month: &str) -> String {
    fixture(&format!("crime/medway/{month}-kent-street_medway-only.csv"))
        .to_str()
        .unwrap()
        .to_string()
}

/// `(code, name, polygons as rings of (x, y))` straight from the GeoJSON.
type RawWard = (String, String, Vec<Vec<Vec<(f64, f64)>>>);

fn raw_wards(file: &str) -> Vec<RawWard> {
    let text = std::fs::read_to_string(fixture(&format!("boundaries/{file}"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ring = |r: &serde_json::Value| -> Vec<(f64, f64)> {
        r.as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect()
    };
    let polygon = |p: &serde_json::Value| -> Vec<Vec<(f64, f64)>> {
        p.as_array().unwrap().iter().map(ring).collect()
    };
    json["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let g = &f["geometry"];
            let polys = match g["type"].as_str().unwrap() {
                "Polygon" => vec![polygon(&g["coordinates"])],
                _ => g["coordinates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(polygon)
                    .collect(),
            };
            (
                f["properties"]["WD13CD"].as_str().unwrap().to_string(),
                f["properties"]["WD13NM"].as_str().unwrap().to_string(),
                polys,
            )
        })
        .collect()
}

fn in_ring(x: f64, y: f64, ring: &[(f64, f64)]) -> bool {
    let mut inside = false;
    let mut j = ring.len() - 1;
    for i in 0..ring.len() {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn ward_of(wards: &[RawWard], x: f64, y: f64) -> Option<&str> {
    wards
        .iter()
        .find(|(_, _, polys)| {
            polys.iter().any(|rings| {
                in_ring(x, y, &rings[0]) && !rings[1..].iter().any(|h| in_ring(x, y, h))
            })
        })
        .map(|(code, _, _)| code.as_str())
}

#[derive(Default, Debug)]
struct Expected {
    rows: usize,
    no_location: usize,
    outside: usize,
    assigned: usize,
    repeated_ids: usize,
    per_ward: BTreeMap<String, usize>,
    /// month → ward → category name → count, over rows counted once.
    by_ward_month: HashMap<(String, String), BTreeMap<String, usize>>,
    /// Identity of each row as stored once: Crime ID, or the line and its ordinal among copies.
    identities: HashSet<String>,
}

fn expected(file: &str, wards: &[RawWard]) -> Expected {
    let text = std::fs::read_to_string(file).unwrap();
    let mut e = Expected::default();
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        e.rows += 1;
        let identity = if c[0].is_empty() {
            let n = copies.entry(line).or_insert(0);
            *n += 1;
            format!("{line}#{n}")
        } else {
            format!("{}/{}", c[1], c[0])
        };
        if !e.identities.insert(identity) {
            e.repeated_ids += 1;
            continue;
        }
        if c[4].is_empty() {
            e.no_location += 1;
            continue;
        }
        let (x, y): (f64, f64) = (c[4].parse().unwrap(), c[5].parse().unwrap());
        match ward_of(wards, x, y) {
            None => e.outside += 1,
            Some(w) => {
                e.assigned += 1;
                *e.per_ward.entry(w.to_string()).or_insert(0) += 1;
                *e.by_ward_month
                    .entry((w.to_string(), c[1].to_string()))
                    .or_default()
                    .entry(c[9].to_string())
                    .or_insert(0) += 1;
            }
        }
    }
    e
}

fn import_medway_wards(dir: &Path) {
    let wards = fixture("boundaries/medway_wards_2013_E06000035.geojson");
    ok(
        dir,
        &[
            "areas",
            "import",
            wards.to_str().unwrap(),
            "--level",
            "ward",
        ],
    );
}

#[test]
fn medway_months_import_with_exact_counts() {
    let dir = tempfile::tempdir().unwrap();
    import_medway_wards(dir.path());
    let wards = raw_wards("medway_wards_2013_E06000035.geojson");
    let files: Vec<String> = MONTHS.iter().map(|m| medway_file(m)).collect();
    let mut args = vec!["crime", "import"];
    args.extend(files.iter().map(String::as_str));
    let out = ok(dir.path(), &args);

    let mut per_ward: BTreeMap<String, usize> = BTreeMap::new();
    let mut stored_total = 0;
    let mut all = Vec::new();
    for file in &files {
        let e = expected(file, &wards);
        let line = format!(
            "{file}: {} rows read, {} assigned to an area, {} \"No Location\", {} outside every \
             area, 0 malformed, {} repeated Crime ID(s)",
            e.rows, e.assigned, e.no_location, e.outside, e.repeated_ids
        );
        assert!(out.contains(&line), "expected `{line}` in\n{out}");
        for (w, n) in &e.per_ward {
            *per_ward.entry(w.clone()).or_insert(0) += n;
        }
        stored_total += e.rows - e.repeated_ids;
        all.push(e);
    }
    // The README's row counts, as a check on the independent count itself.
    let rows: Vec<usize> = all.iter().map(|e| e.rows).collect();
    assert_eq!(rows, vec![3437, 2401, 1325, 3025, 2828]);
    let outside: Vec<usize> = all.iter().map(|e| e.outside).collect();
    assert!(
        outside.iter().sum::<usize>() > 0,
        "some points fall outside (estuary edge)"
    );
    for (code, n) in &per_ward {
        let name = &wards.iter().find(|w| &w.0 == code).unwrap().1;
        // A row of the per-ward table: code, name, count (columns padded to the widest).
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("{code}  {name}"))
                    && l.split_whitespace().last() == Some(n.to_string().as_str())),
            "expected {code} {name} {n} in\n{out}"
        );
    }
    assert!(out.contains(&format!(
        "Stored {stored_total} new record(s); 0 already stored. The store holds {stored_total} crime record(s)."
    )), "{out}");
    {
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.crime_count().unwrap(), stored_total);
    }

    // Re-importing the same files changes nothing.
    let again = ok(dir.path(), &args);
    assert!(again.contains(&format!(
        "Stored 0 new record(s); {stored_total} already stored. The store holds {stored_total} crime record(s)."
    )), "{again}");

    // The summary for one ward matches the independent counts, month by month.
    let ward = "E05002249"; // Chatham Central
    let summary = ok(dir.path(), &["crime", "summary", "--area", ward]);
    assert!(
        summary.contains("Recorded crime in ward E05002249 Chatham Central, all months"),
        "{summary}"
    );
    // The same numbers as JSON, checked against the independent count.
    let json: serde_json::Value = serde_json::from_str(&ok(
        dir.path(),
        &["crime", "summary", "--area", ward, "--json"],
    ))
    .unwrap();
    let about = block(&json, "summary");
    assert_eq!(about["fields"]["area"], ward);
    assert_eq!(about["fields"]["name"], "Chatham Central");
    assert_eq!(about["fields"]["level"], "ward");
    let rows = block(&json, "categories")["rows"]
        .as_array()
        .unwrap()
        .clone();
    let mut all_total = 0;
    for (slug, name) in doorstep::police::CATEGORIES {
        let counts: Vec<usize> = MONTHS
            .iter()
            .map(|m| {
                all.iter()
                    .filter_map(|e| e.by_ward_month.get(&(ward.to_string(), m.to_string())))
                    .filter_map(|c| c.get(name))
                    .sum()
            })
            .collect();
        let total: usize = counts.iter().sum();
        all_total += total;
        let row = rows.iter().find(|r| r["slug"] == *slug);
        if total == 0 {
            assert!(row.is_none(), "{slug}: {row:?}");
            assert!(
                !summary.contains(&format!("\n{name} ")),
                "{slug}: {summary}"
            );
            continue;
        }
        let row = row.unwrap_or_else(|| panic!("{slug} missing from {rows:?}"));
        assert_eq!(row["category"], *name);
        for (m, c) in MONTHS.iter().zip(&counts) {
            assert_eq!(row[*m], *c, "{slug} {m}");
        }
        assert_eq!(row["total"], total, "{slug}");
        // The text table shows the same row: name, each month, total.
        let line = summary
            .lines()
            .find(|l| l.starts_with(&format!("{name}  ")))
            .unwrap_or_else(|| panic!("{name} in\n{summary}"));
        let numbers: Vec<usize> = line[name.len()..]
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        let mut expected = counts.clone();
        expected.push(total);
        assert_eq!(numbers, expected, "{line}");
    }
    let last = rows.last().unwrap();
    assert_eq!(last["category"], "all categories");
    assert!(last["slug"].is_null());
    assert_eq!(last["total"], all_total);
    let limited = ok(
        dir.path(),
        &[
            "crime",
            "summary",
            "--area",
            "Chatham Central",
            "--from",
            "2018-12",
            "--to",
            "2019-01",
        ],
    );
    assert!(limited.contains("2018-12 to 2019-01"), "{limited}");
    assert!(
        !limited.contains("2018-10") && !limited.contains("2019-02"),
        "{limited}"
    );
}

#[test]
fn the_whole_kent_month_reports_no_location_and_the_repeated_crime_id() {
    let dir = tempfile::tempdir().unwrap();
    import_medway_wards(dir.path());
    let wards = raw_wards("medway_wards_2013_E06000035.geojson");
    let medway = medway_file("2019-01");
    ok(dir.path(), &["crime", "import", &medway]);
    let kent = fixture("crime/kent/2019-01-kent-street.csv");
    let kent = kent.to_str().unwrap();
    let out = ok(dir.path(), &["crime", "import", kent]);
    let e = expected(kent, &wards);
    assert_eq!((e.rows, e.no_location, e.repeated_ids), (17792, 257, 1));
    let line = format!(
        "{kent}: 17792 rows read, {} assigned to an area, 257 \"No Location\", {} outside every \
         area, 0 malformed, 1 repeated Crime ID(s)",
        e.assigned, e.outside
    );
    assert!(out.contains(&line), "expected `{line}` in\n{out}");
    assert!(out.contains(": Crime ID "), "{out}");
    assert!(out.contains("counted once"), "{out}");
    // The Medway rows of this month were already stored from the trimmed file.
    let m = expected(&medway, &wards);
    let new = e.identities.difference(&m.identities).count();
    let old = e.rows - e.repeated_ids - new;
    assert!(
        out.contains(&format!(
            "Stored {new} new record(s); {old} already stored."
        )),
        "{out}"
    );
}

#[test]
fn malformed_rows_are_reported_by_line_and_the_rest_imports() {
    let dir = tempfile::tempdir().unwrap();
    import_medway_wards(dir.path());
    let files = tempfile::tempdir().unwrap();
    let header = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n";
    let good = ",2018-10,Kent Police,Kent Police,0.525000,51.380000,On or near X,E01016016,Medway 015A,Anti-social behaviour,,\n";
    let text = format!(
        "{header}{good}{good}x1,2018-10,Kent Police,Kent Police,0.52,51.38,On or near Y,,,Burglary,\"Under investigation; more\",\n\
         x2,2018-1O,Kent Police,Kent Police,0.52,51.38,On or near Y,,,Burglary,,\n\
         x3,2018-10,Kent Police,Kent Police,0.52,51.38,On or near Y,,,Loitering,,\n\
         x4,2018-10,Kent Police,Kent Police,0.52,north,On or near Y,,,Burglary,,\n\
         x5,2018-10,Kent Police\n"
    );
    let path = files.path().join("mixed.csv");
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    let out = ok(dir.path(), &["crime", "import", p]);
    assert!(out.contains("7 rows read, 3 assigned to an area, 0 \"No Location\", 0 outside every area, 4 malformed"), "{out}");
    assert!(
        out.contains(&format!("{p}:5: skipped: month `2018-1O` is not YYYY-MM")),
        "{out}"
    );
    assert!(
        out.contains(&format!("{p}:6: skipped: unknown crime type `Loitering`")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{p}:7: skipped: bad longitude/latitude `0.52`, `north`"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{p}:8: skipped: 3 fields where the header has 12")),
        "{out}"
    );
    assert!(out.contains("Stored 3 new record(s)"), "{out}");

    // A file that is not a police.uk CSV stops the import before anything is stored.
    let other = files.path().join("other.csv");
    std::fs::write(&other, "name,value\na,1\n").unwrap();
    let run = doorstep(dir.path(), &["crime", "import", p, other.to_str().unwrap()]);
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(run.stderr.contains("not a police.uk street-level CSV: missing column(s) Crime ID, Month, Longitude, Latitude, Crime type"), "{}", run.stderr);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.crime_count().unwrap(), 3);
}

#[test]
fn summary_maps_categories_to_issues_and_rejects_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    import_medway_wards(dir.path());
    ok(dir.path(), &["crime", "import", &medway_file("2018-10")]);
    let files = tempfile::tempdir().unwrap();
    let taxonomy = files.path().join("issues.toml");
    std::fs::write(
        &taxonomy,
        "[[issue]]\nid = \"burglary\"\nlabel = { en = \"Burglary\" }\npolice_categories = [\"burglary\"]\n\n\
         [[issue]]\nid = \"theft\"\nlabel = \"Robbery and theft\"\npolice_categories = [\"robbery\", \"other-theft\", \"theft-from-the-person\"]\n\n\
         [[issue]]\nid = \"litter\"\nlabel = \"Litter\"\npolice_categories = []\n\n\
         [[issue]]\nid = \"other\"\nlabel = \"Other\"\n",
    )
    .unwrap();
    let t = taxonomy.to_str().unwrap();
    let out = ok(
        dir.path(),
        &["crime", "summary", "--area", "E05002249", "--taxonomy", t],
    );
    let json: serde_json::Value = serde_json::from_str(&ok(
        dir.path(),
        &[
            "crime",
            "summary",
            "--area",
            "E05002249",
            "--taxonomy",
            t,
            "--json",
        ],
    ))
    .unwrap();
    let category = |slug: &str| -> u64 {
        block(&json, "categories")["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["slug"] == slug)
            .map_or(0, |r| r["total"].as_u64().unwrap())
    };
    let issues = block(&json, "issues")["rows"].as_array().unwrap();
    let theft = issues
        .iter()
        .find(|r| r["issue"] == "Robbery and theft")
        .unwrap();
    assert_eq!(
        theft["total"].as_u64().unwrap(),
        category("robbery") + category("other-theft") + category("theft-from-the-person"),
        "{json}"
    );
    assert_eq!(
        theft["categories"],
        serde_json::json!(["robbery", "other-theft", "theft-from-the-person"])
    );
    assert!(issues.iter().all(|r| r["issue"] != "Litter"), "{json}");
    assert!(
        out.contains("(robbery, other-theft, theft-from-the-person)"),
        "{out}"
    );
    assert!(!out.contains("Litter"), "{out}");

    let bad_slug = files.path().join("bad.toml");
    std::fs::write(
        &bad_slug,
        "[[issue]]\nid = \"x\"\nlabel = \"X\"\npolice_categories = [\"jaywalking\"]\n",
    )
    .unwrap();
    let cases: [(&[&str], i32, String); 5] = [
        (
            &["--area", "E05002249", "--from", "2018-13"],
            2,
            "`2018-13` is not a month (YYYY-MM)".into(),
        ),
        (
            &[
                "--area",
                "E05002249",
                "--from",
                "2019-01",
                "--to",
                "2018-10",
            ],
            2,
            "--from 2019-01 is after --to 2018-10".into(),
        ),
        (
            &["--area", "E05999999"],
            2,
            "no area with code or name `E05999999`".into(),
        ),
        (
            &[
                "--area",
                "E05002249",
                "--taxonomy",
                bad_slug.to_str().unwrap(),
            ],
            65,
            format!(
                "{}:4:22: error: `jaywalking` is not a police.uk category slug",
                bad_slug.display()
            ),
        ),
        (
            &["--area", "E05002249", "--taxonomy", "missing.toml"],
            65,
            "missing.toml:1:1: error: cannot read".into(),
        ),
    ];
    for (args, code, message) in cases {
        let mut all = vec!["crime", "summary"];
        all.extend(args);
        let run = doorstep(dir.path(), &all);
        assert_eq!(run.code, code, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(&message), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn changing_boundaries_moves_stored_crime() {
    let dir = tempfile::tempdir().unwrap();
    // Into the built-in Wigan geography, Medway crime is all outside.
    let out = ok(dir.path(), &["crime", "import", &medway_file("2018-12")]);
    assert!(out.contains("built-in Wigan demo geography"), "{out}");
    assert!(
        out.contains("0 assigned to an area, 0 \"No Location\", 1325 outside every area"),
        "{out}"
    );
    // Importing Medway wards re-assigns what is stored.
    let wards = fixture("boundaries/medway_wards_2013_E06000035.geojson");
    let imported = ok(
        dir.path(),
        &[
            "areas",
            "import",
            wards.to_str().unwrap(),
            "--level",
            "ward",
        ],
    );
    assert!(
        imported.contains("1325 stored crime record(s) moved to different areas."),
        "{imported}"
    );
    let summary = ok(dir.path(), &["crime", "summary", "--area", "E05002249"]);
    assert!(summary.contains("all categories"), "{summary}");
}
