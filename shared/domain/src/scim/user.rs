//! What a SCIM User document says about a person, checked against Roster's rules, and how it
//! becomes their profile: the attributes it provides are owned by `scim` (read-only for the
//! person and admins).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    ScimProblem, ScimType,
    schema::{ENTERPRISE_SCHEMA, NAME_KEY_BYTES_MAX, ResourceKind, name_key, within_size},
};
use crate::{
    profile::{
        Attribute, DEPARTMENT_MAX, DISPLAY_NAME_MAX, EXTERNAL_ID_MAX, Email, FUNCTION_MAX,
        NAME_MAX, Owner, Profile, phone_number,
    },
    validation::FieldProblem,
};

/// A provisioned person's SCIM User as the client wrote it (canonical, see `schema::normalise`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimUser {
    pub document: Map<String, Value>,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
}

impl ScimUser {
    /// The `userName` key its uniqueness sentinel is written under.
    pub fn user_name_key(&self) -> Option<String> {
        self.document
            .get("userName")
            .and_then(Value::as_str)
            .map(name_key)
    }

    /// The client's `externalId` of the User, its lookup (and uniqueness) sentinel's value; a
    /// blank one is none, as the profile takes it.
    pub fn external_id(&self) -> Option<&str> {
        self.document
            .get("externalId")
            .and_then(Value::as_str)
            .filter(|id| !id.trim().is_empty())
    }
}

/// The profile attributes an organisation takes from SCIM: by default every one SCIM maps
/// (`ScimAttributes::MAPPED`); an attribute left out stays the person's and the admins' to edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScimAttributes(BTreeSet<Attribute>);

impl ScimAttributes {
    /// Each profile attribute a SCIM User provides, with the SCIM attribute it comes from.
    pub const MAPPED: [(Attribute, &'static str); 9] = [
        (Attribute::FirstName, "name.givenName"),
        (Attribute::LastName, "name.familyName"),
        (Attribute::DisplayName, "displayName"),
        (Attribute::Email, "emails"),
        (Attribute::Function, "title"),
        (Attribute::Department, "enterprise department"),
        (Attribute::Phone, "phoneNumbers (work)"),
        (Attribute::Mobile, "phoneNumbers (mobile)"),
        (Attribute::ExternalId, "externalId"),
    ];

    pub fn takes(&self, attribute: Attribute) -> bool {
        self.0.contains(&attribute)
    }

    /// `profile` with the attributes SCIM owns but the organisation no longer takes given back
    /// to the person, values kept: as the next SCIM write leaves them, and so as people, admins
    /// and imports find them until then (an identity provider may not write a person for
    /// months).
    pub fn release(&self, profile: &Profile) -> Profile {
        let mut released = profile.clone();
        self.release_in(&mut released);
        released
    }

    /// [`Self::release`] in place.
    pub fn release_in(&self, profile: &mut Profile) {
        for (attribute, _) in Self::MAPPED {
            if !self.takes(attribute) && profile.managed_by.owner(attribute) == Owner::Scim {
                profile.managed_by.set(attribute, Owner::SelfService);
            }
        }
    }

    /// A list of profile field names (`first_name`, `department` ...), each one SCIM maps.
    pub fn parse(value: &Value) -> Result<Self, FieldProblem> {
        let names = value.as_array().ok_or_else(|| {
            FieldProblem::new("invalid_type", "must be a list of profile field names")
        })?;
        names
            .iter()
            .map(|name| {
                let name = name.as_str().unwrap_or_default();
                Self::MAPPED
                    .iter()
                    .find(|(attribute, _)| attribute.field() == name)
                    .map(|(attribute, _)| *attribute)
                    .ok_or_else(|| {
                        let known: Vec<&str> =
                            Self::MAPPED.iter().map(|(a, _)| a.field()).collect();
                        FieldProblem::new(
                            "invalid_attribute",
                            format!(
                                "{name:?} is not an attribute SCIM provides; choose from {}",
                                known.join(", ")
                            ),
                        )
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl Default for ScimAttributes {
    fn default() -> Self {
        Self(
            Self::MAPPED
                .iter()
                .map(|(attribute, _)| *attribute)
                .collect(),
        )
    }
}

/// Where an optional profile field lives.
type OptionalField = fn(&mut Profile) -> &mut Option<String>;

/// Longest `userName` accepted.
pub const USER_NAME_MAX: usize = 256;

/// The person a SCIM User document describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimPerson {
    pub user_name: String,
    pub active: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    /// The primary email, else the work one, else the first; else `userName` if it is one.
    pub email: Option<Email>,
    pub function: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub external_id: Option<String>,
}

fn problem(attribute: &str, problem: FieldProblem) -> ScimProblem {
    ScimProblem::new(
        ScimType::InvalidValue,
        format!("{attribute}: {}", problem.message),
    )
}

fn text<'a>(container: Option<&'a Map<String, Value>>, name: &str) -> Option<&'a str> {
    container?
        .get(name)?
        .as_str()
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn bounded(
    value: Option<&str>,
    attribute: &str,
    max: usize,
) -> Result<Option<String>, ScimProblem> {
    value
        .map(|v| crate::validation::bounded_text(v, 1, max).map_err(|e| problem(attribute, e)))
        .transpose()
}

/// The value of the element of a multi-valued attribute that is primary, else of `type`, else first.
fn preferred<'a>(items: Option<&'a Value>, preferred_type: &str) -> Option<&'a str> {
    let items = items?.as_array()?;
    let value = |item: &'a Value| item.get("value").and_then(Value::as_str);
    items
        .iter()
        .find(|i| i.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| {
            items
                .iter()
                .find(|i| i.get("type").and_then(Value::as_str) == Some(preferred_type))
        })
        .or_else(|| items.first())
        .and_then(value)
}

fn typed<'a>(items: Option<&'a Value>, wanted: &str) -> Option<&'a str> {
    items?
        .as_array()?
        .iter()
        .find(|i| i.get("type").and_then(Value::as_str) == Some(wanted))
        .and_then(|i| i.get("value"))
        .and_then(Value::as_str)
}

/// The part of a User document a profile attribute is read from.
fn source(document: &Map<String, Value>, attribute: Attribute) -> Option<&Value> {
    let within = |object: &str, key: &str| document.get(object)?.get(key);
    match attribute {
        Attribute::FirstName => within("name", "givenName"),
        Attribute::LastName => within("name", "familyName"),
        Attribute::DisplayName => document.get("displayName"),
        Attribute::Function => document.get("title"),
        Attribute::Department => within(ENTERPRISE_SCHEMA, "department"),
        Attribute::Phone | Attribute::Mobile => document.get("phoneNumbers"),
        Attribute::ExternalId => document.get("externalId"),
        _ => None,
    }
}

impl ScimPerson {
    /// Reads a canonical User document (see `schema::normalise`), refusing values Roster cannot
    /// keep, each named by its SCIM attribute, and a document larger than a User may be. A
    /// profile attribute the organisation does not take (`takes`) never refuses the person: a
    /// value Roster could not keep is read as none.
    pub fn read(
        document: &Map<String, Value>,
        takes: &ScimAttributes,
    ) -> Result<Self, ScimProblem> {
        Self::read_change(document, None, takes)
    }

    /// `read` of a document that replaces `before` (the one stored): a value Roster could not
    /// keep that the change left as it was is read as none too. It was stored while the
    /// organisation did not take its attribute, and must not block an unrelated change, such as
    /// the identity provider deactivating someone who left.
    pub fn read_change(
        document: &Map<String, Value>,
        before: Option<&Map<String, Value>>,
        takes: &ScimAttributes,
    ) -> Result<Self, ScimProblem> {
        within_size(ResourceKind::User, document)?;
        let user_name = text(Some(document), "userName")
            .ok_or_else(|| ScimProblem::new(ScimType::InvalidValue, "userName is required"))?;
        if user_name.chars().count() > USER_NAME_MAX
            || name_key(user_name).len() > NAME_KEY_BYTES_MAX
        {
            return Err(ScimProblem::new(
                ScimType::InvalidValue,
                format!(
                    "userName: must be at most {USER_NAME_MAX} characters and \
                     {NAME_KEY_BYTES_MAX} bytes of UTF-8"
                ),
            ));
        }
        let name = document.get("name").and_then(Value::as_object);
        let enterprise = document.get(ENTERPRISE_SCHEMA).and_then(Value::as_object);
        let emails = document.get("emails");
        // Only the address Roster reads is checked: the others are kept in the document as the
        // client wrote them and used nowhere.
        let email = match preferred(emails, "work") {
            Some(address) => {
                Some(Email::try_from(address).map_err(|e| problem("emails.value", e))?)
            }
            None => Email::try_from(user_name).ok(),
        };
        let phones = document.get("phoneNumbers");
        // The work number, else one the client gave no type (a fax or home number is not the
        // profile's phone).
        let phone = typed(phones, "work").or_else(|| {
            phones?
                .as_array()?
                .iter()
                .find(|i| i.get("type").is_none())?
                .get("value")?
                .as_str()
        });
        let phone_of = |value: Option<&str>| {
            value
                .map(|v| phone_number(v).map_err(|e| problem("phoneNumbers.value", e)))
                .transpose()
        };
        let unchanged = |attribute| {
            before.is_some_and(|before| source(before, attribute) == source(document, attribute))
        };
        let take = |attribute, read: Result<Option<String>, ScimProblem>| match read {
            Err(_) if !takes.takes(attribute) || unchanged(attribute) => Ok(None),
            read => read,
        };
        Ok(Self {
            user_name: user_name.to_owned(),
            active: document.get("active") != Some(&Value::Bool(false)),
            first_name: take(
                Attribute::FirstName,
                bounded(text(name, "givenName"), "name.givenName", NAME_MAX),
            )?,
            last_name: take(
                Attribute::LastName,
                bounded(text(name, "familyName"), "name.familyName", NAME_MAX),
            )?,
            display_name: take(
                Attribute::DisplayName,
                bounded(
                    text(Some(document), "displayName"),
                    "displayName",
                    DISPLAY_NAME_MAX,
                ),
            )?,
            email,
            function: take(
                Attribute::Function,
                bounded(text(Some(document), "title"), "title", FUNCTION_MAX),
            )?,
            department: take(
                Attribute::Department,
                bounded(text(enterprise, "department"), "department", DEPARTMENT_MAX),
            )?,
            phone: take(Attribute::Phone, phone_of(phone))?,
            mobile: take(Attribute::Mobile, phone_of(typed(phones, "mobile")))?,
            external_id: take(
                Attribute::ExternalId,
                bounded(
                    text(Some(document), "externalId"),
                    "externalId",
                    EXTERNAL_ID_MAX,
                ),
            )?,
        })
    }

    /// The first name a new profile needs when the document gives none: the display name, else
    /// the user name, cut to the profile's limit.
    fn fallback_first_name(&self) -> String {
        self.display_name
            .clone()
            .unwrap_or_else(|| self.user_name.clone())
            .chars()
            .take(NAME_MAX)
            .collect()
    }

    /// `profile` with the values this document provides for the attributes the organisation
    /// `takes`, owned by `scim`. An attribute SCIM owned and no longer provides is cleared; one
    /// the organisation stopped taking goes back to the person, value kept. The login email is
    /// never cleared (a person keeps the address they sign in with).
    pub fn apply_to(&self, profile: &Profile, takes: &ScimAttributes) -> Profile {
        let mut next = takes.release(profile);
        let owned = |attribute| {
            takes.takes(attribute) && profile.managed_by.owner(attribute) == Owner::Scim
        };
        if takes.takes(Attribute::FirstName) {
            next.first_name = self
                .first_name
                .clone()
                .or_else(|| {
                    (!owned(Attribute::FirstName) && !profile.first_name.is_empty())
                        .then(|| profile.first_name.clone())
                })
                .unwrap_or_else(|| self.fallback_first_name());
            next.managed_by.set(Attribute::FirstName, Owner::Scim);
        } else if next.first_name.is_empty() {
            next.first_name = self.fallback_first_name();
        }
        let optional: [(Attribute, &Option<String>, OptionalField); 6] = [
            (Attribute::DisplayName, &self.display_name, |p| {
                &mut p.display_name
            }),
            (Attribute::Function, &self.function, |p| &mut p.function),
            (Attribute::Department, &self.department, |p| {
                &mut p.department
            }),
            (Attribute::Phone, &self.phone, |p| &mut p.phone),
            (Attribute::Mobile, &self.mobile, |p| &mut p.mobile),
            (Attribute::ExternalId, &self.external_id, |p| {
                &mut p.external_id
            }),
        ];
        for (attribute, value, field) in optional {
            if !takes.takes(attribute) {
                continue;
            }
            if value.is_some() {
                *field(&mut next) = value.clone();
                next.managed_by.set(attribute, Owner::Scim);
            } else if owned(attribute) {
                *field(&mut next) = None;
            }
        }
        if takes.takes(Attribute::LastName) {
            if let Some(last) = &self.last_name {
                next.last_name = last.clone();
                next.managed_by.set(Attribute::LastName, Owner::Scim);
            } else if owned(Attribute::LastName) {
                next.last_name = String::new();
            }
        }
        if let Some(email) = self
            .email
            .as_ref()
            .filter(|_| takes.takes(Attribute::Email))
        {
            next.email = Some(email.clone());
            next.managed_by.set(Attribute::Email, Owner::Scim);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::schema::{ResourceKind, normalise};

    fn all() -> ScimAttributes {
        ScimAttributes::default()
    }

    #[test]
    fn attributes_no_longer_taken_go_back_to_the_person_with_their_values() {
        let mut profile = Profile::named("Ada".into(), "Lovelace".into(), None);
        profile.department = Some("Research".into());
        profile.managed_by.set(Attribute::Department, Owner::Scim);
        profile.managed_by.set(Attribute::FirstName, Owner::Scim);
        profile.managed_by.set(Attribute::Function, Owner::Csv);
        let takes = ScimAttributes::parse(&json!(["first_name", "last_name", "email"])).unwrap();
        let released = takes.release(&profile);
        assert_eq!(released.department.as_deref(), Some("Research"));
        assert_eq!(
            released.managed_by.owner(Attribute::Department),
            Owner::SelfService
        );
        assert_eq!(released.managed_by.owner(Attribute::FirstName), Owner::Scim);
        assert_eq!(released.managed_by.owner(Attribute::Function), Owner::Csv);
        assert_eq!(all().release(&profile), profile);
    }

    #[test]
    fn a_users_external_id_is_what_the_client_wrote_unless_blank() {
        let user = |external_id: Value| ScimUser {
            document: normalise(
                ResourceKind::User,
                &json!({ "userName": "ada", "externalId": external_id }),
            )
            .unwrap(),
            created: DateTime::UNIX_EPOCH,
            last_modified: DateTime::UNIX_EPOCH,
        };
        assert_eq!(user(json!(" E-7")).external_id(), Some(" E-7"));
        assert_eq!(user(json!("  ")).external_id(), None);
        assert_eq!(user(Value::Null).external_id(), None);
    }

    fn person(document: Value) -> Result<ScimPerson, ScimProblem> {
        ScimPerson::read(&normalise(ResourceKind::User, &document).unwrap(), &all())
    }

    #[test]
    fn entra_users_become_profiles_owned_by_scim() {
        let person = person(json!({
            "userName": "Ada@Contoso.com",
            "active": "True",
            "name": { "givenName": "Ada", "familyName": "Lovelace" },
            "title": "Engineer",
            "emails": [{ "value": "ada.l@contoso.com", "type": "work" }],
            "phoneNumbers": [
                { "value": "+31 20 123 4567", "type": "work" },
                { "value": "+31 6 1234 5678", "type": "mobile" }
            ],
            "externalId": "E-1",
            ENTERPRISE_SCHEMA: { "department": "R&D" }
        }))
        .unwrap();
        assert!(person.active);
        assert_eq!(
            person.email.as_ref().unwrap().display(),
            "ada.l@contoso.com"
        );
        let profile = person.apply_to(&Profile::named(String::new(), String::new(), None), &all());
        assert_eq!(profile.first_name, "Ada");
        assert_eq!(profile.function.as_deref(), Some("Engineer"));
        assert_eq!(profile.department.as_deref(), Some("R&D"));
        assert_eq!(profile.mobile.as_deref(), Some("+31 6 1234 5678"));
        assert_eq!(profile.phone.as_deref(), Some("+31 20 123 4567"));
        assert_eq!(profile.external_id.as_deref(), Some("E-1"));
        for attribute in [
            Attribute::FirstName,
            Attribute::Department,
            Attribute::Email,
            Attribute::ExternalId,
        ] {
            assert_eq!(
                profile.managed_by.owner(attribute),
                Owner::Scim,
                "{attribute:?}"
            );
        }
        assert_eq!(
            profile.managed_by.owner(Attribute::AboutMe),
            Owner::SelfService
        );
    }

    #[test]
    fn entras_default_attributes_are_kept_and_only_the_work_number_is_the_phone() {
        let document = json!({
            "userName": "ada@contoso.com",
            "preferredLanguage": "nl-NL",
            "name": { "givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace" },
            "addresses": [{
                "type": "work", "formatted": "Building 4", "streetAddress": "1 Main St",
                "locality": "Utrecht", "region": "UT", "postalCode": "3511", "country": "NL"
            }],
            "phoneNumbers": [
                { "value": "+31 20 555 0100 ext. 12", "type": "fax" },
                { "value": "+31 6 1234 5678", "type": "mobile" }
            ],
            ENTERPRISE_SCHEMA: { "employeeNumber": "7", "costCenter": "CC-1", "division": "East" }
        });
        let canonical = normalise(ResourceKind::User, &document).unwrap();
        assert_eq!(
            canonical["addresses"], document["addresses"],
            "kept as written"
        );
        assert_eq!(canonical["preferredLanguage"], "nl-NL");
        assert_eq!(canonical[ENTERPRISE_SCHEMA], document[ENTERPRISE_SCHEMA]);
        let person = ScimPerson::read(&canonical, &all()).unwrap();
        assert_eq!(
            person.phone, None,
            "a fax number is not the profile's phone"
        );
        assert_eq!(person.mobile.as_deref(), Some("+31 6 1234 5678"));

        let untyped = person_phone(json!([{ "value": "+31 20 123 4567" }]));
        assert_eq!(untyped.as_deref(), Some("+31 20 123 4567"));
        let work = person_phone(json!([
            { "value": "+31 20 000 0000", "type": "home" },
            { "value": "+31 20 123 4567", "type": "work" }
        ]));
        assert_eq!(work.as_deref(), Some("+31 20 123 4567"));
    }

    fn person_phone(numbers: Value) -> Option<String> {
        person(json!({ "userName": "a", "phoneNumbers": numbers }))
            .unwrap()
            .phone
    }

    #[test]
    fn a_user_name_that_is_an_email_is_the_email_when_none_is_given() {
        let person = person(json!({ "userName": "Bob@Contoso.com" })).unwrap();
        assert_eq!(person.email.unwrap().normalised(), "bob@contoso.com");
        assert!(person.active);
        let opaque = super::ScimPerson::read(
            &normalise(ResourceKind::User, &json!({ "userName": "5f2b1c" })).unwrap(),
            &all(),
        )
        .unwrap();
        assert!(opaque.email.is_none());
        let profile = opaque.apply_to(&Profile::named(String::new(), String::new(), None), &all());
        assert_eq!(
            profile.first_name, "5f2b1c",
            "a name is needed; the user name stands in"
        );
    }

    #[test]
    fn values_roster_cannot_keep_are_named() {
        let cases = [
            (json!({}), "userName"),
            (
                json!({ "userName": "a", "name": { "givenName": "x".repeat(51) } }),
                "name.givenName",
            ),
            (
                json!({ "userName": "a", "emails": [{ "value": "not-an-email" }] }),
                "emails.value",
            ),
            (
                json!({ "userName": "a", "phoneNumbers": [{ "value": "call me" }] }),
                "phoneNumbers.value",
            ),
            (json!({ "userName": "x".repeat(257) }), "userName"),
        ];
        for (document, attribute) in cases {
            let problem = person(document).unwrap_err();
            assert_eq!(problem.scim_type, ScimType::InvalidValue);
            assert!(problem.detail.starts_with(attribute), "{}", problem.detail);
        }

        // Unless the organisation does not take the attribute.
        let without_phones = ScimAttributes::parse(&json!(["first_name", "last_name"])).unwrap();
        let document = json!({ "userName": "a", "phoneNumbers": [{ "value": "call me" }] });
        let person = ScimPerson::read(
            &normalise(ResourceKind::User, &document).unwrap(),
            &without_phones,
        )
        .unwrap();
        assert_eq!(person.phone, None);
        // Nor an address beside the one Roster reads, which it uses nowhere.
        let with_home = json!({ "userName": "ada@contoso.com", "emails": [
            { "value": "ada@contoso.com", "primary": true },
            { "value": "home: none", "type": "home" }
        ] });
        let ada =
            ScimPerson::read(&normalise(ResourceKind::User, &with_home).unwrap(), &all()).unwrap();
        assert_eq!(ada.email.unwrap().normalised(), "ada@contoso.com");
    }

    #[test]
    fn attributes_scim_stops_providing_are_cleared_but_not_the_login_email() {
        let full = person(json!({
            "userName": "ada@contoso.com", "title": "Engineer", "name": { "familyName": "L" }
        }))
        .unwrap();
        let profile = full.apply_to(&Profile::named("Ada".into(), "L".into(), None), &all());
        let reduced = person(json!({ "userName": "ada@contoso.com", "emails": [] })).unwrap();
        let next = reduced.apply_to(&profile, &all());
        assert_eq!(next.function, None);
        assert_eq!(next.last_name, "");
        assert_eq!(next.email.unwrap().normalised(), "ada@contoso.com");
    }

    #[test]
    fn an_organisation_takes_only_the_attributes_it_chose() {
        let takes =
            ScimAttributes::parse(&json!(["first_name", "last_name", "email", "external_id"]))
                .unwrap();
        let entra = person(json!({
            "userName": "ada@contoso.com", "name": { "givenName": "Ada", "familyName": "L" },
            "title": "Engineer", ENTERPRISE_SCHEMA: { "department": "R&D" }
        }))
        .unwrap();
        let mut before = Profile::named("Ada".into(), "L".into(), None);
        before.function = Some("Architect".into());
        let first = entra.apply_to(&before, &all());
        assert_eq!(first.managed_by.owner(Attribute::Function), Owner::Scim);
        let next = entra.apply_to(&first, &takes);
        assert_eq!(
            next.function.as_deref(),
            Some("Engineer"),
            "the value stays when the organisation stops taking it"
        );
        assert_eq!(
            next.managed_by.owner(Attribute::Function),
            Owner::SelfService
        );
        assert_eq!(
            next.managed_by.owner(Attribute::Department),
            Owner::SelfService
        );
        assert_eq!(next.managed_by.owner(Attribute::FirstName), Owner::Scim);
        let mut edited = next.clone();
        edited.function = Some("Team lead".into());
        assert_eq!(
            entra.apply_to(&edited, &takes).function.as_deref(),
            Some("Team lead"),
            "SCIM no longer overwrites what it does not take"
        );
        let without_names = ScimAttributes::parse(&json!(["email"])).unwrap();
        let fresh = entra.apply_to(
            &Profile::named(String::new(), String::new(), None),
            &without_names,
        );
        assert_eq!(
            fresh.first_name, "ada@contoso.com",
            "a new profile still needs a name"
        );
        assert_eq!(
            fresh.managed_by.owner(Attribute::FirstName),
            Owner::SelfService
        );
        let error = ScimAttributes::parse(&json!(["about_me"])).unwrap_err();
        assert_eq!(error.code, "invalid_attribute");
        assert!(error.message.contains("first_name"), "{}", error.message);
    }

    #[test]
    fn user_names_compare_ignoring_case() {
        assert_eq!(name_key(" Ada@Contoso.COM "), "ada@contoso.com");
    }
}
