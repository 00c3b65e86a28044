//! Credentials: password policy and breached passwords, TOTP 2FA and recovery codes, lockout,
//! password reset, admin resets, and the security notices as they reach SES.

use aws_sdk_dynamodb::types::AttributeValue;
use roster_domain::{preferences::Language, reset::RESET_EMAILS_PER_HOUR, totp};
use roster_e2e::{
    TEST_PASSWORD, TestApp, TestClock, audit_actions, create_user, field_codes, organisation,
    problem_errors, spawn_range_api, stack, unique_email,
};
use roster_notify::templates::{Notice, render};
use serde_json::{Value, json};

/// An app whose clock tests move, with the breached-password API unreachable (local list only).
async fn app_with_clock() -> (TestApp, TestClock) {
    let clock = TestClock::default();
    (roster_e2e::app_with_clock(&clock).await, clock)
}

async fn login_attempt(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn change_password(
    app: &TestApp,
    token: &str,
    new: &str,
    confirmation: &str,
) -> reqwest::Response {
    app.post(
        "/v1/me/password",
        token,
        &json!({ "current_password": TEST_PASSWORD, "new_password": new, "confirmation": confirmation }),
    )
    .send()
    .await
    .unwrap()
}

fn now(clock_offset: i64) -> u64 {
    (chrono::Utc::now().timestamp() + clock_offset) as u64
}

/// Logs in with the password; answers the MFA challenge.
async fn challenge(app: &TestApp, email: &str) -> String {
    let (status, body) = login_attempt(app, email, TEST_PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(body["mfa_required"], true);
    body["challenge"].as_str().unwrap().to_owned()
}

async fn complete(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/v1/auth/login/mfa"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_new_password_names_every_rule_it_fails() {
    let (app, _) = app_with_clock().await;
    let (_, token) = organisation(&app, json!({})).await;

    let response = change_password(&app, &token, "abc", "abd").await;

    assert_eq!(response.status(), 422);
    let mut found = problem_errors(&response.json().await.unwrap());
    found.sort();
    assert_eq!(
        found,
        [
            ("confirmation".to_owned(), "mismatch".to_owned()),
            ("new_password".to_owned(), "missing_digit".to_owned()),
            ("new_password".to_owned(), "missing_uppercase".to_owned()),
            ("new_password".to_owned(), "too_short".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_password_listed_by_the_range_api_is_refused_and_only_a_hash_prefix_leaves() {
    let range = spawn_range_api(&["Tr0ub4dor&3xyz"]).await;
    let app = range.app().await;
    let (_, token) = organisation(&app, json!({})).await;

    let refused = change_password(&app, &token, "Tr0ub4dor&3xyz", "Tr0ub4dor&3xyz").await;
    assert_eq!(refused.status(), 422);
    assert_eq!(
        problem_errors(&refused.json().await.unwrap()),
        [("new_password".to_owned(), "breached".to_owned())]
    );
    let accepted = change_password(&app, &token, "Unlisted-horse-42", "Unlisted-horse-42").await;
    assert_eq!(accepted.status(), 204);

    let asked = range.asked.lock().unwrap().clone();
    assert!(!asked.is_empty());
    assert!(
        asked
            .iter()
            .all(|prefix| prefix.len() == 5 && prefix.chars().all(|c| c.is_ascii_hexdigit())),
        "{asked:?}"
    );
}

#[tokio::test]
async fn an_unreachable_range_api_leaves_the_local_list_or_refuses_as_the_organisation_chose() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (fallback_organisation, fallback) = organisation(&app, json!({})).await;
    let (strict_organisation, strict) = organisation(&app, json!({})).await;
    app.change_settings(&strict, json!({ "breached_check_unreachable": "refuse" }))
        .await;

    let common = change_password(&app, &fallback, "Password123", "Password123").await;
    assert_eq!(
        problem_errors(&common.json().await.unwrap()),
        [("new_password".to_owned(), "breached".to_owned())]
    );
    assert_eq!(
        change_password(&app, &fallback, "Unlisted-horse-42", "Unlisted-horse-42")
            .await
            .status(),
        204
    );

    let refused = change_password(&app, &strict, "Unlisted-horse-42", "Unlisted-horse-42").await;
    assert_eq!(
        problem_errors(&refused.json().await.unwrap()),
        [(
            "new_password".to_owned(),
            "breach_check_unavailable".to_owned()
        )]
    );

    // A reset link is held to the same choice: the link has no session, but its account has an
    // organisation.
    let email = &strict_organisation.admin_email;
    let requested = request_reset(&app, email).await;
    assert_eq!(requested.status(), 202);
    let mail = stack.emails_to(email).await.pop().unwrap();
    let reset = roster_e2e::link_token(mail["raw"].as_str().unwrap());
    let body = json!({ "token": reset, "password": "Unlisted-horse-42" });
    let confirmed = app
        .post_json("/v1/auth/password-reset/confirm", "", &body)
        .await;
    assert_eq!(
        problem_errors(&confirmed),
        [("password".to_owned(), "breach_check_unavailable".to_owned())]
    );

    // The password is the person's in each of their organisations: changed from a session in
    // one that would take it, it is still refused for the one that would not.
    create_user(
        &app,
        &fallback,
        json!({ "first_name": "Ada", "last_name": "Both", "email": email }),
    )
    .await;
    let there = app
        .login_in(email, TEST_PASSWORD, &fallback_organisation.id)
        .await;
    let refused_there =
        change_password(&app, &there, "Unlisted-horse-42", "Unlisted-horse-42").await;
    assert_eq!(
        problem_errors(&refused_there.json().await.unwrap()),
        [(
            "new_password".to_owned(),
            "breach_check_unavailable".to_owned()
        )]
    );
}

#[tokio::test]
async fn a_first_password_set_by_an_invitation_is_held_to_each_organisation_of_the_person() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (_, lenient) = organisation(&app, json!({})).await;
    let (_, strict) = organisation(&app, json!({})).await;
    app.change_settings(&strict, json!({ "breached_check_unreachable": "refuse" }))
        .await;
    // One person, pending in both: neither invitation accepted yet, no password.
    let email = unique_email("pending-twice");
    let person = json!({ "first_name": "Pen", "last_name": "Ding", "email": email });
    create_user(&app, &strict, person.clone()).await;
    let id = create_user(&app, &lenient, person).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.user_action(&lenient, &id, "invite").await.status(), 202);
    let mail = stack.emails_to(&email).await.pop().unwrap();
    let link = roster_e2e::link_token(mail["raw"].as_str().unwrap());

    // The range API cannot be reached: the lenient organisation would take the password on its
    // local list, the strict one would not, and the password would be the person's in both.
    let (status, problem) = app.accept_invitation(&link, "Unlisted-horse-42").await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem_errors(&problem),
        [("password".to_owned(), "breach_check_unavailable".to_owned())]
    );
}

#[tokio::test]
async fn a_password_change_that_meets_another_write_of_the_account_goes_through() {
    // DynamoDB cancels a transaction when another one is writing the same item at that moment
    // (the person's email, say): the session and the account are as they were, so it is tried
    // again rather than answered as an ended session or a broken table.
    let (app, conflicts) = roster_e2e::conflicting_app().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    conflicts.arm(&organisation.admin_email, 1);
    let changed = change_password(&app, &token, "Neues-Passwort-7", "Neues-Passwort-7").await;
    assert_eq!(
        (changed.status().as_u16(), conflicts.left()),
        (204, 0),
        "{}",
        changed.text().await.unwrap()
    );
    assert_eq!(
        login_attempt(&app, &organisation.admin_email, "Neues-Passwort-7")
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_tells_the_person_in_their_language() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({ "default_language": "de" })).await;
    let other = app.login(&organisation.admin_email, TEST_PASSWORD).await;

    assert_eq!(
        change_password(&app, &token, "Neues-Passwort-7", "Neues-Passwort-7")
            .await
            .status(),
        204
    );

    assert_eq!(
        app.get("/v1/me", &other).send().await.unwrap().status(),
        401
    );
    assert_eq!(
        app.get("/v1/me", &token).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        login_attempt(&app, &organisation.admin_email, "Neues-Passwort-7")
            .await
            .0,
        200
    );
    let emails = stack.emails_to(&organisation.admin_email).await;
    let notice = emails.last().expect("a notice was sent");
    assert_eq!(
        notice["subject"],
        render(&Notice::PasswordChanged, Language::De, "Ada").subject
    );
    assert!(
        notice["raw"]
            .as_str()
            .unwrap()
            .contains("Content-Language: de")
    );
}

#[tokio::test]
async fn a_password_is_the_same_whichever_way_a_keyboard_composes_its_letters() {
    let (app, _) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    // "ö" and "ü" as one code point each (Windows, most phones), and as a letter followed by a
    // combining diaeresis (as some macOS and Linux input sends them).
    let composed = "Grüße-aus-Köln-7";
    let decomposed = "Gru\u{308}ße-aus-Ko\u{308}ln-7";
    assert_ne!(composed, decomposed);

    assert_eq!(
        change_password(&app, &token, composed, decomposed)
            .await
            .status(),
        204,
        "the confirmation matches"
    );

    let email = &organisation.admin_email;
    assert_eq!(login_attempt(&app, email, decomposed).await.0, 200);
    assert_eq!(login_attempt(&app, email, composed).await.0, 200);
}

#[tokio::test]
async fn a_password_login_is_refused_where_the_organisation_signs_in_through_sso_only() {
    let (app, _) = app_with_clock().await;
    let organisation = app
        .create_organisation(
            stack().await.platform_token(),
            json!({ "login_methods": { "password": false, "sso": true } }),
        )
        .await;

    // The right password is no failure, however often it is tried: it never locks.
    for _ in 0..7 {
        let (status, body) = login_attempt(&app, &organisation.admin_email, TEST_PASSWORD).await;
        assert_eq!(status, 403);
        assert_eq!(body["code"], "password_login_disabled");
    }
}

/// A password login half done (its second step pending) when the organisation goes over to its
/// identity provider gets no session (was: the code completed it).
#[tokio::test]
async fn a_second_step_after_the_organisation_went_sso_only_opens_no_session() {
    let (app, clock) = app_with_clock().await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let (secret, _) = app.enrol_totp(&admin).await;
    let challenge_token = challenge(&app, &organisation.admin_email).await;
    app.change_settings(
        &admin,
        json!({ "login_methods": { "password": false, "sso": true } }),
    )
    .await;
    // A fresh code: the one that confirmed the enrolment is used up.
    clock.advance(chrono::Duration::seconds(30));
    let code = totp::code_at(&secret, now(30), 6);
    let (status, body) =
        complete(&app, json!({ "challenge": challenge_token, "code": code })).await;
    assert_eq!(
        (status, &body["code"]),
        (403, &json!("password_login_disabled")),
        "{body}"
    );
}

#[tokio::test]
async fn someone_also_in_an_sso_only_organisation_logs_in_to_and_stays_in_their_password_one() {
    let (app, _) = app_with_clock().await;
    // The SSO-only organisation sorts first, as a login naming none goes through them in order.
    let (mut sso, mut password) = (
        organisation(&app, json!({})).await,
        organisation(&app, json!({})).await,
    );
    if sso.0.id > password.0.id {
        std::mem::swap(&mut sso, &mut password);
    }
    let person = &password.0.admin_email;
    create_user(
        &app,
        &sso.1,
        json!({ "first_name": "Ada", "last_name": "Lovelace", "email": person }),
    )
    .await;
    app.change_settings(
        &sso.1,
        json!({ "login_methods": { "password": false, "sso": true } }),
    )
    .await;

    let session = app.login(person, TEST_PASSWORD).await;
    let me = app.json("/v1/me", &session).await;
    assert_eq!(me["organisation_id"], password.0.id.as_str(), "{me}");
    let switched = app
        .post(
            &format!("/v1/me/organisations/{}/switch", sso.0.id),
            &session,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), 403);
    let problem: Value = switched.json().await.unwrap();
    assert_eq!(problem["code"], "password_login_disabled");
    let me = app.json("/v1/me", &session).await;
    assert_eq!(me["organisation_id"], password.0.id.as_str());
}

#[tokio::test]
async fn an_invitation_accepted_once_the_organisation_went_sso_only_changes_nothing() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (_, admin) = organisation(&app, json!({})).await;
    let colleague = unique_email("colleague");
    let created = app
        .post_json(
            "/v1/admin/users",
            &admin,
            &json!({ "first_name": "Col", "last_name": "League", "email": colleague }),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.user_action(&admin, id, "invite").await.status(), 202);
    let link = roster_e2e::link_token(
        stack.emails_to(&colleague).await.pop().unwrap()["raw"]
            .as_str()
            .unwrap(),
    );
    app.change_settings(
        &admin,
        json!({ "login_methods": { "password": false, "sso": true } }),
    )
    .await;

    let (status, refused) = app.accept_invitation(&link, TEST_PASSWORD).await;

    assert_eq!(status, 403);
    assert_eq!(refused["code"], "password_login_disabled");
    let user = app.json(&format!("/v1/admin/users/{id}"), &admin).await;
    assert_eq!(user["invitation_status"], "pending", "{user}");
    let (_, account) = sentinel_and_account_hashes(&colleague).await;
    assert_eq!(account, None, "no password was set");
}

#[tokio::test]
async fn no_reset_link_invitation_or_pin_goes_out_for_a_password_no_organisation_signs_in_with() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let colleague = unique_email("colleague");
    let created = create_user(
        &app,
        &admin,
        json!({ "first_name": "Col", "last_name": "League", "email": colleague }),
    )
    .await;
    let colleague_id = created["id"].as_str().unwrap().to_owned();
    let username = create_user(
        &app,
        &admin,
        json!({ "first_name": "User", "last_name": "Name", "username": "username" }),
    )
    .await;
    app.change_settings(
        &admin,
        json!({ "login_methods": { "password": false, "sso": true } }),
    )
    .await;

    let sent_before = stack.emails_to(&organisation.admin_email).await.len();
    assert_eq!(
        request_reset(&app, &organisation.admin_email)
            .await
            .status(),
        202
    );
    assert_eq!(
        stack.emails_to(&organisation.admin_email).await.len(),
        sent_before,
        "forgot-password sends nothing"
    );
    let by_admin = app
        .post(
            &format!("/v1/admin/users/{colleague_id}/password-reset"),
            &admin,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(by_admin.status(), 403);
    assert_eq!(
        by_admin.json::<Value>().await.unwrap()["code"],
        "password_login_disabled"
    );
    assert!(
        stack.emails_to(&colleague).await.is_empty(),
        "nor the admin's"
    );
    // Nor an invitation, whose acceptance sets a password, nor a PIN (each was 2xx with a link
    // or PIN that could never sign anyone in), nor an import that would invite.
    for (id, action) in [
        (colleague_id.as_str(), "invite"),
        (username["id"].as_str().unwrap(), "pin"),
    ] {
        let refused = app.user_action(&admin, id, action).await;
        assert_eq!(refused.status(), 403, "{action}");
        assert_eq!(
            refused.json::<Value>().await.unwrap()["code"],
            "password_login_disabled"
        );
    }
    let user = app
        .json(&format!("/v1/admin/users/{colleague_id}"), &admin)
        .await;
    assert_eq!(user["invitation_status"], "not_invited");
    assert!(stack.emails_to(&colleague).await.is_empty());
    let import = app
        .post(
            "/v1/admin/imports",
            &admin,
            &json!({ "mode": "add", "invite": true }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(import.status(), 422);
    assert_eq!(
        problem_errors(&import.json().await.unwrap()),
        [("invite".to_owned(), "password_login_disabled".to_owned())]
    );
    // A username user is created without a PIN that could never sign them in: they wait, not
    // invited, for a PIN once the organisation takes passwords again.
    let waiting = create_user(
        &app,
        &admin,
        json!({ "first_name": "Later", "last_name": "On", "username": "later.on" }),
    )
    .await;
    assert_eq!(waiting.get("pin"), None, "{waiting}");
    assert_eq!(waiting["invitation_status"], "not_invited");
    app.change_settings(
        &admin,
        json!({ "login_methods": { "password": true, "sso": true } }),
    )
    .await;
    let pin = app
        .user_action(&admin, waiting["id"].as_str().unwrap(), "pin")
        .await;
    assert_eq!(pin.status(), 200);
    let pin = pin.json::<Value>().await.unwrap()["pin"]
        .as_str()
        .unwrap()
        .to_owned();
    let login = app
        .http
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "organisation": organisation.id, "username": "later.on", "password": pin }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
}

/// A session alone (stolen, or restricted to enrolment) cannot guess its way into 2FA with
/// the person's unfinished enrolment: wrong codes lock like logins (was: unlimited guesses, and
/// a hit gave the session 2FA and the recovery codes). The person, who knows the password,
/// starts again with as many tries; their password is not held back meanwhile.
#[tokio::test]
async fn guessing_the_code_that_confirms_an_enrolment_locks_too() {
    let (app, _) = app_with_clock().await;
    let (_, token) = organisation(&app, json!({})).await;
    let confirm = |code: String| {
        app.post("/v1/me/mfa/totp/confirm", &token, &json!({ "code": code }))
            .send()
    };
    let secret = app.start_totp(&token).await;
    let window: Vec<String> = [-30, 0, 30]
        .map(|offset| totp::code_at(&secret, now(offset), 6))
        .into();
    let wrong = (0..)
        .map(|n| format!("{n:06}"))
        .find(|code| !window.contains(code))
        .unwrap();

    for _ in 0..5 {
        let refused = confirm(wrong.clone()).await.unwrap();
        assert_eq!(refused.status(), 422);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(
            field_codes(&problem["errors"]),
            [("code".to_owned(), "invalid_code".to_owned())]
        );
    }
    let locked = confirm(wrong).await.unwrap();
    assert_eq!(locked.status(), 429);
    assert!(locked.headers().contains_key("retry-after"));
    let right = confirm(window[1].clone()).await.unwrap();
    assert_eq!(right.status(), 429, "even the right code waits");

    let secret = app.start_totp(&token).await;
    let confirmed = confirm(totp::code_at(&secret, now(0), 6)).await.unwrap();
    assert_eq!(confirmed.status(), 200, "a new enrolment has its own tries");
}

#[tokio::test]
async fn totp_login_needs_a_fresh_code_and_a_code_works_once() {
    let stack = stack().await;
    let (app, clock) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    let started: Value = app
        .post(
            "/v1/me/mfa/totp",
            &token,
            &json!({ "password": TEST_PASSWORD }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        started["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Roster:")
    );
    assert!(
        started["qr_png"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    let secret = totp_rs::Secret::Encoded(started["secret"].as_str().unwrap().to_owned())
        .to_bytes()
        .unwrap();
    let code = totp::code_at(&secret, now(0), 6);
    let confirmed = app
        .post("/v1/me/mfa/totp/confirm", &token, &json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    assert_eq!(
        confirmed.json::<Value>().await.unwrap()["recovery_codes"]
            .as_array()
            .unwrap()
            .len(),
        10
    );

    let challenge_token = challenge(&app, &organisation.admin_email).await;
    let (replayed, _) = complete(&app, json!({ "challenge": challenge_token, "code": code })).await;
    assert_eq!(
        replayed, 401,
        "the code that confirmed enrolment is used up"
    );

    clock.advance(chrono::Duration::seconds(30));
    let fresh = totp::code_at(&secret, now(30), 6);
    let (status, session) =
        complete(&app, json!({ "challenge": challenge_token, "code": fresh })).await;
    assert_eq!(status, 200);
    assert!(session["token"].is_string());
    let (again, _) = complete(&app, json!({ "challenge": challenge_token, "code": fresh })).await;
    assert_eq!(again, 401, "a challenge completes once");

    let subjects: Vec<String> = stack
        .emails_to(&organisation.admin_email)
        .await
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    assert!(subjects.contains(&render(&Notice::MfaEnabled, Language::En, "Ada").subject));
}

#[tokio::test]
async fn a_second_factor_started_before_a_password_change_cannot_finish_after_it() {
    let (app, clock) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    let (secret, _) = app.enrol_totp(&token).await;
    let pending = challenge(&app, &organisation.admin_email).await;

    let changed = change_password(&app, &token, "Changed-Passw0rd-2", "Changed-Passw0rd-2").await;
    assert_eq!(changed.status(), 204);
    clock.advance(chrono::Duration::seconds(30));
    let code = totp::code_at(&secret, now(30), 6);
    let (status, _) = complete(&app, json!({ "challenge": pending, "code": code })).await;
    assert_eq!(status, 401, "the password it was checked against is gone");

    let (status, body) = login_attempt(&app, &organisation.admin_email, "Changed-Passw0rd-2").await;
    assert_eq!(status, 200);
    let (status, session) = complete(
        &app,
        json!({ "challenge": body["challenge"], "code": code }),
    )
    .await;
    assert_eq!(
        status, 200,
        "a login with the new password finishes: {session}"
    );
}

#[tokio::test]
async fn a_recovery_code_completes_a_login_once_and_the_person_is_told() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    let (_, codes) = app.enrol_totp(&token).await;

    let first = challenge(&app, &organisation.admin_email).await;
    let (status, _) = complete(
        &app,
        json!({ "challenge": first, "recovery_code": codes[3].to_lowercase() }),
    )
    .await;
    assert_eq!(status, 200);
    let second = challenge(&app, &organisation.admin_email).await;
    let (reused, _) = complete(
        &app,
        json!({ "challenge": second, "recovery_code": codes[3] }),
    )
    .await;
    assert_eq!(reused, 401);

    let emails = stack.emails_to(&organisation.admin_email).await;
    assert!(emails.iter().any(|m| {
        m["subject"]
            == render(
                &Notice::RecoveryCodeUsed { remaining: 9 },
                Language::En,
                "Ada",
            )
            .subject
    }));
    assert!(
        emails
            .iter()
            .any(|m| m["raw"].as_str().unwrap().contains('9'))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_codes_sent_for_one_challenge_only_the_one_that_opens_the_session_is_spent() {
    let (app, hook) = roster_e2e::hooked_app().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    let (secret, codes) = app.enrol_totp(&token).await;
    let pending = challenge(&app, &organisation.admin_email).await;
    let by_authenticator = app
        .http
        .post(app.url("/v1/auth/login/mfa"))
        .json(&json!({ "challenge": pending, "code": totp::code_at(&secret, now(30), 6) }));

    // The authenticator's code (a second tap, another tab) is decided while the recovery code
    // is being spent.
    hook.arm("MFA_CHALLENGE#", by_authenticator);
    let (by_recovery_code, _) = complete(
        &app,
        json!({ "challenge": pending, "recovery_code": codes[0] }),
    )
    .await;

    assert_eq!(hook.status(), Some(200), "the authenticator's code got in");
    assert_eq!(by_recovery_code, 401, "one challenge, one session");
    // Was 401: the recovery code had been used up by the attempt that opened no session.
    let again = challenge(&app, &organisation.admin_email).await;
    let (kept, _) = complete(
        &app,
        json!({ "challenge": again, "recovery_code": codes[0] }),
    )
    .await;
    assert_eq!(kept, 200);
}

#[tokio::test]
async fn recovery_codes_and_totp_secrets_never_rest_in_plain_text() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    let (secret, codes) = app.enrol_totp(&token).await;

    // A whole-table scan is slower than any request; it gets the patience of a maintenance tool.
    let scanner = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&stack.aws)
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(std::time::Duration::from_secs(60))
                    .operation_timeout(std::time::Duration::from_secs(120))
                    .build(),
            )
            .build(),
    );
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = scanner
            .scan()
            .table_name(&stack.config.table_name)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        items.extend(page.items().iter().map(|item| format!("{item:?}")));
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    let dump = items.join("\n");
    assert!(
        dump.contains(&organisation.admin_email),
        "the scan sees this test's items"
    );
    assert!(!dump.contains(&totp::secret_base32(&secret)));
    assert!(!dump.contains(&String::from_utf8_lossy(&secret).to_string()));
    for code in codes {
        assert!(!dump.contains(&code), "{code}");
        assert!(!dump.contains(&code.replace('-', "")), "{code}");
    }
}

#[tokio::test]
async fn an_organisation_requiring_2fa_gives_a_password_session_that_can_only_enrol() {
    let (app, _) = app_with_clock().await;
    let (_, token) = organisation(&app, json!({ "require_mfa": true })).await;

    let blocked = app.get("/v1/me", &token).send().await.unwrap();
    assert_eq!(blocked.status(), 403);
    assert_eq!(
        blocked.json::<Value>().await.unwrap()["code"],
        "mfa_enrolment_required"
    );
    assert_eq!(
        app.get("/v1/me/preferences", &token)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    app.enrol_totp(&token).await;

    assert_eq!(
        app.get("/v1/me", &token).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn a_pin_user_of_an_organisation_requiring_2fa_sets_a_password_and_then_enrols() {
    let (app, _) = app_with_clock().await;
    let (organisation, admin) = organisation(&app, json!({ "require_mfa": true })).await;
    app.enrol_totp(&admin).await;
    let created = create_user(
        &app,
        &admin,
        json!({ "first_name": "Jan", "last_name": "Jansen", "username": "janj" }),
    )
    .await;
    let pin = created["pin"].as_str().unwrap().to_owned();
    let token = app
        .http
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "organisation": organisation.id, "username": "janj", "password": pin }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = |response: reqwest::Response| async move {
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap_or(Value::Null)["code"].clone(),
        )
    };
    assert_eq!(
        code(app.get("/v1/me", &token).send().await.unwrap()).await,
        (403, json!("password_change_required")),
        "the new password comes first"
    );

    let changed = app
        .post(
            "/v1/me/password",
            &token,
            &json!({ "current_password": pin, "new_password": TEST_PASSWORD, "confirmation": TEST_PASSWORD }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 204);
    assert_eq!(
        code(app.get("/v1/me", &token).send().await.unwrap()).await,
        (403, json!("mfa_enrolment_required")),
        "then the second factor"
    );
    app.enrol_totp(&token).await;
    assert_eq!(
        app.get("/v1/me", &token).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn twenty_concurrent_wrong_passwords_count_exactly_and_lock_until_the_wait_or_an_unlock() {
    let stack = stack().await;
    let (app, clock) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;

    let attempts =
        (0..20).map(|_| login_attempt(&app, &organisation.admin_email, "Wrong-password-1"));
    let answers = futures::future::join_all(attempts).await;
    let tried = answers.iter().filter(|(status, _)| *status == 401).count();
    let refused = answers.iter().filter(|(status, _)| *status == 429).count();
    // However the twenty interleave, the five the lock allows are tried and the rest refused
    // before their password is checked.
    assert_eq!((tried, refused), (5, 15), "{answers:?}");

    let table = stack.table();
    let failures = table
        .login_failures(
            &format!("email:{}", organisation.admin_email.to_lowercase()),
            clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(
        failures.count, 5,
        "every failure counted, no lost increments, and no refusal counted as one"
    );
    let (locked, body) = login_attempt(&app, &organisation.admin_email, TEST_PASSWORD).await;
    assert_eq!(locked, 429, "the right password is refused while locked");
    assert_eq!(body["code"], "login_locked");

    clock.advance(chrono::Duration::minutes(16));
    assert_eq!(
        login_attempt(&app, &organisation.admin_email, TEST_PASSWORD)
            .await
            .0,
        200,
        "after the wait"
    );

    // An admin unlocks someone else; their own session cannot unlock them (it could then
    // guess their password without end).
    let email = unique_email("locked");
    let member = create_user(
        &app,
        &token,
        json!({ "first_name": "Lock", "last_name": "Ed", "email": email }),
    )
    .await;
    let member = member["id"].as_str().unwrap();
    app.invited_session(&token, member, &email).await;
    // Each locked, then unlocked: (their email, their id, the unlock's status, the login's).
    for (locked, id, unlock_status, login_status) in [
        (
            &organisation.admin_email,
            organisation.admin_id.as_str(),
            422,
            429,
        ),
        (&email, member, 204, 200),
    ] {
        for _ in 0..6 {
            login_attempt(&app, locked, "Wrong-password-1").await;
        }
        assert_eq!(login_attempt(&app, locked, TEST_PASSWORD).await.0, 429);
        let unlock = app.post(&format!("/v1/admin/users/{id}/unlock"), &token, &json!({}));
        assert_eq!(unlock.send().await.unwrap().status(), unlock_status);
        let after = login_attempt(&app, locked, TEST_PASSWORD).await.0;
        assert_eq!(after, login_status, "after the unlock of {locked}");
    }
}

#[tokio::test]
async fn retries_during_a_wait_neither_count_nor_lengthen_it_and_a_burst_after_it_tries_one() {
    let stack = stack().await;
    let (app, clock) = app_with_clock().await;
    let (organisation, _) = organisation(&app, json!({})).await;
    let email = &organisation.admin_email;
    let subject = format!("email:{}", email.to_lowercase());
    let table = stack.table();
    let count = || async {
        table
            .login_failures(&subject, clock.now())
            .await
            .unwrap()
            .count
    };
    let wrong = || login_attempt(&app, email, "Wrong-password-1");
    for _ in 0..5 {
        assert_eq!(wrong().await.0, 401);
    }

    // Retries within the minute's wait are refused and count for nothing (counted, a hundred
    // of them reached the hard lock in seconds).
    let retries = futures::future::join_all((0..20).map(|_| wrong())).await;
    assert!(
        retries.iter().all(|(status, _)| *status == 429),
        "{retries:?}"
    );
    assert_eq!(count().await, 5);

    // After the wait a burst tries one password; the others are refused, uncounted.
    clock.advance(chrono::Duration::seconds(61));
    let burst = futures::future::join_all((0..10).map(|_| wrong())).await;
    let tried = burst.iter().filter(|(status, _)| *status == 401).count();
    assert_eq!(tried, 1, "{burst:?}");
    assert_eq!(count().await, 6);

    // The sixth failure waits two minutes from that failure.
    clock.advance(chrono::Duration::seconds(61));
    assert_eq!(login_attempt(&app, email, TEST_PASSWORD).await.0, 429);
    clock.advance(chrono::Duration::seconds(60));
    assert_eq!(login_attempt(&app, email, TEST_PASSWORD).await.0, 200);
}

#[tokio::test]
async fn a_successful_login_forgets_the_failures_before_it_and_is_audited() {
    let stack = stack().await;
    let (app, clock) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    let table = stack.table();
    let subject = format!("email:{}", organisation.admin_email.to_lowercase());

    // Five failures lock the login; four, a success and four more must not.
    for round in 0..2 {
        for _ in 0..4 {
            let (status, _) =
                login_attempt(&app, &organisation.admin_email, "Wrong-password-1").await;
            assert_eq!(status, 401, "round {round}");
        }
        assert_eq!(
            table
                .login_failures(&subject, clock.now())
                .await
                .unwrap()
                .count,
            4
        );
        let (status, body) = login_attempt(&app, &organisation.admin_email, TEST_PASSWORD).await;
        assert_eq!(status, 200, "round {round}: {body}");
        assert_eq!(
            table
                .login_failures(&subject, clock.now())
                .await
                .unwrap()
                .count,
            0,
            "the success cleared the count"
        );
    }

    let log = app.json("/v1/admin/audit?action=login.", &token).await;
    let actions = audit_actions(&log);
    assert_eq!(
        actions.iter().filter(|a| **a == "login.succeeded").count(),
        3,
        "two logins here and the one that made the session: {actions:?}"
    );
    assert_eq!(log["items"][0]["target"], organisation.admin_id.as_str());
}

#[tokio::test]
async fn a_quiet_day_forgets_the_failures_but_never_the_hard_lock() {
    let stack = stack().await;
    let (app, clock) = app_with_clock().await;
    let (organisation, _) = organisation(&app, json!({})).await;
    let table = stack.table();
    let subject = format!("email:{}", organisation.admin_email.to_lowercase());
    let wrong = || login_attempt(&app, &organisation.admin_email, "Wrong-password-1");

    // Six failures lock for a while; a day without attempts forgets them: the next failure is
    // the first again, not the seventh.
    for _ in 0..6 {
        wrong().await;
    }
    clock.advance(chrono::Duration::hours(25));
    let count = |now| table.login_failures(&subject, now);
    assert_eq!(count(clock.now()).await.unwrap().count, 0);
    assert_eq!(wrong().await.0, 401);
    assert_eq!(
        count(clock.now()).await.unwrap().count,
        1,
        "counted from one"
    );

    // The 100th failure locks until an unlock or a reset: no quiet day lifts it.
    let key = roster_store::keys::login_failures(&roster_domain::session::secret_hash(&subject));
    let an_hour_ago = clock.now() - chrono::Duration::hours(1);
    let mut item = raw_item(key.clone()).await.unwrap();
    item.insert("failures".into(), AttributeValue::N("99".into()));
    item.insert(
        "last_failure_at".into(),
        AttributeValue::S(an_hour_ago.to_rfc3339()),
    );
    put_raw_item(item).await;
    assert_eq!(wrong().await.0, 401, "the 100th failure");
    let expiry = || async { raw_item(key.clone()).await.unwrap()["ttl"].clone() };
    let for_good = AttributeValue::N("253402300799".into());
    assert_eq!(expiry().await, for_good, "kept for good");
    for days in [3, 30] {
        clock.advance(chrono::Duration::days(days));
        let refused = app
            .login_response(&organisation.admin_email, TEST_PASSWORD)
            .await;
        assert_eq!(refused.status(), 429);
        assert!(
            refused.headers().get("retry-after").is_none(),
            "no wait ends this lock"
        );
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "login_locked_until_unlocked", "{body}");
        assert_eq!(expiry().await, for_good, "a later attempt keeps it");
    }
}

#[tokio::test]
async fn an_unknown_email_locks_exactly_like_a_known_one_and_the_person_is_emailed() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (organisation, _) = organisation(&app, json!({})).await;
    let unknown = unique_email("nobody");

    let mut known_answers = Vec::new();
    let mut unknown_answers = Vec::new();
    for _ in 0..6 {
        known_answers
            .push(login_attempt(&app, &organisation.admin_email, "Wrong-password-1").await);
        unknown_answers.push(login_attempt(&app, &unknown, "Wrong-password-1").await);
    }

    assert_eq!(known_answers, unknown_answers);
    assert_eq!(known_answers[4].0, 401);
    assert_eq!(known_answers[5].0, 429);
    let locked = render(&Notice::AccountLocked { minutes: 1 }, Language::En, "Ada").subject;
    assert!(
        stack
            .emails_to(&organisation.admin_email)
            .await
            .iter()
            .any(|m| m["subject"] == locked.as_str())
    );
}

pub(crate) type RawItem = std::collections::HashMap<String, AttributeValue>;

/// The raw item at `key`, if any.
pub(crate) async fn raw_item(key: roster_store::keys::Key) -> Option<RawItem> {
    let stack = stack().await;
    aws_sdk_dynamodb::Client::new(&stack.aws)
        .get_item()
        .table_name(&stack.config.table_name)
        .key("pk", AttributeValue::S(key.pk))
        .key("sk", AttributeValue::S(key.sk))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

/// Puts `item` into the table as it stands, bypassing the store.
pub(crate) async fn put_raw_item(item: RawItem) {
    let stack = stack().await;
    aws_sdk_dynamodb::Client::new(&stack.aws)
        .put_item()
        .table_name(&stack.config.table_name)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

fn text(item: &RawItem, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

/// The password hash the email sentinel of `email` carries, and the one of the account it names.
async fn sentinel_and_account_hashes(email: &str) -> (Option<String>, Option<String>) {
    let sentinel = raw_item(roster_store::keys::email_sentinel(&email.to_lowercase()))
        .await
        .expect("the email has its sentinel");
    let copied = sentinel
        .get("login")
        .and_then(|login| login.as_m().ok())
        .and_then(|login| text(login, "password_hash"));
    let owner = roster_domain::ids::AccountId::try_from(text(&sentinel, "owner").unwrap().as_str())
        .unwrap();
    let account = raw_item(roster_store::keys::account(&owner)).await.unwrap();
    (copied, text(&account, "password_hash"))
}

#[tokio::test]
async fn the_email_sentinel_carries_the_accounts_password_hash_through_every_change() {
    let (app, _) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    let (copied, hash) = sentinel_and_account_hashes(&organisation.admin_email).await;
    assert!(hash.is_some(), "the admin has a password");
    assert_eq!(copied, hash, "as created");

    let changed = change_password(&app, &token, "Second-password-2", "Second-password-2").await;
    assert_eq!(changed.status(), 204);
    let (copied, new_hash) = sentinel_and_account_hashes(&organisation.admin_email).await;
    assert_ne!(new_hash, hash);
    assert_eq!(copied, new_hash, "after a password change");

    let token = app
        .login(&organisation.admin_email, "Second-password-2")
        .await;
    let (_, etag) = app.read("/v1/me", &token).await;
    let new_email = unique_email("moved");
    let moved = app
        .patch(
            "/v1/me",
            &token,
            &etag,
            &json!({ "email": new_email, "password": "Second-password-2" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 202);
    assert_eq!(app.confirm_email_change(&new_email).await.0, 204);
    let (copied, hash) = sentinel_and_account_hashes(&new_email).await;
    assert_eq!(copied, new_hash, "the new email's sentinel");
    assert_eq!(hash, new_hash);
}

#[tokio::test]
async fn a_stale_or_missing_hash_on_the_email_sentinel_never_decides_a_login() {
    let (app, _) = app_with_clock().await;
    let (organisation, _) = organisation(&app, json!({})).await;
    let key = roster_store::keys::email_sentinel(&organisation.admin_email.to_lowercase());
    let sentinel = raw_item(key.clone()).await.unwrap();

    // A copy that lags behind the account (a password changed between a login's two reads).
    let stale = roster_domain::credentials::hash_password("Earlier-password-1");
    let mut lagging = sentinel.clone();
    lagging.insert(
        "login".to_owned(),
        AttributeValue::M([("password_hash".to_owned(), AttributeValue::S(stale))].into()),
    );
    put_raw_item(lagging).await;
    let email = &organisation.admin_email;
    assert_eq!(
        login_attempt(&app, email, "Earlier-password-1").await.0,
        401
    );
    assert_eq!(login_attempt(&app, email, TEST_PASSWORD).await.0, 200);

    // A sentinel written before sentinels carried the hash: the account's is read for it.
    let mut legacy = sentinel;
    legacy.remove("login");
    put_raw_item(legacy).await;
    let stack = stack().await;
    let table = stack.table();
    let credential = table
        .login_credential(&email.to_lowercase())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        credential.password_hash,
        sentinel_and_account_hashes(email).await.1
    );
    assert_eq!(
        login_attempt(&app, email, "Earlier-password-1").await.0,
        401
    );
    assert_eq!(login_attempt(&app, email, TEST_PASSWORD).await.0, 200);
}

/// `POST /v1/auth/password-reset` for `email`.
async fn request_reset(app: &TestApp, email: &str) -> reqwest::Response {
    app.http
        .post(app.url("/v1/auth/password-reset"))
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap()
}

/// `POST /v1/auth/password-reset/confirm` of the link's `token` with a new `password`.
async fn confirm_reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/v1/auth/password-reset/confirm"))
        .json(&json!({ "token": token, "password": password }))
        .send()
        .await
        .unwrap()
}

/// How long `POST /v1/auth/password-reset` takes to answer for `email`, and its status.
async fn timed_reset_request(app: &TestApp, email: &str) -> (std::time::Duration, u16) {
    let started = std::time::Instant::now();
    let status = request_reset(app, email).await.status().as_u16();
    (started.elapsed(), status)
}

#[tokio::test]
async fn a_reset_request_answers_no_sooner_than_one_floor_whether_the_email_is_known_or_not() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (organisation, _) = organisation(&app, json!({})).await;

    let (unknown, unknown_status) = timed_reset_request(&app, &unique_email("nobody")).await;
    let (known, known_status) = timed_reset_request(&app, &organisation.admin_email).await;

    assert_eq!((unknown_status, known_status), (202, 202));
    assert!(
        unknown >= profile_api::RESET_ANSWER_AFTER && known >= profile_api::RESET_ANSWER_AFTER,
        "both answers wait for the same floor: unknown {unknown:?}, known {known:?}"
    );
    assert_eq!(
        stack.emails_to(&organisation.admin_email).await.len(),
        1,
        "the link was sent before the answer, inside the floor"
    );
}

#[tokio::test]
async fn a_reset_link_works_once_sets_the_password_clears_the_lockout_and_ends_sessions() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    for _ in 0..5 {
        login_attempt(&app, &organisation.admin_email, "Wrong-password-1").await;
    }
    let unknown = request_reset(&app, &unique_email("nobody")).await;
    let known = request_reset(&app, &organisation.admin_email).await;
    assert_eq!(
        (unknown.status(), known.status()),
        (reqwest::StatusCode::ACCEPTED, reqwest::StatusCode::ACCEPTED)
    );
    assert_eq!(unknown.text().await.unwrap(), known.text().await.unwrap());
    let email = stack
        .emails_to(&organisation.admin_email)
        .await
        .pop()
        .unwrap();
    assert_eq!(
        email["subject"],
        render(
            &Notice::PasswordReset {
                link: String::new()
            },
            Language::En,
            "Ada"
        )
        .subject
    );
    let reset = roster_e2e::link_token(email["raw"].as_str().unwrap());

    let weak = confirm_reset(&app, &reset, "weak").await;
    assert_eq!(
        weak.status(),
        422,
        "the policy applies and the link still works afterwards"
    );
    let confirmed = confirm_reset(&app, &reset, "Fresh-start-99").await;
    assert_eq!(confirmed.status(), 204);

    assert_eq!(
        app.get("/v1/me", &token).send().await.unwrap().status(),
        401,
        "sessions ended"
    );
    assert_eq!(
        login_attempt(&app, &organisation.admin_email, "Fresh-start-99")
            .await
            .0,
        200,
        "lockout cleared"
    );
    let reused = confirm_reset(&app, &reset, "Another-start-99").await;
    assert_eq!(reused.status(), 422);
    assert_eq!(
        problem_errors(&reused.json().await.unwrap()),
        [("token".to_owned(), "invalid_token".to_owned())]
    );
}

#[tokio::test]
async fn a_reset_sent_again_after_it_failed_sets_the_password_and_clears_the_lockout() {
    let stack = stack().await;
    let (app, conflicts) = roster_e2e::conflicting_app().await;
    let (organisation, _) = organisation(&app, json!({})).await;
    let email = organisation.admin_email.as_str();
    for _ in 0..5 {
        login_attempt(&app, email, "Wrong-password-1").await;
    }
    assert_eq!(login_attempt(&app, email, TEST_PASSWORD).await.0, 429);
    assert_eq!(request_reset(&app, email).await.status(), 202);
    let sent = stack.emails_to(email).await;
    let reset = roster_e2e::link_token(sent.last().unwrap()["raw"].as_str().unwrap());

    // DynamoDB turns away the clearing of the failure counts: the confirmation fails, and the
    // person sends it again.
    conflicts.arm("LOGIN_FAILURES#", usize::MAX);
    assert_eq!(
        confirm_reset(&app, &reset, "Fresh-start-99").await.status(),
        503
    );
    conflicts.arm("", 0);
    // Was 422 `invalid_token` (the first try had used the link up with the password), and the
    // login stayed locked.
    let confirmed = confirm_reset(&app, &reset, "Fresh-start-99").await;
    assert_eq!(confirmed.status(), 204);
    assert_eq!(login_attempt(&app, email, "Fresh-start-99").await.0, 200);
}

#[tokio::test]
async fn a_reset_that_loses_a_race_sets_no_password_and_its_link_still_works() {
    let stack = stack().await;
    let range = spawn_range_api(&[]).await;
    let app = range.app().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    let email = organisation.admin_email.as_str();
    assert_eq!(request_reset(&app, email).await.status(), 202);
    let sent = stack.emails_to(email).await;
    let reset = roster_e2e::link_token(sent.last().unwrap()["raw"].as_str().unwrap());

    // The person starts a 2FA enrolment while the reset checks the new password.
    let enrolling = app.clone();
    range.when_next_asked(async move {
        let started = enrolling
            .post(
                "/v1/me/mfa/totp",
                &token,
                &json!({ "password": TEST_PASSWORD }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 201);
    });
    let lost = confirm_reset(&app, &reset, "Fresh-start-99").await;
    assert_eq!(lost.status(), 412);
    assert_eq!(
        login_attempt(&app, email, TEST_PASSWORD).await.0,
        200,
        "the password is unchanged"
    );

    let confirmed = confirm_reset(&app, &reset, "Fresh-start-99").await;
    assert_eq!(confirmed.status(), 204);
    assert_eq!(login_attempt(&app, email, "Fresh-start-99").await.0, 200);
}

#[tokio::test]
async fn asking_again_and_again_emails_a_handful_of_reset_links_an_hour_and_answers_alike() {
    let stack = stack().await;
    let (app, clock) = app_with_clock().await;
    let (organisation, _) = organisation(&app, json!({})).await;
    let email = organisation.admin_email.as_str();
    // A minute into the next clock hour, so every request below falls in one hour.
    let into_hour = clock.now().timestamp().rem_euclid(3600);
    clock.advance(chrono::Duration::seconds(3600 - into_hour + 60));

    let asked = RESET_EMAILS_PER_HOUR as usize + 3;
    let answers = futures::future::join_all((0..asked).map(|_| async {
        let started = std::time::Instant::now();
        let response = request_reset(&app, email).await;
        assert!(
            started.elapsed() >= profile_api::RESET_ANSWER_AFTER,
            "beyond the quota too, the answer waits for the floor"
        );
        (response.status().as_u16(), response.text().await.unwrap())
    }))
    .await;
    let unknown = request_reset(&app, &unique_email("nobody")).await;
    let unknown = (unknown.status().as_u16(), unknown.text().await.unwrap());

    assert!(
        answers.iter().all(|answer| *answer == unknown),
        "every request is answered as one for an unknown email: {answers:?} vs {unknown:?}"
    );
    let reset_subject = render(
        &Notice::PasswordReset {
            link: String::new(),
        },
        Language::En,
        "Ada",
    )
    .subject;
    let reset_links = || async {
        let emails = stack.emails_to(email).await;
        emails
            .into_iter()
            .filter(|e| e["subject"] == reset_subject.as_str())
            .collect::<Vec<_>>()
    };
    let links = reset_links().await;
    assert_eq!(
        links.len(),
        RESET_EMAILS_PER_HOUR as usize,
        "{asked} concurrent requests in one hour email exactly the quota"
    );
    let last = roster_e2e::link_token(links.last().unwrap()["raw"].as_str().unwrap());
    let confirmed = confirm_reset(&app, &last, "Fresh-start-99").await;
    assert_eq!(confirmed.status(), 204, "the links that went out work");

    clock.advance(chrono::Duration::hours(1));
    assert_eq!(request_reset(&app, email).await.status(), 202);
    assert_eq!(
        reset_links().await.len(),
        RESET_EMAILS_PER_HOUR as usize + 1,
        "the next hour has its own quota"
    );
}

#[tokio::test]
async fn an_admin_sends_a_person_no_more_reset_links_an_hour_than_they_could_ask_for() {
    let stack = stack().await;
    let (app, clock) = app_with_clock().await;
    clock.start_an_hour();
    let (_, admin) = organisation(&app, json!({})).await;
    let (colleague, colleague_id, _) = colleague_with_session(&app, &admin).await;
    let emailed = || async { stack.emails_to(&colleague).await.len() };
    let before = emailed().await;

    let mut answers = Vec::new();
    for _ in 0..=RESET_EMAILS_PER_HOUR {
        let sent = app
            .user_action(&admin, &colleague_id, "password-reset")
            .await;
        answers.push(sent.status().as_u16());
    }

    let quota = RESET_EMAILS_PER_HOUR as usize;
    assert_eq!(answers[..quota], vec![202; quota]);
    assert_eq!(answers[quota], 422);
    assert_eq!(emailed().await, before + quota);
}

#[tokio::test]
async fn a_reset_link_expires_after_an_hour() {
    let stack = stack().await;
    let (app, clock) = app_with_clock().await;
    let (organisation, _) = organisation(&app, json!({})).await;
    request_reset(&app, &organisation.admin_email).await;
    let reset = roster_e2e::link_token(
        stack
            .emails_to(&organisation.admin_email)
            .await
            .pop()
            .unwrap()["raw"]
            .as_str()
            .unwrap(),
    );

    clock.advance(chrono::Duration::minutes(61));
    let expired = confirm_reset(&app, &reset, "Fresh-start-99").await;

    assert_eq!(expired.status(), 422);
}

/// A colleague of `admin`'s organisation with a session (invited, accepted with
/// `TEST_PASSWORD`): their email, id and token.
async fn colleague_with_session(app: &TestApp, admin: &str) -> (String, String, String) {
    let email = unique_email("colleague");
    let created = app
        .post_json(
            "/v1/admin/users",
            admin,
            &json!({ "first_name": "Col", "last_name": "League", "email": email }),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let token = app.invited_session(admin, &id, &email).await;
    (email, id, token)
}

#[tokio::test]
async fn an_admin_2fa_reset_removes_it_ends_the_sessions_and_tells_the_person() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (colleague, colleague_id, token) = colleague_with_session(&app, &admin).await;
    app.enrol_totp(&token).await;

    let reset = app
        .post(
            &format!("/v1/admin/users/{colleague_id}/reset-mfa"),
            &admin,
            &json!({}),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(reset.status(), 204);
    assert_eq!(
        app.get("/v1/me", &token).send().await.unwrap().status(),
        401
    );
    let (status, body) = login_attempt(&app, &colleague, TEST_PASSWORD).await;
    assert_eq!(status, 200);
    assert!(body["token"].is_string(), "no second factor any more");
    let subject = render(&Notice::MfaReset, Language::En, "Col").subject;
    assert!(
        stack
            .emails_to(&colleague)
            .await
            .iter()
            .any(|m| m["subject"] == subject.as_str())
    );
}

#[tokio::test]
async fn an_admin_2fa_reset_that_failed_part_way_tells_and_logs_when_made_again() {
    let stack = stack().await;
    let (app, conflicts) = roster_e2e::conflicting_app().await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (colleague, colleague_id, token) = colleague_with_session(&app, &admin).await;
    app.enrol_totp(&token).await;

    // The second step's failures cannot be cleared for now: the reset fails.
    conflicts.arm("LOGIN_FAILURES#", usize::MAX);
    let failed = app.user_action(&admin, &colleague_id, "reset-mfa").await;
    assert_eq!(failed.status(), 503);
    conflicts.arm("", 0);

    // The Admin makes it again: the person loses 2FA, is told once, and the log says so.
    let reset = app.user_action(&admin, &colleague_id, "reset-mfa").await;
    assert_eq!(reset.status(), 204);
    let (status, body) = login_attempt(&app, &colleague, TEST_PASSWORD).await;
    assert_eq!(status, 200);
    assert!(body["token"].is_string(), "no second factor any more");
    let subject = render(&Notice::MfaReset, Language::En, "Col").subject;
    let told = stack.emails_to(&colleague).await;
    assert_eq!(
        told.iter()
            .filter(|m| m["subject"] == subject.as_str())
            .count(),
        1
    );
    let log = app
        .json(&format!("/v1/admin/audit?target={colleague_id}"), &admin)
        .await;
    assert!(audit_actions(&log).contains(&"user.mfa_reset"), "{log}");
}

#[tokio::test]
async fn an_admin_2fa_reset_of_someone_without_2fa_changes_and_sends_nothing() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (colleague, colleague_id, token) = colleague_with_session(&app, &admin).await;
    let emailed = stack.emails_to(&colleague).await.len();

    for _ in 0..3 {
        let reset = app.user_action(&admin, &colleague_id, "reset-mfa").await;
        assert_eq!(reset.status(), 204);
    }

    assert_eq!(stack.emails_to(&colleague).await.len(), emailed);
    assert_eq!(
        app.get("/v1/me", &token).send().await.unwrap().status(),
        200
    );
    let log = app
        .json(&format!("/v1/admin/audit?target={colleague_id}"), &admin)
        .await;
    assert!(
        !audit_actions(&log).contains(&"user.mfa_reset"),
        "nothing was reset: {log}"
    );
}

#[tokio::test]
async fn after_an_admin_2fa_reset_codes_guessed_at_the_old_factor_hold_nobody_back() {
    let (app, clock) = app_with_clock().await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (colleague, colleague_id, token) = colleague_with_session(&app, &admin).await;
    app.enrol_totp(&token).await;
    let mut last = 0;
    for _ in 0..6 {
        let challenge_token = challenge(&app, &colleague).await;
        last = complete(
            &app,
            json!({ "challenge": challenge_token, "code": "000000" }),
        )
        .await
        .0;
    }
    assert_eq!(last, 429, "wrong codes lock the second step");

    let reset = app.user_action(&admin, &colleague_id, "reset-mfa").await;
    assert_eq!(reset.status(), 204);
    let fresh_session = app.login(&colleague, TEST_PASSWORD).await;
    let (secret, _) = app.enrol_totp(&fresh_session).await;
    clock.advance(chrono::Duration::seconds(30));
    let challenge_token = challenge(&app, &colleague).await;
    let (status, body) = complete(
        &app,
        json!({ "challenge": challenge_token, "code": totp::code_at(&secret, now(30), 6) }),
    )
    .await;

    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn enabling_2fa_ends_the_persons_other_sessions_and_keeps_this_one() {
    let (app, _) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    let earlier = app.login(&organisation.admin_email, TEST_PASSWORD).await;

    app.enrol_totp(&token).await;

    assert_eq!(
        app.get("/v1/me", &earlier).send().await.unwrap().status(),
        401,
        "a session opened with the password alone does not outlive 2FA"
    );
    let replaced = app
        .post(
            "/v1/me/mfa/totp",
            &earlier,
            &json!({ "password": TEST_PASSWORD }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        replaced.status(),
        401,
        "nor can it enrol a factor of its own"
    );
    assert_eq!(
        app.get("/v1/me", &token).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn an_admins_session_alone_cannot_move_remove_or_reset_the_admins_own_credentials() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    app.enrol_totp(&admin).await;
    let own = format!("/v1/admin/users/{}", organisation.admin_id);
    let (_, etag) = app.read(&own, &admin).await;
    let emails_before = stack.emails_to(&organisation.admin_email).await.len();

    // The whole record sent back unchanged is no move.
    let (own_record, _) = app.read(&own, &admin).await;
    let resaved = app
        .patch(
            &own,
            &admin,
            &etag,
            &json!({ "email": own_record["email"], "department": "Ops" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resaved.status(), 200);
    let etag = resaved.headers()["etag"].to_str().unwrap().to_owned();
    let taker = unique_email("taker");
    let moved = app
        .patch(&own, &admin, &etag, &json!({ "email": taker }))
        .send()
        .await
        .unwrap();
    let reset_mfa = app
        .user_action(&admin, &organisation.admin_id, "reset-mfa")
        .await;
    let reset_link = app
        .user_action(&admin, &organisation.admin_id, "password-reset")
        .await;

    for (action, refused, field) in [
        ("move the email", moved, "email"),
        ("reset 2fa", reset_mfa, "id"),
        ("send a reset link", reset_link, "id"),
    ] {
        assert_eq!(refused.status(), 422, "{action}");
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(
            problem_errors(&problem),
            vec![(field.to_owned(), "self".to_owned())],
            "{action}: {problem}"
        );
    }
    let me = app.json("/v1/me", &admin).await;
    assert_eq!(me["email"], organisation.admin_email.as_str());
    assert!(stack.emails_to(&taker).await.is_empty());
    assert_eq!(
        stack.emails_to(&organisation.admin_email).await.len(),
        emails_before,
        "no reset link, no 2FA notice"
    );
    let (status, body) = login_attempt(&app, &organisation.admin_email, TEST_PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(body["mfa_required"], true, "2FA still asked for: {body}");
}

#[tokio::test]
async fn disabling_2fa_needs_the_password_or_a_code() {
    let (app, _) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    app.enrol_totp(&token).await;

    let refused = app
        .http
        .delete(app.url("/v1/me/mfa/totp"))
        .bearer_auth(&token)
        .json(&json!({ "password": "Wrong-password-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let disabled = app
        .http
        .delete(app.url("/v1/me/mfa/totp"))
        .bearer_auth(&token)
        .json(&json!({ "password": TEST_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 204);
    assert!(
        login_attempt(&app, &organisation.admin_email, TEST_PASSWORD)
            .await
            .1["token"]
            .is_string()
    );
    let subject = render(&Notice::MfaDisabled, Language::En, "Ada").subject;
    let emails = stack().await.emails_to(&organisation.admin_email).await;
    assert!(emails.iter().any(|m| m["subject"] == subject.as_str()));
}

#[tokio::test]
async fn regenerated_recovery_codes_replace_the_old_ones_and_the_person_is_told() {
    let (app, _) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    let (_, old_codes) = app.enrol_totp(&token).await;

    let response = app
        .post(
            "/v1/me/mfa/recovery-codes",
            &token,
            &json!({ "password": TEST_PASSWORD }),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let new_codes = response.json::<Value>().await.unwrap()["recovery_codes"].clone();
    assert_eq!(new_codes.as_array().unwrap().len(), 10);
    let challenge_token = challenge(&app, &organisation.admin_email).await;
    let (old, _) = complete(
        &app,
        json!({ "challenge": challenge_token, "recovery_code": old_codes[0] }),
    )
    .await;
    assert_eq!(old, 401, "the old codes stopped working");
    let (new, _) = complete(
        &app,
        json!({ "challenge": challenge_token, "recovery_code": new_codes[0] }),
    )
    .await;
    assert_eq!(new, 200);
    let subject = render(&Notice::RecoveryCodesRegenerated, Language::En, "Ada").subject;
    let emails = stack().await.emails_to(&organisation.admin_email).await;
    assert!(emails.iter().any(|m| m["subject"] == subject.as_str()));
}

/// A login as API Gateway delivers it, from `address`.
fn login_event(email: &str, address: &str) -> Value {
    let mut event = roster_e2e::sample_event("profile-api-health.json");
    event["routeKey"] = json!("POST /v1/{proxy+}");
    event["rawPath"] = json!("/v1/auth/login");
    event["requestContext"]["http"]["method"] = json!("POST");
    event["requestContext"]["http"]["path"] = json!("/v1/auth/login");
    event["requestContext"]["http"]["sourceIp"] = json!(address);
    event["headers"]["content-type"] = json!("application/json");
    event["body"] = json!(json!({ "email": email, "password": "Wrong-password-1" }).to_string());
    event
}

#[tokio::test]
async fn an_address_that_fails_many_logins_waits_whatever_name_it_tries() {
    let stack = stack().await;
    let clock = TestClock::default();
    clock.start_an_hour();
    let functions = stack.functions_configured(clock.clock(), |config| {
        config.breached_range_url = Some("http://127.0.0.1:9/range/".to_owned());
    });
    let address = format!("198.51.100.{}", rand_octet());
    for _ in 0..25 {
        let answer = functions
            .invoke("profile-api", login_event(&unique_email("spray"), &address))
            .await
            .unwrap();
        assert_eq!(answer["statusCode"], 401);
    }

    let blocked = functions
        .invoke("profile-api", login_event(&unique_email("spray"), &address))
        .await
        .unwrap();
    let elsewhere = functions
        .invoke(
            "profile-api",
            login_event(&unique_email("spray"), "203.0.113.200"),
        )
        .await
        .unwrap();

    assert_eq!(blocked["statusCode"], 429);
    assert_eq!(
        elsewhere["statusCode"], 401,
        "other addresses are not affected"
    );
}

#[tokio::test]
async fn an_ipv6_host_that_changes_its_address_within_its_network_still_waits() {
    let stack = stack().await;
    let clock = TestClock::default();
    clock.start_an_hour();
    let functions = stack.functions_configured(clock.clock(), |config| {
        config.breached_range_url = Some("http://127.0.0.1:9/range/".to_owned());
    });
    let unique = chrono::Utc::now().timestamp_subsec_nanos();
    let network = |last: u32| format!("2001:db8:{:x}:{last:x}", unique >> 16);
    let ours = network(unique & 0xffff);
    for host in 1..=25 {
        let answer = functions
            .invoke(
                "profile-api",
                login_event(&unique_email("spray"), &format!("{ours}::{host:x}")),
            )
            .await
            .unwrap();
        assert_eq!(answer["statusCode"], 401);
    }

    let next_address = functions
        .invoke(
            "profile-api",
            login_event(&unique_email("spray"), &format!("{ours}:ffff::1")),
        )
        .await
        .unwrap();
    let next_network = functions
        .invoke(
            "profile-api",
            login_event(
                &unique_email("spray"),
                &format!("{}::1", network((unique & 0xffff) ^ 1)),
            ),
        )
        .await
        .unwrap();

    assert_eq!(next_address["statusCode"], 429);
    assert_eq!(
        next_network["statusCode"], 401,
        "the neighbouring network is not affected"
    );
}

#[tokio::test]
async fn an_address_waits_across_the_hour_it_failed_in_and_starts_again_hours_later() {
    let stack = stack().await;
    let clock = TestClock::default();
    clock.start_an_hour();
    clock.advance(chrono::Duration::minutes(58));
    let functions = stack.functions_configured(clock.clock(), |config| {
        config.breached_range_url = Some("http://127.0.0.1:9/range/".to_owned());
    });
    let address = format!("198.51.101.{}", rand_octet());
    let attempt = || async {
        functions
            .invoke("profile-api", login_event(&unique_email("typo"), &address))
            .await
            .unwrap()["statusCode"]
            .clone()
    };
    for _ in 0..25 {
        assert_eq!(attempt().await, 401);
    }
    assert_eq!(attempt().await, 429);

    clock.advance(chrono::Duration::minutes(2));
    assert_eq!(
        attempt().await,
        429,
        "the wait outlasts the hour it began in"
    );

    clock.advance(chrono::Duration::hours(2));
    for _ in 0..2 {
        assert_eq!(
            attempt().await,
            401,
            "a typo hours later is not taken for the 26th"
        );
    }
}

fn rand_octet() -> u8 {
    (chrono::Utc::now().timestamp_subsec_nanos() % 250) as u8 + 1
}

#[tokio::test]
async fn an_organisation_can_lock_after_fewer_failures_for_logins_that_name_it() {
    let stack = stack().await;
    let (app, clock) = app_with_clock().await;
    let (organisation, _) = organisation(
        &app,
        json!({ "lockout": { "free_failures": 3, "max_wait_minutes": 30 } }),
    )
    .await;
    let attempt = |password: &'static str| {
        let (app, organisation) = (&app, &organisation);
        async move {
            app.http
                .post(app.url("/v1/auth/login"))
                .json(&json!({ "email": organisation.admin_email, "password": password, "organisation": organisation.id }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };

    for _ in 0..3 {
        assert_eq!(attempt("Wrong-password-1").await, 401);
    }

    assert_eq!(attempt(TEST_PASSWORD).await, 429);
    let locked = render(&Notice::AccountLocked { minutes: 1 }, Language::En, "Ada").subject;
    assert!(
        stack
            .emails_to(&organisation.admin_email)
            .await
            .iter()
            .any(|m| m["subject"] == locked.as_str())
    );

    // Refused retries do not move the wait: it ends a minute after the third failure.
    clock.advance(chrono::Duration::seconds(40));
    assert_eq!(attempt(TEST_PASSWORD).await, 429);
    clock.advance(chrono::Duration::seconds(21));
    assert_eq!(attempt(TEST_PASSWORD).await, 200);

    // A login naming no organisation keeps the baseline (five failures), whatever one
    // organisation's stricter lock says.
    for _ in 0..3 {
        assert_eq!(attempt("Wrong-password-1").await, 401);
    }
    assert_eq!(attempt(TEST_PASSWORD).await, 429);
    app.login(&organisation.admin_email, TEST_PASSWORD).await;
}

#[tokio::test]
async fn a_reset_link_stops_working_once_the_password_changed() {
    let stack = stack().await;
    let (app, _) = app_with_clock().await;
    let (organisation, token) = organisation(&app, json!({})).await;
    request_reset(&app, &organisation.admin_email).await;
    let reset = roster_e2e::link_token(
        stack
            .emails_to(&organisation.admin_email)
            .await
            .pop()
            .unwrap()["raw"]
            .as_str()
            .unwrap(),
    );

    assert_eq!(
        change_password(&app, &token, "Changed-meanwhile-3", "Changed-meanwhile-3")
            .await
            .status(),
        204
    );

    let stale = confirm_reset(&app, &reset, "Fresh-start-99").await;
    assert_eq!(stale.status(), 422);
}

#[tokio::test]
async fn guessing_the_current_password_inside_a_session_locks_too() {
    let (app, _) = app_with_clock().await;
    let (_, token) = organisation(&app, json!({})).await;
    let guess = || {
        app.post(
            "/v1/me/password",
            &token,
            &json!({ "current_password": "Wrong-password-1", "new_password": "Whatever-new-9", "confirmation": "Whatever-new-9" }),
        )
        .send()
    };

    for _ in 0..5 {
        assert_eq!(guess().await.unwrap().status(), 422);
    }

    let locked = guess().await.unwrap();
    assert_eq!(locked.status(), 429);
    assert!(locked.headers().contains_key("retry-after"));
    let right = change_password(&app, &token, "Whatever-new-9", "Whatever-new-9").await;
    assert_eq!(right.status(), 429, "even the right password waits");
}
