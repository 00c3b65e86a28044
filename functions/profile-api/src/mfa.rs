//! Two-factor authentication with TOTP: enrolment (password re-entered), confirmation by a first
//! code (which yields 10 recovery codes, shown once), disabling, regenerating recovery codes, and
//! the second step of a login. Each code works once.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use roster_domain::{
    lockout::{LockPolicy, enrolment_subject},
    recovery,
    session::secret_hash,
    totp::{self, matching_step, otpauth_uri, qr_png, secret_base32},
};
use roster_notify::templates::Notice;
use roster_store::{Account, Totp};
use serde_json::{Value, json};

use crate::{
    ApiError, AppState, audit,
    auth::{confirm_password, counted_check, reauthenticate, session_answer},
    caller::Authenticated,
    extract::{Fields, JsonObject},
    notices,
    passwords::{caller_account, require_password_login, save_keeping_caller_session},
};

const ISSUER: &str = "Roster";

fn unix_now(state: &AppState) -> u64 {
    state.now().timestamp().max(0) as u64
}

/// `POST /v1/me/mfa/totp` `{password}` -> 201 `{secret, otpauth_uri, qr_png}`; the secret is
/// active once `.../confirm` receives a valid code.
#[utoipa::path(
    post,
    path = "/v1/me/mfa/totp",
    operation_id = "start_totp_enrolment",
    tag = "me",
    summary = "Start TOTP enrolment",
    security(("session" = [])),
    request_body = crate::openapi::PasswordRequest,
    responses((status = 201, description = "The secret to put in an authenticator.", body = crate::openapi::TotpEnrolment), (status = 429, description = "Too many wrong passwords."))
)]
pub async fn start_enrolment(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_password_login(&caller.organisation.settings)?;
    let mut fields = Fields::new(&body, &["password"]);
    let password = fields.string("password");
    fields.finish()?;
    let mut account = caller_account(&state, &caller.session.account_id).await?;
    confirm_password(&state, &account, "password", password.unwrap_or_default()).await?;
    // A new secret to confirm, with as many tries as the first.
    state
        .table
        .clear_login_failures(&enrolment_subject(&account.id))
        .await?;
    let secret = totp::new_secret();
    account.pending_totp = Some(state.config.sealing_key.seal(&secret));
    state.table.save_account(&account).await?;
    let label = account
        .email
        .as_ref()
        .map(|e| e.display().to_owned())
        .or_else(|| {
            caller
                .membership
                .username
                .as_ref()
                .map(|u| u.display().to_owned())
        })
        .unwrap_or_default();
    let png = qr_png(&secret, ISSUER, &label).map_err(ApiError::Internal)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "secret": secret_base32(&secret),
            "otpauth_uri": otpauth_uri(&secret, ISSUER, &label),
            "qr_png": format!("data:image/png;base64,{}", STANDARD.encode(png)),
        })),
    ))
}

/// `POST /v1/me/mfa/totp/confirm` `{code}` -> 200 `{recovery_codes}` (shown this once).
#[utoipa::path(
    post,
    path = "/v1/me/mfa/totp/confirm",
    operation_id = "confirm_totp_enrolment",
    tag = "me",
    summary = "Confirm TOTP enrolment with a current code",
    security(("session" = [])),
    request_body = crate::openapi::CodeRequest,
    responses((status = 200, description = "2FA is on and the person's other sessions ended; the recovery codes, shown once.", body = crate::openapi::RecoveryCodes), (status = 429, description = "Too many wrong codes: wait, or start the enrolment again."))
)]
pub async fn confirm_enrolment(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let mut fields = Fields::new(&body, &["code"]);
    let code = fields.string("code");
    fields.finish()?;
    let account = caller_account(&state, &caller.session.account_id).await?;
    let sealed = account
        .pending_totp
        .clone()
        .ok_or_else(|| ApiError::field("code", "no_enrolment", "start the enrolment first"))?;
    let secret = state
        .config
        .sealing_key
        .open(&sealed)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let step = matching_step(&secret, code.unwrap_or_default(), unix_now(&state), None);
    // Wrong codes lock like logins: a session alone (stolen, or restricted to enrolment) must
    // not guess its way into 2FA and the recovery codes.
    let subject = enrolment_subject(&account.id);
    let policy = LockPolicy::default();
    counted_check(&state, &subject, &policy, &account, async {
        Ok(step.is_some())
    })
    .await?;
    let step = step.ok_or_else(|| {
        ApiError::field(
            "code",
            "invalid_code",
            "is not the current code of your authenticator",
        )
    })?;
    let (codes, hashes) = recovery::generate();
    // The person's other sessions end: one opened before 2FA (with a guessed or stolen
    // password) must not outlive it.
    let enabled = Account {
        totp: Some(Totp {
            sealed_secret: sealed,
            last_used_step: Some(step),
        }),
        pending_totp: None,
        recovery_codes: hashes,
        session_epoch: account.session_epoch + 1,
        ..account.clone()
    };
    save_keeping_caller_session(&state, &caller, &account, &enabled, true).await?;
    notices::tell_caller(&state, &caller, &account, Notice::MfaEnabled).await;
    audit::by_caller(
        &state,
        &caller,
        "mfa.enabled",
        Some(caller.membership.id.as_str()),
        vec![],
    )
    .await;
    Ok(Json(json!({ "recovery_codes": codes })))
}

/// Proof of the person for sensitive changes: their password, or a current TOTP code.
async fn verify_password_or_code(
    state: &AppState,
    account: &mut Account,
    body: &serde_json::Map<String, Value>,
) -> Result<(), ApiError> {
    let mut fields = Fields::new(body, &["password", "code"]);
    let password = fields.optional_string("password");
    let code = fields.optional_string("code");
    if password.is_none() && code.is_none() {
        fields.errors.push(
            "password",
            "required",
            "give your password or a current code",
        );
    }
    fields.finish()?;
    if let Some(password) = password {
        return confirm_password(state, account, "password", password).await;
    }
    let snapshot = account.clone();
    let mut checked = account.clone();
    let right = reauthenticate(
        state,
        &snapshot,
        use_totp_code(state, &mut checked, code.unwrap_or_default(), None),
    )
    .await?;
    *account = checked;
    right.then_some(()).ok_or_else(|| {
        ApiError::field(
            "code",
            "invalid_code",
            "is not a current code of your authenticator",
        )
    })
}

/// Accepts a TOTP code once: records its step on the account (a concurrent use of the same code
/// loses the version race), using up `challenge` in the same write (see `save_spent`). `false`
/// when it does not match or was used.
async fn use_totp_code(
    state: &AppState,
    account: &mut Account,
    code: &str,
    challenge: Option<&str>,
) -> Result<bool, ApiError> {
    let Some(active) = account.totp.clone() else {
        return Ok(false);
    };
    let secret = state
        .config
        .sealing_key
        .open(&active.sealed_secret)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(step) = matching_step(&secret, code, unix_now(state), active.last_used_step) else {
        return Ok(false);
    };
    account.totp = Some(Totp {
        last_used_step: Some(step),
        ..active
    });
    save_spent(state, account, challenge).await
}

/// Saves `account` with a code spent, and at a login uses up its MFA `challenge` in the same
/// write, so that of two attempts at one challenge (a TOTP code and a recovery code sent at
/// once) only the one that opens the session spends its code. `false`, with nothing written,
/// when the account moved or the challenge was used first.
async fn save_spent(
    state: &AppState,
    account: &mut Account,
    challenge: Option<&str>,
) -> Result<bool, ApiError> {
    let saved = match challenge {
        Some(hash) => {
            state
                .table
                .save_account_using::<roster_store::MfaChallenge>(account, hash)
                .await
        }
        None => state.table.save_account(account).await,
    };
    match saved {
        Ok(saved) => {
            *account = saved;
            Ok(true)
        }
        Err(roster_store::StoreError::Stale | roster_store::StoreError::NotFound) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// `DELETE /v1/me/mfa/totp` `{password}` or `{code}`: 204.
#[utoipa::path(
    delete,
    path = "/v1/me/mfa/totp",
    operation_id = "disable_totp",
    tag = "me",
    summary = "Turn 2FA off",
    security(("session" = [])),
    request_body = crate::openapi::PasswordOrCodeRequest,
    responses((status = 204, description = "2FA is off."), (status = 429, description = "Too many wrong passwords or codes."))
)]
pub async fn disable(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<StatusCode, ApiError> {
    let mut account = caller_account(&state, &caller.session.account_id).await?;
    let required = state
        .table
        .memberships_of(&account, None)
        .await?
        .iter()
        .any(|(_, organisation)| organisation.settings.require_mfa);
    if required {
        return Err(ApiError::Forbidden {
            code: "mfa_required_by_organisation",
            detail: "One of your organisations requires two-factor authentication.",
        });
    }
    if account.totp.is_none() {
        return Ok(StatusCode::NO_CONTENT);
    }
    verify_password_or_code(&state, &mut account, &body).await?;
    account.totp = None;
    account.pending_totp = None;
    account.recovery_codes.clear();
    state.table.save_account(&account).await?;
    notices::tell_caller(&state, &caller, &account, Notice::MfaDisabled).await;
    audit::by_caller(
        &state,
        &caller,
        "mfa.disabled",
        Some(caller.membership.id.as_str()),
        vec![],
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/me/mfa/recovery-codes` `{password}` or `{code}` -> 200 `{recovery_codes}`; the old
/// ones stop working.
#[utoipa::path(
    post,
    path = "/v1/me/mfa/recovery-codes",
    operation_id = "regenerate_recovery_codes",
    tag = "me",
    summary = "Replace the recovery codes",
    security(("session" = [])),
    request_body = crate::openapi::PasswordOrCodeRequest,
    responses((status = 200, description = "The new codes, shown once.", body = crate::openapi::RecoveryCodes), (status = 429, description = "Too many wrong passwords or codes."))
)]
pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let mut account = caller_account(&state, &caller.session.account_id).await?;
    if account.totp.is_none() {
        return Err(ApiError::field(
            "code",
            "no_mfa",
            "two-factor authentication is not set up",
        ));
    }
    verify_password_or_code(&state, &mut account, &body).await?;
    let (codes, hashes) = recovery::generate();
    account.recovery_codes = hashes;
    state.table.save_account(&account).await?;
    notices::tell_caller(&state, &caller, &account, Notice::RecoveryCodesRegenerated).await;
    audit::by_caller(
        &state,
        &caller,
        "recovery_codes.regenerated",
        Some(caller.membership.id.as_str()),
        vec![],
    )
    .await;
    Ok(Json(json!({ "recovery_codes": codes })))
}

/// `POST /v1/auth/login/mfa` `{challenge, code}` or `{challenge, recovery_code}` -> 200
/// `{token, expires_at}`. Wrong codes count towards the lockout.
#[utoipa::path(
    post,
    path = "/v1/auth/login/mfa",
    operation_id = "complete_mfa_login",
    tag = "auth",
    summary = "Complete a login with a TOTP or recovery code",
    security(()),
    request_body = crate::openapi::MfaLoginRequest,
    responses((status = 200, description = "A session.", body = crate::openapi::SessionToken), (status = 401, description = "Unknown or expired challenge, or a wrong code."), (status = 403, description = "The organisation signs in through its identity provider only (`password_login_disabled`)."), (status = 429, description = "Locked after failed attempts."))
)]
pub async fn complete_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let mut fields = Fields::new(&body, &["challenge", "code", "recovery_code"]);
    let challenge = fields.string("challenge");
    let code = fields.optional_string("code");
    let recovery_code = fields.optional_string("recovery_code");
    if code.is_none() && recovery_code.is_none() {
        fields.errors.push(
            "code",
            "required",
            "give the code of your authenticator or a recovery code",
        );
    }
    fields.finish()?;
    let hash = secret_hash(challenge.unwrap_or_default());
    let pending = state
        .table
        .token::<roster_store::MfaChallenge>(&hash, state.now())
        .await?
        .ok_or(ApiError::InvalidCredentials)?;
    let mut account = state
        .table
        .account(&pending.account_id)
        .await?
        // Sessions ended since the password was checked end this login too.
        .filter(|account| account.session_epoch == pending.session_epoch)
        .ok_or(ApiError::InvalidCredentials)?;
    let subject = roster_domain::lockout::mfa_subject(&account.id);
    // Both read before a code is spent, at once: a login refused for them uses up none.
    let (organisation, membership) = tokio::try_join!(
        state.table.organisation(&pending.organisation_id),
        state
            .table
            .membership(&pending.organisation_id, &pending.user_id),
    )?;
    let organisation = organisation.ok_or(ApiError::InvalidCredentials)?;
    // Checked again, as the password step did: the organisation may have gone over to its
    // identity provider since.
    crate::passwords::require_password_login(&organisation.settings)?;
    let membership = membership
        .filter(|m| m.can_sign_in())
        .ok_or(ApiError::InvalidCredentials)?;
    // The person as they were, to tell when the codes tried lock them out.
    let notified = account.clone();
    // The code is spent and the challenge used up in one write.
    let check = async {
        match (code, recovery_code) {
            (Some(code), _) => use_totp_code(&state, &mut account, code, Some(&hash)).await,
            (None, Some(recovery_code)) => {
                use_recovery_code(&state, &mut account, recovery_code, &hash).await
            }
            (None, None) => Ok(false),
        }
    };
    let policy = organisation.settings.lockout;
    if !counted_check(&state, &subject, &policy, &notified, check).await? {
        return Err(ApiError::InvalidCredentials);
    }
    let restriction = account
        .must_change_password
        .then_some(roster_store::Restriction::PasswordChange);
    session_answer(
        &state,
        &account,
        &membership,
        &organisation,
        &headers,
        restriction,
        true,
        None,
    )
    .await
}

/// Accepts a recovery code once (it is removed), using up the login's `challenge` in the same
/// write; the person is told how many remain.
async fn use_recovery_code(
    state: &AppState,
    account: &mut Account,
    code: &str,
    challenge: &str,
) -> Result<bool, ApiError> {
    let stored = account.recovery_codes.clone();
    let Some(index) = tokio::task::spawn_blocking({
        let code = code.to_owned();
        move || recovery::find(&code, &stored)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    else {
        return Ok(false);
    };
    account.recovery_codes.remove(index);
    if !save_spent(state, account, Some(challenge)).await? {
        return Ok(false);
    }
    let remaining = account.recovery_codes.len();
    notices::tell(state, account, Notice::RecoveryCodeUsed { remaining }).await;
    audit::of_account(state, account, "recovery_code.used").await;
    Ok(true)
}
