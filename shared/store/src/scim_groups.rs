//! A SCIM group written with the memberships of the members it gains or loses, and the finish
//! of a write cut off part-way. A write of more members than one transaction holds saves the
//! group first, naming the members still to write as pending (`save_scim_group`); the group's
//! next write, or else the jobs function once nothing has written the group for a while
//! (`finish_scim_group`), writes them to agree with the group.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use roster_domain::{
    ids::{OrganisationId, UserId},
    membership::Membership,
};
use serde_json::{Map, Value};

use crate::{
    DynamoTable, GroupSaved, MemberWrite, PendingMembers, ScimGroup, StoreError, keys,
    record::{item_key, s},
};

/// Tries of a group's member writes once the group is saved, each after re-reading the
/// memberships another write changed meanwhile.
const MEMBER_WRITE_TRIES: usize = 5;
/// Most pending groups one call hands out, oldest first; the rest wait for the next run.
const PENDING_GROUPS_PER_CALL: i32 = 100;

/// The ids `document` lists in `members` (their `value`s).
pub fn scim_member_ids(document: &Map<String, Value>) -> BTreeSet<String> {
    document
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|member| member.get("value").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// Takes out of `document`'s `members` the `pending` members that `writes` (made from the
/// memberships read) found no longer exist: deleted while pending, their delete did not know
/// the group listed them.
pub fn drop_pending_members_gone(
    document: &mut Map<String, Value>,
    pending: Option<&PendingMembers>,
    writes: &[MemberWrite],
) {
    let found: BTreeSet<&str> = writes.iter().map(|w| w.before.id.as_str()).collect();
    let gone: BTreeSet<&str> = (pending.iter().flat_map(|p| &p.members))
        .map(UserId::as_str)
        .filter(|id| !found.contains(id))
        .collect();
    if let Some(Value::Array(members)) = document.get_mut("members") {
        members.retain(|member| {
            let id = member.get("value").and_then(Value::as_str);
            !id.is_some_and(|id| gone.contains(id))
        });
    }
}

/// Whether a member of `ids` that `listed` names has no write in `members` (no longer exists).
fn listed_member_gone(
    listed: &BTreeSet<String>,
    ids: &BTreeSet<UserId>,
    members: &[MemberWrite],
) -> bool {
    let written: BTreeSet<&UserId> = members.iter().map(|m| &m.before.id).collect();
    ids.iter()
        .any(|id| listed.contains(id.as_str()) && !written.contains(id))
}

impl DynamoTable {
    /// The writes that make the memberships of `ids` (those of SCIM users that exist) have
    /// `group` in their `scim_groups` exactly when `listed` names them.
    pub async fn scim_member_writes(
        &self,
        organisation: &OrganisationId,
        group: &str,
        listed: &BTreeSet<String>,
        ids: &BTreeSet<UserId>,
    ) -> Result<Vec<MemberWrite>, StoreError> {
        let ids: Vec<UserId> = ids.iter().cloned().collect();
        let found = self.scim_members_by_id(organisation, &ids).await?;
        Ok(found
            .into_iter()
            .map(|before| {
                let mut after = before.clone();
                if listed.contains(before.id.as_str()) {
                    after.scim_groups.insert(group.to_owned());
                } else {
                    after.scim_groups.remove(group);
                }
                let after = (after.scim_groups != before.scim_groups).then(|| Membership {
                    version: before.version + 1,
                    ..after
                });
                MemberWrite { before, after }
            })
            .collect())
    }

    /// Saves `after` in place of `before` (read with `pending`) with its member writes (see
    /// `save_scim_group`): `Stale` when the group or its pending members changed since they
    /// were read. Member writes too many for one transaction follow the group; one refused
    /// because its membership changed meanwhile is read and made again. Once the group is
    /// saved, a failure (`Contended` after the last try) leaves the rest to the group's next
    /// write, or to `finish_scim_group`.
    pub async fn write_scim_group(
        &self,
        before: Option<&ScimGroup>,
        pending: Option<&PendingMembers>,
        after: &ScimGroup,
        mut members: Vec<MemberWrite>,
    ) -> Result<(), StoreError> {
        if self
            .save_scim_group(before, pending, after, &members)
            .await?
            == GroupSaved::Whole
        {
            return Ok(());
        }
        let ids: BTreeSet<UserId> = members.iter().map(|m| m.before.id.clone()).collect();
        let listed = scim_member_ids(&after.document);
        let mut tries = 1;
        loop {
            match self.save_scim_group_members(after, &members).await {
                // A member the group lists was deleted before its write: left pending, so that
                // the group's next write takes them out of its members.
                Ok(true) if listed_member_gone(&listed, &ids, &members) => return Ok(()),
                Ok(true) => return self.clear_scim_group_pending(after).await,
                // Written again meanwhile: that write made the rest.
                Ok(false) => return Ok(()),
                Err(StoreError::Stale) if tries < MEMBER_WRITE_TRIES => {
                    tries += 1;
                    members = self
                        .scim_member_writes(&after.organisation_id, &after.id, &listed, &ids)
                        .await?;
                }
                // The group stands; its next write makes the member writes left.
                Err(StoreError::Stale) => return Err(StoreError::Contended),
                Err(error) => return Err(error),
            }
        }
    }

    /// The groups (organisation and id) whose members a write that saved the group before
    /// `saved_before` left pending, oldest first, at most 100 a call: one `Query` of `gsi1`,
    /// whose answer may lag a write by a moment (each is read again before it is finished). An
    /// entry that is no group's marker is logged and left out.
    pub async fn scim_groups_pending(
        &self,
        saved_before: DateTime<Utc>,
    ) -> Result<Vec<(OrganisationId, String)>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.name)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :pending AND gsi1sk < :before")
            .expression_attribute_values(":pending", s(keys::SCIM_GROUPS_PENDING))
            .expression_attribute_values(":before", s(keys::sortable_time(saved_before)))
            .projection_expression("pk, sk")
            .limit(PENDING_GROUPS_PER_CALL)
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        let listed = output.items.unwrap_or_default();
        Ok(listed
            .iter()
            .filter_map(|item| {
                let key = item_key(item);
                let marked = key.as_ref().and_then(keys::scim_group_marked);
                if marked.is_none() {
                    // One entry that names no group stops none of the others.
                    tracing::error!(
                        ?key,
                        "a pending SCIM group listed by an item that is no group's marker"
                    );
                }
                marked
            })
            .collect())
    }

    /// Finishes the write of group `id` that left members pending, if it saved the group
    /// before `saved_before`, as the group's next write would: the group saved again as it is
    /// (its version moved on, `now` its last change unless it already says later) with the
    /// member writes that make every pending member agree with it, and pending members that no
    /// longer exist taken out of its `members`. Whether there was a write to finish: `false`
    /// when the group is gone or has no pending members, when a write saved it since
    /// `saved_before` (a request that may still be writing its members), or when another write
    /// of it came first (that write answers for them).
    pub async fn finish_scim_group(
        &self,
        organisation: &OrganisationId,
        id: &str,
        saved_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let Some((before, Some(pending))) = self.scim_group_left_pending(organisation, id).await?
        else {
            return Ok(false);
        };
        // The group's last change is when the write that left them saved it.
        if before.last_modified >= saved_before {
            return Ok(false);
        }
        let mut after = ScimGroup {
            last_modified: now.max(before.last_modified),
            version: before.version + 1,
            ..before.clone()
        };
        let listed = scim_member_ids(&after.document);
        let writes = self
            .scim_member_writes(organisation, id, &listed, &pending.members)
            .await?;
        drop_pending_members_gone(&mut after.document, Some(&pending), &writes);
        match self
            .write_scim_group(Some(&before), Some(&pending), &after, writes)
            .await
        {
            Err(StoreError::Stale) => Ok(false),
            outcome => outcome.map(|()| true),
        }
    }
}
