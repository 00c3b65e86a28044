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
mod email_change;
mod extract;
mod health;
mod imports;
mod me;
mod mfa;
mod notices;
mod openapi;
mod passwords;
mod platform;
mod problem;
mod reservations;
mod scim_groups;
mod vehicles;
mod views;

use std::sync::Arc;

use axum::{Router, extract::DefaultBodyLimit};
use chrono::{DateTime, Utc};
use roster_bootstrap::{ConfigError, optional_env, required_env};
use roster_domain::{breached::BreachedList, sealed::SealingKey};
use roster_notify::SesMailer;
use roster_store::{DynamoTable, avatars::S3AvatarStore};
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

pub use auth::FAILED_LOGIN_ANSWER_AFTER;
pub use passwords::RESET_ANSWER_AFTER;
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
    /// `ROSTER_TOTP_SEALING_KEY`: 32 bytes (base64) that seal TOTP secrets at rest and list
    /// cursors (each for its purpose).
    pub sealing_key: SealingKey,
    /// `ROSTER_BREACHED_RANGE_URL`: the Pwned Passwords range API, `<url><first 5 SHA-1 hex>`.
    pub breached_range_url: String,
}

/// The public Pwned Passwords range API.
pub const PWNED_PASSWORDS_RANGE_URL: &str = "https://api.pwnedpasswords.com/range/";

/// `ROSTER_APP_URL`, refused at start unless it is an http(s) URL with an origin: email links
/// open it, and browsers may call the API from its origin only.
pub fn app_url(value: String) -> Result<String, ConfigError> {
    let web = reqwest::Url::parse(&value).is_ok_and(|url| matches!(url.scheme(), "http" | "https"));
    if web && app_origin(&value).is_some() {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name: "ROSTER_APP_URL",
            reason: "must be an http or https URL".to_owned(),
        })
    }
}

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
            app_url: app_url(required_env("ROSTER_APP_URL")?)?,
            sealing_key: SealingKey::from_base64(&required_env("ROSTER_TOTP_SEALING_KEY")?)
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
    avatars: S3AvatarStore,
    sns: aws_sdk_sns::Client,
    mailer: SesMailer,
    breached: Arc<dyn BreachedList>,
    config: Arc<Config>,
    clock: Clock,
}

impl AppState {
    pub fn new(clients: Clients, config: Config, clock: Clock) -> Self {
        Self {
            table: DynamoTable::new(clients.dynamodb, &config.table_name),
            avatars: S3AvatarStore::new(clients.s3.clone(), &config.avatar_bucket),
            s3: clients.s3,
            sns: clients.sns,
            mailer: SesMailer::new(
                clients.ses,
                &config.sender_address,
                config.ses_configuration_set.clone(),
            ),
            breached: Arc::new(passwords::HibpRangeApi::new(&config.breached_range_url)),
            config: Arc::new(config),
            clock,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

/// Every route of the API with its OpenAPI description: `router` serves them and
/// `openapi_document` describes them, so neither can have a route the other lacks. Handlers of
/// one path are registered together (one `routes!` per path).
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(openapi::serve))
        .routes(routes!(platform::create_organisation))
        .routes(routes!(platform::grant_admin))
        .routes(routes!(platform::reset_mfa))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(mfa::complete_login))
        .routes(routes!(passwords::request_reset))
        .routes(routes!(passwords::confirm_reset))
        .routes(routes!(email_change::confirm))
        .routes(routes!(admin::accept_invitation))
        .routes(routes!(passwords::change))
        .routes(routes!(mfa::start_enrolment, mfa::disable))
        .routes(routes!(mfa::confirm_enrolment))
        .routes(routes!(mfa::regenerate_recovery_codes))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(admin::get_user, admin::patch_user))
        .routes(routes!(admin::invite, admin::revoke_invitation))
        .routes(routes!(admin::deactivate))
        .routes(routes!(admin::reactivate))
        .routes(routes!(admin::unlock))
        .routes(routes!(admin::reset_mfa))
        .routes(routes!(admin::new_pin))
        .routes(routes!(admin::send_password_reset))
        .routes(routes!(admin::get_organisation, admin::patch_organisation))
        .routes(routes!(admin::list_sites, admin::create_site))
        .routes(routes!(admin::rename_site, admin::delete_site))
        .routes(routes!(audit::list))
        .routes(routes!(imports::list, imports::create))
        .routes(routes!(imports::get))
        .routes(routes!(api_keys::list_api_keys, api_keys::create_api_key))
        .routes(routes!(api_keys::revoke_api_key))
        .routes(routes!(
            api_keys::list_scim_tokens,
            api_keys::create_scim_token
        ))
        .routes(routes!(api_keys::revoke_scim_token))
        .routes(routes!(scim_groups::list))
        .routes(routes!(scim_groups::map_roles))
        .routes(routes!(reservations::create))
        .routes(routes!(reservations::cancel))
        .routes(routes!(reservations::check_in))
        .routes(routes!(reservations::mine))
        .routes(routes!(reservations::site_day))
        .routes(routes!(me::get_profile, me::patch_profile))
        .routes(routes!(me::get_preferences, me::patch_preferences))
        .routes(routes!(me::organisations))
        .routes(routes!(me::switch_organisation))
        .routes(routes!(me::sessions))
        .routes(routes!(me::end_session))
        .routes(routes!(avatar::start_upload, avatar::remove))
        .routes(routes!(avatar::confirm_upload))
        .routes(routes!(vehicles::list, vehicles::create))
        .routes(routes!(vehicles::rename, vehicles::remove))
        .routes(routes!(vehicles::list_of_user))
        .routes(routes!(vehicles::remove_of_user))
        .routes(routes!(devices::list, devices::register))
        .routes(routes!(devices::update, devices::remove))
        .routes(routes!(directory::search))
        .routes(routes!(directory::colleague))
}

/// The OpenAPI 3.1 document of the API (served at `GET /v1/openapi.json`).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    openapi::finish(routes().into_openapi())
}

pub fn router(state: AppState) -> Router {
    let (routes, _) = routes().split_for_parts();
    routes
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            (|| axum::response::IntoResponse::into_response(ApiError::NotFound))
                as fn() -> axum::response::Response,
            roster_bootstrap::refuse_undecodable_paths,
        ))
        .layer(axum::middleware::map_response(roster_bootstrap::no_store))
        .layer(browser_access(&state.config.app_url))
        .layer(axum::middleware::from_fn(roster_bootstrap::log_request))
        .with_state(state)
}

/// Browsers may call the API from the web app only (the origin of `ROSTER_APP_URL`): its
/// preflights are answered here (API Gateway passes `OPTIONS` to the `ANY` route), and its
/// scripts may send the headers the API reads and read those it answers (`ETag` for `If-Match`,
/// `Retry-After`). Sessions are bearer tokens, never cookies, so no credentials are allowed.
fn browser_access(app_url: &str) -> CorsLayer {
    use axum::http::{HeaderName, Method, header};
    let allowed = app_origin(app_url).map_or_else(|| AllowOrigin::list([]), AllowOrigin::exact);
    CorsLayer::new()
        .allow_origin(allowed)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-api-key"),
        ])
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// The origin of `app_url` as a browser sends it in `Origin` (host lowercased, a default port
/// left out); `None` for a URL that has none.
fn app_origin(app_url: &str) -> Option<axum::http::HeaderValue> {
    let origin = reqwest::Url::parse(app_url).ok()?.origin();
    origin
        .is_tuple()
        .then(|| axum::http::HeaderValue::from_str(&origin.ascii_serialization()).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_web_apps_origin_is_written_as_browsers_send_it() {
        for (url, origin) in [
            ("https://app.example.com", "https://app.example.com"),
            (
                "https://App.Example.COM:443/roster/",
                "https://app.example.com",
            ),
            ("http://localhost:5173/", "http://localhost:5173"),
            ("HTTPS://app.example.com", "https://app.example.com"),
        ] {
            assert_eq!(app_origin(url).unwrap(), origin, "{url}");
            assert_eq!(app_url(url.to_owned()).unwrap(), url);
        }
        for wrong in [
            "app.example.com",
            "mailto:ops@example.com",
            "ftp://example.com",
            "",
        ] {
            assert!(app_url(wrong.to_owned()).is_err(), "{wrong}");
        }
    }
}
