//! Composition root of the jobs function: logs, run on EventBridge scheduled events.

use lambda_runtime::service_fn;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    roster_bootstrap::init_tracing();
    lambda_runtime::run(service_fn(jobs::handle)).await
}
