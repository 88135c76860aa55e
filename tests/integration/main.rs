//! One integration test binary (one link step) declaring every integration module.

mod cli_store;
mod crash;
mod crime;
mod geography;
mod personal;
mod pty;
mod store;
mod store_faults;
mod store_helpers;
mod survey_cli;
mod survey_fixtures;
mod tui_e2e;
mod tui_flows;
mod walker;
