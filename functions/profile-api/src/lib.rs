//! Roster's `/v1` HTTP API. `router` is the whole application; `main.rs` only wires it up, and the
//! local server (`tools/local`) mounts the same router.

mod admin;
mod api_keys;
mod audit;
mod auth;
mod avatar;
mod caller;
mod devices;
mod directory;
mod extract;
mod health;
mod imports;
mod me;
mod mfa;
mod notices;
mod passwords;
mod platform;
mod problem;
mod reservations;
mod scim_groups;
mod vehicles;
mod views;

use std::sync::Arc;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{delete, get, patch, post, put},
};
use chrono::{DateTime, Utc};
use roster_bootstrap::{ConfigError, optional_env, required_env};
use roster_domain::sealed::SealingKey;
use roster_notify::SesMailer;
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
    /// `ROSTER_IMPORT_BUCKET`: where user lists are uploaded for import.
    pub import_bucket: String,
    /// `ROSTER_PLATFORM_TOKEN_SHA256`: hex SHA-256 of the platform operator's token; without it
    /// the platform endpoints are closed.
    pub platform_token_sha256: Option<String>,
    /// `ROSTER_APNS_PLATFORM_APPLICATION_ARN`, `ROSTER_FCM_PLATFORM_APPLICATION_ARN`: SNS
    /// platform applications for iOS and Android push; without one, that platform is refused.
    pub apns_application_arn: Option<String>,
    pub fcm_application_arn: Option<String>,
    /// `ROSTER_SENDER_ADDRESS`, `ROSTER_SES_CONFIGURATION_SET`: how Roster's email goes out.
    pub sender_address: String,
    pub ses_configuration_set: Option<String>,
    /// `ROSTER_APP_URL`: the web app that links in emails open (`<app>/reset-password?token=...`).
    pub app_url: String,
    /// `ROSTER_TOTP_SEALING_KEY`: 32 bytes (base64) that seal TOTP secrets at rest.
    pub totp_sealing_key: SealingKey,
    /// `ROSTER_BREACHED_RANGE_URL`: the Pwned Passwords range API, `<url><first 5 SHA-1 hex>`.
    pub breached_range_url: String,
}

/// The public Pwned Passwords range API.
pub const PWNED_PASSWORDS_RANGE_URL: &str = "https://api.pwnedpasswords.com/range/";

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("ROSTER_TABLE_NAME")?,
            avatar_bucket: required_env("ROSTER_AVATAR_BUCKET")?,
            import_bucket: required_env("ROSTER_IMPORT_BUCKET")?,
            platform_token_sha256: optional_env("ROSTER_PLATFORM_TOKEN_SHA256"),
            apns_application_arn: optional_env("ROSTER_APNS_PLATFORM_APPLICATION_ARN"),
            fcm_application_arn: optional_env("ROSTER_FCM_PLATFORM_APPLICATION_ARN"),
            sender_address: required_env("ROSTER_SENDER_ADDRESS")?,
            ses_configuration_set: optional_env("ROSTER_SES_CONFIGURATION_SET"),
            app_url: required_env("ROSTER_APP_URL")?,
            totp_sealing_key: SealingKey::from_base64(&required_env("ROSTER_TOTP_SEALING_KEY")?)
                .map_err(|error| ConfigError::Invalid {
                    name: "ROSTER_TOTP_SEALING_KEY",
                    reason: error.to_string(),
                })?,
            breached_range_url: optional_env("ROSTER_BREACHED_RANGE_URL")
                .unwrap_or_else(|| PWNED_PASSWORDS_RANGE_URL.to_owned()),
        })
    }
}

/// The AWS clients the API uses, built once per process.
#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    pub ses: aws_sdk_sesv2::Client,
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
    mailer: SesMailer,
    breached: passwords::RangeApi,
    config: Arc<Config>,
    clock: Clock,
}

impl AppState {
    pub fn new(clients: Clients, config: Config, clock: Clock) -> Self {
        Self {
            table: DynamoTable::new(clients.dynamodb, &config.table_name),
            s3: clients.s3,
            sns: clients.sns,
            mailer: SesMailer::new(
                clients.ses,
                &config.sender_address,
                config.ses_configuration_set.clone(),
            ),
            breached: passwords::RangeApi::new(&config.breached_range_url),
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
        .route(
            "/v1/platform/organisations/{organisation}/admins",
            post(platform::grant_admin),
        )
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/logout", post(auth::logout))
        .route("/v1/auth/login/mfa", post(mfa::complete_login))
        .route("/v1/auth/password-reset", post(passwords::request_reset))
        .route(
            "/v1/auth/password-reset/confirm",
            post(passwords::confirm_reset),
        )
        .route("/v1/me/password", post(passwords::change))
        .route(
            "/v1/me/mfa/totp",
            post(mfa::start_enrolment).delete(mfa::disable),
        )
        .route("/v1/me/mfa/totp/confirm", post(mfa::confirm_enrolment))
        .route(
            "/v1/me/mfa/recovery-codes",
            post(mfa::regenerate_recovery_codes),
        )
        .route(
            "/v1/auth/invitations/accept",
            post(admin::accept_invitation),
        )
        .route(
            "/v1/admin/users",
            get(admin::list_users).post(admin::create_user),
        )
        .route(
            "/v1/admin/users/{user}",
            get(admin::get_user).patch(admin::patch_user),
        )
        .route(
            "/v1/admin/users/{user}/invite",
            post(admin::invite).delete(admin::revoke_invitation),
        )
        .route("/v1/admin/users/{user}/deactivate", post(admin::deactivate))
        .route("/v1/admin/users/{user}/reactivate", post(admin::reactivate))
        .route("/v1/admin/users/{user}/unlock", post(admin::unlock))
        .route("/v1/admin/users/{user}/reset-mfa", post(admin::reset_mfa))
        .route("/v1/admin/users/{user}/pin", post(admin::new_pin))
        .route(
            "/v1/admin/users/{user}/password-reset",
            post(admin::send_password_reset),
        )
        .route(
            "/v1/admin/organisation",
            get(admin::get_organisation).patch(admin::patch_organisation),
        )
        .route(
            "/v1/admin/sites",
            get(admin::list_sites).post(admin::create_site),
        )
        .route(
            "/v1/admin/sites/{site}",
            patch(admin::rename_site).delete(admin::delete_site),
        )
        .route("/v1/admin/audit", get(audit::list))
        .route(
            "/v1/admin/imports",
            get(imports::list).post(imports::create),
        )
        .route("/v1/admin/imports/{import}", get(imports::get))
        .route(
            "/v1/admin/api-keys",
            get(api_keys::list_api_keys).post(api_keys::create_api_key),
        )
        .route("/v1/admin/api-keys/{key}", delete(api_keys::revoke_api_key))
        .route(
            "/v1/admin/scim-tokens",
            get(api_keys::list_scim_tokens).post(api_keys::create_scim_token),
        )
        .route(
            "/v1/admin/scim-tokens/{token}",
            delete(api_keys::revoke_scim_token),
        )
        .route("/v1/admin/scim-groups", get(scim_groups::list))
        .route(
            "/v1/admin/scim-groups/{group}/roles",
            put(scim_groups::map_roles),
        )
        .route("/v1/reservations", post(reservations::create))
        .route(
            "/v1/reservations/{reservation}",
            delete(reservations::cancel),
        )
        .route(
            "/v1/reservations/{reservation}/check-in",
            post(reservations::check_in),
        )
        .route("/v1/me/reservations", get(reservations::mine))
        .route("/v1/sites/{site}/reservations", get(reservations::site_day))
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
