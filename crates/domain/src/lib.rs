//! Steward's domain: the types the rest of the system talks in, the rules
//! that decide whether a value is acceptable, and the personal-data registry.
//!
//! Nothing in this crate performs I/O; storage, HTTP and the CLI depend on it,
//! never the other way round.

pub mod registry;
pub mod time;
pub mod user;
pub mod validate;

pub use time::Timestamp;
pub use validate::ValidationError;
