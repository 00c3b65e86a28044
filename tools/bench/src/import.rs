//! The import budgets: items written per second against a bare `BatchWriteItem` loop into the
//! same table, and peak memory of an import process for a 100,000- and a 1,000,000-row file.

use std::{collections::HashMap, process::Stdio, time::Instant};

use aws_sdk_dynamodb::types::{
    AttributeValue, Put, PutRequest, Select, TransactWriteItem, WriteRequest,
};
use roster_local::{
    Functions, LocalConfig,
    events::{CreatedObject, s3_put_event},
};
use serde_json::Value;

use crate::Row;

/// Items the transaction loop writes: enough for a steady rate.
const TRANSACTION_LOOP_ITEMS: u64 = 30_000;

pub type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// Says which step of a bench failed.
pub fn step<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> BenchError {
    move |error| format!("bench, {what}: {error}").into()
}

/// Clients for the bench's own bulk work (files of tens of MB, whole-table counts), with the
/// patience of a maintenance tool rather than a request's 5 seconds.
pub struct Patient {
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
}

impl Patient {
    pub fn new(aws: &aws_config::SdkConfig) -> Self {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .operation_attempt_timeout(std::time::Duration::from_secs(300))
            .operation_timeout(std::time::Duration::from_secs(600))
            .build();
        Self {
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(aws)
                    .timeout_config(timeouts.clone())
                    .force_path_style(true)
                    .build(),
            ),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(aws)
                    .timeout_config(timeouts)
                    .build(),
            ),
        }
    }
}

/// A sync file of `rows` people (`First name,Last name,Email`) whose emails are new to the table.
pub fn people_csv(rows: usize) -> String {
    let marker = roster_domain::ids::UserId::generate();
    let mut csv = String::with_capacity(rows * 48);
    csv.push_str("First name,Last name,Email\n");
    for i in 0..rows {
        csv.push_str(&format!("Bench,Person{i},p{i}.{marker}@example.com\n"));
    }
    csv
}

/// Puts `csv` into the import bucket as `key` (a new version of it, if it exists); answers the
/// S3 event that announces it.
pub async fn put_csv(
    s3: &aws_sdk_s3::Client,
    config: &LocalConfig,
    key: &str,
    csv: String,
) -> Result<Value, BenchError> {
    let size = csv.len() as i64;
    let put = s3
        .put_object()
        .bucket(&config.import_bucket)
        .key(key)
        .body(csv.into_bytes().into())
        .send()
        .await
        .map_err(step("putting the file"))?;
    Ok(s3_put_event(
        &config.import_bucket,
        &config.region,
        chrono::Utc::now(),
        &[CreatedObject {
            key: key.to_owned(),
            version_id: put.version_id().map(str::to_owned),
            size,
            e_tag: put.e_tag().map(str::to_owned),
        }],
    ))
}

/// Items in the table (a `Scan` that counts: a benchmark's tool, never a request path).
async fn item_count(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> Result<u64, BenchError> {
    let mut count = 0;
    let mut start = None;
    loop {
        let page = dynamodb
            .scan()
            .table_name(table)
            .select(Select::Count)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(step("counting items"))?;
        count += page.count() as u64;
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(count);
        }
    }
}

/// Puts `items` (at most 25) with `BatchWriteItem`, again until none is left unprocessed.
pub async fn put_batch(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    items: Vec<HashMap<String, AttributeValue>>,
) -> Result<(), BenchError> {
    let mut requests: Vec<WriteRequest> = items
        .into_iter()
        .map(|item| {
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .expect("the item is set");
            WriteRequest::builder().put_request(put).build()
        })
        .collect();
    while !requests.is_empty() {
        let output = dynamodb
            .batch_write_item()
            .request_items(table, requests)
            .send()
            .await
            .map_err(step("a BatchWriteItem"))?;
        requests = output
            .unprocessed_items
            .and_then(|mut unprocessed| unprocessed.remove(table))
            .unwrap_or_default();
    }
    Ok(())
}

/// An item of about the size of an imported person's items, keyed `{prefix}#{i}`.
pub fn bench_item(prefix: &str, i: u64, payload: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(format!("{prefix}#{i}"))),
        ("sk".to_owned(), AttributeValue::S("ITEM".to_owned())),
        ("payload".to_owned(), AttributeValue::S(payload.to_owned())),
    ])
}

/// Writes `items` bench items, `per_call` to a call of `write`, one call after another; answers
/// items per second.
async fn items_per_second<Write, Written>(
    items: u64,
    per_call: u64,
    mut write: Write,
) -> Result<f64, BenchError>
where
    Write: FnMut(std::ops::Range<u64>) -> Written,
    Written: std::future::Future<Output = Result<(), BenchError>>,
{
    let start = Instant::now();
    let mut written = 0;
    while written < items {
        let batch = (items - written).min(per_call);
        write(written..written + batch).await?;
        written += batch;
    }
    Ok(items as f64 / start.elapsed().as_secs_f64())
}

/// Writes `items` items with one `BatchWriteItem` of 25 after another; answers items per second.
async fn bare_batch_writes(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    items: u64,
) -> Result<f64, BenchError> {
    let payload = "x".repeat(200);
    items_per_second(items, 25, |range| {
        put_batch(
            dynamodb,
            table,
            range.map(|i| bench_item("BENCH", i, &payload)).collect(),
        )
    })
    .await
}

/// Writes `items` items with one `TransactWriteItems` of 96 puts, each conditional on its key
/// being new, after another (as the import writes people: all of a person or nothing, every new
/// key checked); answers items per second.
async fn bare_transactions(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    items: u64,
) -> Result<f64, BenchError> {
    let payload = "x".repeat(200);
    items_per_second(items, 96, |range| {
        let puts = range
            .map(|i| {
                Put::builder()
                    .table_name(table)
                    .set_item(Some(bench_item("BENCH-TX", i, &payload)))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map(|put| TransactWriteItem::builder().put(put).build())
            })
            .collect::<Result<Vec<_>, _>>();
        async move {
            dynamodb
                .transact_write_items()
                .set_transact_items(Some(puts.map_err(step("a transaction's put"))?))
                .send()
                .await
                .map_err(step("a TransactWriteItems"))?;
            Ok(())
        }
    })
    .await
}

/// Imports `rows` people as a daily sync drop and compares the items it wrote per second with
/// the bare loop writing as many items. Also answers, for information, the bare loop against a
/// loop of transactions like the import's, one after another as the import sends them: what an
/// import writing every item inside a transaction reaches here at best.
pub async fn throughput(
    functions: &Functions,
    patient: &Patient,
    config: &LocalConfig,
    organisation: &str,
    rows: usize,
) -> Result<[Row; 2], BenchError> {
    let dynamodb = &patient.dynamodb;
    let event = put_csv(
        &patient.s3,
        config,
        &format!("sync/{organisation}/throughput.csv"),
        people_csv(rows),
    )
    .await?;
    let before = item_count(dynamodb, &config.table_name).await?;
    let start = Instant::now();
    let run = functions
        .invoke("csv-import", event)
        .await
        .map_err(step("the import"))?;
    let seconds = start.elapsed().as_secs_f64();
    let import = &run["received"][0]["import"];
    if import["counts"]["created"].as_u64() != Some(rows as u64) {
        return Err(format!("the import did not create every row: {run}").into());
    }
    let written = item_count(dynamodb, &config.table_name).await? - before;
    let import_rate = written as f64 / seconds;
    let bare_rate = bare_batch_writes(dynamodb, &config.table_name, written).await?;
    let transactions = written.min(TRANSACTION_LOOP_ITEMS);
    let transaction_rate = bare_transactions(dynamodb, &config.table_name, transactions).await?;
    Ok([
        Row::budgeted(
            "import items/s (limit: bare BatchWriteItem)",
            format!("{import_rate:.0}/s"),
            format!("{bare_rate:.0}/s ({written} items)"),
            bare_rate / import_rate,
            1.0 / 0.7,
            rows,
        ),
        Row::peer(
            "bare TransactWriteItems items/s (limit: bare BatchWriteItem)",
            format!("{transaction_rate:.0}/s ({transactions} items)"),
            format!("{bare_rate:.0}/s"),
            bare_rate / transaction_rate,
            1,
        ),
    ])
}

/// Peak RSS (kB) of a child process that runs one import of a `rows`-row file. The file makes
/// a `replace` that stops at the deactivation threshold after its whole planning pass (every
/// row read, checked and looked up), so the large runs measure the file-sized work without
/// writing a million people into DynamoDB Local.
pub async fn peak_memory_kb(
    patient: &Patient,
    config: &LocalConfig,
    organisation: &str,
    rows: usize,
) -> Result<u64, BenchError> {
    let event = put_csv(
        &patient.s3,
        config,
        &format!("sync/{organisation}/memory-{rows}.csv"),
        people_csv(rows),
    )
    .await?;
    let path = std::env::temp_dir().join(format!("roster-bench-event-{rows}.json"));
    std::fs::write(&path, event.to_string())?;
    let output = tokio::process::Command::new(std::env::current_exe()?)
        .arg("import-once")
        .arg(&path)
        .stderr(Stdio::inherit())
        .output()
        .await?;
    let answer: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("import-once answered {:?}: {e}", output.stdout))?;
    let import = &answer["run"]["received"][0]["import"];
    if import["status"] != "failed" {
        return Err(format!("the memory run was meant to stop at the threshold: {answer}").into());
    }
    answer["peak_rss_kb"]
        .as_u64()
        .ok_or_else(|| "no peak RSS".into())
}

/// `roster-bench import-once <event.json>`: runs the csv-import handler on one event in this
/// process and prints `{"run", "peak_rss_kb"}`.
pub async fn import_once(event_path: &str) -> Result<(), BenchError> {
    let config = LocalConfig::from_env()?;
    let aws = roster_bootstrap::aws_config().await;
    let push = roster_local::provision::push_applications(&aws_sdk_sns::Client::new(&aws)).await?;
    let functions = Functions::new(
        &roster_local::clients(&aws),
        &config,
        &push,
        profile_api::system_clock(),
    );
    let event: Value = serde_json::from_str(&std::fs::read_to_string(event_path)?)?;
    let run = functions
        .invoke("csv-import", event)
        .await
        .map_err(step("the memory run"))?;
    let peak = crate::peak_rss_kb("self")?;
    println!("{}", serde_json::json!({ "run": run, "peak_rss_kb": peak }));
    Ok(())
}
