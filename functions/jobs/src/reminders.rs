//! Check-in reminders (every 5 minutes): at the start of each reservation not checked in, in
//! organisations with the check-in module on, an email and a push to each of the person's
//! devices with push enabled, as the person chose.

use chrono::{DateTime, Duration, Utc};
use futures::{StreamExt, future, stream};
use roster_domain::{
    device::PushTarget,
    reservation::{Attempt, REMINDER_BUCKET, Reservation, reminder_channels},
};
use roster_notify::{
    PhonePlatform, PushMessage,
    booking::{BookingLine, BookingMessage, render_push},
    outbox,
};
use roster_store::{Device, StoreError};

use crate::{JobRun, Jobs, people::Addressees};

/// How far back a run looks: reservations that started up to this long ago and were missed by
/// a late or failed run still get their reminder; older ones are past helping.
const LOOK_BACK: Duration = Duration::minutes(15);

pub async fn run(jobs: &Jobs, now: DateTime<Utc>) -> Result<JobRun, StoreError> {
    let buckets = roster_domain::reservation::Bucket::recent(
        now,
        REMINDER_BUCKET,
        (LOOK_BACK.num_minutes() / REMINDER_BUCKET.num_minutes()) as i32 + 1,
    );
    let mut due = Vec::new();
    for bucket in &buckets {
        due.extend(
            jobs.table
                .checkins_due(bucket)
                .await?
                .into_iter()
                .filter(|r| r.start <= now && r.start > now - LOOK_BACK),
        );
    }
    let due_refs: Vec<&Reservation> = due.iter().collect();
    let addressees = Addressees::of(&jobs.table, &due_refs).await?;
    let mut run = JobRun::new(
        roster_domain::schedule::ScheduledJob::CheckinReminder,
        now,
        due.len(),
    );
    // Several reservations at once, and each person's devices at once: a push service or
    // mailbox that keeps a reminder waiting (up to its timeout) holds back that reminder only,
    // not those of everyone after it.
    // (Made before they are streamed: a stream that maps borrowed items is not `Send` to the
    // compiler, and the Lambda runtime needs the handler's future to be.)
    let reminders: Vec<_> = due
        .iter()
        .map(|reservation| remind(jobs, &addressees, reservation))
        .collect();
    // One reminder failing stops no other: a reminder dropped mid-send would leave its claim
    // open, and the run after the lease would send it again. The run fails after all of them.
    let mut reminders = stream::iter(reminders).buffer_unordered(REMINDERS_IN_FLIGHT);
    let mut failed = None;
    while let Some(attempts) = reminders.next().await {
        match attempts {
            Ok(attempts) => {
                for (channel, attempt) in attempts {
                    match channel {
                        Channel::Email => run.email.count(&attempt),
                        Channel::Push => run.push.count(&attempt),
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, "a check-in reminder failed; the next run tries it again");
                failed.get_or_insert(error);
            }
        }
    }
    match failed {
        Some(error) => Err(error),
        None => Ok(run),
    }
}

/// Reservations reminded of at once.
const REMINDERS_IN_FLIGHT: usize = 16;

enum Channel {
    Email,
    Push,
}

/// The reminder of one reservation, by email and to each of the person's devices with push on,
/// as their settings ask: the attempts made (none for a channel already delivered by another run).
async fn remind(
    jobs: &Jobs,
    addressees: &Addressees,
    reservation: &Reservation,
) -> Result<Vec<(Channel, Attempt)>, StoreError> {
    let Some((organisation, person, site)) = addressees.of_reservation(reservation) else {
        return Ok(Vec::new());
    };
    let channels = reminder_channels(organisation, person, reservation);
    let subject = reservation.message_subject();
    let message = BookingMessage::CheckinReminder(BookingLine::of(reservation, site));
    let email = async {
        if !channels.email {
            return Ok(None);
        }
        jobs.table
            .deliver_once(&organisation.id, &subject, "email-reminder", || {
                outbox::email(&jobs.mailer, person, &message, None)
            })
            .await
    };
    let pushes = async {
        if !channels.push {
            return Ok(Vec::new());
        }
        let prefs = &person.preferences;
        let (title, body) = render_push(&message, prefs.language, prefs.time_zone.0);
        let push = PushMessage {
            title,
            body,
            tag: reservation.id.to_string(),
        };
        let devices = jobs.table.devices(&organisation.id, &person.id).await?;
        let enabled = devices.iter().filter(|d| d.push_enabled && d.active);
        future::join_all(enabled.map(|device| async {
            let channel = format!("push-{}", device.id);
            let attempt = jobs
                .table
                .deliver_once(&organisation.id, &subject, &channel, || {
                    push_to(jobs, device, &push)
                })
                .await?;
            if attempt == Some(Attempt::Gone) {
                jobs.table
                    .deactivate_device(&organisation.id, &person.id, device)
                    .await?;
            }
            Ok::<_, StoreError>(attempt)
        }))
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
    };
    // Each channel finishes before either's failure is answered (see `run`).
    let (email, pushes) = tokio::join!(email, pushes);
    let (email, pushes) = (email?, pushes?);
    Ok(email
        .map(|attempt| (Channel::Email, attempt))
        .into_iter()
        .chain(
            pushes
                .into_iter()
                .flatten()
                .map(|attempt| (Channel::Push, attempt)),
        )
        .collect())
}

async fn push_to(jobs: &Jobs, device: &Device, message: &PushMessage) -> Attempt {
    let outcome = match (&device.target, &device.endpoint_arn) {
        (
            PushTarget::Web {
                endpoint,
                p256dh,
                auth,
            },
            _,
        ) => {
            jobs.web_push
                .send(endpoint, p256dh, auth, message, PUSH_TTL_SECONDS)
                .await
        }
        (PushTarget::Ios { .. }, Some(arn)) => {
            jobs.sns.send(arn, PhonePlatform::Ios, message).await
        }
        (PushTarget::Android { .. }, Some(arn)) => {
            jobs.sns.send(arn, PhonePlatform::Android, message).await
        }
        (_, None) => return Attempt::Refused("the phone has no SNS endpoint".to_owned()),
    };
    outbox::attempt_of_push(outcome)
}

/// A reminder is worth delivering for the first hour of the reservation at most.
const PUSH_TTL_SECONDS: u32 = 3600;
