//! Sessions, keyed by the SHA-256 of their token; and the caller of a request (session,
//! membership, organisation) in two calls: `GetItem` of the session, `BatchGetItem` of the rest.

use aws_sdk_dynamodb::types::AttributeValue;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use roster_domain::{
    audit::AuditEntry,
    ids::{AccountId, OrganisationId, SessionId, UserId},
    membership::Membership,
    organisation::Organisation,
    session::Lifetime,
};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError, Write,
    audit::audit_item,
    credentials::login_failures_key,
    keys,
    members::MembershipItem,
    record::{Record, body, key_item, n, s, text},
};

/// Kept this long past expiry before DynamoDB's TTL may remove it (expiry is checked on read).
const TTL_GRACE_SECONDS: i64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub account_id: AccountId,
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    /// What the session is limited to until the person completes it.
    #[serde(default)]
    pub restriction: Option<Restriction>,
    /// Whether the session passed a second factor (a login with TOTP, or enrolling one).
    #[serde(default)]
    pub mfa: bool,
    /// The account's `session_epoch` when the session started (or was kept): once the account's
    /// is higher, the session is over.
    #[serde(default)]
    pub epoch: u64,
    /// The membership's `session_epoch` when the session started: once the membership's is
    /// higher (it was deactivated since), the session is over.
    #[serde(default)]
    pub membership_epoch: u64,
}

/// A session that may only do one thing until it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Restriction {
    /// The organisation requires 2FA and the session has none: enrol first (decided on each
    /// request from the organisation's setting and the session, never stored).
    MfaEnrolment,
    /// An administrator issued a PIN: choose a password first.
    PasswordChange,
}

impl Session {
    /// Whether the session is still on at `now` for an account at `account_epoch`.
    pub fn is_on(&self, now: DateTime<Utc>, account_epoch: u64) -> bool {
        self.epoch >= account_epoch && self.lifetime().is_valid(now)
    }

    /// Whether `membership` (the session's own) still lets the session act: active, and not
    /// deactivated since the session started.
    pub fn is_let_in_by(&self, membership: &Membership) -> bool {
        membership.is_active() && self.membership_epoch >= membership.session_epoch
    }

    pub fn lifetime(&self) -> Lifetime {
        Lifetime {
            created_at: self.created_at,
            last_used_at: self.last_used_at,
        }
    }
}

/// Who is calling: a valid session of an active membership, and its organisation.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_hash: String,
    pub session: Session,
    pub membership: Membership,
    pub organisation: Organisation,
    /// The account's `session_epoch`: its sessions below it are over.
    pub session_epoch: u64,
}

impl Caller {
    /// The caller's roles: their own and those their SCIM groups give.
    pub fn roles(&self) -> Vec<roster_domain::membership::RoleGrant> {
        self.membership.roles_in(&self.organisation)
    }
}

#[derive(Serialize, Deserialize)]
struct SessionItem {
    #[serde(flatten)]
    session: Session,
    token_hash: String,
}

/// The place in a session list a cursor names (`<created>#<session id>`).
fn session_list_place(cursor: &str) -> Result<String, StoreError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|place| place.len() <= 128 && place.contains('#'))
        .ok_or(StoreError::InvalidCursor)
}

impl DynamoTable {
    /// Starts a session: the session, the sign-in's audit entry (in the session's organisation,
    /// kept `retention_days`) and, after a password, the clearing of the attempt counter it
    /// reserved under `reserved_attempt`, all in one `BatchWriteItem`. The session needs no
    /// condition: its key is the hash of 256 fresh random bits.
    pub async fn start_session(
        &self,
        token_hash: &str,
        session: &Session,
        audit: &AuditEntry,
        retention_days: u32,
        reserved_attempt: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut record = Record::new(
            keys::session(token_hash),
            SessionItem {
                session: session.clone(),
                token_hash: token_hash.to_owned(),
            },
        );
        record.gsi1pk = Some(keys::sessions_of(&session.account_id));
        record.gsi1sk = Some(format!(
            "{}#{}",
            session.created_at.to_rfc3339(),
            session.id
        ));
        record.gsi2pk = Some(keys::session_handle(&session.account_id, &session.id));
        record.gsi2sk = Some(keys::SESSION_HANDLE.to_owned());
        record.ttl = Some(session.lifetime().expires_at().timestamp() + TTL_GRACE_SECONDS);
        let mut writes = vec![
            Write::Put(record.item()),
            Write::Put(audit_item(&session.organisation_id, audit, retention_days)),
        ];
        if let Some(subject) = reserved_attempt {
            writes.push(Write::Delete(login_failures_key(subject)));
        }
        self.batch_write(writes).await
    }

    /// The caller behind a token hash at `now`, or `None` when the session is unknown, expired,
    /// ended by its account's `session_epoch`, or its membership no longer lets it in
    /// (`Session::is_let_in_by`).
    pub async fn caller(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Caller>, StoreError> {
        let Some(item) = self.get(&keys::session(token_hash), true).await? else {
            return Ok(None);
        };
        let session = body::<SessionItem>(item)?.session;
        if !session.lifetime().is_valid(now) {
            return Ok(None);
        }
        let membership_key = keys::membership(&session.organisation_id, &session.user_id);
        let organisation_key = keys::organisation(&session.organisation_id);
        let account_key = keys::account(&session.account_id);
        let items = self
            .batch_get(&[
                membership_key.clone(),
                organisation_key.clone(),
                account_key.clone(),
            ])
            .await?;
        let (mut membership, mut organisation, mut account) = (None, None, None);
        for item in items {
            match item.get("pk") {
                Some(AttributeValue::S(pk)) if *pk == membership_key.pk => {
                    membership = Some(body::<MembershipItem>(item)?.membership);
                }
                Some(AttributeValue::S(pk)) if *pk == organisation_key.pk => {
                    organisation = Some(body(item)?)
                }
                Some(AttributeValue::S(pk)) if *pk == account_key.pk => {
                    account = Some(body::<crate::Account>(item)?)
                }
                _ => {}
            }
        }
        match (membership, organisation, account) {
            (Some(membership), Some(organisation), Some(account))
                if session.is_let_in_by(&membership)
                    && session.is_on(now, account.session_epoch) =>
            {
                Ok(Some(Caller {
                    token_hash: token_hash.to_owned(),
                    session,
                    membership,
                    organisation,
                    session_epoch: account.session_epoch,
                }))
            }
            _ => Ok(None),
        }
    }

    /// Records a use of the session (pushing back its idle expiry).
    pub async fn touch_session(
        &self,
        token_hash: &str,
        session: &Session,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let lifetime = Lifetime {
            created_at: session.created_at,
            last_used_at: now,
        };
        let ttl = lifetime.expires_at().timestamp() + TTL_GRACE_SECONDS;
        let touched = self
            .update_session(token_hash, |update| {
                update
                    .update_expression("SET last_used_at = :now, #ttl = :ttl")
                    .expression_attribute_names("#ttl", "ttl")
                    .expression_attribute_values(":now", s(now.to_rfc3339()))
                    .expression_attribute_values(":ttl", n(ttl))
            })
            .await;
        match touched {
            Err(StoreError::NotFound) => Ok(()), // ended meanwhile: nothing to record
            other => other,
        }
    }

    /// A page of the account's sessions, newest first, after `cursor` (one `Query`, then a
    /// `BatchGetItem` of the memberships they belong to, one per 100). Sessions not on at `now`
    /// for an account at `account_epoch`, or that their membership no longer lets in, are left
    /// out, so a page may hold fewer than `limit`; the page that ends the list has no cursor.
    /// The cursor is the last session's place in the list (creation time and session id), never
    /// its key, which holds the token's hash.
    pub async fn sessions_page(
        &self,
        account: &AccountId,
        account_epoch: u64,
        now: DateTime<Utc>,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<(Vec<(String, Session)>, Option<String>), StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.name)
            .index_name("gsi1")
            .expression_attribute_values(":pk", s(keys::sessions_of(account)))
            .scan_index_forward(false);
        query = match cursor {
            None => query.key_condition_expression("gsi1pk = :pk"),
            Some(cursor) => query
                .key_condition_expression("gsi1pk = :pk AND gsi1sk < :after")
                .expression_attribute_values(":after", s(session_list_place(cursor)?)),
        };
        let (items, last) = self.limited_page(query, limit).await?;
        let next = last
            .as_ref()
            .and_then(|item| text(item, "gsi1sk"))
            .map(|place| URL_SAFE_NO_PAD.encode(place));
        let mut on = Vec::new();
        for item in items {
            let stored: SessionItem = body(item)?;
            if stored.session.is_on(now, account_epoch) {
                on.push((stored.token_hash, stored.session));
            }
        }
        let mut membership_keys: Vec<_> = on
            .iter()
            .map(|(_, session)| keys::membership(&session.organisation_id, &session.user_id))
            .collect();
        membership_keys.sort_by(|a, b| (&a.pk, &a.sk).cmp(&(&b.pk, &b.sk)));
        membership_keys.dedup();
        let memberships: Vec<Membership> = self
            .batch_get(&membership_keys)
            .await?
            .into_iter()
            .map(|item| body::<MembershipItem>(item).map(|stored| stored.membership))
            .collect::<Result<_, _>>()?;
        on.retain(|(_, session)| {
            memberships.iter().any(|m| {
                m.organisation_id == session.organisation_id
                    && m.id == session.user_id
                    && session.is_let_in_by(m)
            })
        });
        Ok((on, next))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let key = keys::session(token_hash);
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_item(&key)))
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::unavailable)
    }

    /// Ends the account's session with the public id `session` if it is still on at `now` for
    /// an account at `account_epoch` (a `Query` of its handle in `gsi2`, then a `DeleteItem`);
    /// `NotFound` when there is none.
    pub async fn end_session_by_id(
        &self,
        account: &AccountId,
        account_epoch: u64,
        session: &SessionId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.name)
            .index_name("gsi2")
            .key_condition_expression("gsi2pk = :handle AND gsi2sk = :kind")
            .expression_attribute_values(":handle", s(keys::session_handle(account, session)))
            .expression_attribute_values(":kind", s(keys::SESSION_HANDLE));
        let found: Vec<SessionItem> = self.query_page(query).await?;
        let stored = found
            .into_iter()
            .find(|stored| stored.session.is_on(now, account_epoch))
            .ok_or(StoreError::NotFound)?;
        self.delete_session(&stored.token_hash).await
    }

    /// An `UpdateItem` of an existing session; a session that ended meanwhile is `NotFound`.
    async fn update_session(
        &self,
        token_hash: &str,
        update: impl FnOnce(
            aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
        ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    ) -> Result<(), StoreError> {
        let key = keys::session(token_hash);
        let request = self
            .client
            .update_item()
            .table_name(&self.name)
            .key("pk", s(key.pk))
            .key("sk", s(key.sk))
            .condition_expression("attribute_exists(pk)");
        crate::conditional(update(request).send().await)?
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }

    /// Moves the session to the person's `membership` in another organisation, under that
    /// membership's `session_epoch`.
    pub async fn switch_session(
        &self,
        token_hash: &str,
        membership: &Membership,
    ) -> Result<(), StoreError> {
        self.update_session(token_hash, |update| {
            update
                .update_expression(
                    "SET organisation_id = :organisation, user_id = :user, membership_epoch = :epoch",
                )
                .expression_attribute_values(":organisation", s(membership.organisation_id.as_str()))
                .expression_attribute_values(":user", s(membership.id.as_str()))
                .expression_attribute_values(":epoch", n(membership.session_epoch))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session_at(epoch: u64, started: DateTime<Utc>) -> Session {
        Session {
            id: SessionId::generate(),
            account_id: AccountId::generate(),
            organisation_id: OrganisationId::generate(),
            user_id: UserId::generate(),
            created_at: started,
            last_used_at: started,
            user_agent: None,
            restriction: None,
            mfa: false,
            epoch,
            membership_epoch: 0,
        }
    }

    #[test]
    fn a_session_is_over_once_its_account_raised_the_epoch_past_it() {
        let now = Utc::now();
        assert!(session_at(0, now).is_on(now, 0));
        assert!(session_at(2, now).is_on(now, 2), "kept at the new epoch");
        assert!(!session_at(1, now).is_on(now, 2));
    }

    #[test]
    fn a_session_at_the_epoch_is_still_over_when_its_lifetime_is() {
        let now = Utc::now();
        let old = session_at(0, now - chrono::Duration::days(15));
        assert!(!old.is_on(now, 0));
    }
}
