//! Reads `infra/template.yaml`, the one definition of Roster's AWS resources, for the local stack.
//! CloudFormation short-form tags (`!Ref`, `!Sub`, `!GetAtt`) are kept as tagged values and only
//! resolved where the local stack needs a value (`!Sub` with the stack name).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

use serde::Deserialize;
use serde_norway::Value;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing the template: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("the template has no resource of type {0}")]
    MissingResource(&'static str),
    #[error("resource {resource}: {reason}")]
    Invalid { resource: String, reason: String },
}

/// The parts of the template the local stack builds.
#[derive(Debug, Clone)]
pub struct Template {
    pub table: TableDefinition,
    pub buckets: Vec<BucketDefinition>,
    pub has_email_identity: bool,
    pub schedules: Vec<ScheduleDefinition>,
    /// The IAM actions each function's role is allowed, by the function's binary name
    /// (`BuildProperties.Binary`).
    pub grants: BTreeMap<String, BTreeSet<String>>,
}

/// An `AWS::S3::Bucket`: its logical id (which names it locally) and whether it keeps versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketDefinition {
    pub logical_id: String,
    pub versioned: bool,
}

/// `AWS::DynamoDB::Table` properties, as CloudFormation spells them.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TableDefinition {
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeyElement>,
    #[serde(default)]
    pub global_secondary_indexes: Vec<IndexDefinition>,
    pub time_to_live_specification: Option<TimeToLive>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct KeyElement {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct IndexDefinition {
    pub index_name: String,
    pub key_schema: Vec<KeyElement>,
    pub projection: Projection,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    pub projection_type: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLive {
    pub attribute_name: String,
    pub enabled: bool,
}

/// A `Schedule` event of a function: the EventBridge rule's name and how often it fires.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleDefinition {
    pub rule_name: String,
    pub every: std::time::Duration,
}

impl Template {
    pub fn load(path: &Path, stack_name: &str) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, stack_name)
    }

    pub fn parse(text: &str, stack_name: &str) -> Result<Self, TemplateError> {
        let document: Value = serde_norway::from_str(text)?;
        let resources: Vec<(String, &Value)> = document
            .get("Resources")
            .and_then(Value::as_mapping)
            .map(|resources| {
                resources
                    .iter()
                    .map(|(name, body)| (name.as_str().unwrap_or_default().to_owned(), body))
                    .collect()
            })
            .unwrap_or_default();
        let of_type = |kind: &'static str| {
            resources
                .iter()
                .filter(move |(_, body)| body.get("Type").and_then(Value::as_str) == Some(kind))
        };

        let (table_name, table) = of_type("AWS::DynamoDB::Table")
            .next()
            .ok_or(TemplateError::MissingResource("AWS::DynamoDB::Table"))?;
        let table =
            TableDefinition::deserialize(table.get("Properties").cloned().unwrap_or(Value::Null))
                .map_err(|error| TemplateError::Invalid {
                resource: table_name.clone(),
                reason: error.to_string(),
            })?;

        let buckets: Vec<BucketDefinition> = of_type("AWS::S3::Bucket")
            .map(|(logical_id, bucket)| BucketDefinition {
                logical_id: logical_id.clone(),
                versioned: bucket
                    .get("Properties")
                    .and_then(|p| p.get("VersioningConfiguration"))
                    .and_then(|v| v.get("Status"))
                    .and_then(Value::as_str)
                    == Some("Enabled"),
            })
            .collect();
        if buckets.is_empty() {
            return Err(TemplateError::MissingResource("AWS::S3::Bucket"));
        }

        let has_email_identity = of_type("AWS::SES::EmailIdentity").next().is_some();

        let mut schedules = Vec::new();
        for (function, body) in of_type("AWS::Serverless::Function") {
            let events = body
                .get("Properties")
                .and_then(|p| p.get("Events"))
                .and_then(Value::as_mapping);
            for (_, event) in events.into_iter().flatten() {
                if event.get("Type").and_then(Value::as_str) != Some("Schedule") {
                    continue;
                }
                let invalid = |reason: &str| TemplateError::Invalid {
                    resource: function.clone(),
                    reason: reason.to_owned(),
                };
                let properties = event
                    .get("Properties")
                    .ok_or_else(|| invalid("schedule without properties"))?;
                let rule_name = properties
                    .get("Name")
                    .and_then(|name| resolve_sub(name, stack_name))
                    .ok_or_else(|| invalid("schedule without a Name"))?;
                let every = properties
                    .get("Schedule")
                    .and_then(Value::as_str)
                    .and_then(parse_rate)
                    .ok_or_else(|| {
                        invalid("schedule is not rate(N minutes|hours) nor cron(0/N * * * ? *)")
                    })?;
                schedules.push(ScheduleDefinition { rule_name, every });
            }
        }

        let mut grants = BTreeMap::new();
        for (function, body) in of_type("AWS::Serverless::Function") {
            let binary = body
                .get("Metadata")
                .and_then(|m| m.get("BuildProperties"))
                .and_then(|p| p.get("Binary"))
                .and_then(Value::as_str)
                .ok_or_else(|| TemplateError::Invalid {
                    resource: function.clone(),
                    reason: "no Metadata.BuildProperties.Binary".to_owned(),
                })?;
            let policies = body.get("Properties").and_then(|p| p.get("Policies"));
            let actions = allowed_actions(policies).map_err(|reason| TemplateError::Invalid {
                resource: function.clone(),
                reason,
            })?;
            grants.insert(binary.to_owned(), actions);
        }

        Ok(Self {
            table,
            buckets,
            has_email_identity,
            schedules,
            grants,
        })
    }
}

/// The actions a function's `Policies` allow. Only inline `Statement`s of `Effect: Allow` are
/// read; any other form (a SAM policy template, a managed policy, a `Deny`) is refused, so what
/// the local functions may call never silently differs from what the role grants.
fn allowed_actions(policies: Option<&Value>) -> Result<BTreeSet<String>, String> {
    let mut actions = BTreeSet::new();
    let Some(policies) = policies else {
        return Ok(actions);
    };
    let policies = policies.as_sequence().ok_or("Policies is not a list")?;
    for policy in policies {
        let statements = policy
            .get("Statement")
            .and_then(Value::as_sequence)
            .ok_or("a policy that is not an inline Statement list")?;
        for statement in statements {
            if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
                return Err("a statement whose Effect is not Allow".to_owned());
            }
            match statement.get("Action") {
                Some(Value::String(action)) => {
                    actions.insert(action.clone());
                }
                Some(Value::Sequence(list)) => {
                    for action in list {
                        let action = action.as_str().ok_or("an Action that is not text")?;
                        actions.insert(action.to_owned());
                    }
                }
                _ => return Err("a statement without Action".to_owned()),
            }
        }
    }
    Ok(actions)
}

/// A plain string, or `!Sub` whose only variable is `${AWS::StackName}`.
fn resolve_sub(value: &Value, stack_name: &str) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Tagged(tagged) if tagged.tag == "Sub" => tagged
            .value
            .as_str()
            .map(|text| text.replace("${AWS::StackName}", stack_name))
            .filter(|text| !text.contains("${")),
        _ => None,
    }
}

/// How often a schedule fires: `rate(5 minutes)`, `rate(1 hour)` ..., or a cron expression
/// firing every N minutes on the clock (`cron(0/5 * * * ? *)`).
fn parse_rate(expression: &str) -> Option<std::time::Duration> {
    if let Some(cron) = expression.strip_prefix("cron(0/") {
        let minutes: u64 = cron
            .strip_suffix(" * * * ? *)")?
            .parse()
            .ok()
            .filter(|n| (1..60).contains(n))?;
        return Some(std::time::Duration::from_secs(minutes * 60));
    }
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (amount, unit) = inner.split_once(' ')?;
    let amount: u64 = amount.parse().ok().filter(|n| *n > 0)?;
    let seconds = match unit {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(amount * seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const TEMPLATE: &str = r#"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Ref Something
      AttributeDefinitions:
        - { AttributeName: pk, AttributeType: S }
      KeySchema:
        - { AttributeName: pk, KeyType: HASH }
      TimeToLiveSpecification: { AttributeName: ttl, Enabled: true }
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: { Status: Enabled }
  Jobs:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: jobs
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action:
                - dynamodb:Query
                - dynamodb:PutItem
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: ses:SendEmail
              Resource: "*"
      Events:
        Tick:
          Type: Schedule
          Properties:
            Name: !Sub "${AWS::StackName}-checkin-reminder"
            Schedule: rate(5 minutes)
        Api:
          Type: HttpApi
"#;

    #[test]
    fn reads_table_bucket_and_schedules_through_cloudformation_tags() {
        let template = Template::parse(TEMPLATE, "roster-local").unwrap();
        assert_eq!(template.table.key_schema[0].attribute_name, "pk");
        assert_eq!(template.table.key_schema[0].key_type, "HASH");
        assert!(template.table.global_secondary_indexes.is_empty());
        assert_eq!(
            template.table.time_to_live_specification,
            Some(TimeToLive {
                attribute_name: "ttl".to_owned(),
                enabled: true
            })
        );
        assert_eq!(
            template.buckets,
            vec![BucketDefinition {
                logical_id: "Bucket".to_owned(),
                versioned: true
            }]
        );
        assert!(!template.has_email_identity);
        assert_eq!(
            template.schedules,
            vec![ScheduleDefinition {
                rule_name: "roster-local-checkin-reminder".to_owned(),
                every: Duration::from_secs(300),
            }]
        );
        assert_eq!(
            template.grants["jobs"],
            BTreeSet::from(
                ["dynamodb:PutItem", "dynamodb:Query", "ses:SendEmail"].map(String::from)
            )
        );
    }

    #[test]
    fn a_policy_it_cannot_read_is_refused_rather_than_taken_as_no_grant() {
        let managed = TEMPLATE.replace(
            "      Policies:\n        - Statement:",
            "      Policies:\n        - DynamoDBCrudPolicy: { TableName: t }\n        - Statement:",
        );
        let denied = TEMPLATE.replace(
            "Effect: Allow\n              Action: ses",
            "Effect: Deny\n              Action: ses",
        );
        for text in [managed, denied] {
            assert!(matches!(
                Template::parse(&text, "s"),
                Err(TemplateError::Invalid { .. })
            ));
        }
    }

    #[test]
    fn a_template_without_a_table_is_refused() {
        let error = Template::parse("Resources: {}", "s").unwrap_err();
        assert!(matches!(
            error,
            TemplateError::MissingResource("AWS::DynamoDB::Table")
        ));
    }

    #[test]
    fn rates_in_minutes_hours_and_days() {
        assert_eq!(parse_rate("rate(1 minute)"), Some(Duration::from_secs(60)));
        assert_eq!(parse_rate("rate(2 hours)"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_rate("rate(1 day)"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_rate("rate(0 minutes)"), None);
        assert_eq!(parse_rate("cron(0 18 * * ? *)"), None);
        assert_eq!(
            parse_rate("cron(0/15 * * * ? *)"),
            Some(Duration::from_secs(900)),
            "every 15 minutes on the clock"
        );
    }
}
