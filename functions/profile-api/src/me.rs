//! Self-service: the caller's profile, preferences, organisations and sessions.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use roster_domain::{
    ids::{OrganisationId, SessionId},
    membership::Membership,
    profile::{Attribute, Email, Owner, ProfilePatch},
};
use roster_store::EmailChange;
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    caller::Authenticated,
    email_change,
    extract::{IfMatch, JsonObject, carrying_etag, with_etag},
    notices, views,
};

/// Refuses a write based on another version than the current one.
pub fn require_version(
    membership: &Membership,
    IfMatch(expected): IfMatch,
) -> Result<(), ApiError> {
    if membership.version == expected {
        Ok(())
    } else {
        Err(ApiError::Stale)
    }
}

/// `GET /v1/me`: two DynamoDB calls (session; membership, organisation and account).
#[utoipa::path(
    get,
    path = "/v1/me",
    operation_id = "get_profile",
    tag = "me",
    summary = "The caller's profile",
    security(("session" = [])),
    responses((status = 200, description = "The profile.", body = crate::openapi::Profile, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))))
)]
pub async fn get_profile(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Response {
    let membership = &caller.membership;
    with_etag(
        StatusCode::OK,
        membership.version,
        views::profile(&state, membership).await,
    )
}

/// `PATCH /v1/me` with `If-Match`: changes the given fields; attributes managed by an identity
/// provider are refused by name; a stale version gets 412 and changes nothing.
#[utoipa::path(
    patch,
    path = "/v1/me",
    operation_id = "patch_profile",
    tag = "me",
    summary = "Change the caller's profile",
    security(("session" = [])),
    params(("If-Match" = String, Header, description = "The ETag of the version the change is based on.")),
    request_body = crate::openapi::ProfilePatchRequest,
    responses((status = 200, description = "The profile as changed.", body = crate::openapi::Profile, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))), (status = 202, description = "The other fields are changed; the new login email waits for the link sent there (`pending_email`). The answer is the same whether or not another account has that address.", body = crate::openapi::Profile, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))), (status = 412, description = "The resource changed since that ETag was read; nothing was written."), (status = 422, description = "A field is invalid or not the person's to change (nothing written), or SES refuses the new address for good (`email_rejected`: the other fields are changed, and the ETag is their version)."), (status = 428, description = "If-Match is missing."), (status = 503, description = "The link to the new login email was not sent (`email_not_sent`): the other fields are changed; ask again with the ETag of this answer, their version.", headers(("ETag" = String, description = "The version written."))))
)]
pub async fn patch_profile(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    if_match: IfMatch,
    JsonObject(mut body): JsonObject,
) -> Result<Response, ApiError> {
    let before = &caller.membership;
    require_version(before, if_match)?;
    // A new login email needs the password: a session alone (a stolen one) must not move the
    // login to an address that then receives the reset link.
    let password = body.remove("password");
    let patch = ProfilePatch::parse(&body)?;
    // Every field is checked as given, a new address too; a new address is stored only once
    // the link sent there is followed (see `email_change`), a change of letter case at once.
    let (mut profile, mut changed) = patch.apply(&before.profile, Owner::SelfService)?;
    let moving_to = patch.email.clone().filter(|new| {
        before.profile.email.as_ref().map(Email::normalised) != Some(new.normalised())
    });
    if moving_to.is_some() {
        (profile, changed) = ProfilePatch {
            email: None,
            ..patch
        }
        .apply(&before.profile, Owner::SelfService)?;
    }
    let (mut email_change, mut link_slot) = (None, None);
    if moving_to.is_some() || changed.contains(&Attribute::Email) {
        let account = crate::admin::account_of(&state, before).await?;
        let password = match &password {
            Some(Value::String(password)) => password,
            Some(_) => {
                return Err(ApiError::field(
                    "password",
                    "invalid_type",
                    "must be a string",
                ));
            }
            None => {
                return Err(ApiError::field(
                    "password",
                    "required",
                    "give your password to change your login email",
                ));
            }
        };
        crate::auth::confirm_password(&state, &account, "password", password).await?;
        let released_in = email_change::released_copies(&state, &account, before).await?;
        if moving_to.is_some() {
            link_slot = Some(email_change::LinkSlot::take(&state, &account).await?);
        }
        if let (true, Some(email)) = (changed.contains(&Attribute::Email), &profile.email) {
            email_change = Some(EmailChange {
                email: email.clone(),
                released_in,
                // Only a change of letter case reaches here, and the store keeps a same
                // mailbox's verification whoever changes it.
                verified: false,
                account,
            });
        }
    }
    let after = if changed.is_empty() {
        before.clone()
    } else {
        let after = Membership {
            profile,
            version: before.version + 1,
            ..before.clone()
        }
        .withdrawing_invitation_if_email_moved(before);
        if let Err(error) = state
            .table
            .update_membership(before, &after, email_change.as_ref())
            .await
        {
            if let Some(slot) = link_slot {
                slot.give_back(&state).await;
            }
            return Err(error.into());
        }
        after
    };
    // Sent once the other fields are written: a refused write (412) sends no link. A link not
    // sent is told with the ETag of what was written, so that asking again is not a 412.
    if let (Some(slot), Some(new)) = (link_slot, &moving_to)
        && let Err(error) = slot.send(&state, before, new).await
    {
        return Ok(carrying_etag(error.into_response(), after.version));
    }
    if let Some(change) = &email_change {
        notices::tell_old_address(&state, before, change).await;
        crate::audit::by_caller(
            &state,
            &caller,
            "user.email_changed",
            Some(after.id.as_str()),
            vec!["email".to_owned()],
        )
        .await;
    }
    let mut view = views::profile(&state, &after).await;
    let status = match &moving_to {
        Some(new) => {
            view["pending_email"] = json!(new.display());
            StatusCode::ACCEPTED
        }
        None => StatusCode::OK,
    };
    Ok(with_etag(status, after.version, view))
}

#[utoipa::path(
    get,
    path = "/v1/me/preferences",
    operation_id = "get_preferences",
    tag = "me",
    summary = "The caller's preferences",
    security(("session" = [])),
    responses((status = 200, description = "The preferences.", body = crate::openapi::Preferences, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))))
)]
pub async fn get_preferences(Authenticated(caller): Authenticated) -> Response {
    with_etag(
        StatusCode::OK,
        caller.membership.version,
        views::preferences(&caller.membership),
    )
}

/// `PATCH /v1/me/preferences` with `If-Match`.
#[utoipa::path(
    patch,
    path = "/v1/me/preferences",
    operation_id = "patch_preferences",
    tag = "me",
    summary = "Change the caller's preferences",
    security(("session" = [])),
    params(("If-Match" = String, Header, description = "The ETag of the version the change is based on.")),
    request_body = crate::openapi::PreferencesPatchRequest,
    responses((status = 200, description = "The preferences as changed.", body = crate::openapi::Preferences, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))), (status = 412, description = "The resource changed since that ETag was read; nothing was written."), (status = 428, description = "If-Match is missing."))
)]
pub async fn patch_preferences(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    if_match: IfMatch,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let before = &caller.membership;
    require_version(before, if_match)?;
    let preferences = before
        .preferences
        .patched(&body, &caller.organisation.settings)?;
    if preferences == before.preferences {
        return Ok(with_etag(
            StatusCode::OK,
            before.version,
            views::preferences(before),
        ));
    }
    let after = Membership {
        preferences,
        version: before.version + 1,
        ..before.clone()
    };
    state.table.update_membership(before, &after, None).await?;
    Ok(with_etag(
        StatusCode::OK,
        after.version,
        views::preferences(&after),
    ))
}

/// `GET /v1/me/organisations`: every organisation the person belongs to.
#[utoipa::path(
    get,
    path = "/v1/me/organisations",
    operation_id = "my_organisations",
    tag = "me",
    summary = "The caller's organisations",
    security(("session" = [])),
    responses((status = 200, description = "Every organisation the person belongs to, with the features it offers them (an app shows only the settings that do something there).", body = crate::openapi::Memberships))
)]
pub async fn organisations(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let account = state
        .table
        .account(&caller.session.account_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let mut items = Vec::new();
    for organisation in state
        .table
        .organisations(account.memberships.keys())
        .await?
    {
        items.push(json!({
            "organisation_id": organisation.id,
            "name": organisation.name,
            "user_id": account.memberships.get(&organisation.id),
            "current": organisation.id == caller.organisation.id,
            "features": views::features(&organisation.settings),
        }));
    }
    Ok(Json(json!({ "items": items })))
}

/// `POST /v1/me/organisations/{organisation}/switch`: the session continues in the person's
/// membership of that organisation.
#[utoipa::path(
    post,
    path = "/v1/me/organisations/{organisation}/switch",
    operation_id = "switch_organisation",
    tag = "me",
    summary = "Move the session to another of the person's organisations",
    security(("session" = [])),
    params(("organisation" = String, Path, description = "An organisation id.")),
    responses((status = 200, description = "The session's organisation and user now.", body = crate::openapi::Switched))
)]
pub async fn switch_organisation(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(organisation): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let organisation =
        OrganisationId::try_from(organisation.as_str()).map_err(|_| ApiError::NotFound)?;
    let account = state
        .table
        .account(&caller.session.account_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let (membership, target) = state
        .table
        .memberships_of(&account, Some(&organisation))
        .await?
        .into_iter()
        .find(|(m, _)| m.can_sign_in())
        .ok_or(ApiError::NotFound)?;
    // Sessions are password sessions: one may not enter an organisation that only signs in
    // through its identity provider.
    crate::passwords::require_password_login(&target.settings)?;
    state
        .table
        .switch_session(&caller.token_hash, &membership)
        .await?;
    Ok(Json(
        json!({ "organisation_id": organisation, "user_id": membership.id }),
    ))
}

/// `GET /v1/me/sessions`: the person's valid sessions, newest first.
#[utoipa::path(
    get,
    path = "/v1/me/sessions",
    operation_id = "my_sessions",
    tag = "me",
    summary = "The person's sessions",
    security(("session" = [])),
    params(("limit" = Option<u32>, Query, description = "1 to 200 (default 50)."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page; empty or absent for the first.")),
    responses((status = 200, description = "A page of them, newest first.", body = crate::openapi::Sessions), (status = 422, description = "A limit or cursor is invalid."))
)]
pub async fn sessions(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    paging: crate::extract::Paging,
) -> Result<Json<Value>, ApiError> {
    let (sessions, next_cursor) = state
        .table
        .sessions_page(
            &caller.session.account_id,
            caller.session_epoch,
            state.now(),
            paging.limit,
            paging.cursor(),
        )
        .await?;
    let items: Vec<Value> = sessions
        .iter()
        .map(|(hash, session)| {
            json!({
                "id": session.id,
                "organisation_id": session.organisation_id,
                "created_at": session.created_at,
                "last_used_at": session.last_used_at,
                "expires_at": session.lifetime().expires_at(),
                "user_agent": session.user_agent,
                "current": *hash == caller.token_hash,
            })
        })
        .collect();
    Ok(Json(
        json!({ "items": items, "next_cursor": paging.next_cursor(next_cursor) }),
    ))
}

/// `DELETE /v1/me/sessions/{session}`: ends one of the person's sessions.
#[utoipa::path(
    delete,
    path = "/v1/me/sessions/{session}",
    operation_id = "end_session",
    tag = "me",
    summary = "End one of the person's sessions",
    security(("session" = [])),
    params(("session" = String, Path, description = "A session id.")),
    responses((status = 204, description = "Ended."))
)]
pub async fn end_session(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(session): Path<String>,
) -> Result<StatusCode, ApiError> {
    let session = SessionId::try_from(session.as_str()).map_err(|_| ApiError::NotFound)?;
    state
        .table
        .end_session_by_id(
            &caller.session.account_id,
            caller.session_epoch,
            &session,
            state.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
