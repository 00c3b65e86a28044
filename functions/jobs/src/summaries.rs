//! Daily summaries (every 15 minutes): each person who switched them on gets, when their local
//! clock reaches the organisation's summary hour, one email listing their reservations of the
//! next local day; nobody without reservations gets one.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use roster_domain::{
    ids::{OrganisationId, UserId},
    reservation::{
        Attempt, Bucket, Reservation, SUMMARY_BUCKET, SUMMARY_RETRY_WINDOW, summary_wanted,
    },
    schedule::ScheduledJob,
};
use roster_notify::{
    booking::{BookingLine, BookingMessage},
    outbox,
};
use roster_store::StoreError;

use crate::{JobRun, Jobs, Tally, people::Addressees};

/// One person's summary of one date: its reservations, and the buckets they were read from
/// (read again while SES turns it away).
#[derive(Default)]
struct Summary {
    reservations: Vec<Reservation>,
    read_from: BTreeSet<Bucket>,
}

/// Buckets a run reads: its own and the one before, which a late or failed run may have left;
/// besides those SES turned summaries away in (for `SUMMARY_RETRY_WINDOW`).
const BUCKETS_READ: i32 = 2;

pub async fn run(jobs: &Jobs, now: DateTime<Utc>) -> Result<JobRun, StoreError> {
    // Summary moments fall on bucket starts, so a bucket after `now` holds nothing due.
    let retries = jobs
        .table
        .summary_buckets_to_retry(now - SUMMARY_RETRY_WINDOW, now)
        .await?;
    let mut buckets: BTreeSet<Bucket> = Bucket::recent(now, SUMMARY_BUCKET, BUCKETS_READ)
        .into_iter()
        .collect();
    buckets.extend(retries.iter().map(|retry| retry.bucket));
    let mut by_person: BTreeMap<(OrganisationId, UserId, NaiveDate), Summary> = BTreeMap::new();
    for bucket in &buckets {
        for due in jobs.table.summaries_due(bucket).await? {
            let summary = by_person
                .entry((due.organisation, due.user, due.date))
                .or_default();
            summary.reservations.push(due.reservation);
            summary.read_from.insert(*bucket);
        }
    }
    let firsts: Vec<&Reservation> = by_person
        .values()
        .filter_map(|s| s.reservations.first())
        .collect();
    let addressees = Addressees::of(&jobs.table, &firsts).await?;
    let mut run = JobRun {
        job: ScheduledJob::DailySummary,
        now,
        due: by_person.len(),
        email: Tally::default(),
        push: Tally::default(),
        held_emails: Tally::default(),
    };
    let mut turned_away = BTreeSet::new();
    for ((_, user, date), mut summary) in by_person {
        let reservations = &mut summary.reservations;
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
            if matches!(attempt, Attempt::Retry(_)) {
                turned_away.append(&mut summary.read_from);
            }
            run.email.count(&attempt);
        }
    }
    for bucket in &turned_away {
        jobs.table.retry_summary_bucket(bucket).await?;
    }
    for retry in retries
        .iter()
        .filter(|retry| !turned_away.contains(&retry.bucket))
    {
        jobs.table.settle_summary_retry(retry).await?;
    }
    Ok(run)
}
