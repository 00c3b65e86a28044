//! A request sent in the moment between another request's reads and its write: a client here
//! holds back its next write that names a text until the armed request has been answered. It
//! makes a race that a test could otherwise only hope for happen every time.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::{
    ConfigBag, Intercept, RuntimeComponents, interceptors::BeforeTransmitInterceptorContextRef,
};

/// The writes a hook waits for.
const WRITES: [&str; 5] = [
    "TransactWriteItems",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
];

/// Once armed, sends its request just before the next write naming its text, and lets that write
/// go once the request is answered. Needs a multi-threaded runtime (`block_in_place`).
#[derive(Debug, Clone, Default)]
pub struct BeforeWrite(Arc<Mutex<Hook>>);

#[derive(Debug, Default)]
enum Hook {
    #[default]
    Unarmed,
    Armed {
        needle: String,
        request: Box<reqwest::RequestBuilder>,
    },
    /// The status the armed request was answered with.
    Ran(u16),
}

impl BeforeWrite {
    /// The next write naming `needle` waits for `request`'s answer.
    pub fn arm(&self, needle: &str, request: reqwest::RequestBuilder) {
        *self.0.lock().unwrap() = Hook::Armed {
            needle: needle.to_owned(),
            request: Box::new(request),
        };
    }

    /// The status the armed request was answered with; none before it ran.
    pub fn status(&self) -> Option<u16> {
        match *self.0.lock().unwrap() {
            Hook::Ran(status) => Some(status),
            _ => None,
        }
    }

    /// The armed request, taken, if `body` is a write (by `target`) naming its text.
    fn take_for(&self, target: &str, body: &[u8]) -> Option<Box<reqwest::RequestBuilder>> {
        let mut hook = self.0.lock().unwrap();
        let Hook::Armed { needle, .. } = &*hook else {
            return None;
        };
        let is_write = WRITES
            .iter()
            .any(|write| target.ends_with(&format!(".{write}")));
        if !is_write || !String::from_utf8_lossy(body).contains(needle.as_str()) {
            return None;
        }
        match std::mem::take(&mut *hook) {
            Hook::Armed { request, .. } => Some(request),
            _ => unreachable!("checked above"),
        }
    }
}

impl Intercept for BeforeWrite {
    fn name(&self) -> &'static str {
        "roster-before-write"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let body = request.body().bytes().unwrap_or_default();
        let Some(armed) = self.take_for(target, body) else {
            return Ok(());
        };
        let status = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async move {
                armed
                    .send()
                    .await
                    .map(|response| response.status().as_u16())
            })
        })?;
        *self.0.lock().unwrap() = Hook::Ran(status);
        Ok(())
    }
}
