//! The scheduled jobs and how an EventBridge schedule names them.
//!
//! Each schedule is an EventBridge rule named `<stack name>-<job>` (see `infra/template.yaml`); the
//! scheduled event lists the rule's ARN in `resources`, which is how the jobs function knows which
//! job to run. "Now" is the event's `time`, never the clock, so any moment can be replayed.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduledJob {
    /// Every 5 minutes: reminds people of reservations starting now that are not checked in.
    CheckinReminder,
    /// Every 15 minutes: sends tomorrow's reservations to people whose local summary hour has come.
    DailySummary,
    /// Every 5 minutes: finishes the SCIM group changes a request cut off part-way left with
    /// members still to write, when nothing has written the group since.
    FinishScimGroups,
}

impl ScheduledJob {
    pub const ALL: [ScheduledJob; 3] = [
        Self::CheckinReminder,
        Self::DailySummary,
        Self::FinishScimGroups,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::CheckinReminder => "checkin-reminder",
            Self::DailySummary => "daily-summary",
            Self::FinishScimGroups => "finish-scim-groups",
        }
    }

    /// The job an EventBridge rule ARN (`arn:...:rule/<stack>-<job>`) stands for, if any.
    pub fn from_rule_arn(arn: &str) -> Option<Self> {
        let rule_name = arn.rsplit_once(":rule/")?.1;
        let rule_name = rule_name.rsplit('/').next().unwrap_or(rule_name);
        Self::ALL.into_iter().find(|job| {
            rule_name == job.name()
                || rule_name
                    .strip_suffix(job.name())
                    .is_some_and(|stack| stack.ends_with('-'))
        })
    }
}

impl fmt::Display for ScheduledJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_arn_names_its_job_after_the_stack_name() {
        assert_eq!(
            ScheduledJob::from_rule_arn(
                "arn:aws:events:eu-west-1:123456789012:rule/roster-prod-checkin-reminder"
            ),
            Some(ScheduledJob::CheckinReminder)
        );
        assert_eq!(
            ScheduledJob::from_rule_arn("arn:aws:events:eu-west-1:1:rule/roster-daily-summary"),
            Some(ScheduledJob::DailySummary)
        );
        assert_eq!(
            ScheduledJob::from_rule_arn(
                "arn:aws:events:eu-west-1:1:rule/roster-finish-scim-groups"
            ),
            Some(ScheduledJob::FinishScimGroups)
        );
    }

    #[test]
    fn rules_on_a_custom_event_bus_are_recognised() {
        assert_eq!(
            ScheduledJob::from_rule_arn("arn:aws:events:eu-west-1:1:rule/bus/roster-daily-summary"),
            Some(ScheduledJob::DailySummary)
        );
    }

    #[test]
    fn unknown_rules_and_lookalikes_are_not_jobs() {
        for arn in [
            "arn:aws:events:eu-west-1:1:rule/roster-weekly-report",
            "arn:aws:events:eu-west-1:1:rule/rosterdaily-summary",
            "not an arn",
        ] {
            assert_eq!(ScheduledJob::from_rule_arn(arn), None, "{arn}");
        }
    }
}
