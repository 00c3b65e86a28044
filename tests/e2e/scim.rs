//! SCIM: the organisation's bearer tokens, minted by an Admin, decide who may provision.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::StreamExt;
use roster_domain::ids::OrganisationId;
use roster_e2e::{TestApp, counted_app, create_user, organisation, spawn_app, stack};
use roster_store::{GroupSaved, StoreError};
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

/// A new SCIM token of the admin's organisation: `(id, token)`.
pub(crate) async fn mint(app: &TestApp, admin: &str, name: &str) -> (String, String) {
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

/// A SCIM client of one organisation: its admin's session and a SCIM token.
struct Provisioner {
    app: TestApp,
    organisation: String,
    admin: String,
    token: String,
}

impl Provisioner {
    async fn new(app: TestApp) -> Self {
        Self::with_settings(app, json!({})).await
    }

    /// A provisioner of an organisation created with `settings`.
    async fn with_settings(app: TestApp, settings: Value) -> Self {
        let (organisation, admin) = organisation(&app, settings).await;
        let (_, token) = mint(&app, &admin, "Entra ID").await;
        Self {
            app,
            organisation: organisation.id,
            admin,
            token,
        }
    }

    /// A provisioner whose app's DynamoDB calls are counted.
    async fn counted() -> (Self, roster_store::CallCounter) {
        let (app, counter) = counted_app().await;
        (Self::new(app).await, counter)
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, text) = self.send_text(method, path, body).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `send`, answering the body as it came.
    async fn send_text(&self, method: &str, path: &str, body: Option<Value>) -> (u16, String) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .app
            .http
            .request(method, self.app.url(&format!("/scim/v2{path}")))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/scim+json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// An Entra ID style User for `who` (also its `externalId`), created: its id and email.
    async fn user(&self, who: &str) -> (String, String) {
        let email = roster_e2e::unique_email(who);
        let (status, user) = self
            .send("POST", "/Users", Some(entra_user(&email, who)))
            .await;
        assert_eq!(status, 201, "{user}");
        (user["id"].as_str().unwrap().to_owned(), email)
    }

    /// A group `display_name` listing the Users `members`, created: its id.
    async fn group(&self, display_name: &str, members: &[String]) -> String {
        let members: Vec<Value> = members.iter().map(|id| json!({ "value": id })).collect();
        let (status, group) = self
            .send(
                "POST",
                "/Groups",
                Some(json!({ "displayName": display_name, "members": members })),
            )
            .await;
        assert_eq!(status, 201, "{group}");
        group["id"].as_str().unwrap().to_owned()
    }

    /// The ids the group `group` lists as its members, in its order (a group without any
    /// leaves `members` out).
    async fn member_values(&self, group: &str) -> Vec<String> {
        let (status, read) = self.send("GET", &format!("/Groups/{group}"), None).await;
        assert_eq!(status, 200, "{read}");
        read.get("members")
            .map_or(&vec![], |members| members.as_array().unwrap())
            .iter()
            .map(|member| member["value"].as_str().unwrap().to_owned())
            .collect()
    }

    /// `count` Users named after `who`, created: their ids.
    async fn users(&self, who: &str, count: usize) -> Vec<String> {
        futures::stream::iter(0..count)
            .map(|i| async move {
                let user = json!({ "userName": roster_e2e::unique_email(&format!("{who}{i}")) });
                let (status, created) = self.send("POST", "/Users", Some(user)).await;
                assert_eq!(status, 201, "{created}");
                created["id"].as_str().unwrap().to_owned()
            })
            .buffer_unordered(8)
            .collect()
            .await
    }

    /// The Admin maps the role `role` to the group `group`.
    async fn map_role(&self, group: &str, role: &str) {
        let mapped = self
            .app
            .http
            .put(
                self.app
                    .url(&format!("/v1/admin/scim-groups/{group}/roles")),
            )
            .bearer_auth(&self.admin)
            .json(&json!({ "roles": [role] }))
            .send()
            .await
            .unwrap();
        assert_eq!(mapped.status(), 200);
    }

    /// The ids of the organisation's people who have the role `role` (up to 200).
    async fn holders(&self, role: &str) -> BTreeSet<String> {
        let path = format!("/v1/admin/users?role={role}&limit=200");
        let listed = self.app.json(&path, &self.admin).await;
        (listed["items"].as_array().unwrap().iter())
            .map(|user| user["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// How many of the organisation's people have the role `role` (up to 200).
    async fn holding(&self, role: &str) -> usize {
        self.holders(role).await.len()
    }

    async fn patch(&self, path: &str, operations: Value) -> (u16, Value) {
        self.send(
            "PATCH",
            path,
            Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": operations
            })),
        )
        .await
    }
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn entra_user(user_name: &str, external_id: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "displayName": "Ada Lovelace",
        "emails": [{ "primary": true, "type": "work", "value": user_name }],
        "meta": { "resourceType": "User" },
        "name": { "formatted": "Ada Lovelace", "familyName": "Lovelace", "givenName": "Ada" },
        "title": "Engineer",
        ENTERPRISE: { "department": "Research", "employeeNumber": "701" }
    })
}

fn filter_path(filter: &str) -> String {
    let mut url = reqwest::Url::parse("http://x/Users").unwrap();
    url.query_pairs_mut().append_pair("filter", filter);
    format!("/Users?{}", url.query().unwrap())
}

#[tokio::test]
async fn writes_that_meet_other_writes_of_a_group_again_and_again_still_go_through() {
    // Entra sends no version and retries a failed operation only in its next cycle: a group
    // write that meets transactions on the group at every try of one attempt is made again.
    let (app, conflicts) = roster_e2e::conflicting_app().await;
    let scim = Provisioner::new(app).await;
    let (ada, _) = scim.user("ada").await;
    let (bob, _) = scim.user("bob").await;
    let group = scim.group("Contended", &[ada.clone(), bob.clone()]).await;
    let path = format!("/Groups/{group}");

    conflicts.arm(&group, 6);
    let (status, renamed) = scim
        .patch(
            &path,
            json!([{ "op": "replace", "path": "displayName", "value": "Renamed" }]),
        )
        .await;
    assert_eq!((status, conflicts.left()), (200, 0), "{renamed}");
    assert_eq!(renamed["displayName"], "Renamed");

    // A deleted User leaves the group's members though the group is as busy.
    conflicts.arm(&format!("SCIM_GROUP#{group}"), 6);
    let (status, _) = scim.send("DELETE", &format!("/Users/{ada}"), None).await;
    assert_eq!((status, conflicts.left()), (204, 0));
    assert_eq!(scim.member_values(&group).await, [bob.as_str()]);
}

#[tokio::test]
async fn groups_of_users_with_documents_as_large_as_they_may_be_are_written() {
    // Each User's document is close to the largest kept (100 KB): 60 of them are more than
    // one DynamoDB transaction may write (4 MB), though fewer than it may hold by count.
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let addresses: Vec<Value> = (0..45)
        .map(|i| json!({ "type": "other", "formatted": format!("{i:04} {}", "a".repeat(1990)) }))
        .collect();
    let created = (0..60).map(|i| {
        let mut user = entra_user(&roster_e2e::unique_email(&format!("large{i}")), "");
        user.as_object_mut().unwrap().remove("externalId");
        user["addresses"] = json!(addresses);
        scim.send("POST", "/Users", Some(user))
    });
    let mut users = Vec::new();
    for (status, user) in futures::future::join_all(created).await {
        assert_eq!(status, 201, "{user}");
        users.push(user["id"].as_str().unwrap().to_owned());
    }
    let group = scim.group("Everyone large", &users).await;
    assert_eq!(scim.member_values(&group).await, users);

    // Renamed and emptied, as large a write again.
    let (status, emptied) = scim
        .send(
            "PUT",
            &format!("/Groups/{group}"),
            Some(json!({ "displayName": "Nobody large", "members": [] })),
        )
        .await;
    assert_eq!(status, 200, "{emptied}");
    assert_eq!(scim.member_values(&group).await, Vec::<String>::new());
    let (_, user) = scim
        .send("GET", &format!("/Users/{}", users[59]), None)
        .await;
    assert_eq!(user["addresses"], json!(addresses));
}

#[tokio::test]
async fn a_delete_that_could_not_update_a_group_is_finished_by_its_retry() {
    let (app, conflicts) = roster_e2e::conflicting_app().await;
    let scim = Provisioner::new(app).await;
    let (ada, _) = scim.user("ada").await;
    let (bob, _) = scim.user("bob").await;
    let group = scim.group("Always busy", &[ada.clone(), bob.clone()]).await;
    let user_path = format!("/Users/{ada}");

    // Every write of the group meets a transaction for as long as the delete tries: the person
    // is gone, and the answer says the delete is not done, so that Entra ID sends it again.
    conflicts.arm(&format!("SCIM_GROUP#{group}"), usize::MAX);
    let (status, body) = scim.send("DELETE", &user_path, None).await;
    assert_eq!(status, 503, "{body}");
    conflicts.arm("", 0);
    assert_eq!(scim.send("GET", &user_path, None).await.0, 404);
    assert_eq!(
        scim.member_values(&group).await,
        [ada.as_str(), bob.as_str()]
    );

    // The retry meets a User already gone, as it should, and finishes what the first left.
    assert_eq!(scim.send("DELETE", &user_path, None).await.0, 404);
    assert_eq!(scim.member_values(&group).await, [bob.as_str()]);
    // Nothing is left to finish: a third delete touches no group.
    conflicts.arm(&format!("SCIM_GROUP#{group}"), usize::MAX);
    assert_eq!(scim.send("DELETE", &user_path, None).await.0, 404);
    assert_eq!(conflicts.left(), usize::MAX);
}

#[tokio::test]
async fn entra_id_provisions_a_user_through_its_documented_sequence() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let email = roster_e2e::unique_email("ada");

    // Test Connection: a filter that matches nothing answers an empty ListResponse.
    let (status, empty) = scim
        .send(
            "GET",
            &filter_path(r#"userName eq "ab8cd6a0-1c4b-4e32-8c2b-0d5d3f2a9f11""#),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(empty["totalResults"], 0);
    assert_eq!(empty["Resources"], json!([]));

    // Create: the user is matched by userName first, then created.
    let (status, created) = scim
        .send("POST", "/Users", Some(entra_user(&email, "E-701")))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["userName"], email.as_str());
    assert_eq!(created["active"], true);
    assert_eq!(created[ENTERPRISE]["department"], "Research");
    assert!(
        created["meta"]["version"]
            .as_str()
            .unwrap()
            .starts_with("W/")
    );

    // The person now exists in Roster, their profile owned by SCIM.
    let (user, etag) = scim
        .app
        .read(&format!("/v1/admin/users/{id}"), &scim.admin)
        .await;
    assert_eq!(user["first_name"], "Ada");
    assert_eq!(user["department"], "Research");
    assert_eq!(user["function"], "Engineer");
    assert_eq!(user["external_id"], "E-701");
    assert_eq!(user["managed_by"]["department"], "scim");
    let refused = scim
        .app
        .patch(
            &format!("/v1/admin/users/{id}"),
            &scim.admin,
            &etag,
            &json!({ "department": "Sales" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422, "admins cannot change what SCIM owns");

    // Matching again by userName (any case) and by externalId, quoted or not.
    for filter in [
        format!(r#"userName eq "{}""#, email.to_uppercase()),
        r#"externalId eq "E-701""#.to_owned(),
        "externalId eq E-701".to_owned(),
        format!(r#"userName eq "{email}" and externalId eq "E-701""#),
    ] {
        let (status, found) = scim.send("GET", &filter_path(&filter), None).await;
        assert_eq!(status, 200, "{filter}");
        assert_eq!(found["totalResults"], 1, "{filter}");
        assert_eq!(found["Resources"][0]["id"], id.as_str());
    }

    // Entra ID's PATCH, old dialect: capitalised ops, booleans as strings, value paths,
    // qualified enterprise paths, the manager as a plain id.
    let (status, manager) = scim
        .send(
            "POST",
            "/Users",
            Some(entra_user(&roster_e2e::unique_email("boss"), "E-1")),
        )
        .await;
    assert_eq!(status, 201);
    let manager_id = manager["id"].as_str().unwrap();
    let (status, patched) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([
                { "op": "Replace", "path": "title", "value": "Principal Engineer" },
                { "op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+31 6 1234 5678" },
                { "op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "R&D" },
                { "op": "Replace", "path": format!("{ENTERPRISE}:manager"), "value": manager_id }
            ]),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["title"], "Principal Engineer");
    assert_eq!(patched[ENTERPRISE]["manager"]["value"], manager_id);
    // New dialect: a path-less replace with dotted keys.
    let (status, patched) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "replace", "value": { "name.givenName": "Augusta", "displayName": "Countess" } }]),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    let (user, _) = scim
        .app
        .read(&format!("/v1/admin/users/{id}"), &scim.admin)
        .await;
    assert_eq!(user["first_name"], "Augusta");
    assert_eq!(user["department"], "R&D");
    assert_eq!(user["mobile"], "+31 6 1234 5678");

    // A PATCH with one bad operation changes nothing.
    let (status, error) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([
                { "op": "replace", "path": "title", "value": "CEO" },
                { "op": "replace", "path": "shoeSize", "value": "44" }
            ]),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error["scimType"], "invalidPath");
    let (_, unchanged) = scim.send("GET", &format!("/Users/{id}"), None).await;
    assert_eq!(unchanged["title"], "Principal Engineer");

    // Disable: active "False" deactivates at once, through the same lifecycle as an admin's.
    let (status, disabled) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "Replace", "path": "active", "value": "False" }]),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(disabled["active"], false);
    let (user, _) = scim
        .app
        .read(&format!("/v1/admin/users/{id}"), &scim.admin)
        .await;
    assert_eq!(user["status"], "deactivated");

    // Delete: 204, then 404.
    let (status, _) = scim.send("DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(status, 204);
    let (status, gone) = scim.send("GET", &format!("/Users/{id}"), None).await;
    assert_eq!(status, 404);
    assert_eq!(gone["status"], "404");
    let (_, search) = scim
        .send(
            "GET",
            &filter_path(&format!(r#"userName eq "{email}""#)),
            None,
        )
        .await;
    assert_eq!(search["totalResults"], 0);
    let (user, _) = scim
        .app
        .read(&format!("/v1/admin/users/{manager_id}"), &scim.admin)
        .await;
    assert_eq!(user["id"], manager_id, "others stay");
}

#[tokio::test]
async fn writes_without_if_match_to_one_person_at_once_all_go_through() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let (id, _) = scim.user("busy").await;
    let id = id.as_str();
    let mut groups = Vec::new();
    for name in ["Red", "Green", "Blue"] {
        groups.push(scim.group(&format!("{name} {id}"), &[]).await);
    }

    // Entra ID's way: the person's groups and their own record at once, no If-Match. Each
    // writes the person's membership; those that lost the race answered 412 and waited for the
    // next cycle.
    let user_path = format!("/Users/{id}");
    let title = |title: &'static str| {
        scim.patch(
            &user_path,
            json!([{ "op": "Replace", "path": "title", "value": title }]),
        )
    };
    let group_paths: Vec<String> = groups.iter().map(|g| format!("/Groups/{g}")).collect();
    let join = |path| {
        scim.patch(
            path,
            json!([{ "op": "Add", "path": "members", "value": [{ "value": id }] }]),
        )
    };
    let (titled, joined) = tokio::join!(
        futures::future::join_all([title("Lead"), title("Chief")]),
        futures::future::join_all(group_paths.iter().map(|path| join(path)))
    );
    for (status, answer) in titled.iter().chain(&joined) {
        assert_eq!(*status, 200, "{answer}");
    }
    for path in &group_paths {
        let (_, group) = scim.send("GET", path, None).await;
        assert_eq!(group["members"][0]["value"], id, "{group}");
    }
    let (_, person) = scim.send("GET", &user_path, None).await;
    assert!(["Lead", "Chief"].contains(&person["title"].as_str().unwrap()));
}

#[tokio::test]
async fn a_person_scim_reactivates_signs_in_at_once_whatever_they_tried_meanwhile() {
    let (app, conflicts) = roster_e2e::conflicting_app().await;
    let scim = Provisioner::new(app).await;
    let (id, email) = scim.user("returner").await;
    let id = id.as_str();
    scim.app.invited_session(&scim.admin, id, &email).await;
    let path = format!("/Users/{id}");
    let active = |value: &'static str| {
        scim.patch(
            &path,
            json!([{ "op": "Replace", "path": "active", "value": value }]),
        )
    };
    assert_eq!(active("False").await.0, 200);
    scim.app
        .refused_logins(&email, roster_e2e::TEST_PASSWORD, 5)
        .await;
    assert_eq!(
        scim.app
            .login_status(&email, roster_e2e::TEST_PASSWORD)
            .await,
        429
    );

    // DynamoDB turns away the clearing of their tries: the reactivation fails, and Entra sends
    // it again.
    conflicts.arm("LOGIN_FAILURES#", usize::MAX);
    let (status, failed) = active("True").await;
    assert_eq!(status, 503, "{failed}");
    conflicts.arm("", 0);
    assert_eq!(active("True").await.0, 200);
    // As after an admin's reactivation (was 429 for up to the organisation's longest wait; and,
    // once the first try had written the status, after Entra's retry).
    scim.app.login(&email, roster_e2e::TEST_PASSWORD).await;
}

#[tokio::test]
async fn a_person_scim_reactivates_who_belongs_elsewhere_too_keeps_their_lockout() {
    let app = roster_e2e::app_with_clock(&roster_e2e::TestClock::default()).await;
    let (elsewhere, _) = organisation(&app, json!({})).await;
    let scim = Provisioner::new(app).await;
    let email = elsewhere.admin_email;
    let (status, user) = scim
        .send("POST", "/Users", Some(entra_user(&email, "shared")))
        .await;
    assert_eq!(status, 201, "{user}");
    scim.app
        .refused_logins(&email, "Guessed-password-1", 5)
        .await;

    let path = format!("/Users/{}", user["id"].as_str().unwrap());
    for value in ["False", "True"] {
        let (status, answer) = scim
            .patch(
                &path,
                json!([{ "op": "Replace", "path": "active", "value": value }]),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
    }

    // As after an admin's reactivation: the lockout guards their other organisation too (was
    // 200).
    assert_eq!(
        scim.app
            .login_status(&email, roster_e2e::TEST_PASSWORD)
            .await,
        429
    );
}

/// The keys of the avatar bucket under `prefix`.
async fn avatar_objects(prefix: &str) -> Vec<String> {
    let stack = stack().await;
    let listed = stack
        .clients()
        .s3
        .list_objects_v2()
        .bucket(&stack.config.avatar_bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    listed
        .contents()
        .iter()
        .filter_map(|object| object.key().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_deleted_persons_images_go_with_them_and_no_one_elses() {
    let stack = stack().await;
    let scim = Provisioner::new(spawn_app(&stack.functions()).await).await;
    let mut prefixes = Vec::new();
    for name in ["leaver", "stayer"] {
        let (id, _) = scim.user(name).await;
        let prefix = format!("avatars/{}/{id}/", scim.organisation);
        // An avatar as a confirmation keeps it, and an upload never confirmed.
        for key in ["u1/checked", "u2"] {
            stack
                .clients()
                .s3
                .put_object()
                .bucket(&stack.config.avatar_bucket)
                .key(format!("{prefix}{key}"))
                .body(b"image".to_vec().into())
                .send()
                .await
                .unwrap();
        }
        prefixes.push((id, prefix));
    }
    let [(leaver, leavers), (_, stayers)] = <[_; 2]>::try_from(prefixes).unwrap();

    let (status, _) = scim.send("DELETE", &format!("/Users/{leaver}"), None).await;
    assert_eq!(status, 204);

    assert_eq!(avatar_objects(&leavers).await, Vec::<String>::new());
    assert_eq!(
        avatar_objects(&stayers).await,
        [format!("{stayers}u1/checked"), format!("{stayers}u2")]
    );
}

#[tokio::test]
async fn entra_ids_default_attribute_mapping_is_kept_patched_and_matched_on_by_email() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let email = roster_e2e::unique_email("grace");
    let mut user = entra_user(&email, "E-702");
    user["preferredLanguage"] = json!("nl-NL");
    user["addresses"] = json!([{ "type": "work", "locality": "Utrecht", "country": "NL" }]);
    user["phoneNumbers"] = json!([{ "type": "fax", "value": "+31 30 555 0100 ext. 12" }]);
    user[ENTERPRISE]["costCenter"] = json!("CC-9");
    let (status, created) = scim.send("POST", "/Users", Some(user)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["addresses"][0]["locality"], "Utrecht");
    assert_eq!(created[ENTERPRISE]["costCenter"], "CC-9");

    // Email as a matching attribute: Entra's own filter form.
    let (status, found) = scim
        .send(
            "GET",
            &filter_path(&format!(
                r#"emails[type eq "work"].value eq "{}""#,
                email.to_uppercase()
            )),
            None,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(listed_ids(&found), vec![id.clone()]);
    // An address at a domain of other letters is found too (its key has the domain in ASCII).
    let idn = email.replace("@example.com", "@müller.example");
    let (status, idn_user) = scim
        .send("POST", "/Users", Some(entra_user(&idn, "E-703")))
        .await;
    assert_eq!(status, 201, "{idn_user}");
    let ascii = email.replace("@example.com", "@xn--mller-kva.example");
    for written in [idn.clone(), idn.to_uppercase(), ascii] {
        let filter = format!(r#"emails[type eq "work"].value eq "{written}""#);
        let (status, found) = scim.send("GET", &filter_path(&filter), None).await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(
            listed_ids(&found),
            vec![idn_user["id"].as_str().unwrap()],
            "{written}"
        );
    }

    // An update of the default mapping applies whole.
    let (status, patched) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([
                { "op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "Domplein 1" },
                { "op": "Replace", "path": "addresses[type eq \"work\"].locality", "value": "Amersfoort" },
                { "op": "Replace", "path": "preferredLanguage", "value": "en-GB" },
                { "op": "Replace", "path": "title", "value": "Admiral" }
            ]),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    let (_, read) = scim.send("GET", &format!("/Users/{id}"), None).await;
    assert_eq!(
        read["addresses"],
        json!([{ "type": "work", "streetAddress": "Domplein 1", "locality": "Amersfoort", "country": "NL" }])
    );
    assert_eq!(read["preferredLanguage"], "en-GB");
    let (profile, _) = scim
        .app
        .read(&format!("/v1/admin/users/{id}"), &scim.admin)
        .await;
    assert_eq!(profile["function"], "Admiral");
    assert_eq!(
        profile["phone"],
        Value::Null,
        "a fax number is not the phone"
    );
}

/// An Entra ID mapping may add a custom extension attribute or app roles, which Roster does not
/// keep: as POST drops them, PATCH passes over their operations and applies the rest (was:
/// `invalidPath` refused the whole change, every cycle, so the person's title, name and
/// department stopped following the directory).
#[tokio::test]
async fn attributes_roster_does_not_keep_leave_the_rest_of_a_change_to_apply() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let custom = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
    let email = roster_e2e::unique_email("custom");
    let mut user = entra_user(&email, "E-704");
    user["schemas"].as_array_mut().unwrap().push(json!(custom));
    user[custom] = json!({ "badge": "7" });
    user["roles"] =
        json!([{ "primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin" }]);
    let (status, created) = scim.send("POST", "/Users", Some(user)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    let (status, patched) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([
                { "op": "Replace", "path": format!("{custom}:badge"), "value": "8" },
                { "op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Reader" },
                { "op": "Replace", "path": "title", "value": "Admiral" },
                { "op": "Replace", "value": { format!("{custom}:floor"): "3", "displayName": "Ada L." } }
            ]),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    let (_, read) = scim.send("GET", &format!("/Users/{id}"), None).await;
    assert_eq!(read["title"], "Admiral");
    assert_eq!(read["displayName"], "Ada L.");
    for unkept in [custom, "roles"] {
        assert!(read.get(unkept).is_none(), "{unkept} in {read}");
    }
    assert!(!read["schemas"].to_string().contains(custom), "{read}");
    let (profile, _) = scim
        .app
        .read(&format!("/v1/admin/users/{id}"), &scim.admin)
        .await;
    assert_eq!(profile["function"], "Admiral");
}

#[tokio::test]
async fn the_old_address_is_told_when_the_identity_provider_moves_a_login_email() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let (old, new) = (
        roster_e2e::unique_email("moved-from"),
        roster_e2e::unique_email("moved-to"),
    );
    let (status, created) = scim
        .send("POST", "/Users", Some(entra_user(&old, "M-1")))
        .await;
    assert_eq!(status, 201, "{created}");
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    let (status, _) = scim
        .patch(
            &path,
            json!([{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": new }]),
        )
        .await;
    assert_eq!(status, 200);
    let told = stack().await.emails_to(&old).await;
    let told = told.last().expect("the old address is told");
    assert!(told["raw"].as_str().unwrap().contains(&new), "{told}");

    // A change of letter case only moves nothing worth telling.
    let before = stack().await.emails_to(&new).await.len();
    let (status, _) = scim
        .patch(
            &path,
            json!([{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": new.to_uppercase() }]),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(stack().await.emails_to(&new).await.len(), before);
}

#[tokio::test]
async fn an_identity_provider_cannot_move_the_login_of_someone_in_other_organisations() {
    let app = spawn_app(&stack().await.functions()).await;
    let (elsewhere, _) = organisation(&app, json!({})).await;
    let scim = Provisioner::new(app).await;
    let email = &elsewhere.admin_email;
    let (status, joined) = scim
        .send("POST", "/Users", Some(entra_user(email, "S-1")))
        .await;
    assert_eq!(status, 201, "{joined}");

    let taken = roster_e2e::unique_email("taker");
    let (status, error) = scim
        .patch(
            &format!("/Users/{}", joined["id"].as_str().unwrap()),
            json!([{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": taken }]),
        )
        .await;
    assert_eq!((status, &error["scimType"]), (400, &json!("mutability")));
    scim.app.login(email, roster_e2e::TEST_PASSWORD).await;
    assert_eq!(
        scim.app
            .login_response(&taken, roster_e2e::TEST_PASSWORD)
            .await
            .status(),
        401,
        "the login stayed where it was"
    );
}

#[tokio::test]
async fn an_invitation_sent_before_the_identity_provider_moved_the_address_no_longer_works() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let (old, new) = (
        roster_e2e::unique_email("typo"),
        roster_e2e::unique_email("right"),
    );
    let (_, created) = scim
        .send("POST", "/Users", Some(entra_user(&old, "I-1")))
        .await;
    let id = created["id"].as_str().unwrap();
    let invited = scim.app.user_action(&scim.admin, id, "invite").await;
    assert_eq!(invited.status(), 202);
    let mail = stack().await.emails_to(&old).await;
    let link = roster_e2e::link_token(mail.last().unwrap()["raw"].as_str().unwrap());

    let (status, _) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": new }]),
        )
        .await;
    assert_eq!(status, 200);
    let (accepted, _) = scim
        .app
        .accept_invitation(&link, roster_e2e::TEST_PASSWORD)
        .await;
    assert_eq!(accepted, 422, "the old address's link is void");
    let user = scim
        .app
        .json(&format!("/v1/admin/users/{id}"), &scim.admin)
        .await;
    assert_eq!(user["invitation_status"], "not_invited");
}

#[tokio::test]
async fn scim_sessions_end_when_the_identity_provider_deactivates_the_person() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let email = roster_e2e::unique_email("grace");
    let (_, created) = scim
        .send("POST", "/Users", Some(entra_user(&email, "E-2")))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let session = scim.app.invited_session(&scim.admin, &id, &email).await;
    assert_eq!(
        scim.app
            .get("/v1/me", &session)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let (status, _) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "replace", "path": "active", "value": false }]),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        scim.app
            .get("/v1/me", &session)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

/// An organisation that stops taking email from SCIM gives it back to its people: one moves
/// their login by the link (was: the PATCH sent the link, and following it answered 422
/// `read_only` as long as no SCIM write had released the stored copy).
#[tokio::test]
async fn a_person_moves_their_login_once_their_organisation_stopped_taking_email_from_scim() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let email = roster_e2e::unique_email("ida");
    let (_, created) = scim
        .send("POST", "/Users", Some(entra_user(&email, "E-3")))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let session = scim.app.invited_session(&scim.admin, &id, &email).await;
    scim.app
        .change_settings(
            &scim.admin,
            json!({ "scim_attributes": ["first_name", "last_name"] }),
        )
        .await;
    let (me, etag) = scim.app.read("/v1/me", &session).await;
    assert_eq!(me["managed_by"]["email"], "self", "{me}");

    let moved_to = roster_e2e::unique_email("ida-moved");
    let asked = scim.app.ask_email_change(&session, &etag, &moved_to).await;
    assert_eq!(asked.status(), 202, "{}", asked.text().await.unwrap());
    let (confirmed, body) = scim.app.confirm_email_change(&moved_to).await;
    assert_eq!(confirmed, 204, "{body}");
    scim.app.login(&moved_to, roster_e2e::TEST_PASSWORD).await;
}

/// Entra ID sends every changed attribute of a leaver in one PATCH: a value or an operation
/// Roster refuses among them answers 400 (Entra sends the rest again next cycle), but the
/// person is deactivated now (was: nothing written, the leaver kept their sessions and access).
#[tokio::test]
async fn a_deactivation_holds_when_a_value_sent_with_it_is_refused() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let leaving = json!({ "op": "Replace", "path": "active", "value": "False" });
    let patch_of = |operations: Value| json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations });
    // Each refusal as (method, body without and with the deactivation, its scimType).
    let title_too_long = json!({ "op": "Replace", "path": "title", "value": "x".repeat(300) });
    // A path that names no attribute of any schema: the operation itself is refused.
    let unknown_path = json!({ "op": "Add", "path": "badgeNumber", "value": "7" });
    let replaced = |active: bool| {
        let mut user = entra_user("replaced@example.com", "E-R");
        user["active"] = json!(active);
        user["title"] = json!(["a title as a list"]);
        user
    };
    let refusals = [
        (
            "PATCH",
            patch_of(json!([title_too_long.clone()])),
            patch_of(json!([leaving.clone(), title_too_long])),
            "invalidValue",
        ),
        (
            "PATCH",
            patch_of(json!([unknown_path.clone()])),
            patch_of(json!([unknown_path, leaving])),
            "invalidPath",
        ),
        ("PUT", replaced(true), replaced(false), "invalidValue"),
    ];
    for (n, (method, refused, refused_leaving, scim_type)) in refusals.into_iter().enumerate() {
        let email = roster_e2e::unique_email(&format!("leaver{n}"));
        let (_, created) = scim
            .send(
                "POST",
                "/Users",
                Some(entra_user(&email, &format!("E-L{n}"))),
            )
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        let session = scim.app.invited_session(&scim.admin, &id, &email).await;
        let path = format!("/Users/{id}");

        // Without a deactivation, a refused change writes nothing; with one, that is written.
        for (body, session_status) in [(refused, 200), (refused_leaving, 401)] {
            let (status, problem) = scim.send(method, &path, Some(body)).await;
            assert_eq!(
                (status, problem["scimType"].as_str()),
                (400, Some(scim_type)),
                "{method} {problem}"
            );
            let me = scim.app.get("/v1/me", &session).send().await.unwrap();
            assert_eq!(me.status(), session_status, "{method} {scim_type}");
        }
        let (_, read) = scim.send("GET", &path, None).await;
        assert_eq!(read["active"], false, "{read}");
        assert_eq!(
            (&read["title"], &read["userName"]),
            (&created["title"], &created["userName"]),
            "nothing refused is written"
        );
        let user = scim
            .app
            .json(&format!("/v1/admin/users/{id}"), &scim.admin)
            .await;
        assert_eq!(user["status"], "deactivated", "{user}");
    }
    let log = scim.app.json("/v1/admin/audit", &scim.admin).await;
    let actions = roster_e2e::audit_actions(&log);
    assert!(actions.contains(&"scim.user.deactivated"), "{log}");
}

#[tokio::test]
async fn user_names_are_unique_ignoring_case_and_bad_requests_name_their_problem() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let (status, _) = scim
        .send("POST", "/Users", Some(json!({ "userName": "Jo.Smith" })))
        .await;
    assert_eq!(status, 201);
    let (status, conflict) = scim
        .send("POST", "/Users", Some(json!({ "userName": "jo.smith" })))
        .await;
    assert_eq!(status, 409);
    assert_eq!(conflict["scimType"], "uniqueness");

    let (status, undecodable) = scim.send("GET", "/Users/%FF", None).await;
    assert_eq!(status, 404, "{undecodable}");
    assert_eq!(
        undecodable["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );

    let cases = [
        (
            "GET",
            filter_path(r#"shoeSize eq "x""#),
            None,
            "invalidFilter",
        ),
        (
            "GET",
            filter_path(r#"userName sw "jo""#),
            None,
            "invalidFilter",
        ),
        (
            "GET",
            filter_path(r#"userName eq "unterminated"#),
            None,
            "invalidFilter",
        ),
        (
            "POST",
            "/Users".to_owned(),
            Some(json!({ "displayName": "no user name" })),
            "invalidValue",
        ),
        (
            "POST",
            "/Users".to_owned(),
            Some(json!({ "userName": "x", "active": "perhaps" })),
            "invalidValue",
        ),
        (
            "POST",
            "/Users".to_owned(),
            Some(json!("not an object")),
            "invalidSyntax",
        ),
    ];
    for (method, path, body, scim_type) in cases {
        let (status, error) = scim.send(method, &path, body).await;
        assert_eq!(status, 400, "{method} {path}: {error}");
        assert_eq!(error["scimType"], scim_type, "{method} {path}");
        assert_eq!(
            error["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
    }
    let response = scim
        .app
        .http
        .post(scim.app.url("/scim/v2/Users"))
        .bearer_auth(&scim.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn values_too_large_to_keep_are_refused_naming_the_attribute_and_nothing_is_written() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let refused = |error: &Value, attribute: &str| {
        assert_eq!(error["scimType"], "invalidValue", "{error}");
        let detail = error["detail"].as_str().unwrap();
        assert!(detail.starts_with(attribute), "{detail}");
    };
    let long = "x".repeat(2049);
    let (status, error) = scim
        .send(
            "POST",
            "/Users",
            Some(json!({ "userName": "long.nick", "nickName": long })),
        )
        .await;
    assert_eq!(status, 400);
    refused(&error, "nickName must be at most 2048 characters");
    let (_, none) = scim
        .send("GET", &filter_path(r#"userName eq "long.nick""#), None)
        .await;
    assert_eq!(none["totalResults"], 0);

    // Each address within bounds, but 60 of them make a User larger than one may be (a few
    // more, and DynamoDB would refuse the item: a 503 the client would retry for ever).
    let (_, user) = scim
        .send(
            "POST",
            "/Users",
            Some(json!({ "userName": "many.addresses" })),
        )
        .await;
    let id = user["id"].as_str().unwrap();
    let addresses: Vec<Value> = (0..60)
        .map(|i| json!({ "type": "other", "formatted": format!("{i:04} {}", "a".repeat(1990)) }))
        .collect();
    let (status, error) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "add", "path": "addresses", "value": addresses }]),
        )
        .await;
    assert_eq!(status, 400);
    refused(&error, "addresses makes the User");
    let (_, kept) = scim.send("GET", &format!("/Users/{id}"), None).await;
    assert!(kept.get("addresses").is_none(), "{kept}");
    assert_eq!(kept["meta"]["version"], user["meta"]["version"]);

    let (status, error) = scim
        .send(
            "POST",
            "/Groups",
            Some(json!({ "displayName": "Long", "externalId": long })),
        )
        .await;
    assert_eq!(status, 400);
    refused(&error, "externalId must be at most 2048 characters");
    let (_, none) = scim
        .send(
            "GET",
            &filter_path(r#"displayName eq "Long""#).replacen("/Users", "/Groups", 1),
            None,
        )
        .await;
    assert_eq!(none["totalResults"], 0);

    // A Group body larger than 256 KiB but within a Group's bounds is judged, not cut off.
    let members: Vec<Value> = (0..9000)
        .map(|i| json!({ "value": format!("not a user {i:06}") }))
        .collect();
    let (status, error) = scim
        .send(
            "POST",
            "/Groups",
            Some(json!({ "displayName": "Everyone", "members": members })),
        )
        .await;
    assert_eq!(status, 400);
    refused(&error, "members: \"not a user 000000\" is not a User");

    // A lookup by a value longer than any key DynamoDB holds finds nothing (DynamoDB refused
    // the read: a 503 the client would retry for ever).
    let overlong = "y".repeat(1100);
    for filter in [
        format!(r#"userName eq "{overlong}""#),
        format!(r#"externalId eq "{overlong}""#),
    ] {
        let (status, none) = scim.send("GET", &filter_path(&filter), None).await;
        assert_eq!((status, &none["totalResults"]), (200, &json!(0)), "{none}");
    }
    let (status, _) = scim.send("GET", &format!("/Groups/{overlong}"), None).await;
    assert_eq!(status, 404);

    // 256 characters, but 1,024 bytes: more than a uniqueness sentinel's sort key may hold
    // (DynamoDB refused the write, a 503 the client would retry for ever).
    let wide = "\u{1F600}".repeat(256);
    let (status, error) = scim
        .send("POST", "/Users", Some(json!({ "userName": wide })))
        .await;
    assert_eq!(status, 400);
    refused(
        &error,
        "userName: must be at most 256 characters and 960 bytes",
    );
    let (status, error) = scim
        .send("POST", "/Groups", Some(json!({ "displayName": wide })))
        .await;
    assert_eq!(status, 400);
    refused(
        &error,
        "displayName is required and at most 256 characters and 960 bytes",
    );

    // Entra ID's bare manager id is bounded like any other string.
    let (status, error) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{
                "op": "Replace",
                "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                "value": long
            }]),
        )
        .await;
    assert_eq!(status, 400);
    refused(
        &error,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value must be at most",
    );
}

#[tokio::test]
async fn entra_id_provisions_groups_and_their_members_in_both_dialects() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let mut members = Vec::new();
    for who in ["m1", "m2", "m3"] {
        let (_, user) = scim
            .send(
                "POST",
                "/Users",
                Some(json!({ "userName": roster_e2e::unique_email(who) })),
            )
            .await;
        members.push(user["id"].as_str().unwrap().to_owned());
    }
    let group_filter = |name: &str| {
        let mut url = reqwest::Url::parse("http://x/Groups").unwrap();
        url.query_pairs_mut()
            .append_pair("filter", &format!(r#"displayName eq "{name}""#))
            .append_pair("excludedAttributes", "members");
        format!("/Groups?{}", url.query().unwrap())
    };
    let (_, none) = scim.send("GET", &group_filter("Facilities"), None).await;
    assert_eq!(none["totalResults"], 0);
    let (status, group) = scim
        .send(
            "POST",
            "/Groups",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "externalId": "g-1",
                "displayName": "Facilities",
                "members": []
            })),
        )
        .await;
    assert_eq!(status, 201, "{group}");
    let id = group["id"].as_str().unwrap().to_owned();

    let (status, found) = scim.send("GET", &group_filter("facilities"), None).await;
    assert_eq!(status, 200);
    assert_eq!(found["Resources"][0]["id"], id.as_str());
    assert!(
        found["Resources"][0].get("members").is_none(),
        "members excluded"
    );

    let (status, _) = scim
        .patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "Add", "path": "members", "value": members.iter().map(|m| json!({ "value": m })).collect::<Vec<_>>() }]),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = scim
        .patch(
            &format!("/Groups/{id}"),
            json!([
                { "op": "Remove", "path": "members", "value": [{ "value": members[0] }] },
                { "op": "remove", "path": format!("members[value eq \"{}\"]", members[1]) },
                { "op": "Replace", "path": "displayName", "value": "Facility Team" }
            ]),
        )
        .await;
    assert_eq!(status, 200);
    let (_, group) = scim.send("GET", &format!("/Groups/{id}"), None).await;
    assert_eq!(group["displayName"], "Facility Team");
    assert_eq!(group["members"], json!([{ "value": members[2] }]));
    // Entra ID asks whether a user is still in a group (was: never, whoever was asked about).
    for (member, listed) in [(&members[2], 1), (&members[0], 0)] {
        let mut url = reqwest::Url::parse("http://x/Groups").unwrap();
        url.query_pairs_mut()
            .append_pair(
                "filter",
                &format!(r#"id eq "{id}" and members eq "{member}""#),
            )
            .append_pair("attributes", "id");
        let (status, found) = scim
            .send("GET", &format!("/Groups?{}", url.query().unwrap()), None)
            .await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(found["totalResults"], listed, "{member}: {found}");
    }

    let (status, conflict) = scim
        .send(
            "POST",
            "/Groups",
            Some(json!({ "displayName": "FACILITY TEAM" })),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(conflict["scimType"], "uniqueness");

    let (status, _) = scim.send("DELETE", &format!("/Groups/{id}"), None).await;
    assert_eq!(status, 204);
    assert_eq!(
        scim.send("GET", &format!("/Groups/{id}"), None).await.0,
        404
    );

    // Provisioning shows in the organisation's audit log.
    let audit = scim.app.json("/v1/admin/audit", &scim.admin).await;
    let actions = roster_e2e::audit_actions(&audit);
    for action in [
        "scim.user.created",
        "scim.group.created",
        "scim.group.patched",
        "scim.group.deleted",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    // A refusal is named by status and scimType; what the client sent is not quoted.
    let refusals: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "scim.group.created" && e["changed"] != json!([]))
        .collect();
    assert_eq!(refusals.len(), 1, "{audit}");
    assert_eq!(refusals[0]["changed"], json!(["refused: 409 uniqueness"]));
}

#[tokio::test]
async fn deleted_users_are_no_longer_listed_in_their_groups_even_deleted_at_once() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    // A stayer and six leavers, whom Entra ID deletes all at once.
    let mut users = Vec::new();
    for who in ["stayer", "l1", "l2", "l3", "l4", "l5", "l6"] {
        users.push(scim.user(who).await.0);
    }
    let mut groups = Vec::new();
    for name in ["Facilities", "Reception", "Closed down"] {
        groups.push(scim.group(&format!("{name} {}", users[0]), &users).await);
    }
    // A group the leavers were in is gone before them: their deletes pass over it.
    let (status, _) = scim
        .send("DELETE", &format!("/Groups/{}", groups[2]), None)
        .await;
    assert_eq!(status, 204);

    let paths: Vec<String> = users[1..].iter().map(|u| format!("/Users/{u}")).collect();
    let deletes = paths.iter().map(|path| scim.send("DELETE", path, None));
    for (status, _) in futures::future::join_all(deletes).await {
        assert_eq!(status, 204);
    }
    for group in &groups[..2] {
        let (_, group) = scim.send("GET", &format!("/Groups/{group}"), None).await;
        assert_eq!(group["members"], json!([{ "value": users[0] }]), "{group}");
    }
}

/// A group is created with its members' memberships in one transaction, which a change of one
/// of them between their read and that write refuses. Entra ID names no version on a create,
/// so the create is made again (was: 412, which asked the client for a version it never had).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_created_as_one_of_its_members_changes_is_created() {
    let (app, hook) = roster_e2e::hooked_app().await;
    let scim = Provisioner::new(app).await;
    let (member, _) = scim.user("raced-member").await;
    let retitle = scim
        .app
        .http
        .patch(scim.app.url(&format!("/scim/v2/Users/{member}")))
        .bearer_auth(&scim.token)
        .header("content-type", "application/scim+json")
        .body(
            json!({ "Operations": [{ "op": "replace", "path": "title", "value": "Raced" }] })
                .to_string(),
        );
    hook.arm("Created meanwhile", retitle);
    let group = scim
        .group("Created meanwhile", std::slice::from_ref(&member))
        .await;
    assert_eq!(hook.status(), Some(200));
    assert_eq!(scim.member_values(&group).await, [member.as_str()]);
    let (_, read) = scim.send("GET", &format!("/Users/{member}"), None).await;
    assert_eq!(read["title"], "Raced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_mapped_to_a_group_as_it_is_deleted_never_outlive_it() {
    // Members keep a deleted group's id, so a mapping of it left behind would give them its
    // roles, and no group would be left to unmap. Whichever of the two writes lands first, none
    // is left.
    let (app, hook) = roster_e2e::hooked_app().await;
    let scim = Provisioner::new(app).await;
    let (app, admin) = (&scim.app, &scim.admin);
    let (member, _) = scim.user("mapped-member").await;
    let map = |group: &str| {
        app.http
            .put(app.url(&format!("/v1/admin/scim-groups/{group}/roles")))
            .bearer_auth(admin)
            .json(&json!({ "roles": ["reporting"] }))
    };
    let delete = |group: &str| {
        app.http
            .delete(app.url(&format!("/scim/v2/Groups/{group}")))
            .bearer_auth(&scim.token)
    };

    // The Admin's mapping lands between the delete's reads and its write.
    let mapped_first = scim
        .group("Mapped first", std::slice::from_ref(&member))
        .await;
    hook.arm(&format!("SCIM_GROUP#{mapped_first}"), map(&mapped_first));
    assert_eq!(status_of(delete(&mapped_first)).await, 204);
    assert_eq!(hook.status(), Some(200));

    // The delete lands between the mapping's reads and its write.
    let deleted_first = scim
        .group("Deleted first", std::slice::from_ref(&member))
        .await;
    hook.arm(
        &format!("\"ORG#{}\"", scim.organisation),
        delete(&deleted_first),
    );
    assert_eq!(status_of(map(&deleted_first)).await, 404);
    assert_eq!(hook.status(), Some(204));

    let (view, _) = app.read(&format!("/v1/admin/users/{member}"), admin).await;
    assert_eq!(view["group_roles"], json!([]));
    let reporting = app.json("/v1/admin/users?role=reporting", admin).await;
    assert_eq!(reporting["items"], json!([]));

    // The organisation's version is checked beside the group's, but the version a client names
    // is the group's: another change of the organisation at that moment is no 412.
    let versioned = scim.group("Deleted with If-Match", &[]).await;
    let (_, group) = scim
        .send("GET", &format!("/Groups/{versioned}"), None)
        .await;
    let version = group["meta"]["version"].as_str().unwrap().to_owned();
    let (_, settings) = app.read("/v1/admin/organisation", admin).await;
    hook.arm(
        &format!("SCIM_GROUP#{versioned}"),
        app.patch(
            "/v1/admin/organisation",
            admin,
            &settings,
            &json!({ "name": "Renamed meanwhile" }),
        ),
    );
    assert_eq!(
        status_of(delete(&versioned).header("if-match", version)).await,
        204
    );
    assert_eq!(hook.status(), Some(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_an_admin_edits_as_entra_creates_them_is_adopted_in_that_request() {
    // Entra ID retries a failed POST only in its next cycle, some 40 minutes on.
    let (app, hook) = roster_e2e::hooked_app().await;
    let scim = Provisioner::new(app).await;
    let (app, admin) = (&scim.app, &scim.admin);
    let email = roster_e2e::unique_email("edited-adoptee");
    let added = create_user(
        app,
        admin,
        json!({ "first_name": "Ada", "last_name": "Added", "email": email }),
    )
    .await;
    let id = added["id"].as_str().unwrap();
    let (_, etag) = app.read(&format!("/v1/admin/users/{id}"), admin).await;

    hook.arm(
        id,
        app.patch(
            &format!("/v1/admin/users/{id}"),
            admin,
            &etag,
            &json!({ "department": "Facilities" }),
        ),
    );
    let (status, user) = scim
        .send("POST", "/Users", Some(entra_user(&email, "L-edited")))
        .await;

    assert_eq!((status, hook.status()), (201, Some(200)), "{user}");
    assert_eq!(user["id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vehicle_or_device_added_as_its_holder_is_deleted_is_never_left_behind() {
    let (app, hook) = roster_e2e::hooked_app().await;
    let scim = Provisioner::with_settings(app, json!({ "vehicles_enabled": true })).await;
    let app = &scim.app;
    let add = |session: &str, plate: &str| {
        app.post(
            "/v1/me/vehicles",
            session,
            &json!({ "name": "Car", "plate_number": plate }),
        )
    };
    let delete = |user: &str| {
        app.http
            .delete(app.url(&format!("/scim/v2/Users/{user}")))
            .bearer_auth(&scim.token)
    };
    let scim = &scim;
    let driver = |who: &'static str| async move {
        let (id, email) = scim.user(who).await;
        let session = app.invited_session(&scim.admin, &id, &email).await;
        (id, session)
    };

    // Added between the delete's reads and its write: removed right after it.
    let (early, session) = driver("early-driver").await;
    hook.arm(&early, add(&session, "RACE1"));
    assert_eq!(status_of(delete(&early)).await, 204);
    assert_eq!(hook.status(), Some(201));

    // Added by a request that was past its session check when the delete landed: refused.
    let (late, session) = driver("late-driver").await;
    hook.arm("RACE2", delete(&late));
    assert_eq!(status_of(add(&session, "RACE2")).await, 404);
    assert_eq!(hook.status(), Some(204));

    for plate in ["RACE1", "RACE2"] {
        assert_eq!(
            status_of(add(&scim.admin, plate)).await,
            201,
            "{plate} is free"
        );
    }

    // A device registered by a request that was past its session check: refused too.
    let (holder, session) = driver("late-phone-holder").await;
    let phone =
        json!({ "platform": "ios", "name": "Racing phone", "token": format!("racing-{holder}") });
    hook.arm("Racing phone", delete(&holder));
    assert_eq!(
        status_of(app.post("/v1/me/devices", &session, &phone)).await,
        404
    );
    // Was: the SNS endpoint the registration had made stayed, in no device record.
    let stack = stack().await;
    let endpoints = crate::profile::phone_endpoints(
        &aws_sdk_sns::Client::new(&stack.aws),
        stack.push.apns.as_ref().unwrap(),
        &format!("racing-{holder}"),
    )
    .await;
    assert_eq!(endpoints, []);
    assert_eq!(hook.status(), Some(204));
}

async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn group_role_mappings_stop_at_their_bound_with_the_field_named_and_the_organisation_works_on()
 {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let (app, admin) = (&scim.app, &scim.admin);
    let sites: Vec<String> = futures::stream::iter(0..100)
        .then(|i| async move {
            let site = app
                .post_json(
                    "/v1/admin/sites",
                    admin,
                    &json!({ "name": format!("Site {i}") }),
                )
                .await;
            site["id"].as_str().unwrap().to_owned()
        })
        .collect()
        .await;
    // 17 grants, each on every site but one: 1,700 of the bound's 2,000 entries, in a body just
    // under the 64 KiB an API request may carry.
    let roles: Vec<Value> = (0..17)
        .map(|left_out| {
            let on: Vec<&String> = sites.iter().filter(|s| **s != sites[left_out]).collect();
            json!({ "role": "user_management", "sites": on })
        })
        .collect();
    // Without the bound, the organisation's one item passed DynamoDB's 400 KB within these
    // groups, and the mapping answered 503 (a retry can never succeed).
    let mut answers = Vec::new();
    for g in 0..10 {
        let group = scim.group(&format!("Site managers {g}"), &[]).await;
        let response = app
            .http
            .put(app.url(&format!("/v1/admin/scim-groups/{group}/roles")))
            .bearer_auth(admin)
            .json(&json!({ "roles": roles }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        answers.push((status, response.json::<Value>().await.unwrap()));
    }
    assert_eq!(answers[0].0, 200, "{}", answers[0].1);
    for (status, problem) in &answers[1..] {
        assert_eq!(*status, 422, "{problem}");
        assert_eq!(
            roster_e2e::problem_errors(problem),
            [("roles".to_owned(), "too_many".to_owned())]
        );
    }
    let groups = app.json("/v1/admin/scim-groups?limit=200", admin).await;
    let mapped: Vec<&Value> = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["roles"] != json!([]))
        .collect();
    assert_eq!(mapped.len(), 1, "the refused mappings changed nothing");
    assert_eq!(mapped[0]["roles"].as_array().unwrap().len(), 17);
}

#[tokio::test]
async fn a_group_mapped_to_a_role_gives_it_to_members_as_they_join_and_leave() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let (app, admin) = (&scim.app, &scim.admin);
    let site = app
        .post_json("/v1/admin/sites", admin, &json!({ "name": "Berlin" }))
        .await;
    let site = site["id"].as_str().unwrap().to_owned();
    let email = roster_e2e::unique_email("lead");
    let (_, lead) = scim
        .send("POST", "/Users", Some(entra_user(&email, "E-L")))
        .await;
    let lead = lead["id"].as_str().unwrap().to_owned();
    let session = scim.app.invited_session(&scim.admin, &lead, &email).await;
    let administers = || status_of(app.get("/v1/admin/users", &session));
    assert_eq!(
        administers().await,
        403,
        "a plain member administers nothing"
    );

    let (_, group) = scim
        .send(
            "POST",
            "/Groups",
            Some(json!({ "displayName": "Berlin user managers" })),
        )
        .await;
    let group = group["id"].as_str().unwrap().to_owned();
    let mapping = format!("/v1/admin/scim-groups/{group}/roles");
    let map = |roles: Value| {
        app.http
            .put(app.url(&mapping))
            .bearer_auth(admin)
            .json(&json!({ "roles": roles }))
    };
    let response = map(json!([{ "role": "user_management", "sites": [site] }]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mapped: Value = response.json().await.unwrap();
    assert_eq!(mapped["display_name"], "Berlin user managers");
    assert_eq!(mapped["roles"][0]["role"], "user_management");
    assert_eq!(administers().await, 403, "not a member of the group yet");

    let add = json!([{ "op": "Add", "path": "members", "value": [{ "value": lead }] }]);
    assert_eq!(
        scim.patch(&format!("/Groups/{group}"), add.clone()).await.0,
        200
    );
    assert_eq!(administers().await, 200, "the group's role applies at once");
    let (view, _) = app.read(&format!("/v1/admin/users/{lead}"), admin).await;
    assert_eq!(view["roles"], json!([{ "role": "member", "sites": null }]));
    assert_eq!(
        view["group_roles"],
        json!([{ "role": "user_management", "sites": [site] }])
    );
    let listed = app
        .json("/v1/admin/users?role=user_management", admin)
        .await;
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [lead.as_str()], "the role filter sees group roles");
    let groups = app.json("/v1/admin/scim-groups", admin).await;
    assert_eq!(groups["items"][0]["members"], 1);

    // An unknown member is refused and the group stays as it was.
    let (status, problem) = scim
        .patch(
            &format!("/Groups/{group}"),
            json!([{ "op": "add", "path": "members", "value": [{ "value": "no-such-user" }] }]),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(problem["scimType"], "invalidValue");
    assert!(problem["detail"].as_str().unwrap().contains("no-such-user"));

    let remove = json!([{ "op": "remove", "path": format!("members[value eq \"{lead}\"]") }]);
    assert_eq!(scim.patch(&format!("/Groups/{group}"), remove).await.0, 200);
    assert_eq!(
        administers().await,
        403,
        "leaving the group takes the role away"
    );

    assert_eq!(scim.patch(&format!("/Groups/{group}"), add).await.0, 200);
    assert_eq!(administers().await, 200);
    assert_eq!(status_of(map(json!([]))).await, 200);
    assert_eq!(administers().await, 403, "an unmapped group gives nothing");

    // Mapping is an Admin's decision, within what can be granted, to known sites and groups.
    assert_eq!(
        status_of(map(json!(["admin"]))).await,
        403,
        "Admin is never given by a group"
    );
    let unknown_site = map(json!([{ "role": "manager", "sites": ["nowhere"] }]))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_site.status(), 422);
    assert_eq!(
        status_of(
            app.http
                .put(app.url("/v1/admin/scim-groups/no-such-group/roles"))
                .bearer_auth(admin)
                .json(&json!({ "roles": ["manager"] }))
        )
        .await,
        404
    );
    assert_eq!(
        status_of(
            app.http
                .put(app.url(&mapping))
                .bearer_auth(&session)
                .json(&json!({ "roles": ["manager"] }))
        )
        .await,
        403,
        "only an Admin maps groups"
    );

    // Deleting the group takes its mapping with it.
    assert_eq!(status_of(map(json!(["reporting"]))).await, 200);
    let reporting = app.json("/v1/admin/users?role=reporting", admin).await;
    assert_eq!(reporting["items"][0]["id"], lead.as_str());
    assert_eq!(
        scim.send("DELETE", &format!("/Groups/{group}"), None)
            .await
            .0,
        204
    );
    let reporting = app.json("/v1/admin/users?role=reporting", admin).await;
    assert_eq!(reporting["items"], json!([]));
}

#[tokio::test]
async fn a_group_change_refused_for_its_name_gives_none_of_its_many_new_members_the_group() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    // More new members than one transaction holds.
    let members: Vec<Value> = (scim.users("many", 120).await.iter())
        .map(|id| json!({ "value": id }))
        .collect();
    scim.group("Alpha", &[]).await;
    let beta = scim.group("Beta", &[]).await;
    scim.map_role(&beta, "reporting").await;
    let change = |name: &str| {
        json!([
            { "op": "Add", "path": "members", "value": members },
            { "op": "Replace", "path": "displayName", "value": name }
        ])
    };

    let (status, conflict) = scim
        .patch(&format!("/Groups/{beta}"), change("ALPHA"))
        .await;
    assert_eq!(
        (status, conflict["scimType"].as_str()),
        (409, Some("uniqueness"))
    );
    assert_eq!(
        scim.holding("reporting").await,
        0,
        "no member was given the group's role"
    );
    let (_, unchanged) = scim.send("GET", &format!("/Groups/{beta}"), None).await;
    assert_eq!(unchanged["displayName"], "Beta");
    assert!(unchanged.get("members").is_none(), "{unchanged}");

    let (status, _) = scim
        .patch(&format!("/Groups/{beta}"), change("Gamma"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(scim.holding("reporting").await, 120);
}

/// A PATCH operation `op` (`Add`, `Remove`) of the members `ids`.
fn members_op(op: &str, ids: &[String]) -> Value {
    let members: Vec<Value> = ids.iter().map(|id| json!({ "value": id })).collect();
    json!([{ "op": op, "path": "members", "value": members }])
}

/// A group mapped to `reporting`, sent more new members than one transaction holds by a
/// request that can be cut off after the first transaction of their memberships.
struct CutGroup {
    scim: Provisioner,
    conflicts: roster_e2e::TransactionConflicts,
    group: String,
    members: Vec<String>,
}

impl CutGroup {
    async fn new() -> Self {
        let (app, conflicts) = roster_e2e::conflicting_app().await;
        let scim = Provisioner::new(app).await;
        let members = scim.users("cut", 120).await;
        let group = scim.group("Leads", &[]).await;
        scim.map_role(&group, "reporting").await;
        Self {
            scim,
            conflicts,
            group,
            members,
        }
    }

    fn path(&self) -> String {
        format!("/Groups/{}", self.group)
    }

    /// `op` of all the members.
    fn members_op(&self, op: &str) -> Value {
        members_op(op, &self.members)
    }

    /// Adds all the members by a request whose first transaction of memberships goes through
    /// and every later one meets another write until it gives up, as a request cut off
    /// part-way stops: some of them, not all, are given the group's role.
    async fn cut_off(&self) {
        self.conflicts.arm_after("#USER#", 1, usize::MAX);
        let (status, body) = self.scim.patch(&self.path(), self.members_op("Add")).await;
        assert_eq!(status, 503, "{body}");
        self.conflicts.arm("", 0);
        let given = self.scim.holding("reporting").await;
        assert!((1..120).contains(&given), "{given} given the role");
    }

    async fn rename(&self, name: &str) {
        let rename = json!([{ "op": "Replace", "path": "displayName", "value": name }]);
        let (status, body) = self.scim.patch(&self.path(), rename).await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn members_a_group_change_cut_off_part_way_left_are_set_right_by_the_groups_next_write() {
    let cut = CutGroup::new().await;
    let scim = &cut.scim;

    // Entra ID takes them all out again before it retries: nobody keeps the group's role.
    cut.cut_off().await;
    let (status, body) = scim.patch(&cut.path(), cut.members_op("Remove")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(scim.member_values(&cut.group).await, Vec::<String>::new());
    assert_eq!(scim.holding("reporting").await, 0);
    // Finished: the jobs function no longer finds it.
    assert_eq!(cut.listed_pending().await, None);

    // Cut off again, and then the group is only renamed: every member it lists has its role.
    cut.cut_off().await;
    cut.rename("Team leads").await;
    assert_eq!(scim.member_values(&cut.group).await.len(), 120);
    assert_eq!(scim.holding("reporting").await, 120);
    assert_eq!(cut.listed_pending().await, None);
}

impl CutGroup {
    /// Dates the members the group has pending as left by a write that saved the group at
    /// `saved`.
    async fn date_pending(&self, saved: &str) {
        let claim = roster_store::ScimClaim::parse(&self.scim.token).unwrap();
        let (organisation, group) = (claim.organisation(), self.group.as_str());
        let at = chrono::DateTime::parse_from_rfc3339(saved)
            .unwrap()
            .to_utc();
        let since = roster_store::keys::scim_group_pending_since(at, organisation, group);
        let (listed, _) = self.listed_pending().await.expect("listed as pending");
        set_attribute(listed, "gsi1sk", since).await;
    }

    /// The item that lists the group among those with members pending (the jobs function's
    /// `gsi1` query), and its size, if it is listed.
    async fn listed_pending(&self) -> Option<(roster_store::keys::Key, usize)> {
        let claim = roster_store::ScimClaim::parse(&self.scim.token).unwrap();
        let ending = format!("#{}#{}", claim.organisation(), self.group);
        let stack = stack().await;
        let pages = aws_sdk_dynamodb::Client::new(&stack.aws)
            .query()
            .table_name(&stack.config.table_name)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :pending")
            .expression_attribute_values(
                ":pending",
                AttributeValue::S(roster_store::keys::SCIM_GROUPS_PENDING.to_owned()),
            )
            .into_paginator()
            .items()
            .send()
            .collect::<Vec<_>>()
            .await;
        let mut listed = pages
            .into_iter()
            .map(Result::unwrap)
            .filter(|item| item["gsi1sk"].as_s().unwrap().ends_with(&ending));
        let item = listed.next()?;
        assert!(listed.next().is_none(), "listed twice");
        let text = |name: &str| item[name].as_s().unwrap().to_owned();
        let key = roster_store::keys::Key {
            pk: text("pk"),
            sk: text("sk"),
        };
        Some((key, roster_store::item_bytes(&item)))
    }

    /// Dates the group's last write at `saved`.
    async fn date_group(&self, saved: &str) {
        let claim = roster_store::ScimClaim::parse(&self.scim.token).unwrap();
        let group = roster_store::keys::scim_group(claim.organisation(), &self.group);
        set_attribute(group, "last_modified", saved.to_owned()).await;
    }

    /// The entries of the organisation's audit log that say the jobs function finished a
    /// group change (all its pages: they are dated before the requests' entries).
    async fn finished_in_audit(&self) -> Vec<Value> {
        let mut entries = vec![];
        let mut cursor = String::new();
        loop {
            let path = format!("/v1/admin/audit?action=scim.group.finished&cursor={cursor}");
            let page = self.scim.app.json(&path, &self.scim.admin).await;
            entries.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => return entries,
            }
        }
    }

    /// Whether the group has members a write left pending.
    async fn has_pending(&self) -> bool {
        let claim = roster_store::ScimClaim::parse(&self.scim.token).unwrap();
        let table = stack().await.table();
        let read = table.scim_group_to_write(&claim, &self.group).await;
        read.unwrap().unwrap().1.is_some()
    }
}

/// Sets the text attribute `name` of the item at `key`, which has it.
async fn set_attribute(key: roster_store::keys::Key, name: &str, value: String) {
    let stack = stack().await;
    aws_sdk_dynamodb::Client::new(&stack.aws)
        .update_item()
        .table_name(&stack.config.table_name)
        .key("pk", AttributeValue::S(key.pk))
        .key("sk", AttributeValue::S(key.sk))
        .update_expression("SET #name = :value")
        .condition_expression("attribute_exists(#name)")
        .expression_attribute_names("#name", name)
        .expression_attribute_values(":value", AttributeValue::S(value))
        .send()
        .await
        .unwrap();
}

/// The SCIM group run of the jobs function at `at`.
async fn finish_scim_groups(at: &str) -> Value {
    let mut event = roster_e2e::sample_event("jobs-finish-scim-groups.json");
    event["time"] = json!(at);
    stack()
        .await
        .functions()
        .invoke("jobs", event)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_group_change_cut_off_part_way_that_no_write_follows_is_finished_by_the_scim_group_run() {
    let cut = CutGroup::new().await;
    let scim = &cut.scim;
    // Moments of yesterday, which no other test's group writes are dated at (its audit entries
    // are still kept).
    let day = (chrono::Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%d");
    let at = |time: &str| format!("{day}T{time}Z");

    // Added, cut off. A run within 5 minutes leaves it (the request may still be writing), as
    // does a later one that finds the group saved since (by a request that may be writing).
    cut.cut_off().await;
    let given = scim.holding("reporting").await;
    // The group is listed for the run by an entry of one write unit, not by its 120 members.
    let (_, bytes) = cut.listed_pending().await.expect("listed as pending");
    assert!(bytes < 1024, "{bytes} bytes listed");
    cut.date_pending(&at("10:00:00")).await;
    for time in ["10:04:59", "10:10:00"] {
        let run = finish_scim_groups(&at(time)).await;
        assert_eq!(
            (run["job"].as_str(), run["finished"].as_u64()),
            (Some("finish-scim-groups"), Some(0)),
            "{run}"
        );
    }
    assert_eq!(scim.holding("reporting").await, given);
    assert_eq!(cut.finished_in_audit().await, Vec::<Value>::new());
    // Nothing wrote the group since: the run gives the rest the role, and says so in the log.
    cut.date_group(&at("10:00:00")).await;
    let run = finish_scim_groups(&at("10:10:00")).await;
    assert_eq!(run["finished"], 1, "{run}");
    assert_eq!(scim.member_values(&cut.group).await.len(), 120);
    assert_eq!(scim.holding("reporting").await, 120);
    assert!(!cut.has_pending().await);
    assert_eq!(cut.listed_pending().await, None);
    let finished = cut.finished_in_audit().await;
    assert_eq!(finished.len(), 1, "{finished:?}");
    assert_eq!(
        (
            &finished[0]["actor"],
            &finished[0]["target"],
            &finished[0]["at"]
        ),
        (
            &json!({ "kind": "job", "id": "finish-scim-groups" }),
            &json!(cut.group),
            &json!(at("10:10:00"))
        )
    );

    // Removed, cut off: nobody the group no longer lists keeps its role.
    cut.conflicts.arm_after("#USER#", 1, usize::MAX);
    let (status, body) = scim.patch(&cut.path(), cut.members_op("Remove")).await;
    assert_eq!(status, 503, "{body}");
    cut.conflicts.arm("", 0);
    assert!(scim.holding("reporting").await > 0);
    cut.date_pending(&at("11:00:00")).await;
    cut.date_group(&at("11:00:00")).await;
    let run = finish_scim_groups(&at("11:10:00")).await;
    assert_eq!(run["finished"], 1, "{run}");
    assert_eq!(scim.member_values(&cut.group).await, Vec::<String>::new());
    assert_eq!(scim.holding("reporting").await, 0);
    assert!(!cut.has_pending().await);
    assert_eq!(cut.listed_pending().await, None);
}

#[tokio::test]
async fn a_member_deleted_before_a_cut_off_group_change_reached_them_leaves_the_group() {
    let cut = CutGroup::new().await;
    let scim = &cut.scim;
    cut.cut_off().await;
    // One the cut-off request listed in the group but never reached is deleted.
    let given = scim.holders("reporting").await;
    let unreached = (cut.members.iter())
        .find(|id| !given.contains(*id))
        .unwrap()
        .clone();
    let (status, _) = scim
        .send("DELETE", &format!("/Users/{unreached}"), None)
        .await;
    assert_eq!(status, 204);

    cut.rename("Team leads").await;
    let listed = scim.member_values(&cut.group).await;
    assert!(!listed.contains(&unreached), "a deleted User is listed");
    assert_eq!(listed.len(), 119);
    assert_eq!(scim.holding("reporting").await, 119);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_deleted_as_a_large_group_change_writes_them_leaves_the_group_at_its_next_write() {
    let (app, hook) = roster_e2e::hooked_app().await;
    let scim = Provisioner::new(app).await;
    let members = scim.users("racing", 120).await;
    let group = scim.group("Leads", &[]).await;
    scim.map_role(&group, "reporting").await;
    let path = format!("/Groups/{group}");
    // Deleted once the group lists them, before the first transaction of memberships.
    let deleted = &members[0];
    let delete = (scim.app.http)
        .delete(scim.app.url(&format!("/scim/v2/Users/{deleted}")))
        .bearer_auth(&scim.token);
    hook.arm("#USER#", delete);
    let (status, body) = scim.patch(&path, members_op("Add", &members)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(hook.status(), Some(204));
    assert_eq!(scim.holding("reporting").await, 119);

    let rename = json!([{ "op": "Replace", "path": "displayName", "value": "Team leads" }]);
    let (status, body) = scim.patch(&path, rename).await;
    assert_eq!(status, 200, "{body}");
    let listed = scim.member_values(&group).await;
    assert!(!listed.contains(deleted), "a deleted User is listed");
    assert_eq!(listed.len(), 119);
}

#[tokio::test]
async fn a_group_write_holds_to_the_members_left_pending_it_read_with_the_group() {
    let cut = CutGroup::new().await;
    cut.cut_off().await;
    let table = stack().await.table();
    let claim = roster_store::ScimClaim::parse(&cut.scim.token).unwrap();
    let read = || async {
        (table.scim_group_to_write(&claim, &cut.group).await)
            .unwrap()
            .unwrap()
    };
    let (group, pending) = read().await;
    assert_eq!(pending.as_ref().map(|p| p.members.len()), Some(120));
    let renamed = roster_store::ScimGroup {
        version: group.version + 1,
        ..group.clone()
    };

    // A read that missed them, or read others than these (a read of two items is not
    // isolated from the write that made them), must neither write over them nor delete them.
    let pending = pending.unwrap();
    let older = roster_store::PendingMembers {
        version: pending.version - 1,
        ..pending.clone()
    };
    let organisation = table
        .organisation(claim.organisation())
        .await
        .unwrap()
        .unwrap();
    for read_with_group in [None, Some(&older)] {
        let save = table.save_scim_group(Some(&group), read_with_group, &renamed, &[]);
        let saved = save.await;
        assert!(matches!(saved, Err(StoreError::Stale)), "{saved:?}");
        let delete = table.delete_scim_group(&group, read_with_group, &organisation, None);
        let deleted = delete.await;
        assert!(matches!(deleted, Err(StoreError::Stale)), "{deleted:?}");
    }
    assert_eq!(read().await.1.map(|p| p.members.len()), Some(120));

    let saved = table
        .save_scim_group(Some(&group), Some(&pending), &renamed, &[])
        .await;
    assert_eq!(saved.unwrap(), GroupSaved::Whole);
    let (now, left) = read().await;
    assert_eq!((now.version, left.is_none()), (renamed.version, true));
}

#[tokio::test]
async fn the_organisation_chooses_which_scim_attributes_it_takes() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let (app, admin) = (&scim.app, &scim.admin);
    let (_, etag) = app.read("/v1/admin/organisation", admin).await;
    let refused = app
        .patch(
            "/v1/admin/organisation",
            admin,
            &etag,
            &json!({ "settings": { "scim_attributes": ["about_me"] } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(
        roster_e2e::problem_errors(&problem),
        [(
            "settings.scim_attributes".to_owned(),
            "invalid_attribute".to_owned()
        )]
    );
    let chosen = app
        .patch(
            "/v1/admin/organisation",
            admin,
            &etag,
            &json!({ "settings": { "scim_attributes": ["first_name", "last_name", "email"] } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), 200);

    let email = roster_e2e::unique_email("kim");
    let (status, user) = scim
        .send("POST", "/Users", Some(entra_user(&email, "E-K")))
        .await;
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/admin/users/{id}");
    let (view, etag) = app.read(&path, admin).await;
    assert_eq!(view["first_name"], "Ada");
    assert_eq!(view["managed_by"]["first_name"], "scim");
    assert_eq!(view["function"], Value::Null, "title is not taken");
    assert_eq!(view["external_id"], Value::Null);
    assert_eq!(view["managed_by"]["function"], "self");
    let edited = app
        .patch(&path, admin, &etag, &json!({ "function": "Facility lead" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        edited.status(),
        200,
        "an admin edits what SCIM does not take"
    );
    let (status, _) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "replace", "path": "title", "value": "Engineer" }]),
        )
        .await;
    assert_eq!(status, 200);
    let (view, _) = app.read(&path, admin).await;
    assert_eq!(view["function"], "Facility lead", "SCIM leaves it alone");

    // A value Roster could not keep, of an attribute it does not take, refuses nobody.
    let (status, patched) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([
                { "op": "replace", "path": "title", "value": "t".repeat(101) },
                { "op": "add", "path": "phoneNumbers[type eq \"work\"].value", "value": "+1 (425) 555-0100 ext. 1234" }
            ]),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    let (view, _) = app.read(&path, admin).await;
    assert_eq!(
        (&view["function"], &view["phone"]),
        (&json!("Facility lead"), &Value::Null)
    );

    // Once the organisation takes phones, that stored number still blocks nothing: the person
    // leaving is deactivated. A number sent anew is judged as always.
    app.change_settings(
        admin,
        json!({ "scim_attributes": ["first_name", "last_name", "email", "phone"] }),
    )
    .await;
    let (status, refused) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "call me" }]),
        )
        .await;
    assert_eq!(
        (status, &refused["scimType"]),
        (400, &json!("invalidValue"))
    );
    let (status, left) = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{ "op": "Replace", "path": "active", "value": "False" }]),
        )
        .await;
    assert_eq!(status, 200, "{left}");
    let (view, _) = app.read(&path, admin).await;
    assert_eq!(view["status"], "deactivated");
}

#[tokio::test]
async fn users_are_found_by_external_id_though_the_organisation_keeps_external_ids_its_own() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    scim.app
        .change_settings(
            &scim.admin,
            json!({ "scim_attributes": ["first_name", "last_name", "email"] }),
        )
        .await;
    let by_external_id = |external_id: &str| {
        let path = filter_path(&format!(r#"externalId eq "{external_id}""#));
        let scim = &scim;
        async move { scim.send("GET", &path, None).await }
    };
    let create = |external_id: &str| {
        let user = json!({
            "userName": roster_e2e::unique_email("ext"),
            "externalId": external_id,
        });
        scim.send("POST", "/Users", Some(user))
    };

    let (status, user) = create("X-1").await;
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap().to_owned();
    let (status, found) = by_external_id("X-1").await;
    assert_eq!(status, 200);
    assert_eq!(listed_ids(&found), std::slice::from_ref(&id));
    assert_eq!(
        listed_ids(&by_external_id("x-1").await.1),
        Vec::<String>::new(),
        "case-exact"
    );
    let (status, conflict) = create("X-1").await;
    assert_eq!(
        (status, conflict["scimType"].as_str()),
        (409, Some("uniqueness"))
    );

    let replace = json!([{ "op": "replace", "path": "externalId", "value": "X-2" }]);
    assert_eq!(scim.patch(&format!("/Users/{id}"), replace).await.0, 200);
    assert_eq!(
        listed_ids(&by_external_id("X-1").await.1),
        Vec::<String>::new()
    );
    assert_eq!(
        listed_ids(&by_external_id("X-2").await.1),
        std::slice::from_ref(&id)
    );
    assert_eq!(create("X-1").await.0, 201, "the old value is free again");

    assert_eq!(
        scim.send("DELETE", &format!("/Users/{id}"), None).await.0,
        204
    );
    assert_eq!(
        listed_ids(&by_external_id("X-2").await.1),
        Vec::<String>::new()
    );
    assert_eq!(create("X-2").await.0, 201);
}

#[tokio::test]
async fn a_user_provisioned_before_external_ids_had_sentinels_of_their_own_is_still_found() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let user = json!({ "userName": roster_e2e::unique_email("old"), "externalId": "L-7" });
    let (status, created) = scim.send("POST", "/Users", Some(user)).await;
    assert_eq!(status, 201, "{created}");
    // As written before: only the profile's external-id sentinel (the organisation takes it).
    let me = scim.app.json("/v1/me", &scim.admin).await;
    let organisation = OrganisationId::try_from(me["organisation_id"].as_str().unwrap()).unwrap();
    let sentinel = roster_store::keys::scim_external_id_sentinel(&organisation, "L-7");
    let stack = stack().await;
    aws_sdk_dynamodb::Client::new(&stack.aws)
        .delete_item()
        .table_name(&stack.config.table_name)
        .key("pk", AttributeValue::S(sentinel.pk))
        .key("sk", AttributeValue::S(sentinel.sk))
        .send()
        .await
        .unwrap();

    let (status, found) = scim
        .send("GET", &filter_path(r#"externalId eq "L-7""#), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed_ids(&found), [created["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn an_attribute_the_organisation_stops_taking_goes_back_to_admins_at_once() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let (app, admin) = (&scim.app, &scim.admin);
    let (_, user) = scim
        .send(
            "POST",
            "/Users",
            Some(entra_user(&roster_e2e::unique_email("dept"), "D-1")),
        )
        .await;
    let path = format!("/v1/admin/users/{}", user["id"].as_str().unwrap());
    let (view, etag) = app.read(&path, admin).await;
    assert_eq!(view["managed_by"]["department"], "scim");

    // No SCIM write follows (Entra sends only changes): the admin edits it anyway.
    app.change_settings(
        admin,
        json!({ "scim_attributes": ["first_name", "last_name", "email"] }),
    )
    .await;
    let (view, _) = app.read(&path, admin).await;
    assert_eq!(
        (&view["department"], &view["managed_by"]["department"]),
        (&json!("Research"), &json!("self")),
        "the value stays, the person and admins own it"
    );
    let edited = app
        .patch(&path, admin, &etag, &json!({ "department": "Facilities" }))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200, "{}", edited.text().await.unwrap());
    let (view, _) = app.read(&path, admin).await;
    assert_eq!(
        view["managed_by"]["first_name"], "scim",
        "what it takes stays SCIM's"
    );
}

#[tokio::test]
async fn a_person_moves_their_login_though_another_organisation_stopped_taking_email_from_scim() {
    let app = spawn_app(&stack().await.functions()).await;
    let (home, token) = organisation(&app, json!({})).await;
    let scim = Provisioner::new(app).await;
    let (status, joined) = scim
        .send("POST", "/Users", Some(entra_user(&home.admin_email, "X-1")))
        .await;
    assert_eq!(status, 201, "{joined}");
    let moved_to = roster_e2e::unique_email("moved");
    let (_, etag) = scim.app.read("/v1/me", &token).await;
    let move_login = || scim.app.ask_email_change(&token, &etag, &moved_to);
    let kept = move_login().await;
    assert_eq!(
        kept.status(),
        422,
        "that organisation's identity provider keeps the email"
    );
    assert_eq!(
        roster_e2e::problem_errors(&kept.json().await.unwrap()),
        [("email".to_owned(), "managed_elsewhere".to_owned())]
    );
    scim.app
        .change_settings(
            &scim.admin,
            json!({ "scim_attributes": ["first_name", "last_name"] }),
        )
        .await;

    // No SCIM write released that organisation's copy since: it moves with the login.
    let moved = move_login().await;
    assert_eq!(moved.status(), 202, "{}", moved.text().await.unwrap());
    let (confirmed, body) = scim.app.confirm_email_change(&moved_to).await;
    assert_eq!(confirmed, 204, "{body}");
    scim.app.login(&moved_to, roster_e2e::TEST_PASSWORD).await;

    // The organisation takes the email from SCIM again; its document still holds the old one,
    // which cannot move a login shared with another organisation. The person leaving there
    // still loses access at once (was: the deactivation was refused with the email, each cycle).
    scim.app
        .change_settings(
            &scim.admin,
            json!({ "scim_attributes": ["first_name", "last_name", "email"] }),
        )
        .await;
    let path = format!("/Users/{}", joined["id"].as_str().unwrap());
    let (status, refused) = scim
        .patch(
            &path,
            json!([{ "op": "Replace", "path": "active", "value": "False" }]),
        )
        .await;
    assert_eq!(
        (status, refused["scimType"].as_str()),
        (400, Some("mutability")),
        "{refused}"
    );
    let (_, read) = scim.send("GET", &path, None).await;
    assert_eq!(read["active"], false, "{read}");
    let (user, _) = scim
        .app
        .read(
            &format!("/v1/admin/users/{}", joined["id"].as_str().unwrap()),
            &scim.admin,
        )
        .await;
    assert_eq!(user["status"], "deactivated", "{user}");
    assert_eq!(
        user["email"], moved_to,
        "the login stays where its person moved it"
    );
    scim.app.login(&moved_to, roster_e2e::TEST_PASSWORD).await;
}

#[tokio::test]
async fn a_scim_get_makes_at_most_two_dynamodb_calls() {
    let (scim, counter) = Provisioner::counted().await;
    let email = roster_e2e::unique_email("counted");
    let (_, created) = scim
        .send("POST", "/Users", Some(entra_user(&email, "E-9")))
        .await;
    let id = created["id"].as_str().unwrap();
    for path in [
        format!("/Users/{id}"),
        filter_path(&format!(r#"userName eq "{email}""#)),
        filter_path(r#"externalId eq "E-9""#),
        filter_path(r#"userName eq "nobody-at-all""#),
    ] {
        counter.reset();
        let (status, _) = scim.send("GET", &path, None).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            counter.count() <= 2,
            "GET {path} made {} DynamoDB calls",
            counter.count()
        );
        assert!(counter.count() > 0);
    }
}

/// The ids of a ListResponse's resources.
fn listed_ids(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_unfiltered_user_list_pages_by_cursor_and_never_reads_the_whole_organisation() {
    let (scim, counter) = Provisioner::counted().await;
    let provision = |n: usize| {
        let scim = &scim;
        async move {
            let email = roster_e2e::unique_email(&format!("listed{n}"));
            let (status, created) = scim
                .send(
                    "POST",
                    "/Users",
                    Some(entra_user(&email, &format!("L-{n}"))),
                )
                .await;
            assert_eq!(status, 201, "{created}");
            created["id"].as_str().unwrap().to_owned()
        }
    };
    let mut provisioned = Vec::new();
    for n in 0..2 {
        provisioned.push(provision(n).await);
    }
    // Someone an admin added is listed once SCIM adopts them (their membership is rewritten).
    let adopted_email = roster_e2e::unique_email("adopted");
    let added = scim
        .app
        .post(
            "/v1/admin/users",
            &scim.admin,
            &json!({ "first_name": "Ada", "last_name": "Added", "email": adopted_email }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    let (_, before) = scim.send("GET", "/Users", None).await;
    assert_eq!(before["totalResults"], 2, "not provisioned, not listed");
    let (status, adopted) = scim
        .send(
            "POST",
            "/Users",
            Some(entra_user(&adopted_email, "L-adopted")),
        )
        .await;
    assert_eq!(status, 201, "{adopted}");
    provisioned.push(adopted["id"].as_str().unwrap().to_owned());
    provisioned.sort();

    // Few users: index paging with an exact total (the admin, not provisioned, is not listed).
    let (status, all) = scim.send("GET", "/Users", None).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["totalResults"], 3);
    // RFC 9865: an empty cursor asks for the first page; nextCursor until the last.
    let (_, first) = scim.send("GET", "/Users?cursor=&count=2", None).await;
    assert_eq!(first["itemsPerPage"], 2, "{first}");
    assert!(first.get("totalResults").is_none());
    let next = first["nextCursor"].as_str().expect("a next page");
    let (_, second) = scim
        .send("GET", &format!("/Users?cursor={next}&count=2"), None)
        .await;
    assert!(second.get("nextCursor").is_none(), "{second}");
    let mut paged = [listed_ids(&first), listed_ids(&second)].concat();
    paged.sort();
    assert_eq!(paged, provisioned);
    let (status, refused) = scim.send("GET", "/Users?cursor=not-ours", None).await;
    assert_eq!(
        (status, refused["scimType"].as_str()),
        (400, Some("invalidCursor"))
    );
    // Past the page size too (was a page of 200, as if the client had asked for it).
    for count in [0, 201] {
        let (status, refused) = scim
            .send("GET", &format!("/Users?cursor=&count={count}"), None)
            .await;
        assert_eq!(
            (status, refused["scimType"].as_str()),
            (400, Some("invalidCount")),
            "count={count}"
        );
    }
    // A filtered list (and /Groups, /.search) is read whole; its cursor pages it by offset.
    let (_, one) = scim
        .send(
            "GET",
            &format!("{}&cursor=", filter_path(r#"externalId eq "L-1""#)),
            None,
        )
        .await;
    assert_eq!(
        (one["itemsPerPage"].as_u64(), one.get("nextCursor")),
        (Some(1), None)
    );
    let (_, searched) = scim
        .send(
            "POST",
            "/.search",
            Some(json!({ "cursor": "", "count": 2 })),
        )
        .await;
    assert_eq!(searched["itemsPerPage"], 2, "{searched}");
    let offset = searched["nextCursor"].as_str().expect("a next page");
    let (_, rest) = scim
        .send(
            "POST",
            "/.search",
            Some(json!({ "cursor": offset, "count": 2 })),
        )
        .await;
    assert_eq!(rest["itemsPerPage"], 1, "three users, no group: {rest}");
    assert!(rest.get("nextCursor").is_none());

    // Beyond 1,000 users the list answers a cursor's first page instead of reading them all, and
    // index paging says how to go on.
    let more: Vec<String> = futures::stream::iter(3..1_003)
        .map(provision)
        .buffer_unordered(16)
        .collect()
        .await;
    provisioned.extend(more);
    provisioned.sort();
    counter.reset();
    let (status, page) = scim.send("GET", "/Users", None).await;
    assert_eq!(status, 200);
    assert!(
        counter.count() <= 5,
        "an unfiltered GET /Users made {} DynamoDB calls",
        counter.count()
    );
    assert_eq!(page["itemsPerPage"], 200);
    assert!(page.get("totalResults").is_none());
    let (status, refused) = scim.send("GET", "/Users?startIndex=1&count=10", None).await;
    assert_eq!(
        (status, refused["scimType"].as_str()),
        (400, Some("tooMany"))
    );
    let mut paged = listed_ids(&page);
    let mut next = page["nextCursor"].as_str().map(str::to_owned);
    while let Some(cursor) = next {
        counter.reset();
        let (status, page) = scim
            .send("GET", &format!("/Users?cursor={cursor}"), None)
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(counter.count(), 2, "the token, then one Query");
        paged.extend(listed_ids(&page));
        next = page["nextCursor"].as_str().map(str::to_owned);
    }
    paged.sort();
    assert_eq!(paged, provisioned);
}

#[tokio::test]
async fn an_unfiltered_group_list_reads_only_the_page_it_answers() {
    let (scim, counter) = Provisioner::counted().await;
    let create = |n: usize| {
        let scim = &scim;
        async move {
            let group = json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": format!("Team {n}"),
            });
            let (status, created) = scim.send("POST", "/Groups", Some(group)).await;
            assert_eq!(status, 201, "{created}");
            created["id"].as_str().unwrap().to_owned()
        }
    };
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(create(n).await);
    }
    ids.sort();

    let (_, second) = scim.send("GET", "/Groups?startIndex=2&count=1", None).await;
    assert_eq!(
        (&second["totalResults"], &second["itemsPerPage"]),
        (&json!(3), &json!(1))
    );
    assert_eq!(listed_ids(&second), [ids[1].clone()], "by id");
    let (_, first) = scim.send("GET", "/Groups?cursor=&count=2", None).await;
    let next = first["nextCursor"].as_str().expect("a next page");
    let (_, rest) = scim
        .send("GET", &format!("/Groups?cursor={next}&count=2"), None)
        .await;
    assert_eq!([listed_ids(&first), listed_ids(&rest)].concat(), ids);

    // Beyond 1,000 groups: a cursor's first page, and startIndex is refused.
    let more: Vec<String> = futures::stream::iter(3..1_003)
        .map(create)
        .buffer_unordered(16)
        .collect()
        .await;
    ids.extend(more);
    counter.reset();
    let (status, page) = scim.send("GET", "/Groups?count=50", None).await;
    assert_eq!(status, 200);
    assert!(counter.count() <= 4, "{} DynamoDB calls", counter.count());
    assert_eq!(page["itemsPerPage"], 50);
    assert!(page["nextCursor"].is_string() && page.get("totalResults").is_none());
    let (status, refused) = scim.send("GET", "/Groups?startIndex=1", None).await;
    assert_eq!(
        (status, refused["scimType"].as_str()),
        (400, Some("tooMany"))
    );
}

#[tokio::test]
async fn pages_of_large_groups_stay_within_what_a_lambda_function_may_answer() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let members: Vec<Value> = futures::stream::iter(0..100)
        .map(|i| {
            let scim = &scim;
            async move {
                let user = json!({ "userName": roster_e2e::unique_email(&format!("big{i}")) });
                let (status, created) = scim.send("POST", "/Users", Some(user)).await;
                assert_eq!(status, 201, "{created}");
                let id = created["id"].as_str().unwrap().to_owned();
                // Long references, as a client may write them: each group is about 210 kB.
                let reference = format!("https://idp.example/Users/{id}?{}", "p".repeat(1_900));
                json!({ "value": id, "$ref": reference })
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut groups = Vec::new();
    for n in 0..30 {
        let group = json!({ "displayName": format!("Large {n}"), "members": members });
        let (status, created) = scim.send("POST", "/Groups", Some(group)).await;
        assert_eq!(status, 201, "{created}");
        groups.push(created["id"].as_str().unwrap().to_owned());
    }
    groups.sort();
    // Lambda answers at most 6 MB: the body escaped into the JSON string of its response.
    let page = |path: String| {
        let scim = &scim;
        async move {
            let (status, text) = scim.send_text("GET", &path, None).await;
            assert_eq!(status, 200);
            let in_lambda_response = serde_json::to_string(&text).unwrap().len();
            assert!(in_lambda_response < 6_000_000, "{in_lambda_response} bytes");
            serde_json::from_str::<Value>(&text).unwrap()
        }
    };
    let by_index = || async {
        let (mut listed, mut start) = (Vec::new(), 1);
        while listed.len() < 30 {
            let answer = page(format!("/Groups?startIndex={start}&count=100")).await;
            assert_eq!(answer["totalResults"], 30);
            let ids = listed_ids(&answer);
            assert!(!ids.is_empty() && ids.len() < 30, "{} groups", ids.len());
            assert_eq!(answer["itemsPerPage"], ids.len());
            start += ids.len();
            listed.extend(ids);
        }
        listed
    };

    assert_eq!(
        by_index().await,
        groups,
        "every group once, by startIndex and itemsPerPage"
    );
    let (mut listed, mut cursor) = (Vec::new(), Some(String::new()));
    while let Some(at) = cursor {
        let answer = page(format!("/Groups?cursor={at}&count=100")).await;
        listed.extend(listed_ids(&answer));
        cursor = answer["nextCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(listed, groups, "every group once, by cursor");
    let names = page("/Groups?count=100&excludedAttributes=members".to_owned()).await;
    assert_eq!(names["itemsPerPage"], 30, "without members all fit");

    let (status, refused) = scim.send("POST", "/.search", Some(json!({}))).await;
    assert_eq!(
        (status, refused["scimType"].as_str()),
        (400, Some("tooMany")),
        "{refused}"
    );

    // Groups saved before their markers held sizes are taken as large as a group may be.
    let stack = stack().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&stack.aws);
    let me = scim.app.json("/v1/me", &scim.admin).await;
    let organisation = OrganisationId::try_from(me["organisation_id"].as_str().unwrap()).unwrap();
    for group in &groups {
        let marker = roster_store::keys::scim_group_marker(&organisation, group);
        dynamodb
            .update_item()
            .table_name(&stack.config.table_name)
            .key("pk", AttributeValue::S(marker.pk))
            .key("sk", AttributeValue::S(marker.sk))
            .update_expression("REMOVE bytes")
            .send()
            .await
            .unwrap();
    }
    assert_eq!(by_index().await, groups, "by startIndex, sizes unknown");
}

#[tokio::test]
async fn discovery_describes_what_roster_serves() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let (status, config) = scim.send("GET", "/ServiceProviderConfig", None).await;
    assert_eq!(status, 200);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
    assert_eq!(
        (
            &config["pagination"]["cursor"],
            &config["pagination"]["index"]
        ),
        (&json!(true), &json!(true))
    );
    let (_, types) = scim.send("GET", "/ResourceTypes", None).await;
    assert_eq!(types["totalResults"], 2);
    let (_, schemas) = scim.send("GET", "/Schemas", None).await;
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&ENTERPRISE));
    assert_eq!(scim.send("GET", "/Schemas/urn:nope", None).await.0, 404);
    let users = (scim.app.http.get(scim.app.url("/scim/v2/Users")))
        .bearer_auth(&scim.token)
        .send()
        .await
        .unwrap();
    assert_eq!(users.headers()["cache-control"], "no-store");
    assert_eq!(
        scim.send("POST", "/ServiceProviderConfig", Some(json!({})))
            .await
            .0,
        405
    );
}

#[tokio::test]
async fn a_write_is_made_only_on_the_version_if_match_names() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let email = roster_e2e::unique_email("versioned");
    let (_, user) = scim
        .send("POST", "/Users", Some(entra_user(&email, "E-V")))
        .await;
    let path = format!("/Users/{}", user["id"].as_str().unwrap());
    let etag = user["meta"]["version"].as_str().unwrap().to_owned();
    let patch = |if_match: reqwest::header::HeaderValue, title: &'static str| {
        let (scim, path) = (&scim, &path);
        async move {
            let body = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{ "op": "replace", "path": "title", "value": title }]
            });
            scim.app
                .http
                .patch(scim.app.url(&format!("/scim/v2{path}")))
                .bearer_auth(&scim.token)
                .header("content-type", "application/scim+json")
                .header("if-match", if_match)
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let stale = reqwest::header::HeaderValue::from_static("W/\"999\"");
    assert_eq!(patch(stale, "Stale").await, 412);
    // Was taken as no If-Match at all, and written.
    let not_text = reqwest::header::HeaderValue::from_bytes(b"W/\"\xff\"").unwrap();
    assert_eq!(patch(not_text, "Unreadable").await, 412);
    let (_, unchanged) = scim.send("GET", &path, None).await;
    assert_eq!(unchanged["title"], "Engineer");
    let current = reqwest::header::HeaderValue::from_str(&etag).unwrap();
    assert_eq!(patch(current, "Current").await, 200);
}

#[tokio::test]
async fn a_body_past_the_limit_and_a_method_a_path_does_not_take_answer_scim_errors() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let error_schema = json!(["urn:ietf:params:scim:api:messages:2.0:Error"]);
    // Past 2 MiB axum refused the body itself, in plain text; past 1 MiB Roster does.
    for size in [1_100_000, 3_000_000] {
        let (status, error) = scim
            .send(
                "POST",
                "/Users",
                Some(json!({ "userName": "y".repeat(size) })),
            )
            .await;
        assert_eq!((status, &error["schemas"]), (413, &error_schema), "{size}");
        assert_eq!(error["status"], "413");
    }
    // Was an empty 405 from axum.
    for (method, path) in [("DELETE", "/Groups"), ("PUT", "/Users")] {
        let (status, error) = scim.send(method, path, Some(json!({}))).await;
        assert_eq!(
            (status, &error["schemas"]),
            (405, &error_schema),
            "{method} {path}"
        );
    }
}

/// The public compliance checker `scim2-tester` (through `scim2-cli test`, installed by
/// `scripts/tools.sh`) passes against the local endpoint: every check it runs succeeds.
#[tokio::test]
async fn the_scim2_tester_compliance_check_passes() {
    let scim = Provisioner::new(spawn_app(&stack().await.functions()).await).await;
    let cli = roster_e2e::repo_root().join(".local/tools/scim-venv/bin/scim2");
    let output = tokio::process::Command::new(&cli)
        .args(["--url", &scim.app.url("/scim/v2"), "test", "--verbose"])
        // The token goes through the environment, never the command line.
        .env(
            "SCIM_CLI_HEADERS",
            format!("Authorization: Bearer {}", scim.token),
        )
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {}: {e} (scripts/tools.sh installs it)", cli.display()));
    let report = String::from_utf8_lossy(&output.stdout);
    let failed: Vec<&str> = report
        .lines()
        .filter(|l| {
            !l.starts_with("SUCCESS") && !l.starts_with("Performing") && !l.starts_with(' ')
        })
        .collect();
    assert!(
        output.status.success() && failed.is_empty(),
        "scim2-tester failed:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        report.lines().filter(|l| l.starts_with("SUCCESS")).count() > 20,
        "{report}"
    );
}
