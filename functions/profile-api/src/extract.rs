//! Request parsing at the edge: JSON object bodies with problem+json errors, `If-Match`,
//! `Idempotency-Key`, and typed reading of body fields that names every wrong field.

use std::collections::HashMap;

use axum::{
    Json,
    body::{Body, Bytes},
    extract::{FromRequest, FromRequestParts, Query, Request, rejection::JsonRejection},
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use roster_domain::{
    idempotency::IdempotencyKey,
    sealed::SealingKey,
    validation::{FieldProblem, ValidationErrors},
};
use roster_store::StoreError;
use serde_json::{Map, Value};

use crate::{ApiError, AppState};

/// A request body that is a JSON object.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<Value>::from_request(request, state).await {
            Ok(Json(Value::Object(object))) => Ok(Self(object)),
            Ok(Json(_)) => Err(ApiError::MalformedBody(
                "the body must be a JSON object".to_owned(),
            )),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
            Err(JsonRejection::BytesRejection(rejection)) if rejection.status() == 413 => {
                Err(ApiError::BodyTooLarge)
            }
            Err(rejection) => Err(ApiError::MalformedBody(rejection.body_text())),
        }
    }
}

/// A body whose every field is optional: a JSON object, or no body at all (read as `{}`, whatever
/// the content type says).
pub struct OptionalJsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let bytes = match Bytes::from_request(request, state).await {
            Ok(bytes) if bytes.is_empty() => return Ok(Self(Map::new())),
            Ok(bytes) => bytes,
            Err(rejection) if rejection.status() == 413 => return Err(ApiError::BodyTooLarge),
            Err(rejection) => return Err(ApiError::MalformedBody(rejection.body_text())),
        };
        let mut request = Request::new(Body::from(bytes));
        *request.headers_mut() = headers;
        let JsonObject(object) = JsonObject::from_request(request, state).await?;
        Ok(Self(object))
    }
}

/// The version a write was based on, from `If-Match: "<version>"` (weak tags accepted).
pub struct IfMatch(pub u64);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::IF_MATCH)
            .ok_or(ApiError::IfMatchRequired)?
            .to_str()
            .map_err(|_| {
                ApiError::field("If-Match", "invalid_etag", "must be an ETag from a read")
            })?;
        value
            .trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .parse()
            .map(IfMatch)
            .map_err(|_| ApiError::field("If-Match", "invalid_etag", "must be an ETag from a read"))
    }
}

/// The `Idempotency-Key` header, when the request sends one, as parsed: the handler reports a
/// wrong one beside the body's wrong fields.
pub struct RequestKey(pub Result<Option<IdempotencyKey>, FieldProblem>);

impl RequestKey {
    pub const HEADER: &str = "Idempotency-Key";

    /// An earlier request's answer, given again: 201, marked `Idempotent-Replayed: true`.
    pub fn replayed(answer: impl serde::Serialize) -> Response {
        let replayed = [("idempotent-replayed", "true")];
        (StatusCode::CREATED, replayed, Json(answer)).into_response()
    }

    /// 422: the key was sent before with a request that asked for something else (`what`).
    pub fn reused(what: &str) -> ApiError {
        ApiError::field(Self::HEADER, "idempotency_key_reused", what)
    }

    /// The answer of a twin request (the same key, sent at the same moment) whose write came
    /// first or is being written (a transaction conflict), from `replay`, once it is there:
    /// `None` if it never lands (the caller answers 409).
    pub async fn twin_answer<Replay>(
        mut replay: impl FnMut() -> Replay,
    ) -> Result<Option<Response>, ApiError>
    where
        Replay: Future<Output = Result<Option<Response>, ApiError>>,
    {
        for wait_ms in [0, 20, 80] {
            tokio::time::sleep(std::time::Duration::from_millis(wait_ms)).await;
            if let Some(earlier) = replay().await? {
                return Ok(Some(earlier));
            }
        }
        Ok(None)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let key = parts.headers.get(Self::HEADER).map(|value| {
            // A value that is not ASCII reads as empty, which the key refuses like any other.
            IdempotencyKey::try_from(value.to_str().unwrap_or_default())
        });
        Ok(Self(key.transpose()))
    }
}

/// Where a page of a list starts and how long it is: `limit` (1 to 200, 50 when absent) and
/// `cursor` (the `next_cursor` of the page before; empty or absent for the first page, as SCIM's
/// cursors are; a cursor the list did not hand out is 422).
///
/// A client sees the store's cursor sealed ([`Paging::next_cursor`]), so that it names no item:
/// a list that leaves items out after reading them (the directory its hidden profiles, the user
/// list the people a User Manager does not manage) would otherwise show their names and ids in
/// it. One that does not open is refused as the store refuses a cursor it did not make.
pub struct Paging {
    pub limit: i32,
    cursor: Option<String>,
    key: SealingKey,
}

/// What a cursor is sealed for, so that nothing else sealed under the key opens as one.
const CURSOR_PURPOSE: &str = "list cursor";

impl Paging {
    pub const DEFAULT_LIMIT: i32 = 50;
    pub const MAX_LIMIT: i32 = 200;

    pub fn from_query(query: &HashMap<String, String>, state: &AppState) -> Result<Self, ApiError> {
        Self::with_default(query, Self::DEFAULT_LIMIT, state)
    }

    /// As [`Paging::from_query`], for a list whose page holds `default` when `limit` is absent.
    pub fn with_default(
        query: &HashMap<String, String>,
        default: i32,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let limit = match query.get("limit") {
            Some(limit) => limit
                .parse::<i32>()
                .ok()
                .filter(|l| (1..=Self::MAX_LIMIT).contains(l))
                .ok_or_else(|| ApiError::field("limit", "invalid_limit", "must be 1 to 200"))?,
            None => default,
        };
        let key = state.config.sealing_key.clone();
        let cursor = match query.get("cursor").filter(|c| !c.is_empty()) {
            Some(sealed) => Some(
                key.open_for(CURSOR_PURPOSE, sealed)
                    .ok()
                    .and_then(|cursor| String::from_utf8(cursor).ok())
                    .ok_or(StoreError::InvalidCursor)?,
            ),
            None => None,
        };
        Ok(Self { limit, cursor, key })
    }

    /// The store's cursor this page starts after.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// The `next_cursor` to answer for the store's cursor after this page.
    pub fn next_cursor(&self, next: Option<String>) -> Option<String> {
        next.map(|cursor| self.key.seal_for(CURSOR_PURPOSE, cursor.as_bytes()))
    }
}

impl FromRequestParts<AppState> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::MalformedBody(rejection.body_text()))?;
        Self::from_query(&query, state)
    }
}

/// The strong ETag of a version.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// A JSON answer carrying the ETag of the version it shows.
pub fn with_etag(status: StatusCode, version: u64, body: Value) -> Response {
    carrying_etag((status, Json(body)).into_response(), version)
}

/// `response` with the ETag of `version`: the version a change wrote before it failed, for an
/// answer that tells of that failure.
pub fn carrying_etag(mut response: Response, version: u64) -> Response {
    response.headers_mut().insert(
        header::ETAG,
        HeaderValue::from_str(&etag(version)).expect("a quoted number is a valid header"),
    );
    response
}

/// Reads typed fields out of a body, collecting a problem for each wrong one.
pub struct Fields<'a> {
    body: &'a Map<String, Value>,
    allowed: &'static [&'static str],
    pub errors: ValidationErrors,
}

impl<'a> Fields<'a> {
    /// `allowed` lists every field the body may carry; others are reported as unknown.
    pub fn new(body: &'a Map<String, Value>, allowed: &'static [&'static str]) -> Self {
        Self {
            body,
            allowed,
            errors: ValidationErrors::default(),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.body.get(name).is_some_and(|v| !v.is_null())
    }

    /// A required value of any type.
    pub fn value(&mut self, name: &str) -> Option<&'a Value> {
        let value = self.body.get(name).filter(|v| !v.is_null());
        if value.is_none() {
            self.errors.push(name, "required", "is required");
        }
        value
    }

    /// A required string (not trimmed: passwords keep every character).
    pub fn string(&mut self, name: &str) -> Option<&'a str> {
        match self.body.get(name) {
            None | Some(Value::Null) => {
                self.errors.push(name, "required", "is required");
                None
            }
            Some(value) => self.errors.collect(
                name,
                value
                    .as_str()
                    .ok_or_else(|| FieldProblem::new("invalid_type", "must be a string")),
            ),
        }
    }

    pub fn optional_string(&mut self, name: &str) -> Option<&'a str> {
        if self.has(name) {
            self.string(name)
        } else {
            None
        }
    }

    pub fn optional_object(&mut self, name: &str) -> Option<&'a Map<String, Value>> {
        match self.body.get(name) {
            None | Some(Value::Null) => None,
            Some(value) => self.errors.collect(
                name,
                value
                    .as_object()
                    .ok_or_else(|| FieldProblem::new("invalid_type", "must be an object")),
            ),
        }
    }

    pub fn optional_u64(&mut self, name: &str) -> Option<u64> {
        match self.body.get(name) {
            None | Some(Value::Null) => None,
            Some(value) => self.errors.collect(
                name,
                value
                    .as_u64()
                    .ok_or_else(|| FieldProblem::new("invalid_type", "must be a whole number")),
            ),
        }
    }

    pub fn optional_bool(&mut self, name: &str) -> Option<bool> {
        match self.body.get(name) {
            None | Some(Value::Null) => None,
            Some(value) => self.errors.collect(
                name,
                value
                    .as_bool()
                    .ok_or_else(|| FieldProblem::new("invalid_type", "must be true or false")),
            ),
        }
    }

    /// Parses a value with a domain newtype, recording its problem under `name`.
    pub fn parse<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce() -> Result<T, FieldProblem>,
    ) -> Option<T> {
        self.errors.collect(name, parse())
    }

    /// Ok when every field was valid and known.
    pub fn finish(self) -> Result<(), ApiError> {
        self.into_errors()
            .into_result(())
            .map_err(ApiError::Validation)
    }

    /// Every problem found, the fields the body may not carry included.
    pub fn into_errors(mut self) -> ValidationErrors {
        for name in self.body.keys() {
            if !self.allowed.contains(&name.as_str()) {
                self.errors.push(
                    name,
                    "unknown_field",
                    format!("{name} is not accepted here"),
                );
            }
        }
        self.errors
    }
}
