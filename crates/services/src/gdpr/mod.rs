//! The data controller's use cases (GDPR): per-person export, erasure to the
//! "Deleted user" with its residue scan and certificate, the redaction queue
//! for free text, all driven by the personal-data registry
//! (`steward_domain::registry`).

pub mod certificate;
pub mod erase;
pub mod export;
pub mod redaction;
pub mod scan;
pub mod settings;
