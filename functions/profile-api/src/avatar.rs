//! Avatar images: uploaded straight to S3 with a presigned PUT (type and size signed in), then
//! checked (a real PNG, JPEG or WebP within the dimension limit) before they become the avatar.

use std::time::Duration;

use aws_sdk_s3::{error::DisplayErrorContext, presigning::PresigningConfig};
use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use roster_domain::{
    ids::UploadId,
    membership::Membership,
    profile::{Attribute, Owner},
};
use roster_store::{Caller, avatars};
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    caller::Authenticated,
    extract::{Fields, JsonObject, etag, with_etag},
    views,
};

pub const MAX_BYTES: u64 = 2 * 1024 * 1024;
pub const MAX_SIDE: usize = 4096;
const CONTENT_TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];
const UPLOAD_WINDOW: Duration = Duration::from_secs(600);

/// Where an upload's presigned PUT writes.
fn object_key(caller: &Caller, upload: &UploadId) -> String {
    let m = &caller.membership;
    format!("{}{upload}", avatars::prefix(&m.organisation_id, &m.id))
}

/// Where the avatar checked from `upload_key` is kept: a key no presigned PUT names, so the
/// upload URL (valid for its whole window, however often it is used) cannot replace the image
/// after its check.
fn checked_key(upload_key: &str) -> String {
    format!("{upload_key}/checked")
}

fn require_self_managed(membership: &Membership) -> Result<(), ApiError> {
    let owner = membership.profile.managed_by.owner(Attribute::AvatarUrl);
    if owner.permits(Owner::SelfService) {
        Ok(())
    } else {
        Err(ApiError::field(
            "avatar_url",
            "read_only",
            format!(
                "avatar_url is managed by {} and cannot be changed here",
                owner.as_str()
            ),
        ))
    }
}

/// `POST /v1/me/avatar` `{content_type, content_length}` -> 201 `{upload_id, upload_url, method,
/// headers, expires_at}`: PUT the image to `upload_url` with those headers, then confirm.
#[utoipa::path(
    post,
    path = "/v1/me/avatar",
    operation_id = "start_avatar_upload",
    tag = "me",
    summary = "Start an avatar upload",
    security(("session" = [])),
    request_body = crate::openapi::AvatarUploadRequest,
    responses((status = 201, description = "Where to PUT the image.", body = crate::openapi::AvatarUpload))
)]
pub async fn start_upload(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_self_managed(&caller.membership)?;
    let mut fields = Fields::new(&body, &["content_type", "content_length"]);
    let content_type = fields.string("content_type");
    if content_type.is_some_and(|t| !CONTENT_TYPES.contains(&t)) {
        fields.errors.push(
            "content_type",
            "unsupported_type",
            format!("must be one of {}", CONTENT_TYPES.join(", ")),
        );
    }
    let length = fields.optional_u64("content_length");
    match length {
        None if fields.errors.0.iter().all(|e| e.field != "content_length") => {
            fields
                .errors
                .push("content_length", "required", "is required");
        }
        Some(length) if length == 0 || length > MAX_BYTES => {
            fields.errors.push(
                "content_length",
                "too_large",
                format!("must be 1 to {MAX_BYTES} bytes"),
            );
        }
        _ => {}
    }
    fields.finish()?;
    let (Some(content_type), Some(length)) = (content_type, length) else {
        return Err(ApiError::Internal(
            "validated upload fields missing".to_owned(),
        ));
    };
    let upload = UploadId::generate();
    let presigned = state
        .s3
        .put_object()
        .bucket(&state.config.avatar_bucket)
        .key(object_key(&caller, &upload))
        .content_type(content_type)
        .content_length(length as i64)
        .presigned(
            PresigningConfig::expires_in(UPLOAD_WINDOW)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        )
        .await
        .map_err(|e| {
            ApiError::Internal(format!(
                "presigning the avatar upload: {}",
                DisplayErrorContext(e)
            ))
        })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "upload_id": upload,
            "upload_url": presigned.uri(),
            "method": "PUT",
            "headers": { "content-type": content_type },
            "expires_at": state.now() + chrono::Duration::from_std(UPLOAD_WINDOW).unwrap_or_default(),
        })),
    ))
}

/// `POST /v1/me/avatar/confirm` `{upload_id}`: checks the uploaded object and makes it the avatar.
#[utoipa::path(
    post,
    path = "/v1/me/avatar/confirm",
    operation_id = "confirm_avatar_upload",
    tag = "me",
    summary = "Check the uploaded image and make it the avatar",
    security(("session" = [])),
    request_body = crate::openapi::AvatarConfirmRequest,
    responses((status = 200, description = "The profile with its new avatar.", body = crate::openapi::Profile, headers(("ETag" = String, description = "The profile's new version; send it back as If-Match to change it."))), (status = 422, description = "Nothing was uploaded (`not_uploaded`), the upload is no acceptable image, or it was replaced while it was checked (`changed_meanwhile`)."))
)]
pub async fn confirm_upload(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    require_self_managed(&caller.membership)?;
    let mut fields = Fields::new(&body, &["upload_id"]);
    let upload = fields.string("upload_id").and_then(|u| {
        fields.parse("upload_id", || {
            UploadId::try_from(u).map_err(|_| not_uploaded())
        })
    });
    fields.finish()?;
    let upload =
        upload.ok_or_else(|| ApiError::Internal("validated upload id missing".to_owned()))?;
    let upload_key = object_key(&caller, &upload);
    let avatar_key = checked_key(&upload_key);
    let before = &caller.membership;
    let already =
        (before.avatar_key.as_ref()).is_some_and(|key| *key == avatar_key || *key == upload_key);
    if already {
        // A retried confirmation: already the avatar (kept at the upload's key before avatars
        // were copies). A save that landed unanswered left the upload behind.
        if before.avatar_key.as_ref() == Some(&avatar_key) {
            state.avatars.remove(&upload_key).await;
        }
        let profile = views::profile(&state, before).await;
        return Ok(with_etag(StatusCode::OK, before.version, profile));
    }

    let kept = match check_image(&state, &upload_key).await? {
        Ok(checked) => keep_checked(&state, &upload_key, &checked, &avatar_key).await?,
        Err(problem) => Err(problem),
    };
    if let Err(problem) = kept {
        state.avatars.remove(&upload_key).await;
        return Err(ApiError::field("upload_id", problem.0, problem.1));
    }
    let mut after = Membership {
        avatar_key: Some(avatar_key),
        version: before.version + 1,
        ..before.clone()
    };
    after
        .profile
        .managed_by
        .set(Attribute::AvatarUrl, Owner::SelfService);
    state.table.update_membership(before, &after, None).await?;
    // Only now: a confirmation the save refused (412, 503) can be sent again.
    state.avatars.remove(&upload_key).await;
    if let Some(old) = &before.avatar_key {
        state.avatars.remove(old).await;
    }
    let profile = views::profile(&state, &after).await;
    Ok(with_etag(StatusCode::OK, after.version, profile))
}

/// Copies the object at `upload_key` to `avatar_key` if it is still the one checked (its
/// `checked` ETag); `Ok(Err(..))` when a new upload replaced it meanwhile.
async fn keep_checked(
    state: &AppState,
    upload_key: &str,
    checked: &str,
    avatar_key: &str,
) -> Result<Result<(), (&'static str, String)>, ApiError> {
    let bucket = &state.config.avatar_bucket;
    let copied = state
        .s3
        .copy_object()
        .bucket(bucket)
        .copy_source(format!("{bucket}/{upload_key}"))
        .copy_source_if_match(checked)
        .key(avatar_key)
        .send()
        .await;
    match copied {
        Ok(_) => Ok(Ok(())),
        Err(error)
            if error
                .raw_response()
                .is_some_and(|r| r.status().as_u16() == 412) =>
        {
            Ok(Err((
                "changed_meanwhile",
                "the upload was replaced while it was checked; upload the image again".to_owned(),
            )))
        }
        Err(error) => Err(ApiError::Internal(format!(
            "keeping the checked avatar: {}",
            DisplayErrorContext(error)
        ))),
    }
}

fn not_uploaded() -> roster_domain::validation::FieldProblem {
    roster_domain::validation::FieldProblem::new(
        "not_uploaded",
        "no image was uploaded for this upload id",
    )
}

/// The ETag of the object at `key` once it is an acceptable image; `Ok(Err((code, message)))`
/// when it is missing or not one.
async fn check_image(
    state: &AppState,
    key: &str,
) -> Result<Result<String, (&'static str, String)>, ApiError> {
    let object = state
        .s3
        .get_object()
        .bucket(&state.config.avatar_bucket)
        .key(key)
        .send()
        .await;
    let object = match object {
        Ok(object) => object,
        Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
            let problem = not_uploaded();
            return Ok(Err((problem.code, problem.message)));
        }
        Err(error) => {
            return Err(ApiError::Internal(format!(
                "reading the uploaded avatar: {}",
                DisplayErrorContext(error)
            )));
        }
    };
    let checked = object.e_tag().unwrap_or_default().to_owned();
    if object.content_length().unwrap_or_default() as u64 > MAX_BYTES {
        return Ok(Err((
            "too_large",
            format!("the image must be at most {MAX_BYTES} bytes"),
        )));
    }
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| ApiError::Internal(format!("reading the uploaded avatar: {e}")))?
        .into_bytes();
    let is_accepted_type = matches!(
        imagesize::image_type(&bytes),
        Ok(imagesize::ImageType::Png | imagesize::ImageType::Jpeg | imagesize::ImageType::Webp)
    );
    if !is_accepted_type {
        return Ok(Err((
            "not_an_image",
            "the upload is not a PNG, JPEG or WebP image".to_owned(),
        )));
    }
    match imagesize::blob_size(&bytes) {
        Ok(size)
            if size.width > 0
                && size.height > 0
                && size.width <= MAX_SIDE
                && size.height <= MAX_SIDE =>
        {
            Ok(Ok(checked))
        }
        Ok(_) => Ok(Err((
            "too_large_dimensions",
            format!("the image must be at most {MAX_SIDE} x {MAX_SIDE} pixels"),
        ))),
        Err(_) => Ok(Err((
            "not_an_image",
            "the image could not be read".to_owned(),
        ))),
    }
}

/// `DELETE /v1/me/avatar`: removes the avatar.
#[utoipa::path(
    delete,
    path = "/v1/me/avatar",
    operation_id = "remove_avatar",
    tag = "me",
    summary = "Remove the avatar",
    security(("session" = [])),
    responses((status = 204, description = "Removed.", headers(("ETag" = String, description = "The profile's new version; send it back as If-Match to change it."))), (status = 422, description = "The avatar is managed by an identity provider."))
)]
pub async fn remove(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Response, ApiError> {
    require_self_managed(&caller.membership)?;
    let before = &caller.membership;
    let Some(old) = &before.avatar_key else {
        return Ok(no_content_with_etag(before.version));
    };
    let after = Membership {
        avatar_key: None,
        version: before.version + 1,
        ..before.clone()
    };
    state.table.update_membership(before, &after, None).await?;
    state.avatars.remove(old).await;
    Ok(no_content_with_etag(after.version))
}

/// 204 with the profile's `version` as its ETag.
fn no_content_with_etag(version: u64) -> Response {
    (StatusCode::NO_CONTENT, [(header::ETAG, etag(version))]).into_response()
}
