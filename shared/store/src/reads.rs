//! The read shapes every adapter uses: one `GetItem`, a `BatchGetItem`, all pages of a `Query`.

use aws_sdk_dynamodb::{operation::query::builders::QueryFluentBuilder, types::KeysAndAttributes};

use crate::{
    DynamoTable, StoreError,
    keys::Key,
    record::{Item, key_item, s},
};

impl DynamoTable {
    /// The item at `key`; `None` without asking DynamoDB when no item can have that key.
    pub(crate) async fn get(
        &self,
        key: &Key,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        if !key.can_exist() {
            return Ok(None);
        }
        self.client
            .get_item()
            .table_name(&self.name)
            .key("pk", s(key.pk.clone()))
            .key("sk", s(key.sk.clone()))
            .consistent_read(consistent)
            .send()
            .await
            .map(|output| output.item)
            .map_err(StoreError::unavailable)
    }

    /// Consistent reads of `keys`, one `BatchGetItem` per 100, in no particular order. Keys that
    /// DynamoDB leaves unprocessed (throttling, or an answer past 16 MB) are asked for again
    /// while each round makes progress; a round that reads nothing makes it an error, never a
    /// silently short answer. Keys no item can have are left out.
    pub(crate) async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        let keys: Vec<&Key> = keys.iter().filter(|key| key.can_exist()).collect();
        let mut items = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut request = KeysAndAttributes::builder().consistent_read(true);
            for key in chunk {
                request = request.keys(key_item(key));
            }
            let mut pending = Some(request.build().map_err(StoreError::unavailable)?);
            while let Some(request) = pending.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.name, request)
                    .send()
                    .await
                    .map_err(StoreError::unavailable)?;
                let read = output
                    .responses
                    .unwrap_or_default()
                    .remove(&self.name)
                    .unwrap_or_default();
                pending = output
                    .unprocessed_keys
                    .unwrap_or_default()
                    .remove(&self.name)
                    .filter(|left| !left.keys().is_empty());
                if pending.is_some() && read.is_empty() {
                    return Err(StoreError::Unavailable(
                        "DynamoDB left keys unprocessed (throttled)".into(),
                    ));
                }
                items.extend(read);
            }
        }
        Ok(items)
    }

    /// Every item `query` matches, following its pages.
    pub(crate) async fn query_all(
        &self,
        query: QueryFluentBuilder,
    ) -> Result<Vec<Item>, StoreError> {
        Ok(self.query_up_to(query, None).await?.0)
    }

    /// The items `query` matches, following its pages until more than `most` are read (when
    /// given); whether more than `most` matched.
    pub(crate) async fn query_up_to(
        &self,
        query: QueryFluentBuilder,
        most: Option<usize>,
    ) -> Result<(Vec<Item>, bool), StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut page = query.clone().set_exclusive_start_key(start);
            if let Some(most) = most {
                let wanted = most + 1 - items.len();
                page = page.limit(i32::try_from(wanted).unwrap_or(i32::MAX));
            }
            let output = page.send().await.map_err(StoreError::unavailable)?;
            items.extend(output.items.unwrap_or_default());
            if most.is_some_and(|most| items.len() > most) {
                return Ok((items, true));
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok((items, false));
            }
        }
    }

    /// The first page of `query`'s items, each read as a `T`.
    pub(crate) async fn query_page<T: serde::de::DeserializeOwned>(
        &self,
        query: QueryFluentBuilder,
    ) -> Result<Vec<T>, StoreError> {
        let output = query.send().await.map_err(StoreError::unavailable)?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(crate::record::body)
            .collect()
    }

    /// Up to `limit` items of `list` from after `cursor` (one `Query`, strongly consistent when
    /// `consistent`), with the cursor after the last one when more follow: a page that ends the
    /// list has none.
    pub(crate) async fn partition_page(
        &self,
        list: &crate::cursor::PartitionList,
        limit: i32,
        cursor: Option<&str>,
        consistent: bool,
    ) -> Result<(Vec<crate::record::Item>, Option<String>), StoreError> {
        let start = cursor.map(|c| list.start_after(c)).transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.name)
            .expression_attribute_values(":pk", s(list.pk.as_str()))
            .consistent_read(consistent)
            .set_exclusive_start_key(start);
        // DynamoDB takes no empty prefix for begins_with.
        query = if list.prefix.is_empty() {
            query.key_condition_expression("pk = :pk")
        } else {
            query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(list.prefix.as_str()))
        };
        let (items, last) = self.limited_page(query, limit).await?;
        let next = last
            .as_ref()
            .and_then(crate::cursor::PartitionList::cursor_after);
        Ok((items, next))
    }

    /// Up to `limit` items of `query` (which sets no `Limit`), read with a `Limit` of one more,
    /// and what the next page starts after (see `page_of`).
    pub(crate) async fn limited_page(
        &self,
        query: QueryFluentBuilder,
        limit: i32,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let output = query
            .limit(limit.saturating_add(1))
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        Ok(page_of(
            output.items.unwrap_or_default(),
            limit,
            output.last_evaluated_key,
        ))
    }

    /// A page of the organisation's items of one kind (sort keys starting with `prefix` in its
    /// partition), each read as a `T`; see `partition_page`.
    pub(crate) async fn organisation_page<T: serde::de::DeserializeOwned>(
        &self,
        organisation: &roster_domain::ids::OrganisationId,
        prefix: &str,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<(Vec<T>, Option<String>), StoreError> {
        let list = crate::cursor::PartitionList {
            pk: crate::keys::organisation(organisation).pk,
            prefix: prefix.to_owned(),
        };
        let (items, next) = self.partition_page(&list, limit, cursor, true).await?;
        let read: Result<Vec<T>, _> = items.into_iter().map(crate::record::body).collect();
        Ok((read?, next))
    }

    /// Items of `pk` whose sort key starts with `prefix` (every item of `pk` when it is empty,
    /// which DynamoDB does not take as a prefix), all pages.
    pub(crate) async fn query_partition(
        &self,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<crate::record::Item>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.name)
            .expression_attribute_values(":pk", s(pk))
            .consistent_read(true);
        query = if prefix.is_empty() {
            query.key_condition_expression("pk = :pk")
        } else {
            query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix))
        };
        self.query_all(query).await
    }
}

/// The first `limit` of `items` read with a `Limit` of `limit + 1`, and what the next page starts
/// after: the last item kept when one more was read, else the `LastEvaluatedKey` (a read that
/// stopped at DynamoDB's 1 MB), else nothing, since the list ended.
pub(crate) fn page_of(
    mut items: Vec<Item>,
    limit: i32,
    last_evaluated: Option<Item>,
) -> (Vec<Item>, Option<Item>) {
    let kept = usize::try_from(limit).unwrap_or(0);
    if items.len() > kept {
        items.truncate(kept);
        let last = items.last().cloned();
        (items, last)
    } else {
        (items, last_evaluated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(names: &[&str]) -> Vec<Item> {
        names
            .iter()
            .map(|name| Item::from([("sk".to_owned(), s(*name))]))
            .collect()
    }

    #[test]
    fn a_page_that_read_one_more_than_it_keeps_continues_after_its_last_item() {
        let (kept, last) = page_of(items(&["a", "b", "c"]), 2, Some(items(&["c"]).remove(0)));
        assert_eq!(kept, items(&["a", "b"]));
        assert_eq!(last, Some(items(&["b"]).remove(0)));
    }

    #[test]
    fn a_page_that_ends_the_list_has_nothing_after_it() {
        let (kept, last) = page_of(items(&["a", "b"]), 2, None);
        assert_eq!(kept, items(&["a", "b"]));
        assert_eq!(last, None);
    }

    #[test]
    fn a_page_cut_short_by_the_size_limit_continues_where_dynamodb_stopped() {
        let (kept, last) = page_of(items(&["a"]), 2, Some(items(&["a"]).remove(0)));
        assert_eq!(kept, items(&["a"]));
        assert_eq!(last, Some(items(&["a"]).remove(0)));
    }
}
