//! End-to-end tests of Roster against the local stack (DynamoDB Local and moto, over HTTP, through
//! the real AWS SDK clients). Run with `make test`, which starts the stack and sets the environment.

mod admin;
mod credentials;
mod faults;
mod foundation;
mod imports;
mod isolation;
mod openapi;
mod profile;
mod push;
mod reservations;
mod scim;
