//! `/Users`: people provisioned by the organisation's identity provider. A SCIM User is a
//! membership with its SCIM document; the profile takes its values from the document (owned by
//! `scim`), `active: false` deactivates through the same lifecycle as an admin's deactivation,
//! DELETE removes the membership.

use std::collections::{BTreeSet, HashMap};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use chrono::Utc;
use roster_domain::{
    ids::UserId,
    membership::{InvitationStatus, Membership, Role, RoleGrant, Status},
    organisation::Organisation,
    profile::{Email, Profile},
    scim::{
        ScimProblem, ScimType, patch,
        resource::{Meta, render},
        schema::{ResourceKind, name_key, normalise},
        user::{ScimPerson, ScimUser},
    },
};
use roster_store::{Account, EmailChange, MemberLookup, ScimClaim, ScimMembers};
use serde_json::{Map, Value, json};

use crate::{
    BaseUrl, Claim, ScimBody, ScimError, ScimState, Writer, audited, check_version, json_body,
    list::{INDEXED_RESOURCES, ListParams, Matched, rendered, too_many},
    retried_unless_versioned, scim_json, writer,
};

const KIND: ResourceKind = ResourceKind::User;

fn resource(base: &str, membership: &Membership) -> Value {
    let scim = membership
        .scim
        .as_ref()
        .expect("only provisioned members are SCIM users");
    let mut document = scim.document.clone();
    // `active` is the person's status; a document that never set it (or removed it) shows it
    // only when the person is deactivated.
    if document.contains_key("active") || !membership.is_active() {
        document.insert("active".to_owned(), Value::Bool(membership.is_active()));
    }
    render(
        KIND,
        &document,
        &Meta {
            id: membership.id.as_str(),
            created: scim.created,
            last_modified: scim.last_modified,
            version: membership.version,
            location: format!("{base}/Users/{}", membership.id),
        },
    )
}

fn unsupported_filter() -> ScimError {
    ScimError::Problem(ScimProblem::new(
        ScimType::InvalidFilter,
        "Roster finds Users by an equality on id, userName, externalId or emails.value \
         (alone or joined with others by and); other filters are not supported",
    ))
}

/// The provisioned members `params` selects, rendered and projected (before paging).
pub async fn matching(
    state: &ScimState,
    claim: &ScimClaim,
    base: &str,
    params: &ListParams,
) -> Result<Matched, ScimError> {
    let filter = params.filter(KIND)?;
    let projection = params.projection(KIND)?;
    let table = &state.table;
    let render = |members: Vec<Membership>| {
        rendered(&members, KIND, filter.as_ref(), &projection, |m| {
            resource(base, m)
        })
    };
    let Some(filter) = &filter else {
        // Unfiltered: every user while there are few, else a cursor's page (never more reads).
        table.scim_authorise(claim).await?;
        let organisation = claim.organisation();
        let (members, next_cursor) = match params.cursor.as_deref() {
            Some(cursor) => {
                let start = Some(cursor).filter(|c| !c.is_empty());
                table
                    .scim_members_page(organisation, params.count as i32, start)
                    .await?
            }
            None => match table
                .scim_members_within(organisation, INDEXED_RESOURCES, params.count)
                .await?
            {
                ScimMembers::All(members) => return Ok(Matched::All(render(members))),
                ScimMembers::FirstPage { .. } if params.index_asked => {
                    return Err(too_many(KIND));
                }
                // Nothing asked for: the first page is still ahead.
                ScimMembers::FirstPage { .. } if params.count == 0 => (vec![], Some(String::new())),
                ScimMembers::FirstPage {
                    members,
                    next_cursor,
                } => (members, Some(next_cursor)),
            },
        };
        return Ok(Matched::Page {
            resources: render(members),
            next_cursor,
        });
    };
    let (attribute, value) = filter
        .required_equality(KIND)
        .ok_or_else(unsupported_filter)?;
    let found = match attribute.as_str() {
        "id" => match UserId::try_from(value.as_str()) {
            Ok(user) => table.scim_member(claim, &user).await?,
            Err(_) => {
                table.scim_authorise(claim).await?;
                None
            }
        },
        "userName" => {
            let lookup = MemberLookup::UserName(name_key(&value));
            table.scim_member_where(claim, &lookup).await?
        }
        "externalId" => {
            let lookup = MemberLookup::ExternalId(value);
            table.scim_member_where(claim, &lookup).await?
        }
        "emails.value" => {
            let lookup = MemberLookup::Email(Email::lookup_key(&value));
            table.scim_member_where(claim, &lookup).await?
        }
        _ => return Err(unsupported_filter()),
    };
    Ok(Matched::All(render(found.into_iter().collect())))
}

/// `GET /Users/{id}`: one `BatchGetItem` (token and membership).
pub async fn read(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ScimError> {
    let params = ListParams::from_query(&query)?;
    let membership = member(&state, &claim, &id).await?;
    let projected = params.projection(KIND)?.apply(resource(&base, &membership));
    Ok(scim_json(
        StatusCode::OK,
        projected,
        Some(membership.version),
    ))
}

async fn member(state: &ScimState, claim: &ScimClaim, id: &str) -> Result<Membership, ScimError> {
    match UserId::try_from(id) {
        Ok(user) => state.table.scim_member(claim, &user).await?,
        Err(_) => {
            state.table.scim_authorise(claim).await?;
            None
        }
    }
    .ok_or(ScimError::NotFound)
}

/// `before` as the document `document` (describing `person`) provisions it in `organisation`.
fn provisioned(
    before: &Membership,
    person: &ScimPerson,
    document: Map<String, Value>,
    organisation: &Organisation,
) -> Membership {
    let now = Utc::now();
    let status = if person.active {
        Status::Active
    } else {
        Status::Deactivated
    };
    Membership {
        profile: person.apply_to(&before.profile, &organisation.settings.scim_attributes),
        scim: Some(ScimUser {
            document,
            created: before.scim.as_ref().map_or(now, |s| s.created),
            last_modified: now,
        }),
        version: before.version + 1,
        // Deactivated: the person's sessions here end with this write. The identity provider
        // decides the status from now on.
        ..before.with_status(status, false)
    }
    .withdrawing_invitation_if_email_moved(before)
}

/// Writes `after` over `before`, moving the login email when the document changed it (a
/// deactivation in `after` ends the person's sessions here by its raised `session_epoch`).
async fn save(state: &ScimState, before: &Membership, after: &Membership) -> Result<(), ScimError> {
    let table = &state.table;
    let email_change = match &after.profile.email {
        Some(email)
            if before.profile.email.as_ref().map(|e| e.normalised())
                != Some(email.normalised()) =>
        {
            let account = table
                .account(&before.account_id)
                .await?
                .ok_or(ScimError::PreconditionFailed)?;
            let login_changes =
                account.email.as_ref().map(|e| e.normalised()) != Some(email.normalised());
            if login_changes && account.is_shared() {
                // As for an admin: whoever could move it could take the person's other
                // organisations over with a reset link sent to the new address.
                return Err(ScimError::Problem(ScimProblem::new(
                    ScimType::Mutability,
                    "emails.value: this person belongs to other organisations too; only they \
                     can change their login email",
                )));
            }
            // A shared account was refused above: no other organisation holds a copy.
            login_changes.then(|| EmailChange {
                account,
                email: email.clone(),
                released_in: vec![],
                verified: false,
            })
        }
        _ => None,
    };
    // Reactivated: what they tried while they could not sign in holds them back no longer (as
    // after an admin's reactivation, and likewise not for someone who belongs elsewhere too).
    // Cleared before the write: Entra's retry of a request that failed after it finds the person
    // active.
    if !before.is_active()
        && after.is_active()
        && let Some(account) = table.account(&before.account_id).await?
        && !account.is_shared()
    {
        table.clear_lockout(&account).await?;
    }
    table
        .update_membership(before, after, email_change.as_ref())
        .await?;
    if let Some(change) = &email_change
        && let Some(old) = change.moved_from(before)
    {
        state
            .mailer
            .tell_login_moved(before, old, &change.email)
            .await;
    }
    Ok(())
}

async fn create_user(
    state: &ScimState,
    writer: &Writer,
    body: &Bytes,
) -> Result<Membership, ScimError> {
    let document = normalise(KIND, &json_body(body)?)?;
    let organisation = &writer.organisation;
    let person = ScimPerson::read(&document, &organisation.settings.scim_attributes)?;
    let table = &state.table;
    let existing = match &person.email {
        Some(email) => table.account_by_email(email.normalised()).await?,
        None => None,
    };
    // Someone already in the organisation (an admin or an import added them) is adopted: from
    // now on the identity provider manages them.
    if let Some(user) = existing
        .as_ref()
        .and_then(|a| a.memberships.get(&organisation.id))
    {
        let before = table
            .membership(&organisation.id, user)
            .await?
            .ok_or(ScimError::PreconditionFailed)?;
        if before.scim.is_some() {
            return Err(ScimError::Problem(ScimProblem::new(
                ScimType::Uniqueness,
                "emails.value belongs to another user of this organisation",
            )));
        }
        let after = provisioned(&before, &person, document, organisation);
        save(state, &before, &after).await?;
        return Ok(after);
    }
    let (account, account_is_new) = match existing {
        Some(account) => (account, false),
        None => (Account::new(person.email.clone(), None), true),
    };
    let invitation_status =
        if !account_is_new && account.email_verified && account.password_hash.is_some() {
            InvitationStatus::Confirmed
        } else {
            InvitationStatus::NotInvited
        };
    let mut newcomer = Membership::joining(
        organisation,
        account.id.clone(),
        Profile::named(String::new(), String::new(), account.email.clone()),
        None,
        vec![RoleGrant::organisation_wide(Role::Member)],
        invitation_status,
    );
    newcomer.version = 0;
    let mut membership = provisioned(&newcomer, &person, document, organisation);
    if let Some(login) = &account.email {
        // The account's spelling of its login email stays the one shown.
        membership.profile.email = Some(login.clone());
    }
    table
        .create_member(&membership, &account, account_is_new)
        .await?;
    Ok(membership)
}

pub async fn create(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
    headers: HeaderMap,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let writer = writer(&state, &claim).await?;
    // The person or their account may change between the reads and the write (an admin's edit
    // of someone being adopted, a password change of an account joining): made again.
    let outcome = retried_unless_versioned(&headers, || create_user(&state, &writer, &body)).await;
    let target = outcome.as_ref().ok().map(|m| m.id.to_string());
    let membership = audited(
        &state,
        &writer,
        "scim.user.created",
        target.as_deref(),
        outcome,
    )
    .await?;
    Ok(scim_json(
        StatusCode::CREATED,
        resource(&base, &membership),
        Some(membership.version),
    ))
}

/// What a client asks of a user's document: a body as it came.
#[derive(Clone, Copy)]
enum Change<'a> {
    Replace(&'a Bytes),
    Patch(&'a Bytes),
}

impl Change<'_> {
    fn applied_to(self, current: &Map<String, Value>) -> Result<Map<String, Value>, ScimError> {
        Ok(match self {
            Change::Replace(body) => normalise(KIND, &json_body(body)?)?,
            Change::Patch(body) => patch::apply(KIND, current, &json_body(body)?)?,
        })
    }

    /// `current` with only this change's `active` applied, when it sets one that reads.
    fn active_alone(self, current: &Map<String, Value>) -> Option<Map<String, Value>> {
        let operations = match self {
            // The replacement as one path-less operation.
            Change::Replace(body) => {
                json!({ "Operations": [{ "op": "replace", "value": json_body(body).ok()? }] })
            }
            Change::Patch(body) => json_body(body).ok()?,
        };
        patch::apply_only(KIND, current, &operations, "active")
    }
}

/// Replaces (PUT) or patches (PATCH) a user's document with `change`, all or nothing, but for
/// a deactivation: a change that sets `active` false and is refused, as a whole or for another
/// of its values, still deactivates the person (see [`deactivate_alone`]), and is answered
/// with its refusal.
async fn update(
    state: &ScimState,
    claim: &ScimClaim,
    writer: &Writer,
    id: &str,
    headers: &HeaderMap,
    change: Change<'_>,
) -> Result<Membership, ScimError> {
    let organisation = &writer.organisation;
    let leaves =
        |document: &Map<String, Value>| document.get("active") == Some(&Value::Bool(false));
    retried_unless_versioned(headers, || async {
        let before = member(state, claim, id).await?;
        check_version(headers, before.version)?;
        let current = &before.scim.as_ref().expect("a SCIM member").document;
        let (leaving, written) = match change.applied_to(current) {
            Ok(document) => (
                leaves(&document),
                match ScimPerson::read_change(
                    &document,
                    Some(current),
                    &organisation.settings.scim_attributes,
                ) {
                    Ok(person) => {
                        let after = provisioned(&before, &person, document, organisation);
                        save(state, &before, &after).await.map(|()| after)
                    }
                    Err(problem) => Err(problem.into()),
                },
            ),
            Err(refused) => (
                change.active_alone(current).is_some_and(|d| leaves(&d)),
                Err(refused),
            ),
        };
        match written {
            Err(refused @ ScimError::Problem(_)) if leaving && before.is_active() => {
                deactivate_alone(state, writer, &before).await?;
                Err(refused)
            }
            outcome => outcome,
        }
    })
    .await
}

/// Writes only the deactivation of a change refused for its other values: someone who left
/// loses access now, whatever else came with it. Entra ID sends every changed attribute of a
/// person in one PATCH (`active` among them when they leave), and sends the refused rest again
/// in its next cycle. Only the status and the document's `active` change: the profile is not
/// provisioned again from the stored document, whose values may be refused too (an email the
/// person's login moved away from while the organisation did not take it from SCIM). Audited on
/// its own (the request's entry records the refusal).
async fn deactivate_alone(
    state: &ScimState,
    writer: &Writer,
    before: &Membership,
) -> Result<(), ScimError> {
    let stored = before.scim.as_ref().expect("a SCIM member");
    let mut document = stored.document.clone();
    document.insert("active".to_owned(), Value::Bool(false));
    let after = Membership {
        scim: Some(ScimUser {
            document,
            created: stored.created,
            last_modified: Utc::now(),
        }),
        version: before.version + 1,
        // The person's sessions here end with this write.
        ..before.with_status(Status::Deactivated, false)
    };
    let saved = save(state, before, &after).await;
    audited(
        state,
        writer,
        "scim.user.deactivated",
        Some(before.id.as_str()),
        saved,
    )
    .await
}

async fn audited_update(
    state: &ScimState,
    claim: &ScimClaim,
    base: &str,
    id: &str,
    action: &str,
    headers: &HeaderMap,
    change: Change<'_>,
) -> Result<Response, ScimError> {
    let writer = writer(state, claim).await?;
    let outcome = update(state, claim, &writer, id, headers, change).await;
    let membership = audited(state, &writer, action, Some(id), outcome).await?;
    Ok(scim_json(
        StatusCode::OK,
        resource(base, &membership),
        Some(membership.version),
    ))
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
        "scim.user.replaced",
        &headers,
        Change::Replace(&body),
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
        "scim.user.patched",
        &headers,
        Change::Patch(&body),
    )
    .await
}

async fn delete_user(
    state: &ScimState,
    claim: &ScimClaim,
    id: &str,
    headers: &HeaderMap,
) -> Result<Membership, ScimError> {
    retried_unless_versioned(headers, || async {
        let before = member(state, claim, id).await?;
        check_version(headers, before.version)?;
        let account = state
            .table
            .account(&before.account_id)
            .await?
            .ok_or(ScimError::NotFound)?;
        // The person's sessions here end with the membership they need.
        state.table.delete_member(&before, &account).await?;
        Ok(before)
    })
    .await
}

/// What a delete of `user` leaves to do after its commit: the vehicles and devices added while
/// it ran, their images, the groups that list them (the slowest part), then the note that this
/// was left. Whatever cannot be done yet answers 503, so that the client sends the delete
/// again: the retry meets 404 and comes here once more.
async fn finish_delete(
    state: &ScimState,
    claim: &ScimClaim,
    user: &UserId,
    groups: &BTreeSet<String>,
) -> Result<(), ScimError> {
    let organisation = claim.organisation();
    let late_removed = state
        .table
        .remove_late_vehicles_and_devices(organisation, user)
        .await;
    if let Err(error) = &late_removed {
        tracing::warn!(%error, "vehicles or devices added during a SCIM delete are left");
    }
    let images_removed = state.avatars.remove_all_of(organisation, user).await;
    let groups_told = crate::groups::forget_deleted_member(state, claim, user, groups).await;
    if !(late_removed.is_ok() && images_removed && groups_told) {
        return Err(ScimError::Unavailable);
    }
    Ok(state.table.finish_scim_deletion(organisation, user).await?)
}

pub async fn delete(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ScimError> {
    let writer = writer(&state, &claim).await?;
    let outcome = delete_user(&state, &claim, &id, &headers).await;
    if let (Err(ScimError::NotFound), Ok(user)) = (&outcome, UserId::try_from(id.as_str())) {
        // Gone already: by a delete that may have been cut off before it was finished.
        if let Some(left) = state.table.scim_deletion(&claim, &user).await? {
            finish_delete(&state, &claim, &user, &left.groups).await?;
        }
    }
    let gone = audited(&state, &writer, "scim.user.deleted", Some(&id), outcome).await?;
    finish_delete(&state, &claim, &gone.id, &gone.scim_groups).await?;
    Ok(StatusCode::NO_CONTENT)
}
