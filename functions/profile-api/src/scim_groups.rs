//! The organisation's SCIM groups as administrators see them, and the roles an Admin maps to
//! each: a group's members hold its roles for as long as the identity provider lists them.

use axum::{
    Json,
    extract::{Path, State},
};
use roster_domain::{
    admin_user::{AssignmentPatch, role_grants},
    membership::sites_of,
    organisation::Organisation,
    permissions::can_grant,
};
use roster_store::ScimGroup;
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    admin::{existing_sites, not_grantable, require_admin, require_administration},
    audit,
    caller::Authenticated,
    extract::{Fields, JsonObject},
};

fn view(group: &ScimGroup, organisation: &Organisation) -> Value {
    let members = group
        .document
        .get("members")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    json!({
        "id": group.id,
        "display_name": group.document.get("displayName"),
        "members": members,
        "roles": organisation.scim_group_roles.get(&group.id).cloned().unwrap_or_default(),
    })
}

/// `GET /v1/admin/scim-groups?limit=&cursor=`: a page of the groups with their member count and
/// mapped roles.
#[utoipa::path(
    get,
    path = "/v1/admin/scim-groups",
    operation_id = "list_scim_groups",
    tag = "admin",
    summary = "The organisation's SCIM groups with their roles",
    security(("session" = [])),
    params(("limit" = Option<u32>, Query, description = "1 to 200 (default 50)."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page; empty or absent for the first.")),
    responses((status = 200, description = "A page of the groups, by id.", body = crate::openapi::ScimGroups), (status = 422, description = "A limit or cursor is invalid."))
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    paging: crate::extract::Paging,
) -> Result<Json<Value>, ApiError> {
    require_administration(&caller)?;
    let organisation = &caller.organisation;
    let (groups, next_cursor) = state
        .table
        .scim_groups_page(&organisation.id, paging.limit, paging.cursor())
        .await?;
    let items: Vec<Value> = groups.iter().map(|g| view(g, organisation)).collect();
    Ok(Json(
        json!({ "items": items, "next_cursor": paging.next_cursor(next_cursor) }),
    ))
}

/// `PUT /v1/admin/scim-groups/{id}/roles` `{roles}`: Admin only; the roles (names or
/// `{role, sites}`) replace the group's mapping, an empty list removes it. Takes effect for every
/// member at once (roles are resolved when used, not copied onto people).
#[utoipa::path(
    put,
    path = "/v1/admin/scim-groups/{group}/roles",
    operation_id = "map_scim_group_roles",
    tag = "admin",
    summary = "Map a SCIM group to roles (Admin)",
    security(("session" = [])),
    params(("group" = String, Path, description = "A SCIM group id.")),
    request_body = crate::openapi::RolesRequest,
    responses((status = 200, description = "The group.", body = crate::openapi::ScimGroup))
)]
pub async fn map_roles(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    require_admin(&caller)?;
    let before = &caller.organisation;
    let group = state
        .table
        .scim_group_of(&before.id, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut fields = Fields::new(&body, &["roles"]);
    let roles = fields
        .value("roles")
        .and_then(|value| fields.parse("roles", || role_grants(value)));
    fields.finish()?;
    let roles = roles.unwrap_or_default();
    if roles.iter().any(|grant| !can_grant(&caller.roles(), grant)) {
        return Err(not_grantable());
    }
    let known_sites = existing_sites(&state, &caller, &sites_of(&[], &roles)).await?;
    AssignmentPatch::check(&roles, &[], None, true, &known_sites)?;
    let mut after = before.clone();
    after
        .map_group_roles(&id, roles)
        .map_err(|problem| ApiError::field("roles", problem.code, problem.message))?;
    after.version += 1;
    state
        .table
        .map_scim_group_roles(before, &after, &group.id)
        .await?;
    audit::by_caller(
        &state,
        &caller,
        "scim_group.roles_mapped",
        Some(&id),
        vec!["roles".to_owned()],
    )
    .await;
    Ok(Json(view(&group, &after)))
}
