//! One integration test binary (one link step) declaring every integration module.

mod survey_cli;
mod survey_fixtures;
mod tui_flows;
mod walker;
