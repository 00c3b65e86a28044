//! The schemas Roster serves (RFC 7643): the core User (the attributes Roster keeps), the
//! enterprise extension, and Group. The same definitions drive `/Schemas`, attribute-name
//! resolution (case-insensitive, as RFC 7643 section 2.1 asks) and document normalisation, so
//! what the server publishes is exactly what it accepts and stores.

use serde_json::{Map, Value, json};

use super::{ScimProblem, ScimType};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Longest string value (characters) an attribute keeps.
pub const STRING_MAX: usize = 2048;
/// Most bytes the lowercased key of a unique name (a `userName`, a group's `displayName`) may
/// take: its uniqueness sentinel's sort key holds it, and DynamoDB keeps none over 1,024 bytes.
pub const NAME_KEY_BYTES_MAX: usize = 960;

/// A unique name (a `userName`, a group's `displayName`) as uniqueness compares it: the key its
/// sentinel is written under.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    Complex,
    Reference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadWrite,
    Immutable,
    ReadOnly,
}

#[derive(Debug)]
pub struct AttributeDef {
    pub name: &'static str,
    pub kind: Kind,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    /// Unique within the organisation (`uniqueness: server`).
    pub unique: bool,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: &'static [AttributeDef],
    pub description: &'static str,
    /// Holds an email address: filters compare it by mailbox (case ignored, domain in its
    /// IDNA ASCII form), as Roster looks people up by it.
    pub email: bool,
}

const fn string(name: &'static str, description: &'static str) -> AttributeDef {
    AttributeDef {
        name,
        kind: Kind::String,
        multi_valued: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        unique: false,
        canonical_values: &[],
        reference_types: &[],
        sub_attributes: &[],
        description,
        email: false,
    }
}

const fn complex(
    name: &'static str,
    multi_valued: bool,
    sub_attributes: &'static [AttributeDef],
    description: &'static str,
) -> AttributeDef {
    AttributeDef {
        kind: Kind::Complex,
        multi_valued,
        sub_attributes,
        ..string(name, description)
    }
}

const fn reference(
    name: &'static str,
    reference_types: &'static [&'static str],
    description: &'static str,
) -> AttributeDef {
    AttributeDef {
        kind: Kind::Reference,
        case_exact: true,
        reference_types,
        ..string(name, description)
    }
}

const PRIMARY: AttributeDef = AttributeDef {
    kind: Kind::Boolean,
    ..string("primary", "Whether this is the preferred value.")
};

const USER_ATTRIBUTES: &[AttributeDef] = &[
    AttributeDef {
        required: true,
        unique: true,
        ..string(
            "userName",
            "Unique identifier of the user in the organisation, compared ignoring case.",
        )
    },
    complex(
        "name",
        false,
        &[
            string("formatted", "The full name."),
            string(
                "familyName",
                "The last name (Roster's last_name, at most 50).",
            ),
            string(
                "givenName",
                "The first name (Roster's first_name, at most 50).",
            ),
            string("middleName", "The middle names (kept, not shown)."),
            string(
                "honorificPrefix",
                "The title before the name (kept, not shown).",
            ),
            string(
                "honorificSuffix",
                "The suffix after the name (kept, not shown).",
            ),
        ],
        "The person's name.",
    ),
    string("displayName", "The name shown to colleagues (at most 100)."),
    string("nickName", "The casual name (kept, not shown)."),
    reference(
        "profileUrl",
        &["external"],
        "The person's page elsewhere (kept, not shown).",
    ),
    string("title", "The job title (Roster's function, at most 100)."),
    string("userType", "Employee, Contractor ... (kept, not shown)."),
    string(
        "preferredLanguage",
        "The person's language as the client knows it (kept; the person chooses Roster's).",
    ),
    string("locale", "The person's locale (kept, not shown)."),
    string(
        "timezone",
        "The person's time zone (kept; the person chooses Roster's).",
    ),
    AttributeDef {
        kind: Kind::Boolean,
        ..string(
            "active",
            "false deactivates the person: they lose access at once.",
        )
    },
    complex(
        "emails",
        true,
        &[
            AttributeDef {
                email: true,
                ..string(
                    "value",
                    "An email address; the primary (else work, else first) one is the login email.",
                )
            },
            AttributeDef {
                canonical_values: &["work", "home", "other"],
                ..string("type", "work, home or other.")
            },
            PRIMARY,
        ],
        "Email addresses.",
    ),
    complex(
        "phoneNumbers",
        true,
        &[
            string(
                "value",
                "A phone number: digits, spaces and + - ( ) . /, at most 20.",
            ),
            AttributeDef {
                canonical_values: &["work", "mobile", "home", "fax", "pager", "other"],
                ..string(
                    "type",
                    "work (else an untyped number) is the profile's phone, mobile its mobile; \
                     the others are kept, not shown.",
                )
            },
            PRIMARY,
        ],
        "Phone numbers.",
    ),
    complex(
        "addresses",
        true,
        &[
            string("formatted", "The full address."),
            string("streetAddress", "The street."),
            string("locality", "The city."),
            string("region", "The state or region."),
            string("postalCode", "The postal code."),
            string("country", "The country."),
            AttributeDef {
                canonical_values: &["work", "home", "other"],
                ..string("type", "work, home or other.")
            },
            PRIMARY,
        ],
        "Postal addresses (kept, not shown).",
    ),
];

const ENTERPRISE_ATTRIBUTES: &[AttributeDef] = &[
    string(
        "employeeNumber",
        "The organisation's number for the person.",
    ),
    string("department", "The department (at most 100)."),
    string("costCenter", "The cost center (kept, not shown)."),
    string("organization", "The organisation's name (kept, not shown)."),
    string("division", "The division (kept, not shown)."),
    complex(
        "manager",
        false,
        &[
            string("value", "The id of the manager's SCIM User."),
            reference("$ref", &["User"], "The URI of the manager's SCIM User."),
            AttributeDef {
                mutability: Mutability::ReadOnly,
                ..string("displayName", "The manager's display name.")
            },
        ],
        "The person's manager.",
    ),
];

const GROUP_ATTRIBUTES: &[AttributeDef] = &[
    AttributeDef {
        required: true,
        unique: true,
        ..string(
            "displayName",
            "The group's name, unique in the organisation ignoring case.",
        )
    },
    complex(
        "members",
        true,
        &[
            AttributeDef {
                mutability: Mutability::Immutable,
                case_exact: true,
                ..string("value", "The id of a member User.")
            },
            reference("$ref", &["User"], "The URI of the member."),
            AttributeDef {
                canonical_values: &["User"],
                ..string("type", "User.")
            },
        ],
        "The group's members (Users).",
    ),
];

/// The common attribute every resource has besides its schema's (RFC 7643 section 3.1).
pub const EXTERNAL_ID: AttributeDef = AttributeDef {
    case_exact: true,
    ..string(
        "externalId",
        "The client's identifier of the resource (unique in the organisation).",
    )
};

#[derive(Debug)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttributeDef],
}

pub const USER: SchemaDef = SchemaDef {
    id: USER_SCHEMA,
    name: "User",
    description: "A person of the organisation.",
    attributes: USER_ATTRIBUTES,
};

pub const ENTERPRISE_USER: SchemaDef = SchemaDef {
    id: ENTERPRISE_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise attributes of a person.",
    attributes: ENTERPRISE_ATTRIBUTES,
};

pub const GROUP: SchemaDef = SchemaDef {
    id: GROUP_SCHEMA,
    name: "Group",
    description: "A group of people of the organisation.",
    attributes: GROUP_ATTRIBUTES,
};

/// The two kinds of resource Roster serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    /// What a filtered list can look resources up by (canonical names; the rest of the filter
    /// then narrows what the lookup found).
    pub fn lookups(self) -> &'static [&'static str] {
        match self {
            ResourceKind::User => &["id", "userName", "externalId", "emails.value"],
            ResourceKind::Group => &["id", "displayName"],
        }
    }

    /// Most bytes a document of this kind may take as JSON. A user's is kept in its membership's
    /// item beside the profile, a group's (with its members, about 45 bytes each) in the group's
    /// own item, and DynamoDB keeps no item over 400 KB.
    pub fn document_max(self) -> usize {
        match self {
            ResourceKind::User => 100_000,
            ResourceKind::Group => 380_000,
        }
    }

    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "/Users",
            ResourceKind::Group => "/Groups",
        }
    }

    pub fn core(self) -> &'static SchemaDef {
        match self {
            ResourceKind::User => &USER,
            ResourceKind::Group => &GROUP,
        }
    }

    pub fn extensions(self) -> &'static [&'static SchemaDef] {
        match self {
            ResourceKind::User => &[&ENTERPRISE_USER],
            ResourceKind::Group => &[],
        }
    }

    /// The extension whose URN is `urn` (ignoring case).
    pub fn extension(self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions()
            .iter()
            .copied()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// A top-level attribute of the core schema (or `externalId`), ignoring case.
    pub fn core_attribute(self, name: &str) -> Option<&'static AttributeDef> {
        if name.eq_ignore_ascii_case(EXTERNAL_ID.name) {
            return Some(&EXTERNAL_ID);
        }
        attribute_in(self.core().attributes, name)
    }
}

pub fn attribute_in(
    attributes: &'static [AttributeDef],
    name: &str,
) -> Option<&'static AttributeDef> {
    attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(name))
}

/// Attributes every resource carries that clients never write (`id`, `meta`, `schemas`).
pub fn is_server_attribute(name: &str) -> bool {
    ["id", "meta", "schemas"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

/// Where in a document an attribute lives: at the top, or inside an extension's object.
#[derive(Debug, Clone, Copy)]
pub struct Located {
    pub extension: Option<&'static SchemaDef>,
    pub attribute: &'static AttributeDef,
}

impl Located {
    pub fn container<'a>(
        &self,
        document: &'a Map<String, Value>,
    ) -> Option<&'a Map<String, Value>> {
        match self.extension {
            None => Some(document),
            Some(schema) => document.get(schema.id).and_then(Value::as_object),
        }
    }

    pub fn container_mut<'a>(
        &self,
        document: &'a mut Map<String, Value>,
    ) -> &'a mut Map<String, Value> {
        match self.extension {
            None => document,
            Some(schema) => {
                let entry = document
                    .entry(schema.id)
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                entry.as_object_mut().expect("made an object above")
            }
        }
    }

    pub fn get<'a>(&self, document: &'a Map<String, Value>) -> Option<&'a Value> {
        self.container(document)?.get(self.attribute.name)
    }
}

/// Core User attributes of RFC 7643 (section 4.1) that Roster does not keep: Entra ID sends app
/// roles as `roles`, and other clients any of these.
const UNKEPT_USER_ATTRIBUTES: &[&str] = &[
    "password",
    "ims",
    "photos",
    "entitlements",
    "roles",
    "x509Certificates",
];

/// Whether `path` (an attribute path as written, with or without a value filter) names an
/// attribute a client may rightly send but Roster does not keep: one of an extension schema
/// Roster does not publish (an Entra ID custom extension,
/// `urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:badge`, or the bare
/// URN), or a core attribute of [`UNKEPT_USER_ATTRIBUTES`]. POST and PUT drop such attributes,
/// and PATCH passes over operations on them; a name of no schema at all (a typo) is neither.
pub fn is_unkept(kind: ResourceKind, path: &str) -> bool {
    let attribute = path.split('[').next().unwrap_or(path).trim();
    let lower = attribute.to_ascii_lowercase();
    let within = |schema: &SchemaDef| {
        let id = schema.id.to_ascii_lowercase();
        lower
            .strip_prefix(&id)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
    };
    if lower.starts_with("urn:") && !lower.starts_with("urn:ietf:params:scim:schemas:core:") {
        return !kind.extensions().iter().any(|schema| within(schema));
    }
    let core_prefix = format!("{}:", kind.core().id.to_ascii_lowercase());
    let name = lower.strip_prefix(&core_prefix).unwrap_or(&lower);
    let name = name.split('.').next().unwrap_or(name);
    kind == ResourceKind::User
        && UNKEPT_USER_ATTRIBUTES
            .iter()
            .any(|unkept| unkept.eq_ignore_ascii_case(name))
}

/// Resolves an attribute name as written (`name`, `urn:...:User:name`, any case) to its
/// definition: core attributes unqualified or qualified by the core URN, extension attributes
/// qualified by their extension's URN.
pub fn locate(kind: ResourceKind, written: &str) -> Option<Located> {
    let lower = written.to_ascii_lowercase();
    for schema in kind.extensions() {
        let prefix = format!("{}:", schema.id.to_ascii_lowercase());
        if let Some(rest) = lower.strip_prefix(&prefix) {
            let name = &written[written.len() - rest.len()..];
            return attribute_in(schema.attributes, name).map(|attribute| Located {
                extension: Some(schema),
                attribute,
            });
        }
    }
    let core_prefix = format!("{}:", kind.core().id.to_ascii_lowercase());
    let name = match lower.strip_prefix(&core_prefix) {
        Some(rest) => &written[written.len() - rest.len()..],
        None => written,
    };
    kind.core_attribute(name).map(|attribute| Located {
        extension: None,
        attribute,
    })
}

/// Refuses a document larger than its kind keeps (`ResourceKind::document_max`), naming its
/// largest attribute: an answer the client can act on, where the write would fail.
pub fn within_size(kind: ResourceKind, document: &Map<String, Value>) -> Result<(), ScimProblem> {
    let size = json_len(document);
    if size <= kind.document_max() {
        return Ok(());
    }
    let largest = document
        .iter()
        .max_by_key(|(_, value)| json_len(value))
        .map_or("", |(name, _)| name.as_str());
    Err(invalid_value(
        largest,
        &format!(
            "makes the {} {size} bytes of JSON, over its limit of {}",
            kind.name(),
            kind.document_max()
        ),
    ))
}

/// Bytes of `value` as compact JSON.
fn json_len(value: &impl serde::Serialize) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |bytes| bytes.len())
}

fn invalid_value(attribute: &str, detail: &str) -> ScimProblem {
    ScimProblem::new(ScimType::InvalidValue, format!("{attribute} {detail}"))
}

/// A client's document in canonical form: attribute names as the schema spells them, only
/// attributes of the schemas (others, and `id`, `meta`, `schemas`, are dropped, as RFC 7644
/// section 3.3 lets a server do), read-only sub-attributes dropped, booleans sent as strings
/// (`"False"`) made booleans, a manager given as a plain id made `{"value": id}`, nulls and
/// empty lists removed. Wrong types are refused naming the attribute.
pub fn normalise(kind: ResourceKind, document: &Value) -> Result<Map<String, Value>, ScimProblem> {
    let object = document.as_object().ok_or_else(|| {
        ScimProblem::new(ScimType::InvalidSyntax, "the body must be a JSON object")
    })?;
    let mut canonical = Map::new();
    for (key, value) in object {
        if let Some(schema) = kind.extension(key) {
            let Some(inner) = value.as_object() else {
                if value.is_null() {
                    continue;
                }
                return Err(invalid_value(schema.id, "must be an object"));
            };
            let mut extension = Map::new();
            for (name, value) in inner {
                let written = format!("{}:{name}", schema.id);
                if let Some(attribute) = attribute_in(schema.attributes, name)
                    && let Some(value) = normalise_value(attribute, value, &written)?
                {
                    extension.insert(attribute.name.to_owned(), value);
                }
            }
            if !extension.is_empty() {
                canonical.insert(schema.id.to_owned(), Value::Object(extension));
            }
        } else if let Some(located) = locate(kind, key)
            && let Some(value) = normalise_value(located.attribute, value, key)?
        {
            located
                .container_mut(&mut canonical)
                .insert(located.attribute.name.to_owned(), value);
        }
    }
    Ok(canonical)
}

/// One attribute's value in canonical form; `None` when it holds nothing.
pub fn normalise_value(
    attribute: &'static AttributeDef,
    value: &Value,
    written: &str,
) -> Result<Option<Value>, ScimProblem> {
    if value.is_null() {
        return Ok(None);
    }
    if attribute.multi_valued {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        let mut normalised = Vec::with_capacity(items.len());
        for item in items {
            if let Some(item) = normalise_single(attribute, item, written)? {
                normalised.push(item);
            }
        }
        return Ok((!normalised.is_empty()).then_some(Value::Array(normalised)));
    }
    normalise_single(attribute, value, written)
}

fn normalise_single(
    attribute: &'static AttributeDef,
    value: &Value,
    written: &str,
) -> Result<Option<Value>, ScimProblem> {
    match (attribute.kind, value) {
        (_, Value::Null) => Ok(None),
        (Kind::String | Kind::Reference, Value::String(text)) => {
            if text.chars().count() > STRING_MAX {
                return Err(invalid_value(
                    written,
                    &format!("must be at most {STRING_MAX} characters"),
                ));
            }
            Ok(Some(Value::String(text.clone())))
        }
        (Kind::String | Kind::Reference, _) => Err(invalid_value(written, "must be a string")),
        (Kind::Boolean, Value::Bool(flag)) => Ok(Some(Value::Bool(*flag))),
        (Kind::Boolean, Value::String(text)) if text.eq_ignore_ascii_case("true") => {
            Ok(Some(Value::Bool(true)))
        }
        (Kind::Boolean, Value::String(text)) if text.eq_ignore_ascii_case("false") => {
            Ok(Some(Value::Bool(false)))
        }
        (Kind::Boolean, _) => Err(invalid_value(written, "must be true or false")),
        // Entra ID sends the manager as a bare id.
        (Kind::Complex, Value::String(id)) if attribute.name == "manager" => {
            if id.is_empty() {
                return Ok(None);
            }
            normalise_single(attribute, &json!({ "value": id }), written)
        }
        (Kind::Complex, Value::Object(fields)) => {
            let mut canonical = Map::new();
            for (name, value) in fields {
                if let Some(sub) = attribute_in(attribute.sub_attributes, name)
                    && sub.mutability != Mutability::ReadOnly
                    && let Some(value) = normalise_single(sub, value, &format!("{written}.{name}"))?
                {
                    canonical.insert(sub.name.to_owned(), value);
                }
            }
            Ok((!canonical.is_empty()).then_some(Value::Object(canonical)))
        }
        (Kind::Complex, _) => Err(invalid_value(written, "must be an object")),
    }
}

fn attribute_json(attribute: &AttributeDef) -> Value {
    let mut json = json!({
        "name": attribute.name,
        "type": match attribute.kind {
            Kind::String => "string",
            Kind::Boolean => "boolean",
            Kind::Complex => "complex",
            Kind::Reference => "reference",
        },
        "multiValued": attribute.multi_valued,
        "description": attribute.description,
        "required": attribute.required,
        "caseExact": attribute.case_exact,
        "mutability": match attribute.mutability {
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::ReadOnly => "readOnly",
        },
        "returned": "default",
        "uniqueness": if attribute.unique { "server" } else { "none" },
    });
    if !attribute.canonical_values.is_empty() {
        json["canonicalValues"] = json!(attribute.canonical_values);
    }
    if !attribute.reference_types.is_empty() {
        json["referenceTypes"] = json!(attribute.reference_types);
    }
    if !attribute.sub_attributes.is_empty() {
        json["subAttributes"] = attribute
            .sub_attributes
            .iter()
            .map(attribute_json)
            .collect();
    }
    json
}

/// The schema as `/Schemas` serves it (without `meta`, which needs the base URL).
pub fn schema_json(schema: &SchemaDef) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes.iter().map(attribute_json).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_resolve_ignoring_case_and_qualified() {
        let plain = locate(ResourceKind::User, "USERNAME").unwrap();
        assert_eq!(plain.attribute.name, "userName");
        assert!(plain.extension.is_none());
        let qualified = locate(
            ResourceKind::User,
            "urn:ietf:params:scim:schemas:core:2.0:User:displayName",
        );
        assert_eq!(qualified.unwrap().attribute.name, "displayName");
        let enterprise = locate(
            ResourceKind::User,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:Department",
        )
        .unwrap();
        assert_eq!(enterprise.attribute.name, "department");
        assert_eq!(enterprise.extension.unwrap().id, ENTERPRISE_SCHEMA);
        assert!(locate(ResourceKind::User, "shoeSize").is_none());
        assert!(locate(ResourceKind::Group, "userName").is_none());
    }

    #[test]
    fn documents_take_canonical_names_and_types() {
        let document = normalise(
            ResourceKind::User,
            &json!({
                "schemas": [USER_SCHEMA],
                "id": "ignored",
                "UserName": "Ada@Example.com",
                "Active": "False",
                "name": { "GivenName": "Ada", "nickname": "dropped" },
                "emails": [{ "value": "ada@example.com", "type": "work", "primary": "true" }],
                "shoeSize": 44,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                    "manager": "m-1", "department": "R&D"
                }
            }),
        )
        .unwrap();
        assert_eq!(
            Value::Object(document),
            json!({
                "userName": "Ada@Example.com",
                "active": false,
                "name": { "givenName": "Ada" },
                "emails": [{ "value": "ada@example.com", "type": "work", "primary": true }],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                    "manager": { "value": "m-1" }, "department": "R&D"
                }
            })
        );
    }

    #[test]
    fn wrong_types_name_the_attribute() {
        let problem = normalise(ResourceKind::User, &json!({ "active": "maybe" })).unwrap_err();
        assert_eq!(problem.scim_type, ScimType::InvalidValue);
        assert!(problem.detail.starts_with("active"));
        let problem = normalise(ResourceKind::User, &json!({ "displayName": 7 })).unwrap_err();
        assert!(problem.detail.starts_with("displayName"));
        assert_eq!(
            normalise(ResourceKind::User, &json!([1]))
                .unwrap_err()
                .scim_type,
            ScimType::InvalidSyntax
        );
    }

    #[test]
    fn strings_are_bounded_naming_the_attribute() {
        let at_most = json!({ "nickName": "n".repeat(STRING_MAX) });
        assert!(normalise(ResourceKind::User, &at_most).is_ok());
        let longer = json!({ "name": { "givenName": "n".repeat(STRING_MAX + 1) } });
        let problem = normalise(ResourceKind::User, &longer).unwrap_err();
        assert_eq!(problem.scim_type, ScimType::InvalidValue);
        assert!(problem.detail.starts_with("name.givenName must be at most"));
        let bare_manager = json!({ ENTERPRISE_SCHEMA: { "manager": "m".repeat(STRING_MAX + 1) } });
        let problem = normalise(ResourceKind::User, &bare_manager).unwrap_err();
        assert!(
            problem.detail.starts_with(&format!(
                "{ENTERPRISE_SCHEMA}:manager.value must be at most"
            )),
            "{problem:?}"
        );
    }

    #[test]
    fn a_document_too_large_to_keep_is_refused_naming_its_largest_attribute() {
        let members = |count: usize| -> Vec<Value> {
            (0..count)
                .map(|i| json!({ "value": format!("{i:032x}") }))
                .collect()
        };
        let group = |count: usize| {
            normalise(
                ResourceKind::Group,
                &json!({ "displayName": "All staff", "members": members(count) }),
            )
            .unwrap()
        };
        assert!(within_size(ResourceKind::Group, &group(8_000)).is_ok());
        let problem = within_size(ResourceKind::Group, &group(9_000)).unwrap_err();
        assert_eq!(problem.scim_type, ScimType::InvalidValue);
        assert!(
            problem.detail.starts_with("members makes the Group"),
            "{problem:?}"
        );

        let address = json!({ "formatted": "a".repeat(STRING_MAX), "type": "work" });
        let user = normalise(
            ResourceKind::User,
            &json!({ "userName": "ada", "addresses": vec![address; 60] }),
        )
        .unwrap();
        let problem = within_size(ResourceKind::User, &user).unwrap_err();
        assert!(
            problem.detail.starts_with("addresses makes the User"),
            "{problem:?}"
        );
    }

    #[test]
    fn published_schemas_describe_every_attribute() {
        let user = schema_json(&USER);
        let names: Vec<&str> = user["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "userName",
                "name",
                "displayName",
                "nickName",
                "profileUrl",
                "title",
                "userType",
                "preferredLanguage",
                "locale",
                "timezone",
                "active",
                "emails",
                "phoneNumbers",
                "addresses"
            ]
        );
        assert_eq!(user["attributes"][0]["uniqueness"], "server");
        assert_eq!(user["attributes"][0]["required"], true);
    }
}
