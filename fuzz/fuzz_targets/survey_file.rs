//! A survey definition file: TOML parsing, checking and compiling (with every condition in
//! it) must report problems, never panic or overflow.
#![no_main]

use doorstep::survey::diagnostic::SourceFile;
use doorstep::survey::load::load_set;
use doorstep::survey::registry::builtin_files;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let file = SourceFile::new("fuzz.toml", text);
    let loaded = load_set(&[file], &builtin_files());
    for d in &loaded.diagnostics {
        // Every problem is placed in the file.
        assert!(d.line >= 1 && d.col >= 1, "{d}");
    }
});
