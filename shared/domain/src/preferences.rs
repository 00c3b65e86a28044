//! A person's preferences: language, theme, time zone, notifications, privacy.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    organisation::OrganisationSettings,
    validation::{FieldProblem, ValidationErrors},
};

/// The languages Roster speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    De,
    Fr,
    It,
    Hu,
    Ja,
    Ro,
    Ru,
    Tr,
    Es,
    Zh,
}

impl Language {
    pub const ALL: [Language; 11] = [
        Self::En,
        Self::De,
        Self::Fr,
        Self::It,
        Self::Hu,
        Self::Ja,
        Self::Ro,
        Self::Ru,
        Self::Tr,
        Self::Es,
        Self::Zh,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::Fr => "fr",
            Self::It => "it",
            Self::Hu => "hu",
            Self::Ja => "ja",
            Self::Ro => "ro",
            Self::Ru => "ru",
            Self::Tr => "tr",
            Self::Es => "es",
            Self::Zh => "zh",
        }
    }
}

impl TryFrom<&str> for Language {
    type Error = FieldProblem;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::ALL
            .into_iter()
            .find(|l| l.code() == value)
            .ok_or_else(|| {
                let codes: Vec<&str> = Self::ALL.iter().map(|l| l.code()).collect();
                FieldProblem::new(
                    "unsupported_language",
                    format!("must be one of {}", codes.join(", ")),
                )
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
    #[default]
    System,
}

impl TryFrom<&str> for Theme {
    type Error = FieldProblem;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        match value {
            "light" => Ok(Self::Light),
            "dark" => Ok(Self::Dark),
            "system" => Ok(Self::System),
            _ => Err(FieldProblem::new(
                "invalid_choice",
                "must be one of light, dark, system",
            )),
        }
    }
}

/// An IANA time zone (`Europe/Berlin`), serialised by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(pub chrono_tz::Tz);

impl TryFrom<&str> for TimeZone {
    type Error = FieldProblem;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        chrono_tz::Tz::from_str(value).map(Self).map_err(|_| {
            FieldProblem::new(
                "unknown_time_zone",
                "must be an IANA time zone such as Europe/Berlin",
            )
        })
    }
}

impl Serialize for TimeZone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        TimeZone::try_from(name.as_str()).map_err(|p| serde::de::Error::custom(p.message))
    }
}

/// How booking confirmations arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingConfirmation {
    Off,
    #[default]
    Email,
    EmailWithIcs,
}

impl TryFrom<&str> for BookingConfirmation {
    type Error = FieldProblem;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        match value {
            "off" => Ok(Self::Off),
            "email" => Ok(Self::Email),
            "email_with_ics" => Ok(Self::EmailWithIcs),
            _ => Err(FieldProblem::new(
                "invalid_choice",
                "must be one of off, email, email_with_ics",
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notifications {
    pub booking_confirmation: BookingConfirmation,
    /// An email when a booking of the person is cancelled (confirmations of new bookings
    /// follow `booking_confirmation`).
    pub booking_changes: bool,
    pub checkin_reminder_email: bool,
    pub checkin_reminder_push: bool,
    pub daily_summary: bool,
}

impl Default for Notifications {
    fn default() -> Self {
        Self {
            booking_confirmation: BookingConfirmation::Email,
            booking_changes: true,
            checkin_reminder_email: true,
            checkin_reminder_push: true,
            daily_summary: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub language: Language,
    pub theme: Theme,
    pub time_zone: TimeZone,
    pub notifications: Notifications,
    pub hide_profile: bool,
}

/// Whether a person who chose `hide_profile` is hidden from colleagues: only while `settings`
/// (their organisation's) let people hide. The choice is kept either way, as the notification
/// preferences are, so turning the permission off shows everyone and turning it on again hides
/// whoever had chosen to.
pub fn hidden_from_colleagues(hide_profile: bool, settings: &OrganisationSettings) -> bool {
    hide_profile && settings.allow_hide_profile
}

impl Preferences {
    /// A new member's preferences: the organisation's language and time zone.
    pub fn for_new_member(settings: &OrganisationSettings) -> Self {
        Self {
            language: settings.default_language,
            theme: Theme::System,
            time_zone: settings.default_time_zone,
            notifications: Notifications::default(),
            hide_profile: false,
        }
    }

    /// Applies a JSON object of changes; every invalid field is named (`notifications.<key>` for
    /// nested ones). Choosing to hide the profile needs the organisation's permission.
    pub fn patched(
        &self,
        body: &Map<String, Value>,
        settings: &OrganisationSettings,
    ) -> Result<Self, ValidationErrors> {
        let mut next = *self;
        let mut errors = ValidationErrors::default();
        for (field, value) in body {
            match field.as_str() {
                "language" => {
                    if let Some(v) = errors.collect(field, text(value).and_then(Language::try_from))
                    {
                        next.language = v;
                    }
                }
                "theme" => {
                    if let Some(v) = errors.collect(field, text(value).and_then(Theme::try_from)) {
                        next.theme = v;
                    }
                }
                "time_zone" => {
                    if let Some(v) = errors.collect(field, text(value).and_then(TimeZone::try_from))
                    {
                        next.time_zone = v;
                    }
                }
                "hide_profile" => {
                    if let Some(hide) = errors.collect(field, boolean(value)) {
                        // A choice kept from while hiding was allowed may be sent back as it is.
                        if hide && !self.hide_profile && !settings.allow_hide_profile {
                            errors.push(
                                field,
                                "not_allowed",
                                "your organisation does not allow hiding profiles",
                            );
                        } else {
                            next.hide_profile = hide;
                        }
                    }
                }
                "notifications" => match value.as_object() {
                    Some(changes) => {
                        next.notifications =
                            patched_notifications(next.notifications, changes, &mut errors)
                    }
                    None => errors.push(field, "invalid_type", "must be an object"),
                },
                _ => errors.push(
                    field,
                    "unknown_field",
                    format!("{field} is not a preference"),
                ),
            }
        }
        errors.into_result(next)
    }
}

fn patched_notifications(
    mut notifications: Notifications,
    changes: &Map<String, Value>,
    errors: &mut ValidationErrors,
) -> Notifications {
    for (key, value) in changes {
        let field = format!("notifications.{key}");
        let flag = match key.as_str() {
            "booking_confirmation" => {
                if let Some(v) =
                    errors.collect(&field, text(value).and_then(BookingConfirmation::try_from))
                {
                    notifications.booking_confirmation = v;
                }
                continue;
            }
            "booking_changes" => &mut notifications.booking_changes,
            "checkin_reminder_email" => &mut notifications.checkin_reminder_email,
            "checkin_reminder_push" => &mut notifications.checkin_reminder_push,
            "daily_summary" => &mut notifications.daily_summary,
            _ => {
                errors.push(
                    field,
                    "unknown_field",
                    format!("{key} is not a notification setting"),
                );
                continue;
            }
        };
        if let Some(v) = errors.collect(&field, boolean(value)) {
            *flag = v;
        }
    }
    notifications
}

pub(crate) fn text(value: &Value) -> Result<&str, FieldProblem> {
    value
        .as_str()
        .ok_or_else(|| FieldProblem::new("invalid_type", "must be a string"))
}

pub(crate) fn boolean(value: &Value) -> Result<bool, FieldProblem> {
    value
        .as_bool()
        .ok_or_else(|| FieldProblem::new("invalid_type", "must be true or false"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(allow_hide_profile: bool) -> OrganisationSettings {
        OrganisationSettings {
            allow_hide_profile,
            ..OrganisationSettings::default()
        }
    }

    fn patched(body: Value, allow_hide: bool) -> Result<Preferences, ValidationErrors> {
        Preferences::for_new_member(&settings(allow_hide))
            .patched(body.as_object().unwrap(), &settings(allow_hide))
    }

    #[test]
    fn new_members_get_the_organisations_language_and_time_zone_and_the_system_theme() {
        let mut s = settings(false);
        s.default_language = Language::De;
        s.default_time_zone = TimeZone::try_from("Europe/Berlin").unwrap();
        let p = Preferences::for_new_member(&s);
        assert_eq!(p.language, Language::De);
        assert_eq!(p.time_zone.0.name(), "Europe/Berlin");
        assert_eq!(p.theme, Theme::System);
        assert!(!p.hide_profile);
    }

    #[test]
    fn all_eleven_languages_are_accepted_and_others_refused() {
        for code in [
            "en", "de", "fr", "it", "hu", "ja", "ro", "ru", "tr", "es", "zh",
        ] {
            assert_eq!(Language::try_from(code).unwrap().code(), code);
        }
        assert_eq!(
            Language::try_from("nl").unwrap_err().code,
            "unsupported_language"
        );
    }

    #[test]
    fn unknown_language_and_time_zone_are_named() {
        let errors = patched(
            json!({ "language": "xx", "time_zone": "Mars/Olympus" }),
            false,
        )
        .unwrap_err();
        assert_eq!(errors.fields(), ["language", "time_zone"]);
        assert_eq!(errors.0[1].code, "unknown_time_zone");
    }

    #[test]
    fn time_zones_with_half_and_quarter_hour_offsets_are_valid() {
        for zone in ["Asia/Kolkata", "Asia/Kathmandu", "America/New_York"] {
            assert!(TimeZone::try_from(zone).is_ok(), "{zone}");
        }
    }

    #[test]
    fn notifications_change_one_setting_at_a_time() {
        let p = patched(
            json!({ "notifications": { "daily_summary": true, "booking_confirmation": "email_with_ics" } }),
            false,
        )
        .unwrap();
        assert!(p.notifications.daily_summary);
        assert_eq!(
            p.notifications.booking_confirmation,
            BookingConfirmation::EmailWithIcs
        );
        assert!(
            p.notifications.checkin_reminder_email,
            "untouched settings keep their value"
        );
        let errors = patched(
            json!({ "notifications": { "daily_summary": "yes", "fax": true } }),
            false,
        )
        .unwrap_err();
        assert_eq!(
            errors.fields(),
            ["notifications.daily_summary", "notifications.fax"]
        );
    }

    #[test]
    fn hiding_the_profile_needs_the_organisations_permission() {
        assert_eq!(
            patched(json!({ "hide_profile": true }), false)
                .unwrap_err()
                .0[0]
                .code,
            "not_allowed"
        );
        assert!(
            patched(json!({ "hide_profile": true }), true)
                .unwrap()
                .hide_profile
        );
        assert!(
            !patched(json!({ "hide_profile": false }), false)
                .unwrap()
                .hide_profile
        );
        // Chosen while allowed, kept since: the preferences read back save again.
        let chosen = Preferences {
            hide_profile: true,
            ..Preferences::for_new_member(&settings(false))
        };
        let saved = chosen
            .patched(
                json!({ "hide_profile": true, "theme": "dark" })
                    .as_object()
                    .unwrap(),
                &settings(false),
            )
            .unwrap();
        assert!(saved.hide_profile);
        assert_eq!(saved.theme, Theme::Dark);
    }
}
