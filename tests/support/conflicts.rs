//! DynamoDB's answer to a transaction that met another one writing the same item: cancelled with
//! `TransactionConflict` for that item. DynamoDB Local runs transactions one at a time and never
//! gives this answer, so a client here is handed it, in DynamoDB's own wire format, instead of
//! the local table's answer to a request that was changed into one that writes nothing.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::{
    ConfigBag, Intercept, RuntimeComponents,
    http::HttpResponse,
    interceptors::{
        BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
    },
};
use aws_smithy_types::{
    body::SdkBody,
    config_bag::{Storable, StoreReplace},
};
use serde_json::{Value, json};

/// Once armed, answers the next `TransactWriteItems` that name a text as cancelled by a
/// conflict on each of their items that names it; nothing of such a transaction is written.
#[derive(Debug, Clone, Default)]
pub struct TransactionConflicts(Arc<Mutex<Armed>>);

#[derive(Debug, Default)]
struct Armed {
    needle: String,
    left: usize,
}

/// The cancellation reasons a request changed to write nothing is to be answered with.
#[derive(Debug, Clone)]
struct ConflictReasons(Vec<Value>);

impl Storable for ConflictReasons {
    type Storer = StoreReplace<Self>;
}

impl TransactionConflicts {
    /// The next `times` transactions naming `needle` meet a conflict.
    pub fn arm(&self, needle: &str, times: usize) {
        *self.0.lock().unwrap() = Armed {
            needle: needle.to_owned(),
            left: times,
        };
    }

    /// How many of its conflicts are still to be met.
    pub fn left(&self) -> usize {
        self.0.lock().unwrap().left
    }
}

impl Intercept for TransactionConflicts {
    fn name(&self) -> &'static str {
        "roster-transaction-conflicts"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let request = context.request_mut();
        let is_transaction = request
            .headers()
            .get("x-amz-target")
            .is_some_and(|target| target.ends_with(".TransactWriteItems"));
        let Some(body) = request.body().bytes().filter(|_| is_transaction) else {
            return Ok(());
        };
        let body: Value = serde_json::from_slice(body)?;
        let items = body["TransactItems"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut armed = self.0.lock().unwrap();
        let needle = armed.needle.clone();
        let names_needle = |item: &Value| item.to_string().contains(&needle);
        if armed.left == 0 || !items.iter().any(names_needle) {
            return Ok(());
        }
        armed.left -= 1;
        drop(armed);
        let reasons = items
            .iter()
            .map(|item| match names_needle(item) {
                true => json!({ "Code": "TransactionConflict", "Message": "Transaction is ongoing for the item" }),
                false => json!({ "Code": "None" }),
            })
            .collect();
        cfg.interceptor_state().store_put(ConflictReasons(reasons));
        // An empty transaction writes nothing: the table refuses it, and that answer is replaced.
        let nothing = json!({ "TransactItems": [] }).to_string();
        request
            .headers_mut()
            .insert("content-length", nothing.len().to_string());
        *request.body_mut() = SdkBody::from(nothing);
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let Some(ConflictReasons(reasons)) = cfg.load::<ConflictReasons>().cloned() else {
            return Ok(());
        };
        let body = json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
            "CancellationReasons": reasons,
        });
        let mut response = HttpResponse::new(400.try_into()?, SdkBody::from(body.to_string()));
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        *context.response_mut() = response;
        Ok(())
    }
}
