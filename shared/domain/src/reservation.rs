//! Reservations as the booking engine reports them: Roster keeps what it needs to notify people
//! (it is not the booking engine), and decides when each notice is due.
//!
//! Due work is found by time buckets: a check-in reminder is due in the 5-minute bucket holding the
//! reservation's start (the seed: "always sent at the start of the reservation"); a daily summary
//! in the 15-minute bucket holding the moment the person's local clock reaches the organisation's
//! summary hour on the day before the reservation's local date. Both are fixed when the
//! reservation is written, so a job run reads only the buckets it is due to handle.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    ids::{OrganisationId, ReservationId, UserId},
    membership::Membership,
    organisation::Organisation,
    preferences::BookingConfirmation,
    validation::{FieldProblem, ValidationErrors, bounded_text},
};

/// Length of a check-in reminder bucket: the reminder job runs every 5 minutes.
pub const REMINDER_BUCKET: Duration = Duration::minutes(5);
/// Length of a daily-summary bucket: the summary job runs every 15 minutes.
pub const SUMMARY_BUCKET: Duration = Duration::minutes(15);
/// How long after its moment a summary SES could not take is tried again: a list of tomorrow's
/// bookings is still of use in the evening.
pub const SUMMARY_RETRY_WINDOW: Duration = Duration::hours(6);
/// Longest reservation accepted.
pub const LONGEST: Duration = Duration::days(31);
/// Longest resource name.
pub const RESOURCE_NAME_MAX: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Desk,
    Parking,
    Room,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub id: ReservationId,
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub resource_kind: ResourceKind,
    pub resource_name: String,
    pub site_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Part of a series: such reservations get no confirmation or cancellation email.
    pub recurring: bool,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// Raised by every change a calendar should see (the ICS `SEQUENCE`).
    pub sequence: u32,
    /// Whether its confirmation carried a calendar invite, as decided when it was booked (none
    /// for one booked before this was kept): its cancellation notice withdraws that invite,
    /// whatever the person's confirmations carry by then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_sent: Option<bool>,
    pub created_at: DateTime<Utc>,
    /// Raised by every write; writes are conditional on the version they read.
    pub version: u64,
}

/// A reservation as the bookings feed posts it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReservation {
    pub user_id: UserId,
    pub resource_kind: ResourceKind,
    pub resource_name: String,
    pub site_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub recurring: bool,
}

impl NewReservation {
    /// Parses `{user_id, resource: {type, name}, site_id, start, end, recurring?}` (DESIGN.md's
    /// contract; `resource_type` and `resource_name` in place of `resource` are accepted too);
    /// times are RFC 3339 with an offset. Every invalid field is named.
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        const FIELDS: [&str; 8] = [
            "user_id",
            "resource",
            "resource_type",
            "resource_name",
            "site_id",
            "start",
            "end",
            "recurring",
        ];
        for field in body.keys() {
            if !FIELDS.contains(&field.as_str()) {
                errors.push(
                    field,
                    "unknown_field",
                    format!("{field} is not accepted here"),
                );
            }
        }
        let user_id = errors.collect(
            "user_id",
            required_text(body, "user_id").and_then(|id| {
                UserId::try_from(id)
                    .map_err(|_| FieldProblem::new("invalid_id", "is not a user id"))
            }),
        );
        // Where the resource's type and name are read from, and the names errors give them; a
        // null counts as absent.
        let given = |field: &str| body.get(field).is_some_and(|value| !value.is_null());
        let resource = match body.get("resource").filter(|value| !value.is_null()) {
            None if !given("resource_type") && !given("resource_name") => {
                errors.push("resource", "required", "is required: {type, name}");
                None
            }
            None => Some((
                body,
                ("resource_type", "resource_type"),
                ("resource_name", "resource_name"),
            )),
            Some(Value::Object(resource)) => {
                for field in resource
                    .keys()
                    .filter(|f| !["type", "name"].contains(&f.as_str()))
                {
                    errors.push(
                        format!("resource.{field}"),
                        "unknown_field",
                        format!("{field} is not accepted here"),
                    );
                }
                for flat in ["resource_type", "resource_name"] {
                    if given(flat) {
                        errors.push(
                            flat,
                            "conflicting_field",
                            "give the resource once, in resource",
                        );
                    }
                }
                Some((
                    resource,
                    ("type", "resource.type"),
                    ("name", "resource.name"),
                ))
            }
            Some(_) => {
                errors.push(
                    "resource",
                    "invalid_type",
                    "must be an object with type and name",
                );
                None
            }
        };
        let (resource_kind, resource_name) = match resource {
            None => (None, None),
            Some((resource, (kind_key, kind_field), (name_key, name_field))) => (
                errors.collect(
                    kind_field,
                    required_text(resource, kind_key).and_then(|kind| match kind {
                        "desk" => Ok(ResourceKind::Desk),
                        "parking" => Ok(ResourceKind::Parking),
                        "room" => Ok(ResourceKind::Room),
                        _ => Err(FieldProblem::new(
                            "invalid_choice",
                            "must be one of desk, parking, room",
                        )),
                    }),
                ),
                errors.collect(
                    name_field,
                    required_text(resource, name_key)
                        .and_then(|name| bounded_text(name, 1, RESOURCE_NAME_MAX)),
                ),
            ),
        };
        let site_id = errors.collect(
            "site_id",
            required_text(body, "site_id").and_then(|site| bounded_text(site, 1, 100)),
        );
        let start = errors.collect("start", instant(body, "start"));
        let end = errors.collect("end", instant(body, "end"));
        let recurring = errors
            .collect(
                "recurring",
                match body.get("recurring") {
                    None | Some(Value::Null) => Ok(false),
                    Some(Value::Bool(flag)) => Ok(*flag),
                    Some(_) => Err(FieldProblem::new("invalid_type", "must be true or false")),
                },
            )
            .unwrap_or(false);
        if let (Some(start), Some(end)) = (start, end) {
            if end <= start {
                errors.push("end", "before_start", "must be after start");
            } else if end - start > LONGEST {
                errors.push("end", "too_long", "a reservation lasts at most 31 days");
            }
        }
        match (user_id, resource_kind, resource_name, site_id, start, end) {
            (
                Some(user_id),
                Some(resource_kind),
                Some(resource_name),
                Some(site_id),
                Some(start),
                Some(end),
            ) if errors.is_empty() => Ok(Self {
                user_id,
                resource_kind,
                resource_name,
                site_id,
                start,
                end,
                recurring,
            }),
            _ => Err(errors),
        }
    }
}

fn required_text<'a>(body: &'a Map<String, Value>, field: &str) -> Result<&'a str, FieldProblem> {
    match body.get(field) {
        None | Some(Value::Null) => Err(FieldProblem::new("required", "is required")),
        Some(value) => value
            .as_str()
            .ok_or_else(|| FieldProblem::new("invalid_type", "must be a string")),
    }
}

fn instant(body: &Map<String, Value>, field: &str) -> Result<DateTime<Utc>, FieldProblem> {
    let text = required_text(body, field)?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            FieldProblem::new(
                "invalid_time",
                "must be an RFC 3339 time with an offset, e.g. 2026-11-23T09:00:00+01:00",
            )
        })
}

impl Reservation {
    /// The request this reservation was made from, to tell a retry from another request that
    /// reuses its idempotency key.
    pub fn request(&self) -> NewReservation {
        NewReservation {
            user_id: self.user_id.clone(),
            resource_kind: self.resource_kind,
            resource_name: self.resource_name.clone(),
            site_id: self.site_id.clone(),
            start: self.start,
            end: self.end,
            recurring: self.recurring,
        }
    }

    pub fn new(
        id: ReservationId,
        organisation_id: OrganisationId,
        new: NewReservation,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            organisation_id,
            user_id: new.user_id,
            resource_kind: new.resource_kind,
            resource_name: new.resource_name,
            site_id: new.site_id,
            start: new.start,
            end: new.end,
            recurring: new.recurring,
            checked_in_at: None,
            sequence: 0,
            calendar_sent: None,
            created_at: now,
            version: 1,
        }
    }

    /// What the messages about the reservation are filed under, once each per channel.
    pub fn message_subject(&self) -> String {
        format!("RES#{}", self.id)
    }

    /// The reminder bucket the reservation's start falls in.
    pub fn reminder_bucket(&self) -> Bucket {
        Bucket::containing(self.start, REMINDER_BUCKET)
    }

    /// The reservation's date in `zone` (the day it starts there).
    pub fn local_date(&self, zone: Tz) -> NaiveDate {
        self.start.with_timezone(&zone).date_naive()
    }
}

/// How one attempt to send a message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    /// Worth another try (throttling, a service error): the next run retries.
    Retry(String),
    /// Refused for good; recorded with the reason so it is never lost silently.
    Refused(String),
    /// The recipient's device is gone (it is then marked inactive).
    Gone,
}

/// Whether `person` gets an email when `reservation` is booked or cancelled (`change`), and with
/// an ICS calendar attachment: only when the organisation sends booking notices, for reservations
/// that are not part of a series, to active people with an email. The confirmation of a booking
/// follows the person's `booking_confirmation` (off, email, email with ICS; the invite as decided
/// at booking, once the reservation records it); the notice of a cancellation their
/// `booking_changes` switch, with the ICS cancellation when the confirmation carried an invite
/// (so the calendar entry they were sent goes away; for a reservation that does not say, when
/// their confirmations carry ICS now).
pub fn booking_email(
    organisation: &Organisation,
    person: &Membership,
    reservation: &Reservation,
    change: BookingChange,
) -> Option<WithCalendar> {
    let wanted = organisation.settings.booking_notifications_enabled
        && !reservation.recurring
        && person.is_active()
        && person.profile.email.is_some();
    let notifications = &person.preferences.notifications;
    let with_ics_now = notifications.booking_confirmation == BookingConfirmation::EmailWithIcs;
    let (switched_on, with_ics) = match change {
        // A confirmation tried again (held for SES) carries what was decided at booking, which
        // its cancellation follows.
        BookingChange::Booked => (
            notifications.booking_confirmation != BookingConfirmation::Off,
            reservation.calendar_sent.unwrap_or(with_ics_now),
        ),
        BookingChange::Cancelled => (
            notifications.booking_changes,
            reservation.calendar_sent.unwrap_or(with_ics_now),
        ),
    };
    (wanted && switched_on).then_some(WithCalendar(with_ics))
}

/// Whether a booking email carries the ICS attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithCalendar(pub bool);

/// What a booking email tells the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingChange {
    Booked,
    Cancelled,
}

impl BookingChange {
    /// The delivery channel of its email: each reservation gets at most one of each.
    pub fn channel(self) -> &'static str {
        match self {
            Self::Booked => "email-confirmation",
            Self::Cancelled => "email-cancellation",
        }
    }
}

/// How long after SES last turned a booking email away it is tried again (by the check-in
/// reminder job, which runs this often).
pub const HELD_EMAIL_RETRY: Duration = Duration::minutes(5);
/// How long a booking email is held for SES before it is recorded as failed.
pub const HELD_EMAIL_KEPT: Duration = Duration::hours(24);

/// A booking email SES would not take (still failing after the SDK's own retries), held to be
/// tried again every `HELD_EMAIL_RETRY` for `HELD_EMAIL_KEPT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBookingEmail {
    /// The reservation as the email tells it (a cancellation's with its raised `sequence`).
    pub reservation: Reservation,
    /// The site's name when it was booked or cancelled.
    pub site_name: String,
    pub change: BookingChange,
    /// When it was first held: the moment of its booking or cancellation.
    pub held_since: DateTime<Utc>,
    /// When it is next tried.
    pub retry_at: DateTime<Utc>,
}

impl HeldBookingEmail {
    /// `reservation`'s email about `change`, held at `now`, before its first try.
    pub fn new(
        reservation: Reservation,
        site_name: String,
        change: BookingChange,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            reservation,
            site_name,
            change,
            held_since: now,
            retry_at: now + HELD_EMAIL_RETRY,
        }
    }

    /// The same email, turned away again at `now`.
    pub fn turned_away(&self, now: DateTime<Utc>) -> Self {
        Self {
            retry_at: now + HELD_EMAIL_RETRY,
            ..self.clone()
        }
    }

    /// Whether the held email still goes out when it is tried again at `now`: to whom and with the
    /// calendar attachment or not; or else the attempt it ends as. The person's organisation and
    /// settings decide now, the invite as the reservation records it (`booking_email`), a
    /// confirmation of a reservation cancelled since is not sent, one whose organisation did not
    /// read waits for a later run, and one held for `HELD_EMAIL_KEPT` has failed.
    /// `still_booked` is whether the reservation still exists (it does not matter for a
    /// cancellation).
    pub fn still_goes_out<'a>(
        &self,
        addressee: Addressee<'a>,
        still_booked: bool,
        now: DateTime<Utc>,
    ) -> Result<(&'a Membership, WithCalendar), Attempt> {
        let refused = |reason: &str| Attempt::Refused(reason.to_owned());
        if now >= self.held_since + HELD_EMAIL_KEPT {
            return Err(refused("SES did not take the email within 24 hours"));
        }
        if self.change == BookingChange::Booked && !still_booked {
            return Err(refused(
                "the reservation was cancelled before its confirmation could be sent",
            ));
        }
        let (organisation, person) = match addressee {
            Addressee::Found(organisation, person) => (organisation, person),
            Addressee::Gone => return Err(refused("the person is no longer a member")),
            Addressee::OrganisationUnread => {
                return Err(Attempt::Retry("the organisation did not read".to_owned()));
            }
        };
        booking_email(organisation, person, &self.reservation, self.change)
            .map(|with_calendar| (person, with_calendar))
            .ok_or_else(|| refused("the person no longer takes booking emails"))
    }
}

/// Whom a message about a reservation is for, as a run read them.
#[derive(Debug, Clone, Copy)]
pub enum Addressee<'a> {
    Found(&'a Organisation, &'a Membership),
    /// The person is no longer a member.
    Gone,
    /// The organisation did not read (a broken item, or one a newer release wrote, perhaps only
    /// until a deploy ends), or is gone: its messages wait for a later run, within their time.
    OrganisationUnread,
}

/// The channels a check-in reminder of `reservation` goes out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReminderChannels {
    pub email: bool,
    pub push: bool,
}

/// The check-in reminder's channels: none unless the organisation has the check-in module on,
/// the reservation is not checked in and the person is active; then email and push as the person
/// chose (email only with an address).
pub fn reminder_channels(
    organisation: &Organisation,
    person: &Membership,
    reservation: &Reservation,
) -> ReminderChannels {
    if !organisation.settings.checkin_enabled
        || reservation.checked_in_at.is_some()
        || !person.is_active()
    {
        return ReminderChannels::default();
    }
    let chosen = person.preferences.notifications;
    ReminderChannels {
        email: chosen.checkin_reminder_email && person.profile.email.is_some(),
        push: chosen.checkin_reminder_push,
    }
}

/// Whether `person` gets daily summaries: the organisation sends them and the person, active and
/// with an email, switched them on.
pub fn summary_wanted(organisation: &Organisation, person: &Membership) -> bool {
    organisation.settings.sends_daily_summaries()
        && person.is_active()
        && person.profile.email.is_some()
        && person.preferences.notifications.daily_summary
}

/// Where a reservation is filed for the work it causes: the days of its site it shows on (the
/// live plan) and the summary that lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    /// Every local date in the site's zone the reservation covers part of.
    pub site_days: Vec<NaiveDate>,
    /// The bucket the person's summary for `summary_date` is due in.
    pub summary_bucket: Bucket,
    /// The person's local date of the reservation.
    pub summary_date: NaiveDate,
}

impl Reservation {
    /// How the reservation is filed, its site in `site_zone`, its person in `person_zone` with
    /// summaries at `summary_hour`.
    pub fn filing(&self, site_zone: Tz, person_zone: Tz, summary_hour: u8) -> Filing {
        let first = self.local_date(site_zone);
        // The end is exclusive: a reservation ending at midnight does not cover the next day.
        let last = (self.end - Duration::seconds(1))
            .with_timezone(&site_zone)
            .date_naive();
        let site_days = first.iter_days().take_while(|day| *day <= last).collect();
        let summary_date = self.local_date(person_zone);
        Filing {
            site_days,
            summary_bucket: Bucket::containing(
                summary_moment(summary_date, person_zone, summary_hour),
                SUMMARY_BUCKET,
            ),
            summary_date,
        }
    }
}

/// A time bucket: `[start, start + length)`, named by its start in UTC (`2026-11-23T08:05Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Bucket {
    pub start: DateTime<Utc>,
}

impl Bucket {
    /// The bucket of length `length` (which divides a day) holding `moment`.
    pub fn containing(moment: DateTime<Utc>, length: Duration) -> Self {
        let seconds = length.num_seconds();
        let start = moment.timestamp().div_euclid(seconds) * seconds;
        Self {
            start: Utc.timestamp_opt(start, 0).single().expect("in range"),
        }
    }

    /// The key a bucket is stored under.
    pub fn key(&self) -> String {
        self.start.format("%Y-%m-%dT%H:%MZ").to_string()
    }

    /// The `count` buckets of `length` ending with (and including) the one holding `moment`,
    /// oldest first: a run handles its own bucket and looks back over ones a missed or late run
    /// may have left.
    pub fn recent(moment: DateTime<Utc>, length: Duration, count: i32) -> Vec<Self> {
        let current = Self::containing(moment, length);
        (0..count)
            .rev()
            .map(|back| Self {
                start: current.start - length * back,
            })
            .collect()
    }
}

/// The moment a person in `zone` gets the summary of the reservations of local `date`: when their
/// clock shows `hour`:00 on the day before. On a day whose `hour`:00 does not exist (the clock
/// jumps over it) the first moment after the gap; when it happens twice (the clock falls back),
/// the first.
pub fn summary_moment(date: NaiveDate, zone: Tz, hour: u8) -> DateTime<Utc> {
    let day_before = date.pred_opt().expect("a date after the first one");
    let mut local =
        day_before.and_time(NaiveTime::from_hms_opt(u32::from(hour), 0, 0).expect("an hour"));
    loop {
        if let Some(moment) = zone.from_local_datetime(&local).earliest() {
            return moment.with_timezone(&Utc);
        }
        local += Duration::minutes(15);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_feed_posts_a_reservation_with_an_offset() {
        let body = json!({
            "user_id": "u-1", "resource_type": "desk", "resource_name": "Desk 4.12",
            "site_id": "berlin", "start": "2026-11-23T09:00:00+01:00",
            "end": "2026-11-23T17:00:00+01:00"
        });
        let parsed = NewReservation::parse(body.as_object().unwrap()).unwrap();
        assert_eq!(parsed.start, utc("2026-11-23T08:00:00Z"));
        assert_eq!(parsed.resource_kind, ResourceKind::Desk);
        assert!(!parsed.recurring);
    }

    #[test]
    fn a_reservation_knows_the_request_it_was_made_from() {
        let body = json!({
            "user_id": "u-1", "resource": {"type": "parking", "name": "P-7"},
            "site_id": "berlin", "start": "2026-11-23T09:00:00+01:00",
            "end": "2026-11-23T17:00:00+01:00", "recurring": true
        });
        let parsed = NewReservation::parse(body.as_object().unwrap()).unwrap();
        let reservation = Reservation::new(
            ReservationId::generate(),
            OrganisationId::try_from("o-1").unwrap(),
            parsed.clone(),
            utc("2026-11-22T12:00:00Z"),
        );
        assert_eq!(reservation.request(), parsed);
        let later = NewReservation {
            end: utc("2026-11-23T17:00:00Z"),
            ..parsed
        };
        assert_ne!(reservation.request(), later);
    }

    #[test]
    fn each_invalid_field_is_named() {
        let body = json!({
            "resource_type": "boat", "resource_name": "", "site_id": "berlin",
            "start": "2026-11-23 09:00", "end": "2026-11-23T08:00:00Z", "recurring": "no",
            "colour": "red"
        });
        let errors = NewReservation::parse(body.as_object().unwrap()).unwrap_err();
        let mut fields = errors.fields();
        fields.sort();
        assert_eq!(
            fields,
            [
                "colour",
                "recurring",
                "resource_name",
                "resource_type",
                "start",
                "user_id"
            ]
        );
        let backwards = json!({
            "user_id": "u-1", "resource_type": "room", "resource_name": "Atlas",
            "site_id": "berlin", "start": "2026-11-23T10:00:00Z", "end": "2026-11-23T09:00:00Z"
        });
        let errors = NewReservation::parse(backwards.as_object().unwrap()).unwrap_err();
        assert_eq!(errors.0[0].code, "before_start");
    }

    #[test]
    fn the_contracts_nested_resource_reads_as_the_flat_fields_do() {
        let flat = json!({
            "user_id": "u-1", "resource_type": "room", "resource_name": "Atlas",
            "site_id": "berlin", "start": "2026-11-23T09:00:00Z", "end": "2026-11-23T10:00:00Z",
            "recurring": true
        });
        let mut nested = flat.clone();
        let body = nested.as_object_mut().unwrap();
        body.remove("resource_type");
        body.remove("resource_name");
        body.insert(
            "resource".into(),
            json!({ "type": "room", "name": "Atlas" }),
        );
        assert_eq!(
            NewReservation::parse(body).unwrap(),
            NewReservation::parse(flat.as_object().unwrap()).unwrap()
        );

        let named = |resource: Value, flat: &[&str]| {
            let mut body = nested.as_object().unwrap().clone();
            body.insert("resource".into(), resource);
            for field in flat {
                body.insert((*field).to_owned(), json!("x"));
            }
            let errors = NewReservation::parse(&body).unwrap_err();
            errors
                .0
                .iter()
                .map(|e| (e.field.clone(), e.code))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            named(json!({ "type": "boat", "size": 2 }), &["resource_name"]),
            [
                ("resource.size".to_owned(), "unknown_field"),
                ("resource_name".to_owned(), "conflicting_field"),
                ("resource.type".to_owned(), "invalid_choice"),
                ("resource.name".to_owned(), "required"),
            ]
        );
        assert_eq!(
            named(json!("room"), &[]),
            [("resource".to_owned(), "invalid_type")]
        );
        // Neither shape: the contract's field is named; null is absent.
        assert_eq!(
            named(Value::Null, &[]),
            [("resource".to_owned(), "required")]
        );
        let mut null_flat = nested.as_object().unwrap().clone();
        null_flat.insert("resource_type".into(), Value::Null);
        assert!(NewReservation::parse(&null_flat).is_ok());
    }

    #[test]
    fn buckets_hold_their_moments() {
        let bucket = Bucket::containing(utc("2026-11-23T08:07:59Z"), REMINDER_BUCKET);
        assert_eq!(bucket.key(), "2026-11-23T08:05Z");
        assert_eq!(
            Bucket::containing(utc("2026-11-23T08:10:00Z"), REMINDER_BUCKET).key(),
            "2026-11-23T08:10Z"
        );
        let recent: Vec<String> = Bucket::recent(utc("2026-11-23T00:01:00Z"), REMINDER_BUCKET, 3)
            .iter()
            .map(Bucket::key)
            .collect();
        assert_eq!(
            recent,
            [
                "2026-11-22T23:50Z",
                "2026-11-22T23:55Z",
                "2026-11-23T00:00Z"
            ]
        );
    }

    #[test]
    fn the_summary_comes_at_the_local_hour_the_day_before() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            summary_moment(date("2026-11-24"), berlin, 18),
            utc("2026-11-23T17:00:00Z")
        );
        assert_eq!(
            summary_moment(date("2026-07-02"), berlin, 18),
            utc("2026-07-01T16:00:00Z"),
            "summer time"
        );
        assert_eq!(
            summary_moment(date("2026-11-24"), chrono_tz::America::New_York, 18),
            utc("2026-11-23T23:00:00Z")
        );
        assert_eq!(
            summary_moment(date("2026-11-24"), chrono_tz::Asia::Kolkata, 18),
            utc("2026-11-23T12:30:00Z"),
            "a 30-minute offset"
        );
        assert_eq!(
            summary_moment(date("2026-11-24"), chrono_tz::Asia::Kathmandu, 18),
            utc("2026-11-23T12:15:00Z"),
            "a 45-minute offset"
        );
    }

    #[test]
    fn the_summary_is_on_time_on_the_days_the_clocks_change() {
        let berlin = chrono_tz::Europe::Berlin;
        // 2026-03-29: Berlin springs forward at 02:00; 2026-10-25: falls back at 03:00.
        assert_eq!(
            summary_moment(date("2026-03-30"), berlin, 18),
            utc("2026-03-29T16:00:00Z")
        );
        assert_eq!(
            summary_moment(date("2026-03-29"), berlin, 18),
            utc("2026-03-28T17:00:00Z")
        );
        assert_eq!(
            summary_moment(date("2026-10-26"), berlin, 18),
            utc("2026-10-25T17:00:00Z")
        );
        let new_york = chrono_tz::America::New_York;
        // 2026-03-08 and 2026-11-01 in New York.
        assert_eq!(
            summary_moment(date("2026-03-09"), new_york, 18),
            utc("2026-03-08T22:00:00Z")
        );
        assert_eq!(
            summary_moment(date("2026-11-02"), new_york, 18),
            utc("2026-11-01T23:00:00Z")
        );
        // An hour the clock skips: 02:00 on 2026-03-29 in Berlin comes as 03:00.
        assert_eq!(
            summary_moment(date("2026-03-30"), berlin, 2),
            utc("2026-03-29T01:00:00Z")
        );
        // An hour that happens twice: 02:00 on 2026-10-25 in Berlin, the first time.
        assert_eq!(
            summary_moment(date("2026-10-26"), berlin, 2),
            utc("2026-10-25T00:00:00Z")
        );
    }

    /// A desk reservation from `start` to `end` (RFC 3339).
    fn booked(start: &str, end: &str, recurring: bool) -> Reservation {
        Reservation::new(
            ReservationId::generate(),
            OrganisationId::generate(),
            NewReservation {
                user_id: UserId::generate(),
                resource_kind: ResourceKind::Desk,
                resource_name: "D-1".into(),
                site_id: "berlin".into(),
                start: utc(start),
                end: utc(end),
                recurring,
            },
            utc("2026-11-20T00:00:00Z"),
        )
    }

    fn desk(recurring: bool) -> Reservation {
        booked("2026-11-23T08:00:00Z", "2026-11-23T16:00:00Z", recurring)
    }

    #[test]
    fn a_reservation_falls_on_its_local_date() {
        let reservation = booked("2026-11-23T23:30:00Z", "2026-11-24T01:00:00Z", false);
        assert_eq!(
            reservation.local_date(chrono_tz::Asia::Tokyo),
            date("2026-11-24")
        );
        assert_eq!(reservation.local_date(chrono_tz::UTC), date("2026-11-23"));
        assert_eq!(reservation.reminder_bucket().key(), "2026-11-23T23:30Z");
        let filing = reservation.filing(chrono_tz::Europe::Berlin, chrono_tz::Asia::Tokyo, 18);
        assert_eq!(filing.site_days, [date("2026-11-24")]);
        assert_eq!(filing.summary_date, date("2026-11-24"));
        assert_eq!(filing.summary_bucket.key(), "2026-11-23T09:00Z");
    }

    fn person(organisation: &Organisation) -> Membership {
        Membership::joining(
            organisation,
            crate::ids::AccountId::generate(),
            crate::profile::Profile::named(
                "Ada".into(),
                "L".into(),
                Some(crate::profile::Email::try_from("ada@example.com").unwrap()),
            ),
            None,
            vec![],
            crate::membership::InvitationStatus::Confirmed,
        )
    }

    #[test]
    fn booking_emails_follow_the_organisation_the_series_and_the_person() {
        let mut organisation = Organisation::new(
            OrganisationId::generate(),
            "Acme".into(),
            Default::default(),
        );
        let mut ada = person(&organisation);
        let both = |organisation: &Organisation, ada: &Membership, recurring: bool| {
            [BookingChange::Booked, BookingChange::Cancelled]
                .map(|change| booking_email(organisation, ada, &desk(recurring), change))
        };
        assert_eq!(
            both(&organisation, &ada, false),
            [Some(WithCalendar(false)); 2]
        );
        assert_eq!(both(&organisation, &ada, true), [None; 2], "a series");
        ada.preferences.notifications.booking_confirmation = BookingConfirmation::EmailWithIcs;
        assert_eq!(
            both(&organisation, &ada, false),
            [Some(WithCalendar(true)); 2]
        );
        ada.preferences.notifications.booking_changes = false;
        assert_eq!(
            both(&organisation, &ada, false),
            [Some(WithCalendar(true)), None],
            "confirmations without cancellation notices"
        );
        ada.preferences.notifications.booking_changes = true;
        ada.preferences.notifications.booking_confirmation = BookingConfirmation::Off;
        assert_eq!(
            both(&organisation, &ada, false),
            [None, Some(WithCalendar(false))],
            "cancellation notices without confirmations"
        );
        // A cancellation withdraws the invite its confirmation carried, as that was decided.
        let mut invited = desk(false);
        invited.calendar_sent = Some(true);
        assert_eq!(
            booking_email(&organisation, &ada, &invited, BookingChange::Cancelled),
            Some(WithCalendar(true)),
            "confirmations since switched off"
        );
        ada.preferences.notifications.booking_confirmation = BookingConfirmation::EmailWithIcs;
        invited.calendar_sent = Some(false);
        assert_eq!(
            [BookingChange::Booked, BookingChange::Cancelled].map(|change| booking_email(
                &organisation,
                &ada,
                &invited,
                change
            )),
            [Some(WithCalendar(false)); 2],
            "a held confirmation tried again and its cancellation: no invite, as decided"
        );
        ada.preferences.notifications.booking_confirmation = BookingConfirmation::Email;
        organisation.settings.booking_notifications_enabled = false;
        assert_eq!(both(&organisation, &ada, false), [None; 2]);
        ada.preferences.notifications.daily_summary = true;
        assert!(
            summary_wanted(&organisation, &ada),
            "summaries have a switch of their own"
        );
        organisation.settings.daily_summaries_enabled = Some(false);
        assert!(!summary_wanted(&organisation, &ada));
    }

    #[test]
    fn a_held_booking_email_is_retried_while_it_is_still_wanted_and_for_a_day_at_most() {
        let organisation = Organisation::new(
            OrganisationId::generate(),
            "Acme".into(),
            Default::default(),
        );
        let mut ada = person(&organisation);
        let turned_away = utc("2026-11-22T10:00:00Z");
        let held = HeldBookingEmail::new(
            desk(false),
            "Berlin HQ".into(),
            BookingChange::Booked,
            turned_away,
        );
        assert_eq!(held.retry_at, utc("2026-11-22T10:05:00Z"));
        let again = held.turned_away(utc("2026-11-22T10:05:30Z"));
        assert_eq!(
            (again.retry_at, again.held_since),
            (utc("2026-11-22T10:10:30Z"), turned_away)
        );

        let later = utc("2026-11-23T09:59:59Z");
        fn refusal<T: std::fmt::Debug>(outcome: Result<T, Attempt>) -> String {
            match outcome {
                Err(Attempt::Refused(reason)) => reason,
                other => panic!("not refused: {other:?}"),
            }
        }
        assert_eq!(
            held.still_goes_out(Addressee::Found(&organisation, &ada), true, later),
            Ok((&ada, WithCalendar(false)))
        );
        assert!(
            refusal(held.still_goes_out(
                Addressee::Found(&organisation, &ada),
                true,
                utc("2026-11-23T10:00:00Z")
            ))
            .contains("24 hours")
        );
        assert!(
            refusal(held.still_goes_out(Addressee::Found(&organisation, &ada), false, later))
                .contains("cancelled")
        );
        assert!(refusal(held.still_goes_out(Addressee::Gone, true, later)).contains("member"));
        // An organisation that did not read is tried again, within the day only.
        assert!(matches!(
            held.still_goes_out(Addressee::OrganisationUnread, true, later),
            Err(Attempt::Retry(_))
        ));
        assert!(
            refusal(held.still_goes_out(
                Addressee::OrganisationUnread,
                true,
                utc("2026-11-23T10:00:00Z")
            ))
            .contains("24 hours")
        );
        ada.preferences.notifications.booking_confirmation = BookingConfirmation::Off;
        assert!(
            refusal(held.still_goes_out(Addressee::Found(&organisation, &ada), true, later))
                .contains("no longer takes")
        );

        // A cancellation is told although the reservation is gone.
        ada.preferences.notifications.booking_confirmation = BookingConfirmation::EmailWithIcs;
        let cancellation = HeldBookingEmail {
            change: BookingChange::Cancelled,
            ..held
        };
        assert_eq!(
            cancellation.still_goes_out(Addressee::Found(&organisation, &ada), false, later),
            Ok((&ada, WithCalendar(true)))
        );
        ada.preferences.notifications.booking_changes = false;
        assert!(
            refusal(cancellation.still_goes_out(
                Addressee::Found(&organisation, &ada),
                false,
                later
            ))
            .contains("no longer takes")
        );
    }

    #[test]
    fn reminders_need_the_check_in_module_and_a_reservation_not_checked_in() {
        let mut organisation = Organisation::new(
            OrganisationId::generate(),
            "Acme".into(),
            Default::default(),
        );
        let mut ada = person(&organisation);
        let mut reservation = desk(false);
        assert_eq!(
            reminder_channels(&organisation, &ada, &reservation),
            ReminderChannels::default(),
            "check-in module off"
        );
        organisation.settings.checkin_enabled = true;
        assert_eq!(
            reminder_channels(&organisation, &ada, &reservation),
            ReminderChannels {
                email: true,
                push: true
            }
        );
        ada.preferences.notifications.checkin_reminder_push = false;
        assert_eq!(
            reminder_channels(&organisation, &ada, &reservation),
            ReminderChannels {
                email: true,
                push: false
            }
        );
        reservation.checked_in_at = Some(reservation.start);
        assert_eq!(
            reminder_channels(&organisation, &ada, &reservation),
            ReminderChannels::default()
        );
    }

    #[test]
    fn a_reservation_over_midnight_shows_on_both_days_and_one_to_midnight_on_one() {
        let mut reservation = booked("2026-11-23T20:00:00Z", "2026-11-24T08:00:00Z", false);
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            reservation.filing(berlin, berlin, 18).site_days,
            [date("2026-11-23"), date("2026-11-24")]
        );
        reservation.end = utc("2026-11-23T23:00:00Z");
        assert_eq!(
            reservation.filing(berlin, berlin, 18).site_days,
            [date("2026-11-23")],
            "ending at local midnight"
        );
    }
}
