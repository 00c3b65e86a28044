//! `GET /v1/directory?q=`: colleagues by name prefix, without those hidden from colleagues.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Query, State, rejection::QueryRejection},
};
use roster_domain::directory::Search;
use serde_json::{Value, json};

use crate::{ApiError, AppState, caller::Authenticated, extract::Paging, views};

/// Entries a page holds when the caller names no `limit`.
const PAGE_SIZE: i32 = 20;

#[utoipa::path(
    get,
    path = "/v1/directory",
    operation_id = "search_directory",
    tag = "me",
    summary = "Find colleagues by name",
    security(("session" = [])),
    params(("q" = String, Query, description = "Name-word prefixes; every word must match."), ("limit" = Option<u32>, Query, description = "1 to 200 (default 20)."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page.")),
    responses((status = 200, description = "A page of colleagues, each once across the pages; a page may hold fewer than the limit and still have a next one.", body = crate::openapi::DirectoryPage), (status = 422, description = "The query is too short or invalid, or the limit or cursor is invalid."))
)]
pub async fn search(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::MalformedBody(rejection.body_text()))?;
    let paging = Paging::with_default(&query, PAGE_SIZE)?;
    let search = Search::try_from(query.get("q").map_or("", String::as_str))
        .map_err(|problem| ApiError::field("q", problem.code, problem.message))?;
    let page = state
        .table
        .search_directory(
            &caller.organisation.id,
            &caller.organisation.settings,
            &search,
            paging.limit,
            paging.cursor(),
        )
        .await?;
    let mut items = Vec::with_capacity(page.entries.len());
    for entry in &page.entries {
        items.push(json!({
            "id": entry.user_id,
            "display_name": entry.display_name,
            "first_name": entry.first_name,
            "last_name": entry.last_name,
            "department": entry.department,
            "function": entry.function,
            "avatar_url": views::avatar_url(&state, entry.avatar_key.as_deref()).await,
        }));
    }
    Ok(Json(
        json!({ "items": items, "next_cursor": page.next_cursor }),
    ))
}
