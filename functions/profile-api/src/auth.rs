//! Login and logout. Login answers the same for an unknown person and a wrong password, and takes
//! as long (one argon2id verification either way).

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
};
use roster_domain::{
    credentials::{PasswordCheck, verify_against_nothing, verify_password},
    ids::{OrganisationId, SessionId},
    membership::{Membership, Username},
    profile::Email,
    session::{Lifetime, new_secret, secret_hash},
};
use roster_store::{Account, Session};
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    caller::Authenticated,
    extract::{Fields, JsonObject},
};

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

/// `POST /v1/auth/login`: `{email, password}` (optionally `organisation`) or
/// `{organisation, username, password}` -> 200 `{token, expires_at}`; wrong credentials 401.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
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

    let (account, membership) = match who {
        Login::Email {
            email,
            organisation,
        } => {
            let account = state.table.account_by_email(email.normalised()).await?;
            let membership = match &account {
                Some(account) => active_membership(&state, account, organisation.as_ref()).await?,
                None => None,
            };
            (account, membership)
        }
        Login::Username {
            organisation,
            username,
        } => {
            let membership = state
                .table
                .membership_by_username(&organisation, username.normalised())
                .await?;
            let account = match &membership {
                Some(membership) => state.table.account(&membership.account_id).await?,
                None => None,
            };
            (account, membership.filter(Membership::is_active))
        }
    };

    let Some((account, membership, hash)) = account.and_then(|account| {
        let hash = account.password_hash.clone()?;
        Some((account, membership?, hash))
    }) else {
        verify_against_nothing(password);
        return Err(ApiError::InvalidCredentials);
    };
    match verify_password(password, &hash) {
        PasswordCheck::Wrong => Err(ApiError::InvalidCredentials),
        PasswordCheck::Right { rehash } => {
            if rehash {
                let upgraded = roster_domain::credentials::hash_password(password);
                // A concurrent change of the account wins; the upgrade waits for the next login.
                if let Err(error) = state.table.set_password_hash(&account, &upgraded).await {
                    tracing::warn!(%error, "password hash upgrade skipped");
                }
            }
            let user_agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(200).collect());
            let (token, expires_at) =
                start_session(&state, &account, &membership, user_agent).await?;
            Ok(Json(json!({ "token": token, "expires_at": expires_at })))
        }
    }
}

fn invalid_organisation(
    _: roster_domain::ids::InvalidId,
) -> roster_domain::validation::FieldProblem {
    roster_domain::validation::FieldProblem::new("invalid_id", "is not an organisation id")
}

/// The membership to log into: the requested organisation's, or the first active one.
async fn active_membership(
    state: &AppState,
    account: &Account,
    requested: Option<&OrganisationId>,
) -> Result<Option<Membership>, ApiError> {
    for (organisation, user) in &account.memberships {
        if requested.is_some_and(|r| r != organisation) {
            continue;
        }
        if let Some(membership) = state.table.membership(organisation, user).await?
            && membership.is_active()
        {
            return Ok(Some(membership));
        }
    }
    Ok(None)
}

/// A new session for `membership`: the token (shown once) and when it expires if unused.
pub async fn start_session(
    state: &AppState,
    account: &Account,
    membership: &Membership,
    user_agent: Option<String>,
) -> Result<(String, chrono::DateTime<chrono::Utc>), ApiError> {
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
    };
    state
        .table
        .create_session(&secret_hash(&token), &session)
        .await?;
    Ok((token, Lifetime::starting(now).expires_at()))
}

/// `POST /v1/auth/logout`: ends the calling session.
pub async fn logout(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<StatusCode, ApiError> {
    state.table.delete_session(&caller.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}
