//! User-list imports: the import record (options, progress, outcome), its report in chunks, the
//! organisation's saved column mapping, and the key lookups that match rows to people.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};
use roster_domain::{
    ids::{AccountId, ImportId, OrganisationId, UserId},
    import::{ColumnMapping, ExplicitMapping, Mode},
    membership::Membership,
};
use serde::{Deserialize, Serialize};

use crate::{
    Account, DynamoTable, StoreError,
    cursor::IndexList,
    keys,
    members::MembershipItem,
    record::{Item, Record, Sentinel, body, key_item, n, s, text},
    transaction::Condition,
};

/// How long an import and its report are kept.
const IMPORT_RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(90);

/// An import's place in its organisation's list (`gsi1sk`): creation time, then id.
fn import_list_position(created_at: DateTime<Utc>) -> String {
    created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Announced by an administrator; the file has not arrived.
    Pending,
    Running,
    Done,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportSource {
    /// `POST /v1/admin/imports`, then a presigned upload.
    Upload,
    /// The daily sync drop.
    Sync,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deactivated: u64,
    pub errors: u64,
}

impl ImportCounts {
    pub fn count(&mut self, status: RowStatus) {
        match status {
            RowStatus::Created => self.created += 1,
            RowStatus::Updated => self.updated += 1,
            RowStatus::Unchanged => self.unchanged += 1,
            RowStatus::Deactivated => self.deactivated += 1,
            RowStatus::Error => self.errors += 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Created,
    Updated,
    Unchanged,
    Deactivated,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// What happened to one row of the file (`row` counts the rows after the header from 1, blank
/// ones included, as a spreadsheet shows them), or to a user missing from a `replace` file
/// (`row: None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowReport {
    pub row: Option<u64>,
    pub status: RowStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Always present (empty when the row went through), as DESIGN.md's report shape has it.
    #[serde(default)]
    pub errors: Vec<RowError>,
}

/// Why a whole import stopped before writing anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFailure {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub errors: Vec<RowError>,
}

/// An import: its options, how far it got, and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRecord {
    pub id: ImportId,
    pub organisation_id: OrganisationId,
    pub source: ImportSource,
    pub mode: Mode,
    pub dry_run: bool,
    /// Deactivate beyond the organisation's threshold.
    pub force: bool,
    /// Send new people an invitation.
    pub invite: bool,
    /// The administrator's explicit column mapping, if any.
    pub mapping: Option<ExplicitMapping>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<UserId>,
    pub file_key: Option<String>,
    pub status: ImportStatus,
    /// The invocation working on the import, and until when (epoch ms) its claim holds.
    pub holder: Option<String>,
    pub lease_until: Option<i64>,
    /// Rows of the file applied so far, and report chunks written for them.
    pub rows_applied: u64,
    pub report_chunks: u32,
    pub deactivation_done: bool,
    /// The people a `replace` is deactivating in the chunk it works on, saved before that
    /// chunk's writes and cleared with its report: whom a run cut off in between deactivated is
    /// reported by the next delivery, which resumes the import or ends it failed (they are no
    /// longer among the active people a run lists).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deactivating: Vec<UserId>,
    pub counts: ImportCounts,
    pub rows_total: Option<u64>,
    pub columns: Option<ColumnMapping>,
    pub failure: Option<ImportFailure>,
    pub error_report_key: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Claims so far: each delivery that worked on the import counts one.
    #[serde(default)]
    pub attempts: u32,
    /// The version of the file the import reads, fixed at its first claim.
    #[serde(default)]
    pub file_version: Option<String>,
}

/// A page of an organisation's imports, newest first.
pub struct ImportPage {
    pub imports: Vec<ImportRecord>,
    pub next_cursor: Option<String>,
}

impl ImportRecord {
    /// A new import, pending until its file is claimed.
    pub fn new(
        id: ImportId,
        organisation: OrganisationId,
        source: ImportSource,
        mode: Mode,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            organisation_id: organisation,
            source,
            mode,
            dry_run: false,
            force: false,
            invite: false,
            mapping: None,
            created_at,
            created_by: None,
            file_key: None,
            status: ImportStatus::Pending,
            holder: None,
            lease_until: None,
            rows_applied: 0,
            report_chunks: 0,
            deactivation_done: false,
            deactivating: Vec::new(),
            counts: ImportCounts::default(),
            rows_total: None,
            columns: None,
            failure: None,
            error_report_key: None,
            finished_at: None,
            attempts: 0,
            file_version: None,
        }
    }

    /// When DynamoDB may delete the import and its report (their TTL, epoch seconds).
    fn kept_until(&self) -> i64 {
        (self.created_at + IMPORT_RETENTION).timestamp()
    }

    /// Whether the import is still kept at `now` (the list's key condition says the same).
    pub fn kept_at(&self, now: DateTime<Utc>) -> bool {
        self.created_at >= now - IMPORT_RETENTION
    }

    fn record(&self) -> Record<&ImportRecord> {
        let mut record = Record::new(keys::import(&self.organisation_id, &self.id), self);
        record.gsi1pk = Some(keys::imports_of(&self.organisation_id));
        record.gsi1sk = Some(format!(
            "{}#{}",
            import_list_position(self.created_at),
            self.id
        ));
        record.ttl = Some(self.kept_until());
        record
    }
}

/// A way a row names a person, in the order rows are matched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MatchKey {
    /// Normalised email.
    Email(String),
    ExternalId(String),
    /// Normalised username.
    Username(String),
}

/// What the lookups of a chunk of rows found.
#[derive(Default)]
pub struct Matches {
    /// The organisation's people, by each key that names them.
    pub members: HashMap<MatchKey, Membership>,
    /// Accounts of emails that exist in Roster (members here or not), by normalised email.
    pub accounts: HashMap<String, Account>,
}

impl DynamoTable {
    /// Stores a new import; an existing one with the same id is left as it is (`Ok(false)`).
    pub async fn create_import(&self, import: &ImportRecord) -> Result<bool, StoreError> {
        self.put_if(import.record().item(), Condition::absent())
            .await
    }

    /// Claims an import for `holder` until `lease_until` (epoch ms): a pending one, one running
    /// under the same holder (a retried invocation), or one whose holder's lease ran out (a run
    /// cut off). Answers the claimed record, or `None` when it is finished or held by another.
    pub async fn claim_import(
        &self,
        organisation: &OrganisationId,
        import: &ImportId,
        holder: &str,
        now_ms: i64,
        lease_until: i64,
    ) -> Result<Option<ImportRecord>, StoreError> {
        let key = keys::import(organisation, import);
        let claimed = self
            .client
            .update_item()
            .table_name(&self.name)
            .key("pk", s(key.pk))
            .key("sk", s(key.sk))
            .update_expression(
                "SET #status = :running, holder = :holder, lease_until = :lease, \
                 attempts = if_not_exists(attempts, :zero) + :one",
            )
            .condition_expression(
                "attribute_exists(pk) AND (#status = :pending OR (#status = :running AND \
                 (holder = :holder OR lease_until < :now)))",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":running", s("running"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":holder", s(holder))
            .expression_attribute_values(":lease", n(lease_until))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        crate::conditional(claimed)?
            .map(|output| body(output.attributes.unwrap_or_default()))
            .transpose()
    }

    /// Saves the import's progress or outcome, as long as `import.holder` still holds it
    /// (`Stale` when another invocation took it over).
    pub async fn save_import(&self, import: &ImportRecord) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(import.record().item()));
        put = match &import.holder {
            Some(holder) => put
                .condition_expression("holder = :holder")
                .expression_attribute_values(":holder", s(holder.as_str())),
            None => put.condition_expression("attribute_exists(pk)"),
        };
        crate::conditional(put.send().await)?
            .map(|_| ())
            .ok_or(StoreError::Stale)
    }

    /// Writes (or rewrites, when a run is resumed) one chunk of an import's report.
    pub async fn put_import_rows(
        &self,
        import: &ImportRecord,
        chunk: u32,
        rows: &[RowReport],
    ) -> Result<(), StoreError> {
        #[derive(Serialize)]
        struct Chunk<'a> {
            rows: &'a [RowReport],
        }
        let mut record = Record::new(
            keys::import_rows(&import.organisation_id, &import.id, chunk),
            Chunk { rows },
        );
        record.ttl = Some(import.kept_until());
        self.put(record.item()).await
    }

    /// An import, unless it is past its retention at `now` (TTL deletion is lazy).
    pub async fn import(
        &self,
        organisation: &OrganisationId,
        import: &ImportId,
        now: DateTime<Utc>,
    ) -> Result<Option<ImportRecord>, StoreError> {
        let found: Option<ImportRecord> = self
            .get(&keys::import(organisation, import), true)
            .await?
            .map(body)
            .transpose()?;
        Ok(found.filter(|import| import.kept_at(now)))
    }

    /// Up to `chunks` report chunks from chunk `from` on (one `Query`), with the number of the
    /// chunk after the last one read when more may follow.
    pub async fn import_rows(
        &self,
        organisation: &OrganisationId,
        import: &ImportId,
        from: u32,
        chunks: i32,
    ) -> Result<(Vec<RowReport>, Option<u32>), StoreError> {
        #[derive(Deserialize)]
        struct Chunk {
            rows: Vec<RowReport>,
        }
        let first = keys::import_rows(organisation, import, from);
        let output = self
            .client
            .query()
            .table_name(&self.name)
            .key_condition_expression("pk = :pk AND sk BETWEEN :first AND :last")
            .expression_attribute_values(":pk", s(first.pk))
            .expression_attribute_values(":first", s(first.sk))
            .expression_attribute_values(":last", s(keys::IMPORT_ROWS_LAST))
            .limit(chunks)
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        let items = output.items.unwrap_or_default();
        let read = items.len() as u32;
        let mut rows = Vec::new();
        for item in items {
            rows.extend(body::<Chunk>(item)?.rows);
        }
        let next = output.last_evaluated_key.map(|_| from + read);
        Ok((rows, next))
    }

    /// A page of the organisation's imports, newest first, from `cursor` on (one `Query`;
    /// imports past their retention at `now` are outside its key condition, so no page is
    /// spent on them; the page that ends the list has no cursor).
    pub async fn list_imports(
        &self,
        organisation: &OrganisationId,
        now: DateTime<Utc>,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<ImportPage, StoreError> {
        let list = IndexList {
            index: "gsi1",
            partition: keys::imports_of(organisation),
            pk_prefix: keys::import_partitions_of(organisation),
            sk: keys::IMPORT_SK,
        };
        let kept_from = import_list_position(now - IMPORT_RETENTION);
        let start = cursor.map(|c| list.start_after(c)).transpose()?;
        let aged_out = start
            .as_ref()
            .and_then(|start| start.get("gsi1sk")?.as_s().ok())
            .is_some_and(|position| *position < kept_from);
        if aged_out {
            // The page before ended on an import now past its retention: none is left after it,
            // and DynamoDB refuses to start outside the key condition.
            return Ok(ImportPage {
                imports: vec![],
                next_cursor: None,
            });
        }
        let query = self
            .client
            .query()
            .table_name(&self.name)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :imports AND gsi1sk >= :kept_from")
            .expression_attribute_values(":imports", s(list.partition.as_str()))
            .expression_attribute_values(":kept_from", s(kept_from))
            .scan_index_forward(false)
            .set_exclusive_start_key(start);
        let (items, last) = self.limited_page(query, limit).await?;
        Ok(ImportPage {
            imports: items.into_iter().map(body).collect::<Result<_, _>>()?,
            next_cursor: last.as_ref().map(|key| list.cursor_after(key)),
        })
    }

    pub async fn save_import_mapping(
        &self,
        organisation: &OrganisationId,
        mapping: &ExplicitMapping,
    ) -> Result<(), StoreError> {
        #[derive(Serialize)]
        struct Saved<'a> {
            mapping: &'a ExplicitMapping,
        }
        self.put(Record::new(keys::import_mapping(organisation), Saved { mapping }).item())
            .await
    }

    pub async fn import_mapping(
        &self,
        organisation: &OrganisationId,
    ) -> Result<ExplicitMapping, StoreError> {
        #[derive(Deserialize)]
        struct Saved {
            mapping: ExplicitMapping,
        }
        Ok(self
            .get(&keys::import_mapping(organisation), true)
            .await?
            .map(body::<Saved>)
            .transpose()?
            .map(|saved| saved.mapping)
            .unwrap_or_default())
    }

    /// Makes `import` the newest sync drop of `organisation` unless one that came later (a
    /// greater `order`) already is; answers whether `import` holds the turn, also when it did
    /// already (a redelivered event). One conditional `UpdateItem`.
    pub async fn take_sync_turn(
        &self,
        organisation: &OrganisationId,
        import: &ImportId,
        order: &str,
    ) -> Result<bool, StoreError> {
        let taken = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_item(&keys::sync_turn(organisation))))
            .update_expression("SET #import = :import, #order = :order")
            .condition_expression(
                "attribute_not_exists(pk) OR #order < :order OR #import = :import",
            )
            .expression_attribute_names("#import", "import")
            .expression_attribute_names("#order", "order")
            .expression_attribute_values(":import", s(import.as_str()))
            .expression_attribute_values(":order", s(order))
            .send()
            .await;
        Ok(crate::conditional(taken)?.is_some())
    }

    /// Whether `import` still holds the sync turn of `organisation` (no later drop arrived).
    pub async fn holds_sync_turn(
        &self,
        organisation: &OrganisationId,
        import: &ImportId,
    ) -> Result<bool, StoreError> {
        #[derive(Deserialize)]
        struct Turn {
            import: ImportId,
        }
        Ok(self
            .get(&keys::sync_turn(organisation), true)
            .await?
            .map(body::<Turn>)
            .transpose()?
            .is_some_and(|turn| &turn.import == import))
    }

    /// The people of `organisation` that `wanted` name, and the accounts of the emails among
    /// them: three `BatchGetItem` rounds (sentinels; accounts and memberships; memberships of
    /// accounts), whatever the number of keys.
    pub async fn members_matching(
        &self,
        organisation: &OrganisationId,
        wanted: &[MatchKey],
    ) -> Result<Matches, StoreError> {
        let sentinel_key = |key: &MatchKey| match key {
            MatchKey::Email(email) => keys::email_sentinel(email),
            MatchKey::ExternalId(id) => keys::external_id_sentinel(organisation, id),
            MatchKey::Username(name) => keys::username_sentinel(organisation, name),
        };
        let mut sentinel_keys: Vec<keys::Key> = wanted.iter().map(sentinel_key).collect();
        // BatchGetItem refuses a request that names a key twice.
        sentinel_keys.sort_by(|a, b| (&a.pk, &a.sk).cmp(&(&b.pk, &b.sk)));
        sentinel_keys.dedup();
        let mut owners: HashMap<(String, String), String> = HashMap::new();
        for item in self.batch_get(&sentinel_keys).await? {
            let (pk, sk) = item_key(&item);
            let sentinel: Sentinel = body(item)?;
            owners.insert((pk, sk), sentinel.owner);
        }
        let owner_of = |key: &MatchKey| {
            let k = sentinel_key(key);
            owners.get(&(k.pk, k.sk)).cloned()
        };

        let mut account_ids = Vec::new();
        let mut user_ids = Vec::new();
        for key in wanted {
            let Some(owner) = owner_of(key) else { continue };
            match key {
                MatchKey::Email(_) => account_ids.push(parse_id::<AccountId>(&owner)?),
                _ => user_ids.push(parse_id::<UserId>(&owner)?),
            }
        }
        let mut second: Vec<keys::Key> = account_ids.iter().map(keys::account).collect();
        second.extend(user_ids.iter().map(|u| keys::membership(organisation, u)));
        second.sort_by(|a, b| (&a.pk, &a.sk).cmp(&(&b.pk, &b.sk)));
        second.dedup();
        let mut accounts_by_id: HashMap<AccountId, Account> = HashMap::new();
        let mut members_by_id: HashMap<UserId, Membership> = HashMap::new();
        for item in self.batch_get(&second).await? {
            let (_, sk) = item_key(&item);
            if sk == "ACCOUNT" {
                let account: Account = body(item)?;
                accounts_by_id.insert(account.id.clone(), account);
            } else {
                let membership = body::<MembershipItem>(item)?.membership;
                members_by_id.insert(membership.id.clone(), membership);
            }
        }

        let mut third: Vec<keys::Key> = accounts_by_id
            .values()
            .filter_map(|a| a.memberships.get(organisation))
            .filter(|u| !members_by_id.contains_key(*u))
            .map(|u| keys::membership(organisation, u))
            .collect();
        third.sort_by(|a, b| (&a.pk, &a.sk).cmp(&(&b.pk, &b.sk)));
        third.dedup();
        for item in self.batch_get(&third).await? {
            let membership = body::<MembershipItem>(item)?.membership;
            members_by_id.insert(membership.id.clone(), membership);
        }

        let mut matches = Matches::default();
        for key in wanted {
            let Some(owner) = owner_of(key) else { continue };
            let member = match key {
                MatchKey::Email(email) => {
                    let account = accounts_by_id.get(&parse_id::<AccountId>(&owner)?);
                    if let Some(account) = account {
                        matches.accounts.insert(email.clone(), account.clone());
                    }
                    account
                        .and_then(|a| a.memberships.get(organisation))
                        .and_then(|u| members_by_id.get(u))
                }
                _ => members_by_id.get(&parse_id::<UserId>(&owner)?),
            };
            if let Some(member) = member {
                matches.members.insert(key.clone(), member.clone());
            }
        }
        Ok(matches)
    }
}

fn item_key(item: &Item) -> (String, String) {
    let part = |name: &str| text(item, name).unwrap_or_default().to_owned();
    (part("pk"), part("sk"))
}

fn parse_id<T: for<'a> TryFrom<&'a str, Error = roster_domain::ids::InvalidId>>(
    value: &str,
) -> Result<T, StoreError> {
    T::try_from(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}
