//! `make dev`: resources from the template, the functions on one local port, the bucket watched
//! and the schedules run, `.local/dev.json` written once ready.

use std::{path::PathBuf, time::Duration};

use aws_config::SdkConfig;
use axum::Router;
use chrono::Utc;
use serde_json::{Value, json};

use crate::{
    Functions, LocalConfig, clients,
    events::{s3_put_event, scheduled_event},
    functions::{InvokeError, invoke_route},
    provision::{ProvisionError, provision},
    template::{ScheduleDefinition, Template, TemplateError},
    watch::BucketWatcher,
};

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error("watching the import bucket: {0}")]
    Watch(#[from] aws_sdk_s3::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("seeding the demo organisation: {0}")]
    Seed(String),
}

/// Where the local server listens and what it tells its users.
pub struct DevOptions {
    pub port: u16,
    pub dev_json: PathBuf,
    /// Endpoints to publish in dev.json.
    pub aws_endpoint: String,
    pub dynamodb_endpoint: String,
}

/// The local server's routes: the HTTP API plus the local invoke route.
pub fn local_router(functions: &Functions) -> Router {
    functions.http_api().merge(invoke_route(functions.clone()))
}

pub async fn run(aws: SdkConfig, config: LocalConfig, options: DevOptions) -> Result<(), DevError> {
    let template = Template::load(&config.template, &config.stack_name)?;
    let push = provision(&aws, &template, &config).await?;
    let functions = Functions::new(&clients(&aws), &config, &push, profile_api::system_clock());
    let demo = seed_demo_organisation(&functions, &config).await?;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
    let base_url = format!("http://{}", listener.local_addr()?);

    let watcher =
        BucketWatcher::start(aws_sdk_s3::Client::new(&aws), &config.import_bucket).await?;
    tokio::spawn(watch_imports(watcher, functions.clone(), config.clone()));
    for schedule in template.schedules {
        tokio::spawn(run_schedule(
            schedule,
            functions.clone(),
            config.region.clone(),
        ));
    }

    let dev_json = json!({
        "base_url": base_url,
        "organisation_id": demo.organisation_id,
        "admin_email": demo.admin_email,
        "admin_password": demo.admin_password,
        "platform_token": config.platform_token,
        "import_bucket": config.import_bucket,
        "aws_endpoint": options.aws_endpoint,
        "dynamodb_endpoint": options.dynamodb_endpoint,
        "outbox_url": format!("{}/_roster/outbox", options.aws_endpoint),
    });
    if let Some(parent) = options.dev_json.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&options.dev_json, serde_json::to_string_pretty(&dev_json)?)?;
    println!(
        "Roster is ready at {base_url} (details in {})",
        options.dev_json.display()
    );

    axum::serve(listener, local_router(&functions))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// The demo organisation's login, as dev.json shows it.
pub struct DemoLogin {
    pub organisation_id: String,
    pub admin_email: String,
    pub admin_password: String,
}

/// Creates the demo organisation and its admin through the platform endpoint, as an operator would.
pub async fn seed_demo_organisation(
    functions: &Functions,
    config: &LocalConfig,
) -> Result<DemoLogin, DevError> {
    let token = config
        .platform_token
        .as_deref()
        .ok_or_else(|| DevError::Seed("ROSTER_PLATFORM_TOKEN is not set".to_owned()))?;
    let admin_email = "admin@demo.roster.example".to_owned();
    let admin_password = format!("Demo-{}-Aa1", &roster_domain::session::new_secret()[..16]);
    let body = json!({
        "name": "Demo Organisation",
        "settings": {
            "default_time_zone": "Europe/Berlin",
            "vehicles_enabled": true,
            "allow_hide_profile": true,
            "checkin_enabled": true
        },
        "admin": { "first_name": "Dana", "last_name": "Admin", "email": admin_email, "password": admin_password }
    });
    let request = axum::http::Request::post("/v1/platform/organisations")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .map_err(|e| DevError::Seed(e.to_string()))?;
    let Ok(response) = tower::ServiceExt::oneshot(functions.http_api(), request).await;
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .map_err(|e| DevError::Seed(e.to_string()))?;
    let answer: Value = serde_json::from_slice(&bytes)?;
    if status != axum::http::StatusCode::CREATED {
        return Err(DevError::Seed(format!("{status}: {answer}")));
    }
    Ok(DemoLogin {
        organisation_id: answer["organisation"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        admin_email,
        admin_password,
    })
}

/// Every second: new objects in the import bucket go to csv-import as one S3 put event.
async fn watch_imports(mut watcher: BucketWatcher, functions: Functions, config: LocalConfig) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        match watcher.poll().await {
            Ok(created) if created.is_empty() => {}
            Ok(created) => {
                let event =
                    s3_put_event(&config.import_bucket, &config.region, Utc::now(), &created);
                report("csv-import", functions.invoke("csv-import", event).await);
            }
            Err(error) => tracing::warn!(%error, "polling the import bucket failed"),
        }
    }
}

/// Fires the schedule's rule every period, with the scheduled event EventBridge would send.
async fn run_schedule(schedule: ScheduleDefinition, functions: Functions, region: String) {
    let mut tick = tokio::time::interval(schedule.every);
    tick.tick().await; // EventBridge's first run comes one period after the rule is created.
    loop {
        tick.tick().await;
        let event = scheduled_event(&schedule.rule_name, Utc::now(), &region);
        report("jobs", functions.invoke("jobs", event).await);
    }
}

fn report(function: &str, outcome: Result<Value, InvokeError>) {
    match outcome {
        Ok(result) => tracing::info!(function, %result, "invocation finished"),
        Err(error) => tracing::error!(function, %error, "invocation failed"),
    }
}
