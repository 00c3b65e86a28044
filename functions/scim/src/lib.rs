//! Roster's SCIM 2.0 service provider (RFC 7643/7644) under `/scim/v2`. `router` is the whole
//! application; `main.rs` only wires it up, and the local server mounts the same router.
//!
//! Every request carries `Authorization: Bearer <token>`, a SCIM token an Admin minted at
//! `/v1/admin/scim-tokens`; the token names its organisation, and every store call checks it.

mod discovery;
mod error;
mod groups;
mod list;
mod users;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use roster_domain::{
    audit::{Actor, AuditEntry},
    scim::{ScimProblem, ScimType, resource::etag},
};
use roster_notify::SesMailer;
use roster_store::{DynamoTable, ScimClaim, avatars::S3AvatarStore};
use serde_json::Value;

pub use error::ScimError;

/// Largest request body accepted: room for a Group as large as Roster keeps one (380,000 bytes
/// of JSON) written with the whitespace and member `display`s a client may add, which the
/// document bounds then judge naming the attribute.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct ScimState {
    pub table: DynamoTable,
    /// Tells people whose login email a client moves.
    pub mailer: SesMailer,
    /// Where the images of a person a client deletes are removed from.
    pub avatars: S3AvatarStore,
}

pub fn router(table: DynamoTable, mailer: SesMailer, avatars: S3AvatarStore) -> Router {
    Router::new()
        .route(
            "/scim/v2/Users",
            get(list::list::<list::Users>).post(users::create),
        )
        .route("/scim/v2/Users/.search", post(list::search::<list::Users>))
        .route(
            "/scim/v2/Users/{id}",
            get(users::read)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete),
        )
        .route(
            "/scim/v2/Groups",
            get(list::list::<list::Groups>).post(groups::create),
        )
        .route(
            "/scim/v2/Groups/.search",
            post(list::search::<list::Groups>),
        )
        .route(
            "/scim/v2/Groups/{id}",
            get(groups::read)
                .put(groups::replace)
                .patch(groups::patch)
                .delete(groups::delete),
        )
        .route("/scim/v2/.search", post(list::search_all))
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(discovery::resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(discovery::resource_type))
        .route("/scim/v2/Schemas", get(discovery::schemas))
        .route("/scim/v2/Schemas/{id}", get(discovery::schema))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            (|| axum::response::IntoResponse::into_response(ScimError::NotFound))
                as fn() -> axum::response::Response,
            roster_bootstrap::refuse_undecodable_paths,
        ))
        .layer(axum::middleware::map_response(roster_bootstrap::no_store))
        .layer(axum::middleware::from_fn(roster_bootstrap::log_request))
        .with_state(ScimState {
            table,
            mailer,
            avatars,
        })
}

/// The request's SCIM token claim (checked by the store call that uses it); 401 without one.
pub struct Claim(pub ScimClaim);

impl<S: Send + Sync> FromRequestParts<S> for Claim {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        roster_bootstrap::bearer_token(&parts.headers)
            .and_then(ScimClaim::parse)
            .map(|claim| {
                // Claimed, not yet verified: a refused token's line ends with status 401.
                roster_bootstrap::record_organisation(claim.organisation());
                Claim(claim)
            })
            .ok_or(ScimError::Unauthorized)
    }
}

/// The base URL of this SCIM service as the client reached it (for `meta.location`).
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let host = header("x-forwarded-host")
            .or_else(|| header("host"))
            .unwrap_or("localhost");
        let scheme = header("x-forwarded-proto").unwrap_or("http");
        Ok(BaseUrl(format!("{scheme}://{host}/scim/v2")))
    }
}

/// A request body of at most `MAX_BODY_BYTES`; a larger one is refused as `TooLarge`, in the
/// SCIM error schema (axum's own refusal is plain text).
pub struct ScimBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ScimBody {
    type Rejection = ScimError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(request, state).await {
            Ok(body) => Ok(ScimBody(body)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ScimError::TooLarge(MAX_BODY_BYTES))
            }
            Err(rejection) => Err(ScimError::Problem(ScimProblem::new(
                ScimType::InvalidSyntax,
                format!("the body could not be read: {}", rejection.body_text()),
            ))),
        }
    }
}

/// A JSON request body; anything else is `invalidSyntax`.
pub fn json_body(body: &Bytes) -> Result<Value, ScimError> {
    serde_json::from_slice(body).map_err(|error| {
        ScimError::Problem(ScimProblem::new(
            ScimType::InvalidSyntax,
            format!("the body is not valid JSON: {error}"),
        ))
    })
}

/// The version `If-Match` requires, if the request sent one; `*` requires none.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ScimError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    // A value that is not text names no version either: the write is refused, not made
    // unconditional.
    let value = value.to_str().map_err(|_| ScimError::PreconditionFailed)?;
    if value.trim() == "*" {
        return Ok(None);
    }
    roster_domain::scim::resource::version_of_etag(value)
        .map(Some)
        .ok_or(ScimError::PreconditionFailed)
}

/// Refuses a write whose `If-Match` names another version than `current`.
pub fn check_version(headers: &HeaderMap, current: u64) -> Result<(), ScimError> {
    match if_match(headers)? {
        Some(expected) if expected != current => Err(ScimError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// Tries of a write that names no version (no `If-Match`, or `*`): one lost to a concurrent write
/// of the same item is read and made again, up to this many times (as many writers at once as
/// it can outlast: each loss is another writer's success).
const WRITE_TRIES: usize = 5;

/// Runs `write` (a read, a change, a conditional write), again when it lost a race to another
/// write (412) and the request named no version: such a client asked for its change whatever the
/// version (Entra ID sends none, and retries a failed operation only in its next cycle, some 40
/// minutes on). With `If-Match`, the 412 stands.
pub async fn retried_unless_versioned<T, Write>(
    headers: &HeaderMap,
    write: impl FnMut() -> Write,
) -> Result<T, ScimError>
where
    Write: Future<Output = Result<T, ScimError>>,
{
    let versioned = if_match(headers)?.is_some();
    retried(write, |error| match error {
        ScimError::PreconditionFailed => !versioned,
        // No version was refused: the write is made again whatever the request named.
        ScimError::Contended => true,
        _ => false,
    })
    .await
}

/// Runs `write` again while it fails with an error `retries` takes, up to [`WRITE_TRIES`]
/// times in all.
pub async fn retried<T, Write>(
    mut write: impl FnMut() -> Write,
    retries: impl Fn(&ScimError) -> bool,
) -> Result<T, ScimError>
where
    Write: Future<Output = Result<T, ScimError>>,
{
    let mut tries = 1;
    loop {
        match write().await {
            Err(error) if tries < WRITE_TRIES && retries(&error) => tries += 1,
            outcome => return outcome,
        }
    }
}

/// A SCIM JSON answer; a resource's carries its version as `ETag` (and `Location` when created).
pub fn scim_json(status: StatusCode, body: Value, version: Option<u64>) -> Response {
    let location = (status == StatusCode::CREATED)
        .then(|| body["meta"]["location"].as_str().map(str::to_owned))
        .flatten();
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/scim+json")],
        Json(body),
    )
        .into_response();
    if let Some(version) = version
        && let Ok(value) = HeaderValue::from_str(&etag(version))
    {
        response.headers_mut().insert(header::ETAG, value);
    }
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// Who is writing: the token's id and its organisation, read together in one call.
pub struct Writer {
    pub token_id: String,
    pub organisation: roster_domain::organisation::Organisation,
}

pub async fn writer(state: &ScimState, claim: &ScimClaim) -> Result<Writer, ScimError> {
    let (token_id, organisation) = state.table.scim_organisation(claim).await?;
    Ok(Writer {
        token_id,
        organisation,
    })
}

/// Records a provisioning request's outcome in the organisation's audit log (the actor is the
/// SCIM token) and answers the outcome. A failure to write the entry is logged, never the
/// request's failure.
pub async fn audited<T>(
    state: &ScimState,
    writer: &Writer,
    action: &str,
    target: Option<&str>,
    outcome: Result<T, ScimError>,
) -> Result<T, ScimError> {
    // A refusal is named by its status and `scimType`, never its detail: that quotes what the
    // client sent (values the log keeps none of, and a path as long as the body).
    let changed = match &outcome {
        Ok(_) => vec![],
        Err(error) => {
            let status = error.status().as_u16();
            vec![match error {
                ScimError::Problem(problem) => {
                    format!("refused: {status} {}", problem.scim_type.as_str())
                }
                _ => format!("refused: {status}"),
            }]
        }
    };
    let entry = AuditEntry {
        at: chrono::Utc::now(),
        action: action.to_owned(),
        actor: Actor::Scim(writer.token_id.clone()),
        target: target.map(str::to_owned),
        source: Some("scim".to_owned()),
        changed,
        approved_by: None,
    };
    let organisation = &writer.organisation;
    if let Err(error) = state
        .table
        .record_audit(
            &organisation.id,
            &entry,
            organisation.settings.audit_retention_days,
        )
        .await
    {
        tracing::error!(%error, action, "audit entry not written");
    }
    outcome
}
