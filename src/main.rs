//! The `doorstep` binary: parse the command line, install error hooks, run, map the
//! outcome to an exit code. Everything else lives in the library.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use doorstep::cli::{self, Cli};
use doorstep::output::escape_keeping_lines;

// glibc's malloc spent about a third of a merge's CPU time (a merge allocates and frees a
// decoded batch and sled's leaves over and over) and kept freed memory from the system.
// Built without transparent huge pages (`no_thp`): it asked for them on all its memory,
// and every page it gave back and took again was then a 2 MiB page zeroed by the kernel
// (about a third of a merge's system time).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Errors are shown as one sentence; color-eyre only formats the rare panic report.
    let _ = color_eyre::install();
    // A panic caught and reported as an error (sled on a damaged store) prints no report.
    doorstep::caught::quiet_when_caught();
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // Not locked: a panic report from another thread must still get through.
    let mut err = std::io::stderr();
    match cli::run(&cli, &mut out, &mut err) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A reader that went away (`| head`) is not a failure of ours.
            if let doorstep::Error::Io { source, .. } = &e
                && source.kind() == std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            // Messages quote file names and data: never let them drive the terminal.
            let _ = writeln!(err, "doorstep: {}", escape_keeping_lines(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}
