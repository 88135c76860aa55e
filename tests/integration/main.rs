//! One integration test binary (one link step) declaring every integration module.

// Tests may report what they measured; the test harness captures it.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli_output;
mod batches;
mod cli_store;
mod crash;
mod crime;
mod geography;
mod personal;
mod pty;
mod store;
mod store_helpers;
mod survey_cli;
mod survey_fixtures;
mod tui_e2e;
mod tui_flows;
mod walker;
