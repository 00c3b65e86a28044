//! Every error of the API as `application/problem+json` (RFC 9457) with a stable `code`, and for
//! validation an `errors` list of `{field, code, message}`. This file holds the one mapping from
//! error to status. Server-side failures answer an opaque body; their cause goes to the log only.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use roster_domain::validation::{FieldError, ValidationErrors};
use roster_store::{StoreError, Uniqueness};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error answer (the `Problem` schema of the OpenAPI document).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: `code` says what went wrong.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The HTTP status's reason phrase.
    pub title: &'static str,
    pub status: u16,
    /// Stable, for programs: `validation_failed`, `not_found`, `stale_version`, ...
    pub code: &'static str,
    /// For people.
    pub detail: String,
    /// Every wrong field, when the request had some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Option<Vec<crate::openapi::ProblemField>>)]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request body: {0}")]
    MalformedBody(String),
    #[error("request body too large")]
    BodyTooLarge,
    #[error("request body must be JSON")]
    UnsupportedMediaType,
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("forbidden: {detail}")]
    Forbidden {
        code: &'static str,
        detail: &'static str,
    },
    #[error("no such resource")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{field} is already taken")]
    Taken { field: &'static str },
    #[error("the resource changed since it was read")]
    Stale,
    #[error("If-Match is required")]
    IfMatchRequired,
    /// Locked for `minutes` more; `None` when only an unlock or a password reset lifts it.
    #[error("locked after failed attempts ({minutes:?} minutes)")]
    LoginLocked { minutes: Option<u64> },
    /// An email carrying a link (an invitation, a reset) was not sent, or SES did not answer
    /// whether it was (`maybe_sent`).
    #[error("email not sent: {reason}")]
    EmailNotSent { reason: String, maybe_sent: bool },
    #[error(transparent)]
    Store(StoreError),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Validation(ValidationErrors::single(field, code, message))
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Stale => ApiError::Stale,
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Taken(what) => ApiError::Taken {
                field: match what {
                    Uniqueness::Email => "email",
                    Uniqueness::Username => "username",
                    Uniqueness::ExternalId => "external_id",
                    Uniqueness::Plate => "plate_number",
                    Uniqueness::Membership => "email",
                    Uniqueness::Organisation => "id",
                    Uniqueness::ScimUserName => "scim_user_name",
                    Uniqueness::ScimExternalId => "scim_external_id",
                    Uniqueness::ScimGroupName => "scim_group_name",
                    Uniqueness::IdempotencyKey => crate::extract::RequestKey::HEADER,
                },
            },
            StoreError::EmailManagedElsewhere => ApiError::field(
                "email",
                "managed_elsewhere",
                "another of your organisations manages your email through its identity provider",
            ),
            StoreError::InvalidCursor => ApiError::field(
                "cursor",
                "invalid_cursor",
                "is not a cursor of this listing",
            ),
            other => ApiError::Store(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, detail, errors): (StatusCode, &'static str, String, Vec<FieldError>) =
            match &self {
                ApiError::MalformedBody(reason) => (
                    StatusCode::BAD_REQUEST,
                    "malformed_body",
                    reason.clone(),
                    vec![],
                ),
                ApiError::BodyTooLarge => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!(
                        "The request body is larger than {} bytes.",
                        crate::BODY_LIMIT_BYTES
                    ),
                    vec![],
                ),
                ApiError::UnsupportedMediaType => (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Send the body as application/json.".to_owned(),
                    vec![],
                ),
                ApiError::Validation(errors) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    format!("Some fields are invalid: {}.", errors.fields().join(", ")),
                    errors.0.clone(),
                ),
                ApiError::Unauthenticated => (
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "Valid credentials are required: a session or platform token (Authorization: \
                     Bearer <token>), or for the bookings feed an API key (X-Api-Key: <key>)."
                        .to_owned(),
                    vec![],
                ),
                ApiError::InvalidCredentials => (
                    StatusCode::UNAUTHORIZED,
                    "invalid_credentials",
                    "The credentials are not valid.".to_owned(),
                    vec![],
                ),
                ApiError::Forbidden { code, detail } => {
                    (StatusCode::FORBIDDEN, code, (*detail).to_owned(), vec![])
                }
                ApiError::NotFound => (
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "There is nothing at this address.".to_owned(),
                    vec![],
                ),
                ApiError::MethodNotAllowed => (
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    "This address does not accept that method.".to_owned(),
                    vec![],
                ),
                ApiError::Taken { field } => (
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("The {field} is already in use."),
                    vec![FieldError {
                        field: (*field).to_owned(),
                        code: "taken",
                        message: "is already in use".to_owned(),
                    }],
                ),
                ApiError::Stale => (
                    StatusCode::PRECONDITION_FAILED,
                    "stale_version",
                    "The resource changed since you read it; read it again and retry.".to_owned(),
                    vec![],
                ),
                ApiError::LoginLocked { minutes: None } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "login_locked_until_unlocked",
                    "Too many failed attempts: an administrator must unlock your login, or you \
                     reset your password."
                        .to_owned(),
                    vec![],
                ),
                ApiError::LoginLocked { .. } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "login_locked",
                    "Too many failed attempts; wait before trying again.".to_owned(),
                    vec![],
                ),
                ApiError::IfMatchRequired => (
                    StatusCode::PRECONDITION_REQUIRED,
                    "if_match_required",
                    "Send the ETag you read in If-Match.".to_owned(),
                    vec![],
                ),
                ApiError::EmailNotSent { .. } => {
                    tracing::error!(error = ?self, "email with a link not sent");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "email_not_sent",
                        "The email service did not take the email, so its link may reach \
                         nobody; try again shortly."
                            .to_owned(),
                        vec![],
                    )
                }
                ApiError::Store(StoreError::Unavailable(_) | StoreError::Contended) => {
                    tracing::error!(error = ?self, "store unavailable");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "service_unavailable",
                        "The service cannot reach its data store right now; try again shortly."
                            .to_owned(),
                        vec![],
                    )
                }
                ApiError::Store(_) | ApiError::Internal(_) => {
                    tracing::error!(error = ?self, "internal error");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal_error",
                        "Something went wrong on our side.".to_owned(),
                        vec![],
                    )
                }
            };
        let body = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            code,
            detail,
            errors,
        };
        let mut response = (status, Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        // A wait has an end to announce; a lock until unlocked has none.
        if let ApiError::LoginLocked {
            minutes: Some(minutes),
        } = &self
        {
            let seconds = (minutes * 60).to_string();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&seconds).expect("digits are a valid header"),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
