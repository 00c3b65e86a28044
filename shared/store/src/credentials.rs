//! Items of the credential flows: failed-login counters, MFA login challenges, password-reset
//! tokens. Counters are updated with atomic `ADD`; challenges and tokens are consumed by one
//! conditional delete, so each works once.

use chrono::{DateTime, Utc};
use roster_domain::{
    ids::{AccountId, OrganisationId, UserId},
    session::secret_hash,
};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError, keys,
    record::{Record, body, key_item, n, s},
};

/// Consecutive failed logins of one login name (or source address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub last_at: Option<DateTime<Utc>>,
}

/// A password login waiting for its second factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaChallenge {
    pub account_id: AccountId,
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
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

/// Failure counters are forgotten a day after the last failure.
const FAILURES_KEPT_SECONDS: i64 = 86_400;

#[derive(Serialize, Deserialize)]
struct FailureItem {
    failures: u32,
    last_failure_at: DateTime<Utc>,
}

impl DynamoTable {
    /// The failures recorded under `subject` (a login name or address; stored hashed).
    pub async fn login_failures(&self, subject: &str) -> Result<Failures, StoreError> {
        let item = self
            .get(&keys::login_failures(&secret_hash(subject)), true)
            .await?;
        Ok(match item {
            Some(item) => {
                let stored: FailureItem = body(item)?;
                Failures {
                    count: stored.failures,
                    last_at: Some(stored.last_failure_at),
                }
            }
            None => Failures {
                count: 0,
                last_at: None,
            },
        })
    }

    /// Counts this attempt before it is decided (one atomic `ADD`), and answers the failures
    /// before it: concurrent attempts each see a different count, so a burst cannot slip past a
    /// lock. A successful attempt clears the count.
    pub async fn reserve_login_attempt(
        &self,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<Failures, StoreError> {
        let key = keys::login_failures(&secret_hash(subject));
        let output = self
            .client
            .update_item()
            .table_name(&self.name)
            .key("pk", s(key.pk))
            .key("sk", s(key.sk))
            .update_expression("ADD failures :one SET last_failure_at = :now, #ttl = :ttl")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .expression_attribute_values(":ttl", n(now.timestamp() + FAILURES_KEPT_SECONDS))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        let before = output.attributes.unwrap_or_default();
        let expired = before
            .get("ttl")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|ttl| ttl <= now.timestamp());
        if before.is_empty() || expired {
            return Ok(Failures {
                count: 0,
                last_at: None,
            });
        }
        let stored: FailureItem = body(before)?;
        Ok(Failures {
            count: stored.failures,
            last_at: Some(stored.last_failure_at),
        })
    }

    /// Adds one failure atomically and answers the new count.
    pub async fn record_login_failure(
        &self,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let key = keys::login_failures(&secret_hash(subject));
        let output = self
            .client
            .update_item()
            .table_name(&self.name)
            .key("pk", s(key.pk))
            .key("sk", s(key.sk))
            .update_expression("ADD failures :one SET last_failure_at = :now, #ttl = :ttl")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .expression_attribute_values(":ttl", n(now.timestamp() + FAILURES_KEPT_SECONDS))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        output
            .attributes
            .and_then(|a| {
                a.get("failures")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
            })
            .ok_or_else(|| StoreError::Corrupt("failure counter without a count".to_owned()))
    }

    pub async fn clear_login_failures(&self, subject: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_item(&keys::login_failures(&secret_hash(subject)))))
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::unavailable)
    }

    pub async fn create_mfa_challenge(
        &self,
        token_hash: &str,
        challenge: &MfaChallenge,
    ) -> Result<(), StoreError> {
        self.put_expiring(
            keys::mfa_challenge(token_hash),
            challenge,
            challenge.expires_at,
        )
        .await
    }

    pub async fn mfa_challenge(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<MfaChallenge>, StoreError> {
        let challenge: Option<MfaChallenge> = self
            .get(&keys::mfa_challenge(token_hash), true)
            .await?
            .map(body)
            .transpose()?;
        Ok(challenge.filter(|c| now < c.expires_at))
    }

    /// Uses up a challenge; `false` when someone else used it first.
    pub async fn consume_mfa_challenge(&self, token_hash: &str) -> Result<bool, StoreError> {
        self.consume(&keys::mfa_challenge(token_hash)).await
    }

    pub async fn create_reset_token(
        &self,
        token_hash: &str,
        token: &ResetToken,
    ) -> Result<(), StoreError> {
        self.put_expiring(keys::reset_token(token_hash), token, token.expires_at)
            .await
    }

    pub async fn reset_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ResetToken>, StoreError> {
        let token: Option<ResetToken> = self
            .get(&keys::reset_token(token_hash), true)
            .await?
            .map(body)
            .transpose()?;
        Ok(token.filter(|t| now < t.expires_at))
    }

    /// Uses up a reset token; `false` when it was already used.
    pub async fn consume_reset_token(&self, token_hash: &str) -> Result<bool, StoreError> {
        self.consume(&keys::reset_token(token_hash)).await
    }

    pub async fn create_invitation(
        &self,
        token_hash: &str,
        invitation: &Invitation,
    ) -> Result<(), StoreError> {
        self.put_expiring(
            keys::invitation(token_hash),
            invitation,
            invitation.expires_at,
        )
        .await
    }

    pub async fn invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>, StoreError> {
        let invitation: Option<Invitation> = self
            .get(&keys::invitation(token_hash), true)
            .await?
            .map(body)
            .transpose()?;
        Ok(invitation.filter(|i| now < i.expires_at))
    }

    /// Uses up an invitation; `false` when it was already used.
    pub async fn consume_invitation(&self, token_hash: &str) -> Result<bool, StoreError> {
        self.consume(&keys::invitation(token_hash)).await
    }

    async fn put_expiring<T: Serialize>(
        &self,
        key: keys::Key,
        body: &T,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut record = Record::new(key, body);
        record.ttl = Some(expires_at.timestamp());
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(record.item()))
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::unavailable)
    }

    /// Deletes the item if it exists; whether this call was the one that deleted it.
    async fn consume(&self, key: &keys::Key) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_item(key)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(StoreError::unavailable(error)),
        }
    }
}
