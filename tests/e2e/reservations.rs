//! The bookings feed, booking emails with their calendar, check-in reminders, daily summaries and
//! the live plan, over the local stack with the jobs run at chosen moments.

use aws_sdk_dynamodb::types::AttributeValue::{N, S};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use roster_e2e::{TestApp, organisation, spawn_app, stack};

use crate::credentials::{RawItem, put_raw_item, raw_item};
use serde_json::{Value, json};

/// An organisation with its admin's session, an API key for the bookings feed and a site.
#[derive(Clone)]
struct Booking {
    app: TestApp,
    organisation_id: String,
    admin: String,
    admin_id: String,
    admin_email: String,
    key: String,
    site: String,
}

impl Booking {
    async fn new(settings: Value) -> Self {
        Self::on(spawn_app(&stack().await.functions()).await, settings).await
    }

    /// An organisation with `settings` on `app`.
    async fn on(app: TestApp, settings: Value) -> Self {
        let (organisation, admin) = organisation(&app, settings).await;
        let key = app
            .post_json(
                "/v1/admin/api-keys",
                &admin,
                &json!({ "name": "Booking engine" }),
            )
            .await;
        let site = app
            .post_json("/v1/admin/sites", &admin, &json!({ "name": "Berlin HQ" }))
            .await;
        Self {
            key: key["key"].as_str().unwrap().to_owned(),
            site: site["id"].as_str().unwrap().to_owned(),
            organisation_id: organisation.id,
            admin_id: organisation.admin_id,
            admin_email: organisation.admin_email,
            app,
            admin,
        }
    }

    /// A bookings-feed request with the key as DESIGN.md's contract sends it: `X-Api-Key`.
    async fn feed(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.feed_with(method, path, body, ("x-api-key", self.key.clone()))
            .await
    }

    async fn feed_with(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        (header, value): (&str, String),
    ) -> (u16, Value) {
        let mut request = self
            .app
            .http
            .request(method, self.app.url(path))
            .header(header, value);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A colleague the admin adds and invites, who accepted: their id, email and session.
    async fn colleague(&self, first_name: &str, last_name: &str) -> (String, String, String) {
        let email = roster_e2e::unique_email(&first_name.to_lowercase());
        let created = self
            .app
            .post_json(
                "/v1/admin/users",
                &self.admin,
                &json!({ "first_name": first_name, "last_name": last_name, "email": email }),
            )
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        let session = self.app.invited_session(&self.admin, &id, &email).await;
        (id, email, session)
    }

    /// Reports a reservation of "Desk 4.12" in the contract's shape (DESIGN.md section 8).
    async fn reserve(&self, user: &str, start: &str, end: &str, recurring: bool) -> Value {
        let (status, reservation) = self
            .feed(
                reqwest::Method::POST,
                "/v1/reservations",
                Some(json!({
                    "user_id": user, "resource": { "type": "desk", "name": "Desk 4.12" },
                    "site_id": self.site, "start": start, "end": end, "recurring": recurring
                })),
            )
            .await;
        assert_eq!(status, 201, "{reservation}");
        reservation
    }

    /// Reports `reservation` under `idempotency_key`: the status, whether the answer says it
    /// replays an earlier one, and the body.
    async fn report(&self, idempotency_key: &str, reservation: &Value) -> (u16, bool, Value) {
        let response = self
            .app
            .http
            .post(self.app.url("/v1/reservations"))
            .header("x-api-key", &self.key)
            .header("idempotency-key", idempotency_key)
            .json(reservation)
            .send()
            .await
            .unwrap();
        let replayed = response
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true");
        let status = response.status().as_u16();
        (status, replayed, response.json().await.unwrap())
    }

    /// Adds to the admin a browser per endpoint, push enabled, subscribed with real keys.
    async fn admin_browsers(&self, endpoints: impl IntoIterator<Item = String>) {
        let keys = roster_e2e::spawn_push_service().await;
        let table = stack().await.table();
        let organisation =
            roster_domain::ids::OrganisationId::try_from(self.organisation_id.as_str()).unwrap();
        let admin = roster_domain::ids::UserId::try_from(self.admin_id.as_str()).unwrap();
        for endpoint in endpoints {
            let (_, p256dh, auth) = keys.subscribe();
            let device = roster_store::Device {
                id: roster_domain::ids::DeviceId::generate(),
                name: "Browser".to_owned(),
                target: roster_domain::device::PushTarget::Web {
                    endpoint,
                    p256dh,
                    auth,
                },
                endpoint_arn: None,
                push_enabled: true,
                active: true,
                created_at: Utc::now(),
                version: 1,
            };
            table
                .add_device(&organisation, &admin, &device)
                .await
                .unwrap();
        }
    }

    async fn set_preferences(&self, token: &str, changes: Value) {
        let (_, etag) = self.app.read("/v1/me/preferences", token).await;
        let response = self
            .app
            .patch("/v1/me/preferences", token, &etag, &changes)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }

    /// The person of `token` asks for daily summaries (and no booking confirmations, which
    /// would be counted with them).
    async fn wants_summaries(&self, token: &str) {
        let summaries_only =
            json!({ "notifications": { "daily_summary": true, "booking_confirmation": "off" } });
        self.set_preferences(token, summaries_only).await;
    }

    /// Runs the scheduled `job` as EventBridge would at `at`.
    async fn run_job(&self, job: &str, at: &str) -> Value {
        self.run_job_with(&stack().await.functions(), job, at).await
    }

    /// Runs the scheduled `job` at `at` in `functions` (clients of their own).
    async fn run_job_with(
        &self,
        functions: &roster_local::Functions,
        job: &str,
        at: &str,
    ) -> Value {
        let mut event = roster_e2e::sample_event(&format!("jobs-{job}.json"));
        event["time"] = json!(at);
        functions.invoke("jobs", event).await.unwrap()
    }
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// The calendar attachment of a raw MIME email, parsed by an iCalendar parser.
fn calendar_of(raw: &str) -> ical::parser::ical::component::IcalCalendar {
    use mail_parser::MimeHeaders;
    let message = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    let part = message
        .parts
        .iter()
        .find(|p| p.is_content_type("text", "calendar"))
        .expect("a text/calendar part");
    let ics = String::from_utf8(part.contents().to_vec()).unwrap();
    ical::IcalParser::new(ics.as_bytes())
        .next()
        .unwrap()
        .unwrap()
}

fn property<'a>(properties: &'a [ical::property::Property], name: &str) -> &'a str {
    properties
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.value.as_deref())
        .unwrap_or_else(|| panic!("{name} missing"))
}

#[tokio::test]
async fn booking_emails_carry_a_calendar_that_parses_and_series_get_none() {
    let booking = Booking::new(json!({ "default_time_zone": "Europe/Berlin" })).await;
    booking
        .set_preferences(
            &booking.admin,
            json!({ "notifications": { "booking_confirmation": "email_with_ics" } }),
        )
        .await;
    let reservation = booking
        .reserve(
            &booking.admin_id,
            "2026-12-01T09:00:00+01:00",
            "2026-12-01T17:00:00+01:00",
            false,
        )
        .await;
    let id = reservation["id"].as_str().unwrap();
    let mail = stack().await.emails_to(&booking.admin_email).await;
    let confirmation = mail.last().unwrap()["raw"].as_str().unwrap();
    assert!(confirmation.contains("Desk 4.12"), "{confirmation}");
    assert!(
        confirmation.contains("09:00"),
        "times in the person's zone: {confirmation}"
    );
    let calendar = calendar_of(confirmation);
    assert_eq!(property(&calendar.properties, "METHOD"), "REQUEST");
    let event = &calendar.events[0];
    assert_eq!(property(&event.properties, "UID"), format!("{id}@roster"));
    assert_eq!(property(&event.properties, "SEQUENCE"), "0");
    assert_eq!(property(&event.properties, "DTSTART"), "20261201T080000Z");
    assert_eq!(property(&event.properties, "DTEND"), "20261201T160000Z");

    let mails_before = mail.len();
    booking
        .reserve(
            &booking.admin_id,
            "2026-12-02T09:00:00+01:00",
            "2026-12-02T17:00:00+01:00",
            true,
        )
        .await;
    assert_eq!(
        stack().await.emails_to(&booking.admin_email).await.len(),
        mails_before,
        "a recurring reservation gets no confirmation"
    );

    // Confirmations carry no invite any more; the one this booking sent is still withdrawn.
    booking
        .set_preferences(
            &booking.admin,
            json!({ "notifications": { "booking_confirmation": "email" } }),
        )
        .await;
    let (status, _) = booking
        .feed(
            reqwest::Method::DELETE,
            &format!("/v1/reservations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let mail = stack().await.emails_to(&booking.admin_email).await;
    let calendar = calendar_of(mail.last().unwrap()["raw"].as_str().unwrap());
    assert_eq!(property(&calendar.properties, "METHOD"), "CANCEL");
    let event = &calendar.events[0];
    assert_eq!(property(&event.properties, "UID"), format!("{id}@roster"));
    assert_eq!(property(&event.properties, "SEQUENCE"), "1");
    let (status, _) = booking
        .feed(
            reqwest::Method::DELETE,
            &format!("/v1/reservations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "cancelled once");
}

#[tokio::test]
async fn a_cancellation_that_meets_another_write_of_the_reservation_still_cancels() {
    // DynamoDB cancels a transaction when another one is writing the same item (a check-in at
    // that moment): that says nothing about the reservation, which is still there to cancel.
    let (app, conflicts) = roster_e2e::conflicting_app().await;
    let booking = Booking::on(app, json!({})).await;
    let reservation = booking
        .reserve(
            &booking.admin_id,
            "2035-03-01T09:00:00Z",
            "2035-03-01T10:00:00Z",
            false,
        )
        .await;
    let id = reservation["id"].as_str().unwrap();
    let path = format!("/v1/reservations/{id}");
    // A write that goes on meeting others is given up after a few tries, and says so.
    conflicts.arm(id, 10);
    let (status, body) = booking.feed(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(
        (status, &body["code"]),
        (503, &json!("service_unavailable"))
    );
    assert!(conflicts.left() > 0 && conflicts.left() < 10);
    conflicts.arm(id, 2);
    let (status, body) = booking.feed(reqwest::Method::DELETE, &path, None).await;
    assert_eq!((status, conflicts.left()), (204, 0), "{body}");
    let (again, _) = booking.feed(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(again, 404, "cancelled");
}

#[tokio::test]
async fn cancellation_notices_follow_their_own_switch_beside_the_confirmations() {
    let booking = Booking::new(json!({})).await;
    let admin = &booking.admin_email;
    let book_and_cancel = |start: String, end: String| {
        let booking = &booking;
        async move {
            let reservation = booking
                .reserve(&booking.admin_id, &start, &end, false)
                .await;
            let before = emails(&booking.admin_email).await;
            let (status, _) = booking
                .feed(
                    reqwest::Method::DELETE,
                    &format!("/v1/reservations/{}", reservation["id"].as_str().unwrap()),
                    None,
                )
                .await;
            assert_eq!(status, 204);
            emails(&booking.admin_email).await - before
        }
    };
    for (notifications, day, told) in [
        (json!({ "booking_changes": false }), "01", (1, 0)),
        (
            json!({ "booking_changes": true, "booking_confirmation": "off" }),
            "02",
            (0, 1),
        ),
    ] {
        booking
            .set_preferences(&booking.admin, json!({ "notifications": notifications }))
            .await;
        let before = emails(admin).await;
        let cancellations = book_and_cancel(
            format!("2026-12-{day}T09:00:00Z"),
            format!("2026-12-{day}T17:00:00Z"),
        )
        .await;
        assert_eq!(
            (emails(admin).await - before - cancellations, cancellations),
            told,
            "(confirmations, cancellation notices) with {notifications}"
        );
    }
}

#[tokio::test]
async fn the_feed_needs_an_api_key_and_names_what_is_wrong() {
    let booking = Booking::new(json!({})).await;
    let (status, problem) = booking
        .feed(
            reqwest::Method::POST,
            "/v1/reservations",
            Some(json!({
                "user_id": booking.admin_id, "resource_type": "boat", "resource_name": "x",
                "site_id": booking.site, "start": "tomorrow", "end": "2026-12-01T17:00:00Z"
            })),
        )
        .await;
    assert_eq!(status, 422);
    let mut fields: Vec<String> = roster_e2e::problem_errors(&problem)
        .into_iter()
        .map(|(field, _)| field)
        .collect();
    fields.sort();
    assert_eq!(fields, ["resource_type", "start"]);
    let (status, problem) = booking
        .feed(
            reqwest::Method::POST,
            "/v1/reservations",
            Some(json!({
                "user_id": "nobody", "resource_type": "room", "resource_name": "Atlas",
                "site_id": booking.site, "start": "2026-12-01T09:00:00Z",
                "end": "2026-12-01T10:00:00Z"
            })),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        roster_e2e::problem_errors(&problem),
        [("user_id".to_owned(), "unknown_user".to_owned())]
    );
    let with_session = booking
        .app
        .post("/v1/reservations", &booking.admin, &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(with_session.status(), 401, "a session is not an API key");

    // The key also works as a bearer token; a wrong key in either place does not (a known key
    // gets as far as the reservation, which does not exist).
    let cancel = |header: &'static str, value: String| {
        let path = "/v1/reservations/0123456789abcdef0123456789abcdef";
        booking.feed_with(reqwest::Method::DELETE, path, None, (header, value))
    };
    assert_eq!(cancel("x-api-key", booking.key.clone()).await.0, 404);
    let bearer = format!("Bearer {}", booking.key);
    assert_eq!(cancel("authorization", bearer).await.0, 404);
    assert_eq!(cancel("x-api-key", "nope".to_owned()).await.0, 401);
    assert_eq!(
        cancel("authorization", "Bearer nope".to_owned()).await.0,
        401
    );
    assert_eq!(cancel("x-api-key", String::new()).await.0, 401);
}

#[tokio::test]
async fn a_report_retried_under_its_idempotency_key_books_and_emails_once() {
    let clock = roster_e2e::TestClock::default();
    let stack = stack().await;
    let app = spawn_app(&stack.functions_with(&stack.clients(), clock.clock())).await;
    let booking = Booking::on(app, json!({})).await;
    let desk = |start: &str, end: &str| {
        json!({
            "user_id": booking.admin_id, "resource": { "type": "desk", "name": "Desk 4.12" },
            "site_id": booking.site, "start": start, "end": end
        })
    };
    let reservation = desk("2033-03-03T09:00:00+01:00", "2033-03-03T17:00:00+01:00");
    let emails_before = stack.emails_to(&booking.admin_email).await.len();

    // Five copies of a first report at once (the engine's retry racing its original), then a
    // later retry that spells the same times in UTC.
    let twins =
        futures::future::join_all((0..5).map(|_| booking.report("booking-7781", &reservation)))
            .await;
    let id = twins[0].2["id"].clone();
    assert!(id.is_string(), "{:?}", twins[0]);
    for (status, _, body) in &twins {
        assert_eq!((*status, &body["id"]), (201, &id), "{body}");
    }
    assert_eq!(
        twins.iter().filter(|(_, replayed, _)| !replayed).count(),
        1,
        "one of them books, the others replay it"
    );
    let in_utc = desk("2033-03-03T08:00:00Z", "2033-03-03T16:00:00Z");
    let retry = booking.report("booking-7781", &in_utc).await;
    assert_eq!((retry.0, retry.1, &retry.2["id"]), (201, true, &id));

    let (status, _, problem) = booking
        .report(
            "booking-7781",
            &desk("2033-03-04T09:00:00+01:00", "2033-03-04T17:00:00+01:00"),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        roster_e2e::problem_errors(&problem),
        [(
            "Idempotency-Key".to_owned(),
            "idempotency_key_reused".to_owned()
        )]
    );
    let mut wrong_end = reservation.clone();
    wrong_end["end"] = json!("tomorrow");
    let (status, _, problem) = booking.report(&"k".repeat(256), &wrong_end).await;
    assert_eq!(status, 422);
    assert_eq!(
        roster_e2e::problem_errors(&problem),
        [
            ("end".to_owned(), "invalid_time".to_owned()),
            (
                "Idempotency-Key".to_owned(),
                "invalid_idempotency_key".to_owned()
            )
        ]
    );

    let mine = booking
        .app
        .json("/v1/me/reservations", &booking.admin)
        .await;
    let ids: Vec<&Value> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&id], "booked once");
    assert_eq!(
        stack.emails_to(&booking.admin_email).await.len(),
        emails_before + 1,
        "confirmed once"
    );

    // Another organisation's engine may use the same key; a day later it is free again.
    let other = Booking::on(booking.app.clone(), json!({})).await;
    let theirs = json!({
        "user_id": other.admin_id, "resource": { "type": "room", "name": "Atlas" },
        "site_id": other.site, "start": "2033-03-03T09:00:00Z", "end": "2033-03-03T10:00:00Z"
    });
    let (status, replayed, body) = other.report("booking-7781", &theirs).await;
    assert_eq!((status, replayed), (201, false), "{body}");
    assert_ne!(body["id"], id);
    clock.advance(chrono::Duration::hours(25));
    let (status, replayed, body) = booking.report("booking-7781", &reservation).await;
    assert_eq!((status, replayed), (201, false), "{body}");
    assert_ne!(body["id"], id);
}

#[tokio::test]
async fn a_person_sees_their_reservations_and_the_live_plan_hides_who_hides() {
    let booking = Booking::new(json!({ "allow_hide_profile": true })).await;
    let (shy_id, _, shy_session) = booking.colleague("Sam", "Shy").await;
    booking
        .set_preferences(&shy_session, json!({ "hide_profile": true }))
        .await;
    let (start, end) = ("2030-01-15T08:00:00Z", "2030-01-15T16:00:00Z");
    booking.reserve(&booking.admin_id, start, end, false).await;
    let hidden = booking.reserve(&shy_id, start, end, false).await;

    let mine = booking.app.json("/v1/me/reservations", &shy_session).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["id"], hidden["id"]);

    let plan = format!("/v1/sites/{}/reservations?date=2030-01-15", booking.site);
    let seen_by_admin = booking.app.json(&plan, &booking.admin).await;
    let people: Vec<&Value> = seen_by_admin["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| &item["person"])
        .collect();
    assert_eq!(people.len(), 2);
    assert!(people.contains(&&json!({ "reserved": true })), "{people:?}");
    assert!(
        people.iter().any(|p| p["display_name"] == "Ada Lovelace"),
        "{people:?}"
    );
    assert!(
        !seen_by_admin.to_string().contains(&shy_id),
        "who hides is not revealed"
    );
    let seen_by_self = booking.app.json(&plan, &shy_session).await;
    assert!(
        seen_by_self.to_string().contains(&shy_id),
        "people always see their own"
    );
    booking
        .app
        .change_settings(&booking.admin, json!({ "allow_hide_profile": false }))
        .await;
    let seen_without_hiding = booking.app.json(&plan, &booking.admin).await;
    assert!(
        seen_without_hiding.to_string().contains(&shy_id),
        "where people may not hide, everyone's bookings show whom they are for"
    );
    assert_eq!(seen_without_hiding["next_cursor"], Value::Null);
    // A busy site's day comes a page at a time.
    let first = booking
        .app
        .json(&format!("{plan}&limit=1"), &booking.admin)
        .await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = booking
        .app
        .json(&format!("{plan}&limit=1&cursor={cursor}"), &booking.admin)
        .await;
    assert_eq!(second["next_cursor"], Value::Null);
    let paged: Vec<&Value> = [&first, &second]
        .iter()
        .flat_map(|page| page["items"].as_array().unwrap())
        .collect();
    let whole: Vec<&Value> = seen_without_hiding["items"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(paged, whole);
    let bad_date = booking
        .app
        .get(
            &format!("/v1/sites/{}/reservations?date=15.01.2030", booking.site),
            &booking.admin,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad_date.status(), 422);
}

#[tokio::test]
async fn a_busy_persons_list_shows_their_next_reservations_after_a_month_of_past_ones() {
    let booking = Booking::new(json!({})).await;
    booking
        .set_preferences(
            &booking.admin,
            json!({ "notifications": { "booking_confirmation": "off" } }),
        )
        .await;
    // More reservations in the last 31 days than the list answers, all of them over.
    let now = chrono::Utc::now();
    let past = (0..110).map(|i| {
        let start = now - chrono::Duration::days(20) + chrono::Duration::hours(i);
        let end = start + chrono::Duration::minutes(30);
        let booking = &booking;
        async move {
            booking
                .reserve(
                    &booking.admin_id,
                    &start.to_rfc3339(),
                    &end.to_rfc3339(),
                    false,
                )
                .await
        }
    });
    futures::stream::iter(past)
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let start = now + chrono::Duration::days(2);
    let next = booking
        .reserve(
            &booking.admin_id,
            &start.to_rfc3339(),
            &(start + chrono::Duration::hours(8)).to_rfc3339(),
            false,
        )
        .await;

    let mine = booking
        .app
        .json("/v1/me/reservations", &booking.admin)
        .await;
    let ids: Vec<&Value> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&next["id"]], "{mine}");
}

/// Emails whose subject or body mention the summary, for `to`.
async fn summaries_to(to: &str, marker: &str) -> usize {
    stack()
        .await
        .emails_to(to)
        .await
        .iter()
        .filter(|m| m["raw"].as_str().unwrap_or_default().contains(marker))
        .count()
}

#[tokio::test]
async fn the_daily_summary_arrives_at_18_local_once_even_on_the_days_clocks_change() {
    // (zone, reservation start, the run before 18:00 local, the run at 18:00 local)
    let cases = [
        (
            "Europe/Berlin",
            "2031-03-11T08:00:00Z",
            "2031-03-10T16:45:00Z",
            "2031-03-10T17:00:00Z",
        ),
        (
            "Europe/Berlin",
            "2031-10-27T08:00:00Z",
            "2031-10-26T16:45:00Z",
            "2031-10-26T17:00:00Z",
        ),
        (
            "Europe/Berlin",
            "2031-03-31T08:00:00Z",
            "2031-03-30T15:45:00Z",
            "2031-03-30T16:00:00Z",
        ),
        (
            "America/New_York",
            "2031-11-03T14:00:00Z",
            "2031-11-02T22:45:00Z",
            "2031-11-02T23:00:00Z",
        ),
        (
            "America/New_York",
            "2031-03-10T14:00:00Z",
            "2031-03-09T21:45:00Z",
            "2031-03-09T22:00:00Z",
        ),
        (
            "Asia/Kolkata",
            "2031-06-05T04:00:00Z",
            "2031-06-04T12:15:00Z",
            "2031-06-04T12:30:00Z",
        ),
    ];
    for (zone, start, before, at) in cases {
        let booking = Booking::new(json!({ "default_time_zone": zone })).await;
        booking.wants_summaries(&booking.admin).await;
        let end = (utc(start) + chrono::Duration::hours(2)).to_rfc3339();
        booking.reserve(&booking.admin_id, start, &end, false).await;
        let marker = "Desk 4.12";
        booking.run_job("daily-summary", before).await;
        assert_eq!(
            summaries_to(&booking.admin_email, marker).await,
            0,
            "{zone}: not before 18:00"
        );
        // Two overlapping runs, then a third: one summary.
        tokio::join!(
            booking.run_job("daily-summary", at),
            booking.run_job("daily-summary", at)
        );
        booking.run_job("daily-summary", at).await;
        assert_eq!(
            summaries_to(&booking.admin_email, marker).await,
            1,
            "{zone} {at}: one summary at 18:00 local"
        );
    }
}

#[tokio::test]
async fn a_summary_ses_turned_away_goes_out_once_when_it_is_back_hours_later() {
    let booking = Booking::new(json!({ "default_time_zone": "Europe/Berlin" })).await;
    let (colleague_id, colleague_email, colleague_session) =
        booking.colleague("Col", "League").await;
    for (session, person) in [
        (&booking.admin, &booking.admin_id),
        (&colleague_session, &colleague_id),
    ] {
        booking.wants_summaries(session).await;
        booking
            .reserve(
                person,
                "2034-05-10T08:00:00Z",
                "2034-05-10T10:00:00Z",
                false,
            )
            .await;
    }
    let summaries = || async {
        [
            summaries_to(&booking.admin_email, "Desk 4.12").await,
            summaries_to(&colleague_email, "Desk 4.12").await,
        ]
    };
    // Due at 18:00 in Berlin (16:00 UTC); SES is down for the first hour of runs, which stop
    // at the first one it turns away. (Runs handle every organisation's summaries: only these
    // two people's emails are counted.)
    let failing = stack()
        .await
        .functions_without_ses_and_sns(profile_api::system_clock());
    for at in [
        "2034-05-09T16:00:00Z",
        "2034-05-09T16:15:00Z",
        "2034-05-09T16:30:00Z",
        "2034-05-09T16:45:00Z",
    ] {
        let run = booking.run_job_with(&failing, "daily-summary", at).await;
        // Both may be under way before the first is turned away (16 are sent at once).
        let tried = run["email"]["retry"].as_u64().unwrap();
        assert!((1..=2).contains(&tried), "{at}: {run}");
        assert_eq!(run["email"]["sent"], 0, "{at}: {run}");
    }
    assert_eq!(summaries().await, [0, 0]);

    for at in ["2034-05-09T17:00:00Z", "2034-05-09T17:15:00Z"] {
        booking.run_job("daily-summary", at).await;
        assert_eq!(summaries().await, [1, 1], "{at}: once each, an hour late");
    }
}

/// A run whose invocation nears its end starts no more summaries and lists them for later runs
/// (cut off, it listed none: whoever it had not reached got no summary that day).
#[tokio::test]
async fn a_summary_a_run_near_its_deadline_did_not_send_goes_out_with_a_later_run() {
    let booking = Booking::new(json!({ "default_time_zone": "Europe/Berlin" })).await;
    booking.wants_summaries(&booking.admin).await;
    booking
        .reserve(
            &booking.admin_id,
            "2037-06-10T08:00:00Z",
            "2037-06-10T10:00:00Z",
            false,
        )
        .await;
    // Due at 18:00 in Berlin (16:00 UTC), in an invocation that ends in 10 seconds.
    let mut event = roster_e2e::sample_event("jobs-daily-summary.json");
    event["time"] = json!("2037-06-09T16:00:00Z");
    let ending = std::time::SystemTime::now() + std::time::Duration::from_secs(10);
    let run = stack()
        .await
        .functions()
        .invoke_until("jobs", event, Some(ending))
        .await
        .unwrap();
    assert_eq!(run["email"]["sent"], 0, "{run}");
    assert_eq!(summaries_to(&booking.admin_email, "Desk 4.12").await, 0);
    // A run an hour on no longer reads that bucket: the list brings it.
    booking
        .run_job("daily-summary", "2037-06-09T17:00:00Z")
        .await;
    assert_eq!(summaries_to(&booking.admin_email, "Desk 4.12").await, 1);
}

#[tokio::test]
async fn a_summary_lists_the_day_booked_before_and_after_its_hour_moved() {
    let booking = Booking::new(json!({ "default_time_zone": "Europe/Berlin" })).await;
    booking.wants_summaries(&booking.admin).await;
    // 10:00 local, booked while summaries go out at 18:00; then they move to 07:00 and 14:00
    // local is booked.
    booking
        .reserve(
            &booking.admin_id,
            "2031-09-10T08:00:00Z",
            "2031-09-10T09:00:00Z",
            false,
        )
        .await;
    booking
        .app
        .change_settings(&booking.admin, json!({ "daily_summary_hour": 7 }))
        .await;
    booking
        .reserve(
            &booking.admin_id,
            "2031-09-10T12:00:00Z",
            "2031-09-10T13:00:00Z",
            false,
        )
        .await;
    let lines = async || -> Vec<usize> {
        stack()
            .await
            .emails_to(&booking.admin_email)
            .await
            .iter()
            .map(|mail| {
                let message = mail_parser::MessageParser::default()
                    .parse(mail["raw"].as_str().unwrap().as_bytes())
                    .unwrap();
                message.body_text(0).unwrap().matches("Desk 4.12").count()
            })
            .collect()
    };
    // 07:00 local the day before: one summary with both.
    booking
        .run_job("daily-summary", "2031-09-09T05:00:00Z")
        .await;
    assert_eq!(lines().await, [2]);
    // 18:00 local, where the first was filed: nothing more.
    booking
        .run_job("daily-summary", "2031-09-09T16:00:00Z")
        .await;
    assert_eq!(lines().await, [2]);
}

#[tokio::test]
async fn nobody_without_reservations_or_who_did_not_ask_gets_a_summary() {
    let booking = Booking::new(json!({ "default_time_zone": "Europe/Berlin" })).await;
    // The admin did not switch summaries on (the default is off).
    booking
        .reserve(
            &booking.admin_id,
            "2031-05-06T08:00:00Z",
            "2031-05-06T10:00:00Z",
            false,
        )
        .await;
    booking
        .run_job("daily-summary", "2031-05-05T16:00:00Z")
        .await;
    assert_eq!(
        summaries_to(&booking.admin_email, "Desk 4.12").await,
        1,
        "only the confirmation"
    );
}

#[tokio::test]
async fn daily_summaries_have_a_switch_of_their_own() {
    // Booking notices off, summaries on: the person who asked gets one.
    let booking = Booking::new(json!({ "booking_notifications_enabled": false })).await;
    booking
        .set_preferences(
            &booking.admin,
            json!({ "notifications": { "daily_summary": true } }),
        )
        .await;
    let reserve = |booking: &Booking, day: &'static str| {
        let booking = booking.clone();
        async move {
            let (start, end) = (format!("{day}T08:00:00Z"), format!("{day}T10:00:00Z"));
            booking
                .reserve(&booking.admin_id, &start, &end, false)
                .await;
        }
    };
    reserve(&booking, "2031-07-08").await;
    booking
        .run_job("daily-summary", "2031-07-07T18:00:00Z")
        .await;
    assert_eq!(summaries_to(&booking.admin_email, "Desk 4.12").await, 1);

    // Summaries off: nobody gets one, whatever they asked for.
    booking
        .app
        .change_settings(&booking.admin, json!({ "daily_summaries_enabled": false }))
        .await;
    reserve(&booking, "2031-07-10").await;
    booking
        .run_job("daily-summary", "2031-07-09T18:00:00Z")
        .await;
    assert_eq!(summaries_to(&booking.admin_email, "Desk 4.12").await, 1);
}

/// Emails to `to` so far.
async fn emails(to: &str) -> usize {
    stack().await.emails_to(to).await.len()
}

#[tokio::test]
async fn a_check_in_reminder_goes_out_once_at_the_start_by_email_and_to_enabled_devices() {
    use roster_domain::{
        device::PushTarget,
        ids::{DeviceId, OrganisationId, UserId},
    };
    let booking = Booking::new(json!({ "checkin_enabled": true })).await;
    let admin = &booking.admin_email;
    booking
        .set_preferences(
            &booking.admin,
            json!({ "notifications": { "booking_confirmation": "off" } }),
        )
        .await;
    // Browsers subscribed with the local push service. Its endpoints are loopback http URLs,
    // which the devices API rightly refuses, so they are written to the table directly.
    let push = roster_e2e::spawn_push_service().await;
    let stack = stack().await;
    let table = stack.table();
    let organisation = OrganisationId::try_from(booking.organisation_id.as_str()).unwrap();
    let person = UserId::try_from(booking.admin_id.as_str()).unwrap();
    let mut browsers = Vec::new();
    for push_enabled in [true, false] {
        let (endpoint, p256dh, auth) = push.subscribe();
        let device = roster_store::Device {
            id: DeviceId::generate(),
            name: "Firefox".to_owned(),
            target: PushTarget::Web {
                endpoint: endpoint.clone(),
                p256dh,
                auth,
            },
            endpoint_arn: None,
            push_enabled,
            active: true,
            created_at: Utc::now(),
            version: 1,
        };
        table
            .add_device(&organisation, &person, &device)
            .await
            .unwrap();
        browsers.push((endpoint, device.id));
    }
    let (enabled, switched_off) = (&browsers[0].0, &browsers[1].0);

    let reservation = booking
        .reserve(
            &booking.admin_id,
            "2032-02-02T09:00:00Z",
            "2032-02-02T17:00:00Z",
            false,
        )
        .await;
    booking
        .run_job("checkin-reminder", "2032-02-02T08:55:00Z")
        .await;
    assert_eq!(emails(admin).await, 0, "nothing before the start");
    tokio::join!(
        booking.run_job("checkin-reminder", "2032-02-02T09:00:00Z"),
        booking.run_job("checkin-reminder", "2032-02-02T09:00:00Z")
    );
    booking
        .run_job("checkin-reminder", "2032-02-02T09:05:00Z")
        .await;
    assert_eq!(
        emails(admin).await,
        1,
        "one reminder email across overlapping runs"
    );
    let received = push.received(enabled);
    assert_eq!(
        received.len(),
        1,
        "one push, decrypted by the browser's side"
    );
    assert_eq!(received[0]["tag"], reservation["id"]);
    assert!(received[0]["body"].as_str().unwrap().contains("Desk 4.12"));
    assert!(
        push.received(switched_off).is_empty(),
        "push off on that device"
    );
    assert!(push.failures().is_empty(), "{:?}", push.failures());

    // A reservation checked in before its start gets no reminder.
    let checked_in = booking
        .reserve(
            &booking.admin_id,
            "2032-02-02T10:00:00Z",
            "2032-02-02T11:00:00Z",
            false,
        )
        .await;
    // An engine's double submit, at once: both see it checked in, at one time.
    let check_in = format!(
        "/v1/reservations/{}/check-in",
        checked_in["id"].as_str().unwrap()
    );
    let answers = futures::future::join_all(
        (0..4).map(|_| booking.feed(reqwest::Method::POST, &check_in, None)),
    )
    .await;
    let times: Vec<(u16, &Value)> = answers
        .iter()
        .map(|(status, body)| (*status, &body["checked_in_at"]))
        .collect();
    assert_eq!(times, vec![(200, &answers[0].1["checked_in_at"]); 4]);
    assert!(answers[0].1["checked_in_at"].is_string());
    booking
        .run_job("checkin-reminder", "2032-02-02T10:00:00Z")
        .await;
    assert_eq!(emails(admin).await, 1);
    assert_eq!(push.received(enabled).len(), 1);

    // A browser that dropped its subscription is marked inactive.
    push.gone(enabled);
    booking
        .reserve(
            &booking.admin_id,
            "2032-02-02T11:00:00Z",
            "2032-02-02T12:00:00Z",
            false,
        )
        .await;
    booking
        .run_job("checkin-reminder", "2032-02-02T11:00:00Z")
        .await;
    assert_eq!(emails(admin).await, 2);
    let device = table
        .device(&organisation, &person, &browsers[0].1)
        .await
        .unwrap()
        .unwrap();
    assert!(!device.active, "a 410 marks the device inactive");
    assert_eq!(
        device.version, 2,
        "the mark is a change: a PATCH read before it is stale"
    );

    // A person who switched reminders off gets none.
    booking
        .set_preferences(
            &booking.admin,
            json!({ "notifications": { "checkin_reminder_email": false, "checkin_reminder_push": false } }),
        )
        .await;
    booking
        .reserve(
            &booking.admin_id,
            "2032-02-02T12:00:00Z",
            "2032-02-02T13:00:00Z",
            false,
        )
        .await;
    booking
        .run_job("checkin-reminder", "2032-02-02T12:00:00Z")
        .await;
    assert_eq!(emails(admin).await, 2);
}

#[tokio::test]
async fn a_push_service_that_never_answers_holds_back_no_one_elses_reminder() {
    let booking = Booking::new(json!({ "checkin_enabled": true })).await;
    let stack = stack().await;
    // A push service that takes each connection and never answers, until it is dropped.
    let silent = roster_e2e::spawn_silent_server().await;
    // The admin's 20 browsers subscribed there (keys from a real subscription).
    booking
        .admin_browsers((0..20).map(|n| format!("{}/push/{n}", silent.origin)))
        .await;
    let (colleague, colleague_email, session) = booking.colleague("Ben", "Busy").await;
    for token in [&booking.admin, &session] {
        booking
            .set_preferences(
                token,
                json!({ "notifications": { "booking_confirmation": "off" } }),
            )
            .await;
    }
    // The admin's reservation began ten minutes before the colleague's: a run reaches it first.
    booking
        .reserve(
            &booking.admin_id,
            "2035-07-07T08:50:00Z",
            "2035-07-07T17:00:00Z",
            false,
        )
        .await;
    booking
        .reserve(
            &colleague,
            "2035-07-07T09:00:00Z",
            "2035-07-07T17:00:00Z",
            false,
        )
        .await;
    let before = emails(&colleague_email).await;

    let mut event = roster_e2e::sample_event("jobs-checkin-reminder.json");
    event["time"] = json!("2035-07-07T09:00:00Z");
    let functions = stack.functions();
    let run = tokio::spawn(async move { functions.invoke("jobs", event).await });
    // The colleague's reminder goes out while the admin's pushes still wait (one after another,
    // each waiting out its 10 s timeout, they held it back for over three minutes).
    for waited in 0.. {
        if emails(&colleague_email).await > before {
            break;
        }
        assert!(waited < 300, "no reminder for the colleague within 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    silent.stop();
    let run = run.await.unwrap().unwrap();
    assert_eq!(run["email"]["sent"], 2, "{run}");
    assert_eq!(
        run["push"]["retry"], 20,
        "tried again by the next run: {run}"
    );
}

/// The reminder and summary partitions serve every organisation at once: an entry, an
/// organisation or a person that does not read (a broken one, or one a newer release wrote) is
/// left out, and everyone else's reminders and summaries go out (each failed the whole run). An
/// organisation's summaries wait for it to read again.
#[tokio::test]
async fn an_unreadable_entry_or_organisation_holds_back_no_one_elses_reminder_or_summary() {
    use roster_domain::reservation::{Bucket, REMINDER_BUCKET, SUMMARY_BUCKET};
    let (start, end) = ("2036-04-08T09:00:00Z", "2036-04-08T17:00:00Z");
    let settings = json!({ "checkin_enabled": true, "default_time_zone": "Europe/Berlin" });
    let served = Booking::new(settings.clone()).await;
    let unreadable = Booking::new(settings.clone()).await;
    let unreadable_person = Booking::new(settings).await;
    for booking in [&served, &unreadable, &unreadable_person] {
        booking.wants_summaries(&booking.admin).await;
        booking.reserve(&booking.admin_id, start, end, false).await;
    }
    let (colleague, colleague_email, session) = unreadable_person.colleague("Col", "League").await;
    unreadable_person.wants_summaries(&session).await;
    unreadable_person
        .reserve(&colleague, start, end, false)
        .await;
    let stack = stack().await;
    let client = aws_sdk_dynamodb::Client::new(&stack.aws);
    let table = stack.config.table_name.as_str();
    let organisation_of = |booking: &Booking| {
        roster_domain::ids::OrganisationId::try_from(booking.organisation_id.as_str()).unwrap()
    };
    let person = roster_store::keys::membership(
        &organisation_of(&unreadable_person),
        &roster_domain::ids::UserId::try_from(unreadable_person.admin_id.as_str()).unwrap(),
    );
    let readable = make_unreadable(
        roster_store::keys::organisation(&organisation_of(&unreadable)),
        "settings",
    )
    .await;
    make_unreadable(person, "profile").await;
    // The summary of the 8th in Berlin goes out at 18:00 local on the 7th.
    let summary_run = "2036-04-07T16:00:00Z";
    for partition in [
        roster_store::keys::checkin_bucket(&Bucket::containing(utc(start), REMINDER_BUCKET).key()),
        roster_store::keys::summary_bucket(
            &Bucket::containing(utc(summary_run), SUMMARY_BUCKET).key(),
        ),
    ] {
        client
            .put_item()
            .table_name(table)
            .item("pk", S(partition))
            .item("sk", S("0#broken#2036-04-08#r".to_owned()))
            .item("start", N("1".to_owned()))
            .send()
            .await
            .unwrap();
    }

    // (served admin, colleague, unreadable organisation's admin, unreadable person)
    let counts = || async {
        [
            emails(&served.admin_email).await,
            emails(&colleague_email).await,
            emails(&unreadable.admin_email).await,
            emails(&unreadable_person.admin_email).await,
        ]
    };
    let [served_before, colleague_before, left_out, unread] = counts().await;
    served.run_job("daily-summary", summary_run).await;
    served.run_job("checkin-reminder", start).await;
    assert_eq!(
        counts().await,
        [served_before + 2, colleague_before + 2, left_out, unread],
        "a summary and a reminder each"
    );
    // Readable again an hour on, the organisation gets its summary (its bucket is no longer
    // read: the list brings it); nobody gets a second.
    put_raw_item(readable).await;
    served
        .run_job("daily-summary", "2036-04-07T17:00:00Z")
        .await;
    assert_eq!(
        counts().await,
        [
            served_before + 2,
            colleague_before + 2,
            left_out + 1,
            unread
        ]
    );
}

#[tokio::test]
async fn a_reminder_that_fails_lets_the_others_in_flight_finish_and_sends_nothing_twice() {
    let booking = Booking::new(json!({ "checkin_enabled": true })).await;
    let stack = stack().await;
    // A push service that answers each push after a second and a half.
    let slow = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slow_origin = format!("http://{}", slow.local_addr().unwrap());
    let pushed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = pushed.clone();
    let service = tokio::spawn(async move {
        loop {
            let (mut connection, _) = slow.accept().await.unwrap();
            let counted = counted.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut request = vec![0; 64 * 1024];
                let _ = connection.read(&mut request).await;
                tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = connection
                    .write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    booking
        .admin_browsers([format!("{slow_origin}/push/1")])
        .await;
    // A colleague whose devices the table fails to read: their reminder fails the run.
    let (colleague, _, session) = booking.colleague("Ben", "Broken").await;
    for token in [&booking.admin, &session] {
        booking
            .set_preferences(
                token,
                json!({ "notifications": { "booking_confirmation": "off" } }),
            )
            .await;
    }
    for user in [&booking.admin_id, &colleague] {
        booking
            .reserve(user, "2035-08-08T09:00:00Z", "2035-08-08T17:00:00Z", false)
            .await;
    }
    let before = emails(&booking.admin_email).await;

    let functions = stack.functions_with(
        &stack.intercepted_clients(DeviceReadsFail::of(&booking, &colleague)),
        profile_api::system_clock(),
    );
    let run_at = |time: &str| {
        let mut event = roster_e2e::sample_event("jobs-checkin-reminder.json");
        event["time"] = json!(time);
        functions.invoke("jobs", event)
    };
    let failed = run_at("2035-08-08T09:00:00Z").await;
    assert!(failed.is_err(), "{failed:?}");
    // The admin's reminder was under way when the colleague's failed: it was finished.
    assert_eq!(pushed.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(emails(&booking.admin_email).await, before + 1);
    // The next run sends the admin nothing again.
    let _ = run_at("2035-08-08T09:05:00Z").await;
    assert_eq!(pushed.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(emails(&booking.admin_email).await, before + 1);
    service.abort();
}

#[tokio::test]
async fn reminders_that_meet_an_ses_and_sns_outage_go_out_once_when_they_are_back() {
    use roster_domain::{
        device::PushTarget,
        ids::{DeviceId, OrganisationId, UserId},
    };
    let booking = Booking::new(json!({ "checkin_enabled": true })).await;
    booking
        .set_preferences(
            &booking.admin,
            json!({ "notifications": { "booking_confirmation": "off" } }),
        )
        .await;
    let stack = stack().await;
    // A phone with its SNS endpoint, as registration leaves it.
    let sns = aws_sdk_sns::Client::new(&stack.aws);
    let endpoint = sns
        .create_platform_endpoint()
        .platform_application_arn(stack.push.apns.clone().unwrap())
        .token(format!("token-{}", UserId::generate()))
        .send()
        .await
        .unwrap()
        .endpoint_arn
        .unwrap();
    let table = stack.table();
    let phone = roster_store::Device {
        id: DeviceId::generate(),
        name: "iPhone".to_owned(),
        target: PushTarget::Ios {
            token: "token".to_owned(),
        },
        endpoint_arn: Some(endpoint.clone()),
        push_enabled: true,
        active: true,
        created_at: Utc::now(),
        version: 1,
    };
    table
        .add_device(
            &OrganisationId::try_from(booking.organisation_id.as_str()).unwrap(),
            &UserId::try_from(booking.admin_id.as_str()).unwrap(),
            &phone,
        )
        .await
        .unwrap();
    booking
        .reserve(
            &booking.admin_id,
            "2033-03-03T09:00:00Z",
            "2033-03-03T17:00:00Z",
            false,
        )
        .await;

    // SES and SNS unreachable: the run sends nothing and keeps both for a retry.
    let failing = stack.functions_without_ses_and_sns(profile_api::system_clock());
    let (logs, logging) = roster_e2e::CapturedLogs::start();
    let run = booking
        .run_job_with(&failing, "checkin-reminder", "2033-03-03T09:00:00Z")
        .await;
    drop(logging);
    assert_eq!(run["email"]["retry"], 1, "{run}");
    assert_eq!(run["push"]["retry"], 1, "{run}");
    // An operator sees why, and the run's line counts what is left for later.
    let logs = logs.text();
    for why in [
        "a booking email was not sent; a later run tries again",
        "a push was not sent; a later run tries again",
    ] {
        assert!(
            logs.lines()
                .any(|line| line.contains(r#""level":"WARN""#) && line.contains(why)),
            "{why}: {logs}"
        );
    }
    assert!(logs.contains("retry: 1"), "{logs}");
    assert_eq!(emails(&booking.admin_email).await, 0);
    assert!(stack.phone_messages(&endpoint).await.is_empty());

    // Back up: the next run sends each once, and the one after sends nothing again.
    let run = booking
        .run_job("checkin-reminder", "2033-03-03T09:05:00Z")
        .await;
    assert_eq!(
        (&run["email"]["sent"], &run["push"]["sent"]),
        (&json!(1), &json!(1)),
        "{run}"
    );
    let run = booking
        .run_job("checkin-reminder", "2033-03-03T09:10:00Z")
        .await;
    assert_eq!(
        (&run["email"]["sent"], &run["push"]["sent"]),
        (&json!(0), &json!(0)),
        "{run}"
    );
    assert_eq!(emails(&booking.admin_email).await, 1);
    let published = stack.phone_messages(&endpoint).await;
    assert_eq!(published.len(), 1, "{published:?}");
    assert!(published[0].contains("Desk 4.12"), "{}", published[0]);
}

/// Makes the stored item `key` unreadable (its `attribute` a number, which no release writes) and
/// answers it as it was, to put back with `put_raw_item`.
async fn make_unreadable(key: roster_store::keys::Key, attribute: &str) -> RawItem {
    let before = raw_item(key.clone()).await.expect("the item to break");
    let mut broken = before.clone();
    broken.insert(attribute.to_owned(), N("7".to_owned()));
    put_raw_item(broken).await;
    before
}

/// An item of text attributes only, with no body that reads: what a broken write, or a newer
/// release's, leaves.
fn texts(attributes: &[(&str, &str)]) -> RawItem {
    attributes
        .iter()
        .map(|(name, value)| ((*name).to_owned(), S((*value).to_owned())))
        .collect()
}

/// A person's own reservation or device that does not read (a broken one, or one a newer release
/// wrote) costs them neither their summary nor their reminder, and the run does not fail (the
/// summary run used to end at it, for everyone of that moment).
#[tokio::test]
async fn a_reservation_or_device_that_does_not_read_holds_back_no_summary_or_reminder() {
    use roster_domain::ids::{DeviceId, OrganisationId, UserId};
    let (start, end) = ("2041-02-06T09:00:00Z", "2041-02-06T17:00:00Z");
    let booking =
        Booking::new(json!({ "checkin_enabled": true, "default_time_zone": "UTC" })).await;
    booking.wants_summaries(&booking.admin).await;
    booking.reserve(&booking.admin_id, start, end, false).await;
    let (organisation, user) = (
        OrganisationId::try_from(booking.organisation_id.as_str()).unwrap(),
        UserId::try_from(booking.admin_id.as_str()).unwrap(),
    );
    let unreadable_reservation = format!("ORG#{organisation}#RES#unreadable");
    put_raw_item(texts(&[
        ("pk", &unreadable_reservation),
        ("sk", "RES"),
        (
            "gsi1pk",
            &roster_store::keys::reservations_of(&organisation, &user),
        ),
        ("gsi1sk", "2041-02-06T12:00:00+00:00#unreadable"),
    ]))
    .await;
    let device = roster_store::keys::device(&organisation, &user, &DeviceId::generate());
    put_raw_item(texts(&[("pk", &device.pk), ("sk", &device.sk)])).await;

    let before = emails(&booking.admin_email).await;
    // The summary of the 6th goes out at 18:00 on the 5th.
    booking
        .run_job("daily-summary", "2041-02-05T18:00:00Z")
        .await;
    assert_eq!(
        emails(&booking.admin_email).await,
        before + 1,
        "the summary"
    );
    let run = booking.run_job("checkin-reminder", start).await;
    assert_eq!(
        emails(&booking.admin_email).await,
        before + 2,
        "the reminder"
    );
    assert_eq!(run["email"]["sent"], 1, "{run}");
    let mine = booking
        .app
        .json("/v1/me/reservations", &booking.admin)
        .await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1), "{mine}");
}

/// The sort key of a held booking email that does not read, due before the test's others.
const UNREADABLE_HELD: &str = "2041-03-01T07:59:00Z#unreadable";

/// The held booking emails are tried again however one of them reads: one that does not read is
/// passed over, and one whose organisation does not read waits (it was refused for good as if the
/// person had left) without holding back the others.
#[tokio::test]
async fn held_booking_emails_go_out_though_one_or_its_organisation_does_not_read() {
    let stack = stack().await;
    let confirmations = json!({ "notifications": { "booking_confirmation": "email" } });
    let unread = Booking::new(json!({})).await;
    let read = Booking::new(json!({})).await;
    for booking in [&unread, &read] {
        booking
            .set_preferences(&booking.admin, confirmations.clone())
            .await;
    }
    put_raw_item(texts(&[
        ("pk", roster_store::keys::HELD_EMAILS),
        ("sk", UNREADABLE_HELD),
    ]))
    .await;
    for (booking, at) in [
        (&unread, "2041-03-01T08:00:00Z"),
        (&read, "2041-03-01T08:00:30Z"),
    ] {
        ses_down_at(booking, at)
            .await
            .reserve(
                &booking.admin_id,
                "2041-03-04T09:00:00Z",
                "2041-03-04T17:00:00Z",
                false,
            )
            .await;
    }
    let readable = make_unreadable(
        roster_store::keys::organisation(
            &roster_domain::ids::OrganisationId::try_from(unread.organisation_id.as_str()).unwrap(),
        ),
        "settings",
    )
    .await;

    let run = read
        .run_job("checkin-reminder", "2041-03-01T08:06:00Z")
        .await;
    assert_eq!(
        (
            emails(&unread.admin_email).await,
            emails(&read.admin_email).await
        ),
        (0, 1),
        "{run}"
    );
    assert_eq!(run["held_emails"]["retry"], 1, "{run}");
    assert_eq!(run["held_emails"]["refused"], 0, "{run}");

    // Readable again, the organisation's email goes out, once.
    put_raw_item(readable).await;
    read.run_job("checkin-reminder", "2041-03-01T08:12:00Z")
        .await;
    read.run_job("checkin-reminder", "2041-03-01T08:18:00Z")
        .await;
    assert_eq!(
        (
            emails(&unread.admin_email).await,
            emails(&read.admin_email).await
        ),
        (1, 1)
    );
    aws_sdk_dynamodb::Client::new(&stack.aws)
        .delete_item()
        .table_name(&stack.config.table_name)
        .key("pk", S(roster_store::keys::HELD_EMAILS.to_owned()))
        .key("sk", S(UNREADABLE_HELD.to_owned()))
        .send()
        .await
        .unwrap();
}

/// Fails each DynamoDB request for the devices of the member partition it holds, as a table that
/// errs would.
#[derive(Debug)]
struct DeviceReadsFail(String);

impl DeviceReadsFail {
    fn of(booking: &Booking, user: &str) -> Self {
        Self(roster_store::keys::member_partition(
            &roster_domain::ids::OrganisationId::try_from(booking.organisation_id.as_str())
                .unwrap(),
            &roster_domain::ids::UserId::try_from(user).unwrap(),
        ))
    }
}

impl aws_sdk_dynamodb::config::Intercept for DeviceReadsFail {
    fn name(&self) -> &'static str {
        "device-reads-fail"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let body = context.request().body().bytes().unwrap_or_default();
        let body = String::from_utf8_lossy(body);
        if body.contains(&self.0) && body.contains(roster_store::keys::DEVICE_PREFIX) {
            Err("the table failed the read".into())
        } else {
            Ok(())
        }
    }
}

/// `booking` fed through a service whose SES and SNS are unreachable and whose clock stands at
/// `moment`.
async fn ses_down_at(booking: &Booking, moment: &'static str) -> Booking {
    let stack = stack().await;
    let clock: profile_api::Clock = std::sync::Arc::new(move || utc(moment));
    Booking {
        app: spawn_app(&stack.functions_without_ses_and_sns(clock)).await,
        ..booking.clone()
    }
}

#[tokio::test]
async fn booking_emails_that_meet_an_ses_outage_go_out_once_when_it_is_back() {
    let booking = Booking::new(json!({})).await;
    booking
        .set_preferences(
            &booking.admin,
            json!({ "notifications": { "booking_confirmation": "email_with_ics" } }),
        )
        .await;
    let stack = stack().await;
    let admin = &booking.admin_email;

    // Booked, and booked and cancelled again, while SES is down: the feed is answered as usual.
    let down = ses_down_at(&booking, "2034-04-01T08:00:00Z").await;
    let kept = down
        .reserve(
            &booking.admin_id,
            "2034-04-04T09:00:00Z",
            "2034-04-04T17:00:00Z",
            false,
        )
        .await;
    let cancelled = down
        .reserve(
            &booking.admin_id,
            "2034-04-05T09:00:00Z",
            "2034-04-05T17:00:00Z",
            false,
        )
        .await;
    let cancelled = cancelled["id"].as_str().unwrap();
    let (status, _) = down
        .feed(
            reqwest::Method::DELETE,
            &format!("/v1/reservations/{cancelled}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(emails(admin).await, 0);
    booking
        .run_job("checkin-reminder", "2034-04-01T08:04:00Z")
        .await;
    assert_eq!(emails(admin).await, 0, "held for five minutes");

    // SES is back: two overlapping runs send the kept booking's confirmation and the cancelled
    // one's cancellation (not its confirmation), once; a later run sends nothing more.
    tokio::join!(
        booking.run_job("checkin-reminder", "2034-04-01T08:05:00Z"),
        booking.run_job("checkin-reminder", "2034-04-01T08:05:00Z")
    );
    booking
        .run_job("checkin-reminder", "2034-04-01T08:10:00Z")
        .await;
    let mail = stack.emails_to(admin).await;
    let mut told: Vec<(String, String, String)> = mail
        .iter()
        .map(|message| {
            let calendar = calendar_of(message["raw"].as_str().unwrap());
            let event = &calendar.events[0];
            (
                property(&event.properties, "UID").to_owned(),
                property(&calendar.properties, "METHOD").to_owned(),
                property(&event.properties, "SEQUENCE").to_owned(),
            )
        })
        .collect();
    told.sort();
    let mut expected = vec![
        (
            format!("{}@roster", kept["id"].as_str().unwrap()),
            "REQUEST".to_owned(),
            "0".to_owned(),
        ),
        (
            format!("{cancelled}@roster"),
            "CANCEL".to_owned(),
            "1".to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(told, expected);

    // SES down for a day: the email is given up, recorded as failed, and never sent late.
    let down = ses_down_at(&booking, "2034-05-01T08:00:00Z").await;
    down.reserve(
        &booking.admin_id,
        "2034-05-09T09:00:00Z",
        "2034-05-09T17:00:00Z",
        false,
    )
    .await;
    let failing = stack.functions_without_ses_and_sns(profile_api::system_clock());
    let run = booking
        .run_job_with(&failing, "checkin-reminder", "2034-05-01T08:05:00Z")
        .await;
    assert_eq!(run["held_emails"]["retry"], 1, "{run}");
    let run = booking
        .run_job_with(&failing, "checkin-reminder", "2034-05-02T08:00:00Z")
        .await;
    assert_eq!(run["held_emails"]["refused"], 1, "{run}");
    let run = booking
        .run_job("checkin-reminder", "2034-05-02T08:05:00Z")
        .await;
    assert_eq!(
        run["held_emails"],
        json!({ "sent": 0, "retry": 0, "refused": 0, "gone": 0 })
    );
    assert_eq!(emails(admin).await, 2);

    // A run whose reminders fail still sends what is held: here the reminder of someone whose
    // devices the table fails to read. (In this test, as every held email of the stack is
    // retried by each run.)
    let down = ses_down_at(&booking, "2034-06-01T08:00:00Z").await;
    down.reserve(
        &booking.admin_id,
        "2034-06-04T09:00:00Z",
        "2034-06-04T17:00:00Z",
        false,
    )
    .await;
    let run_at = "2034-06-01T08:05:00Z";
    let checking_in = Booking::new(json!({ "checkin_enabled": true })).await;
    checking_in
        .reserve(&checking_in.admin_id, run_at, "2034-06-01T17:00:00Z", false)
        .await;
    let failing_device_reads = stack.functions_with(
        &stack.intercepted_clients(DeviceReadsFail::of(&checking_in, &checking_in.admin_id)),
        profile_api::system_clock(),
    );
    let mut event = roster_e2e::sample_event("jobs-checkin-reminder.json");
    event["time"] = json!(run_at);
    let failed = failing_device_reads.invoke("jobs", event).await;
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(emails(admin).await, 3, "sent all the same");

    // Nothing of the organisation is left held: each was let go once sent or given up.
    let table = stack.table();
    for at in [
        "2034-04-01T09:00:00Z",
        "2034-05-02T09:00:00Z",
        "2034-06-01T09:00:00Z",
    ] {
        let left: Vec<_> = table
            .held_booking_emails_due(utc(at))
            .await
            .unwrap()
            .into_iter()
            .filter(|held| held.reservation.organisation_id.as_str() == booking.organisation_id)
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
