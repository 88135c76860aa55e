//! One integration test binary (one link step) declaring every integration module.

// Tests may report what they measured; the test harness captures it. A failed unwrap is a
// failed test, which is what it should be.
#![allow(clippy::print_stdout, clippy::print_stderr)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod actions_cli;
mod actions_outputs;
mod actions_store;
mod batches;
mod cli_edges;
mod cli_output;
mod cli_store;
mod crash;
mod crime;
mod door_ownership;
mod export;
mod geography;
mod hostile;
mod instruments;
mod interview_flow;
mod jobs;
mod merge;
mod merge_actions;
mod merge_doors;
mod own_work;
mod personal;
mod pty;
mod report;
mod report_findings;
mod report_render;
mod revision_gaps;
mod revision_sides;
mod simulate;
mod store;
mod store_faults;
mod store_helpers;
mod survey_cli;
mod survey_fixtures;
mod time_zones;
mod tui_actions;
mod tui_e2e;
mod tui_flows;
mod walker;
