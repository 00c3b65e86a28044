//! Telling a person what happened to their account, by email in their language. A notice is
//! sent best effort: the change it reports has already happened (failures are logged by the
//! mailer). A link only the email carries (`send_link`) is not: its failure is the caller's.

use roster_domain::preferences::Language;
use roster_notify::{NotifyError, templates::Notice};
use roster_store::{Account, Caller};

use crate::{ApiError, AppState};

/// Tells the caller, addressed as their current membership knows them.
pub async fn tell_caller(state: &AppState, caller: &Caller, account: &Account, notice: Notice) {
    if let Some(email) = &account.email {
        let m = &caller.membership;
        state
            .mailer
            .notify(
                email.display(),
                m.preferences.language,
                &m.profile.first_name,
                &notice,
            )
            .await;
    }
}

/// Tells the login email that `change` moves it (see `EmailChange::moved_from`).
pub async fn tell_old_address(
    state: &AppState,
    before: &roster_domain::membership::Membership,
    change: &roster_store::EmailChange,
) {
    if let Some(old) = change.moved_from(before) {
        state
            .mailer
            .tell_login_moved(before, old, &change.email)
            .await;
    }
}

/// Tells the person behind `account` outside any session. What it reports has happened, so
/// nothing here fails the request (a retry would find nothing left to do, and tell nobody): a
/// membership that cannot be read is logged, and the notice goes out in English without a name.
pub async fn tell(state: &AppState, account: &Account, notice: Notice) {
    if let Some(email) = &account.email {
        let (language, first_name) = addressee(state, account).await.unwrap_or_else(|error| {
            tracing::warn!(error = ?error, "a notice goes out without the person's language");
            (Language::En, String::new())
        });
        state
            .mailer
            .notify(email.display(), language, &first_name, &notice)
            .await;
    }
}

/// Sends the person behind `account` a link only this email carries: a failure to send is the
/// caller's (see [`unsent`]), not just logged.
pub async fn send_link(
    state: &AppState,
    account: &Account,
    notice: Notice,
) -> Result<(), ApiError> {
    if let Some(email) = &account.email {
        let (language, first_name) = addressee(state, account).await?;
        state
            .mailer
            .deliver(email.display(), language, &first_name, &notice)
            .await
            .map_err(|error| unsent(error, "id"))?;
    }
    Ok(())
}

/// The answer to an email carrying a link that was not sent: 503 `email_not_sent` to try again
/// when SES did not answer, 422 `email_rejected` when it refuses this message for good (a
/// suppressed address, a paused account), which trying again does not change, named on `field`
/// (what names the addressee).
pub fn unsent(error: NotifyError, field: &str) -> ApiError {
    match error {
        NotifyError::SesUnavailable(reason) => ApiError::EmailNotSent {
            reason,
            maybe_sent: false,
        },
        NotifyError::SesUnanswered(reason) => ApiError::EmailNotSent {
            reason,
            maybe_sent: true,
        },
        NotifyError::Ses(reason) => {
            tracing::warn!(%reason, "SES refused an email with a link");
            ApiError::field(
                field,
                "email_rejected",
                "the email service refuses this email (the address, or the sending account): \
                 check the address, or ask the operator",
            )
        }
        NotifyError::Mime(reason) => ApiError::Internal(reason),
    }
}

/// Whether a link email that failed with `error` surely never reached the person, so it takes no
/// place in their hourly quota (one SES may have taken, its answer lost, keeps its place).
pub fn surely_unsent(error: &ApiError) -> bool {
    !matches!(
        error,
        ApiError::EmailNotSent {
            maybe_sent: true,
            ..
        }
    )
}

/// How to address a person outside any session: the language and first name of their first
/// membership.
pub async fn addressee(
    state: &AppState,
    account: &Account,
) -> Result<(Language, String), ApiError> {
    for (organisation, user) in &account.memberships {
        if let Some(m) = state.table.membership(organisation, user).await? {
            return Ok((m.preferences.language, m.profile.first_name));
        }
    }
    Ok((Language::En, String::new()))
}
