//! Faults: DynamoDB stopping and starting again under a burst of profile updates. (The import
//! cut by an outage is in `imports.rs`, next to its other large runs.)

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use roster_e2e::{PrivateDynamoDb, TestApp, organisation, spawn_app, stack, unique_email};
use serde_json::{Value, json};

/// What one writer saw: each PATCH it sent with the department it set and the status it got.
#[derive(Default)]
struct Writes {
    sent: Vec<(String, u16)>,
    /// Any answer other than 200 and 503 (the outage's), with its body.
    unexpected: Vec<String>,
    /// 503 answers (reads and writes), and those whose body was not a `service_unavailable`
    /// problem.
    outage: usize,
    unclear_503: usize,
}

/// Reads the person's profile and sets a new department, again and again until `stop`, as one
/// client of the burst would.
async fn write_until_stopped(
    app: TestApp,
    token: String,
    writer: usize,
    stop: Arc<AtomicBool>,
    acknowledged_after_restart: Arc<AtomicUsize>,
    restarted: Arc<AtomicBool>,
) -> Writes {
    let mut writes = Writes::default();
    let mut attempt = 0;
    while !stop.load(Ordering::SeqCst) {
        let read = app.get("/v1/me", &token).send().await.unwrap();
        let status = read.status().as_u16();
        let etag = read
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = read.text().await.unwrap();
        let Some(etag) = etag.filter(|_| status == 200) else {
            check_outage_answer(&mut writes, status, &body);
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        attempt += 1;
        let department = format!("Writer {writer} #{attempt}");
        let response = app
            .patch(
                "/v1/me",
                &token,
                &etag,
                &json!({ "department": department }),
            )
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        writes.sent.push((department, status));
        if status == 200 {
            if restarted.load(Ordering::SeqCst) {
                acknowledged_after_restart.fetch_add(1, Ordering::SeqCst);
            }
        } else {
            check_outage_answer(&mut writes, status, &body);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    writes
}

fn check_outage_answer(writes: &mut Writes, status: u16, body: &str) {
    if status != 503 {
        writes.unexpected.push(format!("{status}: {body}"));
        return;
    }
    writes.outage += 1;
    let problem: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if problem["code"] != "service_unavailable" {
        writes.unclear_503 += 1;
    }
}

#[tokio::test]
async fn profile_updates_while_dynamodb_stops_get_503_and_none_is_lost_or_doubled_after_it_restarts()
 {
    let stack = stack().await;
    let mut dynamodb = PrivateDynamoDb::start_persistent().await;
    let clients = dynamodb.clients(stack).await;
    let app = spawn_app(&stack.functions_with(&clients, profile_api::system_clock())).await;
    let (_, admin) = organisation(&app, json!({})).await;
    let mut people = Vec::new();
    for writer in 0..8 {
        let email = unique_email(&format!("writer{writer}"));
        let created = app
            .post_json(
                "/v1/admin/users",
                &admin,
                &json!({ "first_name": "Wri", "last_name": format!("Ter{writer}"), "email": email }),
            )
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        let session = app.invited_session(&admin, &id, &email).await;
        let (_, etag) = app.read("/v1/me", &session).await;
        people.push((session, etag));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let restarted = Arc::new(AtomicBool::new(false));
    let acknowledged_after_restart = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(writer, (token, _))| {
            tokio::spawn(write_until_stopped(
                app.clone(),
                token.clone(),
                writer,
                stop.clone(),
                acknowledged_after_restart.clone(),
                restarted.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    dynamodb.stop();
    tokio::time::sleep(Duration::from_secs(3)).await;
    dynamodb.restart().await;
    restarted.store(true, Ordering::SeqCst);
    // The same service, not restarted, takes writes again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acknowledged_after_restart.load(Ordering::SeqCst) < 3 * people.len() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the service did not recover after DynamoDB came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::SeqCst);

    let mut outage_answers = 0;
    for ((token, first_etag), writer) in people.iter().zip(writers) {
        let writes = writer.await.unwrap();
        assert!(writes.unexpected.is_empty(), "{:?}", writes.unexpected);
        assert_eq!(
            writes.unclear_503, 0,
            "every 503 is a service_unavailable problem"
        );
        outage_answers += writes.outage;

        // Not lost: the profile shows the last acknowledged department, or one sent after it
        // whose answer the outage swallowed.
        let (me, etag) = app.read("/v1/me", token).await;
        let last_acknowledged = writes.sent.iter().rposition(|(_, s)| *s == 200).unwrap();
        let possible: Vec<&str> = writes.sent[last_acknowledged..]
            .iter()
            .map(|(d, _)| d.as_str())
            .collect();
        assert!(
            possible.contains(&me["department"].as_str().unwrap()),
            "{} is none of {possible:?}",
            me["department"]
        );
        // Not doubled: the profile's version moved once per write that was applied, which is
        // each acknowledged one and at most each unanswered one.
        let version = |etag: &str| etag.trim_matches('"').parse::<u64>().unwrap();
        let applied = version(&etag) - version(first_etag);
        let acknowledged = writes.sent.iter().filter(|(_, s)| *s == 200).count() as u64;
        let unanswered = writes.sent.iter().filter(|(_, s)| *s == 503).count() as u64;
        assert!(
            (acknowledged..=acknowledged + unanswered).contains(&applied),
            "{applied} writes applied for {acknowledged} acknowledged and {unanswered} unanswered"
        );
    }
    assert!(outage_answers > 0, "no request met the outage");
}
