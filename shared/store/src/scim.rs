//! SCIM's reads and writes. A SCIM token names its organisation (`<organisation>.<secret>`), so a
//! read can fetch the token and the item it wants in one `BatchGetItem`: a `GET /Users/{id}` is
//! one call, a `userName eq` lookup two. Nothing read is answered unless the token, read in the
//! same call, is a live SCIM token of that organisation.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use roster_domain::{
    ids::{OrganisationId, UserId},
    membership::Membership,
    organisation::Organisation,
    scim::schema::{ResourceKind, name_key},
    session::secret_hash,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    Account, ApiKey, DynamoTable, KeyKind, StoreError, Uniqueness,
    cursor::IndexList,
    keys::{self, Key},
    members::{MembershipItem, member_list, membership_item},
    record::{Item, Record, Sentinel, body, s, sentinel, text},
    transaction::{Condition, OnFail, Transaction},
};

/// The organisation a SCIM bearer token claims, and the token's hash. Not yet verified: every
/// store call that takes a claim checks the token against the table before answering.
#[derive(Debug, Clone)]
pub struct ScimClaim {
    organisation: OrganisationId,
    token_hash: String,
}

impl ScimClaim {
    /// The claim of a bearer token shaped `<organisation>.<secret>`.
    pub fn parse(token: &str) -> Option<Self> {
        let (organisation, secret) = token.split_once('.')?;
        if secret.is_empty() {
            return None;
        }
        Some(Self {
            organisation: OrganisationId::try_from(organisation).ok()?,
            token_hash: secret_hash(token),
        })
    }

    /// The organisation the token claims (verified only once a store call accepted the claim).
    pub fn organisation(&self) -> &OrganisationId {
        &self.organisation
    }

    /// The token's id when `item` is a live SCIM token of the claimed organisation.
    fn admits(&self, item: Option<Item>) -> Result<String, StoreError> {
        let key: Option<ApiKey> = item.map(body).transpose()?;
        match key {
            Some(key) if key.kind == KeyKind::Scim && key.organisation_id == self.organisation => {
                Ok(key.id)
            }
            _ => Err(StoreError::InvalidToken),
        }
    }
}

/// A new SCIM token's secret: it carries the organisation it belongs to.
pub fn scim_token(organisation: &OrganisationId, secret: &str) -> String {
    format!("{organisation}.{secret}")
}

/// How a SCIM filter finds a member by one value.
#[derive(Debug, Clone)]
pub enum MemberLookup {
    /// The `userName`, lowercased.
    UserName(String),
    /// The SCIM `externalId`, case-exact.
    ExternalId(String),
    /// The login email, normalised.
    Email(String),
}

/// A SCIM group: its document (`displayName`, `externalId`, `members`) as the client wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimGroup {
    pub id: String,
    pub organisation_id: OrganisationId,
    pub document: Map<String, Value>,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub version: u64,
}

impl ScimGroup {
    /// The `displayName` key its uniqueness sentinel is written under.
    pub fn name_key(&self) -> String {
        name_key(
            self.document
                .get("displayName")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        )
    }
}

/// A group in the organisation's list of groups: its key, and how many bytes of JSON its
/// document is, so a page of groups can be planned before they are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimGroupMarker {
    pub key: Key,
    pub bytes: usize,
}

/// A group marker as stored (written in the group's every transaction).
#[derive(Serialize, Deserialize)]
struct MarkerBody {
    owner: String,
    /// None in a marker written before markers held sizes.
    #[serde(default)]
    bytes: Option<usize>,
}

impl MarkerBody {
    fn of(group: &ScimGroup) -> Self {
        MarkerBody {
            owner: group.id.clone(),
            bytes: serde_json::to_string(&group.document)
                .ok()
                .map(|json| json.len()),
        }
    }
}

/// `group`'s marker (`body`, `MarkerBody::of` it). With `left_pending` (its write left
/// members pending) it is also in the `gsi1` list of pending groups, under the moment the
/// write saved the group, so the jobs function finds them should the write be cut off before
/// it clears them; the marker is listed there, not the members, as it is small.
fn marker_item(group: &ScimGroup, body: &MarkerBody, left_pending: bool) -> Item {
    let (organisation, id) = (&group.organisation_id, &group.id);
    let mut record = Record::new(keys::scim_group_marker(organisation, id), body);
    if left_pending {
        record.gsi1pk = Some(keys::SCIM_GROUPS_PENDING.to_owned());
        record.gsi1sk = Some(keys::scim_group_pending_since(
            group.last_modified,
            organisation,
            id,
        ));
    }
    record.item()
}

fn is_key(item: &Item, key: &Key) -> bool {
    text(item, "pk") == Some(key.pk.as_str()) && text(item, "sk") == Some(key.sk.as_str())
}

fn group_and_pending_keys(organisation: &OrganisationId, id: &str) -> [Key; 2] {
    [
        keys::scim_group(organisation, id),
        keys::scim_group_pending(organisation, id),
    ]
}

/// The group `id` and its pending members among `items` (read at its two keys).
fn group_and_pending(
    organisation: &OrganisationId,
    id: &str,
    items: Vec<Item>,
) -> Result<Option<(ScimGroup, Option<PendingMembers>)>, StoreError> {
    let group_key = keys::scim_group(organisation, id);
    let (mut group, mut pending) = (None, None);
    for item in items {
        if is_key(&item, &group_key) {
            group = Some(body::<ScimGroup>(item)?);
        } else {
            pending = Some(body::<PendingMembers>(item)?);
        }
    }
    Ok(group.map(|group| (group, pending)))
}

/// The members `after`'s write left pending, as stored.
fn pending_item(after: &ScimGroup, left: PendingMembers) -> Item {
    Record::new(
        keys::scim_group_pending(&after.organisation_id, &after.id),
        left,
    )
    .item()
}

/// The organisation's SCIM members in `gsi2`, sorted by user id.
fn scim_user_list(organisation: &OrganisationId) -> IndexList {
    member_list("gsi2", keys::scim_users_of(organisation), organisation)
}

/// An organisation's SCIM members as an unfiltered list reads them.
pub enum ScimMembers {
    /// All of them (no more than the window asked for).
    All(Vec<Membership>),
    /// More than the window: the first page, and the cursor after it.
    FirstPage {
        members: Vec<Membership>,
        next_cursor: String,
    },
}

/// A membership a group write touches: replaced by `after` when the write changes it, else held
/// to the version it was read at, so that it is written by one write of the group at a time
/// (one that read the group earlier and is still writing it is refused, not undone).
#[derive(Debug, Clone)]
pub struct MemberWrite {
    pub before: Membership,
    pub after: Option<Membership>,
}

/// How much of a group write `save_scim_group` made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupSaved {
    /// The group and all its member writes.
    Whole,
    /// The group, naming its member writes as pending: they are still to be made.
    MembersPending,
}

/// The members whose memberships a group write had still to write when it saved the group (at
/// most `PENDING_MEMBERS_MAX`), kept beside the group until they are written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingMembers {
    /// The version of the group the write saved.
    pub version: u64,
    pub members: BTreeSet<UserId>,
}

/// Most members one group write may touch: as many ids as one item holds, with room to spare.
pub const PENDING_MEMBERS_MAX: usize = 10_000;

/// What is still to be done after a SCIM delete's commit, kept in the deleted member's
/// partition until it is done: the groups that list them (their ids).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScimDeletion {
    pub groups: BTreeSet<String>,
}

/// How long a [`ScimDeletion`] waits for a retry of its delete: Entra ID retries a failed
/// export in its later cycles, for days.
const SCIM_DELETION_KEPT_SECONDS: i64 = 14 * 86_400;

fn member(item: Item) -> Result<Option<Membership>, StoreError> {
    let membership = body::<MembershipItem>(item)?.membership;
    Ok(membership.scim.is_some().then_some(membership))
}

impl DynamoTable {
    /// The token and `keys` in one consistent `BatchGetItem`; the token's id and the items
    /// found, only if the token admits.
    async fn with_token_items(
        &self,
        claim: &ScimClaim,
        keys: &[Key],
    ) -> Result<(String, Vec<Item>), StoreError> {
        let token = keys::api_key(&claim.token_hash);
        let mut items = self
            .batch_get(&[std::slice::from_ref(&token), keys].concat())
            .await?;
        let token_at = items.iter().position(|item| is_key(item, &token));
        let id = claim.admits(token_at.map(|at| items.swap_remove(at)))?;
        Ok((id, items))
    }

    /// The token and `key` in one consistent `BatchGetItem`; the token's id and the item, only
    /// if the token admits.
    async fn with_token_id(
        &self,
        claim: &ScimClaim,
        key: Key,
    ) -> Result<(String, Option<Item>), StoreError> {
        let (id, mut items) = self.with_token_items(claim, &[key]).await?;
        Ok((id, items.pop()))
    }

    async fn with_token(&self, claim: &ScimClaim, key: Key) -> Result<Option<Item>, StoreError> {
        Ok(self.with_token_id(claim, key).await?.1)
    }

    /// The token's id and its organisation, in one call (before a write).
    pub async fn scim_organisation(
        &self,
        claim: &ScimClaim,
    ) -> Result<(String, roster_domain::organisation::Organisation), StoreError> {
        let (id, item) = self
            .with_token_id(claim, keys::organisation(&claim.organisation))
            .await?;
        let organisation = item
            .map(body)
            .transpose()?
            .ok_or(StoreError::InvalidToken)?;
        Ok((id, organisation))
    }

    /// Checks the claim on its own (one `GetItem`), before a write or a listing; answers the
    /// token's id (the actor of the audit log).
    pub async fn scim_authorise(&self, claim: &ScimClaim) -> Result<String, StoreError> {
        claim.admits(self.get(&keys::api_key(&claim.token_hash), true).await?)
    }

    /// A provisioned member by id: one `BatchGetItem` with the token.
    pub async fn scim_member(
        &self,
        claim: &ScimClaim,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        self.with_token(claim, keys::membership(&claim.organisation, user))
            .await?
            .map(member)
            .transpose()
            .map(Option::flatten)
    }

    /// A provisioned member by a unique value: the sentinel with the token, then the membership
    /// (an email goes through the account: one call more). A member found is the one the value
    /// names only as far as the caller's filter confirms it on the document.
    pub async fn scim_member_where(
        &self,
        claim: &ScimClaim,
        lookup: &MemberLookup,
    ) -> Result<Option<Membership>, StoreError> {
        let organisation = &claim.organisation;
        let sentinels = match lookup {
            MemberLookup::UserName(key) => vec![keys::scim_user_name_sentinel(organisation, key)],
            // A User provisioned before SCIM externalIds had sentinels of their own is found
            // through the profile's external id, where the organisation takes it.
            MemberLookup::ExternalId(id) => vec![
                keys::scim_external_id_sentinel(organisation, id),
                keys::external_id_sentinel(organisation, id),
            ],
            MemberLookup::Email(email) => vec![keys::email_sentinel(email)],
        };
        let (_, items) = self.with_token_items(claim, &sentinels).await?;
        let Some(item) = sentinels
            .iter()
            .find_map(|key| items.iter().find(|item| is_key(item, key)))
            .cloned()
        else {
            return Ok(None);
        };
        let owner = body::<Sentinel>(item)?.owner;
        let user = match lookup {
            MemberLookup::Email(_) => {
                let account = roster_domain::ids::AccountId::try_from(owner.as_str())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                match self.account(&account).await? {
                    Some(account) => account.memberships.get(organisation).cloned(),
                    None => None,
                }
            }
            _ => Some(
                UserId::try_from(owner.as_str()).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            ),
        };
        let Some(user) = user else { return Ok(None) };
        self.get(&keys::membership(organisation, &user), true)
            .await?
            .map(member)
            .transpose()
            .map(Option::flatten)
    }

    /// Up to `limit` of the organisation's SCIM members, sorted by id, from `cursor` on (one
    /// `Query` of the `gsi2` index, which only they are in), with the cursor after them when
    /// more follow. Call `scim_authorise` first.
    pub async fn scim_members_page(
        &self,
        organisation: &OrganisationId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<(Vec<Membership>, Option<String>), StoreError> {
        let list = scim_user_list(organisation);
        let start = cursor.map(|c| list.start_after(c)).transpose()?;
        let query = self
            .scim_members_query(&list)
            .set_exclusive_start_key(start);
        let (items, last) = self.limited_page(query, limit).await?;
        let mut members = Vec::new();
        for item in items {
            members.extend(member(item)?);
        }
        let next = last.as_ref().map(|key| list.cursor_after(key));
        Ok((members, next))
    }

    /// Every SCIM member of the organisation when there are at most `window`, else the first
    /// `page` of them (`page <= window`) with the cursor after it: at most `window + 1` items
    /// read, a `Query` per MB of them. Call `scim_authorise` first.
    pub async fn scim_members_within(
        &self,
        organisation: &OrganisationId,
        window: usize,
        page: usize,
    ) -> Result<ScimMembers, StoreError> {
        let list = scim_user_list(organisation);
        let (mut items, more) = self
            .query_up_to(self.scim_members_query(&list), Some(window))
            .await?;
        if more {
            items.truncate(page.max(1));
        }
        let last = items.last().map(|item| list.cursor_after(item));
        let mut members = Vec::new();
        for item in items {
            members.extend(member(item)?);
        }
        Ok(match (more, last) {
            (true, Some(next_cursor)) => ScimMembers::FirstPage {
                members,
                next_cursor,
            },
            _ => ScimMembers::All(members),
        })
    }

    fn scim_members_query(
        &self,
        list: &IndexList,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.name)
            .index_name(list.index)
            .key_condition_expression("gsi2pk = :members")
            .expression_attribute_values(":members", s(list.partition.as_str()))
    }

    /// Removes a member from the organisation with everything kept beside them: sentinels,
    /// directory entries, vehicles (and their plates), devices. The account loses the
    /// membership; an account left with none is removed with its email. The person's sessions
    /// here end with the membership they need (`DynamoTable::caller`).
    ///
    /// The same transaction leaves a [`ScimDeletion`] of what is still to be done after it
    /// (the groups that list the member, their images): the caller calls
    /// [`DynamoTable::finish_scim_deletion`] once that is done, and a delete retried after a
    /// cut-off finds it with [`DynamoTable::scim_deletion`].
    pub async fn delete_member(
        &self,
        membership: &Membership,
        account: &Account,
    ) -> Result<(), StoreError> {
        let organisation = &membership.organisation_id;
        let mut tx = Transaction::default();
        tx.delete(
            self,
            &keys::membership(organisation, &membership.id),
            Some((Condition::version(membership.version), OnFail::Stale)),
        );
        let mut deletion = Record::new(
            keys::scim_deletion(organisation, &membership.id),
            ScimDeletion {
                groups: membership.scim_groups.clone(),
            },
        );
        deletion.ttl = Some(Utc::now().timestamp() + SCIM_DELETION_KEPT_SECONDS);
        tx.put(self, deletion.item(), None);
        let partition = keys::member_partition(organisation, &membership.id);
        for key in self.vehicles_and_devices(organisation, &partition).await? {
            tx.delete(self, &key, None);
        }
        self.remove_side_items(&mut tx, membership);
        let mut remaining = account.clone();
        remaining.memberships.remove(organisation);
        if remaining.memberships.is_empty() {
            tx.delete(
                self,
                &keys::account(&account.id),
                Some((Condition::version(account.version), OnFail::Stale)),
            );
            if let Some(email) = &account.email {
                tx.delete(self, &keys::email_sentinel(email.normalised()), None);
            }
        } else {
            remaining.version += 1;
            tx.put(
                self,
                remaining.record().item(),
                Some((Condition::version(account.version), OnFail::Stale)),
            );
        }
        tx.commit(self).await
    }

    /// What a SCIM delete of `user` left to do, if it was cut off before it was done (one
    /// `BatchGetItem` with the token). An expired one is still answered: finishing is harmless.
    pub async fn scim_deletion(
        &self,
        claim: &ScimClaim,
        user: &UserId,
    ) -> Result<Option<ScimDeletion>, StoreError> {
        self.with_token(claim, keys::scim_deletion(&claim.organisation, user))
            .await?
            .map(body)
            .transpose()
    }

    /// Removes the vehicles and devices of the deleted member `user` added after the delete's
    /// read and before its commit, which would be left in a partition nobody reads, their plates
    /// taken for good. None can be added after the commit: adding a vehicle or a device checks
    /// that the membership is there. A person holds a few of each, well within one transaction.
    pub async fn remove_late_vehicles_and_devices(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
    ) -> Result<(), StoreError> {
        let partition = keys::member_partition(organisation, user);
        let late = self.vehicles_and_devices(organisation, &partition).await?;
        if late.is_empty() {
            return Ok(());
        }
        let mut tx = Transaction::default();
        for key in &late {
            tx.delete(self, key, None);
        }
        tx.commit(self).await
    }

    /// Ends the SCIM delete of `user`, once everything after its commit is done: its
    /// [`ScimDeletion`] goes.
    pub async fn finish_scim_deletion(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
    ) -> Result<(), StoreError> {
        self.delete(&keys::scim_deletion(organisation, user)).await
    }

    /// The keys of the vehicles and devices in the member partition `partition`, with the plate
    /// sentinel of each vehicle.
    async fn vehicles_and_devices(
        &self,
        organisation: &OrganisationId,
        partition: &str,
    ) -> Result<Vec<Key>, StoreError> {
        let mut keys = vec![];
        for prefix in [keys::VEHICLE_PREFIX, keys::DEVICE_PREFIX] {
            for item in self.query_partition(partition, prefix).await? {
                let Some(sk) = text(&item, "sk").map(str::to_owned) else {
                    continue;
                };
                if prefix == keys::VEHICLE_PREFIX {
                    let vehicle: crate::Vehicle = body(item)?;
                    keys.push(keys::plate_sentinel(
                        organisation,
                        vehicle.plate.normalised(),
                    ));
                }
                keys.push(Key {
                    pk: partition.to_owned(),
                    sk,
                });
            }
        }
        Ok(keys)
    }

    pub async fn scim_group(
        &self,
        claim: &ScimClaim,
        id: &str,
    ) -> Result<Option<ScimGroup>, StoreError> {
        self.with_token(claim, keys::scim_group(&claim.organisation, id))
            .await?
            .map(body)
            .transpose()
    }

    /// The organisation's group `id`, for its administrators (SCIM clients use `scim_group`).
    pub async fn scim_group_of(
        &self,
        organisation: &OrganisationId,
        id: &str,
    ) -> Result<Option<ScimGroup>, StoreError> {
        self.get(&keys::scim_group(organisation, id), true)
            .await?
            .map(body)
            .transpose()
    }

    /// The group whose `displayName` (lowercased) is `name_key`: sentinel with token, then group.
    pub async fn scim_group_named(
        &self,
        claim: &ScimClaim,
        name_key: &str,
    ) -> Result<Option<ScimGroup>, StoreError> {
        let sentinel_key = keys::scim_group_name_sentinel(&claim.organisation, name_key);
        let Some(item) = self.with_token(claim, sentinel_key).await? else {
            return Ok(None);
        };
        let id = body::<Sentinel>(item)?.owner;
        self.get(&keys::scim_group(&claim.organisation, &id), true)
            .await?
            .map(body)
            .transpose()
    }

    /// A page of the organisation's groups, by id, from `cursor` on (one `Query`).
    pub async fn scim_groups_page(
        &self,
        organisation: &OrganisationId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<(Vec<ScimGroup>, Option<String>), StoreError> {
        self.organisation_page(organisation, keys::SCIM_GROUP_PREFIX, limit, cursor)
            .await
    }

    /// The markers of the organisation's groups, by id, when there are at most `window`; `None`
    /// when there are more. Reads each group's marker, not the group (which holds its
    /// members): a `Query` of about 70 bytes a group. Call `scim_authorise` first.
    pub async fn scim_group_markers_within(
        &self,
        organisation: &OrganisationId,
        window: usize,
    ) -> Result<Option<Vec<ScimGroupMarker>>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.name)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::organisation(organisation).pk))
            .expression_attribute_values(":prefix", s(keys::SCIM_GROUP_MARKER_PREFIX))
            .consistent_read(true);
        let (markers, more) = self.query_up_to(query, Some(window)).await?;
        if more {
            return Ok(None);
        }
        Ok(Some(
            markers
                .into_iter()
                .filter_map(|marker| {
                    let sk = text(&marker, "sk")?;
                    let group = sk.strip_prefix(keys::SCIM_GROUP_MARKER_PREFIX)?;
                    let key = keys::scim_group(organisation, group);
                    // A marker from before markers held sizes: as large as a group may be.
                    let bytes = body::<MarkerBody>(marker)
                        .ok()
                        .and_then(|marker| marker.bytes)
                        .unwrap_or(ResourceKind::Group.document_max());
                    Some(ScimGroupMarker { key, bytes })
                })
                .collect(),
        ))
    }

    /// The groups at `keys` (a `BatchGetItem` per 100), by id; gone ones are left out.
    pub async fn scim_groups_at(&self, keys: &[Key]) -> Result<Vec<ScimGroup>, StoreError> {
        let mut groups: Vec<ScimGroup> = self
            .batch_get(keys)
            .await?
            .into_iter()
            .map(body)
            .collect::<Result<_, _>>()?;
        groups.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(groups)
    }

    /// The organisation's SCIM users among `ids` (see `memberships_by_id`; people not
    /// provisioned by SCIM are left out).
    pub(crate) async fn scim_members_by_id(
        &self,
        organisation: &OrganisationId,
        ids: &[UserId],
    ) -> Result<Vec<Membership>, StoreError> {
        let mut members = self.memberships_by_id(organisation, ids).await?;
        members.retain(|m| m.scim.is_some());
        Ok(members)
    }

    /// The group `id` (as `scim_group`) with the members a write of it left pending (see
    /// `save_scim_group`): one `BatchGetItem` with the token.
    pub async fn scim_group_to_write(
        &self,
        claim: &ScimClaim,
        id: &str,
    ) -> Result<Option<(ScimGroup, Option<PendingMembers>)>, StoreError> {
        let (_, items) = self
            .with_token_items(claim, &group_and_pending_keys(&claim.organisation, id))
            .await?;
        group_and_pending(&claim.organisation, id, items)
    }

    /// The group `id` of `organisation` with the members a write of it left pending, read
    /// without a token (by the jobs function, finishing the write): one `BatchGetItem`.
    pub(crate) async fn scim_group_left_pending(
        &self,
        organisation: &OrganisationId,
        id: &str,
    ) -> Result<Option<(ScimGroup, Option<PendingMembers>)>, StoreError> {
        let items = self
            .batch_get(&group_and_pending_keys(organisation, id))
            .await?;
        group_and_pending(organisation, id, items)
    }

    /// Writes a group (new when `before` is `None`, else replacing `before` if nobody changed it
    /// meanwhile; the `displayName` sentinel moves with the name, the marker says its size)
    /// with its member writes: in one transaction when they fit in one, which also clears the
    /// members a write before left `pending`. When they do not fit, the group goes first and
    /// alone, naming the members as pending (so a request its write refuses writes no member);
    /// the caller then writes them (`save_scim_group_members`) and clears them
    /// (`clear_scim_group_pending`). A request cut off before that leaves them to the group's
    /// next write, which reads them with the group (`scim_group_to_write`) and writes them to
    /// agree with its own document. Either way the write holds to the pending members it was
    /// given (the ones read with `before`), else `Stale`: a read of the group and its pending
    /// members is not isolated from the write that made them.
    pub async fn save_scim_group(
        &self,
        before: Option<&ScimGroup>,
        pending: Option<&PendingMembers>,
        after: &ScimGroup,
        members: &[MemberWrite],
    ) -> Result<GroupSaved, StoreError> {
        let pending_key = keys::scim_group_pending(&after.organisation_id, &after.id);
        // Cleared since it was read (its members all written) is as good as read.
        let as_read = || {
            let condition = pending.map_or_else(Condition::absent, |pending| {
                Condition::absent_or_version(pending.version)
            });
            (condition, OnFail::Stale)
        };
        // What the group's write does with the pending members read: clears them, or holds to
        // there being none (a new group has none, nor a write before it that could leave some).
        let mut cleared = Transaction::default();
        if before.is_some() {
            match pending {
                Some(_) => cleared.delete(self, &pending_key, Some(as_read())),
                None => cleared.check(self, &pending_key, as_read()),
            };
        }
        let marker = MarkerBody::of(after);
        let marked = |left_pending| {
            let mut write = Transaction::default();
            write.put(self, marker_item(after, &marker, left_pending), None);
            write
        };
        let mut whole = vec![cleared, marked(false)];
        whole.extend(members.iter().map(|m| self.member_write(m)));
        let mut group = self.group_write(before, after);
        if group.has_room_for(&whole) {
            whole.into_iter().for_each(|write| group.append(write));
            group.commit(self).await?;
            return Ok(GroupSaved::Whole);
        }
        let left = PendingMembers {
            version: after.version,
            members: members.iter().map(|m| m.before.id.clone()).collect(),
        };
        group.append(marked(true));
        group.put(self, pending_item(after, left), Some(as_read()));
        group.commit(self).await?;
        Ok(GroupSaved::MembersPending)
    }

    /// The group's own writes but its marker: the group (if still as `before`, or new and its
    /// name free), and its name sentinel when the name changes.
    fn group_write(&self, before: Option<&ScimGroup>, after: &ScimGroup) -> Transaction {
        let organisation = &after.organisation_id;
        let unchanged = match before {
            None => (
                Condition::absent(),
                OnFail::Taken(Uniqueness::ScimGroupName),
            ),
            Some(before) => (Condition::version(before.version), OnFail::Stale),
        };
        let mut group = Transaction::default();
        group.put(
            self,
            Record::new(keys::scim_group(organisation, &after.id), after).item(),
            Some(unchanged),
        );
        let name_key = after.name_key();
        if before.map(ScimGroup::name_key) != Some(name_key.clone()) {
            if let Some(before) = before {
                group.delete(
                    self,
                    &keys::scim_group_name_sentinel(organisation, &before.name_key()),
                    None,
                );
            }
            group.put(
                self,
                sentinel(
                    keys::scim_group_name_sentinel(organisation, &name_key),
                    after.id.as_str(),
                ),
                Some((
                    Condition::absent(),
                    OnFail::Taken(Uniqueness::ScimGroupName),
                )),
            );
        }
        group
    }

    /// A member write: its membership replaced, or held to the version it was read at.
    fn member_write(&self, member: &MemberWrite) -> Transaction {
        let unchanged = (Condition::version(member.before.version), OnFail::Stale);
        let mut write = Transaction::default();
        match &member.after {
            Some(after) => write.put(self, membership_item(after), Some(unchanged)),
            None => write.check(
                self,
                &keys::membership(&member.before.organisation_id, &member.before.id),
                unchanged,
            ),
        };
        write
    }

    /// Writes the member writes `save_scim_group` left pending, in as few transactions as
    /// hold them, each only while `group` is as saved: whether all were written so. Once the
    /// group is written again (or deleted), the write that did so answers for the pending
    /// members, and the rest are left to it. A member changed since it was read fails the
    /// write `Stale` (those before it are written): read the members again and write them.
    pub(crate) async fn save_scim_group_members(
        &self,
        group: &ScimGroup,
        members: &[MemberWrite],
    ) -> Result<bool, StoreError> {
        let as_saved = || {
            let mut tx = Transaction::default();
            tx.check(
                self,
                &keys::scim_group(&group.organisation_id, &group.id),
                (Condition::version(group.version), OnFail::Missing),
            );
            tx
        };
        let mut chunks = vec![as_saved()];
        for write in members.iter().map(|m| self.member_write(m)) {
            let last = chunks.last_mut().expect("chunks start with one");
            if last.has_room_for(std::slice::from_ref(&write)) {
                last.append(write);
            } else {
                let mut next = as_saved();
                next.append(write);
                chunks.push(next);
            }
        }
        for chunk in chunks {
            match chunk.commit(self).await {
                Err(StoreError::NotFound) => return Ok(false),
                outcome => outcome?,
            }
        }
        Ok(true)
    }

    /// Clears the members `group`'s save left pending, once they are written (its marker
    /// leaves the list of pending groups); a write of the group since then answers for them,
    /// and they are left to it.
    pub(crate) async fn clear_scim_group_pending(
        &self,
        group: &ScimGroup,
    ) -> Result<(), StoreError> {
        let organisation = &group.organisation_id;
        let mut tx = Transaction::default();
        tx.check(
            self,
            &keys::scim_group(organisation, &group.id),
            (Condition::version(group.version), OnFail::Missing),
        );
        tx.delete(
            self,
            &keys::scim_group_pending(organisation, &group.id),
            None,
        );
        tx.put(
            self,
            marker_item(group, &MarkerBody::of(group), false),
            None,
        );
        match tx.commit(self).await {
            Err(StoreError::NotFound) => Ok(()),
            outcome => outcome,
        }
    }

    /// Deletes a group (its name sentinel, its marker, and the members a write of it left
    /// `pending`, as read with it) if nobody changed it meanwhile (else `Stale`);
    /// with `unmapped`, the organisation is replaced by it in the same transaction. The
    /// organisation's version is checked either way (else `Contended`, read it again: the
    /// request named no version of it): an Admin mapping roles to the group at the same moment
    /// (`map_scim_group_roles`) is then seen by the delete's next try, so no mapping outlives its
    /// group.
    pub async fn delete_scim_group(
        &self,
        group: &ScimGroup,
        pending: Option<&PendingMembers>,
        organisation: &Organisation,
        unmapped: Option<&Organisation>,
    ) -> Result<(), StoreError> {
        let unchanged = || (Condition::version(organisation.version), OnFail::Contended);
        let mut tx = Transaction::default();
        match unmapped {
            Some(after) => tx.put(
                self,
                Record::new(keys::organisation(&after.id), after).item(),
                Some(unchanged()),
            ),
            None => tx.check(self, &keys::organisation(&organisation.id), unchanged()),
        };
        tx.delete(
            self,
            &keys::scim_group(&group.organisation_id, &group.id),
            Some((Condition::version(group.version), OnFail::Stale)),
        );
        tx.delete(
            self,
            &keys::scim_group_name_sentinel(&group.organisation_id, &group.name_key()),
            None,
        );
        tx.delete(
            self,
            &keys::scim_group_marker(&group.organisation_id, &group.id),
            None,
        );
        let pending_key = keys::scim_group_pending(&group.organisation_id, &group.id);
        match pending {
            Some(pending) => tx.delete(
                self,
                &pending_key,
                Some((Condition::absent_or_version(pending.version), OnFail::Stale)),
            ),
            None => tx.check(self, &pending_key, (Condition::absent(), OnFail::Stale)),
        };
        tx.commit(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_claims_the_organisation_it_names() {
        let organisation = OrganisationId::try_from("org-1").unwrap();
        let token = scim_token(&organisation, "s3cr3t_-x");
        let claim = ScimClaim::parse(&token).unwrap();
        assert_eq!(claim.organisation(), &organisation);
        assert_eq!(claim.token_hash, secret_hash(&token));
        assert!(ScimClaim::parse("no-dot").is_none());
        assert!(ScimClaim::parse("bad#org.secret").is_none());
        assert!(ScimClaim::parse("org.").is_none());
    }

    /// DynamoDB's largest item.
    const ITEM_BYTES_MAX: usize = 400 * 1024;

    #[test]
    fn the_most_members_a_group_write_may_leave_pending_fit_in_one_item() {
        // Members' ids are generated (`UserId::generate`); the keys are as long as ids may be.
        let longest = "x".repeat(64);
        let pending = PendingMembers {
            version: u64::MAX,
            members: (0..PENDING_MEMBERS_MAX)
                .map(|_| UserId::generate())
                .collect(),
        };
        let group = ScimGroup {
            id: longest.clone(),
            organisation_id: OrganisationId::try_from(longest.as_str()).unwrap(),
            document: Map::new(),
            created: Utc::now(),
            last_modified: Utc::now(),
            version: u64::MAX,
        };
        let bytes = crate::record::item_bytes(&pending_item(&group, pending));
        assert!(bytes <= ITEM_BYTES_MAX, "{bytes} bytes");
    }
}
