//! Roster's domain: entities, validation and policies as pure Rust. No AWS SDK, no HTTP, no I/O;
//! every rule here is unit-tested without a network.

pub mod admin_user;
pub mod audit;
pub mod breached;
pub mod credentials;
pub mod device;
pub mod directory;
pub mod idempotency;
pub mod ids;
pub mod import;
pub mod import_object;
pub mod lockout;
pub mod membership;
pub mod organisation;
pub mod permissions;
pub mod preferences;
pub mod profile;
pub mod recovery;
pub mod reservation;
pub mod reset;
pub mod schedule;
pub mod scim;
pub mod sealed;
pub mod session;
pub mod totp;
pub mod validation;
pub mod vehicle;
