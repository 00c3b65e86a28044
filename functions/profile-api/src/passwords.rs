//! Passwords: checking a new one (policy, breached lists), changing it, and the forgot-password
//! flow. Hashing runs off the async workers (it is deliberately slow).

use std::{future::Future, pin::Pin, time::Duration};

use axum::{extract::State, http::StatusCode};
use roster_domain::{
    breached::{
        Breach, BreachedList, Unreachable, UnreachableRangeApi, check_breach, range_lists,
        range_query,
    },
    credentials::{PasswordCheck, check_password_policy, hash_password, verify_password},
    organisation::OrganisationSettings,
    profile::Email,
    session::{new_secret, secret_hash},
};
use roster_notify::templates::Notice;
use roster_store::{Account, Caller, ResetToken, StoreError};

use crate::{
    ApiError, AppState, audit,
    caller::Authenticated,
    extract::{Fields, JsonObject},
    notices,
};

pub const RESET_LINK_LIFETIME: chrono::Duration = chrono::Duration::hours(1);

/// A forgot-password request is answered this long after it arrived, never sooner, whether its
/// email has an account or not: the known email's token write and email (SES) happen inside
/// it, so the answer's timing does not tell the two apart. Work that outlasts it (SES stalling)
/// answers later.
pub const RESET_ANSWER_AFTER: Duration = Duration::from_secs(1);

/// The Pwned Passwords range API (k-anonymity): only the first 5 hex characters of the SHA-1 leave.
#[derive(Clone, Debug)]
pub struct HibpRangeApi {
    http: reqwest::Client,
    url: String,
}

impl HibpRangeApi {
    pub fn new(url: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()
                .expect("an HTTP client with a timeout builds"),
            url: url.to_owned(),
        }
    }

    async fn ask(&self, password: &str) -> Result<bool, reqwest::Error> {
        let (prefix, suffix) = range_query(password);
        let body = self
            .http
            .get(format!("{}{prefix}", self.url))
            .header("Add-Padding", "true")
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        Ok(range_lists(&body, &suffix))
    }
}

impl BreachedList for HibpRangeApi {
    fn lists<'a>(
        &'a self,
        password: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<bool, Unreachable>> + Send + 'a>> {
        Box::pin(async move {
            self.ask(password)
                .await
                // Without the URL: it holds the hash prefix of the password being checked.
                .map_err(|error| Unreachable(error.without_url().to_string()))
        })
    }
}

/// Checks a new password: the policy, the local common list, the remote breached list (with the
/// organisation's choice when it is unreachable). Every failed rule is named under `field`.
pub async fn check_new_password(
    state: &AppState,
    settings: &OrganisationSettings,
    password: &str,
    confirmation: Option<&str>,
    field: &str,
) -> Result<(), ApiError> {
    let mut errors = check_password_policy(password, confirmation, field)
        .err()
        .unwrap_or_default();
    match check_breach(state.breached.as_ref(), password).await {
        Breach::Clear => {}
        Breach::Common => errors.push(
            field,
            "breached",
            "is a commonly used password; choose another",
        ),
        Breach::Listed => errors.push(
            field,
            "breached",
            "appears in known data breaches; choose another",
        ),
        Breach::Unchecked(error) => {
            tracing::warn!(%error, "breached-password check skipped");
            if settings.breached_check_unreachable == UnreachableRangeApi::Refuse {
                errors.push(
                    field,
                    "breach_check_unavailable",
                    "cannot be checked against known breaches right now; try again later",
                );
            }
        }
    }
    errors.into_result(()).map_err(ApiError::Validation)
}

pub async fn hash_blocking(password: &str) -> Result<String, ApiError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(format!("hashing task: {e}")))
}

pub async fn verify_blocking(
    password: &str,
    hash: Option<&str>,
) -> Result<PasswordCheck, ApiError> {
    let (password, hash) = (password.to_owned(), hash.map(str::to_owned));
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            roster_domain::credentials::verify_against_nothing(&password);
            PasswordCheck::Wrong
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("verification task: {e}")))
}

/// Refuses password operations where the organisation only logs in through SSO.
pub fn require_password_login(settings: &OrganisationSettings) -> Result<(), ApiError> {
    if settings.login_methods.password {
        Ok(())
    } else {
        Err(password_login_disabled())
    }
}

fn password_login_disabled() -> ApiError {
    ApiError::Forbidden {
        code: "password_login_disabled",
        detail: "Your organisation signs you in through its identity provider; your password is managed there.",
    }
}

/// `POST /v1/me/password` `{current_password, new_password, confirmation}`: 204; other sessions end.
#[utoipa::path(
    post,
    path = "/v1/me/password",
    operation_id = "change_password",
    tag = "me",
    summary = "Change the caller's password",
    security(("session" = [])),
    request_body = crate::openapi::PasswordChangeRequest,
    responses((status = 204, description = "Changed; the person's other sessions ended."), (status = 429, description = "Too many wrong current passwords."))
)]
pub async fn change(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<StatusCode, ApiError> {
    require_password_login(&caller.organisation.settings)?;
    let mut fields = Fields::new(&body, &["current_password", "new_password", "confirmation"]);
    let current = fields.string("current_password");
    let new = fields.string("new_password");
    let confirmation = fields.string("confirmation");
    fields.finish()?;
    let (Some(current), Some(new), Some(confirmation)) = (current, new, confirmation) else {
        return Err(ApiError::Internal(
            "validated password fields missing".to_owned(),
        ));
    };
    let account = caller_account(&state, &caller.session.account_id).await?;
    crate::auth::confirm_password(&state, &account, "current_password", current).await?;
    // The password is the person's in every organisation of theirs, not only the caller's.
    let settings = password_settings(&state, &account)
        .await?
        .ok_or_else(password_login_disabled)?;
    check_new_password(&state, &settings, new, Some(confirmation), "new_password").await?;
    let mut next = account.clone();
    next.password_hash = Some(hash_blocking(new).await?);
    next.must_change_password = false;
    next.credential_epoch += 1;
    next.session_epoch += 1;
    save_keeping_caller_session(&state, &caller, &account, &next, false).await?;
    notices::tell_caller(&state, &caller, &account, Notice::PasswordChanged).await;
    audit::by_caller(
        &state,
        &caller,
        "password.changed",
        Some(caller.membership.id.as_str()),
        vec![],
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Saves `next`, the caller's account `before` with its `session_epoch` raised, ending every
/// session of the person but the caller's (see `save_account_keeping_session`). 401, writing
/// nothing, when the caller's session ended meanwhile (by an admin's 2FA reset or a logout, say):
/// keeping it at the new epoch would bring it back.
pub(crate) async fn save_keeping_caller_session(
    state: &AppState,
    caller: &Caller,
    before: &Account,
    next: &Account,
    passed_second_factor: bool,
) -> Result<Account, ApiError> {
    if caller.session.epoch < before.session_epoch {
        return Err(ApiError::Unauthenticated);
    }
    state
        .table
        .save_account_keeping_session(next, &caller.token_hash, passed_second_factor)
        .await
        .map_err(|error| match error {
            StoreError::NotFound => ApiError::Unauthenticated,
            other => other.into(),
        })
}

pub async fn caller_account(
    state: &AppState,
    id: &roster_domain::ids::AccountId,
) -> Result<Account, ApiError> {
    state
        .table
        .account(id)
        .await?
        .ok_or(ApiError::Unauthenticated)
}

/// `POST /v1/auth/password-reset` `{email}`: always 202, after `RESET_ANSWER_AFTER`; an existing
/// account gets a single-use link valid one hour, in its language, up to
/// `RESET_EMAILS_PER_HOUR` links an hour.
#[utoipa::path(
    post,
    path = "/v1/auth/password-reset",
    operation_id = "request_password_reset",
    tag = "auth",
    summary = "Email a password reset link",
    security(()),
    request_body = crate::openapi::EmailRequest,
    responses((status = 202, description = "Accepted, whether or not the email has an account, one second after the request either way."))
)]
pub async fn request_reset(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<StatusCode, ApiError> {
    let mut fields = Fields::new(&body, &["email"]);
    let email = fields
        .string("email")
        .and_then(|e| fields.parse("email", || Email::try_from(e)));
    fields.finish()?;
    let email = email.ok_or_else(|| ApiError::Internal("validated email missing".to_owned()))?;
    let answer_at = tokio::time::Instant::now() + RESET_ANSWER_AFTER;
    let sent = async {
        if let Some(account) = state.table.account_by_email(email.normalised()).await?
            // A password no organisation of theirs signs in with is no use to them.
            && password_settings(&state, &account).await?.is_some()
            && !send_reset_link_within_quota(&state, &account).await?
        {
            tracing::info!(account = %account.id, "reset email quota of the hour reached");
        }
        Ok::<_, ApiError>(())
    }
    .await;
    // A failure only a known email can meet (its token's write) would tell the two apart if it
    // were answered: it is logged, and the person asks again.
    if let Err(error) = sent {
        tracing::error!(%error, "a password reset link was not sent");
    }
    tokio::time::sleep_until(answer_at).await;
    Ok(StatusCode::ACCEPTED)
}

/// `send_reset_link` within the person's hourly quota of reset emails: `Ok(false)` when the
/// hour's were sent. A link that surely was not sent takes no place in the quota.
pub async fn send_reset_link_within_quota(
    state: &AppState,
    account: &Account,
) -> Result<bool, ApiError> {
    let now = state.now();
    if !state.table.count_reset_email(&account.id, now).await? {
        return Ok(false);
    }
    if let Err(error) = send_reset_link(state, account).await {
        if crate::notices::surely_unsent(&error)
            && let Err(not_given_back) = state.table.uncount_reset_email(&account.id, now).await
        {
            tracing::warn!(error = %not_given_back, "an unsent reset email still counts");
        }
        return Err(error);
    }
    Ok(true)
}

/// Emails the person a single-use reset link valid one hour.
async fn send_reset_link(state: &AppState, account: &Account) -> Result<(), ApiError> {
    let token = new_secret();
    let reset = ResetToken {
        account_id: account.id.clone(),
        expires_at: state.now() + RESET_LINK_LIFETIME,
        epoch: account.credential_epoch,
    };
    state
        .table
        .create_token(&secret_hash(&token), &reset)
        .await?;
    let link = format!(
        "{}/reset-password?token={token}",
        state.config.app_url.trim_end_matches('/')
    );
    notices::send_link(state, account, Notice::PasswordReset { link }).await
}

/// The body that redeems a single-use link: `{token, password, confirmation?}`.
pub struct LinkBody<'a> {
    /// The SHA-256 of the token (the token itself is never kept).
    pub token_hash: String,
    pub password: &'a str,
    pub confirmation: Option<&'a str>,
}

impl<'a> LinkBody<'a> {
    pub fn parse(body: &'a serde_json::Map<String, serde_json::Value>) -> Result<Self, ApiError> {
        let mut fields = Fields::new(body, &["token", "password", "confirmation"]);
        let token = fields.string("token");
        let password = fields.string("password");
        let confirmation = fields.optional_string("confirmation");
        fields.finish()?;
        match (token, password) {
            (Some(token), Some(password)) => Ok(Self {
                token_hash: secret_hash(token),
                password,
                confirmation,
            }),
            _ => Err(ApiError::Internal(
                "validated link fields missing".to_owned(),
            )),
        }
    }
}

/// A link that is not (or no longer) valid, named on its `token` field.
pub fn invalid_link(message: &'static str) -> ApiError {
    ApiError::field("token", "invalid_token", message)
}

/// What a new password of `account`, which may belong to several organisations, is checked
/// under: those of them that sign people in by password, a range API that cannot be reached
/// refusing it if any of them says so. `None` when none of them does (all sign in through their
/// identity provider): the password would be of no use. One `BatchGetItem`.
pub(crate) async fn password_settings(
    state: &AppState,
    account: &Account,
) -> Result<Option<OrganisationSettings>, ApiError> {
    let organisations = state
        .table
        .organisations(account.memberships.keys())
        .await?;
    let by_password: Vec<_> = organisations
        .iter()
        .map(|o| &o.settings)
        .filter(|s| s.login_methods.password)
        .collect();
    if by_password.is_empty() {
        return Ok(None);
    }
    let mut strictest = OrganisationSettings::default();
    if by_password
        .iter()
        .any(|s| s.breached_check_unreachable == UnreachableRangeApi::Refuse)
    {
        strictest.breached_check_unreachable = UnreachableRangeApi::Refuse;
    }
    Ok(Some(strictest))
}

/// `POST /v1/auth/password-reset/confirm` `{token, password, confirmation?}`: sets the password
/// (policy applies), clears the lockout, ends every session. The link works once.
#[utoipa::path(
    post,
    path = "/v1/auth/password-reset/confirm",
    operation_id = "confirm_password_reset",
    tag = "auth",
    summary = "Set a new password with a reset link",
    security(()),
    request_body = crate::openapi::LinkRequest,
    responses((status = 204, description = "The password is set; every session ended."), (status = 403, description = "No organisation of the person signs in by password any more: `password_login_disabled`."), (status = 412, description = "The account changed meanwhile; nothing was written and the link still works (`stale_version`): send it again."))
)]
pub async fn confirm_reset(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<StatusCode, ApiError> {
    let link = LinkBody::parse(&body)?;
    let (hash, password, confirmation) = (link.token_hash, link.password, link.confirmation);
    let invalid = || invalid_link("the link is invalid, used or expired");
    let reset = state
        .table
        .token::<ResetToken>(&hash, state.now())
        .await?
        .ok_or_else(invalid)?;
    let account = state
        .table
        .account(&reset.account_id)
        .await?
        .filter(|account| account.credential_epoch == reset.epoch)
        .ok_or_else(invalid)?;
    let settings = password_settings(&state, &account)
        .await?
        .ok_or_else(password_login_disabled)?;
    check_new_password(&state, &settings, password, confirmation, "password").await?;
    let mut next = account.clone();
    next.password_hash = Some(hash_blocking(password).await?);
    next.must_change_password = false;
    next.email_verified = true;
    next.credential_epoch += 1;
    next.session_epoch += 1;
    // Cleared before the save, which uses the link up: a confirmation that failed after it
    // could not be sent again.
    state.table.clear_lockout(&account).await?;
    // The link is used up with the save, so a save that loses a race leaves it working.
    match state
        .table
        .save_account_using::<ResetToken>(&next, &hash)
        .await
    {
        Err(StoreError::NotFound) => return Err(invalid()),
        saved => saved?,
    };
    notices::tell(&state, &account, Notice::PasswordChanged).await;
    audit::of_account(&state, &account, "password.reset").await;
    Ok(StatusCode::NO_CONTENT)
}
