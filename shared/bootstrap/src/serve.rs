use axum::Router;

/// Serving stopped with an error (the Lambda runtime failed, or the local port could not be bound).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("lambda runtime: {0}")]
    Lambda(lambda_http::Error),
    #[error("local server: {0}")]
    Local(#[from] std::io::Error),
}

/// Runs `app` under the Lambda runtime when Lambda started the process (its runtime API is set),
/// otherwise on `127.0.0.1:$PORT` (3000 by default) until Ctrl-C. The handlers are the same either way.
pub async fn serve(app: Router) -> Result<(), ServeError> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_http::run(app).await.map_err(ServeError::Lambda);
    }
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
