//! doorstep: offline fieldwork for the PACT cycle (KIN doorstep interviews and
//! Environmental Visual Audits), from the doorstep to the priority-setting meeting.
//!
//! Layers: `survey`, `response`, `geography`, `report`, `action` and `seal` are the domain
//! core and never touch the terminal or the store engine; `survey` and `geography` do not
//! import each other (what both need, grid references and file positions, is in `gridref`
//! and `line_col`); `store` is the only module that knows sled; `tui` the only one that knows the terminal; `cli` composes
//! them into commands and builds its output as an `output::Document`; nothing imports `cli`.

pub mod action;
pub mod batch;
pub mod caught;
pub mod cli;
pub mod error;
pub mod exit;
pub mod export;
pub mod geography;
pub mod gridref;
pub mod input;
pub mod line_col;
pub mod output;
pub mod pack;
pub mod paths;
pub mod police;
pub mod report;
pub mod response;
pub mod seal;
pub mod simulate;
pub mod store;
pub mod survey;
pub mod tui;

pub use error::Error;
