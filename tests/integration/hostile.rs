//! Hostile and careless input through the real binary: deep conditions, endless files, broken
//! boundaries, all-bad crime files and settings that name nothing. Each case checks the exit
//! code, the message (naming the file and where), and that stored data did not change.

use std::path::{Path, PathBuf};

use doorstep::store::Store;

use super::geography::{doorstep, fixture, ok, stored};
use super::store_helpers::{new_response, open, t0};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A KIN survey whose one conditional question has `show_if` as given.
fn survey_with_condition(id: &str, show_if: &str) -> String {
    format!(
        r#"id = "{id}"
version = 1
kind = "kin"
title = "Deep"
languages = ["en"]

[[section]]
id = "main"
title = "Main"

[[section.question]]
id = "a"
kind = "yes_no"
text = "A?"

[[section.question]]
id = "b"
kind = "text"
text = "B?"
show_if = "{show_if}"
"#
    )
}

#[test]
fn a_deeply_nested_survey_in_the_data_dir_is_skipped_by_name_and_commands_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let surveys = dir.path().join("surveys");
    std::fs::create_dir_all(&surveys).unwrap();
    let n = 10_000;
    let deep = format!("{}a = 'yes'{}", "(".repeat(n), ")".repeat(n));
    let bad = write(&surveys, "deep.toml", &survey_with_condition("deep", &deep));
    let nots = format!("{}a = 'yes'", "not ".repeat(100_000));
    let bad2 = write(&surveys, "nots.toml", &survey_with_condition("nots", &nots));
    write(
        &surveys,
        "fine.toml",
        &survey_with_condition("fine", "not (a = 'yes')"),
    );

    let run = doorstep(dir.path(), &["survey", "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("fine"), "{}", run.stdout);
    assert!(run.stdout.contains("kin"), "{}", run.stdout);
    assert!(!run.stdout.contains("deep"), "{}", run.stdout);
    // `show_if = "` is 11 characters: the 33rd bracket or `not` opens at column 12 + 32 × width.
    for (file, col) in [(&bad, 44), (&bad2, 12 + 4 * 32)] {
        assert!(
            run.stderr.contains(&format!(
                "{}:20:{col}: error: question `b` show_if: the condition nests brackets and `not`s more than 32 deep",
                file.display()
            )),
            "{}",
            run.stderr
        );
    }

    // `survey check` on the folder reports the same, exit 65.
    let run = doorstep(dir.path(), &["survey", "check", p(&surveys)]);
    assert_eq!(run.code, 65, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("deep.toml:20:44: error"),
        "{}",
        run.stdout
    );

    // `responses show` loads the registry too.
    let id = {
        let store = open(dir.path());
        store
            .create_draft(new_response("E05000650", t0()))
            .unwrap()
            .id
    };
    let run = doorstep(dir.path(), &["responses", "show", &id.to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "doorstep: warning: survey file skipped: {}:20:44: error: question `b` show_if: the condition nests",
            bad.display()
        )),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_among_the_data_dir_surveys_is_skipped_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let surveys = dir.path().join("surveys");
    std::fs::create_dir_all(&surveys).unwrap();
    let fifo = surveys.join("pipe.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let run = doorstep(dir.path(), &["survey", "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{}:1:1: error: not a regular file; skipped",
            fifo.display()
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn a_40000_clause_condition_checks_and_its_bad_references_are_listed_briefly() {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let chain = vec!["a = 'yes'"; 40_000].join(" and ");
    let good = write(
        files.path(),
        "long.toml",
        &survey_with_condition("long", &chain),
    );
    let run = doorstep(dir.path(), &["survey", "check", p(&good)]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let unknown = vec!["zz = 'yes'"; 40_000].join(" and ");
    let bad = write(
        files.path(),
        "unknown.toml",
        &survey_with_condition("unknown", &unknown),
    );
    let run = doorstep(dir.path(), &["survey", "check", p(&bad)]);
    assert_eq!(run.code, 65, "{}", run.stdout);
    let errors: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains(": error:"))
        .collect();
    assert_eq!(errors.len(), 11, "{}", run.stdout);
    assert!(
        errors[0].ends_with("20:12: error: question `b` show_if: refers to unknown question `zz`"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("20:27: error:"),
        "second clause at its own column: {}",
        errors[1]
    );
    assert!(
        errors[10].contains("only the first 10 are listed"),
        "{}",
        errors[10]
    );
}

#[cfg(unix)]
#[test]
fn endless_input_is_refused_with_the_file_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let zero = "/dev/zero";
    let run = doorstep(dir.path(), &["survey", "check", zero]);
    assert_eq!(run.code, 65, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "/dev/zero:1:1: error: larger than the 2 MB a survey file may be; is it the right file?"
        ),
        "{}",
        run.stdout
    );
    let run = doorstep(dir.path(), &["areas", "import", zero, "--level", "ward"]);
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "/dev/zero: larger than the 200 MB a boundary or plan file may be; is it the right file?"
        ),
        "{}",
        run.stderr
    );
    let run = doorstep(dir.path(), &["crime", "import", zero]);
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "/dev/zero: larger than the 100 MB a police.uk CSV may be; is it the right file?"
        ),
        "{}",
        run.stderr
    );
    assert!(stored(dir.path()).is_empty());
}

fn one_feature(geometry: &str) -> String {
    format!(
        r#"{{"type": "FeatureCollection", "features": [
{{"type": "Feature", "properties": {{"WD13CD": "E05000001", "WD13NM": "Flat"}}, "geometry": {geometry}}}]}}"#
    )
}

#[test]
fn broken_polygons_are_rejected_by_feature_and_the_stored_layer_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let wards = fixture("boundaries/wigan_wards_2013_E08000010.geojson");
    ok(
        dir.path(),
        &["areas", "import", p(&wards), "--level", "ward"],
    );
    let before = stored(dir.path());
    let cases = [
        (
            "one_dimensional.geojson",
            r#"{"type": "Polygon", "coordinates": [[[-2.6], [-2.5], [-2.5], [-2.6]]]}"#,
            "feature E05000001 (Flat): position 1 of its outer ring has 1 number(s); positions are [x, y]",
        ),
        (
            "empty_ring.geojson",
            r#"{"type": "Polygon", "coordinates": [[]]}"#,
            "feature E05000001 (Flat): its outer ring has 0 point(s); a ring needs at least 3",
        ),
        (
            "empty_hole.geojson",
            r#"{"type": "Polygon", "coordinates": [[[-2.6, 53.5], [-2.5, 53.5], [-2.5, 53.6], [-2.6, 53.5]], []]}"#,
            "feature E05000001 (Flat): its hole 1 has 0 point(s)",
        ),
    ];
    for (name, geometry, message) in cases {
        let path = write(files.path(), name, &one_feature(geometry));
        let run = doorstep(
            dir.path(),
            &["areas", "import", p(&path), "--level", "ward"],
        );
        assert_eq!(run.code, 65, "{name}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("{}: 1 feature(s) rejected", path.display())),
            "{name}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(message), "{name}: {}", run.stderr);
        assert_eq!(stored(dir.path()), before, "{name} changed the store");
    }
}

#[test]
fn a_reimport_that_drops_most_areas_needs_replace() {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let wards = fixture("boundaries/wigan_wards_2013_E08000010.geojson");
    ok(
        dir.path(),
        &["areas", "import", p(&wards), "--level", "ward"],
    );
    let before = stored(dir.path());
    let one = write(
        files.path(),
        "one_ward.geojson",
        &one_feature(
            r#"{"type": "Polygon", "coordinates": [[[-2.6, 53.5], [-2.5, 53.5], [-2.5, 53.6], [-2.6, 53.5]]]}"#,
        ),
    );
    let run = doorstep(dir.path(), &["areas", "import", p(&one), "--level", "ward"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{} would remove 25 of the 25 areas of the stored ward layer (E05000840, E05000841, E05000842, E05000843, E05000844, …) and add 1; if that is intended, import it again with --replace",
            one.display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(stored(dir.path()), before);

    let out = ok(
        dir.path(),
        &["areas", "import", p(&one), "--level", "ward", "--replace"],
    );
    assert!(out.contains("25 removed"), "{out}");
    assert_eq!(stored(dir.path()).wards.unwrap().areas.len(), 1);
}

const CRIME_HEADER: &str = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n";

#[test]
fn a_crime_file_with_no_usable_row_is_bad_input_naming_file_and_lines() {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let good = write(
        files.path(),
        "good.csv",
        &format!("{CRIME_HEADER},2018-10,a,b,-2.6,53.5,x,,,Burglary,,\n"),
    );
    ok(dir.path(), &["crime", "import", p(&good)]);
    let count = || Store::open(dir.path()).unwrap().crime_count().unwrap();
    assert_eq!(count(), 1);

    let zero_year = write(
        files.path(),
        "year_zero.csv",
        &format!(
            "{CRIME_HEADER},0000-01,a,b,-2.6,53.5,x,,,Burglary,,\n,0000-02,a,b,-2.6,53.5,x,,,Burglary,,\n"
        ),
    );
    let run = doorstep(dir.path(), &["crime", "import", p(&zero_year)]);
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{}: every one of its 2 row(s) is malformed (line 2: month `0000-01` is not YYYY-MM (years 2000 to 2099); line 3: month `0000-02`",
            zero_year.display()
        )),
        "{}",
        run.stderr
    );

    let junk = write(
        files.path(),
        "junk.csv",
        &format!("{CRIME_HEADER}1,2,3\nnot,a,row\n,2018-10,a,b,east,west,x,,,Burglary,,\n"),
    );
    let run = doorstep(dir.path(), &["crime", "import", p(&junk)]);
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(
        run.stderr.contains("every one of its 3 row(s) is malformed (line 2: 3 fields where the header has 12; line 3: 3 fields where the header has 12; line 4: bad longitude/latitude `east`, `west`)"),
        "{}",
        run.stderr
    );
    // Nothing stored from either, and a good file given with a bad one stores nothing either.
    let run = doorstep(dir.path(), &["crime", "import", p(&good), p(&junk)]);
    assert_eq!(run.code, 65);
    assert_eq!(count(), 1);
}

#[test]
fn config_language_and_area_must_name_something_that_exists() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["config", "set", "language", "pl"]);
    ok(dir.path(), &["config", "set", "area", "DEMO-PAA-1"]);
    let setting = |key: &str| ok(dir.path(), &["config", "get", key]);

    let run = doorstep(dir.path(), &["config", "set", "language", "xx"]);
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("bad language `xx`: no survey offers it; the surveys' languages are en, pl"),
        "{}",
        run.stderr
    );
    assert_eq!(setting("language"), "pl\n");

    let run = doorstep(dir.path(), &["config", "set", "area", "NOPE"]);
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "bad area `NOPE`: no ward or priority action area has that code; the codes are "
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("DEMO-PAA-1"), "{}", run.stderr);
    assert_eq!(setting("area"), "DEMO-PAA-1\n");

    // The format check still comes first, with its own message.
    let run = doorstep(dir.path(), &["config", "set", "language", "english!"]);
    assert_eq!(run.code, 65);
    assert!(
        run.stderr.contains("two- or three-letter"),
        "{}",
        run.stderr
    );
}
