//! Composition root of the SCIM function: logs, the table, the mailer, the avatar bucket, serve.

use roster_bootstrap::{optional_env, required_env};
use roster_notify::SesMailer;
use roster_store::{DynamoTable, avatars::S3AvatarStore};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    roster_bootstrap::init_tracing();
    let aws = roster_bootstrap::aws_config().await;
    let table = DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&aws),
        required_env("ROSTER_TABLE_NAME")?,
    );
    let mailer = SesMailer::new(
        aws_sdk_sesv2::Client::new(&aws),
        required_env("ROSTER_SENDER_ADDRESS")?,
        optional_env("ROSTER_SES_CONFIGURATION_SET"),
    );
    let avatars = S3AvatarStore::new(
        aws_sdk_s3::Client::new(&aws),
        required_env("ROSTER_AVATAR_BUCKET")?,
    );
    roster_bootstrap::serve(scim::router(table, mailer, avatars)).await?;
    Ok(())
}
