//! SCIM errors in the SCIM error schema (RFC 7644 section 3.12), served as `application/scim+json`.
//! This is the function's one mapping from errors to status codes.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use roster_domain::scim::{ScimProblem, ScimType, schema::ERROR};
use roster_store::{StoreError, Uniqueness};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ScimError {
    #[error("resource not found")]
    NotFound,
    /// No bearer token, or one that is not a live SCIM token of an organisation.
    #[error("a valid SCIM bearer token is required")]
    Unauthorized,
    /// The request broke a SCIM rule (`scimType` says which); 409 for uniqueness, else 400.
    #[error(transparent)]
    Problem(#[from] ScimProblem),
    /// `If-Match` named another version, or the resource changed while it was being written.
    #[error("the resource was changed by someone else; read it again")]
    PreconditionFailed,
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("this endpoint does not accept that method")]
    MethodNotAllowed,
    #[error("the service is unavailable; retry later")]
    Unavailable,
    /// Other writes of the same resource were under way at each try; made again, it can pass.
    #[error("the resource is being written by another request; retry")]
    Contended,
    #[error("internal error")]
    Internal,
}

impl From<StoreError> for ScimError {
    fn from(error: StoreError) -> Self {
        let taken =
            |detail: &str| ScimError::Problem(ScimProblem::new(ScimType::Uniqueness, detail));
        match error {
            StoreError::InvalidToken => ScimError::Unauthorized,
            StoreError::NotFound => ScimError::NotFound,
            StoreError::Stale => ScimError::PreconditionFailed,
            StoreError::Taken(Uniqueness::ScimUserName | Uniqueness::Username) => {
                taken("userName is already taken in this organisation")
            }
            StoreError::Taken(Uniqueness::ExternalId | Uniqueness::ScimExternalId) => {
                taken("externalId is already taken in this organisation")
            }
            StoreError::Taken(Uniqueness::ScimGroupName) => {
                taken("displayName is already taken by another group")
            }
            StoreError::Taken(Uniqueness::Email | Uniqueness::Membership) => {
                taken("emails.value belongs to another user of this organisation")
            }
            StoreError::Taken(
                Uniqueness::Plate | Uniqueness::Organisation | Uniqueness::IdempotencyKey,
            ) => taken("a value is already taken"),
            StoreError::EmailManagedElsewhere => ScimError::Problem(ScimProblem::new(
                ScimType::Mutability,
                "emails.value: the login email is managed by another organisation's identity provider",
            )),
            StoreError::Unavailable(source) => {
                tracing::error!(
                    error = %aws_sdk_dynamodb::error::DisplayErrorContext(source.as_ref()),
                    "the table is unavailable"
                );
                ScimError::Unavailable
            }
            StoreError::Contended => ScimError::Contended,
            StoreError::InvalidCursor => crate::list::invalid_cursor(),
            error @ StoreError::Corrupt(_) => {
                tracing::error!(%error, "store error");
                ScimError::Internal
            }
        }
    }
}

impl ScimError {
    pub fn status(&self) -> StatusCode {
        match self {
            ScimError::NotFound => StatusCode::NOT_FOUND,
            ScimError::Unauthorized => StatusCode::UNAUTHORIZED,
            ScimError::Problem(problem) if problem.scim_type == ScimType::Uniqueness => {
                StatusCode::CONFLICT
            }
            ScimError::Problem(_) => StatusCode::BAD_REQUEST,
            ScimError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ScimError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ScimError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ScimError::Unavailable | ScimError::Contended => StatusCode::SERVICE_UNAVAILABLE,
            ScimError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({
            "schemas": [ERROR],
            "status": status.as_u16().to_string(),
            "detail": self.to_string(),
        });
        if let ScimError::Problem(problem) = &self {
            body["scimType"] = json!(problem.scim_type.as_str());
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

/// Any other path: 401 without a token (nothing is revealed to strangers), else 404.
pub async fn not_found(_: crate::Claim) -> ScimError {
    ScimError::NotFound
}

/// A method a path does not take: 401 without a token, else 405 in the SCIM error schema.
pub async fn method_not_allowed(_: crate::Claim) -> ScimError {
    ScimError::MethodNotAllowed
}
