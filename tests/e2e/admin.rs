//! Administration: users, roles per site, invitations, lifecycle, PINs, organisation settings.

use futures::StreamExt;
use roster_domain::{
    ids::OrganisationId,
    membership::{InvitationStatus, Membership, Role, RoleGrant},
    organisation::Organisation,
    preferences::Language,
    profile::{Email, Profile},
};
use roster_e2e::{
    TEST_PASSWORD, TestApp, TestClock, app_with_clock, counted_app, create_user, link_token,
    organisation, problem_errors, spawn_app, stack, unique_email,
};
use roster_notify::templates::{Notice, render};
use roster_store::{Account, CallCounter};
use serde_json::{Value, json};

/// Creates a user with a fresh email made from `who` and `name`; answers their id and email.
async fn email_user(app: &TestApp, token: &str, who: &str, name: (&str, &str)) -> (String, String) {
    let email = unique_email(who);
    let user = create_user(
        app,
        token,
        json!({ "first_name": name.0, "last_name": name.1, "email": email }),
    )
    .await;
    (user["id"].as_str().unwrap().to_owned(), email)
}

/// Invites the user and answers the token of the newest welcome email.
async fn invite(app: &TestApp, token: &str, user: &str, email: &str) -> String {
    let response = app.user_action(token, user, "invite").await;
    assert_eq!(response.status(), 202);
    let sent = stack().await.emails_to(email).await;
    link_token(
        sent.last().expect("a welcome email")["raw"]
            .as_str()
            .unwrap(),
    )
}

fn codes(problem: &Value) -> Vec<String> {
    problem_errors(problem)
        .into_iter()
        .map(|(_, code)| code)
        .collect()
}

#[tokio::test]
async fn an_address_at_a_domain_of_other_letters_is_mailed_at_its_ascii_form() {
    let stack = stack().await;
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let local = unique_email("joerg").split('@').next().unwrap().to_owned();
    let (written, ascii) = (
        format!("{local}@müller.example"),
        format!("{local}@xn--mller-kva.example"),
    );
    let created = create_user(
        &app,
        &admin,
        json!({ "first_name": "Jörg", "last_name": "Müller", "email": written }),
    )
    .await;
    assert_eq!(created["email"], written.as_str(), "shown as written");
    let invited = app
        .user_action(&admin, created["id"].as_str().unwrap(), "invite")
        .await;
    assert_eq!(invited.status(), 202);
    // SES takes no other letters in an address (SMTPUTF8): the domain goes in its IDNA form.
    let mail = stack.emails_to(&ascii).await;
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0]["raw"]
            .as_str()
            .unwrap()
            .contains(&format!("<{ascii}>")),
        "{}",
        mail[0]["raw"]
    );

    // One address however its domain is written; none with other letters before the @.
    let again = app
        .post(
            "/v1/admin/users",
            &admin,
            &json!({ "first_name": "J", "last_name": "M", "email": ascii }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let umlaut_local = app
        .post(
            "/v1/admin/users",
            &admin,
            &json!({ "first_name": "J", "last_name": "M", "email": "jörg@example.com" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(umlaut_local.status(), 422);
    assert_eq!(
        problem_errors(&umlaut_local.json().await.unwrap()),
        [("email".to_owned(), "invalid_email".to_owned())]
    );
}

#[tokio::test]
async fn an_invitation_or_reset_link_that_ses_does_not_take_is_reported_unsent_to_the_admin() {
    let stack = stack().await;
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (id, email) = email_user(&app, &admin, "unreached", ("Una", "Reached")).await;
    let outage =
        roster_e2e::spawn_app(&stack.functions_without_ses_and_sns(profile_api::system_clock()))
            .await;

    // Was 202 "sent": the admin waited 48 hours for someone who never got the link. A reset
    // link never sent takes no place among the person's 5 an hour (the sixth try is no 422).
    for action in ["invite"].into_iter().chain(["password-reset"; 6]) {
        let unsent = outage.user_action(&admin, &id, action).await;
        assert_eq!(unsent.status(), 503, "{action}");
        assert_eq!(
            unsent.json::<Value>().await.unwrap()["code"],
            "email_not_sent",
            "{action}"
        );
    }
    assert!(stack.emails_to(&email).await.is_empty());
    // Someone asking for their own reset is answered as ever, whether or not the email exists.
    let own = outage
        .http
        .post(outage.url("/v1/auth/password-reset"))
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 202);

    // Once SES is back, a resend reaches them and its link works.
    let token = invite(&app, &admin, &id, &email).await;
    let (status, _) = app.accept_invitation(&token, "Reached-at-last-1").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_empty_cursor_asks_for_the_first_page_as_on_scim() {
    let app = spawn_app(&stack().await.functions()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    for name in ["Ada", "Bea"] {
        email_user(&app, &admin, name, (name, "Lovelace")).await;
    }
    for list in ["/v1/admin/users?limit=2", "/v1/admin/audit?limit=2"] {
        let first: Value = app.json(list, &admin).await;
        assert_eq!(first["items"].as_array().unwrap().len(), 2, "{first}");
        let empty = app
            .get(&format!("{list}&cursor="), &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(empty.status(), 200, "{list}");
        assert_eq!(
            empty.json::<Value>().await.unwrap()["items"],
            first["items"],
            "{list}"
        );
    }
}

#[tokio::test]
async fn a_new_user_is_not_invited_until_an_admin_invites_them_and_the_link_works_once() {
    let clock = TestClock::default();
    let app = app_with_clock(&clock).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let email = unique_email("jan");
    let user = create_user(
        &app,
        &admin,
        json!({ "first_name": "Jan", "last_name": "Jansen", "email": email, "language": "de" }),
    )
    .await;
    assert_eq!(user["status"], "active");
    assert_eq!(user["invitation_status"], "not_invited");
    assert!(
        stack().await.emails_to(&email).await.is_empty(),
        "nothing is sent before an invitation"
    );

    let token = invite(&app, &admin, user["id"].as_str().unwrap(), &email).await;
    let welcome = stack().await.emails_to(&email).await.pop().unwrap();
    assert!(
        welcome["raw"]
            .as_str()
            .unwrap()
            .contains("Content-Language: de")
    );
    let (read, _) = app
        .read(
            &format!("/v1/admin/users/{}", user["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(read["invitation_status"], "pending");

    let (status, session) = app.accept_invitation(&token, "Jansen-Passwort-1").await;
    assert_eq!(status, 200);
    let (me, _) = app.read("/v1/me", session["token"].as_str().unwrap()).await;
    assert_eq!(me["invitation_status"], "confirmed");
    let (again, problem) = app.accept_invitation(&token, "Jansen-Passwort-1").await;
    assert_eq!(again, 422);
    assert_eq!(codes(&problem), ["invalid_token"]);
    app.login(&email, "Jansen-Passwort-1").await;
}

#[tokio::test]
async fn a_resent_invitation_kills_the_old_link_and_a_link_expires_after_48_hours() {
    let clock = TestClock::default();
    let app = app_with_clock(&clock).await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let (id, email) = email_user(&app, &admin, "ines", ("Ines", "Ito")).await;
    let id = id.as_str();

    let first = invite(&app, &admin, id, &email).await;
    let second = invite(&app, &admin, id, &email).await;
    assert_eq!(
        app.accept_invitation(&first, "Strong-enough-1").await.0,
        422,
        "the old link died with the resend"
    );

    clock.advance(chrono::Duration::hours(49));
    assert_eq!(
        app.accept_invitation(&second, "Strong-enough-1").await.0,
        422,
        "expired"
    );
    let admin = app.login(&organisation.admin_email, TEST_PASSWORD).await;
    let third = invite(&app, &admin, id, &email).await;
    assert_eq!(
        app.accept_invitation(&third, "Strong-enough-1").await.0,
        200
    );
}

#[tokio::test]
async fn guessing_a_password_through_an_invitation_link_locks_the_login_as_login_guesses_do() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (id, email) = email_user(&app, &admin, "guessed", ("Gus", "Guessed")).await;
    let id = id.as_str();
    let first = invite(&app, &admin, id, &email).await;
    assert_eq!(app.accept_invitation(&first, "Own-password-1").await.0, 200);
    // Invited again, the person accepts with the password they have; a right one clears the
    // wrong ones before it.
    let link = invite(&app, &admin, id, &email).await;
    for _ in 0..4 {
        assert_eq!(app.accept_invitation(&link, "Wrong-guess-1").await.0, 401);
    }
    assert_eq!(app.accept_invitation(&link, "Own-password-1").await.0, 200);
    app.refused_logins(&email, "Wrong-guess-1", 4).await;
    app.login(&email, "Own-password-1").await;

    let link = invite(&app, &admin, id, &email).await;
    for _ in 0..5 {
        assert_eq!(app.accept_invitation(&link, "Wrong-guess-1").await.0, 401);
    }
    let (status, problem) = app.accept_invitation(&link, "Own-password-1").await;
    assert_eq!(status, 429, "{problem}");
    assert_eq!(problem["code"], "login_locked");
    assert_eq!(
        app.login_status(&email, "Own-password-1").await,
        429,
        "the login form is locked by the same guesses"
    );
    let locked = roster_notify::templates::render(
        &roster_notify::templates::Notice::AccountLocked { minutes: 1 },
        roster_domain::preferences::Language::En,
        "Gus",
    )
    .subject;
    let told = stack().await.emails_to(&email).await;
    assert!(told.iter().any(|m| m["subject"] == locked.as_str()));
}

#[tokio::test]
async fn a_revoked_invitation_no_longer_works() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (id, email) = email_user(&app, &admin, "rev", ("Re", "Voked")).await;
    let id = id.as_str();
    let token = invite(&app, &admin, id, &email).await;

    assert_eq!(
        app.delete(&format!("/v1/admin/users/{id}/invite"), &admin)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );

    assert_eq!(
        app.accept_invitation(&token, "Strong-enough-1").await.0,
        422
    );
    let (read, _) = app.read(&format!("/v1/admin/users/{id}"), &admin).await;
    assert_eq!(read["invitation_status"], "not_invited");
}

#[tokio::test]
async fn an_invitation_accepted_twice_at_once_answers_the_second_that_its_link_is_used() {
    let range = roster_e2e::spawn_range_api(&[]).await;
    let app = range.app().await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (id, email) = email_user(&app, &admin, "twice", ("Two", "Clicks")).await;
    let link = invite(&app, &admin, &id, &email).await;

    // The second submit is accepted while the first checks the password.
    let (second, again) = (app.clone(), link.clone());
    let answered = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = answered.clone();
    range.when_next_asked(async move {
        *seen.lock().unwrap() = Some(second.accept_invitation(&again, "Strong-enough-1").await.0);
    });
    let (status, problem) = app.accept_invitation(&link, "Strong-enough-1").await;
    assert_eq!(*answered.lock().unwrap(), Some(200));
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem_errors(&problem),
        [("token".to_owned(), "invalid_token".to_owned())]
    );
}

/// Adds the person of `email`, who has an account in another organisation, to the one `admin`
/// administers: their user there.
async fn add_existing_person(app: &TestApp, admin: &str, email: &str) -> Value {
    create_user(
        app,
        admin,
        json!({ "first_name": "Ada", "last_name": "Lovelace", "email": email }),
    )
    .await
}

/// A person of the organisation `admin` administers, deactivated, whose five tries with their
/// own password since then locked their login: their id and email. Their own password counts like
/// any refused try (else the count would tell which guess was right).
async fn locked_out_while_deactivated(app: &TestApp, admin: &str, who: &str) -> (String, String) {
    let (id, email) = email_user(app, admin, who, ("Is", "Away")).await;
    app.invited_session(admin, &id, &email).await;
    assert_eq!(
        app.user_action(admin, &id, "deactivate").await.status(),
        200
    );
    app.refused_logins(&email, TEST_PASSWORD, 5).await;
    assert_eq!(app.login_status(&email, TEST_PASSWORD).await, 429);
    (id, email)
}

#[tokio::test]
async fn a_deactivated_person_is_not_told_of_a_lock_and_gets_in_once_reactivated() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (id, email) = locked_out_while_deactivated(&app, &admin, "away").await;

    // Nobody is told of a lock on a login that could not admit them anyway.
    let locked = render(&Notice::AccountLocked { minutes: 1 }, Language::En, "Is").subject;
    let told = stack().await.emails_to(&email).await;
    assert!(
        told.iter().all(|m| m["subject"] != locked.as_str()),
        "{told:?}"
    );

    // Reactivated, they sign in at once: the tries of the meantime hold them back no more.
    assert_eq!(
        app.user_action(&admin, &id, "reactivate").await.status(),
        200
    );
    app.login(&email, TEST_PASSWORD).await;
}

#[tokio::test]
async fn reactivating_someone_who_belongs_elsewhere_too_leaves_their_lockout() {
    let app = app_with_clock(&TestClock::default()).await;
    let (elsewhere, _) = organisation(&app, json!({})).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let shared = add_existing_person(&app, &admin, &elsewhere.admin_email).await;
    let id = shared["id"].as_str().unwrap();
    app.refused_logins(&elsewhere.admin_email, "Guessed-password-1", 5)
        .await;

    for action in ["deactivate", "reactivate"] {
        assert_eq!(app.user_action(&admin, id, action).await.status(), 200);
    }

    // The lockout guards the person's other organisation too: as an unlock of it is refused
    // here, so a reactivation leaves it (was 200: guessing could start again after each one).
    assert_eq!(
        app.login_status(&elsewhere.admin_email, TEST_PASSWORD)
            .await,
        429
    );
}

#[tokio::test]
async fn a_reactivation_sent_again_after_it_failed_lets_the_person_in() {
    let (app, conflicts) = roster_e2e::conflicting_app().await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (id, email) = locked_out_while_deactivated(&app, &admin, "back").await;

    // DynamoDB turns away the clearing of their tries: the reactivation fails, and the admin
    // sends it again.
    conflicts.arm("LOGIN_FAILURES#", usize::MAX);
    assert_eq!(
        app.user_action(&admin, &id, "reactivate").await.status(),
        503
    );
    conflicts.arm("", 0);
    assert_eq!(
        app.user_action(&admin, &id, "reactivate").await.status(),
        200
    );
    // Was 429: the first try had written the status, so the second found them active and
    // cleared nothing.
    app.login(&email, TEST_PASSWORD).await;
}

#[tokio::test]
async fn an_acceptance_sent_again_after_it_failed_lets_the_person_in() {
    let (app, conflicts) = roster_e2e::conflicting_app().await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (id, email) = email_user(&app, &admin, "eager", ("Ea", "Ger")).await;
    let link = invite(&app, &admin, &id, &email).await;
    // Tries before they accepted lock their login.
    app.refused_logins(&email, "Guessed-password-1", 5).await;

    // DynamoDB turns away the clearing of the failure counts: the acceptance fails, and the
    // person sends it again.
    conflicts.arm("LOGIN_FAILURES#", usize::MAX);
    assert_eq!(app.accept_invitation(&link, "Strong-enough-1").await.0, 503);
    conflicts.arm("", 0);
    // Was 422 (the first try had used the link up with the password), and the login stayed
    // locked.
    let (status, accepted) = app.accept_invitation(&link, "Strong-enough-1").await;
    assert_eq!(status, 200, "{accepted}");
    app.login(&email, "Strong-enough-1").await;
}

#[tokio::test]
async fn an_acceptance_that_loses_a_race_to_an_edit_sets_no_password_and_its_link_still_works() {
    let range = roster_e2e::spawn_range_api(&[]).await;
    let app = range.app().await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (id, email) = email_user(&app, &admin, "race", ("Ra", "Ce")).await;
    let link = invite(&app, &admin, &id, &email).await;

    // An admin edits the person while the acceptance checks the new password.
    let (editing, path, by) = (app.clone(), format!("/v1/admin/users/{id}"), admin.clone());
    range.when_next_asked(async move {
        let (_, etag) = editing.read(&path, &by).await;
        let edited = editing
            .patch(&path, &by, &etag, &json!({ "department": "Finance" }))
            .send()
            .await
            .unwrap();
        assert_eq!(edited.status(), 200);
    });
    let (status, problem) = app.accept_invitation(&link, "Strong-enough-1").await;
    assert_eq!(status, 412, "{problem}");
    let (read, _) = app.read(&format!("/v1/admin/users/{id}"), &admin).await;
    assert_eq!(
        (&read["invitation_status"], &read["department"]),
        (&json!("pending"), &json!("Finance"))
    );
    // Had the first try set its password, this one would have to give it (401).
    let (status, answer) = app.accept_invitation(&link, "Another-strong-2").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(app.login_status(&email, "Another-strong-2").await, 200);
    let (read, _) = app.read(&format!("/v1/admin/users/{id}"), &admin).await;
    assert_eq!(read["invitation_status"], "confirmed");
}

#[tokio::test]
async fn a_person_with_an_account_elsewhere_joins_at_once_with_their_credentials() {
    let app = app_with_clock(&TestClock::default()).await;
    let (elsewhere, _) = organisation(&app, json!({})).await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let before = stack().await.emails_to(&elsewhere.admin_email).await.len();

    let user = add_existing_person(&app, &admin, &elsewhere.admin_email).await;

    assert_eq!(user["invitation_status"], "confirmed");
    assert_eq!(
        stack().await.emails_to(&elsewhere.admin_email).await.len(),
        before,
        "no invitation is sent"
    );
    let response = app
        .http
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "email": elsewhere.admin_email, "password": TEST_PASSWORD, "organisation": organisation.id }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let token = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (me, _) = app.read("/v1/me", &token).await;
    assert_eq!(me["organisation_id"], organisation.id);
    assert_eq!(me["id"], user["id"]);
}

#[tokio::test]
async fn a_username_user_logs_in_with_a_pin_that_must_be_changed_first() {
    let app = app_with_clock(&TestClock::default()).await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let user = create_user(
        &app,
        &admin,
        json!({ "first_name": "Jan", "last_name": "Jansen", "username": "JanJ" }),
    )
    .await;
    let pin = user["pin"].as_str().unwrap().to_owned();
    assert_eq!(pin.len(), 6);
    assert_eq!(user["email"], Value::Null);
    let login = |password: String| {
        let (app, organisation) = (&app, organisation.id.clone());
        async move {
            let response = app
                .http
                .post(app.url("/v1/auth/login"))
                .json(&json!({ "organisation": organisation, "username": "janj", "password": password }))
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    let (status, session) = login(pin.clone()).await;
    assert_eq!(status, 200);
    let token = session["token"].as_str().unwrap();
    let blocked = app.get("/v1/me", token).send().await.unwrap();
    assert_eq!(blocked.status(), 403);
    assert_eq!(
        blocked.json::<Value>().await.unwrap()["code"],
        "password_change_required"
    );
    let changed = app
        .post("/v1/me/password", token, &json!({ "current_password": pin, "new_password": "Eigenes-Passwort-5", "confirmation": "Eigenes-Passwort-5" }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 204);
    assert_eq!(app.get("/v1/me", token).send().await.unwrap().status(), 200);
    assert_eq!(login("Eigenes-Passwort-5".to_owned()).await.0, 200);
    // Someone with the session and the password asks for a login email of theirs...
    let (_, etag) = app.read("/v1/me", token).await;
    let theirs = unique_email("not-jan");
    let asked = app
        .patch(
            "/v1/me",
            token,
            &etag,
            &json!({ "email": theirs, "password": "Eigenes-Passwort-5" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 202);

    let reset: Value = app
        .post(
            &format!("/v1/admin/users/{}/pin", user["id"].as_str().unwrap()),
            &admin,
            &json!({}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        app.get("/v1/me", token).send().await.unwrap().status(),
        401,
        "sessions end with a new PIN"
    );
    assert_eq!(login("Eigenes-Passwort-5".to_owned()).await.0, 401);
    // ...and the new PIN voids the link asked for under the old password.
    let (void, body) = app.confirm_email_change(&theirs).await;
    assert_eq!(void, 422, "{body}");
    let (status, session) = login(reset["pin"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, 200);
    assert_eq!(
        app.get("/v1/me", session["token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn deactivation_ends_sessions_at_once_and_reactivation_restores_login_but_not_them() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (id, email) = email_user(&app, &admin, "leaver", ("Lea", "Ver")).await;
    let id = id.as_str();
    let (_, session) = app
        .accept_invitation(&invite(&app, &admin, id, &email).await, "Leaving-soon-1")
        .await;
    let token = session["token"].as_str().unwrap();
    assert_eq!(app.get("/v1/me", token).send().await.unwrap().status(), 200);

    let deactivated = app.user_action(&admin, id, "deactivate").await;

    assert_eq!(
        deactivated.json::<Value>().await.unwrap()["status"],
        "deactivated"
    );
    assert_eq!(app.get("/v1/me", token).send().await.unwrap().status(), 401);
    let refused = app
        .http
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "email": email, "password": "Leaving-soon-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let invited = app
        .post(&format!("/v1/admin/users/{id}/invite"), &admin, &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(invited.status(), 422, "a link they could never accept");
    assert_eq!(codes(&invited.json().await.unwrap()), ["deactivated"]);
    let reactivated = app.user_action(&admin, id, "reactivate").await;
    // The answer's ETag is the user's new version: an edit sent with it is taken.
    let etag = reactivated.headers()["etag"].to_str().unwrap().to_owned();
    let edited = app
        .patch(
            &format!("/v1/admin/users/{id}"),
            &admin,
            &etag,
            &json!({ "department": "Back" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    let again = app.login(&email, "Leaving-soon-1").await;
    assert_eq!(
        app.get("/v1/me", &again).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        app.get("/v1/me", token).send().await.unwrap().status(),
        401,
        "a session from before the deactivation stays ended"
    );
}

#[tokio::test]
async fn an_admin_sends_a_person_a_handful_of_invitations_an_hour_and_the_last_still_works() {
    let clock = TestClock::default();
    clock.start_an_hour();
    let app = app_with_clock(&clock).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (id, email) = email_user(&app, &admin, "resent", ("Rhea", "Sent")).await;
    let quota = roster_domain::reset::INVITATION_EMAILS_PER_HOUR as usize;
    let mut last_link = String::new();
    for _ in 0..quota {
        last_link = invite(&app, &admin, &id, &email).await;
    }
    let refused = app.user_action(&admin, &id, "invite").await;
    assert_eq!(refused.status(), 422);
    assert_eq!(
        codes(&refused.json().await.unwrap()),
        ["too_many_invitations"]
    );
    assert_eq!(stack().await.emails_to(&email).await.len(), quota);
    let (status, _) = app.accept_invitation(&last_link, TEST_PASSWORD).await;
    assert_eq!(status, 200, "the refused resend left the last link working");

    clock.start_an_hour();
    invite(&app, &admin, &id, &email).await;
    assert_eq!(stack().await.emails_to(&email).await.len(), quota + 1);
}

#[tokio::test]
async fn a_person_deactivated_in_one_organisation_no_longer_lists_its_sessions_there() {
    let app = app_with_clock(&TestClock::default()).await;
    let (home, home_token) = organisation(&app, json!({})).await;
    let (other, admin) = organisation(&app, json!({})).await;
    let user = add_existing_person(&app, &admin, &home.admin_email).await;
    let id = user["id"].as_str().unwrap();
    let other_token = &app
        .login_in(&home.admin_email, TEST_PASSWORD, &other.id)
        .await;
    let listed_organisations = || async {
        let listed = app.json("/v1/me/sessions?limit=200", &home_token).await;
        let mut organisations: Vec<String> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["organisation_id"].as_str().unwrap().to_owned())
            .collect();
        organisations.sort();
        organisations
    };
    let mut both = vec![home.id.clone(), other.id.clone()];
    both.sort();
    assert_eq!(listed_organisations().await, both);

    let status = |action: &str| {
        app.post(
            &format!("/v1/admin/users/{id}/{action}"),
            &admin,
            &json!({}),
        )
        .send()
    };
    assert_eq!(status("deactivate").await.unwrap().status(), 200);
    assert_eq!(listed_organisations().await, std::slice::from_ref(&home.id));
    assert_eq!(status("reactivate").await.unwrap().status(), 200);
    assert_eq!(listed_organisations().await, std::slice::from_ref(&home.id));
    assert_eq!(
        app.get("/v1/me", other_token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // A session of another organisation moves in under the reactivated membership.
    let switch = format!("/v1/me/organisations/{}/switch", other.id);
    let switched = app.post(&switch, &home_token, &json!({})).send().await;
    assert_eq!(switched.unwrap().status(), 200);
    let (me, _) = app.read("/v1/me", &home_token).await;
    assert_eq!(me["organisation_id"], other.id);
}

#[tokio::test]
async fn admin_edits_need_if_match_and_never_change_a_username() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let user = create_user(
        &app,
        &admin,
        json!({ "first_name": "Jan", "last_name": "J", "username": "jj" }),
    )
    .await;
    let path = format!("/v1/admin/users/{}", user["id"].as_str().unwrap());
    let (_, etag) = app.read(&path, &admin).await;

    let renamed = app
        .patch(&path, &admin, &etag, &json!({ "username": "other" }))
        .send()
        .await
        .unwrap();
    assert_eq!(codes(&renamed.json().await.unwrap()), ["read_only"]);
    let manager = app
        .patch(&path, &admin, &etag, &json!({ "roles": ["manager"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(codes(&manager.json().await.unwrap()), ["email_required"]);
    let edited = app
        .patch(
            &path,
            &admin,
            &etag,
            &json!({ "department": "Housekeeping", "roles": ["operations"], "language": "fr" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!(
        edited["roles"],
        json!([{ "role": "operations", "sites": null }])
    );
    assert_eq!(edited["language"], "fr");
    assert_eq!(edited["managed_by"]["department"], "admin");
    let stale = app
        .patch(&path, &admin, &etag, &json!({ "department": "Front desk" }))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
}

#[tokio::test]
async fn an_admin_changing_a_persons_email_tells_the_old_address() {
    let stack = stack().await;
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (old, new) = (unique_email("old"), unique_email("new"));
    let user = create_user(
        &app,
        &admin,
        json!({ "first_name": "Jan", "last_name": "J", "email": old }),
    )
    .await;
    let path = format!("/v1/admin/users/{}", user["id"].as_str().unwrap());
    let (_, etag) = app.read(&path, &admin).await;
    let changed = app
        .patch(&path, &admin, &etag, &json!({ "email": new }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let told = stack.emails_to(&old).await;
    let told = told.last().expect("the old address is told");
    assert!(told["raw"].as_str().unwrap().contains(&new), "{told}");
}

#[tokio::test]
async fn an_admin_changing_only_the_letter_case_of_an_email_keeps_it_verified() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (_, other_admin) = organisation(&app, json!({})).await;
    let (id, email) = email_user(&app, &admin, "Case", ("Jan", "Jansen")).await;
    // Accepting the welcome link shows the address receives mail.
    app.invited_session(&admin, &id, &email).await;
    let path = format!("/v1/admin/users/{id}");
    let (_, etag) = app.read(&path, &admin).await;
    let shouted = email.to_uppercase();
    let changed = app
        .patch(&path, &admin, &etag, &json!({ "email": shouted }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_eq!(changed.json::<Value>().await.unwrap()["email"], shouted);
    // The same mailbox is still verified: another organisation adding it has the person join.
    let joined = create_user(
        &app,
        &other_admin,
        json!({ "first_name": "Jan", "last_name": "Jansen", "email": email }),
    )
    .await;
    assert_eq!(joined["invitation_status"], "confirmed");
}

#[tokio::test]
async fn a_rename_never_brings_a_deleted_site_back() {
    let stack = stack().await;
    let table = stack.table();
    let organisation = OrganisationId::generate();
    let site = roster_store::Site {
        id: "berlin".to_owned(),
        name: "Berlin".to_owned(),
        version: 1,
    };
    assert!(table.add_site(&organisation, &site).await.unwrap());
    assert!(
        !table.add_site(&organisation, &site).await.unwrap(),
        "created once"
    );
    table.delete_site(&organisation, "berlin").await.unwrap();
    // A rename that read the site before the delete lands after it: refused, nothing written.
    assert!(matches!(
        table.rename_site(&organisation, "berlin", 1, "Mitte").await,
        Err(roster_store::StoreError::NotFound)
    ));
    assert!(table.sites(&organisation).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_site_stored_before_versions_is_version_0_and_renames_from_there() {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let stack = stack().await;
    let table = stack.table();
    let organisation = OrganisationId::generate();
    let key = roster_store::keys::site(&organisation, "legacy");
    aws_sdk_dynamodb::Client::new(&stack.aws)
        .put_item()
        .table_name(&stack.config.table_name)
        .item("pk", S(key.pk))
        .item("sk", S(key.sk))
        .item("id", S("legacy".to_owned()))
        .item("name", S("Old".to_owned()))
        .send()
        .await
        .unwrap();
    let (sites, _) = table.sites_page(&organisation, 10, None).await.unwrap();
    assert_eq!(sites[0].version, 0);
    let renamed = table
        .rename_site(&organisation, "legacy", 0, "New")
        .await
        .unwrap();
    assert_eq!((renamed.name.as_str(), renamed.version), ("New", 1));
    assert!(matches!(
        table.rename_site(&organisation, "legacy", 0, "Lost").await,
        Err(roster_store::StoreError::Stale)
    ));
}

#[tokio::test]
async fn creating_renaming_and_deleting_a_site_are_audited_and_a_deleted_site_is_gone() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let site = app
        .post_json("/v1/admin/sites", &admin, &json!({ "name": "Berlin" }))
        .await;
    let path = format!("/v1/admin/sites/{}", site["id"].as_str().unwrap());
    let rename = |etag: &'static str, name: &'static str| {
        app.patch(&path, &admin, etag, &json!({ "name": name }))
            .send()
    };
    assert_eq!(site["version"], 1);
    assert_eq!(rename("\"1\"", "Berlin Mitte").await.unwrap().status(), 200);
    // Two admins renaming from the same read: the second is told, not silently overwritten.
    assert_eq!(rename("\"1\"", "Berlin Ost").await.unwrap().status(), 412);
    let unconditional = app
        .patch_json(&path, &admin, &json!({ "name": "Berlin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unconditional.status(), 428);
    let sites = app.json("/v1/admin/sites", &admin).await;
    assert_eq!(
        (&sites["items"][0]["name"], &sites["items"][0]["version"]),
        (&json!("Berlin Mitte"), &json!(2))
    );
    let deleted = app.delete(&path, &admin).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(rename("\"2\"", "Back again").await.unwrap().status(), 404);
    let again = app.delete(&path, &admin).send().await.unwrap();
    assert_eq!(again.status(), 404);

    let log = app.json("/v1/admin/audit?action=site.", &admin).await;
    let mut actions = roster_e2e::audit_actions(&log);
    actions.sort();
    assert_eq!(actions, ["site.created", "site.deleted", "site.renamed"]);

    let newest = app.json("/v1/admin/audit?limit=2", &admin).await;
    assert_eq!(
        roster_e2e::audit_actions(&newest),
        ["site.deleted", "site.renamed"]
    );
    let cursor = newest["next_cursor"].as_str().expect("more entries follow");
    let before = app
        .json(&format!("/v1/admin/audit?limit=1&cursor={cursor}"), &admin)
        .await;
    assert_eq!(roster_e2e::audit_actions(&before), ["site.created"]);
    let refused = app
        .get("/v1/admin/audit?limit=0", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert_eq!(codes(&refused.json().await.unwrap()), ["invalid_limit"]);
}

#[tokio::test]
async fn roles_are_scoped_to_sites_that_exist() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let site = app
        .post_json("/v1/admin/sites", &admin, &json!({ "name": "Berlin" }))
        .await;
    let berlin = site["id"].as_str().unwrap();

    let unknown = app
        .post("/v1/admin/users", &admin, &json!({ "first_name": "A", "last_name": "B", "email": unique_email("a"), "roles": [{ "role": "manager", "sites": ["nowhere"] }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(codes(&unknown.json().await.unwrap()), ["unknown_site"]);
    let scoped = create_user(
        &app,
        &admin,
        json!({ "first_name": "A", "last_name": "B", "email": unique_email("a"), "roles": [{ "role": "manager", "sites": [berlin] }], "sites": [berlin], "default_site": berlin }),
    )
    .await;
    assert_eq!(
        scoped["roles"],
        json!([{ "role": "manager", "sites": [berlin] }])
    );
    assert_eq!(scoped["default_site"], berlin);

    // Berlin closes: the people who had it can still be edited, but nobody is given it anew.
    let deleted = app
        .delete(&format!("/v1/admin/sites/{berlin}"), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let path = format!("/v1/admin/users/{}", scoped["id"].as_str().unwrap());
    let (_, etag) = app.read(&path, &admin).await;
    let renamed = app
        .patch(&path, &admin, &etag, &json!({ "first_name": "Ann" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200, "{}", renamed.text().await.unwrap());
    let (_, etag) = app.read(&path, &admin).await;
    let given = app
        .post("/v1/admin/users", &admin, &json!({ "first_name": "A", "last_name": "B", "email": unique_email("a"), "sites": [berlin] }))
        .send()
        .await
        .unwrap();
    assert_eq!(codes(&given.json().await.unwrap()), ["unknown_site"]);
    let added = app
        .patch(
            &path,
            &admin,
            &etag,
            &json!({ "sites": [berlin, "nowhere"] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(codes(&added.json().await.unwrap()), ["unknown_site"]);
}

/// Creates a SCIM group named `name` as the identity provider with SCIM token `token` would;
/// answers its id.
async fn scim_group(app: &TestApp, token: &str, name: &str) -> String {
    let group: Value = app
        .http
        .post(app.url("/scim/v2/Groups"))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": name
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    group["id"].as_str().unwrap().to_owned()
}

/// The DynamoDB calls `request` takes, after checking it answers `status`.
async fn calls_of(counter: &CallCounter, request: reqwest::RequestBuilder, status: u16) -> usize {
    counter.reset();
    let response = request.send().await.unwrap();
    let answered = response.status().as_u16();
    assert_eq!(answered, status, "{}", response.text().await.unwrap());
    counter.count()
}

/// The DynamoDB calls each request that checks sites takes in a new organisation holding
/// `others` sites besides the one the requests name: creating a user on it, creating one on an
/// unknown site, changing a user's sites, reading its day of reservations, the bookings feed
/// reporting a reservation there, and mapping a SCIM group to a role scoped to it.
async fn calls_checking_one_site(
    app: &TestApp,
    counter: &CallCounter,
    others: usize,
) -> Vec<usize> {
    let (organisation, admin) = organisation(app, json!({})).await;
    let site = app
        .post_json("/v1/admin/sites", &admin, &json!({ "name": "Berlin" }))
        .await;
    let berlin = site["id"].as_str().unwrap();
    let table = stack().await.table();
    let organisation_id = OrganisationId::try_from(organisation.id.as_str()).unwrap();
    futures::stream::iter(0..others)
        .for_each_concurrent(32, |i| {
            let (table, organisation_id) = (&table, &organisation_id);
            async move {
                let site = roster_store::Site {
                    id: format!("site-{i:05}-of-a-large-organisation"),
                    name: format!("Site number {i} of a large organisation"),
                    version: 0,
                };
                assert!(table.add_site(organisation_id, &site).await.unwrap());
            }
        })
        .await;
    let key = app
        .post_json("/v1/admin/api-keys", &admin, &json!({}))
        .await;
    let scim = app
        .post_json("/v1/admin/scim-tokens", &admin, &json!({}))
        .await;
    let group = scim_group(app, scim["token"].as_str().unwrap(), "Berlin managers").await;
    let user = app
        .post_json(
            "/v1/admin/users",
            &admin,
            &json!({ "first_name": "A", "last_name": "B", "email": unique_email("a"), "sites": [berlin] }),
        )
        .await;
    let path = format!("/v1/admin/users/{}", user["id"].as_str().unwrap());
    let (_, etag) = app.read(&path, &admin).await;

    let create = json!({ "first_name": "A", "last_name": "B", "email": unique_email("a"), "roles": [{ "role": "manager", "sites": [berlin] }], "sites": [berlin] });
    let unknown = json!({ "first_name": "A", "last_name": "B", "email": unique_email("a"), "sites": [berlin, "nowhere"] });
    let reservation = json!({
        "user_id": user["id"], "resource": { "type": "desk", "name": "Desk 1" },
        "site_id": berlin, "start": "2030-01-15T09:00:00Z", "end": "2030-01-15T17:00:00Z",
        "recurring": false
    });
    vec![
        calls_of(counter, app.post("/v1/admin/users", &admin, &create), 201).await,
        calls_of(counter, app.post("/v1/admin/users", &admin, &unknown), 422).await,
        calls_of(
            counter,
            app.patch(&path, &admin, &etag, &json!({ "default_site": berlin })),
            200,
        )
        .await,
        calls_of(
            counter,
            app.get(
                &format!("/v1/sites/{berlin}/reservations?date=2030-01-15"),
                &admin,
            ),
            200,
        )
        .await,
        calls_of(
            counter,
            app.http
                .post(app.url("/v1/reservations"))
                .header("x-api-key", key["key"].as_str().unwrap())
                .json(&reservation),
            201,
        )
        .await,
        calls_of(
            counter,
            app.http
                .put(app.url(&format!("/v1/admin/scim-groups/{group}/roles")))
                .bearer_auth(&admin)
                .json(&json!({ "roles": [{ "role": "manager", "sites": [berlin] }] })),
            200,
        )
        .await,
    ]
}

#[tokio::test]
async fn checking_the_sites_a_request_names_reads_those_sites_only() {
    let (app, counter) = counted_app().await;
    let small = calls_checking_one_site(&app, &counter, 0).await;
    let large = calls_checking_one_site(&app, &counter, 20_000).await;
    assert_eq!(
        large, small,
        "with 20,000 more sites, each request takes as many calls"
    );
}

#[tokio::test]
async fn organisation_settings_change_with_if_match() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let (settings, etag) = app.read("/v1/admin/organisation", &admin).await;
    assert_eq!(settings["settings"]["vehicles_enabled"], false);

    let patched = app
        .patch(
            "/v1/admin/organisation",
            &admin,
            &etag,
            &json!({ "settings": { "vehicles_enabled": true, "require_mfa": false } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(
        app.get("/v1/me/vehicles", &admin)
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "the new setting applies"
    );
    let stale = app
        .patch(
            "/v1/admin/organisation",
            &admin,
            &etag,
            &json!({ "name": "Renamed" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
}

#[tokio::test]
async fn a_settings_change_that_meets_a_transaction_on_the_organisation_goes_through() {
    // DynamoDB rejects a single-item write while a transaction (a SCIM group delete, say) is
    // writing the same item; nothing was written, so it is sent again rather than answered 503.
    let (app, conflicts) = roster_e2e::conflicting_app().await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let (_, etag) = app.read("/v1/admin/organisation", &admin).await;

    conflicts.arm(&format!("ORG#{}\"", organisation.id), 2);
    let patched = app
        .patch(
            "/v1/admin/organisation",
            &admin,
            &etag,
            &json!({ "name": "Renamed" }),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(
        (patched.status().as_u16(), conflicts.left()),
        (200, 0),
        "{}",
        patched.text().await.unwrap()
    );
    let (settings, _) = app.read("/v1/admin/organisation", &admin).await;
    assert_eq!(settings["name"], "Renamed");
}

/// A user with `role` (organisation-wide) who can log in, with their session token.
async fn user_with_role(app: &TestApp, admin: &str, role: &str) -> String {
    let email = unique_email(role);
    let user = create_user(
        app,
        admin,
        json!({ "first_name": "R", "last_name": role, "email": email, "roles": [role] }),
    )
    .await;
    let (status, session) = app
        .accept_invitation(
            &invite(app, admin, user["id"].as_str().unwrap(), &email).await,
            "Role-password-1",
        )
        .await;
    assert_eq!(status, 200);
    session["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn permission_matrix_of_roles_and_admin_endpoints() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let mut actors = vec![("admin", admin.clone())];
    for role in [
        "user_management",
        "manager",
        "billing",
        "operations",
        "reporting",
        "member",
    ] {
        actors.push((role, user_with_role(&app, &admin, role).await));
    }

    for (role, token) in &actors {
        let target = create_user(
            &app,
            &admin,
            json!({ "first_name": "T", "last_name": "Target", "email": unique_email("t") }),
        )
        .await;
        let id = target["id"].as_str().unwrap();
        let pin_user = create_user(
            &app,
            &admin,
            json!({ "first_name": "P", "last_name": "Pin", "username": format!("p{}", &id[..8]) }),
        )
        .await;
        let pin_id = pin_user["id"].as_str().unwrap();
        let (_, target_etag) = app.read(&format!("/v1/admin/users/{id}"), &admin).await;
        let (_, org_etag) = app.read("/v1/admin/organisation", &admin).await;
        let site: Value = app
            .post("/v1/admin/sites", &admin, &json!({ "name": "Nice" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let site = site["id"].as_str().unwrap();
        let administers = matches!(*role, "admin" | "user_management");
        let is_admin = *role == "admin";
        let expectations: Vec<(&str, reqwest::RequestBuilder, bool)> = vec![
            ("list users", app.get("/v1/admin/users", token), administers),
            ("create user", app.post("/v1/admin/users", token, &json!({ "first_name": "N", "last_name": "New", "email": unique_email("n") })), administers),
            ("grant user management", app.post("/v1/admin/users", token, &json!({ "first_name": "N", "last_name": "New", "email": unique_email("n"), "roles": ["user_management"] })), is_admin),
            ("read user", app.get(&format!("/v1/admin/users/{id}"), token), administers),
            ("edit user", app.patch(&format!("/v1/admin/users/{id}"), token, &target_etag, &json!({ "department": "X" })), administers),
            ("invite", app.post(&format!("/v1/admin/users/{id}/invite"), token, &json!({})), administers),
            ("unlock", app.post(&format!("/v1/admin/users/{id}/unlock"), token, &json!({})), administers),
            ("reset 2fa", app.post(&format!("/v1/admin/users/{id}/reset-mfa"), token, &json!({})), administers),
            ("send reset link", app.post(&format!("/v1/admin/users/{id}/password-reset"), token, &json!({})), administers),
            ("new pin", app.post(&format!("/v1/admin/users/{pin_id}/pin"), token, &json!({})), administers),
            ("deactivate", app.post(&format!("/v1/admin/users/{id}/deactivate"), token, &json!({})), administers),
            ("reactivate", app.post(&format!("/v1/admin/users/{id}/reactivate"), token, &json!({})), administers),
            ("read organisation", app.get("/v1/admin/organisation", token), administers),
            ("edit organisation", app.patch("/v1/admin/organisation", token, &org_etag, &json!({ "name": "Renamed" })), is_admin),
            ("list sites", app.get("/v1/admin/sites", token), administers),
            ("create site", app.post("/v1/admin/sites", token, &json!({ "name": "Paris" })), is_admin),
            ("rename site", app.patch(&format!("/v1/admin/sites/{site}"), token, "\"1\"", &json!({ "name": "Lyon" })), is_admin),
            ("read audit", app.get("/v1/admin/audit", token), administers),
            ("list api keys", app.get("/v1/admin/api-keys", token), is_admin),
            ("create api key", app.post("/v1/admin/api-keys", token, &json!({ "name": "feed" })), is_admin),
        ];
        for (action, request, allowed) in expectations {
            let status = request.send().await.unwrap().status().as_u16();
            if allowed {
                assert!(
                    (200..300).contains(&status),
                    "{role} may {action}, got {status}"
                );
            } else {
                assert_eq!(status, 403, "{role} may not {action}");
            }
        }
    }
}

#[tokio::test]
async fn a_user_list_of_ten_thousand_pages_through_everyone_exactly_once_with_one_call_a_page() {
    let stack = stack().await;
    let (app, counter) = counted_app().await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let table = stack.table();
    let org = Organisation::new(
        OrganisationId::try_from(organisation.id.as_str()).unwrap(),
        "Test Organisation".to_owned(),
        Default::default(),
    );
    let created: Vec<String> = futures::stream::iter(0..10_000)
        .map(|i| {
            let (table, org) = (&table, &org);
            async move {
                let account = Account::new(
                    Some(Email::try_from(format!("p{i}.{}@example.com", org.id).as_str()).unwrap()),
                    None,
                );
                let profile = Profile::named(
                    format!("First{i}"),
                    format!("Last{:05}", i),
                    account.email.clone(),
                );
                let member = Membership::joining(
                    org,
                    account.id.clone(),
                    profile,
                    None,
                    vec![RoleGrant::organisation_wide(Role::Member)],
                    InvitationStatus::NotInvited,
                );
                table.create_member(&member, &account, true).await.unwrap();
                member.id.to_string()
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/admin/users?limit=200&cursor={cursor}"),
            None => "/v1/admin/users?limit=200".to_owned(),
        };
        counter.reset();
        let page: Value = app
            .get(&path, &admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            counter.count() <= 4,
            "a page took {} DynamoDB calls",
            counter.count()
        );
        pages += 1;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_owned()),
        );
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }

    assert!(pages >= 50);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "nobody twice");
    assert_eq!(seen.len(), 10_001, "everyone, the admin included");
    assert!(created.iter().all(|id| unique.binary_search(id).is_ok()));
}

#[tokio::test]
async fn admin_actions_and_security_events_are_audited_newest_first_without_secrets() {
    let clock = TestClock::default();
    let app = app_with_clock(&clock).await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let (id, email) = email_user(&app, &admin, "audited", ("Au", "Dit")).await;
    let id = id.as_str();
    let token = invite(&app, &admin, id, &email).await;
    app.accept_invitation(&token, "Audited-password-1").await;
    app.http
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "email": email, "password": "Wrong-password-1" }))
        .send()
        .await
        .unwrap();
    app.user_action(&admin, id, "deactivate").await;

    let log = app.json("/v1/admin/audit", &admin).await;
    let actions = roster_e2e::audit_actions(&log);
    let position = |action: &str| {
        actions
            .iter()
            .position(|a| *a == action)
            .unwrap_or_else(|| panic!("{action} in {actions:?}"))
    };
    assert!(position("user.deactivated") < position("login.failed"));
    assert!(position("login.failed") < position("invitation.accepted"));
    assert!(position("invitation.accepted") < position("user.invited"));
    assert!(position("user.invited") < position("user.created"));
    let created = &log["items"][position("user.created")];
    assert_eq!(
        created["actor"],
        json!({ "kind": "user", "id": organisation.admin_id })
    );
    assert_eq!(created["target"], id);
    let dump = log.to_string();
    assert!(
        !dump.contains("Audited-password-1") && !dump.contains(&token),
        "no secrets in the log"
    );

    assert_eq!(
        actions.last(),
        Some(&"organisation.created"),
        "the organisation's first entry"
    );

    let users_only: Value = app
        .get(&format!("/v1/admin/audit?action=user.&target={id}"), &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        users_only["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"].as_str().unwrap().starts_with("user.") && e["target"] == id)
    );
}

#[tokio::test]
async fn an_audited_edit_names_the_fields_it_changed_and_a_login_email_move_is_audited() {
    let app = app_with_clock(&TestClock::default()).await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let (id, _) = email_user(&app, &admin, "edited", ("Ed", "Ited")).await;
    let path = format!("/v1/admin/users/{id}");
    let (user, etag) = app.read(&path, &admin).await;

    // The whole object sent back with one field changed.
    let mut body = json!({
        "first_name": user["first_name"], "last_name": user["last_name"], "department": "Sales",
    });
    body["roles"] = user["roles"].clone();
    let edited = app.patch(&path, &admin, &etag, &body).send().await.unwrap();
    assert_eq!(edited.status(), 200);
    let moved_to = unique_email("moved");
    let (_, etag) = app.read("/v1/me", &admin).await;
    let moved = app.ask_email_change(&admin, &etag, &moved_to).await;
    assert_eq!(moved.status(), 202);
    assert_eq!(app.confirm_email_change(&moved_to).await.0, 204);

    let log = app.json("/v1/admin/audit", &admin).await;
    let entry = |action: &str| {
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("{action} in {log}"))
            .clone()
    };
    assert_eq!(entry("user.updated")["changed"], json!(["department"]));
    let email_changed = entry("user.email_changed");
    assert_eq!(email_changed["target"], organisation.admin_id.as_str());
    assert_eq!(email_changed["changed"], json!(["email"]));
    assert!(
        !log.to_string().contains(&moved_to),
        "names only, no values"
    );
}

#[tokio::test]
async fn an_api_key_is_shown_once_listed_without_its_secret_and_revocable() {
    let stack = stack().await;
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;

    let created: Value = app
        .post(
            "/v1/admin/api-keys",
            &admin,
            &json!({ "name": "Bookings feed" }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, key) = (
        created["id"].as_str().unwrap(),
        created["key"].as_str().unwrap(),
    );
    let listed: Value = app
        .get("/v1/admin/api-keys", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["items"],
        json!([{ "id": id, "name": "Bookings feed", "created_at": created["created_at"] }])
    );
    let table = stack.table();
    let hash = roster_domain::session::secret_hash(key);
    assert!(
        table
            .api_key(&hash, roster_store::KeyKind::Integration)
            .await
            .unwrap()
            .is_some()
    );

    assert_eq!(
        app.delete(&format!("/v1/admin/api-keys/{id}"), &admin)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );

    assert!(
        table
            .api_key(&hash, roster_store::KeyKind::Integration)
            .await
            .unwrap()
            .is_none()
    );
    let listed: Value = app
        .get("/v1/admin/api-keys", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));

    // Every field is optional, so no body at all is a request too (201), for either kind; a
    // body that is not JSON still needs its content type.
    for path in ["/v1/admin/api-keys", "/v1/admin/scim-tokens"] {
        let bare = app.http.post(app.url(path)).bearer_auth(&admin);
        let created = bare.send().await.unwrap();
        assert_eq!(created.status(), 201, "{path}");
        let created: Value = created.json().await.unwrap();
        assert!(
            created["id"].is_string() && created["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{created}"
        );
        let text = app
            .http
            .post(app.url(path))
            .bearer_auth(&admin)
            .body("name=x");
        assert_eq!(text.send().await.unwrap().status(), 415, "{path}");
        let empty = app.http.post(app.url(path)).bearer_auth(&admin);
        let empty = empty.header("content-type", "application/json").body("");
        assert_eq!(empty.send().await.unwrap().status(), 201, "{path}");
    }
}

#[tokio::test]
async fn audit_entries_expire_after_the_organisations_retention() {
    let clock = TestClock::default();
    let app = app_with_clock(&clock).await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    app.change_settings(&admin, json!({ "audit_retention_days": 1 }))
        .await;
    create_user(
        &app,
        &admin,
        json!({ "first_name": "Short", "last_name": "Lived", "email": unique_email("s") }),
    )
    .await;
    let now: Value = app
        .get("/v1/admin/audit?action=user.", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["items"].as_array().unwrap().len(), 1);

    clock.advance(chrono::Duration::days(2));
    let admin = app.login(&organisation.admin_email, TEST_PASSWORD).await;
    let later: Value = app
        .get("/v1/admin/audit?action=user.", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(later["items"], json!([]));
}

#[tokio::test]
async fn only_the_platform_grants_admin_and_only_with_an_admins_approval_on_record() {
    let stack = stack().await;
    let app = app_with_clock(&TestClock::default()).await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let user = create_user(
        &app,
        &admin,
        json!({ "first_name": "Fu", "last_name": "Ture", "email": unique_email("future") }),
    )
    .await;
    let id = user["id"].as_str().unwrap();
    let (_, etag) = app.read(&format!("/v1/admin/users/{id}"), &admin).await;
    let by_admin = app
        .patch(
            &format!("/v1/admin/users/{id}"),
            &admin,
            &etag,
            &json!({ "roles": ["admin"] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        by_admin.status(),
        403,
        "an organisation's Admin cannot grant Admin"
    );
    let grant = |approved_by: &str| {
        app.http
            .post(app.url(&format!(
                "/v1/platform/organisations/{}/admins",
                organisation.id
            )))
            .bearer_auth(stack.platform_token())
            .json(&json!({ "user_id": id, "approved_by": approved_by }))
            .send()
    };

    let unapproved = grant(id).await.unwrap();
    assert_eq!(
        unapproved.status(),
        422,
        "the approval must come from an existing Admin"
    );
    let granted = grant(&organisation.admin_id).await.unwrap();
    assert_eq!(granted.status(), 200);

    let (read, _) = app.read(&format!("/v1/admin/users/{id}"), &admin).await;
    assert!(
        read["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["role"] == "admin")
    );
    let log: Value = app
        .get("/v1/admin/audit?action=user.admin_granted", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log["items"][0]["approved_by"], organisation.admin_id);
    assert_eq!(log["items"][0]["actor"], json!({ "kind": "platform" }));
}

#[tokio::test]
async fn an_address_named_from_a_session_is_not_taken_before_it_confirms() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, attacker) = organisation(&app, json!({})).await;
    let victim_email = unique_email("ceo");
    let (_, etag) = app.read("/v1/me", &attacker).await;
    let claimed = app.ask_email_change(&attacker, &etag, &victim_email).await;
    assert_eq!(
        claimed.status(),
        202,
        "the address waits for its link, which goes to the person it is about"
    );
    let (victim_org, admin) = organisation(&app, json!({})).await;

    let user = create_user(
        &app,
        &admin,
        json!({ "first_name": "C", "last_name": "Eo", "email": victim_email }),
    )
    .await;

    assert_eq!(user["invitation_status"], "not_invited");
    let login = app
        .http
        .post(app.url("/v1/auth/login"))
        .json(&json!({ "email": victim_email, "password": TEST_PASSWORD, "organisation": victim_org.id }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.status(),
        401,
        "no way into the organisation without its invitation"
    );
}

#[tokio::test]
async fn an_admin_sees_a_persons_vehicles_and_removing_one_frees_its_plate() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({ "vehicles_enabled": true })).await;
    let (id, email) = email_user(&app, &admin, "driver", ("Dri", "Ver")).await;
    let person = &app.invited_session(&admin, &id, &email).await;
    let plate = format!("CO {}", &id[..6]);
    let car = app
        .post_json(
            "/v1/me/vehicles",
            person,
            &json!({ "name": "Company car", "plate_number": plate }),
        )
        .await;

    let theirs = format!("/v1/admin/users/{id}/vehicles");
    let listed = app.json(&theirs, &admin).await;
    assert_eq!(listed["items"], json!([car]));
    assert_eq!(
        app.get(&theirs, person).send().await.unwrap().status(),
        403,
        "a Member manages nobody"
    );

    let car_path = format!("{theirs}/{}", car["id"].as_str().unwrap());
    assert_eq!(
        app.delete(&car_path, &admin).send().await.unwrap().status(),
        204
    );
    assert_eq!(
        app.delete(&car_path, &admin).send().await.unwrap().status(),
        404
    );
    assert_eq!(
        app.json("/v1/me/vehicles", person).await["items"],
        json!([])
    );
    let passed_on = app
        .post(
            "/v1/me/vehicles",
            &admin,
            &json!({ "name": "Company car", "plate_number": plate }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(passed_on.status(), 201, "the plate is free again");
    let log = app.json("/v1/admin/audit", &admin).await;
    assert!(
        roster_e2e::audit_actions(&log).contains(&"user.vehicle_removed"),
        "{log}"
    );
}

#[tokio::test]
async fn user_management_of_a_site_lists_and_deactivates_only_its_people_and_reads_no_audit_log() {
    let app = app_with_clock(&TestClock::default()).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let site = |name: &'static str| {
        let app = &app;
        let admin = &admin;
        async move {
            app.post_json("/v1/admin/sites", admin, &json!({ "name": name }))
                .await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (berlin, paris) = (site("Berlin").await, site("Paris").await);
    let person = |last_name: &'static str, site: &str| json!({ "first_name": "P", "last_name": last_name, "email": unique_email(last_name), "sites": [site] });
    create_user(&app, &admin, person("Berliner", &berlin)).await;
    create_user(&app, &admin, person("Parisienne", &paris)).await;
    let email = unique_email("scoped");
    let manager = create_user(
        &app,
        &admin,
        json!({ "first_name": "S", "last_name": "Scoped", "email": email, "sites": [berlin],
                "roles": [{ "role": "user_management", "sites": [berlin] }] }),
    )
    .await;
    let (status, session) = app
        .accept_invitation(
            &invite(&app, &admin, manager["id"].as_str().unwrap(), &email).await,
            "Role-password-1",
        )
        .await;
    assert_eq!(status, 200);
    let scoped = session["token"].as_str().unwrap();

    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["last_name"].as_str().unwrap().to_owned())
            .collect()
    };
    let everyone = names(&app.json("/v1/admin/users", &admin).await);
    assert!(everyone.contains(&"Parisienne".to_owned()), "{everyone:?}");
    let theirs = names(&app.json("/v1/admin/users", scoped).await);
    // Not Paris's people, nor those who administer (themselves included): as `GET` answers.
    assert_eq!(theirs, ["Berliner"]);
    let by_site = app
        .json(&format!("/v1/admin/users?site={paris}"), scoped)
        .await;
    assert_eq!(by_site["items"], json!([]));
    let audit = app.get("/v1/admin/audit", scoped).send().await.unwrap();
    assert_eq!(audit.status(), 403);
    // What they create is a Member of their sites, `roles: null` (a form's empty field) as
    // much as no `roles` at all (null was 403 for a Member of every site).
    for roles in [None, Some(Value::Null)] {
        let mut newcomer = person("Newcomer", &berlin);
        if let Some(roles) = roles {
            newcomer["roles"] = roles;
        }
        let created = create_user(&app, scoped, newcomer).await;
        assert_eq!(
            created["roles"],
            json!([{ "role": "member", "sites": [berlin] }])
        );
    }

    // Deactivating takes away every role: a Berliner who manages on every site is not theirs
    // to deactivate (was 200), as that role is not theirs to take away.
    let mut everywhere = person("Everywhere", &berlin);
    everywhere["roles"] = json!(["member", "manager"]);
    let everywhere = create_user(&app, &admin, everywhere).await;
    let refused = app
        .user_action(scoped, everywhere["id"].as_str().unwrap(), "deactivate")
        .await;
    assert_eq!(refused.status(), 403);
    // Nor are their credentials, which carry that role (each was 2xx, so the account and its
    // role could be taken: a login email moved to the actor's mailbox, 2FA removed, a reset).
    // A username user who is Billing everywhere gets no PIN from them either.
    let path = format!("/v1/admin/users/{}", everywhere["id"].as_str().unwrap());
    let (_, etag) = app.read(&path, scoped).await;
    let mut billing = json!({ "first_name": "P", "last_name": "Billing", "username": "billing", "sites": [berlin], "roles": ["billing"] });
    billing = create_user(&app, &admin, billing).await;
    let billing = billing["id"].as_str().unwrap();
    credentials_refused(&app, scoped, (&path, &etag), billing, "roles_beyond_yours").await;
    let berliner = &app.json("/v1/admin/users", scoped).await["items"][0];
    let reset = app
        .post(
            &format!(
                "/v1/admin/users/{}/password-reset",
                berliner["id"].as_str().unwrap()
            ),
            scoped,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 202, "a Member of their site is theirs");
    let deactivated = app
        .user_action(scoped, berliner["id"].as_str().unwrap(), "deactivate")
        .await;
    assert_eq!(deactivated.status(), 200);

    // A Member of Berlin and Paris is theirs to edit, but not their credentials (each was 2xx,
    // and the account books in Paris): a login email moved, 2FA removed, a reset link, a PIN.
    let commuter = create_user(&app, &admin, json!({ "first_name": "P", "last_name": "Commuter", "email": unique_email("commuter"), "sites": [berlin, paris] })).await;
    let path = format!("/v1/admin/users/{}", commuter["id"].as_str().unwrap());
    let (_, etag) = app.read(&path, scoped).await;
    let renamed = app
        .patch(&path, scoped, &etag, &json!({ "department": "Courier" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let (_, etag) = app.read(&path, scoped).await;
    let walker = create_user(&app, &admin, json!({ "first_name": "P", "last_name": "Walker", "username": "walker", "sites": [berlin, paris] })).await;
    let walker = walker["id"].as_str().unwrap();
    credentials_refused(&app, scoped, (&path, &etag), walker, "sites_beyond_yours").await;
}

/// Asserts that `token` is refused (403 `code`) each credential action: on the user at `path`
/// read at `etag`, a login email move, a 2FA reset, a reset link and an unlock; on the username
/// user `pin_user`, a PIN.
async fn credentials_refused(
    app: &TestApp,
    token: &str,
    (path, etag): (&str, &str),
    pin_user: &str,
    code: &str,
) {
    let attempts = [
        app.patch(path, token, etag, &json!({ "email": unique_email("mine") })),
        app.post(&format!("{path}/reset-mfa"), token, &json!({})),
        app.post(&format!("{path}/password-reset"), token, &json!({})),
        app.post(&format!("{path}/unlock"), token, &json!({})),
        app.post(
            &format!("/v1/admin/users/{pin_user}/pin"),
            token,
            &json!({}),
        ),
    ];
    for attempt in attempts {
        let refused = attempt.send().await.unwrap();
        assert_eq!(refused.status(), 403);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["code"], code, "{problem}");
    }
}

#[tokio::test]
async fn user_management_cannot_touch_an_admin() {
    let app = app_with_clock(&TestClock::default()).await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let manager = user_with_role(&app, &admin, "user_management").await;
    let path = format!("/v1/admin/users/{}", organisation.admin_id);
    let (_, etag) = app.read(&path, &admin).await;

    let attempts = [
        app.patch(
            &path,
            &manager,
            &etag,
            &json!({ "email": unique_email("mine") }),
        ),
        app.post(&format!("{path}/deactivate"), &manager, &json!({})),
        app.post(&format!("{path}/reset-mfa"), &manager, &json!({})),
        app.post(&format!("{path}/password-reset"), &manager, &json!({})),
        app.post(&format!("{path}/unlock"), &manager, &json!({})),
    ];
    for attempt in attempts {
        assert_eq!(attempt.send().await.unwrap().status(), 403);
    }
}

#[tokio::test]
async fn account_wide_resets_of_a_shared_person_are_the_platforms_not_an_admins() {
    let stack = stack().await;
    let app = app_with_clock(&TestClock::default()).await;
    let (elsewhere, theirs) = organisation(&app, json!({})).await;
    app.enrol_totp(&theirs).await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let shared = add_existing_person(&app, &admin, &elsewhere.admin_email).await;
    let id = shared["id"].as_str().unwrap();

    for action in ["reset-mfa", "unlock"] {
        let response = app
            .post(
                &format!("/v1/admin/users/{id}/{action}"),
                &admin,
                &json!({}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{action}");
        assert_eq!(codes(&response.json().await.unwrap()), ["shared_account"]);
    }

    // The person lost their phone and codes: the platform operator removes their 2FA, naming
    // the user in an organisation of theirs (and nobody else's).
    let platform_reset = |organisation: &str, token: &str| {
        app.http
            .post(app.url(&format!(
                "/v1/platform/organisations/{organisation}/users/{id}/reset-mfa"
            )))
            .bearer_auth(token)
            .send()
    };
    let platform = stack.platform_token();
    let status = |response: reqwest::Response| response.status().as_u16();
    assert_eq!(
        status(
            platform_reset(&organisation.id, "not-the-token")
                .await
                .unwrap()
        ),
        401
    );
    assert_eq!(
        status(platform_reset(&elsewhere.id, platform).await.unwrap()),
        404,
        "the user id is of the other organisation"
    );
    assert_eq!(
        status(platform_reset(&organisation.id, platform).await.unwrap()),
        204
    );
    assert_eq!(
        app.get("/v1/me", &theirs).send().await.unwrap().status(),
        401,
        "their sessions ended"
    );
    let login: Value = app
        .login_response(&elsewhere.admin_email, TEST_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        login["token"].is_string(),
        "no second factor asked: {login}"
    );
    let subject = render(&Notice::MfaReset, Language::En, "Ada").subject;
    let told = stack.emails_to(&elsewhere.admin_email).await;
    assert!(
        told.iter().any(|m| m["subject"] == subject.as_str()),
        "they are told"
    );
    let log = app
        .json("/v1/admin/audit?action=user.mfa_reset", &admin)
        .await;
    assert_eq!(log["items"][0]["actor"], json!({ "kind": "platform" }));
    assert_eq!(log["items"][0]["target"], id);
}

#[tokio::test]
async fn switching_into_an_organisation_that_requires_2fa_limits_the_session_to_enrolment() {
    let stack = stack().await;
    let app = app_with_clock(&TestClock::default()).await;
    let (first, token) = organisation(&app, json!({})).await;
    let strict: Value = app
        .post(
            "/v1/platform/organisations",
            stack.platform_token(),
            &json!({ "name": "Strict", "settings": { "require_mfa": true }, "admin": { "first_name": "Ada", "last_name": "Lovelace", "email": first.admin_email } }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let strict_id = strict["organisation"]["id"].as_str().unwrap();
    assert_eq!(
        app.get("/v1/me", &token).send().await.unwrap().status(),
        200
    );

    app.post(
        &format!("/v1/me/organisations/{strict_id}/switch"),
        &token,
        &json!({}),
    )
    .send()
    .await
    .unwrap();

    let blocked = app.get("/v1/me", &token).send().await.unwrap();
    assert_eq!(blocked.status(), 403);
    assert_eq!(
        blocked.json::<Value>().await.unwrap()["code"],
        "mfa_enrolment_required"
    );
}

/// The ids of every item of the list at `path`, read two at a time through its cursors.
async fn paged_ids(app: &TestApp, path: &str, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            None => format!("{path}?limit=2"),
            Some(cursor) => format!("{path}?limit=2&cursor={cursor}"),
        };
        let page = app.json(&url, token).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{url}: {page}");
        ids.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn every_list_of_an_organisation_pages_by_cursor() {
    let app = app_with_clock(&TestClock::default()).await;
    let (organisation, admin) = organisation(&app, json!({})).await;
    let mut created: Vec<(&str, Vec<String>)> = Vec::new();
    let mut scim_token = String::new();
    for (path, body) in [
        ("/v1/admin/sites", json!({ "name": "Site" })),
        ("/v1/admin/api-keys", json!({})),
        ("/v1/admin/scim-tokens", json!({})),
    ] {
        let mut ids = Vec::new();
        for _ in 0..3 {
            let answer = app.post_json(path, &admin, &body).await;
            ids.push(answer["id"].as_str().unwrap().to_owned());
            if let Some(token) = answer["token"].as_str() {
                scim_token = token.to_owned();
            }
        }
        created.push((path, ids));
    }
    let mut groups = Vec::new();
    for name in ["Facilities", "Finance", "Front desk"] {
        groups.push(scim_group(&app, &scim_token, name).await);
    }
    created.push(("/v1/admin/scim-groups", groups));
    for (path, mut expected) in created {
        let mut paged = paged_ids(&app, path, &admin).await;
        paged.sort();
        expected.sort();
        assert_eq!(paged, expected, "{path}");
        let whole = app.json(&format!("{path}?limit=3"), &admin).await;
        assert_eq!(whole["items"].as_array().unwrap().len(), 3, "{path}");
        assert_eq!(
            whole["next_cursor"],
            Value::Null,
            "{path}: the page that ends the list"
        );
    }

    // The organisation's one user fills a page of one, which ends the list.
    let users = app.json("/v1/admin/users?limit=1", &admin).await;
    assert_eq!(users["items"].as_array().unwrap().len(), 1);
    assert_eq!(users["next_cursor"], Value::Null, "{users}");

    // A name search's cursor goes on only under its own prefix (DynamoDB refuses a start key
    // outside the key condition: a 503 for the client's mistake).
    for last_name in ["Smiley", "Smith"] {
        create_user(
            &app,
            &admin,
            json!({ "first_name": "S", "last_name": last_name, "email": unique_email("s") }),
        )
        .await;
    }
    let smi = app.json("/v1/admin/users?q=smi&limit=1", &admin).await;
    let cursor = smi["next_cursor"].as_str().expect("Smith follows");
    let next = app
        .json(
            &format!("/v1/admin/users?q=smi&limit=1&cursor={cursor}"),
            &admin,
        )
        .await;
    assert_eq!(next["items"][0]["last_name"], "Smith");
    let elsewhere = app
        .get(&format!("/v1/admin/users?q=smit&cursor={cursor}"), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 422);
    assert_eq!(codes(&elsewhere.json().await.unwrap()), ["invalid_cursor"]);
    // A cursor is sealed: it names no one, and one changed in transit is refused.
    let first = app.json("/v1/admin/users?limit=1", &admin).await;
    let cursor = first["next_cursor"].as_str().expect("more than one user");
    let listed = &first["items"][0];
    for shown in [&listed["id"], &listed["first_name"]] {
        let shown = shown.as_str().unwrap();
        assert!(
            !roster_e2e::cursor_shows(cursor, shown),
            "{shown} in {cursor}"
        );
    }
    let mut altered = cursor.to_owned();
    let swapped = if cursor.as_bytes()[10] == b'A' {
        "B"
    } else {
        "A"
    };
    altered.replace_range(10..11, swapped);
    let forged = app
        .get(&format!("/v1/admin/users?cursor={altered}"), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 422);
    assert_eq!(codes(&forged.json().await.unwrap()), ["invalid_cursor"]);
    // A prefix longer than any name is refused, not sent to DynamoDB (which refuses a sort key
    // value over 1,024 bytes: 503).
    let overlong = app
        .get(&format!("/v1/admin/users?q={}", "s".repeat(1_100)), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(overlong.status(), 422);
    assert_eq!(codes(&overlong.json().await.unwrap()), ["too_long"]);
    let longest = app
        .json(&format!("/v1/admin/users?q={}", "s".repeat(100)), &admin)
        .await;
    assert_eq!(longest["items"], json!([]));
    // A filter value that names no status or role is refused, not answered with nobody.
    for (filter, code) in [
        ("status=Active", "invalid_status"),
        ("role=Admin", "unknown_role"),
    ] {
        let misspelt = app
            .get(&format!("/v1/admin/users?{filter}"), &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(misspelt.status(), 422, "{filter}");
        assert_eq!(codes(&misspelt.json().await.unwrap()), [code], "{filter}");
    }
    let deactivated = app
        .json("/v1/admin/users?status=deactivated&role=member", &admin)
        .await;
    assert!(deactivated["items"].is_array());

    // The person's sessions: the admin's first one and two more logins.
    let mut tokens = vec![admin.clone()];
    for _ in 0..2 {
        tokens.push(app.login(&organisation.admin_email, TEST_PASSWORD).await);
    }
    let sessions = paged_ids(&app, "/v1/me/sessions", &admin).await;
    assert_eq!(sessions.len(), 3, "each once: {sessions:?}");
    let whole = app.json("/v1/me/sessions?limit=3", &admin).await;
    assert_eq!(whole["next_cursor"], Value::Null, "{whole}");
    // The sessions' cursor shows neither the session nor a key (which holds a token's hash).
    let first = app.json("/v1/me/sessions?limit=1", &admin).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    assert!(!roster_e2e::cursor_shows(
        cursor,
        first["items"][0]["id"].as_str().unwrap()
    ));
    for token in &tokens {
        let hash = roster_domain::session::secret_hash(token);
        assert!(!roster_e2e::cursor_shows(cursor, &hash));
    }

    // A cursor belongs to its own list.
    let sites = app.json("/v1/admin/sites?limit=1", &admin).await;
    let cursor = sites["next_cursor"].as_str().unwrap();
    let refused = app
        .get(&format!("/v1/admin/api-keys?cursor={cursor}"), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
}
