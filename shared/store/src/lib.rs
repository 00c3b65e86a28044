//! Roster's DynamoDB single-table adapter. Access patterns and key shapes: see README.md beside
//! this crate.

use aws_sdk_dynamodb::{Client, types::AttributeValue};

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB could not be reached or did not answer in time.
    #[error("the table is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The Roster table: one DynamoDB client and the table's name, shared by every adapter.
#[derive(Clone, Debug)]
pub struct DynamoTable {
    client: Client,
    name: String,
}

impl DynamoTable {
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Proves the table answers: one eventually consistent `GetItem` of a key that never holds data.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.client
            .get_item()
            .table_name(&self.name)
            .key("pk", AttributeValue::S("HEALTH".to_owned()))
            .key("sk", AttributeValue::S("HEALTH".to_owned()))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| StoreError::Unavailable(Box::new(error)))
    }
}
