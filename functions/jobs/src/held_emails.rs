//! Booking emails SES turned away when the reservation was booked or cancelled
//! (`roster_domain::reservation::HeldBookingEmail`), tried again by the check-in reminder run every
//! 5 minutes: each sent once however runs overlap (`DynamoTable::deliver_once`), held again while
//! SES still turns it away, and recorded as failed when it is no longer wanted or a day has passed.

use chrono::{DateTime, Utc};
use roster_domain::reservation::{Attempt, BookingChange, Reservation};
use roster_notify::outbox;
use roster_store::StoreError;

use crate::{Jobs, Tally, people::Addressees};

pub async fn retry(jobs: &Jobs, now: DateTime<Utc>) -> Result<Tally, StoreError> {
    let held = jobs.table.held_booking_emails_due(now).await?;
    let reservations: Vec<&Reservation> = held.iter().map(|email| &email.reservation).collect();
    let addressees = Addressees::of(&jobs.table, &reservations).await?;
    let mut tally = Tally::default();
    for email in &held {
        let reservation = &email.reservation;
        let still_booked = match email.change {
            BookingChange::Booked => jobs
                .table
                .reservation(&reservation.organisation_id, &reservation.id)
                .await?
                .is_some(),
            BookingChange::Cancelled => false,
        };
        let addressee = addressees
            .of_reservation(reservation)
            .map(|(organisation, person, _)| (organisation, person));
        let verdict = email.retry(addressee, still_booked, now);
        let attempt = jobs
            .table
            .deliver_once(
                &reservation.organisation_id,
                &reservation.message_subject(),
                email.change.channel(),
                || async {
                    match verdict {
                        Ok((person, with_calendar)) => {
                            outbox::booking_email(
                                &jobs.mailer,
                                person,
                                reservation,
                                &email.site_name,
                                email.change,
                                with_calendar,
                                now,
                            )
                            .await
                        }
                        Err(reason) => Attempt::Refused(reason.to_owned()),
                    }
                },
            )
            .await?;
        // `None`: another run is sending it (and holds or releases it), or it was dealt with.
        let Some(attempt) = attempt else { continue };
        match attempt {
            Attempt::Retry(_) => {
                jobs.table
                    .hold_booking_email_again(email, &email.turned_away(now))
                    .await?
            }
            _ => jobs.table.release_booking_email(email).await?,
        }
        tally.count(&attempt);
    }
    Ok(tally)
}
