//! The authenticated caller of a request: `Authorization: Bearer <session token>`, resolved in two
//! DynamoDB calls (session, then membership and organisation together).

use axum::{extract::FromRequestParts, http::request::Parts};
use roster_domain::session::secret_hash;
use roster_store::Caller;

use crate::{ApiError, AppState};

/// The bearer token of the request, if any.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(ApiError::Unauthenticated)?;
        let now = state.now();
        let caller = state
            .table
            .caller(&secret_hash(token), now)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if caller.session.lifetime().needs_touch(now) {
            state
                .table
                .touch_session(&caller.token_hash, &caller.session, now)
                .await?;
        }
        Ok(Self(caller))
    }
}
