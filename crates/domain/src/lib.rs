//! Steward's domain: the types the rest of the system talks in, the rules
//! that decide whether a value is acceptable, and the personal-data registry.
//!
//! Nothing in this crate performs I/O; storage, HTTP and the CLI depend on it,
//! never the other way round.

pub mod custom_field;
pub mod date;
pub mod job;
pub mod mention;
pub mod permission;
pub mod project;
pub mod record;
pub mod redaction;
pub mod registry;
pub mod search;
pub mod time;
pub mod user;
pub mod validate;
pub mod work_package;

pub use time::Timestamp;
pub use validate::{ValidationError, ValidationErrors};
