//! `doorstep man [--out DIR]`: the manual page, generated from the command-line definition.
//! To standard output: the page of `doorstep` itself. With `--out`: one page per command
//! (`doorstep.1`, `doorstep-survey.1`, `doorstep-survey-check.1`, ...), as packagers install them.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use super::{Cli, emit};
use crate::Error;

pub fn run(out_dir: Option<&Path>, out: &mut dyn Write) -> Result<(), Error> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Building gives every subcommand its full name (`doorstep-survey`) for its page.
    cmd.build();
    match out_dir {
        None => clap_mangen::Man::new(cmd)
            .render(out)
            .map_err(|e| Error::io("standard output", e)),
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            let mut written = Vec::new();
            write_pages(&cmd, dir, &mut written)?;
            for path in written {
                emit(out, &format!("{}\n", path.display()))?;
            }
            Ok(())
        }
    }
}

fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<(), Error> {
    let man = clap_mangen::Man::new(cmd.clone());
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    man.render(&mut page)
        .map_err(|e| Error::io(path.clone(), e))?;
    std::fs::write(&path, page).map_err(|e| Error::io(path.clone(), e))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}
