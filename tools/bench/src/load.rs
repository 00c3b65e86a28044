//! `make load` (`roster-bench load`): concurrent clients (`ROSTER_LOAD_CLIENTS`, 50) for a while
//! (`ROSTER_LOAD_SECONDS`, 60) of mixed profile reads and writes against the local API on
//! loopback. Two clients share each person, so some writes meet a newer version and get the
//! expected 412. Fails on any other error and on any lost update: afterwards each profile shows
//! the acknowledged write with the highest version, and its version moved once per acknowledged
//! write. Prints latency percentiles per kind of request.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Samples, create_organisation, import::BenchError, login};

/// Clients that share one person's profile.
const CLIENTS_PER_PERSON: usize = 2;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The version an ETag carries (`"7"`).
fn version_of(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get("etag")?
        .to_str()
        .ok()?
        .trim_matches('"')
        .parse()
        .ok()
}

/// What one client saw.
#[derive(Default)]
struct ClientLog {
    reads_ms: Vec<f64>,
    writes_ms: Vec<f64>,
    conflicts: u64,
    errors: Vec<String>,
    /// Each acknowledged write: the version it made and the department it set.
    acknowledged: Vec<(u64, String)>,
}

async fn client(
    http: reqwest::Client,
    base: String,
    token: String,
    name: usize,
    until: Instant,
) -> ClientLog {
    let mut log = ClientLog::default();
    let mut step = 0u64;
    while Instant::now() < until {
        step += 1;
        let path = if step.is_multiple_of(2) {
            "/v1/me"
        } else {
            "/v1/me/preferences"
        };
        let start = Instant::now();
        let read = http
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await;
        log.reads_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        let read = match read {
            Ok(response) if response.status() == 200 => response,
            Ok(response) => {
                log.errors
                    .push(format!("GET {path}: {}", response.status()));
                continue;
            }
            Err(error) => {
                log.errors.push(format!("GET {path}: {error}"));
                continue;
            }
        };
        // Three reads in ten steps are followed by a write of what was read.
        if path != "/v1/me" || step % 10 >= 6 {
            continue;
        }
        let Some(version) = version_of(&read) else {
            log.errors.push("GET /v1/me without an ETag".to_owned());
            continue;
        };
        let department = format!("Client {name} step {step}");
        let start = Instant::now();
        let written = http
            .patch(format!("{base}/v1/me"))
            .bearer_auth(&token)
            .header("if-match", format!("\"{version}\""))
            .json(&json!({ "department": department }))
            .send()
            .await;
        log.writes_ms.push(start.elapsed().as_secs_f64() * 1000.0);
        match written {
            Ok(response) if response.status() == 200 => match version_of(&response) {
                Some(version) => log.acknowledged.push((version, department)),
                None => log.errors.push("PATCH /v1/me without an ETag".to_owned()),
            },
            Ok(response) if response.status() == 412 => log.conflicts += 1,
            Ok(response) => log
                .errors
                .push(format!("PATCH /v1/me: {}", response.status())),
            Err(error) => log.errors.push(format!("PATCH /v1/me: {error}")),
        }
    }
    log
}

async fn profile(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<(u64, Value), BenchError> {
    let response = http
        .get(format!("{base}/v1/me"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?;
    let version = version_of(&response).ok_or("GET /v1/me without an ETag")?;
    Ok((version, response.json().await?))
}

pub async fn run(
    http: &reqwest::Client,
    base: &str,
    platform_token: &str,
) -> Result<(), BenchError> {
    let clients = setting("ROSTER_LOAD_CLIENTS", 50) as usize;
    let seconds = setting("ROSTER_LOAD_SECONDS", 60);
    let people = clients.div_ceil(CLIENTS_PER_PERSON);
    let mut tokens = Vec::new();
    for _ in 0..people {
        let (_, email) = create_organisation(http, base, platform_token, json!({})).await?;
        let token = login(http, base, &email).await?;
        let (version, _) = profile(http, base, &token).await?;
        tokens.push((token, version));
    }

    let until = Instant::now() + Duration::from_secs(seconds);
    let running: Vec<_> = (0..clients)
        .map(|name| {
            let token = tokens[name / CLIENTS_PER_PERSON].0.clone();
            tokio::spawn(client(http.clone(), base.to_owned(), token, name, until))
        })
        .collect();
    let mut logs = Vec::new();
    for task in running {
        logs.push(task.await?);
    }

    let mut lost = Vec::new();
    for (person, (token, first_version)) in tokens.iter().enumerate() {
        let shared =
            &logs[person * CLIENTS_PER_PERSON..((person + 1) * CLIENTS_PER_PERSON).min(clients)];
        let mut acknowledged: Vec<&(u64, String)> =
            shared.iter().flat_map(|log| &log.acknowledged).collect();
        acknowledged.sort();
        let (version, me) = profile(http, base, token).await?;
        let versions_unique = acknowledged.windows(2).all(|pair| pair[0].0 != pair[1].0);
        let moved_once_per_write = version - first_version == acknowledged.len() as u64;
        let shows_the_last = acknowledged
            .last()
            .is_none_or(|(_, department)| me["department"] == department.as_str());
        if !(versions_unique && moved_once_per_write && shows_the_last) {
            lost.push(format!(
                "person {person}: version {first_version} -> {version} for {} acknowledged writes, shows {}",
                acknowledged.len(),
                me["department"]
            ));
        }
    }

    let reads = Samples::of(logs.iter().flat_map(|l| l.reads_ms.clone()).collect());
    let writes = Samples::of(logs.iter().flat_map(|l| l.writes_ms.clone()).collect());
    let conflicts: u64 = logs.iter().map(|l| l.conflicts).sum();
    let errors: Vec<&String> = logs.iter().flat_map(|l| &l.errors).collect();
    println!(
        "load: {clients} clients for {seconds} s over {people} people ({CLIENTS_PER_PERSON} clients each)"
    );
    println!(
        "{:<8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "request", "count", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    for (name, samples) in [("read", &reads), ("write", &writes)] {
        println!(
            "{:<8} {:>8} {:>9.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            name,
            samples.0.len(),
            samples.0.len() as f64 / seconds as f64,
            samples.median(),
            samples.quantile(0.95),
            samples.p99(),
            samples.quantile(1.0),
        );
    }
    println!("412 (expected: a write on a version the other client changed): {conflicts}");
    println!("errors: {}", errors.len());
    println!("lost updates: {}", lost.len());
    for line in errors
        .iter()
        .take(10)
        .map(|e| e.as_str())
        .chain(lost.iter().map(String::as_str))
    {
        println!("  {line}");
    }
    if !errors.is_empty() || !lost.is_empty() {
        return Err("the load run saw errors or lost updates".into());
    }
    Ok(())
}
