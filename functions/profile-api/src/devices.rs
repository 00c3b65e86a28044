//! The caller's push devices: phones become SNS platform endpoints, browsers keep their Web Push
//! subscription. Push can be switched off per device.

use aws_sdk_sns::error::DisplayErrorContext;
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use roster_domain::{
    device::{DEVICES_PER_PERSON, DeviceRegistration, PushTarget},
    ids::DeviceId,
    membership::Membership,
    validation::bounded_text,
};
use roster_store::{Device, StoreError};
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    caller::Authenticated,
    extract::{Fields, IfMatch, JsonObject, with_etag},
    views,
};

fn device_id(id: &str) -> Result<DeviceId, ApiError> {
    DeviceId::try_from(id).map_err(|_| ApiError::NotFound)
}

#[utoipa::path(
    get,
    path = "/v1/me/devices",
    operation_id = "my_devices",
    tag = "me",
    summary = "The caller's push devices",
    security(("session" = [])),
    responses((status = 200, description = "The devices.", body = crate::openapi::Devices))
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Value>, ApiError> {
    let m = &caller.membership;
    let devices = state.table.devices(&m.organisation_id, &m.id).await?;
    Ok(Json(
        json!({ "items": devices.iter().map(views::device).collect::<Vec<_>>() }),
    ))
}

/// `POST /v1/me/devices`: `{platform: ios|android, name, token}` or
/// `{platform: web, name, subscription: {endpoint, keys: {p256dh, auth}}}` -> 201. The same
/// phone or browser registered again (an app does at every start) is the device it already is,
/// renamed and active again, its push switch kept: 200. Devices other people left on the same
/// phone or browser are removed (those of the caller's own account in other organisations stay).
/// At [`DEVICES_PER_PERSON`], a new device takes the place of the oldest one its push service
/// called gone, and is refused when there is none.
#[utoipa::path(
    post,
    path = "/v1/me/devices",
    operation_id = "register_device",
    tag = "me",
    summary = "Register a phone or browser for push",
    security(("session" = [])),
    request_body = crate::openapi::DeviceRequest,
    responses((status = 201, description = "The device.", body = crate::openapi::Device, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))), (status = 200, description = "The same phone or browser, registered before: renamed and active again.", body = crate::openapi::Device, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))), (status = 422, description = "A field is invalid, or the person has 20 devices and none its push service called gone (`too_many`)."))
)]
pub async fn register(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let registration = DeviceRegistration::parse(&body)?;
    let m = &caller.membership;
    let devices = state.table.devices(&m.organisation_id, &m.id).await?;
    let known = devices
        .iter()
        .find(|d| d.target.same_destination(&registration.target));
    if known.is_none() && devices.len() >= DEVICES_PER_PERSON {
        // A device its push service called gone (an app reinstalled, a subscription renewed)
        // never pushes again: the oldest such makes room.
        let gone = devices
            .iter()
            .filter(|d| !d.active)
            .min_by_key(|d| d.created_at)
            .ok_or_else(|| {
                ApiError::field(
                    "platform",
                    "too_many",
                    format!(
                        "a person can register at most {DEVICES_PER_PERSON} devices: remove one first"
                    ),
                )
            })?;
        discard(&state, m, gone).await?;
    }
    let phone = match &registration.target {
        PushTarget::Ios { token } => Some((state.config.apns_application_arn.as_deref(), token)),
        PushTarget::Android { token } => Some((state.config.fcm_application_arn.as_deref(), token)),
        PushTarget::Web { .. } => None,
    };
    let endpoint_arn = match phone {
        Some((application, token)) => {
            let known_arn = known.and_then(|d| d.endpoint_arn.as_deref());
            Some(enabled_endpoint(&state, application, token, known_arn).await?)
        }
        None => None,
    };
    // The phone or browser is the caller's now: whoever else left a device on it stops
    // getting their reminders there. Asked at every registration, not only the first: a device
    // registered elsewhere a moment before may not have shown in the index yet.
    state
        .table
        .remove_devices_of_other_accounts(&registration.target, endpoint_arn.as_deref(), m)
        .await?;
    let device = Device {
        // The destination's own id: a registration of the same phone at the same time finds
        // this device taken, and renews it.
        id: registration.target.device_id(),
        name: registration.name,
        target: registration.target,
        endpoint_arn,
        push_enabled: true,
        active: true,
        created_at: state.now(),
        version: 1,
    };
    let saved = save_device(&state, m, &device, known.map(|known| known.id.clone())).await;
    // The holder was deleted meanwhile: the endpoint made for the device goes too.
    if let (Err(ApiError::NotFound), Some(arn)) = (&saved, &device.endpoint_arn)
        && sole_holder(&state, m, &device.id, arn).await?
    {
        delete_endpoint(&state, arn).await;
    }
    saved
}

/// Adds `device` for `m`, or renews `renew` (a device of the same destination): 201 or 200
/// with the device.
async fn save_device(
    state: &AppState,
    m: &Membership,
    device: &Device,
    mut renew: Option<DeviceId>,
) -> Result<Response, ApiError> {
    // A device added by a registration at the same moment is renewed; one deleted at the same
    // moment is added again.
    for _ in 0..2 {
        let id = match renew.take() {
            Some(id) => id,
            None if state
                .table
                .add_device(&m.organisation_id, &m.id, device)
                .await? =>
            {
                return Ok(with_etag(
                    StatusCode::CREATED,
                    device.version,
                    views::device(device),
                ));
            }
            None => device.id.clone(),
        };
        let renewed = state
            .table
            .renew_device(
                &m.organisation_id,
                &m.id,
                &id,
                &device.name,
                &device.target,
                device.endpoint_arn.as_deref(),
            )
            .await;
        match renewed {
            Ok(renewed) => {
                return Ok(with_etag(
                    StatusCode::OK,
                    renewed.version,
                    views::device(&renewed),
                ));
            }
            Err(StoreError::NotFound) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Err(ApiError::Stale)
}

/// The SNS endpoint of a phone's `token`, enabled (as AWS's token management advises: SNS
/// disables an endpoint once the push service calls its token invalid, and the app has just
/// proved it): the device's own `known` one, else the one SNS keeps for the token (the same phone
/// registered in another organisation or by another person), else a new one.
async fn enabled_endpoint(
    state: &AppState,
    application: Option<&str>,
    token: &str,
    known: Option<&str>,
) -> Result<String, ApiError> {
    if let Some(arn) = known
        && enable_endpoint(state, arn, token).await?
    {
        return Ok(arn.to_owned());
    }
    // Twice: the endpoint SNS names may be deleted before it is enabled, by the removal of the
    // last other device that held it; the second is made anew.
    for _ in 0..2 {
        let arn = platform_endpoint(state, application, token).await?;
        if enable_endpoint(state, &arn, token).await? {
            return Ok(arn);
        }
    }
    Err(ApiError::Internal(
        "SNS deleted the phone's endpoint twice as it was enabled".to_owned(),
    ))
}

/// Enables the SNS endpoint `arn` for `token`; false when it no longer exists.
async fn enable_endpoint(state: &AppState, arn: &str, token: &str) -> Result<bool, ApiError> {
    let enabled = state
        .sns
        .set_endpoint_attributes()
        .endpoint_arn(arn)
        .attributes("Enabled", "true")
        .attributes("Token", token)
        .send()
        .await;
    match enabled {
        Ok(_) => Ok(true),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(error) => Err(ApiError::Internal(format!(
            "SNS SetEndpointAttributes: {}",
            DisplayErrorContext(error)
        ))),
    }
}

/// The SNS endpoint of a phone's token in the platform application, if that platform is set up:
/// a new one, or the one SNS already keeps for the token.
async fn platform_endpoint(
    state: &AppState,
    application: Option<&str>,
    token: &str,
) -> Result<String, ApiError> {
    let application = application.ok_or_else(|| {
        ApiError::field(
            "platform",
            "unsupported_platform",
            "push to this platform is not set up",
        )
    })?;
    let created = state
        .sns
        .create_platform_endpoint()
        .platform_application_arn(application)
        .token(token)
        .send()
        .await;
    match created {
        Ok(output) => output
            .endpoint_arn
            .ok_or_else(|| ApiError::Internal("SNS answered no endpoint ARN".to_owned())),
        Err(error) => match error.as_service_error() {
            Some(e) if e.is_invalid_parameter_exception() => e
                .meta()
                .message()
                .and_then(endpoint_of_same_token)
                .map(str::to_owned)
                .ok_or_else(|| {
                    ApiError::field(
                        "token",
                        "invalid_token",
                        "the push service refused this token",
                    )
                }),
            _ => Err(ApiError::Internal(format!(
                "SNS CreatePlatformEndpoint: {}",
                DisplayErrorContext(error)
            ))),
        },
    }
}

/// The endpoint named by SNS's refusal to make a second one for a token ("Invalid parameter:
/// Token Reason: Endpoint <arn> already exists with the same Token, but different
/// attributes."): SNS answers so when the token's endpoint differs, for instance disabled.
fn endpoint_of_same_token(message: &str) -> Option<&str> {
    let (_, after) = message.split_once("Endpoint ")?;
    let (arn, rest) = after.split_once(' ')?;
    (arn.starts_with("arn:") && rest.starts_with("already exists with the same")).then_some(arn)
}

/// `PATCH /v1/me/devices/{id}`: `{name?, push_enabled?}`.
#[utoipa::path(
    patch,
    path = "/v1/me/devices/{device}",
    operation_id = "update_device",
    tag = "me",
    summary = "Rename a device or switch its push",
    security(("session" = [])),
    params(("device" = String, Path, description = "A device id."), ("If-Match" = String, Header, description = "The ETag (or `version`) of the device the change is based on.")),
    request_body = crate::openapi::DevicePatchRequest,
    responses((status = 200, description = "The device.", body = crate::openapi::Device, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))), (status = 412, description = "The device changed since that version (a push service may have marked it inactive)."), (status = 428, description = "If-Match is missing."))
)]
pub async fn update(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    IfMatch(expected): IfMatch,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let id = device_id(&id)?;
    let mut fields = Fields::new(&body, &["name", "push_enabled"]);
    let name = fields
        .optional_string("name")
        .and_then(|n| fields.parse("name", || bounded_text(n, 1, 50)));
    let push_enabled = fields.optional_bool("push_enabled");
    if !fields.has("name") && !fields.has("push_enabled") {
        // Nothing to change: no new version for the other clients to be stale against.
        fields
            .errors
            .push("name", "required", "give a name or push_enabled to change");
    }
    fields.finish()?;
    let m = &caller.membership;
    let device = state
        .table
        .update_device(&m.organisation_id, &m.id, &id, expected, name, push_enabled)
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        device.version,
        views::device(&device),
    ))
}

#[utoipa::path(
    delete,
    path = "/v1/me/devices/{device}",
    operation_id = "remove_device",
    tag = "me",
    summary = "Remove a device",
    security(("session" = [])),
    params(("device" = String, Path, description = "A device id.")),
    responses((status = 204, description = "Removed."))
)]
pub async fn remove(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = device_id(&id)?;
    let m = &caller.membership;
    let device = state
        .table
        .device(&m.organisation_id, &m.id, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    discard(&state, m, &device).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes `m`'s `device`, and its SNS endpoint when no other device pushes through it.
async fn discard(state: &AppState, m: &Membership, device: &Device) -> Result<(), ApiError> {
    let endpoint = match &device.endpoint_arn {
        Some(arn) if sole_holder(state, m, &device.id, arn).await? => Some(arn),
        _ => None,
    };
    state
        .table
        .delete_device(&m.organisation_id, &m.id, &device.id)
        .await?;
    if let Some(arn) = endpoint {
        delete_endpoint(state, arn).await;
    }
    Ok(())
}

/// Whether `m`'s device `device` (gone, or never saved) is the only one that pushes through the
/// SNS endpoint `arn`: the same phone registered in another organisation, or by another person,
/// shares it, and it goes only with the last device that holds it.
async fn sole_holder(
    state: &AppState,
    m: &Membership,
    device: &DeviceId,
    arn: &str,
) -> Result<bool, ApiError> {
    Ok(!state
        .table
        .endpoint_held_by_another(arn, &m.organisation_id, &m.id, device)
        .await?)
}

/// Deletes the SNS endpoint `arn`; one that cannot be deleted is logged (the push service
/// disables it once the app is gone).
async fn delete_endpoint(state: &AppState, arn: &str) {
    if let Err(error) = state.sns.delete_endpoint().endpoint_arn(arn).send().await {
        tracing::warn!(error = %DisplayErrorContext(error), "SNS endpoint left behind; it is disabled by the push service once the app is gone");
    }
}

#[cfg(test)]
mod tests {
    use super::endpoint_of_same_token;

    #[test]
    fn sns_s_refusal_of_a_second_endpoint_for_a_token_names_the_first() {
        let arn = "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/roster/5e0c";
        let message = format!(
            "Invalid parameter: Token Reason: Endpoint {arn} already exists with the same Token, but different attributes."
        );
        assert_eq!(endpoint_of_same_token(&message), Some(arn));
        assert_eq!(
            endpoint_of_same_token("Invalid parameter: Token Reason: malformed token"),
            None
        );
        assert_eq!(
            endpoint_of_same_token("Invalid parameter: Endpoint Reason: disabled"),
            None
        );
    }
}
