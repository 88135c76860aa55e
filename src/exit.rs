//! Process exit codes, shared by every command (sysexits-style where one fits).

/// Success.
pub const OK: u8 = 0;
/// A runtime failure: I/O, a store that cannot be opened, an internal error.
pub const FAILURE: u8 = 1;
/// Wrong usage of the command line (clap uses this code itself).
pub const USAGE: u8 = 2;
/// The input data is bad: an invalid survey file, a corrupt batch, a bad boundary file.
pub const DATA_ERR: u8 = 65;
/// A resource is busy, e.g. another doorstep process holds the data directory.
pub const TEMP_FAIL: u8 = 75;
