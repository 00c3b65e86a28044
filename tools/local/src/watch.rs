//! Stands in for the bucket's ObjectCreated notification: polls the import bucket and reports each
//! object version that appeared since the previous poll, once.

use std::collections::HashSet;

use crate::events::CreatedObject;

pub struct BucketWatcher {
    s3: aws_sdk_s3::Client,
    bucket: String,
    seen: HashSet<(String, String)>,
}

impl BucketWatcher {
    /// Starts watching; what the bucket already holds counts as seen.
    pub async fn start(
        s3: aws_sdk_s3::Client,
        bucket: impl Into<String>,
    ) -> Result<Self, aws_sdk_s3::Error> {
        let mut watcher = Self {
            s3,
            bucket: bucket.into(),
            seen: HashSet::new(),
        };
        watcher.poll().await?;
        Ok(watcher)
    }

    /// Object versions created since the last poll, oldest first.
    pub async fn poll(&mut self) -> Result<Vec<CreatedObject>, aws_sdk_s3::Error> {
        let mut created = Vec::new();
        let (mut key_marker, mut version_marker) = (None, None);
        loop {
            let page = self
                .s3
                .list_object_versions()
                .bucket(&self.bucket)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(aws_sdk_s3::Error::from)?;
            for version in page.versions() {
                let (Some(key), version_id) = (version.key(), version.version_id()) else {
                    continue;
                };
                let identity = (key.to_owned(), version_id.unwrap_or("null").to_owned());
                if self.seen.insert(identity) {
                    created.push((
                        version.last_modified().copied(),
                        CreatedObject {
                            key: key.to_owned(),
                            version_id: version_id.map(str::to_owned),
                            size: version.size().unwrap_or_default(),
                            e_tag: version.e_tag().map(str::to_owned),
                        },
                    ));
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
        }
        created.sort_by_key(|(modified, _)| modified.map(|m| (m.secs(), m.subsec_nanos())));
        Ok(created.into_iter().map(|(_, object)| object).collect())
    }
}
