//! Items of the credential flows: failed-login counters, MFA login challenges, password-reset
//! tokens and the counts of reset emails. Counters are updated with atomic `ADD`; challenges and
//! tokens are consumed by one conditional delete, so each works once.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use roster_domain::{
    ids::{AccountId, OrganisationId, UserId},
    lockout,
    profile::Email,
    reset,
    session::secret_hash,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    Account, DynamoTable, StoreError, keys,
    record::{Record, body, key_item, n, s},
};

/// Consecutive failed logins of one login name (or source address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub last_at: Option<DateTime<Utc>>,
}

/// What reserving a login attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt is counted; these are the failures before it.
    Counted(Failures),
    /// A lock a failure set is on: the attempt was refused, and not counted.
    Locked(lockout::Lock),
}

/// A password login waiting for its second factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaChallenge {
    pub account_id: AccountId,
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    /// The account's `session_epoch` when the password was checked: a challenge from before the
    /// sessions were ended (a password change or reset) cannot start one after.
    #[serde(default)]
    pub session_epoch: u64,
}

/// A password-reset link's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetToken {
    pub account_id: AccountId,
    pub expires_at: DateTime<Utc>,
    /// The account's credential epoch when the link was sent.
    #[serde(default)]
    pub epoch: u64,
}

/// An invitation link's token (48 hours); only the membership's current one works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
}

/// A link that moves a person's login to `email` once that address shows it receives mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChangeToken {
    pub account_id: AccountId,
    /// The membership the person asked from: the one whose profile takes the address first.
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub email: Email,
    pub expires_at: DateTime<Utc>,
    /// The account's credential epoch when the link was sent: a password change or reset, or
    /// another move of the login, voids it.
    pub epoch: u64,
}

/// A token that works once until it expires: MFA challenges, reset links, invitations,
/// email-change links.
pub trait SingleUse: Serialize + DeserializeOwned {
    fn key(token_hash: &str) -> keys::Key;
    fn expires_at(&self) -> DateTime<Utc>;
}

impl SingleUse for MfaChallenge {
    fn key(token_hash: &str) -> keys::Key {
        keys::mfa_challenge(token_hash)
    }
    fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

impl SingleUse for ResetToken {
    fn key(token_hash: &str) -> keys::Key {
        keys::reset_token(token_hash)
    }
    fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

impl SingleUse for EmailChangeToken {
    fn key(token_hash: &str) -> keys::Key {
        keys::email_change_token(token_hash)
    }
    fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

impl SingleUse for Invitation {
    fn key(token_hash: &str) -> keys::Key {
        keys::invitation(token_hash)
    }
    fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

/// Failure counters are forgotten a day after the last failure.
const FAILURES_KEPT_SECONDS: i64 = 86_400;
/// The expiry of a count kept for good (9999-12-31): far beyond any `now`.
const KEPT_FOR_GOOD: i64 = 253_402_300_799;

/// One try of the whole operation's time, for writes a retry could apply twice.
fn single_attempt() -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::default()
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(std::time::Duration::from_secs(5))
                .build(),
        )
}

#[derive(Serialize, Deserialize)]
struct FailureItem {
    failures: u32,
    last_failure_at: DateTime<Utc>,
}

/// Where the failures of `subject` (a login name or address) are counted: under its SHA-256,
/// never in clear.
pub(crate) fn login_failures_key(subject: &str) -> keys::Key {
    keys::login_failures(&secret_hash(subject))
}

/// A stored failure count and whether it has expired (TTL deletion is lazy, so every read checks).
fn stored_failures(
    item: HashMap<String, AttributeValue>,
    now: DateTime<Utc>,
) -> Result<Option<(FailureItem, bool)>, StoreError> {
    if item.is_empty() {
        return Ok(None);
    }
    let expired = item
        .get("ttl")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .is_some_and(|ttl| ttl <= now.timestamp());
    Ok(Some((body(item)?, expired)))
}

/// The lock a stored count holds at `now`, if one is on (a count kept for good is locked until
/// an unlock or a reset).
fn lock_on(item: &HashMap<String, AttributeValue>, now: DateTime<Utc>) -> Option<lockout::Lock> {
    let until = item.get("locked_until")?.as_n().ok()?.parse::<i64>().ok()?;
    if until <= now.timestamp() {
        None
    } else if until >= KEPT_FOR_GOOD {
        Some(lockout::Lock::Indefinite)
    } else {
        DateTime::from_timestamp(until, 0).map(lockout::Lock::Until)
    }
}

fn live(stored: Option<(FailureItem, bool)>) -> Failures {
    match stored {
        Some((item, false)) => Failures {
            count: item.failures,
            last_at: Some(item.last_failure_at),
        },
        _ => Failures {
            count: 0,
            last_at: None,
        },
    }
}

impl DynamoTable {
    /// The failures recorded under `subject` (a login name or address; stored hashed) at `now`.
    pub async fn login_failures(
        &self,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<Failures, StoreError> {
        let item = self.get(&login_failures_key(subject), true).await?;
        Ok(live(stored_failures(item.unwrap_or_default(), now)?))
    }

    /// Takes back an attempt reserved at `reserved_at` that was refused before it was tried (one
    /// of a burst while an earlier attempt is being decided, or one a stricter lock refuses): a
    /// refused attempt is no failure. The time of the failure before it (`previous`, none when
    /// the reservation started the count) is put back while no later attempt moved it; else
    /// only the count is taken back (two refusals taken back at once may so leave the later's
    /// time: a wait only ever ends later for it). Not retried by the SDK: a retry of a write
    /// that did land would take back two.
    pub async fn release_login_attempt(
        &self,
        subject: &str,
        reserved_at: DateTime<Utc>,
        previous: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let key = login_failures_key(subject);
        let mine = s(reserved_at.to_rfc3339());
        let restored = match previous {
            Some(previous) => crate::conditional(
                self.client
                    .update_item()
                    .table_name(&self.name)
                    .set_key(Some(key_item(&key)))
                    .update_expression("SET last_failure_at = :previous ADD failures :minus_one")
                    .condition_expression("failures > :zero AND last_failure_at = :mine")
                    .expression_attribute_values(":previous", s(previous.to_rfc3339()))
                    .expression_attribute_values(":minus_one", n(-1))
                    .expression_attribute_values(":zero", n(0))
                    .expression_attribute_values(":mine", mine)
                    .customize()
                    .config_override(single_attempt())
                    .send()
                    .await,
            )?
            .is_some(),
            None => crate::conditional(
                self.client
                    .delete_item()
                    .table_name(&self.name)
                    .set_key(Some(key_item(&key)))
                    .condition_expression("failures = :one AND last_failure_at = :mine")
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":mine", mine)
                    .customize()
                    .config_override(single_attempt())
                    .send()
                    .await,
            )?
            .is_some(),
        };
        if restored {
            return Ok(());
        }
        let released = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_item(&key)))
            .update_expression("ADD failures :minus_one")
            .condition_expression("failures > :zero")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":zero", n(0))
            .customize()
            .config_override(single_attempt())
            .send()
            .await;
        crate::conditional(released).map(|_| ())
    }

    /// Starts `lock` after the failure of `subject` at `now` that made its count `count`, unless
    /// a later lock is already on or the count was cleared meanwhile (an unlock, a reset or a
    /// success; a count started again since is lower). An indefinite lock keeps the count for
    /// good (its expiry set to [`KEPT_FOR_GOOD`], which every later `ADD` carries over): only an
    /// unlock or a reset ends it.
    pub async fn lock_login(
        &self,
        subject: &str,
        lock: lockout::Lock,
        count: u32,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (until, expression) = match lock {
            lockout::Lock::Open => return Ok(()),
            // Whole seconds, rounded up: the lock never ends before its wait.
            lockout::Lock::Until(until) => (
                until.timestamp() + i64::from(until.timestamp_subsec_nanos() > 0),
                "SET locked_until = :until, last_failure_at = :now",
            ),
            lockout::Lock::Indefinite => (
                KEPT_FOR_GOOD,
                "SET locked_until = :until, last_failure_at = :now, kept_until = :until, \
                 #ttl = :until",
            ),
        };
        let key = login_failures_key(subject);
        let mut update = self
            .client
            .update_item()
            .table_name(&self.name)
            .key("pk", s(key.pk))
            .key("sk", s(key.sk))
            .update_expression(expression)
            .condition_expression(
                "failures >= :count AND (attribute_not_exists(locked_until) \
                 OR locked_until < :until)",
            )
            .expression_attribute_values(":count", n(count))
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":now", s(now.to_rfc3339()));
        if lock == lockout::Lock::Indefinite {
            update = update.expression_attribute_names("#ttl", "ttl");
        }
        crate::conditional(update.send().await).map(|_| ())
    }

    /// Adds one failure of a source address atomically (its count always expires).
    pub async fn record_login_failure(
        &self,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.reserve_login_attempt(subject, now).await.map(|_| ())
    }

    /// Counts this attempt of a person's login before it is decided (one atomic `ADD`), and
    /// answers the failures before it: concurrent attempts each see a different count, so a
    /// burst cannot slip past a lock. While a lock that [`Self::lock_login`] set is on, the
    /// attempt is refused without being counted, so retries during a wait neither lengthen it
    /// nor bring the hard lock closer. A successful attempt clears the count; a count lives a
    /// day after its last failure (unless kept for good).
    ///
    /// The `ADD` only lands on a live, unlocked count (or none); an expired one is started again
    /// at one by a `SET` that only lands while it is still expired, so concurrent attempts never
    /// add to a stale count nor lose one another's. Neither write is retried by the SDK: a
    /// retry of a write that did land would count twice.
    pub async fn reserve_login_attempt(
        &self,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        let key = login_failures_key(subject);
        let update = || {
            self.client
                .update_item()
                .table_name(&self.name)
                .set_key(Some(key_item(&key)))
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":now", s(now.to_rfc3339()))
                .expression_attribute_values(":nowts", n(now.timestamp()))
                .expression_attribute_values(":ttl", n(now.timestamp() + FAILURES_KEPT_SECONDS))
                .expression_attribute_values(":one", n(1))
        };
        for _ in 0..3 {
            let added = update()
                .update_expression(
                    "ADD failures :one SET last_failure_at = :now, \
                     #ttl = if_not_exists(kept_until, :ttl)",
                )
                .condition_expression(
                    "(attribute_not_exists(pk) OR #ttl > :nowts) \
                     AND (attribute_not_exists(locked_until) OR locked_until <= :nowts)",
                )
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
                .customize()
                .config_override(single_attempt())
                .send()
                .await;
            if let Some(output) = crate::conditional(added)? {
                let before = output.attributes.unwrap_or_default();
                return Ok(Reservation::Counted(live(stored_failures(before, now)?)));
            }
            let stored = self.get(&key, true).await?.unwrap_or_default();
            if let Some(lock) = lock_on(&stored, now) {
                return Ok(Reservation::Locked(lock));
            }
            // The count had expired: start it again at this attempt, unless another did first.
            let restarted = update()
                .update_expression(
                    "SET failures = :one, last_failure_at = :now, #ttl = :ttl \
                     REMOVE locked_until",
                )
                .condition_expression("#ttl <= :nowts")
                .customize()
                .config_override(single_attempt())
                .send()
                .await;
            if crate::conditional(restarted)?.is_some() {
                return Ok(Reservation::Counted(live(None)));
            }
        }
        Err(StoreError::Unavailable(
            "the failure count kept changing under this attempt".into(),
        ))
    }

    pub async fn clear_login_failures(&self, subject: &str) -> Result<(), StoreError> {
        self.delete(&login_failures_key(subject)).await
    }

    /// Clears every failure count of the person's logins (each login name, the second step,
    /// re-authentication and enrolment): after an unlock, a new password or PIN, or when they
    /// may sign in again. One read for each of their memberships (its username), one delete for
    /// each count.
    pub async fn clear_lockout(&self, account: &Account) -> Result<(), StoreError> {
        let mut subjects = vec![
            lockout::mfa_subject(&account.id),
            lockout::reauth_subject(&account.id),
            lockout::enrolment_subject(&account.id),
        ];
        if let Some(email) = &account.email {
            subjects.push(lockout::email_subject(email.normalised()));
        }
        for (organisation, user) in &account.memberships {
            if let Some(username) = self
                .membership(organisation, user)
                .await?
                .and_then(|m| m.username)
            {
                subjects.push(lockout::username_subject(
                    organisation,
                    username.normalised(),
                ));
            }
        }
        for subject in subjects {
            self.clear_login_failures(&subject).await?;
        }
        Ok(())
    }

    /// Counts one reset email to `account` against its quota in the clock hour of `now`;
    /// `false`, counting nothing, when [`reset::RESET_EMAILS_PER_HOUR`] were already counted.
    pub async fn count_reset_email(
        &self,
        account: &AccountId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let window = reset::reset_email_window(now);
        let counter = keys::reset_emails(account, &window);
        self.count_email(counter, reset::RESET_EMAILS_PER_HOUR, now)
            .await
    }

    /// Gives back the slot `count_reset_email` took at `now` for a reset email that was never
    /// sent.
    pub async fn uncount_reset_email(
        &self,
        account: &AccountId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let window = reset::reset_email_window(now);
        self.uncount_email(keys::reset_emails(account, &window))
            .await
    }

    /// Counts one link `account` sends to a new login address against its quota in the clock
    /// hour of `now`; `false`, counting nothing, when [`reset::RESET_EMAILS_PER_HOUR`] were
    /// already counted.
    pub async fn count_email_change_email(
        &self,
        account: &AccountId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let window = reset::reset_email_window(now);
        let counter = keys::email_change_emails(account, &window);
        self.count_email(counter, reset::RESET_EMAILS_PER_HOUR, now)
            .await
    }

    /// Gives back the slot `count_email_change_email` took at `now` for a link never sent.
    pub async fn uncount_email_change_email(
        &self,
        account: &AccountId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let window = reset::reset_email_window(now);
        self.uncount_email(keys::email_change_emails(account, &window))
            .await
    }

    /// Counts one invitation email to `user` of `organisation` against their quota in the
    /// clock hour of `now`; `false`, counting nothing, when
    /// [`reset::INVITATION_EMAILS_PER_HOUR`] were already counted.
    pub async fn count_invitation_email(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let window = reset::reset_email_window(now);
        let counter = keys::invitation_emails(organisation, user, &window);
        self.count_email(counter, reset::INVITATION_EMAILS_PER_HOUR, now)
            .await
    }

    /// Gives back the slot `count_invitation_email` took at `now` for an invitation that was
    /// never sent.
    pub async fn uncount_invitation_email(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let window = reset::reset_email_window(now);
        self.uncount_email(keys::invitation_emails(organisation, user, &window))
            .await
    }

    /// Counts one email on the hourly counter at `key` (one conditional `ADD`, so concurrent
    /// requests never exceed `quota`); `false`, counting nothing, when `quota` were already
    /// counted. Not retried by the SDK: a retry of an `ADD` that landed would count twice.
    async fn count_email(
        &self,
        key: keys::Key,
        quota: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let counted = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_item(&key)))
            .update_expression("ADD sent :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(sent) OR sent < :quota")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":quota", n(quota))
            .expression_attribute_values(":ttl", n((now + Duration::hours(2)).timestamp()))
            .customize()
            .config_override(single_attempt())
            .send()
            .await;
        Ok(crate::conditional(counted)?.is_some())
    }

    /// Takes back one email `count_email` counted at `key`.
    async fn uncount_email(&self, key: keys::Key) -> Result<(), StoreError> {
        let given_back = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_item(&key)))
            .update_expression("ADD sent :minus_one")
            .condition_expression("sent > :none")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":none", n(0))
            .customize()
            .config_override(single_attempt())
            .send()
            .await;
        crate::conditional(given_back).map(|_| ())
    }

    /// Stores a single-use token (its SHA-256 is the key) until it expires.
    pub async fn create_token<T: SingleUse>(
        &self,
        token_hash: &str,
        token: &T,
    ) -> Result<(), StoreError> {
        self.put_expiring(T::key(token_hash), token, token.expires_at())
            .await
    }

    /// Stores the email-change link `token_hash` and makes it the account's one working link
    /// (an earlier one, to an address mistyped say, stops working), in one transaction.
    pub async fn issue_email_change(
        &self,
        token_hash: &str,
        pending: &EmailChangeToken,
    ) -> Result<(), StoreError> {
        let mut token = Record::new(EmailChangeToken::key(token_hash), pending);
        token.ttl = Some(pending.expires_at.timestamp());
        let mut newest = Record::new(
            keys::email_change_pending(&pending.account_id),
            crate::record::Sentinel {
                owner: token_hash.to_owned(),
            },
        );
        newest.ttl = token.ttl;
        let mut tx = crate::transaction::Transaction::default();
        tx.put(self, token.item(), None);
        tx.put(self, newest.item(), None);
        tx.commit(self).await
    }

    /// Issues an invitation link (SHA-256 `token_hash`) to `before`, valid until `expires_at`:
    /// stores the token, then makes it the membership's one working link. Answers the membership
    /// after.
    pub async fn issue_invitation(
        &self,
        before: &roster_domain::membership::Membership,
        has_password: bool,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<roster_domain::membership::Membership, StoreError> {
        let invitation = Invitation {
            organisation_id: before.organisation_id.clone(),
            user_id: before.id.clone(),
            expires_at,
        };
        self.create_token(token_hash, &invitation).await?;
        let after = before.invited(token_hash.to_owned(), has_password);
        self.update_membership(before, &after, None).await?;
        Ok(after)
    }

    /// The token behind `token_hash`, unless it was used or has expired (checked here: TTL
    /// deletion is lazy).
    pub async fn token<T: SingleUse>(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<T>, StoreError> {
        let token: Option<T> = self
            .get(&T::key(token_hash), true)
            .await?
            .map(body)
            .transpose()?;
        Ok(token.filter(|t| now < t.expires_at()))
    }

    async fn put_expiring<T: Serialize>(
        &self,
        key: keys::Key,
        body: &T,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut record = Record::new(key, body);
        record.ttl = Some(expires_at.timestamp());
        self.put(record.item()).await
    }
}
