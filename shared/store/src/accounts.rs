//! Accounts (people): login email, password hash, and the organisations they belong to.

use std::collections::BTreeMap;

use roster_domain::{
    ids::{AccountId, OrganisationId, UserId},
    profile::Email,
};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, SingleUse, StoreError, keys,
    record::{Item, Record, body, n, s},
    transaction::{Condition, OnFail, Transaction},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub email: Option<Email>,
    /// argon2id PHC string; `None` until the person sets a password.
    pub password_hash: Option<String>,
    /// The person's memberships: organisation -> user id there.
    pub memberships: BTreeMap<OrganisationId, UserId>,
    pub version: u64,
    /// Active two-factor authentication.
    #[serde(default)]
    pub totp: Option<Totp>,
    /// A TOTP secret being enrolled (sealed), until a first code confirms it.
    #[serde(default)]
    pub pending_totp: Option<String>,
    /// Hashes of the unused recovery codes.
    #[serde(default)]
    pub recovery_codes: Vec<String>,
    /// Set after an administrator issued a PIN: the next login may only change the password.
    #[serde(default)]
    pub must_change_password: bool,
    /// Whether the person proved they receive mail at `email` (used a link sent there, or the
    /// platform operator vouched for it). Only a verified account joins another organisation at once.
    #[serde(default)]
    pub email_verified: bool,
    /// Raised when the password or the email changes; links issued before stop working.
    #[serde(default)]
    pub credential_epoch: u64,
    /// Raised to end every session of the account at once, in the write that changes what
    /// made them end (password, PIN, 2FA): a session started under a lower epoch is over.
    #[serde(default)]
    pub session_epoch: u64,
}

/// An account's TOTP: the sealed secret and the last step a code was accepted for (replay guard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totp {
    pub sealed_secret: String,
    pub last_used_step: Option<u64>,
}

impl Account {
    /// A new account (version 1) with no memberships and no second factor yet.
    pub fn new(email: Option<Email>, password_hash: Option<String>) -> Self {
        Self {
            id: AccountId::generate(),
            email,
            password_hash,
            memberships: BTreeMap::new(),
            version: 1,
            totp: None,
            pending_totp: None,
            recovery_codes: vec![],
            must_change_password: false,
            email_verified: false,
            credential_epoch: 0,
            session_epoch: 0,
        }
    }

    /// Whether the person belongs to more than one organisation: then no one of them speaks for
    /// the credentials they share (login email, password, lockout, 2FA).
    pub fn is_shared(&self) -> bool {
        self.memberships.len() > 1
    }

    pub(crate) fn record(&self) -> Record<&Account> {
        Record::new(keys::account(&self.id), self)
    }
}

/// The sentinel that makes an email one account's login. It also carries a copy of the
/// account's password hash, so a login reads one item before it starts hashing: every write that
/// can change an account's password hash or login email (`save_account`, `add_account`,
/// `change_login_email`) writes the sentinel in the same transaction (`email_sentinel_item`), so
/// the copy is the hash of the account's latest version. Writes that change neither (joining or
/// leaving an organisation) leave it.
#[derive(Serialize, Deserialize)]
struct EmailSentinel {
    owner: String,
    /// `None` on a sentinel written before sentinels carried the hash.
    #[serde(default)]
    login: Option<LoginCopy>,
}

#[derive(Serialize, Deserialize)]
struct LoginCopy {
    password_hash: Option<String>,
}

/// The email sentinel of `account` (which has `email`), with its password hash.
pub(crate) fn email_sentinel_item(account: &Account, email: &Email) -> Item {
    Record::new(
        keys::email_sentinel(email.normalised()),
        EmailSentinel {
            owner: account.id.as_str().to_owned(),
            login: Some(LoginCopy {
                password_hash: account.password_hash.clone(),
            }),
        },
    )
    .item()
}

/// What a login checks the password against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCredential {
    pub account: AccountId,
    /// The account's password hash when the credential was read; the account read after it
    /// may hold a newer one.
    pub password_hash: Option<String>,
}

impl DynamoTable {
    pub async fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        self.get(&keys::account(id), true)
            .await?
            .map(body)
            .transpose()
    }

    /// The account an email's sentinel names, with the sentinel's copy of its password hash.
    async fn email_owner(
        &self,
        normalised_email: &str,
    ) -> Result<Option<(AccountId, Option<LoginCopy>)>, StoreError> {
        let Some(sentinel) = self
            .get(&keys::email_sentinel(normalised_email), true)
            .await?
        else {
            return Ok(None);
        };
        let sentinel: EmailSentinel = body(sentinel)?;
        let account = AccountId::try_from(sentinel.owner.as_str())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some((account, sentinel.login)))
    }

    /// The account whose login email is `normalised_email` and its password hash: one read
    /// (the email sentinel), two for a sentinel written before it carried the hash.
    pub async fn login_credential(
        &self,
        normalised_email: &str,
    ) -> Result<Option<LoginCredential>, StoreError> {
        let Some((account, copy)) = self.email_owner(normalised_email).await? else {
            return Ok(None);
        };
        let password_hash = match copy {
            Some(copy) => copy.password_hash,
            None => self
                .account(&account)
                .await?
                .and_then(|account| account.password_hash),
        };
        Ok(Some(LoginCredential {
            account,
            password_hash,
        }))
    }

    /// The account whose login email is `normalised_email`: the email sentinel, then the account.
    pub async fn account_by_email(
        &self,
        normalised_email: &str,
    ) -> Result<Option<Account>, StoreError> {
        match self.email_owner(normalised_email).await? {
            Some((account, _)) => self.account(&account).await,
            None => Ok(None),
        }
    }

    /// Writes `account` (whose `version` is the one read) as the next version, with its email
    /// sentinel; `Stale` if it moved. Answers the written account.
    pub async fn save_account(&self, account: &Account) -> Result<Account, StoreError> {
        self.save_account_with(account, Transaction::default())
            .await
    }

    /// Saves `account` (as [`Self::save_account`]) and uses up the single-use token `token_hash`,
    /// all or nothing: `NotFound` when the token was used first, `Stale` when the account moved
    /// (the token still works then).
    pub async fn save_account_using<T: SingleUse>(
        &self,
        account: &Account,
        token_hash: &str,
    ) -> Result<Account, StoreError> {
        self.save_account_with(account, Transaction::using_token::<T>(self, token_hash))
            .await
    }

    /// Saves `account` after a password change or a 2FA enrolment that raised its
    /// `session_epoch` to end its sessions, except the one with `token_hash`: in the same
    /// transaction that one moves to the new epoch and loses its restriction (a session limited
    /// to choosing a password has done so), and with `passed_second_factor` is recorded as
    /// having passed the second factor it just set up. `NotFound` when that session ended
    /// meanwhile; nothing is written then.
    pub async fn save_account_keeping_session(
        &self,
        account: &Account,
        token_hash: &str,
        passed_second_factor: bool,
    ) -> Result<Account, StoreError> {
        let key = keys::session(token_hash);
        let mut keep = aws_sdk_dynamodb::types::Update::builder()
            .table_name(self.name())
            .key("pk", s(key.pk))
            .key("sk", s(key.sk))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":epoch", n(account.session_epoch));
        keep = if passed_second_factor {
            keep.update_expression("SET epoch = :epoch, mfa = :yes REMOVE restriction")
                .expression_attribute_values(
                    ":yes",
                    aws_sdk_dynamodb::types::AttributeValue::Bool(true),
                )
        } else {
            keep.update_expression("SET epoch = :epoch REMOVE restriction")
        };
        let keep = keep.build().map_err(StoreError::unavailable)?;
        let mut tx = Transaction::default();
        tx.update(keep, OnFail::Missing);
        self.save_account_with(account, tx).await
    }

    /// Writes `account` at its next version, and its email's sentinel, with `tx`'s items.
    pub(crate) async fn save_account_with(
        &self,
        account: &Account,
        mut tx: Transaction,
    ) -> Result<Account, StoreError> {
        let mut next = account.clone();
        next.version += 1;
        tx.put(
            self,
            next.record().item(),
            Some((Condition::version(account.version), OnFail::Stale)),
        );
        if let Some(email) = &next.email {
            tx.put(
                self,
                email_sentinel_item(&next, email),
                Some((
                    Condition::owned_by_or_absent(next.id.as_str()),
                    OnFail::OwnedElsewhere,
                )),
            );
        }
        tx.commit(self).await?;
        Ok(next)
    }

    /// Replaces the password hash, if the account is still at `version`.
    pub async fn set_password_hash(&self, account: &Account, hash: &str) -> Result<(), StoreError> {
        let mut next = account.clone();
        next.password_hash = Some(hash.to_owned());
        self.save_account(&next).await.map(|_| ())
    }
}
