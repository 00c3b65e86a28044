//! SCIM: the organisation's bearer tokens, minted by an Admin, decide who may provision.

use roster_e2e::{TestApp, organisation, spawn_app, stack};
use serde_json::{Value, json};

async fn scim_status(app: &TestApp, token: Option<&str>) -> (u16, Value) {
    let mut request = app.http.get(app.url("/scim/v2/Users"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 401 {
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
    assert_eq!(response.headers()["content-type"], "application/scim+json");
    (status, response.json().await.unwrap())
}

async fn mint(app: &TestApp, admin: &str, name: &str) -> (String, String) {
    let response = app
        .post("/v1/admin/scim-tokens", admin, &json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    (
        created["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn scim_tokens_are_shown_once_rotate_with_overlap_and_stop_working_when_revoked() {
    let app = spawn_app(&stack().await.functions()).await;
    let (_, admin) = organisation(&app, json!({})).await;

    let (status, error) = scim_status(&app, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        error["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(scim_status(&app, Some("not-a-token")).await.0, 401);

    let (old_id, old) = mint(&app, &admin, "Entra ID").await;
    assert_ne!(
        scim_status(&app, Some(&old)).await.0,
        401,
        "a live token is admitted"
    );

    // Rotation: the new token works beside the old one until the old one is revoked.
    let (_, new) = mint(&app, &admin, "Entra ID (rotated)").await;
    assert_ne!(scim_status(&app, Some(&new)).await.0, 401);
    assert_ne!(scim_status(&app, Some(&old)).await.0, 401);
    let listed: Value = app
        .get("/v1/admin/scim-tokens", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert!(
        !listed.to_string().contains(&old) && !listed.to_string().contains(&new),
        "a listing never shows a secret"
    );
    let revoked = app
        .delete(&format!("/v1/admin/scim-tokens/{old_id}"), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(scim_status(&app, Some(&old)).await.0, 401);
    assert_ne!(scim_status(&app, Some(&new)).await.0, 401);
}

#[tokio::test]
async fn an_api_key_is_not_a_scim_token_nor_the_other_way_round() {
    let app = spawn_app(&stack().await.functions()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let key: Value = app
        .post("/v1/admin/api-keys", &admin, &json!({ "name": "Bookings" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        scim_status(&app, Some(key["key"].as_str().unwrap()))
            .await
            .0,
        401
    );

    let (id, _) = mint(&app, &admin, "Entra ID").await;
    let wrong_kind = app
        .delete(&format!("/v1/admin/api-keys/{id}"), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        wrong_kind.status(),
        404,
        "a SCIM token is not revoked as an API key"
    );
}
