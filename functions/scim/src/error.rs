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
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let (status, scim_type) = match self {
            ScimError::NotFound => (StatusCode::NOT_FOUND, None::<&str>),
        };
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.as_u16().to_string(),
            "detail": self.to_string(),
        });
        if let Some(scim_type) = scim_type {
            body["scimType"] = json!(scim_type);
        }
        (
            status,
            [(header::CONTENT_TYPE, "application/scim+json")],
            Json(body),
        )
            .into_response()
    }
}

pub async fn not_found() -> ScimError {
    ScimError::NotFound
}
