//! Composition root of the SCIM function: logs, the table, serve.

use roster_bootstrap::required_env;
use roster_store::DynamoTable;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    roster_bootstrap::init_tracing();
    let aws = roster_bootstrap::aws_config().await;
    let table = DynamoTable::new(
        aws_sdk_dynamodb::Client::new(&aws),
        required_env("ROSTER_TABLE_NAME")?,
    );
    roster_bootstrap::serve(scim::router(table)).await?;
    Ok(())
}
