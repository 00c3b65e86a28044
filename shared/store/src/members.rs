//! Memberships (a person's profile in one organisation) and the items kept in step with them:
//! the one-membership-per-account sentinel, username and external-id sentinels, directory entries.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::Update;
use roster_domain::{
    directory::search_terms,
    ids::{OrganisationId, UserId},
    membership::Membership,
    organisation::Organisation,
    profile::Email,
};
use serde::{Deserialize, Serialize};

use crate::{
    Account, DynamoTable, Invitation, StoreError, Uniqueness,
    accounts::email_sentinel_item,
    cursor::IndexList,
    directory::DirectoryEntry,
    keys,
    record::{Item, Record, body, n, readable_bodies, s, sentinel, text},
    transaction::{Condition, OnFail, Transaction},
};

/// A membership as stored. Its directory entries are derived from it (`directory_terms`), and a
/// search derives the same terms again from an entry to show each person once (`Search::shows`),
/// so a change to how terms are derived needs the directory rebuilt: until then, people whose
/// entries were derived the old way may not be found. The flat `role_names`,
/// `site_ids` and `tag_keys` exist for the user list's filters.
#[derive(Serialize, Deserialize)]
pub(crate) struct MembershipItem {
    #[serde(flatten)]
    pub membership: Membership,
    #[serde(default)]
    pub role_names: Vec<String>,
    #[serde(default)]
    pub site_ids: Vec<String>,
    #[serde(default)]
    pub tag_keys: Vec<String>,
}

/// A membership to create.
pub type NewMembership = Membership;

/// What the user list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub status: Option<String>,
    pub role: Option<String>,
    pub site: Option<String>,
    pub tag: Option<String>,
    /// The start of the last name (then first name), lowercased.
    pub name_prefix: Option<String>,
    /// SCIM groups whose mapped roles give `role`: their members match it too.
    pub groups_giving_role: Vec<String>,
    /// SCIM groups whose mapped roles are scoped to `site`: their members match it too.
    pub groups_giving_site: Vec<String>,
}

pub struct UserPage {
    pub users: Vec<Membership>,
    pub next_cursor: Option<String>,
}

/// A list of the organisation's memberships kept in `index` under `partition`.
pub(crate) fn member_list(
    index: &'static str,
    partition: String,
    organisation: &OrganisationId,
) -> IndexList {
    IndexList {
        index,
        partition,
        pk_prefix: keys::member_partitions_of(organisation),
        sk: keys::MEMBERSHIP_SK,
    }
}

/// The organisation's user list (index `gsi1`, sorted by name).
fn user_list(organisation: &OrganisationId) -> IndexList {
    member_list("gsi1", keys::users_of(organisation), organisation)
}

/// A new login email for a person: their account as read, and the email it gets.
pub struct EmailChange {
    pub account: Account,
    pub email: Email,
    /// The person's other organisations whose copy of the email SCIM still owns though they no
    /// longer take it from SCIM (no SCIM write has released it yet): their copy moves too.
    pub released_in: Vec<OrganisationId>,
    /// Whether the new address showed it receives mail (its confirmation link was followed); a
    /// change of letter case keeps the account's verification either way.
    pub verified: bool,
}

impl EmailChange {
    /// The address the login moves away from (the account's, else the one `before` showed),
    /// unless the change is only one of letter case: the address to tell, so that a login
    /// cannot move quietly (a hijacked session, an identity provider's or an administrator's
    /// mistake).
    pub fn moved_from<'a>(&'a self, before: &'a Membership) -> Option<&'a Email> {
        self.account
            .email
            .as_ref()
            .or(before.profile.email.as_ref())
            .filter(|old| old.normalised() != self.email.normalised())
    }
}

/// The terms an active person is found under; who chose to hide has entries too, which a search
/// skips while the organisation lets people hide (`DirectoryEntry::hide_profile`).
fn directory_terms(membership: &Membership) -> BTreeSet<String> {
    if !membership.is_active() {
        return BTreeSet::new();
    }
    search_terms(&DirectoryEntry::of(membership).names())
}

/// How the user list sorts: last name, first name, lowercased.
fn sort_name(membership: &Membership) -> String {
    let p = &membership.profile;
    format!("{} {}", p.last_name, p.first_name).to_lowercase()
}

pub(crate) fn membership_item(membership: &Membership) -> crate::record::Item {
    let role_names = membership
        .roles
        .iter()
        .map(|g| {
            serde_json::to_value(g.role)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect();
    let mut record = Record::new(
        keys::membership(&membership.organisation_id, &membership.id),
        MembershipItem {
            membership: membership.clone(),
            role_names,
            site_ids: membership.all_sites(),
            tag_keys: membership
                .profile
                .tags
                .iter()
                .map(|t| t.to_lowercase())
                .collect(),
        },
    );
    record.gsi1pk = Some(keys::users_of(&membership.organisation_id));
    record.gsi1sk = Some(format!("{}#{}", sort_name(membership), membership.id));
    // Sorted by id, which never changes: a rename while a client pages does not move anyone
    // across its cursor.
    if membership.scim.is_some() {
        record.gsi2pk = Some(keys::scim_users_of(&membership.organisation_id));
        record.gsi2sk = Some(membership.id.to_string());
    }
    record.item()
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

    /// The organisation's members among `ids`, in one consistent `BatchGetItem` per 100, in no
    /// particular order; unknown ids are left out.
    pub async fn memberships_by_id(
        &self,
        organisation: &OrganisationId,
        ids: &[UserId],
    ) -> Result<Vec<Membership>, StoreError> {
        self.membership_items(organisation, ids)
            .await?
            .into_iter()
            .map(|item| body::<MembershipItem>(item).map(|stored| stored.membership))
            .collect()
    }

    /// As [`DynamoTable::memberships_by_id`], for a job that serves many people at once: one
    /// that does not read is logged and left out, as if gone, so that it stops none of the
    /// others.
    pub async fn readable_memberships_by_id(
        &self,
        organisation: &OrganisationId,
        ids: &[UserId],
    ) -> Result<Vec<Membership>, StoreError> {
        let items = self.membership_items(organisation, ids).await?;
        Ok(readable_bodies::<MembershipItem>(items)
            .into_iter()
            .map(|stored| stored.membership)
            .collect())
    }

    async fn membership_items(
        &self,
        organisation: &OrganisationId,
        ids: &[UserId],
    ) -> Result<Vec<Item>, StoreError> {
        let keys: Vec<_> = ids
            .iter()
            .map(|id| keys::membership(organisation, id))
            .collect();
        self.batch_get(&keys).await
    }

    /// One page of the organisation's users sorted by name: one `Query` of `gsi1`, filtered.
    pub async fn list_users(
        &self,
        organisation: &OrganisationId,
        filter: &UserFilter,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<UserPage, StoreError> {
        let partition = keys::users_of(organisation);
        let mut query = self
            .client
            .query()
            .table_name(&self.name)
            .index_name("gsi1")
            .expression_attribute_values(":users", s(partition.clone()));
        // DynamoDB refuses an empty key value: an empty prefix is no prefix.
        let prefix = filter
            .name_prefix
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(str::to_lowercase);
        query = match &prefix {
            Some(prefix) => query
                .key_condition_expression("gsi1pk = :users AND begins_with(gsi1sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix.as_str())),
            None => query.key_condition_expression("gsi1pk = :users"),
        };
        let mut conditions = Vec::new();
        if let Some(status) = &filter.status {
            conditions.push("#status = :status".to_owned());
            query = query
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status.as_str()));
        }
        let no_groups = Vec::new();
        for (list, placeholder, value, groups) in [
            (
                "role_names",
                ":role",
                &filter.role,
                &filter.groups_giving_role,
            ),
            (
                "site_ids",
                ":site",
                &filter.site,
                &filter.groups_giving_site,
            ),
            (
                "tag_keys",
                ":tag",
                &filter.tag.as_ref().map(|t| t.to_lowercase()),
                &no_groups,
            ),
        ] {
            let Some(value) = value else { continue };
            let mut alternatives = vec![format!("contains({list}, {placeholder})")];
            query = query.expression_attribute_values(placeholder, s(value.as_str()));
            for (index, group) in groups.iter().enumerate() {
                let group_placeholder = format!("{placeholder}_group{index}");
                alternatives.push(format!("contains(scim_groups, {group_placeholder})"));
                query = query.expression_attribute_values(group_placeholder, s(group.as_str()));
            }
            conditions.push(format!("({})", alternatives.join(" OR ")));
        }
        if let Some(cursor) = cursor {
            let start = user_list(organisation)
                .start_after_prefixed(cursor, prefix.as_deref().unwrap_or_default())?;
            query = query.set_exclusive_start_key(Some(start));
        }
        // A filter applies after `Limit`, so only an unfiltered page can read one more item to
        // learn whether the list ends with it.
        let (items, last) = if conditions.is_empty() {
            self.limited_page(query, limit).await?
        } else {
            let output = query
                .filter_expression(conditions.join(" AND "))
                .limit(limit)
                .send()
                .await
                .map_err(StoreError::unavailable)?;
            (output.items.unwrap_or_default(), output.last_evaluated_key)
        };
        let users = items
            .into_iter()
            .map(|item| body::<MembershipItem>(item).map(|stored| stored.membership))
            .collect::<Result<_, _>>()?;
        Ok(UserPage {
            users,
            next_cursor: last
                .as_ref()
                .map(|key| user_list(organisation).cursor_after(key)),
        })
    }

    /// The account's memberships (in `organisations`, or all) with their organisations, in one
    /// `BatchGetItem` (organisation id order).
    pub async fn memberships_of(
        &self,
        account: &Account,
        only: Option<&OrganisationId>,
    ) -> Result<Vec<(Membership, Organisation)>, StoreError> {
        let pairs: Vec<_> = account
            .memberships
            .iter()
            .filter(|(organisation, _)| only.is_none_or(|o| o == *organisation))
            .collect();
        let keys: Vec<keys::Key> = pairs
            .iter()
            .flat_map(|(organisation, user)| {
                [
                    keys::membership(organisation, user),
                    keys::organisation(organisation),
                ]
            })
            .collect();
        let mut memberships = Vec::new();
        let mut organisations = std::collections::HashMap::new();
        for item in self.batch_get(&keys).await? {
            if text(&item, "sk") == Some("ORG") {
                let organisation: Organisation = body(item)?;
                organisations.insert(organisation.id.clone(), organisation);
            } else {
                memberships.push(body::<MembershipItem>(item)?.membership);
            }
        }
        let mut found: Vec<_> = memberships
            .into_iter()
            .filter_map(|m| {
                organisations
                    .get(&m.organisation_id)
                    .cloned()
                    .map(|o| (m, o))
            })
            .collect();
        found.sort_by(|a, b| a.0.organisation_id.cmp(&b.0.organisation_id));
        Ok(found)
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

    /// Creates a membership with its account: a new account (and its email sentinel), or an
    /// existing one (at the version read) that joins the organisation.
    pub(crate) fn add_member(
        &self,
        tx: &mut Transaction,
        membership: &Membership,
        account: &Account,
        account_is_new: bool,
    ) {
        if account_is_new {
            let mut account = account.clone();
            account
                .memberships
                .insert(membership.organisation_id.clone(), membership.id.clone());
            self.add_account(tx, &account);
        } else {
            tx.update(self.join_organisation(account, membership), OnFail::Stale);
        }
        self.add_membership(tx, membership);
    }

    /// Creates a user of an organisation (see `add_member`).
    pub async fn create_member(
        &self,
        membership: &Membership,
        account: &Account,
        account_is_new: bool,
    ) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        self.add_member(&mut tx, membership, account, account_is_new);
        tx.commit(self).await
    }

    /// Creates many members, several to a `TransactWriteItems` (at most 100 items, a person's
    /// items never split across two). A group that fails (a value taken, a lost race) is retried
    /// one person at a time, so each person gets their own outcome; outcomes come in order. An
    /// unavailable table is the error of the whole call (the group may have been written).
    pub async fn create_members(
        &self,
        members: &[(Membership, Account, bool)],
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let mut outcomes = Vec::with_capacity(members.len());
        let mut start = 0;
        while start < members.len() {
            let mut group = Transaction::default();
            let mut end = start;
            while let Some((membership, account, is_new)) = members.get(end) {
                let mut one = Transaction::default();
                self.add_member(&mut one, membership, account, *is_new);
                if end > start && !group.has_room_for(std::slice::from_ref(&one)) {
                    break;
                }
                group.append(one);
                end += 1;
            }
            match group.commit(self).await {
                Ok(()) => outcomes.extend((start..end).map(|_| Ok(()))),
                Err(error @ StoreError::Unavailable(_)) => return Err(error),
                Err(_) => {
                    for (membership, account, is_new) in &members[start..end] {
                        match self.create_member(membership, account, *is_new).await {
                            Err(error @ StoreError::Unavailable(_)) => return Err(error),
                            outcome => outcomes.push(outcome),
                        }
                    }
                }
            }
            start = end;
        }
        Ok(outcomes)
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
        if let Some(user_name) = membership.scim.as_ref().and_then(|s| s.user_name_key()) {
            tx.put(
                self,
                sentinel(
                    keys::scim_user_name_sentinel(organisation, &user_name),
                    owner,
                ),
                Some((Condition::absent(), OnFail::Taken(Uniqueness::ScimUserName))),
            );
        }
        if let Some(external_id) = membership.scim.as_ref().and_then(|s| s.external_id()) {
            tx.put(
                self,
                sentinel(
                    keys::scim_external_id_sentinel(organisation, external_id),
                    owner,
                ),
                Some((
                    Condition::absent(),
                    OnFail::Taken(Uniqueness::ScimExternalId),
                )),
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

    /// Adds the deletes of `membership`'s sentinels and directory entries to `tx`.
    pub(crate) fn remove_side_items(&self, tx: &mut Transaction, membership: &Membership) {
        let organisation = &membership.organisation_id;
        tx.delete(
            self,
            &keys::account_member_sentinel(organisation, &membership.account_id),
            None,
        );
        if let Some(username) = &membership.username {
            tx.delete(
                self,
                &keys::username_sentinel(organisation, username.normalised()),
                None,
            );
        }
        if let Some(external_id) = &membership.profile.external_id {
            tx.delete(
                self,
                &keys::external_id_sentinel(organisation, external_id),
                None,
            );
        }
        if let Some(user_name) = membership.scim.as_ref().and_then(|s| s.user_name_key()) {
            tx.delete(
                self,
                &keys::scim_user_name_sentinel(organisation, &user_name),
                None,
            );
        }
        if let Some(external_id) = membership.scim.as_ref().and_then(|s| s.external_id()) {
            tx.delete(
                self,
                &keys::scim_external_id_sentinel(organisation, external_id),
                None,
            );
        }
        for term in directory_terms(membership) {
            tx.delete(
                self,
                &keys::directory_entry(organisation, &term, &membership.id),
                None,
            );
        }
    }

    /// Replaces `before` by `after` if nobody changed it meanwhile (else `Stale`), keeping the
    /// external-id and SCIM sentinels, directory entries and, with `email`, the login email in
    /// step.
    /// `after.version` must be `before.version + 1`, and `after.session_epoch`
    /// `before.next_session_epoch(after.status)` (a deactivation ends the sessions).
    pub async fn update_membership(
        &self,
        before: &Membership,
        after: &Membership,
        email: Option<&EmailChange>,
    ) -> Result<(), StoreError> {
        self.membership_update(before, after, email)
            .commit(self)
            .await
    }

    /// Accepts the invitation link `token_hash`: uses it up, replaces `before` by `after` (as
    /// [`Self::update_membership`]) and saves `account`, all or nothing. `NotFound` when the link
    /// was used first; `Stale` when the membership or the account moved (the link still works
    /// then). Answers the written account.
    pub async fn accept_invitation(
        &self,
        before: &Membership,
        after: &Membership,
        account: &Account,
        token_hash: &str,
    ) -> Result<Account, StoreError> {
        // The link first: when it was used meanwhile (a second submit, say), that is what the
        // refusal says, not the membership's version that the use moved.
        let mut tx = Transaction::using_token::<Invitation>(self, token_hash);
        tx.append(self.membership_update(before, after, None));
        self.save_account_with(account, tx).await
    }

    /// Moves the login to the address the email-change link `token_hash` was sent to: uses the
    /// link up and replaces `before` by `after` with `change` (as [`Self::update_membership`]),
    /// all or nothing. `NotFound` when the link was used first or a newer one was sent;
    /// `Stale` when the membership or the account moved.
    pub async fn change_email_using(
        &self,
        before: &Membership,
        after: &Membership,
        change: &EmailChange,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        let mut tx = Transaction::using_token::<crate::EmailChangeToken>(self, token_hash);
        // Only the account's newest link works.
        tx.delete(
            self,
            &keys::email_change_pending(&change.account.id),
            Some((Condition::owned_by(token_hash), OnFail::Missing)),
        );
        tx.append(self.membership_update(before, after, Some(change)));
        tx.commit(self).await
    }

    /// The writes of [`Self::update_membership`].
    fn membership_update(
        &self,
        before: &Membership,
        after: &Membership,
        email: Option<&EmailChange>,
    ) -> Transaction {
        debug_assert_eq!(
            after.session_epoch,
            before.next_session_epoch(after.status),
            "the session epoch of a membership's next version"
        );
        // Fail-safe beyond the contract: a deactivating write always raises the epoch.
        let written = Membership {
            session_epoch: after
                .session_epoch
                .max(before.next_session_epoch(after.status)),
            ..after.clone()
        };
        let mut tx = Transaction::default();
        let organisation = &after.organisation_id;
        let owner = after.id.as_str();
        tx.put(
            self,
            membership_item(&written),
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

        let (old_name, new_name) = (
            before.scim.as_ref().and_then(|s| s.user_name_key()),
            after.scim.as_ref().and_then(|s| s.user_name_key()),
        );
        if old_name != new_name {
            if let Some(old) = &old_name {
                tx.delete(
                    self,
                    &keys::scim_user_name_sentinel(organisation, old),
                    None,
                );
            }
            if let Some(new) = &new_name {
                tx.put(
                    self,
                    sentinel(keys::scim_user_name_sentinel(organisation, new), owner),
                    Some((Condition::absent(), OnFail::Taken(Uniqueness::ScimUserName))),
                );
            }
        }
        let (old_external_id, new_external_id) = (
            before.scim.as_ref().and_then(|s| s.external_id()),
            after.scim.as_ref().and_then(|s| s.external_id()),
        );
        if old_external_id != new_external_id {
            if let Some(old) = old_external_id {
                tx.delete(
                    self,
                    &keys::scim_external_id_sentinel(organisation, old),
                    None,
                );
            }
            if let Some(new) = new_external_id {
                tx.put(
                    self,
                    sentinel(keys::scim_external_id_sentinel(organisation, new), owner),
                    Some((
                        Condition::absent(),
                        OnFail::Taken(Uniqueness::ScimExternalId),
                    )),
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
        tx
    }

    /// Moves the account's login email (sentinels included) and the email copy on the person's
    /// other memberships, withdrawing the invitation links those hold.
    fn change_login_email(&self, tx: &mut Transaction, change: &EmailChange, changed: &Membership) {
        let account = &change.account;
        let mut next = account.clone();
        next.email = Some(change.email.clone());
        // A change of letter case is the same mailbox: it stays as verified as it was.
        let same_mailbox =
            account.email.as_ref().map(Email::normalised) == Some(change.email.normalised());
        next.email_verified = change.verified || (same_mailbox && account.email_verified);
        next.credential_epoch += 1;
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
                email_sentinel_item(&next, &change.email),
                Some((Condition::absent(), OnFail::Taken(Uniqueness::Email))),
            );
        }
        let email: aws_sdk_dynamodb::types::AttributeValue =
            serde_dynamo::to_attribute_value(&change.email).expect("an email serialises");
        for (organisation, user) in &account.memberships {
            if *organisation == changed.organisation_id {
                continue;
            }
            let released = change.released_in.contains(organisation);
            let key = keys::membership(organisation, user);
            tx.update(
                Update::builder()
                    .table_name(&self.name)
                    .key("pk", s(key.pk))
                    .key("sk", s(key.sk))
                    // A link sent to the old address must not confirm the new one.
                    .update_expression(
                        "SET profile.email = :email, version = version + :one \
                         REMOVE invitation_token_hash",
                    )
                    .condition_expression(
                        "attribute_exists(pk) AND (attribute_not_exists(profile.managed_by.email) \
                         OR profile.managed_by.email IN (:self, :admin, :released))",
                    )
                    .expression_attribute_values(":email", email.clone())
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":self", s("self"))
                    .expression_attribute_values(":admin", s("admin"))
                    // Never an owner's name: a copy an identity provider keeps is refused.
                    .expression_attribute_values(
                        ":released",
                        s(if released { "scim" } else { "self" }),
                    )
                    .build()
                    .expect("update has table, key and expression"),
                OnFail::EmailManagedElsewhere,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use roster_domain::{
        ids::{AccountId, OrganisationId},
        membership::{InvitationStatus, Membership, Role, RoleGrant},
        organisation::Organisation,
        profile::Profile,
        scim::user::ScimUser,
    };

    use super::*;

    fn person(scim: bool) -> Membership {
        let organisation = Organisation::new(
            OrganisationId::generate(),
            "Acme".into(),
            Default::default(),
        );
        let mut person = Membership::joining(
            &organisation,
            AccountId::generate(),
            Profile::named("Ada".into(), "Lovelace".into(), None),
            None,
            vec![RoleGrant::organisation_wide(Role::Member)],
            InvitationStatus::NotInvited,
        );
        person.scim = scim.then(|| ScimUser {
            document: Default::default(),
            created: chrono::Utc::now(),
            last_modified: chrono::Utc::now(),
        });
        person
    }

    fn key(item: &crate::record::Item, name: &str) -> Option<String> {
        text(item, name).map(str::to_owned)
    }

    #[test]
    fn only_scim_members_are_in_the_scim_index_which_sorts_by_id() {
        let provisioned = person(true);
        let item = membership_item(&provisioned);
        assert_eq!(
            key(&item, "gsi2pk"),
            Some(keys::scim_users_of(&provisioned.organisation_id))
        );
        assert_eq!(key(&item, "gsi2sk"), Some(provisioned.id.to_string()));
        assert_eq!(
            key(&item, "gsi1sk"),
            Some(format!("lovelace ada#{}", provisioned.id))
        );

        let added = membership_item(&person(false));
        assert_eq!((key(&added, "gsi2pk"), key(&added, "gsi2sk")), (None, None));
        assert!(key(&added, "gsi1pk").is_some());
    }

    #[test]
    fn a_moved_login_tells_the_address_it_leaves_but_not_a_change_of_letter_case() {
        let email = |e: &str| Email::try_from(e).unwrap();
        let mut before = person(false);
        before.profile.email = Some(email("ada@old.example"));
        let change = |account_email: Option<&str>, new: &str| EmailChange {
            account: Account::new(account_email.map(email), None),
            email: email(new),
            released_in: vec![],
            verified: false,
        };
        let moved = change(Some("login@old.example"), "ada@new.example");
        assert_eq!(
            moved.moved_from(&before).map(Email::normalised),
            Some("login@old.example"),
            "the login email, not the profile's"
        );
        let no_login = change(None, "ada@new.example");
        assert_eq!(
            no_login.moved_from(&before).map(Email::normalised),
            Some("ada@old.example")
        );
        let case_only = change(Some("Ada@New.example"), "ada@new.example");
        assert_eq!(case_only.moved_from(&before), None);
    }
}
