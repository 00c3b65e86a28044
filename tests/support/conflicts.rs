//! DynamoDB's answers to a write that met a transaction writing the same item: a transaction is
//! cancelled with `TransactionConflict` for that item, and a single-item write (`PutItem`,
//! `UpdateItem`, `DeleteItem`) is rejected whole with `TransactionConflictException`. DynamoDB
//! Local runs writes one at a time and never gives these answers, so a client here is handed
//! them, in DynamoDB's own wire format, instead of the local table's answer to a request that was
//! changed into one that writes nothing.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::{
    ConfigBag, Intercept, RuntimeComponents,
    http::{HttpRequest, HttpResponse},
    interceptors::{
        BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
    },
};
use aws_smithy_types::{
    body::SdkBody,
    config_bag::{Storable, StoreReplace},
};
use serde_json::{Value, json};

/// Once armed, answers the next writes that name a text as having met a transaction: a
/// `TransactWriteItems` as cancelled by a conflict on each of its items that names the text, a
/// single-item write as rejected. Nothing of such a write is written.
#[derive(Debug, Clone, Default)]
pub struct TransactionConflicts(Arc<Mutex<Armed>>);

#[derive(Debug, Default)]
struct Armed {
    needle: String,
    /// Writes naming the needle still to be let through before the conflicts start.
    passing: usize,
    left: usize,
}

/// The answer this attempt's request, changed to write nothing, is to be given instead of the
/// table's; none for a request let through. Stored anew by every attempt, as the SDK keeps the
/// state of one attempt for the next.
#[derive(Debug, Clone)]
struct ConflictAnswer(Option<Value>);

impl Storable for ConflictAnswer {
    type Storer = StoreReplace<Self>;
}

impl TransactionConflicts {
    /// The next `times` writes naming `needle` meet a transaction.
    pub fn arm(&self, needle: &str, times: usize) {
        self.arm_after(needle, 0, times);
    }

    /// The `times` writes naming `needle` after the next `passing` ones meet a transaction.
    pub fn arm_after(&self, needle: &str, passing: usize, times: usize) {
        *self.0.lock().unwrap() = Armed {
            needle: needle.to_owned(),
            passing,
            left: times,
        };
    }

    /// How many of its conflicts are still to be met.
    pub fn left(&self) -> usize {
        self.0.lock().unwrap().left
    }
}

impl TransactionConflicts {
    /// DynamoDB's answer to `request` if it is a write that is to meet a transaction (and counts
    /// it as met); none for any other request.
    fn answer_for(&self, request: &HttpRequest) -> Option<Value> {
        let operation = request
            .headers()
            .get("x-amz-target")?
            .rsplit_once('.')?
            .1
            .to_owned();
        let body: Value = serde_json::from_slice(request.body().bytes()?).ok()?;
        let mut armed = self.0.lock().unwrap();
        if armed.left == 0 {
            return None;
        }
        let needle = armed.needle.clone();
        let names_needle = |value: &Value| value.to_string().contains(&needle);
        let items = body["TransactItems"].as_array();
        let named = match operation.as_str() {
            "TransactWriteItems" => items?.iter().any(names_needle),
            "PutItem" | "UpdateItem" | "DeleteItem" => names_needle(&body),
            _ => false,
        };
        if !named {
            return None;
        }
        if armed.passing > 0 {
            armed.passing -= 1;
            return None;
        }
        let answer = match items {
            Some(items) => {
                let reasons: Vec<Value> = items
                    .iter()
                    .map(|item| match names_needle(item) {
                        true => json!({ "Code": "TransactionConflict", "Message": "Transaction is ongoing for the item" }),
                        false => json!({ "Code": "None" }),
                    })
                    .collect();
                json!({
                    "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                    "message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
                    "CancellationReasons": reasons,
                })
            }
            None => json!({
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
                "message": "Transaction is ongoing for the item",
            }),
        };
        armed.left -= 1;
        Some(answer)
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
        let answer = self.answer_for(context.request());
        let changed = answer.is_some();
        cfg.interceptor_state().store_put(ConflictAnswer(answer));
        if changed {
            // An empty transaction writes nothing: the table refuses it, and that answer is
            // replaced.
            let request = context.request_mut();
            let nothing = json!({ "TransactItems": [] }).to_string();
            let headers = request.headers_mut();
            headers.insert("x-amz-target", "DynamoDB_20120810.TransactWriteItems");
            headers.insert("content-length", nothing.len().to_string());
            *request.body_mut() = SdkBody::from(nothing);
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let Some(ConflictAnswer(Some(body))) = cfg.load::<ConflictAnswer>().cloned() else {
            return Ok(());
        };
        let mut response = HttpResponse::new(400.try_into()?, SdkBody::from(body.to_string()));
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        *context.response_mut() = response;
        Ok(())
    }
}
