//! The organisations, people and site names a batch of due reservations needs, read in as few
//! calls as the batch allows: one `BatchGetItem` of organisations, one of people per
//! organisation (per 100), one `Query` of sites per organisation. An organisation or person that
//! does not read is left out (logged), and their reservations passed over, while everyone
//! else's are served; a site whose name does not read is named by its id.

use std::collections::{BTreeMap, BTreeSet};

use roster_domain::{
    ids::{OrganisationId, UserId},
    membership::Membership,
    organisation::Organisation,
    reservation::Reservation,
};
use roster_store::{DynamoTable, StoreError};

pub struct Addressees {
    organisations: BTreeMap<OrganisationId, Organisation>,
    people: BTreeMap<(OrganisationId, UserId), Membership>,
    site_names: BTreeMap<(OrganisationId, String), String>,
}

impl Addressees {
    pub async fn of(table: &DynamoTable, due: &[&Reservation]) -> Result<Self, StoreError> {
        let mut wanted: BTreeMap<&OrganisationId, BTreeSet<&UserId>> = BTreeMap::new();
        for reservation in due {
            wanted
                .entry(&reservation.organisation_id)
                .or_default()
                .insert(&reservation.user_id);
        }
        let organisations: BTreeMap<_, _> = table
            .readable_organisations(wanted.keys().copied())
            .await?
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        let mut people = BTreeMap::new();
        let mut site_names = BTreeMap::new();
        for (organisation, users) in wanted {
            if !organisations.contains_key(organisation) {
                continue;
            }
            let users: Vec<UserId> = users.into_iter().cloned().collect();
            for person in table
                .readable_memberships_by_id(organisation, &users)
                .await?
            {
                people.insert((organisation.clone(), person.id.clone()), person);
            }
            // Sites that do not read are named by their id.
            let sites = match table.sites(organisation).await {
                Ok(sites) => sites,
                Err(error @ StoreError::Corrupt(_)) => {
                    tracing::error!(%organisation, %error, "an organisation's site names left out");
                    vec![]
                }
                Err(error) => return Err(error),
            };
            for site in sites {
                site_names.insert((organisation.clone(), site.id), site.name);
            }
        }
        Ok(Self {
            organisations,
            people,
            site_names,
        })
    }

    /// Whether the organisation was read (it exists, and reads).
    pub fn has_organisation(&self, organisation: &OrganisationId) -> bool {
        self.organisations.contains_key(organisation)
    }

    /// The reservation's organisation, person and site name, when all still exist.
    pub fn of_reservation<'a>(
        &'a self,
        reservation: &'a Reservation,
    ) -> Option<(&'a Organisation, &'a Membership, &'a str)> {
        let organisation = self.organisations.get(&reservation.organisation_id)?;
        let person = self.people.get(&(
            reservation.organisation_id.clone(),
            reservation.user_id.clone(),
        ))?;
        let site = self
            .site_names
            .get(&(
                reservation.organisation_id.clone(),
                reservation.site_id.clone(),
            ))
            .map_or(reservation.site_id.as_str(), String::as_str);
        Some((organisation, person, site))
    }
}
