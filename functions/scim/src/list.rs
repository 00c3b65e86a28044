//! Listing and searching (RFC 7644 sections 3.4.2 and 3.4.3): `filter`, `startIndex`, `count`,
//! `cursor` (RFC 9865), `attributes`, `excludedAttributes`, from the query string or a
//! `/.search` body, answered as a ListResponse.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use roster_domain::scim::{
    ScimProblem, ScimType,
    filter::Filter,
    resource::Projection,
    schema::{LIST_RESPONSE, ResourceKind},
};
use roster_store::ScimClaim;
use serde_json::{Value, json};

use crate::{BaseUrl, Claim, ScimBody, ScimError, ScimState, groups, json_body, scim_json, users};

/// Most resources in one answer (`ServiceProviderConfig.filter.maxResults`).
pub const MAX_RESULTS: usize = 200;

/// Most Users (or Groups) an unfiltered list pages by `startIndex`; beyond, it pages by
/// `cursor` (RFC 9865), so no request reads more than this many.
pub const INDEXED_RESOURCES: usize = 1_000;

/// Most bytes of group documents one page by `startIndex` carries with their members (a group
/// alone may be up to 380,000): its answer stays below the 6 MB a Lambda function may answer
/// even when escaping it into the response's JSON string doubles it (a document of quotes). The
/// groups past it wait for the next page, as `itemsPerPage` tells (RFC 7644 lets a provider
/// answer fewer than `count`); a page by cursor is bounded by DynamoDB's 1 MB a `Query`.
pub const PAGE_BYTES: usize = 2_900_000;

/// Most bytes of group documents one page by `startIndex` reads when it shows no members: what
/// the SCIM function's memory holds with room to spare.
pub const READ_BYTES: usize = 16_000_000;

#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub filter: Option<String>,
    /// 1-based.
    pub start_index: usize,
    pub count: usize,
    /// Whether the request gave `startIndex` (asked for index paging).
    pub index_asked: bool,
    /// RFC 9865 cursor paging: `Some("")` for the first page, then a `nextCursor`.
    pub cursor: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

/// What a list found: every match (paged here by `startIndex`), or one page of a cursor.
pub enum Matched {
    All(Vec<Value>),
    /// The page `startIndex` and `count` ask for, read alone, of `total` resources; `short`
    /// when it ends before `count` at `PAGE_BYTES`.
    Indexed {
        total: usize,
        resources: Vec<Value>,
        short: bool,
    },
    Page {
        resources: Vec<Value>,
        next_cursor: Option<String>,
    },
}

fn number(name: &str, value: Option<&Value>) -> Result<Option<i64>, ScimError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| bad_number(name)),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad_number(name)),
        Some(_) => Err(bad_number(name)),
    }
}

fn bad_number(name: &str) -> ScimError {
    ScimError::Problem(ScimProblem::new(
        ScimType::InvalidValue,
        format!("{name} must be a whole number"),
    ))
}

/// A list of attribute names: a string (query) or an array (search body).
fn names(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

impl ListParams {
    fn from_object(object: &serde_json::Map<String, Value>) -> Result<Self, ScimError> {
        let get = |name: &str| {
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let cursor = match get("cursor") {
            None | Some(Value::Null) => None,
            Some(Value::String(cursor)) => Some(cursor.trim().to_owned()),
            Some(_) => {
                return Err(ScimError::Problem(ScimProblem::new(
                    ScimType::InvalidCursor,
                    "cursor must be a string",
                )));
            }
        };
        let count = number("count", get("count"))?;
        if cursor.is_some() && count.is_some_and(|c| !(1..=MAX_RESULTS as i64).contains(&c)) {
            return Err(ScimError::Problem(ScimProblem::new(
                ScimType::InvalidCount,
                format!("count must be 1 to {MAX_RESULTS} when paging by cursor"),
            )));
        }
        Ok(Self {
            filter: get("filter").and_then(Value::as_str).map(str::to_owned),
            index_asked: get("startIndex").is_some_and(|v| !v.is_null()),
            cursor,
            // RFC 7644: a startIndex below 1 is taken as 1; a negative count as 0.
            start_index: number("startIndex", get("startIndex"))?.unwrap_or(1).max(1) as usize,
            count: count.map_or(MAX_RESULTS, |c| c.clamp(0, MAX_RESULTS as i64) as usize),
            attributes: names(get("attributes")),
            excluded_attributes: names(get("excludedAttributes")),
        })
    }

    pub fn from_query(query: &HashMap<String, String>) -> Result<Self, ScimError> {
        Self::from_object(
            &query
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }

    pub fn from_body(body: &Bytes) -> Result<Self, ScimError> {
        let body = json_body(body)?;
        let object = body.as_object().ok_or_else(|| {
            ScimError::Problem(ScimProblem::new(
                ScimType::InvalidSyntax,
                "a search body must be a JSON object",
            ))
        })?;
        Self::from_object(object)
    }

    pub fn filter(&self, kind: ResourceKind) -> Result<Option<Filter>, ScimError> {
        self.filter
            .as_deref()
            .map(|f| Filter::parse(f, kind))
            .transpose()
            .map_err(ScimError::from)
    }

    pub fn projection(&self, kind: ResourceKind) -> Result<Projection, ScimError> {
        Ok(Projection::parse(
            kind,
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )?)
    }
}

/// The ListResponse of what matched. Every match is paged here: by `startIndex` (with
/// `totalResults`), or by `cursor`, whose value for such a list is the offset of the next page.
/// A cursor's page of a list too long to read whole comes paged already. Cursor pages carry
/// `nextCursor` unless they are the last, and no `totalResults` (RFC 9865 lets a provider leave it
/// out when counting would mean reading everything).
pub fn respond(matched: Matched, params: &ListParams) -> Result<Response, ScimError> {
    let (resources, next_cursor) = match (matched, &params.cursor) {
        (Matched::All(resources), None) => {
            let total = resources.len();
            let page: Vec<Value> = resources
                .into_iter()
                .skip(params.start_index - 1)
                .take(params.count)
                .collect();
            return Ok(indexed_page(total, page, params));
        }
        (
            Matched::Indexed {
                total, resources, ..
            },
            _,
        ) => {
            return Ok(indexed_page(total, resources, params));
        }
        (Matched::All(resources), Some(cursor)) => {
            let offset = match cursor.as_str() {
                "" => 0,
                offset => offset.parse::<usize>().map_err(|_| invalid_cursor())?,
            };
            let end = offset.saturating_add(params.count);
            let next = (end < resources.len()).then(|| end.to_string());
            let page = resources
                .into_iter()
                .skip(offset)
                .take(params.count)
                .collect();
            (page, next)
        }
        (
            Matched::Page {
                resources,
                next_cursor,
            },
            _,
        ) => (resources, next_cursor),
    };
    let mut body = json!({
        "schemas": [LIST_RESPONSE],
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    if let Some(next) = next_cursor {
        body["nextCursor"] = json!(next);
    }
    Ok(scim_json(StatusCode::OK, body, None))
}

fn indexed_page(total: usize, page: Vec<Value>, params: &ListParams) -> Response {
    let body = json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": params.start_index,
        "itemsPerPage": page.len(),
        "Resources": page,
    });
    scim_json(StatusCode::OK, body, None)
}

pub fn invalid_cursor() -> ScimError {
    ScimError::Problem(ScimProblem::new(
        ScimType::InvalidCursor,
        "cursor: give it empty for the first page, then each answer's nextCursor",
    ))
}

/// The answer to index paging over more users than it reads.
pub fn too_many(kind: ResourceKind) -> ScimError {
    let endpoint = match kind {
        ResourceKind::User => "Users",
        ResourceKind::Group => "Groups",
    };
    ScimError::Problem(ScimProblem::new(
        ScimType::TooMany,
        format!(
            "the organisation has more than {INDEXED_RESOURCES} SCIM {endpoint}: page \
             GET /{endpoint} with cursor (RFC 9865; empty for the first page), or filter"
        ),
    ))
}

/// The answer to a search of every resource whose kind's resources are too large to answer
/// together.
fn too_large(kind: ResourceKind) -> ScimError {
    ScimError::Problem(ScimProblem::new(
        ScimType::TooMany,
        format!(
            "the organisation's SCIM {kind}s are too large to answer in one search with their \
             members: page GET /{kind}s, or exclude members",
            kind = kind.name()
        ),
    ))
}

/// `items` as a list answers them: each rendered by `resource`, kept when it matches `filter`,
/// projected.
pub fn rendered<T>(
    items: &[T],
    kind: ResourceKind,
    filter: Option<&Filter>,
    projection: &Projection,
    resource: impl Fn(&T) -> Value,
) -> Vec<Value> {
    items
        .iter()
        .map(resource)
        .filter(|r| filter.is_none_or(|f| f.matches(kind, r)))
        .map(|r| projection.apply(r))
        .collect()
}

/// A resource type served at its own endpoint, for the handlers below.
pub trait Served: Send + Sync + 'static {
    const KIND: ResourceKind;
}

pub struct Users;
pub struct Groups;

impl Served for Users {
    const KIND: ResourceKind = ResourceKind::User;
}

impl Served for Groups {
    const KIND: ResourceKind = ResourceKind::Group;
}

/// The resources of `kind` that `params` selects, rendered and projected.
async fn matching(
    kind: ResourceKind,
    state: &ScimState,
    claim: &ScimClaim,
    base: &str,
    params: &ListParams,
) -> Result<Matched, ScimError> {
    match kind {
        ResourceKind::User => users::matching(state, claim, base, params).await,
        ResourceKind::Group => groups::matching(state, claim, base, params).await,
    }
}

/// `GET /Users`, `GET /Groups`.
pub async fn list<R: Served>(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ScimError> {
    let params = ListParams::from_query(&query)?;
    let resources = matching(R::KIND, &state, &claim, &base, &params).await?;
    respond(resources, &params)
}

/// `POST /Users/.search`, `POST /Groups/.search`.
pub async fn search<R: Served>(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let params = ListParams::from_body(&body)?;
    let resources = matching(R::KIND, &state, &claim, &base, &params).await?;
    respond(resources, &params)
}

/// `POST /.search`: Users and Groups together; a filter applies to the kinds that have its
/// attributes.
pub async fn search_all(
    State(state): State<ScimState>,
    Claim(claim): Claim,
    BaseUrl(base): BaseUrl,
    ScimBody(body): ScimBody,
) -> Result<Response, ScimError> {
    let params = ListParams::from_body(&body)?;
    // Users and Groups are read whole and paged together (by offset, when by cursor).
    let whole = ListParams {
        cursor: None,
        index_asked: true,
        start_index: 1,
        count: INDEXED_RESOURCES,
        ..params.clone()
    };
    let mut resources = Vec::new();
    let mut understood = false;
    for kind in [ResourceKind::User, ResourceKind::Group] {
        let mut params = whole.clone();
        if params.filter(kind).is_err() {
            continue;
        }
        if params.projection(kind).is_err() {
            params.attributes = None;
            params.excluded_attributes = None;
        }
        understood = true;
        match matching(kind, &state, &claim, &base, &params).await? {
            Matched::All(found)
            | Matched::Indexed {
                resources: found,
                short: false,
                ..
            } => {
                resources.extend(found);
            }
            Matched::Indexed { short: true, .. } => return Err(too_large(kind)),
            Matched::Page { .. } => return Err(too_many(kind)),
        }
    }
    if !understood {
        // Neither kind has the filter's attributes: say so with User's reason.
        params.filter(ResourceKind::User)?;
    }
    respond(Matched::All(resources), &params)
}
