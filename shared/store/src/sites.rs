//! An organisation's sites (locations, properties, reservations of the seeds).

use std::collections::BTreeSet;

use roster_domain::ids::{OrganisationId, SiteId};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError, keys,
    record::{Record, body, key_item, s},
    transaction::Condition,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub id: String,
    pub name: String,
    /// Counted up by each rename (0 for a site from before versions).
    #[serde(default)]
    pub version: u64,
}

impl DynamoTable {
    /// One `Query` of the organisation's partition.
    pub async fn sites(&self, organisation: &OrganisationId) -> Result<Vec<Site>, StoreError> {
        self.query_partition(&keys::organisation(organisation).pk, keys::SITE_PREFIX)
            .await?
            .into_iter()
            .map(body)
            .collect()
    }

    /// The site `id` of the organisation, if it has one by that id (one consistent `GetItem`).
    pub async fn site(
        &self,
        organisation: &OrganisationId,
        id: &str,
    ) -> Result<Option<Site>, StoreError> {
        if SiteId::try_from(id).is_err() {
            return Ok(None);
        }
        self.get(&keys::site(organisation, id), true)
            .await?
            .map(body)
            .transpose()
    }

    /// Those of `ids` that are sites of the organisation, each once, in no particular order
    /// (one consistent `BatchGetItem` per 100; an id no site could have is none).
    pub async fn existing_sites(
        &self,
        organisation: &OrganisationId,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let distinct: BTreeSet<&String> = ids
            .iter()
            .filter(|id| SiteId::try_from(id.as_str()).is_ok())
            .collect();
        let keys: Vec<_> = distinct
            .into_iter()
            .map(|id| keys::site(organisation, id))
            .collect();
        self.batch_get(&keys)
            .await?
            .into_iter()
            .map(|item| body::<Site>(item).map(|site| site.id))
            .collect()
    }

    /// A page of the organisation's sites, by id, from `cursor` on (one `Query`).
    pub async fn sites_page(
        &self,
        organisation: &OrganisationId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<(Vec<Site>, Option<String>), StoreError> {
        self.organisation_page(organisation, keys::SITE_PREFIX, limit, cursor)
            .await
    }

    /// Creates a site; answers whether its id was free.
    pub async fn add_site(
        &self,
        organisation: &OrganisationId,
        site: &Site,
    ) -> Result<bool, StoreError> {
        self.put_if(
            Record::new(keys::site(organisation, &site.id), site).item(),
            Condition::absent(),
        )
        .await
    }

    /// Renames a site if it is still at version `expected` (see `update_versioned`): a rename
    /// racing a delete cannot bring the site back, nor two admins' renames lose one.
    pub async fn rename_site(
        &self,
        organisation: &OrganisationId,
        site: &str,
        expected: u64,
        name: &str,
    ) -> Result<Site, StoreError> {
        let key = keys::site(organisation, site);
        body(
            self.update_versioned(&key, expected, vec![("name", s(name))])
                .await?,
        )
    }

    /// Deletes a site; `NotFound` when there is none.
    pub async fn delete_site(
        &self,
        organisation: &OrganisationId,
        site: &str,
    ) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_item(&keys::site(organisation, site))))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        crate::conditional(deleted)?
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }
}
