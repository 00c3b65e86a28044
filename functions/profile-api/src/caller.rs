//! The authenticated caller of a request: `Authorization: Bearer <session token>`, resolved in two
//! DynamoDB calls (session, then membership, organisation and account together; the account's
//! `session_epoch` ends sessions started before it).

use axum::http::Method;
use axum::{extract::FromRequestParts, http::request::Parts};
use roster_domain::session::secret_hash;
use roster_store::{ApiKey, Caller, KeyKind, Restriction};

use crate::{ApiError, AppState};

/// The bearer token of the request, if any.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    roster_bootstrap::bearer_token(&parts.headers)
}

pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(ApiError::Unauthenticated)?;
        let route = (parts.method.clone(), parts.uri.path().to_owned());
        let now = state.now();
        let mut caller = state
            .table
            .caller(&secret_hash(token), now)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let takes = &caller.organisation.settings.scim_attributes;
        takes.release_in(&mut caller.membership.profile);
        roster_bootstrap::record_organisation(&caller.organisation.id);
        if caller.session.lifetime().needs_touch(now) {
            state
                .table
                .touch_session(&caller.token_hash, &caller.session, now)
                .await?;
        }
        // One step at a time: a new password first (enrolment asks for it), then 2FA when the
        // organisation requires it.
        let restriction = caller
            .session
            .restriction
            .or(
                (caller.organisation.settings.require_mfa && !caller.session.mfa)
                    .then_some(Restriction::MfaEnrolment),
            );
        if let Some(restriction) = restriction {
            enforce(restriction, &route.0, &route.1)?;
        }
        Ok(Self(caller))
    }
}

/// The header integrations send their organisation's API key in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The API key of the request: its `X-Api-Key` header, else its bearer token (accepted as well).
fn api_key(parts: &Parts) -> Option<&str> {
    match parts.headers.get(API_KEY_HEADER) {
        Some(value) => Some(value.to_str().ok()?.trim()).filter(|key| !key.is_empty()),
        None => bearer_token(parts),
    }
}

/// An integration of an organisation: `X-Api-Key: <API key>` (one DynamoDB call).
pub struct Integration(pub ApiKey);

impl FromRequestParts<AppState> for Integration {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = api_key(parts).ok_or(ApiError::Unauthenticated)?;
        let key = state
            .table
            .api_key(&secret_hash(key), KeyKind::Integration)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        roster_bootstrap::record_organisation(&key.organisation_id);
        Ok(Self(key))
    }
}

/// A restricted session reaches only what completes it (and logout).
fn enforce(restriction: Restriction, method: &Method, path: &str) -> Result<(), ApiError> {
    let allowed: &[&str] = match restriction {
        Restriction::MfaEnrolment => &[
            "/v1/me/mfa/totp",
            "/v1/me/mfa/totp/confirm",
            "/v1/auth/logout",
        ],
        Restriction::PasswordChange => &["/v1/me/password", "/v1/auth/logout"],
    };
    if *method == Method::POST && allowed.contains(&path) {
        return Ok(());
    }
    Err(match restriction {
        Restriction::MfaEnrolment => ApiError::Forbidden {
            code: "mfa_enrolment_required",
            detail: "Your organisation requires two-factor authentication: set it up first.",
        },
        Restriction::PasswordChange => ApiError::Forbidden {
            code: "password_change_required",
            detail: "Choose a new password first.",
        },
    })
}
