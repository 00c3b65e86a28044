//! Composition root of the profile API: logs, config, SDK clients, serve.

use profile_api::{AppState, Config, router};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    roster_bootstrap::init_tracing();
    let config = Config::from_env()?;
    let aws = roster_bootstrap::aws_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    roster_bootstrap::serve(router(AppState::new(dynamodb, &config))).await?;
    Ok(())
}
