//! The `doorstep` binary: parse the command line, install error hooks, run, map the
//! outcome to an exit code. Everything else lives in the library.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use doorstep::cli::{self, Cli};

fn main() -> ExitCode {
    // Errors are shown as one sentence; color-eyre only formats the rare panic report.
    let _ = color_eyre::install();
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli::run(&cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A reader that went away (`| head`) is not a failure of ours.
            if let doorstep::Error::Io { source, .. } = &e
                && source.kind() == std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            // Not `eprintln!`: it panics when standard error is a terminal that has gone.
            let _ = writeln!(std::io::stderr(), "doorstep: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
