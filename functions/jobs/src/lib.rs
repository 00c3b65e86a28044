//! The jobs function: EventBridge scheduled events -> the job their rule names, run for the
//! moment the event carries (`time`), so a run can be replayed for any moment. The check-in
//! reminder run also retries the booking emails SES turned away (`held_emails`). Each job finds its
//! work by querying the time buckets due (see `roster_domain::reservation`), so its cost grows
//! with the work due, not with the reservations stored; each message is sent once per channel
//! however runs overlap or repeat (`DynamoTable::deliver_once`). The SCIM group run finishes
//! group changes cut off part-way (`scim_groups`), found in an index of their own.

mod held_emails;
mod people;
mod reminders;
mod scim_groups;
mod summaries;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use lambda_runtime::{Diagnostic, LambdaEvent};
use roster_bootstrap::{ConfigError, optional_env, required_env};
use roster_domain::schedule::ScheduledJob;
use roster_notify::{SesMailer, SnsPusher, VapidKey, WebPushSender};
use roster_store::{DynamoTable, StoreError};
use serde::Serialize;

/// What a run did, per channel: messages sent, left for a retry, refused for good.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub sent: u32,
    pub retry: u32,
    pub refused: u32,
    /// Devices found gone (and marked inactive).
    pub gone: u32,
}

impl Tally {
    fn count(&mut self, attempt: &roster_domain::reservation::Attempt) {
        use roster_domain::reservation::Attempt;
        match attempt {
            Attempt::Sent => self.sent += 1,
            Attempt::Retry(_) => self.retry += 1,
            Attempt::Refused(_) => self.refused += 1,
            Attempt::Gone => self.gone += 1,
        }
    }
}

/// One run of a scheduled job.
#[derive(Debug, Serialize)]
pub struct JobRun {
    pub job: ScheduledJob,
    pub now: DateTime<Utc>,
    /// Reservations (reminders), people (summaries) or SCIM groups the run found due.
    pub due: usize,
    pub email: Tally,
    pub push: Tally,
    /// Booking emails held for SES that were due another try (the check-in reminder run's).
    pub held_emails: Tally,
    /// SCIM group changes cut off part-way that the run finished (the SCIM group run's).
    pub finished: u32,
}

impl JobRun {
    /// A run of `job` at `now` that found `due` to do, with nothing done yet.
    fn new(job: ScheduledJob, now: DateTime<Utc>, due: usize) -> Self {
        Self {
            job,
            now,
            due,
            email: Tally::default(),
            push: Tally::default(),
            held_emails: Tally::default(),
            finished: 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no Roster schedule among the event's resources {0:?}")]
    UnknownSchedule(Vec<String>),
    #[error("the scheduled event has no time")]
    MissingTime,
    /// The run stopped; the next run (or EventBridge's retry) takes up what is left.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<JobError> for Diagnostic {
    fn from(error: JobError) -> Self {
        Diagnostic {
            error_type: "JobError".to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The jobs' configuration, from the environment. Not `Debug`: it holds the VAPID private key.
#[derive(Clone)]
pub struct Config {
    /// `ROSTER_TABLE_NAME`.
    pub table_name: String,
    /// `ROSTER_SENDER_ADDRESS`, `ROSTER_SES_CONFIGURATION_SET`.
    pub sender_address: String,
    pub ses_configuration_set: Option<String>,
    /// `ROSTER_VAPID_PRIVATE_KEY` (base64url P-256 scalar) and `ROSTER_VAPID_SUBJECT`
    /// (`mailto:` or `https:`): how Roster signs Web Push requests.
    pub vapid_private_key: String,
    pub vapid_subject: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("ROSTER_TABLE_NAME")?,
            sender_address: required_env("ROSTER_SENDER_ADDRESS")?,
            ses_configuration_set: optional_env("ROSTER_SES_CONFIGURATION_SET"),
            vapid_private_key: required_env("ROSTER_VAPID_PRIVATE_KEY")?,
            vapid_subject: required_env("ROSTER_VAPID_SUBJECT")?,
        })
    }
}

/// The AWS clients the jobs use.
#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub ses: aws_sdk_sesv2::Client,
    pub sns: aws_sdk_sns::Client,
}

/// The jobs with what they send through.
#[derive(Clone)]
pub struct Jobs {
    table: DynamoTable,
    mailer: SesMailer,
    web_push: WebPushSender,
    sns: SnsPusher,
}

impl Jobs {
    pub fn new(clients: Clients, config: &Config) -> Result<Self, ConfigError> {
        let vapid = VapidKey::from_base64(&config.vapid_private_key, &config.vapid_subject)
            .map_err(|error| ConfigError::Invalid {
                name: "ROSTER_VAPID_PRIVATE_KEY",
                reason: error.to_string(),
            })?;
        Ok(Self {
            table: DynamoTable::new(clients.dynamodb, &config.table_name),
            mailer: SesMailer::new(
                clients.ses,
                &config.sender_address,
                config.ses_configuration_set.clone(),
            ),
            web_push: WebPushSender::new(vapid),
            sns: SnsPusher::new(clients.sns),
        })
    }

    /// Handles one scheduled event. An event from an unknown rule is an error, never silently
    /// ignored.
    pub async fn handle(&self, event: LambdaEvent<EventBridgeEvent>) -> Result<JobRun, JobError> {
        let resources = event.payload.resources.unwrap_or_default();
        let job = resources
            .iter()
            .find_map(|arn| ScheduledJob::from_rule_arn(arn))
            .ok_or_else(|| JobError::UnknownSchedule(resources.clone()))?;
        let now = event.payload.time.ok_or(JobError::MissingTime)?;
        // Milliseconds since the epoch; 0 (no deadline) where it runs outside Lambda.
        let deadline = i64::try_from(event.context.deadline)
            .ok()
            .filter(|&ms| ms > 0)
            .and_then(DateTime::from_timestamp_millis);
        tracing::info!(%job, %now, "scheduled job");
        let run = match job {
            ScheduledJob::CheckinReminder => {
                // Held emails are retried even when the reminders fail: they do not depend on
                // them, and a reminder that keeps failing would hold them back on every run.
                let reminders = reminders::run(self, now).await;
                let held_emails = held_emails::retry(self, now).await;
                JobRun {
                    held_emails,
                    ..reminders?
                }
            }
            ScheduledJob::DailySummary => summaries::run(self, now, deadline).await?,
            ScheduledJob::FinishScimGroups => scim_groups::finish(self, now).await?,
        };
        tracing::info!(
            %job, due = run.due, email = ?run.email, push = ?run.push,
            held_emails = ?run.held_emails, finished = run.finished, "scheduled job done"
        );
        Ok(run)
    }
}
