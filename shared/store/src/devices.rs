//! A person's push devices.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use roster_domain::{
    device::PushTarget,
    ids::{DeviceId, OrganisationId, UserId},
};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError, keys,
    record::{Item, Record, body, key_item, s, text},
    transaction::Condition,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: DeviceId,
    pub name: String,
    pub target: PushTarget,
    /// SNS platform endpoint of a phone.
    pub endpoint_arn: Option<String>,
    /// The person's switch for this device.
    pub push_enabled: bool,
    /// False once the push service reported the device gone.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// Counted up by each change (0 for a device from before versions).
    #[serde(default)]
    pub version: u64,
}

/// The item of `device`; a phone's is found in `gsi2` under its SNS endpoint, which the same
/// phone registered in another organisation, or by another person, shares.
fn device_item(organisation: &OrganisationId, user: &UserId, device: &Device) -> Item {
    let key = keys::device(organisation, user, &device.id);
    let holder = keys::device_holder(&key);
    let mut record = Record::new(key, device);
    if let Some(arn) = &device.endpoint_arn {
        record.gsi2pk = Some(keys::push_endpoint_devices(arn));
        record.gsi2sk = Some(holder);
    }
    record.item()
}

impl DynamoTable {
    pub async fn devices(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
    ) -> Result<Vec<Device>, StoreError> {
        self.query_partition(
            &keys::member_partition(organisation, user),
            keys::DEVICE_PREFIX,
        )
        .await?
        .into_iter()
        .map(body)
        .collect()
    }

    pub async fn device(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        device: &DeviceId,
    ) -> Result<Option<Device>, StoreError> {
        self.get(&keys::device(organisation, user, device), true)
            .await?
            .map(body)
            .transpose()
    }

    /// Changes what the person may change of the device (name, push switch), if it is still at
    /// version `expected` (see `update_versioned`).
    pub async fn update_device(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        device: &DeviceId,
        expected: u64,
        name: Option<String>,
        push_enabled: Option<bool>,
    ) -> Result<Device, StoreError> {
        let mut fields = Vec::new();
        if let Some(name) = name {
            fields.push(("name", AttributeValue::S(name)));
        }
        if let Some(enabled) = push_enabled {
            fields.push(("push_enabled", AttributeValue::Bool(enabled)));
        }
        let key = keys::device(organisation, user, device);
        body(self.update_versioned(&key, expected, fields).await?)
    }

    /// Adds a device under its new id, never over another: false when a device has that id.
    pub async fn add_device(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        device: &Device,
    ) -> Result<bool, StoreError> {
        let item = device_item(organisation, user, device);
        self.put_if(item, Condition::absent()).await
    }

    /// The device `device`, registered again: `name`, `target` and `endpoint_arn` set, active
    /// again, its push switch (which the person may change at the same time) left as it is; one
    /// `UpdateItem`, so registrations at once all land. `NotFound` when it was deleted.
    pub async fn renew_device(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        device: &DeviceId,
        name: &str,
        target: &PushTarget,
        endpoint_arn: Option<&str>,
    ) -> Result<Device, StoreError> {
        let key = keys::device(organisation, user, device);
        let mut update = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key_item(&key)))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":name", s(name))
            .expression_attribute_values(
                ":target",
                serde_dynamo::to_attribute_value(target).expect("a push target serialises"),
            )
            .expression_attribute_values(":active", AttributeValue::Bool(true))
            .expression_attribute_values(":one", crate::record::n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        let set = "SET #name = :name, target = :target, active = :active";
        update = match endpoint_arn {
            // Indexed under its endpoint, as `device_item` writes it.
            Some(arn) => update
                .update_expression(format!(
                    "{set}, endpoint_arn = :arn, gsi2pk = :endpoint, gsi2sk = :holder ADD version :one"
                ))
                .expression_attribute_values(":arn", s(arn))
                .expression_attribute_values(":endpoint", s(keys::push_endpoint_devices(arn)))
                .expression_attribute_values(":holder", s(keys::device_holder(&key))),
            None => update.update_expression(format!(
                "{set} REMOVE endpoint_arn, gsi2pk, gsi2sk ADD version :one"
            )),
        };
        match crate::conditional(update.send().await)? {
            Some(output) => body(output.attributes.unwrap_or_default()),
            None => Err(StoreError::NotFound),
        }
    }

    /// Marks `device` inactive (its push service said it is gone) if it is still the version
    /// the push went to: one registered again, changed or deleted meanwhile stays as it is.
    pub async fn deactivate_device(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        device: &Device,
    ) -> Result<(), StoreError> {
        let key = keys::device(organisation, user, &device.id);
        let inactive = vec![("active", AttributeValue::Bool(false))];
        match self.update_versioned(&key, device.version, inactive).await {
            Ok(_) | Err(StoreError::Stale | StoreError::NotFound) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Whether a device other than `device` pushes through the SNS endpoint `endpoint_arn` (one
    /// `Query` of `gsi2`, eventually consistent: a device registered a moment ago may not show
    /// yet, and `device`, deleted a moment ago, may still).
    pub async fn endpoint_held_by_another(
        &self,
        endpoint_arn: &str,
        organisation: &OrganisationId,
        user: &UserId,
        device: &DeviceId,
    ) -> Result<bool, StoreError> {
        let own = keys::device_holder(&keys::device(organisation, user, device));
        let query = self
            .client
            .query()
            .table_name(&self.name)
            .index_name("gsi2")
            .key_condition_expression("gsi2pk = :endpoint")
            .expression_attribute_values(":endpoint", s(keys::push_endpoint_devices(endpoint_arn)))
            .projection_expression("gsi2sk")
            // The device itself, if still indexed, and one more.
            .limit(2);
        let holders = query.send().await.map_err(StoreError::unavailable)?;
        Ok(holders
            .items()
            .iter()
            .any(|item| text(item, "gsi2sk") != Some(own.as_str())))
    }

    pub async fn delete_device(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        device: &DeviceId,
    ) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key_item(&keys::device(organisation, user, device))))
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::unavailable)
    }
}
