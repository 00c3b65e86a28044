//! `make bench`: each budget of DESIGN.md section 7 that Roster can measure today, against a limit
//! measured in the same run on the same machine, as a ratio. Prints a table and writes it as JSON
//! to `target/bench/latest.json`. Runs against the local stack `scripts/bench.sh` starts.

mod cold;
mod hashing;
mod import;
mod load;
mod reminders;
mod scim;

use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use roster_domain::{credentials::hash_password, session::secret_hash};
use roster_local::{LocalConfig, dev::local_router, provision::push_applications};
use roster_store::CallCounter;
use serde_json::{Value, json};

use crate::import::BenchError;

const PASSWORD: &str = "Bench-password-42";
/// Untimed logins before the timed ones. A freshly started DynamoDB Local answers its first
/// thousand or so calls slower while its JVM compiles them (same code: 1.84 a hash on a fresh JVM,
/// 1.35 on the next run; 1.54 after 300 untimed logins, 1.33 after 660): that is the emulator
/// warming up, not Roster's overhead.
const LOGIN_WARM_UP: usize = 1000;

/// Sorted samples in milliseconds.
struct Samples(Vec<f64>);

impl Samples {
    fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        Self(values)
    }

    fn quantile(&self, q: f64) -> f64 {
        let index = ((self.0.len() as f64 - 1.0) * q).round() as usize;
        self.0[index]
    }

    fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    fn p99(&self) -> f64 {
        self.quantile(0.99)
    }
}

async fn time<F: std::future::Future>(future: F) -> (F::Output, f64) {
    let start = Instant::now();
    let output = future.await;
    (output, start.elapsed().as_secs_f64() * 1000.0)
}

/// One line of the table: a measured figure beside the limit it is held to, taken in the same run.
struct Row {
    budget: String,
    measured: String,
    limit: String,
    /// Measured against limit, where the two compare (a binary's size has nothing to compare to).
    ratio: Option<f64>,
    /// DESIGN.md's budget for `ratio`. `None`: no budget, the row informs (a peer comparison, a
    /// binary's size) and neither passes nor fails.
    max_ratio: Option<f64>,
    samples: usize,
    /// Median and p99 (ms) of the measured samples and of the limit's, where they were timed.
    spread: Option<(Spread, Option<Spread>)>,
}

/// A timed row's median and p99, in milliseconds.
#[derive(Clone, Copy)]
struct Spread {
    median: f64,
    p99: f64,
}

impl From<&Samples> for Spread {
    fn from(samples: &Samples) -> Self {
        Self {
            median: samples.median(),
            p99: samples.p99(),
        }
    }
}

impl Row {
    /// A row held to DESIGN.md's budget `max_ratio`.
    fn budgeted(
        budget: impl Into<String>,
        measured: String,
        limit: String,
        ratio: f64,
        max_ratio: f64,
        samples: usize,
    ) -> Self {
        Self {
            max_ratio: Some(max_ratio),
            ..Self::peer(budget, measured, limit, ratio, samples)
        }
    }

    /// A comparison with a peer, for information: DESIGN.md sets it no budget.
    fn peer(
        budget: impl Into<String>,
        measured: String,
        limit: String,
        ratio: f64,
        samples: usize,
    ) -> Self {
        Self {
            budget: budget.into(),
            measured,
            limit,
            ratio: Some(ratio),
            max_ratio: None,
            samples,
            spread: None,
        }
    }

    /// The row with the median and p99 of its timed samples, and of its limit's if it was timed.
    fn timed(self, measured: &Samples, limit: Option<&Samples>) -> Self {
        Self {
            spread: Some((measured.into(), limit.map(Spread::from))),
            ..self
        }
    }

    /// `median / p99` of the measurement, then of the limit, for the table.
    fn spread_text(&self) -> String {
        let text = |spread: &Spread| format!("{:.1} / {:.1}", spread.median, spread.p99);
        match &self.spread {
            None => "-".to_owned(),
            Some((measured, None)) => text(measured),
            Some((measured, Some(limit))) => format!("{} vs {}", text(measured), text(limit)),
        }
    }

    /// `None` for a row without budget.
    fn passes(&self) -> Option<bool> {
        Some(self.ratio? <= self.max_ratio?)
    }
}

/// The peak resident set (`VmHWM`, kB) of process `pid` so far (`"self"` for this one).
fn peak_rss_kb(pid: &str) -> Result<u64, BenchError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .ok_or_else(|| format!("no VmHWM in /proc/{pid}/status").into())
}

/// A new organisation with `settings` through the platform API: its id and its admin's email
/// (password `PASSWORD`).
async fn create_organisation(
    http: &reqwest::Client,
    base: &str,
    platform_token: &str,
    settings: Value,
) -> Result<(String, String), BenchError> {
    let admin_email = format!(
        "bench.{}@example.com",
        roster_domain::ids::UserId::generate()
    );
    let created: Value = http
        .post(format!("{base}/v1/platform/organisations"))
        .bearer_auth(platform_token)
        .json(&json!({ "name": "Bench", "settings": settings, "admin": { "first_name": "Ben", "last_name": "Ch", "email": admin_email, "password": PASSWORD } }))
        .send()
        .await?
        .json()
        .await?;
    let organisation = created["organisation"]["id"]
        .as_str()
        .ok_or_else(|| format!("organisation not created: {created}"))?
        .to_owned();
    Ok((organisation, admin_email))
}

/// What a login cannot do without, done by a bare SDK client: read the email's sentinel
/// (consistently), hash on tokio's blocking pool while the attempt is counted (an `UpdateItem`
/// that adds one), then write three items in one `BatchWriteItem` (a login's session, audit
/// entry and cleared attempt); answers milliseconds.
async fn login_floor(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    sentinel: &roster_store::keys::Key,
    round: usize,
) -> Result<f64, BenchError> {
    let start = Instant::now();
    dynamodb
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(sentinel.pk.clone()))
        .key("sk", AttributeValue::S(sentinel.sk.clone()))
        .consistent_read(true)
        .send()
        .await?;
    let (hashed, counted) = tokio::join!(
        tokio::task::spawn_blocking(|| std::hint::black_box(hash_password(PASSWORD))),
        dynamodb
            .update_item()
            .table_name(table)
            .key("pk", AttributeValue::S("BENCH-FLOOR#ATTEMPTS".to_owned()))
            .key("sk", AttributeValue::S("ITEM".to_owned()))
            .update_expression("ADD attempts :one")
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
    );
    hashed?;
    counted?;
    let payload = "x".repeat(200);
    let items = (0..3)
        .map(|i| import::bench_item(&format!("BENCH-FLOOR#{round}"), i, &payload))
        .collect();
    import::put_batch(dynamodb, table, items).await?;
    Ok(start.elapsed().as_secs_f64() * 1000.0)
}

/// A session token of the person `email`, whose password is `PASSWORD`.
async fn login(http: &reqwest::Client, base: &str, email: &str) -> Result<String, BenchError> {
    let answer: Value = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await?
        .json()
        .await?;
    answer["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("login failed: {answer}").into())
}

/// A program of the peers' virtualenv (`scripts/bench.sh` passes its `bin` directory).
fn peer_program(name: &str) -> Result<std::path::PathBuf, BenchError> {
    let bin = std::env::var("ROSTER_BENCH_PEER_BIN")
        .map_err(|_| "ROSTER_BENCH_PEER_BIN (the peers' virtualenv bin directory) is required")?;
    Ok(std::path::Path::new(&bin).join(name))
}

#[tokio::main]
async fn main() -> Result<(), BenchError> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, command, event] = args.as_slice()
        && command == "import-once"
    {
        return import::import_once(event).await;
    }
    let config = LocalConfig::from_env()?;
    let aws = roster_bootstrap::aws_config().await;
    let push = push_applications(&aws_sdk_sns::Client::new(&aws)).await?;
    let counter = CallCounter::default();
    let mut clients = roster_local::clients(&aws);
    clients.dynamodb = aws_sdk_dynamodb::Client::from_conf(
        counter
            .attach(aws_sdk_dynamodb::config::Builder::from(&aws))
            .build(),
    );
    let functions =
        roster_local::Functions::new(&clients, &config, &push, profile_api::system_clock());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = local_router(&functions);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();

    let platform_token = config
        .platform_token
        .as_deref()
        .ok_or("ROSTER_PLATFORM_TOKEN is required")?;
    if args.get(1).is_some_and(|command| command == "load") {
        return load::run(&http, &base, platform_token).await;
    }
    let (organisation, admin_email) = create_organisation(
        &http,
        &base,
        platform_token,
        json!({ "checkin_enabled": true }),
    )
    .await?;

    let mut rows = Vec::new();
    // `ROSTER_BENCH_ONLY=cold,scim` runs only the sections named (`cold`, `argon2`, `scim`,
    // `import`, `reminders`); the login, `GET /v1/me` and call-count rows always run.
    let only = std::env::var("ROSTER_BENCH_ONLY").ok();
    let wanted = |section: &str| {
        only.as_deref()
            .is_none_or(|only| only.split(',').any(|s| s.trim() == section))
    };

    // Login against one bare argon2id hash with the same parameters, and for information the
    // floor of any login on this DynamoDB: the calls it cannot do without around one hash.
    let login_body = json!({ "email": admin_email, "password": PASSWORD });
    for _ in 0..LOGIN_WARM_UP {
        login(&http, &base, &admin_email).await?;
    }
    let bare = aws_sdk_dynamodb::Client::new(&aws);
    let sentinel = roster_store::keys::email_sentinel(&admin_email.to_lowercase());
    // Interleaved, so whatever else the machine does lands on every series alike.
    let (mut logins, mut hashes, mut floors) = (Vec::new(), Vec::new(), Vec::new());
    let mut token = String::new();
    for round in 0..60 {
        let (response, ms) = time(
            http.post(format!("{base}/v1/auth/login"))
                .json(&login_body)
                .send(),
        )
        .await;
        let answer: Value = response?.json().await?;
        token = answer["token"].as_str().ok_or("login failed")?.to_owned();
        logins.push(ms);
        let start = Instant::now();
        std::hint::black_box(hash_password(PASSWORD));
        hashes.push(start.elapsed().as_secs_f64() * 1000.0);
        floors.push(login_floor(&bare, &config.table_name, &sentinel, round).await?);
    }
    let (logins, hashes, floors) = (
        Samples::of(logins),
        Samples::of(hashes),
        Samples::of(floors),
    );
    rows.push(
        Row::budgeted(
            "login (median) vs one argon2id hash",
            format!("{:.1} ms", logins.median()),
            format!("{:.1} ms", hashes.median()),
            logins.median() / hashes.median(),
            1.2,
            logins.0.len(),
        )
        .timed(&logins, Some(&hashes)),
    );
    rows.push(
        Row::peer(
            "login floor (median): GetItem, hash beside UpdateItem, BatchWriteItem, vs one hash",
            format!("{:.1} ms", floors.median()),
            format!("{:.1} ms", hashes.median()),
            floors.median() / hashes.median(),
            floors.0.len(),
        )
        .timed(&floors, Some(&hashes)),
    );

    // GET /v1/me against the same DynamoDB calls made by a bare SDK client.
    for _ in 0..20 {
        http.get(format!("{base}/v1/me"))
            .bearer_auth(&token)
            .send()
            .await?;
    }
    // A table key as a bare client sends it.
    let key = |pk: String, sk: &str| -> std::collections::HashMap<String, AttributeValue> {
        [
            ("pk".to_owned(), AttributeValue::S(pk)),
            ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
        ]
        .into_iter()
        .collect()
    };
    let me_json: Value = http
        .get(format!("{base}/v1/me"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let user = me_json["id"].as_str().ok_or("no user id")?.to_owned();
    let (mut me, mut raw) = (Vec::new(), Vec::new());
    for _ in 0..1000 {
        let (response, ms) =
            time(http.get(format!("{base}/v1/me")).bearer_auth(&token).send()).await;
        response?.error_for_status()?;
        me.push(ms);
        let start = Instant::now();
        let session = bare
            .get_item()
            .table_name(&config.table_name)
            .set_key(Some(key(
                format!("SESSION#{}", secret_hash(&token)),
                "SESSION",
            )))
            .consistent_read(true)
            .send()
            .await?;
        let account = session
            .item
            .as_ref()
            .and_then(|item| item.get("account_id"))
            .and_then(|id| id.as_s().ok())
            .ok_or("a session without account_id")?
            .clone();
        let keys = KeysAndAttributes::builder()
            .keys(key(format!("ORG#{organisation}#USER#{user}"), "USER"))
            .keys(key(format!("ORG#{organisation}"), "ORG"))
            .keys(key(format!("ACCOUNT#{account}"), "ACCOUNT"))
            .consistent_read(true)
            .build()?;
        bare.batch_get_item()
            .request_items(&config.table_name, keys)
            .send()
            .await?;
        raw.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let me = Samples::of(me);
    let raw = Samples::of(raw);
    rows.push(
        Row::budgeted(
            "GET /v1/me p99 vs its raw DynamoDB calls p99",
            format!("{:.2} ms", me.p99()),
            format!("{:.2} ms", raw.p99()),
            me.p99() / raw.p99(),
            1.3,
            me.0.len(),
        )
        .timed(&me, Some(&raw)),
    );

    // DynamoDB round trips per request.
    counter.reset();
    let read = http
        .get(format!("{base}/v1/me"))
        .bearer_auth(&token)
        .send()
        .await?;
    let etag = read
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let get_calls = counter.count();
    counter.reset();
    http.patch(format!("{base}/v1/me"))
        .bearer_auth(&token)
        .header("if-match", etag)
        .json(&json!({ "department": "Benchmarks" }))
        .send()
        .await?
        .error_for_status()?;
    let patch_calls = counter.count();
    for (budget, calls, limit) in [
        ("GET /v1/me DynamoDB calls", get_calls, 2),
        ("PATCH /v1/me DynamoDB calls", patch_calls, 3),
    ] {
        rows.push(Row::budgeted(
            budget,
            calls.to_string(),
            limit.to_string(),
            calls as f64 / limit as f64,
            1.0,
            1,
        ));
    }

    if wanted("argon2") {
        rows.push(hashing::against_argon2_cffi(&peer_program("python")?).await?);
    }

    let patient = import::Patient::new(&aws);
    if wanted("cold") {
        let binaries = std::env::var("ROSTER_BENCH_BINARY_DIR")
            .map_err(|_| "ROSTER_BENCH_BINARY_DIR (the release binaries) is required")?;
        let bench = cold::Bench {
            http: &http,
            base: &base,
            platform_token,
            functions: &functions,
            patient: &patient,
            config: &config,
        };
        rows.extend(cold::rows(&bench, std::path::Path::new(&binaries)).await?);
    }

    if wanted("scim") {
        rows.extend(
            scim::against_scim2_server(
                &http,
                &base,
                platform_token,
                &peer_program("scim2-server")?,
                &counter,
            )
            .await?,
        );
    }

    if wanted("import") {
        // Import: throughput against the bare loop, then peak memory for two file sizes. 20,000
        // people (about 140,000 items, and as many again for the loop) by default: at 100,000
        // (`ROSTER_BENCH_IMPORT_ROWS`) DynamoDB Local's in-memory JVM fills its heap on a 24 GB
        // machine and both rates measure its garbage collector.
        let import_rows = std::env::var("ROSTER_BENCH_IMPORT_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000);
        rows.extend(
            import::throughput(&functions, &patient, &config, &organisation, import_rows).await?,
        );
        let small = import::peak_memory_kb(&patient, &config, &organisation, 100_000).await?;
        let large = import::peak_memory_kb(&patient, &config, &organisation, 1_000_000).await?;
        rows.push(Row::budgeted(
            "import peak RSS: 1M rows vs 100k rows",
            format!("{:.1} MB", large as f64 / 1024.0),
            format!("{:.1} MB + 10 %", small as f64 / 1024.0),
            large as f64 / small as f64,
            1.1,
            2,
        ));
    }

    if wanted("reminders") {
        let site: Value = http
            .post(format!("{base}/v1/admin/sites"))
            .bearer_auth(&token)
            .json(&json!({ "name": "Bench HQ" }))
            .send()
            .await?
            .json()
            .await?;
        let booker = reminders::Booker {
            organisation: &organisation,
            person: &user,
            site: site["id"].as_str().ok_or("site not created")?,
        };
        rows.push(reminders::ratio(&functions, &patient, &config, &booker).await?);
    }

    println!(
        "{:<58} {:>14} {:>28} {:>7} {:>8} {:>7}  median / p99 ms (vs limit's)",
        "budget", "measured", "limit (same run)", "ratio", "samples", "result"
    );
    for row in &rows {
        println!(
            "{:<58} {:>14} {:>28} {:>7} {:>8} {:>7}  {}",
            row.budget,
            row.measured,
            row.limit,
            row.ratio
                .map_or_else(|| "-".to_owned(), |ratio| format!("{ratio:.2}")),
            row.samples,
            match row.passes() {
                Some(true) => "pass",
                Some(false) => "FAIL",
                None => "info",
            },
            row.spread_text()
        );
    }
    let report: Vec<Value> = rows
        .iter()
        .map(|r| {
            let spread = |s: &Spread| json!({ "median_ms": s.median, "p99_ms": s.p99 });
            let (measured, limit) = r.spread.as_ref().map_or((None, None), |(m, l)| {
                (Some(spread(m)), l.as_ref().map(spread))
            });
            json!({ "budget": r.budget, "measured": r.measured, "limit": r.limit, "ratio": r.ratio, "max_ratio": r.max_ratio, "samples": r.samples, "pass": r.passes(), "measured_ms": measured, "limit_ms": limit })
        })
        .collect();
    std::fs::create_dir_all("target/bench")?;
    std::fs::write(
        "target/bench/latest.json",
        serde_json::to_string_pretty(&report)?,
    )?;
    Ok(())
}
