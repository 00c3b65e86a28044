//! An organisation's sites (locations, properties, reservations of the seeds).

use roster_domain::ids::OrganisationId;
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError, keys,
    record::{Record, body, key_item},
    transaction::Condition,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub id: String,
    pub name: String,
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

    /// Creates a site (`exists: false`) or renames one (`exists: true`); answers whether the site
    /// was where it was expected, so a rename racing a delete cannot bring the site back.
    pub async fn put_site(
        &self,
        organisation: &OrganisationId,
        site: &Site,
        exists: bool,
    ) -> Result<bool, StoreError> {
        let condition = if exists {
            Condition::present()
        } else {
            Condition::absent()
        };
        self.put_if(
            Record::new(keys::site(organisation, &site.id), site).item(),
            condition,
        )
        .await
    }

    pub async fn delete_site(
        &self,
        organisation: &OrganisationId,
        site: &str,
    ) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_item(&keys::site(organisation, site))))
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::unavailable)
    }
}
