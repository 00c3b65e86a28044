//! SCIM 2.0 (RFC 7643/7644) as Roster speaks it: the schemas it serves, filters, PATCH, and how a
//! SCIM User maps onto a person's profile. A SCIM resource is kept as the JSON document the client
//! wrote (canonical attribute names, only attributes of the published schemas), so what a client
//! reads back is what it wrote; the profile takes its values from that document.

pub mod filter;
pub mod patch;
pub mod resource;
pub mod schema;
pub mod user;

/// The `scimType` of a 400 (RFC 7644 section 3.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    Mutability,
    NoTarget,
    Uniqueness,
    /// More results than the service provider will compute (RFC 7644 section 3.12).
    TooMany,
    /// A pagination cursor it did not hand out (RFC 9865).
    InvalidCursor,
    /// A `count` cursor paging cannot serve (RFC 9865).
    InvalidCount,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::InvalidPath => "invalidPath",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidValue => "invalidValue",
            ScimType::Mutability => "mutability",
            ScimType::NoTarget => "noTarget",
            ScimType::Uniqueness => "uniqueness",
            ScimType::TooMany => "tooMany",
            ScimType::InvalidCursor => "invalidCursor",
            ScimType::InvalidCount => "invalidCount",
        }
    }
}

/// A request the SCIM rules refuse: its `scimType` and a detail naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ScimProblem {
    pub scim_type: ScimType,
    pub detail: String,
}

impl ScimProblem {
    pub fn new(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self {
            scim_type,
            detail: detail.into(),
        }
    }
}
