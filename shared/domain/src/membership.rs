//! A person's membership in an organisation: the organisation's profile of them, their roles,
//! status and preferences. One account (person) can hold memberships in several organisations.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::{
    ids::{AccountId, OrganisationId, UserId},
    organisation::{Organisation, OrganisationSettings},
    preferences::{Preferences, hidden_from_colleagues},
    profile::Profile,
    validation::FieldProblem,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    UserManagement,
    Manager,
    Billing,
    Operations,
    Reporting,
    Member,
}

/// A role, organisation-wide (`sites: None`) or on the listed sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGrant {
    pub role: Role,
    pub sites: Option<Vec<String>>,
}

impl RoleGrant {
    pub fn organisation_wide(role: Role) -> Self {
        Self { role, sites: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Deactivated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Deactivated => "deactivated",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    NotInvited,
    Pending,
    Confirmed,
}

/// A login name for people without email: 2 to 50 letters, digits, `.`, `_`, `-`; unique in the
/// organisation ignoring case and width (NFKC: `ｊａｎ` is `jan`); never changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Username {
    display: String,
    normalised: String,
}

impl Username {
    pub fn display(&self) -> &str {
        &self.display
    }

    pub fn normalised(&self) -> &str {
        &self.normalised
    }

    /// The key `value` is unique by, valid or not: NFKC (full-width letters and digits, a letter
    /// and its accent typed apart, as their one character), then lower case.
    pub fn normalise(value: &str) -> String {
        value.trim().nfkc().collect::<String>().to_lowercase()
    }
}

impl TryFrom<&str> for Username {
    type Error = FieldProblem;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        let display: String = value.trim().nfkc().collect();
        if !(2..=50).contains(&display.chars().count()) {
            return Err(FieldProblem::new(
                "invalid_length",
                "must be 2 to 50 characters",
            ));
        }
        if !display
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(FieldProblem::new(
                "invalid_username",
                "may only contain letters, digits, '.', '_' and '-'",
            ));
        }
        Ok(Self {
            normalised: Self::normalise(&display),
            display,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub id: UserId,
    pub organisation_id: OrganisationId,
    pub account_id: AccountId,
    pub username: Option<Username>,
    pub profile: Profile,
    pub avatar_key: Option<String>,
    pub roles: Vec<RoleGrant>,
    pub status: Status,
    pub invitation_status: InvitationStatus,
    pub preferences: Preferences,
    /// Sites (locations, properties) the person may use, and the one shown first.
    #[serde(default)]
    pub sites: Vec<String>,
    #[serde(default)]
    pub default_site: Option<String>,
    /// SHA-256 of the one invitation link that currently works (a resend replaces it).
    #[serde(default)]
    pub invitation_token_hash: Option<String>,
    /// The import that last created or changed the person, so a resumed run can tell its own
    /// earlier writes from changes made by others.
    #[serde(default)]
    pub last_import: Option<crate::ids::ImportId>,
    /// The row of `last_import` that wrote the person (a later row naming them is a duplicate).
    #[serde(default)]
    pub last_import_row: Option<u64>,
    /// The import that created the person, if one did.
    #[serde(default)]
    pub created_by_import: Option<crate::ids::ImportId>,
    /// The SCIM User document, when an identity provider provisioned the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim: Option<crate::scim::user::ScimUser>,
    /// Ids of the SCIM groups that list the person; the organisation's `scim_group_roles` says
    /// which roles each gives.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub scim_groups: BTreeSet<String>,
    /// Raised each time the membership stops being active: its sessions started below it are
    /// over, and stay over when it is active again.
    #[serde(default)]
    pub session_epoch: u64,
    /// Deactivated by a `replace` import whose file did not list the person: a later file that
    /// lists them again makes them active. Any other change of status clears it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deactivated_by_import: bool,
    /// Raised by every write; writes are conditional on the version they read.
    pub version: u64,
}

impl Membership {
    /// A new, active member of `organisation` (version 1) with the organisation's preferences.
    pub fn joining(
        organisation: &Organisation,
        account_id: AccountId,
        profile: Profile,
        username: Option<Username>,
        roles: Vec<RoleGrant>,
        invitation_status: InvitationStatus,
    ) -> Self {
        Self {
            id: UserId::generate(),
            organisation_id: organisation.id.clone(),
            account_id,
            username,
            profile,
            avatar_key: None,
            roles,
            status: Status::Active,
            invitation_status,
            preferences: Preferences::for_new_member(&organisation.settings),
            sites: vec![],
            default_site: None,
            invitation_token_hash: None,
            last_import: None,
            last_import_row: None,
            created_by_import: None,
            scim: None,
            scim_groups: BTreeSet::new(),
            session_epoch: 0,
            deactivated_by_import: false,
            version: 1,
        }
    }

    /// The roles the person holds in `organisation`: those given to them directly, then those
    /// their SCIM groups give (each grant once).
    pub fn roles_in(&self, organisation: &Organisation) -> Vec<RoleGrant> {
        let mut roles = self.roles.clone();
        let from_groups = self
            .scim_groups
            .iter()
            .filter_map(|group| organisation.scim_group_roles.get(group))
            .flatten();
        for grant in from_groups {
            if !roles.contains(grant) {
                roles.push(grant.clone());
            }
        }
        roles
    }

    /// Every site the person has in `organisation`: their own and those their roles are scoped
    /// to, group-given roles included.
    pub fn sites_in(&self, organisation: &Organisation) -> Vec<String> {
        sites_of(&self.sites, &self.roles_in(organisation))
    }

    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }

    /// Whether a session may be in this membership: active, and the invitation accepted.
    pub fn can_sign_in(&self) -> bool {
        self.is_active() && self.invitation_status == InvitationStatus::Confirmed
    }

    /// The `session_epoch` of this membership's next version when that has `status`: one
    /// higher when it stops being active (ending every session it has), else unchanged.
    pub fn next_session_epoch(&self, status: Status) -> u64 {
        self.session_epoch + u64::from(self.is_active() && status != Status::Active)
    }

    /// This membership with `status` (its version not raised): a deactivation raises the
    /// session epoch, ending its sessions; `by_import` marks a deactivation that a later import
    /// file listing the person undoes, and any other change of status clears the mark.
    pub fn with_status(&self, status: Status, by_import: bool) -> Self {
        Self {
            status,
            session_epoch: self.next_session_epoch(status),
            deactivated_by_import: by_import && status == Status::Deactivated,
            ..self.clone()
        }
    }

    /// Every site the person has: their own and those their roles are scoped to.
    pub fn all_sites(&self) -> Vec<String> {
        sites_of(&self.sites, &self.roles)
    }

    /// The membership after an invitation link (SHA-256 `token_hash`) was issued: the one link
    /// that works; the person is `pending` until they accept, unless they already confirmed and
    /// have a password (a resend to someone who can log in changes nothing else).
    pub fn invited(&self, token_hash: String, has_password: bool) -> Self {
        Self {
            invitation_token_hash: Some(token_hash),
            invitation_status: match self.invitation_status {
                InvitationStatus::Confirmed if has_password => InvitationStatus::Confirmed,
                _ => InvitationStatus::Pending,
            },
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// This membership with its invitation link withdrawn (its version not raised): a
    /// `pending` person is `not invited` again.
    pub fn without_invitation_link(self) -> Self {
        Self {
            invitation_token_hash: None,
            invitation_status: match self.invitation_status {
                InvitationStatus::Pending => InvitationStatus::NotInvited,
                other => other,
            },
            ..self
        }
    }

    /// This membership, without its invitation link when its email is no longer `before`'s
    /// (letter case aside): a link sent to the old address must not confirm the new one.
    pub fn withdrawing_invitation_if_email_moved(self, before: &Membership) -> Self {
        let normalised =
            |m: &Membership| m.profile.email.as_ref().map(|e| e.normalised().to_owned());
        if normalised(&self) == normalised(before) {
            self
        } else {
            self.without_invitation_link()
        }
    }

    /// Whether colleagues can find this person in the directory and see whom their bookings
    /// are for, in an organisation of `settings`.
    pub fn is_listed(&self, settings: &OrganisationSettings) -> bool {
        self.is_active() && !hidden_from_colleagues(self.preferences.hide_profile, settings)
    }
}

/// `own` sites followed by the other sites `roles` are scoped to, each once.
pub fn sites_of(own: &[String], roles: &[RoleGrant]) -> Vec<String> {
    let mut sites = own.to_vec();
    for site in roles.iter().flat_map(|g| g.sites.iter().flatten()) {
        if !sites.contains(site) {
            sites.push(site.clone());
        }
    }
    sites
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new, active member of a new organisation.
    fn ada() -> Membership {
        let organisation = Organisation::new(
            crate::ids::OrganisationId::generate(),
            "Acme".into(),
            Default::default(),
        );
        Membership::joining(
            &organisation,
            AccountId::generate(),
            Profile::named("Ada".into(), "L".into(), None),
            None,
            vec![],
            InvitationStatus::NotInvited,
        )
    }

    #[test]
    fn who_chose_to_hide_is_listed_while_the_organisation_does_not_let_people_hide() {
        let allowing = |allow_hide_profile| OrganisationSettings {
            allow_hide_profile,
            ..OrganisationSettings::default()
        };
        let mut person = ada();
        assert!(person.is_listed(&allowing(true)));
        person.preferences.hide_profile = true;
        assert!(!person.is_listed(&allowing(true)));
        assert!(
            person.is_listed(&allowing(false)),
            "the choice does nothing while hiding is not allowed"
        );
        person.status = Status::Deactivated;
        assert!(!person.is_listed(&allowing(false)));
    }

    #[test]
    fn only_leaving_active_raises_the_session_epoch() {
        let mut person = ada();
        assert_eq!(person.next_session_epoch(Status::Active), 0);
        assert_eq!(person.next_session_epoch(Status::Deactivated), 1);
        person.status = Status::Deactivated;
        person.session_epoch = 1;
        assert_eq!(person.next_session_epoch(Status::Deactivated), 1);
        assert_eq!(person.next_session_epoch(Status::Active), 1, "reactivation");
    }

    #[test]
    fn only_an_imports_deactivation_is_marked_for_a_later_file_to_undo() {
        let person = ada();
        let dropped = person.with_status(Status::Deactivated, true);
        assert_eq!(
            (
                dropped.status,
                dropped.session_epoch,
                dropped.deactivated_by_import
            ),
            (Status::Deactivated, 1, true)
        );
        assert!(
            !dropped
                .with_status(Status::Deactivated, false)
                .deactivated_by_import
        );
        let back = dropped.with_status(Status::Active, true);
        assert_eq!((back.session_epoch, back.deactivated_by_import), (1, false));
        assert_eq!(back.version, person.version, "the version is the caller's");
    }

    #[test]
    fn scim_groups_add_the_roles_the_organisation_maps_to_them() {
        let mut organisation = Organisation::new(
            crate::ids::OrganisationId::generate(),
            "Acme".into(),
            Default::default(),
        );
        let managers = RoleGrant {
            role: Role::Manager,
            sites: Some(vec!["berlin".into()]),
        };
        let member = RoleGrant::organisation_wide(Role::Member);
        organisation
            .scim_group_roles
            .insert("g-managers".into(), vec![managers.clone(), member.clone()]);
        let mut person = Membership::joining(
            &organisation,
            AccountId::generate(),
            Profile::named("Ada".into(), "L".into(), None),
            None,
            vec![member.clone()],
            InvitationStatus::NotInvited,
        );
        person.scim_groups.insert("g-unmapped".into());
        assert_eq!(
            person.roles_in(&organisation),
            std::slice::from_ref(&member)
        );
        person.scim_groups.insert("g-managers".into());
        assert_eq!(person.roles_in(&organisation), [member, managers]);
        assert_eq!(person.sites_in(&organisation), ["berlin"]);
        assert!(
            person.all_sites().is_empty(),
            "own sites stay the person's own"
        );
    }

    #[test]
    fn usernames_compare_ignoring_case() {
        let name = Username::try_from(" JanJ ").unwrap();
        assert_eq!(name.display(), "JanJ");
        assert_eq!(name.normalised(), "janj");
        assert!(Username::try_from("j").is_err());
        assert!(Username::try_from("jan j").is_err());
    }

    #[test]
    fn usernames_compare_ignoring_width_and_how_an_accent_was_typed() {
        let wide = Username::try_from("ＪａｎＪ").unwrap();
        assert_eq!(wide.display(), "JanJ");
        assert_eq!(wide.normalised(), "janj");
        // `e` and a combining acute accent: one letter, not a letter and a mark.
        let apart = Username::try_from("Rene\u{301}").unwrap();
        assert_eq!(apart.display(), "René");
        assert_eq!(
            apart.normalised(),
            Username::try_from("rené").unwrap().normalised()
        );
        assert_eq!(Username::normalise(" ＪａｎＪ "), "janj");
    }
}
