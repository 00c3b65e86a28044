//! The OpenAPI 3.1 document of the API, served at `GET /v1/openapi.json`.
//!
//! Operations are described where they are routed (`#[utoipa::path]` on each handler, registered
//! with `routes!` in `lib.rs`), so a route cannot exist without its description. Request bodies
//! are parsed by hand in the domain (to name every wrong field), so the types here only describe
//! them: `#[serde(deny_unknown_fields)]` becomes `additionalProperties: false`, as the parsers
//! refuse unknown fields. `finish` adds the problem+json answers every operation of a kind can
//! give (see there), so handlers list only the errors particular to them.

use std::sync::LazyLock;

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        Content, OpenApi as Document, RefOr, ResponseBuilder,
        path::{Operation, ParameterIn},
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

mod schemas;
pub use schemas::*;

/// The security scheme names operations refer to.
pub const SESSION: &str = "session";
pub const API_KEY: &str = "api_key";
pub const PLATFORM: &str = "platform";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster API",
        description = "The user and profile service of a workplace-booking SaaS. Errors are \
            application/problem+json (RFC 9457) with a stable `code`.",
    ),
    components(schemas(crate::problem::Problem)),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            SESSION,
            bearer("A session token from `POST /v1/auth/login` (or the MFA or invitation step)."),
        );
        components.add_security_scheme(
            API_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "An organisation API key from `POST /v1/admin/api-keys` (also accepted as a \
                 bearer token).",
            ))),
        );
        components.add_security_scheme(
            PLATFORM,
            bearer("The platform operator's token (its SHA-256 is configured)."),
        );
    }
}

/// The document of `operations`, completed with the answers every operation of a kind gives:
/// - with a JSON body: 400 (not JSON, not an object), 413 (over `BODY_LIMIT_BYTES`), 415 (not
///   `application/json`) and 422 (a field unknown or invalid);
/// - with a query string: 400 (malformed);
/// - with a path parameter: 404 (no such resource, or not visible to the caller);
/// - with a credential: 401 (missing, unknown, expired or revoked);
/// - with a session: 403 (a role that does not allow it, or a session limited to completing a
///   password change or 2FA enrolment).
///
/// Every 4xx answer an operation lists carries the `Problem` body.
pub fn finish(mut document: Document) -> Document {
    for item in document.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            complete(operation);
        }
    }
    document
}

fn complete(operation: &mut Operation) {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let located = |place: ParameterIn| {
        parameters
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
    };
    let (with_query, with_path) = (located(ParameterIn::Query), located(ParameterIn::Path));
    // A requirement serialises as `{scheme: scopes}`; `{}` is "no credential".
    let schemes: Vec<String> = serde_json::to_value(&operation.security)
        .ok()
        .and_then(|value| value.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(serde_json::Value::as_object)
        .flat_map(|requirement| requirement.keys().cloned())
        .collect();
    let mut common: Vec<(&str, &str)> = Vec::new();
    if operation.request_body.is_some() {
        common.extend([
            ("400", "The body is not a JSON object."),
            ("413", "The body is too large."),
            ("415", "The body is not `application/json`."),
            ("422", "A field is unknown or invalid; `errors` names each."),
        ]);
    }
    if with_query {
        common.push(("400", "The query string is malformed."));
    }
    if with_path {
        common.push(("404", "There is no such resource (for the caller)."));
    }
    if !schemes.is_empty() {
        common.push((
            "401",
            "The credential is missing, unknown, expired or revoked.",
        ));
    }
    if schemes.iter().any(|s| s == SESSION) {
        common.push((
            "403",
            "The caller's roles do not allow it, or the session must first complete a password \
             change or 2FA enrolment.",
        ));
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in common {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(description).build()));
    }
    for (status, response) in responses.iter_mut() {
        if let (true, RefOr::T(response)) = (status.starts_with('4'), response) {
            response.content.clear();
            response.content.insert(
                "application/problem+json".to_owned(),
                RefOr::T(Content::new(Some(RefOr::Ref(
                    utoipa::openapi::Ref::from_schema_name("Problem"),
                )))),
            );
        }
    }
}

/// The document, built once from the router's registrations.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    serde_json::to_string(&crate::openapi_document()).expect("the document serialises")
});

/// `GET /v1/openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    operation_id = "openapi",
    tag = "meta",
    summary = "The OpenAPI 3.1 document of this API",
    security(()),
    responses((status = 200, description = "The document.", body = Object))
)]
pub async fn serve() -> Response {
    let mut response = DOCUMENT.as_str().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    /// POST, PUT and PATCH operations that take no body (the others must describe theirs).
    const WITHOUT_BODY: [&str; 11] = [
        "logout",
        "invite_user",
        "deactivate_user",
        "reactivate_user",
        "unlock_user",
        "reset_user_mfa",
        "platform_reset_user_mfa",
        "new_user_pin",
        "send_user_password_reset",
        "check_in_reservation",
        "switch_organisation",
    ];

    fn document() -> Value {
        serde_json::to_value(crate::openapi_document()).unwrap()
    }

    fn operations(document: &Value) -> Vec<(String, String, Value)> {
        let mut all = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                all.push((method.clone(), path.clone(), operation.clone()));
            }
        }
        all
    }

    #[test]
    fn the_document_is_openapi_3_1_with_the_problem_schema_and_its_security_schemes() {
        let document = document();
        assert_eq!(document["openapi"], "3.1.0");
        let schemes = &document["components"]["securitySchemes"];
        for scheme in [super::SESSION, super::PLATFORM] {
            assert_eq!(schemes[scheme]["scheme"], "bearer", "{scheme}");
        }
        let api_key = &schemes[super::API_KEY];
        assert_eq!(
            (&api_key["type"], &api_key["in"]),
            (&json!("apiKey"), &json!("header"))
        );
        assert_eq!(api_key["name"], "X-Api-Key");
        let problem = &document["components"]["schemas"]["Problem"]["properties"];
        for field in ["type", "title", "status", "code", "detail", "errors"] {
            assert!(problem.get(field).is_some(), "Problem.{field}");
        }
    }

    #[test]
    fn every_operation_has_a_summary_security_a_described_success_and_its_body() {
        let document = document();
        let operations = operations(&document);
        assert!(operations.len() > 60, "{} operations", operations.len());
        let mut ids = std::collections::BTreeSet::new();
        for (method, path, operation) in operations {
            let name = format!("{method} {path}");
            let id = operation["operationId"].as_str().unwrap().to_owned();
            assert!(ids.insert(id.clone()), "{name}: operationId {id} twice");
            assert!(
                operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{name}: no summary"
            );
            assert!(operation["security"].is_array(), "{name}: no security");
            let responses = operation["responses"].as_object().unwrap();
            let successes: Vec<_> = responses.keys().filter(|s| s.starts_with('2')).collect();
            assert!(!successes.is_empty(), "{name}: no success response");
            for status in successes {
                let content = &responses[status]["content"]["application/json"]["schema"];
                // 204 has no body; 202 may have one (an invitation's status) or none.
                match status.as_str() {
                    "204" => assert!(content.is_null(), "{name} {status}: a body schema"),
                    "202" => {}
                    _ => assert!(!content.is_null(), "{name} {status}: no body schema"),
                }
            }
            for (status, response) in responses {
                if status.starts_with('4') {
                    assert_eq!(
                        response["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{name} {status}"
                    );
                }
            }
            let body = &operation["requestBody"]["content"]["application/json"]["schema"];
            if ["post", "put", "patch"].contains(&method.as_str()) && !WITHOUT_BODY.contains(&&*id)
            {
                assert!(!body.is_null(), "{name}: no request body schema");
            }
            if !body.is_null() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{name}: no {status}");
                }
            }
        }
    }
}
