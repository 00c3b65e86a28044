//! The audit log of an organisation: newest first, expiring after the organisation's retention.

use roster_domain::{audit::AuditEntry, ids::OrganisationId};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError,
    cursor::PartitionList,
    keys,
    record::{Item, Record, body, s},
};

#[derive(Serialize, Deserialize)]
struct AuditItem {
    #[serde(flatten)]
    entry: AuditEntry,
    /// Flat copies for the list's filters.
    actor_id: Option<String>,
}

/// What the audit list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Entries whose action starts with this (`user.` matches every user action).
    pub action: Option<String>,
    pub actor: Option<String>,
    pub target: Option<String>,
}

pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// The stored form of `entry`, under a key of its own, kept `retention_days`.
pub(crate) fn audit_item(
    organisation: &OrganisationId,
    entry: &AuditEntry,
    retention_days: u32,
) -> Item {
    let actor_id = match &entry.actor {
        roster_domain::audit::Actor::User(id)
        | roster_domain::audit::Actor::Scim(id)
        | roster_domain::audit::Actor::Import(id)
        | roster_domain::audit::Actor::Job(id) => Some(id.clone()),
        _ => None,
    };
    let mut record = Record::new(
        keys::audit_entry(
            organisation,
            entry.at,
            &roster_domain::ids::UploadId::generate().to_string(),
        ),
        AuditItem {
            entry: entry.clone(),
            actor_id,
        },
    );
    record.ttl = Some(entry.at.timestamp() + i64::from(retention_days) * 86_400);
    record.item()
}

impl DynamoTable {
    /// Appends an entry, kept `retention_days`.
    pub async fn record_audit(
        &self,
        organisation: &OrganisationId,
        entry: &AuditEntry,
        retention_days: u32,
    ) -> Result<(), StoreError> {
        self.put(audit_item(organisation, entry, retention_days))
            .await
    }

    /// One page of entries, newest first (one `Query`; expired entries are skipped).
    pub async fn audit(
        &self,
        organisation: &OrganisationId,
        filter: &AuditFilter,
        now: chrono::DateTime<chrono::Utc>,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<AuditPage, StoreError> {
        let partition = keys::audit_partition(organisation);
        let mut query = self
            .client
            .query()
            .table_name(&self.name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(partition.clone()))
            .scan_index_forward(false)
            .limit(limit);
        let mut conditions = vec!["#ttl > :now"];
        query = query
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", crate::record::n(now.timestamp()));
        if let Some(action) = &filter.action {
            conditions.push("begins_with(#action, :action)");
            query = query
                .expression_attribute_names("#action", "action")
                .expression_attribute_values(":action", s(action.as_str()));
        }
        if let Some(actor) = &filter.actor {
            conditions.push("actor_id = :actor");
            query = query.expression_attribute_values(":actor", s(actor.as_str()));
        }
        if let Some(target) = &filter.target {
            conditions.push("#target = :target");
            query = query
                .expression_attribute_names("#target", "target")
                .expression_attribute_values(":target", s(target.as_str()));
        }
        query = query.filter_expression(conditions.join(" AND "));
        if let Some(cursor) = cursor {
            let list = PartitionList {
                pk: partition,
                prefix: String::new(),
            };
            query = query.set_exclusive_start_key(Some(list.start_after(cursor)?));
        }
        let output = query.send().await.map_err(StoreError::unavailable)?;
        let entries = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| body::<AuditItem>(item).map(|stored| stored.entry))
            .collect::<Result<_, _>>()?;
        let next_cursor = output
            .last_evaluated_key
            .as_ref()
            .and_then(PartitionList::cursor_after);
        Ok(AuditPage {
            entries,
            next_cursor,
        })
    }
}
