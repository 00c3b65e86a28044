//! The OpenAPI document at `/v1/openapi.json` against the router that serves it: every documented
//! operation is routed, every documented request body is read by its handler, and the ETags
//! versioned resources answer are declared.

use roster_domain::ids::UserId;
use roster_e2e::{organisation, spawn_app, stack};
use serde_json::{Value, json};

/// Every `(method, path with ids filled in, operation)` of the document.
fn operations(document: &Value) -> Vec<(reqwest::Method, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete: String = path
            .split('/')
            .map(|part| if part.starts_with('{') { "0" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        for (method, operation) in item.as_object().unwrap() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            all.push((method, concrete.clone(), operation.clone()));
        }
    }
    all
}

fn schemes(operation: &Value) -> Vec<String> {
    operation["security"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|requirement| requirement.as_object().unwrap().keys().cloned())
        .collect()
}

#[tokio::test]
async fn the_document_is_served_without_credentials_and_each_operation_is_routed() {
    let app = spawn_app(&stack().await.functions()).await;
    let response = app
        .http
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    for (method, path, operation) in operations(&document) {
        // No credential and a body that is not JSON: the router's fallbacks would answer 404 or
        // 405; a routed operation answers 401 when it needs a credential.
        let response = app
            .http
            .request(method.clone(), app.url(&path))
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let name = format!("{method} {path}");
        if schemes(&operation).is_empty() {
            assert!(![404, 405].contains(&status), "{name}: {status}");
        } else {
            assert_eq!(status, 401, "{name}");
        }
    }
}

#[tokio::test]
async fn every_documented_request_body_is_read_as_json_by_its_handler() {
    let stack = stack().await;
    let app = spawn_app(&stack.functions()).await;
    let (_, session) = organisation(&app, json!({})).await;
    let key = app
        .post_json("/v1/admin/api-keys", &session, &json!({}))
        .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let document: Value = app.json("/v1/openapi.json", "").await;
    let mut bodies = 0;
    for (method, path, operation) in operations(&document) {
        if operation["requestBody"].is_null() {
            continue;
        }
        bodies += 1;
        let credential = match schemes(&operation).first().map(String::as_str) {
            Some("api_key") => key.as_str(),
            Some("platform") => stack.platform_token(),
            _ => session.as_str(),
        };
        // The extractors run before the handler: a body that is not JSON is refused whatever the
        // handler would do with the ids.
        let response = app
            .http
            .request(method.clone(), app.url(&path))
            .bearer_auth(credential)
            .header("if-match", "\"0\"")
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let problem: Value = response.json().await.unwrap();
        assert_eq!(
            (status, problem["code"].as_str()),
            (415, Some("unsupported_media_type")),
            "{method} {path}"
        );
    }
    assert!(bodies >= 30, "{bodies} operations with a body");
}

/// Found by schemathesis: an empty `q` reached DynamoDB as an empty key value (503).
#[tokio::test]
async fn an_empty_name_prefix_lists_every_user() {
    let app = spawn_app(&stack().await.functions()).await;
    let (organisation, session) = organisation(&app, json!({})).await;
    let response = app
        .get("/v1/admin/users?q=", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["items"][0]["id"], organisation.admin_id);
}

#[tokio::test]
async fn every_etag_a_versioned_resource_answers_is_declared_in_the_document() {
    let app = spawn_app(&stack().await.functions()).await;
    let document: Value = app
        .http
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, token) = organisation(&app, json!({ "vehicles_enabled": true })).await;
    // Sends the request and answers its JSON body and ETag after checking that the document
    // declares that ETag for `template` and the status answered.
    let declared = |method: &'static str,
                    template: &'static str,
                    request: reqwest::RequestBuilder| {
        let document = &document;
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let etag = response.headers()["etag"].to_str().unwrap().to_owned();
            let response_doc =
                &document["paths"][template][method]["responses"][status.to_string()];
            assert!(
                response_doc["headers"]["ETag"].is_object(),
                "{method} {template} answers {status} with an ETag the document does not declare"
            );
            (response.json::<Value>().await.unwrap(), etag)
        }
    };

    let (site, etag) = declared(
        "post",
        "/v1/admin/sites",
        app.post("/v1/admin/sites", &token, &json!({ "name": "Berlin" })),
    )
    .await;
    let path = format!("/v1/admin/sites/{}", site["id"].as_str().unwrap());
    declared(
        "patch",
        "/v1/admin/sites/{site}",
        app.patch(&path, &token, &etag, &json!({ "name": "Berlin Mitte" })),
    )
    .await;
    let (vehicle, etag) = declared(
        "post",
        "/v1/me/vehicles",
        app.post(
            "/v1/me/vehicles",
            &token,
            &json!({ "name": "Car", "plate_number": "B-RS 1" }),
        ),
    )
    .await;
    let path = format!("/v1/me/vehicles/{}", vehicle["id"].as_str().unwrap());
    declared(
        "patch",
        "/v1/me/vehicles/{vehicle}",
        app.patch(&path, &token, &etag, &json!({ "name": "Van" })),
    )
    .await;
    let (device, etag) = declared(
        "post",
        "/v1/me/devices",
        app.post(
            "/v1/me/devices",
            &token,
            &json!({ "platform": "ios", "name": "Phone", "token": format!("device-{}", UserId::generate()) }),
        ),
    )
    .await;
    let path = format!("/v1/me/devices/{}", device["id"].as_str().unwrap());
    declared(
        "patch",
        "/v1/me/devices/{device}",
        app.patch(&path, &token, &etag, &json!({ "push_enabled": false })),
    )
    .await;
    declared("get", "/v1/me", app.get("/v1/me", &token)).await;
    declared(
        "get",
        "/v1/admin/organisation",
        app.get("/v1/admin/organisation", &token),
    )
    .await;
}

#[tokio::test]
async fn the_web_app_may_call_every_operation_from_its_browser_and_read_the_headers_answered() {
    use std::collections::BTreeSet;
    let stack = stack().await;
    let app = spawn_app(&stack.functions()).await;
    let document = app.json("/v1/openapi.json", "").await;
    // What a browser sends and reads, by the document.
    let mut methods = BTreeSet::new();
    let mut sent = BTreeSet::from(["content-type".to_owned()]);
    let mut answered = BTreeSet::new();
    for item in document["paths"].as_object().unwrap().values() {
        for (method, operation) in item.as_object().unwrap() {
            methods.insert(method.to_uppercase());
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "header" {
                    sent.insert(parameter["name"].as_str().unwrap().to_lowercase());
                }
            }
            for response in operation["responses"].as_object().unwrap().values() {
                for name in response["headers"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|h| h.0)
                {
                    answered.insert(name.to_lowercase());
                }
            }
        }
    }
    for scheme in document["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .values()
    {
        sent.insert(match scheme["type"].as_str().unwrap() {
            "http" => "authorization".to_owned(),
            _ => scheme["name"].as_str().unwrap().to_lowercase(),
        });
    }
    assert!(sent.contains("if-match") && answered.contains("etag"));

    let listed = |response: &reqwest::Response, name: &str| -> BTreeSet<String> {
        response
            .headers()
            .get_all(name)
            .iter()
            .flat_map(|value| value.to_str().unwrap().split(','))
            .map(|item| item.trim().to_lowercase())
            .collect()
    };
    let app_origin = stack
        .config
        .app_url
        .splitn(4, '/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    let preflight = |origin: String| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/v1/me"))
            .header("origin", origin)
            .header("access-control-request-method", "PATCH")
            .header(
                "access-control-request-headers",
                sent.iter().cloned().collect::<Vec<_>>().join(","),
            )
            .send()
    };
    let allowed = preflight(app_origin.clone()).await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        app_origin.as_str()
    );
    let allowed_methods: BTreeSet<String> = listed(&allowed, "access-control-allow-methods")
        .into_iter()
        .map(|m| m.to_uppercase())
        .collect();
    assert!(
        allowed_methods.is_superset(&methods),
        "{allowed_methods:?} {methods:?}"
    );
    let allowed_headers = listed(&allowed, "access-control-allow-headers");
    assert!(
        allowed_headers.is_superset(&sent),
        "{allowed_headers:?} {sent:?}"
    );
    assert!(
        allowed
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );

    // Another origin's scripts may not: the origin allowed is the app's, which the browser
    // compares with its own.
    let elsewhere = preflight("https://elsewhere.example".to_owned())
        .await
        .unwrap();
    assert_eq!(
        elsewhere.headers().get("access-control-allow-origin"),
        allowed.headers().get("access-control-allow-origin")
    );

    let (_, token) = organisation(&app, json!({})).await;
    let read = app
        .get("/v1/me", &token)
        .header("origin", app_origin.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    assert_eq!(
        read.headers()["access-control-allow-origin"],
        app_origin.as_str()
    );
    let exposed = listed(&read, "access-control-expose-headers");
    assert!(exposed.is_superset(&answered), "{exposed:?} {answered:?}");
}
