//! The JSON shapes the API answers with.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use roster_domain::{
    membership::Membership,
    organisation::{Organisation, OrganisationSettings},
};
use roster_store::{Device, Vehicle};
use serde_json::{Value, json};

use crate::AppState;

/// How long a shown avatar URL works.
const AVATAR_URL_LIFETIME: Duration = Duration::from_secs(3600);

/// A time-limited URL of an avatar object.
pub async fn avatar_url(state: &AppState, key: Option<&str>) -> Option<String> {
    let key = key?;
    let config = PresigningConfig::expires_in(AVATAR_URL_LIFETIME).ok()?;
    state
        .s3
        .get_object()
        .bucket(&state.config.avatar_bucket)
        .key(key)
        .presigned(config)
        .await
        .ok()
        .map(|request| request.uri().to_owned())
}

/// A person's profile as they see it: the fixed fields of `/v1/me` plus who owns each.
pub async fn profile(state: &AppState, membership: &Membership) -> Value {
    let profile = &membership.profile;
    json!({
        "id": membership.id,
        "organisation_id": membership.organisation_id,
        "username": membership.username.as_ref().map(|u| u.display()),
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "display_name": profile.display_name(),
        "email": profile.email.as_ref().map(|e| e.display()),
        "department": profile.department,
        "function": profile.function,
        "about_me": profile.about_me,
        "avatar_url": match avatar_url(state, membership.avatar_key.as_deref()).await {
            Some(uploaded) => Some(uploaded),
            None => profile.photo.clone().filter(|p| p.starts_with("https://")),
        },
        "photo": profile.photo,
        "phone": profile.phone,
        "mobile": profile.mobile,
        "first_aider": profile.first_aider,
        "emergency_officer": profile.emergency_officer,
        "tags": profile.tags,
        "external_id": profile.external_id,
        "managed_by": profile.managed_by.complete(),
        "roles": membership.roles,
        "status": membership.status,
        "invitation_status": membership.invitation_status,
    })
}

pub fn preferences(membership: &Membership) -> Value {
    json!(membership.preferences)
}

/// An organisation as its administrators see it: its settings as they take effect (a daily
/// summary switch stored before it existed shows what it follows).
pub fn organisation(organisation: &Organisation) -> Value {
    let mut settings = json!(organisation.settings);
    settings["daily_summaries_enabled"] = json!(organisation.settings.sends_daily_summaries());
    json!({ "id": organisation.id, "name": organisation.name, "settings": settings })
}

/// What an organisation's settings offer its people (see `openapi::Features`).
pub fn features(settings: &OrganisationSettings) -> Value {
    json!({
        "booking_notifications": settings.booking_notifications_enabled,
        "daily_summaries": settings.sends_daily_summaries(),
        "checkin_reminders": settings.checkin_enabled,
        "hide_profile": settings.allow_hide_profile,
        "vehicles": settings.vehicles_enabled,
        "password": settings.login_methods.password,
        "require_mfa": settings.require_mfa,
    })
}

pub fn vehicle(vehicle: &Vehicle) -> Value {
    json!({
        "id": vehicle.id,
        "name": vehicle.name,
        "plate_number": vehicle.plate.display(),
        "created_at": vehicle.created_at,
        "version": vehicle.version,
    })
}

/// A device without its push secrets (token, subscription keys, SNS endpoint).
pub fn device(device: &Device) -> Value {
    let platform = match device.target {
        roster_domain::device::PushTarget::Ios { .. } => "ios",
        roster_domain::device::PushTarget::Android { .. } => "android",
        roster_domain::device::PushTarget::Web { .. } => "web",
    };
    json!({
        "id": device.id,
        "name": device.name,
        "platform": platform,
        "push_enabled": device.push_enabled,
        "active": device.active,
        "created_at": device.created_at,
        "version": device.version,
    })
}

#[cfg(test)]
mod tests {
    use roster_domain::ids::OrganisationId;

    use super::*;

    #[test]
    fn an_organisation_shows_the_daily_summary_switch_as_it_takes_effect() {
        let stored_before_the_switch = OrganisationSettings {
            booking_notifications_enabled: false,
            daily_summaries_enabled: None,
            ..OrganisationSettings::default()
        };
        let organisation = Organisation::new(
            OrganisationId::generate(),
            "Acme".into(),
            stored_before_the_switch,
        );
        let shown = super::organisation(&organisation);
        assert_eq!(shown["settings"]["daily_summaries_enabled"], false);
        assert_eq!(shown["name"], "Acme");
    }
}
