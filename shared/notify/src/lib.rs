//! Roster's outgoing messages: what each notice says in the person's language (`templates`), and
//! sending it as email through SES v2 (`SesMailer`).

mod mailer;
pub mod templates;

pub use mailer::{Email, NotifyError, SesMailer};
