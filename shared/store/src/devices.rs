//! A person's push devices.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use roster_domain::{
    device::PushTarget,
    ids::{DeviceId, OrganisationId, UserId},
    membership::Membership,
};
use serde::{Deserialize, Serialize};

use crate::{
    DynamoTable, StoreError, Write,
    keys::{self, Key},
    record::{Item, Record, body, item_key, key_item, readable_bodies, s, text},
    transaction::{Condition, OnFail, Transaction},
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

/// The `gsi2pk` a device is found under beside every other device that reaches the same phone or
/// browser (the same one registered in another organisation, or by another person): a phone's
/// SNS endpoint, a browser's subscription. None for a phone without an endpoint.
fn destination_devices(target: &PushTarget, endpoint_arn: Option<&str>) -> Option<String> {
    match (target, endpoint_arn) {
        (_, Some(arn)) => Some(keys::push_endpoint_devices(arn)),
        (PushTarget::Web { .. }, None) => Some(keys::web_push_devices(&target.device_id())),
        _ => None,
    }
}

/// The item of `device`, found in `gsi2` under its destination (`destination_devices`).
fn device_item(organisation: &OrganisationId, user: &UserId, device: &Device) -> Item {
    let key = keys::device(organisation, user, &device.id);
    let holder = keys::device_holder(&key);
    let mut record = Record::new(key, device);
    if let Some(destination) = destination_devices(&device.target, device.endpoint_arn.as_deref()) {
        record.gsi2pk = Some(destination);
        record.gsi2sk = Some(holder);
    }
    record.item()
}

/// Other people's devices looked at by one registration: more are left to the next.
const OTHER_HOLDERS_MOST: usize = 99;

impl DynamoTable {
    /// The person's devices: one `Query`. One that does not read (a broken one, or one a newer
    /// release wrote) is left out and logged, so the person's other devices still get reminders.
    pub async fn devices(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
    ) -> Result<Vec<Device>, StoreError> {
        Ok(readable_bodies(
            self.query_partition(
                &keys::member_partition(organisation, user),
                keys::DEVICE_PREFIX,
            )
            .await?,
        ))
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
    /// `NotFound` when the person's membership is gone (a SCIM delete at the same moment): a
    /// device is never left in a partition nobody reads.
    pub async fn add_device(
        &self,
        organisation: &OrganisationId,
        user: &UserId,
        device: &Device,
    ) -> Result<bool, StoreError> {
        let mut tx = Transaction::default();
        tx.put(
            self,
            device_item(organisation, user, device),
            // A device with this id is there: a registration of the same one at the same moment.
            Some((Condition::absent(), OnFail::Stale)),
        );
        tx.check(
            self,
            &keys::membership(organisation, user),
            (Condition::present(), OnFail::Missing),
        );
        match tx.commit(self).await {
            Ok(()) => Ok(true),
            Err(StoreError::Stale) => Ok(false),
            Err(error) => Err(error),
        }
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
        let mut set = vec!["#name = :name", "target = :target", "active = :active"];
        let mut remove = Vec::new();
        match endpoint_arn {
            Some(arn) => {
                set.push("endpoint_arn = :arn");
                update = update.expression_attribute_values(":arn", s(arn));
            }
            None => remove.push("endpoint_arn"),
        }
        // Indexed under its destination, as `device_item` writes it.
        match destination_devices(target, endpoint_arn) {
            Some(destination) => {
                set.extend(["gsi2pk = :destination", "gsi2sk = :holder"]);
                update = update
                    .expression_attribute_values(":destination", s(destination))
                    .expression_attribute_values(":holder", s(keys::device_holder(&key)));
            }
            None => remove.extend(["gsi2pk", "gsi2sk"]),
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let update = update.update_expression(format!("{expression} ADD version :one"));
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

    /// Removes the devices of other people's accounts that reach the phone or browser `holder`
    /// registers (`target`, through its SNS endpoint `endpoint_arn` for a phone), and answers how
    /// many: a phone or browser handed on without its app removing the last person's device
    /// would show that person's reminders to the next. The devices of `holder`'s own account in
    /// its other organisations stay. One `Query` of `gsi2` (eventually consistent: a device
    /// registered a moment ago may not show yet) and, when others hold it, one `BatchGetItem` of
    /// their memberships and one `BatchWriteItem`.
    pub async fn remove_devices_of_other_accounts(
        &self,
        target: &PushTarget,
        endpoint_arn: Option<&str>,
        holder: &Membership,
    ) -> Result<usize, StoreError> {
        let Some(destination) = destination_devices(target, endpoint_arn) else {
            return Ok(0);
        };
        let query = self
            .client
            .query()
            .table_name(&self.name)
            .index_name("gsi2")
            .key_condition_expression("gsi2pk = :destination")
            .expression_attribute_values(":destination", s(destination))
            .projection_expression("pk, sk");
        let (holders, _) = self.query_up_to(query, Some(OTHER_HOLDERS_MOST)).await?;
        let own = keys::member_partition(&holder.organisation_id, &holder.id);
        let others: Vec<Key> = holders
            .iter()
            .filter_map(item_key)
            .filter(|key| key.pk != own)
            .collect();
        if others.is_empty() {
            return Ok(0);
        }
        let memberships: Vec<Key> = others
            .iter()
            .map(|device| Key {
                pk: device.pk.clone(),
                sk: keys::MEMBERSHIP_SK.to_owned(),
            })
            .collect();
        let same_account: HashSet<String> = self
            .batch_get(&memberships)
            .await?
            .iter()
            .filter(|m| text(m, "account_id") == Some(holder.account_id.as_str()))
            .filter_map(|m| text(m, "pk").map(str::to_owned))
            .collect();
        let removed: Vec<Write> = others
            .into_iter()
            .filter(|device| !same_account.contains(&device.pk))
            .map(Write::Delete)
            .collect();
        let count = removed.len();
        self.batch_write(removed).await?;
        Ok(count)
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
