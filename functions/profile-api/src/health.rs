use axum::{Json, extract::State};
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// `GET /health`: 200 when the table answers, 503 (problem+json) when it does not.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "health",
    tag = "meta",
    summary = "Whether the service reaches its table",
    security(()),
    responses((status = 200, description = "The table answers.", body = crate::openapi::Health), (status = 503, description = "The table does not answer."))
)]
pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.table.ping().await?;
    Ok(Json(json!({ "status": "ok", "table": "reachable" })))
}
