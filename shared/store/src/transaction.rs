//! `TransactWriteItems` with a meaning for each condition: when DynamoDB cancels the transaction,
//! the first failed condition says which rule was broken (a taken unique value, a stale version).

use aws_sdk_dynamodb::{
    operation::transact_write_items::TransactWriteItemsError,
    types::{ConditionCheck, Delete, Put, TransactWriteItem, Update},
};
use chrono::{DateTime, Utc};

use crate::{
    DynamoTable, StoreError, Uniqueness,
    keys::Key,
    record::{Item, item_bytes, key_item},
};

/// What a failed condition means.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OnFail {
    Taken(Uniqueness),
    Stale,
    /// An item the write depends on, whose version the caller named no expectation of, changed
    /// meanwhile: no rule refused the write, which is read again and made again (`Contended`).
    Contended,
    Missing,
    EmailManagedElsewhere,
    /// An item names another owner than the one written with it: the table is inconsistent.
    OwnedElsewhere,
}

impl From<OnFail> for StoreError {
    fn from(on_fail: OnFail) -> Self {
        match on_fail {
            OnFail::Taken(what) => StoreError::Taken(what),
            OnFail::Stale => StoreError::Stale,
            OnFail::Contended => StoreError::Contended,
            OnFail::Missing => StoreError::NotFound,
            OnFail::EmailManagedElsewhere => StoreError::EmailManagedElsewhere,
            OnFail::OwnedElsewhere => {
                StoreError::Corrupt("an item names another owner than its writer".to_owned())
            }
        }
    }
}

/// An expression with its placeholder values.
pub(crate) struct Condition {
    pub expression: &'static str,
    pub values: Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)>,
}

impl Condition {
    pub fn absent() -> Self {
        Self {
            expression: "attribute_not_exists(pk)",
            values: vec![],
        }
    }

    pub fn present() -> Self {
        Self {
            expression: "attribute_exists(pk)",
            values: vec![],
        }
    }

    /// Not there, or there with a `ttl` that has passed (DynamoDB deletes expired items lazily).
    pub fn absent_or_expired(now: DateTime<Utc>) -> Self {
        Self {
            expression: "attribute_not_exists(pk) OR #ttl <= :now",
            values: vec![(":now", crate::record::n(now.timestamp()))],
        }
    }

    pub fn version(version: u64) -> Self {
        Self {
            expression: "version = :expected_version",
            values: vec![(":expected_version", crate::record::n(version))],
        }
    }

    /// Not there, or there at `version`.
    pub fn absent_or_version(version: u64) -> Self {
        Self {
            expression: "attribute_not_exists(pk) OR version = :expected_version",
            values: vec![(":expected_version", crate::record::n(version))],
        }
    }

    /// Owned by `owner`, or not there at all (an item `owner` may write again).
    pub fn owned_by_or_absent(owner: &str) -> Self {
        Self {
            expression: "attribute_not_exists(pk) OR #owner = :owner",
            values: vec![(":owner", crate::record::s(owner))],
        }
    }

    pub fn owned_by(owner: &str) -> Self {
        Self {
            expression: "attribute_exists(pk) AND #owner = :owner",
            values: vec![(":owner", crate::record::s(owner))],
        }
    }
}

/// How many times in all a transaction is sent while it meets other transactions on its items.
const CONFLICT_ATTEMPTS: u32 = 4;

/// Half the longest pause before the second sending, in ms: the pauses are random up to 20, 40
/// and 80 ms.
const CONFLICT_PAUSE_MS: u64 = 10;

/// Why DynamoDB cancelled a transaction, from its reasons (one per item, in order).
#[derive(Debug, PartialEq)]
enum Cancelled {
    /// The condition on the item at this index did not hold: a rule refused the write.
    Condition(usize),
    /// Another transaction was writing one of its items, and no condition failed.
    Conflict,
    /// Anything else (throughput, size, validation).
    Otherwise,
}

impl Cancelled {
    fn of<'a>(codes: impl Iterator<Item = Option<&'a str>> + Clone) -> Self {
        let mut codes = codes.enumerate();
        if let Some((index, _)) = codes
            .clone()
            .find(|(_, code)| *code == Some("ConditionalCheckFailed"))
        {
            Self::Condition(index)
        } else if codes.any(|(_, code)| code == Some("TransactionConflict")) {
            Self::Conflict
        } else {
            Self::Otherwise
        }
    }
}

/// Most items one `TransactWriteItems` may write.
pub(crate) const TRANSACTION_ITEMS: usize = 100;

/// Most bytes of items one `TransactWriteItems` may write (DynamoDB's 4 MB, read as the
/// smaller of its two meanings).
pub(crate) const TRANSACTION_BYTES: usize = 4_000_000;

#[derive(Default)]
pub(crate) struct Transaction {
    items: Vec<TransactWriteItem>,
    on_fail: Vec<Option<OnFail>>,
    /// The items the puts write, as [`item_bytes`] sizes them; deletes, checks and updates
    /// count their keys.
    bytes: usize,
}

/// Adds a condition's expression, names and values to a `Put` or `Delete` builder.
macro_rules! with_condition {
    ($builder:expr, $condition:expr) => {{
        let condition: Condition = $condition;
        let mut builder = $builder.condition_expression(condition.expression);
        for (placeholder, name) in [("#owner", "owner"), ("#ttl", "ttl")] {
            if condition.expression.contains(placeholder) {
                builder = builder.expression_attribute_names(placeholder, name);
            }
        }
        for (name, value) in condition.values {
            builder = builder.expression_attribute_values(name, value);
        }
        builder
    }};
}

impl Transaction {
    /// A transaction that starts by using up the single-use token `token_hash`: it fails
    /// `Missing` when the token was used first, and that is the refusal it reports.
    pub fn using_token<T: crate::SingleUse>(table: &DynamoTable, token_hash: &str) -> Self {
        let mut tx = Self::default();
        tx.delete(
            table,
            &T::key(token_hash),
            Some((Condition::present(), OnFail::Missing)),
        );
        tx
    }

    pub fn put(
        &mut self,
        table: &DynamoTable,
        item: Item,
        condition: Option<(Condition, OnFail)>,
    ) -> &mut Self {
        self.bytes += item_bytes(&item);
        let mut put = Put::builder().table_name(table.name()).set_item(Some(item));
        let mut on_fail = None;
        if let Some((condition, meaning)) = condition {
            put = with_condition!(put, condition);
            on_fail = Some(meaning);
        }
        self.push(
            TransactWriteItem::builder()
                .put(put.build().expect("put has table and item"))
                .build(),
            on_fail,
        )
    }

    pub fn delete(
        &mut self,
        table: &DynamoTable,
        key: &Key,
        condition: Option<(Condition, OnFail)>,
    ) -> &mut Self {
        self.bytes += item_bytes(&key_item(key));
        let mut delete = Delete::builder()
            .table_name(table.name())
            .set_key(Some(key_item(key)));
        let mut on_fail = None;
        if let Some((condition, meaning)) = condition {
            delete = with_condition!(delete, condition);
            on_fail = Some(meaning);
        }
        self.push(
            TransactWriteItem::builder()
                .delete(delete.build().expect("delete has table and key"))
                .build(),
            on_fail,
        )
    }

    /// Holds the transaction to `condition` on the item at `key`, which it does not write.
    pub fn check(
        &mut self,
        table: &DynamoTable,
        key: &Key,
        (condition, on_fail): (Condition, OnFail),
    ) -> &mut Self {
        self.bytes += item_bytes(&key_item(key));
        let check = ConditionCheck::builder()
            .table_name(table.name())
            .set_key(Some(key_item(key)));
        self.push(
            TransactWriteItem::builder()
                .condition_check(
                    with_condition!(check, condition)
                        .build()
                        .expect("check has table, key and condition"),
                )
                .build(),
            Some(on_fail),
        )
    }

    pub fn update(&mut self, update: Update, on_fail: OnFail) -> &mut Self {
        self.bytes += item_bytes(update.key());
        self.push(
            TransactWriteItem::builder().update(update).build(),
            Some(on_fail),
        )
    }

    /// Whether the items of `others` may all join this transaction within DynamoDB's limits.
    pub(crate) fn has_room_for(&self, others: &[Transaction]) -> bool {
        let items: usize = others.iter().map(|other| other.items.len()).sum();
        let bytes: usize = others.iter().map(|other| other.bytes).sum();
        self.items.len() + items <= TRANSACTION_ITEMS && self.bytes + bytes <= TRANSACTION_BYTES
    }

    /// Adds `other`'s items (with their failure meanings) to this transaction.
    pub(crate) fn append(&mut self, other: Transaction) {
        self.items.extend(other.items);
        self.on_fail.extend(other.on_fail);
        self.bytes += other.bytes;
    }

    fn push(&mut self, item: TransactWriteItem, on_fail: Option<OnFail>) -> &mut Self {
        self.items.push(item);
        self.on_fail.push(on_fail);
        self
    }

    /// Writes all items or none. A transaction DynamoDB cancelled because another one was
    /// writing one of its items at that moment (which says nothing of its conditions) is sent
    /// again, up to [`CONFLICT_ATTEMPTS`] times in all, after a short random pause; still
    /// meeting one then, it is `Contended` (make it again). A condition that did not hold fails
    /// with its meaning.
    pub async fn commit(self, table: &DynamoTable) -> Result<(), StoreError> {
        let mut attempt = 1;
        loop {
            let result = table
                .client
                .transact_write_items()
                .set_transact_items(Some(self.items.clone()))
                .send()
                .await;
            let Err(error) = result else {
                return Ok(());
            };
            let cancelled = match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    Cancelled::of(cancelled.cancellation_reasons().iter().map(|r| r.code()))
                }
                _ => Cancelled::Otherwise,
            };
            match cancelled {
                Cancelled::Condition(index) => {
                    return Err(match self.on_fail.get(index).copied().flatten() {
                        Some(on_fail) => on_fail.into(),
                        None => StoreError::unavailable(error),
                    });
                }
                Cancelled::Conflict if attempt < CONFLICT_ATTEMPTS => {
                    let pause = rand::random_range(0..CONFLICT_PAUSE_MS << attempt);
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                    attempt += 1;
                }
                Cancelled::Conflict => return Err(StoreError::Contended),
                Cancelled::Otherwise => return Err(StoreError::unavailable(error)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cancelled(codes: &[&str]) -> Cancelled {
        Cancelled::of(codes.iter().map(|code| Some(*code)))
    }

    #[test]
    fn a_failed_condition_is_the_answer_even_beside_a_conflict() {
        assert_eq!(
            cancelled(&["TransactionConflict", "None", "ConditionalCheckFailed"]),
            Cancelled::Condition(2)
        );
        assert_eq!(
            cancelled(&["None", "ConditionalCheckFailed", "ConditionalCheckFailed"]),
            Cancelled::Condition(1)
        );
    }

    #[test]
    fn a_conflict_alone_is_worth_another_try_and_anything_else_is_not() {
        assert_eq!(
            cancelled(&["None", "TransactionConflict"]),
            Cancelled::Conflict
        );
        assert_eq!(
            cancelled(&["None", "ProvisionedThroughputExceeded"]),
            Cancelled::Otherwise
        );
        assert_eq!(Cancelled::of(std::iter::empty()), Cancelled::Otherwise);
    }
}
