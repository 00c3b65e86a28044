//! Login and logout. Login answers the same for an unknown person and a wrong password, takes as
//! long (one argon2id verification either way, and a failure no sooner than
//! [`FAILED_LOGIN_ANSWER_AFTER`]), and locks the same way: failures are counted per login name
//! (and per source address), whether or not an account stands behind it.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use lambda_http::RequestExt;
use roster_domain::organisation::Organisation;
use roster_domain::{
    credentials::{PasswordCheck, hash_password},
    ids::{OrganisationId, SessionId},
    lockout::{
        Lock, LockPolicy, address_lock, address_subject, email_subject, reauth_subject,
        username_subject,
    },
    membership::{Membership, Username},
    profile::Email,
    session::{Lifetime, new_secret, secret_hash},
};
use roster_notify::templates::Notice;
use roster_store::{
    Account, Failures, LoginCredential, MfaChallenge, Reservation, Restriction, Session,
};
use serde_json::json;

use crate::{
    ApiError, AppState, audit,
    caller::Authenticated,
    extract::{Fields, JsonObject},
    notices,
    passwords::verify_blocking,
};

/// How long a second factor may take after the password.
pub const CHALLENGE_LIFETIME: chrono::Duration = chrono::Duration::minutes(5);

/// A failed login answers no sooner than this after it arrived, whether a person stands behind
/// the name or not: what a known person's failure adds (its audit entry and, at the lock, the
/// notice by email) must not tell who has an account.
pub const FAILED_LOGIN_ANSWER_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// Who is logging in, as the body names them.
enum Login {
    Email {
        email: Email,
        organisation: Option<OrganisationId>,
    },
    Username {
        organisation: OrganisationId,
        username: Username,
    },
}

impl Login {
    /// What failures are counted under (hashed before storing).
    fn subject(&self) -> String {
        match self {
            Login::Email { email, .. } => email_subject(email.normalised()),
            Login::Username {
                organisation,
                username,
            } => username_subject(organisation, username.normalised()),
        }
    }
}

/// The caller's address as API Gateway saw it (absent outside Lambda).
fn source_address(parts: &Parts) -> Option<String> {
    match parts.request_context_ref()? {
        lambda_http::request::RequestContext::ApiGatewayV2(context) => {
            context.http.source_ip.clone()
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Whether a login may proceed.
pub enum Gate {
    /// Open, with the failures counted before this attempt.
    Open { failures: u32 },
    /// Locked for this many more minutes, or (`None`) until an unlock or a reset; the attempt
    /// is not counted.
    Locked { minutes: Option<u64> },
}

/// The reserved attempt of a login name (reserved at `at`) and, when known, its source address's
/// failures.
pub struct Counted {
    subject: Reservation,
    address: Option<Failures>,
    at: DateTime<Utc>,
}

/// Reserves this attempt under `subject` (see `reserve_login_attempt`) and reads the address's
/// failures.
pub async fn reserve_attempt(
    state: &AppState,
    subject: &str,
    address: Option<&str>,
) -> Result<Counted, ApiError> {
    let now = state.now();
    // This hour's failures with the hour before's: a wait earned just before the hour turned
    // holds after it, and the count never starts again from nothing at the top of an hour.
    let by_address = async {
        match address {
            Some(address) => {
                let subjects = [now - chrono::Duration::hours(1), now]
                    .map(|hour| address_subject(address, hour));
                let (hour_before, this_hour) = tokio::try_join!(
                    state.table.login_failures(&subjects[0], now),
                    state.table.login_failures(&subjects[1], now),
                )?;
                Ok::<_, roster_store::StoreError>(Some(Failures {
                    count: hour_before.count + this_hour.count,
                    last_at: hour_before.last_at.max(this_hour.last_at),
                }))
            }
            None => Ok(None),
        }
    };
    let (subject, address) =
        tokio::join!(state.table.reserve_login_attempt(subject, now), by_address);
    Ok(Counted {
        subject: subject?,
        address: address?,
        at: now,
    })
}

/// Whether the attempt reserved under `subject` may proceed under `policy`. One refused after it
/// was counted (a burst's later attempts while an earlier one is decided, or its address
/// waiting) is taken back: a refused attempt is no failure.
pub async fn gate(
    state: &AppState,
    subject: &str,
    policy: &LockPolicy,
    counted: &Counted,
) -> Result<Gate, ApiError> {
    let now = state.now();
    let failures = match counted.subject {
        Reservation::Locked(lock) => {
            return Ok(Gate::Locked {
                minutes: lock.remaining(now),
            });
        }
        Reservation::Counted(failures) => failures,
    };
    let mut lock_now = failures
        .last_at
        .map_or(Lock::Open, |last| policy.lock(failures.count, last));
    if let Some(by_address) = &counted.address {
        let address_lock = by_address
            .last_at
            .map_or(Lock::Open, |last| address_lock(by_address.count, last));
        if address_lock.blocks(now) && !lock_now.blocks(now) {
            lock_now = address_lock;
        }
    }
    if lock_now.blocks(now) {
        let released = state
            .table
            .release_login_attempt(subject, counted.at, failures.last_at)
            .await;
        if let Err(error) = released {
            // The answer stays a refusal; the attempt stays counted until the count expires.
            tracing::warn!(error = %error, "a refused login attempt could not be taken back");
        }
        return Ok(Gate::Locked {
            minutes: lock_now.remaining(now),
        });
    }
    Ok(Gate::Open {
        failures: failures.count,
    })
}

/// Counts a failure of an attempt reserved under `subject` with `failures_before` earlier ones
/// (the subject's count already holds it) and starts the lock it earns; the person is told by
/// email when it locks their login.
pub async fn record_failure(
    state: &AppState,
    subject: &str,
    policy: &LockPolicy,
    failures_before: u32,
    address: Option<&str>,
    account: Option<&Account>,
) -> Result<(), ApiError> {
    let now = state.now();
    let count = failures_before + 1;
    let by_address = async {
        match address {
            Some(address) => {
                state
                    .table
                    .record_login_failure(&address_subject(address, now), now)
                    .await
            }
            None => Ok(()),
        }
    };
    let (locked, by_address) = tokio::join!(
        // The stored lock is the baseline's, which every login of the name honours; a
        // stricter organisation's lock is judged from the count by `gate`, for the logins
        // that name it.
        state
            .table
            .lock_login(subject, LockPolicy::default().lock(count, now), count, now),
        by_address
    );
    locked?;
    by_address?;
    if let Some(account) = account
        && policy.locks_now(count)
    {
        let minutes = policy.lock(count, now).minutes_from(now);
        notices::tell(state, account, Notice::AccountLocked { minutes }).await;
        audit::of_account(state, account, "login.locked").await;
    }
    Ok(())
}

/// Checks a password or code given inside a session (re-authentication). Such checks count
/// towards a lockout of their own, so a stolen session cannot guess the password or codes freely.
pub async fn reauthenticate(
    state: &AppState,
    account: &Account,
    check: impl std::future::Future<Output = Result<bool, ApiError>>,
) -> Result<bool, ApiError> {
    let subject = reauth_subject(&account.id);
    counted_check(state, &subject, &LockPolicy::default(), account, check).await
}

/// Re-authentication by password: `Ok` when `password` (the request's `field`) is the account's
/// own, else 422 naming `field` (a wrong one counts towards the re-authentication lock).
pub async fn confirm_password(
    state: &AppState,
    account: &Account,
    field: &'static str,
    password: &str,
) -> Result<(), ApiError> {
    let hash = account.password_hash.clone();
    let right = reauthenticate(state, account, async {
        Ok(verify_blocking(password, hash.as_deref()).await? != PasswordCheck::Wrong)
    })
    .await?;
    right
        .then_some(())
        .ok_or_else(|| ApiError::field(field, "wrong_password", "is not your password"))
}

/// Checks the account's own password given with an invitation link. It counts under the
/// account's login email, with the organisation's `policy`, so that guesses through a link and
/// through the login form share one lock.
pub async fn check_own_password(
    state: &AppState,
    account: &Account,
    policy: &LockPolicy,
    password: &str,
) -> Result<bool, ApiError> {
    let email = account
        .email
        .as_ref()
        .ok_or_else(|| ApiError::Internal("an invitation to an account without email".into()))?;
    let subject = email_subject(email.normalised());
    let check = async {
        let checked = verify_blocking(password, account.password_hash.as_deref()).await?;
        Ok(checked != PasswordCheck::Wrong)
    };
    counted_check(state, &subject, policy, account, check).await
}

/// Runs `check` as an attempt under `subject`: refused (429) while `policy` locks it; a failure
/// is counted (and `account` told when it locks them out), a success clears the count.
pub async fn counted_check(
    state: &AppState,
    subject: &str,
    policy: &LockPolicy,
    account: &Account,
    check: impl std::future::Future<Output = Result<bool, ApiError>>,
) -> Result<bool, ApiError> {
    let counted = reserve_attempt(state, subject, None).await?;
    let failures = match gate(state, subject, policy, &counted).await? {
        Gate::Locked { minutes } => return Err(ApiError::LoginLocked { minutes }),
        Gate::Open { failures } => failures,
    };
    if check.await? {
        state.table.clear_login_failures(subject).await?;
        Ok(true)
    } else {
        record_failure(state, subject, policy, failures, None, Some(account)).await?;
        Ok(false)
    }
}

/// `POST /v1/auth/login`: `{email, password}` (optionally `organisation`) or
/// `{organisation, username, password}` -> 200 `{token, expires_at}`, or 200
/// `{mfa_required: true, challenge}`; wrong credentials 401; locked 429.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    operation_id = "login",
    tag = "auth",
    summary = "Log in with email or organisation and username",
    security(()),
    request_body = crate::openapi::LoginRequest,
    responses((status = 200, description = "A session, or the challenge of a second factor.", body = crate::openapi::LoginAnswer), (status = 401, description = "Wrong credentials (the same for an unknown person)"), (status = 403, description = "The organisation signs people in through its identity provider."), (status = 429, description = "Locked after failed attempts: `login_locked` with Retry-After saying how long, or `login_locked_until_unlocked` (no Retry-After) after 100."))
)]
pub async fn login(
    State(state): State<AppState>,
    parts: Parts,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let failure_answer_at = tokio::time::Instant::now() + FAILED_LOGIN_ANSWER_AFTER;
    let mut fields = Fields::new(&body, &["email", "organisation", "username", "password"]);
    let password = fields.string("password").unwrap_or_default();
    let organisation = fields.optional_string("organisation").and_then(|o| {
        fields.parse("organisation", || {
            OrganisationId::try_from(o).map_err(invalid_organisation)
        })
    });
    let who = if fields.has("email") {
        let email = fields
            .string("email")
            .and_then(|e| fields.parse("email", || Email::try_from(e)));
        email.map(|email| Login::Email {
            email,
            organisation: organisation.clone(),
        })
    } else if fields.has("username") {
        let username = fields
            .string("username")
            .and_then(|u| fields.parse("username", || Username::try_from(u)));
        match (organisation, username) {
            (Some(organisation), Some(username)) => Some(Login::Username {
                organisation,
                username,
            }),
            (None, _) => {
                fields
                    .errors
                    .push("organisation", "required", "is required with a username");
                None
            }
            _ => None,
        }
    } else {
        fields.errors.push(
            "email",
            "required",
            "give an email, or an organisation and a username",
        );
        None
    };
    fields.finish()?;
    let who =
        who.ok_or_else(|| ApiError::Internal("login fields validated but missing".to_owned()))?;
    let subject = who.subject();
    let address = source_address(&parts);
    // Before the hash only what it needs: for an email one read, known or not (the email's
    // sentinel carries the account's hash). A username takes up to three reads, so its attempt
    // is reserved beside them: that write evens out most of an unknown name's single read.
    let (credential, reserved) = match &who {
        Login::Email { email, .. } => (
            state.table.login_credential(email.normalised()).await?,
            None,
        ),
        Login::Username {
            organisation,
            username,
        } => {
            let (credential, counted) = tokio::join!(
                username_credential(&state, organisation, username),
                reserve_attempt(&state, &subject, address.as_deref())
            );
            (credential?, Some(counted?))
        }
    };
    // Everything else is read while the password is verified (the verification dominates).
    let hash = credential.as_ref().and_then(|c| c.password_hash.clone());
    let (check, gated, found) = tokio::join!(
        verify_blocking(password, hash.as_deref()),
        // The attempt is reserved and judged while the password is verified, so one the lock
        // refuses is taken back at once, not held through the hash.
        async {
            let (counted, named) = tokio::join!(
                async {
                    match reserved {
                        Some(counted) => Ok(counted),
                        None => reserve_attempt(&state, &subject, address.as_deref()).await,
                    }
                },
                named_organisation(&state, &who)
            );
            let (counted, named) = (counted?, named?);
            // The thresholds come from what the request names, never from what was found, so
            // known and unknown names lock alike.
            let policy = named.map(|o| o.settings.lockout).unwrap_or_default();
            Ok::<_, ApiError>((gate(&state, &subject, &policy, &counted).await?, policy))
        },
        async {
            let Some(credential) = &credential else {
                return Ok((None, None));
            };
            let Some(account) = state.table.account(&credential.account).await? else {
                return Ok((None, None));
            };
            let found = find_membership(&state, &account, &who).await?;
            Ok::<_, ApiError>((Some(account), found))
        }
    );
    let ((gate, policy), (account, found)) = (gated?, found?);
    let failures = match gate {
        Gate::Locked { minutes } => return Err(ApiError::LoginLocked { minutes }),
        Gate::Open { failures } => failures,
    };
    // The hash verified is the account's as of the sentinel's read; when the account read after
    // it holds another (a password changed in between), that one decides.
    let check = match &account {
        Some(account) if account.password_hash != hash => {
            verify_blocking(password, account.password_hash.as_deref()).await
        }
        _ => check,
    };
    let membership = found.as_ref().map(|(m, _)| m.clone());
    let organisation = found.map(|(_, o)| o);
    let (PasswordCheck::Right { rehash }, Some(account), Some(membership), Some(organisation)) =
        (check?, account.as_ref(), membership.clone(), organisation)
    else {
        // Every refusal counts alike, the person's own password included (else the count would
        // tell which guess was right); only a person this login could admit is told of a lock:
        // one deactivated or not yet confirmed is not (their count is cleared when they may
        // sign in again).
        let told = account.as_ref().filter(|_| membership.is_some());
        record_failure(
            &state,
            &subject,
            &policy,
            failures,
            address.as_deref(),
            told,
        )
        .await?;
        if let Some(m) = &membership {
            audit::of_person(&state, &m.organisation_id, m.id.as_str(), "login.failed").await;
        }
        tokio::time::sleep_until(failure_answer_at).await;
        return Err(ApiError::InvalidCredentials);
    };
    if rehash {
        upgrade_hash(&state, account, password).await;
    }
    match finish_login(
        &state,
        account,
        &membership,
        &organisation,
        &parts.headers,
        Some(&subject),
    )
    .await
    {
        // The password was right: its attempt is no failure even when no session follows (an
        // organisation that signs in through its identity provider only).
        Err(error) => {
            state.table.clear_login_failures(&subject).await?;
            Err(error)
        }
        answer => answer,
    }
}

/// The organisation a login names (organisation + username, or email + organisation), if any.
async fn named_organisation(
    state: &AppState,
    who: &Login,
) -> Result<Option<Organisation>, ApiError> {
    let named = match who {
        Login::Email { organisation, .. } => organisation.as_ref(),
        Login::Username { organisation, .. } => Some(organisation),
    };
    Ok(match named {
        Some(id) => state.table.organisation(id).await?,
        None => None,
    })
}

/// The account of an organisation's username and its password hash, if any (three reads).
async fn username_credential(
    state: &AppState,
    organisation: &OrganisationId,
    username: &Username,
) -> Result<Option<LoginCredential>, ApiError> {
    let Some(membership) = state
        .table
        .membership_by_username(organisation, username.normalised())
        .await?
    else {
        return Ok(None);
    };
    Ok(state
        .table
        .account(&membership.account_id)
        .await?
        .map(|account| LoginCredential {
            account: account.id,
            password_hash: account.password_hash,
        }))
}

/// The active membership (and its organisation) the login goes into: the named organisation's,
/// or the first active one whose organisation takes passwords (else the first active one, which
/// refuses the login); one `BatchGetItem`.
async fn find_membership(
    state: &AppState,
    account: &Account,
    who: &Login,
) -> Result<Option<(Membership, Organisation)>, ApiError> {
    let only = match who {
        Login::Email { organisation, .. } => organisation.as_ref(),
        Login::Username { organisation, .. } => Some(organisation),
    };
    // The first of those that take passwords (`false` sorts first), else the first.
    Ok(state
        .table
        .memberships_of(account, only)
        .await?
        .into_iter()
        .filter(|(m, _)| m.can_sign_in())
        .min_by_key(|(_, o)| !o.settings.login_methods.password))
}

/// The answer to a person whose password was right: an MFA challenge when they have 2FA, else a
/// session (restricted when they must change a PIN or the organisation requires 2FA first). The
/// attempt reserved under `reserved_attempt` is cleared with it.
pub async fn finish_login(
    state: &AppState,
    account: &Account,
    membership: &Membership,
    organisation: &Organisation,
    headers: &HeaderMap,
    reserved_attempt: Option<&str>,
) -> Result<Response, ApiError> {
    crate::passwords::require_password_login(&organisation.settings)?;
    if account.totp.is_some() {
        // A session answer records it itself.
        roster_bootstrap::record_organisation(&organisation.id);
        let challenge = new_secret();
        let stored = MfaChallenge {
            account_id: account.id.clone(),
            organisation_id: membership.organisation_id.clone(),
            user_id: membership.id.clone(),
            expires_at: state.now() + CHALLENGE_LIFETIME,
            session_epoch: account.session_epoch,
        };
        let cleared = async {
            match reserved_attempt {
                Some(subject) => state.table.clear_login_failures(subject).await,
                None => Ok(()),
            }
        };
        let challenge_hash = secret_hash(&challenge);
        let (created, cleared) =
            tokio::join!(state.table.create_token(&challenge_hash, &stored), cleared);
        created?;
        cleared?;
        return Ok(Json(json!({ "mfa_required": true, "challenge": challenge })).into_response());
    }
    // An organisation requiring 2FA limits this session to enrolment (see `caller`).
    let restriction = account
        .must_change_password
        .then_some(Restriction::PasswordChange);
    session_answer(
        state,
        account,
        membership,
        organisation,
        headers,
        restriction,
        false,
        reserved_attempt,
    )
    .await
}

/// A hash with old parameters becomes one with today's; a concurrent change wins.
async fn upgrade_hash(state: &AppState, account: &Account, password: &str) {
    let password = password.to_owned();
    let Ok(upgraded) = tokio::task::spawn_blocking(move || hash_password(&password)).await else {
        return;
    };
    if let Err(error) = state.table.set_password_hash(account, &upgraded).await {
        tracing::warn!(%error, "password hash upgrade skipped");
    }
}

/// 200 `{token, expires_at}` of a new session, written with its audit entry and the clearing of
/// the attempt reserved under `reserved_attempt` (one request).
#[allow(clippy::too_many_arguments)]
pub async fn session_answer(
    state: &AppState,
    account: &Account,
    membership: &Membership,
    organisation: &Organisation,
    headers: &HeaderMap,
    restriction: Option<Restriction>,
    mfa: bool,
    reserved_attempt: Option<&str>,
) -> Result<Response, ApiError> {
    roster_bootstrap::record_organisation(&organisation.id);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(200).collect());
    let now = state.now();
    let token = new_secret();
    let session = Session {
        id: SessionId::generate(),
        account_id: account.id.clone(),
        organisation_id: membership.organisation_id.clone(),
        user_id: membership.id.clone(),
        created_at: now,
        last_used_at: now,
        user_agent,
        restriction,
        mfa,
        epoch: account.session_epoch,
        membership_epoch: membership.session_epoch,
    };
    let entry = audit::entry(
        state,
        roster_domain::audit::Actor::User(membership.id.to_string()),
        "login.succeeded",
        Some(membership.id.as_str()),
        vec![],
    );
    state
        .table
        .start_session(
            &secret_hash(&token),
            &session,
            &entry,
            organisation.settings.audit_retention_days,
            reserved_attempt,
        )
        .await?;
    let expires_at = Lifetime::starting(now).expires_at();
    Ok(Json(json!({ "token": token, "expires_at": expires_at })).into_response())
}

fn invalid_organisation(
    _: roster_domain::ids::InvalidId,
) -> roster_domain::validation::FieldProblem {
    roster_domain::validation::FieldProblem::new("invalid_id", "is not an organisation id")
}

/// `POST /v1/auth/logout`: ends the calling session.
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    operation_id = "logout",
    tag = "auth",
    summary = "End the calling session",
    security(("session" = [])),
    responses((status = 204, description = "The session ended."))
)]
pub async fn logout(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<StatusCode, ApiError> {
    state.table.delete_session(&caller.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}
