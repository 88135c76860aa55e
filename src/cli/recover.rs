//! `doorstep recover`: rebuild the store from the journal.

use std::io::Write;
use std::path::Path;

use super::print;
use crate::Error;
use crate::output::{Document, Format};
use crate::response::Env;
use crate::store;

pub fn run(data_dir: &Path, out: &mut dyn Write) -> Result<(), Error> {
    let report = store::recover(data_dir, Env::system())?;
    let mut doc = Document::new();
    doc.preformatted("recovery", report.to_string());
    print(out, &doc, Format::Text)
}
