//! Boundaries, the area plan, locate and grid references, with the real files in
//! `tests/fixtures/geodata` (see its README for sources and attribution).

use std::path::{Path, PathBuf};
use std::process::Command;

use doorstep::geography::boundary::{Fields, read_layer};
use doorstep::geography::{Geography, Layer, Level, Locator, bng};
use doorstep::store::Store;
use geo::{Closest, ClosestPoint, Distance, Haversine, InteriorPoint, LineString, Point, Polygon};

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/geodata")
        .join(rel)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn doorstep(data_dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("DOORSTEP_DATA_DIR")
        .output()
        .expect("the doorstep binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs and insists on success, showing both streams otherwise.
pub fn ok(data_dir: &Path, args: &[&str]) -> String {
    let run = doorstep(data_dir, args);
    assert_eq!(
        run.code, 0,
        "doorstep {args:?} failed\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run.stdout
}

pub fn stored(data_dir: &Path) -> Geography {
    Store::open(data_dir)
        .expect("store opens")
        .stored_geography()
        .expect("store reads")
}

fn layer(file: &str, level: Level) -> Layer {
    let path = fixture(&format!("boundaries/{file}"));
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    read_layer(&text, file, level, &Fields::default())
        .expect("fixture imports")
        .layer
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn every_boundary_file_imports_and_the_invalid_lsoa_is_reported() {
    let cases = [
        ("dudley_lsoa_2011_E08000027.geojson", "lsoa", 201),
        ("dudley_wards_2013_E08000027.geojson", "ward", 24),
        ("medway_lsoa_2011_E06000035.geojson", "lsoa", 163),
        ("medway_wards_2013_E06000035.geojson", "ward", 22),
        (
            "test_valley_wards_2013_E07000093_has_hole.geojson",
            "ward",
            24,
        ),
        ("wigan_lsoa_2011_E08000010.geojson", "lsoa", 200),
        ("wigan_wards_2013_E08000010.geojson", "ward", 25),
        ("wigan_wards_2016_bng_epsg27700.geojson", "ward", 25),
        (
            "wigan_wards_may2023_generalised_E08000010.geojson",
            "ward",
            25,
        ),
    ];
    let on_disk = std::fs::read_dir(fixture("boundaries")).unwrap().count();
    assert_eq!(on_disk, cases.len(), "every fixture file is covered");
    for (file, level, count) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = fixture(&format!("boundaries/{file}"));
        let out = ok(
            dir.path(),
            &["areas", "import", path_str(&path), "--level", level],
        );
        assert!(
            out.contains(&format!("as the {level} layer: {count} areas")),
            "{file}: {out}"
        );
        let stored = stored(dir.path());
        let level: Level = level.parse().unwrap();
        assert_eq!(stored.layer(level).map(|l| l.areas.len()), Some(count));
        if file.starts_with("dudley_lsoa") {
            assert!(
                out.contains(
                    "feature E01033187 (Dudley 006G): invalid: exterior ring has a \
                     self-intersection at (-2.08"
                ),
                "{out}"
            );
            assert!(out.contains("repaired into"), "{out}");
            let repaired = stored.layer(level).unwrap().get("E01033187").unwrap();
            use geo::Validation;
            assert!(repaired.shape.is_valid());
        } else {
            assert!(!out.contains("invalid"), "{file}: {out}");
        }
        if file.contains("bng") {
            assert!(out.contains("British National Grid"), "{out}");
        }
    }
}

/// A small deterministic generator (xorshift64*), so the test is repeatable without a crate.
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn distance_to_edge_m(layer: &Layer, p: Point<f64>) -> f64 {
    let mut best = f64::INFINITY;
    for area in &layer.areas {
        for poly in &area.shape.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                if let Closest::SinglePoint(c) | Closest::Intersection(c) = ring.closest_point(&p) {
                    best = best.min(Haversine.distance(p, c));
                }
            }
        }
    }
    best
}

#[test]
fn bng_and_wgs84_wigan_wards_agree_on_1000_interior_points() {
    let wgs = layer("wigan_wards_2013_E08000010.geojson", Level::Ward);
    let bng_layer = layer("wigan_wards_2016_bng_epsg27700.geojson", Level::Ward);
    let by_wgs = Locator::from_layers([&wgs], None);
    let by_bng = Locator::from_layers([&bng_layer], None);
    let (min_x, max_x, min_y, max_y) = (-2.74, -2.41, 53.47, 53.61);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut checked = 0;
    let mut tries = 0;
    while checked < 1000 {
        tries += 1;
        assert!(tries < 100_000, "could not find 1000 interior points");
        let lon = min_x + (max_x - min_x) * rng.next_f64();
        let lat = min_y + (max_y - min_y) * rng.next_f64();
        let Some(ward) = by_wgs.locate_code(Level::Ward, lon, lat) else {
            continue;
        };
        // 100 m clear of every edge: the two files were generalised differently.
        if distance_to_edge_m(&wgs, Point::new(lon, lat)) < 100.0 {
            continue;
        }
        assert_eq!(
            by_bng.locate_code(Level::Ward, lon, lat),
            Some(ward),
            "lat {lat}, lon {lon}"
        );
        checked += 1;
    }
}

#[test]
fn a_point_in_the_hole_of_romsey_extra_is_not_in_romsey_extra() {
    let wards = layer(
        "test_valley_wards_2013_E07000093_has_hole.geojson",
        Level::Ward,
    );
    let romsey = wards
        .areas
        .iter()
        .find(|a| a.name == "Romsey Extra")
        .expect("Romsey Extra is in the file");
    let hole: &LineString<f64> = romsey
        .shape
        .0
        .iter()
        .flat_map(|p| p.interiors())
        .next()
        .expect("Romsey Extra has a hole");
    let in_hole = Polygon::new(hole.clone(), vec![])
        .interior_point()
        .expect("the hole has an interior point");
    let locator = Locator::from_layers([&wards], None);
    let found = locator.locate(in_hole.x(), in_hole.y());
    let ward = found.ward.expect("the hole is filled by other wards");
    assert_ne!(ward.code, romsey.code);
    assert_ne!(ward.name, "Romsey Extra");
    // And Romsey Extra itself is still found around its hole.
    let inside = romsey.shape.interior_point().unwrap();
    assert_eq!(
        locator.locate_code(Level::Ward, inside.x(), inside.y()),
        Some(romsey.code.as_str())
    );
}

/// Ordnance Survey's OSTN15 test points (OSTN15/OSGM15 developer pack): ETRS89 latitude and
/// longitude with their published OSGB36 eastings and northings.
const OS_TEST_POINTS: [(&str, f64, f64, f64, f64); 5] = [
    ("TP01", 49.92226394, -6.29977752, 91492.146, 11318.804),
    ("TP12", 52.25529382, -2.154586144, 389544.19, 261912.153),
    ("TP20", 53.8002152, -1.663791682, 422242.186, 433818.701),
    ("TP23", 54.32919541, -4.388491181, 244780.636, 495254.887),
    ("TP30", 57.48625001, -4.219263986, 267056.768, 846176.972),
];

#[test]
fn grid_references_and_lat_lon_round_trip_within_5m_of_published_points() {
    for (id, lat, lon, e, n) in OS_TEST_POINTS {
        let (ge, gn) = bng::wgs84_to_bng(lon, lat).unwrap();
        assert!(
            (ge - e).hypot(gn - n) < 5.0,
            "{id}: got {ge}, {gn}, published {e}, {n}"
        );
        let (blon, blat) = bng::bng_to_wgs84(e, n).unwrap();
        let back = Haversine.distance(Point::new(lon, lat), Point::new(blon, blat));
        assert!(back < 5.0, "{id}: {back} m away");
        // A 10-figure grid reference names the metre square; its centre is within a metre.
        let text = bng::format_grid_ref(e, n, 5).unwrap();
        let parsed = bng::parse_grid_ref(&text).unwrap();
        let (ce, cn) = parsed.centre();
        assert!((ce - e).hypot(cn - n) < 1.0, "{id}: {text}");
        let squashed = text.replace(' ', "");
        assert_eq!(bng::parse_grid_ref(&squashed).unwrap(), parsed);
    }
    // The Caister water tower example from OS's guide to coordinate systems.
    let (e, n) = bng::wgs84_to_bng(1.716073973, 52.658007833).unwrap();
    assert!((e - 651409.903).hypot(n - 313177.270) < 5.0);
    assert_eq!(bng::format_grid_ref(e, n, 5).unwrap(), "TG 51409 13177");
}

#[test]
fn locate_accepts_lat_lon_grid_ref_and_bng_and_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let by_ref = ok(
        dir.path(),
        &["areas", "locate", "--grid-ref", "SD 5827 0556"],
    );
    assert!(by_ref.contains("(built-in demo)"), "{by_ref}");
    assert!(
        by_ref.contains("Ward      E05000861  Wigan Central"),
        "{by_ref}"
    );
    let by_bng = ok(
        dir.path(),
        &["areas", "locate", "--bng", "358275", "405565"],
    );
    let (lon, lat) = bng::bng_to_wgs84(358275.0, 405565.0).unwrap();
    let by_ll = ok(
        dir.path(),
        &[
            "areas",
            "locate",
            "--lat",
            &lat.to_string(),
            "--lon",
            &lon.to_string(),
        ],
    );
    let tail = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(tail(&by_ref), tail(&by_bng));
    assert_eq!(tail(&by_ref), tail(&by_ll));
    for spelling in ["SD5827505565", "sd 58 05"] {
        let out = ok(dir.path(), &["areas", "locate", "--grid-ref", spelling]);
        assert!(out.contains("\nWard "), "{out}");
    }
    // A PAA of the demo plan: the first LSOA of DEMO-PAA-1.
    let demo = doorstep::geography::builtin::geography().unwrap();
    let lsoa = demo.outline(Level::Lsoa, "E01006370").unwrap();
    let p = lsoa.interior_point().unwrap();
    let out = ok(
        dir.path(),
        &[
            "areas",
            "locate",
            "--lat",
            &p.y().to_string(),
            "--lon",
            &p.x().to_string(),
        ],
    );
    assert!(
        out.contains("PAA       DEMO-PAA-1  DEMO Wigan town centre"),
        "{out}"
    );
    assert!(out.contains("LSOA      E01006370  Wigan 006A"), "{out}");
    assert!(
        out.contains("Township  DEMO Wigan Central township"),
        "{out}"
    );

    let london = ok(
        dir.path(),
        &["areas", "locate", "--lat", "51.5007", "--lon", "-0.1246"],
    );
    assert!(london.contains("Outside every area"), "{london}");
}

#[test]
fn list_shows_the_demo_tree_clearly_labelled() {
    let dir = tempfile::tempdir().unwrap();
    let tree = ok(dir.path(), &["areas", "list", "--tree"]);
    assert!(
        tree.starts_with("Area plan: DEMO plan (Wigan, example only) (built-in demo)"),
        "{tree}"
    );
    assert!(tree.contains("DEMO Wigan Central township\n  ward E05000861  Wigan Central\n    PAA DEMO-PAA-1  DEMO Wigan town centre\n"), "{tree}");
    assert!(
        tree.contains("(wards in no township)\n  ward E05000840  Abram\n"),
        "{tree}"
    );
    assert!(tree.contains("Open Government Licence"), "{tree}");
    let flat = ok(dir.path(), &["areas", "list"]);
    assert!(
        flat.contains("\nlsoa     200  wigan_lsoa_2011_E08000010.geojson\n"),
        "{flat}"
    );
    // Listing never writes the built-in geography into the store.
    assert!(stored(dir.path()).is_empty());
}

#[test]
fn reimporting_replaces_the_layer_and_says_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let w2013 = fixture("boundaries/wigan_wards_2013_E08000010.geojson");
    let w2016 = fixture("boundaries/wigan_wards_2016_bng_epsg27700.geojson");
    let w2023 = fixture("boundaries/wigan_wards_may2023_generalised_E08000010.geojson");
    let first = ok(
        dir.path(),
        &["areas", "import", path_str(&w2013), "--level", "ward"],
    );
    assert!(first.contains("New ward layer."), "{first}");
    let again = ok(
        dir.path(),
        &["areas", "import", path_str(&w2013), "--level", "ward"],
    );
    assert!(again.contains("no change (25 areas unchanged)"), "{again}");
    let bng = ok(
        dir.path(),
        &["areas", "import", path_str(&w2016), "--level", "ward"],
    );
    assert!(bng.contains("25 with new boundaries"), "{bng}");
    // The 2023 review renumbered every ward: dropping all 25 stored codes needs --replace.
    let new_wards = ok(
        dir.path(),
        &[
            "areas",
            "import",
            path_str(&w2023),
            "--level",
            "ward",
            "--replace",
        ],
    );
    assert!(new_wards.contains("25 added"), "{new_wards}");
    assert!(new_wards.contains("25 removed"), "{new_wards}");
    let codes: Vec<String> = stored(dir.path())
        .wards
        .unwrap()
        .areas
        .iter()
        .map(|a| a.code.clone())
        .collect();
    assert!(codes.contains(&"E05014989".to_string()));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn applying_a_plan_builds_paas_and_warns_about_strays() {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    // A drawn PAA: a small square inside Wigan Central around the demo PAA's LSOA.
    let demo = doorstep::geography::builtin::geography().unwrap();
    let c = demo
        .outline(Level::Lsoa, "E01006370")
        .unwrap()
        .interior_point()
        .unwrap();
    let d = 0.0008;
    let square = format!(
        r#"{{"type": "Feature", "properties": {{}}, "geometry": {{"type": "Polygon", "coordinates": [[[{x0}, {y0}], [{x1}, {y0}], [{x1}, {y1}], [{x0}, {y1}], [{x0}, {y0}]]]}}}}"#,
        x0 = c.x() - d,
        x1 = c.x() + d,
        y0 = c.y() - d,
        y1 = c.y() + d
    );
    write(files.path(), "square.geojson", &square);
    let plan = write(
        files.path(),
        "plan.toml",
        r#"name = "Test plan"

[[township]]
name = "North"
wards = ["E05000861", "E05000862"]

[[paa]]
code = "P1"
name = "Drawn square"
ward = "E05000861"
polygon = "square.geojson"

[[paa]]
code = "P2"
name = "Stray"
ward = "E05000861"
lsoas = ["E01006370", "E01006212"]
"#,
    );
    let out = ok(dir.path(), &["areas", "apply", path_str(&plan)]);
    assert!(
        out.contains("built-in Wigan wards (2013) and LSOAs (2011), which are now stored"),
        "{out}"
    );
    assert!(
        out.contains("1 township(s), 2 ward(s) in townships, 2 PAA(s)"),
        "{out}"
    );
    assert!(
        out.contains("warning: PAA P2 (Stray): ")
            && out.contains("% of it lies outside its ward E05000861 (Wigan Central)"),
        "{out}"
    );
    assert!(!out.contains("PAA P1 (Drawn square):"), "{out}");
    let located = ok(
        dir.path(),
        &[
            "areas",
            "locate",
            "--lat",
            &c.y().to_string(),
            "--lon",
            &c.x().to_string(),
        ],
    );
    assert!(located.contains("PAA       P1  Drawn square"), "{located}");
    assert!(located.contains("Township  North"), "{located}");
    assert!(!located.contains("built-in demo"), "{located}");
    let tree = ok(dir.path(), &["areas", "list", "--tree"]);
    assert!(
        tree.contains(
            "North\n  ward E05000861  Wigan Central\n    PAA P1  Drawn square\n    PAA P2  Stray\n"
        ),
        "{tree}"
    );

    // PAAs imported as a layer are placed in the ward holding most of them. The layer drops
    // both PAAs the plan drew (P1, P2), so it needs --replace.
    let paa_layer = write(
        files.path(),
        "paas.geojson",
        &format!(
            r#"{{"type": "FeatureCollection", "features": [{}]}}"#,
            square.replace(
                r#""properties": {}"#,
                r#""properties": {"code": "Q1", "label": "Square"}"#
            )
        ),
    );
    let out = ok(
        dir.path(),
        &[
            "areas",
            "import",
            path_str(&paa_layer),
            "--level",
            "paa",
            "--code-field",
            "code",
            "--name-field",
            "label",
            "--replace",
        ],
    );
    assert!(out.contains("as the paa layer: 1 areas"), "{out}");
    let plan = stored(dir.path()).plan.unwrap();
    assert_eq!(plan.paas.len(), 1);
    assert_eq!(plan.paas[0].ward, "E05000861");
    assert_eq!(plan.townships[0].name, "North");
}

/// Each bad input fails with its own message and exit code, and the store is untouched.
#[test]
fn bad_inputs_are_reported_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let wards = fixture("boundaries/wigan_wards_2013_E08000010.geojson");
    ok(
        dir.path(),
        &["areas", "import", path_str(&wards), "--level", "ward"],
    );
    let lsoas = fixture("boundaries/wigan_lsoa_2011_E08000010.geojson");
    ok(
        dir.path(),
        &["areas", "import", path_str(&lsoas), "--level", "lsoa"],
    );
    let before = stored(dir.path());

    let poly = r#"{"type": "Polygon", "coordinates": [[[-2.6, 53.5], [-2.5, 53.5], [-2.5, 53.6], [-2.6, 53.5]]]}"#;
    let feature = |props: &str, geometry: &str| {
        format!(
            r#"{{"type": "FeatureCollection", "features": [{{"type": "Feature", "properties": {props}, "geometry": {geometry}}}]}}"#
        )
    };
    let geojson_cases: Vec<(&str, String, Vec<&str>, i32, &str)> = vec![
        (
            "broken.geojson",
            "{\"type\": \"FeatureCollection\",\n \"features\": [ {\"type\": \"Feature\",".into(),
            vec![],
            65,
            "broken.geojson:2:",
        ),
        (
            "nocode.geojson",
            feature(r#"{"id": 1, "label": "x"}"#, poly),
            vec![],
            65,
            "cannot tell which property holds the area code; properties are: id, label",
        ),
        (
            "flag.geojson",
            feature(r#"{"WD13CD": "E05000001", "WD13NM": "x"}"#, poly),
            vec!["--code-field", "ward_code"],
            65,
            "no property `ward_code` (given by --code-field)",
        ),
        (
            "crs.geojson",
            feature(r#"{"WD13CD": "E05000001", "WD13NM": "x"}"#, poly).replacen(
                "{",
                r#"{"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}, "#,
                1,
            ),
            vec![],
            65,
            "unsupported coordinate reference system `urn:ogc:def:crs:EPSG::3857`",
        ),
        (
            "degrees_as_bng.geojson",
            feature(r#"{"WD13CD": "E05000001", "WD13NM": "Somewhere"}"#, poly).replacen(
                "{",
                r#"{"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}, "#,
                1,
            ),
            vec![],
            65,
            "feature E05000001 (Somewhere): coordinate (-2.6, 53.5) is outside the range of British National Grid",
        ),
        (
            "point.geojson",
            feature(
                r#"{"WD13CD": "E05000001", "WD13NM": "Dot"}"#,
                r#"{"type": "Point", "coordinates": [-2.6, 53.5]}"#,
            ),
            vec![],
            65,
            "feature E05000001 (Dot): is a Point; boundaries must be Polygon or MultiPolygon",
        ),
        (
            "nogeom.geojson",
            feature(r#"{"WD13CD": "E05000001", "WD13NM": "Ghost"}"#, "null"),
            vec![],
            65,
            "feature E05000001 (Ghost): has no geometry",
        ),
    ];
    for (name, text, extra, code, message) in &geojson_cases {
        let path = write(files.path(), name, text);
        let mut args = vec!["areas", "import", path_str(&path), "--level", "ward"];
        args.extend(extra);
        let run = doorstep(dir.path(), &args);
        assert_eq!(run.code, *code, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{name}: {}", run.stderr);
        assert_eq!(stored(dir.path()), before, "{name} changed the store");
    }

    let plan_cases = [
        (
            "syntax.toml",
            "name = \"x\"\n[[township]\nname = \"a\"\n",
            "syntax.toml:2:",
        ),
        (
            "unknown_key.toml",
            "[[township]]\nname = \"a\"\nwards = [\"E05000861\"]\ncolour = \"red\"\n",
            "unknown_key.toml:4:1: unknown field `colour`",
        ),
        (
            "unknown_ward.toml",
            "[[township]]\nname = \"a\"\nwards = [\"E05000861\", \"E05999999\"]\n",
            "unknown_ward.toml:3:23: unknown ward `E05999999` in township `a`",
        ),
        (
            "unknown_lsoa.toml",
            "[[paa]]\ncode = \"P\"\nname = \"p\"\nward = \"E05000861\"\nlsoas = [\"E01999999\"]\n",
            "unknown_lsoa.toml:5:10: PAA `P`: unknown LSOA `E01999999`",
        ),
        (
            "twice.toml",
            "[[township]]\nname = \"a\"\nwards = [\"E05000861\"]\n[[township]]\nname = \"b\"\nwards = [\"E05000861\"]\n",
            "twice.toml:6:10: ward `E05000861` is in township `a` and again in `b`",
        ),
        (
            "neither.toml",
            "[[paa]]\ncode = \"P\"\nname = \"p\"\nward = \"E05000861\"\n",
            "neither.toml:2:8: PAA `P` needs `lsoas = [...]` or `polygon = \"file.geojson\"`",
        ),
    ];
    for (name, text, message) in plan_cases {
        let path = write(files.path(), name, text);
        let run = doorstep(dir.path(), &["areas", "apply", path_str(&path)]);
        assert_eq!(run.code, 65, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{name}: {}", run.stderr);
        assert_eq!(stored(dir.path()), before, "{name} changed the store");
    }

    let usage_cases: [(&[&str], &str); 7] = [
        (
            &["--grid-ref", "SI 123 456"],
            "bad grid reference `SI 123 456`",
        ),
        (&["--grid-ref", "SD 123 45"], "same number of digits"),
        (
            &["--grid-ref", "SD12345"],
            "5 digits cannot be split evenly",
        ),
        (&["--grid-ref", "12 34"], "two letters of a 100 km square"),
        (
            &["--lat", "91", "--lon", "0"],
            "latitude 91 is out of range",
        ),
        (
            &["--lat", "53", "--lon", "-200"],
            "longitude -200 is out of range",
        ),
        (
            &["--bng", "800000", "100"],
            "outside the British National Grid",
        ),
    ];
    for (args, message) in usage_cases {
        let mut all = vec!["areas", "locate"];
        all.extend(args);
        let run = doorstep(dir.path(), &all);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
    let run = doorstep(
        dir.path(),
        &["areas", "import", path_str(&wards), "--level", "county"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown level `county`"),
        "{}",
        run.stderr
    );
    let run = doorstep(
        dir.path(),
        &["areas", "import", "no-such-file.geojson", "--level", "ward"],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no-such-file.geojson"),
        "{}",
        run.stderr
    );
    assert_eq!(stored(dir.path()), before);
}
