//! The avatar bucket: a person's images in S3, every one of them under [`prefix`] (uploads,
//! confirmed or not, and the checked copies that become avatars).

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use roster_domain::ids::{OrganisationId, UserId};

/// Where every object of `user`'s images is kept: `avatars/<organisation>/<user>/`.
pub fn prefix(organisation: &OrganisationId, user: &UserId) -> String {
    format!("avatars/{organisation}/{user}/")
}

#[derive(Clone)]
pub struct S3AvatarStore {
    s3: aws_sdk_s3::Client,
    bucket: String,
}

impl S3AvatarStore {
    pub fn new(s3: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            s3,
            bucket: bucket.into(),
        }
    }

    /// Removes the object `key`. What no longer names it has already been saved, so a failure is
    /// logged and the object left behind rather than failing the request.
    pub async fn remove(&self, key: &str) {
        if let Err(error) = self
            .s3
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            tracing::warn!(
                error = %aws_sdk_s3::error::DisplayErrorContext(error),
                "avatar object left behind"
            );
        }
    }

    /// Removes every image of `user` (a person deleted for good): a page of keys listed, then
    /// deleted together, until none is left. Whether none is: a failure is logged and the rest
    /// left for the caller to try again.
    pub async fn remove_all_of(&self, organisation: &OrganisationId, user: &UserId) -> bool {
        let removed = self.try_remove_all(&prefix(organisation, user)).await;
        if let Err(error) = &removed {
            tracing::warn!(%error, "avatar objects left behind");
        }
        removed.is_ok()
    }

    async fn try_remove_all(&self, prefix: &str) -> Result<(), String> {
        loop {
            let listed = self
                .s3
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .send()
                .await
                .map_err(|e| aws_sdk_s3::Error::from(e).to_string())?;
            let objects = listed
                .contents()
                .iter()
                .filter_map(|object| object.key())
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            if objects.is_empty() {
                return Ok(());
            }
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| e.to_string())?;
            let deleted = self
                .s3
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| aws_sdk_s3::Error::from(e).to_string())?;
            // Keys S3 would not delete would be listed again: stop at them.
            if let Some(refused) = deleted.errors().first() {
                return Err(format!(
                    "{} objects not deleted: {}",
                    deleted.errors().len(),
                    refused.message().unwrap_or("no reason given")
                ));
            }
        }
    }
}
