//! Request bodies: one JSON object given to every parser the API runs on a body (profile and
//! preferences, organisation settings and names, admin user creation and edits, SCIM group roles,
//! import mappings, devices, vehicles, reservations), and every string in it to the validators of
//! the domain's newtypes. Whatever a parser accepts must hold up where it goes next: stored values
//! read back equal, and a normalised value is accepted again as itself.
//!
//! Input: the request body (JSON).

#![no_main]

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate};
use libfuzzer_sys::fuzz_target;
use roster_domain::{
    admin_user::{AssignmentPatch, Login, NewUser},
    device::{DeviceRegistration, PushTarget},
    ids::{OrganisationId, ReservationId},
    import::{ColumnMapping, parse_mapping},
    membership::Username,
    organisation::{OrganisationSettings, organisation_name},
    preferences::{Preferences, TimeZone},
    profile::{Attribute, Email, Owner, Profile, ProfilePatch, phone_number},
    reservation::{LONGEST, NewReservation, Reservation, summary_moment},
    vehicle::{PlateNumber, vehicle_name},
};
use roster_fuzz::{assert_provenance, assert_round_trips};
use serde_json::{Map, Value};

/// Strings looked at per input: more only repeats the same checks.
const MAX_STRINGS: usize = 64;

const KNOWN_SITES: [&str; 2] = ["berlin", "utrecht"];

/// Profiles a patch applies to: a person's own, and one whose attributes other writers own.
static PROFILES: LazyLock<Vec<Profile>> = LazyLock::new(|| {
    let own = Profile::named(
        "Ada".to_owned(),
        "Lovelace".to_owned(),
        Email::try_from("ada@example.com").ok(),
    );
    let mut managed = own.clone();
    managed.department = Some("R&D".to_owned());
    managed.external_id = Some("E-7".to_owned());
    managed.photo = Some("ada.jpg".to_owned());
    for (attribute, owner) in [
        (Attribute::FirstName, Owner::Scim),
        (Attribute::Department, Owner::Sso),
        (Attribute::ExternalId, Owner::Csv),
        (Attribute::Photo, Owner::Csv),
        (Attribute::Phone, Owner::Admin),
    ] {
        managed.managed_by.set(attribute, owner);
    }
    vec![own, managed]
});

fn profile_patch(body: &Map<String, Value>) {
    let Ok(patch) = ProfilePatch::parse(body) else {
        return;
    };
    for profile in PROFILES.iter() {
        for actor in [Owner::SelfService, Owner::Admin, Owner::Csv] {
            if let Ok((next, changed)) = patch.apply(profile, actor) {
                assert_eq!(
                    assert_provenance(profile, &next, actor),
                    changed,
                    "the attributes a patch reports changed are not the ones that changed"
                );
                assert_round_trips(&next);
            }
        }
    }
}

fn preferences(body: &Map<String, Value>) {
    for allow_hide_profile in [false, true] {
        let settings = OrganisationSettings {
            allow_hide_profile,
            ..OrganisationSettings::default()
        };
        if let Ok(next) = Preferences::for_new_member(&settings).patched(body, &settings) {
            assert!(allow_hide_profile || !next.hide_profile);
            assert_round_trips(&next);
        }
    }
}

/// `PATCH /v1/admin/organisation` and `POST /v1/platform/organisations` (`{name, settings}`).
fn organisation(body: &Map<String, Value>) {
    if let Some(name) = body.get("name") {
        let _ = organisation_name(name);
    }
    let changes = match body.get("settings") {
        Some(Value::Object(settings)) => settings,
        _ => body,
    };
    let Ok(settings) = OrganisationSettings::default().patched(changes) else {
        return;
    };
    assert!(settings.login_methods.password || settings.login_methods.sso);
    assert_round_trips(&settings);
    let day = NaiveDate::from_ymd_opt(2026, 3, 29).expect("a date");
    summary_moment(
        day,
        settings.default_time_zone.0,
        settings.daily_summary_hour,
    );
}

fn admin_user(body: &Map<String, Value>) {
    let known: Vec<String> = KNOWN_SITES.map(str::to_owned).to_vec();
    if let Ok(user) = NewUser::parse(body, &known) {
        assert!(!user.first_name.is_empty() && !user.last_name.is_empty());
        let has_email = matches!(user.login, Login::Email(_));
        assert_eq!(
            AssignmentPatch::check(
                &user.roles,
                &user.sites,
                user.default_site.as_ref(),
                has_email,
                &known,
            ),
            Ok(()),
            "a created user's roles and sites fail the check an edit runs"
        );
    }
    if let Ok(patch) = AssignmentPatch::parse(body) {
        for grant in patch.roles.iter().flatten() {
            assert_round_trips(grant);
        }
    }
}

/// `POST /v1/admin/imports` with `{mapping}`: a header the mapping names maps as it says.
fn import_mapping(body: &Map<String, Value>) {
    let Some(value) = body.get("mapping") else {
        return;
    };
    let Ok(explicit) = parse_mapping(value) else {
        return;
    };
    for (header, _) in value.as_object().into_iter().flatten() {
        let headers = [header.clone()];
        let mapping = ColumnMapping::detect(&headers, &explicit);
        assert_eq!(mapping.columns[0].source, "mapping", "{header:?}");
    }
}

fn device(body: &Map<String, Value>) {
    let Ok(device) = DeviceRegistration::parse(body) else {
        return;
    };
    assert_round_trips(&device.target);
    // Roster sends to the endpoint it stored: registering that endpoint again keeps it as it is.
    if let PushTarget::Web { endpoint, .. } = &device.target {
        let mut again = body.clone();
        if let Some(Value::Object(subscription)) = again.get_mut("subscription") {
            subscription.insert("endpoint".to_owned(), Value::String(endpoint.clone()));
        }
        assert_eq!(
            DeviceRegistration::parse(&again).map(|d| d.target).as_ref(),
            Ok(&device.target),
            "a stored endpoint is refused or changed when registered again"
        );
    }
}

fn reservation(body: &Map<String, Value>) {
    let Ok(new) = NewReservation::parse(body) else {
        return;
    };
    assert!(new.start < new.end && new.end - new.start <= LONGEST);
    let reservation = Reservation::new(
        ReservationId::try_from("r1").expect("a valid id"),
        OrganisationId::try_from("fuzz").expect("a valid id"),
        new,
        DateTime::from_timestamp(1_790_000_000, 0).expect("in range"),
    );
    reservation.reminder_bucket().key();
    for (site, person) in [
        ("Pacific/Kiritimati", "Etc/GMT+12"),
        ("Europe/Berlin", "America/Santiago"),
    ] {
        let site = TimeZone::try_from(site).expect("a zone").0;
        let person = TimeZone::try_from(person).expect("a zone").0;
        for hour in [0, 23] {
            let filing = reservation.filing(site, person, hour);
            assert!(!filing.site_days.is_empty());
            filing.summary_bucket.key();
        }
    }
    assert_round_trips(&reservation);
}

/// Each validator of a newtype or a text field, on any string: what it accepts it accepts again
/// unchanged (normalising twice changes nothing).
fn strings(text: &str) {
    if let Ok(email) = Email::try_from(text) {
        assert_eq!(Email::try_from(email.display()).as_ref(), Ok(&email));
    }
    if let Ok(username) = Username::try_from(text) {
        assert_eq!(
            Username::try_from(username.display()).as_ref(),
            Ok(&username)
        );
    }
    if let Ok(plate) = PlateNumber::try_from(text) {
        assert_eq!(PlateNumber::try_from(plate.display()).as_ref(), Ok(&plate));
    }
    if let Ok(name) = vehicle_name(text) {
        assert_eq!(vehicle_name(&name).as_ref(), Ok(&name));
    }
    if let Ok(number) = phone_number(text) {
        assert_eq!(phone_number(&number).as_ref(), Ok(&number));
    }
    if let Ok(zone) = TimeZone::try_from(text) {
        assert_round_trips(&zone);
    }
}

fn each_string<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    if found.len() >= MAX_STRINGS {
        return;
    }
    match value {
        Value::String(text) => found.push(text),
        Value::Array(items) => items.iter().for_each(|item| each_string(item, found)),
        Value::Object(fields) => fields.iter().for_each(|(key, item)| {
            found.push(key);
            each_string(item, found);
        }),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let mut found = Vec::new();
    each_string(&value, &mut found);
    for text in found.into_iter().take(MAX_STRINGS) {
        strings(text);
    }
    let Value::Object(body) = value else {
        return;
    };
    profile_patch(&body);
    preferences(&body);
    organisation(&body);
    admin_user(&body);
    import_mapping(&body);
    device(&body);
    reservation(&body);
});
