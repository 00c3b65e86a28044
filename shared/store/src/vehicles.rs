//! A person's vehicles, with the plate unique in the organisation (sentinel).

use chrono::{DateTime, Utc};
use roster_domain::{
    ids::{OrganisationId, UserId, VehicleId},
    vehicle::PlateNumber,
};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError, Uniqueness, keys,
    record::{Record, body, s, sentinel},
    transaction::{Condition, OnFail, Transaction},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vehicle {
    pub id: VehicleId,
    pub name: String,
    pub plate: PlateNumber,
    pub created_at: DateTime<Utc>,
    /// Counted up by each change (0 for a vehicle from before versions).
    #[serde(default)]
    pub version: u64,
}

impl DynamoTable {
    /// One `Query` of the person's partition.
    pub async fn vehicles(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
    ) -> Result<Vec<Vehicle>, StoreError> {
        self.query_partition(
            &keys::member_partition(organisation, user),
            keys::VEHICLE_PREFIX,
        )
        .await?
        .into_iter()
        .map(body)
        .collect()
    }

    pub async fn vehicle(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        vehicle: &VehicleId,
    ) -> Result<Option<Vehicle>, StoreError> {
        self.get(&keys::vehicle(organisation, user, vehicle), true)
            .await?
            .map(body)
            .transpose()
    }

    /// Adds the vehicle and takes its plate (`Taken(Plate)` when another vehicle has it);
    /// `NotFound` when the person's membership is gone.
    pub async fn add_vehicle(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        vehicle: &Vehicle,
    ) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        tx.put(
            self,
            Record::new(keys::vehicle(organisation, user, &vehicle.id), vehicle).item(),
            Some((Condition::absent(), OnFail::Taken(Uniqueness::Plate))),
        );
        tx.put(
            self,
            sentinel(
                keys::plate_sentinel(organisation, vehicle.plate.normalised()),
                vehicle.id.as_str(),
            ),
            Some((Condition::absent(), OnFail::Taken(Uniqueness::Plate))),
        );
        // Never beside a membership that is gone (a SCIM delete at the same moment): its
        // partition is read by nobody, and the plate would stay taken.
        tx.check(
            self,
            &keys::membership(organisation, user),
            (Condition::present(), OnFail::Missing),
        );
        tx.commit(self).await
    }

    /// Renames the vehicle if it is still at version `expected` (see `update_versioned`).
    pub async fn rename_vehicle(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        vehicle: &VehicleId,
        expected: u64,
        name: &str,
    ) -> Result<Vehicle, StoreError> {
        let key = keys::vehicle(organisation, user, vehicle);
        body(
            self.update_versioned(&key, expected, vec![("name", s(name))])
                .await?,
        )
    }

    /// Removes the vehicle and frees its plate.
    pub async fn delete_vehicle(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        vehicle: &Vehicle,
    ) -> Result<(), StoreError> {
        let mut tx = Transaction::default();
        tx.delete(
            self,
            &keys::vehicle(organisation, user, &vehicle.id),
            Some((Condition::present(), OnFail::Missing)),
        );
        tx.delete(
            self,
            &keys::plate_sentinel(organisation, vehicle.plate.normalised()),
            Some((Condition::owned_by(vehicle.id.as_str()), OnFail::Missing)),
        );
        tx.commit(self).await
    }
}
