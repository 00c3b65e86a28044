use axum::{Json, extract::State};
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// `GET /health`: 200 when the table answers, 503 (problem+json) when it does not.
pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.table.ping().await?;
    Ok(Json(json!({ "status": "ok", "table": "reachable" })))
}
