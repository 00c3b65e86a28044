//! The SCIM peer: 2,000 users provisioned as Entra ID provisions them, each created
//! (`POST /Users`) and then each changed by a PATCH in Entra ID's `Operations` form, through
//! Roster's SCIM function and through scim2-server (PyPI), by the same client. One request at a
//! time, alternating between the two servers (who goes first alternates too), so whatever else
//! the machine does falls on both alike. DESIGN.md sets no budget for it: the rows inform.
//!
//! Roster's side is the SCIM router behind the bench's local HTTP API, over DynamoDB Local; the
//! peer keeps its users in memory, in its own process.

use std::{
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use reqwest::Method;
use roster_domain::{ids::UserId, session::new_secret};
use serde_json::{Value, json};

use roster_store::CallCounter;

use crate::{Row, Samples, create_organisation, import::BenchError, login};

/// Users provisioned into each server.
const USERS: usize = 2_000;
const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The given name every PATCH sets.
const PATCHED_GIVEN_NAME: &str = "Augusta";

/// A new SCIM bearer token of the organisation whose admin holds `admin_session`.
pub async fn mint_token(
    http: &reqwest::Client,
    base: &str,
    admin_session: &str,
) -> Result<String, BenchError> {
    let minted: Value = http
        .post(format!("{base}/v1/admin/scim-tokens"))
        .bearer_auth(admin_session)
        .json(&json!({ "name": "Bench" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    minted["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no SCIM token minted: {minted}").into())
}

/// A SCIM service provider: its base URL (up to `/v2`) and a bearer token it accepts.
struct Provider {
    base: String,
    token: String,
}

impl Provider {
    /// Sends one request and reads the whole answer; fails unless its status is one of
    /// `expected`. Answers the body (`null` when empty) and the milliseconds from sending to the
    /// last byte.
    async fn send(
        &self,
        http: &reqwest::Client,
        method: Method,
        path: &str,
        body: Option<&Value>,
        expected: &[u16],
    ) -> Result<(Value, f64), BenchError> {
        let mut request = http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/scim+json")
                .body(body.to_string());
        }
        let start = Instant::now();
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        if !expected.contains(&status) {
            return Err(format!("{method} {}{path}: {status} {text}", self.base).into());
        }
        Ok((serde_json::from_str(&text).unwrap_or(Value::Null), ms))
    }
}

/// User `index` of the run `marker`, with the attributes Entra ID sends by default.
fn entra_user(marker: &str, index: usize) -> Value {
    let user_name = format!("scim{index}.{marker}@example.com");
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER],
        "externalId": format!("E-{marker}-{index}"),
        "userName": user_name,
        "active": true,
        "displayName": format!("Ada Lovelace {index}"),
        "emails": [{ "primary": true, "type": "work", "value": user_name }],
        "name": { "formatted": format!("Ada Lovelace {index}"), "familyName": "Lovelace", "givenName": "Ada" },
        "title": "Engineer",
        ENTERPRISE_USER: { "department": "Research", "employeeNumber": index.to_string() }
    })
}

fn patched_display_name(index: usize) -> String {
    format!("Augusta Ada King {index}")
}

/// Entra ID's change of user `index`: replaces of its display name, given name and title.
fn entra_patch(index: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            { "op": "Replace", "path": "displayName", "value": patched_display_name(index) },
            { "op": "Replace", "path": "name.givenName", "value": PATCHED_GIVEN_NAME },
            { "op": "Replace", "path": "title", "value": "Principal Engineer" }
        ]
    })
}

/// Starts `scim2-server` on a free loopback port, its resources in memory, and waits until it
/// answers. The process ends when the returned child is dropped.
async fn start_scim2_server(
    program: &Path,
    http: &reqwest::Client,
) -> Result<(tokio::process::Child, Provider), BenchError> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let provider = Provider {
        base: format!("http://127.0.0.1:{port}/v2"),
        token: new_secret(),
    };
    let mut child = tokio::process::Command::new(program)
        .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
        .args(["--bearer-token", &provider.token])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| format!("starting {}: {error}", program.display()))?;
    let start = Instant::now();
    while provider
        .send(http, Method::GET, "/ServiceProviderConfig", None, &[200])
        .await
        .is_err()
    {
        if let Some(status) = child.try_wait()? {
            return Err(format!("scim2-server stopped: {status}").into());
        }
        if start.elapsed() > Duration::from_secs(30) {
            return Err("scim2-server did not answer in 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((child, provider))
}

/// Request times of one server.
#[derive(Default)]
struct Timings {
    creates: Vec<f64>,
    patches: Vec<f64>,
}

impl Timings {
    fn total_seconds(&self) -> f64 {
        self.creates.iter().chain(&self.patches).sum::<f64>() / 1000.0
    }
}

pub async fn against_scim2_server(
    http: &reqwest::Client,
    base: &str,
    platform_token: &str,
    scim2_server: &Path,
    counter: &CallCounter,
) -> Result<Vec<Row>, BenchError> {
    // An organisation of its own, so the 2,000 people change no other section's numbers.
    let (_, admin_email) = create_organisation(http, base, platform_token, json!({})).await?;
    let admin_session = login(http, base, &admin_email).await?;
    let roster = Provider {
        base: format!("{base}/scim/v2"),
        token: mint_token(http, base, &admin_session).await?,
    };
    let (_peer_process, peer) = start_scim2_server(scim2_server, http).await?;
    let providers = [&roster, &peer];
    let marker = UserId::generate().to_string();

    // Each user's id on either side.
    let mut ids: Vec<[String; 2]> = Vec::with_capacity(USERS);
    let mut timings: [Timings; 2] = Default::default();
    let turns = |index: usize| {
        if index.is_multiple_of(2) {
            [0, 1]
        } else {
            [1, 0]
        }
    };
    for index in 0..USERS {
        let user = entra_user(&marker, index);
        let mut created_ids: [String; 2] = Default::default();
        for side in turns(index) {
            let (created, ms) = providers[side]
                .send(http, Method::POST, "/Users", Some(&user), &[201])
                .await?;
            created_ids[side] = created["id"]
                .as_str()
                .ok_or_else(|| format!("a created user without id: {created}"))?
                .to_owned();
            timings[side].creates.push(ms);
        }
        ids.push(created_ids);
    }
    for (index, user_ids) in ids.iter().enumerate() {
        let patch = entra_patch(index);
        for side in turns(index) {
            let path = format!("/Users/{}", user_ids[side]);
            // Roster answers the changed user (200), scim2-server nothing (204); both may.
            let (_, ms) = providers[side]
                .send(http, Method::PATCH, &path, Some(&patch), &[200, 204])
                .await?;
            timings[side].patches.push(ms);
        }
    }
    // Both applied the changes: the last user reads back as PATCHed on each side.
    let last_ids = ids.last().ok_or("no user provisioned")?;
    for (provider, id) in providers.iter().zip(last_ids) {
        let (user, _) = provider
            .send(http, Method::GET, &format!("/Users/{id}"), None, &[200])
            .await?;
        if user["displayName"] != patched_display_name(USERS - 1)
            || user["name"]["givenName"] != PATCHED_GIVEN_NAME
        {
            return Err(format!("the PATCH did not apply on {}: {user}", provider.base).into());
        }
    }

    // DynamoDB round trips of one SCIM GET of a user (DESIGN.md: at most 2).
    counter.reset();
    roster
        .send(
            http,
            Method::GET,
            &format!("/Users/{}", last_ids[0]),
            None,
            &[200],
        )
        .await?;
    let get_calls = counter.count();
    let get_calls_row = Row::budgeted(
        "SCIM GET /Users/{id} DynamoDB calls",
        get_calls.to_string(),
        "2".to_owned(),
        get_calls as f64 / 2.0,
        1.0,
        1,
    );

    let [roster, peer] = timings;
    let mut rows = vec![Row::peer(
        "SCIM: 2,000 users POSTed then PATCHed vs scim2-server",
        format!("{:.1} s", roster.total_seconds()),
        format!("{:.1} s", peer.total_seconds()),
        roster.total_seconds() / peer.total_seconds(),
        2 * USERS,
    )];
    for (what, ours, theirs) in [
        (
            "SCIM POST /Users (median) vs scim2-server",
            roster.creates,
            peer.creates,
        ),
        (
            "SCIM PATCH /Users/{id} (median) vs scim2-server",
            roster.patches,
            peer.patches,
        ),
    ] {
        let (ours, theirs) = (Samples::of(ours), Samples::of(theirs));
        rows.push(
            Row::peer(
                what,
                format!("{:.2} ms", ours.median()),
                format!("{:.2} ms", theirs.median()),
                ours.median() / theirs.median(),
                ours.0.len(),
            )
            .timed(&ours, Some(&theirs)),
        );
    }
    rows.push(get_calls_row);
    Ok(rows)
}
