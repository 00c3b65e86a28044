//! A person moving their login to a new address: the move waits until the address shows it
//! receives mail, by the link sent there. So a session (a stolen one) cannot take an address the
//! person does not read, nobody can take a colleague's address before their account exists, and
//! the answer is the same whether another account has the address (the link then meets 409).

use axum::{extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use roster_domain::{
    membership::Membership,
    profile::{Attribute, Email, Owner, ProfilePatch},
    reset::RESET_EMAILS_PER_HOUR,
    session::{new_secret, secret_hash},
};
use roster_notify::templates::{EMAIL_CONFIRMATION_LIFETIME, Notice};
use roster_store::{Account, EmailChange, EmailChangeToken, StoreError};

use crate::{
    ApiError, AppState, audit,
    extract::{Fields, JsonObject},
    notices,
    passwords::invalid_link,
};

/// The person's other organisations whose copy of their email SCIM still owns though they no
/// longer take it (`ScimAttributes::release` hands it back only in memory), so the move carries
/// it. Refuses, as the move's write would, when another organisation's identity provider or file
/// keeps its copy. One `BatchGetItem`, and only for someone in several organisations.
pub async fn released_copies(
    state: &AppState,
    account: &Account,
    changed: &Membership,
) -> Result<Vec<roster_domain::ids::OrganisationId>, ApiError> {
    if !account.is_shared() {
        return Ok(vec![]);
    }
    let mut released = vec![];
    for (m, o) in state.table.memberships_of(account, None).await? {
        if m.organisation_id == changed.organisation_id {
            continue;
        }
        match m.profile.managed_by.owner(Attribute::Email) {
            Owner::SelfService | Owner::Admin => {}
            Owner::Scim if !o.settings.scim_attributes.takes(Attribute::Email) => {
                released.push(m.organisation_id);
            }
            _ => return Err(StoreError::EmailManagedElsewhere.into()),
        }
    }
    Ok(released)
}

/// A place in an account's hourly count of email-change links, taken before anything else is
/// written so that a request beyond the count writes nothing.
pub struct LinkSlot {
    account: Account,
    taken_at: DateTime<Utc>,
}

impl LinkSlot {
    /// Takes a place for a link from `account`: at most [`RESET_EMAILS_PER_HOUR`] an hour, so
    /// nobody floods an address they name (422 `too_many_emails` beyond).
    pub async fn take(state: &AppState, account: &Account) -> Result<Self, ApiError> {
        let taken_at = state.now();
        if state
            .table
            .count_email_change_email(&account.id, taken_at)
            .await?
        {
            Ok(Self {
                account: account.clone(),
                taken_at,
            })
        } else {
            Err(ApiError::field(
                "email",
                "too_many_emails",
                format!(
                    "{RESET_EMAILS_PER_HOUR} confirmation links went out this hour; the newest one works for 24 hours"
                ),
            ))
        }
    }

    /// Gives the place back: no link was sent.
    pub async fn give_back(self, state: &AppState) {
        if let Err(error) = state
            .table
            .uncount_email_change_email(&self.account.id, self.taken_at)
            .await
        {
            tracing::warn!(%error, "an unsent confirmation link still counts");
        }
    }

    /// Emails `new` the link that moves the account's login there, addressed as `member` knows
    /// the person; it becomes the account's one working link. A link that surely was not sent
    /// gives its place back.
    pub async fn send(
        self,
        state: &AppState,
        member: &Membership,
        new: &Email,
    ) -> Result<(), ApiError> {
        let token = new_secret();
        let pending = EmailChangeToken {
            account_id: self.account.id.clone(),
            organisation_id: member.organisation_id.clone(),
            user_id: member.id.clone(),
            email: new.clone(),
            expires_at: self.taken_at + EMAIL_CONFIRMATION_LIFETIME,
            epoch: self.account.credential_epoch,
        };
        let sent = async {
            state
                .table
                .issue_email_change(&secret_hash(&token), &pending)
                .await?;
            let link = format!(
                "{}/confirm-email?token={token}",
                state.config.app_url.trim_end_matches('/')
            );
            state
                .mailer
                .deliver(
                    new.display(),
                    member.preferences.language,
                    &member.profile.first_name,
                    &Notice::EmailConfirmation { link },
                )
                .await
                .map_err(|error| notices::unsent(error, "email"))
        }
        .await;
        if let Err(error) = &sent
            && notices::surely_unsent(error)
        {
            self.give_back(state).await;
        }
        sent
    }
}

/// `POST /v1/auth/email-change/confirm` `{token}`: moves the login to the address the link was
/// sent to, tells the old address, and marks the new one verified. Only the account's newest
/// link works, once, and not after the password or the login changed since it was sent.
#[utoipa::path(
    post,
    path = "/v1/auth/email-change/confirm",
    operation_id = "confirm_email_change",
    tag = "auth",
    summary = "Move the login to a new address with the link sent there",
    security(()),
    request_body = crate::openapi::TokenRequest,
    responses((status = 204, description = "The login is the new address."), (status = 409, description = "Another account signs in with that address: `taken`."), (status = 412, description = "The person's profile changed meanwhile; nothing was written (`stale_version`): send it again (a link voided meanwhile then answers `invalid_token`)."), (status = 422, description = "The link is invalid, used, expired, not the newest, or void since a password change (`invalid_token`), or an identity provider keeps the person's email (`read_only`, `managed_elsewhere`)."))
)]
pub async fn confirm(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<StatusCode, ApiError> {
    let mut fields = Fields::new(&body, &["token"]);
    let token = fields.string("token");
    fields.finish()?;
    let hash = secret_hash(token.unwrap_or_default());
    let invalid = || invalid_link("the link is invalid, used or expired");
    let pending = state
        .table
        .token::<EmailChangeToken>(&hash, state.now())
        .await?
        .ok_or_else(invalid)?;
    let (account, membership, organisation) = tokio::try_join!(
        state.table.account(&pending.account_id),
        state
            .table
            .membership(&pending.organisation_id, &pending.user_id),
        state.table.organisation(&pending.organisation_id),
    )?;
    let account = account
        .filter(|account| account.credential_epoch == pending.epoch)
        .ok_or_else(invalid)?;
    // Not into a membership that was deactivated (or replaced) since: its person cannot act there.
    let mut before = membership
        .filter(|m| m.is_active() && m.account_id == account.id)
        .ok_or_else(invalid)?;
    let organisation = organisation.ok_or_else(invalid)?;
    // As its organisation treats it now (see `ScimAttributes::release`), as the PATCH that sent
    // the link did. The owner may still have changed since (an identity provider took the email).
    organisation
        .settings
        .scim_attributes
        .release_in(&mut before.profile);
    let moved = ProfilePatch {
        email: Some(pending.email.clone()),
        ..ProfilePatch::default()
    };
    let (profile, _) = moved.apply(&before.profile, Owner::SelfService)?;
    let after = Membership {
        profile,
        version: before.version + 1,
        ..before.clone()
    }
    .withdrawing_invitation_if_email_moved(&before);
    let change = EmailChange {
        released_in: released_copies(&state, &account, &before).await?,
        account,
        email: pending.email,
        verified: true,
    };
    match state
        .table
        .change_email_using(&before, &after, &change, &hash)
        .await
    {
        Err(StoreError::NotFound) => return Err(invalid()),
        moved => moved?,
    }
    notices::tell_old_address(&state, &before, &change).await;
    audit::of_person_changing(
        &state,
        &before.organisation_id,
        before.id.as_str(),
        "user.email_changed",
        vec!["email".to_owned()],
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
