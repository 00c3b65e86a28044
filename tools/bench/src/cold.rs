//! Cold starts of the four functions' release binaries, each started as Lambda starts it: under
//! a Lambda Runtime API of the bench's own that hands the new process one event and then a second
//! one of the same kind. Cold: exec to the first answer posted back. Warm: the second event handed
//! out to its answer, the same work on a started process; it stands for "its DynamoDB calls" in
//! DESIGN.md's budget (start to first answered request <= 50 ms plus its DynamoDB calls; peak
//! RSS <= 40 MB). Peak RSS is the process's high-water mark after both events. Each binary's
//! size (release profile: stripped) is reported beside them, without budget.

use std::{
    collections::VecDeque,
    path::Path,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use axum::{
    Router,
    extract::{Path as UrlPath, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use roster_local::{Functions, LocalConfig};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::{
    Row, Samples, create_organisation,
    import::{BenchError, Patient, people_csv, put_csv, step},
    login, peak_rss_kb, scim,
};

/// Execution environments started per function.
const SAMPLES: usize = 5;
/// DESIGN.md: start to first answered request <= this plus the request's own calls.
const START_ALLOWANCE_MS: f64 = 50.0;
/// DESIGN.md: peak RSS of a started function.
const PEAK_RSS_BUDGET_MB: f64 = 40.0;
/// How long a function may take from exec to an answer before the bench gives up on it.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);
/// Rows of the sync file csv-import is handed: people it already holds, so each event reads,
/// matches and reports them and changes nothing, the same work every time.
const SYNC_ROWS: usize = 10;

/// What the cold starts use of the bench's stack.
pub struct Bench<'a> {
    pub http: &'a reqwest::Client,
    pub base: &'a str,
    pub platform_token: &'a str,
    pub functions: &'a Functions,
    pub patient: &'a Patient,
    pub config: &'a LocalConfig,
}

/// One function's cold starts: the events of each execution environment (the cold one, then the
/// warm one), what its first answer is, and how to tell the function handled an event.
struct Function {
    name: &'static str,
    first_answer: &'static str,
    environments: Vec<[Value; 2]>,
    handled: fn(&Value) -> bool,
}

fn http_ok(answer: &Value) -> bool {
    answer["statusCode"] == 200
}

fn import_done(answer: &Value) -> bool {
    answer["received"][0]["import"]["status"] == "done"
}

fn job_ran(answer: &Value) -> bool {
    answer["job"].is_string()
}

fn sample_event(json: &str) -> Value {
    serde_json::from_str(json).expect("the sample events in events/ are JSON")
}

pub async fn rows(bench: &Bench<'_>, binaries: &Path) -> Result<Vec<Row>, BenchError> {
    // An organisation of its own, so its people and its daily sync change no other section.
    let (organisation, admin_email) =
        create_organisation(bench.http, bench.base, bench.platform_token, json!({})).await?;
    let admin_session = login(bench.http, bench.base, &admin_email).await?;

    let health = sample_event(include_str!("../../../events/profile-api-health.json"));
    // Entra ID's Test Connection (a userName filter that matches nothing), with a real token.
    let mut users_filter = sample_event(include_str!("../../../events/scim-get-users.json"));
    users_filter["headers"]["authorization"] = json!(format!(
        "Bearer {}",
        scim::mint_token(bench.http, bench.base, &admin_session).await?
    ));
    let reminder_run = sample_event(include_str!("../../../events/jobs-checkin-reminder.json"));

    // The sync file's people are imported once here, in the bench's process; every event after
    // that announces a new version of the same file.
    let sync_file = people_csv(SYNC_ROWS);
    let key = format!("sync/{organisation}/cold-start.csv");
    let announce = || put_csv(&bench.patient.s3, bench.config, &key, sync_file.clone());
    let first = bench
        .functions
        .invoke("csv-import", announce().await?)
        .await
        .map_err(step("importing the sync file's people"))?;
    if first["received"][0]["import"]["counts"]["created"] != SYNC_ROWS {
        return Err(format!("the sync file's people were not imported: {first}").into());
    }
    let mut sync_drops = Vec::new();
    for _ in 0..SAMPLES {
        sync_drops.push([announce().await?, announce().await?]);
    }

    let functions = [
        Function {
            name: "profile-api",
            first_answer: "answered GET /health",
            environments: vec![[health.clone(), health]; SAMPLES],
            handled: http_ok,
        },
        Function {
            name: "scim",
            first_answer: "answered GET /scim/v2/Users",
            environments: vec![[users_filter.clone(), users_filter]; SAMPLES],
            handled: http_ok,
        },
        Function {
            name: "csv-import",
            first_answer: "handled 10-row sync event",
            environments: sync_drops,
            handled: import_done,
        },
        Function {
            name: "jobs",
            first_answer: "handled reminder event",
            environments: vec![[reminder_run.clone(), reminder_run]; SAMPLES],
            handled: job_ran,
        },
    ];
    let mut rows = Vec::new();
    for function in functions {
        rows.extend(measure(&binaries.join(function.name), function).await?);
    }
    Ok(rows)
}

/// The rows of one function: cold start against its warm answer, peak RSS, binary size.
async fn measure(binary: &Path, function: Function) -> Result<Vec<Row>, BenchError> {
    let name = function.name;
    let (mut cold, mut warm, mut peak_kb) = (Vec::new(), Vec::new(), 0);
    for events in function.environments {
        let environment = Environment::run(binary, name, events).await?;
        for answer in &environment.answers {
            if !(function.handled)(answer) {
                return Err(format!("{name} did not handle its event: {answer}").into());
            }
        }
        cold.push(environment.cold_ms);
        warm.push(environment.warm_ms);
        peak_kb = peak_kb.max(environment.peak_rss_kb);
    }
    let (cold, warm) = (Samples::of(cold), Samples::of(warm));
    let peak_mb = peak_kb as f64 / 1024.0;
    Ok(vec![
        Row::budgeted(
            format!("cold start: {name}, exec to {}", function.first_answer),
            format!("{:.1} ms", cold.median()),
            format!("{START_ALLOWANCE_MS:.0} ms + {:.1} ms warm", warm.median()),
            cold.median() / (START_ALLOWANCE_MS + warm.median()),
            1.0,
            cold.0.len(),
        )
        .timed(&cold, Some(&warm)),
        Row::budgeted(
            format!("cold start: {name}, peak RSS"),
            format!("{peak_mb:.1} MB"),
            format!("{PEAK_RSS_BUDGET_MB:.0} MB"),
            peak_mb / PEAK_RSS_BUDGET_MB,
            1.0,
            cold.0.len(),
        ),
        Row {
            budget: format!("release binary size: {name}"),
            measured: format!(
                "{:.1} MB",
                std::fs::metadata(binary)?.len() as f64 / (1024.0 * 1024.0)
            ),
            limit: "-".to_owned(),
            ratio: None,
            max_ratio: None,
            samples: 1,
            spread: None,
        },
    ])
}

/// One execution environment: a fresh process of the function, handed two events.
struct Environment {
    cold_ms: f64,
    warm_ms: f64,
    peak_rss_kb: u64,
    /// What the function answered to each event.
    answers: Vec<Value>,
}

impl Environment {
    async fn run(binary: &Path, name: &str, events: [Value; 2]) -> Result<Self, BenchError> {
        let (outcomes, mut reported) = mpsc::unbounded_channel();
        let (end, ended) = watch::channel(false);
        let api = Arc::new(RuntimeApi {
            events: Mutex::new(VecDeque::from(events)),
            handed_out: Mutex::default(),
            outcomes,
            ended,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let router = RuntimeApi::router(api);
        let server = tokio::spawn(async move { axum::serve(listener, router).await });

        let start = Instant::now();
        let mut process = tokio::process::Command::new(binary)
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            // Required by lambda_runtime; the functions do not read it.
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("starting {}: {error}", binary.display()))?;
        let cold = next_handled(&mut reported, &mut process, name).await?;
        let warm = next_handled(&mut reported, &mut process, name).await?;
        let pid = process.id().ok_or("the function exited")?;
        let peak_rss_kb = peak_rss_kb(&pid.to_string())?;
        process.kill().await?;
        // Releases the held poll, so its connection closes before the server goes.
        let _ = end.send(true);
        server.abort();

        let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
        Ok(Self {
            cold_ms: ms(cold.answered - start),
            warm_ms: ms(warm.answered - warm.handed_out),
            peak_rss_kb,
            answers: vec![cold.response, warm.response],
        })
    }
}

/// An event the function answered.
struct Handled {
    handed_out: Instant,
    answered: Instant,
    response: Value,
}

/// What the function posts back for its next event: a response, or the error it reported.
type Outcome = Result<Handled, String>;

/// The function's next response. An error it reports, its exit or its silence fails the bench.
async fn next_handled(
    outcomes: &mut mpsc::UnboundedReceiver<Outcome>,
    process: &mut tokio::process::Child,
    name: &str,
) -> Result<Handled, BenchError> {
    tokio::select! {
        outcome = outcomes.recv() => match outcome {
            Some(Ok(handled)) => Ok(handled),
            Some(Err(error)) => Err(format!("{name}: {error}").into()),
            None => Err("the runtime API stopped".into()),
        },
        status = process.wait() => Err(format!("{name} exited: {status:?}").into()),
        () = tokio::time::sleep(ANSWER_TIMEOUT) => {
            Err(format!("{name} did not answer in {ANSWER_TIMEOUT:?}").into())
        }
    }
}

/// The Lambda Runtime API (2018-06-01) of one execution environment, as much of it as
/// `lambda_runtime` uses: `next` hands out the queued events one at a time (request ids 0, 1,
/// ...), then holds the poll, as Lambda holds a frozen environment's, until `ended`; `response`,
/// `error` and `init/error` report outcomes on `outcomes`.
struct RuntimeApi {
    events: Mutex<VecDeque<Value>>,
    handed_out: Mutex<Vec<Instant>>,
    outcomes: mpsc::UnboundedSender<Outcome>,
    ended: watch::Receiver<bool>,
}

/// How long a handed-out event may run, as the `Lambda-Runtime-Deadline-Ms` header says.
const EVENT_DEADLINE: Duration = Duration::from_secs(120);

impl RuntimeApi {
    fn router(api: Arc<Self>) -> Router {
        Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(Self::next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(Self::response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(Self::error),
            )
            .route("/2018-06-01/runtime/init/error", post(Self::init_error))
            .with_state(api)
    }

    async fn next(State(api): State<Arc<Self>>) -> Response {
        let event = api.events.lock().expect("not poisoned").pop_front();
        let Some(event) = event else {
            let mut ended = api.ended.clone();
            let _ = ended.wait_for(|ended| *ended).await;
            return StatusCode::GONE.into_response();
        };
        let id = {
            let mut handed_out = api.handed_out.lock().expect("not poisoned");
            handed_out.push(Instant::now());
            handed_out.len() - 1
        };
        let deadline = (SystemTime::now() + EVENT_DEADLINE)
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis();
        (
            [
                ("lambda-runtime-aws-request-id", id.to_string()),
                ("lambda-runtime-deadline-ms", deadline.to_string()),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:eu-west-1:123456789012:function:bench".to_owned(),
                ),
            ],
            axum::Json(event),
        )
            .into_response()
    }

    async fn response(
        State(api): State<Arc<Self>>,
        UrlPath(id): UrlPath<usize>,
        body: String,
    ) -> StatusCode {
        let answered = Instant::now();
        let handed_out = api
            .handed_out
            .lock()
            .expect("not poisoned")
            .get(id)
            .copied();
        let Some(handed_out) = handed_out else {
            return StatusCode::NOT_FOUND;
        };
        let outcome = serde_json::from_str(&body)
            .map(|response| Handled {
                handed_out,
                answered,
                response,
            })
            .map_err(|error| format!("a response that is not JSON ({error}): {body}"));
        let _ = api.outcomes.send(outcome);
        StatusCode::ACCEPTED
    }

    async fn error(
        State(api): State<Arc<Self>>,
        UrlPath(id): UrlPath<usize>,
        body: String,
    ) -> StatusCode {
        let _ = api
            .outcomes
            .send(Err(format!("error reported for event {id}: {body}")));
        StatusCode::ACCEPTED
    }

    async fn init_error(State(api): State<Arc<Self>>, body: String) -> StatusCode {
        let _ = api
            .outcomes
            .send(Err(format!("initialisation failed: {body}")));
        StatusCode::ACCEPTED
    }
}
