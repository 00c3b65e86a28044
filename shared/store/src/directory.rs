//! The colleague directory: one entry per search term of each listed person, holding what a search
//! result shows, so a search is one `Query` on `begins_with(sk, prefix)`.

use roster_domain::{
    ids::{OrganisationId, UserId},
    membership::Membership,
};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError,
    cursor::PartitionList,
    keys,
    record::{Item, Record, body},
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
}

pub struct DirectoryPage {
    pub entries: Vec<DirectoryEntry>,
    /// Opaque; pass back to continue after this page.
    pub next_cursor: Option<String>,
}

impl DirectoryEntry {
    pub(crate) fn of(membership: &Membership) -> Self {
        let profile = &membership.profile;
        Self {
            user_id: membership.id.clone(),
            display_name: profile.display_name(),
            first_name: profile.first_name.clone(),
            last_name: profile.last_name.clone(),
            department: profile.department.clone(),
            function: profile.function.clone(),
            avatar_key: membership.avatar_key.clone(),
        }
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
    /// People of `organisation` with a name word starting with `prefix` (already normalised), one
    /// `Query`; a person matching under several words appears once per page.
    pub async fn search_directory(
        &self,
        organisation: &OrganisationId,
        prefix: &str,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<DirectoryPage, StoreError> {
        let list = PartitionList {
            pk: keys::directory_partition(organisation),
            prefix: prefix.to_owned(),
        };
        // Eventually consistent: a search may miss a name changed a moment ago.
        let (items, next_cursor) = self.partition_page(&list, limit, cursor, false).await?;
        let mut entries: Vec<DirectoryEntry> = Vec::new();
        for item in items {
            let entry: DirectoryEntry = body(item)?;
            if !entries.iter().any(|e| e.user_id == entry.user_id) {
                entries.push(entry);
            }
        }
        Ok(DirectoryPage {
            entries,
            next_cursor,
        })
    }
}
