//! Composition root of the jobs function: logs, configuration, clients, run on EventBridge
//! scheduled events.
// The handler's future nests every job's store calls; computing its layout needs more than the
// default query depth of 128.
#![recursion_limit = "256"]

use jobs::{Clients, Config, Jobs};
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    roster_bootstrap::init_tracing();
    let config = Config::from_env()?;
    let aws = roster_bootstrap::aws_config().await;
    let jobs = Jobs::new(
        Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(&aws),
            ses: aws_sdk_sesv2::Client::new(&aws),
            sns: aws_sdk_sns::Client::new(&aws),
        },
        &config,
    )?;
    let jobs = &jobs;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        jobs.handle(event).await
    }))
    .await
}
