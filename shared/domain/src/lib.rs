//! Roster's domain: entities, validation and policies as pure Rust. No AWS SDK, no HTTP, no I/O;
//! every rule here is unit-tested without a network.

pub mod ids;
pub mod import_object;
pub mod schedule;
