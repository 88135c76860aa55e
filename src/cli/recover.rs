//! `doorstep recover`: rebuild the store from the journal.

use std::io::Write;
use std::path::Path;

use super::emit;
use crate::Error;
use crate::response::Env;
use crate::store;

pub fn run(data_dir: &Path, out: &mut dyn Write) -> Result<(), Error> {
    let report = store::recover(data_dir, Env::system())?;
    emit(out, &report.to_string())
}
