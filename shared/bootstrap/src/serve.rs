use std::time::Instant;

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use lambda_http::RequestExt;
use tracing::Instrument;

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

/// Runs each request inside a `request` span (method, the route it matched, as its template, so
/// no id or mistaken secret in a path is logged; the Lambda request id when on Lambda; and
/// `organisation` once the caller is known: see `record_organisation`), so
/// every log line of the request carries them, and logs one `info` line when it is answered
/// (status, milliseconds). Nothing of the body, the query or the headers is logged.
pub async fn log_request(request: Request, next: Next) -> Response {
    // The span keeps what it is given at creation, so it can borrow from the request.
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or("(no route)", MatchedPath::as_str),
        request_id = request
            .lambda_context_ref()
            .map(|context| context.request_id.as_str()),
        organisation = tracing::field::Empty,
    );
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "request answered"
        );
    });
    response
}

/// Answers a request whose path's percent-escapes are not UTF-8 with the router's own 404,
/// `not_found` (axum's path extraction would answer 400 in plain text, outside the API's error
/// format): such a path names no resource. Layer it with `from_fn_with_state(not_found, ..)`.
pub async fn refuse_undecodable_paths(
    State(not_found): State<fn() -> Response>,
    request: Request,
    next: Next,
) -> Response {
    if percent_encoding::percent_decode_str(request.uri().path())
        .decode_utf8()
        .is_ok()
    {
        next.run(request).await
    } else {
        not_found()
    }
}

/// Records the organisation of the request being served (inside `log_request`'s span).
pub fn record_organisation(organisation: &dyn std::fmt::Display) {
    tracing::Span::current().record("organisation", tracing::field::display(organisation));
}

/// Marks an answer `Cache-Control: no-store` unless it says otherwise: every answer of the APIs
/// is one caller's, and some carry tokens, keys, PINs or recovery codes that no browser or proxy
/// cache may keep. Layer it with `axum::middleware::map_response(no_store)`.
pub async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(axum::http::header::CACHE_CONTROL)
        .or_insert(axum::http::HeaderValue::from_static("no-store"));
    response
}

/// The token of `Authorization: Bearer <token>`; the scheme's name is matched in any case (RFC
/// 9110 section 11.1), and an empty token is none.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue, header::AUTHORIZATION};

    fn token_of(value: &str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        bearer_token(&headers).map(str::to_owned)
    }

    #[test]
    fn the_bearer_scheme_is_matched_in_any_case_and_needs_a_token() {
        for value in ["Bearer abc", "bearer abc", "BEARER  abc "] {
            assert_eq!(token_of(value).as_deref(), Some("abc"), "{value}");
        }
        for value in ["Basic abc", "Bearer ", "Bearerabc", "abc"] {
            assert_eq!(token_of(value), None, "{value}");
        }
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
