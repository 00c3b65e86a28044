//! Tenant isolation, generated from the route table: every operation the document lists (and the
//! router serves: `openapi.rs` checks both agree) is called with another organisation's session
//! or API key, aimed at the first organisation's objects; nothing of the first may come back, and
//! nothing of it may change.

use roster_domain::ids::UserId;
use roster_e2e::{TestApp, organisation, spawn_app, stack, unique_email};
use serde_json::{Value, json};

/// The first organisation's objects, as its admin created them.
struct Victim {
    admin: String,
    key: String,
    /// Path parameter name -> this organisation's id for it.
    ids: Vec<(&'static str, String)>,
    /// Strings only this organisation's answers contain.
    secrets: Vec<String>,
}

impl Victim {
    fn id(&self, parameter: &str) -> &str {
        self.ids
            .iter()
            .find(|(name, _)| *name == parameter)
            .map(|(_, id)| id.as_str())
            .unwrap_or_else(|| {
                panic!("no object of the victim for the path parameter {{{parameter}}}: add one")
            })
    }

    async fn new(app: &TestApp) -> Self {
        let (organisation, admin) = organisation(
            app,
            json!({ "checkin_enabled": true, "vehicles_enabled": true }),
        )
        .await;
        let email = unique_email("victim");
        let user = app
            .post_json(
                "/v1/admin/users",
                &admin,
                &json!({ "first_name": "Vic", "last_name": "Tim", "email": email }),
            )
            .await;
        let site = app
            .post_json("/v1/admin/sites", &admin, &json!({ "name": "Victim Site" }))
            .await;
        let key = app
            .post_json(
                "/v1/admin/api-keys",
                &admin,
                &json!({ "name": "Victim feed" }),
            )
            .await;
        let scim_token = app
            .post_json(
                "/v1/admin/scim-tokens",
                &admin,
                &json!({ "name": "Victim SCIM" }),
            )
            .await;
        let vehicle = app
            .post_json(
                "/v1/me/vehicles",
                &admin,
                &json!({ "name": "Victim car", "plate_number": "VIC 7001" }),
            )
            .await;
        let device = app
            .post_json(
                "/v1/me/devices",
                &admin,
                &json!({ "platform": "ios", "name": "Victim phone", "token": format!("victim-{}", UserId::generate()) }),
            )
            .await;
        let import = app
            .post_json("/v1/admin/imports", &admin, &json!({ "mode": "add" }))
            .await;
        let key_secret = key["key"].as_str().unwrap().to_owned();
        let reservation: Value = app
            .http
            .post(app.url("/v1/reservations"))
            .bearer_auth(&key_secret)
            .json(&json!({
                "user_id": organisation.admin_id, "resource_type": "desk",
                "resource_name": "Victim desk", "site_id": site["id"],
                "start": "2034-04-04T09:00:00Z", "end": "2034-04-04T17:00:00Z"
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sessions = app.json("/v1/me/sessions", &admin).await;
        let session = sessions["items"][0]["id"].as_str().unwrap().to_owned();
        let text = |created: &Value| {
            created["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no id in {created}"))
                .to_owned()
        };
        let ids = vec![
            ("organisation", organisation.id.clone()),
            ("user", text(&user)),
            ("site", text(&site)),
            ("key_id", text(&key)),
            ("token_id", text(&scim_token)),
            ("vehicle", text(&vehicle)),
            ("device", text(&device)),
            ("import", text(&import)),
            ("reservation", text(&reservation)),
            ("session", session),
            ("group", "victim-group".to_owned()),
        ];
        let mut secrets: Vec<String> = ids
            .iter()
            .filter(|(name, _)| *name != "group")
            .map(|(_, id)| id.clone())
            .collect();
        secrets.extend([
            organisation.admin_id.clone(),
            organisation.admin_email.clone(),
            email,
            "Victim".to_owned(),
            "VIC7001".to_owned(),
            "VIC 7001".to_owned(),
            key_secret.clone(),
        ]);
        Self {
            admin,
            key: key_secret,
            ids,
            secrets,
        }
    }

    /// What the victim's admin sees of their organisation: must be the same after the attack.
    async fn snapshot(&self, app: &TestApp) -> Vec<(String, Value)> {
        let user = self.id("user");
        let mut seen = Vec::new();
        for path in [
            "/v1/me".to_owned(),
            "/v1/me/preferences".to_owned(),
            "/v1/me/vehicles".to_owned(),
            "/v1/me/devices".to_owned(),
            "/v1/me/reservations".to_owned(),
            "/v1/admin/organisation".to_owned(),
            "/v1/admin/users".to_owned(),
            format!("/v1/admin/users/{user}"),
            "/v1/admin/sites".to_owned(),
            "/v1/admin/api-keys".to_owned(),
            "/v1/admin/scim-tokens".to_owned(),
            "/v1/admin/scim-groups".to_owned(),
            "/v1/admin/imports".to_owned(),
            "/v1/admin/audit".to_owned(),
        ] {
            let value = app.json(&path, &self.admin).await;
            seen.push((path, value));
        }
        seen
    }
}

/// A body that would do something to the victim's object if the route let it: for every
/// operation with a path parameter and a body, and the feed's booking (which names a person and
/// a site). Other bodies act on the caller's own organisation and only need to be JSON.
fn attack_body(method: &str, template: &str, victim: &Victim) -> Option<Value> {
    Some(match (method, template) {
        ("PATCH", "/v1/admin/users/{user}") => json!({ "department": "Taken over" }),
        ("PATCH", "/v1/admin/sites/{site}") => json!({ "name": "Taken over" }),
        ("PATCH", "/v1/me/vehicles/{vehicle}") => json!({ "name": "Taken over" }),
        ("PATCH", "/v1/me/devices/{device}") => {
            json!({ "name": "Taken over", "push_enabled": false })
        }
        ("PUT", "/v1/admin/scim-groups/{group}/roles") => {
            json!({ "roles": [{ "role": "Admin" }] })
        }
        ("POST", "/v1/reservations") => json!({
            "user_id": victim.id("user"), "resource_type": "desk", "resource_name": "Taken over",
            "site_id": victim.id("site"), "start": "2034-05-05T09:00:00Z", "end": "2034-05-05T10:00:00Z"
        }),
        _ => return None,
    })
}

#[tokio::test]
async fn no_route_shows_or_changes_another_organisations_data() {
    let app = spawn_app(&stack().await.functions()).await;
    let victim = Victim::new(&app).await;
    let (_, attacker) = organisation(
        &app,
        json!({ "checkin_enabled": true, "vehicles_enabled": true }),
    )
    .await;
    let attacker_key = app
        .post_json(
            "/v1/admin/api-keys",
            &attacker,
            &json!({ "name": "Attacker feed" }),
        )
        .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = victim.snapshot(&app).await;
    let document = app.json("/v1/openapi.json", &attacker).await;

    let mut operations = Vec::new();
    for (template, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations.push((method.to_uppercase(), template.clone(), operation.clone()));
        }
    }
    // The attacker's own logout last, so that every other call runs with a live session.
    operations.sort_by_key(|(method, template, _)| (template == "/v1/auth/logout", method.clone()));
    let mut attacked = 0;
    for (method, template, operation) in &operations {
        let schemes: Vec<&String> = operation["security"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|requirement| requirement.as_object().unwrap().keys())
            .collect();
        // Operations without a caller organisation are not tenant-scoped: the public ones
        // (login, resets, the document) and the platform operator's.
        let credential = match schemes.first().map(|s| s.as_str()) {
            Some("session") => &attacker,
            Some("api_key") => &attacker_key,
            _ => continue,
        };
        let path: String = template
            .split('/')
            .map(
                |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(parameter) => victim.id(parameter).to_owned(),
                    None => part.to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join("/");
        // Required query parameters get values that would find the victim's data.
        let query: Vec<(&str, &str)> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .map(|p| {
                let name = p["name"].as_str().unwrap();
                let value = match name {
                    "date" => "2034-04-04",
                    "q" => "Vic",
                    _ => panic!("{method} {template}: give the query parameter {name} a value"),
                };
                (name, value)
            })
            .collect();
        let takes_body = !operation["requestBody"].is_null();
        let aims_at_victim = template.contains('{');
        let body = attack_body(method, template, &victim);
        assert!(
            !(takes_body && aims_at_victim && body.is_none()),
            "{method} {template}: give it an attack body in attack_body()"
        );
        let mut request = app
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(&path),
            )
            .bearer_auth(credential)
            .query(&query);
        if takes_body {
            request = request.json(&body.unwrap_or_else(|| json!({})));
        }
        if method == "PATCH" {
            // The victim's current version where they can read it, so that only the tenant
            // check can stop the write.
            let read = app.get(&path, &victim.admin).send().await.unwrap();
            let etag = read
                .headers()
                .get("etag")
                .map_or("\"1\"".to_owned(), |v| v.to_str().unwrap().to_owned());
            request = request.header("if-match", etag);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let answer = response.text().await.unwrap().replace(&path, "");
        let name = format!("{method} {template}");
        assert!(status < 500, "{name}: {status} {answer}");
        if aims_at_victim {
            assert!(
                !(200..300).contains(&status),
                "{name} on the victim's object answered {status}: {answer}"
            );
        }
        for secret in &victim.secrets {
            assert!(
                !answer.contains(secret.as_str()),
                "{name} answered the victim's {secret}: {answer}"
            );
        }
        attacked += 1;
    }
    assert!(attacked > 40, "only {attacked} operations were called");

    assert_eq!(
        victim.snapshot(&app).await,
        before,
        "the victim's organisation changed"
    );
    // The victim's feed key still works.
    let own = app
        .http
        .post(app.url(&format!(
            "/v1/reservations/{}/check-in",
            victim.id("reservation")
        )))
        .bearer_auth(&victim.key)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
}
