//! The foundation: health, the stack built from the template, each function through its sample
//! event, local invocation, the import bucket trigger and the email outbox.

use std::time::Duration;

use aws_sdk_dynamodb::types::{KeyType, ProjectionType};
use aws_sdk_sesv2::types::{EmailContent, RawMessage};
use roster_e2e::{CapturedLogs, PrivateDynamoDb, sample_event, spawn_app, stack};
use roster_local::{events::s3_put_event, watch::BucketWatcher};
use serde_json::{Value, json};

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    )
}

/// The `request` span of the "request answered" line of `path`, with the line's status.
fn answered(logs: &CapturedLogs, path: &str) -> (Value, Value) {
    logs.text()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|line| line["fields"]["message"] == "request answered")
        .find_map(|line| {
            let span = line["spans"]
                .as_array()?
                .iter()
                .find(|span| span["name"] == "request" && span["route"] == path)?
                .clone();
            Some((span, line["fields"]["status"].clone()))
        })
        .unwrap_or_else(|| panic!("no answered line for {path} in {}", logs.text()))
}

#[tokio::test]
async fn each_request_logs_one_line_with_its_organisation_and_never_a_secret() {
    let (logs, _logging) = CapturedLogs::start();
    let app = spawn_app(&stack().await.functions()).await;
    let (organisation, token) = roster_e2e::organisation(&app, json!({})).await;
    let me = app.get("/v1/me?fields=all", &token).send().await.unwrap();
    assert_eq!(me.status(), 200);
    let refused = app.get("/v1/me", "not-a-session").send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let pasted = "reset-token-pasted-into-a-path";
    let unknown = app
        .get(&format!("/v1/admin/imports/{pasted}"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let (span, status) = answered(&logs, "/v1/me");
    assert_eq!(status, 200);
    assert_eq!(span["method"], "GET");
    assert_eq!(span["organisation"], organisation.id.as_str());
    let (login, status) = answered(&logs, "/v1/auth/login");
    assert_eq!(
        (login["organisation"].as_str(), status),
        (Some(organisation.id.as_str()), json!(200))
    );
    let (route, status) = answered(&logs, "/v1/admin/imports/{import}");
    assert_eq!((&route["method"], status), (&json!("GET"), json!(404)));
    let text = logs.text();
    assert!(text.contains(r#""status":401"#), "{text}");
    // What Lambda's log-level filtering needs of a line, or it files it as INFO.
    for line in text.lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        let timestamp = line["timestamp"].as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(),
            "{line}"
        );
        assert!(line["level"].is_string(), "{line}");
    }
    for secret in [
        token.as_str(),
        roster_e2e::TEST_PASSWORD,
        "fields=all",
        pasted,
    ] {
        assert!(!text.contains(secret), "{secret} is logged");
    }
}

#[tokio::test]
async fn a_table_the_service_cannot_use_is_answered_503_and_logged_with_dynamodbs_reason() {
    let (logs, _logging) = CapturedLogs::start();
    let missing = unique("missing-table");
    let functions = stack()
        .await
        .functions_configured(profile_api::system_clock(), |config| {
            config.table_name = missing.clone();
        });
    let app = spawn_app(&functions).await;
    for path in ["/scim/v2/Users", "/v1/me"] {
        let response = app
            .http
            .get(app.url(path))
            .bearer_auth("o1.some-token")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503, "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains(&missing), "{path} names the table: {body}");
    }
    // The SDK's own message is only "service error": the operator needs DynamoDB's.
    let errors: Vec<String> = logs
        .text()
        .lines()
        .filter(|line| line.contains(r#""level":"ERROR""#))
        .map(str::to_owned)
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    for line in &errors {
        assert!(line.contains("ResourceNotFoundException"), "{line}");
    }
}

#[tokio::test]
async fn health_answers_200_when_the_table_is_reachable() {
    let stack = stack().await;
    let app = spawn_app(&stack.functions()).await;

    let response = app.http.get(app.url("/health")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "status": "ok", "table": "reachable" }));
}

#[tokio::test]
async fn health_answers_503_once_dynamodb_local_is_stopped() {
    let stack = stack().await;
    let mut dynamodb = PrivateDynamoDb::start().await;
    let clients = dynamodb.clients(stack).await;
    let app = spawn_app(&stack.functions_with(&clients, profile_api::system_clock())).await;
    let before = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(before.status(), 200);

    dynamodb.stop();
    let after = tokio::time::timeout(
        Duration::from_secs(20),
        app.http.get(app.url("/health")).send(),
    )
    .await
    .expect("/health answers instead of hanging")
    .unwrap();

    assert_eq!(after.status(), 503);
    assert_eq!(after.headers()["content-type"], "application/problem+json");
    let problem: Value = after.json().await.unwrap();
    assert_eq!(problem["status"], 503);
    assert_eq!(problem["code"], "service_unavailable");
}

#[tokio::test]
async fn health_answers_503_when_dynamodb_accepts_connections_but_never_answers() {
    let stack = stack().await;
    let silent = roster_e2e::spawn_silent_server().await;
    let mut clients = stack.clients();
    clients.dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&stack.aws)
            .endpoint_url(&silent.origin)
            .build(),
    );
    let app = spawn_app(&stack.functions_with(&clients, profile_api::system_clock())).await;

    let response = tokio::time::timeout(
        Duration::from_secs(20),
        app.http.get(app.url("/health")).send(),
    )
    .await
    .expect("/health answers instead of hanging")
    .unwrap();

    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn unknown_v1_route_answers_404_problem_json() {
    let stack = stack().await;
    let app = spawn_app(&stack.functions()).await;

    let response = app
        .http
        .get(app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "not_found");
}

#[tokio::test]
async fn a_path_whose_escapes_are_not_utf8_names_nothing_and_answers_problem_json() {
    let stack = stack().await;
    let app = spawn_app(&stack.functions()).await;
    let (_, token) = roster_e2e::organisation(&app, serde_json::json!({})).await;

    let response = app.get("/v1/admin/users/%FF", &token).send().await.unwrap();

    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "not_found");
}

#[tokio::test]
async fn scim_paths_reach_the_scim_function_and_answer_in_the_scim_error_schema() {
    let stack = stack().await;
    let app = spawn_app(&stack.functions()).await;

    let response = app
        .http
        .get(app.url("/scim/v2/Nothing"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 401, "no SCIM token");
    assert_eq!(response.headers()["content-type"], "application/scim+json");
    let error: Value = response.json().await.unwrap();
    assert_eq!(
        error["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(error["status"], "401");
}

#[tokio::test]
async fn the_stack_table_has_the_keys_indexes_and_ttl_the_template_declares() {
    let stack = stack().await;
    let declared = stack.template().table;
    let dynamodb = stack.clients().dynamodb;

    let table = dynamodb
        .describe_table()
        .table_name(&stack.config.table_name)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();

    let keys = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| {
        schema
            .iter()
            .map(|k| {
                (
                    k.attribute_name().to_owned(),
                    k.key_type().as_str().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let declared_keys = |schema: &[roster_local::template::KeyElement]| {
        schema
            .iter()
            .map(|k| (k.attribute_name.clone(), k.key_type.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(table.key_schema()),
        declared_keys(&declared.key_schema)
    );
    assert_eq!(table.key_schema()[0].key_type(), &KeyType::Hash);
    assert_eq!(table.key_schema()[0].attribute_name(), "pk");
    assert_eq!(table.key_schema()[1].attribute_name(), "sk");

    let mut attributes: Vec<_> = table
        .attribute_definitions()
        .iter()
        .map(|a| {
            (
                a.attribute_name().to_owned(),
                a.attribute_type().as_str().to_owned(),
            )
        })
        .collect();
    attributes.sort();
    let mut declared_attributes: Vec<_> = declared
        .attribute_definitions
        .iter()
        .map(|a| (a.attribute_name.clone(), a.attribute_type.clone()))
        .collect();
    declared_attributes.sort();
    assert_eq!(attributes, declared_attributes);

    let mut indexes: Vec<_> = table
        .global_secondary_indexes()
        .iter()
        .map(|index| {
            (
                index.index_name().unwrap().to_owned(),
                keys(index.key_schema()),
                index
                    .projection()
                    .and_then(|p| p.projection_type())
                    .cloned(),
            )
        })
        .collect();
    indexes.sort_by(|a, b| a.0.cmp(&b.0));
    let mut declared_indexes: Vec<_> = declared
        .global_secondary_indexes
        .iter()
        .map(|index| {
            (
                index.index_name.clone(),
                declared_keys(&index.key_schema),
                Some(ProjectionType::from(
                    index.projection.projection_type.as_str(),
                )),
            )
        })
        .collect();
    declared_indexes.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        !declared_indexes.is_empty(),
        "the template declares the table's indexes"
    );
    assert_eq!(indexes, declared_indexes);

    let ttl = dynamodb
        .describe_time_to_live()
        .table_name(&stack.config.table_name)
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    let declared_ttl = declared.time_to_live_specification.unwrap();
    assert_eq!(
        ttl.attribute_name(),
        Some(declared_ttl.attribute_name.as_str())
    );
    assert_eq!(
        ttl.time_to_live_status().map(|s| s.as_str()),
        Some("ENABLED")
    );
}

#[tokio::test]
async fn profile_api_answers_its_api_gateway_sample_event() {
    let stack = stack().await;

    let response = stack
        .functions()
        .invoke("profile-api", sample_event("profile-api-health.json"))
        .await
        .unwrap();

    assert_eq!(response["statusCode"], 200);
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["table"], "reachable");
}

#[tokio::test]
async fn scim_answers_its_api_gateway_sample_event_in_the_scim_error_schema() {
    let stack = stack().await;

    let response = stack
        .functions()
        .invoke("scim", sample_event("scim-get-users.json"))
        .await
        .unwrap();

    assert_eq!(
        response["statusCode"], 401,
        "the sample carries no SCIM token"
    );
    assert_eq!(response["headers"]["content-type"], "application/scim+json");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
}

/// The sample S3 event, pointed at the test stack's bucket, with its object put there first.
#[tokio::test]
async fn csv_import_receives_the_object_of_its_s3_sample_event() {
    let stack = stack().await;
    let mut event = sample_event("csv-import-s3-put.json");
    let record = &mut event["Records"][0]["s3"];
    record["bucket"]["name"] = json!(stack.config.import_bucket);
    let body = "CSV_USERNAME,CSV_FIRSTNAME\nJanJ,Jan\n";
    stack
        .clients()
        .s3
        .put_object()
        .bucket(&stack.config.import_bucket)
        .key("imports/demo-org/imp-0001/new hires été.csv")
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();

    let run = stack.functions().invoke("csv-import", event).await.unwrap();

    assert_eq!(run["skipped"], json!([]));
    let received = &run["received"][0];
    assert_eq!(
        received["key"],
        "imports/demo-org/imp-0001/new hires été.csv"
    );
    assert_eq!(received["size"], body.len());
    assert_eq!(
        received["source"],
        json!({
            "kind": "admin_upload",
            "organisation": "demo-org",
            "import": "imp-0001",
            "file_name": "new hires été.csv"
        })
    );
}

#[tokio::test]
async fn csv_import_skips_objects_outside_the_import_layouts() {
    let stack = stack().await;
    let mut event = sample_event("csv-import-s3-put.json");
    event["Records"][0]["s3"]["bucket"]["name"] = json!(stack.config.import_bucket);
    event["Records"][0]["s3"]["object"]["key"] = json!("avatars/someone.png");

    let run = stack.functions().invoke("csv-import", event).await.unwrap();

    assert_eq!(run["received"], json!([]));
    assert_eq!(run["skipped"][0]["key"], "avatars/someone.png");
}

#[tokio::test]
async fn jobs_run_the_job_their_sample_schedule_names_at_the_event_time() {
    let stack = stack().await;
    let functions = stack.functions();

    let reminder = functions
        .invoke("jobs", sample_event("jobs-checkin-reminder.json"))
        .await
        .unwrap();
    let summary = functions
        .invoke("jobs", sample_event("jobs-daily-summary.json"))
        .await
        .unwrap();

    assert_eq!(reminder["job"], "checkin-reminder");
    assert_eq!(reminder["now"], "2026-11-23T08:00:00Z");
    assert_eq!(summary["job"], "daily-summary");
    assert_eq!(summary["now"], "2026-11-23T17:00:00Z");
}

#[tokio::test]
async fn every_schedule_in_the_template_names_a_job_the_jobs_function_runs() {
    let stack = stack().await;
    let functions = stack.functions();
    let schedules = stack.template().schedules;
    assert_eq!(schedules.len(), 3);

    // At a moment long past, when no other test has work due: a run now could finish another
    // test's SCIM group change while that test still looks at it half done.
    let long_ago = chrono::DateTime::parse_from_rfc3339("2001-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let mut jobs = Vec::new();
    for schedule in schedules {
        let event =
            roster_local::events::scheduled_event(&schedule.rule_name, long_ago, "eu-west-1");
        let run = functions.invoke("jobs", event).await.unwrap();
        jobs.push(run["job"].as_str().unwrap().to_owned());
    }
    jobs.sort();

    assert_eq!(
        jobs,
        ["checkin-reminder", "daily-summary", "finish-scim-groups"]
    );
}

#[tokio::test]
async fn local_invoke_route_runs_a_function_and_reports_function_errors_as_lambda_does() {
    let stack = stack().await;
    let app = spawn_app(&stack.functions()).await;

    // The payload is JSON whatever the content type says (`curl -d @events/...` sends a form's).
    let ok = app
        .http
        .post(app.url("/_local/invoke/jobs"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(sample_event("jobs-daily-summary.json").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().get("x-amz-function-error").is_none());
    assert_eq!(ok.json::<Value>().await.unwrap()["job"], "daily-summary");
    let not_json = app
        .http
        .post(app.url("/_local/invoke/jobs"))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let error: Value = not_json.json().await.unwrap();
    assert_eq!(error["errorType"], "InvalidRequestContentException");

    let mut unknown_rule = sample_event("jobs-daily-summary.json");
    unknown_rule["resources"] =
        json!(["arn:aws:events:eu-west-1:123456789012:rule/roster-weekly-report"]);
    let failed = app
        .http
        .post(app.url("/_local/invoke/jobs"))
        .json(&unknown_rule)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 200);
    assert_eq!(failed.headers()["x-amz-function-error"], "Unhandled");
    let error: Value = failed.json().await.unwrap();
    assert_eq!(error["errorType"], "JobError");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("roster-weekly-report")
    );

    let missing = app
        .http
        .post(app.url("/_local/invoke/nope"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_file_put_into_the_import_bucket_reaches_csv_import_once_as_an_s3_event() {
    let stack = stack().await;
    let s3 = stack.clients().s3;
    let mut watcher = BucketWatcher::start(s3.clone(), &stack.config.import_bucket)
        .await
        .unwrap();
    let key = format!("sync/{}/HR export (täglich).csv", unique("org"));
    s3.put_object()
        .bucket(&stack.config.import_bucket)
        .key(&key)
        .body(b"CSV_EMAIL\na@example.com\n".to_vec().into())
        .send()
        .await
        .unwrap();

    let created: Vec<_> = watcher
        .poll()
        .await
        .unwrap()
        .into_iter()
        .filter(|object| object.key == key)
        .collect();
    assert_eq!(created.len(), 1);
    assert!(
        created[0].version_id.is_some(),
        "the bucket is versioned as the template says"
    );
    let event = s3_put_event(
        &stack.config.import_bucket,
        &stack.config.region,
        chrono::Utc::now(),
        &created,
    );
    let run = stack.functions().invoke("csv-import", event).await.unwrap();
    assert_eq!(run["received"][0]["key"], key);
    assert_eq!(run["received"][0]["source"]["kind"], "sync_drop");

    let again = watcher.poll().await.unwrap();
    assert!(
        again.iter().all(|object| object.key != key),
        "a version is reported once"
    );
}

#[tokio::test]
async fn emails_sent_through_ses_v2_appear_in_the_outbox_with_their_mime() {
    let stack = stack().await;
    let ses = aws_sdk_sesv2::Client::new(&stack.aws);
    let subject = unique("Outbox check");
    let mime = format!(
        "From: {from}\r\nTo: ada@example.com\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Ada\r\n",
        from = stack.config.sender_address
    );

    ses.send_email()
        .from_email_address(&stack.config.sender_address)
        .destination(
            aws_sdk_sesv2::types::Destination::builder()
                .to_addresses("ada@example.com")
                .build(),
        )
        .content(
            EmailContent::builder()
                .raw(
                    RawMessage::builder()
                        .data(mime.as_bytes().to_vec().into())
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();

    let outbox: Vec<Value> = reqwest::get(stack.outbox_url())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sent = outbox
        .iter()
        .find(|message| message["subject"] == subject.as_str())
        .expect("the email is in the outbox");
    assert_eq!(sent["to"], json!(["ada@example.com"]));
    assert!(sent["raw"].as_str().unwrap().contains("Hello Ada"));
}
