//! Daily summaries (every 15 minutes): each person who switched them on gets, when their local
//! clock reaches the organisation's summary hour, one email listing their reservations of the
//! next local day; nobody without reservations gets one. A summary SES turns away is sent again
//! by the runs of the next `SUMMARY_RETRY_WINDOW`.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::atomic::{AtomicBool, Ordering},
};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::{StreamExt, stream};
use roster_domain::{
    ids::{OrganisationId, ReservationId, UserId},
    reservation::{
        Attempt, Bucket, Reservation, SUMMARY_BUCKET, SUMMARY_RETRY_WINDOW, summary_wanted,
    },
    schedule::ScheduledJob,
};
use roster_notify::{
    booking::{BookingLine, BookingMessage},
    outbox,
};
use roster_store::{StoreError, SummaryDue, SummaryRetry};

use crate::{JobRun, Jobs, people::Addressees};

/// Buckets a run reads: its own and the one before, which a late or failed run may have left.
const BUCKETS_READ: i32 = 2;
/// Listed summaries read at the same time.
const RETRIES_READ_AT_ONCE: usize = 8;
/// People whose reservations of the summary's date are read at the same time.
const QUERIES_IN_FLIGHT: usize = 16;
/// Summaries sent at the same time.
const SUMMARIES_IN_FLIGHT: usize = 16;
/// How long before the invocation's deadline a run starts no more summaries: time for those
/// under way (a claim, SES and the claim's settling, each cut off after 5 s, one after another)
/// and to list the rest for later runs.
const SENDING_ENDS_BEFORE_DEADLINE: Duration = Duration::seconds(30);

/// One person's summary of one date: its reservations, and the buckets they were read from.
#[derive(Default)]
struct Summary {
    reservations: BTreeMap<ReservationId, Reservation>,
    read_from: BTreeSet<Bucket>,
}

type Person = (OrganisationId, UserId, NaiveDate);

/// The summaries due at `now`, sent until shortly before `deadline` (the invocation's end, when
/// it has one).
pub async fn run(
    jobs: &Jobs,
    now: DateTime<Utc>,
    deadline: Option<DateTime<Utc>>,
) -> Result<JobRun, StoreError> {
    let mut by_person: BTreeMap<Person, Summary> = BTreeMap::new();
    let mut add = |bucket: Bucket, due: Vec<SummaryDue>| {
        for due in due {
            let summary = by_person
                .entry((due.organisation, due.user, due.date))
                .or_default();
            summary
                .reservations
                .insert(due.reservation.id.clone(), due.reservation);
            summary.read_from.insert(bucket);
        }
    };
    // Summary moments fall on bucket starts, so a bucket after `now` holds nothing due.
    let recent = Bucket::recent(now, SUMMARY_BUCKET, BUCKETS_READ);
    for bucket in &recent {
        add(*bucket, jobs.table.summaries_due(bucket).await?);
    }
    let retries = jobs
        .table
        .summaries_to_retry(now - SUMMARY_RETRY_WINDOW, now)
        .await?;
    // The recent buckets were read whole; each older summary listed is one `Query`, a few at a
    // time.
    let older: Vec<&SummaryRetry> = retries
        .iter()
        .filter(|retry| !recent.contains(&retry.bucket))
        .collect();
    for listed in older.chunks(RETRIES_READ_AT_ONCE) {
        let mut reads = Vec::with_capacity(listed.len());
        for retry in listed {
            reads.push(jobs.table.summary_due_again(retry));
        }
        for (retry, due) in listed
            .iter()
            .zip(futures::future::try_join_all(reads).await?)
        {
            add(retry.bucket, due);
        }
    }
    let firsts: Vec<&Reservation> = by_person
        .values()
        .filter_map(|s| s.reservations.values().next())
        .collect();
    let addressees = Addressees::of(&jobs.table, &firsts).await?;
    complete(jobs, &mut by_person, &addressees).await?;
    let mut run = JobRun::new(ScheduledJob::DailySummary, now, by_person.len());
    // Once SES turns one away, a send fails, or the invocation nears its end, the rest wait for
    // a later run (each try could take seconds; cut off, the run would list none of them for
    // the next). Sends under way are finished either way: dropped, they would leave their
    // claims for a run five minutes on to take over, and perhaps send again.
    let stop_sending_at = deadline.map(|deadline| deadline - SENDING_ENDS_BEFORE_DEADLINE);
    let stopped = AtomicBool::new(false);
    let addressees = &addressees;
    let stopped = &stopped;
    let mut sends = stream::iter(by_person)
        .map(|(person_key, summary)| async move {
            let wait = stopped.load(Ordering::Relaxed)
                || stop_sending_at.is_some_and(|stop| Utc::now() >= stop);
            let sent = if wait {
                Ok(Sending::Later)
            } else {
                send(jobs, addressees, &person_key, &summary).await
            };
            if matches!(sent, Err(_) | Ok(Sending::Tried(Attempt::Retry(_)))) {
                stopped.store(true, Ordering::Relaxed);
            }
            (person_key, summary.read_from, sent)
        })
        .buffer_unordered(SUMMARIES_IN_FLIGHT);
    let mut later: Vec<(Person, BTreeSet<Bucket>)> = Vec::new();
    let mut failed = None;
    while let Some((person_key, read_from, sent)) = sends.next().await {
        match sent {
            Ok(Sending::Tried(attempt)) => {
                run.email.count(&attempt);
                if matches!(attempt, Attempt::Retry(_)) {
                    later.push((person_key, read_from));
                }
            }
            Ok(Sending::Later) => later.push((person_key, read_from)),
            Ok(Sending::Nothing) => {}
            Err(error) => {
                later.push((person_key, read_from));
                failed.get_or_insert(error);
            }
        }
    }
    settle(jobs, &retries, &later).await?;
    failed.map_or(Ok(run), Err)
}

/// What became of one person's summary in a run.
enum Sending {
    /// Sent to SES, which took it, turned it away for now (`Retry`: for a later run) or for good.
    Tried(Attempt),
    /// Left for a later run: not tried, or being sent by an overlapping run that may yet stop
    /// before it is settled.
    Later,
    /// Nothing to send: sent before, or no longer wanted.
    Nothing,
}

/// Sends `person_key`'s summary, once (`deliver_once`).
async fn send(
    jobs: &Jobs,
    addressees: &Addressees,
    person_key: &Person,
    summary: &Summary,
) -> Result<Sending, StoreError> {
    let (_, user, date) = person_key;
    let mut reservations: Vec<&Reservation> = summary.reservations.values().collect();
    reservations.sort_by_key(|r| r.start);
    let Some((organisation, person, _)) = addressees.of_reservation(reservations[0]) else {
        // An organisation that did not read (perhaps only until a deploy ends) keeps its
        // summaries listed for the runs of the retry window; a person who is gone gets none.
        return Ok(
            if addressees.has_organisation(&reservations[0].organisation_id) {
                Sending::Nothing
            } else {
                Sending::Later
            },
        );
    };
    if !summary_wanted(organisation, person) {
        return Ok(Sending::Nothing);
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
    let message = BookingMessage::DailySummary {
        date: *date,
        bookings,
    };
    let subject = format!("SUMMARY#{user}#{date}");
    let attempt = jobs
        .table
        .deliver_once(&organisation.id, &subject, "email", || {
            outbox::email(&jobs.mailer, person, &message, None)
        })
        .await?;
    Ok(match attempt {
        Some(attempt) => Sending::Tried(attempt),
        None if !jobs
            .table
            .delivery_settled(&organisation.id, &subject, "email")
            .await? =>
        {
            Sending::Later
        }
        None => Sending::Nothing,
    })
}

/// Adds to each summary to be sent the person's other reservations of its date, in their time
/// zone. A reservation is filed for the summary moment of when it was booked: one booked before
/// the organisation moved its summary hour, or the person their time zone, waits in another
/// bucket, and a person's summary of a date goes out once, at the first of them. One `Query`
/// per summary, `QUERIES_IN_FLIGHT` at a time.
async fn complete(
    jobs: &Jobs,
    by_person: &mut BTreeMap<Person, Summary>,
    addressees: &Addressees,
) -> Result<(), StoreError> {
    let wanted: Vec<_> = by_person
        .iter()
        .filter_map(|(person_key, summary)| {
            let first = summary.reservations.values().next()?;
            let (organisation, person, _) = addressees.of_reservation(first)?;
            summary_wanted(organisation, person)
                .then(|| (person_key.clone(), person.preferences.time_zone.0))
        })
        .collect();
    let mut found = stream::iter(wanted)
        .map(|((organisation, user, date), zone)| async move {
            // Every zone's local date lies within a day either side of the UTC one.
            let midnight = date.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
            let of_date = jobs
                .table
                .reservations_starting(
                    &organisation,
                    &user,
                    midnight - Duration::days(1),
                    midnight + Duration::days(2),
                )
                .await?
                .into_iter()
                .filter(|r| r.local_date(zone) == date);
            Ok::<_, StoreError>(((organisation, user, date), of_date.collect::<Vec<_>>()))
        })
        .buffer_unordered(QUERIES_IN_FLIGHT);
    while let Some(completed) = found.next().await {
        let (person_key, reservations) = completed?;
        if let Some(summary) = by_person.get_mut(&person_key) {
            for reservation in reservations {
                summary
                    .reservations
                    .insert(reservation.id.clone(), reservation);
            }
        }
    }
    Ok(())
}

/// Asks later runs to send the summaries left for `later`, and settles the other `retries`
/// read (sent, refused for good, or no longer wanted).
async fn settle(
    jobs: &Jobs,
    retries: &[SummaryRetry],
    later: &[(Person, BTreeSet<Bucket>)],
) -> Result<(), StoreError> {
    let left: BTreeSet<(Bucket, OrganisationId, UserId, NaiveDate)> = later
        .iter()
        .flat_map(|((organisation, user, date), buckets)| {
            buckets
                .iter()
                .map(|bucket| (*bucket, organisation.clone(), user.clone(), *date))
        })
        .collect();
    jobs.table.retry_summaries(left.iter().cloned()).await?;
    for retry in retries {
        let key = (
            retry.bucket,
            retry.organisation.clone(),
            retry.user.clone(),
            retry.date,
        );
        if !left.contains(&key) {
            jobs.table.settle_summary_retry(retry).await?;
        }
    }
    Ok(())
}
