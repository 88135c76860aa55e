//! The pack's HTML and GeoJSON through the real binary, on a store of interviews and an
//! EVA audit in the built-in DEMO PAAs.

use std::path::Path;
use std::process::Command;

use chrono::Duration;
use doorstep::response::{NewResponse, Status};
use doorstep::survey::registry::Registry;
use doorstep::survey::{Answer, Finding, IssueCoding};

use crate::geography::{doorstep, ok};
use crate::store_helpers::{new_response, open, t0};

/// Interviews in three PAAs: litter tops DEMO-PAA-1 (and gets a hostile "other" label),
/// drugs tops DEMO-PAA-2; DEMO-PAA-3 has two interviews only (suppressed in public).
/// One EVA audit in DEMO-PAA-1 with an urgent needles finding.
pub fn pack_store(dir: &Path) {
    let registry = Registry::builtin().unwrap();
    let kin = registry.get("kin", Some(2)).unwrap();
    let eva = registry.get("eva", Some(2)).unwrap();
    let store = open(dir);
    let mut minute = 0;
    let mut interview = |area: &str, kind: &str, issues: &[&str]| {
        minute += 1;
        let at = t0() + Duration::days(30) + Duration::minutes(minute);
        let r = store
            .create_draft(NewResponse {
                survey_id: kin.id.clone(),
                survey_version: kin.version,
                fingerprint: kin.fingerprint.clone(),
                ..new_response(area, at)
            })
            .unwrap();
        let q = |id: &str| kin.question(id).unwrap();
        for (qid, a) in [
            ("consent", Answer::YesNo(true)),
            ("age_check", Answer::Choice("aged_16_plus".into())),
            ("respondent_type", Answer::Choice(kind.into())),
            (
                "unsafe_issues",
                Answer::Issues(IssueCoding {
                    issues: issues.iter().map(|s| s.to_string()).collect(),
                    other: None,
                }),
            ),
        ] {
            store.record_answer(r.id, q(qid), a, at).unwrap();
        }
        store.finalize(r.id, Status::Complete, at).unwrap();
    };
    for i in 0..24 {
        let issues: &[&str] = match i % 4 {
            0 | 1 => &["litter", "speeding"],
            2 => &["litter"],
            _ => &["drugs"],
        };
        interview(
            "DEMO-PAA-1",
            if i % 6 == 0 { "business" } else { "resident" },
            issues,
        );
    }
    for i in 0..12 {
        let issues: &[&str] = if i % 3 == 0 {
            &["litter"]
        } else {
            &["drugs", "speeding"]
        };
        interview("DEMO-PAA-2", "resident", issues);
    }
    interview("DEMO-PAA-3", "resident", &["graffiti"]);
    interview("DEMO-PAA-3", "resident", &["graffiti"]);

    let at = t0() + Duration::days(31);
    let audit = store
        .create_draft(NewResponse {
            survey_id: eva.id.clone(),
            survey_version: eva.version,
            fingerprint: eva.fingerprint.clone(),
            ..new_response("DEMO-PAA-1", at)
        })
        .unwrap();
    let q = |id: &str| eva.question(id).unwrap();
    store
        .record_answer(
            audit.id,
            q("transect_id"),
            Answer::Text("WIG-001".into()),
            at,
        )
        .unwrap();
    store
        .record_answer(
            audit.id,
            q("street"),
            Answer::Text("Standishgate <b>".into()),
            at,
        )
        .unwrap();
    store
        .record_answer(audit.id, q("needles"), Answer::Count(2), at)
        .unwrap();
    store
        .record_finding(
            audit.id,
            "needles",
            Finding {
                location: Some("lamp column 14".into()),
                urgent: true,
                urgent_by_rule: true,
                ..Finding::default()
            },
        )
        .unwrap();
    store.finalize(audit.id, Status::Complete, at).unwrap();
    store.flush().unwrap();
}

fn report(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["report", "--period", "2026-Q4", "--level", "paa"];
    args.extend_from_slice(extra);
    ok(dir, &args)
}

#[test]
fn the_html_pack_is_one_self_contained_escaped_page() {
    let dir = tempfile::tempdir().unwrap();
    pack_store(dir.path());
    let html = report(dir.path(), &["--format", "html"]);
    assert!(
        html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
        "{html}"
    );
    assert!(html.contains("@page { size: A4;"));
    // Self-contained: no script, nothing fetched.
    for banned in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(banned), "{banned} in the page");
    }
    // The map: one shaded path per PAA, litter's colour on DEMO-PAA-1, the urgent marker.
    assert!(html.matches("<path d=\"M").count() >= 3);
    assert!(html.contains("DEMO-PAA-1): Litter"), "{html}");
    assert!(html.contains("1 urgent EVA finding(s)"), "{html}");
    // The chart: DEMO-PAA-1 has 24 interviews, 18 naming litter (75%).
    assert!(html.contains("18 of 24</title>"), "{html}");
    assert!(html.contains(">75%<"), "{html}");
    // Small numbers in the public pack are shown as suppressed.
    assert!(html.contains(">suppressed<"), "{html}");
    assert!(!html.contains("NOT FOR PUBLICATION"));
    // Data is escaped wherever it appears.
    assert!(!html.contains("Standishgate <b>"));
    let internal = report(dir.path(), &["--format", "html", "--internal"]);
    assert!(internal.contains("<div class=\"marking\">NOT FOR PUBLICATION</div>"));
    assert!(internal.contains("@top-center { content: \"NOT FOR PUBLICATION\""));
    // Same store, same arguments: the same bytes.
    assert_eq!(html, report(dir.path(), &["--format", "html"]));
}

#[test]
fn the_geojson_reads_back_with_areas_and_their_figures() {
    let dir = tempfile::tempdir().unwrap();
    pack_store(dir.path());
    let text = report(dir.path(), &["--format", "geojson"]);
    let gj: geojson::GeoJson = text.parse().unwrap();
    let geojson::GeoJson::FeatureCollection(fc) = gj else {
        panic!("not a FeatureCollection");
    };
    let codes: Vec<String> = fc
        .features
        .iter()
        .map(|f| f.property("code").unwrap().as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, ["DEMO-PAA-1", "DEMO-PAA-2", "DEMO-PAA-3"]);
    let paa1 = &fc.features[0];
    assert!(matches!(
        paa1.geometry.as_ref().unwrap().value,
        geojson::GeometryValue::MultiPolygon { .. }
    ));
    assert_eq!(paa1.property("top_1").unwrap(), "litter");
    assert_eq!(paa1.property("interviews").unwrap(), 24);
    assert_eq!(paa1.property("named_litter_fraction").unwrap(), 0.75);
    assert_eq!(paa1.property("named_litter_base").unwrap(), 24);
    assert_eq!(paa1.property("urgent_findings").unwrap(), 1);
    let paa2 = &fc.features[1];
    assert_eq!(paa2.property("top_1").unwrap(), "drugs");
    // Every coordinate is WGS84 around Wigan.
    let geojson::GeometryValue::MultiPolygon { coordinates } =
        &paa1.geometry.as_ref().unwrap().value
    else {
        unreachable!()
    };
    for p in coordinates.iter().flatten().flatten() {
        let (lon, lat) = (p.as_slice()[0], p.as_slice()[1]);
        assert!(
            (-2.8..-2.4).contains(&lon) && (53.4..53.7).contains(&lat),
            "{lon},{lat}"
        );
    }
    assert_eq!(text, report(dir.path(), &["--format", "geojson"]));
}

#[test]
fn ogrinfo_opens_the_geojson_where_gdal_is_installed() {
    if Command::new("ogrinfo").arg("--version").output().is_err() {
        println!("skipped: ogrinfo (GDAL) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    pack_store(dir.path());
    let file = dir.path().join("pack.geojson");
    ok(
        dir.path(),
        &[
            "report",
            "--period",
            "2026-Q4",
            "--level",
            "paa",
            "--format",
            "geojson",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    let out = Command::new("ogrinfo")
        .args(["-ro", "-al", "-so"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Feature Count: 3"), "{text}");
    assert!(text.contains("Multi Polygon"), "{text}");
}

#[test]
fn chromium_renders_the_html_pack_where_installed() {
    let Some(browser) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok())
    else {
        println!("skipped: no headless Chromium installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    pack_store(dir.path());
    let html = dir.path().join("pack.html");
    ok(
        dir.path(),
        &[
            "report",
            "--period",
            "2026-Q4",
            "--level",
            "paa",
            "--format",
            "html",
            "--out",
            html.to_str().unwrap(),
        ],
    );
    let pdf = dir.path().join("pack.pdf");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"), "Chromium printed no PDF");
    // A4 pages: a MediaBox of 595 × 842 points (rounded as Chromium writes it).
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("/MediaBox [0 0 594.95996 841.91998]") || text.contains("/MediaBox [0 0 595"),
        "pages are not A4"
    );
    let _ = doorstep;
}

#[test]
fn the_xlsx_has_a_sheet_per_table_and_reads_back() {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let dir = tempfile::tempdir().unwrap();
    pack_store(dir.path());
    let file = dir.path().join("pack.xlsx");
    let args = [
        "report",
        "--period",
        "2026-Q4",
        "--level",
        "paa",
        "--format",
        "xlsx",
        "--out",
        file.to_str().unwrap(),
    ];
    ok(dir.path(), &args);
    let first = std::fs::read(&file).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&file).unwrap();
    let names = wb.sheet_names();
    assert_eq!(names[0], "Contents");
    assert!(names.len() > 3, "{names:?}");
    assert!(names.iter().all(|n| n.chars().count() <= 31));
    // Every sheet but the contents has its section, then a header row.
    let contents = wb.worksheet_range("Contents").unwrap();
    assert_eq!(
        contents.get((0, 0)),
        Some(&Data::String(
            "Priority-setting pack: 2026-Q4, per paa".into()
        ))
    );
    // The issue table of DEMO-PAA-1: litter named by 18 of 24, as numbers (0.75 a fraction).
    let mut found_litter = false;
    for name in &names[1..] {
        let range = wb.worksheet_range(name).unwrap();
        for row in range.rows() {
            if row
                .iter()
                .any(|c| c == &Data::String("Litter or rubbish lying around".into()))
                && row
                    .iter()
                    .any(|c| matches!(c, Data::Float(x) if *x == 18.0))
            {
                found_litter = true;
            }
        }
    }
    assert!(found_litter, "no sheet has the litter row with 18");
    // Same store, same arguments, later: the same bytes (no clock inside).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    ok(dir.path(), &args);
    assert_eq!(std::fs::read(&file).unwrap(), first);
}
