//! Telling a person what happened to their account, by email in their language. Sending is best
//! effort: the change it reports has already happened (failures are logged by the mailer).

use roster_domain::preferences::Language;
use roster_notify::templates::Notice;
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

/// Tells the login email that `change` moves it (to the membership's email, if the account had
/// none), so that a login cannot move quietly: a hijacked session, or an administrator's mistake.
/// A change of letter case only is not worth a notice.
pub async fn tell_old_address(
    state: &AppState,
    before: &roster_domain::membership::Membership,
    change: &roster_store::EmailChange,
) {
    let Some(old) = change
        .account
        .email
        .as_ref()
        .or(before.profile.email.as_ref())
    else {
        return;
    };
    if old.normalised() == change.email.normalised() {
        return;
    }
    let notice = Notice::EmailChanged {
        new_email: change.email.display().to_owned(),
    };
    let language = before.preferences.language;
    state
        .mailer
        .notify(old.display(), language, &before.profile.first_name, &notice)
        .await;
}

/// Tells the person behind `account` outside any session.
pub async fn tell(state: &AppState, account: &Account, notice: Notice) -> Result<(), ApiError> {
    if let Some(email) = &account.email {
        let (language, first_name) = addressee(state, account).await?;
        state
            .mailer
            .notify(email.display(), language, &first_name, &notice)
            .await;
    }
    Ok(())
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
