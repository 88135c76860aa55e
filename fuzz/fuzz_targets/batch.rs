//! The batch reader: any bytes, in the clear or as an age file, with or without the
//! coordinator identity, are refused with a reason or read — never a panic. A batch that
//! reads has the counts its manifest announces.
#![no_main]

use std::sync::OnceLock;

use doorstep::batch::{Counts, open};
use doorstep::seal::CoordinatorIdentity;
use libfuzzer_sys::fuzz_target;

fn identity() -> &'static CoordinatorIdentity {
    static ID: OnceLock<CoordinatorIdentity> = OnceLock::new();
    ID.get_or_init(CoordinatorIdentity::generate)
}

fuzz_target!(|data: &[u8]| {
    for id in [None, Some(identity())] {
        if let Ok(batch) = open(data, id) {
            assert_eq!(Counts::of(&batch.records), batch.manifest.counts);
        }
    }
});
