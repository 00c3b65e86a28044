//! What an administrator sends to create or change a user: parsed at the edge, every wrong field
//! named.

use serde_json::{Map, Value};

use crate::{
    membership::{Role, RoleGrant, Username, sites_of},
    preferences::Language,
    profile::{EXTERNAL_ID_MAX, Email, NAME_MAX, tags},
    validation::{FieldProblem, ValidationErrors, bounded_text},
};

/// How the new user logs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Email(Email),
    /// No email: organisation + username, with a generated PIN to change at first login.
    Username(Username),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub first_name: String,
    pub last_name: String,
    pub login: Login,
    pub roles: Vec<RoleGrant>,
    pub sites: Vec<String>,
    pub default_site: Option<String>,
    pub language: Option<Language>,
    pub tags: Vec<String>,
    pub external_id: Option<String>,
}

/// Membership settings an administrator changes besides the profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssignmentPatch {
    pub roles: Option<Vec<RoleGrant>>,
    pub sites: Option<Vec<String>>,
    pub default_site: Option<Option<String>>,
    pub language: Option<Language>,
}

pub const ASSIGNMENT_FIELDS: [&str; 4] = ["roles", "sites", "default_site", "language"];

/// The most sites one user or group names, in its site list and role scopes together, so that
/// checking them is one read.
pub const SITES_MAX: usize = 100;

/// The most role grants one user or group holds.
pub const ROLE_GRANTS_MAX: usize = 20;

/// A role by its name (`user_management` ...).
pub fn role(name: &str) -> Result<Role, FieldProblem> {
    serde_json::from_value(Value::String(name.to_owned())).map_err(|_| {
        FieldProblem::new(
            "unknown_role",
            "must be one of admin, user_management, manager, billing, operations, reporting, member",
        )
    })
}

fn site_list(value: &Value) -> Result<Vec<String>, FieldProblem> {
    let items = value
        .as_array()
        .ok_or_else(|| FieldProblem::new("invalid_type", "must be a list of site ids"))?;
    let mut sites = Vec::new();
    for item in items {
        let site = item
            .as_str()
            .ok_or_else(|| FieldProblem::new("invalid_type", "must be a list of site ids"))?;
        if !sites.iter().any(|s| s == site) {
            sites.push(site.to_owned());
        }
    }
    if sites.len() > SITES_MAX {
        return Err(FieldProblem::new(
            "too_many",
            format!("at most {SITES_MAX} sites"),
        ));
    }
    Ok(sites)
}

/// `[{"role": "manager", "sites": ["s1"]}, "member"]`: a role name alone is organisation-wide, as
/// is a grant without `sites`; a grant with any other key is refused, so a misspelt `sites` never
/// widens a role to the whole organisation. A grant given twice is kept once.
pub fn role_grants(value: &Value) -> Result<Vec<RoleGrant>, FieldProblem> {
    let items = value
        .as_array()
        .ok_or_else(|| FieldProblem::new("invalid_type", "must be a list of roles"))?;
    if items.len() > ROLE_GRANTS_MAX {
        return Err(FieldProblem::new(
            "too_many",
            format!("at most {ROLE_GRANTS_MAX} roles"),
        ));
    }
    let mut grants: Vec<RoleGrant> = Vec::with_capacity(items.len());
    for item in items {
        let grant = match item {
            Value::String(name) => RoleGrant::organisation_wide(role(name)?),
            Value::Object(grant) => {
                if let Some(unknown) = grant
                    .keys()
                    .find(|k| !matches!(k.as_str(), "role" | "sites"))
                {
                    return Err(FieldProblem::new(
                        "unknown_field",
                        format!("a role is {{role, sites}}; `{unknown}` is not one of its fields"),
                    ));
                }
                RoleGrant {
                    role: role(
                        grant
                            .get("role")
                            .and_then(Value::as_str)
                            .unwrap_or_default(),
                    )?,
                    sites: match grant.get("sites") {
                        None | Some(Value::Null) => None,
                        Some(sites) => Some(site_list(sites)?),
                    },
                }
            }
            _ => {
                return Err(FieldProblem::new(
                    "invalid_type",
                    "each role is a name or {role, sites}",
                ));
            }
        };
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    Ok(grants)
}

fn text<'a>(body: &'a Map<String, Value>, field: &str) -> Option<Result<&'a str, FieldProblem>> {
    match body.get(field) {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_str()
                .ok_or_else(|| FieldProblem::new("invalid_type", "must be a string")),
        ),
    }
}

fn language(value: &str) -> Result<Language, FieldProblem> {
    Language::try_from(value)
}

/// Sites referred to must exist in the organisation; the default site must be one of them;
/// the Manager role needs an email.
fn check_assignment(
    roles: &[RoleGrant],
    sites: &[String],
    default_site: Option<&String>,
    has_email: bool,
    known_sites: &[String],
    errors: &mut ValidationErrors,
) {
    let named = sites_of(sites, roles);
    if named.len() > SITES_MAX {
        errors.push(
            "sites",
            "too_many",
            format!("name at most {SITES_MAX} sites, in sites and roles together"),
        );
    } else if let Some(site) = named.iter().find(|s| !known_sites.contains(s)) {
        errors.push(
            "sites",
            "unknown_site",
            format!("{site} is not a site of the organisation"),
        );
    }
    if default_site.is_some_and(|d| !sites.contains(d)) {
        errors.push(
            "default_site",
            "not_assigned",
            "must be one of the user's sites",
        );
    }
    if !has_email && roles.iter().any(|g| g.role == Role::Manager) {
        errors.push(
            "roles",
            "email_required",
            "users with the Manager role need an email address",
        );
    }
}

/// The sites a create request's `sites` and `roles` name, each once (those lists that parse),
/// so the caller can look up just these before [`NewUser::parse`].
pub fn referenced_sites(body: &Map<String, Value>) -> Vec<String> {
    let sites = body
        .get("sites")
        .and_then(|value| site_list(value).ok())
        .unwrap_or_default();
    let roles = body
        .get("roles")
        .and_then(|value| role_grants(value).ok())
        .unwrap_or_default();
    sites_of(&sites, &roles)
}

impl NewUser {
    /// `known_sites` holds those of the [`referenced_sites`] that are the organisation's.
    pub fn parse(
        body: &Map<String, Value>,
        known_sites: &[String],
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        const FIELDS: [&str; 10] = [
            "first_name",
            "last_name",
            "email",
            "username",
            "roles",
            "sites",
            "default_site",
            "language",
            "tags",
            "external_id",
        ];
        for field in body.keys().filter(|f| !FIELDS.contains(&f.as_str())) {
            errors.push(
                field,
                "unknown_field",
                format!("{field} is not accepted here"),
            );
        }
        let name = |field: &str, errors: &mut ValidationErrors| match text(body, field) {
            None => {
                errors.push(field, "required", "is required");
                None
            }
            Some(value) => errors.collect(field, value.and_then(|v| bounded_text(v, 1, NAME_MAX))),
        };
        let first_name = name("first_name", &mut errors);
        let last_name = name("last_name", &mut errors);
        let login = match (text(body, "email"), text(body, "username")) {
            (Some(email), None) => errors
                .collect("email", email.and_then(Email::try_from))
                .map(Login::Email),
            (None, Some(username)) => errors
                .collect("username", username.and_then(Username::try_from))
                .map(Login::Username),
            (Some(_), Some(_)) => {
                errors.push(
                    "username",
                    "conflict",
                    "give an email or a username, not both",
                );
                None
            }
            (None, None) => {
                errors.push(
                    "email",
                    "required",
                    "give an email, or a username for a user without one",
                );
                None
            }
        };
        let roles = match body.get("roles") {
            None | Some(Value::Null) => vec![RoleGrant::organisation_wide(Role::Member)],
            Some(value) => errors
                .collect("roles", role_grants(value))
                .unwrap_or_default(),
        };
        let sites = match body.get("sites") {
            None | Some(Value::Null) => vec![],
            Some(value) => errors
                .collect("sites", site_list(value))
                .unwrap_or_default(),
        };
        let default_site = text(body, "default_site")
            .and_then(|v| errors.collect("default_site", v.map(str::to_owned)));
        let language =
            text(body, "language").and_then(|v| errors.collect("language", v.and_then(language)));
        let tags = match body.get("tags") {
            None | Some(Value::Null) => vec![],
            Some(value) => errors.collect("tags", tags(value)).unwrap_or_default(),
        };
        let external_id = text(body, "external_id").and_then(|v| {
            errors.collect(
                "external_id",
                v.and_then(|v| bounded_text(v, 1, EXTERNAL_ID_MAX)),
            )
        });
        let has_email = matches!(login, Some(Login::Email(_)));
        check_assignment(
            &roles,
            &sites,
            default_site.as_ref(),
            has_email,
            known_sites,
            &mut errors,
        );
        match (first_name, last_name, login) {
            (Some(first_name), Some(last_name), Some(login)) if errors.is_empty() => Ok(Self {
                first_name,
                last_name,
                login,
                roles,
                sites,
                default_site,
                language,
                tags,
                external_id,
            }),
            _ => Err(errors),
        }
    }
}

impl AssignmentPatch {
    /// Reads the assignment fields of `body` (others are left to the profile patch).
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut patch = AssignmentPatch::default();
        if let Some(value) = body.get("roles") {
            patch.roles = errors.collect("roles", role_grants(value));
        }
        if let Some(value) = body.get("sites") {
            patch.sites = errors.collect("sites", site_list(value));
        }
        if let Some(value) = body.get("default_site") {
            patch.default_site = match value {
                Value::Null => Some(None),
                Value::String(site) => Some(Some(site.clone())),
                _ => {
                    errors.push("default_site", "invalid_type", "must be a site id or null");
                    None
                }
            };
        }
        if let Some(value) = body.get("language") {
            patch.language = errors.collect(
                "language",
                value
                    .as_str()
                    .ok_or_else(|| FieldProblem::new("invalid_type", "must be a string"))
                    .and_then(language),
            );
        }
        errors.into_result(patch)
    }

    /// The patched roles, sites and default site checked together.
    pub fn check(
        roles: &[RoleGrant],
        sites: &[String],
        default_site: Option<&String>,
        has_email: bool,
        known_sites: &[String],
    ) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        check_assignment(
            roles,
            sites,
            default_site,
            has_email,
            known_sites,
            &mut errors,
        );
        errors.into_result(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<NewUser, ValidationErrors> {
        NewUser::parse(
            body.as_object().unwrap(),
            &["berlin".to_owned(), "paris".to_owned()],
        )
    }

    #[test]
    fn an_email_user_defaults_to_the_member_role() {
        let user =
            parse(json!({ "first_name": "Jan", "last_name": "Jansen", "email": "j@example.com" }))
                .unwrap();
        assert!(matches!(user.login, Login::Email(_)));
        assert_eq!(user.roles, [RoleGrant::organisation_wide(Role::Member)]);
    }

    #[test]
    fn a_username_user_has_no_email() {
        let user = parse(json!({ "first_name": "Jan", "last_name": "Jansen", "username": "JanJ", "language": "fr" })).unwrap();
        assert!(matches!(user.login, Login::Username(ref u) if u.display() == "JanJ"));
        assert_eq!(user.language, Some(Language::Fr));
    }

    #[test]
    fn roles_are_names_or_scoped_grants() {
        let user = parse(json!({
            "first_name": "A", "last_name": "B", "email": "a@example.com",
            "roles": ["billing", { "role": "manager", "sites": ["berlin"] }],
            "sites": ["berlin"], "default_site": "berlin"
        }))
        .unwrap();
        assert_eq!(
            user.roles[1],
            RoleGrant {
                role: Role::Manager,
                sites: Some(vec!["berlin".to_owned()])
            }
        );
    }

    #[test]
    fn a_grant_with_a_field_it_does_not_know_is_refused_rather_than_made_organisation_wide() {
        for misspelt in [
            json!({ "role": "manager", "site": ["berlin"] }),
            json!({ "role": "manager", "Sites": ["berlin"] }),
        ] {
            let problem = role_grants(&json!([misspelt])).unwrap_err();
            assert_eq!(problem.code, "unknown_field");
        }
        let twice = role_grants(&json!(["billing", { "role": "billing" }])).unwrap();
        assert_eq!(twice, [RoleGrant::organisation_wide(Role::Billing)]);
    }

    #[test]
    fn the_sites_to_look_up_are_those_the_sites_and_role_scopes_name_once() {
        let body = json!({
            "sites": ["berlin", "rome"],
            "roles": ["member", { "role": "manager", "sites": ["rome", "oslo"] }]
        });
        assert_eq!(
            referenced_sites(body.as_object().unwrap()),
            ["berlin", "rome", "oslo"]
        );
        let unparsable =
            json!({ "sites": "berlin", "roles": [{ "role": "pilot", "sites": ["rome"] }] });
        assert!(referenced_sites(unparsable.as_object().unwrap()).is_empty());
    }

    #[test]
    fn a_site_list_or_role_list_past_its_bound_is_refused_by_name() {
        let sites: Vec<String> = (0..=SITES_MAX).map(|i| format!("s{i}")).collect();
        let errors = parse(json!({
            "first_name": "A", "last_name": "B", "email": "a@example.com", "sites": sites
        }))
        .unwrap_err();
        assert_eq!(errors.fields(), ["sites"]);
        assert_eq!(errors.0[0].code, "too_many");
        let roles = vec!["member"; ROLE_GRANTS_MAX + 1];
        let errors = parse(json!({
            "first_name": "A", "last_name": "B", "email": "a@example.com", "roles": roles
        }))
        .unwrap_err();
        assert_eq!(errors.fields(), ["roles"]);
        assert_eq!(errors.0[0].code, "too_many");
        let scoped: Vec<Value> = (0..2)
            .map(|grant| {
                let sites: Vec<String> = (0..60).map(|i| format!("s{grant}-{i}")).collect();
                json!({ "role": "manager", "sites": sites })
            })
            .collect();
        let errors = NewUser::parse(
            json!({ "first_name": "A", "last_name": "B", "email": "a@example.com", "roles": scoped })
                .as_object()
                .unwrap(),
            &[],
        )
        .unwrap_err();
        assert_eq!(errors.fields(), ["sites"], "120 sites across two roles");
        assert_eq!(errors.0[0].code, "too_many");
        let repeated = vec!["berlin"; SITES_MAX + 1];
        assert!(
            parse(json!({
                "first_name": "A", "last_name": "B", "email": "a@example.com", "sites": repeated
            }))
            .is_ok(),
            "one site named many times is one site"
        );
    }

    #[test]
    fn a_manager_needs_an_email() {
        let errors = parse(
            json!({ "first_name": "A", "last_name": "B", "username": "ab", "roles": ["manager"] }),
        )
        .unwrap_err();
        assert_eq!(errors.fields(), ["roles"]);
        assert_eq!(errors.0[0].code, "email_required");
    }

    #[test]
    fn every_wrong_field_is_named() {
        let errors = parse(json!({
            "first_name": "", "email": "x@example.com", "username": "x",
            "roles": ["pilot"], "sites": ["rome"], "default_site": "paris", "shoe": 1
        }))
        .unwrap_err();
        let mut fields = errors.fields();
        fields.sort();
        assert_eq!(
            fields,
            [
                "default_site",
                "first_name",
                "last_name",
                "roles",
                "shoe",
                "sites",
                "username"
            ]
        );
    }
}
