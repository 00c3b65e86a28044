//! Organisation keys (Admin only): API keys for integrations and SCIM bearer tokens, created with
//! the secret shown once, listed, revoked.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use roster_domain::{
    ids::UploadId,
    permissions::is_admin,
    session::{new_secret, secret_hash},
    validation::bounded_text,
};
use roster_store::{ApiKey, Caller, KeyKind};
use serde_json::{Value, json};

use crate::{
    ApiError, AppState, audit,
    caller::Authenticated,
    extract::{Fields, OptionalJsonObject, Paging},
};

fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    if is_admin(&caller.roles()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            code: "forbidden",
            detail: "Only an Admin manages API keys and SCIM tokens.",
        })
    }
}

fn view(key: &ApiKey) -> Value {
    json!({ "id": key.id, "name": key.name, "created_at": key.created_at })
}

/// What the two kinds of organisation key are called where people see them.
fn labels(kind: KeyKind) -> (&'static str, &'static str) {
    match kind {
        KeyKind::Integration => ("API key", "api_key"),
        KeyKind::Scim => ("SCIM token", "scim_token"),
    }
}

/// Creates a key of `kind` from `{name?}`: 201 `{id, key, token, name, created_at}`; the secret
/// is never shown again.
async fn create(
    state: AppState,
    caller: roster_store::Caller,
    body: serde_json::Map<String, Value>,
    kind: KeyKind,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_admin(&caller)?;
    let (label, action) = labels(kind);
    let mut fields = Fields::new(&body, &["name"]);
    let name = fields
        .optional_string("name")
        .and_then(|n| fields.parse("name", || bounded_text(n, 1, 100)));
    fields.finish()?;
    let secret = match kind {
        KeyKind::Integration => new_secret(),
        KeyKind::Scim => roster_store::scim_token(&caller.organisation.id, &new_secret()),
    };
    let key = ApiKey {
        id: UploadId::generate().to_string(),
        kind,
        organisation_id: caller.organisation.id.clone(),
        name: name.unwrap_or_else(|| label.to_owned()),
        created_at: state.now(),
        key_hash: secret_hash(&secret),
    };
    state.table.create_api_key(&key).await?;
    audit::by_caller(
        &state,
        &caller,
        &format!("{action}.created"),
        Some(&key.id),
        vec![],
    )
    .await;
    let mut answer = view(&key);
    answer["key"] = json!(secret);
    answer["token"] = json!(secret);
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn list(
    state: AppState,
    caller: roster_store::Caller,
    kind: KeyKind,
    paging: Paging,
) -> Result<Json<Value>, ApiError> {
    require_admin(&caller)?;
    let (keys, next_cursor) = state
        .table
        .api_keys(&caller.organisation.id, kind, paging.limit, paging.cursor())
        .await?;
    Ok(Json(json!({
        "items": keys.iter().map(view).collect::<Vec<_>>(),
        "next_cursor": paging.next_cursor(next_cursor),
    })))
}

async fn revoke(
    state: AppState,
    caller: roster_store::Caller,
    id: String,
    kind: KeyKind,
) -> Result<StatusCode, ApiError> {
    require_admin(&caller)?;
    state
        .table
        .revoke_api_key(&caller.organisation.id, kind, &id)
        .await?;
    let action = format!("{}.revoked", labels(kind).1);
    audit::by_caller(&state, &caller, &action, Some(&id), vec![]).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/admin/api-keys` `{name?}` (or no body): an integration key (`X-Api-Key: <key>`).
#[utoipa::path(
    post,
    path = "/v1/admin/api-keys",
    operation_id = "create_api_key",
    tag = "keys",
    summary = "Create an API key for an integration (Admin)",
    security(("session" = [])),
    request_body = Option<crate::openapi::OptionalNameRequest>,
    responses((status = 201, description = "The key, shown once.", body = crate::openapi::CreatedKey))
)]
pub async fn create_api_key(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    OptionalJsonObject(body): OptionalJsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    create(state, caller, body, KeyKind::Integration).await
}

#[utoipa::path(
    get,
    path = "/v1/admin/api-keys",
    operation_id = "list_api_keys",
    tag = "keys",
    summary = "List the API keys (Admin)",
    security(("session" = [])),
    params(("limit" = Option<u32>, Query, description = "1 to 200 (default 50)."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page; empty or absent for the first.")),
    responses((status = 200, description = "A page of the keys, without secrets.", body = crate::openapi::Keys), (status = 422, description = "A limit or cursor is invalid."))
)]
pub async fn list_api_keys(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    paging: Paging,
) -> Result<Json<Value>, ApiError> {
    list(state, caller, KeyKind::Integration, paging).await
}

#[utoipa::path(
    delete,
    path = "/v1/admin/api-keys/{key_id}",
    operation_id = "revoke_api_key",
    tag = "keys",
    summary = "Revoke an API key (Admin)",
    security(("session" = [])),
    params(("key_id" = String, Path, description = "An API key id (not its secret).")),
    responses((status = 204, description = "Revoked."))
)]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    revoke(state, caller, id, KeyKind::Integration).await
}

/// `POST /v1/admin/scim-tokens` `{name?}` (or no body): a SCIM client's bearer token. Rotate by creating a new
/// one, moving the client over, then revoking the old one.
#[utoipa::path(
    post,
    path = "/v1/admin/scim-tokens",
    operation_id = "create_scim_token",
    tag = "keys",
    summary = "Create a SCIM bearer token (Admin)",
    security(("session" = [])),
    request_body = Option<crate::openapi::OptionalNameRequest>,
    responses((status = 201, description = "The token, shown once.", body = crate::openapi::CreatedKey))
)]
pub async fn create_scim_token(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    OptionalJsonObject(body): OptionalJsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    create(state, caller, body, KeyKind::Scim).await
}

#[utoipa::path(
    get,
    path = "/v1/admin/scim-tokens",
    operation_id = "list_scim_tokens",
    tag = "keys",
    summary = "List the SCIM tokens (Admin)",
    security(("session" = [])),
    params(("limit" = Option<u32>, Query, description = "1 to 200 (default 50)."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page; empty or absent for the first.")),
    responses((status = 200, description = "A page of the tokens, without secrets.", body = crate::openapi::Keys), (status = 422, description = "A limit or cursor is invalid."))
)]
pub async fn list_scim_tokens(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    paging: Paging,
) -> Result<Json<Value>, ApiError> {
    list(state, caller, KeyKind::Scim, paging).await
}

#[utoipa::path(
    delete,
    path = "/v1/admin/scim-tokens/{token_id}",
    operation_id = "revoke_scim_token",
    tag = "keys",
    summary = "Revoke a SCIM token (Admin)",
    security(("session" = [])),
    params(("token_id" = String, Path, description = "A SCIM token id (not its secret).")),
    responses((status = 204, description = "Revoked."))
)]
pub async fn revoke_scim_token(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    revoke(state, caller, id, KeyKind::Scim).await
}
