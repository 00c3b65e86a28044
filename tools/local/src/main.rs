//! `roster-local provision` creates the template's resources on the local stack;
//! `roster-local dev` also serves the functions as `make dev` describes.

use roster_local::{LocalConfig, dev, provision::provision, template::Template};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    roster_bootstrap::init_tracing();
    let config = LocalConfig::from_env()?;
    let aws = roster_bootstrap::aws_config().await;
    match std::env::args().nth(1).as_deref() {
        Some("provision") => {
            let template = Template::load(&config.template, &config.stack_name)?;
            provision(&aws, &template, &config).await?;
        }
        Some("dev") => {
            let options = dev::DevOptions {
                port: roster_bootstrap::optional_env("PORT")
                    .unwrap_or_else(|| "3000".to_owned())
                    .parse()?,
                dev_json: roster_bootstrap::optional_env("ROSTER_DEV_JSON")
                    .unwrap_or_else(|| ".local/dev.json".to_owned())
                    .into(),
                aws_endpoint: roster_bootstrap::required_env("AWS_ENDPOINT_URL")?,
                dynamodb_endpoint: roster_bootstrap::required_env("AWS_ENDPOINT_URL_DYNAMODB")?,
            };
            dev::run(aws, config, options).await?;
        }
        _ => return Err("usage: roster-local provision|dev".into()),
    }
    Ok(())
}
