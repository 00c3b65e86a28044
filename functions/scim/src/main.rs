//! Composition root of the SCIM function: logs, serve.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    roster_bootstrap::init_tracing();
    roster_bootstrap::serve(scim::router()).await?;
    Ok(())
}
