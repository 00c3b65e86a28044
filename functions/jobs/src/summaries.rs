//! Daily summaries (every 15 minutes): each person who switched them on gets, when their local
//! clock reaches the organisation's summary hour, one email listing their reservations of the
//! next local day; nobody without reservations gets one.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use roster_domain::{
    ids::{OrganisationId, UserId},
    reservation::{Bucket, Reservation, SUMMARY_BUCKET, summary_wanted},
    schedule::ScheduledJob,
};
use roster_notify::{
    booking::{BookingLine, BookingMessage},
    outbox,
};
use roster_store::StoreError;

use crate::{JobRun, Jobs, Tally, people::Addressees};

/// Buckets a run reads: its own and the one before, which a late or failed run may have left.
const BUCKETS_READ: i32 = 2;

pub async fn run(jobs: &Jobs, now: DateTime<Utc>) -> Result<JobRun, StoreError> {
    let mut by_person: BTreeMap<(OrganisationId, UserId, NaiveDate), Vec<Reservation>> =
        BTreeMap::new();
    for bucket in Bucket::recent(now, SUMMARY_BUCKET, BUCKETS_READ) {
        // Summary moments fall on bucket starts, so a bucket after `now` holds nothing due.
        for due in jobs.table.summaries_due(&bucket).await? {
            by_person
                .entry((due.organisation, due.user, due.date))
                .or_default()
                .push(due.reservation);
        }
    }
    let firsts: Vec<&Reservation> = by_person.values().filter_map(|r| r.first()).collect();
    let addressees = Addressees::of(&jobs.table, &firsts).await?;
    let mut run = JobRun {
        job: ScheduledJob::DailySummary,
        now,
        due: by_person.len(),
        email: Tally::default(),
        push: Tally::default(),
        held_emails: Tally::default(),
    };
    for ((_, user, date), mut reservations) in by_person {
        reservations.sort_by_key(|r| r.start);
        let Some((organisation, person, _)) = addressees.of_reservation(&reservations[0]) else {
            continue;
        };
        if !summary_wanted(organisation, person) {
            continue;
        }
        let bookings = reservations
            .iter()
            .map(|r| {
                let site = addressees
                    .of_reservation(r)
                    .map_or(r.site_id.as_str(), |(_, _, site)| site);
                BookingLine::of(r, site)
            })
            .collect();
        let message = BookingMessage::DailySummary { date, bookings };
        let subject = format!("SUMMARY#{user}#{date}");
        let attempt = jobs
            .table
            .deliver_once(&organisation.id, &subject, "email", || {
                outbox::email(&jobs.mailer, person, &message, None)
            })
            .await?;
        if let Some(attempt) = attempt {
            run.email.count(&attempt);
        }
    }
    Ok(run)
}
