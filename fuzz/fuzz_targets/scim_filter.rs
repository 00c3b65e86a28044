//! SCIM filters (`GET /scim/v2/Users?filter=...`, and the filters inside PATCH paths): any text
//! either parses or is refused, and a parsed filter evaluates against stored resources.
//!
//! Input: the filter's text (UTF-8), parsed for Users and for Groups, on a small stack.

#![no_main]

use std::sync::LazyLock;

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use roster_domain::scim::{
    filter::{AttrPath, Filter, Literal, Operator},
    resource::{Meta, render},
    schema::{ENTERPRISE_SCHEMA, ResourceKind, normalise},
};
use roster_fuzz::SmallStack;
use serde_json::{Value, json};

/// A resource as a list request evaluates it: the stored document rendered with `id` and `meta`.
fn rendered(kind: ResourceKind, document: Value) -> Value {
    let document = normalise(kind, &document).expect("a valid document");
    let at = DateTime::from_timestamp(1_790_000_000, 0).expect("in range");
    let meta = Meta {
        id: "r1",
        created: at,
        last_modified: at,
        version: 3,
        location: format!("https://roster.example/scim/v2{}/r1", kind.endpoint()),
    };
    render(kind, &document, &meta)
}

static USERS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    vec![
        rendered(
            ResourceKind::User,
            json!({
                "userName": "Ada@Example.com",
                "externalId": "E-7",
                "active": true,
                "name": { "givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace" },
                "displayName": "Ada",
                "title": "Engineer",
                "emails": [
                    { "value": "ada@home.example", "type": "home" },
                    { "value": "ada@example.com", "type": "work", "primary": true }
                ],
                "phoneNumbers": [{ "value": "+31 6 1234 5678", "type": "mobile" }],
                ENTERPRISE_SCHEMA: {
                    "department": "R&D",
                    "employeeNumber": "701",
                    "manager": { "value": "boss" }
                }
            }),
        ),
        rendered(
            ResourceKind::User,
            json!({ "userName": "bob", "active": "False", "emails": { "value": "bob@example.com" } }),
        ),
        // Shapes a stored document never has, which evaluation must still survive.
        json!({
            "id": 7,
            "USERNAME": ["a", "b"],
            "name": "not an object",
            "emails": [1, null, [{ "value": "x" }], { "VALUE": "ada@example.com" }],
            "active": "true",
            "meta": { "lastModified": false },
            ENTERPRISE_SCHEMA: [{ "department": "R&D" }]
        }),
    ]
});

static GROUPS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    vec![
        rendered(
            ResourceKind::Group,
            json!({
                "displayName": "Staff",
                "externalId": "G-1",
                "members": [{ "value": "u1", "type": "User" }, { "value": "u2" }]
            }),
        ),
        json!({ "displayName": null, "members": "u1" }),
    ]
});

static CHECKS: LazyLock<SmallStack> = LazyLock::new(|| SmallStack::new(check));

fuzz_target!(|data: &[u8]| CHECKS.run(data));

fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (kind, resources) in [
        (ResourceKind::User, &*USERS),
        (ResourceKind::Group, &*GROUPS),
    ] {
        let Ok(filter) = Filter::parse(text, kind) else {
            continue;
        };
        let _ = format!("{filter:?}");
        // A list request looks resources up by this equality and filters what it finds, so every
        // resource the filter matches must satisfy it.
        let lookup = filter.required_equality(kind).map(|(name, value)| {
            let path = match name.split_once('.') {
                Some((attribute, sub)) => AttrPath {
                    attribute: attribute.to_owned(),
                    sub_attribute: Some(sub.to_owned()),
                },
                None => AttrPath {
                    attribute: name,
                    sub_attribute: None,
                },
            };
            Filter::Compare(path, Operator::Eq, Literal::Text(value))
        });
        for resource in resources {
            if filter.matches(kind, resource)
                && let Some(lookup) = &lookup
            {
                assert!(
                    lookup.matches(kind, resource),
                    "{lookup:?} misses a resource the filter matches: {resource}"
                );
            }
        }
    }
}
