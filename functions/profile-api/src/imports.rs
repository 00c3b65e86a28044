//! User-list imports by administrators: announce an import (options, optional column mapping)
//! and get a presigned upload; the csv-import function runs it when the file lands; read its
//! report. Only administrators of the whole organisation import (an import may create and
//! deactivate anyone).

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use axum::{
    Json,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
};
use roster_domain::{
    ids::ImportId,
    import::{Mode, parse_mapping},
    permissions::administers_whole_organisation,
    validation::bounded_text,
};
use roster_store::{Caller, ImportRecord, ImportSource};
use serde_json::{Value, json};

use crate::{
    ApiError, AppState, audit,
    caller::Authenticated,
    extract::{Fields, JsonObject},
};

/// How long the upload URL and the error-report URL work.
const URL_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Report chunks (25 rows each) per page of `GET /v1/admin/imports/{id}`.
const REPORT_CHUNKS_PER_PAGE: i32 = 40;

fn require_importer(caller: &Caller) -> Result<(), ApiError> {
    let roles = &caller.roles();
    if administers_whole_organisation(roles) {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            code: "forbidden",
            detail: "Only administrators of the whole organisation import user lists.",
        })
    }
}

fn presigning() -> Result<PresigningConfig, ApiError> {
    PresigningConfig::expires_in(URL_LIFETIME).map_err(|e| ApiError::Internal(e.to_string()))
}

/// A file name as it becomes the last part of the object key.
fn file_name(value: &str) -> Result<String, roster_domain::validation::FieldProblem> {
    let name = bounded_text(value, 1, 200)?;
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(roster_domain::validation::FieldProblem::new(
            "invalid_file_name",
            "must be a file name without folders",
        ));
    }
    Ok(name)
}

/// `POST /v1/admin/imports` `{mode, dry_run?, force?, invite?, mapping?, file_name?}` -> 201
/// `{id, upload_url, method, expires_at}`. A mapping is saved for the organisation's later
/// imports (the daily sync uses it too), unless the import is a dry run.
#[utoipa::path(
    post,
    path = "/v1/admin/imports",
    operation_id = "create_import",
    tag = "imports",
    summary = "Announce a user-list import and get its upload URL",
    security(("session" = [])),
    request_body = crate::openapi::NewImportRequest,
    responses((status = 201, description = "Where to PUT the file.", body = crate::openapi::CreatedImport))
)]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_importer(&caller)?;
    let mut fields = Fields::new(
        &body,
        &["mode", "dry_run", "force", "invite", "mapping", "file_name"],
    );
    let mode = fields.string("mode").and_then(|mode| {
        fields.parse("mode", || match mode {
            "add" => Ok(Mode::Add),
            "replace" => Ok(Mode::Replace),
            _ => Err(roster_domain::validation::FieldProblem::new(
                "invalid_choice",
                "must be add or replace",
            )),
        })
    });
    let dry_run = fields.optional_bool("dry_run").unwrap_or(false);
    let force = fields.optional_bool("force").unwrap_or(false);
    let invite = fields.optional_bool("invite").unwrap_or(false);
    if invite && !caller.organisation.settings.login_methods.password {
        fields.errors.push(
            "invite",
            "password_login_disabled",
            "the organisation signs people in through its identity provider only, and accepting \
             an invitation sets a password",
        );
    }
    let name = match fields.optional_string("file_name") {
        Some(name) => fields.parse("file_name", || file_name(name)),
        None => Some("users.csv".to_owned()),
    };
    let mapping = match body.get("mapping") {
        None | Some(Value::Null) => None,
        Some(value) => match parse_mapping(value) {
            Ok(mapping) => Some(mapping),
            Err(errors) => {
                fields.errors.0.extend(errors.0);
                None
            }
        },
    };
    fields.finish()?;
    let (Some(mode), Some(name)) = (mode, name) else {
        return Err(ApiError::Internal(
            "validated fields are present".to_owned(),
        ));
    };
    let organisation = &caller.organisation.id;
    // A dry run writes nothing, not even the organisation's saved mapping.
    if let (Some(mapping), false) = (&mapping, dry_run) {
        state
            .table
            .save_import_mapping(organisation, mapping)
            .await?;
    }
    let mut import = ImportRecord::new(
        ImportId::generate(),
        organisation.clone(),
        ImportSource::Upload,
        mode,
        state.now(),
    );
    import.dry_run = dry_run;
    import.force = force;
    import.invite = invite;
    import.mapping = mapping;
    import.created_by = Some(caller.membership.id.clone());
    let key = format!("imports/{organisation}/{}/{name}", import.id);
    import.file_key = Some(key.clone());
    state.table.create_import(&import).await?;
    let presigned = state
        .s3
        .put_object()
        .bucket(&state.config.import_bucket)
        .key(&key)
        .presigned(presigning()?)
        .await
        .map_err(|e| {
            ApiError::Internal(format!(
                "presigning the import upload: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            ))
        })?;
    audit::by_caller(
        &state,
        &caller,
        "import.created",
        Some(import.id.as_str()),
        body.keys().cloned().collect(),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": import.id,
            "status": import.status,
            "upload_url": presigned.uri(),
            "method": "PUT",
            "expires_at": state.now() + chrono::Duration::from_std(URL_LIFETIME).unwrap_or_default(),
        })),
    ))
}

fn summary(import: &ImportRecord) -> Value {
    json!({
        "id": import.id,
        "status": import.status,
        "source": import.source,
        "mode": import.mode,
        "dry_run": import.dry_run,
        "force": import.force,
        "invite": import.invite,
        "created_at": import.created_at,
        "finished_at": import.finished_at,
        "rows_total": import.rows_total,
        "counts": import.counts,
        "failure": import.failure,
    })
}

/// `GET /v1/admin/imports/{id}?cursor=`: the import, its detected columns and one page of its
/// report (`next_cursor` while more rows follow). Two DynamoDB calls.
#[utoipa::path(
    get,
    path = "/v1/admin/imports/{import}",
    operation_id = "get_import",
    tag = "imports",
    summary = "An import with a page of its report",
    security(("session" = [])),
    params(("import" = String, Path, description = "An import id."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page; empty or absent for the first.")),
    responses((status = 200, description = "The import.", body = crate::openapi::ImportDetail), (status = 422, description = "The cursor is invalid."))
)]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    query: Result<Query<std::collections::HashMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    require_importer(&caller)?;
    let not_found = || ApiError::NotFound;
    let id = ImportId::try_from(id.as_str()).map_err(|_| not_found())?;
    let Query(query) =
        query.map_err(|_| ApiError::field("query", "invalid_query", "malformed query string"))?;
    let from = match query.get("cursor").filter(|c| !c.is_empty()) {
        None => 0,
        Some(cursor) => cursor.parse::<u32>().map_err(|_| {
            ApiError::field(
                "cursor",
                "invalid_cursor",
                "is not a cursor of this listing",
            )
        })?,
    };
    let organisation = &caller.organisation.id;
    let import = state
        .table
        .import(organisation, &id, state.now())
        .await?
        .ok_or_else(not_found)?;
    let (rows, next) = state
        .table
        .import_rows(organisation, &id, from, REPORT_CHUNKS_PER_PAGE)
        .await?;
    let error_report_url = match &import.error_report_key {
        None => None,
        Some(key) => state
            .s3
            .get_object()
            .bucket(&state.config.import_bucket)
            .key(key)
            .presigned(presigning()?)
            .await
            .ok()
            .map(|request| request.uri().to_owned()),
    };
    let mut view = summary(&import);
    view["columns"] = json!(import.columns.map(|c| c.columns));
    view["rows"] = json!(rows);
    view["next_cursor"] = json!(next.map(|n| n.to_string()));
    view["error_report_url"] = json!(error_report_url);
    Ok(Json(view))
}

/// `GET /v1/admin/imports?limit=&cursor=`: the imports kept, newest first; one `Query` a page.
#[utoipa::path(
    get,
    path = "/v1/admin/imports",
    operation_id = "list_imports",
    tag = "imports",
    summary = "The imports, newest first",
    security(("session" = [])),
    params(("limit" = Option<u32>, Query, description = "1 to 200 (default 50)."), ("cursor" = Option<String>, Query, description = "The next_cursor of the previous page; empty or absent for the first.")),
    responses((status = 200, description = "A page of imports.", body = crate::openapi::Imports), (status = 422, description = "A limit or cursor is invalid."))
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    paging: crate::extract::Paging,
) -> Result<Json<Value>, ApiError> {
    require_importer(&caller)?;
    let page = state
        .table
        .list_imports(
            &caller.organisation.id,
            state.now(),
            paging.limit,
            paging.cursor(),
        )
        .await?;
    Ok(Json(json!({
        "items": page.imports.iter().map(summary).collect::<Vec<_>>(),
        "next_cursor": paging.next_cursor(page.next_cursor),
    })))
}
