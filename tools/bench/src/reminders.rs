//! The reminder budget: the check-in reminder job's run time with 1,000 reservations due among
//! 200,000 stored against 1,000 due among 1,000 stored. The job queries only the buckets due, so
//! the reservations stored elsewhere must not slow it down.

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::{StreamExt, TryStreamExt, stream};
use roster_domain::{
    ids::{OrganisationId, ReservationId, UserId},
    reservation::{NewReservation, Reservation, ResourceKind},
};
use roster_local::{Functions, LocalConfig, events::scheduled_event};
use roster_store::{DynamoTable, reservation_items};

use crate::{
    Row, Samples,
    import::{BenchError, Patient, put_batch, step},
};

/// Reservations due in each timed run.
const DUE: usize = 1_000;
/// Reservations stored in the large case, the due ones included.
const STORED: usize = 200_000;
/// Timed runs of each case.
const RUNS: usize = 3;
/// Reservations created or deleted at a time.
const CONCURRENCY: usize = 8;

/// Who the bench's reservations are for: a person of the bench organisation, with check-in
/// reminders on (the default), at one of its sites.
pub struct Booker<'a> {
    pub organisation: &'a str,
    pub person: &'a str,
    pub site: &'a str,
}

impl Booker<'_> {
    fn reservation(&self, start: DateTime<Utc>) -> Result<Reservation, BenchError> {
        Ok(Reservation::new(
            ReservationId::generate(),
            OrganisationId::try_from(self.organisation).map_err(|_| "organisation id")?,
            NewReservation {
                user_id: UserId::try_from(self.person).map_err(|_| "person id")?,
                resource_kind: ResourceKind::Desk,
                resource_name: "Desk 1".to_owned(),
                site_id: self.site.to_owned(),
                start,
                end: start + Duration::hours(8),
                recurring: false,
            },
            Utc::now(),
        ))
    }
}

pub async fn ratio(
    functions: &Functions,
    patient: &Patient,
    config: &LocalConfig,
    booker: &Booker<'_>,
) -> Result<Row, BenchError> {
    let table = DynamoTable::new(patient.dynamodb.clone(), &config.table_name);
    // Each run has its own moment, so every run finds its 1,000 reservations not yet reminded.
    let moment = |run: usize| {
        Utc.with_ymd_and_hms(2031, 3, 3, 9, 0, 0).unwrap() + Duration::days(run as i64)
    };
    let mut few = Vec::new();
    for run in 0..RUNS {
        few.push(timed_run(functions, &table, config, booker, moment(run)).await?);
    }
    load_elsewhere(patient, config, booker, STORED - DUE).await?;
    let mut many = Vec::new();
    for run in RUNS..2 * RUNS {
        many.push(timed_run(functions, &table, config, booker, moment(run)).await?);
    }
    let (few, many) = (Samples::of(few), Samples::of(many));
    Ok(Row::budgeted(
        "reminder run: 1,000 due in 200k vs in 1k stored",
        format!("{:.0} ms", many.median()),
        format!("{:.0} ms", few.median()),
        many.median() / few.median(),
        1.5,
        RUNS,
    )
    .timed(&many, Some(&few)))
}

/// Files 1,000 reservations starting at `now`, times the reminder job run at `now`, checks it
/// sent each reminder, and deletes them again so the stored count stays as the case says.
async fn timed_run(
    functions: &Functions,
    table: &DynamoTable,
    config: &LocalConfig,
    booker: &Booker<'_>,
    now: DateTime<Utc>,
) -> Result<f64, BenchError> {
    let tz = chrono_tz::Europe::Berlin;
    let due: Vec<Reservation> = (0..DUE)
        .map(|_| booker.reservation(now))
        .collect::<Result<_, _>>()?;
    stream::iter(&due)
        .map(|reservation| async move {
            let filing = reservation.filing(tz, tz, 18);
            table
                .create_reservation(reservation, &filing, None, None)
                .await
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await
        .map_err(step("filing the due reservations"))?;
    let event = scheduled_event("roster-checkin-reminder", now, &config.region);
    let (run, ms) = crate::time(functions.invoke("jobs", event)).await;
    let run = run.map_err(step("the reminder job"))?;
    if run["due"] != DUE || run["email"]["sent"] != DUE {
        return Err(format!("the reminder run did not remind every due reservation: {run}").into());
    }
    stream::iter(&due)
        .map(|reservation| async move {
            let filed = table
                .reservation(&reservation.organisation_id, &reservation.id)
                .await?
                .ok_or(roster_store::StoreError::NotFound)?;
            table.delete_reservation(&filed, None).await
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await
        .map_err(step("deleting the due reservations"))?;
    Ok(ms)
}

/// Stores `count` reservations in buckets no timed run queries (one every 5 minutes from 2032
/// on), with the items a booking writes, put by concurrent `BatchWriteItem`s.
async fn load_elsewhere(
    patient: &Patient,
    config: &LocalConfig,
    booker: &Booker<'_>,
    count: usize,
) -> Result<(), BenchError> {
    let tz = chrono_tz::Europe::Berlin;
    let first = Utc.with_ymd_and_hms(2032, 1, 1, 0, 0, 0).unwrap();
    let mut items = Vec::with_capacity(count * 4);
    for i in 0..count {
        let reservation = booker.reservation(first + Duration::minutes(5 * i as i64))?;
        items.extend(reservation_items(
            &reservation,
            &reservation.filing(tz, tz, 18),
        ));
    }
    // Moved into batches of 25, not copied: the items are most of the bench's memory.
    let mut items = items.into_iter();
    let batches = std::iter::from_fn(|| {
        let batch: Vec<_> = items.by_ref().take(25).collect();
        (!batch.is_empty()).then_some(batch)
    });
    stream::iter(batches)
        .map(|batch| put_batch(&patient.dynamodb, &config.table_name, batch))
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}
