//! The platform operator's endpoints, authorised by the platform token (its SHA-256 is configured).

use axum::{
    Json,
    extract::Path,
    extract::State,
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use roster_domain::{
    audit::Actor,
    idempotency::IdempotencyKey,
    ids::{OrganisationId, UserId},
    membership::{InvitationStatus, Membership, Role, RoleGrant},
    organisation::{Organisation, OrganisationSettings, organisation_name},
    profile::{Email, NAME_MAX, Profile},
    session::secret_hash,
    validation::bounded_text,
};
use roster_store::{Account, NewOrganisation, PlatformRequest, StoreError, Uniqueness};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

use crate::{
    ApiError, AppState,
    caller::bearer_token,
    extract::{Fields, JsonObject, RequestKey},
    passwords::{check_new_password, hash_blocking},
};

/// Proof that the request carries the platform operator's token.
pub struct PlatformOperator;

impl axum::extract::FromRequestParts<AppState> for PlatformOperator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let expected = state
            .config
            .platform_token_sha256
            .as_deref()
            .ok_or(ApiError::NotFound)?;
        let token = bearer_token(parts).ok_or(ApiError::Unauthenticated)?;
        if bool::from(
            secret_hash(token)
                .as_bytes()
                .ct_eq(expected.to_lowercase().as_bytes()),
        ) {
            Ok(Self)
        } else {
            Err(ApiError::Unauthenticated)
        }
    }
}

/// `POST /v1/platform/organisations`: `{name, settings?, admin: {first_name, last_name, email,
/// password?}}` -> 201 with the organisation and its first Admin. An admin whose email already
/// has an account joins with that account and keeps its credentials. A request repeating an
/// earlier one's `Idempotency-Key` (within a day) gets the earlier answer and creates nothing.
#[utoipa::path(
    post,
    path = "/v1/platform/organisations",
    operation_id = "create_organisation",
    tag = "platform",
    summary = "Create an organisation and its first Admin",
    security(("platform" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 printable ASCII characters; a retry with the same key and body (the admin's password aside) within 24 h gets the first request's answer, as it was then, and creates nothing more.")),
    request_body = crate::openapi::NewOrganisationRequest,
    responses(
        (status = 201, description = "The organisation and its admin.", body = crate::openapi::CreatedOrganisation, headers(("Idempotent-Replayed" = String, description = "`true` when this answers an earlier request with the same `Idempotency-Key`."))),
        (status = 404, description = "The platform endpoints are closed (no platform token configured)."),
        (status = 409, description = "The admin's email is taken in a way that cannot join, or a request with the same `Idempotency-Key` is still being written."),
        (status = 422, description = "A field is invalid, or the `Idempotency-Key` was sent before with another organisation.")
    )
)]
pub async fn create_organisation(
    State(state): State<AppState>,
    _operator: PlatformOperator,
    RequestKey(request): RequestKey,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let mut fields = Fields::new(&body, &["name", "settings", "admin"]);
    let name = match body.get("name") {
        Some(value) => fields.parse("name", || organisation_name(value)),
        None => {
            fields.errors.push("name", "required", "is required");
            None
        }
    };
    let settings = match fields.optional_object("settings") {
        Some(changes) => match OrganisationSettings::default().patched(changes) {
            Ok(settings) => Some(settings),
            Err(errors) => {
                fields.errors.0.extend(errors.0);
                None
            }
        },
        None => Some(OrganisationSettings::default()),
    };
    let admin = match body.get("admin") {
        Some(Value::Object(admin)) => {
            let mut admin_fields =
                Fields::new(admin, &["first_name", "last_name", "email", "password"]);
            let first = admin_fields
                .string("first_name")
                .and_then(|v| admin_fields.parse("first_name", || bounded_text(v, 1, NAME_MAX)));
            let last = admin_fields
                .string("last_name")
                .and_then(|v| admin_fields.parse("last_name", || bounded_text(v, 1, NAME_MAX)));
            let email = admin_fields
                .string("email")
                .and_then(|v| admin_fields.parse("email", || Email::try_from(v)));
            let password = admin_fields.optional_string("password");
            for error in admin_fields.into_errors().0 {
                fields
                    .errors
                    .push(format!("admin.{}", error.field), error.code, error.message);
            }
            match (first, last, email) {
                (Some(first), Some(last), Some(email)) => Some((first, last, email, password)),
                _ => None,
            }
        }
        None | Some(Value::Null) => {
            fields.errors.push(
                "admin",
                "required",
                "the organisation's first admin is required",
            );
            None
        }
        Some(_) => {
            fields.errors.push(
                "admin",
                "invalid_type",
                "must be an object: {first_name, last_name, email, password?}",
            );
            None
        }
    };
    let request = fields.errors.collect(RequestKey::HEADER, request);
    fields.finish()?;
    let (Some(name), Some(settings), Some((first_name, last_name, email, password)), Some(request)) =
        (name, settings, admin, request)
    else {
        return Err(ApiError::Internal(
            "validated organisation fields missing".to_owned(),
        ));
    };
    let asked = asked(&body);
    if let Some(earlier) = replay(&state, request.as_ref(), &asked).await? {
        return Ok(earlier);
    }

    let organisation = Organisation::new(OrganisationId::generate(), name, settings);
    let existing = state.table.account_by_email(email.normalised()).await?;
    let account_is_new = existing.is_none();
    let account = match existing {
        Some(existing) => existing,
        None => {
            let hash = match password {
                Some(password) => {
                    check_new_password(
                        &state,
                        &organisation.settings,
                        password,
                        None,
                        "admin.password",
                    )
                    .await?;
                    Some(hash_blocking(password).await?)
                }
                None => None,
            };
            let mut account = Account::new(Some(email.clone()), hash);
            // The platform operator vouches for the first Admin's address.
            account.email_verified = true;
            account
        }
    };
    let invitation_status = if account.password_hash.is_some() && account.email_verified {
        InvitationStatus::Confirmed
    } else {
        InvitationStatus::NotInvited
    };
    let admin = Membership::joining(
        &organisation,
        account.id.clone(),
        Profile::named(first_name, last_name, account.email.clone().or(Some(email))),
        None,
        vec![RoleGrant::organisation_wide(Role::Admin)],
        invitation_status,
    );
    let answer = json!({
        "organisation": crate::views::organisation(&organisation),
        "admin": {
            "id": admin.id,
            "email": admin.profile.email.as_ref().map(Email::display),
            "invitation_status": admin.invitation_status,
            "existing_account": !account_is_new,
        }
    });
    let made = PlatformRequest {
        asked: asked.clone(),
        answered: answer.clone(),
        made_at: state.now(),
    };
    let written = state
        .table
        .create_organisation(&NewOrganisation {
            organisation: organisation.clone(),
            admin: admin.clone(),
            admin_account: account,
            account_is_new,
            request: request.clone().map(|key| (key, made)),
        })
        .await;
    if let Err(StoreError::Taken(Uniqueness::IdempotencyKey)) = written {
        let twin = RequestKey::twin_answer(|| replay(&state, request.as_ref(), &asked)).await?;
        if let Some(earlier) = twin {
            return Ok(earlier);
        }
    }
    written?;
    crate::audit::record(
        &state,
        &organisation.id,
        organisation.settings.audit_retention_days,
        Actor::Platform,
        "organisation.created",
        Some(admin.id.as_str()),
        vec![],
    )
    .await;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// What `body` asks, as kept beside its `Idempotency-Key`: a digest of it, with the admin's
/// password (a secret, never kept) reduced to whether it was sent (`null` is none). `serde_json`
/// keeps an object's keys sorted, so the same body in any key order asks the same.
fn asked(body: &Map<String, Value>) -> String {
    let mut asked = body.clone();
    if let Some(admin) = asked.get_mut("admin").and_then(Value::as_object_mut) {
        match admin.remove("password") {
            None | Some(Value::Null) => {}
            Some(_) => {
                admin.insert("password".to_owned(), Value::Bool(true));
            }
        }
    }
    secret_hash(&Value::Object(asked).to_string())
}

/// What an earlier request under `request` answered (201 again, replayed), or 422 when it asked
/// for another organisation; `None` when no live request holds the key.
async fn replay(
    state: &AppState,
    request: Option<&IdempotencyKey>,
    asked: &str,
) -> Result<Option<Response>, ApiError> {
    let Some(request) = request else {
        return Ok(None);
    };
    let Some(earlier) = state.table.platform_requested(request, state.now()).await? else {
        return Ok(None);
    };
    if earlier.asked != asked {
        return Err(RequestKey::reused(
            "was sent before with another organisation",
        ));
    }
    Ok(Some(RequestKey::replayed(earlier.answered)))
}

/// `POST /v1/platform/organisations/{organisation}/admins` `{user_id, approved_by}`: grants Admin
/// (only the platform operator can), with the written approval of an existing Admin recorded in
/// the audit log.
#[utoipa::path(
    post,
    path = "/v1/platform/organisations/{organisation}/admins",
    operation_id = "grant_admin",
    tag = "platform",
    summary = "Grant Admin to a user, with an existing Admin's approval",
    security(("platform" = [])),
    params(("organisation" = String, Path, description = "An organisation id.")),
    request_body = crate::openapi::GrantAdminRequest,
    responses((status = 200, description = "The user's roles.", body = crate::openapi::GrantedRoles))
)]
pub async fn grant_admin(
    State(state): State<AppState>,
    _operator: PlatformOperator,
    Path(organisation): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let organisation =
        OrganisationId::try_from(organisation.as_str()).map_err(|_| ApiError::NotFound)?;
    let organisation = state
        .table
        .organisation(&organisation)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut fields = Fields::new(&body, &["user_id", "approved_by"]);
    let user = fields
        .string("user_id")
        .and_then(|u| fields.parse("user_id", || UserId::try_from(u).map_err(unknown_user)));
    let approver = fields
        .string("approved_by")
        .and_then(|u| fields.parse("approved_by", || UserId::try_from(u).map_err(unknown_user)));
    fields.finish()?;
    let (Some(user), Some(approver)) = (user, approver) else {
        return Err(ApiError::Internal(
            "validated grant fields missing".to_owned(),
        ));
    };
    let approver = state
        .table
        .membership(&organisation.id, &approver)
        .await?
        .filter(|m| m.is_active() && roster_domain::permissions::is_admin(&m.roles))
        .ok_or_else(|| {
            ApiError::field(
                "approved_by",
                "not_an_admin",
                "must be an active Admin of the organisation",
            )
        })?;
    let before = state
        .table
        .membership(&organisation.id, &user)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                "user_id",
                "unknown_user",
                "is not a user of the organisation",
            )
        })?;
    if roster_domain::permissions::is_admin(&before.roles) {
        return Ok(Json(json!({ "id": before.id, "roles": before.roles })));
    }
    let mut after = Membership {
        version: before.version + 1,
        ..before.clone()
    };
    after.roles.push(RoleGrant::organisation_wide(Role::Admin));
    state.table.update_membership(&before, &after, None).await?;
    let entry = roster_domain::audit::AuditEntry {
        approved_by: Some(approver.id.to_string()),
        ..crate::audit::entry(
            &state,
            Actor::Platform,
            "user.admin_granted",
            Some(after.id.as_str()),
            vec!["roles".to_owned()],
        )
    };
    crate::audit::write(
        &state,
        &organisation.id,
        organisation.settings.audit_retention_days,
        &entry,
    )
    .await;
    Ok(Json(json!({ "id": after.id, "roles": after.roles })))
}

/// `POST /v1/platform/organisations/{organisation}/users/{user}/reset-mfa`: removes the person's
/// 2FA as an Admin's reset does (TOTP and recovery codes gone, sessions ended, the person told),
/// also for a person who belongs to several organisations, whose Admins may not.
#[utoipa::path(
    post,
    path = "/v1/platform/organisations/{organisation}/users/{user}/reset-mfa",
    operation_id = "platform_reset_user_mfa",
    tag = "platform",
    summary = "Remove a user's 2FA, whatever organisations they belong to",
    security(("platform" = [])),
    params(
        ("organisation" = String, Path, description = "An organisation id."),
        ("user" = String, Path, description = "A user id of that organisation.")
    ),
    responses((status = 204, description = "2FA removed and the person's sessions ended (nothing done for a person without 2FA)."), (status = 404, description = "No such organisation or user of it, or the platform endpoints are closed (no platform token configured)."))
)]
pub async fn reset_mfa(
    State(state): State<AppState>,
    _operator: PlatformOperator,
    Path((organisation, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (Ok(organisation), Ok(user)) = (
        OrganisationId::try_from(organisation.as_str()),
        UserId::try_from(user.as_str()),
    ) else {
        return Err(ApiError::NotFound);
    };
    let (organisation, membership) = tokio::try_join!(
        state.table.organisation(&organisation),
        state.table.membership(&organisation, &user)
    )?;
    let (Some(organisation), Some(membership)) = (organisation, membership) else {
        return Err(ApiError::NotFound);
    };
    let account = crate::admin::account_of(&state, &membership).await?;
    if crate::admin::remove_second_factor(&state, account).await? {
        crate::audit::record(
            &state,
            &organisation.id,
            organisation.settings.audit_retention_days,
            Actor::Platform,
            "user.mfa_reset",
            Some(membership.id.as_str()),
            vec![],
        )
        .await;
    }
    Ok(StatusCode::NO_CONTENT)
}

fn unknown_user(_: roster_domain::ids::InvalidId) -> roster_domain::validation::FieldProblem {
    roster_domain::validation::FieldProblem::new(
        "unknown_user",
        "is not a user of the organisation",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asking(body: Value) -> String {
        asked(body.as_object().unwrap())
    }

    #[test]
    fn a_request_asks_the_same_whatever_its_key_order_or_admin_password() {
        let admin = |password: Value| json!({ "name": "Acme", "admin": { "email": "ada@example.com", "password": password } });
        let with_password = asking(admin(json!("s3cret-Passw0rd")));
        assert_eq!(asking(admin(json!("0ther-Passw0rd"))), with_password);
        assert_eq!(
            asking(
                json!({ "admin": { "password": "x", "email": "ada@example.com" }, "name": "Acme" })
            ),
            with_password
        );
        let without = asking(json!({ "name": "Acme", "admin": { "email": "ada@example.com" } }));
        assert_eq!(asking(admin(Value::Null)), without);
        assert_ne!(without, with_password);
        assert_ne!(
            asking(json!({ "name": "Acme Ltd", "admin": { "email": "ada@example.com" } })),
            without
        );
    }
}
