//! Organisation API keys (Admin only): created with the secret shown once, listed, revoked.

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
use roster_store::{ApiKey, Caller};
use serde_json::{Value, json};

use crate::{
    ApiError, AppState, audit,
    caller::Authenticated,
    extract::{Fields, JsonObject},
};

fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    if is_admin(&caller.membership.roles) {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            code: "forbidden",
            detail: "Only an Admin manages API keys.",
        })
    }
}

fn view(key: &ApiKey) -> Value {
    json!({ "id": key.id, "name": key.name, "created_at": key.created_at })
}

/// `POST /v1/admin/api-keys` `{name}` -> 201 `{id, key, name}`; the key is never shown again.
pub async fn create(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_admin(&caller)?;
    let mut fields = Fields::new(&body, &["name"]);
    let name = fields
        .optional_string("name")
        .and_then(|n| fields.parse("name", || bounded_text(n, 1, 100)));
    fields.finish()?;
    let secret = new_secret();
    let key = ApiKey {
        id: UploadId::generate().to_string(),
        organisation_id: caller.organisation.id.clone(),
        name: name.unwrap_or_else(|| "API key".to_owned()),
        created_at: state.now(),
        key_hash: secret_hash(&secret),
    };
    state.table.create_api_key(&key).await?;
    audit::by_caller(&state, &caller, "api_key.created", Some(&key.id), vec![]).await;
    let mut answer = view(&key);
    answer["key"] = json!(secret);
    Ok((StatusCode::CREATED, Json(answer)))
}

pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Value>, ApiError> {
    require_admin(&caller)?;
    let keys = state.table.api_keys(&caller.organisation.id).await?;
    Ok(Json(
        json!({ "items": keys.iter().map(view).collect::<Vec<_>>() }),
    ))
}

pub async fn revoke(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&caller)?;
    state
        .table
        .revoke_api_key(&caller.organisation.id, &id)
        .await?;
    audit::by_caller(&state, &caller, "api_key.revoked", Some(&id), vec![]).await;
    Ok(StatusCode::NO_CONTENT)
}
