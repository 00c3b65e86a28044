//! The colleague directory: one entry per search term of each active person, holding what a
//! search result shows and whether the person chose to hide, so a search is one `Query` on
//! `begins_with(sk, prefix)` whatever the organisation's permission to hide says at the time.

use roster_domain::{
    directory::Search,
    ids::{OrganisationId, UserId},
    membership::Membership,
    organisation::OrganisationSettings,
    preferences::hidden_from_colleagues,
};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError,
    cursor::PartitionList,
    keys,
    record::{Item, Record, body, text},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    pub user_id: UserId,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
    pub department: Option<String>,
    pub function: Option<String>,
    pub avatar_key: Option<String>,
    /// The person's choice (`Preferences::hide_profile`); absent from entries written when only
    /// people who did not hide had entries.
    #[serde(default)]
    pub hide_profile: bool,
}

pub struct DirectoryPage {
    pub entries: Vec<DirectoryEntry>,
    /// Opaque; pass back to continue after this page.
    pub next_cursor: Option<String>,
}

impl DirectoryEntry {
    /// What colleagues see of `membership`.
    pub fn of(membership: &Membership) -> Self {
        let profile = &membership.profile;
        Self {
            user_id: membership.id.clone(),
            display_name: profile.display_name(),
            first_name: profile.first_name.clone(),
            last_name: profile.last_name.clone(),
            department: profile.department.clone(),
            function: profile.function.clone(),
            avatar_key: membership.avatar_key.clone(),
            hide_profile: membership.preferences.hide_profile,
        }
    }

    /// The names the person is found under (`search_terms`) and shown by (`Search::shows`).
    pub(crate) fn names(&self) -> [&str; 3] {
        [&self.first_name, &self.last_name, &self.display_name]
    }

    pub(crate) fn item(&self, organisation: &OrganisationId, term: &str) -> Item {
        Record::new(
            keys::directory_entry(organisation, term, &self.user_id),
            self,
        )
        .item()
    }
}

impl DynamoTable {
    /// People of `organisation` (of `settings`) that `search` finds, one `Query` on the entries
    /// under its looked-up word; each person once across the pages (`Search::shows`), without
    /// those hidden from colleagues, so a page may hold fewer than `limit`.
    pub async fn search_directory(
        &self,
        organisation: &OrganisationId,
        settings: &OrganisationSettings,
        search: &Search,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<DirectoryPage, StoreError> {
        let list = PartitionList {
            pk: keys::directory_partition(organisation),
            prefix: search.lookup.clone(),
        };
        // Eventually consistent: a search may miss a name changed a moment ago.
        let (items, next_cursor) = self.partition_page(&list, limit, cursor, false).await?;
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            let term = text(&item, "sk")
                .map(keys::directory_term)
                .unwrap_or_default()
                .to_owned();
            let entry: DirectoryEntry = body(item)?;
            if search.shows(&term, &entry.names())
                && !hidden_from_colleagues(entry.hide_profile, settings)
            {
                entries.push(entry);
            }
        }
        Ok(DirectoryPage {
            entries,
            next_cursor,
        })
    }
}
