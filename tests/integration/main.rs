//! The integration test binary: one binary, one module per area.

mod cli_store;
mod crash;
mod personal;
mod store;
mod store_helpers;
