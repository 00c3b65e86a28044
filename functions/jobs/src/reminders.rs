//! Check-in reminders (every 5 minutes): at the start of each reservation not checked in, in
//! organisations with the check-in module on, an email and a push to each of the person's
//! devices with push enabled, as the person chose.

use chrono::{DateTime, Duration, Utc};
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

use crate::{JobRun, Jobs, Tally, people::Addressees};

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
    let mut run = JobRun {
        job: roster_domain::schedule::ScheduledJob::CheckinReminder,
        now,
        due: due.len(),
        email: Tally::default(),
        push: Tally::default(),
        held_emails: Tally::default(),
    };
    for reservation in &due {
        let Some((organisation, person, site)) = addressees.of_reservation(reservation) else {
            continue;
        };
        let channels = reminder_channels(organisation, person, reservation);
        let subject = reservation.message_subject();
        let message = BookingMessage::CheckinReminder(BookingLine::of(reservation, site));
        if channels.email {
            let attempt = jobs
                .table
                .deliver_once(&organisation.id, &subject, "email-reminder", || {
                    outbox::email(&jobs.mailer, person, &message, None)
                })
                .await?;
            if let Some(attempt) = attempt {
                run.email.count(&attempt);
            }
        }
        if channels.push {
            let prefs = &person.preferences;
            let (title, body) = render_push(&message, prefs.language, prefs.time_zone.0);
            let push = PushMessage {
                title,
                body,
                tag: reservation.id.to_string(),
            };
            let devices = jobs.table.devices(&organisation.id, &person.id).await?;
            for device in devices.iter().filter(|d| d.push_enabled && d.active) {
                let channel = format!("push-{}", device.id);
                let attempt = jobs
                    .table
                    .deliver_once(&organisation.id, &subject, &channel, || {
                        push_to(jobs, device, &push)
                    })
                    .await?;
                if let Some(attempt) = attempt {
                    if attempt == Attempt::Gone {
                        jobs.table
                            .deactivate_device(&organisation.id, &person.id, device)
                            .await?;
                    }
                    run.push.count(&attempt);
                }
            }
        }
    }
    Ok(run)
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
