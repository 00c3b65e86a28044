//! SCIM PATCH (RFC 7644 section 3.5.2) over a resource's document, as Entra ID sends it in both
//! of its dialects: operation names in any case, booleans as strings, value paths
//! (`emails[type eq "work"].value`), fully qualified extension paths, a path-less `replace` whose
//! keys are dotted or qualified paths, a manager as a plain id, and members removed by a value
//! list or by `members[value eq "..."]`. All operations apply to a copy, so a request changes
//! everything it asks or nothing; [`apply_only`] reads one attribute's operations alone (a
//! leaver's `active` in a request refused for its other operations).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{
    ScimProblem, ScimType,
    filter::{Filter, Literal, Operator, attr_path},
    schema::{
        AttributeDef, Kind, Located, ResourceKind, SchemaDef, attribute_in, is_server_attribute,
        is_unkept, locate, normalise,
    },
};

/// At most this many operations in one request.
pub const MAX_OPERATIONS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

enum Target {
    /// A whole extension (`urn:...:enterprise:2.0:User`).
    Extension(&'static SchemaDef),
    Attribute {
        located: Located,
        filter: Option<Filter>,
        sub: Option<&'static AttributeDef>,
    },
    /// An attribute Roster does not keep ([`is_unkept`]): the operation is passed over, as POST
    /// and PUT drop such attributes, so that one mapped custom attribute does not refuse every
    /// change Entra ID sends with it.
    Unkept,
}

fn invalid_path(detail: impl Into<String>) -> ScimProblem {
    ScimProblem::new(ScimType::InvalidPath, detail)
}

fn syntax(detail: impl Into<String>) -> ScimProblem {
    ScimProblem::new(ScimType::InvalidSyntax, detail)
}

/// Applies a PatchOp body to `document` (canonical, as stored) and answers the new canonical
/// document.
pub fn apply(
    kind: ResourceKind,
    document: &Map<String, Value>,
    body: &Value,
) -> Result<Map<String, Value>, ScimProblem> {
    let body = body
        .as_object()
        .ok_or_else(|| syntax("the body must be a JSON object"))?;
    let operations = field(body, "Operations")
        .and_then(Value::as_array)
        .filter(|ops| !ops.is_empty())
        .ok_or_else(|| syntax("Operations must be a non-empty list"))?;
    if operations.len() > MAX_OPERATIONS {
        return Err(syntax(format!(
            "at most {MAX_OPERATIONS} operations per request"
        )));
    }
    let mut next = document.clone();
    for operation in operations {
        let operation = operation
            .as_object()
            .ok_or_else(|| syntax("each operation must be an object"))?;
        let op = match field(operation, "op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
        {
            Some(op) if op == "add" => Op::Add,
            Some(op) if op == "replace" => Op::Replace,
            Some(op) if op == "remove" => Op::Remove,
            _ => return Err(syntax("op must be add, replace or remove")),
        };
        let value = field(operation, "value").cloned().unwrap_or(Value::Null);
        match field(operation, "path") {
            Some(Value::String(path)) if !path.trim().is_empty() => {
                let target = target(kind, path.trim())?;
                apply_one(kind, &mut next, op, &target, value)?;
            }
            None | Some(Value::Null) | Some(Value::String(_)) => {
                if op == Op::Remove {
                    return Err(ScimProblem::new(ScimType::NoTarget, "remove needs a path"));
                }
                let Value::Object(values) = value else {
                    return Err(syntax("an operation without a path needs an object value"));
                };
                for (key, value) in values {
                    if let Some(schema) = kind.extension(&key)
                        && value.is_object()
                    {
                        apply_one(kind, &mut next, op, &Target::Extension(schema), value)?;
                    } else {
                        apply_one(kind, &mut next, op, &target(kind, &key)?, value)?;
                    }
                }
            }
            Some(_) => return Err(invalid_path("path must be a string")),
        }
    }
    normalise(kind, &Value::Object(next))
}

/// A member of a PatchOp object, its name in any case (Entra ID writes `Operations` and `op`
/// both ways).
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// `document` with only those operations of `body` applied that set the core attribute
/// `name` as a whole (by its path, or as a key of a path-less operation's value), all others
/// passed over, readable or not: what a request refused for its other operations still asks of
/// that attribute. `None` when no operation sets it, or when those that do are refused.
pub fn apply_only(
    kind: ResourceKind,
    document: &Map<String, Value>,
    body: &Value,
    name: &str,
) -> Option<Map<String, Value>> {
    let sets_it = |path: &str| {
        matches!(
            target(kind, path.trim()),
            Ok(Target::Attribute { located, filter: None, sub: None })
                if located.extension.is_none() && located.attribute.name == name
        )
    };
    let operations = field(body.as_object()?, "Operations")?.as_array()?;
    let kept: Vec<Value> = operations
        .iter()
        .filter_map(Value::as_object)
        .filter_map(|operation| match field(operation, "path") {
            Some(Value::String(path)) if !path.trim().is_empty() => {
                sets_it(path).then(|| Value::Object(operation.clone()))
            }
            None | Some(Value::Null) | Some(Value::String(_)) => {
                let values: Map<String, Value> = field(operation, "value")?
                    .as_object()?
                    .iter()
                    .filter(|(key, _)| sets_it(key))
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect();
                if values.is_empty() {
                    return None;
                }
                let mut operation = operation.clone();
                operation.retain(|key, _| !key.eq_ignore_ascii_case("value"));
                operation.insert("value".to_owned(), Value::Object(values));
                Some(Value::Object(operation))
            }
            Some(_) => None,
        })
        .collect();
    if kept.is_empty() {
        return None;
    }
    let only = Value::Object(Map::from_iter([(
        "Operations".to_owned(),
        Value::Array(kept),
    )]));
    apply(kind, document, &only).ok()
}

/// Parses a PATCH path: `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, any of them
/// qualified by a schema URN, or a bare extension URN; an attribute Roster does not keep is
/// [`Target::Unkept`] whatever follows its name.
fn target(kind: ResourceKind, path: &str) -> Result<Target, ScimProblem> {
    if let Some(schema) = kind.extension(path) {
        return Ok(Target::Extension(schema));
    }
    if is_unkept(kind, path) {
        return Ok(Target::Unkept);
    }
    let (attribute_part, filter, after) = match path.find('[') {
        Some(open) => {
            let close = path
                .rfind(']')
                .filter(|c| *c > open)
                .ok_or_else(|| invalid_path(format!("{path}: a '[' is not closed")))?;
            let after = &path[close + 1..];
            let sub = match after.strip_prefix('.') {
                Some(sub) => Some(sub),
                None if after.is_empty() => None,
                None => return Err(invalid_path(format!("{path}: unexpected text after ']'"))),
            };
            let filter = Filter::parse(&path[..=close], kind)
                .map_err(|problem| invalid_path(format!("{path}: {}", problem.detail)))?;
            (&path[..open], Some(filter), sub)
        }
        None => (path, None, None),
    };
    let written = attr_path(attribute_part);
    if is_server_attribute(&written.attribute) {
        return Err(ScimProblem::new(
            ScimType::Mutability,
            format!("{} is set by the server", written.attribute),
        ));
    }
    let located = locate(kind, &written.attribute)
        .ok_or_else(|| invalid_path(format!("{} has no attribute {path}", kind.name())))?;
    let sub_name = after.or(written.sub_attribute.as_deref());
    if filter.is_some() && !located.attribute.multi_valued {
        return Err(invalid_path(format!(
            "{path}: only multi-valued attributes take a filter"
        )));
    }
    let sub = match sub_name {
        None => None,
        Some(name) => Some(
            attribute_in(located.attribute.sub_attributes, name)
                .ok_or_else(|| invalid_path(format!("{} has no attribute {path}", kind.name())))?,
        ),
    };
    let filter = filter.map(|f| match f {
        Filter::ValuePath(_, inner) => *inner,
        other => other,
    });
    Ok(Target::Attribute {
        located,
        filter,
        sub,
    })
}

fn as_list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Null => vec![],
        single => vec![single],
    }
}

/// `value` as JSON text, the same exactly for values `Value`'s `==` finds equal: `serde_json`
/// keeps an object's keys sorted (its `preserve_order` feature is off), so equal objects print
/// alike, and a float zero prints as `0.0` whatever its sign (`-0.0 == 0.0`).
fn canonical(value: &Value) -> String {
    let mut text = String::new();
    write_canonical(value, &mut text);
    text
}

fn write_canonical(value: &Value, text: &mut String) {
    match value {
        Value::Number(number) if number.as_f64() == Some(0.0) && number.is_f64() => {
            text.push_str("0.0");
        }
        Value::Array(items) => {
            text.push('[');
            for (at, item) in items.iter().enumerate() {
                if at > 0 {
                    text.push(',');
                }
                write_canonical(item, text);
            }
            text.push(']');
        }
        Value::Object(fields) => {
            text.push('{');
            for (at, (name, item)) in fields.iter().enumerate() {
                if at > 0 {
                    text.push(',');
                }
                text.push_str(&Value::from(name.as_str()).to_string());
                text.push(':');
                write_canonical(item, text);
            }
            text.push('}');
        }
        other => text.push_str(&other.to_string()),
    }
}

/// What makes two values of a multi-valued attribute the same: a group's members by their
/// `value` (the member's id), anything else by the whole value.
#[derive(PartialEq, Eq, Hash)]
enum Identity {
    Member(String),
    Whole(String),
}

fn identity(attribute: &AttributeDef, item: &Value) -> Identity {
    match item.get("value") {
        Some(id) if attribute.name == "members" => Identity::Member(canonical(id)),
        _ => Identity::Whole(canonical(item)),
    }
}

/// Sets the sub-attributes of `value` on `object` (RFC 7644: a complex value replaces the
/// sub-attributes it names and leaves the others).
fn merge(object: &mut Value, value: Value) {
    match (object.as_object_mut(), value) {
        (Some(existing), Value::Object(fields)) => existing.extend(fields),
        (_, value) => *object = value,
    }
}

fn apply_one(
    kind: ResourceKind,
    document: &mut Map<String, Value>,
    op: Op,
    target: &Target,
    value: Value,
) -> Result<(), ScimProblem> {
    let (located, filter, sub) = match target {
        Target::Extension(schema) => {
            match op {
                Op::Remove => {
                    document.remove(schema.id);
                }
                Op::Add | Op::Replace => {
                    let Value::Object(fields) = value else {
                        return Err(syntax(format!("{} needs an object value", schema.id)));
                    };
                    let entry = document
                        .entry(schema.id)
                        .or_insert_with(|| Value::Object(Map::new()));
                    for (name, value) in fields {
                        if is_server_attribute(&name) {
                            continue;
                        }
                        let attribute =
                            attribute_in(schema.attributes, &name).ok_or_else(|| {
                                invalid_path(format!("{} has no attribute {name}", schema.id))
                            })?;
                        merge_or_set(entry, attribute, value);
                    }
                }
            }
            return Ok(());
        }
        Target::Attribute {
            located,
            filter,
            sub,
        } => (located, filter, sub),
        Target::Unkept => return Ok(()),
    };
    let attribute = located.attribute;
    let container = located.container_mut(document);
    let name = attribute.name;

    match (filter, sub) {
        (None, None) => match op {
            Op::Remove if attribute.multi_valued && !value.is_null() => {
                // Entra ID: remove the listed members, `[{"value": id}]`.
                let removed: HashSet<String> = as_list(value)
                    .iter()
                    .map(|v| canonical(v.get("value").unwrap_or(v)))
                    .collect();
                if let Some(Value::Array(items)) = container.get_mut(name) {
                    items.retain(|item| {
                        !removed.contains(&canonical(item.get("value").unwrap_or(item)))
                    });
                }
            }
            Op::Remove => {
                container.remove(name);
            }
            Op::Add if attribute.multi_valued => {
                let entry = container
                    .entry(name)
                    .or_insert_with(|| Value::Array(vec![]));
                if !entry.is_array() {
                    *entry = Value::Array(vec![]);
                }
                let items = entry.as_array_mut().expect("made a list above");
                let mut present: HashSet<Identity> =
                    items.iter().map(|item| identity(attribute, item)).collect();
                for item in as_list(value) {
                    if present.insert(identity(attribute, &item)) {
                        items.push(item);
                    }
                }
            }
            Op::Add | Op::Replace => {
                let entry = container.entry(name).or_insert(Value::Null);
                merge_or_set_value(entry, attribute, value);
            }
        },
        (None, Some(sub)) if !attribute.multi_valued => {
            let entry = container
                .entry(name)
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let fields = entry.as_object_mut().expect("made an object above");
            match op {
                Op::Remove => {
                    fields.remove(sub.name);
                }
                Op::Add | Op::Replace => {
                    fields.insert(sub.name.to_owned(), value);
                }
            }
        }
        (filter, sub) => {
            let items = match container.get_mut(name) {
                Some(Value::Array(items)) => items,
                _ => {
                    container.insert(name.to_owned(), Value::Array(vec![]));
                    container
                        .get_mut(name)
                        .and_then(Value::as_array_mut)
                        .expect("inserted a list above")
                }
            };
            let selects = |item: &Value| {
                filter
                    .as_ref()
                    .is_none_or(|f| f.matches_element(kind, attribute, item))
            };
            if op == Op::Remove {
                match sub {
                    None => items.retain(|item| !selects(item)),
                    Some(sub) => {
                        for item in items.iter_mut().filter(|item| selects(item)) {
                            if let Some(fields) = item.as_object_mut() {
                                fields.remove(sub.name);
                            }
                        }
                    }
                }
                return Ok(());
            }
            let mut matched = false;
            for item in items.iter_mut().filter(|item| selects(item)) {
                matched = true;
                match sub {
                    Some(sub) => {
                        if !item.is_object() {
                            *item = Value::Object(Map::new());
                        }
                        item.as_object_mut()
                            .expect("made an object above")
                            .insert(sub.name.to_owned(), value.clone());
                    }
                    None if op == Op::Add => merge(item, value.clone()),
                    None => *item = value.clone(),
                }
            }
            if !matched {
                // Entra ID adds `emails[type eq "work"].value` to a user without a work email:
                // the element the filter describes is created.
                let mut element = match &filter {
                    Some(filter) => element_described_by(filter).ok_or_else(|| {
                        ScimProblem::new(
                            ScimType::NoTarget,
                            format!("no {name} value matches the filter"),
                        )
                    })?,
                    None => Map::new(),
                };
                match sub {
                    Some(sub) => {
                        element.insert(sub.name.to_owned(), value);
                    }
                    None => match value {
                        Value::Object(fields) => element.extend(fields),
                        _ => return Err(syntax(format!("{name} values are objects"))),
                    },
                }
                items.push(Value::Object(element));
            }
        }
    }
    Ok(())
}

/// `add` and `replace` both merge into a complex single value (RFC 7644 section 3.5.2.3);
/// anything else is set.
fn merge_or_set(container: &mut Value, attribute: &'static AttributeDef, value: Value) {
    if !container.is_object() {
        *container = Value::Object(Map::new());
    }
    let entry = container
        .as_object_mut()
        .expect("made an object above")
        .entry(attribute.name)
        .or_insert(Value::Null);
    merge_or_set_value(entry, attribute, value);
}

fn merge_or_set_value(entry: &mut Value, attribute: &'static AttributeDef, value: Value) {
    if attribute.kind == Kind::Complex && !attribute.multi_valued && entry.is_object() {
        merge(entry, value);
    } else {
        *entry = value;
    }
}

/// The element an equality filter describes (`type eq "work"` -> `{"type": "work"}`), if the
/// filter is only equalities joined by `and`.
fn element_described_by(filter: &Filter) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare(path, Operator::Eq, literal) if path.sub_attribute.is_none() => {
            let value = match literal {
                Literal::Text(text) => Value::String(text.clone()),
                Literal::Boolean(flag) => Value::Bool(*flag),
                Literal::Null => return None,
            };
            Some(Map::from_iter([(path.attribute.clone(), value)]))
        }
        Filter::And(a, b) => {
            let mut element = element_described_by(a)?;
            element.extend(element_described_by(b)?);
            Some(element)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::schema::ENTERPRISE_SCHEMA;

    fn user() -> Map<String, Value> {
        normalise(
            ResourceKind::User,
            &json!({
                "userName": "ada@example.com",
                "active": true,
                "name": { "givenName": "Ada", "familyName": "Lovelace" },
                "emails": [{ "value": "ada@example.com", "type": "work", "primary": true }]
            }),
        )
        .unwrap()
    }

    fn patch(document: &Map<String, Value>, operations: Value) -> Result<Value, ScimProblem> {
        apply(
            ResourceKind::User,
            document,
            &json!({ "schemas": [crate::scim::schema::PATCH_OP], "Operations": operations }),
        )
        .map(Value::Object)
    }

    #[test]
    fn entra_old_dialect_capitalised_ops_and_string_booleans() {
        let next = patch(
            &user(),
            json!([
                { "op": "Replace", "path": "active", "value": "False" },
                { "op": "Add", "path": "title", "value": "Engineer" }
            ]),
        )
        .unwrap();
        assert_eq!(next["active"], false);
        assert_eq!(next["title"], "Engineer");
    }

    #[test]
    fn value_paths_set_create_and_remove_elements() {
        let next = patch(
            &user(),
            json!([
                { "op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada@new.example" },
                { "op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+31 6 1234 5678" }
            ]),
        )
        .unwrap();
        assert_eq!(next["emails"][0]["value"], "ada@new.example");
        assert_eq!(
            next["emails"][0]["primary"], true,
            "other sub-attributes stay"
        );
        assert_eq!(
            next["phoneNumbers"],
            json!([{ "type": "mobile", "value": "+31 6 1234 5678" }])
        );
        let removed = patch(
            next.as_object().unwrap(),
            json!([{ "op": "remove", "path": "emails[type eq \"work\"]" }]),
        )
        .unwrap();
        assert!(removed.get("emails").is_none(), "an emptied list is gone");
    }

    #[test]
    fn a_whole_extension_is_replaced_ignoring_its_schemas_key() {
        let next = patch(
            &user(),
            json!([{ "op": "replace", "path": ENTERPRISE_SCHEMA, "value": {
                "schemas": [ENTERPRISE_SCHEMA], "department": "Ops", "employeeNumber": "9"
            } }]),
        )
        .unwrap();
        assert_eq!(
            next[ENTERPRISE_SCHEMA],
            json!({ "department": "Ops", "employeeNumber": "9" })
        );
    }

    #[test]
    fn enterprise_paths_manager_as_plain_id_and_pathless_replace_with_dotted_keys() {
        let next = patch(
            &user(),
            json!([
                { "op": "Add", "path": format!("{ENTERPRISE_SCHEMA}:department"), "value": "R&D" },
                { "op": "Replace", "path": format!("{ENTERPRISE_SCHEMA}:manager"), "value": "boss-id" },
                { "op": "replace", "value": {
                    "name.givenName": "Augusta",
                    "displayName": "Countess",
                    format!("{ENTERPRISE_SCHEMA}:employeeNumber"): "701"
                } }
            ]),
        )
        .unwrap();
        let enterprise = &next[ENTERPRISE_SCHEMA];
        assert_eq!(enterprise["department"], "R&D");
        assert_eq!(enterprise["manager"], json!({ "value": "boss-id" }));
        assert_eq!(enterprise["employeeNumber"], "701");
        assert_eq!(
            next["name"],
            json!({ "givenName": "Augusta", "familyName": "Lovelace" })
        );
        assert_eq!(next["displayName"], "Countess");
    }

    #[test]
    fn replacing_a_complex_attribute_keeps_sub_attributes_it_does_not_name() {
        let next = patch(
            &user(),
            json!([{ "op": "replace", "path": "name", "value": { "givenName": "A" } }]),
        )
        .unwrap();
        assert_eq!(
            next["name"],
            json!({ "givenName": "A", "familyName": "Lovelace" })
        );
    }

    #[test]
    fn other_multi_valued_attributes_keep_one_of_equal_values_whatever_their_key_order() {
        let next = patch(
            &user(),
            json!([{ "op": "add", "path": "emails", "value": [
                { "type": "work", "primary": true, "value": "ada@example.com" },
                { "value": "ada@home.example", "type": "home" },
                { "type": "home", "value": "ada@home.example" },
                { "value": "ada@home.example", "type": "other" }
            ] }]),
        )
        .unwrap();
        let types: Vec<&str> = (next["emails"].as_array().unwrap().iter())
            .map(|email| email["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["work", "home", "other"]);
        let removed = patch(
            next.as_object().unwrap(),
            json!([{ "op": "remove", "path": "emails", "value": [{ "value": "ada@home.example" }] }]),
        )
        .unwrap();
        assert_eq!(removed["emails"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn values_print_alike_exactly_when_they_are_equal() {
        let values = [
            json!(0),
            json!(0.0),
            json!(-0.0),
            json!(1),
            json!(1.0),
            json!("0.0"),
            json!([0.0, { "a": -0.0 }]),
            json!([-0.0, { "a": 0.0 }]),
            json!([0, { "a": 0.0 }]),
            json!({ "b": [1, "x\"y"], "a": null }),
            json!({ "a": null, "b": [1, "x\"y"] }),
            json!({ "a": null, "b": [1, "x\\y"] }),
        ];
        for a in &values {
            for b in &values {
                assert_eq!(canonical(a) == canonical(b), a == b, "{a} and {b}");
            }
        }
    }

    #[test]
    fn group_members_are_added_and_removed_both_ways() {
        let group = normalise(ResourceKind::Group, &json!({ "displayName": "Staff" })).unwrap();
        let apply_group = |document: &Map<String, Value>, operations: Value| {
            apply(
                ResourceKind::Group,
                document,
                &json!({ "Operations": operations }),
            )
            .unwrap()
        };
        let added = apply_group(
            &group,
            json!([{ "op": "Add", "path": "members", "value": [{ "value": "u1" }, { "value": "u2" }, { "value": "u3" }] }]),
        );
        let again = apply_group(
            &added,
            json!([{ "op": "add", "path": "members", "value": [{ "value": "u1" }] }]),
        );
        assert_eq!(
            again["members"].as_array().unwrap().len(),
            3,
            "adding a member twice keeps one"
        );
        let twice = apply_group(
            &group,
            json!([{ "op": "Add", "path": "members", "value": [{ "value": "u1" }, { "value": "u1", "display": "Ada" }] }]),
        );
        assert_eq!(twice["members"], json!([{ "value": "u1" }]), "one request");
        let removed = apply_group(
            &again,
            json!([
                { "op": "Remove", "path": "members", "value": [{ "value": "u1" }] },
                { "op": "remove", "path": "members[value eq \"u2\"]" }
            ]),
        );
        assert_eq!(removed["members"], json!([{ "value": "u3" }]));
        let missing = apply_group(
            &removed,
            json!([{ "op": "remove", "path": "members[value eq \"gone\"]" }]),
        );
        assert_eq!(
            missing["members"],
            json!([{ "value": "u3" }]),
            "removing an absent member is fine"
        );
    }

    #[test]
    fn a_failing_operation_changes_nothing_and_names_the_problem() {
        let document = user();
        let problem = patch(
            &document,
            json!([
                { "op": "replace", "path": "title", "value": "Boss" },
                { "op": "replace", "path": "shoeSize", "value": 44 }
            ]),
        )
        .unwrap_err();
        assert_eq!(problem.scim_type, ScimType::InvalidPath);
        assert!(problem.detail.contains("shoeSize"));
        assert!(document.get("title").is_none());

        let cases = [
            (json!([{ "op": "remove" }]), ScimType::NoTarget),
            (
                json!([{ "op": "move", "path": "title" }]),
                ScimType::InvalidSyntax,
            ),
            (
                json!([{ "op": "replace", "path": "id", "value": "x" }]),
                ScimType::Mutability,
            ),
            (
                json!([{ "op": "replace", "path": "emails[type eq \"work\"", "value": "x" }]),
                ScimType::InvalidPath,
            ),
            (
                json!([{ "op": "replace", "path": "title[type eq \"x\"]", "value": "x" }]),
                ScimType::InvalidPath,
            ),
            (
                json!([{ "op": "replace", "path": "active", "value": "maybe" }]),
                ScimType::InvalidValue,
            ),
            (json!([]), ScimType::InvalidSyntax),
        ];
        for (operations, expected) in cases {
            assert_eq!(
                patch(&document, operations.clone()).unwrap_err().scim_type,
                expected,
                "{operations}"
            );
        }
    }

    #[test]
    fn operations_on_attributes_roster_does_not_keep_are_passed_over() {
        let document = user();
        let custom = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User";
        let next = patch(
            &document,
            json!([
                { "op": "Add", "path": format!("{custom}:badge"), "value": "7" },
                { "op": "Add", "path": "roles", "value": [{ "primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin" }] },
                { "op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Admin" },
                { "op": "remove", "path": "urn:ietf:params:scim:schemas:core:2.0:User:entitlements" },
                { "op": "replace", "value": { custom: { "badge": "7" }, format!("{custom}:floor"): "3", "title": "Boss" } },
                { "op": "replace", "path": "title", "value": "Engineer" }
            ]),
        )
        .unwrap();
        let mut expected = Value::Object(document.clone());
        expected["title"] = json!("Engineer");
        assert_eq!(next, expected);

        // A name of no schema, in the core or in a published extension, is still refused, and
        // a group keeps no User attribute.
        for path in [
            "shoeSize",
            "rolesX",
            "urn:ietf:params:scim:schemas:core:2.0:User:shoeSize",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:shoeSize",
        ] {
            let operations = json!([{ "op": "replace", "path": path, "value": "x" }]);
            let problem = patch(&document, operations).unwrap_err();
            assert_eq!(problem.scim_type, ScimType::InvalidPath, "{path}");
        }
        let group = json!({ "Operations": [{ "op": "add", "path": "roles", "value": "x" }] });
        let problem = apply(ResourceKind::Group, &Map::new(), &group).unwrap_err();
        assert_eq!(problem.scim_type, ScimType::InvalidPath);
    }

    #[test]
    fn the_operations_on_one_attribute_apply_alone_when_the_others_are_refused() {
        let document = user();
        let body = |operations: Value| json!({ "Operations": operations });
        let active_only = |operations: Value| {
            apply_only(ResourceKind::User, &document, &body(operations), "active")
                .map(|next| (next.get("active").cloned(), next.get("title").cloned()))
        };
        let refused = json!({ "op": "replace", "path": "shoeSize", "value": 44 });
        let title = json!({ "op": "replace", "path": "title", "value": "Boss" });
        for leaving in [
            json!({ "op": "Replace", "path": "active", "value": "False" }),
            json!({ "op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": false }),
            json!({ "op": "replace", "value": { "active": false, "shoeSize": 44 } }),
        ] {
            let operations = json!([title.clone(), refused.clone(), leaving.clone(), "junk"]);
            assert!(patch(&document, operations.clone()).is_err());
            assert_eq!(
                active_only(operations),
                Some((Some(json!(false)), None)),
                "{leaving}"
            );
        }
        for untouched in [
            json!([title.clone(), refused.clone()]),
            json!([{ "op": "replace", "path": "active", "value": "maybe" }]),
            json!([{ "op": "replace", "value": { "title": "Boss" } }]),
            json!("not a list"),
        ] {
            assert_eq!(active_only(untouched.clone()), None, "{untouched}");
        }
    }
}
