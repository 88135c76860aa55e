//! police.uk street-level CSVs: any bytes give rows, per-line problems or one file error.
#![no_main]

use doorstep::geography::crime::parse_street_csv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = parse_street_csv(data, "fuzz.csv") {
        assert!(file.records.len() + file.malformed.len() <= file.rows_read);
    }
});
