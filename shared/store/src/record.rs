//! Items as stored: keys (and index keys, TTL) around a serde body, converted with serde_dynamo.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{StoreError, keys::Key};

pub type Item = HashMap<String, AttributeValue>;

#[derive(Serialize, Deserialize)]
pub(crate) struct Record<T> {
    pub pk: String,
    pub sk: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gsi1pk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gsi1sk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gsi2pk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gsi2sk: Option<String>,
    /// Epoch seconds after which DynamoDB may delete the item (readers check expiry themselves).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ttl: Option<i64>,
    #[serde(flatten)]
    pub body: T,
}

impl<T: Serialize> Record<T> {
    pub fn new(key: Key, body: T) -> Self {
        Self {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: None,
            gsi1sk: None,
            gsi2pk: None,
            gsi2sk: None,
            ttl: None,
            body,
        }
    }

    pub fn item(&self) -> Item {
        serde_dynamo::to_item(self).expect("records serialise to DynamoDB items")
    }
}

pub(crate) fn body<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item::<_, Record<T>>(item)
        .map(|record| record.body)
        .map_err(|error| StoreError::Corrupt(error.to_string()))
}

/// The bodies of `items` that read as `T`. Each one that does not is logged with its key and
/// left out: for lists that serve many people at once (every organisation's reminders of a
/// moment), where one broken item, or one a newer release wrote, must stop none of the others.
pub(crate) fn readable_bodies<T: DeserializeOwned>(items: Vec<Item>) -> Vec<T> {
    items
        .into_iter()
        .filter_map(|item| {
            let key = item_key(&item);
            body(item)
                .map_err(|error| tracing::error!(?key, %error, "an unreadable item left out"))
                .ok()
        })
        .collect()
}

pub(crate) fn key_item(key: &Key) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(key.pk.clone())),
        ("sk".to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

/// The key of `item` (as an index answers it with `pk, sk` projected), if it has one.
pub(crate) fn item_key(item: &Item) -> Option<Key> {
    Some(Key {
        pk: text(item, "pk")?.to_owned(),
        sk: text(item, "sk")?.to_owned(),
    })
}

/// A sentinel: an item whose only job is to exist (uniqueness), pointing at its owner.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct Sentinel {
    pub owner: String,
}

pub(crate) fn sentinel(key: Key, owner: impl Into<String>) -> Item {
    Record::new(
        key,
        Sentinel {
            owner: owner.into(),
        },
    )
    .item()
}

/// The string attribute `name` of `item` (a key part such as `sk`), if it holds one.
pub(crate) fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Most bytes DynamoDB counts for a number (38 digits of precision).
const NUMBER_BYTES_MAX: usize = 21;

/// The size DynamoDB counts for `item`, or a little more: its attribute names and values as
/// DynamoDB sizes them (every number taken at its largest).
pub fn item_bytes(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_bytes(value))
        .sum()
}

fn value_bytes(value: &AttributeValue) -> usize {
    // A list or map costs 3 bytes, and 1 more per element.
    const CONTAINER: usize = 3;
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::B(bytes) => bytes.as_ref().len(),
        AttributeValue::Ss(texts) => texts.iter().map(String::len).sum(),
        AttributeValue::Bs(all) => all.iter().map(|bytes| bytes.as_ref().len()).sum(),
        AttributeValue::N(_) => NUMBER_BYTES_MAX,
        AttributeValue::Ns(numbers) => numbers.len() * NUMBER_BYTES_MAX,
        AttributeValue::L(values) => {
            CONTAINER + values.iter().map(|v| 1 + value_bytes(v)).sum::<usize>()
        }
        AttributeValue::M(entries) => {
            CONTAINER
                + entries
                    .iter()
                    .map(|(name, v)| 1 + name.len() + value_bytes(v))
                    .sum::<usize>()
        }
        // Null, Bool and any kind added later: a byte, as DynamoDB counts the first two.
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_sized_as_dynamodb_sizes_it_or_a_little_more() {
        let item = Item::from([
            ("pk".to_owned(), s("ORG#o1")),
            ("version".to_owned(), n(7)),
            ("active".to_owned(), AttributeValue::Bool(true)),
            (
                "tags".to_owned(),
                AttributeValue::L(vec![s("ab"), s("écrit")]),
            ),
            (
                "doc".to_owned(),
                AttributeValue::M(HashMap::from([("k".to_owned(), s("v"))])),
            ),
        ]);
        let expected = (2 + 6)
            + (7 + NUMBER_BYTES_MAX)
            + (6 + 1)
            + (4 + 3 + (1 + 2) + (1 + "écrit".len()))
            + (3 + 3 + (1 + 1 + 1));
        assert_eq!(item_bytes(&item), expected);
    }
}
