//! Bulk import: user lists uploaded by administrators or dropped for the daily sync, run by the
//! csv-import function on real S3 events against the local stack.

use std::{collections::BTreeSet, io::Write};

use roster_domain::ids::{ImportId, OrganisationId, UserId};
use roster_e2e::{
    PrivateDynamoDb, TestApp, TestClock, TestOrganisation, TransactionConflicts, field_codes,
    organisation, spawn_app, stack, unique_email,
};
use roster_local::{
    Functions,
    events::{CreatedObject, s3_put_event},
};
use roster_store::{DynamoTable, UserFilter};
use serde_json::{Value, json};

struct Importing {
    app: TestApp,
    organisation: TestOrganisation,
    token: String,
    functions: Functions,
    dynamodb: aws_sdk_dynamodb::Client,
}

/// An organisation on the stack's table, with its admin's session.
async fn importing() -> Importing {
    importing_under(json!({})).await
}

/// `importing()` for an organisation created with `settings`.
async fn importing_under(settings: Value) -> Importing {
    let stack = stack().await;
    importing_with(stack.functions(), stack.clients().dynamodb, settings).await
}

async fn importing_with(
    functions: Functions,
    dynamodb: aws_sdk_dynamodb::Client,
    settings: Value,
) -> Importing {
    let app = spawn_app(&functions).await;
    let (organisation, token) = organisation(&app, settings).await;
    Importing {
        app,
        organisation,
        token,
        functions,
        dynamodb,
    }
}

/// `importing()` whose functions' writes meet other transactions where the answered
/// `TransactionConflicts` is armed.
async fn importing_with_conflicts() -> (Importing, TransactionConflicts) {
    let stack = stack().await;
    let conflicts = TransactionConflicts::default();
    let clients = stack.intercepted_clients(conflicts.clone());
    let importing = importing_with(
        stack.functions_with(&clients, profile_api::system_clock()),
        clients.dynamodb.clone(),
        json!({}),
    )
    .await;
    (importing, conflicts)
}

/// The S3 event of the object at `key` as the bucket holds it now.
async fn put_event(key: &str) -> Value {
    let stack = stack().await;
    let head = stack
        .clients()
        .s3
        .head_object()
        .bucket(&stack.config.import_bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    s3_put_event(
        &stack.config.import_bucket,
        &stack.config.region,
        chrono::Utc::now(),
        &[CreatedObject {
            key: key.to_owned(),
            version_id: head.version_id().map(str::to_owned),
            size: head.content_length().unwrap_or_default(),
            e_tag: head.e_tag().map(str::to_owned),
        }],
    )
}

impl Importing {
    async fn deliver(&self, event: Value) -> Value {
        self.functions.invoke("csv-import", event).await.unwrap()
    }

    /// Delivers `event` while every write naming `needle` meets another transaction: the run is
    /// cut off there, as for good.
    async fn deliver_cut_at(&self, conflicts: &TransactionConflicts, needle: &str, event: Value) {
        conflicts.arm(needle, usize::MAX);
        let cut = self.functions.invoke("csv-import", event).await;
        assert!(cut.is_err(), "the run went on: {cut:?}");
        conflicts.arm("", 0);
    }

    /// Announces an import, uploads `file` to its presigned URL and answers `(id, object key)`.
    async fn upload(&self, options: Value, file: &[u8]) -> (String, String) {
        self.upload_by(&self.token, options, file).await
    }

    /// `upload` by the administrator whose session is `token`.
    async fn upload_by(&self, token: &str, options: Value, file: &[u8]) -> (String, String) {
        let response = self
            .app
            .post("/v1/admin/imports", token, &options)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let created: Value = response.json().await.unwrap();
        let put = self
            .app
            .http
            .put(created["upload_url"].as_str().unwrap())
            .body(file.to_vec())
            .send()
            .await
            .unwrap();
        assert!(put.status().is_success(), "{}", put.text().await.unwrap());
        let id = created["id"].as_str().unwrap().to_owned();
        let name = options["file_name"].as_str().unwrap_or("users.csv");
        let key = format!("imports/{}/{id}/{name}", self.organisation.id);
        (id, key)
    }

    /// Uploads a forced `replace` whose file names one newcomer only: it leaves out everyone
    /// else an import may deactivate.
    async fn upload_forced_replace_by_one_newcomer(&self) -> (String, String) {
        let newcomer = emails("k", 1);
        self.upload(
            json!({ "mode": "replace", "force": true }),
            &people_csv(&rows_of("Kim", "Keeper", &newcomer)),
        )
        .await
    }

    /// Uploads `file`, delivers its S3 event and answers the import as the API shows it.
    async fn import(&self, options: Value, file: &[u8]) -> Value {
        self.import_by(&self.token, options, file).await
    }

    /// `import` by the administrator whose session is `token`.
    async fn import_by(&self, token: &str, options: Value, file: &[u8]) -> Value {
        let (id, key) = self.upload_by(token, options, file).await;
        self.deliver(put_event(&key).await).await;
        self.report(&id).await
    }

    /// Starts delivering `event` and answers the running delivery once its import created
    /// someone.
    async fn run_until_it_created_someone(&self, event: Value) -> tokio::task::JoinHandle<Value> {
        let running = tokio::spawn({
            let functions = self.functions.clone();
            async move { functions.invoke("csv-import", event).await.unwrap() }
        });
        while self.latest_import().await["counts"]["created"]
            .as_u64()
            .unwrap_or(0)
            == 0
        {
            assert!(
                !running.is_finished(),
                "the run ended before it created anyone"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        running
    }

    /// Accepts the invitation sent to `email`, the one email it received.
    async fn accept_the_one_invitation(&self, email: &str) {
        let sent = stack().await.emails_to(email).await;
        assert_eq!(sent.len(), 1);
        let token = roster_e2e::link_token(sent[0]["raw"].as_str().unwrap());
        let (accepted, _) = self
            .app
            .accept_invitation(&token, "Imported-welcome-9")
            .await;
        assert_eq!(accepted, 200);
    }

    /// The organisation's newest import, as `GET /v1/admin/imports` lists it.
    async fn latest_import(&self) -> Value {
        self.app.json("/v1/admin/imports", &self.token).await["items"][0].clone()
    }

    async fn report(&self, id: &str) -> Value {
        let response = self
            .app
            .get(&format!("/v1/admin/imports/{id}"), &self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn user(&self, id: &str) -> Value {
        self.app
            .get(&format!("/v1/admin/users/{id}"), &self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The user a row created or updated.
    async fn user_of_row(&self, report: &Value, row: u64) -> Value {
        let entry = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["row"] == row)
            .unwrap_or_else(|| panic!("row {row} in {report}"));
        self.user(entry["user_id"].as_str().unwrap()).await
    }

    async fn table(&self) -> (DynamoTable, OrganisationId) {
        let stack = stack().await;
        (
            DynamoTable::new(self.dynamodb.clone(), &stack.config.table_name),
            OrganisationId::try_from(self.organisation.id.as_str()).unwrap(),
        )
    }

    /// Every user of the organisation with their status.
    async fn users(&self) -> Vec<roster_domain::membership::Membership> {
        let (table, organisation) = self.table().await;
        let mut users = Vec::new();
        let mut cursor = None;
        loop {
            let page = table
                .list_users(
                    &organisation,
                    &UserFilter::default(),
                    1000,
                    cursor.as_deref(),
                )
                .await
                .unwrap();
            users.extend(page.users);
            cursor = page.next_cursor;
            if cursor.is_none() {
                return users;
            }
        }
    }
}

fn counts(report: &Value) -> (u64, u64, u64, u64, u64) {
    let c = &report["counts"];
    let n = |k: &str| c[k].as_u64().unwrap();
    (
        n("created"),
        n("updated"),
        n("unchanged"),
        n("deactivated"),
        n("errors"),
    )
}

fn row_errors(report: &Value, row: u64) -> Vec<(String, String)> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["row"] == row)
        .map(|r| field_codes(&r["errors"]))
        .unwrap_or_default()
}

/// `n` email addresses no other test uses.
fn emails(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| unique_email(&format!("{prefix}{i}")))
        .collect()
}

/// One `(first, last, email)` row per email.
fn rows_of<'a>(
    first: &'a str,
    last: &'a str,
    emails: &'a [String],
) -> Vec<(&'a str, &'a str, &'a str)> {
    emails.iter().map(|e| (first, last, e.as_str())).collect()
}

/// A human-header CSV of `(first, last, email)` rows.
fn people_csv(people: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut csv = String::from("First name,Last name,Email\n");
    for (first, last, email) in people {
        csv.push_str(&format!("{first},{last},{email}\n"));
    }
    csv.into_bytes()
}

/// A minimal XLSX workbook (inline strings) with `extra` parts added to its zip.
fn xlsx(rows: &[&[&str]], extra: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for (c, cell) in row.iter().enumerate() {
            let column = (b'A' + c as u8) as char;
            sheet.push_str(&format!(
                r#"<c r="{column}{}" t="inlineStr"><is><t>{cell}</t></is></c>"#,
                r + 1
            ));
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let parts: Vec<(&str, Vec<u8>)> = vec![
        ("[Content_Types].xml", br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_vec()),
        ("_rels/.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_vec()),
        ("xl/workbook.xml", br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_vec()),
        ("xl/_rels/workbook.xml.rels", br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_vec()),
        ("xl/worksheets/sheet1.xml", sheet.into_bytes()),
    ];
    zip_of(&parts, extra)
}

/// A minimal ODS spreadsheet.
fn ods(rows: &[&[&str]]) -> Vec<u8> {
    let mut table = String::new();
    for row in rows {
        table.push_str("<table:table-row>");
        for cell in *row {
            table.push_str(&format!(
                r#"<table:table-cell office:value-type="string"><text:p>{cell}</text:p></table:table-cell>"#
            ));
        }
        table.push_str("</table:table-row>");
    }
    ods_of_table(&table)
}

/// An ODS spreadsheet whose one table holds the XML `table`, as it comes.
fn ods_of_table(table: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Users">{table}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let parts: Vec<(&str, Vec<u8>)> = vec![
        ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet".to_vec()),
        ("META-INF/manifest.xml", br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#.to_vec()),
        ("content.xml", content.into_bytes()),
    ];
    zip_of(&parts, &[])
}

fn zip_of(parts: &[(&str, Vec<u8>)], extra: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in parts.iter().chain(extra) {
        writer.start_file(*name, options).unwrap();
        writer.write_all(body).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[tokio::test]
async fn an_upload_creates_not_invited_users_owned_by_csv_and_reports_each_row() {
    let importing = importing().await;
    let (ada, bob) = (unique_email("ada"), unique_email("bob"));
    let report = importing
        .import(
            json!({ "mode": "add" }),
            &people_csv(&[("Ada", "Lovelace", &ada), ("Bob", "Marley", &bob)]),
        )
        .await;

    assert_eq!(report["status"], "done", "{report}");
    assert_eq!(counts(&report), (2, 0, 0, 0, 0));
    assert_eq!(report["columns"][0]["column"], "first_name");
    assert_eq!(report["columns"][0]["confidence"], 0.9);
    // Each row in DESIGN.md's shape: `errors` is there (empty) for a row that went through.
    for row in report["rows"].as_array().unwrap() {
        assert_eq!(
            (&row["status"], &row["errors"]),
            (&json!("created"), &json!([])),
            "{row}"
        );
    }
    let user = importing.user_of_row(&report, 1).await;
    assert_eq!(user["email"], ada);
    assert_eq!(user["invitation_status"], "not_invited");
    assert_eq!(user["status"], "active");
    assert_eq!(user["managed_by"]["first_name"], "csv");
    assert!(
        stack().await.emails_to(&ada).await.is_empty(),
        "nobody is emailed unless the import invites"
    );

    assert_eq!(importing.latest_import().await["id"], report["id"]);
}

#[tokio::test]
async fn someone_imported_by_username_alone_signs_in_with_the_pin_an_admin_gives_them() {
    let importing = importing().await;
    let csv = "First name,Last name,Username\nJan,Jansen,JanJ\n";
    let report = importing
        .import(json!({ "mode": "add" }), csv.as_bytes())
        .await;
    assert_eq!(counts(&report), (1, 0, 0, 0, 0), "{report}");
    let id = report["rows"][0]["user_id"].as_str().unwrap();
    let (app, organisation) = (&importing.app, &importing.organisation.id);
    let login = |pin: String| async move {
        app.http
            .post(app.url("/v1/auth/login"))
            .json(&json!({ "organisation": organisation, "username": "janj", "password": pin }))
            .send()
            .await
            .unwrap()
            .status()
    };

    let given = app
        .post(
            &format!("/v1/admin/users/{id}/pin"),
            &importing.token,
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    // Confirming them raised their version: the answer's ETag is the one an edit needs.
    let etag = given.headers()["etag"].to_str().unwrap().to_owned();
    let given: Value = given.json().await.unwrap();
    let edited = app
        .patch(
            &format!("/v1/admin/users/{id}"),
            &importing.token,
            &etag,
            &json!({ "department": "Ops" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    // Was 401: the PIN was saved, but the person stayed `not_invited`, whom no login admits.
    assert_eq!(login(given["pin"].as_str().unwrap().to_owned()).await, 200);
    assert_eq!(importing.user(id).await["invitation_status"], "confirmed");
}

#[tokio::test]
async fn the_import_list_pages_newest_first_and_forgets_imports_past_their_retention() {
    let clock = TestClock::default();
    let stack = stack().await;
    let mut importing = importing_with(
        stack.functions_with(&stack.clients(), clock.clock()),
        stack.clients().dynamodb,
        json!({}),
    )
    .await;
    let mut announced = Vec::new();
    for _ in 0..3 {
        let created = importing
            .app
            .post(
                "/v1/admin/imports",
                &importing.token,
                &json!({ "mode": "add" }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        announced.push(created.json::<Value>().await.unwrap()["id"].clone());
        clock.advance(chrono::Duration::minutes(1));
    }
    let ids = |page: &Value| -> Vec<Value> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|import| import["id"].clone())
            .collect()
    };

    let first = importing
        .app
        .json("/v1/admin/imports?limit=2", &importing.token)
        .await;
    assert_eq!(ids(&first), [announced[2].clone(), announced[1].clone()]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = importing
        .app
        .json(
            &format!("/v1/admin/imports?limit=2&cursor={cursor}"),
            &importing.token,
        )
        .await;
    assert_eq!(ids(&second), [announced[0].clone()]);
    assert_eq!(second["next_cursor"], Value::Null, "the last page");
    let whole = importing
        .app
        .json("/v1/admin/imports?limit=3", &importing.token)
        .await;
    assert_eq!(ids(&whole).len(), 3);
    assert_eq!(
        whole["next_cursor"],
        Value::Null,
        "a full page that ends the list"
    );
    let foreign = importing
        .app
        .get(
            "/v1/admin/imports?cursor=bm90LWEtY3Vyc29y",
            &importing.token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 422);

    // 90 days after the first import was announced it is gone, though DynamoDB Local never
    // deletes by TTL; the ones a minute younger are still kept.
    clock.advance(chrono::Duration::days(90) - chrono::Duration::seconds(150));
    importing.token = importing
        .app
        .login(
            &importing.organisation.admin_email,
            roster_e2e::TEST_PASSWORD,
        )
        .await;
    let kept = importing
        .app
        .json("/v1/admin/imports", &importing.token)
        .await;
    assert_eq!(ids(&kept), [announced[2].clone(), announced[1].clone()]);
    let path = |id: &Value| format!("/v1/admin/imports/{}", id.as_str().unwrap());
    let gone = importing
        .app
        .get(&path(&announced[0]), &importing.token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    importing.report(announced[1].as_str().unwrap()).await;
    // A cursor past every chunk of a report is an empty last page (was: 503 from 50000000 on,
    // whose key sorts after the query's upper bound).
    for cursor in ["50000000", "4294967295"] {
        let past = importing
            .app
            .get(
                &format!("{}?cursor={cursor}", path(&announced[1])),
                &importing.token,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(past.status(), 200, "{cursor}");
        let past: Value = past.json().await.unwrap();
        assert_eq!(
            (&past["rows"], &past["next_cursor"]),
            (&json!([]), &Value::Null),
            "{past}"
        );
    }

    // A cursor whose last import aged past the retention meanwhile ends the list.
    clock.advance(chrono::Duration::seconds(60));
    let after_aged = importing
        .app
        .json(
            &format!("/v1/admin/imports?limit=2&cursor={cursor}"),
            &importing.token,
        )
        .await;
    assert_eq!(ids(&after_aged), Vec::<Value>::new());
    assert_eq!(after_aged["next_cursor"], Value::Null);
}

#[tokio::test]
async fn an_import_that_invites_sends_each_new_person_a_link_they_can_accept() {
    let importing = importing().await;
    let email = unique_email("invited");
    let report = importing
        .import(
            json!({ "mode": "add", "invite": true }),
            &people_csv(&[("Ivy", "Invited", &email)]),
        )
        .await;
    assert_eq!(counts(&report), (1, 0, 0, 0, 0), "{report}");
    assert_eq!(
        importing.user_of_row(&report, 1).await["invitation_status"],
        "pending"
    );

    importing.accept_the_one_invitation(&email).await;
    assert_eq!(
        importing.user_of_row(&report, 1).await["invitation_status"],
        "confirmed"
    );
}

#[tokio::test]
async fn an_invitation_ses_does_not_take_is_the_rows_error_and_leaves_the_person_not_invited() {
    let stack = stack().await;
    let importing = importing_with(
        stack.functions_without_ses_and_sns(profile_api::system_clock()),
        stack.clients().dynamodb,
        json!({}),
    )
    .await;
    let email = unique_email("unreached");
    let report = importing
        .import(
            json!({ "mode": "add", "invite": true }),
            &people_csv(&[("Una", "Reached", &email)]),
        )
        .await;

    // Was `created` with no error, `pending`, and a link nobody received.
    assert_eq!(counts(&report), (1, 0, 0, 0, 0), "{report}");
    assert_eq!(
        row_errors(&report, 1),
        [("email".to_owned(), "invitation_not_sent".to_owned())]
    );
    let person = importing.user_of_row(&report, 1).await;
    assert_eq!(person["invitation_status"], "not_invited");
    assert!(stack.emails_to(&email).await.is_empty());
}

#[tokio::test]
async fn an_invitation_cut_off_as_it_was_sent_is_sent_again_when_the_import_is_redelivered() {
    let stack = stack().await;
    let importing = importing().await;
    let email = unique_email("cut.short");
    let (id, key) = importing
        .upload(
            json!({ "mode": "add", "invite": true }),
            &people_csv(&[("Cy", "Short", &email)]),
        )
        .await;
    let event = put_event(&key).await;

    // The run is cut off while the email service holds its invitation without answering.
    let silent = roster_e2e::spawn_silent_server().await;
    let mut hanging = stack.clients();
    hanging.ses = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(&stack.aws)
            .endpoint_url(&silent.origin)
            .build(),
    );
    let running = tokio::spawn({
        let functions = stack.functions_with(&hanging, profile_api::system_clock());
        let event = event.clone();
        async move { functions.invoke("csv-import", event).await }
    });
    while silent.connections() == 0 {
        assert!(!running.is_finished(), "the run ended before it emailed");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    running.abort();
    let _ = running.await;

    // Lambda's retry invites the person again, with a link that works.
    importing.deliver(event).await;
    let report = importing.report(&id).await;
    assert_eq!(counts(&report), (1, 0, 0, 0, 0), "{report}");
    assert_eq!(row_errors(&report, 1), []);
    importing.accept_the_one_invitation(&email).await;
}

#[tokio::test]
async fn invitations_sent_before_a_run_was_cut_off_keep_working_and_are_not_sent_twice() {
    let (importing, conflicts) = importing_with_conflicts().await;
    let invited = emails("sent", 3);
    let (id, key) = importing
        .upload(
            json!({ "mode": "add", "invite": true }),
            &people_csv(&rows_of("Sent", "Once", &invited)),
        )
        .await;
    let event = put_event(&key).await;

    // Cut where the run saves the report of the chunk, after its invitations went out.
    importing
        .deliver_cut_at(&conflicts, "ROWS#00000000", event.clone())
        .await;

    importing.deliver(event).await;
    let report = importing.report(&id).await;
    assert_eq!(counts(&report), (3, 0, 0, 0, 0), "{report}");
    for email in &invited {
        importing.accept_the_one_invitation(email).await;
    }
}

#[tokio::test]
async fn the_template_columns_fill_the_profile_and_each_rule_names_its_failing_field() {
    let importing = importing().await;
    let header = "CSV_USERNAME;CSV_FIRSTNAME;CSV_SURNAME;CSV_DISPLAYNAME;CSV_TITLE;CSV_PHONE;CSV_MOBILE;CSV_DEPARTMENT;CSV_EMAIL;CSV_EHBO;CSV_BHV;CSV_PROFILEPHOTO";
    let good = [
        "JanJ",
        "Jan",
        "Jansen",
        "Jansen, Jan",
        "Manager",
        "+3120123456",
        "+3165123456",
        "Support",
        "",
        "1",
        "0",
        "janjansen.jpg",
    ];
    // An identifier longer than any DynamoDB key matches nobody: the row is refused, the run
    // goes on (DynamoDB refused the lookup, and the whole run failed).
    let overlong = "J".repeat(1100);
    // One failing value per rule; every other cell of its row passes.
    let bad = [
        (0, "J", "invalid_length"),
        (0, overlong.as_str(), "invalid_length"),
        (1, "J", "too_short"),
        (2, "", "required"),
        (3, "Jansen, Jan the Third", "too_long"),
        (4, "M", "too_short"),
        (5, "call me", "invalid_phone"),
        (6, "06-ABC", "invalid_phone"),
        (7, "S", "too_short"),
        (8, "jan@", "invalid_email"),
        (8, "Jansen, Jan <jan@example.com>", "invalid_email"),
        (9, "yes", "invalid_flag"),
        (10, "2", "invalid_flag"),
        (11, "../../etc/passwd", "invalid_photo"),
    ];
    let names = [
        "username",
        "first_name",
        "last_name",
        "display_name",
        "title",
        "phone",
        "mobile",
        "department",
        "email",
        "first_aider",
        "emergency_officer",
        "profile_photo",
    ];
    let mut csv = format!("{header}\n");
    let row_of = |cells: &[String]| cells.join(";") + "\n";
    // Each row gets its own email and username, unless the row tests those cells.
    let with_email = |n: usize, cells: &mut Vec<String>| {
        if cells[8].is_empty() {
            cells[8] = unique_email(&format!("row{n}"));
        }
        if cells[0].len() > 1 {
            cells[0] = format!("{}{n}", cells[0]);
        }
    };
    let mut first: Vec<String> = good.iter().map(|s| (*s).to_owned()).collect();
    with_email(0, &mut first);
    csv.push_str(&row_of(&first));
    for (n, (column, value, _)) in bad.iter().enumerate() {
        let mut cells: Vec<String> = good.iter().map(|s| (*s).to_owned()).collect();
        cells[*column] = (*value).to_owned();
        with_email(n + 1, &mut cells);
        csv.push_str(&row_of(&cells));
    }

    let report = importing
        .import(json!({ "mode": "add" }), csv.as_bytes())
        .await;

    assert_eq!(counts(&report), (1, 0, 0, 0, bad.len() as u64), "{report}");
    for (n, (column, value, code)) in bad.iter().enumerate() {
        assert_eq!(
            row_errors(&report, n as u64 + 2),
            [(names[*column].to_owned(), (*code).to_owned())],
            "{} = {:?}",
            names[*column],
            value.get(..40).unwrap_or(value)
        );
    }
    let jan = importing.user_of_row(&report, 1).await;
    assert_eq!(jan["username"], "JanJ0");
    assert_eq!(jan["display_name"], "Jansen, Jan");
    assert_eq!(jan["function"], "Manager");
    assert_eq!(jan["phone"], "+3120123456");
    assert_eq!(jan["first_aider"], true);
    assert_eq!(jan["emergency_officer"], false);
    assert_eq!(jan["photo"], "janjansen.jpg");
    assert_eq!(jan["managed_by"]["first_aider"], "csv");

    // The failed rows come back as a CSV a spreadsheet opens safely.
    let errors = error_report(&report).await;
    assert_eq!(errors.lines().count(), 1 + bad.len(), "{errors}");
    assert!(errors.contains("first_aider: invalid_flag"));
}

/// The error report CSV an import's report links to.
async fn error_report(report: &Value) -> String {
    let url = report["error_report_url"]
        .as_str()
        .expect("an error report");
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn rows_keep_their_numbers_past_blank_rows_in_the_report_and_the_error_report() {
    let importing = importing().await;
    let people = emails("numbered", 2);
    let (jan, piet) = (&people[0], &people[1]);
    // Row 2 is a blank row as a spreadsheet exports it, row 3 an empty line.
    let csv = format!(
        "First name,Last name,Email\r\nJan,Jansen,{jan}\r\n,,\r\n\r\nAna,Roe,not-an-email\r\nPiet,Puk,{piet}\r\n"
    );
    let dry = importing
        .import(json!({ "mode": "add", "dry_run": true }), csv.as_bytes())
        .await;
    let report = importing
        .import(json!({ "mode": "add" }), csv.as_bytes())
        .await;
    for report in [&dry, &report] {
        let numbers: Vec<(u64, &str)> = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["row"].as_u64().unwrap(), r["status"].as_str().unwrap()))
            .collect();
        assert_eq!(
            numbers,
            [(1, "created"), (4, "error"), (5, "created")],
            "{report}"
        );
    }
    assert_eq!(
        row_errors(&report, 4),
        [("email".to_owned(), "invalid_email".to_owned())]
    );
    assert_eq!(importing.user_of_row(&report, 5).await["email"], *piet);
    let errors = error_report(&report).await;
    let line = errors.lines().nth(1).unwrap();
    assert!(line.starts_with("4,"), "{errors}");
    assert!(line.ends_with(",Ana,Roe,not-an-email"), "{errors}");
}

#[tokio::test]
async fn the_error_report_of_a_long_file_holds_every_failed_row_once_in_order() {
    // More rows than one page of the report holds (100 chunks of 25 rows), nearly all failing.
    let importing = importing_under(json!({ "import_row_limit": 3000 })).await;
    let good = emails("paged", 2);
    let mut csv = "First name,Last name,Email\n".to_owned();
    for row in 1..=3000u64 {
        csv += &match row {
            1 => format!("Jan,First,{}\n", good[0]),
            2600 => format!("Piet,Later,{}\n", good[1]),
            _ => format!("Bad,Row{row},not-an-email-{row}\n"),
        };
    }
    let report = importing
        .import(json!({ "mode": "add" }), csv.as_bytes())
        .await;
    assert_eq!(report["counts"]["errors"], 2998, "{}", report["counts"]);

    let errors = error_report(&report).await;
    let numbers: Vec<u64> = errors
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().parse().unwrap())
        .collect();
    let failed: Vec<u64> = (2..=3000).filter(|row| *row != 2600).collect();
    assert_eq!(numbers, failed);
    let last = errors.lines().last().unwrap();
    assert!(last.ends_with(",Bad,Row3000,not-an-email-3000"), "{last}");
}

#[tokio::test]
async fn formula_cells_are_neutralised_in_the_error_report() {
    let importing = importing().await;
    let csv = "First name,Last name,Email\n=HYPERLINK(\"http://evil\"),Doe,not-an-email\nJan,x;=cmd|' /C calc'!A0,not-an-email\n";
    let report = importing
        .import(json!({ "mode": "add" }), csv.as_bytes())
        .await;
    let errors = error_report(&report).await;
    let line = errors.lines().nth(1).unwrap();
    assert!(line.contains("'=HYPERLINK"), "{line}");
    assert!(
        !line.contains(",=HYPERLINK") && !line.contains("\"=HYPERLINK"),
        "{line}"
    );
    // A spreadsheet that splits at `;` starts a cell after it.
    let semicolon = errors.lines().nth(2).unwrap();
    assert!(semicolon.contains("x;'=cmd"), "{semicolon}");
    assert!(
        errors.starts_with('\u{feff}'),
        "marked UTF-8 for spreadsheets"
    );
}

#[tokio::test]
async fn each_error_stands_under_the_error_reports_errors_heading_however_wide_the_row() {
    let importing = importing().await;
    // An export padding every row with delimiters, a short row, and a row with a cell too many
    // (a comma inside an unquoted name).
    let padding = ",".repeat(120);
    let csv = format!(
        "First name,Last name,Email{padding}\nJan,Doe,not-an-email{padding}\nAna,Roe\nJan,Jansen, Jr.,jan@example.nl\n"
    );
    let report = importing
        .import(json!({ "mode": "add" }), csv.as_bytes())
        .await;
    assert_eq!(report["status"], "done", "{report}");
    let errors = error_report(&report).await;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(errors.trim_start_matches('\u{feff}').as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        ["row", "errors", "First name", "Last name", "Email"]
    );
    let lines: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(lines.len(), 3, "{errors}");
    assert!(lines[0][1].contains("email: invalid_email"), "{errors}");
    assert!(lines[1][1].contains("email: required"), "{errors}");
    assert!(lines[2][1].contains("email: invalid_email"), "{errors}");
    assert_eq!(
        lines[2].iter().skip(2).collect::<Vec<_>>(),
        ["Jan", "Jansen", " Jr.", "jan@example.nl"],
        "every cell of the row is kept"
    );
}

#[tokio::test]
async fn encodings_delimiters_and_quoted_fields_are_read_as_written() {
    let importing = importing().await;
    let (a, b, c, d) = (
        unique_email("bom"),
        unique_email("utf16"),
        unique_email("cp1252"),
        unique_email("quoted"),
    );
    // UTF-8 with BOM, semicolons.
    let mut utf8 = vec![0xEF, 0xBB, 0xBF];
    utf8.extend(format!("Vorname;Nachname;E-Mail\nJürgen;Groß;{a}\n").as_bytes());
    // UTF-16LE with BOM, tabs (Excel's "Unicode text").
    let text = format!("Prénom\tNom\tCourriel\nZoë\tLefèvre\t{b}\n");
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    // Windows-1252, commas.
    let latin = format!("First name,Last name,Email\nRenée,Dœuf,{c}\n");
    let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(&latin);
    // Quoted fields with the delimiter and a newline inside.
    let quoted = format!(
        "First name,Last name,Notes,Email\n\"Anne, Marie\",\"O'Neil\",\"line one,\nline two\",{d}\n"
    );

    for (file, first, last) in [
        (utf8, "Jürgen", "Groß"),
        (utf16, "Zoë", "Lefèvre"),
        (cp1252.into_owned(), "Renée", "Dœuf"),
        (quoted.into_bytes(), "Anne, Marie", "O'Neil"),
    ] {
        let report = importing.import(json!({ "mode": "add" }), &file).await;
        assert_eq!(counts(&report), (1, 0, 0, 0, 0), "{first}: {report}");
        let user = importing.user_of_row(&report, 1).await;
        assert_eq!(
            (user["first_name"].as_str(), user["last_name"].as_str()),
            (Some(first), Some(last))
        );
    }
}

#[tokio::test]
async fn a_quote_that_is_never_closed_stops_the_import_before_it_writes() {
    let importing = importing().await;
    let people = emails("q", 6);
    let rows = rows_of("Quinn", "Doe", &people);
    let added = importing
        .import(json!({ "mode": "add" }), &people_csv(&rows))
        .await;
    assert_eq!(counts(&added), (6, 0, 0, 0, 0), "{added}");
    let before = importing.users().await;

    // Row 3 (line 4) opens a quote that nothing closes: read as CSV, the rest of the file would be
    // one cell and its people missing from a forced replace.
    let mut broken = rows.clone();
    broken[2] = ("\"Quinn", "Doe", &people[2]);
    let report = importing
        .import(
            json!({ "mode": "replace", "force": true }),
            &people_csv(&broken),
        )
        .await;
    assert_eq!(report["status"], "failed", "{report}");
    assert_eq!(report["failure"]["code"], "unreadable_file", "{report}");
    assert!(
        report["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("quote opened on line 4 is never closed"),
        "{report}"
    );
    assert_eq!(importing.users().await, before, "nothing written");
}

#[tokio::test]
async fn spreadsheets_are_read_from_their_first_sheet_and_other_files_are_refused() {
    let importing = importing().await;
    let (x, o, l) = (
        unique_email("xlsx"),
        unique_email("ods"),
        unique_email("xls"),
    );
    let report = importing
        .import(
            json!({ "mode": "add", "file_name": "people.xlsx" }),
            &xlsx(
                &[
                    &["Nombre", "Apellidos", "Correo electrónico"],
                    &["Lucía", "García", &x],
                ],
                &[],
            ),
        )
        .await;
    assert_eq!(counts(&report), (1, 0, 0, 0, 0), "{report}");
    assert_eq!(
        importing.user_of_row(&report, 1).await["first_name"],
        "Lucía"
    );

    let report = importing
        .import(
            json!({ "mode": "add", "file_name": "people.ods" }),
            &ods(&[&["Nome", "Cognome", "E-mail"], &["Giulia", "Rossi", &o]]),
        )
        .await;
    assert_eq!(counts(&report), (1, 0, 0, 0, 0), "{report}");
    assert_eq!(
        importing.user_of_row(&report, 1).await["last_name"],
        "Rossi"
    );

    let report = importing
        .import(
            json!({ "mode": "add", "file_name": "people.xls" }),
            &roster_import_file::fixtures::xls_rows(&[
                &["Voornaam", "Achternaam", "E-mailadres"],
                &["Daan", "de Vries", &l],
            ]),
        )
        .await;
    assert_eq!(counts(&report), (1, 0, 0, 0, 0), "{report}");
    assert_eq!(
        importing.user_of_row(&report, 1).await["last_name"],
        "de Vries"
    );

    let numbers = zip_of(&[("Index/Document.iwa", vec![1, 2, 3])], &[]);
    let report = importing
        .import(
            json!({ "mode": "add", "file_name": "people.numbers" }),
            &numbers,
        )
        .await;
    assert_eq!(report["status"], "failed");
    assert_eq!(report["failure"]["code"], "unsupported_format");
    assert!(
        report["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("XLSX")
    );

    let report = importing
        .import(json!({ "mode": "add" }), b"\x00\x01\x02binary\x00")
        .await;
    assert_eq!(report["failure"]["code"], "unsupported_format");
}

#[tokio::test]
async fn a_zip_bomb_spreadsheet_is_refused_before_it_is_expanded() {
    let importing = importing().await;
    let bomb = vec![0u8; csv_import::MAX_UNCOMPRESSED_BYTES as usize + 1];
    let file = xlsx(
        &[&["First name", "Last name", "Email"]],
        &[("xl/media/zeros.bin", bomb)],
    );
    assert!(
        file.len() < 2 * 1024 * 1024,
        "the bomb is small: {}",
        file.len()
    );
    let report = importing
        .import(json!({ "mode": "add", "file_name": "bomb.xlsx" }), &file)
        .await;
    assert_eq!(report["status"], "failed");
    assert_eq!(report["failure"]["code"], "file_too_large", "{report}");
    assert_eq!(counts(&report), (0, 0, 0, 0, 0));
}

#[tokio::test]
async fn headers_are_detected_in_many_languages() {
    let importing = importing().await;
    for (header, first) in [
        ("Vorname;Nachname;E-Mail-Adresse", "Dieter"),
        ("Prénom;Nom;Adresse email", "Aurélie"),
        ("Voornaam;Achternaam;E-mailadres", "Sanne"),
        ("Nombre;Apellido;Correo", "Pablo"),
        ("Nome;Cognome;Posta", "Marco"),
        ("Keresztnév;Vezetéknév;E-mail cím", "Zsófia"),
    ] {
        let email = unique_email("lang");
        let file = format!("{header}\n{first};Tester;{email}\n");
        let report = importing
            .import(json!({ "mode": "add" }), file.as_bytes())
            .await;
        assert_eq!(counts(&report), (1, 0, 0, 0, 0), "{header}: {report}");
        let columns: Vec<&str> = report["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["column"].as_str().unwrap_or("none"))
            .collect();
        assert_eq!(columns, ["first_name", "last_name", "email"], "{header}");
        let user = importing.user_of_row(&report, 1).await;
        assert_eq!(
            (user["first_name"].as_str(), user["email"].as_str()),
            (Some(first), Some(email.as_str()))
        );
    }
}

#[tokio::test]
async fn an_explicit_mapping_overrides_detection_and_is_saved_for_the_sync() {
    let importing = importing().await;
    let email = unique_email("roep");
    let file = format!("Roepnaam,Familie,Mail,Notes\nKees,Jong,{email},ignored\n");
    let report = importing
        .import(
            json!({ "mode": "add", "mapping": { "Roepnaam": "first_name", "Familie": "last_name", "Mail": "email", "Notes": "ignore" } }),
            file.as_bytes(),
        )
        .await;
    assert_eq!(counts(&report), (1, 0, 0, 0, 0), "{report}");
    assert_eq!(report["columns"][0]["source"], "mapping");

    let refused = importing
        .app
        .post(
            "/v1/admin/imports",
            &importing.token,
            &json!({
                "mode": "merge", "mapping": { "X": "shoe_size", "\u{9a}": null }, "dry": true
            }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    let mut fields = roster_e2e::problem_errors(&problem);
    fields.sort();
    assert_eq!(
        fields,
        [
            ("dry".to_owned(), "unknown_field".to_owned()),
            ("mapping.X".to_owned(), "unknown_column".to_owned()),
            ("mapping.\u{9a}".to_owned(), "empty_header".to_owned()),
            ("mode".to_owned(), "invalid_choice".to_owned()),
        ]
    );

    // The daily sync drop uses the saved mapping.
    let other = unique_email("sync");
    let sync = format!("Roepnaam,Familie,Mail\nKees,Jong,{email}\nLies,Berg,{other}\n");
    let key = format!("sync/{}/hr.csv", importing.organisation.id);
    put_object(&key, sync.as_bytes()).await;
    let run = importing.deliver(put_event(&key).await).await;
    let import = &run["received"][0]["import"];
    assert_eq!(import["status"], "done", "{run}");
    assert_eq!(import["counts"]["created"], 1);
    assert_eq!(import["counts"]["unchanged"], 1);
}

async fn put_object(key: &str, body: &[u8]) {
    let stack = stack().await;
    stack
        .clients()
        .s3
        .put_object()
        .bucket(&stack.config.import_bucket)
        .key(key)
        .body(body.to_vec().into())
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn add_updates_replace_deactivates_the_missing_and_dry_run_writes_nothing() {
    let importing = importing().await;
    let people = emails("p", 5);
    let rows = rows_of("Pat", "Doe", &people);
    let first = importing
        .import(json!({ "mode": "add" }), &people_csv(&rows))
        .await;
    assert_eq!(counts(&first), (5, 0, 0, 0, 0));

    // add: a changed name updates, the rest are unchanged, nobody is deactivated.
    let mut changed = rows.clone();
    changed[0] = ("Patricia", "Doe", &people[0]);
    let added = importing
        .import(json!({ "mode": "add" }), &people_csv(&changed[..4]))
        .await;
    assert_eq!(counts(&added), (0, 1, 3, 0, 0), "{added}");
    assert_eq!(
        importing.user_of_row(&added, 1).await["first_name"],
        "Patricia"
    );

    // dry run of a replace: reports the deactivation, changes nothing.
    let before = importing.users().await;
    let dry = importing
        .import(
            json!({ "mode": "replace", "dry_run": true }),
            &people_csv(&changed[..4]),
        )
        .await;
    assert_eq!(dry["status"], "done");
    assert_eq!(counts(&dry), (0, 0, 4, 1, 0), "{dry}");
    let deactivated = dry["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "deactivated")
        .unwrap();
    let missing = importing
        .user(deactivated["user_id"].as_str().unwrap())
        .await;
    assert_eq!(missing["email"], people[4]);
    assert_eq!(importing.users().await, before, "a dry run writes nothing");

    // replace: the person missing from the file is deactivated; the importing admin is kept.
    let replaced = importing
        .import(json!({ "mode": "replace" }), &people_csv(&changed[..4]))
        .await;
    assert_eq!(counts(&replaced), (0, 0, 4, 1, 0), "{replaced}");
    assert_eq!(
        importing.user(missing["id"].as_str().unwrap()).await["status"],
        "deactivated"
    );
    assert_eq!(
        importing.user(&importing.organisation.admin_id).await["status"],
        "active"
    );
}

/// Addresses are keyed with their domain in ASCII (`müller` as `xn--mller-kva`): a file that
/// names someone at such a domain again finds them (was: every later file refused the row as
/// `taken`, and a `replace` deactivated them as missing, every day).
#[tokio::test]
async fn people_at_a_domain_of_other_letters_are_found_again_by_later_files() {
    let importing = importing().await;
    let people: Vec<String> = emails("joerg", 2)
        .iter()
        .map(|email| email.replace("@example.com", "@Müller.example"))
        .collect();
    let rows = rows_of("Jörg", "Müller", &people);
    let first = importing
        .import(json!({ "mode": "add" }), &people_csv(&rows))
        .await;
    assert_eq!(counts(&first), (2, 0, 0, 0, 0), "{first}");

    for mode in ["add", "replace"] {
        let again = importing
            .import(json!({ "mode": mode }), &people_csv(&rows))
            .await;
        assert_eq!(counts(&again), (0, 0, 2, 0, 0), "{mode}: {again}");
    }
    for row in [1, 2] {
        let person = importing.user_of_row(&first, row).await;
        assert_eq!(person["status"], "active", "kept by the replace: {person}");
    }
}

#[tokio::test]
async fn a_file_that_lists_again_whom_an_import_deactivated_makes_them_active_but_not_an_admins() {
    let importing = importing().await;
    let people = emails("r", 10);
    let rows = rows_of("Rae", "Doe", &people);
    let first = importing
        .import(json!({ "mode": "add" }), &people_csv(&rows))
        .await;
    let mut ids = Vec::new();
    for row in 8..=10 {
        let user = importing.user_of_row(&first, row).await;
        ids.push(user["id"].as_str().unwrap().to_owned());
    }
    let [by_admin, dropped, dropped_then_by_admin] = &ids[..] else {
        unreachable!()
    };
    let replaced = importing
        .import(json!({ "mode": "replace" }), &people_csv(&rows[..8]))
        .await;
    assert_eq!(counts(&replaced), (0, 0, 8, 2, 0), "{replaced}");
    assert_eq!(importing.user(dropped).await["status"], "deactivated");
    for id in [by_admin, dropped_then_by_admin] {
        let deactivated = importing
            .app
            .user_action(&importing.token, id, "deactivate")
            .await;
        assert_eq!(deactivated.status(), 200);
    }

    // The next day's file lists everyone again.
    let next = importing
        .import(json!({ "mode": "replace" }), &people_csv(&rows))
        .await;
    assert_eq!(counts(&next), (0, 1, 9, 0, 0), "{next}");
    assert_eq!(importing.user(dropped).await["status"], "active");
    for id in [by_admin, dropped_then_by_admin] {
        assert_eq!(
            importing.user(id).await["status"],
            "deactivated",
            "an admin's decision stands"
        );
    }
}

#[tokio::test]
async fn an_import_by_user_management_leaves_those_who_administer_to_an_admin() {
    let importing = importing().await;
    let (app, admin) = (&importing.app, &importing.token);
    let user_manager = |first: &str, email: &str| json!({ "first_name": first, "last_name": "Manager", "email": email, "roles": ["user_management"] });
    let manager_email = unique_email("manager");
    let manager = app
        .post_json(
            "/v1/admin/users",
            admin,
            &user_manager("Max", &manager_email),
        )
        .await;
    let manager_token = app
        .invited_session(admin, manager["id"].as_str().unwrap(), &manager_email)
        .await;
    let peer = app
        .post_json(
            "/v1/admin/users",
            admin,
            &user_manager("Pia", &unique_email("peer")),
        )
        .await;
    let people = emails("m", 3);
    importing
        .import(
            json!({ "mode": "add" }),
            &people_csv(&rows_of("Mo", "Doe", &people)),
        )
        .await;

    // The manager's file lists the people, the Admin under a new last name, and the manager.
    let mut rows = rows_of("Mo", "Doe", &people);
    rows.push(("Ada", "Changed", &importing.organisation.admin_email));
    rows.push(("Max", "Manager", &manager_email));
    let report = importing
        .import_by(
            &manager_token,
            json!({ "mode": "replace", "force": true }),
            &people_csv(&rows),
        )
        .await;

    // The manager's own row, as they are, is unchanged: the file takes nothing over from them.
    assert_eq!(counts(&report), (0, 0, 4, 0, 1), "{report}");
    assert_eq!(
        row_errors(&report, 4),
        [("email".to_owned(), "not_permitted".to_owned())]
    );
    assert_eq!(
        importing.user(&importing.organisation.admin_id).await["last_name"],
        "Lovelace"
    );
    assert_eq!(
        importing.user(peer["id"].as_str().unwrap()).await["status"],
        "active",
        "only an Admin's import deactivates User Management"
    );
}

#[tokio::test]
async fn an_upload_whose_author_lost_the_right_to_import_before_it_ran_imports_nothing() {
    let importing = importing().await;
    let (app, admin) = (&importing.app, &importing.token);
    let manager_email = unique_email("manager");
    let manager = app
        .post_json(
            "/v1/admin/users",
            admin,
            &json!({ "first_name": "Max", "last_name": "Manager", "email": manager_email, "roles": ["user_management"] }),
        )
        .await;
    let manager_id = manager["id"].as_str().unwrap();
    let manager_token = app.invited_session(admin, manager_id, &manager_email).await;
    let people = emails("l", 2);
    let (id, key) = importing
        .upload_by(
            &manager_token,
            json!({ "mode": "add" }),
            &people_csv(&rows_of("Lo", "Doe", &people)),
        )
        .await;

    let (_, etag) = app
        .read(&format!("/v1/admin/users/{manager_id}"), admin)
        .await;
    let demoted = app
        .patch(
            &format!("/v1/admin/users/{manager_id}"),
            admin,
            &etag,
            &json!({ "roles": [] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(demoted.status(), 200);
    importing.deliver(put_event(&key).await).await;

    let report = importing.report(&id).await;
    assert_eq!(report["status"], "failed", "{report}");
    assert_eq!(report["failure"]["code"], "not_permitted");
    let emails_known: Vec<_> = importing
        .users()
        .await
        .into_iter()
        .filter_map(|u| u.profile.email.map(|e| e.normalised().to_owned()))
        .collect();
    assert!(
        people
            .iter()
            .all(|p| !emails_known.contains(&p.to_lowercase()))
    );
}

#[tokio::test]
async fn replace_keeps_people_whose_rows_failed() {
    let importing = importing().await;
    let people = emails("k", 5);
    let rows = rows_of("Kim", "Doe", &people);
    importing
        .import(json!({ "mode": "add" }), &people_csv(&rows))
        .await;

    // Kim 0's row now has a last name that breaks the rules, and Kim 1's email is written in
    // capitals: neither is a reason to deactivate them.
    let shouting = people[1].to_uppercase();
    let too_long = "D".repeat(51);
    let mut next = rows.clone();
    next[0] = ("Kim", &too_long, &people[0]);
    next[1] = ("Kim", "Doe", &shouting);
    let report = importing
        .import(json!({ "mode": "replace" }), &people_csv(&next))
        .await;
    assert_eq!(counts(&report), (0, 0, 4, 0, 1), "{report}");
    assert_eq!(
        row_errors(&report, 1),
        [("last_name".to_owned(), "too_long".to_owned())]
    );
    let users = importing.users().await;
    assert!(
        users.iter().all(|u| u.is_active()),
        "nobody was deactivated"
    );
}

#[tokio::test]
async fn replace_keeps_people_an_identity_provider_provisioned_even_owning_none_of_their_attributes()
 {
    let importing = importing().await;
    let app = &importing.app;
    app.change_settings(&importing.token, json!({ "scim_attributes": [] }))
        .await;
    let (_, scim_token) = crate::scim::mint(app, &importing.token, "Entra ID").await;
    let provisioned = unique_email("entra");
    let created = app
        .http
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&scim_token)
        .header("content-type", "application/scim+json")
        .body(json!({ "userName": provisioned, "emails": [{ "value": provisioned }] }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Forced past the threshold, so nothing but the exemption keeps them.
    let people = emails("r", 3);
    let report = importing
        .import(
            json!({ "mode": "replace", "force": true }),
            &people_csv(&rows_of("Rae", "Doe", &people)),
        )
        .await;
    assert_eq!(counts(&report), (3, 0, 0, 0, 0), "{report}");
    assert_eq!(importing.user(&id).await["status"], "active");
}

#[tokio::test]
async fn a_replace_deactivates_leavers_whose_records_changed_after_it_listed_them() {
    let importing = importing().await;
    let leavers = emails("l", 200);
    importing
        .import(
            json!({ "mode": "add" }),
            &people_csv(&rows_of("Lea", "Ver", &leavers)),
        )
        .await;
    let (table, organisation) = importing.table().await;
    let ids: Vec<UserId> = importing
        .users()
        .await
        .into_iter()
        .filter(|m| {
            m.profile
                .email
                .as_ref()
                .is_some_and(|e| leavers.contains(&e.display().to_owned()))
        })
        .map(|m| m.id)
        .collect();
    assert_eq!(ids.len(), 200);

    let (id, key) = importing.upload_forced_replace_by_one_newcomer().await;
    let running = tokio::spawn({
        let functions = importing.functions.clone();
        let event = put_event(&key).await;
        async move { functions.invoke("csv-import", event).await.unwrap() }
    });
    // Once the run deactivates someone, it has listed everyone: each leaver it has not reached
    // yet saves a change, as a person editing their profile would.
    let changed = loop {
        let members = table.memberships_by_id(&organisation, &ids).await.unwrap();
        if members.iter().any(|m| !m.is_active()) {
            let changes = members.iter().filter(|m| m.is_active()).map(|before| {
                let after = roster_domain::membership::Membership {
                    version: before.version + 1,
                    ..before.clone()
                };
                let table = &table;
                async move { table.update_membership(before, &after, None).await }
            });
            let written = futures::future::join_all(changes).await;
            break written.iter().filter(|w| w.is_ok()).count();
        }
        assert!(
            !running.is_finished(),
            "the run ended before the test saw it deactivate"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    };
    running.await.unwrap();
    assert!(changed > 0, "someone changed before the run reached them");

    // Was: whoever changed was skipped, still active, and missing from the report.
    let report = importing.report(&id).await;
    assert_eq!(counts(&report), (1, 0, 0, 200, 0), "{changed} changed");
    let members = table.memberships_by_id(&organisation, &ids).await.unwrap();
    assert!(members.iter().all(|m| !m.is_active()));
}

/// A forced `replace` of 30 people by one newcomer, cut off for good after it deactivated 25
/// of them but before it saved their report.
struct CutDeactivation {
    importing: Importing,
    id: String,
    event: Value,
    leavers: BTreeSet<String>,
}

impl CutDeactivation {
    async fn new() -> Self {
        let (importing, conflicts) = importing_with_conflicts().await;
        let leavers = emails("c", 30);
        importing
            .import(
                json!({ "mode": "add" }),
                &people_csv(&rows_of("Cut", "Off", &leavers)),
            )
            .await;
        let leavers: BTreeSet<String> = importing
            .users()
            .await
            .into_iter()
            .filter(|m| m.profile.last_name == "Off")
            .map(|m| m.id.to_string())
            .collect();
        assert_eq!(leavers.len(), 30);

        let (id, key) = importing.upload_forced_replace_by_one_newcomer().await;
        let event = put_event(&key).await;
        // Cut where the run saves the report of its first 25 deactivations, after their writes
        // (chunk 0 reports the file's one row).
        importing
            .deliver_cut_at(&conflicts, "ROWS#00000001", event.clone())
            .await;
        assert_eq!(importing.report(&id).await["counts"]["deactivated"], 0);
        let deactivated = importing
            .users()
            .await
            .into_iter()
            .filter(|m| leavers.contains(m.id.as_str()) && !m.is_active())
            .count();
        assert_eq!(deactivated, 25);
        Self {
            importing,
            id,
            event,
            leavers,
        }
    }

    /// The import's report, with the people it lists as deactivated (each at most once).
    async fn report(&self) -> (Value, BTreeSet<String>) {
        let report = self.importing.report(&self.id).await;
        let listed: Vec<String> = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["status"] == "deactivated")
            .map(|row| row["user_id"].as_str().unwrap().to_owned())
            .collect();
        let deactivated: BTreeSet<String> = listed.iter().cloned().collect();
        assert_eq!(deactivated.len(), listed.len(), "each once: {report}");
        (report, deactivated)
    }
}

#[tokio::test]
async fn a_replace_cut_off_after_deactivating_reports_everyone_it_deactivated_once_redelivered() {
    let cut = CutDeactivation::new().await;
    cut.importing.deliver(cut.event.clone()).await;
    let (report, deactivated) = cut.report().await;
    assert_eq!(report["status"], "done", "{report}");
    // Was: the 25 deactivated before the cut were in neither the counts nor the rows.
    assert_eq!(counts(&report), (1, 0, 0, 30, 0), "{report}");
    assert_eq!(deactivated, cut.leavers);
}

#[tokio::test]
async fn a_replace_lambda_gave_up_on_after_deactivating_reports_whom_it_deactivated() {
    let cut = CutDeactivation::new().await;
    // Lambda's tries all died so: the last one's lease runs out and Lambda gives up.
    let (table, organisation) = cut.importing.table().await;
    let import_id = ImportId::try_from(cut.id.as_str()).unwrap();
    let mut record = table
        .import(&organisation, &import_id, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    record.lease_until = Some(0);
    table.save_import(&record).await.unwrap();
    let gave_up = failure_record("request-cut", "RetriesExhausted", cut.event.clone());
    cut.importing.deliver(gave_up).await;
    let (report, deactivated) = cut.report().await;
    assert_eq!(report["status"], "failed", "{report}");
    assert_eq!(report["failure"]["code"], "failed_repeatedly", "{report}");
    assert_eq!(counts(&report), (1, 0, 0, 25, 0), "{report}");
    let still_deactivated: BTreeSet<String> = cut
        .importing
        .users()
        .await
        .into_iter()
        .filter(|m| cut.leavers.contains(m.id.as_str()) && !m.is_active())
        .map(|m| m.id.to_string())
        .collect();
    assert_eq!(deactivated, still_deactivated);
}

#[tokio::test]
async fn a_broken_file_that_quotes_its_own_text_fails_unreadable_with_a_message_of_bounded_length()
{
    let importing = importing().await;
    // The XML reader's error quotes the end tag's name whole: 450 KB, a few hundred bytes zipped.
    let file = ods_of_table(&format!("<table:table-row></{}>", "x".repeat(450_000)));
    let report = importing
        .import(json!({ "mode": "add", "file_name": "people.ods" }), &file)
        .await;
    // Was: the failure's message took the import past DynamoDB's 400 KB item; the run could
    // not save it, and the import stayed `running` until Lambda gave up.
    assert_eq!(report["status"], "failed", "{report:.300}");
    assert_eq!(report["failure"]["code"], "unreadable_file");
    let message = report["failure"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the file cannot be read"),
        "{message:.300}"
    );
    assert!(
        message.chars().count() <= 500,
        "{} characters",
        message.len()
    );
}

#[tokio::test]
async fn a_replace_beyond_the_threshold_stops_before_writing_unless_forced() {
    let importing = importing().await;
    let people = emails("t", 10);
    let rows = rows_of("Tom", "Doe", &people);
    importing
        .import(json!({ "mode": "add" }), &people_csv(&rows))
        .await;

    // 3 of the 10 users an import may deactivate (the admin is exempt) would go: 30 %, more than
    // the default 20 %.
    let newcomer = unique_email("new");
    let mut kept = rows[..7].to_vec();
    kept.push(("New", "Comer", &newcomer));
    let before = importing.users().await;
    let stopped = importing
        .import(json!({ "mode": "replace" }), &people_csv(&kept))
        .await;
    assert_eq!(stopped["status"], "failed");
    assert_eq!(stopped["failure"]["code"], "deactivation_threshold");
    assert!(
        stopped["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("3 of 10"),
        "{stopped}"
    );
    assert_eq!(
        importing.users().await,
        before,
        "nothing was written, not even the newcomer"
    );

    let forced = importing
        .import(
            json!({ "mode": "replace", "force": true }),
            &people_csv(&kept),
        )
        .await;
    assert_eq!(counts(&forced), (1, 0, 7, 3, 0), "{forced}");
}

#[tokio::test]
async fn a_person_named_twice_in_a_file_is_imported_once_and_the_repeat_reported() {
    let importing = importing().await;
    let people = emails("d", 30);
    let mut rows = rows_of("Dup", "Licate", &people);
    rows[2] = ("Same", "Chunk", &people[1]); // repeats row 2 in the same chunk
    rows[29] = ("Next", "Chunk", &people[0]); // repeats row 1 a chunk later
    let file = people_csv(&rows);

    for options in [
        json!({ "mode": "add", "dry_run": true }),
        json!({ "mode": "add" }),
    ] {
        let report = importing.import(options.clone(), &file).await;
        assert_eq!(counts(&report), (28, 0, 0, 0, 2), "{options}: {report}");
        for row in [3, 30] {
            assert_eq!(
                row_errors(&report, row),
                [("email".to_owned(), "duplicate".to_owned())],
                "{options}"
            );
        }
    }
    assert_eq!(importing.users().await.len(), 29, "28 people and the admin");
}

#[tokio::test]
async fn a_person_a_file_names_again_after_a_row_that_changed_nothing_is_refused_as_duplicate() {
    let importing = importing().await;
    let people = emails("u", 30);
    let mut rows = rows_of("Una", "Changed", &people);
    importing
        .import(json!({ "mode": "add" }), &people_csv(&rows))
        .await;
    // Row 1 names its person as they are; row 30, a chunk later, names them again otherwise.
    rows[29] = ("Una", "Other", &people[0]);
    let file = people_csv(&rows);

    for options in [
        json!({ "mode": "add", "dry_run": true }),
        json!({ "mode": "add" }),
        json!({ "mode": "add" }),
    ] {
        let report = importing.import(options.clone(), &file).await;
        // Was, in a real run: row 30 updated the person the dry run called a duplicate (and the
        // next run of the same file, finding row 30's own write, refused it and kept it).
        assert_eq!(counts(&report), (0, 0, 29, 0, 1), "{options}: {report}");
        assert_eq!(
            row_errors(&report, 30),
            [("email".to_owned(), "duplicate".to_owned())],
            "{options}"
        );
    }
    let first = importing
        .users()
        .await
        .into_iter()
        .find(|m| m.profile.email.as_ref().map(|e| e.display()) == Some(people[0].as_str()))
        .unwrap();
    assert_eq!(first.profile.last_name, "Changed");
}

#[tokio::test]
async fn a_person_a_file_names_again_after_a_refused_row_is_refused_as_duplicate() {
    let importing = importing().await;
    let people = emails("r", 30);
    let marker = UserId::generate();
    let file = |rows: Vec<(&str, &str, usize)>| {
        let mut csv = String::from("First name,Last name,Email,External ID\n");
        for (last, email, id) in rows {
            csv.push_str(&format!("Rea,{last},{email},E{id}-{marker}\n"));
        }
        csv.into_bytes()
    };
    let rows: Vec<(&str, &str, usize)> = people
        .iter()
        .enumerate()
        .map(|(i, email)| ("Fused", email.as_str(), i))
        .collect();
    importing
        .import(json!({ "mode": "add" }), &file(rows.clone()))
        .await;
    let mut again = rows;
    // Row 1 names person 0 by email and person 1 by external id: refused. Row 2 names person 1
    // again, and row 30, a chunk later, person 0.
    again[0] = ("Fused", &people[0], 1);
    again[29] = ("Other", &people[0], 0);
    let again = file(again);

    for options in [
        json!({ "mode": "add", "dry_run": true }),
        json!({ "mode": "add" }),
    ] {
        let report = importing.import(options.clone(), &again).await;
        assert_eq!(counts(&report), (0, 0, 27, 0, 3), "{options}: {report}");
        assert_eq!(
            row_errors(&report, 1),
            [(
                "external_id".to_owned(),
                "matches_another_person".to_owned()
            )],
            "{options}"
        );
        // Was, in a real run: row 30 updated the person the dry run called a duplicate.
        for row in [2, 30] {
            assert_eq!(
                row_errors(&report, row),
                [("email".to_owned(), "duplicate".to_owned())],
                "{options}: row {row}"
            );
        }
    }
    assert!(
        importing
            .users()
            .await
            .iter()
            .all(|m| m.profile.last_name != "Other")
    );
}

#[tokio::test]
async fn an_upload_over_the_row_limit_is_refused_whole() {
    let importing = importing().await;
    let people = emails("limit", 501);
    let rows = rows_of("Lim", "It", &people);
    let report = importing
        .import(json!({ "mode": "add" }), &people_csv(&rows))
        .await;
    assert_eq!(report["status"], "failed");
    assert_eq!(report["failure"]["code"], "too_many_rows");
    assert!(
        report["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("500")
    );
    assert_eq!(importing.users().await.len(), 1, "only the admin");

    let report = importing
        .import(json!({ "mode": "add" }), &people_csv(&rows[..500]))
        .await;
    assert_eq!(counts(&report), (500, 0, 0, 0, 0));
}

#[tokio::test]
async fn the_same_event_delivered_twice_changes_nothing_the_second_time() {
    let importing = importing().await;
    let email = unique_email("twice");
    let (id, key) = importing
        .upload(
            json!({ "mode": "add" }),
            &people_csv(&[("Two", "Times", &email)]),
        )
        .await;
    let event = put_event(&key).await;
    let first = importing.deliver(event.clone()).await;
    assert_eq!(first["received"][0]["import"]["counts"]["created"], 1);
    let report = importing.report(&id).await;

    let second = importing.deliver(event).await;
    assert_eq!(second["received"][0]["import"], Value::Null, "{second}");
    assert!(
        second["received"][0]["note"]
            .as_str()
            .unwrap()
            .contains("already imported")
    );
    assert_eq!(importing.report(&id).await, report);
    assert_eq!(importing.users().await.len(), 2);

    // A sync drop's redelivery is the same import (one per object version).
    let key = format!("sync/{}/daily.csv", importing.organisation.id);
    put_object(&key, &people_csv(&[("Two", "Times", &email)])).await;
    let event = put_event(&key).await;
    let first = importing.deliver(event.clone()).await;
    assert_eq!(first["received"][0]["import"]["status"], "done", "{first}");
    let again = importing.deliver(event).await;
    assert_eq!(again["received"][0]["import"], Value::Null);
}

#[tokio::test]
async fn a_sync_file_delivered_after_a_later_one_changes_nothing() {
    let importing = importing().await;
    let people = emails("late", 10);
    let newcomer = emails("newcomer", 1);
    let sync_key = |day: &str| format!("sync/{}/{day}.csv", importing.organisation.id);
    put_object(
        &sync_key("monday"),
        &people_csv(&rows_of("Mon", "Day", &people)),
    )
    .await;
    let monday = put_event(&sync_key("monday")).await;
    let mut tuesday_rows = rows_of("Tue", "Day", &people);
    tuesday_rows.extend(rows_of("New", "Comer", &newcomer));
    put_object(&sync_key("tuesday"), &people_csv(&tuesday_rows)).await;
    let tuesday = put_event(&sync_key("tuesday")).await;

    // Monday's event is held up (throttling, retries) until Tuesday's file was imported.
    let run = importing.deliver(tuesday).await;
    assert_eq!(run["received"][0]["import"]["status"], "done", "{run}");
    let after_tuesday = importing.users().await;
    let late = importing.deliver(monday).await;

    let import = importing
        .report(late["received"][0]["import"]["id"].as_str().unwrap())
        .await;
    assert_eq!(
        (&import["status"], &import["failure"]["code"]),
        (&json!("failed"), &json!("superseded"))
    );
    assert_eq!(
        importing.users().await,
        after_tuesday,
        "Monday's file neither renamed Tuesday's people back nor deactivated the newcomer"
    );
}

#[tokio::test]
async fn a_sync_run_stops_before_its_next_chunk_once_a_later_file_takes_over() {
    // A threshold of 100 %: the later, one-person file may deactivate everyone the first one
    // created so far.
    let importing = importing_under(json!({ "import_deactivation_threshold_percent": 100 })).await;
    let sync_key = |name: &str| format!("sync/{}/{name}.csv", importing.organisation.id);
    let people = emails("overtaken", 1_000);
    put_object(
        &sync_key("first"),
        &people_csv(&rows_of("Over", "Taken", &people)),
    )
    .await;
    let first = put_event(&sync_key("first")).await;
    let running = importing.run_until_it_created_someone(first).await;

    let newcomer = emails("takes-over", 1);
    put_object(
        &sync_key("second"),
        &people_csv(&rows_of("Takes", "Over", &newcomer)),
    )
    .await;
    let second = importing
        .deliver(put_event(&sync_key("second")).await)
        .await;
    let first = running.await.unwrap();

    let overtaken = importing
        .report(first["received"][0]["import"]["id"].as_str().unwrap())
        .await;
    assert_eq!(
        (&overtaken["status"], &overtaken["failure"]["code"]),
        (&json!("failed"), &json!("superseded"))
    );
    let created = overtaken["counts"]["created"].as_u64().unwrap();
    assert!(created < 1_000, "created {created}");
    assert_eq!(
        second["received"][0]["import"]["status"], "done",
        "{second}"
    );
    assert_eq!(
        importing.users().await.len() as u64,
        created + 2,
        "the people the first run reported creating, the newcomer and the admin"
    );
}

#[tokio::test]
async fn a_later_sync_file_that_is_refused_leaves_the_running_one_to_finish() {
    let importing = importing().await;
    let sync_key = |name: &str| format!("sync/{}/{name}.csv", importing.organisation.id);
    let people = emails("kept-going", 300);
    put_object(
        &sync_key("good"),
        &people_csv(&rows_of("Kept", "Going", &people)),
    )
    .await;
    let good = put_event(&sync_key("good")).await;
    let running = importing.run_until_it_created_someone(good).await;

    // A stray file beside it (a checksum sidecar) is no list of people.
    put_object(
        &sync_key("good.csv.md5"),
        b"d41d8cd98f00b204e9800998ecf8427e\n",
    )
    .await;
    let stray = importing
        .deliver(put_event(&sync_key("good.csv.md5")).await)
        .await;
    let good = running.await.unwrap();

    assert_eq!(
        stray["received"][0]["import"]["status"], "failed",
        "{stray}"
    );
    let finished = &good["received"][0]["import"];
    assert_eq!(finished["status"], "done", "{good}");
    assert_eq!(finished["counts"]["created"], 300, "{good}");
}

/// Lambda's record of an asynchronous invocation it gave up on, as it sends it to the function's
/// on-failure destination.
fn failure_record(request_id: &str, condition: &str, payload: Value) -> Value {
    json!({
        "version": "1.0",
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": "arn:aws:lambda:eu-west-1:000000000000:function:roster-csv-import:$LATEST",
            "condition": condition,
            "approximateInvokeCount": 3
        },
        "requestPayload": payload,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled"
        },
        "responsePayload": { "errorMessage": "Task timed out after 900.00 seconds" }
    })
}

#[tokio::test]
async fn an_import_lambda_gave_up_on_ends_failed_instead_of_running_for_ever() {
    let importing = importing().await;
    let people = emails("g", 2);
    let file = people_csv(&rows_of("Gale", "Doe", &people));
    let (id, key) = importing.upload(json!({ "mode": "add" }), &file).await;
    let event = put_event(&key).await;
    // Each of Lambda's three tries of one invocation claimed the import and then died: a timeout
    // or a crash leaves nothing behind but the claim.
    let (table, organisation) = importing.table().await;
    let import = ImportId::try_from(id.as_str()).unwrap();
    let now_ms = chrono::Utc::now().timestamp_millis();
    for _ in 0..3 {
        let claimed = table
            .claim_import(
                &organisation,
                &import,
                "request-1",
                now_ms,
                now_ms + 900_000,
            )
            .await
            .unwrap();
        assert!(claimed.is_some());
    }
    assert_eq!(importing.report(&id).await["status"], "running");

    let failure = failure_record("request-1", "RetriesExhausted", event);
    importing.deliver(failure.clone()).await;
    let report = importing.report(&id).await;
    assert_eq!(report["status"], "failed", "{report}");
    assert_eq!(report["failure"]["code"], "failed_repeatedly", "{report}");
    assert_eq!(counts(&report), (0, 0, 0, 0, 0));

    // Should the failure record's own delivery fail, its record is dropped, not delivered again.
    let run = importing
        .deliver(failure_record("request-2", "RetriesExhausted", failure))
        .await;
    assert_eq!(run, json!({ "received": [], "skipped": [] }));
    assert_eq!(importing.report(&id).await, report);

    // An event Lambda never ran in time ends its import without reading the file: nobody named
    // in it is created.
    let (id, key) = importing.upload(json!({ "mode": "add" }), &file).await;
    assert_eq!(importing.report(&id).await["status"], "pending");
    let before = importing.users().await;
    let late = failure_record("request-3", "EventAgeExceeded", put_event(&key).await);
    importing.deliver(late).await;
    let report = importing.report(&id).await;
    assert_eq!(report["status"], "failed", "{report}");
    assert_eq!(report["failure"]["code"], "not_started_in_time", "{report}");
    assert_eq!(importing.users().await, before);

    // A sync drop whose every try failed before its import was stored is shown failed too.
    let key = format!("sync/{}/hr.csv", importing.organisation.id);
    put_object(&key, &file).await;
    let failure = failure_record("request-4", "RetriesExhausted", put_event(&key).await);
    importing.deliver(failure).await;
    let sync = importing.latest_import().await;
    assert_eq!(
        (&sync["source"], &sync["status"]),
        (&json!("sync"), &json!("failed")),
        "{sync}"
    );
    assert_eq!(importing.users().await, before);

    // A failure record for an event whose import finished after all changes nothing.
    let (id, key) = importing.upload(json!({ "mode": "add" }), &file).await;
    let event = put_event(&key).await;
    importing.deliver(event.clone()).await;
    let done = importing.report(&id).await;
    assert_eq!(done["status"], "done", "{done}");
    importing
        .deliver(failure_record("request-5", "RetriesExhausted", event))
        .await;
    assert_eq!(importing.report(&id).await, done);
}

#[tokio::test]
async fn an_import_reads_one_version_of_its_file_even_when_resumed() {
    let importing = importing().await;
    let (first, second) = (unique_email("v1"), unique_email("v2"));
    let (id, key) = importing
        .upload(
            json!({ "mode": "add" }),
            &people_csv(&[("Vee", "One", &first)]),
        )
        .await;
    let v1 = put_event(&key).await;
    put_object(&key, &people_csv(&[("Vee", "Two", &second)])).await;
    let v2 = put_event(&key).await;
    assert_ne!(
        v1["Records"][0]["s3"]["object"]["versionId"],
        v2["Records"][0]["s3"]["object"]["versionId"]
    );
    let ran = importing.deliver(v2).await;
    assert_eq!(
        ran["received"][0]["import"]["counts"]["created"], 1,
        "{ran}"
    );

    // As if the run had been cut off: running, its lease over. The older version's event may
    // now claim the import, but is not read into it.
    let (table, organisation) = importing.table().await;
    let import_id = roster_domain::ids::ImportId::try_from(id.as_str()).unwrap();
    let mut record = table
        .import(&organisation, &import_id, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    record.status = roster_store::ImportStatus::Running;
    record.lease_until = Some(0);
    table.save_import(&record).await.unwrap();
    let late = importing.deliver(v1).await;
    assert_eq!(late["received"][0]["import"], Value::Null, "{late}");
    assert!(
        late["received"][0]["note"]
            .as_str()
            .unwrap()
            .contains("another version")
    );
    let emails: Vec<String> = importing
        .users()
        .await
        .iter()
        .filter_map(|u| u.profile.email.as_ref().map(|e| e.normalised().to_owned()))
        .collect();
    assert!(emails.contains(&second.to_lowercase()));
    assert!(
        !emails.contains(&first.to_lowercase()),
        "the other version was not imported"
    );
}

/// 20,000 people as a sync drop, imported by `Importing` on a DynamoDB Local of its own (so that
/// they do not slow the tests that read the whole shared table). Such tests run alone (see
/// `.config/nextest.toml`).
struct LargeImport {
    importing: Importing,
    dynamodb: PrivateDynamoDb,
    event: Value,
    rows: u64,
}

impl LargeImport {
    const ROWS: u64 = 20_000;

    async fn new(dynamodb: PrivateDynamoDb) -> Self {
        let stack = stack().await;
        let clients = dynamodb.clients(stack).await;
        let importing = importing_with(
            stack.functions_with(&clients, profile_api::system_clock()),
            clients.dynamodb.clone(),
            json!({}),
        )
        .await;
        let mut csv = String::from("First name,Last name,Email\n");
        let marker = UserId::generate();
        for i in 0..Self::ROWS {
            csv.push_str(&format!("Row,Number{i},row{i}.{marker}@example.com\n"));
        }
        let key = format!("sync/{}/big.csv", importing.organisation.id);
        put_object(&key, csv.as_bytes()).await;
        let event = put_event(&key).await;
        Self {
            importing,
            dynamodb,
            event,
            rows: Self::ROWS,
        }
    }

    /// Starts the import, and answers once it has created `created` people, with the running
    /// invocation.
    async fn run_until_created(
        &self,
        created: u64,
    ) -> tokio::task::JoinHandle<Result<Value, String>> {
        let running = tokio::spawn({
            let functions = self.importing.functions.clone();
            let event = self.event.clone();
            async move {
                functions
                    .invoke("csv-import", event)
                    .await
                    .map_err(|e| e.to_string())
            }
        });
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if self.importing.latest_import().await["counts"]["created"]
                .as_u64()
                .unwrap_or(0)
                >= created
            {
                return running;
            }
            assert!(
                !running.is_finished(),
                "the run ended before it was cut off"
            );
        }
    }

    /// Delivers the event again (Lambda's retry) and checks that the run finished the file with
    /// every row imported exactly once, in the people and in the report.
    async fn redeliver_and_check_every_row_once(&self) {
        let importing = &self.importing;
        let rows = self.rows;
        let run = importing.deliver(self.event.clone()).await;
        let done = &run["received"][0]["import"];
        assert_eq!(done["status"], "done", "{run}");
        assert_eq!(done["counts"]["created"], rows, "{run}");
        assert_eq!(done["counts"]["errors"], 0);

        let users = importing.users().await;
        assert_eq!(
            users.len() as u64,
            rows + 1,
            "every row once, plus the admin"
        );
        let mut names: Vec<&str> = users.iter().map(|u| u.profile.last_name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len() as u64, rows + 1);

        // The report holds each row exactly once.
        let id = done["id"].as_str().unwrap();
        let mut seen = std::collections::BTreeSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/admin/imports/{id}?cursor={c}"),
                None => format!("/v1/admin/imports/{id}"),
            };
            let page: Value = importing
                .app
                .get(&path, &importing.token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for row in page["rows"].as_array().unwrap() {
                assert_eq!(row["status"], "created");
                assert!(
                    seen.insert(row["row"].as_u64().unwrap()),
                    "row {} twice",
                    row["row"]
                );
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len() as u64, rows);
    }
}

#[tokio::test]
async fn twenty_thousand_rows_cut_off_half_way_are_finished_by_the_redelivery_exactly_once() {
    let large = LargeImport::new(PrivateDynamoDb::start().await).await;

    let running = large.run_until_created(2_000).await;
    running.abort();
    let _ = running.await;
    let cut = large.importing.latest_import().await;
    assert_eq!(cut["status"], "running");
    assert!(cut["counts"]["created"].as_u64().unwrap() < large.rows);

    large.redeliver_and_check_every_row_once().await;
}

#[tokio::test]
async fn twenty_thousand_rows_survive_dynamodb_stopping_mid_run_and_the_api_answers_503_meanwhile()
{
    let mut large = LargeImport::new(PrivateDynamoDb::start_persistent().await).await;

    let running = large.run_until_created(2_000).await;
    large.dynamodb.stop();

    // The run fails (for Lambda to retry) instead of hanging or claiming success.
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(120), running)
        .await
        .expect("the run ends once DynamoDB is gone")
        .unwrap();
    assert!(outcome.is_err(), "the cut run reported {outcome:?}");
    // The API says the service is unavailable, in a problem body.
    let response = large
        .importing
        .app
        .get("/v1/admin/imports", &large.importing.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "service_unavailable");

    // DynamoDB comes back; the same service (not restarted) finishes the file on the retry.
    large.dynamodb.restart().await;
    large.redeliver_and_check_every_row_once().await;
}
