//! Booking messages to one person, ready to hand to `DynamoTable::deliver_once`: composed in the
//! person's language and time zone, sent, and the outcome classified as an `Attempt`.

use chrono::{DateTime, Utc};
use roster_domain::{
    membership::Membership,
    reservation::{Attempt, BookingChange, Reservation, WithCalendar},
};

use crate::{
    Calendar, Email, NotifyError, PushOutcome, SesMailer,
    booking::{BookingLine, BookingMessage, calendar_summary},
    ics::{CalendarMethod, reservation_ics},
};

/// The calendar attachment of `reservation` for `person`, from `organizer` (Roster's sender).
fn calendar(
    reservation: &Reservation,
    site_name: &str,
    organizer: &str,
    person: &Membership,
    method: CalendarMethod,
    now: DateTime<Utc>,
) -> Calendar {
    let summary = calendar_summary(
        &BookingLine::of(reservation, site_name),
        person.preferences.language,
    );
    let attendee = person
        .profile
        .email
        .as_ref()
        .map_or("", |email| email.display());
    Calendar {
        method,
        ics: reservation_ics(
            reservation,
            site_name,
            &summary,
            organizer,
            attendee,
            method,
            now,
        ),
    }
}

/// Emails `person` that `reservation` (at the site named `site_name`) was booked or cancelled, as
/// `change` says, with its calendar attachment when `with_calendar`; `mailer`'s sender is the
/// calendar's organizer.
pub async fn booking_email(
    mailer: &SesMailer,
    person: &Membership,
    reservation: &Reservation,
    site_name: &str,
    change: BookingChange,
    WithCalendar(with_calendar): WithCalendar,
    now: DateTime<Utc>,
) -> Attempt {
    let line = BookingLine::of(reservation, site_name);
    let (message, method) = match change {
        BookingChange::Booked => (BookingMessage::Confirmed(line), CalendarMethod::Request),
        BookingChange::Cancelled => (BookingMessage::Cancelled(line), CalendarMethod::Cancel),
    };
    let calendar = with_calendar
        .then(|| calendar(reservation, site_name, mailer.sender(), person, method, now));
    email(mailer, person, &message, calendar).await
}

/// Emails `message` to `person` (in their language and time zone); a person without an email
/// address is `Refused`.
pub async fn email(
    mailer: &SesMailer,
    person: &Membership,
    message: &BookingMessage,
    calendar: Option<Calendar>,
) -> Attempt {
    let Some(to) = &person.profile.email else {
        return Attempt::Refused("the person has no email address".to_owned());
    };
    let preferences = &person.preferences;
    let email = Email::booking(
        to.display(),
        preferences.language,
        preferences.time_zone.0,
        &person.profile.first_name,
        message,
        calendar,
    );
    match mailer.send(&email).await {
        Ok(()) => Attempt::Sent,
        Err(NotifyError::SesUnavailable(reason) | NotifyError::SesUnanswered(reason)) => {
            tracing::warn!(%reason, "a booking email was not sent; a later run tries again");
            Attempt::Retry(reason)
        }
        Err(error @ (NotifyError::Ses(_) | NotifyError::Mime(_))) => {
            tracing::warn!(%error, "a booking email was refused for good");
            Attempt::Refused(error.to_string())
        }
    }
}

/// A push outcome as a delivery attempt.
pub fn attempt_of_push(outcome: PushOutcome) -> Attempt {
    match outcome {
        PushOutcome::Delivered => Attempt::Sent,
        PushOutcome::Gone => Attempt::Gone,
        PushOutcome::Transient(reason) => {
            tracing::warn!(%reason, "a push was not sent; a later run tries again");
            Attempt::Retry(reason)
        }
        PushOutcome::Failed(reason) => {
            tracing::warn!(%reason, "a push was refused for good");
            Attempt::Refused(reason)
        }
    }
}
