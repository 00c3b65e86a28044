//! The colleague directory: one entry per search term of each listed person, holding what a search
//! result shows, so a search is one `Query` on `begins_with(sk, prefix)`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use roster_domain::{
    ids::{OrganisationId, UserId},
    membership::Membership,
};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError, keys,
    record::{Item, Record, body, s},
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
        let partition = keys::directory_partition(organisation);
        let start = cursor
            .map(|cursor| decode_cursor(cursor, &partition, prefix))
            .transpose()?;
        let output = self
            .client
            .query()
            .table_name(&self.name)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":prefix", s(prefix))
            .set_exclusive_start_key(start)
            .limit(limit)
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        let mut entries: Vec<DirectoryEntry> = Vec::new();
        for item in output.items.unwrap_or_default() {
            let entry: DirectoryEntry = body(item)?;
            if !entries.iter().any(|e| e.user_id == entry.user_id) {
                entries.push(entry);
            }
        }
        Ok(DirectoryPage {
            entries,
            next_cursor: output.last_evaluated_key.map(|key| encode_cursor(&key)),
        })
    }
}

/// A cursor is the last sort key read; the partition is never taken from the client.
fn encode_cursor(key: &Item) -> String {
    let sk = key
        .get("sk")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default();
    URL_SAFE_NO_PAD.encode(sk)
}

fn decode_cursor(cursor: &str, partition: &str, prefix: &str) -> Result<Item, StoreError> {
    let sk = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|sk| sk.len() <= 512 && sk.starts_with(prefix) && sk.contains('#'))
        .ok_or(StoreError::InvalidCursor)?;
    Ok(Item::from([
        ("pk".to_owned(), s(partition)),
        ("sk".to_owned(), s(sk)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_continues_in_the_callers_partition_only() {
        let key = Item::from([
            ("pk".to_owned(), s("ORG#a#DIRECTORY")),
            ("sk".to_owned(), s("ada#u1")),
        ]);
        let cursor = encode_cursor(&key);
        let start = decode_cursor(&cursor, "ORG#b#DIRECTORY", "ad").unwrap();
        assert_eq!(start["pk"], s("ORG#b#DIRECTORY"));
        assert_eq!(start["sk"], s("ada#u1"));
    }

    #[test]
    fn a_cursor_from_another_search_or_garbage_is_refused() {
        let cursor = URL_SAFE_NO_PAD.encode("zed#u1");
        assert!(matches!(
            decode_cursor(&cursor, "p", "ad"),
            Err(StoreError::InvalidCursor)
        ));
        assert!(matches!(
            decode_cursor("%%%", "p", "ad"),
            Err(StoreError::InvalidCursor)
        ));
    }
}
