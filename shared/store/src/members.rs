//! Memberships (a person's profile in one organisation) and the items kept in step with them:
//! the one-membership-per-account sentinel, username and external-id sentinels, directory entries.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::Update;
use roster_domain::{
    directory::search_terms,
    ids::{OrganisationId, UserId},
    membership::Membership,
    profile::Email,
};
use serde::{Deserialize, Serialize};

use crate::{
    Account, DynamoTable, StoreError, Uniqueness,
    directory::DirectoryEntry,
    keys,
    record::{Record, body, n, s, sentinel},
    transaction::{Condition, OnFail, Transaction},
};

/// A membership as stored. Its directory entries are derived from it (`directory_terms`), so a
/// change to how terms are derived needs the directory rebuilt.
#[derive(Serialize, Deserialize)]
pub(crate) struct MembershipItem {
    #[serde(flatten)]
    pub membership: Membership,
}

/// A membership to create.
pub type NewMembership = Membership;

/// A new login email for a person: their account as read, and the email it gets.
pub struct EmailChange {
    pub account: Account,
    pub email: Email,
}

fn directory_terms(membership: &Membership) -> BTreeSet<String> {
    if !membership.is_listed() {
        return BTreeSet::new();
    }
    let profile = &membership.profile;
    let display = profile.display_name();
    search_terms(&[&profile.first_name, &profile.last_name, &display])
}

fn membership_item(membership: &Membership) -> crate::record::Item {
    Record::new(
        keys::membership(&membership.organisation_id, &membership.id),
        MembershipItem {
            membership: membership.clone(),
        },
    )
    .item()
}

impl DynamoTable {
    pub async fn membership(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        self.get(&keys::membership(organisation, user), true)
            .await?
            .map(|item| body::<MembershipItem>(item).map(|stored| stored.membership))
            .transpose()
    }

    /// The membership whose username (normalised) is `username` in `organisation`.
    pub async fn membership_by_username(
        &self,
        organisation: &OrganisationId,
        username: &str,
    ) -> Result<Option<Membership>, StoreError> {
        let Some(item) = self
            .get(&keys::username_sentinel(organisation, username), true)
            .await?
        else {
            return Ok(None);
        };
        let owner: crate::record::Sentinel = body(item)?;
        let user = UserId::try_from(owner.owner.as_str())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.membership(organisation, &user).await
    }

    /// Adds the writes that create `membership` and its side items to `tx`.
    pub(crate) fn add_membership(&self, tx: &mut Transaction, membership: &Membership) {
        let organisation = &membership.organisation_id;
        let owner = membership.id.as_str();
        tx.put(
            self,
            membership_item(membership),
            Some((Condition::absent(), OnFail::Taken(Uniqueness::Membership))),
        );
        tx.put(
            self,
            sentinel(
                keys::account_member_sentinel(organisation, &membership.account_id),
                owner,
            ),
            Some((Condition::absent(), OnFail::Taken(Uniqueness::Membership))),
        );
        if let Some(username) = &membership.username {
            tx.put(
                self,
                sentinel(
                    keys::username_sentinel(organisation, username.normalised()),
                    owner,
                ),
                Some((Condition::absent(), OnFail::Taken(Uniqueness::Username))),
            );
        }
        if let Some(external_id) = &membership.profile.external_id {
            tx.put(
                self,
                sentinel(keys::external_id_sentinel(organisation, external_id), owner),
                Some((Condition::absent(), OnFail::Taken(Uniqueness::ExternalId))),
            );
        }
        for term in directory_terms(membership) {
            tx.put(
                self,
                DirectoryEntry::of(membership).item(organisation, &term),
                None,
            );
        }
    }

    /// Replaces `before` by `after` if nobody changed it meanwhile (else `Stale`), keeping the
    /// external-id sentinel, directory entries and, with `email`, the login email in step.
    /// `after.version` must be `before.version + 1`.
    pub async fn update_membership(
        &self,
        before: &Membership,
        after: &Membership,
        email: Option<&EmailChange>,
    ) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        let organisation = &after.organisation_id;
        let owner = after.id.as_str();
        tx.put(
            self,
            membership_item(after),
            Some((Condition::version(before.version), OnFail::Stale)),
        );

        if before.profile.external_id != after.profile.external_id {
            if let Some(old) = &before.profile.external_id {
                tx.delete(self, &keys::external_id_sentinel(organisation, old), None);
            }
            if let Some(new) = &after.profile.external_id {
                tx.put(
                    self,
                    sentinel(keys::external_id_sentinel(organisation, new), owner),
                    Some((Condition::absent(), OnFail::Taken(Uniqueness::ExternalId))),
                );
            }
        }

        let (old_terms, new_terms) = (directory_terms(before), directory_terms(after));
        for term in old_terms.difference(&new_terms) {
            tx.delete(
                self,
                &keys::directory_entry(organisation, term, &after.id),
                None,
            );
        }
        if !new_terms.is_empty() {
            let entry = DirectoryEntry::of(after);
            for term in &new_terms {
                tx.put(self, entry.item(organisation, term), None);
            }
        }

        if let Some(change) = email {
            self.change_login_email(&mut tx, change, after);
        }
        tx.commit(self).await
    }

    /// Moves the account's login email (sentinels included) and the email copy on the person's
    /// other memberships.
    fn change_login_email(&self, tx: &mut Transaction, change: &EmailChange, changed: &Membership) {
        let account = &change.account;
        let mut next = account.clone();
        next.email = Some(change.email.clone());
        next.version += 1;
        tx.put(
            self,
            next.record().item(),
            Some((Condition::version(account.version), OnFail::Stale)),
        );
        if let Some(old) = &account.email
            && old.normalised() != change.email.normalised()
        {
            tx.delete(
                self,
                &keys::email_sentinel(old.normalised()),
                Some((Condition::owned_by(account.id.as_str()), OnFail::Stale)),
            );
        }
        if account.email.as_ref().map(Email::normalised) != Some(change.email.normalised()) {
            tx.put(
                self,
                sentinel(
                    keys::email_sentinel(change.email.normalised()),
                    account.id.as_str(),
                ),
                Some((Condition::absent(), OnFail::Taken(Uniqueness::Email))),
            );
        }
        let email: aws_sdk_dynamodb::types::AttributeValue =
            serde_dynamo::to_attribute_value(&change.email).expect("an email serialises");
        for (organisation, user) in &account.memberships {
            if *organisation == changed.organisation_id {
                continue;
            }
            let key = keys::membership(organisation, user);
            tx.update(
                Update::builder()
                    .table_name(&self.name)
                    .key("pk", s(key.pk))
                    .key("sk", s(key.sk))
                    .update_expression("SET profile.email = :email, version = version + :one")
                    .condition_expression(
                        "attribute_exists(pk) AND (attribute_not_exists(profile.managed_by.email) \
                         OR profile.managed_by.email IN (:self, :admin))",
                    )
                    .expression_attribute_values(":email", email.clone())
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":self", s("self"))
                    .expression_attribute_values(":admin", s("admin"))
                    .build()
                    .expect("update has table, key and expression"),
                OnFail::EmailManagedElsewhere,
            );
        }
    }
}
