//! One integration test binary (one link step) declaring every integration module.

// Test and benchmark code: a failed unwrap is a failed run, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_edges;
mod cli_store;
mod crash;
mod crime;
mod geography;
mod jobs;
mod personal;
mod pty;
mod store;
mod store_helpers;
mod survey_cli;
mod survey_fixtures;
mod time_zones;
mod tui_e2e;
mod tui_flows;
mod walker;
