//! Boundary import: GeoJSON parsing, CRS detection, validity checking and repair.
#![no_main]

use doorstep::geography::Level;
use doorstep::geography::boundary::{Fields, read_layer, read_shape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = read_layer(text, "fuzz.geojson", Level::Ward, &Fields::default());
    let mut notes = Vec::new();
    let _ = read_shape(text, "fuzz.geojson", &mut notes);
});
