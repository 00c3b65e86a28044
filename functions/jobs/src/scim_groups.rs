//! SCIM group changes cut off part-way (every 5 minutes): a change of more members than one
//! transaction holds saves the group first and names the members it still has to write as
//! pending; a request cut off before it wrote them all leaves some people with roles the group
//! no longer gives, or without the ones it does. The group's next write would finish them; this
//! run finishes those that no write followed, as that write would (`DynamoTable::finish_scim_group`).

use chrono::{DateTime, Duration, Utc};
use roster_domain::{
    audit::{Actor, AuditEntry},
    ids::OrganisationId,
    schedule::ScheduledJob,
};
use roster_store::StoreError;

use crate::{JobRun, Jobs};

/// How long ago a group must have been saved for its pending members to count as left behind:
/// well past the longest a SCIM request runs (the function's 10 s, API Gateway's 30 s), so a
/// request still writing them is never raced.
const LEFT_FOR: Duration = Duration::minutes(5);

/// Finishes the groups (up to a query's page; the next run takes the rest) whose members a
/// write saved before `now - LEFT_FOR` left pending. One group failing stops no other; the run
/// fails after all of them, and the next one tries it again.
pub async fn finish(jobs: &Jobs, now: DateTime<Utc>) -> Result<JobRun, StoreError> {
    let saved_before = now - LEFT_FOR;
    let pending = jobs.table.scim_groups_pending(saved_before).await?;
    let mut run = JobRun::new(ScheduledJob::FinishScimGroups, now, pending.len());
    let mut failed = None;
    for (organisation, group) in &pending {
        match jobs
            .table
            .finish_scim_group(organisation, group, saved_before, now)
            .await
        {
            Ok(true) => {
                tracing::info!(%organisation, %group, "finished a SCIM group change cut off part-way");
                run.finished += 1;
                audit(jobs, organisation, group, now).await;
            }
            Ok(false) => {}
            Err(error) => {
                tracing::error!(%organisation, %group, %error, "a SCIM group change is left for the next run");
                failed.get_or_insert(error);
            }
        }
    }
    match failed {
        Some(error) => Err(error),
        None => Ok(run),
    }
}

/// Records in the organisation's audit log that the run finished `group`'s change (its people's
/// roles moved); a failure to is logged, and the change stands.
async fn audit(jobs: &Jobs, organisation: &OrganisationId, group: &str, now: DateTime<Utc>) {
    let entry = AuditEntry {
        at: now,
        action: "scim.group.finished".to_owned(),
        actor: Actor::Job(ScheduledJob::FinishScimGroups.name().to_owned()),
        target: Some(group.to_owned()),
        source: None,
        changed: vec!["members".to_owned()],
        approved_by: None,
    };
    let recorded = match jobs.table.organisation(organisation).await {
        Ok(Some(found)) => {
            let retention = found.settings.audit_retention_days;
            jobs.table
                .record_audit(organisation, &entry, retention)
                .await
        }
        // Gone meanwhile, with its log.
        Ok(None) => Ok(()),
        Err(error) => Err(error),
    };
    if let Err(error) = recorded {
        tracing::error!(%organisation, %group, %error, "audit entry not written");
    }
}
