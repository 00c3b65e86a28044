//! Start-up shared by every Roster function: JSON logs, configuration read from the environment
//! (failing fast when it is incomplete), one AWS SDK configuration, and, for HTTP functions,
//! serving a router on Lambda or on a local port.

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig, timeout::TimeoutConfig};

#[cfg(feature = "http")]
mod serve;
#[cfg(feature = "http")]
pub use serve::{
    ServeError, bearer_token, log_request, no_store, record_organisation, refuse_undecodable_paths,
    serve,
};

/// A required setting is missing or malformed. Functions refuse to start on it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// The value of a required environment variable.
pub fn required_env(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError::Missing(name)),
    }
}

/// The value of an optional environment variable; empty counts as unset.
pub fn optional_env(name: &'static str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// JSON logs on stdout (CloudWatch reads them as structured records); level from `RUST_LOG`,
/// `info` by default. Safe to call more than once.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _already_set = tracing::subscriber::set_global_default(json_logs(filter, std::io::stdout));
}

/// The log format of every function: one JSON object a line, with the fields of the spans it
/// was written in (a request's id and organisation), its `level` and an RFC 3339 `timestamp`:
/// Lambda's log-level filtering reads a line without a valid timestamp as INFO, so with the
/// template's `LogLevel` at WARN every warning and error would be dropped.
pub fn json_logs<W>(filter: tracing_subscriber::EnvFilter, writer: W) -> impl tracing::Subscriber
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .with_writer(writer)
        .finish()
}

/// The shared AWS SDK configuration: region and credentials from the standard chain, endpoints
/// from the standard `AWS_ENDPOINT_URL_*` variables. Timeouts are short so that an unreachable
/// service gives a prompt error (a 503) instead of a hung request.
pub async fn aws_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(request_timeouts())
        .load()
        .await
}

/// Timeouts of every SDK call: a dead endpoint fails fast (connect), a slow one is cut off
/// (operation). There is deliberately no per-attempt timeout: an attempt cut off while the
/// service was still writing would be retried, and the retry of a conditional write that in
/// fact succeeded reads as a lost race (a false 412).
pub fn request_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_timeout(Duration::from_secs(5))
        .build()
}
