//! Cursors of lists: for a list kept in an index, the last item's index sort key and table key;
//! for a list kept in one table partition, the last sort key. Either is checked to lie in the
//! caller's own list before a query continues from it.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::{
    StoreError,
    record::{Item, s, text},
};

/// A list kept in an index: the index (`gsi1` or `gsi2`, whose keys are `<index>pk` and
/// `<index>sk`), its partition there, and the table keys of its items (`pk` starting with
/// `pk_prefix`, `sk` fixed).
pub(crate) struct IndexList {
    pub index: &'static str,
    pub partition: String,
    pub pk_prefix: String,
    pub sk: &'static str,
}

impl IndexList {
    fn sort_attribute(&self) -> String {
        format!("{}sk", self.index)
    }

    /// The cursor after `key` (a `LastEvaluatedKey` of this list).
    pub fn cursor_after(&self, key: &Item) -> String {
        let part = |name: &str| text(key, name).unwrap_or_default();
        let json = serde_json::json!([part(&self.sort_attribute()), part("pk")]).to_string();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// The `ExclusiveStartKey` a cursor of this list stands for, in the caller's index partition;
    /// a cursor naming another organisation's items, or one no list could have made, is refused.
    pub fn start_after(&self, cursor: &str) -> Result<Item, StoreError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| StoreError::InvalidCursor)?;
        let [sort, pk]: [String; 2] =
            serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
        if !pk.starts_with(&self.pk_prefix) || pk.len() > 256 || sort.is_empty() || sort.len() > 512
        {
            return Err(StoreError::InvalidCursor);
        }
        Ok(Item::from([
            (format!("{}pk", self.index), s(self.partition.as_str())),
            (self.sort_attribute(), s(sort)),
            ("pk".to_owned(), s(pk)),
            ("sk".to_owned(), s(self.sk)),
        ]))
    }

    /// `start_after` for a query whose key condition also asks the index sort key to begin with
    /// `sort_prefix`. DynamoDB refuses a start key outside that as invalid, so a cursor of
    /// another query is refused here, as one this list could not have made.
    pub fn start_after_prefixed(
        &self,
        cursor: &str,
        sort_prefix: &str,
    ) -> Result<Item, StoreError> {
        let start = self.start_after(cursor)?;
        match text(&start, &self.sort_attribute()) {
            Some(sort) if sort.starts_with(sort_prefix) => Ok(start),
            _ => Err(StoreError::InvalidCursor),
        }
    }
}

/// A list kept in one table partition: items of `pk` whose sort key starts with `prefix`.
pub(crate) struct PartitionList {
    pub pk: String,
    pub prefix: String,
}

impl PartitionList {
    /// The cursor after `key` (a `LastEvaluatedKey` of this list): its sort key.
    pub fn cursor_after(key: &Item) -> Option<String> {
        text(key, "sk").map(|sk| URL_SAFE_NO_PAD.encode(sk))
    }

    /// The `ExclusiveStartKey` a cursor of this list stands for: always in this partition, and
    /// refused unless its sort key is one this list could have read.
    pub fn start_after(&self, cursor: &str) -> Result<Item, StoreError> {
        let sk = URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .filter(|sk| !sk.is_empty() && sk.len() <= 512 && sk.starts_with(&self.prefix))
            .ok_or(StoreError::InvalidCursor)?;
        Ok(Item::from([
            ("pk".to_owned(), s(self.pk.as_str())),
            ("sk".to_owned(), s(sk)),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports_of(organisation: &str) -> IndexList {
        IndexList {
            index: "gsi1",
            partition: format!("ORG#{organisation}#IMPORTS"),
            pk_prefix: format!("ORG#{organisation}#IMPORT#"),
            sk: "IMPORT",
        }
    }

    fn last_read(organisation: &str) -> Item {
        Item::from([
            (
                "gsi1pk".to_owned(),
                s(format!("ORG#{organisation}#IMPORTS")),
            ),
            ("gsi1sk".to_owned(), s("2026-11-22T10:00:00.000000Z#i1")),
            ("pk".to_owned(), s(format!("ORG#{organisation}#IMPORT#i1"))),
            ("sk".to_owned(), s("IMPORT")),
        ])
    }

    #[test]
    fn a_partition_cursor_stays_in_the_callers_partition_and_under_its_prefix() {
        let sites = PartitionList {
            pk: "ORG#a".to_owned(),
            prefix: "SITE#".to_owned(),
        };
        let last = Item::from([
            ("pk".to_owned(), s("ORG#b")),
            ("sk".to_owned(), s("SITE#berlin")),
        ]);
        let cursor = PartitionList::cursor_after(&last).unwrap();
        let start = sites.start_after(&cursor).unwrap();
        assert_eq!(
            start["pk"],
            s("ORG#a"),
            "the partition is never the client's"
        );
        assert_eq!(start["sk"], s("SITE#berlin"));
        let key = PartitionList::cursor_after(&Item::from([("sk".to_owned(), s("API_KEY#k1"))]));
        assert!(matches!(
            sites.start_after(&key.unwrap()),
            Err(StoreError::InvalidCursor)
        ));
        assert!(matches!(
            sites.start_after("%%%"),
            Err(StoreError::InvalidCursor)
        ));
    }

    #[test]
    fn a_cursor_continues_after_the_item_it_was_made_from() {
        let cursor = imports_of("a").cursor_after(&last_read("a"));
        assert_eq!(
            imports_of("a").start_after(&cursor).unwrap(),
            last_read("a")
        );
    }

    #[test]
    fn a_cursor_of_a_query_for_another_prefix_is_refused() {
        let cursor = imports_of("a").cursor_after(&last_read("a"));
        assert_eq!(
            imports_of("a")
                .start_after_prefixed(&cursor, "2026-11")
                .unwrap(),
            last_read("a")
        );
        assert!(matches!(
            imports_of("a").start_after_prefixed(&cursor, "2027"),
            Err(StoreError::InvalidCursor)
        ));
    }

    #[test]
    fn a_cursor_of_another_organisation_or_garbage_is_refused() {
        let cursor = imports_of("b").cursor_after(&last_read("b"));
        assert!(matches!(
            imports_of("a").start_after(&cursor),
            Err(StoreError::InvalidCursor)
        ));
        assert!(matches!(
            imports_of("a").start_after("%%%"),
            Err(StoreError::InvalidCursor)
        ));
        // Longer than any key a list hands out, or an empty sort key (DynamoDB would refuse
        // either as a key: 503 rather than 422).
        let oversized =
            URL_SAFE_NO_PAD.encode(format!(r#"["2026#i1","ORG#a#IMPORT#{}"]"#, "i".repeat(300)));
        let unsorted = URL_SAFE_NO_PAD.encode(r#"["","ORG#a#IMPORT#i1"]"#);
        for cursor in [oversized, unsorted] {
            assert!(matches!(
                imports_of("a").start_after(&cursor),
                Err(StoreError::InvalidCursor)
            ));
        }
    }
}
