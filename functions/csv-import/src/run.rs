//! One import run over a local copy of its file.
//!
//! 1. Plan (reads only): every row is checked and matched (email, then external id, then
//!    username); the row limit, the mandatory columns and, for `replace`, the deactivation
//!    threshold are decided here, so an import that must stop stops before writing anything.
//!    A dry run ends here with its report.
//! 2. Apply, in chunks of rows: creates and updates, then the chunk's report and the progress
//!    (rows applied) are saved. A run cut off resumes after the last saved chunk; rows of a chunk
//!    that was written but not saved match the people they created and are reported as before.
//! 3. For `replace`, deactivate the active users the file does not name. Kept: people an
//!    identity provider (SCIM, SSO) manages, Admins (an HR list that lacks the organisation's
//!    administrators must not lock them out), the import's author, anyone this import wrote,
//!    and, in an upload by User Management, the other User Managers (only an Admin reaches
//!    those who administer, whose rows are refused `not_permitted` as well). In chunks, each
//!    saved as `deactivating` before its writes: whom a run cut off in one had deactivated is
//!    reported by the next delivery, whether it resumes the import or ends it failed.
//! 4. Write the rows that failed, with their errors, as a CSV next to the report.

use std::{
    collections::{BTreeSet, HashSet, VecDeque},
    hash::{DefaultHasher, Hash, Hasher},
    path::Path,
};

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use roster_domain::{
    ids::{ImportId, UserId},
    import::{
        Column, ColumnMapping, ImportedRow, Mode, managed_by_identity_provider, neutralise_formula,
        within_deactivation_threshold,
    },
    membership::{InvitationStatus, Membership, Role, RoleGrant, Status},
    organisation::Organisation,
    permissions::{can_manage, is_admin},
    session::{new_secret, secret_hash},
    validation::ValidationErrors,
};
use roster_store::{
    Account, DynamoTable, ImportFailure, ImportRecord, ImportSource, ImportStatus, Invitation,
    MatchKey, RowError, RowReport, RowStatus, StoreError, Uniqueness, UserFilter,
};

use roster_notify::{
    SesMailer,
    templates::{INVITATION_LIFETIME, Notice, invitation_link},
};

use roster_import_file::{FileError, MAX_COLUMNS, Row, Rows};

/// Rows looked up together (three `BatchGetItem`s) and reported as one chunk.
const CHUNK_ROWS: usize = 25;
/// Writes (transactions) in flight at once: a whole chunk.
const WRITES_IN_FLIGHT: usize = CHUNK_ROWS;
/// Users read per page when looking for people missing from a `replace` file.
const USER_PAGE: i32 = 500;
/// Writes a `replace` tries on one person who keeps changing before it gives the run up to
/// its redelivery.
const DEACTIVATION_TRIES: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The table failed; the run stops where it is and the next delivery resumes it.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    File(#[from] FileError),
    #[error("writing the error report: {0}")]
    Report(String),
    /// A later sync drop of the organisation arrived: this one stops before its next write.
    #[error("a later sync file took over")]
    Superseded,
}

/// What stopped an import: before it wrote anything, or (`superseded`) before its next write.
struct Stop(ImportFailure);

/// How much of a failure's message the import record keeps: a file's errors can quote the file's
/// own text (a malformed tag's name, say) at any length, and the record must stay well within
/// DynamoDB's 400 KB item.
const MAX_FAILURE_MESSAGE: usize = 500;

impl Stop {
    fn new(code: &str, message: impl Into<String>) -> Self {
        let mut message: String = message.into();
        if message.chars().count() > MAX_FAILURE_MESSAGE {
            let (cut, _) = message
                .char_indices()
                .nth(MAX_FAILURE_MESSAGE - 1)
                .unwrap_or_default();
            message.truncate(cut);
            message.push('…');
        }
        Self(ImportFailure {
            code: code.to_owned(),
            message,
            errors: vec![],
        })
    }
}

/// What a file error means for the run: the local copy failing to read is the run's (the next
/// delivery tries again); anything else is the file's, and the import stops.
fn stop_for(error: FileError) -> Result<Stop, RunError> {
    match error {
        FileError::Io(error) => Err(FileError::Io(error).into()),
        error => Ok(Stop::new(error.code(), error.to_string())),
    }
}

fn row_errors(errors: ValidationErrors) -> Vec<RowError> {
    errors
        .0
        .into_iter()
        .map(|e| RowError {
            field: e.field,
            code: e.code.to_owned(),
            message: e.message,
        })
        .collect()
}

fn row_error(field: &str, code: &str, message: &str) -> Vec<RowError> {
    vec![RowError {
        field: field.to_owned(),
        code: code.to_owned(),
        message: message.to_owned(),
    }]
}

/// What a row will do.
enum Planned {
    Refused(Vec<RowError>),
    Create {
        row: Box<ImportedRow>,
        account: Option<Box<Account>>,
    },
    Update {
        before: Box<Membership>,
        after: Box<Membership>,
    },
    Unchanged(Box<Membership>),
}

struct PlannedRow {
    number: u64,
    planned: Planned,
    /// The existing people the row's keys name, if its fields are valid (whatever was decided).
    named: Vec<UserId>,
}

/// The keys a row names its person by, in matching order, with the column of each.
fn match_keys(row: &ImportedRow) -> Vec<(&'static str, MatchKey)> {
    let mut keys = Vec::new();
    if let Some(email) = &row.email {
        keys.push(("email", MatchKey::Email(email.normalised().to_owned())));
    }
    if let Some(id) = &row.external_id {
        keys.push(("external_id", MatchKey::ExternalId(id.clone())));
    }
    if let Some(name) = &row.username {
        keys.push(("username", MatchKey::Username(name.normalised().to_owned())));
    }
    keys
}

/// An 8-byte stand-in for a key or id in the sets a run keeps (a collision only keeps one more
/// person active, never deactivates one).
fn hash64<T: Hash>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The keys a row's identifier cells name, read even when other cells of the row fail.
fn identifier_keys(cells: &[String], mapping: &ColumnMapping) -> Vec<MatchKey> {
    ImportedRow::raw_identifiers(cells, mapping)
        .into_iter()
        .map(|(column, value)| match column {
            Column::Email => MatchKey::Email(value),
            Column::Username => MatchKey::Username(value),
            _ => MatchKey::ExternalId(value),
        })
        .collect()
}

/// A row read for planning: its number, identifier keys and parse outcome.
type ChunkRow = (u64, Vec<MatchKey>, Result<ImportedRow, ValidationErrors>);

/// How much of a header the import record shows.
const MAX_HEADER_SHOWN: usize = 100;

/// What the planning pass learnt.
struct Plan {
    rows: u64,
    /// Rows naming a person an earlier row with valid fields already named: by the same key
    /// (tracked for a dry run only; a real run finds a person a row created by
    /// `last_import_row`), or an existing person, whatever became of the earlier row (one that
    /// changed nothing or was refused writes nothing for `last_import_row` to show).
    duplicates: BTreeSet<u64>,
    /// Existing people the file names (kept by `replace`), as hashes of their ids: 8 bytes each.
    named: HashSet<u64>,
    /// Each row's outcome, kept for a dry run only.
    reports: Vec<RowReport>,
}

/// How an import invites the people it creates.
#[derive(Clone)]
pub struct Invitations {
    pub mailer: SesMailer,
    /// The web app the invitation link opens.
    pub app_url: String,
}

pub struct Run<'a> {
    pub table: &'a DynamoTable,
    pub invitations: &'a Invitations,
    pub s3: &'a aws_sdk_s3::Client,
    pub organisation: Organisation,
    pub record: ImportRecord,
    pub bucket: String,
    pub file_name: String,
    pub now: DateTime<Utc>,
    /// Where the file stands among the organisation's sync drops (used by sync drops only).
    pub sync_order: &'a str,
    /// The roles the uploading administrator holds now (none once they left or were
    /// deactivated); `None` for the organisation's sync drop, which reaches everyone.
    pub author_roles: Option<Vec<RoleGrant>>,
}

impl Run<'_> {
    /// Whether the import may change `member`: as its author may (only an Admin reaches those who
    /// administer; see `can_manage`).
    fn reaches(&self, member: &Membership) -> bool {
        self.author_roles.as_ref().is_none_or(|author| {
            can_manage(
                author,
                &member.roles_in(&self.organisation),
                &member.sites_in(&self.organisation),
            )
        })
    }

    /// `planned`, for someone the author may not change: unchanged when it would only take their
    /// attributes over for the file (their values are the file's already), else refused.
    fn within_reach(&self, planned: Planned) -> Planned {
        match planned {
            Planned::Update { before, after } if !self.reaches(&before) => {
                let owners_only = Membership {
                    profile: roster_domain::profile::Profile {
                        managed_by: before.profile.managed_by.clone(),
                        ..after.profile.clone()
                    },
                    version: before.version,
                    ..(*after).clone()
                };
                if owners_only == *before {
                    Planned::Unchanged(before)
                } else {
                    Planned::Refused(row_error(
                        "email",
                        "not_permitted",
                        "this person administers the organisation; only an Admin's import changes them",
                    ))
                }
            }
            planned => planned,
        }
    }

    /// Runs (or resumes) the import; answers its final record, already saved.
    pub async fn execute(mut self, path: &Path) -> Result<ImportRecord, RunError> {
        let stopped = match self.prepare(path).await? {
            Ok((_, plan)) if self.record.dry_run => {
                self.finish_dry_run(plan).await?;
                None
            }
            Ok(_) if !self.take_sync_turn().await? => Some(superseded(self.record.rows_applied)),
            Ok((mapping, plan)) => match self.apply_everything(path, &mapping, &plan).await {
                Err(RunError::Superseded) => Some(superseded(self.record.rows_applied)),
                applied => {
                    applied?;
                    None
                }
            },
            Err(stop) => Some(stop),
        };
        if let Some(Stop(failure)) = stopped {
            tracing::warn!(import = %self.record.id, code = %failure.code, "import stopped");
            report_cut_off_deactivations(self.table, &mut self.record).await?;
            self.record.status = ImportStatus::Failed;
            self.record.failure = Some(failure);
            self.record.finished_at = Some(self.now);
            self.table.save_import(&self.record).await?;
        }
        Ok(self.record)
    }

    /// Applies the rows, deactivates whom a `replace` leaves out, and finishes the import.
    async fn apply_everything(
        &mut self,
        path: &Path,
        mapping: &ColumnMapping,
        plan: &Plan,
    ) -> Result<(), RunError> {
        self.apply(path, mapping, &plan.duplicates).await?;
        if self.record.mode == Mode::Replace && !self.record.deactivation_done {
            self.deactivate_missing(&plan.named).await?;
        }
        self.write_error_report(path).await?;
        self.record.status = ImportStatus::Done;
        self.record.finished_at = Some(self.now);
        self.table.save_import(&self.record).await?;
        Ok(())
    }

    /// Whether the import may write: any import but a sync drop, and a sync drop that becomes
    /// (or already was) the organisation's newest. Taken once the file passed every check that
    /// stops an import before it writes, so a broken or refused later file does not cut a good
    /// run short.
    async fn take_sync_turn(&self) -> Result<bool, StoreError> {
        if self.record.source != ImportSource::Sync {
            return Ok(true);
        }
        self.table
            .take_sync_turn(&self.organisation.id, &self.record.id, self.sync_order)
            .await
    }

    /// `Err(Superseded)` when this is a sync drop and a later one of the organisation arrived:
    /// checked before each chunk's writes, so a late file never overwrites a newer one's rows.
    async fn still_newest(&self) -> Result<(), RunError> {
        if self.record.source != ImportSource::Sync {
            return Ok(());
        }
        let holds = self
            .table
            .holds_sync_turn(&self.organisation.id, &self.record.id)
            .await?;
        if holds {
            Ok(())
        } else {
            Err(RunError::Superseded)
        }
    }

    /// Opens the file, maps its columns and plans every row; `Err(Stop)` when the import must
    /// not write anything.
    async fn prepare(
        &mut self,
        path: &Path,
    ) -> Result<Result<(ColumnMapping, Plan), Stop>, RunError> {
        let rows = match Rows::open(path, &self.file_name) {
            Ok(rows) => rows,
            Err(error) => return stop_for(error).map(Err),
        };
        if rows.headers.len() > MAX_COLUMNS {
            return Ok(Err(Stop::new(
                "too_many_columns",
                format!(
                    "the header has {} columns; at most {MAX_COLUMNS} are read (a quote in the header \
                     that a later line closes joins the lines between into it)",
                    rows.headers.len()
                ),
            )));
        }
        // The organisation's saved mapping is frozen into the import at its first attempt, so a
        // resumed run reads the rest of the file as the first attempt did.
        let explicit = match &self.record.mapping {
            Some(mapping) => mapping.clone(),
            None => {
                let saved = self.table.import_mapping(&self.organisation.id).await?;
                self.record.mapping = Some(saved.clone());
                saved
            }
        };
        let mapping = ColumnMapping::detect(&rows.headers, &explicit);
        let mut shown = mapping.clone();
        for column in &mut shown.columns {
            column.header = column.header.chars().take(MAX_HEADER_SHOWN).collect();
        }
        self.record.columns = Some(shown);
        // Once rows were applied, the checks that stop an import before it writes are behind it.
        let resumed = self.record.rows_applied > 0 && !self.record.dry_run;
        if let Err(errors) = mapping.missing_columns() {
            let mut stop = Stop::new(
                "missing_columns",
                "the file lacks mandatory columns; name them in the header or give a mapping",
            );
            stop.0.errors = row_errors(errors);
            return Ok(Err(stop));
        }
        let plan = match self.plan(rows, &mapping, resumed).await? {
            Ok(plan) => plan,
            Err(stop) => return Ok(Err(stop)),
        };
        self.record.rows_total = Some(plan.rows);
        if self.record.mode == Mode::Replace && !self.record.deactivation_done && !resumed {
            let (candidates, missing) = self.missing_members(&plan.named).await?;
            let threshold = self
                .organisation
                .settings
                .import_deactivation_threshold_percent;
            if !self.record.force
                && !within_deactivation_threshold(missing.len(), candidates, threshold)
            {
                return Ok(Err(Stop::new(
                    "deactivation_threshold",
                    format!(
                        "the file would deactivate {} of {candidates} active users an import may \
                         deactivate, more than the organisation's threshold of {threshold} %; \
                         nothing was changed (force the import to go ahead)",
                        missing.len()
                    ),
                )));
            }
        }
        Ok(Ok((mapping, plan)))
    }

    /// The planning pass: reads every row, writes nothing.
    async fn plan(
        &self,
        rows: Rows,
        mapping: &ColumnMapping,
        resumed: bool,
    ) -> Result<Result<Plan, Stop>, RunError> {
        let limit = match self.record.source {
            ImportSource::Upload if !resumed => {
                Some(u64::from(self.organisation.settings.import_row_limit))
            }
            _ => None,
        };
        let mut plan = Plan {
            rows: 0,
            duplicates: BTreeSet::new(),
            named: HashSet::new(),
            reports: Vec::new(),
        };
        let mut seen: HashSet<u64> = HashSet::new();
        // Existing people a row with valid fields named, as hashes of their ids.
        let mut named_by_rows: HashSet<u64> = HashSet::new();
        let dry_run = self.record.dry_run;
        let mut chunk = Vec::with_capacity(CHUNK_ROWS);
        let mut rows = rows.peekable();
        while let Some(row) = rows.next() {
            plan.rows += 1;
            if limit.is_some_and(|limit| plan.rows > limit) {
                return Ok(Err(Stop::new(
                    "too_many_rows",
                    format!(
                        "an upload may hold at most {} rows; split the file",
                        limit.unwrap_or_default()
                    ),
                )));
            }
            let Row { number, cells } = match row {
                Ok(row) => row,
                Err(error) => return stop_for(error).map(Err),
            };
            let parsed = ImportedRow::parse(&cells, mapping);
            let identifiers = identifier_keys(&cells, mapping);
            if let (true, Ok(row)) = (dry_run, &parsed) {
                let keys = match_keys(row);
                if keys.iter().any(|(_, k)| seen.contains(&hash64(k))) {
                    plan.duplicates.insert(number);
                }
                seen.extend(keys.iter().map(|(_, k)| hash64(k)));
            }
            chunk.push((number, identifiers, parsed));
            if chunk.len() == CHUNK_ROWS || rows.peek().is_none() {
                let (planned, named) = self
                    .plan_chunk(std::mem::take(&mut chunk), &plan.duplicates)
                    .await?;
                plan.named.extend(named.iter().map(hash64));
                for mut planned in planned {
                    let ids: Vec<u64> = planned.named.iter().map(hash64).collect();
                    if ids.iter().any(|id| named_by_rows.contains(id)) {
                        plan.duplicates.insert(planned.number);
                        planned.planned = duplicate();
                    }
                    named_by_rows.extend(ids);
                    if self.record.dry_run {
                        plan.reports.push(dry_report(planned));
                    }
                }
            }
        }
        Ok(Ok(plan))
    }

    /// Matches a chunk of parsed rows to people (three batched reads) and decides each row. A
    /// row that names a person an earlier row named is refused: earlier in the chunk, in
    /// `duplicates`, or written by this import from another row.
    /// Also answers every existing person the chunk's rows name, refused rows included (a
    /// `replace` keeps them: a typo in Jan's title must not deactivate Jan).
    async fn plan_chunk(
        &self,
        rows: Vec<ChunkRow>,
        duplicates: &BTreeSet<u64>,
    ) -> Result<(Vec<PlannedRow>, Vec<UserId>), StoreError> {
        let mut in_chunk = HashSet::new();
        let wanted: Vec<MatchKey> = rows
            .iter()
            .flat_map(|(_, identifiers, _)| identifiers.iter().cloned())
            .collect();
        let mut matches = self
            .table
            .members_matching(&self.organisation.id, &wanted)
            .await?;
        // Attributes SCIM owns that the organisation no longer takes are the import's to write.
        let takes = &self.organisation.settings.scim_attributes;
        for member in matches.members.values_mut() {
            takes.release_in(&mut member.profile);
        }
        let named: Vec<UserId> = wanted
            .iter()
            .filter_map(|key| matches.members.get(key))
            .map(|member| member.id.clone())
            .collect();
        let planned = rows
            .into_iter()
            .map(|(number, _, parsed)| {
                let repeated = parsed.as_ref().is_ok_and(|row| {
                    let keys = match_keys(row);
                    let repeated = keys.iter().any(|(_, k)| in_chunk.contains(k));
                    in_chunk.extend(keys.into_iter().map(|(_, k)| k));
                    repeated
                });
                let named: Vec<UserId> = parsed.as_ref().map_or_else(
                    |_| Vec::new(),
                    |row| {
                        match_keys(row)
                            .iter()
                            .filter_map(|(_, key)| matches.members.get(key))
                            .map(|member| member.id.clone())
                            .collect()
                    },
                );
                let planned = match parsed {
                    Err(errors) => Planned::Refused(row_errors(errors)),
                    Ok(_) if repeated || duplicates.contains(&number) => duplicate(),
                    Ok(row) => self.within_reach(decide(row, number, &matches, &self.record.id)),
                };
                PlannedRow {
                    number,
                    planned,
                    named,
                }
            })
            .collect();
        Ok((planned, named))
    }

    /// Whether a `replace` keeps `member` whether or not its file names them: those an identity
    /// provider provisions, Admins, the import's author, and whom the author may not manage.
    fn keeps(&self, member: &Membership) -> bool {
        managed_by_identity_provider(member)
            || is_admin(&member.roles)
            || self.record.created_by.as_ref() == Some(&member.id)
            || !self.reaches(member)
    }

    /// How many active users an import may deactivate, and those of them a `replace` does
    /// deactivate (the ones the file does not name).
    async fn missing_members(
        &self,
        named: &HashSet<u64>,
    ) -> Result<(usize, Vec<Membership>), StoreError> {
        let filter = UserFilter {
            status: Some("active".to_owned()),
            ..UserFilter::default()
        };
        let (mut candidates, mut missing) = (0, Vec::new());
        let mut cursor = None;
        loop {
            let page = self
                .table
                .list_users(&self.organisation.id, &filter, USER_PAGE, cursor.as_deref())
                .await?;
            for member in page.users {
                if self.keeps(&member) {
                    continue;
                }
                candidates += 1;
                if !is_named(&member, named, &self.record.id) {
                    missing.push(member);
                }
            }
            cursor = page.next_cursor;
            if cursor.is_none() {
                return Ok((candidates, missing));
            }
        }
    }

    async fn finish_dry_run(&mut self, plan: Plan) -> Result<(), RunError> {
        // A dry run cut off before it finished writes its whole report again.
        self.record.report_chunks = 0;
        self.record.counts = Default::default();
        let mut reports = plan.reports;
        if self.record.mode == Mode::Replace {
            let (_, missing) = self.missing_members(&plan.named).await?;
            reports.extend(missing.into_iter().map(|m| deactivated(m.id)));
        }
        self.save_reports(&reports).await?;
        self.record.status = ImportStatus::Done;
        self.record.finished_at = Some(self.now);
        self.table.save_import(&self.record).await?;
        Ok(())
    }

    /// Writes reports in chunks and counts them, saving progress after each chunk.
    async fn save_reports(&mut self, reports: &[RowReport]) -> Result<(), StoreError> {
        for chunk in reports.chunks(CHUNK_ROWS) {
            self.save_chunk(chunk, 0).await?;
        }
        Ok(())
    }

    async fn save_chunk(
        &mut self,
        reports: &[RowReport],
        rows_applied: u64,
    ) -> Result<(), StoreError> {
        save_report_chunk(self.table, &mut self.record, reports, rows_applied).await
    }

    /// The apply pass, from the first row not yet applied.
    async fn apply(
        &mut self,
        path: &Path,
        mapping: &ColumnMapping,
        duplicates: &BTreeSet<u64>,
    ) -> Result<(), RunError> {
        let mut rows = Rows::open(path, &self.file_name)?
            .skip(self.record.rows_applied as usize)
            .peekable();
        let mut chunk = Vec::with_capacity(CHUNK_ROWS);
        while let Some(row) = rows.next() {
            let Row { number, cells } = row?;
            chunk.push((
                number,
                identifier_keys(&cells, mapping),
                ImportedRow::parse(&cells, mapping),
            ));
            if chunk.len() == CHUNK_ROWS || rows.peek().is_none() {
                let applied = chunk.len() as u64;
                let ((planned, _), ()) = tokio::try_join!(
                    async {
                        self.plan_chunk(std::mem::take(&mut chunk), duplicates)
                            .await
                            .map_err(RunError::from)
                    },
                    self.still_newest()
                )?;
                let reports = self.write_chunk(planned).await?;
                self.save_chunk(&reports, applied).await?;
            }
        }
        Ok(())
    }

    /// Applies a chunk's planned rows: new people several to a transaction, the others each on
    /// their own, all at once. Reports come back in row order.
    async fn write_chunk(&self, planned: Vec<PlannedRow>) -> Result<Vec<RowReport>, StoreError> {
        let (creates, others): (Vec<PlannedRow>, Vec<PlannedRow>) = planned
            .into_iter()
            .partition(|row| matches!(row.planned, Planned::Create { .. }));
        let mut reports: Vec<RowReport> = stream::iter(others)
            .map(|row| self.write(row))
            .buffered(WRITES_IN_FLIGHT)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let new_members: Vec<(u64, (Membership, Account, bool))> = creates
            .into_iter()
            .filter_map(|row| match row.planned {
                Planned::Create {
                    row: imported,
                    account,
                } => {
                    let (mut membership, account, is_new) =
                        self.new_member(&imported, account.map(|a| *a));
                    membership.last_import_row = Some(row.number);
                    Some((row.number, (membership, account, is_new)))
                }
                _ => None,
            })
            .collect();
        let (numbers, members): (Vec<u64>, Vec<_>) = new_members.into_iter().unzip();
        let outcomes = self.table.create_members(&members).await?;
        for ((number, (membership, _, _)), outcome) in
            numbers.into_iter().zip(&members).zip(outcomes)
        {
            reports.push(match outcome {
                Ok(()) => {
                    let unsent = self.invite(membership).await?;
                    row_report(number, RowStatus::Created, Some(&membership.id), unsent)
                }
                Err(error) => refused(number, error)?,
            });
        }
        reports.sort_by_key(|report| report.row);
        Ok(reports)
    }

    /// Applies one planned row that is not a new person.
    async fn write(&self, row: PlannedRow) -> Result<RowReport, StoreError> {
        let number = row.number;
        match row.planned {
            Planned::Refused(errors) => Ok(row_report(number, RowStatus::Error, None, errors)),
            Planned::Unchanged(member) => {
                // A row this import already wrote before it was cut off keeps its outcome, and
                // a person it created is still invited if the run stopped before that.
                let id = Some(&self.record.id);
                let (status, unsent) = if member.created_by_import.as_ref() == id {
                    (RowStatus::Created, self.invite(&member).await?)
                } else if member.last_import.as_ref() == id {
                    (RowStatus::Updated, vec![])
                } else {
                    (RowStatus::Unchanged, vec![])
                };
                Ok(row_report(number, status, Some(&member.id), unsent))
            }
            Planned::Update { before, after } => {
                let mut after = *after;
                after.last_import = Some(self.record.id.clone());
                after.last_import_row = Some(number);
                match self.table.update_membership(&before, &after, None).await {
                    Ok(()) => Ok(row_report(
                        number,
                        RowStatus::Updated,
                        Some(&after.id),
                        vec![],
                    )),
                    Err(error) => refused(number, error),
                }
            }
            Planned::Create { .. } => Err(StoreError::Corrupt(
                "new people are written by write_chunk".to_owned(),
            )),
        }
    }

    /// A new member from a row: a new account, or the existing account of the row's email
    /// (which joins without an invitation only when its email is proven and it has a password).
    fn new_member(
        &self,
        row: &ImportedRow,
        existing: Option<Account>,
    ) -> (Membership, Account, bool) {
        let is_new = existing.is_none();
        let account = existing.unwrap_or_else(|| Account::new(row.email.clone(), None));
        let invitation_status =
            if !is_new && account.email_verified && account.password_hash.is_some() {
                InvitationStatus::Confirmed
            } else {
                InvitationStatus::NotInvited
            };
        let mut profile = row.new_profile();
        profile.email = account.email.clone().or_else(|| row.email.clone());
        let mut membership = Membership::joining(
            &self.organisation,
            account.id.clone(),
            profile,
            row.username.clone(),
            vec![RoleGrant::organisation_wide(Role::Member)],
            invitation_status,
        );
        if let Some(language) = row.language {
            membership.preferences.language = language;
        }
        membership.last_import = Some(self.record.id.clone());
        membership.created_by_import = Some(self.record.id.clone());
        (membership, account, is_new)
    }

    /// Sends a person this import created their invitation, when the import asks for it and
    /// they have an email and have not been invited or confirmed yet.
    ///
    /// The link is stored first, but becomes the person's (`pending`, the one link that works)
    /// only once SES took the email that carries it. An invitation SES does not take leaves the
    /// person `not_invited` (for an admin or a redelivery to invite) and is the row's error. A
    /// run cut off before the link became theirs leaves them `not_invited` too, and its
    /// redelivery sends them a new one; a person already `pending` got their email.
    async fn invite(&self, member: &Membership) -> Result<Vec<RowError>, StoreError> {
        let Some(email) = &member.profile.email else {
            return Ok(vec![]);
        };
        if !self.record.invite || member.invitation_status != InvitationStatus::NotInvited {
            return Ok(vec![]);
        }
        let token = new_secret();
        let token_hash = secret_hash(&token);
        let invitation = Invitation {
            organisation_id: member.organisation_id.clone(),
            user_id: member.id.clone(),
            expires_at: self.now + INVITATION_LIFETIME,
        };
        self.table.create_token(&token_hash, &invitation).await?;
        let notice = Notice::Invitation {
            organisation: self.organisation.name.clone(),
            link: invitation_link(&self.invitations.app_url, &token),
        };
        let sent = self
            .invitations
            .mailer
            .deliver(
                email.display(),
                member.preferences.language,
                &member.profile.first_name,
                &notice,
            )
            .await;
        if let Err(error) = sent {
            tracing::error!(%error, "an imported person's invitation was not sent");
            return Ok(row_error(
                "email",
                "invitation_not_sent",
                "the person was imported, but the email service did not take their invitation; \
                 invite them again",
            ));
        }
        let invited = member.invited(token_hash, false);
        self.table.update_membership(member, &invited, None).await?;
        Ok(vec![])
    }

    /// `replace`: deactivates the active users the file did not name; each ends their sessions.
    /// Whom an earlier delivery deactivated without reporting is reported first.
    async fn deactivate_missing(&mut self, named: &HashSet<u64>) -> Result<(), RunError> {
        report_cut_off_deactivations(self.table, &mut self.record).await?;
        let (_, missing) = self.missing_members(named).await?;
        for chunk in missing.chunks(CHUNK_ROWS) {
            self.deactivate_chunk(chunk, named).await?;
        }
        self.record.deactivation_done = true;
        self.table.save_import(&self.record).await?;
        Ok(())
    }

    /// Deactivates a chunk of listed people and reports those this import deactivated. The
    /// chunk is saved as `deactivating` before its writes, so a delivery cut off before the
    /// report leaves the next one whom to report.
    async fn deactivate_chunk(
        &mut self,
        chunk: &[Membership],
        named: &HashSet<u64>,
    ) -> Result<(), RunError> {
        self.still_newest().await?;
        self.record.deactivating = chunk.iter().map(|member| member.id.clone()).collect();
        self.table.save_import(&self.record).await?;
        let mut reports = Vec::with_capacity(chunk.len());
        for listed in chunk {
            if let Some(id) = self.deactivate(listed, named).await? {
                reports.push(deactivated(id));
            }
        }
        self.record.deactivating.clear();
        self.save_chunk(&reports, 0).await?;
        Ok(())
    }

    /// Deactivates `listed` for a `replace` and answers their id; `None` when their newest
    /// version no longer needs it. The list is an index that lags, and the person or an admin may
    /// write meanwhile: a version that moved on is read again and judged afresh (once skipped,
    /// such a leaver kept their access while the report said nothing).
    async fn deactivate(
        &self,
        listed: &Membership,
        named: &HashSet<u64>,
    ) -> Result<Option<UserId>, StoreError> {
        let mut before = listed.clone();
        for _ in 0..DEACTIVATION_TRIES {
            // The person's sessions here end with this write (the raised epoch).
            let after = Membership {
                last_import: Some(self.record.id.clone()),
                version: before.version + 1,
                ..before.with_status(Status::Deactivated, true)
            };
            match self.table.update_membership(&before, &after, None).await {
                Ok(()) => return Ok(Some(after.id)),
                Err(StoreError::Stale) => {}
                Err(error) => return Err(error),
            }
            match self
                .table
                .membership(&self.organisation.id, &before.id)
                .await?
            {
                Some(newest)
                    if newest.is_active()
                        && !self.keeps(&newest)
                        && !is_named(&newest, named, &self.record.id) =>
                {
                    before = newest;
                }
                _ => return Ok(None),
            }
        }
        // Changing faster than it can be written: the run fails, and its redelivery resumes.
        Err(StoreError::Stale)
    }

    /// Writes the failed rows (original cells, then their errors) as CSV beside the report. The
    /// file and the report are read side by side, both in row order, so memory holds one page
    /// of the report however many rows failed.
    async fn write_error_report(&mut self, path: &Path) -> Result<(), RunError> {
        if self.record.counts.errors == 0 {
            return Ok(());
        }
        let mut failed = FailedRows::default();
        let rows = Rows::open(path, &self.file_name)?;
        let report = tempfile::NamedTempFile::new().map_err(|e| RunError::Report(e.to_string()))?;
        let mut file = std::io::BufWriter::new(
            report
                .reopen()
                .map_err(|e| RunError::Report(e.to_string()))?,
        );
        // A byte order mark: spreadsheets read the file as UTF-8 (names keep their accents).
        std::io::Write::write_all(&mut file, "\u{feff}".as_bytes())
            .map_err(|e| RunError::Report(e.to_string()))?;
        let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(file);
        // The errors come second, before the row's own cells: they stand under their heading
        // however many cells a row has (a short one, or one with cells past the header), and
        // every cell is kept.
        let mut header: Vec<String> = vec!["row".to_owned(), "errors".to_owned()];
        header.extend(rows.headers.iter().map(|h| neutralise_formula(h)));
        writer
            .write_record(&header)
            .map_err(|e| RunError::Report(e.to_string()))?;
        for row in rows {
            if failed.all_read() {
                break;
            }
            let Row { number, cells } = row?;
            let Some(errors) = failed.of(self.table, &self.record, number).await? else {
                continue;
            };
            let described: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {} ({})", e.field, e.code, e.message))
                .collect();
            let mut line = vec![
                number.to_string(),
                neutralise_formula(&described.join("; ")),
            ];
            line.extend(cells.iter().map(|c| neutralise_formula(c)));
            writer
                .write_record(&line)
                .map_err(|e| RunError::Report(e.to_string()))?;
        }
        writer
            .flush()
            .map_err(|e| RunError::Report(e.to_string()))?;
        drop(writer);
        let body = aws_sdk_s3::primitives::ByteStream::from_path(report.path())
            .await
            .map_err(|e| RunError::Report(e.to_string()))?;
        let key = format!(
            "reports/{}/{}/errors.csv",
            self.organisation.id, self.record.id
        );
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("text/csv; charset=utf-8")
            .body(body)
            .send()
            .await
            .map_err(|e| RunError::Report(e.to_string()))?;
        self.record.error_report_key = Some(key);
        Ok(())
    }
}

/// The errors of an import's failed rows as its report holds them: in row order, read a page of
/// report chunks at a time as the rows are asked for.
struct FailedRows {
    page: VecDeque<(u64, Vec<RowError>)>,
    next_chunk: Option<u32>,
}

impl Default for FailedRows {
    fn default() -> Self {
        Self {
            page: VecDeque::new(),
            next_chunk: Some(0),
        }
    }
}

impl FailedRows {
    const CHUNKS_PER_PAGE: i32 = 100;

    /// The errors of row `number` if it failed; rows are asked for in increasing order.
    async fn of(
        &mut self,
        table: &DynamoTable,
        record: &ImportRecord,
        number: u64,
    ) -> Result<Option<Vec<RowError>>, StoreError> {
        loop {
            while self.page.front().is_some_and(|(row, _)| *row < number) {
                self.page.pop_front();
            }
            if let Some(&(row, _)) = self.page.front() {
                return Ok((row == number)
                    .then(|| self.page.pop_front().map(|(_, errors)| errors))
                    .flatten());
            }
            let Some(from) = self.next_chunk else {
                return Ok(None);
            };
            let (reports, next) = table
                .import_rows(
                    &record.organisation_id,
                    &record.id,
                    from,
                    Self::CHUNKS_PER_PAGE,
                )
                .await?;
            self.next_chunk = next;
            self.page.extend(reports.into_iter().filter_map(|report| {
                match (report.status, report.row) {
                    (RowStatus::Error, Some(row)) => Some((row, report.errors)),
                    _ => None,
                }
            }));
        }
    }

    /// Whether every failed row was handed out: the rows after cannot have failed.
    fn all_read(&self) -> bool {
        self.page.is_empty() && self.next_chunk.is_none()
    }
}

/// Whether a `replace`'s file names `member`: one of its rows did (`named` holds their ids'
/// hashes), or an earlier delivery of `import` wrote them.
fn is_named(member: &Membership, named: &HashSet<u64>, import: &ImportId) -> bool {
    named.contains(&hash64(&member.id)) || member.last_import.as_ref() == Some(import)
}

/// The report of a person a `replace` deactivated.
fn deactivated(id: UserId) -> RowReport {
    RowReport {
        row: None,
        status: RowStatus::Deactivated,
        user_id: Some(id),
        errors: vec![],
    }
}

/// Saves the next chunk of `record`'s report and the progress it makes (`rows_applied` more
/// rows of the file).
async fn save_report_chunk(
    table: &DynamoTable,
    record: &mut ImportRecord,
    reports: &[RowReport],
    rows_applied: u64,
) -> Result<(), StoreError> {
    table
        .put_import_rows(record, record.report_chunks, reports)
        .await?;
    record.report_chunks += 1;
    record.rows_applied += rows_applied;
    for report in reports {
        record.counts.count(report.status);
    }
    table.save_import(record).await
}

/// Reports whom the deactivation chunk a delivery was cut off in had deactivated (its
/// `deactivating`), and clears that chunk. Whom it had not reached is still active: a run that
/// goes on lists them again. Called before a `replace` deactivates anyone and before an import
/// is saved failed, so nobody it deactivated is left out of its report.
pub(crate) async fn report_cut_off_deactivations(
    table: &DynamoTable,
    record: &mut ImportRecord,
) -> Result<(), StoreError> {
    if record.deactivating.is_empty() {
        return Ok(());
    }
    let reports: Vec<RowReport> = table
        .memberships_by_id(&record.organisation_id, &record.deactivating)
        .await?
        .into_iter()
        .filter(|member| !member.is_active() && member.last_import.as_ref() == Some(&record.id))
        .map(|member| deactivated(member.id))
        .collect();
    record.deactivating.clear();
    save_report_chunk(table, record, &reports, 0).await
}

/// Decides a valid row: the person its keys name (all of them the same person), or a new one.
fn decide(
    row: ImportedRow,
    number: u64,
    matches: &roster_store::Matches,
    import: &ImportId,
) -> Planned {
    let found: Vec<(&str, &Membership)> = match_keys(&row)
        .into_iter()
        .filter_map(|(field, key)| matches.members.get(&key).map(|m| (field, m)))
        .collect();
    if let Some((field, _)) = found.iter().find(|(_, m)| m.id != found[0].1.id) {
        return Planned::Refused(row_error(
            field,
            "matches_another_person",
            "this value belongs to another person than the row's other identifiers",
        ));
    }
    match found.first() {
        Some((_, member))
            if member.last_import.as_ref() == Some(import)
                && member.last_import_row.is_some_and(|r| r != number) =>
        {
            duplicate()
        }
        Some((_, member)) => match row.update(member) {
            Ok(Some(after)) => Planned::Update {
                before: Box::new((*member).clone()),
                after: Box::new(after),
            },
            Ok(None) => Planned::Unchanged(Box::new((*member).clone())),
            Err(errors) => Planned::Refused(row_errors(errors)),
        },
        None => {
            let account = row
                .email
                .as_ref()
                .and_then(|e| matches.accounts.get(e.normalised()))
                .cloned()
                .map(Box::new);
            Planned::Create {
                row: Box::new(row),
                account,
            }
        }
    }
}

fn row_report(
    number: u64,
    status: RowStatus,
    user_id: Option<&UserId>,
    errors: Vec<RowError>,
) -> RowReport {
    RowReport {
        row: Some(number),
        status,
        user_id: user_id.cloned(),
        errors,
    }
}

/// A write the table refused, as the row's error; anything else stops the run.
fn refused(number: u64, error: StoreError) -> Result<RowReport, StoreError> {
    let errors = match error {
        StoreError::Taken(taken) => {
            let field = match taken {
                Uniqueness::Username => "username",
                Uniqueness::ExternalId => "external_id",
                _ => "email",
            };
            row_error(field, "taken", "another person already has this value")
        }
        StoreError::Stale => row_error(
            "row",
            "changed_meanwhile",
            "the person changed during the import; run it again",
        ),
        other => return Err(other),
    };
    Ok(row_report(number, RowStatus::Error, None, errors))
}

/// A sync drop that gave way to a later one, after `rows_applied` rows.
fn superseded(rows_applied: u64) -> Stop {
    let this_one = match rows_applied {
        0 => "this one was not applied".to_owned(),
        rows => format!("this one stopped after {rows} rows"),
    };
    Stop::new(
        "superseded",
        format!(
            "a later file arrived at the organisation's sync folder and is applied instead; \
             {this_one}"
        ),
    )
}

fn duplicate() -> Planned {
    Planned::Refused(row_error(
        "email",
        "duplicate",
        "an earlier row of the file names the same person",
    ))
}

/// A planned row as a dry run reports it.
fn dry_report(row: PlannedRow) -> RowReport {
    let (status, user_id, errors) = match row.planned {
        Planned::Refused(errors) => (RowStatus::Error, None, errors),
        Planned::Create { .. } => (RowStatus::Created, None, vec![]),
        Planned::Update { before, .. } => (RowStatus::Updated, Some(before.id), vec![]),
        Planned::Unchanged(member) => (RowStatus::Unchanged, Some(member.id), vec![]),
    };
    RowReport {
        row: Some(row.number),
        status,
        user_id,
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_message_keeps_at_most_its_first_500_characters() {
        let whole = "é".repeat(MAX_FAILURE_MESSAGE);
        assert_eq!(Stop::new("unreadable_file", whole.clone()).0.message, whole);
        let kept = Stop::new("unreadable_file", format!("{whole}x")).0.message;
        assert_eq!(kept.chars().count(), MAX_FAILURE_MESSAGE);
        assert_eq!(kept, format!("{}…", "é".repeat(MAX_FAILURE_MESSAGE - 1)));
    }
}
