//! Roster's SCIM 2.0 service provider (RFC 7643/7644) under `/scim/v2`. `router` is the whole
//! application; `main.rs` only wires it up, and the local server mounts the same router.
//!
//! Every request carries `Authorization: Bearer <token>`, a SCIM token an Admin minted at
//! `/v1/admin/scim-tokens`; the token decides the organisation.

mod error;

use axum::{
    Router,
    extract::{Request, State},
    http::header,
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use roster_domain::{ids::OrganisationId, session::secret_hash};
use roster_store::{DynamoTable, KeyKind};

pub use error::ScimError;

/// The organisation a request's SCIM token belongs to.
#[derive(Debug, Clone)]
pub struct ScimClient {
    pub organisation: OrganisationId,
}

pub fn router(table: DynamoTable) -> Router {
    Router::new()
        .fallback(error::not_found)
        .layer(middleware::from_fn_with_state(table, authenticate))
}

/// Admits requests with a live SCIM token (one `GetItem`), answering 401 otherwise.
async fn authenticate(
    State(table): State<DynamoTable>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return ScimError::Unauthorized.into_response();
    };
    match table.api_key(&secret_hash(token), KeyKind::Scim).await {
        Ok(Some(key)) => {
            request.extensions_mut().insert(ScimClient {
                organisation: key.organisation_id,
            });
            next.run(request).await
        }
        Ok(None) => ScimError::Unauthorized.into_response(),
        Err(error) => {
            tracing::error!(%error, "reading a SCIM token");
            ScimError::Unavailable.into_response()
        }
    }
}
