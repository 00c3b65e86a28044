//! A person's profile within one organisation, its fields' rules, who owns each attribute
//! (provenance), and how a partial update (PATCH) applies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::validation::{FieldProblem, ValidationErrors, bounded_text};

/// An email address: validated, kept as the person spelled it, compared normalised (lowercase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    display: String,
    normalised: String,
}

impl Email {
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The form uniqueness and lookups use.
    pub fn normalised(&self) -> &str {
        &self.normalised
    }

    /// The key `written` is looked up by, valid or not: its `normalised` form, or when it does
    /// not parse, lowercased (it names nobody stored then).
    pub fn lookup_key(written: &str) -> String {
        Self::try_from(written)
            .map_or_else(|_| written.trim().to_lowercase(), |email| email.normalised)
    }
}

impl TryFrom<&str> for Email {
    type Error = FieldProblem;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        let display = value.trim();
        if display.is_empty() {
            return Err(FieldProblem::new("required", "must not be empty"));
        }
        // Only a bare address: a display name (`Jan <jan@example.com>`) would become part of
        // the login and never match the mailbox; a domain literal reaches no workplace.
        let bare = email_address::Options::default()
            .without_display_text()
            .without_domain_literal();
        if display.len() > 254
            || email_address::EmailAddress::parse_with_options(display, bare).is_err()
        {
            return Err(FieldProblem::new(
                "invalid_email",
                "must be a valid email address",
            ));
        }
        // Mail services (SES among them) take no address with other than ASCII before the `@`
        // (SMTPUTF8); a domain of other letters is reached by its ASCII (IDNA) form, which is
        // also how it is compared, so `müller.de` and `xn--mller-kva.de` are one address.
        let (local, domain) = display.rsplit_once('@').expect("a parsed address has an @");
        if !local.is_ascii() {
            return Err(FieldProblem::new(
                "invalid_email",
                "must have only ASCII letters, digits and signs before the @: mail cannot be delivered to others",
            ));
        }
        let domain = idna::domain_to_ascii(domain)
            .map_err(|_| FieldProblem::new("invalid_email", "must be a valid email address"))?;
        Ok(Self {
            display: display.to_owned(),
            normalised: format!("{}@{domain}", local.to_lowercase()),
        })
    }
}

/// `address` (a valid email address) as mail services deliver to it: its domain in ASCII
/// (IDNA), so `joerg@müller.de` is sent to `joerg@xn--mller-kva.de`. The local part is kept as
/// written.
pub fn deliverable_address(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) if !domain.is_ascii() => match idna::domain_to_ascii(domain) {
            Ok(domain) => format!("{local}@{domain}"),
            Err(_) => address.to_owned(),
        },
        _ => address.to_owned(),
    }
}

/// Who last set an attribute. Identity providers' attributes are read-only for people and admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    #[serde(rename = "self")]
    SelfService,
    Admin,
    Csv,
    Scim,
    Sso,
}

impl Owner {
    /// Whether an attribute owned by `self` may be changed by `actor`. SCIM and SSO attributes are
    /// read-only for people and admins; imported (CSV) attributes for people only.
    pub fn permits(self, actor: Owner) -> bool {
        match self {
            Owner::Scim | Owner::Sso => actor == self,
            Owner::Csv => actor != Owner::SelfService,
            Owner::SelfService | Owner::Admin => true,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Owner::SelfService => "self",
            Owner::Admin => "admin",
            Owner::Csv => "csv",
            Owner::Scim => "scim",
            Owner::Sso => "sso",
        }
    }
}

/// The profile attributes whose owner is tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribute {
    FirstName,
    LastName,
    DisplayName,
    Email,
    Department,
    Function,
    AboutMe,
    Tags,
    ExternalId,
    AvatarUrl,
    Phone,
    Mobile,
    FirstAider,
    EmergencyOfficer,
    Photo,
}

impl Attribute {
    pub const ALL: [Attribute; 15] = [
        Self::FirstName,
        Self::LastName,
        Self::DisplayName,
        Self::Email,
        Self::Department,
        Self::Function,
        Self::AboutMe,
        Self::Tags,
        Self::ExternalId,
        Self::AvatarUrl,
        Self::Phone,
        Self::Mobile,
        Self::FirstAider,
        Self::EmergencyOfficer,
        Self::Photo,
    ];

    pub fn field(self) -> &'static str {
        match self {
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::DisplayName => "display_name",
            Self::Email => "email",
            Self::Department => "department",
            Self::Function => "function",
            Self::AboutMe => "about_me",
            Self::Tags => "tags",
            Self::ExternalId => "external_id",
            Self::AvatarUrl => "avatar_url",
            Self::Phone => "phone",
            Self::Mobile => "mobile",
            Self::FirstAider => "first_aider",
            Self::EmergencyOfficer => "emergency_officer",
            Self::Photo => "photo",
        }
    }

    /// Attributes that record the organisation's facts about a person (its id for them, their
    /// first-aid and emergency roles): set by the organisation, never by the person.
    fn set_by_organisation(self) -> bool {
        matches!(
            self,
            Self::ExternalId | Self::FirstAider | Self::EmergencyOfficer
        )
    }
}

/// Owner of each attribute; an attribute nobody claimed belongs to the person (`self`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ManagedBy(BTreeMap<Attribute, Owner>);

impl ManagedBy {
    pub fn owner(&self, attribute: Attribute) -> Owner {
        self.0
            .get(&attribute)
            .copied()
            .unwrap_or(Owner::SelfService)
    }

    pub fn set(&mut self, attribute: Attribute, owner: Owner) {
        self.0.insert(attribute, owner);
    }

    /// Every attribute with its owner, as the API shows it.
    pub fn complete(&self) -> BTreeMap<&'static str, &'static str> {
        Attribute::ALL
            .iter()
            .map(|a| (a.field(), self.owner(*a).as_str()))
            .collect()
    }
}

pub const NAME_MAX: usize = 50;
pub const DISPLAY_NAME_MAX: usize = 100;
pub const DEPARTMENT_MAX: usize = 100;
pub const FUNCTION_MAX: usize = 100;
pub const ABOUT_ME_MAX: usize = 1000;
pub const TAGS_MAX: usize = 20;
pub const TAG_MAX: usize = 50;
pub const EXTERNAL_ID_MAX: usize = 100;
pub const PHONE_MAX: usize = 20;

/// A phone number: 2 to 20 digits, spaces and `+ - ( ) . /`, with at least two digits.
pub fn phone_number(value: &str) -> Result<String, FieldProblem> {
    let value = bounded_text(value, 2, PHONE_MAX)?;
    let allowed = |c: char| c.is_ascii_digit() || " +-()./".contains(c);
    if !value.chars().all(allowed) || value.chars().filter(char::is_ascii_digit).count() < 2 {
        return Err(FieldProblem::new(
            "invalid_phone",
            "may only contain digits, spaces and + - ( ) . /",
        ));
    }
    Ok(value)
}

/// The organisation's profile of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub first_name: String,
    pub last_name: String,
    /// Set only when the person chose one; `display_name()` falls back to first and last name.
    pub display_name: Option<String>,
    pub email: Option<Email>,
    pub department: Option<String>,
    pub function: Option<String>,
    pub about_me: Option<String>,
    pub tags: Vec<String>,
    pub external_id: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    /// Trained first-aider (the Dutch EHBO certificate).
    #[serde(default)]
    pub first_aider: bool,
    /// Company emergency officer (the Dutch BHV role).
    #[serde(default)]
    pub emergency_officer: bool,
    /// A picture an import named: an https URL or a file name in the organisation's photo set.
    #[serde(default)]
    pub photo: Option<String>,
    pub managed_by: ManagedBy,
}

impl Profile {
    /// A profile with just a name and, if any, an email; everything else empty.
    pub fn named(first_name: String, last_name: String, email: Option<Email>) -> Self {
        Self {
            first_name,
            last_name,
            display_name: None,
            email,
            department: None,
            function: None,
            about_me: None,
            tags: vec![],
            external_id: None,
            phone: None,
            mobile: None,
            first_aider: false,
            emergency_officer: false,
            photo: None,
            managed_by: ManagedBy::default(),
        }
    }

    pub fn display_name(&self) -> String {
        self.display_name
            .clone()
            .unwrap_or_else(|| self.full_name())
    }

    /// First and last name: the display name of someone who chose none.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// A change to one field: a new value, or back to none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<T> {
    Set(T),
    Clear,
}

/// A validated partial update of a profile: absent fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfilePatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<Change<String>>,
    pub email: Option<Email>,
    pub department: Option<Change<String>>,
    pub function: Option<Change<String>>,
    pub about_me: Option<Change<String>>,
    pub tags: Option<Vec<String>>,
    pub external_id: Option<Change<String>>,
    pub phone: Option<Change<String>>,
    pub mobile: Option<Change<String>>,
    pub first_aider: Option<bool>,
    pub emergency_officer: Option<bool>,
    pub photo: Option<Change<String>>,
}

/// Fields a client reads but never writes through a profile update.
const READ_ONLY_FIELDS: [&str; 6] = [
    "id",
    "avatar_url",
    "photo",
    "managed_by",
    "username",
    "organisation_id",
];

impl ProfilePatch {
    /// Parses a JSON object, reporting every wrong field (unknown, read-only, wrong type, invalid).
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut patch = ProfilePatch::default();
        for (field, value) in body {
            match field.as_str() {
                "first_name" => {
                    patch.first_name = errors.collect(field, required_text(value, NAME_MAX))
                }
                "last_name" => {
                    patch.last_name = errors.collect(field, required_text(value, NAME_MAX))
                }
                "display_name" => {
                    patch.display_name =
                        errors.collect(field, optional_text(value, DISPLAY_NAME_MAX))
                }
                "email" => {
                    patch.email = errors.collect(field, string(value).and_then(Email::try_from));
                }
                "department" => {
                    patch.department = errors.collect(field, optional_text(value, DEPARTMENT_MAX))
                }
                "function" => {
                    patch.function = errors.collect(field, optional_text(value, FUNCTION_MAX))
                }
                "about_me" => {
                    patch.about_me = errors.collect(field, optional_text(value, ABOUT_ME_MAX))
                }
                "tags" => patch.tags = errors.collect(field, tags(value)),
                "external_id" => {
                    patch.external_id = errors.collect(field, optional_text(value, EXTERNAL_ID_MAX))
                }
                "phone" => patch.phone = errors.collect(field, optional_phone(value)),
                "mobile" => patch.mobile = errors.collect(field, optional_phone(value)),
                "first_aider" => patch.first_aider = errors.collect(field, boolean(value)),
                "emergency_officer" => {
                    patch.emergency_officer = errors.collect(field, boolean(value))
                }
                read_only if READ_ONLY_FIELDS.contains(&read_only) => {
                    errors.push(
                        field,
                        "read_only",
                        format!("{field} cannot be changed here"),
                    );
                }
                _ => errors.push(
                    field,
                    "unknown_field",
                    format!("{field} is not a profile field"),
                ),
            }
        }
        errors.into_result(patch)
    }

    /// Applies the patch as `actor`. Attributes whose owner forbids it are refused (all of them
    /// named); attributes that really change become owned by `actor`. Answers the new profile and
    /// the attributes that changed.
    pub fn apply(
        &self,
        profile: &Profile,
        actor: Owner,
    ) -> Result<(Profile, Vec<Attribute>), ValidationErrors> {
        let mut patching = Patching {
            next: profile.clone(),
            actor,
            changed: Vec::new(),
            errors: ValidationErrors::default(),
        };
        patching.set(Attribute::FirstName, self.first_name.clone(), |p| {
            &mut p.first_name
        });
        patching.set(Attribute::LastName, self.last_name.clone(), |p| {
            &mut p.last_name
        });
        // Reads show first and last name as the display name when none was chosen. A form that
        // sends back the name they make (before or after renaming) chooses none, so the name
        // follows them; one the person or an admin stored only because such a form sent it
        // back before (it equals the names it was read with) follows them again. A value an
        // identity provider or a file set stays theirs (sent back unchanged, it changes nothing),
        // and an import's value is the file's, taking the attribute over.
        let stored_by_a_form = matches!(
            profile.managed_by.owner(Attribute::DisplayName),
            Owner::SelfService | Owner::Admin
        );
        let display_name = match self.display_name.as_ref().map(resolve) {
            Some(Some(name)) if actor != Owner::Csv => {
                let made_by_names =
                    name == profile.full_name() || name == patching.next.full_name();
                let stored_as_names = (profile.display_name.as_ref())
                    .is_none_or(|stored| stored_by_a_form && *stored == profile.full_name());
                Some((!(made_by_names && stored_as_names)).then_some(name))
            }
            given => given,
        };
        patching.set(Attribute::DisplayName, display_name, |p| {
            &mut p.display_name
        });
        patching.set(Attribute::Email, self.email.clone().map(Some), |p| {
            &mut p.email
        });
        patching.set(
            Attribute::Department,
            self.department.as_ref().map(resolve),
            |p| &mut p.department,
        );
        patching.set(
            Attribute::Function,
            self.function.as_ref().map(resolve),
            |p| &mut p.function,
        );
        patching.set(
            Attribute::AboutMe,
            self.about_me.as_ref().map(resolve),
            |p| &mut p.about_me,
        );
        patching.set(Attribute::Tags, self.tags.clone(), |p| &mut p.tags);
        patching.set(
            Attribute::ExternalId,
            self.external_id.as_ref().map(resolve),
            |p| &mut p.external_id,
        );
        patching.set(Attribute::Phone, self.phone.as_ref().map(resolve), |p| {
            &mut p.phone
        });
        patching.set(Attribute::Mobile, self.mobile.as_ref().map(resolve), |p| {
            &mut p.mobile
        });
        patching.set(Attribute::FirstAider, self.first_aider, |p| {
            &mut p.first_aider
        });
        patching.set(Attribute::EmergencyOfficer, self.emergency_officer, |p| {
            &mut p.emergency_officer
        });
        patching.set(Attribute::Photo, self.photo.as_ref().map(resolve), |p| {
            &mut p.photo
        });
        let Patching {
            next,
            changed,
            errors,
            ..
        } = patching;
        errors.into_result((next, changed))
    }
}

/// A profile being patched by one actor.
struct Patching {
    next: Profile,
    actor: Owner,
    changed: Vec<Attribute>,
    errors: ValidationErrors,
}

impl Patching {
    /// Sets one attribute to `value` (if given and different), when its owner lets the actor. An
    /// import that gives the value the attribute already has still takes it over (a change of
    /// owner): from then on it is the file's to keep, so the person does not edit what the next
    /// file would silently set back.
    fn set<T: PartialEq>(
        &mut self,
        attribute: Attribute,
        value: Option<T>,
        field: fn(&mut Profile) -> &mut T,
    ) {
        let Some(value) = value else { return };
        if *field(&mut self.next) == value {
            let owner = self.next.managed_by.owner(attribute);
            if self.actor == Owner::Csv && owner != Owner::Csv && owner.permits(self.actor) {
                self.next.managed_by.set(attribute, self.actor);
                self.changed.push(attribute);
            }
            return;
        }
        if attribute.set_by_organisation() && self.actor == Owner::SelfService {
            self.errors.push(
                attribute.field(),
                "read_only",
                format!("{} is set by your organisation", attribute.field()),
            );
            return;
        }
        let owner = self.next.managed_by.owner(attribute);
        if !owner.permits(self.actor) {
            self.errors.push(
                attribute.field(),
                "read_only",
                format!(
                    "{} is managed by {} and cannot be changed here",
                    attribute.field(),
                    owner.as_str()
                ),
            );
            return;
        }
        *field(&mut self.next) = value;
        self.next.managed_by.set(attribute, self.actor);
        self.changed.push(attribute);
    }
}

fn resolve(change: &Change<String>) -> Option<String> {
    match change {
        Change::Set(value) => Some(value.clone()),
        Change::Clear => None,
    }
}

fn string(value: &Value) -> Result<&str, FieldProblem> {
    value
        .as_str()
        .ok_or_else(|| FieldProblem::new("invalid_type", "must be a string"))
}

fn boolean(value: &Value) -> Result<bool, FieldProblem> {
    value
        .as_bool()
        .ok_or_else(|| FieldProblem::new("invalid_type", "must be true or false"))
}

/// A phone number sets the field, `null` or an empty string clears it.
fn optional_phone(value: &Value) -> Result<Change<String>, FieldProblem> {
    if value.is_null() {
        return Ok(Change::Clear);
    }
    let text = string(value)?;
    if text.trim().is_empty() {
        return Ok(Change::Clear);
    }
    phone_number(text).map(Change::Set)
}

fn required_text(value: &Value, max: usize) -> Result<String, FieldProblem> {
    if value.is_null() {
        return Err(FieldProblem::new("required", "must not be empty"));
    }
    bounded_text(string(value)?, 1, max)
}

/// A string sets the field, `null` or an empty string clears it.
fn optional_text(value: &Value, max: usize) -> Result<Change<String>, FieldProblem> {
    if value.is_null() {
        return Ok(Change::Clear);
    }
    let text = string(value)?;
    if text.trim().is_empty() {
        return Ok(Change::Clear);
    }
    bounded_text(text, 1, max).map(Change::Set)
}

/// A list of up to 20 tags of 1 to 50 characters; duplicates (ignoring case) are dropped.
pub fn tags(value: &Value) -> Result<Vec<String>, FieldProblem> {
    let items = value
        .as_array()
        .ok_or_else(|| FieldProblem::new("invalid_type", "must be a list of strings"))?;
    let mut tags: Vec<String> = Vec::new();
    for item in items {
        let tag = bounded_text(
            item.as_str()
                .ok_or_else(|| FieldProblem::new("invalid_type", "must be a list of strings"))?,
            1,
            TAG_MAX,
        )?;
        if !tags.iter().any(|t| t.to_lowercase() == tag.to_lowercase()) {
            tags.push(tag);
        }
        // Refused at the first tag too many, so a body of thousands costs no more than 21.
        if tags.len() > TAGS_MAX {
            return Err(FieldProblem::new(
                "too_many",
                format!("must have at most {TAGS_MAX} tags"),
            ));
        }
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile() -> Profile {
        Profile {
            first_name: "Ada".to_owned(),
            last_name: "Lovelace".to_owned(),
            display_name: None,
            email: Some(Email::try_from("Ada@Example.com").unwrap()),
            department: None,
            function: None,
            about_me: None,
            tags: vec![],
            external_id: None,
            phone: None,
            mobile: None,
            first_aider: false,
            emergency_officer: false,
            photo: None,
            managed_by: ManagedBy::default(),
        }
    }

    fn patch(body: Value) -> Result<ProfilePatch, ValidationErrors> {
        ProfilePatch::parse(body.as_object().unwrap())
    }

    #[test]
    fn email_keeps_its_spelling_and_compares_lowercase() {
        let email = Email::try_from(" Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.display(), "Ada.Lovelace@Example.COM");
        assert_eq!(email.normalised(), "ada.lovelace@example.com");
        assert_eq!(
            Email::try_from("not-an-email").unwrap_err().code,
            "invalid_email"
        );
        assert_eq!(Email::try_from("").unwrap_err().code, "required");
    }

    #[test]
    fn an_email_is_one_mail_can_be_delivered_to() {
        let umlaut = Email::try_from("Joerg@Müller.DE").unwrap();
        assert_eq!(umlaut.display(), "Joerg@Müller.DE");
        assert_eq!(umlaut.normalised(), "joerg@xn--mller-kva.de");
        assert_eq!(
            Email::try_from("joerg@xn--mller-kva.de")
                .unwrap()
                .normalised(),
            umlaut.normalised(),
            "one address however its domain is written"
        );
        assert_eq!(
            deliverable_address(umlaut.display()),
            "Joerg@xn--mller-kva.de"
        );
        assert_eq!(deliverable_address("ada@example.com"), "ada@example.com");
        assert_eq!(
            Email::try_from("jörg@example.com").map_err(|p| p.code),
            Err("invalid_email"),
            "no mail service delivers to other than ASCII before the @"
        );
    }

    #[test]
    fn an_email_is_a_bare_address_without_a_name_around_it() {
        for written in [
            "Jansen, Jan <jan@example.com>",
            "<jan@example.com>",
            "jan@[10.0.0.1]",
        ] {
            assert_eq!(
                Email::try_from(written).map_err(|p| p.code),
                Err("invalid_email"),
                "{written}"
            );
        }
    }

    #[test]
    fn a_display_name_sent_back_as_first_and_last_name_show_it_is_no_choice() {
        let ada = Profile::named("Ada".into(), "Lovelace".into(), None);
        let form = |body: serde_json::Value| {
            ProfilePatch::parse(body.as_object().unwrap())
                .unwrap()
                .apply(&ada, Owner::SelfService)
                .unwrap()
        };
        let (renamed, changed) =
            form(serde_json::json!({ "display_name": "Ada Lovelace", "last_name": "King" }));
        assert_eq!(renamed.display_name, None);
        assert_eq!(renamed.display_name(), "Ada King");
        assert_eq!(changed, [Attribute::LastName]);
        let (chosen, _) = form(serde_json::json!({ "display_name": "Countess" }));
        assert_eq!(chosen.display_name.as_deref(), Some("Countess"));

        // Stored as a choice by such a form before: renamed, it follows the names again.
        let frozen = Profile {
            display_name: Some("Ada Lovelace".to_owned()),
            ..ada.clone()
        };
        let resent = ProfilePatch::parse(
            serde_json::json!({ "display_name": "Ada Lovelace", "last_name": "King" })
                .as_object()
                .unwrap(),
        )
        .unwrap();
        let (thawed, _) = resent.apply(&frozen, Owner::SelfService).unwrap();
        assert_eq!(thawed.display_name(), "Ada King");
        let countess = Profile {
            display_name: Some("Countess".to_owned()),
            ..ada.clone()
        };
        let (kept, _) = resent.apply(&countess, Owner::SelfService).unwrap();
        assert_eq!(
            kept.display_name.as_deref(),
            Some("Ada Lovelace"),
            "a new choice"
        );

        // One an identity provider set is theirs: sent back unchanged, it changes nothing.
        let mut provisioned = frozen.clone();
        provisioned
            .managed_by
            .set(Attribute::DisplayName, Owner::Scim);
        let about = serde_json::json!({ "display_name": "Ada Lovelace", "about_me": "Maths" });
        let (unchanged, changed) = ProfilePatch::parse(about.as_object().unwrap())
            .unwrap()
            .apply(&provisioned, Owner::SelfService)
            .unwrap();
        assert_eq!(unchanged.display_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(changed, [Attribute::AboutMe]);
    }

    #[test]
    fn display_name_defaults_to_first_and_last_name() {
        let mut p = profile();
        assert_eq!(p.display_name(), "Ada Lovelace");
        p.display_name = Some("Countess".to_owned());
        assert_eq!(p.display_name(), "Countess");
    }

    #[test]
    fn every_invalid_field_is_named() {
        let errors = patch(json!({
            "first_name": "",
            "last_name": 42,
            "email": "nope",
            "about_me": "x".repeat(1001),
            "shoe_size": 44,
            "avatar_url": "http://x"
        }))
        .unwrap_err();
        let mut fields = errors.fields();
        fields.sort();
        assert_eq!(
            fields,
            [
                "about_me",
                "avatar_url",
                "email",
                "first_name",
                "last_name",
                "shoe_size"
            ]
        );
        let code = |f: &str| errors.0.iter().find(|e| e.field == f).unwrap().code;
        assert_eq!(code("first_name"), "required");
        assert_eq!(code("last_name"), "invalid_type");
        assert_eq!(code("email"), "invalid_email");
        assert_eq!(code("about_me"), "too_long");
        assert_eq!(code("shoe_size"), "unknown_field");
        assert_eq!(code("avatar_url"), "read_only");
    }

    #[test]
    fn null_or_empty_clears_optional_fields_but_not_required_ones() {
        let parsed = patch(json!({ "department": null, "function": "  " })).unwrap();
        assert_eq!(parsed.department, Some(Change::Clear));
        assert_eq!(parsed.function, Some(Change::Clear));
        assert_eq!(
            patch(json!({ "last_name": null })).unwrap_err().0[0].code,
            "required"
        );
    }

    #[test]
    fn tags_are_deduplicated_ignoring_case_and_bounded() {
        assert_eq!(
            tags(&json!(["First aid", "first AID", "Fire"])).unwrap(),
            ["First aid", "Fire"]
        );
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(tags(&json!(many)).unwrap_err().code, "too_many");
    }

    #[test]
    fn applying_changes_values_and_hands_ownership_to_the_actor() {
        let parsed = patch(json!({ "department": "Support", "first_name": "Ada" })).unwrap();
        let (next, changed) = parsed.apply(&profile(), Owner::SelfService).unwrap();
        assert_eq!(next.department.as_deref(), Some("Support"));
        assert_eq!(
            changed,
            [Attribute::Department],
            "an unchanged value is not a change"
        );
        assert_eq!(
            next.managed_by.owner(Attribute::Department),
            Owner::SelfService
        );

        let (next, _) = patch(json!({ "department": "Sales" }))
            .unwrap()
            .apply(&next, Owner::Admin)
            .unwrap();
        assert_eq!(next.managed_by.owner(Attribute::Department), Owner::Admin);
    }

    #[test]
    fn identity_provider_attributes_are_read_only_for_people_and_admins() {
        let mut p = profile();
        p.managed_by.set(Attribute::Department, Owner::Sso);
        p.managed_by.set(Attribute::LastName, Owner::Scim);
        p.managed_by.set(Attribute::Function, Owner::Csv);
        let parsed =
            patch(json!({ "department": "X", "last_name": "Y", "function": "Z" })).unwrap();

        let errors = parsed.apply(&p, Owner::SelfService).unwrap_err();
        assert_eq!(errors.fields(), ["last_name", "department", "function"]);
        assert!(errors.0[0].message.contains("managed by scim"));

        let errors = parsed.apply(&p, Owner::Admin).unwrap_err();
        assert_eq!(
            errors.fields(),
            ["last_name", "department"],
            "admins may correct imported values"
        );
    }

    #[test]
    fn writing_the_current_value_of_a_managed_attribute_is_not_refused() {
        let mut p = profile();
        p.managed_by.set(Attribute::FirstName, Owner::Sso);
        let (next, changed) = patch(json!({ "first_name": "Ada" }))
            .unwrap()
            .apply(&p, Owner::SelfService)
            .unwrap();
        assert!(changed.is_empty());
        assert_eq!(next.managed_by.owner(Attribute::FirstName), Owner::Sso);
    }

    #[test]
    fn people_cannot_set_their_own_external_id_but_admins_can() {
        let parsed = patch(json!({ "external_id": "E-1" })).unwrap();
        assert_eq!(
            parsed
                .apply(&profile(), Owner::SelfService)
                .unwrap_err()
                .fields(),
            ["external_id"]
        );
        let (next, _) = parsed.apply(&profile(), Owner::Admin).unwrap();
        assert_eq!(next.external_id.as_deref(), Some("E-1"));
    }

    #[test]
    fn phones_take_digits_and_dialling_punctuation_and_flags_are_the_organisations() {
        let parsed = patch(json!({ "phone": "+31 (20) 123-456", "mobile": null })).unwrap();
        assert_eq!(
            parsed.phone,
            Some(Change::Set("+31 (20) 123-456".to_owned()))
        );
        assert_eq!(parsed.mobile, Some(Change::Clear));
        let errors = patch(json!({ "phone": "call me", "first_aider": "yes" })).unwrap_err();
        let code = |f: &str| errors.0.iter().find(|e| e.field == f).unwrap().code;
        assert_eq!(code("phone"), "invalid_phone");
        assert_eq!(code("first_aider"), "invalid_type");

        let flags = patch(json!({ "first_aider": true })).unwrap();
        assert_eq!(
            flags.apply(&profile(), Owner::SelfService).unwrap_err().0[0].code,
            "read_only"
        );
        let (next, _) = flags.apply(&profile(), Owner::Admin).unwrap();
        assert!(next.first_aider);
    }

    #[test]
    fn an_imported_photo_is_owned_as_the_photo_and_leaves_the_avatar_to_the_person() {
        let patch = ProfilePatch {
            photo: Some(Change::Set("ada.jpg".to_owned())),
            ..ProfilePatch::default()
        };
        let (next, changed) = patch.apply(&profile(), Owner::Csv).unwrap();
        assert_eq!(next.photo.as_deref(), Some("ada.jpg"));
        assert_eq!(changed, [Attribute::Photo]);
        assert_eq!(next.managed_by.owner(Attribute::Photo), Owner::Csv);
        assert_eq!(
            next.managed_by.owner(Attribute::AvatarUrl),
            Owner::SelfService
        );
    }

    #[test]
    fn managed_by_lists_every_attribute_defaulting_to_self() {
        let mut managed = ManagedBy::default();
        managed.set(Attribute::Email, Owner::Scim);
        let complete = managed.complete();
        assert_eq!(complete.len(), Attribute::ALL.len());
        assert_eq!(complete["email"], "scim");
        assert_eq!(complete["about_me"], "self");
    }
}
