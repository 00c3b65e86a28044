//! A stored document as a SCIM resource: `schemas`, `id`, `meta` (with the version as a weak
//! ETag), and the `attributes` / `excludedAttributes` projection (RFC 7644 section 3.9).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::{
    ScimProblem, ScimType,
    schema::{ResourceKind, locate},
};

/// What the server knows about a resource besides its document.
pub struct Meta<'a> {
    pub id: &'a str,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub version: u64,
    /// The resource's URL (`<base>/Users/<id>`).
    pub location: String,
}

/// The weak ETag of a version.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// The version an `If-Match` value names, if it is one of ours.
pub fn version_of_etag(value: &str) -> Option<u64> {
    let value = value.trim();
    let value = value.strip_prefix("W/").unwrap_or(value);
    value.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

pub fn render(kind: ResourceKind, document: &Map<String, Value>, meta: &Meta) -> Value {
    let mut schemas = vec![Value::String(kind.core().id.to_owned())];
    for extension in kind.extensions() {
        if document.contains_key(extension.id) {
            schemas.push(Value::String(extension.id.to_owned()));
        }
    }
    let mut resource = Map::new();
    resource.insert("schemas".to_owned(), Value::Array(schemas));
    resource.insert("id".to_owned(), Value::String(meta.id.to_owned()));
    resource.extend(document.clone());
    resource.insert(
        "meta".to_owned(),
        json!({
            "resourceType": kind.name(),
            "created": meta.created.to_rfc3339_opts(SecondsFormat::Millis, true),
            "lastModified": meta.last_modified.to_rfc3339_opts(SecondsFormat::Millis, true),
            "location": meta.location,
            "version": etag(meta.version),
        }),
    );
    Value::Object(resource)
}

/// The `attributes` and `excludedAttributes` of a request: comma-separated attribute paths.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    attributes: Vec<String>,
    excluded: Vec<String>,
}

fn paths(kind: ResourceKind, list: Option<&str>) -> Result<Vec<String>, ScimProblem> {
    let Some(list) = list else { return Ok(vec![]) };
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|written| {
            if ["id", "meta", "schemas"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(written))
            {
                return Ok(written.to_ascii_lowercase());
            }
            if let Some(extension) = kind.extension(written) {
                return Ok(extension.id.to_owned());
            }
            let path = super::filter::attr_path(written);
            let located = locate(kind, &path.attribute).ok_or_else(|| {
                ScimProblem::new(
                    ScimType::InvalidPath,
                    format!("{} has no attribute {written}", kind.name()),
                )
            })?;
            let top = match located.extension {
                Some(schema) => format!("{}:{}", schema.id, located.attribute.name),
                None => located.attribute.name.to_owned(),
            };
            Ok(match path.sub_attribute {
                Some(sub) => format!("{top}.{sub}"),
                None => top,
            })
        })
        .collect()
}

impl Projection {
    pub fn parse(
        kind: ResourceKind,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Self, ScimProblem> {
        Ok(Self {
            attributes: paths(kind, attributes)?,
            excluded: paths(kind, excluded)?,
        })
    }

    /// Whether a path (`members`, `name.givenName`) was excluded outright.
    pub fn excludes(&self, path: &str) -> bool {
        self.excluded.iter().any(|p| p == path)
    }

    /// Whether the answer may carry some of the top-level `attribute`: it is not excluded, and
    /// it (or one of its sub-attributes) was asked for, or nothing was.
    pub fn shows(&self, attribute: &str) -> bool {
        !self.excludes(attribute)
            && (self.attributes.is_empty()
                || self.attributes.iter().any(|path| {
                    path == attribute
                        || path
                            .strip_prefix(attribute)
                            .is_some_and(|rest| rest.starts_with('.'))
                }))
    }

    /// The resource with only what was asked for: `attributes` keeps those (plus `id` and
    /// `schemas`, which are always returned); `excludedAttributes` drops those.
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(mut object) = resource else {
            return resource;
        };
        if !self.attributes.is_empty() {
            let mut kept = Map::new();
            for (key, value) in object {
                if key == "id" || key == "schemas" {
                    kept.insert(key, value);
                    continue;
                }
                if let Some(value) = keep(&key, value, &self.attributes) {
                    kept.insert(key, value);
                }
            }
            object = kept;
        }
        for path in &self.excluded {
            remove_path(&mut object, path);
        }
        Value::Object(object)
    }
}

/// What of `key`'s value `wanted` asks for: all of it, some sub-attributes, or nothing.
fn keep(key: &str, value: Value, wanted: &[String]) -> Option<Value> {
    if wanted.iter().any(|w| w == key) {
        return Some(value);
    }
    let prefix = format!("{key}.");
    let subs: Vec<&str> = wanted
        .iter()
        .filter_map(|w| w.strip_prefix(&prefix))
        .collect();
    // Extension attributes are asked for as `urn:...:User:department`.
    let extension_prefix = format!("{key}:");
    let inner: Vec<String> = wanted
        .iter()
        .filter_map(|w| w.strip_prefix(&extension_prefix).map(str::to_owned))
        .collect();
    if !inner.is_empty()
        && let Value::Object(fields) = value
    {
        let kept: Map<String, Value> = fields
            .into_iter()
            .filter_map(|(k, v)| keep(&k, v, &inner).map(|v| (k, v)))
            .collect();
        return (!kept.is_empty()).then_some(Value::Object(kept));
    }
    if subs.is_empty() {
        return None;
    }
    let pick = |item: Value| match item {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .filter(|(k, _)| subs.iter().any(|s| s.eq_ignore_ascii_case(k)))
                .collect(),
        ),
        other => other,
    };
    Some(match value {
        Value::Array(items) => Value::Array(items.into_iter().map(pick).collect()),
        other => pick(other),
    })
}

fn remove_path(object: &mut Map<String, Value>, path: &str) {
    if path == "id" || path == "schemas" {
        return;
    }
    if object.remove(path).is_some() {
        return;
    }
    if let Some(colon) = path.rfind(':')
        && let Some(Value::Object(extension)) = object.get_mut(&path[..colon])
    {
        remove_path(extension, &path[colon + 1..]);
        return;
    }
    if let Some((top, sub)) = path.split_once('.') {
        match object.get_mut(top) {
            Some(Value::Object(fields)) => {
                fields.remove(sub);
            }
            Some(Value::Array(items)) => {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    item.remove(sub);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::ENTERPRISE_SCHEMA;

    fn resource() -> Value {
        let document = crate::scim::schema::normalise(
            ResourceKind::User,
            &json!({
                "userName": "ada",
                "name": { "givenName": "Ada", "familyName": "Lovelace" },
                "emails": [{ "value": "a@b.c", "type": "work" }],
                ENTERPRISE_SCHEMA: { "department": "R&D", "employeeNumber": "7" }
            }),
        )
        .unwrap();
        render(
            ResourceKind::User,
            &document,
            &Meta {
                id: "u1",
                created: DateTime::UNIX_EPOCH,
                last_modified: DateTime::UNIX_EPOCH,
                version: 3,
                location: "https://x/scim/v2/Users/u1".to_owned(),
            },
        )
    }

    #[test]
    fn resources_carry_their_schemas_id_and_versioned_meta() {
        let resource = resource();
        assert_eq!(
            resource["schemas"],
            json!([crate::scim::schema::USER_SCHEMA, ENTERPRISE_SCHEMA])
        );
        assert_eq!(resource["id"], "u1");
        assert_eq!(resource["meta"]["version"], "W/\"3\"");
        assert_eq!(resource["meta"]["resourceType"], "User");
        assert_eq!(version_of_etag("W/\"3\""), Some(3));
        assert_eq!(version_of_etag("\"12\""), Some(12));
        assert_eq!(version_of_etag("*"), None);
    }

    #[test]
    fn attributes_keep_only_what_was_asked_plus_id() {
        let projection = Projection::parse(
            ResourceKind::User,
            Some("UserName,name.givenName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
            None,
        )
        .unwrap();
        let projected = projection.apply(resource());
        assert_eq!(
            projected,
            json!({
                "schemas": [crate::scim::schema::USER_SCHEMA, ENTERPRISE_SCHEMA],
                "id": "u1",
                "userName": "ada",
                "name": { "givenName": "Ada" },
                ENTERPRISE_SCHEMA: { "department": "R&D" }
            })
        );
    }

    #[test]
    fn excluded_attributes_are_dropped_but_never_the_id() {
        let projection =
            Projection::parse(ResourceKind::User, None, Some("emails,id,name.familyName")).unwrap();
        let projected = projection.apply(resource());
        assert!(projected.get("emails").is_none());
        assert_eq!(projected["id"], "u1");
        assert_eq!(projected["name"], json!({ "givenName": "Ada" }));
        assert!(Projection::parse(ResourceKind::User, Some("shoeSize"), None).is_err());
    }

    #[test]
    fn a_projection_shows_an_attribute_unless_excluded_or_left_out_of_those_asked_for() {
        let group = |attributes: Option<&str>, excluded: Option<&str>| {
            Projection::parse(ResourceKind::Group, attributes, excluded).unwrap()
        };
        assert!(group(None, None).shows("members"));
        assert!(group(None, Some("displayName")).shows("members"));
        assert!(!group(None, Some("members")).shows("members"));
        assert!(group(Some("members.value"), None).shows("members"));
        assert!(group(Some("Members"), None).shows("members"));
        assert!(!group(Some("displayName"), None).shows("members"));
    }
}
