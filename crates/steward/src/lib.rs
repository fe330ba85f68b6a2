//! The `steward` binary as a library: configuration, wiring and the CLI,
//! so that integration tests start the very same server the binary runs.

pub mod cli;
pub mod config;
pub mod listener;
pub mod server;
