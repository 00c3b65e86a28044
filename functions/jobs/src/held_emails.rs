//! Booking emails SES turned away when the reservation was booked or cancelled
//! (`roster_domain::reservation::HeldBookingEmail`), tried again after the check-in reminders of
//! each run (every 5 minutes): each sent once however runs overlap (`DynamoTable::deliver_once`),
//! held again while SES still turns it away, and recorded as failed when it is no longer wanted
//! or a day has passed. A failure here never costs the run its reminders.

use chrono::{DateTime, Utc};
use roster_domain::reservation::{Addressee, Attempt, BookingChange, Reservation};
use roster_notify::outbox;
use roster_store::StoreError;

use crate::{Jobs, Tally, people::Addressees};

/// What this run did with the held emails due; a store failure ends the retries (logged), the
/// next run takes them up.
pub async fn retry(jobs: &Jobs, now: DateTime<Utc>) -> Tally {
    let mut tally = Tally::default();
    if let Err(error) = retry_due(jobs, now, &mut tally).await {
        tracing::error!(%error, "held booking emails left for the next run");
    }
    tally
}

async fn retry_due(jobs: &Jobs, now: DateTime<Utc>, tally: &mut Tally) -> Result<(), StoreError> {
    let held = jobs.table.held_booking_emails_due(now).await?;
    let reservations: Vec<&Reservation> = held.iter().map(|email| &email.reservation).collect();
    let addressees = Addressees::of(&jobs.table, &reservations).await?;
    for email in &held {
        let reservation = &email.reservation;
        let (organisation, subject) = (&reservation.organisation_id, reservation.message_subject());
        let channel = email.change.channel();
        let addressee = match addressees.of_reservation(reservation) {
            Some((organisation, person, _)) => Addressee::Found(organisation, person),
            None if addressees.has_organisation(organisation) => Addressee::Gone,
            None => Addressee::OrganisationUnread,
        };
        let attempt = jobs
            .table
            .deliver_once(organisation, &subject, channel, || async {
                // Read once the delivery is this run's, so a cancellation that came before is seen.
                let still_booked = match email.change {
                    BookingChange::Booked => {
                        match jobs.table.reservation(organisation, &reservation.id).await {
                            Ok(found) => found.is_some(),
                            Err(error) => return Attempt::Retry(error.to_string()),
                        }
                    }
                    BookingChange::Cancelled => false,
                };
                match email.still_goes_out(addressee, still_booked, now) {
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
                    Err(attempt) => attempt,
                }
            })
            .await?;
        let Some(attempt) = attempt else {
            // Another run is sending it (and holds or releases it), or it was settled by a run
            // that stopped before letting go of it.
            if jobs
                .table
                .delivery_settled(organisation, &subject, channel)
                .await?
            {
                jobs.table.release_booking_email(email).await?;
            }
            continue;
        };
        tally.count(&attempt);
        if let Attempt::Retry(_) = attempt {
            jobs.table
                .hold_booking_email_again(email, &email.turned_away(now))
                .await?;
            if matches!(addressee, Addressee::OrganisationUnread) {
                continue;
            }
            // SES still turns emails away: the rest wait for the next run rather than each
            // spending a send's timeout in this one.
            break;
        }
        jobs.table.release_booking_email(email).await?;
    }
    Ok(())
}
