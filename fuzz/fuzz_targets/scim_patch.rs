//! SCIM PATCH (`PATCH /scim/v2/Users/{id}` and `/Groups/{id}`): any JSON body applies to a stored
//! resource or is refused, and what it leaves is a stored resource again.
//!
//! Input: the request body (JSON), applied to a provisioned User and to a Group, on a small stack.

#![no_main]

use std::sync::LazyLock;

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use roster_domain::{
    profile::{Attribute, Owner, Profile},
    scim::{
        patch,
        resource::{Meta, render},
        schema::{ENTERPRISE_SCHEMA, ResourceKind, normalise},
        user::{ScimAttributes, ScimPerson},
    },
};
use roster_fuzz::{SmallStack, assert_provenance, assert_round_trips};
use serde_json::{Map, Value, json};

static USER: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    normalise(
        ResourceKind::User,
        &json!({
            "userName": "ada@example.com",
            "externalId": "E-7",
            "active": true,
            "name": { "givenName": "Ada", "familyName": "Lovelace" },
            "displayName": "Ada",
            "emails": [
                { "value": "ada@example.com", "type": "work", "primary": true },
                { "value": "ada@home.example", "type": "home" }
            ],
            "phoneNumbers": [{ "value": "+31 20 123 4567", "type": "work" }],
            ENTERPRISE_SCHEMA: { "department": "R&D", "manager": { "value": "boss" } }
        }),
    )
    .expect("a valid User")
});

static GROUP: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    normalise(
        ResourceKind::Group,
        &json!({
            "displayName": "Staff",
            "members": [{ "value": "u1", "type": "User" }, { "value": "u2" }]
        }),
    )
    .expect("a valid Group")
});

/// The profile of the person the User provisioned, with one attribute the person set.
static PROFILE: LazyLock<Profile> = LazyLock::new(|| {
    let person = ScimPerson::read(&USER, &ScimAttributes::default()).expect("a valid person");
    let mut profile = Profile::named(String::new(), String::new(), None);
    profile.about_me = Some("Hello".to_owned());
    person.apply_to(&profile, &ScimAttributes::default())
});

static CHECKS: LazyLock<SmallStack> = LazyLock::new(|| SmallStack::new(check));

fuzz_target!(|data: &[u8]| CHECKS.run(data));

fn check(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for (kind, document) in [(ResourceKind::User, &*USER), (ResourceKind::Group, &*GROUP)] {
        let Ok(next) = patch::apply(kind, document, &body) else {
            continue;
        };
        assert_eq!(
            normalise(kind, &Value::Object(next.clone())).as_ref(),
            Ok(&next),
            "a patched document is not canonical"
        );
        let at = DateTime::from_timestamp(1_790_000_000, 0).expect("in range");
        let meta = Meta {
            id: "r1",
            created: at,
            last_modified: at,
            version: 4,
            location: "https://roster.example/scim/v2/Users/r1".to_owned(),
        };
        serde_json::to_vec(&render(kind, &next, &meta)).expect("a resource serialises");
        if kind == ResourceKind::User
            && let Ok(person) = ScimPerson::read(&next, &ScimAttributes::default())
        {
            let profile = person.apply_to(&PROFILE, &ScimAttributes::default());
            let changed = assert_provenance(&PROFILE, &profile, Owner::Scim);
            assert!(
                !changed.contains(&Attribute::AboutMe),
                "SCIM changed an attribute it does not map"
            );
            assert_round_trips(&profile);
        }
    }
}
