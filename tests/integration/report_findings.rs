//! EVA findings with a position in the pack: the JSON model, GeoJSON points and the HTML
//! map's markers, on a store of two EVA transects in the built-in DEMO PAAs.

use std::path::Path;
use std::process::Command;

use chrono::Duration;
use doorstep::response::{NewResponse, Status};
use doorstep::survey::registry::Registry;
use doorstep::survey::{Answer, Finding, Location};
use uuid::Uuid;

use crate::geography::ok;
use crate::store_helpers::{new_response, open, t0};

/// Auditors' notes: free text that must never reach the public pack.
const NEEDLE_NOTE: &str = "Seen by Mr Ashworth of number 12";
const GRAFFITI_NOTE: &str = "Tag on the bus shelter, phoned in";

/// DEMO-PAA-1: a transect starting at grid reference SD 5823 0553 with an urgent needles
/// finding (fixed reference "lamp column 14", so placed at the start), a non-urgent graffiti
/// finding graded C at its own grid reference SD 58210 05520, an urgent potholes finding
/// with its own agency and no reference, and litter graded with no finding at all.
/// DEMO-PAA-2: a transect with no start point and an urgent broken-glass finding at "lamp
/// column 3" (no position anywhere, so no point).
fn findings_store(dir: &Path) {
    let registry = Registry::builtin().unwrap();
    let eva = registry.get("eva", Some(2)).unwrap();
    let store = open(dir);
    let q = |id: &str| eva.question(id).unwrap();
    let audit = |area: &str, day: i64, transect: &str| -> Uuid {
        let at = t0() + Duration::days(day);
        let r = store
            .create_draft(NewResponse {
                survey_id: eva.id.clone(),
                survey_version: eva.version,
                fingerprint: eva.fingerprint.clone(),
                ..new_response(area, at)
            })
            .unwrap();
        for (qid, a) in [
            ("transect_id", Answer::Text(transect.into())),
            ("street", Answer::Text("Standishgate".into())),
            (
                "from_ref",
                Answer::Text("junction with Mesnes Street".into()),
            ),
            ("to_ref", Answer::Text("number 48".into())),
        ] {
            store.record_answer(r.id, q(qid), a, at).unwrap();
        }
        r.id
    };
    let at = t0() + Duration::days(31);
    let one = audit("DEMO-PAA-1", 31, "WIG-001");
    for (qid, a) in [
        (
            "start_point",
            Answer::Location(Location::GridRef {
                text: "SD 5823 0553".into(),
            }),
        ),
        ("litter", Answer::Grade(doorstep::survey::Grade::B)),
        ("graffiti", Answer::Grade(doorstep::survey::Grade::C)),
        ("needles", Answer::Count(2)),
        ("potholes", Answer::Count(1)),
    ] {
        store.record_answer(one, q(qid), a, at).unwrap();
    }
    for (item, finding) in [
        (
            "needles",
            Finding {
                note: Some(NEEDLE_NOTE.into()),
                location: Some("lamp column 14".into()),
                urgent: true,
                urgent_by_rule: true,
                agency: None,
            },
        ),
        (
            "graffiti",
            Finding {
                note: Some(GRAFFITI_NOTE.into()),
                location: Some("SD 58210 05520".into()),
                ..Finding::default()
            },
        ),
        (
            "potholes",
            Finding {
                urgent: true,
                agency: Some("Highways emergency line".into()),
                ..Finding::default()
            },
        ),
    ] {
        store.record_finding(one, item, finding).unwrap();
    }
    store.finalize(one, Status::Complete, at).unwrap();

    let two = audit("DEMO-PAA-2", 32, "DOU-001");
    let at = t0() + Duration::days(32);
    store
        .record_answer(two, q("broken_glass"), Answer::Count(3), at)
        .unwrap();
    store
        .record_finding(
            two,
            "broken_glass",
            Finding {
                location: Some("lamp column 3".into()),
                urgent: true,
                ..Finding::default()
            },
        )
        .unwrap();
    store.finalize(two, Status::Complete, at).unwrap();
    store.flush().unwrap();
}

fn report(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["report", "--period", "2026-Q4", "--level", "paa"];
    args.extend_from_slice(extra);
    ok(dir, &args)
}

// Expected positions, by hand. SD is the 100 km square at easting 300 000, northing
// 400 000. "SD 5823 0553" is an 8-figure reference: the 10 m square at (358 230, 405 530),
// centre (358 235, 405 535). "SD 58210 05520" is a 10-figure one: the 1 m square at
// (358 210, 405 520), centre (358 210.5, 405 520.5). Converted to WGS84 independently (a
// 7-parameter Helmert transform, good to a few metres; the pack uses OSTN15), so compared
// within 5e-5 degrees (3 to 6 m).
const START: (f64, f64) = (-2.631751, 53.544782);
const GRAFFITI: (f64, f64) = (-2.632119, 53.544650);
const WITHIN: f64 = 5e-5;

fn near(lon: f64, lat: f64, expected: (f64, f64)) -> bool {
    (lon - expected.0).abs() < WITHIN && (lat - expected.1).abs() < WITHIN
}

#[test]
fn the_json_lists_located_findings_and_keeps_notes_internal() {
    let dir = tempfile::tempdir().unwrap();
    findings_store(dir.path());
    let text = report(dir.path(), &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let area = |code: &str| {
        json["areas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["code"] == code)
            .unwrap()
            .clone()
    };
    let paa1 = area("DEMO-PAA-1");
    let found = paa1["street"]["located_findings"].as_array().unwrap();
    // Checklist order: graffiti, needles, potholes; litter has no finding.
    let items: Vec<&str> = found.iter().map(|f| f["item"].as_str().unwrap()).collect();
    assert_eq!(items, ["graffiti", "needles", "potholes"]);
    let graffiti = &found[0];
    assert_eq!(graffiti["item_label"], "Graffiti");
    assert_eq!(graffiti["grade"], "C");
    assert_eq!(graffiti["urgent"], false);
    assert_eq!(graffiti["reference"], "SD 58210 05520");
    assert_eq!(graffiti["position_from"], "finding");
    assert_eq!(
        graffiti["agency"],
        "Council street scene — graffiti removal"
    );
    assert_eq!(graffiti["transect"], "WIG-001");
    let (lon, lat) = (
        graffiti["lon"].as_f64().unwrap(),
        graffiti["lat"].as_f64().unwrap(),
    );
    assert!(near(lon, lat, GRAFFITI), "{lon},{lat}");
    let needles = &found[1];
    assert_eq!(needles["urgent"], true);
    assert_eq!(needles["grade"], serde_json::Value::Null);
    assert_eq!(needles["reference"], "lamp column 14");
    assert_eq!(needles["position_from"], "transect_start");
    assert_eq!(needles["agency"], "Council street scene — needle removal");
    let (lon, lat) = (
        needles["lon"].as_f64().unwrap(),
        needles["lat"].as_f64().unwrap(),
    );
    assert!(near(lon, lat, START), "{lon},{lat}");
    let potholes = &found[2];
    assert_eq!(potholes["urgent"], true);
    assert_eq!(potholes["reference"], serde_json::Value::Null);
    assert_eq!(potholes["agency"], "Highways emergency line");
    // The finding without any position is still an urgent finding, but not located.
    let paa2 = area("DEMO-PAA-2");
    assert_eq!(paa2["street"]["urgent"].as_array().unwrap().len(), 1);
    assert_eq!(paa2["street"]["located_findings"], serde_json::json!([]));
    // Public: the notes appear nowhere; the note field is null.
    assert!(found.iter().all(|f| f["note"].is_null()));
    assert!(!text.contains(NEEDLE_NOTE) && !text.contains(GRAFFITI_NOTE));
    // Internal: the notes are there.
    let internal: serde_json::Value =
        serde_json::from_str(&report(dir.path(), &["--format", "json", "--internal"])).unwrap();
    let inner = internal["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "DEMO-PAA-1")
        .unwrap();
    assert_eq!(
        inner["street"]["located_findings"][0]["note"],
        GRAFFITI_NOTE
    );
    assert_eq!(inner["street"]["located_findings"][1]["note"], NEEDLE_NOTE);
}

#[test]
fn the_geojson_has_a_point_per_located_finding() {
    let dir = tempfile::tempdir().unwrap();
    findings_store(dir.path());
    let text = report(dir.path(), &["--format", "geojson"]);
    let geojson::GeoJson::FeatureCollection(fc) = text.parse::<geojson::GeoJson>().unwrap() else {
        panic!("not a FeatureCollection");
    };
    let points: Vec<&geojson::Feature> = fc
        .features
        .iter()
        .filter(|f| f.property("kind").and_then(|k| k.as_str()) == Some("eva_finding"))
        .collect();
    let areas = fc
        .features
        .iter()
        .filter(|f| f.property("kind").and_then(|k| k.as_str()) == Some("area"))
        .count();
    assert_eq!(areas + points.len(), fc.features.len());
    // Three located findings in DEMO-PAA-1; DEMO-PAA-2's has no position.
    assert_eq!(points.len(), 3);
    for (f, item, urgent, reference, expected) in [
        (
            points[0],
            "graffiti",
            false,
            serde_json::json!("SD 58210 05520"),
            GRAFFITI,
        ),
        (
            points[1],
            "needles",
            true,
            serde_json::json!("lamp column 14"),
            START,
        ),
        (points[2], "potholes", true, serde_json::Value::Null, START),
    ] {
        assert_eq!(f.property("area").unwrap(), "DEMO-PAA-1");
        assert_eq!(f.property("item").unwrap(), item);
        assert_eq!(f.property("urgent").unwrap(), urgent);
        assert_eq!(f.property("reference").unwrap(), &reference);
        assert!(f.property("label").unwrap().is_string());
        assert!(f.property("agency").unwrap().is_string());
        assert!(
            !f.contains_property("note"),
            "public pack with a note field"
        );
        let geojson::GeometryValue::Point { coordinates } = &f.geometry.as_ref().unwrap().value
        else {
            panic!("{item} is not a point");
        };
        let (lon, lat) = (coordinates.as_slice()[0], coordinates.as_slice()[1]);
        assert!(near(lon, lat, expected), "{item}: {lon},{lat}");
    }
    assert_eq!(points[0].property("label").unwrap(), "Graffiti");
    assert_eq!(points[0].property("grade").unwrap(), "C");
    assert!(!text.contains(NEEDLE_NOTE) && !text.contains(GRAFFITI_NOTE));
    // Internal: the note goes with the point.
    let internal = report(dir.path(), &["--format", "geojson", "--internal"]);
    assert!(internal.contains(NEEDLE_NOTE), "{internal}");
    assert_eq!(text, report(dir.path(), &["--format", "geojson"]));
}

#[test]
fn the_html_map_marks_urgent_findings_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    findings_store(dir.path());
    let html = report(dir.path(), &["--format", "html"]);
    // Two urgent findings placed in DEMO-PAA-1; the non-urgent graffiti is not marked.
    assert_eq!(
        html.matches("<g class=\"urgent-finding\">").count(),
        2,
        "{html}"
    );
    assert!(
        html.contains(
            "<title>Urgent: Needles, syringes or other drug litter (DEMO-PAA-1), lamp column 14, \
             placed at the transect&#39;s start; report to Council street scene — needle removal</title>"
        ),
        "{html}"
    );
    assert!(!html.contains("Urgent: Graffiti"), "{html}");
    // The markers lie inside the map's view box.
    let svg = &html[html.find("<svg").unwrap()..];
    let width: f64 = attr(svg, "width");
    let height: f64 = attr(svg, "height");
    for m in html
        .split("<g class=\"urgent-finding\"><path d=\"M")
        .skip(1)
    {
        let (x, y) = m.split_once(' ').unwrap().0.split_once(',').unwrap();
        let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse::<f64>().unwrap() + 6.0);
        assert!(
            (0.0..=width).contains(&x) && (0.0..=height).contains(&y),
            "{x},{y}"
        );
    }
    // DEMO-PAA-2's urgent finding has no position: counted on its area instead.
    assert_eq!(
        html.matches("1 urgent EVA finding(s) without a position on the map")
            .count(),
        1,
        "{html}"
    );
    assert!(html.contains("urgent EVA finding at its position</span>"));
    assert!(!html.contains(NEEDLE_NOTE) && !html.contains(GRAFFITI_NOTE));
    let md = report(dir.path(), &[]);
    assert!(!md.contains(NEEDLE_NOTE) && !md.contains(GRAFFITI_NOTE));
}

fn attr(tag: &str, name: &str) -> f64 {
    let start = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    let end = start + tag[start..].find('"').unwrap();
    tag[start..end].parse().unwrap()
}

#[test]
fn ogrinfo_opens_the_geojson_with_points_where_gdal_is_installed() {
    if Command::new("ogrinfo").arg("--version").output().is_err() {
        println!("skipped: ogrinfo (GDAL) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    findings_store(dir.path());
    let file = dir.path().join("pack.geojson");
    report(
        dir.path(),
        &["--format", "geojson", "--out", file.to_str().unwrap()],
    );
    let out = Command::new("ogrinfo")
        .args(["-ro", "-al", "-where", "kind = 'eva_finding'"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.matches("POINT (").count(), 3, "{text}");
}
