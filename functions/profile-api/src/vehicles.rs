//! The caller's vehicles, when their organisation uses the vehicle feature, and the vehicles of
//! the people an administrator manages.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use roster_domain::{
    ids::VehicleId,
    membership::Membership,
    vehicle::{PlateNumber, VEHICLES_PER_PERSON, vehicle_name},
};
use roster_store::{Caller, Vehicle};
use serde_json::{Value, json};

use crate::{
    ApiError, AppState,
    admin::managed_member,
    audit,
    caller::Authenticated,
    extract::{Fields, IfMatch, JsonObject, with_etag},
    views,
};

/// Adding and changing vehicles needs the organisation's vehicle management; seeing and removing
/// one's own (kept from while it was on, with their plates taken) never does.
fn require_feature(caller: &Caller) -> Result<(), ApiError> {
    if caller.organisation.settings.vehicles_enabled {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            code: "vehicles_disabled",
            detail: "Your organisation does not use vehicle management.",
        })
    }
}

fn vehicle_id(id: &str) -> Result<VehicleId, ApiError> {
    VehicleId::try_from(id).map_err(|_| ApiError::NotFound)
}

#[utoipa::path(
    get,
    path = "/v1/me/vehicles",
    operation_id = "my_vehicles",
    tag = "me",
    summary = "The caller's vehicles",
    security(("session" = [])),
    responses((status = 200, description = "The vehicles.", body = crate::openapi::Vehicles))
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Value>, ApiError> {
    vehicles_of(&state, &caller.membership).await
}

async fn vehicles_of(state: &AppState, member: &Membership) -> Result<Json<Value>, ApiError> {
    let vehicles = state
        .table
        .vehicles(&member.organisation_id, &member.id)
        .await?;
    Ok(Json(
        json!({ "items": vehicles.iter().map(views::vehicle).collect::<Vec<_>>() }),
    ))
}

/// `POST /v1/me/vehicles` `{name, plate_number}`: 201; a plate already registered in the
/// organisation gets 409.
#[utoipa::path(
    post,
    path = "/v1/me/vehicles",
    operation_id = "add_vehicle",
    tag = "me",
    summary = "Add a vehicle",
    security(("session" = [])),
    request_body = crate::openapi::NewVehicleRequest,
    responses((status = 201, description = "The vehicle.", body = crate::openapi::Vehicle, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))), (status = 409, description = "The plate is registered in the organisation."))
)]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    require_feature(&caller)?;
    let mut fields = Fields::new(&body, &["name", "plate_number"]);
    let name = fields
        .string("name")
        .and_then(|n| fields.parse("name", || vehicle_name(n)));
    let plate = fields
        .string("plate_number")
        .and_then(|p| fields.parse("plate_number", || PlateNumber::try_from(p)));
    fields.finish()?;
    let (Some(name), Some(plate)) = (name, plate) else {
        return Err(ApiError::Internal(
            "validated vehicle fields missing".to_owned(),
        ));
    };
    let m = &caller.membership;
    if state.table.vehicles(&m.organisation_id, &m.id).await?.len() >= VEHICLES_PER_PERSON {
        return Err(ApiError::field(
            "plate_number",
            "too_many",
            format!("a person can register at most {VEHICLES_PER_PERSON} vehicles"),
        ));
    }
    let vehicle = Vehicle {
        id: VehicleId::generate(),
        name,
        plate,
        created_at: state.now(),
        version: 1,
    };
    state
        .table
        .add_vehicle(&m.organisation_id, &m.id, &vehicle)
        .await?;
    Ok(with_etag(
        StatusCode::CREATED,
        vehicle.version,
        views::vehicle(&vehicle),
    ))
}

/// `PATCH /v1/me/vehicles/{id}` `{name}` with `If-Match` (428 without, 412 when stale); the plate
/// never changes.
#[utoipa::path(
    patch,
    path = "/v1/me/vehicles/{vehicle}",
    operation_id = "rename_vehicle",
    tag = "me",
    summary = "Rename a vehicle (the plate never changes)",
    security(("session" = [])),
    params(("vehicle" = String, Path, description = "A vehicle id."), ("If-Match" = String, Header, description = "The ETag (or `version`) of the vehicle the change is based on.")),
    request_body = crate::openapi::NameRequest,
    responses((status = 200, description = "The vehicle.", body = crate::openapi::Vehicle, headers(("ETag" = String, description = "The version shown; send it back as If-Match to change it."))), (status = 412, description = "The vehicle changed since that version."), (status = 428, description = "If-Match is missing."))
)]
pub async fn rename(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    IfMatch(expected): IfMatch,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    require_feature(&caller)?;
    let id = vehicle_id(&id)?;
    let mut fields = Fields::new(&body, &["name", "plate_number"]);
    if fields.has("plate_number") {
        fields.errors.push(
            "plate_number",
            "read_only",
            "a plate number cannot change; add a new vehicle instead",
        );
    }
    let name = fields
        .string("name")
        .and_then(|n| fields.parse("name", || vehicle_name(n)));
    fields.finish()?;
    let name =
        name.ok_or_else(|| ApiError::Internal("validated vehicle name missing".to_owned()))?;
    let m = &caller.membership;
    let vehicle = state
        .table
        .rename_vehicle(&m.organisation_id, &m.id, &id, expected, &name)
        .await?;
    Ok(with_etag(
        StatusCode::OK,
        vehicle.version,
        views::vehicle(&vehicle),
    ))
}

#[utoipa::path(
    delete,
    path = "/v1/me/vehicles/{vehicle}",
    operation_id = "remove_vehicle",
    tag = "me",
    summary = "Remove a vehicle",
    security(("session" = [])),
    params(("vehicle" = String, Path, description = "A vehicle id.")),
    responses((status = 204, description = "Removed."))
)]
pub async fn remove(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    remove_from(&state, &caller.membership, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes `member`'s vehicle `id`, freeing its plate in the organisation.
async fn remove_from(state: &AppState, member: &Membership, id: &str) -> Result<(), ApiError> {
    let id = vehicle_id(id)?;
    let vehicle = state
        .table
        .vehicle(&member.organisation_id, &member.id, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    state
        .table
        .delete_vehicle(&member.organisation_id, &member.id, &vehicle)
        .await?;
    Ok(())
}

/// The vehicles of a person the caller manages: administrators read plates, and a parking
/// integration may depend on them.
#[utoipa::path(
    get,
    path = "/v1/admin/users/{user}/vehicles",
    operation_id = "user_vehicles",
    tag = "admin",
    summary = "A user's vehicles",
    security(("session" = [])),
    params(("user" = String, Path, description = "A user id of the caller's organisation.")),
    responses((status = 200, description = "The vehicles.", body = crate::openapi::Vehicles))
)]
pub async fn list_of_user(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(user): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let member = managed_member(&state, &caller, &user).await?;
    vehicles_of(&state, &member).await
}

/// Removes a vehicle of a person the caller manages, so its plate can be registered again (a
/// company car passed on, a leaver's car).
#[utoipa::path(
    delete,
    path = "/v1/admin/users/{user}/vehicles/{vehicle}",
    operation_id = "remove_user_vehicle",
    tag = "admin",
    summary = "Remove a user's vehicle",
    security(("session" = [])),
    params(("user" = String, Path, description = "A user id of the caller's organisation."), ("vehicle" = String, Path, description = "A vehicle id.")),
    responses((status = 204, description = "Removed; its plate is free in the organisation."))
)]
pub async fn remove_of_user(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path((user, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let member = managed_member(&state, &caller, &user).await?;
    remove_from(&state, &member, &id).await?;
    audit::by_caller(
        &state,
        &caller,
        "user.vehicle_removed",
        Some(member.id.as_str()),
        vec![],
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
