//! Roster's `/v1` HTTP API. `router` is the whole application; `main.rs` only wires it up, and the
//! local server (`tools/local`) mounts the same router.

mod auth;
mod avatar;
mod caller;
mod devices;
mod directory;
mod extract;
mod health;
mod me;
mod platform;
mod problem;
mod vehicles;
mod views;

use std::sync::Arc;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{delete, get, patch, post},
};
use chrono::{DateTime, Utc};
use roster_bootstrap::{ConfigError, optional_env, required_env};
use roster_store::DynamoTable;

pub use problem::ApiError;

/// Request bodies of this API are small JSON documents; files go straight to S3.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The profile API's settings, read from the environment at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ROSTER_TABLE_NAME`: the DynamoDB table.
    pub table_name: String,
    /// `ROSTER_AVATAR_BUCKET`: where avatar images are uploaded and kept.
    pub avatar_bucket: String,
    /// `ROSTER_PLATFORM_TOKEN_SHA256`: hex SHA-256 of the platform operator's token; without it
    /// the platform endpoints are closed.
    pub platform_token_sha256: Option<String>,
    /// `ROSTER_APNS_PLATFORM_APPLICATION_ARN`, `ROSTER_FCM_PLATFORM_APPLICATION_ARN`: SNS
    /// platform applications for iOS and Android push; without one, that platform is refused.
    pub apns_application_arn: Option<String>,
    pub fcm_application_arn: Option<String>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("ROSTER_TABLE_NAME")?,
            avatar_bucket: required_env("ROSTER_AVATAR_BUCKET")?,
            platform_token_sha256: optional_env("ROSTER_PLATFORM_TOKEN_SHA256"),
            apns_application_arn: optional_env("ROSTER_APNS_PLATFORM_APPLICATION_ARN"),
            fcm_application_arn: optional_env("ROSTER_FCM_PLATFORM_APPLICATION_ARN"),
        })
    }
}

/// The AWS clients the API uses, built once per process.
#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
}

/// "Now", injectable so tests can move time.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// What every handler shares: the adapters and settings, built once per process.
#[derive(Clone)]
pub struct AppState {
    table: DynamoTable,
    s3: aws_sdk_s3::Client,
    sns: aws_sdk_sns::Client,
    config: Arc<Config>,
    clock: Clock,
}

impl AppState {
    pub fn new(clients: Clients, config: Config, clock: Clock) -> Self {
        Self {
            table: DynamoTable::new(clients.dynamodb, &config.table_name),
            s3: clients.s3,
            sns: clients.sns,
            config: Arc::new(config),
            clock,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .route(
            "/v1/platform/organisations",
            post(platform::create_organisation),
        )
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/logout", post(auth::logout))
        .route("/v1/me", get(me::get_profile).patch(me::patch_profile))
        .route(
            "/v1/me/preferences",
            get(me::get_preferences).patch(me::patch_preferences),
        )
        .route("/v1/me/organisations", get(me::organisations))
        .route(
            "/v1/me/organisations/{organisation}/switch",
            post(me::switch_organisation),
        )
        .route("/v1/me/sessions", get(me::sessions))
        .route("/v1/me/sessions/{session}", delete(me::end_session))
        .route(
            "/v1/me/avatar",
            post(avatar::start_upload).delete(avatar::remove),
        )
        .route("/v1/me/avatar/confirm", post(avatar::confirm_upload))
        .route(
            "/v1/me/vehicles",
            get(vehicles::list).post(vehicles::create),
        )
        .route(
            "/v1/me/vehicles/{vehicle}",
            patch(vehicles::rename).delete(vehicles::remove),
        )
        .route("/v1/me/devices", get(devices::list).post(devices::register))
        .route(
            "/v1/me/devices/{device}",
            patch(devices::update).delete(devices::remove),
        )
        .route("/v1/directory", get(directory::search))
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .with_state(state)
}
