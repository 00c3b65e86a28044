//! `/Groups`: the identity provider's groups with their members, kept as the client wrote them.
//! Each member is a SCIM User of the organisation; the user's membership records the groups that
//! list them, so the roles an Admin maps to a group apply as membership changes arrive.

use std::collections::{BTreeSet, HashMap};

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use chrono::Utc;
use futures::StreamExt;
use roster_domain::{
    ids::{GroupId, OrganisationId, UserId},
    scim::{
        ScimProblem, ScimType, patch,
        resource::{Meta, render},
        schema::{NAME_KEY_BYTES_MAX, ResourceKind, name_key, normalise, within_size},
    },
};
use roster_store::{
    MemberWrite, PENDING_MEMBERS_MAX, PendingMembers, ScimClaim, ScimGroup, ScimGroupMarker,
    drop_pending_members_gone, keys::Key, scim_member_ids,
};
use serde_json::{Map, Value};

use crate::{
    BaseUrl, Claim, ScimBody, ScimError, ScimState, audited, check_version, json_body,
    list::{INDEXED_RESOURCES, ListParams, Matched, PAGE_BYTES, READ_BYTES, rendered, too_many},
    retried, retried_unless_versioned, scim_json, writer,
};

const KIND: ResourceKind = ResourceKind::Group;

/// Longest group `displayName`.
const DISPLAY_NAME_MAX: usize = 256;
/// Groups a deleted User is taken out of at the same time.
const GROUPS_AT_ONCE: usize = 8;
/// Rounds of tries (each of up to `WRITE_TRIES`) to take a deleted User out of a group.
const FORGET_ROUNDS: usize = 3;
/// The pause between two rounds, in milliseconds.
const FORGET_PAUSE_MS: std::ops::Range<u64> = 20..200;

fn resource(base: &str, group: &ScimGroup) -> Value {
    render(
        KIND,
        &group.document,
        &Meta {
            id: &group.id,
            created: group.created,
            last_modified: group.last_modified,
            version: group.version,
            location: format!("{base}/Groups/{}", group.id),
        },
    )
}

/// A group document Roster keeps: a `displayName` of 1 to 256 characters (and at most
/// `NAME_KEY_BYTES_MAX` bytes lowercased), and no larger than a Group may be (about 8,000
/// members).
fn checked(document: Map<String, Value>) -> Result<Map<String, Value>, ScimError> {
    within_size(KIND, &document)?;
    let name = document
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default();
    if name.is_empty()
        || name.chars().count() > DISPLAY_NAME_MAX
        || name_key(name).len() > NAME_KEY_BYTES_MAX
    {
        return Err(ScimError::Problem(ScimProblem::new(
            ScimType::InvalidValue,
            format!(
                "displayName is required and at most {DISPLAY_NAME_MAX} characters and \
                 {NAME_KEY_BYTES_MAX} bytes of UTF-8"
            ),
        )));
    }
    Ok(document)
}

fn unknown_member(id: &str) -> ScimError {
    ScimError::Problem(ScimProblem::new(
        ScimType::InvalidValue,
        format!("members: {id:?} is not a User of this organisation"),
    ))
}

/// The member writes of a group change from `before` to `after`: the memberships of the
/// members it adds or removes, and of those a write before it left `pending`, each to have
/// `group` in its `scim_groups` exactly when `after` lists it. Every added member must be a
/// SCIM User of the organisation; a removed one that no longer exists is simply gone, and a
/// pending one is taken out of `after` (deleted while pending, its delete did not know the
/// group listed it).
async fn member_changes(
    state: &ScimState,
    organisation: &OrganisationId,
    group: &str,
    before: &Map<String, Value>,
    after: &mut Map<String, Value>,
    pending: Option<&PendingMembers>,
) -> Result<Vec<MemberWrite>, ScimError> {
    let (was, is) = (scim_member_ids(before), scim_member_ids(after));
    let added: BTreeSet<&String> = is.difference(&was).collect();
    let mut ids = pending.map(|p| p.members.clone()).unwrap_or_default();
    for id in is.symmetric_difference(&was) {
        match UserId::try_from(id.as_str()) {
            Ok(user) => {
                ids.insert(user);
            }
            Err(_) if added.contains(id) => return Err(unknown_member(id)),
            Err(_) => {}
        }
    }
    if ids.len() > PENDING_MEMBERS_MAX {
        return Err(ScimError::Problem(ScimProblem::new(
            ScimType::InvalidValue,
            format!(
                "members: at most {PENDING_MEMBERS_MAX} members may join or leave a group in one \
                 request, and this one would change {}; send the change in parts",
                ids.len()
            ),
        )));
    }
    let writes = (state.table)
        .scim_member_writes(organisation, group, &is, &ids)
        .await?;
    let found: BTreeSet<&str> = writes.iter().map(|w| w.before.id.as_str()).collect();
    if let Some(missing) = added.iter().find(|id| !found.contains(id.as_str())) {
        return Err(unknown_member(missing));
    }
    drop_pending_members_gone(after, pending, &writes);
    Ok(writes)
}

fn unsupported_filter() -> ScimError {
    ScimError::Problem(ScimProblem::new(
        ScimType::InvalidFilter,
        "Roster finds Groups by an equality on id or displayName (alone or joined with others \
         by and); other filters are not supported",
    ))
}

pub async fn matching(
    state: &ScimState,
    claim: &ScimClaim,
    base: &str,
    params: &ListParams,
) -> Result<Matched, ScimError> {
    let filter = params.filter(KIND)?;
    let projection = params.projection(KIND)?;
    let table = &state.table;
    let render = |groups: Vec<ScimGroup>| {
        rendered(&groups, KIND, filter.as_ref(), &projection, |g| {
            resource(base, g)
        })
    };
    let Some(filter) = &filter else {
        // Unfiltered: counted by keys, and only the page asked for is read (groups can be large).
        table.scim_authorise(claim).await?;
        let organisation = claim.organisation();
        let count = params.count as i32;
        if let Some(cursor) = params.cursor.as_deref() {
            let start = Some(cursor).filter(|c| !c.is_empty());
            let (groups, next_cursor) = table.scim_groups_page(organisation, count, start).await?;
            return Ok(Matched::Page {
                resources: render(groups),
                next_cursor,
            });
        }
        let Some(markers) = table
            .scim_group_markers_within(organisation, INDEXED_RESOURCES)
            .await?
        else {
            if params.index_asked {
                return Err(too_many(KIND));
            }
            if count == 0 {
                // Nothing asked for: the first page is still ahead.
                return Ok(Matched::Page {
                    resources: vec![],
                    next_cursor: Some(String::new()),
                });
            }
            let (groups, next_cursor) = table.scim_groups_page(organisation, count, None).await?;
            return Ok(Matched::Page {
                resources: render(groups),
                next_cursor,
            });
        };
        let asked = markers
            .get(params.start_index - 1..)
            .unwrap_or_default()
            .iter()
            .take(params.count);
        let bytes = if projection.shows("members") {
            PAGE_BYTES
        } else {
            READ_BYTES
        };
        let page = fitting(asked.clone(), bytes);
        return Ok(Matched::Indexed {
            total: markers.len(),
            short: page.len() < asked.count(),
            resources: render(table.scim_groups_at(&page).await?),
        });
    };
    let (attribute, value) = filter
        .required_equality(KIND)
        .ok_or_else(unsupported_filter)?;
    let found = match attribute.as_str() {
        "id" => table.scim_group(claim, &value).await?,
        "displayName" => table.scim_group_named(claim, &name_key(&value)).await?,
        _ => return Err(unsupported_filter()),
    };
    Ok(Matched::All(render(found.into_iter().collect())))
}

/// The keys of the first of `markers` whose documents take at most `bytes` together (the
/// first one always, whatever its size).
fn fitting<'a>(markers: impl Iterator<Item = &'a ScimGroupMarker>, bytes: usize) -> Vec<Key> {
    let mut taken = 0usize;
    markers
        .enumerate()
        .take_while(|(index, marker)| {
            taken = taken.saturating_add(marker.bytes);
            *index == 0 || taken <= bytes
        })
        .map(|(_, marker)| marker.key.clone())
        .collect()
}

async fn group(state: &ScimState, claim: &ScimClaim, id: &str) -> Result<ScimGroup, ScimError> {
    state
        .table
        .scim_group(claim, id)
        .await?
        .ok_or(ScimError::NotFound)
}

/// The group `id` and the members a write of it left pending, to write it.
async fn group_to_write(
    state: &ScimState,
    claim: &ScimClaim,
    id: &str,
) -> Result<(ScimGroup, Option<PendingMembers>), ScimError> {
    state
        .table
        .scim_group_to_write(claim, id)
        .await?
        .ok_or(ScimError::NotFound)
}

/// `GET /Groups/{id}`: one `BatchGetItem` (token and group).
pub async fn read(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ScimError> {
    let params = ListParams::from_query(&query)?;
    let group = group(&state, &claim, &id).await?;
    let projected = params.projection(KIND)?.apply(resource(&base, &group));
    Ok(scim_json(StatusCode::OK, projected, Some(group.version)))
}

pub async fn create(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let writer = writer(&state, &claim).await?;
    // A create names no version: its write, refused whole as a member changed since it was
    // read (412), is made again; not one that met other writes once the group stood (503),
    // whose members its next write or the SCIM group run finishes.
    let outcome = retried(
        || async {
            let document = checked(normalise(KIND, &json_body(&body)?)?)?;
            let now = Utc::now();
            let mut group = ScimGroup {
                id: GroupId::generate().to_string(),
                organisation_id: writer.organisation.id.clone(),
                document,
                created: now,
                last_modified: now,
                version: 1,
            };
            let members = member_changes(
                &state,
                &group.organisation_id,
                &group.id,
                &Map::new(),
                &mut group.document,
                None,
            )
            .await?;
            (state.table)
                .write_scim_group(None, None, &group, members)
                .await?;
            Ok(group)
        },
        |error| matches!(error, ScimError::PreconditionFailed),
    )
    .await;
    let target = outcome.as_ref().ok().map(|g| g.id.clone());
    let group = audited(
        &state,
        &writer,
        "scim.group.created",
        target.as_deref(),
        outcome,
    )
    .await?;
    Ok(scim_json(
        StatusCode::CREATED,
        resource(&base, &group),
        Some(group.version),
    ))
}

/// The group `id` changed by `change` and saved, the memberships of the members it adds or
/// removes (and of those an earlier write left pending) with it; retried on a lost race unless
/// `headers` name a version.
async fn update(
    state: &ScimState,
    claim: &ScimClaim,
    id: &str,
    headers: &HeaderMap,
    change: impl Fn(&Map<String, Value>) -> Result<Map<String, Value>, ScimError>,
) -> Result<ScimGroup, ScimError> {
    retried_unless_versioned(headers, || async {
        let (before, pending) = group_to_write(state, claim, id).await?;
        check_version(headers, before.version)?;
        let mut after = ScimGroup {
            document: checked(change(&before.document)?)?,
            last_modified: Utc::now(),
            version: before.version + 1,
            ..before.clone()
        };
        let members = member_changes(
            state,
            &before.organisation_id,
            id,
            &before.document,
            &mut after.document,
            pending.as_ref(),
        )
        .await?;
        (state.table)
            .write_scim_group(Some(&before), pending.as_ref(), &after, members)
            .await?;
        Ok(after)
    })
    .await
}

async fn audited_update(
    state: &ScimState,
    claim: &ScimClaim,
    base: &str,
    id: &str,
    action: &str,
    headers: &HeaderMap,
    change: impl Fn(&Map<String, Value>) -> Result<Map<String, Value>, ScimError>,
) -> Result<Response, ScimError> {
    let writer = writer(state, claim).await?;
    let outcome = update(state, claim, id, headers, change).await;
    let group = audited(state, &writer, action, Some(id), outcome).await?;
    Ok(scim_json(
        StatusCode::OK,
        resource(base, &group),
        Some(group.version),
    ))
}

/// Takes the deleted User `user` out of the `members` of `groups` (those its membership said
/// list it), so that no group goes on listing someone who is gone; a group deleted meanwhile is
/// left alone. One read and one write per group, `GROUPS_AT_ONCE` groups at a time. Deletes of
/// several of a group's members at once race on it: each loses only to another's success, and
/// tries again after a pause of a random length. Whether every group is seen to: one that still
/// cannot be written is logged, and is left for a retry of the delete.
pub(crate) async fn forget_deleted_member(
    state: &ScimState,
    claim: &ScimClaim,
    user: &UserId,
    groups: &BTreeSet<String>,
) -> bool {
    let without_user = |document: &Map<String, Value>| {
        let mut document = document.clone();
        if let Some(Value::Array(members)) = document.get_mut("members") {
            members.retain(|member| {
                member.get("value").and_then(Value::as_str) != Some(user.as_str())
            });
        }
        Ok(document)
    };
    let forget = async |group: &String| {
        for round in 1..=FORGET_ROUNDS {
            match update(state, claim, group, &HeaderMap::new(), without_user).await {
                Ok(_) | Err(ScimError::NotFound) => return true,
                Err(ScimError::PreconditionFailed | ScimError::Contended)
                    if round < FORGET_ROUNDS =>
                {
                    let pause = rand::random_range(FORGET_PAUSE_MS);
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                }
                Err(error) => {
                    tracing::warn!(%group, error = ?error, "a deleted User is still listed in a group");
                    return false;
                }
            }
        }
        false
    };
    futures::stream::iter(groups)
        .map(forget)
        .buffer_unordered(GROUPS_AT_ONCE)
        .fold(true, async |all, told| all && told)
        .await
}

pub async fn replace(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    audited_update(
        &state,
        &claim,
        &base,
        &id,
        "scim.group.replaced",
        &headers,
        |_| Ok(normalise(KIND, &json_body(&body)?)?),
    )
    .await
}

pub async fn patch(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    audited_update(
        &state,
        &claim,
        &base,
        &id,
        "scim.group.patched",
        &headers,
        |current| Ok(patch::apply(KIND, current, &json_body(&body)?)?),
    )
    .await
}

pub async fn delete(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ScimError> {
    let writer = writer(&state, &claim).await?;
    let mut tries = 0;
    let outcome = retried_unless_versioned(&headers, || {
        tries += 1;
        let (state, claim, writer, id, headers) = (&state, &claim, &writer, &id, &headers);
        async move {
            // A try after a lost race reads the organisation again: an Admin may have mapped
            // roles to the group meanwhile.
            let organisation = match tries {
                1 => writer.organisation.clone(),
                _ => crate::writer(state, claim).await?.organisation,
            };
            let (before, pending) = group_to_write(state, claim, id).await?;
            check_version(headers, before.version)?;
            // The group's role mapping goes with it; members keep its id, which maps to nothing.
            let unmapped = organisation.scim_group_roles.contains_key(id).then(|| {
                let mut after = organisation.clone();
                after.scim_group_roles.remove(id);
                after.version += 1;
                after
            });
            state
                .table
                .delete_scim_group(&before, pending.as_ref(), &organisation, unmapped.as_ref())
                .await?;
            Ok(())
        }
    })
    .await;
    audited(&state, &writer, "scim.group.deleted", Some(&id), outcome).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markers(sizes: &[usize]) -> Vec<ScimGroupMarker> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &bytes)| ScimGroupMarker {
                key: Key {
                    pk: "ORG#o1".to_owned(),
                    sk: format!("SCIM_GROUP#g{i}"),
                },
                bytes,
            })
            .collect()
    }

    fn fitted(sizes: &[usize], bytes: usize) -> usize {
        fitting(markers(sizes).iter(), bytes).len()
    }

    #[test]
    fn a_page_takes_groups_in_order_while_their_documents_fit() {
        assert_eq!(fitted(&[40, 30, 30, 1], 100), 3);
        assert_eq!(fitted(&[40, 30, 31], 100), 2);
        assert_eq!(fitted(&[300, 1], 100), 1, "the first whatever its size");
        assert_eq!(fitted(&[], 100), 0);
        assert_eq!(
            fitting(markers(&[10, 10]).iter(), 10),
            [markers(&[10]).remove(0).key]
        );
    }
}
