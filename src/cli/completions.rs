//! `doorstep completions SHELL`: the shell's completion script, generated from the same
//! command-line definition that parses the arguments, so the two never disagree.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;
use crate::Error;

pub fn run(shell: Shell, out: &mut dyn Write) -> Result<(), Error> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "doorstep", &mut script);
    out.write_all(&script)
        .map_err(|e| Error::io("standard output", e))
}
