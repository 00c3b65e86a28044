//! Audit entries: who did what to whom, when, from where, and which fields changed (names only,
//! never values, so no secret can end up in the log).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    User(String),
    Platform,
    Scim(String),
    Import(String),
    /// A scheduled job of Roster's own (its name), finishing what a request left undone.
    Job(String),
    /// Someone not (yet) known: a failed login, a reset request.
    Anonymous,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// `user.created`, `login.failed`, `mfa.enabled` ...
    pub action: String,
    pub actor: Actor,
    /// The user (or other resource) acted on.
    pub target: Option<String>,
    /// The source address, when known.
    pub source: Option<String>,
    /// Names of the fields that changed.
    pub changed: Vec<String>,
    /// The existing Admin who approved a grant of Admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
}
