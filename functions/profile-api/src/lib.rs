//! Roster's `/v1` HTTP API. `router` is the whole application; `main.rs` only wires it up, and the
//! local server (`tools/local`) mounts the same router.

mod health;
mod problem;

use axum::{Router, routing::get};
use roster_bootstrap::{ConfigError, required_env};
use roster_store::DynamoTable;

pub use problem::ApiError;

/// The profile API's settings, read from the environment at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ROSTER_TABLE_NAME`: the DynamoDB table.
    pub table_name: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("ROSTER_TABLE_NAME")?,
        })
    }
}

/// What every handler shares: the adapters, built once per process.
#[derive(Clone)]
pub struct AppState {
    table: DynamoTable,
}

impl AppState {
    pub fn new(dynamodb: aws_sdk_dynamodb::Client, config: &Config) -> Self {
        Self {
            table: DynamoTable::new(dynamodb, &config.table_name),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .fallback(problem::not_found)
        .with_state(state)
}
