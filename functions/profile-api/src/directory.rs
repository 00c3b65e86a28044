//! `GET /v1/directory?q=`: colleagues by name prefix, without those hidden from colleagues; and
//! one colleague's profile as colleagues see it.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, Query, State, rejection::QueryRejection},
};
use roster_domain::{directory::Search, ids::UserId};
use roster_store::DirectoryEntry;
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
    params(("q" = String, Query, description = "Name-word prefixes; every word must match."), ("limit" = Option<u32>, Query, description = "1 to 200 (default 20)."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page; empty or absent for the first.")),
    responses((status = 200, description = "A page of colleagues, each once across the pages; a page may hold fewer than the limit and still have a next one.", body = crate::openapi::DirectoryPage), (status = 422, description = "The query is too short or invalid, or the limit or cursor is invalid."))
)]
pub async fn search(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::MalformedBody(rejection.body_text()))?;
    let paging = Paging::with_default(&query, PAGE_SIZE, &state)?;
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
        items.push(entry_view(&state, entry).await);
    }
    Ok(Json(
        json!({ "items": items, "next_cursor": paging.next_cursor(page.next_cursor) }),
    ))
}

/// A colleague as a search shows them.
async fn entry_view(state: &AppState, entry: &DirectoryEntry) -> Value {
    json!({
        "id": entry.user_id,
        "display_name": entry.display_name,
        "first_name": entry.first_name,
        "last_name": entry.last_name,
        "department": entry.department,
        "function": entry.function,
        "avatar_url": views::avatar_url(state, entry.avatar_key.as_deref()).await,
    })
}

/// `GET /v1/directory/{user}`: a colleague as a search shows them, with their "about me" (where
/// a first-aider says so, for colleagues to find them) and first-aider flag. 404 alike for
/// someone of another organisation, deactivated, or hidden from colleagues.
#[utoipa::path(
    get,
    path = "/v1/directory/{user}",
    operation_id = "get_colleague",
    tag = "me",
    summary = "A colleague's profile",
    security(("session" = [])),
    params(("user" = String, Path, description = "A colleague's id, from a search.")),
    responses((status = 200, description = "The colleague.", body = crate::openapi::Colleague), (status = 404, description = "No colleague the caller may see has this id."))
)]
pub async fn colleague(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(user): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = UserId::try_from(user.as_str()).map_err(|_| ApiError::NotFound)?;
    let organisation = &caller.organisation;
    let colleague = state
        .table
        .membership(&organisation.id, &id)
        .await?
        .filter(|m| m.is_listed(&organisation.settings))
        .ok_or(ApiError::NotFound)?;
    let mut view = entry_view(&state, &DirectoryEntry::of(&colleague)).await;
    view["about_me"] = json!(colleague.profile.about_me);
    view["first_aider"] = json!(colleague.profile.first_aider);
    Ok(Json(view))
}
