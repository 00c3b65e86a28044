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

pub(crate) fn key_item(key: &Key) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(key.pk.clone())),
        ("sk".to_owned(), AttributeValue::S(key.sk.clone())),
    ])
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
