//! Push notifications: to browsers by Web Push (`WebPushSender`), to phones through SNS platform
//! endpoints (`SnsPusher`). Both say what became of a message as a `PushOutcome`, so the caller
//! can retry later or mark a device gone; neither returns an error.

mod sns;
mod webpush;

use serde::Serialize;

pub use sns::{PhonePlatform, SnsPusher};
pub use webpush::{VapidKey, VapidKeyError, WebPushSender};

/// What a device shows. Browsers receive it as the JSON `{title, body, tag}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushMessage {
    pub title: String,
    pub body: String,
    /// Names what the message is about (a reservation id, say); a client shows one notification
    /// per tag, so a repeated message replaces the earlier one.
    pub tag: String,
}

impl PushMessage {
    fn to_json(&self) -> String {
        serde_json::to_string(self).expect("three strings serialise")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The push service took the message.
    Delivered,
    /// The device is gone (Web Push 404/410, SNS EndpointDisabled or NotFound): mark it inactive.
    Gone,
    /// Worth retrying later (5xx, 429, timeouts, throttling).
    Transient(String),
    /// Refused for good (other 4xx, bad keys, a message too large).
    Failed(String),
}
