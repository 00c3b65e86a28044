//! The jobs function: EventBridge scheduled events -> the job their rule names, run for the
//! moment the event carries (`time`), so a run can be replayed for any moment.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use lambda_runtime::{Diagnostic, LambdaEvent};
use roster_domain::schedule::ScheduledJob;
use serde::Serialize;

/// One run of a scheduled job.
#[derive(Debug, Serialize)]
pub struct JobRun {
    pub job: ScheduledJob,
    pub now: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no Roster schedule among the event's resources {0:?}")]
    UnknownSchedule(Vec<String>),
    #[error("the scheduled event has no time")]
    MissingTime,
}

impl From<JobError> for Diagnostic {
    fn from(error: JobError) -> Self {
        Diagnostic {
            error_type: "JobError".to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Handles one scheduled event. An event from an unknown rule is an error, never silently ignored.
pub async fn handle(event: LambdaEvent<EventBridgeEvent>) -> Result<JobRun, JobError> {
    let resources = event.payload.resources.unwrap_or_default();
    let job = resources
        .iter()
        .find_map(|arn| ScheduledJob::from_rule_arn(arn))
        .ok_or_else(|| JobError::UnknownSchedule(resources.clone()))?;
    let now = event.payload.time.ok_or(JobError::MissingTime)?;
    tracing::info!(%job, %now, "scheduled job");
    Ok(JobRun { job, now })
}
