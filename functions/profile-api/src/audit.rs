//! Writing and reading the audit log. An entry names fields, never their values.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Query, State, rejection::QueryRejection},
};
use roster_domain::{
    audit::{Actor, AuditEntry},
    ids::OrganisationId,
    permissions::administers_whole_organisation,
};
use roster_store::{AuditFilter, Caller};
use serde_json::{Value, json};

use crate::{ApiError, AppState, caller::Authenticated, extract::Paging};

/// Entries a page of the log reads when the caller names no `limit`.
const PAGE_SIZE: i32 = 100;

/// Appends a complete entry to `organisation`'s log (see `record`).
pub async fn write(
    state: &AppState,
    organisation: &OrganisationId,
    retention_days: u32,
    entry: &AuditEntry,
) {
    if let Err(error) = state
        .table
        .record_audit(organisation, entry, retention_days)
        .await
    {
        tracing::error!(%error, action = %entry.action, "audit entry not written");
    }
}

/// Appends an entry to `organisation`'s log. A failure is logged loudly but does not undo the
/// action it records, which has already happened.
pub async fn record(
    state: &AppState,
    organisation: &OrganisationId,
    retention_days: u32,
    actor: Actor,
    action: &str,
    target: Option<&str>,
    changed: Vec<String>,
) {
    let entry = entry(state, actor, action, target, changed);
    write(state, organisation, retention_days, &entry).await;
}

/// An entry of `actor` doing `action` now (to `target`, changing the fields named).
pub fn entry(
    state: &AppState,
    actor: Actor,
    action: &str,
    target: Option<&str>,
    changed: Vec<String>,
) -> AuditEntry {
    AuditEntry {
        at: state.now(),
        action: action.to_owned(),
        actor,
        target: target.map(str::to_owned),
        source: None,
        changed,
        approved_by: None,
    }
}

/// An action of the caller, in their organisation.
pub async fn by_caller(
    state: &AppState,
    caller: &Caller,
    action: &str,
    target: Option<&str>,
    changed: Vec<String>,
) {
    record(
        state,
        &caller.organisation.id,
        caller.organisation.settings.audit_retention_days,
        Actor::User(caller.membership.id.to_string()),
        action,
        target,
        changed,
    )
    .await;
}

/// An event of a person outside a session (login, reset), in their membership's organisation.
pub async fn of_person(state: &AppState, organisation: &OrganisationId, user: &str, action: &str) {
    of_person_changing(state, organisation, user, action, vec![]).await;
}

/// [`of_person`] changing the fields named (a login email moved by its link).
pub async fn of_person_changing(
    state: &AppState,
    organisation: &OrganisationId,
    user: &str,
    action: &str,
    changed: Vec<String>,
) {
    let retention = match state.table.organisation(organisation).await {
        Ok(Some(o)) => o.settings.audit_retention_days,
        _ => roster_domain::organisation::OrganisationSettings::default().audit_retention_days,
    };
    record(
        state,
        organisation,
        retention,
        Actor::User(user.to_owned()),
        action,
        Some(user),
        changed,
    )
    .await;
}

/// An event of a person, in every organisation they belong to.
pub async fn of_account(state: &AppState, account: &roster_store::Account, action: &str) {
    for (organisation, user) in &account.memberships {
        of_person(state, organisation, user.as_str(), action).await;
    }
}

/// `GET /v1/admin/audit?action=&actor=&target=&cursor=`: newest first.
#[utoipa::path(
    get,
    path = "/v1/admin/audit",
    operation_id = "list_audit",
    tag = "admin",
    summary = "The audit log, newest first",
    security(("session" = [])),
    params(("action" = Option<String>, Query), ("actor" = Option<String>, Query), ("target" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "How many entries to read, 1 to 200 (default 100); fewer may match the filters."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page; empty or absent for the first.")),
    responses((status = 200, description = "A page of entries.", body = crate::openapi::AuditPage), (status = 422, description = "The limit or cursor is invalid."))
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    // The log covers every site: a User Manager of some sites does not read it.
    if !administers_whole_organisation(&caller.roles()) {
        return Err(ApiError::Forbidden {
            code: "forbidden",
            detail: "Your roles do not allow this.",
        });
    }
    let Query(query) = query.map_err(|rejection| ApiError::MalformedBody(rejection.body_text()))?;
    let paging = Paging::with_default(&query, PAGE_SIZE, &state)?;
    let filter = AuditFilter {
        action: query.get("action").cloned(),
        actor: query.get("actor").cloned(),
        target: query.get("target").cloned(),
    };
    let page = state
        .table
        .audit(
            &caller.organisation.id,
            &filter,
            state.now(),
            paging.limit,
            paging.cursor(),
        )
        .await?;
    Ok(Json(
        json!({ "items": page.entries, "next_cursor": paging.next_cursor(page.next_cursor) }),
    ))
}
