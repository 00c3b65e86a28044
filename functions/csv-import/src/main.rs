//! Composition root of the import function: logs, SDK clients, run on S3 events.

use csv_import::{Importer, Invitations};
use lambda_runtime::{LambdaEvent, service_fn};
use roster_bootstrap::{optional_env, required_env};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    roster_bootstrap::init_tracing();
    let aws = roster_bootstrap::aws_config().await;
    let table = roster_store::DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&aws),
        required_env("ROSTER_TABLE_NAME")?,
    );
    let invitations = Invitations {
        mailer: roster_notify::SesMailer::new(
            aws_sdk_sesv2::Client::new(&aws),
            required_env("ROSTER_SENDER_ADDRESS")?,
            optional_env("ROSTER_SES_CONFIGURATION_SET"),
        ),
        app_url: required_env("ROSTER_APP_URL")?,
    };
    let importer = Importer::new(aws_sdk_s3::Client::new(&aws), table, invitations);
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        let importer = importer.clone();
        async move { importer.handle(event).await }
    }))
    .await
}
