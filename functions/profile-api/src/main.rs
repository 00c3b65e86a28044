//! Composition root of the profile API: logs, config, SDK clients, serve.

use profile_api::{AppState, Clients, Config, router, system_clock};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    roster_bootstrap::init_tracing();
    let config = Config::from_env()?;
    let aws = roster_bootstrap::aws_config().await;
    let clients = Clients {
        dynamodb: aws_sdk_dynamodb::Client::new(&aws),
        s3: aws_sdk_s3::Client::new(&aws),
        sns: aws_sdk_sns::Client::new(&aws),
        ses: aws_sdk_sesv2::Client::new(&aws),
    };
    roster_bootstrap::serve(router(AppState::new(clients, config, system_clock()))).await?;
    Ok(())
}
