//! The shared output model through the real binary: `--json` of every list command checked
//! against the data it describes, hostile text shown escaped, secrets never echoed, and
//! diagnostics going to the injected writer.

use std::path::Path;

use chrono::Duration;
use clap::Parser;
use doorstep::cli::{self, Cli};
use doorstep::geography::builtin;
use doorstep::response::Status;
use doorstep::store::journal_path;
use doorstep::survey::Answer;
use doorstep::survey::registry::Registry;
use serde_json::Value;

use crate::crime::block;
use crate::geography::{doorstep, fixture, ok};
use crate::store_helpers::{new_response, open, t0, text_question};

fn json_of(dir: &Path, args: &[&str]) -> Value {
    let out = ok(dir, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}"))
}

fn rows<'a>(json: &'a Value, name: &str) -> &'a Vec<Value> {
    block(json, name)["rows"].as_array().unwrap()
}

const ESC: char = '\u{1b}';

#[test]
fn survey_list_json_matches_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let json = json_of(dir.path(), &["survey", "list", "--json"]);
    assert_eq!(json["format"], "doorstep");
    assert_eq!(json["version"], 1);
    let rows = rows(&json, "surveys");
    let registry = Registry::builtin().unwrap();
    assert_eq!(rows.len(), registry.entries().len());
    for e in registry.entries() {
        let s = &e.survey;
        let row = rows
            .iter()
            .find(|r| r["id"] == s.id.as_str() && r["version"] == s.version)
            .unwrap();
        assert_eq!(row["version"], s.version);
        assert_eq!(row["kind"], s.kind.to_string());
        assert_eq!(row["title"], s.title.get("en"));
        assert_eq!(row["questions"], s.answerable_count());
        assert_eq!(row["fingerprint"], s.fingerprint.as_str());
        assert_eq!(row["source"], "built-in");
    }
}

#[test]
fn responses_list_and_show_json_match_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = {
        let store = open(dir.path());
        let a = store.create_draft(new_response("E05000650", t0())).unwrap();
        store
            .record_answer(
                a.id,
                &text_question("q1", false),
                Answer::Text("Łódź 🔒".into()),
                t0() + Duration::minutes(1),
            )
            .unwrap();
        store
            .finalize(a.id, Status::Complete, t0() + Duration::minutes(30))
            .unwrap();
        let mut other = new_response("E05000651", t0() + Duration::hours(1));
        other.interviewer = "PCSO 77".into();
        let b = store.create_draft(other).unwrap();
        (a, b)
    };
    let json = json_of(dir.path(), &["responses", "list", "--json"]);
    let list = rows(&json, "responses");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], a.id.to_string());
    assert_eq!(list[0]["survey"], "kin");
    assert_eq!(list[0]["survey_version"], 1);
    assert_eq!(list[0]["area"], "E05000650");
    assert_eq!(list[0]["period"], a.period.to_string());
    assert_eq!(list[0]["status"], "complete");
    assert_eq!(list[0]["officer"], "PC 1234");
    assert_eq!(list[0]["device"], "laptop-3");
    assert_eq!(list[0]["answers"], 1);
    assert_eq!(list[0]["changed_at"], "2026-10-05T09:30:00Z");
    assert!(list[0]["replaces"].is_null());
    assert_eq!(list[1]["id"], b.id.to_string());
    assert_eq!(list[1]["status"], "draft");
    assert_eq!(list[1]["officer"], "PCSO 77");
    assert_eq!(list[1]["answers"], 0);

    let filtered = json_of(
        dir.path(),
        &["responses", "list", "--status", "draft", "--json"],
    );
    let ids: Vec<&Value> = rows(&filtered, "responses")
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&Value::from(b.id.to_string())]);
    let none = json_of(
        dir.path(),
        &["responses", "list", "--period", "2020-Q1", "--json"],
    );
    assert!(rows(&none, "responses").is_empty());

    let show = json_of(
        dir.path(),
        &["responses", "show", &a.id.to_string(), "--json"],
    );
    let f = &block(&show, "response")["fields"];
    assert_eq!(f["id"], a.id.to_string());
    assert_eq!(f["survey"], "kin");
    assert_eq!(f["fingerprint"], "test-fingerprint");
    assert_eq!(f["status"], "complete");
    assert_eq!(f["finalized_at"], "2026-10-05T09:30:00Z");
    assert_eq!(f["officer"], "PC 1234");
    assert_eq!(f["device"], "laptop-3");
    assert_eq!(f["language"], "en");
    assert_eq!(f["started_at"], "2026-10-05T09:00:00Z");
    assert!(f["resume_at"].is_null());
    let answers = block(&show, "answers")["items"].as_array().unwrap();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["question"], "q1");
    assert_eq!(answers[0]["answer"], "Łódź 🔒");
    assert_eq!(answers[0]["sealed"], false);
    assert_eq!(answers[0]["given_at"], "2026-10-05T09:01:00Z");
    assert_eq!(answers[0]["changes"], 0);
    assert_eq!(answers[0]["finding"], false);
}

#[test]
fn areas_list_and_locate_json_match_the_geography() {
    let dir = tempfile::tempdir().unwrap();
    let demo = builtin::geography().unwrap();
    let json = json_of(dir.path(), &["areas", "list", "--json"]);
    let layers = rows(&json, "layers");
    let count = |level: &str| {
        layers
            .iter()
            .find(|r| r["level"] == level)
            .map(|r| r["areas"].clone())
            .unwrap()
    };
    assert_eq!(count("ward"), demo.wards.as_ref().unwrap().areas.len());
    assert_eq!(count("lsoa"), demo.lsoas.as_ref().unwrap().areas.len());
    assert_eq!(count("paa"), demo.paas.as_ref().unwrap().areas.len());
    let plan = &block(&json, "plan")["fields"];
    assert_eq!(plan["name"], demo.plan.as_ref().unwrap().name.as_str());
    assert_eq!(plan["builtin"], true);

    let tree = json_of(dir.path(), &["areas", "list", "--tree", "--json"]);
    let townships = block(&tree, "townships")["items"].as_array().unwrap();
    let expected = demo.tree();
    assert_eq!(townships.len(), expected.len());
    for (t, e) in townships.iter().zip(&expected) {
        assert_eq!(t["township"], serde_json::json!(e.name));
        let wards = t["wards"].as_array().unwrap();
        let codes: Vec<&str> = wards.iter().map(|w| w["code"].as_str().unwrap()).collect();
        let want: Vec<&str> = e.wards.iter().map(|w| w.ward.code.as_str()).collect();
        assert_eq!(codes, want);
        for (w, ew) in wards.iter().zip(&e.wards) {
            let paas: Vec<&str> = w["paas"]
                .as_array()
                .map(|p| p.iter().map(|p| p["code"].as_str().unwrap()).collect())
                .unwrap_or_default();
            let want: Vec<&str> = ew.paas.iter().map(|p| p.code.as_str()).collect();
            assert_eq!(paas, want);
        }
    }

    let (lat, lon) = (53.545070, -2.631151);
    let found = demo.locator().locate(lon, lat);
    let loc = json_of(
        dir.path(),
        &[
            "areas",
            "locate",
            "--lat",
            &lat.to_string(),
            "--lon",
            &lon.to_string(),
            "--json",
        ],
    );
    let f = &block(&loc, "location")["fields"];
    assert_eq!(f["lat"], lat);
    assert_eq!(f["lon"], lon);
    assert_eq!(f["outside"], false);
    assert_eq!(f["township"], serde_json::json!(found.township));
    let ward = found.ward.unwrap();
    assert_eq!(f["ward_code"], ward.code.as_str());
    assert_eq!(f["ward_name"], ward.name.as_str());
    let lsoa = found.lsoa.unwrap();
    assert_eq!(f["lsoa_code"], lsoa.code.as_str());
    assert_eq!(f["paa_code"], serde_json::json!(found.paa.map(|p| p.code)));

    let london = json_of(
        dir.path(),
        &[
            "areas", "locate", "--lat", "51.5007", "--lon", "-0.1246", "--json",
        ],
    );
    let f = &block(&london, "location")["fields"];
    assert_eq!(f["outside"], true);
    assert!(f.get("ward_code").is_none());
}

#[test]
fn config_get_json_holds_every_setting_and_null_when_unset() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["config", "set", "officer", "PC 1234"]);
    ok(dir.path(), &["config", "set", "language", "pl"]);
    let json = json_of(dir.path(), &["config", "get", "--json"]);
    let f = &block(&json, "settings")["fields"];
    assert_eq!(f["officer"], "PC 1234");
    assert_eq!(f["language"], "pl");
    for unset in ["device", "recipient", "area"] {
        assert!(f[unset].is_null(), "{unset}: {json}");
    }
    let one = json_of(dir.path(), &["config", "get", "officer", "--json"]);
    assert_eq!(
        block(&one, "settings")["fields"],
        serde_json::json!({"officer": "PC 1234"})
    );
}

#[test]
fn a_pasted_secret_key_is_refused_without_being_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let identity = keys.path().join("coordinator.key");
    ok(
        dir.path(),
        &["keys", "new", "--out", identity.to_str().unwrap()],
    );
    let file = std::fs::read_to_string(&identity).unwrap();
    let secret = file
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .to_owned();
    // The part after the fixed prefix is what must never be shown.
    let material = &secret["AGE-SECRET-KEY-1".len()..];
    let journal_before = std::fs::read(journal_path(dir.path())).unwrap_or_default();
    for pasted in [
        secret.clone(),
        secret.to_lowercase(),
        format!("  {secret}  "),
        file.clone(),
    ] {
        let run = doorstep(dir.path(), &["config", "set", "recipient", &pasted]);
        assert_eq!(run.code, 65, "{}", run.stderr);
        for shown in [&run.stdout, &run.stderr] {
            assert!(
                !shown.to_uppercase().contains(&material.to_uppercase()),
                "secret echoed: {shown}"
            );
        }
        assert!(
            run.stderr.starts_with(
                "doorstep: bad recipient `AGE-SECRET-KEY-…`: that is a coordinator's secret key"
            ),
            "{}",
            run.stderr
        );
    }
    assert_eq!(
        std::fs::read(journal_path(dir.path())).unwrap_or_default(),
        journal_before
    );
    let run = doorstep(dir.path(), &["config", "get", "recipient"]);
    assert_eq!(run.code, 1, "recipient stays unset: {}", run.stdout);
}

#[test]
fn an_officer_id_with_escape_sequences_is_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "PC\u{1b}[31m\n1";
    let journal_before = std::fs::read(journal_path(dir.path())).unwrap_or_default();
    let run = doorstep(dir.path(), &["config", "set", "officer", hostile]);
    assert_eq!(run.code, 65);
    assert_eq!(
        run.stderr,
        "doorstep: bad officer `PC\\e[31m\\n1`: control characters are not allowed\n"
    );
    assert_eq!(
        std::fs::read(journal_path(dir.path())).unwrap_or_default(),
        journal_before
    );

    // A response recorded elsewhere (or written by an older release) can still hold one.
    let id = {
        let store = open(dir.path());
        let mut new = new_response("E05000650", t0());
        new.interviewer = hostile.into();
        new.device = "lap\u{7}top\r".into();
        store.create_draft(new).unwrap().id
    };
    let list = ok(dir.path(), &["responses", "list"]);
    assert!(!list.contains(ESC) && !list.contains('\u{7}'), "{list:?}");
    assert!(list.contains("PC\\e[31m\\n1"), "{list}");
    assert_eq!(list.lines().count(), 3, "one row, no injected line: {list}");
    let show = ok(dir.path(), &["responses", "show", &id.to_string()]);
    assert!(!show.contains(ESC) && !show.contains('\r'), "{show:?}");
    assert!(
        show.contains("  PC\\e[31m\\n1 on lap\\x07top\\r (language en)\n"),
        "{show}"
    );
    // JSON carries the value itself, escaped the JSON way.
    let json = json_of(dir.path(), &["responses", "list", "--json"]);
    assert_eq!(rows(&json, "responses")[0]["officer"], hostile);
    assert!(!ok(dir.path(), &["responses", "list", "--json"]).contains(ESC));
}

#[test]
fn area_names_with_control_characters_from_geojson_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("hostile/ward_names_with_control_characters.geojson");
    let import = ok(
        dir.path(),
        &["areas", "import", file.to_str().unwrap(), "--level", "ward"],
    );
    assert!(
        !import.chars().any(|c| c.is_control() && c != '\n'),
        "{import:?}"
    );
    let tree = ok(dir.path(), &["areas", "list", "--tree"]);
    assert!(
        !tree.chars().any(|c| c.is_control() && c != '\n'),
        "{tree:?}"
    );
    assert!(
        tree.contains("  ward E05900001  Red\\e[31m ward\\x07\n"),
        "{tree}"
    );
    assert!(
        tree.contains("  ward E05900002  Line\\nbreak\\r\\u{202e}ward\\e]0;pwned\\x07\n"),
        "{tree}"
    );
    let located = ok(
        dir.path(),
        &["areas", "locate", "--lat", "53.545", "--lon", "-2.635"],
    );
    assert!(
        located.contains("Ward      E05900001  Red\\e[31m ward\\x07\n"),
        "{located}"
    );
    let json = json_of(
        dir.path(),
        &[
            "areas", "locate", "--lat", "53.545", "--lon", "-2.635", "--json",
        ],
    );
    assert_eq!(
        block(&json, "location")["fields"]["ward_name"],
        "Red\u{1b}[31m ward\u{7}"
    );
    // An unknown area quoted back in an error is escaped too.
    let run = doorstep(dir.path(), &["crime", "summary", "--area", "NOPE\u{1b}[2J"]);
    assert_ne!(run.code, 0);
    assert!(!run.stderr.contains(ESC), "{:?}", run.stderr);
    assert!(run.stderr.contains("NOPE\\e[2J"), "{}", run.stderr);
}

#[test]
fn warnings_go_to_the_injected_diagnostic_writer() {
    let dir = tempfile::tempdir().unwrap();
    let surveys = dir.path().join("surveys");
    std::fs::create_dir_all(&surveys).unwrap();
    std::fs::write(
        surveys.join("broken.toml"),
        "id = \"x\u{1b}[31m\"\nnot toml at all [",
    )
    .unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let cli = Cli::parse_from(["doorstep", "--data-dir", data_dir, "survey", "list"]);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    cli::run(&cli, &mut out, &mut err).unwrap();
    let out = String::from_utf8(out).unwrap();
    let err = String::from_utf8(err).unwrap();
    assert!(out.starts_with("ID "), "{out}");
    assert!(!out.contains("broken.toml"), "{out}");
    assert!(err.contains("broken.toml"), "{err}");
    assert!(!err.contains(ESC), "{err:?}");

    let keys = tempfile::tempdir().unwrap();
    let path = keys.path().join("id.key");
    let cli = Cli::parse_from(["doorstep", "keys", "new", "--out", path.to_str().unwrap()]);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    cli::run(&cli, &mut out, &mut err).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("age1") && out.lines().count() == 1, "{out}");
    assert!(
        String::from_utf8(err)
            .unwrap()
            .contains("coordinator identity written to"),
    );
}

#[test]
fn survey_check_json_lists_each_diagnostic_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/surveys");
    let a = root.join("invalid/show_if_later_question.toml");
    let b = root.join("invalid/unknown_key.toml");
    let run = doorstep(
        dir.path(),
        &[
            "survey",
            "check",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(run.code, 65, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let items = block(&json, "diagnostics")["items"].as_array().unwrap();
    let find = |file: &Path| {
        items
            .iter()
            .find(|d| d["file"] == file.display().to_string())
            .unwrap_or_else(|| panic!("{} in {json}", file.display()))
    };
    let da = find(&a);
    assert_eq!(
        (da["line"].as_u64(), da["col"].as_u64()),
        (Some(31), Some(32))
    );
    assert_eq!(da["severity"], "error");
    assert!(
        da["message"]
            .as_str()
            .unwrap()
            .starts_with("question `early` show_if: refers to `late`"),
        "{da}"
    );
    let db = find(&b);
    assert_eq!(
        (db["line"].as_u64(), db["col"].as_u64()),
        (Some(31), Some(1))
    );
    let checked = &block(&json, "checked")["fields"];
    assert_eq!(checked["files"], 2);
    assert_eq!(checked["surveys"], 0);
    assert_eq!(checked["errors"], 2);
    assert_eq!(checked["warnings"], 0);
}
