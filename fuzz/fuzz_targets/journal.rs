//! The journal reader, through a real file as `recover` reads it: any bytes give entries and
//! numbered corrupt lines, never a panic.
#![no_main]

use std::sync::OnceLock;

use doorstep::store::{journal_path, read_journal};
use libfuzzer_sys::fuzz_target;

fn path() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("doorstep-fuzz-journal-{}", std::process::id()));
        let path = journal_path(&dir);
        std::fs::create_dir_all(path.parent().expect("the journal has a folder"))
            .expect("a temporary folder for the journal");
        path
    })
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(path(), data).expect("the journal file is written");
    let contents = read_journal(path()).expect("a readable file reads");
    assert!(contents.entries.len() + contents.corrupt.len() <= contents.lines);
});
