//! The bookings feed (an organisation's API key): reservations created, cancelled and checked in
//! by the booking engine, with the person's booking emails; and what people read of them: their
//! own reservations and a site's day (the live plan).

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use roster_domain::{
    idempotency::IdempotencyKey,
    ids::{ReservationId, UserId},
    membership::Membership,
    organisation::Organisation,
    reservation::{
        Attempt, BookingChange, HeldBookingEmail, NewReservation, Reservation, WithCalendar,
        booking_email,
    },
};
use roster_notify::outbox;
use roster_store::{ApiKey, FiledReservation, StoreError, Uniqueness};
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    caller::{Authenticated, Integration},
    extract::{JsonObject, Paging, RequestKey},
};

fn view(reservation: &Reservation) -> Value {
    json!({
        "id": reservation.id,
        "user_id": reservation.user_id,
        "resource_type": reservation.resource_kind,
        "resource_name": reservation.resource_name,
        "site_id": reservation.site_id,
        "start": reservation.start,
        "end": reservation.end,
        "recurring": reservation.recurring,
        "checked_in_at": reservation.checked_in_at,
    })
}

/// The key's organisation and the name of its site `site`, if it has that site.
async fn organisation_and_site(
    state: &AppState,
    key: &ApiKey,
    site: &str,
) -> Result<(Organisation, Option<String>), ApiError> {
    let organisation = state
        .table
        .organisation(&key.organisation_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let site_name = state
        .table
        .site(&organisation.id, site)
        .await?
        .map(|s| s.name);
    Ok((organisation, site_name))
}

/// The email telling `person` that `reservation` was booked (or cancelled), when their
/// organisation and their settings want one: held in the same transaction as the change, so an
/// email whose sending this process does not live to finish (or that SES turns away) is left for
/// the reminder job to retry, and a retried request that is answered from its `Idempotency-Key`
/// needs to send nothing.
struct Notice {
    held: HeldBookingEmail,
    with_calendar: WithCalendar,
}

impl Notice {
    fn of(
        state: &AppState,
        organisation: &Organisation,
        person: &Membership,
        reservation: &Reservation,
        site_name: &str,
        change: BookingChange,
    ) -> Option<Self> {
        let with_calendar = booking_email(organisation, person, reservation, change)?;
        let held = HeldBookingEmail::new(
            reservation.clone(),
            site_name.to_owned(),
            change,
            state.now(),
        );
        Some(Self {
            held,
            with_calendar,
        })
    }
}

/// Sends a held `notice` to `person`, once, and lets it go once SES took it or refused it for
/// good. Never the feed's error (the change has been written): a failure leaves it held.
async fn tell_person(
    state: &AppState,
    organisation: &Organisation,
    person: &Membership,
    notice: &Notice,
) {
    let Notice {
        held,
        with_calendar,
    } = notice;
    let HeldBookingEmail {
        reservation,
        site_name,
        change,
        held_since: now,
        ..
    } = held;
    let told = async {
        let attempt = state
            .table
            .deliver_once(
                &organisation.id,
                &reservation.message_subject(),
                change.channel(),
                || {
                    outbox::booking_email(
                        &state.mailer,
                        person,
                        reservation,
                        site_name,
                        *change,
                        *with_calendar,
                        *now,
                    )
                },
            )
            .await?;
        match attempt {
            Some(Attempt::Retry(reason)) => {
                tracing::warn!(reservation = %reservation.id, %reason, "booking email held for a retry");
                Ok(())
            }
            _ => state.table.release_booking_email(held).await,
        }
    };
    if let Err(error) = told.await {
        tracing::error!(reservation = %reservation.id, %error, "booking email not recorded");
    }
}

/// What an earlier request under `request` answered (201 again, with `Idempotent-Replayed: true`),
/// or 422 when it asked for another reservation; `None` when no live request holds the key.
async fn replay(
    state: &AppState,
    key: &ApiKey,
    request: Option<&IdempotencyKey>,
    new: &NewReservation,
) -> Result<Option<Response>, ApiError> {
    let Some(request) = request else {
        return Ok(None);
    };
    let Some(earlier) = state
        .table
        .reservation_requested(&key.organisation_id, request, state.now())
        .await?
    else {
        return Ok(None);
    };
    if earlier.request() != *new {
        return Err(RequestKey::reused(
            "was sent before with another reservation",
        ));
    }
    Ok(Some(RequestKey::replayed(view(&earlier))))
}

/// `POST /v1/reservations` (API key): 201 with the reservation; the person must be an active
/// member and the site one of the organisation's. A request repeating an earlier one's
/// `Idempotency-Key` (within a day) gets the earlier answer and books nothing.
#[utoipa::path(
    post,
    path = "/v1/reservations",
    operation_id = "create_reservation",
    tag = "reservations",
    summary = "Report a new reservation (booking engine)",
    security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 printable ASCII characters, one per organisation; a retry with the same key and reservation within 24 h gets the first request's answer, as it was then, and books and emails nothing more.")),
    request_body = crate::openapi::NewReservationRequest,
    responses(
        (status = 201, description = "The reservation.", body = crate::openapi::Reservation, headers(("Idempotent-Replayed" = String, description = "`true` when this answers an earlier request with the same `Idempotency-Key`."))),
        (status = 409, description = "A request with the same `Idempotency-Key` is still being written."),
        (status = 422, description = "A field is invalid, or the `Idempotency-Key` was sent before with another reservation.")
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Integration(key): Integration,
    RequestKey(request): RequestKey,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let (new, request) = match (NewReservation::parse(&body), request) {
        (Ok(new), Ok(request)) => (new, request),
        (new, request) => {
            let mut errors = new.err().unwrap_or_default();
            errors.collect(RequestKey::HEADER, request);
            return Err(errors.into());
        }
    };
    if let Some(earlier) = replay(&state, &key, request.as_ref(), &new).await? {
        return Ok(earlier);
    }
    let (organisation, site_name) = organisation_and_site(&state, &key, &new.site_id).await?;
    let site_name = site_name.ok_or_else(|| {
        ApiError::field(
            "site_id",
            "unknown_site",
            "is not a site of the organisation",
        )
    })?;
    let person = state
        .table
        .membership(&organisation.id, &new.user_id)
        .await?
        .filter(Membership::is_active)
        .ok_or_else(|| {
            ApiError::field(
                "user_id",
                "unknown_user",
                "is not an active user of the organisation",
            )
        })?;
    let mut reservation = Reservation::new(
        ReservationId::generate(),
        organisation.id.clone(),
        new,
        state.now(),
    );
    reservation.calendar_sent = Some(
        booking_email(&organisation, &person, &reservation, BookingChange::Booked)
            .is_some_and(|WithCalendar(with_ics)| with_ics),
    );
    let filing = reservation.filing(
        organisation.settings.default_time_zone.0,
        person.preferences.time_zone.0,
        organisation.settings.daily_summary_hour,
    );
    let notice = Notice::of(
        &state,
        &organisation,
        &person,
        &reservation,
        &site_name,
        BookingChange::Booked,
    );
    let written = state
        .table
        .create_reservation(
            &reservation,
            &filing,
            request.as_ref(),
            notice.as_ref().map(|n| &n.held),
        )
        .await;
    if let Err(StoreError::Taken(Uniqueness::IdempotencyKey)) = written {
        let asked = reservation.request();
        let twin = RequestKey::twin_answer(|| replay(&state, &key, request.as_ref(), &asked));
        if let Some(earlier) = twin.await? {
            return Ok(earlier);
        }
    }
    written?;
    if let Some(notice) = &notice {
        tell_person(&state, &organisation, &person, notice).await;
    }
    Ok((StatusCode::CREATED, Json(view(&reservation))).into_response())
}

async fn reservation_of(
    state: &AppState,
    key: &ApiKey,
    id: &str,
) -> Result<FiledReservation, ApiError> {
    let id = ReservationId::try_from(id).map_err(|_| ApiError::NotFound)?;
    state
        .table
        .reservation(&key.organisation_id, &id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// `DELETE /v1/reservations/{id}` (API key): 204; the person is told, with a calendar
/// cancellation when the confirmation carried an invite.
#[utoipa::path(
    delete,
    path = "/v1/reservations/{reservation}",
    operation_id = "cancel_reservation",
    tag = "reservations",
    summary = "Cancel a reservation (booking engine)",
    security(("api_key" = [])),
    params(("reservation" = String, Path, description = "A reservation id.")),
    responses((status = 204, description = "Cancelled."))
)]
pub async fn cancel(
    State(state): State<AppState>,
    Integration(key): Integration,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let filed = reservation_of(&state, &key, &id).await?;
    let reservation = &filed.reservation;
    let (organisation, site_name) =
        organisation_and_site(&state, &key, &reservation.site_id).await?;
    // The site may have been removed since the booking; its id then stands in for its name.
    let site_name = site_name.unwrap_or_else(|| reservation.site_id.clone());
    let person = state
        .table
        .membership(&organisation.id, &reservation.user_id)
        .await?;
    let cancelled = Reservation {
        sequence: reservation.sequence + 1,
        ..reservation.clone()
    };
    let told = person.and_then(|person| {
        let notice = Notice::of(
            &state,
            &organisation,
            &person,
            &cancelled,
            &site_name,
            BookingChange::Cancelled,
        )?;
        Some((person, notice))
    });
    state
        .table
        .delete_reservation(&filed, told.as_ref().map(|(_, notice)| &notice.held))
        .await?;
    if let Some((person, notice)) = &told {
        tell_person(&state, &organisation, person, notice).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/reservations/{id}/check-in` (API key): the reservation, checked in (once; a
/// repeat changes nothing).
#[utoipa::path(
    post,
    path = "/v1/reservations/{reservation}/check-in",
    operation_id = "check_in_reservation",
    tag = "reservations",
    summary = "Check a reservation in (booking engine)",
    security(("api_key" = [])),
    params(("reservation" = String, Path, description = "A reservation id.")),
    responses((status = 200, description = "The reservation, checked in.", body = crate::openapi::Reservation))
)]
pub async fn check_in(
    State(state): State<AppState>,
    Integration(key): Integration,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    // A check-in sent twice at once (an engine's double submit) finds the reservation checked
    // in by the other when its own write loses: that is its answer too.
    for _ in 0..3 {
        let before = reservation_of(&state, &key, &id).await?;
        if before.reservation.checked_in_at.is_some() {
            return Ok(Json(view(&before.reservation)));
        }
        let after = Reservation {
            checked_in_at: Some(state.now()),
            version: before.reservation.version + 1,
            ..before.reservation.clone()
        };
        match state.table.update_reservation(&before, &after).await {
            Ok(()) => return Ok(Json(view(&after))),
            Err(StoreError::Stale) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(ApiError::Stale)
}

/// `GET /v1/me/reservations`: the caller's reservations that have not ended, by start.
#[utoipa::path(
    get,
    path = "/v1/me/reservations",
    operation_id = "my_reservations",
    tag = "reservations",
    summary = "The caller's reservations that have not ended",
    security(("session" = [])),
    responses((status = 200, description = "By start.", body = crate::openapi::Reservations))
)]
pub async fn mine(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let reservations = state
        .table
        .reservations_of(&caller.organisation.id, &caller.membership.id, state.now())
        .await?;
    let items: Vec<Value> = reservations.iter().map(view).collect();
    Ok(Json(json!({ "items": items })))
}

/// `GET /v1/sites/{id}/reservations?date=YYYY-MM-DD&limit=&cursor=`: a page of the site's
/// reservations of that day (in the organisation's time zone, 200 by default) with each
/// colleague's name; people who hide their profile appear only as reserved, except to
/// themselves. Four DynamoDB calls at most beside the session's: the site, one `Query`, and
/// the page's people (two `BatchGetItem`s of up to 100).
#[utoipa::path(
    get,
    path = "/v1/sites/{site}/reservations",
    operation_id = "site_day",
    tag = "reservations",
    summary = "A site's reservations of a day (the live plan)",
    security(("session" = [])),
    params(("site" = String, Path, description = "A site id."), ("date" = String, Query, format = Date, description = "YYYY-MM-DD, in the organisation's time zone."), ("limit" = Option<u32>, Query, description = "1 to 200 (default 200)."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page; empty or absent for the first.")),
    responses((status = 200, description = "A page of the day, by start.", body = crate::openapi::SiteDay), (status = 422, description = "The date, limit or cursor is invalid."))
)]
pub async fn site_day(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(site): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let date = query
        .get("date")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| ApiError::field("date", "invalid_date", "must be a date as YYYY-MM-DD"))?;
    let organisation = &caller.organisation;
    if state.table.site(&organisation.id, &site).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let paging = Paging::with_default(&query, Paging::MAX_LIMIT, &state)?;
    let (reservations, next_cursor) = state
        .table
        .site_day(&organisation.id, &site, date, paging.limit, paging.cursor())
        .await?;
    let mut people: Vec<UserId> = reservations.iter().map(|r| r.user_id.clone()).collect();
    people.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    people.dedup();
    let people = state
        .table
        .memberships_by_id(&organisation.id, &people)
        .await?;
    let items: Vec<Value> = reservations
        .iter()
        .map(|reservation| {
            let person = people.iter().find(|p| p.id == reservation.user_id);
            let hidden = person.is_none_or(|p| {
                !p.is_listed(&organisation.settings) && p.id != caller.membership.id
            });
            let mut item = json!({
                "id": reservation.id,
                "resource_type": reservation.resource_kind,
                "resource_name": reservation.resource_name,
                "start": reservation.start,
                "end": reservation.end,
                "checked_in": reservation.checked_in_at.is_some(),
            });
            item["person"] = match person {
                Some(p) if !hidden => json!({
                    "id": p.id,
                    "display_name": p.profile.display_name(),
                }),
                _ => json!({ "reserved": true }),
            };
            item
        })
        .collect();
    Ok(Json(json!({
        "date": date,
        "items": items,
        "next_cursor": paging.next_cursor(next_cursor),
    })))
}
