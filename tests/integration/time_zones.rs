//! UK time whatever the machine's zone: a response started at 00:30 BST on 1 July (still
//! 30 June in UTC) is filed in Q3 and listed at 00:30, under any `TZ` the test runs with —
//! and explicitly under zones either side of the UK's.

use std::path::Path;

use assert_cmd::Command;
use chrono::{TimeZone, Utc};
use doorstep::response::Period;

use crate::store_helpers::{new_response, open};

fn list(dir: &Path, tz: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .env_remove("DOORSTEP_DATA_DIR")
        .env("TZ", tz)
        .arg("--data-dir")
        .arg(dir)
        .args(["responses", "list"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_response_is_filed_and_shown_by_its_uk_date_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let after_midnight_bst = Utc.with_ymd_and_hms(2026, 6, 30, 23, 30, 0).unwrap();
    {
        let store = open(dir.path());
        let r = store
            .create_draft(new_response("E05000841", after_midnight_bst))
            .unwrap();
        assert_eq!(r.period, Period::new(2026, 3).unwrap());
    }
    for tz in [
        "America/New_York",
        "Pacific/Kiritimati",
        "UTC",
        "Europe/London",
    ] {
        let q3 = list(dir.path(), tz, &["--period", "2026-Q3"]);
        assert!(q3.contains("2026-07-01 00:30"), "TZ={tz}:\n{q3}");
        let q2 = list(dir.path(), tz, &["--period", "2026-Q2"]);
        assert!(!q2.contains("E05000841"), "TZ={tz}:\n{q2}");
    }
}
