//! SCIM errors in the SCIM error schema (RFC 7644 section 3.12), served as `application/scim+json`.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ScimError {
    #[error("resource not found")]
    NotFound,
    /// No bearer token, or one that is not a live SCIM token of an organisation.
    #[error("a valid SCIM bearer token is required")]
    Unauthorized,
    #[error("the service is unavailable; retry later")]
    Unavailable,
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let (status, scim_type) = match self {
            ScimError::NotFound => (StatusCode::NOT_FOUND, None::<&str>),
            ScimError::Unauthorized => (StatusCode::UNAUTHORIZED, None),
            ScimError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, None),
        };
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.as_u16().to_string(),
            "detail": self.to_string(),
        });
        if let Some(scim_type) = scim_type {
            body["scimType"] = json!(scim_type);
        }
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/scim+json")],
            Json(body),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

pub async fn not_found() -> ScimError {
    ScimError::NotFound
}
