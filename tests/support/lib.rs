//! What the end-to-end tests share: the local stack's settings (from the environment `make test`
//! sets), an app served on an ephemeral port, the sample events, and a private DynamoDB Local.

use std::{
    path::PathBuf,
    process::Child,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use aws_config::SdkConfig;
use roster_local::{
    Clients, Functions, LocalConfig,
    dev::local_router,
    provision::{PushApplications, create_table, push_applications},
    template::Template,
};
use roster_store::CallCounter;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

mod conflicts;
mod hooks;
pub use conflicts::TransactionConflicts;
pub use hooks::BeforeWrite;

/// The repository's root folder: of the checkout the tests run in (cargo and nextest set
/// `CARGO_MANIFEST_DIR` when they run a test), not of the one a shared build cache compiled them in.
pub fn repo_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("..")
}

/// The local stack `make test` started and provisioned.
pub struct Stack {
    pub aws: SdkConfig,
    pub config: LocalConfig,
    pub push: PushApplications,
}

static STACK: OnceCell<Stack> = OnceCell::const_new();

pub async fn stack() -> &'static Stack {
    STACK
        .get_or_init(|| async {
            let mut config = LocalConfig::from_env().unwrap_or_else(|error| {
                panic!("{error}: the end-to-end tests run against the local stack; run them with `make test`")
            });
            config.template = repo_root().join("infra/template.yaml");
            // No test depends on the internet: the range API is a closed local port unless a test
            // serves one (`spawn_range_api`).
            config.breached_range_url = Some("http://127.0.0.1:9/range/".to_owned());
            let aws = roster_bootstrap::aws_config().await;
            let push = push_applications(&aws_sdk_sns::Client::new(&aws))
                .await
                .expect("the stack's SNS platform applications");
            Stack { aws, config, push }
        })
        .await
}

impl Stack {
    pub fn template(&self) -> Template {
        Template::load(&self.config.template, &self.config.stack_name)
            .expect("infra/template.yaml loads")
    }

    pub fn clients(&self) -> Clients {
        roster_local::clients(&self.aws)
    }

    /// The stack's table through the store, for what a test reads or writes beside the API.
    pub fn table(&self) -> roster_store::DynamoTable {
        roster_store::DynamoTable::new(
            aws_sdk_dynamodb::Client::new(&self.aws),
            &self.config.table_name,
        )
    }

    pub fn functions(&self) -> Functions {
        self.functions_with(&self.clients(), profile_api::system_clock())
    }

    pub fn functions_with(&self, clients: &Clients, clock: profile_api::Clock) -> Functions {
        Functions::new(clients, &self.config, &self.push, clock)
    }

    /// The functions with SES and SNS unreachable (a closed port), as in an outage.
    pub fn functions_without_ses_and_sns(&self, clock: profile_api::Clock) -> Functions {
        let mut down = self.clients();
        let closed_port = "http://127.0.0.1:9";
        down.ses = aws_sdk_sesv2::Client::from_conf(
            aws_sdk_sesv2::config::Builder::from(&self.aws)
                .endpoint_url(closed_port)
                .build(),
        );
        down.sns = aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::config::Builder::from(&self.aws)
                .endpoint_url(closed_port)
                .build(),
        );
        self.functions_with(&down, clock)
    }

    /// The functions with the stack's configuration changed by `change`.
    pub fn functions_configured(
        &self,
        clock: profile_api::Clock,
        change: impl FnOnce(&mut LocalConfig),
    ) -> Functions {
        let mut config = self.config.clone();
        change(&mut config);
        Functions::new(&self.clients(), &config, &self.push, clock)
    }

    /// The emails SES received for `to`, oldest first.
    pub async fn emails_to(&self, to: &str) -> Vec<Value> {
        let outbox: Vec<Value> = reqwest::get(self.outbox_url())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        outbox
            .into_iter()
            .filter(|m| {
                m["to"].as_array().is_some_and(|r| {
                    r.iter()
                        .any(|a| a.as_str().is_some_and(|a| a.eq_ignore_ascii_case(to)))
                })
            })
            .collect()
    }

    /// Clients whose DynamoDB requests `counter` counts.
    pub fn counted_clients(&self, counter: &CallCounter) -> Clients {
        let mut clients = self.clients();
        let config = counter
            .attach(aws_sdk_dynamodb::config::Builder::from(&self.aws))
            .build();
        clients.dynamodb = aws_sdk_dynamodb::Client::from_conf(config);
        clients
    }

    /// The clients, with every DynamoDB call passing `interceptor`.
    pub fn intercepted_clients(
        &self,
        interceptor: impl aws_sdk_dynamodb::config::Intercept + 'static,
    ) -> Clients {
        let mut clients = self.clients();
        let config = aws_sdk_dynamodb::config::Builder::from(&self.aws)
            .interceptor(interceptor)
            .build();
        clients.dynamodb = aws_sdk_dynamodb::Client::from_conf(config);
        clients
    }

    pub fn platform_token(&self) -> &str {
        self.config
            .platform_token
            .as_deref()
            .expect("ROSTER_PLATFORM_TOKEN is set by make test")
    }

    /// The URL of moto's email outbox.
    pub fn outbox_url(&self) -> String {
        moto_view("outbox")
    }

    /// The messages SNS published to the phone endpoint `arn`, oldest first.
    pub async fn phone_messages(&self, arn: &str) -> Vec<String> {
        let published: std::collections::HashMap<String, Vec<String>> =
            reqwest::get(moto_view("sns"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        published.get(arn).cloned().unwrap_or_default()
    }
}

/// The local server (HTTP API and invoke route) of `functions` on an ephemeral loopback port.
#[derive(Clone)]
pub struct TestApp {
    pub base_url: String,
    pub http: reqwest::Client,
}

/// An app on the shared stack whose DynamoDB calls the returned counter counts.
pub async fn counted_app() -> (TestApp, CallCounter) {
    let stack = stack().await;
    let counter = CallCounter::default();
    let functions = stack.functions_with(
        &stack.counted_clients(&counter),
        profile_api::system_clock(),
    );
    (spawn_app(&functions).await, counter)
}

/// An app whose DynamoDB transactions meet the conflicts the answered `TransactionConflicts`
/// is armed with.
pub async fn conflicting_app() -> (TestApp, TransactionConflicts) {
    let conflicts = TransactionConflicts::default();
    (intercepted_app(conflicts.clone()).await, conflicts)
}

/// An app whose next DynamoDB write naming a text waits for the request the answered
/// `BeforeWrite` is armed with. Its tests run on a multi-threaded runtime.
pub async fn hooked_app() -> (TestApp, BeforeWrite) {
    let hook = BeforeWrite::default();
    (intercepted_app(hook.clone()).await, hook)
}

/// An app whose DynamoDB calls pass `interceptor`.
async fn intercepted_app(
    interceptor: impl aws_sdk_dynamodb::config::Intercept + 'static,
) -> TestApp {
    let stack = stack().await;
    let functions = stack.functions_with(
        &stack.intercepted_clients(interceptor),
        profile_api::system_clock(),
    );
    spawn_app(&functions).await
}

pub async fn spawn_app(functions: &Functions) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let base_url = format!("http://{}", listener.local_addr().expect("local address"));
    let router = local_router(functions);
    tokio::spawn(async move { axum::serve(listener, router).await });
    TestApp {
        base_url,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client"),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn get(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(token)
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(token).json(body)
    }

    pub fn patch(
        &self,
        path: &str,
        token: &str,
        etag: &str,
        body: &Value,
    ) -> reqwest::RequestBuilder {
        self.http
            .patch(self.url(path))
            .bearer_auth(token)
            .header("if-match", etag)
            .json(body)
    }

    /// A PATCH without `If-Match` (refused with 428 where a version is kept).
    pub fn patch_json(&self, path: &str, token: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
    }

    pub fn delete(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.delete(self.url(path)).bearer_auth(token)
    }

    /// Creates an organisation through the platform endpoint with `settings`; its admin has a
    /// unique email and a password.
    pub async fn create_organisation(
        &self,
        platform_token: &str,
        settings: Value,
    ) -> TestOrganisation {
        let admin_email = unique_email("admin");
        let response = self
            .http
            .post(self.url("/v1/platform/organisations"))
            .bearer_auth(platform_token)
            .json(&json!({
                "name": "Test Organisation",
                "settings": settings,
                "admin": { "first_name": "Ada", "last_name": "Lovelace", "email": admin_email, "password": TEST_PASSWORD }
            }))
            .send()
            .await
            .unwrap();
        let body = created(response).await;
        TestOrganisation {
            id: body["organisation"]["id"].as_str().unwrap().to_owned(),
            admin_id: body["admin"]["id"].as_str().unwrap().to_owned(),
            admin_email,
        }
    }

    /// The answer to a login by email, whatever its status.
    pub async fn login_response(&self, email: &str, password: &str) -> reqwest::Response {
        self.http
            .post(self.url("/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// The status a login with email and password is answered with.
    pub async fn login_status(&self, email: &str, password: &str) -> u16 {
        self.login_response(email, password).await.status().as_u16()
    }

    /// `times` logins with email and password, each refused (401): failures a lockout counts.
    pub async fn refused_logins(&self, email: &str, password: &str, times: usize) {
        for _ in 0..times {
            assert_eq!(self.login_status(email, password).await, 401);
        }
    }

    /// Logs in with email and password; panics unless it succeeds.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let response = self.login_response(email, password).await;
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
        response.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Logs in with email and password into `organisation`; panics unless it succeeds.
    pub async fn login_in(&self, email: &str, password: &str, organisation: &str) -> String {
        let login = json!({ "email": email, "password": password, "organisation": organisation });
        let response = self
            .http
            .post(self.url("/v1/auth/login"))
            .json(&login)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// POST `body` and answer the response's JSON body, whatever its status.
    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Value {
        self.post(path, token, body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Starts a TOTP enrolment for the session's person (whose password is `TEST_PASSWORD`);
    /// answers the secret to confirm.
    pub async fn start_totp(&self, token: &str) -> Vec<u8> {
        let started = self
            .post(
                "/v1/me/mfa/totp",
                token,
                &json!({ "password": TEST_PASSWORD }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 201);
        let enrolment: Value = started.json().await.unwrap();
        totp_rs::Secret::Encoded(enrolment["secret"].as_str().unwrap().to_owned())
            .to_bytes()
            .unwrap()
    }

    /// Enrols TOTP for the session's person (whose password is `TEST_PASSWORD`); answers the
    /// secret and the recovery codes.
    pub async fn enrol_totp(&self, token: &str) -> (Vec<u8>, Vec<String>) {
        let secret = self.start_totp(token).await;
        let now = chrono::Utc::now().timestamp() as u64;
        let code = roster_domain::totp::code_at(&secret, now, 6);
        let confirmed = self
            .post("/v1/me/mfa/totp/confirm", token, &json!({ "code": code }))
            .send()
            .await
            .unwrap();
        assert_eq!(confirmed.status(), 200);
        let codes: Vec<String> = serde_json::from_value(
            confirmed.json::<Value>().await.unwrap()["recovery_codes"].clone(),
        )
        .unwrap();
        (secret, codes)
    }

    /// POST an admin action on user `id` (`deactivate`, `reactivate`, `invite`, ...) with an
    /// empty body.
    pub async fn user_action(&self, admin: &str, id: &str, action: &str) -> reqwest::Response {
        self.post(&format!("/v1/admin/users/{id}/{action}"), admin, &json!({}))
            .send()
            .await
            .unwrap()
    }

    /// A session of the organisation's user `id` (email `email`): `admin` invites them, they
    /// accept with `TEST_PASSWORD`.
    pub async fn invited_session(&self, admin: &str, id: &str, email: &str) -> String {
        let invited = self.user_action(admin, id, "invite").await;
        assert_eq!(invited.status(), 202);
        let mail = stack().await.emails_to(email).await;
        let link = link_token(mail.last().unwrap()["raw"].as_str().unwrap());
        let (_, accepted) = self.accept_invitation(&link, TEST_PASSWORD).await;
        accepted["token"].as_str().unwrap().to_owned()
    }

    /// Accepts the invitation `link` (its token) with `password`: the status and the body.
    pub async fn accept_invitation(&self, link: &str, password: &str) -> (u16, Value) {
        let response = self
            .http
            .post(self.url("/v1/auth/invitations/accept"))
            .json(&json!({ "token": link, "password": password }))
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// `PATCH /v1/me` on profile version `etag`, asking to move the login of `token`'s person to
    /// `email` (with `TEST_PASSWORD`): the response.
    pub async fn ask_email_change(
        &self,
        token: &str,
        etag: &str,
        email: &str,
    ) -> reqwest::Response {
        self.patch(
            "/v1/me",
            token,
            etag,
            &json!({ "email": email, "password": TEST_PASSWORD }),
        )
        .send()
        .await
        .unwrap()
    }

    /// Follows the link of the newest email to `address`, the confirmation of a new login email:
    /// the status and the body.
    pub async fn confirm_email_change(&self, address: &str) -> (u16, Value) {
        let mail = stack().await.emails_to(address).await;
        let link = link_token(
            mail.last().expect("a confirmation email")["raw"]
                .as_str()
                .unwrap(),
        );
        self.confirm_email_link(&link).await
    }

    /// Follows the email-change link `link` (its token): the status and the body.
    pub async fn confirm_email_link(&self, link: &str) -> (u16, Value) {
        let response = self
            .http
            .post(self.url("/v1/auth/email-change/confirm"))
            .json(&json!({ "token": link }))
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    /// GET a resource that must answer 200: its JSON body.
    pub async fn json(&self, path: &str, token: &str) -> Value {
        let response = self.get(path, token).send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// GET a resource: its JSON body and ETag.
    pub async fn read(&self, path: &str, token: &str) -> (Value, String) {
        let response = self.get(path, token).send().await.unwrap();
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        (response.json().await.unwrap(), etag)
    }

    /// Changes the admin's organisation's `settings` (a partial object) at its current version.
    pub async fn change_settings(&self, admin: &str, settings: Value) {
        let (_, etag) = self.read("/v1/admin/organisation", admin).await;
        let changed = self
            .patch(
                "/v1/admin/organisation",
                admin,
                &etag,
                &serde_json::json!({ "settings": settings }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            changed.status(),
            200,
            "{}",
            changed.text().await.unwrap_or_default()
        );
    }
}

/// A clock tests move forward.
#[derive(Clone, Default)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn clock(&self) -> profile_api::Clock {
        let offset = self.0.clone();
        Arc::new(move || {
            chrono::Utc::now() + chrono::Duration::seconds(offset.load(Ordering::SeqCst))
        })
    }

    /// What the clock shows now.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        (self.clock())()
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.0.fetch_add(by.num_seconds(), Ordering::SeqCst);
    }

    /// Moves the clock to half a minute into the next clock hour, so what a test does next in a
    /// few seconds stays within one hour (counts kept per hour).
    pub fn start_an_hour(&self) {
        use chrono::Timelike;
        let into_hour = i64::from(self.now().minute() * 60 + self.now().second());
        self.advance(chrono::Duration::seconds(3600 - into_hour + 30));
    }
}

/// A local server that speaks the Pwned Passwords range API, listing `breached` (with padding),
/// and remembers every prefix it was asked for.
pub struct RangeApi {
    pub url: String,
    pub asked: Arc<std::sync::Mutex<Vec<String>>>,
    next_asked: Arc<std::sync::Mutex<Option<futures::future::BoxFuture<'static, ()>>>>,
}

impl RangeApi {
    /// Runs `action` when the API is next asked, before it answers: a test's way to change
    /// something while a request is in the middle of its password check.
    pub fn when_next_asked(&self, action: impl Future<Output = ()> + Send + 'static) {
        *self.next_asked.lock().unwrap() = Some(Box::pin(action));
    }

    /// An app whose breached-password checks ask this API.
    pub async fn app(&self) -> TestApp {
        let functions =
            stack()
                .await
                .functions_configured(TestClock::default().clock(), |config| {
                    config.breached_range_url = Some(self.url.clone());
                });
        spawn_app(&functions).await
    }
}

/// A server that takes every connection and never answers (a service that hangs), until it is
/// stopped or dropped, which drops the connections it held.
pub struct SilentServer {
    pub origin: String,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl SilentServer {
    /// How many connections it has taken.
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub async fn spawn_silent_server() -> SilentServer {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", silent.local_addr().unwrap());
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = connections.clone();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = silent.accept().await {
            held.push(connection);
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    SilentServer {
        origin,
        connections,
        task,
    }
}

pub async fn spawn_range_api(breached: &[&str]) -> RangeApi {
    let hashes: Vec<(String, String)> = breached
        .iter()
        .map(|p| roster_domain::breached::range_query(p))
        .collect();
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let next_asked = Arc::new(std::sync::Mutex::new(None));
    let (seen, action) = (asked.clone(), next_asked.clone());
    let router = axum::Router::new().route(
        "/range/{prefix}",
        axum::routing::get(
            move |axum::extract::Path(prefix): axum::extract::Path<String>| {
                let hashes = hashes.clone();
                seen.lock().unwrap().push(prefix.clone());
                let action = action.lock().unwrap().take();
                async move {
                    if let Some(action) = action {
                        action.await;
                    }
                    let mut lines: Vec<String> = hashes
                        .iter()
                        .filter(|(p, _)| *p == prefix)
                        .map(|(_, suffix)| format!("{suffix}:42"))
                        .collect();
                    lines.push("0000000000000000000000000000000000A:0".to_owned());
                    lines.join("\r\n")
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/range/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    RangeApi {
        url,
        asked,
        next_asked,
    }
}

/// The token of the link in an email's raw MIME (`...?token=<token>`).
pub fn link_token(raw: &str) -> String {
    let start = raw
        .find("token=")
        .expect("the email holds a link with a token")
        + "token=".len();
    raw[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// An app on `clock` whose breached-password range API is unreachable (the local list decides).
pub async fn app_with_clock(clock: &TestClock) -> TestApp {
    let functions = stack().await.functions_configured(clock.clock(), |config| {
        config.breached_range_url = Some("http://127.0.0.1:9/range/".to_owned());
    });
    spawn_app(&functions).await
}

/// `POST /v1/admin/users` with `body` as `token`'s caller, which must answer 201: the user.
pub async fn create_user(app: &TestApp, token: &str, body: Value) -> Value {
    created(
        app.post("/v1/admin/users", token, &body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The JSON body of `response`, which must be 201 Created (its body shown if not).
async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, 201, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// An organisation with `settings` created through the platform endpoint, and its admin's session.
pub async fn organisation(app: &TestApp, settings: Value) -> (TestOrganisation, String) {
    let organisation = app
        .create_organisation(stack().await.platform_token(), settings)
        .await;
    let token = app.login(&organisation.admin_email, TEST_PASSWORD).await;
    (organisation, token)
}

/// The `(field, code)` pairs of a problem's `errors`.
pub fn problem_errors(problem: &Value) -> Vec<(String, String)> {
    field_codes(&problem["errors"])
}

/// The `(field, code)` pairs of a list of `{field, code, ...}` errors (none when absent).
pub fn field_codes(errors: &Value) -> Vec<(String, String)> {
    errors
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap().to_owned(),
                        e["code"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The password every test admin gets.
pub const TEST_PASSWORD: &str = "Correct-horse-7";

pub struct TestOrganisation {
    pub id: String,
    pub admin_id: String,
    pub admin_email: String,
}

/// An email address no other test uses.
pub fn unique_email(who: &str) -> String {
    format!(
        "{who}.{}@example.com",
        roster_domain::ids::UserId::generate()
    )
}

/// Whether a list's `next_cursor` shows `text` (ignoring case), as written or decoded from the
/// base64 a cursor could be.
pub fn cursor_shows(cursor: &str, text: &str) -> bool {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let decoded = URL_SAFE_NO_PAD.decode(cursor).unwrap_or_default();
    let text = text.to_lowercase();
    [
        cursor.to_owned(),
        String::from_utf8_lossy(&decoded).into_owned(),
    ]
    .iter()
    .any(|shown| shown.to_lowercase().contains(&text))
}

/// A sample Lambda event from `events/`.
pub fn sample_event(name: &str) -> Value {
    let path = repo_root().join("events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One of the views `scripts/moto_server.py` adds to moto (`/_roster/{name}`).
fn moto_view(name: &str) -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL is set by make test");
    format!("{}/_roster/{name}", endpoint.trim_end_matches('/'))
}

/// A DynamoDB Local of the test's own (the JVM from `make test`'s tools), for tests that stop it.
/// In memory, or kept in files so that it can be stopped and started again with its data, as a
/// real outage and recovery would look to the service. Killed when dropped.
pub struct PrivateDynamoDb {
    process: Option<Child>,
    port: u16,
    /// The database's folder when it persists.
    files: Option<tempfile::TempDir>,
    pub endpoint: String,
}

impl PrivateDynamoDb {
    /// An in-memory instance.
    pub async fn start() -> Self {
        Self::launch(None).await
    }

    /// An instance that keeps its data in files, across `stop` and `restart`.
    pub async fn start_persistent() -> Self {
        Self::launch(Some(tempfile::tempdir().expect("a temporary folder"))).await
    }

    async fn launch(files: Option<tempfile::TempDir>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut instance = Self {
            process: None,
            port,
            files,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        instance.restart().await;
        instance
    }

    /// Starts the instance (again) on its port, and waits until it takes connections.
    pub async fn restart(&mut self) {
        let dir = std::env::var("ROSTER_DYNAMODB_LOCAL_DIR")
            .expect("ROSTER_DYNAMODB_LOCAL_DIR is set by make test");
        let mut command = std::process::Command::new("java");
        command.current_dir(&dir).args([
            "-Djava.library.path=./DynamoDBLocal_lib",
            "-jar",
            "DynamoDBLocal.jar",
        ]);
        match &self.files {
            Some(files) => command.arg("-sharedDb").arg("-dbPath").arg(files.path()),
            None => command.arg("-inMemory"),
        };
        let process = command
            .arg("-port")
            .arg(self.port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("java runs DynamoDB Local");
        self.process = Some(process);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "DynamoDB Local did not start on port {}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The stack's clients with DynamoDB on this instance, after creating the table on it.
    pub async fn clients(&self, stack: &Stack) -> Clients {
        let mut clients = stack.clients();
        clients.dynamodb = self.client(&stack.aws);
        create_table(
            &clients.dynamodb,
            &stack.config.table_name,
            &stack.template().table,
        )
        .await
        .expect("the table on the private DynamoDB Local");
        clients
    }

    /// A DynamoDB client of this instance (an explicit endpoint outranks the environment's).
    pub fn client(&self, base: &SdkConfig) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::config::Builder::from(base)
            .endpoint_url(&self.endpoint)
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    /// Stops the instance as a service stop would (SIGTERM, so that a persistent one closes its
    /// files: killed outright, DynamoDB Local loses writes it had acknowledged).
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            let terminated = std::process::Command::new("kill")
                .arg(process.id().to_string())
                .status()
                .is_ok_and(|status| status.success());
            if !terminated {
                let _ = process.kill();
            }
            let _ = process.wait();
        }
    }
}

impl Drop for PrivateDynamoDb {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A browser's push service (RFC 8030) on a loopback port, for the Web Push tests. It hands out
/// subscriptions, and takes a message for one only when the request is VAPID-signed for this
/// service (RFC 8292) and its body decrypts with the subscription's keys (RFC 8291, decrypted by
/// an implementation independent of Roster's); any other message is answered 400 and recorded
/// as a failure.
#[derive(Clone)]
pub struct PushService {
    origin: String,
    state: Arc<std::sync::Mutex<PushServiceState>>,
}

#[derive(Default)]
struct PushServiceState {
    /// By the last path segment of the endpoint.
    subscriptions: std::collections::HashMap<String, PushSubscription>,
    failures: Vec<String>,
}

struct PushSubscription {
    private_key: web_push_native::p256::SecretKey,
    auth: web_push_native::Auth,
    gone: bool,
    received: Vec<Value>,
}

pub async fn spawn_push_service() -> PushService {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service = PushService {
        origin: format!("http://{}", listener.local_addr().unwrap()),
        state: Arc::default(),
    };
    let router = axum::Router::new()
        .route("/push/{id}", axum::routing::post(receive_push))
        .with_state(service.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    service
}

impl PushService {
    /// A new subscription as a browser's `PushManager.subscribe` gives it: `(endpoint, p256dh,
    /// auth)`, the keys in URL-safe base64 without padding.
    pub fn subscribe(&self) -> (String, String, String) {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        use web_push_native::p256::elliptic_curve::{
            rand_core::{OsRng, RngCore},
            sec1::ToEncodedPoint,
        };

        let private_key = web_push_native::p256::SecretKey::random(&mut OsRng);
        let mut auth = web_push_native::Auth::default();
        OsRng.fill_bytes(&mut auth);
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let id = URL_SAFE_NO_PAD.encode(id);
        let subscription = (
            format!("{}/push/{id}", self.origin),
            URL_SAFE_NO_PAD.encode(private_key.public_key().to_encoded_point(false).as_bytes()),
            URL_SAFE_NO_PAD.encode(auth),
        );
        self.state.lock().unwrap().subscriptions.insert(
            id,
            PushSubscription {
                private_key,
                auth,
                gone: false,
                received: Vec::new(),
            },
        );
        subscription
    }

    /// From now on `endpoint` answers 410 Gone, as when the browser dropped the subscription.
    pub fn gone(&self, endpoint: &str) {
        self.with_subscription(endpoint, |subscription| subscription.gone = true);
    }

    /// The messages `endpoint` accepted, decrypted, oldest first.
    pub fn received(&self, endpoint: &str) -> Vec<Value> {
        self.with_subscription(endpoint, |subscription| subscription.received.clone())
    }

    /// Why each refused message was refused, oldest first.
    pub fn failures(&self) -> Vec<String> {
        self.state.lock().unwrap().failures.clone()
    }

    fn with_subscription<T>(
        &self,
        endpoint: &str,
        f: impl FnOnce(&mut PushSubscription) -> T,
    ) -> T {
        let id = endpoint.rsplit('/').next().unwrap_or_default();
        let mut state = self.state.lock().unwrap();
        let subscription = state
            .subscriptions
            .get_mut(id)
            .unwrap_or_else(|| panic!("{endpoint} is not a subscription of this push service"));
        f(subscription)
    }

    /// RFC 8292: `Authorization: vapid t=<JWT>, k=<public key>`, the JWT signed with ES256 by
    /// that key, for this service's origin, expiring within 24 hours, naming a contact.
    fn verify_vapid(&self, headers: &http::HeaderMap) -> Result<(), String> {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        use p256::ecdsa::{Signature, VerifyingKey, signature::Verifier};

        let parameters = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("vapid "))
            .ok_or("no vapid Authorization")?;
        let parameter = |name: &str| {
            parameters
                .split(',')
                .filter_map(|p| p.trim().split_once('='))
                .find_map(|(key, value)| (key == name).then_some(value))
        };
        let (token, key) = parameter("t")
            .zip(parameter("k"))
            .ok_or("vapid needs t= and k=")?;
        let key = URL_SAFE_NO_PAD
            .decode(key)
            .ok()
            .and_then(|key| VerifyingKey::from_sec1_bytes(&key).ok())
            .ok_or("k= is not a P-256 public key")?;
        let (signed, signature) = token.rsplit_once('.').ok_or("t= is not a JWT")?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .and_then(|signature| Signature::from_slice(&signature).ok())
            .ok_or("the JWT signature is not ES256")?;
        key.verify(signed.as_bytes(), &signature)
            .map_err(|_| "the JWT signature does not verify with k=")?;
        let json = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        };
        let (header, claims) = signed
            .split_once('.')
            .and_then(|(header, claims)| json(header).zip(json(claims)))
            .ok_or("t= is not a JWT")?;
        if header["alg"] != "ES256" {
            return Err(format!("the JWT is signed with {}", header["alg"]));
        }
        if claims["aud"] != self.origin.as_str() {
            return Err(format!("aud is {}, not {}", claims["aud"], self.origin));
        }
        let now = chrono::Utc::now().timestamp();
        if !claims["exp"]
            .as_i64()
            .is_some_and(|exp| exp > now && exp <= now + 24 * 60 * 60)
        {
            return Err(format!("exp {} is not within 24 hours", claims["exp"]));
        }
        let subject = claims["sub"].as_str().unwrap_or_default();
        if !(subject.starts_with("mailto:") || subject.starts_with("https:")) {
            return Err(format!("sub {} is not a contact", claims["sub"]));
        }
        Ok(())
    }
}

/// `POST /push/{id}`: 201 for a message taken, 404 for no such subscription, 410 for one gone,
/// 400 (recorded as a failure) for anything else.
async fn receive_push(
    axum::extract::State(service): axum::extract::State<PushService>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: http::HeaderMap,
    body: axum::body::Bytes,
) -> http::StatusCode {
    let checked = service.verify_vapid(&headers).and_then(|()| {
        let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
        match (header("ttl"), header("content-encoding")) {
            (Some(ttl), Some("aes128gcm")) if ttl.parse::<u32>().is_ok() => Ok(()),
            _ => Err("a push needs a TTL and Content-Encoding: aes128gcm".to_owned()),
        }
    });
    let mut state = service.state.lock().unwrap();
    let PushServiceState {
        subscriptions,
        failures,
    } = &mut *state;
    let Some(subscription) = subscriptions.get_mut(&id) else {
        return http::StatusCode::NOT_FOUND;
    };
    if subscription.gone {
        return http::StatusCode::GONE;
    }
    let message = checked.and_then(|()| {
        let plaintext =
            web_push_native::decrypt(body.to_vec(), &subscription.private_key, &subscription.auth)
                .map_err(|error| format!("the body does not decrypt: {error}"))?;
        serde_json::from_slice::<Value>(&plaintext)
            .map_err(|error| format!("the message is not JSON: {error}"))
    });
    match message {
        Ok(message) => {
            subscription.received.push(message);
            http::StatusCode::CREATED
        }
        Err(failure) => {
            failures.push(failure);
            http::StatusCode::BAD_REQUEST
        }
    }
}

/// The actions of an audit log page, in its order.
pub fn audit_actions(log: &Value) -> Vec<&str> {
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

/// Log lines written in the test's thread (the app runs there: a current-thread runtime).
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl CapturedLogs {
    /// Captures the thread's INFO and above in the functions' JSON format until the guard drops.
    pub fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let guard = tracing::subscriber::set_default(roster_bootstrap::json_logs(
            tracing_subscriber::EnvFilter::new("info"),
            logs.clone(),
        ));
        (logs, guard)
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}
