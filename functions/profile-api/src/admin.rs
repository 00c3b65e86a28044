//! Administration of the caller's organisation: users, roles per site, invitations, lifecycle,
//! credential resets, organisation settings and sites. Every endpoint needs an administering role
//! (Admin or User Management); each action also checks the rules of `permissions`.

use axum::{
    Json,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use roster_domain::{
    admin_user::{ASSIGNMENT_FIELDS, AssignmentPatch, Login, NewUser, SITES_MAX, referenced_sites},
    ids::{SiteId, UserId},
    membership::{InvitationStatus, Membership, Status},
    permissions::{
        can_act_on_credentials, can_administer, can_assign_sites, can_deactivate, can_grant,
        can_manage, is_admin, managed_sites,
    },
    profile::{Owner, Profile, ProfilePatch},
    reset::{INVITATION_EMAILS_PER_HOUR, RESET_EMAILS_PER_HOUR},
    session::{new_secret, secret_hash},
    validation::bounded_text,
};
use roster_notify::templates::{INVITATION_LIFETIME, Notice, invitation_link};
use roster_store::{Account, Caller, Invitation, Site, StoreError, UserFilter};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

use crate::{
    ApiError, AppState, audit,
    caller::Authenticated,
    extract::{Fields, IfMatch, JsonObject, Paging, with_etag},
    notices,
    passwords::hash_blocking,
    views,
};

fn forbidden() -> ApiError {
    ApiError::Forbidden {
        code: "forbidden",
        detail: "Your roles do not allow this.",
    }
}

pub(crate) fn not_grantable() -> ApiError {
    ApiError::Forbidden {
        code: "role_not_grantable",
        detail: "Your roles do not allow granting or removing that role.",
    }
}

pub(crate) fn require_administration(caller: &Caller) -> Result<(), ApiError> {
    if can_administer(&caller.roles()) {
        Ok(())
    } else {
        Err(forbidden())
    }
}

pub(crate) fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    if is_admin(&caller.roles()) {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// The user `id` of the caller's organisation, if the caller may manage them.
pub(crate) async fn managed_member(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Membership, ApiError> {
    require_administration(caller)?;
    let id = UserId::try_from(id).map_err(|_| ApiError::NotFound)?;
    let mut membership = state
        .table
        .membership(&caller.organisation.id, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    // As its organisation treats it now (see `ScimAttributes::release`).
    caller
        .organisation
        .settings
        .scim_attributes
        .release_in(&mut membership.profile);
    if !manages(caller, &membership) {
        return Err(forbidden());
    }
    Ok(membership)
}

/// Whether the caller may see and change `membership`: User Management scoped to sites reaches
/// the people of those sites, and only an Admin reaches those who administer.
fn manages(caller: &Caller, membership: &Membership) -> bool {
    can_manage(
        &caller.roles(),
        &membership.roles_in(&caller.organisation),
        &membership.sites_in(&caller.organisation),
    )
}

/// Refuses an action on the caller's own membership. Credential actions (a login email move, a
/// 2FA reset, a PIN, a reset link) go through `/v1/me` for oneself, which asks for the password:
/// an admin's session alone (a stolen one) must not take over its own account.
fn require_someone_else(
    caller: &Caller,
    membership: &Membership,
    field: &str,
    message: &str,
) -> Result<(), ApiError> {
    if membership.id == caller.membership.id {
        Err(ApiError::field(field, "self", message))
    } else {
        Ok(())
    }
}

/// Refuses an action on the credentials of someone who has a site or holds a role the caller
/// could not give ([`can_act_on_credentials`]): with the account, the caller would have it.
fn require_credentials_reach(caller: &Caller, membership: &Membership) -> Result<(), ApiError> {
    let roles = caller.roles();
    let sites = membership.sites_in(&caller.organisation);
    if can_act_on_credentials(&roles, &membership.roles_in(&caller.organisation), &sites) {
        Ok(())
    } else if !can_assign_sites(&roles, &sites) {
        Err(ApiError::Forbidden {
            code: "sites_beyond_yours",
            detail: "This person has a site you do not manage; an administrator who manages \
                     all of their sites manages their credentials.",
        })
    } else {
        Err(ApiError::Forbidden {
            code: "roles_beyond_yours",
            detail: "This person holds a role you could not give; an administrator who could \
                     manages their credentials.",
        })
    }
}

/// What `require_someone_else` answers for one's own credentials.
const OWN_CREDENTIALS: &str =
    "manage your own credentials under /v1/me, which asks for your password";

/// `managed_member`, and their account.
async fn managed_user(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(Membership, Account), ApiError> {
    let membership = managed_member(state, caller, id).await?;
    let account = account_of(state, &membership).await?;
    Ok((membership, account))
}

/// The account behind `membership` (every membership has one).
pub(crate) async fn account_of(
    state: &AppState,
    membership: &Membership,
) -> Result<Account, ApiError> {
    state
        .table
        .account(&membership.account_id)
        .await?
        .ok_or_else(|| ApiError::Internal("membership without account".to_owned()))
}

/// Those of `referenced` that are sites of the caller's organisation, in one read however many
/// sites it has; none are read when there are more than a user may name, since the check
/// refuses those anyway.
pub(crate) async fn existing_sites(
    state: &AppState,
    caller: &Caller,
    referenced: &[String],
) -> Result<Vec<String>, ApiError> {
    if referenced.len() > SITES_MAX {
        return Ok(vec![]);
    }
    Ok(state
        .table
        .existing_sites(&caller.organisation.id, referenced)
        .await?)
}

/// A user as administrators see them: `roles` are those given to the person directly (what a
/// PATCH edits), `group_roles` those their SCIM groups add.
async fn user_view(state: &AppState, caller: &Caller, membership: &Membership) -> Value {
    let mut view = views::profile(state, membership).await;
    let group_roles: Vec<_> = membership
        .roles_in(&caller.organisation)
        .into_iter()
        .filter(|g| !membership.roles.contains(g))
        .collect();
    view["group_roles"] = json!(group_roles);
    view["sites"] = json!(membership.sites);
    view["default_site"] = json!(membership.default_site);
    view["language"] = json!(membership.preferences.language);
    view
}

/// `POST /v1/admin/users`: 201 with the user (`id`, `status`, `invitation_status`); a username
/// user's answer carries their generated `pin` once (none where the organisation takes no
/// passwords: they are `not_invited` until an admin's PIN). An email that already has an account
/// elsewhere joins with it (credentials and confirmation kept; nothing is sent).
#[utoipa::path(
    post,
    path = "/v1/admin/users",
    operation_id = "create_user",
    tag = "admin",
    summary = "Create a user by email, or by username with a PIN",
    security(("session" = [])),
    request_body = crate::openapi::NewUserRequest,
    responses((status = 201, description = "The user (a username user's with its PIN, once; without one, `not_invited`, where the organisation signs people in through its identity provider only).", body = crate::openapi::AdminUser, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))), (status = 409, description = "The email, username or external id is taken."))
)]
pub async fn create_user(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    require_administration(&caller)?;
    let given: Vec<String> = body.keys().cloned().collect();
    let known_sites = existing_sites(&state, &caller, &referenced_sites(&body)).await?;
    let mut new = NewUser::parse(&body, &known_sites)?;
    if let Some(scope) = managed_sites(&caller.roles()) {
        // A scoped User Manager creates users on its own sites, as Members of those sites by default.
        if new.sites.is_empty() || !can_assign_sites(&caller.roles(), &new.sites) {
            return Err(ApiError::field(
                "sites",
                "outside_scope",
                "give sites you manage",
            ));
        }
        if body.get("roles").is_none_or(Value::is_null) {
            new.roles = vec![roster_domain::membership::RoleGrant {
                role: roster_domain::membership::Role::Member,
                sites: Some(
                    new.sites
                        .iter()
                        .filter(|s| scope.contains(s))
                        .cloned()
                        .collect(),
                ),
            }];
        }
    }
    if new.roles.iter().any(|g| !can_grant(&caller.roles(), g)) {
        return Err(not_grantable());
    }
    let (account, account_is_new, username, pin) = match &new.login {
        Login::Email(email) => match state.table.account_by_email(email.normalised()).await? {
            Some(existing) => (existing, false, None, None),
            None => (Account::new(Some(email.clone()), None), true, None, None),
        },
        // A PIN is a username user's way in. Where the organisation signs people in through
        // its identity provider only, none would work: they wait without one, `not_invited` as
        // an import's, for an admin's PIN once it takes passwords.
        Login::Username(username) if caller.organisation.settings.login_methods.password => {
            let pin = roster_domain::credentials::new_pin();
            let mut account = Account::new(None, Some(hash_blocking(&pin).await?));
            account.must_change_password = true;
            (account, true, Some(username.clone()), Some(pin))
        }
        Login::Username(username) => (Account::new(None, None), true, Some(username.clone()), None),
    };
    let email = match &new.login {
        Login::Email(email) => Some(account.email.clone().unwrap_or_else(|| email.clone())),
        Login::Username(_) => None,
    };
    // A person joins at once only with proven credentials: an existing account whose email is
    // verified, or a username user with a PIN. Everyone else confirms through an invitation.
    let invitation_status = match &new.login {
        Login::Username(_) if pin.is_some() => InvitationStatus::Confirmed,
        Login::Username(_) => InvitationStatus::NotInvited,
        Login::Email(_)
            if !account_is_new && account.email_verified && account.password_hash.is_some() =>
        {
            InvitationStatus::Confirmed
        }
        Login::Email(_) => InvitationStatus::NotInvited,
    };
    let mut profile = Profile::named(new.first_name, new.last_name, email);
    profile.tags = new.tags;
    profile.external_id = new.external_id;
    for attribute in roster_domain::profile::Attribute::ALL {
        profile.managed_by.set(attribute, Owner::Admin);
    }
    let mut membership = Membership::joining(
        &caller.organisation,
        account.id.clone(),
        profile,
        username,
        new.roles,
        invitation_status,
    );
    membership.sites = new.sites;
    membership.default_site = new.default_site;
    if let Some(language) = new.language {
        membership.preferences.language = language;
    }
    state
        .table
        .create_member(&membership, &account, account_is_new)
        .await?;
    audit::by_caller(
        &state,
        &caller,
        "user.created",
        Some(membership.id.as_str()),
        given,
    )
    .await;
    let mut view = user_view(&state, &caller, &membership).await;
    if let Some(pin) = pin {
        view["pin"] = json!(pin);
    }
    Ok(with_etag(StatusCode::CREATED, membership.version, view))
}

/// Longest `q` of the user list: past a last and a first name, and within what DynamoDB compares
/// a sort key with.
const USER_SEARCH_MAX: usize = 100;

/// `GET /v1/admin/users?status=&role=&site=&tag=&q=&cursor=`: one `Query` per page, sorted by name.
#[utoipa::path(
    get,
    path = "/v1/admin/users",
    operation_id = "list_users",
    tag = "admin",
    summary = "List users, sorted by name",
    security(("session" = [])),
    params(("status" = Option<String>, Query, description = "active or deactivated"), ("role" = Option<String>, Query, description = "A role name (direct or through a SCIM group)."), ("site" = Option<String>, Query, description = "A site id."), ("tag" = Option<String>, Query), ("q" = Option<String>, Query, description = "A last-name prefix, at most 100 characters."), ("limit" = Option<u32>, Query, description = "1 to 200 (default 50)."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page; empty or absent for the first.")),
    responses((status = 200, description = "A page of users.", body = crate::openapi::UserPage), (status = 422, description = "A status, role, limit, cursor or q is invalid."))
)]
pub async fn list_users(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    require_administration(&caller)?;
    let Query(query) = query.map_err(|rejection| ApiError::MalformedBody(rejection.body_text()))?;
    let name_prefix = query.get("q").cloned();
    if name_prefix
        .as_ref()
        .is_some_and(|q| q.chars().count() > USER_SEARCH_MAX)
    {
        return Err(ApiError::field(
            "q",
            "too_long",
            format!("must be at most {USER_SEARCH_MAX} characters"),
        ));
    }
    let status = query.get("status").cloned();
    if status.as_deref().is_some_and(|status| {
        ![Status::Active, Status::Deactivated]
            .map(Status::as_str)
            .contains(&status)
    }) {
        return Err(ApiError::field(
            "status",
            "invalid_status",
            "must be active or deactivated",
        ));
    }
    let (role, site) = (query.get("role").cloned(), query.get("site").cloned());
    if let Some(role) = &role {
        roster_domain::admin_user::role(role)
            .map_err(|problem| ApiError::field("role", problem.code, problem.message))?;
    }
    let organisation = &caller.organisation;
    let filter = UserFilter {
        status,
        groups_giving_role: role.as_ref().map_or_else(Vec::new, |role| {
            organisation.groups_giving(|g| json!(g.role).as_str() == Some(role))
        }),
        groups_giving_site: site.as_ref().map_or_else(Vec::new, |site| {
            organisation.groups_giving(|g| g.sites.as_ref().is_some_and(|s| s.contains(site)))
        }),
        role,
        site,
        tag: query.get("tag").cloned(),
        name_prefix,
    };
    let paging = Paging::from_query(&query, &state)?;
    let page = state
        .table
        .list_users(
            &caller.organisation.id,
            &filter,
            paging.limit,
            paging.cursor(),
        )
        .await?;
    // A User Manager of some sites sees the people it manages, as `get_user` does (its pages
    // may be shorter than `limit`; `next_cursor` goes on).
    let mut items = Vec::with_capacity(page.users.len());
    let takes = &caller.organisation.settings.scim_attributes;
    for mut user in page.users.into_iter().filter(|user| manages(&caller, user)) {
        takes.release_in(&mut user.profile);
        items.push(user_view(&state, &caller, &user).await);
    }
    Ok(Json(
        json!({ "items": items, "next_cursor": paging.next_cursor(page.next_cursor) }),
    ))
}

#[utoipa::path(
    get,
    path = "/v1/admin/users/{user}",
    operation_id = "get_user",
    tag = "admin",
    summary = "Read a user",
    security(("session" = [])),
    params(("user" = String, Path, description = "A user id of the caller's organisation.")),
    responses((status = 200, description = "The user.", body = crate::openapi::AdminUser, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))))
)]
pub async fn get_user(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let membership = managed_member(&state, &caller, &id).await?;
    Ok(with_etag(
        StatusCode::OK,
        membership.version,
        user_view(&state, &caller, &membership).await,
    ))
}

/// `PATCH /v1/admin/users/{id}` with `If-Match`: profile fields (not those an identity provider
/// manages; never the username), roles, sites, default site, language.
#[utoipa::path(
    patch,
    path = "/v1/admin/users/{user}",
    operation_id = "patch_user",
    tag = "admin",
    summary = "Change a user's profile and assignment",
    security(("session" = [])),
    params(("user" = String, Path, description = "A user id of the caller's organisation."), ("If-Match" = String, Header, description = "The ETag of the version the change is based on.")),
    request_body = crate::openapi::UserPatchRequest,
    responses((status = 200, description = "The user as changed.", body = crate::openapi::AdminUser, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))), (status = 403, description = "A role the caller may not give or take away, or a login email moved for a user who holds a role the caller could not give (`roles_beyond_yours`) or has a site it does not manage (`sites_beyond_yours`)."), (status = 409, description = "The email or external id is taken."), (status = 412, description = "The resource changed since that ETag was read; nothing was written."), (status = 428, description = "If-Match is missing."))
)]
pub async fn patch_user(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    IfMatch(expected): IfMatch,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let (before, account) = managed_user(&state, &caller, &id).await?;
    if before.version != expected {
        return Err(ApiError::Stale);
    }
    let (assignment_body, profile_body): (Map<String, Value>, Map<String, Value>) = body
        .into_iter()
        .partition(|(key, _)| ASSIGNMENT_FIELDS.contains(&key.as_str()));
    let profile_patch = ProfilePatch::parse(&profile_body);
    let assignment = AssignmentPatch::parse(&assignment_body);
    let (profile_patch, assignment) = match (profile_patch, assignment) {
        (Ok(p), Ok(a)) => (p, a),
        (p, a) => {
            let mut errors = p.err().unwrap_or_default();
            errors.0.extend(a.err().unwrap_or_default().0);
            return Err(errors.into());
        }
    };
    let (profile, changed) = profile_patch.apply(&before.profile, Owner::Admin)?;
    if changed.contains(&roster_domain::profile::Attribute::Email) {
        require_someone_else(&caller, &before, "email", OWN_CREDENTIALS)?;
        require_credentials_reach(&caller, &before)?;
        if account.is_shared() {
            return Err(ApiError::field(
                "email",
                "shared_account",
                "this person belongs to other organisations too; only they can change their login email",
            ));
        }
    }
    let mut after = Membership {
        profile,
        version: before.version + 1,
        ..before.clone()
    };
    if let Some(roles) = assignment.roles {
        let mut touched = roles
            .iter()
            .filter(|g| !before.roles.contains(g))
            .chain(before.roles.iter().filter(|g| !roles.contains(g)));
        if touched.any(|g| !can_grant(&caller.roles(), g)) {
            return Err(not_grantable());
        }
        after.roles = roles;
    }
    if let Some(sites) = assignment.sites {
        let changed_sites: Vec<String> = sites
            .iter()
            .filter(|s| !before.sites.contains(s))
            .chain(before.sites.iter().filter(|s| !sites.contains(s)))
            .cloned()
            .collect();
        if !can_assign_sites(&caller.roles(), &changed_sites) {
            return Err(ApiError::field(
                "sites",
                "outside_scope",
                "you can only assign sites you manage",
            ));
        }
        after.sites = sites;
    }
    if let Some(default_site) = assignment.default_site {
        after.default_site = default_site;
    }
    if let Some(language) = assignment.language {
        after.preferences.language = language;
    }
    // Only sites the change adds must exist: one the person already has stays valid after it
    // is deleted, so an unrelated edit never fails on it.
    let had = before.all_sites();
    let added: Vec<String> = after
        .all_sites()
        .into_iter()
        .filter(|site| !had.contains(site))
        .collect();
    let mut known = existing_sites(&state, &caller, &added).await?;
    known.extend(had);
    AssignmentPatch::check(
        &after.roles,
        &after.sites,
        after.default_site.as_ref(),
        after.profile.email.is_some(),
        &known,
    )?;
    let unchanged = Membership {
        version: before.version,
        ..after.clone()
    } == before;
    if unchanged {
        return Ok(with_etag(
            StatusCode::OK,
            before.version,
            user_view(&state, &caller, &before).await,
        ));
    }
    let after = after.withdrawing_invitation_if_email_moved(&before);
    let email_change = match (
        changed.contains(&roster_domain::profile::Attribute::Email),
        &after.profile.email,
    ) {
        // A shared account was refused above: no other organisation holds a copy.
        (true, Some(email)) => Some(roster_store::EmailChange {
            account,
            email: email.clone(),
            released_in: vec![],
            verified: false,
        }),
        _ => None,
    };
    state
        .table
        .update_membership(&before, &after, email_change.as_ref())
        .await?;
    if let Some(change) = &email_change {
        notices::tell_old_address(&state, &before, change).await;
    }
    // The fields that changed, not every one the body repeated.
    let assigned = [
        ("roles", after.roles != before.roles),
        ("sites", after.sites != before.sites),
        ("default_site", after.default_site != before.default_site),
        (
            "language",
            after.preferences.language != before.preferences.language,
        ),
    ];
    let changed_fields = changed
        .iter()
        .filter_map(|attribute| json!(attribute).as_str().map(str::to_owned))
        .chain(
            assigned
                .into_iter()
                .filter(|(_, moved)| *moved)
                .map(|(name, _)| name.to_owned()),
        )
        .collect();
    audit::by_caller(
        &state,
        &caller,
        "user.updated",
        Some(after.id.as_str()),
        changed_fields,
    )
    .await;
    Ok(with_etag(
        StatusCode::OK,
        after.version,
        user_view(&state, &caller, &after).await,
    ))
}

/// `POST /v1/admin/users/{id}/invite`: sends (or resends) the welcome email with a single-use
/// link valid 48 hours; a resend makes the previous link stop working.
#[utoipa::path(
    post,
    path = "/v1/admin/users/{user}/invite",
    operation_id = "invite_user",
    tag = "admin",
    summary = "Send (or resend) the welcome email",
    security(("session" = [])),
    params(("user" = String, Path, description = "A user id of the caller's organisation.")),
    responses((status = 202, description = "Sent; an earlier link stops working.", body = crate::openapi::InvitationAnswer), (status = 403, description = "The organisation signs people in through its identity provider only (`password_login_disabled`): accepting sets a password."), (status = 422, description = "The user has no email, is deactivated, was sent the hour's invitations (`too_many_invitations`), or SES refuses their address for good (`email_rejected`)."), (status = 503, description = "The email could not be sent (`email_not_sent`); the person is pending with a link nobody received until a resend."))
)]
pub async fn invite(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (before, account) = managed_user(&state, &caller, &id).await?;
    // Accepting sets a password, which such an organisation's people never use.
    crate::passwords::require_password_login(&caller.organisation.settings)?;
    if !before.is_active() {
        // Its link could never be accepted.
        return Err(ApiError::field(
            "id",
            "deactivated",
            "a deactivated user cannot be invited; reactivate them first",
        ));
    }
    let email = before.profile.email.clone().ok_or_else(|| {
        ApiError::field(
            "id",
            "no_email",
            "a user without email cannot be invited; give them a PIN",
        )
    })?;
    // Resending again and again would flood the person's inbox; the link already sent still
    // works then.
    let now = state.now();
    if !state
        .table
        .count_invitation_email(&before.organisation_id, &before.id, now)
        .await?
    {
        return Err(ApiError::field(
            "id",
            "too_many_invitations",
            format!(
                "{INVITATION_EMAILS_PER_HOUR} invitations went to this person this hour; the last one works for 48 hours"
            ),
        ));
    }
    let token = new_secret();
    let after = state
        .table
        .issue_invitation(
            &before,
            account.password_hash.is_some(),
            &secret_hash(&token),
            now + INVITATION_LIFETIME,
        )
        .await?;
    let link = invitation_link(&state.config.app_url, &token);
    let notice = Notice::Invitation {
        organisation: caller.organisation.name.clone(),
        link,
    };
    // The link reaches the person only by this email: an admin told it was sent waits 48 hours
    // for someone who never got it.
    let delivered = state
        .mailer
        .deliver(
            email.display(),
            after.preferences.language,
            &after.profile.first_name,
            &notice,
        )
        .await
        .map_err(|error| notices::unsent(error, "id"));
    if let Err(error) = delivered {
        if notices::surely_unsent(&error)
            && let Err(not_given_back) = state
                .table
                .uncount_invitation_email(&before.organisation_id, &before.id, now)
                .await
        {
            tracing::warn!(error = %not_given_back, "an unsent invitation still counts");
        }
        return Err(error);
    }
    audit::by_caller(
        &state,
        &caller,
        "user.invited",
        Some(after.id.as_str()),
        vec![],
    )
    .await;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "invitation_status": after.invitation_status })),
    ))
}

/// `DELETE /v1/admin/users/{id}/invite`: the current link stops working.
#[utoipa::path(
    delete,
    path = "/v1/admin/users/{user}/invite",
    operation_id = "revoke_invitation",
    tag = "admin",
    summary = "Revoke the user's invitation link",
    security(("session" = [])),
    params(("user" = String, Path, description = "A user id of the caller's organisation.")),
    responses((status = 204, description = "The link no longer works."))
)]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let before = managed_member(&state, &caller, &id).await?;
    if before.invitation_token_hash.is_none() {
        return Ok(StatusCode::NO_CONTENT);
    }
    let after = Membership {
        version: before.version + 1,
        ..before.clone().without_invitation_link()
    };
    state.table.update_membership(&before, &after, None).await?;
    audit::by_caller(
        &state,
        &caller,
        "user.invitation_revoked",
        Some(after.id.as_str()),
        vec![],
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/auth/invitations/accept` `{token, password}`: confirms the membership and answers
/// like a login. A person who already has a password signs in with it; others set one.
#[utoipa::path(
    post,
    path = "/v1/auth/invitations/accept",
    operation_id = "accept_invitation",
    tag = "auth",
    summary = "Accept an invitation (answers like a login)",
    security(()),
    request_body = crate::openapi::LinkRequest,
    responses((status = 200, description = "A session, or the challenge of a second factor.", body = crate::openapi::LoginAnswer), (status = 401, description = "The person already has a password and this is not it."), (status = 403, description = "The organisation signs people in through its identity provider."), (status = 412, description = "The person changed meanwhile; nothing was written and the link still works (`stale_version`): send it again."), (status = 429, description = "The person's login is locked after failed attempts, through links or the login form (`login_locked`, with Retry-After)."))
)]
pub async fn accept_invitation(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let link = crate::passwords::LinkBody::parse(&body)?;
    let (hash, password, confirmation) = (link.token_hash, link.password, link.confirmation);
    let invalid =
        || crate::passwords::invalid_link("the invitation is invalid, used, revoked or expired");
    let invitation = state
        .table
        .token::<Invitation>(&hash, state.now())
        .await?
        .ok_or_else(invalid)?;
    let before = state
        .table
        .membership(&invitation.organisation_id, &invitation.user_id)
        .await?
        .filter(|m| m.invitation_token_hash.as_deref() == Some(hash.as_str()) && m.is_active())
        .ok_or_else(invalid)?;
    let mut account = state
        .table
        .account(&before.account_id)
        .await?
        .ok_or_else(invalid)?;
    let organisation = state
        .table
        .organisation(&before.organisation_id)
        .await?
        .ok_or_else(invalid)?;
    // Before anything is written: the session this would end in is refused there.
    crate::passwords::require_password_login(&organisation.settings)?;
    match &account.password_hash {
        Some(_) => {
            let policy = &organisation.settings.lockout;
            if !crate::auth::check_own_password(&state, &account, policy, password).await? {
                return Err(ApiError::InvalidCredentials);
            }
        }
        None => {
            // The password will be the person's in each of their organisations.
            let settings = crate::passwords::password_settings(&state, &account)
                .await?
                .unwrap_or_else(|| organisation.settings.clone());
            crate::passwords::check_new_password(
                &state,
                &settings,
                password,
                confirmation,
                "password",
            )
            .await?;
            account.password_hash = Some(hash_blocking(password).await?);
        }
    }
    account.email_verified = true;
    let after = Membership {
        invitation_token_hash: None,
        invitation_status: InvitationStatus::Confirmed,
        version: before.version + 1,
        ..before.clone()
    };
    // Tries refused while the invitation was pending no longer hold the person back. Cleared
    // before the write, which uses the link up: an acceptance that failed after it could not be
    // sent again.
    state.table.clear_lockout(&account).await?;
    // All or nothing: a write that loses a race leaves the link working and no password set.
    let account = match state
        .table
        .accept_invitation(&before, &after, &account, &hash)
        .await
    {
        Err(StoreError::NotFound) => return Err(invalid()),
        accepted => accepted?,
    };
    audit::of_person(
        &state,
        &after.organisation_id,
        after.id.as_str(),
        "invitation.accepted",
    )
    .await;
    crate::auth::finish_login(&state, &account, &after, &organisation, &headers, None).await
}

async fn set_status(
    state: &AppState,
    caller: &Caller,
    id: &str,
    status: Status,
) -> Result<Response, ApiError> {
    let before = managed_member(state, caller, id).await?;
    if !can_deactivate(
        &caller.roles(),
        &before.roles_in(&caller.organisation),
        &before.sites_in(&caller.organisation),
    ) {
        return Err(forbidden());
    }
    require_someone_else(caller, &before, "id", "you cannot change your own status")?;
    // An admin's deactivation of someone an import deactivated is still written: it is the
    // admin's from now on, and no later file undoes it.
    if before.status == status && !before.deactivated_by_import {
        let view = user_view(state, caller, &before).await;
        return Ok(with_etag(StatusCode::OK, before.version, view));
    }
    // A deactivation raises the session epoch: the person's sessions here end with this write.
    let after = Membership {
        version: before.version + 1,
        ..before.with_status(status, false)
    };
    if status == Status::Active {
        // Tries refused while they were deactivated no longer hold them back. Cleared before
        // the write: a reactivation sent again after a failure finds the person active and
        // writes nothing. The lockout of someone who belongs elsewhere too also guards those
        // organisations: it stays, as an unlock of it is refused.
        let account = account_of(state, &before).await?;
        if !account.is_shared() {
            state.table.clear_lockout(&account).await?;
        }
    }
    state.table.update_membership(&before, &after, None).await?;
    let action = match status {
        Status::Active => "user.reactivated",
        Status::Deactivated => "user.deactivated",
    };
    audit::by_caller(
        state,
        caller,
        action,
        Some(after.id.as_str()),
        vec!["status".to_owned()],
    )
    .await;
    let view = user_view(state, caller, &after).await;
    Ok(with_etag(StatusCode::OK, after.version, view))
}

/// `POST /v1/admin/users/{id}/deactivate`: the person loses access at once.
#[utoipa::path(
    post,
    path = "/v1/admin/users/{user}/deactivate",
    operation_id = "deactivate_user",
    tag = "admin",
    summary = "Deactivate a user (their sessions end at once)",
    security(("session" = [])),
    params(("user" = String, Path, description = "A user id of the caller's organisation.")),
    responses((status = 200, description = "The user.", body = crate::openapi::AdminUser, headers(("ETag" = String, description = "The user's new version; send it back as If-Match to edit them."))), (status = 422, description = "The caller cannot change their own status."))
)]
pub async fn deactivate(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_status(&state, &caller, &id, Status::Deactivated).await
}

#[utoipa::path(
    post,
    path = "/v1/admin/users/{user}/reactivate",
    operation_id = "reactivate_user",
    tag = "admin",
    summary = "Reactivate a user",
    security(("session" = [])),
    params(("user" = String, Path, description = "A user id of the caller's organisation.")),
    responses((status = 200, description = "The user.", body = crate::openapi::AdminUser, headers(("ETag" = String, description = "The user's new version; send it back as If-Match to edit them."))), (status = 422, description = "The caller cannot change their own status."))
)]
pub async fn reactivate(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_status(&state, &caller, &id, Status::Active).await
}

/// Account-wide actions (2FA reset, unlock, PIN) belong to the one organisation of an account;
/// a person who also belongs elsewhere handles their credentials themselves.
fn require_own_account(account: &Account) -> Result<(), ApiError> {
    if account.is_shared() {
        Err(ApiError::field(
            "id",
            "shared_account",
            "this person belongs to other organisations too; they manage their credentials themselves",
        ))
    } else {
        Ok(())
    }
}

/// `POST /v1/admin/users/{id}/unlock`: clears the failed-login counts of the person.
#[utoipa::path(
    post,
    path = "/v1/admin/users/{user}/unlock",
    operation_id = "unlock_user",
    tag = "admin",
    summary = "Clear a user's login lockout",
    security(("session" = [])),
    params(("user" = String, Path, description = "A user id of the caller's organisation.")),
    responses((status = 204, description = "Unlocked."), (status = 403, description = "The user holds a role the caller could not give (`roles_beyond_yours`) or has a site it does not manage (`sites_beyond_yours`): the lockout guards their credentials."), (status = 422, description = "The user is the caller (`self`), or belongs to other organisations too."))
)]
pub async fn unlock(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (membership, account) = managed_user(&state, &caller, &id).await?;
    // An unlock lifts the brake on guessing a password (and 2FA codes): refused for one's own,
    // since a session alone must not guess its way to them, and for someone whose credentials
    // the caller could not reset.
    require_someone_else(
        &caller,
        &membership,
        "id",
        "your own lockout ends after its wait, or another administrator unlocks you",
    )?;
    require_credentials_reach(&caller, &membership)?;
    require_own_account(&account)?;
    state.table.clear_lockout(&account).await?;
    audit::by_caller(&state, &caller, "user.unlocked", Some(id.as_str()), vec![]).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/admin/users/{id}/reset-mfa`: removes TOTP and recovery codes, ends the person's
/// sessions, and tells them.
#[utoipa::path(
    post,
    path = "/v1/admin/users/{user}/reset-mfa",
    operation_id = "reset_user_mfa",
    tag = "admin",
    summary = "Remove a user's 2FA (their sessions end)",
    security(("session" = [])),
    params(("user" = String, Path, description = "A user id of the caller's organisation.")),
    responses((status = 204, description = "2FA removed (nothing done for a person without it)."), (status = 403, description = "The user holds a role the caller could not give (`roles_beyond_yours`) or has a site it does not manage (`sites_beyond_yours`): their credentials carry it."), (status = 422, description = "The user is the caller (`self`: through /v1/me), or belongs to other organisations too."))
)]
pub async fn reset_mfa(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (membership, account) = managed_user(&state, &caller, &id).await?;
    require_someone_else(&caller, &membership, "id", OWN_CREDENTIALS)?;
    require_credentials_reach(&caller, &membership)?;
    require_own_account(&account)?;
    if remove_second_factor(&state, account).await? {
        audit::by_caller(&state, &caller, "user.mfa_reset", Some(id.as_str()), vec![]).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the person's TOTP and recovery codes, ends their sessions (everywhere) and clears the
/// failures of their second step, and tells them; `true` when it did. A person with no second
/// factor, set up or begun, is left alone (and not emailed: a reset repeated at will must not
/// flood an inbox).
pub(crate) async fn remove_second_factor(
    state: &AppState,
    mut account: Account,
) -> Result<bool, ApiError> {
    if account.totp.is_none() && account.pending_totp.is_none() && account.recovery_codes.is_empty()
    {
        return Ok(false);
    }
    // Codes guessed at the old second factor do not hold the new one back. Cleared first: once
    // the factor is gone a retry does nothing, so nothing that can fail is left after it.
    state
        .table
        .clear_login_failures(&roster_domain::lockout::mfa_subject(&account.id))
        .await?;
    account.totp = None;
    account.pending_totp = None;
    account.recovery_codes.clear();
    account.session_epoch += 1;
    // Links sent before (a reset, a new login email) do not outlive the intervention.
    account.credential_epoch += 1;
    state.table.save_account(&account).await?;
    notices::tell(state, &account, Notice::MfaReset).await;
    Ok(true)
}

/// `POST /v1/admin/users/{id}/pin`: a new random 6-digit PIN for a user without email, to be
/// changed at the next login; their sessions end, the lockout clears, and someone not yet
/// confirmed (created by an import) is confirmed.
#[utoipa::path(
    post,
    path = "/v1/admin/users/{user}/pin",
    operation_id = "new_user_pin",
    tag = "admin",
    summary = "Give a username user a new PIN",
    security(("session" = [])),
    params(("user" = String, Path, description = "A user id of the caller's organisation.")),
    responses((status = 200, description = "The PIN, shown once.", body = crate::openapi::Pin, headers(("ETag" = String, description = "The user's version after the PIN (confirming someone an import created raises it)."))), (status = 403, description = "The user holds a role the caller could not give (`roles_beyond_yours`) or has a site it does not manage (`sites_beyond_yours`): their credentials carry it; or the organisation signs people in through its identity provider only (`password_login_disabled`)."), (status = 422, description = "The user is the caller (`self`), has an email, or belongs to other organisations too."))
)]
pub async fn new_pin(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (membership, mut account) = managed_user(&state, &caller, &id).await?;
    require_someone_else(&caller, &membership, "id", OWN_CREDENTIALS)?;
    require_credentials_reach(&caller, &membership)?;
    crate::passwords::require_password_login(&caller.organisation.settings)?;
    require_own_account(&account)?;
    if membership.profile.email.is_some() {
        return Err(ApiError::field(
            "id",
            "email_user",
            "users with email reset their password by link",
        ));
    }
    // A PIN is a username user's way in, as an invitation is an email user's: someone an import
    // created (`not_invited`) can sign in with it.
    let mut version = membership.version;
    if membership.invitation_status != InvitationStatus::Confirmed {
        let confirmed = Membership {
            invitation_status: InvitationStatus::Confirmed,
            version: membership.version + 1,
            ..membership.clone()
        };
        state
            .table
            .update_membership(&membership, &confirmed, None)
            .await?;
        version = confirmed.version;
    }
    let pin = roster_domain::credentials::new_pin();
    account.password_hash = Some(hash_blocking(&pin).await?);
    account.must_change_password = true;
    account.session_epoch += 1;
    // Links sent under the old PIN (a new login email) stop working, as after any password reset.
    account.credential_epoch += 1;
    state.table.save_account(&account).await?;
    state.table.clear_lockout(&account).await?;
    audit::by_caller(&state, &caller, "user.pin_reset", Some(id.as_str()), vec![]).await;
    Ok(with_etag(StatusCode::OK, version, json!({ "pin": pin })))
}

/// `POST /v1/admin/users/{id}/password-reset`: emails the person a reset link (never a password
/// an admin chose).
#[utoipa::path(
    post,
    path = "/v1/admin/users/{user}/password-reset",
    operation_id = "send_user_password_reset",
    tag = "admin",
    summary = "Email a user a password reset link",
    security(("session" = [])),
    params(("user" = String, Path, description = "A user id of the caller's organisation.")),
    responses((status = 202, description = "Sent."), (status = 403, description = "The organisation signs people in through its identity provider only (`password_login_disabled`), or the user holds a role the caller could not give (`roles_beyond_yours`) or has a site it does not manage (`sites_beyond_yours`)."), (status = 422, description = "The user is the caller (`self`: through /v1/me), has no email, was sent the hour's reset links (`too_many_reset_emails`), or SES refuses their address for good (`email_rejected`)."), (status = 503, description = "The email could not be sent (`email_not_sent`); its link reaches nobody."))
)]
pub async fn send_password_reset(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (membership, account) = managed_user(&state, &caller, &id).await?;
    require_someone_else(&caller, &membership, "id", OWN_CREDENTIALS)?;
    require_credentials_reach(&caller, &membership)?;
    crate::passwords::require_password_login(&caller.organisation.settings)?;
    if membership.profile.email.is_none() {
        return Err(ApiError::field(
            "id",
            "no_email",
            "a user without email gets a new PIN instead",
        ));
    }
    // The person's hourly quota of reset emails holds for an admin's too (see `reset`).
    if !crate::passwords::send_reset_link_within_quota(&state, &account).await? {
        return Err(ApiError::field(
            "id",
            "too_many_reset_emails",
            format!(
                "{RESET_EMAILS_PER_HOUR} reset links went to this person this hour; each works for an hour"
            ),
        ));
    }
    audit::by_caller(
        &state,
        &caller,
        "user.password_reset_sent",
        Some(id.as_str()),
        vec![],
    )
    .await;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /v1/admin/organisation` (ETag).
#[utoipa::path(
    get,
    path = "/v1/admin/organisation",
    operation_id = "get_organisation",
    tag = "admin",
    summary = "Read the organisation and its settings",
    security(("session" = [])),
    responses((status = 200, description = "The organisation.", body = crate::openapi::OrganisationView, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))))
)]
pub async fn get_organisation(Authenticated(caller): Authenticated) -> Result<Response, ApiError> {
    require_administration(&caller)?;
    let o = &caller.organisation;
    Ok(with_etag(
        StatusCode::OK,
        o.version,
        crate::views::organisation(o),
    ))
}

/// `PATCH /v1/admin/organisation` `{name?, settings?}` with `If-Match`: Admin only.
#[utoipa::path(
    patch,
    path = "/v1/admin/organisation",
    operation_id = "patch_organisation",
    tag = "admin",
    summary = "Change the organisation's name or settings (Admin)",
    security(("session" = [])),
    params(("If-Match" = String, Header, description = "The ETag of the version the change is based on.")),
    request_body = crate::openapi::OrganisationPatchRequest,
    responses((status = 200, description = "The organisation as changed.", body = crate::openapi::OrganisationView, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))), (status = 412, description = "The resource changed since that ETag was read; nothing was written."), (status = 428, description = "If-Match is missing."))
)]
pub async fn patch_organisation(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    IfMatch(expected): IfMatch,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let before = &caller.organisation;
    if before.version != expected {
        return Err(ApiError::Stale);
    }
    let mut fields = Fields::new(&body, &["name", "settings"]);
    let name = body.get("name").and_then(|value| {
        fields.parse("name", || {
            roster_domain::organisation::organisation_name(value)
        })
    });
    let settings = fields
        .optional_object("settings")
        .map(|changes| before.settings.patched(changes));
    let settings = match settings {
        Some(Err(errors)) => {
            fields.errors.0.extend(errors.0);
            None
        }
        Some(Ok(settings)) => Some(settings),
        None => None,
    };
    fields.finish()?;
    let after = roster_domain::organisation::Organisation {
        name: name.unwrap_or_else(|| before.name.clone()),
        settings: settings.unwrap_or_else(|| before.settings.clone()),
        version: before.version + 1,
        ..before.clone()
    };
    state.table.save_organisation(before, &after).await?;
    let mut changed: Vec<String> = body.keys().filter(|k| *k != "settings").cloned().collect();
    if let Some(Value::Object(settings)) = body.get("settings") {
        changed.extend(settings.keys().map(|k| format!("settings.{k}")));
    }
    audit::by_caller(&state, &caller, "organisation.updated", None, changed).await;
    Ok(with_etag(
        StatusCode::OK,
        after.version,
        crate::views::organisation(&after),
    ))
}

#[utoipa::path(
    get,
    path = "/v1/admin/sites",
    operation_id = "list_sites",
    tag = "admin",
    summary = "List the organisation's sites",
    security(("session" = [])),
    params(("limit" = Option<u32>, Query, description = "1 to 200 (default 50)."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page; empty or absent for the first.")),
    responses((status = 200, description = "A page of the sites, by id.", body = crate::openapi::Sites), (status = 422, description = "A limit or cursor is invalid."))
)]
pub async fn list_sites(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    paging: Paging,
) -> Result<Json<Value>, ApiError> {
    require_administration(&caller)?;
    let (sites, next_cursor) = state
        .table
        .sites_page(&caller.organisation.id, paging.limit, paging.cursor())
        .await?;
    Ok(Json(
        json!({ "items": sites, "next_cursor": paging.next_cursor(next_cursor) }),
    ))
}

/// `POST /v1/admin/sites` `{name}` -> 201 `{id, name, version}` with its ETag: Admin only.
#[utoipa::path(
    post,
    path = "/v1/admin/sites",
    operation_id = "create_site",
    tag = "admin",
    summary = "Create a site (Admin)",
    security(("session" = [])),
    request_body = crate::openapi::NameRequest,
    responses((status = 201, description = "The site.", body = crate::openapi::Site, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))))
)]
pub async fn create_site(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let mut fields = Fields::new(&body, &["name"]);
    let name = fields
        .string("name")
        .and_then(|n| fields.parse("name", || bounded_text(n, 1, 100)));
    fields.finish()?;
    let site = Site {
        id: SiteId::generate().to_string(),
        name: name.ok_or_else(|| ApiError::Internal("validated site name missing".to_owned()))?,
        version: 1,
    };
    if !state.table.add_site(&caller.organisation.id, &site).await? {
        return Err(ApiError::Internal("a new site id was taken".to_owned()));
    }
    audit::by_caller(&state, &caller, "site.created", Some(&site.id), vec![]).await;
    Ok(with_etag(StatusCode::CREATED, site.version, json!(site)))
}

/// A site id from a path; one no site could have is a site that is not there.
fn site_id(id: &str) -> Result<String, ApiError> {
    SiteId::try_from(id)
        .map(|id| id.to_string())
        .map_err(|_| ApiError::NotFound)
}

/// `PATCH /v1/admin/sites/{id}` `{name}` with `If-Match`: renames a site (Admin only).
#[utoipa::path(
    patch,
    path = "/v1/admin/sites/{site}",
    operation_id = "rename_site",
    tag = "admin",
    summary = "Rename a site (Admin)",
    security(("session" = [])),
    params(("site" = String, Path, description = "A site id."), ("If-Match" = String, Header, description = "The ETag (or `version`) of the site the change is based on.")),
    request_body = crate::openapi::NameRequest,
    responses((status = 200, description = "The site.", body = crate::openapi::Site, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))), (status = 412, description = "The site changed since that version."), (status = 428, description = "If-Match is missing."))
)]
pub async fn rename_site(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    IfMatch(expected): IfMatch,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let id = site_id(&id)?;
    let mut fields = Fields::new(&body, &["name"]);
    let name = fields
        .string("name")
        .and_then(|n| fields.parse("name", || bounded_text(n, 1, 100)));
    fields.finish()?;
    let name = name.ok_or_else(|| ApiError::Internal("validated site name missing".to_owned()))?;
    let site = state
        .table
        .rename_site(&caller.organisation.id, &id, expected, &name)
        .await?;
    audit::by_caller(
        &state,
        &caller,
        "site.renamed",
        Some(&site.id),
        vec!["name".to_owned()],
    )
    .await;
    Ok(with_etag(StatusCode::OK, site.version, json!(site)))
}

#[utoipa::path(
    delete,
    path = "/v1/admin/sites/{site}",
    operation_id = "delete_site",
    tag = "admin",
    summary = "Delete a site (Admin)",
    security(("session" = [])),
    params(("site" = String, Path, description = "A site id.")),
    responses((status = 204, description = "Deleted."))
)]
pub async fn delete_site(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&caller)?;
    let id = site_id(&id)?;
    state
        .table
        .delete_site(&caller.organisation.id, &id)
        .await?;
    audit::by_caller(&state, &caller, "site.deleted", Some(&id), vec![]).await;
    Ok(StatusCode::NO_CONTENT)
}
