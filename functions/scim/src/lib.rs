//! Roster's SCIM 2.0 service provider (RFC 7643/7644) under `/scim/v2`. `router` is the whole
//! application; `main.rs` only wires it up, and the local server mounts the same router.

mod error;

use axum::Router;

pub use error::ScimError;

pub fn router() -> Router {
    Router::new().fallback(error::not_found)
}
