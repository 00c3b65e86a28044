//! Accounts, organisations, sessions and the self-service profile, over HTTP against the local stack.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use futures::StreamExt;
use roster_domain::{
    ids::{OrganisationId, UserId},
    profile::{Attribute, Owner},
};
use roster_e2e::{
    TEST_PASSWORD, TestApp, counted_app, create_user, organisation, problem_errors, spawn_app,
    stack, unique_email,
};
use roster_store::DynamoTable;
use serde_json::{Value, json};

/// A 1x1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

async fn app() -> TestApp {
    spawn_app(&stack().await.functions()).await
}

/// An organisation with `settings`, and its admin's session token.
/// The store, for what other capabilities (SSO, SCIM) write through it.
async fn store() -> DynamoTable {
    let stack = stack().await;
    stack.table()
}

#[tokio::test]
async fn the_platform_creates_an_organisation_whose_admin_logs_in_and_sees_their_profile() {
    let app = app().await;
    let (organisation, token) = organisation(&app, json!({ "default_language": "de" })).await;

    let (me, _) = app.read("/v1/me", &token).await;

    assert_eq!(me["id"], organisation.admin_id);
    assert_eq!(me["organisation_id"], organisation.id);
    assert_eq!(me["first_name"], "Ada");
    assert_eq!(me["display_name"], "Ada Lovelace");
    assert_eq!(me["email"], organisation.admin_email);
    assert_eq!(me["roles"], json!([{ "role": "admin", "sites": null }]));
    assert_eq!(me["invitation_status"], "confirmed");
    assert_eq!(me["managed_by"]["first_name"], "self");
    let (preferences, _) = app.read("/v1/me/preferences", &token).await;
    assert_eq!(preferences["language"], "de");
}

#[tokio::test]
async fn the_platform_endpoint_refuses_any_other_token() {
    let app = app().await;
    let response = app
        .post(
            "/v1/platform/organisations",
            "not-the-platform-token",
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_platform_request_retried_under_its_idempotency_key_creates_one_organisation() {
    let stack = stack().await;
    let app = app().await;
    let email = unique_email("retried");
    let key = format!("create {}", UserId::generate());
    let organisation_named = |name: &str, password: &str| {
        json!({
            "name": name,
            "admin": { "first_name": "Ada", "last_name": "Lovelace", "email": email, "password": password }
        })
    };
    let create = |body: Value, key: &str| {
        let request = app
            .post("/v1/platform/organisations", stack.platform_token(), &body)
            .header("Idempotency-Key", key);
        async move {
            let response = request.send().await.unwrap();
            let replayed = response.headers().get("idempotent-replayed").cloned();
            let replayed = replayed.is_some_and(|value| value == "true");
            (
                response.status(),
                replayed,
                response.json::<Value>().await.unwrap(),
            )
        }
    };

    // Sent twice at once (a client retrying a request it believes lost), then once more with
    // another password: the password is not kept, so it is not compared.
    let body = organisation_named("Retried", TEST_PASSWORD);
    let (first, twin) = tokio::join!(create(body.clone(), &key), create(body, &key));
    let again = create(organisation_named("Retried", "An0ther-passw0rd!"), &key).await;
    let created = &first.2["organisation"]["id"];
    for (status, _, answer) in [&first, &twin, &again] {
        assert_eq!(*status, 201, "{answer}");
        assert_eq!(answer, &first.2);
    }
    let replayed = [&first, &twin, &again].iter().filter(|a| a.1).count();
    assert_eq!(replayed, 2);
    let request = roster_domain::idempotency::IdempotencyKey::try_from(key.as_str()).unwrap();
    let kept = crate::credentials::raw_item(roster_store::keys::platform_request(&request)).await;
    let kept = format!("{:?}", kept.expect("the request is kept"));
    assert!(
        !kept.contains(TEST_PASSWORD) && !kept.contains(&key),
        "{kept}"
    );
    // One organisation came of it: the admin's.
    let token = app.login(&email, TEST_PASSWORD).await;
    let listed = app.json("/v1/me/organisations", &token).await;
    let ids: Vec<&Value> = (listed["items"].as_array().unwrap().iter())
        .map(|organisation| &organisation["organisation_id"])
        .collect();
    assert_eq!(ids, [created]);

    // The key sent with another organisation is refused by name, and creates nothing.
    let (status, _, problem) = create(organisation_named("Another", TEST_PASSWORD), &key).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem_errors(&problem),
        [(
            "Idempotency-Key".to_owned(),
            "idempotency_key_reused".to_owned()
        )]
    );
    let listed = app.json("/v1/me/organisations", &token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_new_organisation_whose_admin_has_a_misspelt_or_mistyped_field_is_refused_by_name() {
    let stack = stack().await;
    let app = app().await;
    let create = |admin: Value| {
        let app = &app;
        async move {
            let response = app
                .post(
                    "/v1/platform/organisations",
                    stack.platform_token(),
                    &json!({ "name": "Typo Organisation", "admin": admin }),
                )
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, problem_errors(&response.json().await.unwrap()))
        }
    };
    // A misspelt password was dropped: the operator believed the admin could log in.
    let misspelt = json!({ "first_name": "A", "last_name": "B", "email": unique_email("typo"), "pasword": TEST_PASSWORD });
    assert_eq!(
        create(misspelt).await,
        (
            reqwest::StatusCode::UNPROCESSABLE_ENTITY,
            vec![("admin.pasword".to_owned(), "unknown_field".to_owned())]
        )
    );
    assert_eq!(
        create(json!("ada@example.com")).await,
        (
            reqwest::StatusCode::UNPROCESSABLE_ENTITY,
            vec![("admin".to_owned(), "invalid_type".to_owned())]
        )
    );
}

#[tokio::test]
async fn login_answers_an_unknown_email_exactly_like_a_wrong_password() {
    let app = app().await;
    let (organisation, _) = organisation(&app, json!({})).await;
    let attempt = |email: String| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let response = app
                .http
                .post(app.url("/v1/auth/login"))
                .json(&json!({ "email": email, "password": "Wrong-password-1" }))
                .send()
                .await
                .unwrap();
            let answer = (response.status(), response.text().await.unwrap());
            // What a known person's failure adds (an audit entry) is hidden under one floor.
            assert!(
                started.elapsed() >= profile_api::FAILED_LOGIN_ANSWER_AFTER,
                "{:?}",
                started.elapsed()
            );
            answer
        }
    };

    let wrong_password = attempt(organisation.admin_email.clone()).await;
    let unknown_email = attempt(unique_email("nobody")).await;

    assert_eq!(wrong_password.0, 401);
    assert_eq!(wrong_password, unknown_email);

    // The right password: 200 `{token, expires_at}` (DESIGN.md section 8), expiring later.
    let response = app
        .login_response(&organisation.admin_email, TEST_PASSWORD)
        .await;
    assert_eq!(response.status(), 200);
    // No browser or proxy cache keeps a session token (nor any other answer).
    assert_eq!(response.headers()["cache-control"], "no-store");
    let answer: Value = response.json().await.unwrap();
    let keys: Vec<&String> = answer.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["expires_at", "token"], "{answer}");
    let expires_at = chrono::DateTime::parse_from_rfc3339(answer["expires_at"].as_str().unwrap());
    assert!(expires_at.unwrap() > chrono::Utc::now(), "{answer}");
}

#[tokio::test]
async fn a_login_without_credentials_names_the_missing_fields() {
    let app = app().await;
    let response = app
        .http
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "email": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(
        problem_errors(&problem),
        [
            ("password".to_owned(), "required".to_owned()),
            ("email".to_owned(), "invalid_type".to_owned())
        ]
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;

    let logout = app
        .post("/v1/auth/logout", &token, &json!({}))
        .send()
        .await
        .unwrap();

    assert_eq!(logout.status(), 204);
    assert_eq!(
        app.get("/v1/me", &token).send().await.unwrap().status(),
        401
    );
}

#[tokio::test]
async fn a_session_unused_for_a_day_has_ended() {
    let stack = stack().await;
    let offset = Arc::new(AtomicI64::new(0));
    let clock_offset = offset.clone();
    let clock: profile_api::Clock = Arc::new(move || {
        chrono::Utc::now() + chrono::Duration::seconds(clock_offset.load(Ordering::SeqCst))
    });
    let app = spawn_app(&stack.functions_with(&stack.clients(), clock)).await;
    let (_, token) = organisation(&app, json!({})).await;

    offset.store(23 * 3600, Ordering::SeqCst);
    assert_eq!(
        app.get("/v1/me", &token).send().await.unwrap().status(),
        200,
        "used within the idle time"
    );
    offset.store(23 * 3600 + 24 * 3600 + 1, Ordering::SeqCst);

    let response = app.get("/v1/me", &token).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn sessions_are_listed_and_ending_one_logs_that_device_out() {
    let app = app().await;
    let (organisation, first) = organisation(&app, json!({})).await;
    let second = app.login(&organisation.admin_email, TEST_PASSWORD).await;

    let listed: Value = app
        .get("/v1/me/sessions", &first)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    let other = items.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let ended = app
        .delete(&format!("/v1/me/sessions/{other}"), &first)
        .send()
        .await
        .unwrap();

    assert_eq!(ended.status(), 204);
    assert_eq!(
        app.get("/v1/me", &second).send().await.unwrap().status(),
        401
    );
    assert_eq!(
        app.get("/v1/me", &first).send().await.unwrap().status(),
        200
    );
}

/// The membership of the user `user` in `organisation`, as stored.
async fn stored_membership(
    organisation: &roster_e2e::TestOrganisation,
    user: &str,
) -> roster_domain::membership::Membership {
    let organisation_id = OrganisationId::try_from(organisation.id.as_str()).unwrap();
    let user = UserId::try_from(user).unwrap();
    store()
        .await
        .membership(&organisation_id, &user)
        .await
        .unwrap()
        .unwrap()
}

/// The admin's membership in `organisation`, as stored.
async fn admin_membership(
    organisation: &roster_e2e::TestOrganisation,
) -> roster_domain::membership::Membership {
    stored_membership(organisation, &organisation.admin_id).await
}

/// The bearer token of the `i`th session `write_sessions` wrote for `member`.
fn written_session_token(member: &roster_domain::membership::Membership, i: usize) -> String {
    format!("written-{}-{i}", member.id)
}

/// Writes `count` sessions of `member` started an hour ago straight into the table, as that
/// many logins from other browsers would have (`written_session_token` names their tokens).
async fn write_sessions(member: &roster_domain::membership::Membership, count: usize) {
    let table = store().await;
    let long_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    futures::stream::iter(0..count)
        .for_each_concurrent(32, |i| {
            let table = &table;
            async move {
                let session = roster_store::Session {
                    id: roster_domain::ids::SessionId::generate(),
                    account_id: member.account_id.clone(),
                    organisation_id: member.organisation_id.clone(),
                    user_id: member.id.clone(),
                    created_at: long_ago,
                    last_used_at: long_ago,
                    user_agent: Some(format!("Browser number {i} of a very busy person")),
                    restriction: None,
                    mfa: false,
                    epoch: 0,
                    membership_epoch: member.session_epoch,
                };
                let signed_in = roster_domain::audit::AuditEntry {
                    at: long_ago,
                    action: "login.succeeded".to_owned(),
                    actor: roster_domain::audit::Actor::User(member.id.to_string()),
                    target: None,
                    source: None,
                    changed: vec![],
                    approved_by: None,
                };
                let token_hash =
                    roster_domain::session::secret_hash(&written_session_token(member, i));
                table
                    .start_session(&token_hash, &session, &signed_in, 30, None)
                    .await
                    .unwrap();
            }
        })
        .await;
}

#[tokio::test]
async fn ending_a_session_takes_as_many_calls_among_thousands_of_sessions_and_works_once() {
    let (app, counter) = counted_app().await;
    let (organisation, current) = organisation(&app, json!({})).await;
    let calls_to_end_another = || async {
        let second = app.login(&organisation.admin_email, TEST_PASSWORD).await;
        let listed = app.json("/v1/me/sessions?limit=1", &second).await;
        let id = listed["items"][0]["id"].as_str().unwrap().to_owned();
        counter.reset();
        let ended = app
            .delete(&format!("/v1/me/sessions/{id}"), &current)
            .send()
            .await
            .unwrap();
        assert_eq!(ended.status(), 204);
        let calls = counter.count();
        assert_eq!(
            app.get("/v1/me", &second).send().await.unwrap().status(),
            401
        );
        let again = app
            .delete(&format!("/v1/me/sessions/{id}"), &current)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 404, "a session ends once");
        calls
    };
    let with_two = calls_to_end_another().await;
    write_sessions(&admin_membership(&organisation).await, 5_000).await;
    let with_thousands = calls_to_end_another().await;

    assert_eq!(with_thousands, with_two);
}

#[tokio::test]
async fn deactivating_a_person_ends_thousands_of_their_sessions_in_as_many_calls_as_one() {
    let (app, counter) = counted_app().await;
    // The calls that deactivate a person with one session of their own and `more` besides.
    let calls_of_deactivation = |more: usize| {
        let (app, counter) = (&app, &counter);
        async move {
            let (organisation, admin) = organisation(app, json!({})).await;
            let email = unique_email("leaver");
            let person = json!({ "first_name": "Lea", "last_name": "Ver", "email": email });
            let created = app.post_json("/v1/admin/users", &admin, &person).await;
            let id = created["id"].as_str().unwrap();
            let session = app.invited_session(&admin, id, &email).await;
            let member = stored_membership(&organisation, id).await;
            write_sessions(&member, more).await;
            let mut tokens = vec![session];
            tokens.extend((more > 0).then(|| written_session_token(&member, more - 1)));
            for token in &tokens {
                assert_eq!(app.get("/v1/me", token).send().await.unwrap().status(), 200);
            }
            counter.reset();
            let deactivated = app.user_action(&admin, id, "deactivate").await;
            assert_eq!(deactivated.status(), 200);
            let calls = counter.count();
            for token in &tokens {
                assert_eq!(app.get("/v1/me", token).send().await.unwrap().status(), 401);
            }
            calls
        }
    };
    let with_one = calls_of_deactivation(0).await;
    let with_thousands = calls_of_deactivation(5_000).await;

    assert_eq!(with_thousands, with_one);
}

#[tokio::test]
async fn a_password_change_ends_thousands_of_other_sessions_in_as_many_calls_as_one() {
    let (app, counter) = counted_app().await;
    // The calls of a password change by a person with one other login and `more` sessions
    // besides; afterwards only the session that changed it is on.
    let calls_of_change = |more: usize| {
        let (app, counter) = (&app, &counter);
        async move {
            let (organisation, current) = organisation(app, json!({})).await;
            let other = app.login(&organisation.admin_email, TEST_PASSWORD).await;
            write_sessions(&admin_membership(&organisation).await, more).await;
            counter.reset();
            let changed = app
                .post(
                    "/v1/me/password",
                    &current,
                    &json!({ "current_password": TEST_PASSWORD, "new_password": "Another-Passw0rd-7", "confirmation": "Another-Passw0rd-7" }),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(changed.status(), 204);
            let calls = counter.count();
            assert_eq!(
                app.get("/v1/me", &other).send().await.unwrap().status(),
                401
            );
            assert_eq!(
                app.get("/v1/me", &current).send().await.unwrap().status(),
                200
            );
            let listed = app.json("/v1/me/sessions?limit=200", &current).await;
            assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
            assert_eq!(listed["items"][0]["current"], true);
            calls
        }
    };
    let with_one = calls_of_change(0).await;
    let with_thousands = calls_of_change(5_000).await;

    assert_eq!(with_thousands, with_one);
}

#[tokio::test]
async fn a_person_in_two_organisations_keeps_one_login_and_switches_between_them() {
    let stack = stack().await;
    let app = app().await;
    let (first, token) = organisation(&app, json!({})).await;
    let response = app
        .post(
            "/v1/platform/organisations",
            stack.platform_token(),
            &json!({
                "name": "Second Organisation",
                "admin": { "first_name": "Ada", "last_name": "Lovelace", "email": first.admin_email.to_uppercase(), "password": "Another-pass-9" }
            }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let second: Value = response.json().await.unwrap();
    assert_eq!(second["admin"]["existing_account"], true);
    let second_id = second["organisation"]["id"].as_str().unwrap();
    assert_eq!(
        app.http
            .post(app.url("/v1/auth/login"))
            .json(&json!({ "email": first.admin_email, "password": "Another-pass-9" }))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "the person keeps their credentials"
    );

    let listed: Value = app
        .get("/v1/me/organisations", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["organisation_id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut expected = vec![first.id.as_str(), second_id];
    expected.sort();
    assert_eq!(ids, expected);

    let switched = app
        .post(
            &format!("/v1/me/organisations/{second_id}/switch"),
            &token,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), 200);
    let (me, _) = app.read("/v1/me", &token).await;
    assert_eq!(me["organisation_id"], second_id);
}

#[tokio::test]
async fn a_person_sees_which_features_their_organisation_offers() {
    let app = app().await;
    let (_, admin) = organisation(
        &app,
        json!({ "vehicles_enabled": true, "checkin_enabled": true, "booking_notifications_enabled": false, "allow_hide_profile": false }),
    )
    .await;
    let features = || async {
        let listed = app.json("/v1/me/organisations", &admin).await;
        listed["items"][0]["features"].clone()
    };
    assert_eq!(
        features().await,
        json!({
            "booking_notifications": false, "daily_summaries": true, "checkin_reminders": true,
            "hide_profile": false, "vehicles": true, "password": true, "require_mfa": false
        })
    );

    app.change_settings(
        &admin,
        json!({ "vehicles_enabled": false, "allow_hide_profile": true, "daily_summaries_enabled": false }),
    )
    .await;
    let now = features().await;
    assert_eq!(
        (
            &now["vehicles"],
            &now["hide_profile"],
            &now["daily_summaries"]
        ),
        (&json!(false), &json!(true), &json!(false))
    );
}

#[tokio::test]
async fn profile_writes_need_the_etag_of_the_version_they_change() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let (_, etag) = app.read("/v1/me", &token).await;

    let without = app
        .patch_json("/v1/me", &token, &json!({ "department": "Support" }))
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), 428);

    let written = app
        .patch(
            "/v1/me",
            &token,
            &etag,
            &json!({ "department": "Support", "about_me": "First aider" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(written.status(), 200);
    let new_etag = written.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);

    let stale = app
        .patch("/v1/me", &token, &etag, &json!({ "department": "Sales" }))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    assert_eq!(
        stale.json::<Value>().await.unwrap()["code"],
        "stale_version"
    );
    let (me, current) = app.read("/v1/me", &token).await;
    assert_eq!(
        me["department"], "Support",
        "the stale write changed nothing"
    );
    assert_eq!(me["about_me"], "First aider");
    assert_eq!(current, new_etag);
}

#[tokio::test]
async fn of_two_concurrent_patches_on_the_same_version_exactly_one_wins() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let (_, etag) = app.read("/v1/me", &token).await;

    let (a, b) = tokio::join!(
        app.patch("/v1/me", &token, &etag, &json!({ "department": "Support" }))
            .send(),
        app.patch("/v1/me", &token, &etag, &json!({ "function": "Engineer" }))
            .send(),
    );
    let (a, b) = (a.unwrap().status().as_u16(), b.unwrap().status().as_u16());

    let mut statuses = [a, b];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    let (me, _) = app.read("/v1/me", &token).await;
    if a == 200 {
        assert_eq!(
            (me["department"].as_str(), me["function"].as_str()),
            (Some("Support"), None)
        );
    } else {
        assert_eq!(
            (me["department"].as_str(), me["function"].as_str()),
            (None, Some("Engineer"))
        );
    }
}

#[tokio::test]
async fn attributes_managed_by_single_sign_on_are_refused_by_name() {
    let app = app().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    // What an SSO login records (the SSO issue writes it the same way, through the store).
    let store = store().await;
    let (org, user) = (
        OrganisationId::try_from(organisation.id.as_str()).unwrap(),
        UserId::try_from(organisation.admin_id.as_str()).unwrap(),
    );
    let before = store.membership(&org, &user).await.unwrap().unwrap();
    let mut after = before.clone();
    after.profile.department = Some("Finance".to_owned());
    after
        .profile
        .managed_by
        .set(Attribute::Department, Owner::Sso);
    after.version += 1;
    store
        .update_membership(&before, &after, None)
        .await
        .unwrap();
    let (me, etag) = app.read("/v1/me", &token).await;
    assert_eq!(me["managed_by"]["department"], "sso");

    let response = app
        .patch(
            "/v1/me",
            &token,
            &etag,
            &json!({ "department": "Sales", "about_me": "hi" }),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(
        problem_errors(&problem),
        [("department".to_owned(), "read_only".to_owned())]
    );
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("managed by sso")
    );
    let (me, _) = app.read("/v1/me", &token).await;
    assert_eq!(me["department"], "Finance");
    assert_eq!(
        me["about_me"],
        Value::Null,
        "a refused patch writes none of its fields"
    );
}

#[tokio::test]
async fn invalid_profile_fields_are_all_named() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let (_, etag) = app.read("/v1/me", &token).await;

    let response = app
        .patch(
            "/v1/me",
            &token,
            &etag,
            &json!({ "first_name": "", "email": "nope", "tags": "x", "height": 180 }),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 422);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let mut fields = problem_errors(&response.json().await.unwrap());
    fields.sort();
    assert_eq!(
        fields,
        [
            ("email".to_owned(), "invalid_email".to_owned()),
            ("first_name".to_owned(), "required".to_owned()),
            ("height".to_owned(), "unknown_field".to_owned()),
            ("tags".to_owned(), "invalid_type".to_owned()),
        ]
    );
}

#[tokio::test]
async fn malformed_bodies_get_a_problem_not_a_crash() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let (_, etag) = app.read("/v1/me", &token).await;
    let send = |body: Vec<u8>, content_type: &'static str| {
        app.http
            .patch(app.url("/v1/me"))
            .bearer_auth(&token)
            .header("if-match", &etag)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let broken = send(b"{\"first_name\": ".to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    assert_eq!(broken.headers()["content-type"], "application/problem+json");
    assert_eq!(
        broken.json::<Value>().await.unwrap()["code"],
        "malformed_body"
    );

    assert_eq!(
        send(b"[1,2]".to_vec(), "application/json")
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        send(b"first_name=x".to_vec(), "text/plain")
            .await
            .unwrap()
            .status(),
        415
    );
    let huge = format!("{{\"about_me\": \"{}\"}}", "x".repeat(70 * 1024));
    let too_large = send(huge.into_bytes(), "application/json").await.unwrap();
    assert_eq!(too_large.status(), 413);
    assert_eq!(
        too_large.json::<Value>().await.unwrap()["code"],
        "body_too_large"
    );
}

#[tokio::test]
async fn a_new_login_email_needs_the_password_and_moves_once_the_link_sent_there_is_followed() {
    let app = app().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    let (other, other_admin) = self::organisation(&app, json!({})).await;
    let (_, etag) = app.read("/v1/me", &token).await;

    // A session alone does not move the login: it needs the password.
    let new_email = unique_email("Ada.New");
    for (body, code) in [
        (json!({ "email": new_email }), "required"),
        (
            json!({ "email": new_email, "password": "Not-my-password-1" }),
            "wrong_password",
        ),
    ] {
        let refused = app
            .patch("/v1/me", &token, &etag, &body)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 422);
        assert_eq!(
            problem_errors(&refused.json().await.unwrap()),
            [("password".to_owned(), code.to_owned())]
        );
    }
    let unchanged = app
        .patch(
            "/v1/me",
            &token,
            &etag,
            &json!({ "email": organisation.admin_email, "department": "Sales" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        unchanged.status(),
        200,
        "keeping the email needs no password"
    );
    let (_, etag) = app.read("/v1/me", &token).await;

    // Another account's address is answered as a free one is: a session cannot probe who has
    // an account, nor take an address its person does not read.
    let taken_address = other.admin_email.to_uppercase();
    let taken = app.ask_email_change(&token, &etag, &taken_address).await;
    // Whoever reads the taken address learns, by its link, that it is taken; nothing moves.
    let (refused, body) = app.confirm_email_change(&other.admin_email).await;
    assert_eq!(refused, 409, "{body}");
    assert_eq!(
        problem_errors(&body),
        [("email".to_owned(), "taken".to_owned())]
    );
    let free = app.ask_email_change(&token, &etag, &new_email).await;
    assert_eq!(
        (taken.status().as_u16(), free.status().as_u16()),
        (202, 202)
    );
    let (mut taken, mut free): (Value, Value) =
        (taken.json().await.unwrap(), free.json().await.unwrap());
    assert_eq!(taken["pending_email"], taken_address);
    assert_eq!(free["pending_email"], new_email);
    assert_eq!(
        free["email"], organisation.admin_email,
        "the login stays until the link is followed"
    );
    for answer in [&mut taken, &mut free] {
        answer.as_object_mut().unwrap().remove("pending_email");
    }
    assert_eq!(taken, free);
    let early = app.login_response(&new_email, TEST_PASSWORD).await;
    assert_eq!(early.status(), 401, "no login before the address confirms");

    let (confirmed, body) = app.confirm_email_change(&new_email).await;
    assert_eq!(confirmed, 204, "{body}");
    let (me, _) = app.read("/v1/me", &token).await;
    assert_eq!(me["email"], new_email, "the person's spelling is kept");
    app.login(&new_email.to_lowercase(), TEST_PASSWORD).await;
    let told = stack().await.emails_to(&organisation.admin_email).await;
    let told = told.last().expect("the old address is told");
    assert!(told["raw"].as_str().unwrap().contains(&new_email));
    let old = app
        .login_response(&organisation.admin_email, TEST_PASSWORD)
        .await;
    assert_eq!(old.status(), 401);
    let (again, _) = app.confirm_email_change(&new_email).await;
    assert_eq!(again, 422, "the link works once");

    // The address showed it receives mail: an organisation adding it has the person join at once.
    let joined = create_user(
        &app,
        &other_admin,
        json!({ "first_name": "Ada", "last_name": "Lovelace", "email": new_email }),
    )
    .await;
    assert_eq!(joined["invitation_status"], "confirmed");
}

#[tokio::test]
async fn links_to_a_new_login_email_are_few_an_hour_only_the_newest_works_and_a_password_change_voids_it()
 {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let (_, etag) = app.read("/v1/me", &token).await;
    let new_email = unique_email("many");
    for sent in 0..=5 {
        let asked = app.ask_email_change(&token, &etag, &new_email).await;
        if sent < 5 {
            assert_eq!(asked.status(), 202, "link {sent}");
        } else {
            assert_eq!(asked.status(), 422);
            assert_eq!(
                problem_errors(&asked.json().await.unwrap()),
                [("email".to_owned(), "too_many_emails".to_owned())]
            );
        }
    }
    let links = stack().await.emails_to(&new_email).await;
    assert_eq!(links.len(), 5);
    let first = roster_e2e::link_token(links[0]["raw"].as_str().unwrap());
    let (superseded, _) = app.confirm_email_link(&first).await;
    assert_eq!(superseded, 422, "only the newest link works");

    let changed = app
        .post(
            "/v1/me/password",
            &token,
            &json!({
                "current_password": TEST_PASSWORD,
                "new_password": "Another-password-7",
                "confirmation": "Another-password-7"
            }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 204);
    let (void, body) = app.confirm_email_change(&new_email).await;
    assert_eq!(void, 422, "{body}");
    assert_eq!(
        problem_errors(&body),
        [("token".to_owned(), "invalid_token".to_owned())]
    );
}

#[tokio::test]
async fn a_link_to_a_new_login_email_moves_nothing_once_its_person_is_deactivated() {
    let app = app().await;
    let (_, admin) = organisation(&app, json!({})).await;
    let email = unique_email("leaver");
    let user = create_user(
        &app,
        &admin,
        json!({ "first_name": "Lea", "last_name": "Ver", "email": email }),
    )
    .await;
    let id = user["id"].as_str().unwrap();
    let token = app.invited_session(&admin, id, &email).await;
    let (_, etag) = app.read("/v1/me", &token).await;
    let new_email = unique_email("leaver.private");
    let asked = app.ask_email_change(&token, &etag, &new_email).await;
    assert_eq!(asked.status(), 202);
    let deactivated = app.user_action(&admin, id, "deactivate").await;
    assert!(
        deactivated.status().is_success(),
        "{}",
        deactivated.status()
    );

    let (refused, body) = app.confirm_email_change(&new_email).await;
    assert_eq!(refused, 422, "{body}");
    assert_eq!(
        problem_errors(&body),
        [("token".to_owned(), "invalid_token".to_owned())]
    );
    let (kept, _) = app.read(&format!("/v1/admin/users/{id}"), &admin).await;
    assert_eq!(kept["email"], email);
    assert_eq!(app.login_status(&new_email, TEST_PASSWORD).await, 401);
}

/// A PATCH that changes other fields and asks for a new login email writes the fields before
/// it sends the link: a link SES did not take is told with the ETag of the version written, and
/// asking again on it sends the link (was: no ETag, and asking again as told was a 412).
#[tokio::test]
async fn a_login_email_link_not_sent_is_asked_again_on_the_version_written() {
    let stack = stack().await;
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let outage = spawn_app(&stack.functions_without_ses_and_sns(profile_api::system_clock())).await;
    let (_, etag) = app.read("/v1/me", &token).await;
    let moved_to = unique_email("moving");
    let change = json!({ "department": "Sales", "email": moved_to, "password": TEST_PASSWORD });

    let unsent = outage
        .patch("/v1/me", &token, &etag, &change)
        .send()
        .await
        .unwrap();
    assert_eq!(unsent.status(), 503);
    let written = unsent.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(
        unsent.json::<Value>().await.unwrap()["code"],
        "email_not_sent"
    );
    let (me, current) = app.read("/v1/me", &token).await;
    assert_eq!(me["department"], "Sales", "{me}");
    assert_eq!(written, current, "the answer names the version written");
    assert!(stack.emails_to(&moved_to).await.is_empty());

    let asked = app
        .patch("/v1/me", &token, &written, &change)
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 202, "{}", asked.text().await.unwrap());
    let (confirmed, body) = app.confirm_email_change(&moved_to).await;
    assert_eq!(confirmed, 204, "{body}");
}

#[tokio::test]
async fn moving_ones_login_email_voids_the_invitation_links_sent_to_the_old_address() {
    let app = app().await;
    let (home, token) = organisation(&app, json!({})).await;
    let (_, other_admin) = organisation(&app, json!({})).await;
    let email = &home.admin_email;
    // Another organisation adds the person (they join at once) and sends them a link; their
    // own organisation's admin (themselves) sends theirs again.
    let joined = app
        .post(
            "/v1/admin/users",
            &other_admin,
            &json!({ "first_name": "Ada", "last_name": "Lovelace", "email": email }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 201);
    let there = joined.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (admin, user) in [(&other_admin, &there), (&token, &home.admin_id)] {
        assert_eq!(app.user_action(admin, user, "invite").await.status(), 202);
    }
    let mail = stack().await.emails_to(email).await;
    let links: Vec<String> = mail[mail.len() - 2..]
        .iter()
        .map(|m| roster_e2e::link_token(m["raw"].as_str().unwrap()))
        .collect();

    let (_, etag) = app.read("/v1/me", &token).await;
    let moved_to = unique_email("moved");
    let moved = app.ask_email_change(&token, &etag, &moved_to).await;
    assert_eq!(moved.status(), 202);
    assert_eq!(app.confirm_email_change(&moved_to).await.0, 204);
    for link in links {
        let (accepted, _) = app.accept_invitation(&link, TEST_PASSWORD).await;
        assert_eq!(accepted, 422, "a link to the old address is void");
    }
}

#[tokio::test]
async fn get_me_takes_at_most_two_dynamodb_calls_and_patch_me_three() {
    let (app, counter) = counted_app().await;
    let (_, token) = organisation(&app, json!({})).await;

    counter.reset();
    let (_, etag) = app.read("/v1/me", &token).await;
    assert!(
        counter.count() <= 2,
        "GET /v1/me made {} DynamoDB calls",
        counter.count()
    );
    assert!(counter.count() > 0, "the counter sees the calls");

    counter.reset();
    let response = app
        .patch("/v1/me", &token, &etag, &json!({ "function": "Engineer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        counter.count() <= 3,
        "PATCH /v1/me made {} DynamoDB calls",
        counter.count()
    );
}

#[tokio::test]
async fn preferences_default_to_the_organisation_and_change_one_at_a_time() {
    let app = app().await;
    let (_, token) = organisation(
        &app,
        json!({ "default_time_zone": "America/New_York", "default_language": "fr" }),
    )
    .await;
    let (preferences, etag) = app.read("/v1/me/preferences", &token).await;
    assert_eq!(preferences["language"], "fr");
    assert_eq!(preferences["time_zone"], "America/New_York");
    assert_eq!(preferences["theme"], "system");

    let response = app
        .patch(
            "/v1/me/preferences",
            &token,
            &etag,
            &json!({ "theme": "dark", "time_zone": "Asia/Kolkata", "notifications": { "daily_summary": true, "booking_confirmation": "email_with_ics" } }),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let (preferences, _) = app.read("/v1/me/preferences", &token).await;
    assert_eq!(preferences["theme"], "dark");
    assert_eq!(preferences["time_zone"], "Asia/Kolkata");
    assert_eq!(preferences["language"], "fr");
    assert_eq!(preferences["notifications"]["daily_summary"], true);
    assert_eq!(
        preferences["notifications"]["booking_confirmation"],
        "email_with_ics"
    );
    assert_eq!(preferences["notifications"]["checkin_reminder_push"], true);
}

#[tokio::test]
async fn an_unknown_language_or_time_zone_gets_422_naming_the_field() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let (_, etag) = app.read("/v1/me/preferences", &token).await;

    let response = app
        .patch(
            "/v1/me/preferences",
            &token,
            &etag,
            &json!({ "language": "kl", "time_zone": "Europe/Atlantis" }),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 422);
    let mut fields = problem_errors(&response.json().await.unwrap());
    fields.sort();
    assert_eq!(
        fields,
        [
            ("language".to_owned(), "unsupported_language".to_owned()),
            ("time_zone".to_owned(), "unknown_time_zone".to_owned())
        ]
    );
}

/// The session's person chooses to hide their profile from colleagues.
async fn hide_profile(app: &TestApp, token: &str) -> reqwest::Response {
    let (_, etag) = app.read("/v1/me/preferences", token).await;
    app.patch(
        "/v1/me/preferences",
        token,
        &etag,
        &json!({ "hide_profile": true }),
    )
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn a_hidden_profile_is_absent_from_the_directory_while_the_organisation_lets_people_hide() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({ "allow_hide_profile": true })).await;
    let search = |q: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            let body: Value = app
                .get(&format!("/v1/directory?q={q}"), &token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["display_name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("love").await, ["Ada Lovelace"]);
    assert_eq!(
        search("AD").await,
        ["Ada Lovelace"],
        "prefixes match ignoring case"
    );
    assert!(search("ovel").await.is_empty(), "only word prefixes match");

    assert_eq!(hide_profile(&app, &token).await.status(), 200);

    assert!(search("love").await.is_empty());

    let allow_hiding =
        |allowed: bool| app.change_settings(&token, json!({ "allow_hide_profile": allowed }));
    allow_hiding(false).await;
    assert_eq!(
        search("love").await,
        ["Ada Lovelace"],
        "without the permission, a choice to hide does nothing"
    );
    let (preferences, _) = app.read("/v1/me/preferences", &token).await;
    assert_eq!(preferences["hide_profile"], true, "the choice is kept");

    allow_hiding(true).await;
    assert!(search("love").await.is_empty(), "and counts again");

    // Nor does the cursor of a page that read only them show them.
    let lovely =
        json!({ "first_name": "Lin", "last_name": "Lovely", "email": unique_email("lin") });
    let lovely = app.post_json("/v1/admin/users", &token, &lovely).await;
    let (me, _) = app.read("/v1/me", &token).await;
    let page = app.json("/v1/directory?q=love&limit=1", &token).await;
    assert_eq!(page["items"], json!([]));
    let cursor = page["next_cursor"].as_str().expect("Lin Lovely follows");
    for shown in [me["id"].as_str().unwrap(), "lovelace"] {
        assert!(
            !roster_e2e::cursor_shows(cursor, shown),
            "{shown} in {cursor}"
        );
    }
    let next = app
        .json(
            &format!("/v1/directory?q=love&limit=1&cursor={cursor}"),
            &token,
        )
        .await;
    assert_eq!(next["items"][0]["id"], lovely["id"]);
}

#[tokio::test]
async fn colleagues_see_a_persons_about_me_and_first_aider_flag_unless_it_is_hidden() {
    let app = app().await;
    let (_, admin) = organisation(&app, json!({ "allow_hide_profile": true })).await;
    let (me, etag) = app.read("/v1/me", &admin).await;
    let noted = app
        .patch(
            "/v1/me",
            &admin,
            &etag,
            &json!({ "about_me": "First-aider, 3rd floor east" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(noted.status(), 200);
    // The first-aider flag is the organisation's to set.
    let own = format!("/v1/admin/users/{}", me["id"].as_str().unwrap());
    let (_, etag) = app.read(&own, &admin).await;
    let flagged = app
        .patch(&own, &admin, &etag, &json!({ "first_aider": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(flagged.status(), 200);
    let email = unique_email("colleague");
    let colleague = app
        .post_json(
            "/v1/admin/users",
            &admin,
            &json!({ "first_name": "Col", "last_name": "League", "email": email }),
        )
        .await;
    let colleague = app
        .invited_session(&admin, colleague["id"].as_str().unwrap(), &email)
        .await;

    let found = app.json("/v1/directory?q=love", &colleague).await;
    let path = format!(
        "/v1/directory/{}",
        found["items"][0]["id"].as_str().unwrap()
    );
    let seen = app.json(&path, &colleague).await;
    assert_eq!(seen["id"], me["id"]);
    assert_eq!(seen["display_name"], "Ada Lovelace");
    assert_eq!(seen["about_me"], "First-aider, 3rd floor east");
    assert_eq!(seen["first_aider"], true);
    assert!(seen.get("email").is_none(), "{seen}");

    assert_eq!(hide_profile(&app, &admin).await.status(), 200);
    for path in [path.as_str(), "/v1/directory/not-an-id"] {
        let response = app.get(path, &colleague).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn the_directory_pages_by_the_limit_asked_for_showing_each_person_once() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    // "Ada Adams" is found under two words, "ada" and "adams", that a page of one holds apart.
    for last_name in ["Adams", "Byron", "King"] {
        let created = app
            .post(
                "/v1/admin/users",
                &token,
                &json!({ "first_name": "Ada", "last_name": last_name, "email": unique_email("ada") }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }

    let mut names = Vec::new();
    let mut path = "/v1/directory?q=ada&limit=1".to_owned();
    loop {
        let page = app.json(&path, &token).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 1, "a page of {} for limit 1", items.len());
        names.extend(
            items
                .iter()
                .map(|i| i["last_name"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/directory?q=ada&limit=1&cursor={cursor}"),
            None => break,
        }
    }
    names.sort();
    assert_eq!(names, ["Adams", "Byron", "King", "Lovelace"]);
    let narrowed = app.json("/v1/directory?q=ada+adam", &token).await;
    let narrowed: Vec<&str> = narrowed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(narrowed, ["Adams"]);
    let refused = app
        .get("/v1/directory?q=ada&limit=201", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
}

#[tokio::test]
async fn hiding_the_profile_needs_the_organisations_permission() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({ "allow_hide_profile": false })).await;

    let response = hide_profile(&app, &token).await;

    assert_eq!(response.status(), 422);
    assert_eq!(
        problem_errors(&response.json().await.unwrap()),
        [("hide_profile".to_owned(), "not_allowed".to_owned())]
    );
}

#[tokio::test]
async fn the_directory_follows_name_changes_and_needs_a_query() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let (_, etag) = app.read("/v1/me", &token).await;
    app.patch("/v1/me", &token, &etag, &json!({ "last_name": "Byron" }))
        .send()
        .await
        .unwrap();

    let body: Value = app
        .get("/v1/directory?q=byr", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["items"][0]["display_name"], "Ada Byron");
    let body: Value = app
        .get("/v1/directory?q=lovelace", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["items"], json!([]));

    let missing = app.get("/v1/directory", &token).send().await.unwrap();
    assert_eq!(missing.status(), 422);
    assert_eq!(
        problem_errors(&missing.json().await.unwrap()),
        [("q".to_owned(), "required".to_owned())]
    );
}

#[tokio::test]
async fn vehicles_are_refused_where_the_organisation_does_not_use_them_but_old_ones_can_go() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({ "vehicles_enabled": true })).await;
    let plate = format!("OLD {}", &UserId::generate().as_str()[..6]);
    let car = app
        .post_json(
            "/v1/me/vehicles",
            &token,
            &json!({ "name": "Pool car", "plate_number": plate }),
        )
        .await;
    app.change_settings(&token, json!({ "vehicles_enabled": false }))
        .await;

    let refused = app
        .post(
            "/v1/me/vehicles",
            &token,
            &json!({ "name": "New", "plate_number": "NEW 1" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "vehicles_disabled"
    );
    // What the person kept from before can be seen and removed, freeing its plate.
    let kept = app.json("/v1/me/vehicles", &token).await;
    assert_eq!(kept["items"][0]["id"], car["id"]);
    let path = format!("/v1/me/vehicles/{}", car["id"].as_str().unwrap());
    assert_eq!(
        app.delete(&path, &token).send().await.unwrap().status(),
        204
    );
    app.change_settings(&token, json!({ "vehicles_enabled": true }))
        .await;
    let again = app
        .post(
            "/v1/me/vehicles",
            &token,
            &json!({ "name": "Pool car", "plate_number": plate }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
}

#[tokio::test]
async fn a_vehicle_is_added_renamed_and_deleted_and_its_plate_is_unique_and_fixed() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({ "vehicles_enabled": true })).await;

    let created = app
        .post(
            "/v1/me/vehicles",
            &token,
            &json!({ "name": "Company car", "plate_number": "b-rs 1234" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let vehicle: Value = created.json().await.unwrap();
    assert_eq!(vehicle["plate_number"], "B-RS 1234");
    let id = vehicle["id"].as_str().unwrap();

    // The same plate without separators, and typed in full width (as a Japanese keyboard may).
    for same in ["BRS1234", "ｂ－ｒｓ　１２３４"] {
        let duplicate = app
            .post(
                "/v1/me/vehicles",
                &token,
                &json!({ "name": "Same", "plate_number": same }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(duplicate.status(), 409, "{same}");
        assert_eq!(
            problem_errors(&duplicate.json().await.unwrap()),
            [("plate_number".to_owned(), "taken".to_owned())]
        );
    }

    let path = format!("/v1/me/vehicles/{id}");
    let replate = app
        .patch(
            &path,
            &token,
            "\"1\"",
            &json!({ "name": "x", "plate_number": "X1" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(replate.status(), 422);
    assert_eq!(
        problem_errors(&replate.json().await.unwrap()),
        [("plate_number".to_owned(), "read_only".to_owned())]
    );

    // A rename names the version it was based on, as every write does.
    let unconditional = app
        .patch_json(&path, &token, &json!({ "name": "Rental" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unconditional.status(), 428);
    assert_eq!(vehicle["version"], 1);
    let renamed = app
        .patch(&path, &token, "\"1\"", &json!({ "name": "Rental" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    assert_eq!(renamed.headers()["etag"], "\"2\"");
    let stale = app
        .patch(&path, &token, "\"1\"", &json!({ "name": "Lost" }))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    let listed: Value = app
        .get("/v1/me/vehicles", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["name"], "Rental");
    assert_eq!(listed["items"][0]["plate_number"], "B-RS 1234");

    assert_eq!(
        app.delete(&format!("/v1/me/vehicles/{id}"), &token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let again = app
        .post(
            "/v1/me/vehicles",
            &token,
            &json!({ "name": "Back", "plate_number": "BRS 1234" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        201,
        "a deleted vehicle's plate is free again"
    );
}

/// The SNS endpoints of the platform application `application` for the phone token `token`,
/// each with whether it is enabled.
pub(crate) async fn phone_endpoints(
    sns: &aws_sdk_sns::Client,
    application: &str,
    token: &str,
) -> Vec<(String, bool)> {
    sns.list_endpoints_by_platform_application()
        .platform_application_arn(application)
        .send()
        .await
        .unwrap()
        .endpoints()
        .iter()
        .filter_map(|e| {
            let attributes = e.attributes()?;
            (attributes.get("Token").map(String::as_str) == Some(token)).then(|| {
                (
                    e.endpoint_arn().unwrap().to_owned(),
                    attributes.get("Enabled").map(String::as_str) == Some("true"),
                )
            })
        })
        .collect()
}

/// Disables the SNS endpoint `arn`, as SNS does once the push service calls its token invalid.
async fn disable_endpoint(sns: &aws_sdk_sns::Client, arn: &str) {
    sns.set_endpoint_attributes()
        .endpoint_arn(arn)
        .attributes("Enabled", "false")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_phone_becomes_an_sns_endpoint_and_push_can_be_switched_off_per_device() {
    let stack = stack().await;
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let phone_token = format!("apns-{}", UserId::generate());

    let created = app
        .post(
            "/v1/me/devices",
            &token,
            &json!({ "platform": "ios", "name": "My iPhone", "token": phone_token }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let device: Value = created.json().await.unwrap();
    assert_eq!(device["push_enabled"], true);
    assert!(device.get("token").is_none(), "push secrets are not echoed");
    let sns = aws_sdk_sns::Client::new(&stack.aws);
    let ios = stack.push.apns.clone().unwrap();
    let endpoints = phone_endpoints(&sns, &ios, &phone_token).await;
    assert_eq!(endpoints.len(), 1);
    let arn = endpoints[0].0.clone();

    let id = device["id"].as_str().unwrap();
    let path = format!("/v1/me/devices/{id}");
    let etag = format!("\"{}\"", device["version"]);
    let off = app
        .patch(&path, &token, &etag, &json!({ "push_enabled": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 200);
    let stale = app
        .patch(&path, &token, &etag, &json!({ "push_enabled": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412, "the switch was based on an older read");
    let nothing = app
        .patch(&path, &token, "\"2\"", &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(nothing.status(), 422);
    let listed: Value = app
        .get("/v1/me/devices", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["push_enabled"], false);

    // The app registers at every start: the same phone stays one device, its switch kept,
    // and an endpoint SNS had disabled (the push service once refused the token) works again.
    disable_endpoint(&sns, &arn).await;
    let register_again = || async {
        app.post(
            "/v1/me/devices",
            &token,
            &json!({ "platform": "ios", "name": "My iPhone 16", "token": phone_token }),
        )
        .send()
        .await
        .unwrap()
    };
    let again = register_again().await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (&again["id"], &again["name"], &again["push_enabled"]),
        (&json!(id), &json!("My iPhone 16"), &json!(false))
    );
    let listed = app.json("/v1/me/devices", &token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(
        phone_endpoints(&sns, &ios, &phone_token).await,
        [(arn.clone(), true)]
    );
    // An endpoint deleted meanwhile is made again.
    sns.delete_endpoint()
        .endpoint_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(register_again().await.status(), 200);
    let endpoints = phone_endpoints(&sns, &ios, &phone_token).await;
    assert_eq!(endpoints.len(), 1);
    assert!(endpoints[0].1);

    assert_eq!(
        app.delete(&format!("/v1/me/devices/{id}"), &token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        phone_endpoints(&sns, &ios, &phone_token).await,
        [],
        "the SNS endpoint is removed with the device"
    );
}

/// A person has at most 20 devices, and one its push service called gone (an app reinstalled,
/// a subscription renewed) makes room for a new one (was: it counted for ever, so the phone with
/// the reinstalled app was refused and got no push).
#[tokio::test]
async fn a_new_phone_takes_the_place_of_the_oldest_device_its_push_service_called_gone() {
    let stack = stack().await;
    let app = app().await;
    let (home, token) = organisation(&app, json!({})).await;
    let register = |name: String, phone_token: String| {
        app.post(
            "/v1/me/devices",
            &token,
            &json!({ "platform": "android", "name": name, "token": phone_token }),
        )
        .send()
    };
    let phone_tokens: Vec<String> = (0..21)
        .map(|_| format!("fcm-{}", UserId::generate()))
        .collect();
    for (n, phone_token) in phone_tokens[..20].iter().enumerate() {
        let added = register(format!("Phone {n}"), phone_token.clone())
            .await
            .unwrap();
        assert_eq!(added.status(), 201);
    }
    let register_21st = || register("New phone".to_owned(), phone_tokens[20].clone());
    let refused = register_21st().await.unwrap();
    assert_eq!(refused.status(), 422);
    assert_eq!(
        problem_errors(&refused.json().await.unwrap()),
        [("platform".to_owned(), "too_many".to_owned())]
    );

    // The push service calls two of them gone, recorded as a push run records it.
    let store = store().await;
    let (org, user) = (
        OrganisationId::try_from(home.id.as_str()).unwrap(),
        UserId::try_from(home.admin_id.as_str()).unwrap(),
    );
    for device in store.devices(&org, &user).await.unwrap() {
        if ["Phone 3", "Phone 7"].contains(&device.name.as_str()) {
            store.deactivate_device(&org, &user, &device).await.unwrap();
        }
    }
    let added = register_21st().await.unwrap();
    assert_eq!(added.status(), 201);
    let listed = app.json("/v1/me/devices", &token).await;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|device| device["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 20, "{listed}");
    assert!(names.contains(&"New phone"), "{listed}");
    assert!(
        !names.contains(&"Phone 3"),
        "the oldest gone one made room: {listed}"
    );
    assert!(names.contains(&"Phone 7"), "{listed}");
    let sns = aws_sdk_sns::Client::new(&stack.aws);
    let fcm = stack.push.fcm.clone().unwrap();
    assert_eq!(
        phone_endpoints(&sns, &fcm, &phone_tokens[3]).await,
        [],
        "its SNS endpoint went with it"
    );
}

#[tokio::test]
async fn a_phone_registered_in_two_organisations_pushes_through_one_endpoint_until_both_go() {
    let stack = stack().await;
    let app = app().await;
    let (home, home_session) = organisation(&app, json!({})).await;
    let (other, other_admin) = organisation(&app, json!({})).await;
    let joined = app
        .post(
            "/v1/admin/users",
            &other_admin,
            &json!({ "first_name": "Ada", "last_name": "Lovelace", "email": home.admin_email }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 201);
    let other_session = app
        .login_in(&home.admin_email, TEST_PASSWORD, &other.id)
        .await;
    let phone_token = format!("apns-{}", UserId::generate());
    let register = |session: &str| {
        app.post(
            "/v1/me/devices",
            session,
            &json!({ "platform": "ios", "name": "My iPhone", "token": phone_token }),
        )
        .send()
    };
    let sns = aws_sdk_sns::Client::new(&stack.aws);
    let ios = stack.push.apns.clone().unwrap();

    let at_home: Value = register(&home_session).await.unwrap().json().await.unwrap();
    let endpoints = phone_endpoints(&sns, &ios, &phone_token).await;
    assert_eq!(endpoints.len(), 1);
    let arn = endpoints[0].0.clone();
    // The push service once refused the token (the app was reinstalled): SNS disabled it.
    disable_endpoint(&sns, &arn).await;
    let there = register(&other_session).await.unwrap();
    assert_eq!(
        there.status(),
        201,
        "{}",
        there.text().await.unwrap_or_default()
    );
    let there: Value = there.json().await.unwrap();
    assert_eq!(
        phone_endpoints(&sns, &ios, &phone_token).await,
        [(arn.clone(), true)],
        "the phone's one endpoint, enabled again"
    );
    // The app starts again there: the device, written anew, still holds the endpoint.
    assert_eq!(register(&other_session).await.unwrap().status(), 200);

    let remove = |session: &str, device: &Value| {
        app.delete(
            &format!("/v1/me/devices/{}", device["id"].as_str().unwrap()),
            session,
        )
        .send()
    };
    assert_eq!(remove(&home_session, &at_home).await.unwrap().status(), 204);
    assert_eq!(
        phone_endpoints(&sns, &ios, &phone_token).await,
        [(arn, true)],
        "the other organisation's device still pushes through it"
    );
    assert_eq!(remove(&other_session, &there).await.unwrap().status(), 204);
    assert_eq!(phone_endpoints(&sns, &ios, &phone_token).await, []);
}

#[tokio::test]
async fn a_phone_or_browser_handed_on_stops_showing_the_last_person_s_reminders() {
    let stack = stack().await;
    let app = app().await;
    let (_, ada_session) = organisation(&app, json!({})).await;
    let ben_email = unique_email("ben");
    let ben = create_user(
        &app,
        &ada_session,
        json!({ "first_name": "Ben", "last_name": "Okafor", "email": ben_email }),
    )
    .await;
    let ben_session = app
        .invited_session(&ada_session, ben["id"].as_str().unwrap(), &ben_email)
        .await;
    let phone_token = format!("apns-{}", UserId::generate());
    let p256dh = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([4u8; 65]);
    let auth = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([9u8; 16]);
    let endpoint = format!("https://push.example/{}", UserId::generate());
    let register = |session: &str, ios: bool| {
        let device = if ios {
            json!({ "platform": "ios", "name": "Desk iPhone", "token": phone_token })
        } else {
            json!({ "platform": "web", "name": "Desk PC", "subscription": { "endpoint": endpoint, "keys": { "p256dh": p256dh, "auth": auth } } })
        };
        let request = app.post("/v1/me/devices", session, &device).send();
        async move { request.await.unwrap().status() }
    };
    let names = async |session: &str| {
        let listed = app.json("/v1/me/devices", session).await;
        let mut names: Vec<String> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(register(&ada_session, true).await, 201);
    assert_eq!(register(&ada_session, false).await, 201);

    // The shared desk's phone and PC go to Ben, whose app registers them: Ada's reminders no
    // longer go there, Ben's do, through the same SNS endpoint.
    assert_eq!(register(&ben_session, true).await, 201);
    assert_eq!(register(&ben_session, false).await, 201);
    assert_eq!(names(&ada_session).await, Vec::<String>::new());
    assert_eq!(names(&ben_session).await, ["Desk PC", "Desk iPhone"]);
    let sns = aws_sdk_sns::Client::new(&stack.aws);
    let ios = stack.push.apns.clone().unwrap();
    let endpoints = phone_endpoints(&sns, &ios, &phone_token).await;
    assert_eq!(endpoints.len(), 1);
    assert!(endpoints[0].1, "Ben's phone still gets pushes");
}

#[tokio::test]
async fn an_app_registering_its_phone_twice_at_once_makes_one_device() {
    let stack = stack().await;
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let phone_token = format!("fcm-{}", UserId::generate());
    let register = |n: usize| {
        let phone =
            json!({ "platform": "android", "name": format!("Pixel {n}"), "token": phone_token });
        app.post("/v1/me/devices", &token, &phone).send()
    };
    let answers = futures::future::join_all((0..5).map(register)).await;
    let mut statuses: Vec<u16> = answers
        .iter()
        .map(|a| a.as_ref().unwrap().status().as_u16())
        .collect();
    statuses.sort();
    assert_eq!(statuses, [200, 200, 200, 200, 201]);
    let listed = app.json("/v1/me/devices", &token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    let sns = aws_sdk_sns::Client::new(&stack.aws);
    let fcm = stack.push.fcm.clone().unwrap();
    assert_eq!(phone_endpoints(&sns, &fcm, &phone_token).await.len(), 1);
}

#[tokio::test]
async fn a_browser_registers_with_its_web_push_subscription() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let p256dh = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([4u8; 65]);
    let auth = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([9u8; 16]);

    let endpoint = format!("https://push.example/{}", UserId::generate());
    let bad = app.post("/v1/me/devices", &token, &json!({ "platform": "web", "name": "Firefox", "subscription": { "endpoint": endpoint, "keys": { "p256dh": "short", "auth": auth } } })).send().await.unwrap();
    assert_eq!(bad.status(), 422);
    assert_eq!(
        problem_errors(&bad.json().await.unwrap()),
        [(
            "subscription.keys.p256dh".to_owned(),
            "invalid_key".to_owned()
        )]
    );

    let created = app.post("/v1/me/devices", &token, &json!({ "platform": "web", "name": "Firefox", "subscription": { "endpoint": endpoint, "keys": { "p256dh": p256dh, "auth": auth } } })).send().await.unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.json::<Value>().await.unwrap()["platform"], "web");
}

/// Starts an avatar upload and PUTs `bytes` to its URL; answers the upload (`upload_id`,
/// `upload_url`).
async fn put_avatar(app: &TestApp, token: &str, bytes: Vec<u8>, content_type: &str) -> Value {
    let started = app
        .post(
            "/v1/me/avatar",
            token,
            &json!({ "content_type": content_type, "content_length": bytes.len() }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 201);
    let upload: Value = started.json().await.unwrap();
    let put = app
        .http
        .put(upload["upload_url"].as_str().unwrap())
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "upload: {}", put.status());
    upload
}

async fn upload_avatar(
    app: &TestApp,
    token: &str,
    bytes: Vec<u8>,
    content_type: &str,
) -> reqwest::Response {
    let upload = put_avatar(app, token, bytes, content_type).await;
    app.post(
        "/v1/me/avatar/confirm",
        token,
        &json!({ "upload_id": upload["upload_id"] }),
    )
    .send()
    .await
    .unwrap()
}

/// The bytes at the session's person's `avatar_url`.
async fn avatar_bytes(app: &TestApp, token: &str) -> Vec<u8> {
    let (me, _) = app.read("/v1/me", token).await;
    let url = me["avatar_url"].as_str().unwrap();
    let image = app.http.get(url).send().await.unwrap();
    image.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn the_upload_url_cannot_replace_an_avatar_after_its_check_and_each_change_answers_its_etag()
{
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let png = STANDARD.decode(PNG).unwrap();
    let upload = put_avatar(&app, &token, png.clone(), "image/png").await;
    let confirmed = app
        .post(
            "/v1/me/avatar/confirm",
            &token,
            &json!({ "upload_id": upload["upload_id"] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    let etag = confirmed.headers()["etag"].to_str().unwrap().to_owned();

    // The presigned PUT still works for its window: bytes no check saw, of the signed length.
    let unchecked = app
        .http
        .put(upload["upload_url"].as_str().unwrap())
        .header("content-type", "image/png")
        .body(vec![b'x'; png.len()])
        .send()
        .await
        .unwrap();
    assert!(unchecked.status().is_success());
    assert_eq!(
        avatar_bytes(&app, &token).await,
        png,
        "the checked image is shown"
    );

    // The answer's ETag is the profile's: an edit sent with it is taken (was 412 with the old one).
    let edited = app
        .patch("/v1/me", &token, &etag, &json!({ "department": "Design" }))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    let removed = app.delete("/v1/me/avatar", &token).send().await.unwrap();
    assert_eq!(removed.status(), 204);
    let etag = removed.headers()["etag"].to_str().unwrap().to_owned();
    let edited = app
        .patch("/v1/me", &token, &etag, &json!({ "department": "Ops" }))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
}

#[tokio::test]
async fn an_uploaded_image_becomes_the_avatar_shown_by_a_time_limited_url() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let png = STANDARD.decode(PNG).unwrap();

    let confirmed = upload_avatar(&app, &token, png.clone(), "image/png").await;

    assert_eq!(confirmed.status(), 200);
    let (me, _) = app.read("/v1/me", &token).await;
    let url = me["avatar_url"].as_str().unwrap();
    assert!(url.contains("X-Amz-Expires=3600"), "{url}");
    assert_eq!(avatar_bytes(&app, &token).await, png);

    assert_eq!(
        app.delete("/v1/me/avatar", &token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let (me, _) = app.read("/v1/me", &token).await;
    assert_eq!(me["avatar_url"], Value::Null);
}

#[tokio::test]
async fn a_confirmation_whose_save_lost_a_race_can_be_sent_again() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;
    let png = STANDARD.decode(PNG).unwrap();
    let confirm = |upload: &Value| {
        app.post(
            "/v1/me/avatar/confirm",
            &token,
            &json!({ "upload_id": upload["upload_id"] }),
        )
        .send()
    };
    // Two confirmations at once read the same version: one save is refused (412).
    for _ in 0..10 {
        let first = put_avatar(&app, &token, png.clone(), "image/png").await;
        let second = put_avatar(&app, &token, png.clone(), "image/png").await;
        let (a, b) = tokio::join!(confirm(&first), confirm(&second));
        let (a, b) = (a.unwrap().status(), b.unwrap().status());
        let refused = match (a.as_u16(), b.as_u16()) {
            (412, 200) => first,
            (200, 412) => second,
            (200, 200) => continue,
            other => panic!("{other:?}"),
        };
        // Was 422 not_uploaded: the upload was deleted before the save that was refused.
        let again = confirm(&refused).await.unwrap();
        assert_eq!(again.status(), 200);
        assert_eq!(avatar_bytes(&app, &token).await, png);
        return;
    }
    panic!("no two confirmations met in ten tries");
}

#[tokio::test]
async fn an_upload_that_is_not_an_image_never_becomes_the_avatar() {
    let app = app().await;
    let (_, token) = organisation(&app, json!({})).await;

    let refused = upload_avatar(
        &app,
        &token,
        b"<html>not a png</html>".to_vec(),
        "image/png",
    )
    .await;

    assert_eq!(refused.status(), 422);
    assert_eq!(
        problem_errors(&refused.json().await.unwrap()),
        [("upload_id".to_owned(), "not_an_image".to_owned())]
    );
    let (me, _) = app.read("/v1/me", &token).await;
    assert_eq!(me["avatar_url"], Value::Null);
    let wrong_type = app
        .post(
            "/v1/me/avatar",
            &token,
            &json!({ "content_type": "image/svg+xml", "content_length": 10 }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 422);
    let too_big = app
        .post(
            "/v1/me/avatar",
            &token,
            &json!({ "content_type": "image/png", "content_length": 3 * 1024 * 1024 }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem_errors(&too_big.json().await.unwrap()),
        [("content_length".to_owned(), "too_large".to_owned())]
    );
}

#[tokio::test]
async fn a_token_of_another_organisation_reaches_nothing_of_the_first() {
    let app = app().await;
    let (first, first_token) = organisation(&app, json!({ "vehicles_enabled": true })).await;
    let (_, second_token) = organisation(&app, json!({ "vehicles_enabled": true })).await;
    let vehicle: Value = app
        .post(
            "/v1/me/vehicles",
            &first_token,
            &json!({ "name": "Car", "plate_number": "M AB 123" }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device: Value = app.post("/v1/me/devices", &first_token, &json!({ "platform": "android", "name": "Pixel", "token": format!("fcm-{}", UserId::generate()) })).send().await.unwrap().json().await.unwrap();
    let sessions: Value = app
        .get("/v1/me/sessions", &first_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (vehicle_id, device_id, session_id) = (
        vehicle["id"].as_str().unwrap(),
        device["id"].as_str().unwrap(),
        sessions["items"][0]["id"].as_str().unwrap(),
    );

    let attempts = [
        app.patch(
            &format!("/v1/me/vehicles/{vehicle_id}"),
            &second_token,
            "\"1\"",
            &json!({ "name": "Mine" }),
        ),
        app.delete(&format!("/v1/me/vehicles/{vehicle_id}"), &second_token),
        app.patch(
            &format!("/v1/me/devices/{device_id}"),
            &second_token,
            "\"1\"",
            &json!({ "push_enabled": false }),
        ),
        app.delete(&format!("/v1/me/devices/{device_id}"), &second_token),
        app.delete(&format!("/v1/me/sessions/{session_id}"), &second_token),
        app.post(
            &format!("/v1/me/organisations/{}/switch", first.id),
            &second_token,
            &json!({}),
        ),
    ];
    for attempt in attempts {
        let response = attempt.send().await.unwrap();
        assert_eq!(response.status(), 404, "{}", response.url());
    }
    let found: Value = app
        .get("/v1/directory?q=lovelace", &second_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != first.admin_id)
    );
    let (me, _) = app.read("/v1/me", &second_token).await;
    assert_ne!(me["organisation_id"], first.id);

    let vehicles: Value = app
        .get("/v1/me/vehicles", &first_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(vehicles["items"][0]["name"], "Car");
    let devices: Value = app
        .get("/v1/me/devices", &first_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(devices["items"][0]["push_enabled"], true);
    assert_eq!(
        app.get("/v1/me", &first_token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn input_limits_are_answered_413_and_422_naming_the_limit() {
    let app = spawn_app(&stack().await.functions()).await;
    let (_, token) = organisation(&app, json!({})).await;
    let (_, etag) = app.read("/v1/me", &token).await;

    let huge = json!({ "about_me": "x".repeat(70 * 1024) });
    let response = app
        .patch("/v1/me", &token, &etag, &huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "body_too_large");
    assert!(
        problem["detail"].as_str().unwrap().contains("65536 bytes"),
        "{problem}"
    );

    let long = json!({ "department": "x".repeat(5_000) });
    let response = app
        .patch("/v1/me", &token, &etag, &long)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(
        roster_e2e::problem_errors(&problem),
        [("department".to_owned(), "too_long".to_owned())]
    );
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most"),
        "{problem}"
    );
}
