//! Organisations (tenants) and their settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    breached::UnreachableRangeApi,
    lockout::LockPolicy,
    membership::RoleGrant,
    preferences::{Language, TimeZone, boolean, text},
    scim::user::ScimAttributes,
    validation::{FieldProblem, ValidationErrors, bounded_text},
};

use crate::ids::OrganisationId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    pub settings: OrganisationSettings,
    /// The roles each SCIM group (by id) gives its members, as an Admin mapped them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scim_group_roles: BTreeMap<String, Vec<RoleGrant>>,
    pub version: u64,
}

impl Organisation {
    /// A new organisation (version 1) with no SCIM group mapped to roles.
    pub fn new(id: OrganisationId, name: String, settings: OrganisationSettings) -> Self {
        Self {
            id,
            name,
            settings,
            scim_group_roles: BTreeMap::new(),
            version: 1,
        }
    }

    /// Maps the SCIM group `group` to `roles`; an empty list removes its mapping. Refused when
    /// the mappings together would hold more than [`GROUP_ROLE_ENTRIES_MAX`] entries; a change
    /// that holds no more than before is always taken.
    pub fn map_group_roles(
        &mut self,
        group: &str,
        roles: Vec<RoleGrant>,
    ) -> Result<(), FieldProblem> {
        let before: usize = self.scim_group_roles.values().map(|g| entries(g)).sum();
        let replaced = self.scim_group_roles.get(group).map_or(0, |g| entries(g));
        let after = before - replaced + entries(&roles);
        if after > GROUP_ROLE_ENTRIES_MAX && after > before {
            return Err(FieldProblem::new(
                "too_many",
                format!(
                    "the organisation's group mappings may hold at most \
                     {GROUP_ROLE_ENTRIES_MAX} roles and sites together; this one would make them \
                     {after} (map fewer sites, or an organisation-wide role)"
                ),
            ));
        }
        if roles.is_empty() {
            self.scim_group_roles.remove(group);
        } else {
            self.scim_group_roles.insert(group.to_owned(), roles);
        }
        Ok(())
    }

    /// The SCIM groups (ids) that give at least one grant `matching`.
    pub fn groups_giving(&self, matching: impl Fn(&RoleGrant) -> bool) -> Vec<String> {
        self.scim_group_roles
            .iter()
            .filter(|(_, grants)| grants.iter().any(&matching))
            .map(|(group, _)| group.clone())
            .collect()
    }
}

/// The entries (each role grant, and each site it names) that the SCIM group mappings of an
/// organisation may hold together. The mappings live in the organisation's one item, which every
/// request reads and DynamoDB holds to 400 KB: at this bound they take at most about 120 KB.
pub const GROUP_ROLE_ENTRIES_MAX: usize = 2_000;

/// A mapping's entries: each grant, and each site it names.
fn entries(grants: &[RoleGrant]) -> usize {
    grants
        .iter()
        .map(|grant| 1 + grant.sites.as_ref().map_or(0, Vec::len))
        .sum()
}

/// How people of the organisation may log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginMethods {
    pub password: bool,
    pub sso: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationSettings {
    pub default_language: Language,
    pub default_time_zone: TimeZone,
    pub login_methods: LoginMethods,
    /// Whether people may hide their profile and bookings from colleagues.
    pub allow_hide_profile: bool,
    pub vehicles_enabled: bool,
    pub checkin_enabled: bool,
    pub booking_notifications_enabled: bool,
    /// Whether daily booking summaries are sent (to those who asked for them); see
    /// [`Self::sends_daily_summaries`]. `None` only in settings stored before the switch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_summaries_enabled: Option<bool>,
    /// Local hour (0-23) at which daily summaries go out.
    pub daily_summary_hour: u8,
    /// Whether password logins must use two-factor authentication.
    #[serde(default)]
    pub require_mfa: bool,
    /// What a password change does when the breached-password range API is unreachable.
    #[serde(default)]
    pub breached_check_unreachable: UnreachableRangeApi,
    /// When failed logins lock.
    #[serde(default)]
    pub lockout: LockPolicy,
    /// How long audit entries are kept, in days.
    #[serde(default = "default_audit_retention_days")]
    pub audit_retention_days: u32,
    /// Most rows an administrator's upload may hold (the daily sync drop has no limit).
    #[serde(default = "default_import_row_limit")]
    pub import_row_limit: u32,
    /// Most active users, in percent, a `replace` import may deactivate without being forced.
    #[serde(default = "default_import_deactivation_threshold")]
    pub import_deactivation_threshold_percent: u8,
    /// The profile attributes SCIM provisioning sets.
    #[serde(default)]
    pub scim_attributes: ScimAttributes,
}

fn default_audit_retention_days() -> u32 {
    365
}

fn default_import_row_limit() -> u32 {
    500
}

fn default_import_deactivation_threshold() -> u8 {
    20
}

impl Default for OrganisationSettings {
    fn default() -> Self {
        Self {
            default_language: Language::En,
            default_time_zone: TimeZone(chrono_tz::UTC),
            login_methods: LoginMethods {
                password: true,
                sso: false,
            },
            allow_hide_profile: false,
            vehicles_enabled: false,
            checkin_enabled: false,
            booking_notifications_enabled: true,
            daily_summaries_enabled: Some(true),
            daily_summary_hour: 18,
            require_mfa: false,
            breached_check_unreachable: UnreachableRangeApi::UseLocalList,
            audit_retention_days: default_audit_retention_days(),
            lockout: LockPolicy::default(),
            import_row_limit: default_import_row_limit(),
            import_deactivation_threshold_percent: default_import_deactivation_threshold(),
            scim_attributes: ScimAttributes::default(),
        }
    }
}

impl OrganisationSettings {
    /// Whether daily summaries go out. Settings stored before they had a switch of their own
    /// follow the booking notices, as summaries did then.
    pub fn sends_daily_summaries(&self) -> bool {
        self.daily_summaries_enabled
            .unwrap_or(self.booking_notifications_enabled)
    }

    /// Applies a JSON object of changes; every invalid field is named as `settings.<key>`.
    pub fn patched(&self, body: &Map<String, Value>) -> Result<Self, ValidationErrors> {
        let mut next = self.clone();
        let mut errors = ValidationErrors::default();
        for (key, value) in body {
            let field = format!("settings.{key}");
            match key.as_str() {
                "default_language" => {
                    if let Some(v) =
                        errors.collect(&field, text(value).and_then(Language::try_from))
                    {
                        next.default_language = v;
                    }
                }
                "default_time_zone" => {
                    if let Some(v) =
                        errors.collect(&field, text(value).and_then(TimeZone::try_from))
                    {
                        next.default_time_zone = v;
                    }
                }
                "login_methods" => {
                    if let Some(v) =
                        errors.collect(&field, login_methods(value, next.login_methods))
                    {
                        next.login_methods = v;
                    }
                }
                "lockout" => {
                    if let Some(policy) = errors.collect(&field, lock_policy(value, next.lockout)) {
                        next.lockout = policy;
                    }
                }
                "audit_retention_days" => {
                    let days = value
                        .as_u64()
                        .filter(|d| (1..=3650).contains(d))
                        .map(|d| d as u32)
                        .ok_or_else(|| FieldProblem::new("invalid_days", "must be 1 to 3650 days"));
                    if let Some(days) = errors.collect(&field, days) {
                        next.audit_retention_days = days;
                    }
                }
                "import_row_limit" => {
                    let limit = value
                        .as_u64()
                        .filter(|l| (1..=100_000).contains(l))
                        .map(|l| l as u32)
                        .ok_or_else(|| {
                            FieldProblem::new("invalid_limit", "must be 1 to 100000 rows")
                        });
                    if let Some(limit) = errors.collect(&field, limit) {
                        next.import_row_limit = limit;
                    }
                }
                "import_deactivation_threshold_percent" => {
                    let percent = value
                        .as_u64()
                        .filter(|p| *p <= 100)
                        .map(|p| p as u8)
                        .ok_or_else(|| FieldProblem::new("invalid_percent", "must be 0 to 100"));
                    if let Some(percent) = errors.collect(&field, percent) {
                        next.import_deactivation_threshold_percent = percent;
                    }
                }
                "scim_attributes" => {
                    if let Some(taken) = errors.collect(&field, ScimAttributes::parse(value)) {
                        next.scim_attributes = taken;
                    }
                }
                "daily_summary_hour" => {
                    if let Some(v) = errors.collect(&field, hour(value)) {
                        next.daily_summary_hour = v;
                    }
                }
                "breached_check_unreachable" => {
                    let choice = text(value).and_then(|v| match v {
                        "use_local_list" => Ok(UnreachableRangeApi::UseLocalList),
                        "refuse" => Ok(UnreachableRangeApi::Refuse),
                        _ => Err(FieldProblem::new(
                            "invalid_choice",
                            "must be use_local_list or refuse",
                        )),
                    });
                    if let Some(v) = errors.collect(&field, choice) {
                        next.breached_check_unreachable = v;
                    }
                }
                "daily_summaries_enabled" => {
                    if let Some(v) = errors.collect(&field, boolean(value)) {
                        next.daily_summaries_enabled = Some(v);
                    }
                }
                "allow_hide_profile"
                | "vehicles_enabled"
                | "checkin_enabled"
                | "booking_notifications_enabled"
                | "require_mfa" => {
                    let flag = match key.as_str() {
                        "allow_hide_profile" => &mut next.allow_hide_profile,
                        "vehicles_enabled" => &mut next.vehicles_enabled,
                        "checkin_enabled" => &mut next.checkin_enabled,
                        "require_mfa" => &mut next.require_mfa,
                        _ => &mut next.booking_notifications_enabled,
                    };
                    if let Some(v) = errors.collect(&field, boolean(value)) {
                        *flag = v;
                    }
                }
                _ => errors.push(
                    field,
                    "unknown_field",
                    format!("{key} is not an organisation setting"),
                ),
            }
        }
        errors.into_result(next)
    }
}

fn login_methods(value: &Value, current: LoginMethods) -> Result<LoginMethods, FieldProblem> {
    let object = value.as_object().ok_or_else(|| {
        FieldProblem::new("invalid_type", "must be an object with password and sso")
    })?;
    let mut next = current;
    for (key, flag) in object {
        let flag = boolean(flag)?;
        match key.as_str() {
            "password" => next.password = flag,
            "sso" => next.sso = flag,
            _ => {
                return Err(FieldProblem::new(
                    "unknown_field",
                    format!("{key} is not a login method"),
                ));
            }
        }
    }
    if !next.password && !next.sso {
        return Err(FieldProblem::new(
            "no_login_method",
            "at least one login method must stay enabled",
        ));
    }
    Ok(next)
}

fn lock_policy(value: &Value, current: LockPolicy) -> Result<LockPolicy, FieldProblem> {
    let object = value.as_object().ok_or_else(|| {
        FieldProblem::new(
            "invalid_type",
            "must be an object with free_failures and max_wait_minutes",
        )
    })?;
    let mut next = current;
    for (key, number) in object {
        let (target, range) = match key.as_str() {
            "free_failures" => (&mut next.free_failures, LockPolicy::FREE_FAILURES_RANGE),
            "max_wait_minutes" => (&mut next.max_wait_minutes, LockPolicy::MAX_WAIT_RANGE),
            _ => {
                return Err(FieldProblem::new(
                    "unknown_field",
                    format!("{key} is not a lockout setting"),
                ));
            }
        };
        *target = number
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                FieldProblem::new(
                    "out_of_range",
                    format!("{key} must be {} to {}", range.start(), range.end()),
                )
            })?;
    }
    Ok(next)
}

fn hour(value: &Value) -> Result<u8, FieldProblem> {
    value
        .as_u64()
        .filter(|h| *h < 24)
        .map(|h| h as u8)
        .ok_or_else(|| FieldProblem::new("invalid_hour", "must be a whole hour from 0 to 23"))
}

/// An organisation's name: 2 to 100 characters.
pub fn organisation_name(value: &Value) -> Result<String, FieldProblem> {
    bounded_text(text(value)?, 2, 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patched(body: Value) -> Result<OrganisationSettings, ValidationErrors> {
        OrganisationSettings::default().patched(body.as_object().unwrap())
    }

    fn grants(count: usize, sites: usize) -> Vec<RoleGrant> {
        (0..count)
            .map(|i| RoleGrant {
                role: crate::membership::Role::UserManagement,
                sites: Some((0..sites).map(|s| format!("site-{i}-{s}")).collect()),
            })
            .collect()
    }

    #[test]
    fn group_mappings_stop_at_their_bound_and_can_always_shrink() {
        let mut organisation = Organisation::new(
            OrganisationId::generate(),
            "Acme".to_owned(),
            OrganisationSettings::default(),
        );
        // 20 grants naming 99 sites each: 2,000 entries, the bound.
        organisation.map_group_roles("g1", grants(20, 99)).unwrap();
        let full = organisation.clone();
        let refused = organisation
            .map_group_roles("g2", grants(1, 0))
            .unwrap_err();
        assert_eq!(refused.code, "too_many");
        assert!(refused.message.contains("2001"), "{}", refused.message);
        assert_eq!(organisation, full, "a refused mapping changes nothing");

        // A group's own mapping is replaced, not added to.
        organisation.map_group_roles("g1", grants(19, 99)).unwrap();
        organisation.map_group_roles("g2", grants(1, 99)).unwrap();
        assert_eq!(organisation.scim_group_roles.len(), 2);

        // Above the bound (as stored before it), a change that does not grow is taken.
        organisation
            .scim_group_roles
            .insert("g3".to_owned(), grants(5, 0));
        organisation.map_group_roles("g3", grants(4, 0)).unwrap();
        organisation.map_group_roles("g3", vec![]).unwrap();
        assert!(!organisation.scim_group_roles.contains_key("g3"));
    }

    #[test]
    fn defaults_are_english_utc_password_login_and_an_18_oclock_summary() {
        let s = OrganisationSettings::default();
        assert_eq!(s.default_language, Language::En);
        assert_eq!(s.default_time_zone.0.name(), "UTC");
        assert!(s.login_methods.password && !s.login_methods.sso);
        assert_eq!(s.daily_summary_hour, 18);
    }

    #[test]
    fn settings_stored_before_the_summary_switch_send_summaries_as_they_did() {
        for booking_notices in [true, false] {
            let mut stored = serde_json::to_value(OrganisationSettings {
                booking_notifications_enabled: booking_notices,
                ..OrganisationSettings::default()
            })
            .unwrap();
            stored
                .as_object_mut()
                .unwrap()
                .remove("daily_summaries_enabled");
            let read: OrganisationSettings = serde_json::from_value(stored).unwrap();
            assert_eq!(read.sends_daily_summaries(), booking_notices);
        }
        assert!(OrganisationSettings::default().sends_daily_summaries());
        let off = patched(
            json!({ "daily_summaries_enabled": false, "booking_notifications_enabled": true }),
        );
        assert!(!off.unwrap().sends_daily_summaries());
    }

    #[test]
    fn settings_change_individually() {
        let s = patched(json!({
            "default_language": "fr",
            "default_time_zone": "Europe/Paris",
            "vehicles_enabled": true,
            "daily_summary_hour": 17,
            "login_methods": { "sso": true }
        }))
        .unwrap();
        assert_eq!(s.default_language, Language::Fr);
        assert!(s.vehicles_enabled);
        assert_eq!(s.daily_summary_hour, 17);
        assert!(s.login_methods.password && s.login_methods.sso);
    }

    #[test]
    fn two_factor_enforcement_and_the_breach_check_fallback_are_settings() {
        let s = patched(json!({ "require_mfa": true, "breached_check_unreachable": "refuse" }))
            .unwrap();
        assert!(s.require_mfa);
        assert_eq!(s.breached_check_unreachable, UnreachableRangeApi::Refuse);
        assert!(patched(json!({ "breached_check_unreachable": "maybe" })).is_err());
    }

    #[test]
    fn lockout_thresholds_are_settings_within_bounds() {
        let s = patched(json!({ "lockout": { "free_failures": 3 } })).unwrap();
        assert_eq!(
            s.lockout,
            LockPolicy {
                free_failures: 3,
                max_wait_minutes: 15
            }
        );
        for looser_or_unusable in [
            json!({ "free_failures": 1 }),
            json!({ "free_failures": 6 }),
            json!({ "max_wait_minutes": 14 }),
            json!({ "max_wait_minutes": 61 }),
        ] {
            let errors = patched(json!({ "lockout": looser_or_unusable })).unwrap_err();
            assert_eq!(errors.0[0].code, "out_of_range");
        }
        let stricter = patched(json!({ "lockout": { "max_wait_minutes": 60 } })).unwrap();
        assert_eq!(stricter.lockout.max_wait_minutes, 60);
    }

    #[test]
    fn invalid_settings_are_named() {
        let errors = patched(json!({
            "daily_summary_hour": 24,
            "vehicles_enabled": "yes",
            "login_methods": { "password": false },
            "colour": "red"
        }))
        .unwrap_err();
        let mut fields = errors.fields();
        fields.sort();
        assert_eq!(
            fields,
            [
                "settings.colour",
                "settings.daily_summary_hour",
                "settings.login_methods",
                "settings.vehicles_enabled"
            ]
        );
    }
}
