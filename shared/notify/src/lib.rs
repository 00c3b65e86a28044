//! Roster's outgoing messages: what each notice says in the person's language (`templates`) and
//! what it says about their bookings (`booking`, with calendar invitations from `ics`), and
//! sending it as email through SES v2 (`SesMailer`); push notifications to browsers by Web Push
//! (`WebPushSender`) and to phones through SNS (`SnsPusher`).

pub mod booking;
pub mod ics;
mod mailer;
pub mod outbox;
mod push;
pub mod templates;

pub use mailer::{Calendar, Email, NotifyError, SesMailer};
pub use push::{
    PhonePlatform, PushMessage, PushOutcome, SnsPusher, VapidKey, VapidKeyError, WebPushSender,
};
