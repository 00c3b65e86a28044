//! Administration of the caller's organisation (the credential actions so far).

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use roster_domain::{
    ids::UserId,
    membership::{Membership, Role},
};
use roster_notify::templates::Notice;
use roster_store::{Account, Caller};

use crate::{ApiError, AppState, auth::login_subjects, caller::Authenticated, notices};

/// The caller may manage users: Admin or User Management, organisation-wide.
fn require_user_management(caller: &Caller) -> Result<(), ApiError> {
    let allowed = caller.membership.roles.iter().any(|grant| {
        grant.sites.is_none() && matches!(grant.role, Role::Admin | Role::UserManagement)
    });
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            code: "forbidden",
            detail: "You need the Admin or User Management role for this.",
        })
    }
}

/// The user `id` of the caller's organisation, and their account.
async fn target(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(Membership, Account), ApiError> {
    require_user_management(caller)?;
    let id = UserId::try_from(id).map_err(|_| ApiError::NotFound)?;
    let membership = state
        .table
        .membership(&caller.organisation.id, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let account = state
        .table
        .account(&membership.account_id)
        .await?
        .ok_or_else(|| ApiError::Internal("membership without account".to_owned()))?;
    Ok((membership, account))
}

/// `POST /v1/admin/users/{id}/unlock`: clears the failed-login counts of the person.
pub async fn unlock(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (_, account) = target(&state, &caller, &id).await?;
    for subject in login_subjects(&state, &account).await? {
        state.table.clear_login_failures(&subject).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/admin/users/{id}/reset-mfa`: removes TOTP and recovery codes, ends the person's
/// sessions, and tells them.
pub async fn reset_mfa(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (_, mut account) = target(&state, &caller, &id).await?;
    account.totp = None;
    account.pending_totp = None;
    account.recovery_codes.clear();
    state.table.save_account(&account).await?;
    state.table.end_sessions(&account.id, None).await?;
    notices::tell(&state, &account, Notice::MfaReset).await?;
    Ok(StatusCode::NO_CONTENT)
}
