//! The local stand-in for Roster's AWS wiring (API Gateway routes, S3 notifications, EventBridge
//! schedules, Lambda invoke), used by `make dev` and the end-to-end tests. Never deployed.

pub mod dev;
pub mod events;
pub mod functions;
pub mod grants;
pub mod provision;
pub mod template;
pub mod watch;

use std::path::PathBuf;

use roster_bootstrap::{ConfigError, optional_env, required_env};
use roster_domain::sealed::SealingKey;

pub use functions::{Clients, Functions, clients};

/// Settings of the local stack, from the environment `scripts/` sets.
#[derive(Clone, Debug)]
pub struct LocalConfig {
    pub table_name: String,
    pub import_bucket: String,
    pub avatar_bucket: String,
    pub sender_address: String,
    pub ses_configuration_set: String,
    pub region: String,
    /// `ROSTER_TEMPLATE`, default `infra/template.yaml`.
    pub template: PathBuf,
    /// `ROSTER_STACK_NAME`, default `roster-local`: the stack name the template's `!Sub`s see.
    pub stack_name: String,
    /// `ROSTER_PLATFORM_TOKEN`: the platform operator's token on this stack (dev.json shows it).
    pub platform_token: Option<String>,
    /// `ROSTER_APP_URL`: where email links point.
    pub app_url: String,
    /// `ROSTER_TOTP_SEALING_KEY`: 32 bytes (base64), generated per stack.
    pub sealing_key: SealingKey,
    /// `ROSTER_BREACHED_RANGE_URL`: the breached-password range API (default: the public one,
    /// which a machine without internet cannot reach, so the local list decides).
    pub breached_range_url: Option<String>,
    /// `ROSTER_VAPID_PRIVATE_KEY`, `ROSTER_VAPID_SUBJECT`: Web Push signing, generated per stack.
    pub vapid_private_key: String,
    pub vapid_subject: String,
}

impl LocalConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("ROSTER_TABLE_NAME")?,
            import_bucket: required_env("ROSTER_IMPORT_BUCKET")?,
            avatar_bucket: required_env("ROSTER_AVATAR_BUCKET")?,
            sender_address: required_env("ROSTER_SENDER_ADDRESS")?,
            ses_configuration_set: required_env("ROSTER_SES_CONFIGURATION_SET")?,
            region: required_env("AWS_REGION")?,
            template: optional_env("ROSTER_TEMPLATE")
                .unwrap_or_else(|| "infra/template.yaml".to_owned())
                .into(),
            stack_name: optional_env("ROSTER_STACK_NAME")
                .unwrap_or_else(|| "roster-local".to_owned()),
            platform_token: optional_env("ROSTER_PLATFORM_TOKEN"),
            app_url: profile_api::app_url(required_env("ROSTER_APP_URL")?)?,
            sealing_key: SealingKey::from_base64(&required_env("ROSTER_TOTP_SEALING_KEY")?)
                .map_err(|error| ConfigError::Invalid {
                    name: "ROSTER_TOTP_SEALING_KEY",
                    reason: error.to_string(),
                })?,
            breached_range_url: optional_env("ROSTER_BREACHED_RANGE_URL"),
            vapid_private_key: required_env("ROSTER_VAPID_PRIVATE_KEY")?,
            vapid_subject: required_env("ROSTER_VAPID_SUBJECT")?,
        })
    }

    /// The local name of the template's bucket `logical_id`.
    pub fn bucket_name(&self, logical_id: &str) -> Option<&str> {
        match logical_id {
            "ImportBucket" => Some(&self.import_bucket),
            "AvatarBucket" => Some(&self.avatar_bucket),
            _ => None,
        }
    }
}
