//! Discovery (RFC 7644 section 4): what Roster supports, its resource types and its schemas,
//! generated from the same definitions that validate requests.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use roster_domain::scim::schema::{
    ENTERPRISE_USER, GROUP, LIST_RESPONSE, ResourceKind, SchemaDef, USER, schema_json,
};
use serde_json::{Value, json};

use crate::{BaseUrl, Claim, ScimError, ScimState, list::MAX_RESULTS, scim_json};

fn with_meta(mut value: Value, resource_type: &str, location: String) -> Value {
    value["meta"] = json!({ "resourceType": resource_type, "location": location });
    value
}

fn list(resources: Vec<Value>) -> Response {
    scim_json(
        StatusCode::OK,
        json!({
            "schemas": [LIST_RESPONSE],
            "totalResults": resources.len(),
            "startIndex": 1,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
        None,
    )
}

pub async fn service_provider_config(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
) -> Result<Response, ScimError> {
    state.table.scim_authorise(&claim).await?;
    let config = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://github.com/roster/roster#scim",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        // RFC 9865. No default method: an unfiltered list of more than INDEXED_RESOURCES pages by
        // cursor unless it asks for startIndex.
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPageSize": MAX_RESULTS,
            "maxPageSize": MAX_RESULTS,
        },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "SCIM token",
            "description": "A bearer token an Admin mints at /v1/admin/scim-tokens.",
            "primary": true
        }],
    });
    Ok(scim_json(
        StatusCode::OK,
        with_meta(
            config,
            "ServiceProviderConfig",
            format!("{base}/ServiceProviderConfig"),
        ),
        None,
    ))
}

fn resource_type_json(kind: ResourceKind, base: &str) -> Value {
    let extensions: Vec<Value> = kind
        .extensions()
        .iter()
        .map(|e| json!({ "schema": e.id, "required": false }))
        .collect();
    let mut value = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": kind.name(),
        "name": kind.name(),
        "endpoint": kind.endpoint(),
        "schema": kind.core().id,
    });
    if !extensions.is_empty() {
        value["schemaExtensions"] = Value::Array(extensions);
    }
    with_meta(
        value,
        "ResourceType",
        format!("{base}/ResourceTypes/{}", kind.name()),
    )
}

const KINDS: [ResourceKind; 2] = [ResourceKind::User, ResourceKind::Group];

pub async fn resource_types(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
) -> Result<Response, ScimError> {
    state.table.scim_authorise(&claim).await?;
    Ok(list(
        KINDS
            .iter()
            .map(|k| resource_type_json(*k, &base))
            .collect(),
    ))
}

pub async fn resource_type(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    state.table.scim_authorise(&claim).await?;
    let kind = KINDS
        .iter()
        .find(|k| k.name() == id)
        .ok_or(ScimError::NotFound)?;
    Ok(scim_json(
        StatusCode::OK,
        resource_type_json(*kind, &base),
        None,
    ))
}

/// The schemas that describe the discovery resources themselves (RFC 7643 section 8.7.2),
/// reduced to their top-level attributes.
fn meta_schemas() -> Vec<Value> {
    let attribute = |name: &str, kind: &str, multi: bool| {
        json!({
            "name": name, "type": kind, "multiValued": multi, "required": false,
            "caseExact": false, "mutability": "readOnly", "returned": "default",
            "uniqueness": "none"
        })
    };
    let schema = |id: &str, name: &str, description: &str, attributes: Vec<Value>| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": id, "name": name, "description": description, "attributes": attributes
        })
    };
    vec![
        schema(
            "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
            "ServiceProviderConfig",
            "What the service provider supports.",
            vec![
                attribute("documentationUri", "reference", false),
                attribute("patch", "complex", false),
                attribute("bulk", "complex", false),
                attribute("filter", "complex", false),
                attribute("pagination", "complex", false),
                attribute("changePassword", "complex", false),
                attribute("sort", "complex", false),
                attribute("etag", "complex", false),
                attribute("authenticationSchemes", "complex", true),
            ],
        ),
        schema(
            "urn:ietf:params:scim:schemas:core:2.0:ResourceType",
            "ResourceType",
            "A type of resource the service provider serves.",
            vec![
                attribute("id", "string", false),
                attribute("name", "string", false),
                attribute("description", "string", false),
                attribute("endpoint", "reference", false),
                attribute("schema", "reference", false),
                attribute("schemaExtensions", "complex", true),
            ],
        ),
        schema(
            "urn:ietf:params:scim:schemas:core:2.0:Schema",
            "Schema",
            "A schema the service provider serves.",
            vec![
                attribute("id", "string", false),
                attribute("name", "string", false),
                attribute("description", "string", false),
                attribute("attributes", "complex", true),
            ],
        ),
    ]
}

const SERVED: [&SchemaDef; 3] = [&USER, &ENTERPRISE_USER, &GROUP];

fn all_schemas(base: &str) -> Vec<Value> {
    SERVED
        .iter()
        .map(|s| schema_json(s))
        .chain(meta_schemas())
        .map(|s| {
            let location = format!("{base}/Schemas/{}", s["id"].as_str().unwrap_or_default());
            with_meta(s, "Schema", location)
        })
        .collect()
}

pub async fn schemas(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
) -> Result<Response, ScimError> {
    state.table.scim_authorise(&claim).await?;
    Ok(list(all_schemas(&base)))
}

pub async fn schema(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    state.table.scim_authorise(&claim).await?;
    let schema = all_schemas(&base)
        .into_iter()
        .find(|s| s["id"] == id.as_str())
        .ok_or(ScimError::NotFound)?;
    Ok(scim_json(StatusCode::OK, schema, None))
}
