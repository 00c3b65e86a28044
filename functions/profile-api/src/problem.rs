//! Every error of the API as `application/problem+json` (RFC 9457), with a stable `code`.
//! Server-side failures answer an opaque body; their cause goes to the log only.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use roster_store::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no such resource")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Serialize)]
struct Problem {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    code: &'static str,
    detail: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, detail) = match &self {
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "There is nothing at this address.".to_owned(),
            ),
            ApiError::Store(StoreError::Unavailable(_)) => {
                tracing::error!(error = ?self, "store unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "The service cannot reach its data store right now; try again shortly."
                        .to_owned(),
                )
            }
        };
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            code,
            detail,
        };
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            Json(problem),
        )
            .into_response()
    }
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound
}
