//! Reservations and the index items that make their notifications cheap to find.
//!
//! A reservation is one item (`ORG#o#RES#id`, on `gsi1` under its person sorted by start) plus
//! copies filed where work looks for it: one per day of its site's live plan, one in the check-in
//! bucket of its start, one in the summary bucket of its person. Every copy carries the whole
//! reservation and all are written, rewritten and deleted in one transaction, so a job or the
//! live plan reads what it needs from the bucket or day it queries, with no second read. The
//! main item remembers the copies' keys, so they can be removed even after the settings they
//! were derived from changed.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use roster_domain::{
    idempotency::{IDEMPOTENCY_WINDOW, IdempotencyKey},
    ids::{OrganisationId, ReservationId, UserId},
    reservation::{Attempt, Bucket, Filing, HeldBookingEmail, Reservation, SUMMARY_RETRY_WINDOW},
};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError, Uniqueness,
    keys::{self, Key},
    record::{Item, Record, body, item_key, n, readable_bodies, s},
    transaction::{Condition, OnFail, Transaction},
};

/// A reservation as stored: with where its copies are, so a change or a cancellation rewrites
/// them without reading the reservation again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FiledReservation {
    #[serde(flatten)]
    pub reservation: Reservation,
    copies: Vec<Key>,
}

/// A copy in a bucket or a site's day.
#[derive(Serialize, Deserialize)]
struct Copy {
    #[serde(flatten)]
    reservation: Reservation,
}

/// A reservation in a summary bucket: due for `user`'s summary of `date`.
#[derive(Debug, Clone)]
pub struct SummaryDue {
    pub organisation: OrganisationId,
    pub user: UserId,
    pub date: NaiveDate,
    pub reservation: Reservation,
}

/// A person's summary of one date that later runs send again: SES turned it away, or a run
/// stopped before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRetry {
    /// The bucket its entries are in.
    pub bucket: Bucket,
    pub organisation: OrganisationId,
    pub user: UserId,
    pub date: NaiveDate,
    /// Who asked last: a run settles only the asking it read.
    mark: String,
}

#[derive(Serialize, Deserialize)]
struct DeliveryRecord {
    state: String,
    /// Epoch seconds (wall clock) of the claim or outcome.
    at: i64,
    /// Who holds the claim: only they record its outcome.
    claim: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// How long a claimed delivery stays its claimant's before another run may take it over (a run
/// that died after claiming): longer than any function's timeout, so a slow run still holding
/// its claim is never overtaken.
const DELIVERY_LEASE: Duration = Duration::minutes(5);
/// Most reservations a person's list answers.
const MY_RESERVATIONS: usize = 100;
/// How long delivery records are kept.
const DELIVERY_KEPT: Duration = Duration::days(35);
/// How far back `held_booking_emails_due` looks for emails due a retry: well past
/// `roster_domain::reservation::HELD_EMAIL_KEPT`, so one whose retries were missed for a while
/// (the job failing) is still found and recorded as failed.
const HELD_EMAILS_LOOK_BACK: Duration = Duration::days(7);
/// Most held emails one call hands out, oldest first; the rest wait for the next run.
const HELD_EMAILS_PER_CALL: i32 = 100;

fn copy_keys(reservation: &Reservation, filing: &Filing) -> Vec<Key> {
    let (organisation, id) = (&reservation.organisation_id, &reservation.id);
    let start = reservation.start.to_rfc3339();
    let mut copies: Vec<Key> = filing
        .site_days
        .iter()
        .map(|day| {
            keys::site_day_entry(
                organisation,
                &reservation.site_id,
                &day.to_string(),
                &start,
                id,
            )
        })
        .collect();
    copies.push(keys::checkin_entry(
        &reservation.reminder_bucket().key(),
        organisation,
        id,
    ));
    copies.push(keys::summary_entry(
        &filing.summary_bucket.key(),
        organisation,
        &reservation.user_id,
        &filing.summary_date.to_string(),
        id,
    ));
    copies
}

fn main_item(reservation: &Reservation, copies: &[Key]) -> Item {
    let mut record = Record::new(
        keys::reservation(&reservation.organisation_id, &reservation.id),
        FiledReservation {
            reservation: reservation.clone(),
            copies: copies.to_vec(),
        },
    );
    record.gsi1pk = Some(keys::reservations_of(
        &reservation.organisation_id,
        &reservation.user_id,
    ));
    record.gsi1sk = Some(format!(
        "{}#{}",
        reservation.start.to_rfc3339(),
        reservation.id
    ));
    record.item()
}

fn copy_item(key: &Key, reservation: &Reservation) -> Item {
    Record::new(
        key.clone(),
        Copy {
            reservation: reservation.clone(),
        },
    )
    .item()
}

/// The items of `reservation` filed as `filing`: the main item first, then its copies. What
/// `create_reservation` writes in one transaction; a bulk load (the bench's stored reservations)
/// may put them with `BatchWriteItem` instead.
pub fn reservation_items(reservation: &Reservation, filing: &Filing) -> Vec<Item> {
    let copies = copy_keys(reservation, filing);
    std::iter::once(main_item(reservation, &copies))
        .chain(copies.iter().map(|key| copy_item(key, reservation)))
        .collect()
}

impl DynamoTable {
    /// Creates `reservation` filed as `filing`, all items in one transaction, with its booking
    /// email `held` (if one is owed) and what `request` (if any) made, kept for
    /// `IDEMPOTENCY_WINDOW` from the reservation's creation: `Taken` (`IdempotencyKey`) if a live
    /// earlier request holds that key; a repeated id is `Stale`.
    pub async fn create_reservation(
        &self,
        reservation: &Reservation,
        filing: &Filing,
        request: Option<&IdempotencyKey>,
        held: Option<&HeldBookingEmail>,
    ) -> Result<(), StoreError> {
        let mut items = reservation_items(reservation, filing).into_iter();
        let mut tx = Transaction::default();
        tx.put(
            self,
            items.next().expect("the main item comes first"),
            Some((Condition::absent(), OnFail::Stale)),
        );
        for item in items.chain(held.map(held_email_item)) {
            tx.put(self, item, None);
        }
        if let Some(request) = request {
            // What the request made, as a copy of the reservation as created.
            let mut record = Record::new(
                keys::reservation_request(&reservation.organisation_id, request),
                Copy {
                    reservation: reservation.clone(),
                },
            );
            record.ttl = Some(idempotency_expiry(reservation).timestamp());
            tx.put(
                self,
                record.item(),
                Some((
                    Condition::absent_or_expired(reservation.created_at),
                    OnFail::Taken(Uniqueness::IdempotencyKey),
                )),
            );
        }
        tx.commit(self).await
    }

    /// The reservation, as created, that a request under `request` made in `organisation`, while
    /// the key is live at `now`: one consistent `GetItem`.
    pub async fn reservation_requested(
        &self,
        organisation: &OrganisationId,
        request: &IdempotencyKey,
        now: DateTime<Utc>,
    ) -> Result<Option<Reservation>, StoreError> {
        let key = keys::reservation_request(organisation, request);
        let Some(item) = self.get(&key, true).await? else {
            return Ok(None);
        };
        let made = body::<Copy>(item)?.reservation;
        Ok((idempotency_expiry(&made) > now).then_some(made))
    }

    pub async fn reservation(
        &self,
        organisation: &OrganisationId,
        id: &ReservationId,
    ) -> Result<Option<FiledReservation>, StoreError> {
        self.get(&keys::reservation(organisation, id), true)
            .await?
            .map(body::<FiledReservation>)
            .transpose()
    }

    /// Replaces `before` (as read) by `after` everywhere it is filed; `Stale` if it changed or
    /// went meanwhile.
    pub async fn update_reservation(
        &self,
        before: &FiledReservation,
        after: &Reservation,
    ) -> Result<(), StoreError> {
        let copies = &before.copies;
        let mut tx = Transaction::default();
        tx.put(
            self,
            main_item(after, copies),
            Some((
                Condition::version(before.reservation.version),
                OnFail::Stale,
            )),
        );
        for key in copies {
            tx.put(self, copy_item(key, after), None);
        }
        tx.commit(self).await
    }

    /// Deletes the reservation and its copies, holding its cancellation email `held` (if one is
    /// owed) in the same transaction; `NotFound` if it is already gone.
    pub async fn delete_reservation(
        &self,
        filed: &FiledReservation,
        held: Option<&HeldBookingEmail>,
    ) -> Result<(), StoreError> {
        let reservation = &filed.reservation;
        let mut tx = Transaction::default();
        tx.delete(
            self,
            &keys::reservation(&reservation.organisation_id, &reservation.id),
            Some((Condition::present(), OnFail::Missing)),
        );
        for key in &filed.copies {
            tx.delete(self, key, None);
        }
        if let Some(held) = held {
            tx.put(self, held_email_item(held), None);
        }
        tx.commit(self).await
    }

    /// The person's next reservations (at most `MY_RESERVATIONS`) ending after `from`, by
    /// start: a `Query` of `gsi1`, following its pages past the ended ones of the last 31 days
    /// (DynamoDB's `Limit` counts them before the filter drops them).
    pub async fn reservations_of(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        from: DateTime<Utc>,
    ) -> Result<Vec<Reservation>, StoreError> {
        // A reservation lasts at most 31 days, so none that started earlier still runs.
        let earliest = from - roster_domain::reservation::LONGEST;
        let query = self
            .client
            .query()
            .table_name(&self.name)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :person AND gsi1sk >= :earliest")
            .filter_expression("#end > :from")
            .expression_attribute_names("#end", "end")
            .expression_attribute_values(":person", s(keys::reservations_of(organisation, user)))
            .expression_attribute_values(":earliest", s(earliest.to_rfc3339()))
            .expression_attribute_values(":from", s(from.to_rfc3339()));
        self.first_reservations(query).await
    }

    /// The person's reservations starting in `[from, until)` (at most `MY_RESERVATIONS`), by
    /// start: one `Query` of `gsi1`.
    pub async fn reservations_starting(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Reservation>, StoreError> {
        // A sort key is the start and `#id`, so `until` itself is past every one starting then.
        let query = self
            .client
            .query()
            .table_name(&self.name)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :person AND gsi1sk BETWEEN :from AND :until")
            .expression_attribute_values(":person", s(keys::reservations_of(organisation, user)))
            .expression_attribute_values(":from", s(from.to_rfc3339()))
            .expression_attribute_values(":until", s(until.to_rfc3339()));
        self.first_reservations(query).await
    }

    /// The first `MY_RESERVATIONS` reservations `query` of `gsi1` finds. One that does not read
    /// (a broken one, or one a newer release wrote) is left out and logged: it must cost neither
    /// the person their list nor a summary run its other people.
    async fn first_reservations(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<Reservation>, StoreError> {
        let (mut items, _) = self.query_up_to(query, Some(MY_RESERVATIONS)).await?;
        items.truncate(MY_RESERVATIONS);
        Ok(readable_bodies::<FiledReservation>(items)
            .into_iter()
            .map(|stored| stored.reservation)
            .collect())
    }

    /// Up to `limit` of the reservations of a site's local `day`, by start, from after
    /// `cursor` (one `Query`), with the cursor after the last when more follow.
    pub async fn site_day(
        &self,
        organisation: &OrganisationId,
        site: &str,
        day: NaiveDate,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<(Vec<Reservation>, Option<String>), StoreError> {
        let list = crate::cursor::PartitionList {
            pk: keys::site_day(organisation, site, &day.to_string()),
            prefix: String::new(),
        };
        let (items, next) = self.partition_page(&list, limit, cursor, true).await?;
        let reservations: Result<Vec<Reservation>, _> = items
            .into_iter()
            .map(|item| body::<Copy>(item).map(|copy| copy.reservation))
            .collect();
        Ok((reservations?, next))
    }

    /// The reservations whose check-in reminder is due in `bucket`: one `Query` (an entry that
    /// does not read is logged and left out).
    pub async fn checkins_due(&self, bucket: &Bucket) -> Result<Vec<Reservation>, StoreError> {
        let items = self
            .query_partition(&keys::checkin_bucket(&bucket.key()), "")
            .await?;
        Ok(readable_bodies::<Copy>(items)
            .into_iter()
            .map(|copy| copy.reservation)
            .collect())
    }

    /// The reservations whose person's summary is due in `bucket`: one `Query`.
    pub async fn summaries_due(&self, bucket: &Bucket) -> Result<Vec<SummaryDue>, StoreError> {
        self.summaries_in(bucket, "").await
    }

    /// The summary entries of `bucket` whose sort keys start with `prefix` (all when empty). An
    /// entry that does not read is logged and left out: it stops no one else's summary.
    async fn summaries_in(
        &self,
        bucket: &Bucket,
        prefix: &str,
    ) -> Result<Vec<SummaryDue>, StoreError> {
        let items = self
            .query_partition(&keys::summary_bucket(&bucket.key()), prefix)
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|item| {
                let key = item_key(&item);
                let date = key
                    .as_ref()
                    .and_then(|key| key.sk.split('#').nth(2))
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                match (date, body::<Copy>(item)) {
                    (Some(date), Ok(Copy { reservation })) => Some(SummaryDue {
                        organisation: reservation.organisation_id.clone(),
                        user: reservation.user_id.clone(),
                        date,
                        reservation,
                    }),
                    (_, read) => {
                        let error = read.err();
                        tracing::error!(?key, ?error, "an unreadable summary entry left out");
                        None
                    }
                }
            })
            .collect())
    }

    /// Asks the runs of the `SUMMARY_RETRY_WINDOW` after each bucket to send these summaries
    /// (bucket, organisation, person, date) again: `BatchWriteItem`, each with a fresh mark, so
    /// a run that read an older asking cannot settle this one.
    pub async fn retry_summaries(
        &self,
        summaries: impl IntoIterator<Item = (Bucket, OrganisationId, UserId, NaiveDate)>,
    ) -> Result<(), StoreError> {
        let writes = summaries
            .into_iter()
            .map(|(bucket, organisation, user, date)| {
                let key =
                    keys::summary_retry(&bucket.key(), &organisation, &user, &date.to_string());
                let retry = SummaryRetry {
                    bucket,
                    organisation,
                    user,
                    date,
                    mark: roster_domain::session::new_secret(),
                };
                let mut record = Record::new(key, retry);
                record.ttl =
                    Some((bucket.start + SUMMARY_RETRY_WINDOW + Duration::days(1)).timestamp());
                crate::Write::Put(record.item())
            })
            .collect();
        self.batch_write(writes).await
    }

    /// The summaries to send again whose buckets run from the one holding `since` to the one
    /// holding `until`: one `Query` (it fills only while SES turns summaries away, sends fail,
    /// organisations do not read or runs near their deadline).
    pub async fn summaries_to_retry(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<SummaryRetry>, StoreError> {
        let bucket =
            |moment| Bucket::containing(moment, roster_domain::reservation::SUMMARY_BUCKET);
        let query = self
            .client
            .query()
            .table_name(&self.name)
            .key_condition_expression("pk = :retries AND sk BETWEEN :first AND :last")
            .expression_attribute_values(":retries", s(keys::SUMMARY_RETRIES))
            .expression_attribute_values(":first", s(bucket(since).key()))
            // Past every sort key of the last bucket (`<bucket>#...`: `~` sorts after `#`).
            .expression_attribute_values(":last", s(format!("{}~", bucket(until).key())))
            .consistent_read(true);
        // An item of another shape (none is written) is skipped rather than stopping every run.
        Ok(self
            .query_all(query)
            .await?
            .into_iter()
            .filter_map(|item| body(item).ok())
            .collect())
    }

    /// The entries of the summary `retry` names: one `Query` of its bucket.
    pub async fn summary_due_again(
        &self,
        retry: &SummaryRetry,
    ) -> Result<Vec<SummaryDue>, StoreError> {
        let prefix =
            keys::summary_entries_of(&retry.organisation, &retry.user, &retry.date.to_string());
        self.summaries_in(&retry.bucket, &prefix).await
    }

    /// Settles `retry`: its summary needs no further try, unless a run asked again since.
    pub async fn settle_summary_retry(&self, retry: &SummaryRetry) -> Result<(), StoreError> {
        let key = keys::summary_retry(
            &retry.bucket.key(),
            &retry.organisation,
            &retry.user,
            &retry.date.to_string(),
        );
        let result = self
            .client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(crate::record::key_item(&key)))
            .condition_expression("#mark = :mark")
            .expression_attribute_names("#mark", "mark")
            .expression_attribute_values(":mark", s(retry.mark.as_str()))
            .send()
            .await;
        crate::conditional(result).map(|_| ())
    }

    /// The held booking emails due a retry at `now` (at most `HELD_EMAILS_PER_CALL`, longest due
    /// first): one `Query`. One that does not read is left out (logged), so it holds back none
    /// of the others.
    pub async fn held_booking_emails_due(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<HeldBookingEmail>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.name)
            .key_condition_expression("pk = :held AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":held", s(keys::HELD_EMAILS))
            .expression_attribute_values(
                ":from",
                s(keys::sortable_time(now - HELD_EMAILS_LOOK_BACK)),
            )
            // Sort keys go on after the time, so this bound takes in the whole second of `now`.
            .expression_attribute_values(":to", s(keys::sortable_time(now + Duration::seconds(1))))
            .consistent_read(true)
            .limit(HELD_EMAILS_PER_CALL);
        let output = query.send().await.map_err(StoreError::unavailable)?;
        Ok(readable_bodies(output.items.unwrap_or_default()))
    }

    /// Holds `before` again as `after` (turned away once more), in one transaction; nothing is
    /// written when another run released or re-held `before` meanwhile (it sent the email, or
    /// holds it now).
    pub async fn hold_booking_email_again(
        &self,
        before: &HeldBookingEmail,
        after: &HeldBookingEmail,
    ) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        tx.delete(
            self,
            &held_email_key(before),
            Some((Condition::present(), OnFail::Missing)),
        );
        tx.put(self, held_email_item(after), None);
        match tx.commit(self).await {
            Err(StoreError::NotFound) => Ok(()),
            done => done,
        }
    }

    /// Lets go of a held booking email: it was sent, or its failure recorded.
    pub async fn release_booking_email(&self, held: &HeldBookingEmail) -> Result<(), StoreError> {
        self.delete(&held_email_key(held)).await
    }

    /// Whether the message on `channel` about `subject` was sent or recorded as failed (not
    /// unsent, nor being sent by someone).
    pub async fn delivery_settled(
        &self,
        organisation: &OrganisationId,
        subject: &str,
        channel: &str,
    ) -> Result<bool, StoreError> {
        let record = self
            .get(&keys::delivery(organisation, subject, channel), true)
            .await?
            .map(body::<DeliveryRecord>)
            .transpose()?;
        Ok(record.is_some_and(|record| record.state != "sending"))
    }

    /// Sends one message on one channel at most once however often it is asked to (overlapping
    /// runs, retries): claims it, runs `send`, and records the outcome; a `Retry` gives the
    /// claim back for the next run. `None` when it was not this caller's to send.
    pub async fn deliver_once<F, Fut>(
        &self,
        organisation: &OrganisationId,
        subject: &str,
        channel: &str,
        send: F,
    ) -> Result<Option<Attempt>, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Attempt>,
    {
        let key = keys::delivery(organisation, subject, channel);
        let claim = roster_domain::session::new_secret();
        if !self.claim_delivery(&key, &claim).await? {
            return Ok(None);
        }
        let attempt = send().await;
        let outcome = match &attempt {
            Attempt::Sent => Some(("sent", None)),
            Attempt::Retry(_) => None,
            Attempt::Refused(reason) => Some(("failed", Some(reason.clone()))),
            Attempt::Gone => Some(("failed", Some("the device is gone".to_owned()))),
        };
        match outcome {
            Some((state, reason)) => self.finish_delivery(&key, &claim, state, reason).await?,
            None => self.release_delivery(&key, &claim).await?,
        }
        Ok(Some(attempt))
    }

    /// Claims a delivery for `claim`: when nobody did, or a claim ran past `DELIVERY_LEASE`
    /// unfinished (wall-clock time). `false` when it was sent, failed for good, or is another's.
    async fn claim_delivery(&self, key: &Key, claim: &str) -> Result<bool, StoreError> {
        let now = Utc::now();
        let result = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(delivery_item(key, claim, "sending", None, now)))
            .condition_expression(
                "attribute_not_exists(pk) OR (#state = :sending AND #at < :stale)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":stale", n((now - DELIVERY_LEASE).timestamp()))
            .send()
            .await;
        Ok(crate::conditional(result)?.is_some())
    }

    /// Records how `claim`'s delivery ended, if the claim is still theirs (one taken over after
    /// its lease belongs to the run that took it).
    async fn finish_delivery(
        &self,
        key: &Key,
        claim: &str,
        state: &str,
        reason: Option<String>,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(delivery_item(key, claim, state, reason, Utc::now())))
            .condition_expression("claim = :claim")
            .expression_attribute_values(":claim", s(claim))
            .send()
            .await;
        crate::conditional(result).map(|_| ())
    }

    /// Gives `claim`'s delivery back after a transient failure, for the next run to retry.
    async fn release_delivery(&self, key: &Key, claim: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(crate::record::key_item(key)))
            .condition_expression("claim = :claim")
            .expression_attribute_values(":claim", s(claim))
            .send()
            .await;
        crate::conditional(result).map(|_| ())
    }
}

/// When the `Idempotency-Key` of the request that made `reservation` is free again.
fn idempotency_expiry(reservation: &Reservation) -> DateTime<Utc> {
    reservation.created_at + IDEMPOTENCY_WINDOW
}

fn delivery_item(
    key: &Key,
    claim: &str,
    state: &str,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Item {
    let mut record = Record::new(
        key.clone(),
        DeliveryRecord {
            state: state.to_owned(),
            at: now.timestamp(),
            claim: claim.to_owned(),
            reason,
        },
    );
    record.ttl = Some((now + DELIVERY_KEPT).timestamp());
    record.item()
}

fn held_email_key(held: &HeldBookingEmail) -> Key {
    keys::held_email(
        held.retry_at,
        &held.reservation.organisation_id,
        &held.reservation.id,
        held.change.channel(),
    )
}

fn held_email_item(held: &HeldBookingEmail) -> Item {
    let mut record = Record::new(held_email_key(held), held.clone());
    record.ttl = Some((held.retry_at + HELD_EMAILS_LOOK_BACK).timestamp());
    record.item()
}
