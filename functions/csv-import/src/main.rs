//! Composition root of the import function: logs, SDK clients, run on S3 events.

use csv_import::Importer;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    roster_bootstrap::init_tracing();
    let aws = roster_bootstrap::aws_config().await;
    let table = roster_store::DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&aws),
        std::env::var("ROSTER_TABLE_NAME")?,
    );
    let importer = Importer::new(aws_sdk_s3::Client::new(&aws), table);
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        let importer = importer.clone();
        async move { importer.handle(event).await }
    }))
    .await
}
