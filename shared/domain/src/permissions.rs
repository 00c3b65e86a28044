//! Who may administer whom (the seeds' rules):
//! - Admin can do everything in the organisation; only the platform operator grants Admin.
//! - Only an Admin grants User Management.
//! - User Management manages users and grants the other roles, within its sites when scoped.
//! - Deactivating (or reactivating) a user needs User Management on every site the user has.
//! - Every other role has no administration rights.

use crate::membership::{Role, RoleGrant};

/// The sites a grant covers: `None` is organisation-wide.
fn covers(actor_sites: &Option<Vec<String>>, sites: &Option<Vec<String>>) -> bool {
    match (actor_sites, sites) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(actor), Some(sites)) => sites.iter().all(|s| actor.contains(s)),
    }
}

pub fn is_admin(roles: &[RoleGrant]) -> bool {
    roles.iter().any(|g| g.role == Role::Admin)
}

/// Whether the roles allow administration at all (the admin endpoints).
pub fn can_administer(roles: &[RoleGrant]) -> bool {
    roles
        .iter()
        .any(|g| matches!(g.role, Role::Admin | Role::UserManagement))
}

/// Whether the actor administers the whole organisation: an Admin, or User Management on every
/// site. Imports and the audit log are theirs alone.
pub fn administers_whole_organisation(actor: &[RoleGrant]) -> bool {
    user_management_sites(actor).is_none()
}

/// The sites the actor manages users on: `None` for all of them, `Some(empty)` for none.
fn user_management_sites(roles: &[RoleGrant]) -> Option<Vec<String>> {
    if roles
        .iter()
        .any(|g| g.role == Role::Admin || (g.role == Role::UserManagement && g.sites.is_none()))
    {
        return None;
    }
    Some(
        roles
            .iter()
            .filter(|g| g.role == Role::UserManagement)
            .flat_map(|g| g.sites.clone().unwrap_or_default())
            .collect(),
    )
}

/// Whether the actor may give (or take away) `grant`.
pub fn can_grant(actor: &[RoleGrant], grant: &RoleGrant) -> bool {
    match grant.role {
        Role::Admin => false,
        Role::UserManagement => is_admin(actor),
        _ => can_administer(actor) && covers(&user_management_sites(actor), &grant.sites),
    }
}

/// Whether the actor may manage a user with `roles` who has `sites` (edit, invite, reset): a user
/// holding Admin or User Management only by an Admin; others by User Management covering at least
/// one of their sites (all of them when organisation-wide).
pub fn can_manage(actor: &[RoleGrant], target_roles: &[RoleGrant], sites: &[String]) -> bool {
    let target_administers = target_roles
        .iter()
        .any(|g| matches!(g.role, Role::Admin | Role::UserManagement));
    if target_administers && !is_admin(actor) {
        return false;
    }
    match user_management_sites(actor) {
        None => true,
        Some(managed) => can_administer(actor) && sites.iter().any(|s| managed.contains(s)),
    }
}

/// Whether the actor may act on the credentials of a user who holds `target_roles` and has
/// `sites` (move their login email, remove their 2FA, give a PIN, send a reset link, clear their
/// lockout): as
/// [`can_manage`], and, short of an Admin, the actor could give every site the user has and
/// every role beyond Member the user holds. Whoever holds the credentials holds the roles and
/// the sites: a User Manager of one site reaching the account of someone who is Billing
/// everywhere would become Billing everywhere, and of a Member of Berlin and Paris would book
/// in Paris.
pub fn can_act_on_credentials(
    actor: &[RoleGrant],
    target_roles: &[RoleGrant],
    sites: &[String],
) -> bool {
    can_manage(actor, target_roles, sites)
        && (is_admin(actor)
            || can_assign_sites(actor, sites)
                && target_roles
                    .iter()
                    .all(|g| g.role == Role::Member || can_grant(actor, g)))
}

/// Whether the actor may give or take away these sites: all of them within its scope.
pub fn can_assign_sites(actor: &[RoleGrant], sites: &[String]) -> bool {
    match user_management_sites(actor) {
        None => true,
        Some(managed) => can_administer(actor) && sites.iter().all(|s| managed.contains(s)),
    }
}

/// The sites a scoped User Management actor manages (`None` when organisation-wide).
pub fn managed_sites(actor: &[RoleGrant]) -> Option<Vec<String>> {
    user_management_sites(actor)
}

/// Whether the actor may deactivate or reactivate a user who holds `target_roles` and has
/// `sites`: User Management on every one of those sites, and on every site of the organisation
/// when the user holds a role beyond Member organisation-wide (one a scoped actor could not take
/// away either, see [`can_grant`]).
pub fn can_deactivate(actor: &[RoleGrant], target_roles: &[RoleGrant], sites: &[String]) -> bool {
    match user_management_sites(actor) {
        None => true,
        Some(managed) => {
            let works_everywhere = target_roles
                .iter()
                .any(|g| g.sites.is_none() && g.role != Role::Member);
            can_administer(actor)
                && !works_everywhere
                && !sites.is_empty()
                && sites.iter().all(|s| managed.contains(s))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: Role, sites: Option<&[&str]>) -> RoleGrant {
        RoleGrant {
            role,
            sites: sites.map(|s| s.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    fn sites(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn credentials_are_reached_only_by_who_could_give_every_role_they_carry() {
        let berlin_um = [grant(Role::UserManagement, Some(&["berlin"]))];
        let member_here = [grant(Role::Member, None)];
        let manager_here = [grant(Role::Manager, Some(&["berlin"]))];
        let billing_everywhere = [grant(Role::Billing, None)];
        let manager_in_paris = [
            grant(Role::Member, None),
            grant(Role::Manager, Some(&["paris"])),
        ];
        let berlin = sites(&["berlin"]);
        let both = sites(&["berlin", "paris"]);
        assert!(can_act_on_credentials(&berlin_um, &member_here, &berlin));
        assert!(can_act_on_credentials(&berlin_um, &manager_here, &berlin));
        // Managed (one site in common), but the account carries roles beyond Berlin.
        assert!(can_manage(&berlin_um, &billing_everywhere, &berlin));
        assert!(!can_act_on_credentials(
            &berlin_um,
            &billing_everywhere,
            &berlin
        ));
        assert!(!can_act_on_credentials(
            &berlin_um,
            &manager_in_paris,
            &both
        ));
        // A Member of Berlin and Paris: managed, but the login books in Paris too.
        assert!(can_manage(&berlin_um, &member_here, &both));
        assert!(!can_act_on_credentials(&berlin_um, &member_here, &both));
        // Organisation-wide User Management and Admins reach them.
        let um = [grant(Role::UserManagement, None)];
        assert!(can_act_on_credentials(&um, &billing_everywhere, &berlin));
        assert!(can_act_on_credentials(&um, &member_here, &both));
        let admin = [grant(Role::Admin, None)];
        let another_admin = [grant(Role::Admin, None)];
        assert!(can_act_on_credentials(&admin, &another_admin, &berlin));
        assert!(!can_act_on_credentials(&um, &another_admin, &berlin));
    }

    #[test]
    fn nobody_grants_admin_through_the_organisation() {
        let admin = [grant(Role::Admin, None)];
        assert!(!can_grant(&admin, &grant(Role::Admin, None)));
    }

    #[test]
    fn only_an_admin_grants_user_management() {
        let admin = [grant(Role::Admin, None)];
        let um = [grant(Role::UserManagement, None)];
        assert!(can_grant(
            &admin,
            &grant(Role::UserManagement, Some(&["berlin"]))
        ));
        assert!(!can_grant(
            &um,
            &grant(Role::UserManagement, Some(&["berlin"]))
        ));
    }

    #[test]
    fn user_management_grants_other_roles_within_its_sites() {
        let scoped = [grant(Role::UserManagement, Some(&["berlin", "paris"]))];
        assert!(can_grant(&scoped, &grant(Role::Manager, Some(&["berlin"]))));
        assert!(!can_grant(&scoped, &grant(Role::Manager, Some(&["rome"]))));
        assert!(
            !can_grant(&scoped, &grant(Role::Manager, None)),
            "organisation-wide needs organisation-wide"
        );
        assert!(can_grant(
            &[grant(Role::UserManagement, None)],
            &grant(Role::Billing, None)
        ));
    }

    #[test]
    fn other_roles_administer_nothing() {
        for role in [
            Role::Manager,
            Role::Billing,
            Role::Operations,
            Role::Reporting,
            Role::Member,
        ] {
            let actor = [grant(role, None)];
            assert!(!can_administer(&actor));
            assert!(!can_grant(&actor, &grant(Role::Member, None)));
            assert!(!can_manage(&actor, &[], &[]));
            assert!(!can_deactivate(&actor, &[], &sites(&["berlin"])));
        }
    }

    #[test]
    fn only_an_admin_manages_admins_and_user_managers() {
        let um = [grant(Role::UserManagement, None)];
        let admin = [grant(Role::Admin, None)];
        for target in [
            grant(Role::Admin, None),
            grant(Role::UserManagement, Some(&["berlin"])),
        ] {
            assert!(!can_manage(&um, std::slice::from_ref(&target), &[]));
            assert!(can_manage(&admin, &[target], &[]));
        }
        assert!(can_manage(&um, &[grant(Role::Member, None)], &[]));
    }

    #[test]
    fn scoped_user_management_manages_only_users_and_sites_in_its_scope() {
        let scoped = [grant(Role::UserManagement, Some(&["berlin"]))];
        let member = [grant(Role::Member, None)];
        assert!(can_manage(&scoped, &member, &sites(&["berlin", "paris"])));
        assert!(!can_manage(&scoped, &member, &sites(&["paris"])));
        assert!(
            !can_manage(&scoped, &member, &[]),
            "a user without sites is organisation-wide business"
        );
        assert!(can_assign_sites(&scoped, &sites(&["berlin"])));
        assert!(!can_assign_sites(&scoped, &sites(&["berlin", "paris"])));
    }

    #[test]
    fn deactivating_needs_user_management_on_every_site_of_the_user() {
        let scoped = [grant(Role::UserManagement, Some(&["berlin"]))];
        let member = [grant(Role::Member, None)];
        assert!(can_deactivate(&scoped, &member, &sites(&["berlin"])));
        assert!(!can_deactivate(
            &scoped,
            &member,
            &sites(&["berlin", "paris"])
        ));
        assert!(
            !can_deactivate(&scoped, &member, &[]),
            "a user without sites needs organisation-wide rights"
        );
        assert!(can_deactivate(
            &[grant(Role::UserManagement, None)],
            &member,
            &sites(&["berlin", "paris"])
        ));
        assert!(can_deactivate(&[grant(Role::Admin, None)], &member, &[]));
    }

    #[test]
    fn someone_with_a_role_on_every_site_is_deactivated_only_by_organisation_wide_rights() {
        let scoped = [grant(Role::UserManagement, Some(&["berlin"]))];
        let manager_everywhere = [grant(Role::Member, None), grant(Role::Manager, None)];
        assert!(!can_deactivate(
            &scoped,
            &manager_everywhere,
            &sites(&["berlin"])
        ));
        assert!(can_deactivate(
            &scoped,
            &[grant(Role::Manager, Some(&["berlin"]))],
            &sites(&["berlin"])
        ));
        assert!(can_deactivate(
            &[grant(Role::UserManagement, None)],
            &manager_everywhere,
            &sites(&["berlin"])
        ));
    }
}
