//! doorstep: offline fieldwork for the PACT cycle (KIN doorstep interviews and
//! Environmental Visual Audits), from the doorstep to the priority-setting meeting.
//!
//! Layers: `survey`, `response` and `seal` (and later `geography`) are the domain core and never
//! touch the terminal or the store engine; `store` is the only module that knows sled;
//! `cli` composes them into commands.

pub mod cli;
pub mod error;
pub mod exit;
pub mod geography;
pub mod input;
pub mod paths;
pub mod police;
pub mod response;
pub mod seal;
pub mod store;
pub mod survey;
pub mod tui;

pub use error::Error;
