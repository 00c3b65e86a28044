//! Email through SES v2: a plain-text UTF-8 MIME message marked with the person's language,
//! optionally with an iCalendar invitation attached.

use aws_sdk_sesv2::{
    config::http::HttpResponse,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    operation::send_email::SendEmailError,
};
use chrono_tz::Tz;
use mail_builder::{
    MessageBuilder,
    headers::{content_type::ContentType, text::Text},
    mime::MimePart,
};
use roster_domain::{preferences::Language, profile::deliverable_address};

use crate::{
    booking::{BookingMessage, render_booking},
    ics::CalendarMethod,
    templates::{Notice, render},
};

/// One email to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub language: Language,
    pub subject: String,
    pub text: String,
    /// Attached as `invite.ics` (see `crate::ics::reservation_ics`).
    pub calendar: Option<Calendar>,
}

/// An iCalendar object for the person's calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// Must be the object's own `METHOD`: mail clients act on the MIME `method=` parameter.
    pub method: CalendarMethod,
    pub ics: String,
}

impl Email {
    /// `notice` rendered for a person in their language.
    pub fn notice(to: &str, language: Language, first_name: &str, notice: &Notice) -> Self {
        let rendered = render(notice, language, first_name);
        Self {
            to: to.to_owned(),
            language,
            subject: rendered.subject,
            text: rendered.text,
            calendar: None,
        }
    }

    /// `message` rendered for a person in their language and time zone, with `calendar` attached.
    pub fn booking(
        to: &str,
        language: Language,
        zone: Tz,
        first_name: &str,
        message: &BookingMessage,
        calendar: Option<Calendar>,
    ) -> Self {
        let rendered = render_booking(message, language, zone, first_name);
        Self {
            to: to.to_owned(),
            language,
            subject: rendered.subject,
            text: rendered.text,
            calendar,
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error("building the message: {0}")]
    Mime(String),
    /// SES refused the message for good (a rejected message or address, a paused account).
    #[error("SES refused the message: {0}")]
    Ses(String),
    /// SES could not be reached or asked to slow down, after the SDK's own retries: nothing was
    /// sent; try again later.
    #[error("SES did not take the message: {0}")]
    SesUnavailable(String),
    /// SES's answer did not arrive (a timeout, a lost or garbled answer): the message may have
    /// gone; trying again may send it twice.
    #[error("SES did not answer: {0}")]
    SesUnanswered(String),
}

#[derive(Clone, Debug)]
pub struct SesMailer {
    ses: aws_sdk_sesv2::Client,
    from: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(
        ses: aws_sdk_sesv2::Client,
        from: impl Into<String>,
        configuration_set: Option<String>,
    ) -> Self {
        Self {
            ses,
            from: from.into(),
            configuration_set,
        }
    }

    /// The address emails are sent from.
    pub fn sender(&self) -> &str {
        &self.from
    }

    /// The whole MIME message of `email`.
    pub fn mime(&self, email: &Email) -> Result<String, NotifyError> {
        mime_message(&self.from, email)
    }

    pub async fn send(&self, email: &Email) -> Result<(), NotifyError> {
        let mime = self.mime(email)?;
        self.ses
            .send_email()
            .from_email_address(&self.from)
            .destination(
                aws_sdk_sesv2::types::Destination::builder()
                    .to_addresses(deliverable_address(&email.to))
                    .build(),
            )
            .content(
                aws_sdk_sesv2::types::EmailContent::builder()
                    .raw(
                        aws_sdk_sesv2::types::RawMessage::builder()
                            .data(aws_sdk_sesv2::primitives::Blob::new(mime.into_bytes()))
                            .build()
                            .map_err(|e| NotifyError::Mime(e.to_string()))?,
                    )
                    .build(),
            )
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(send_failure)
    }

    /// Tells the person `before` shows, at the `old` address their login moves away from, that
    /// it moves to `new`.
    pub async fn tell_login_moved(
        &self,
        before: &roster_domain::membership::Membership,
        old: &roster_domain::profile::Email,
        new: &roster_domain::profile::Email,
    ) {
        let notice = Notice::EmailChanged {
            new_email: new.display().to_owned(),
        };
        let language = before.preferences.language;
        self.notify(old.display(), language, &before.profile.first_name, &notice)
            .await;
    }

    /// Sends a notice; a failure is logged, never the caller's failure (the change it reports
    /// has already happened).
    pub async fn notify(&self, to: &str, language: Language, first_name: &str, notice: &Notice) {
        if let Err(error) = self.deliver(to, language, first_name, notice).await {
            tracing::error!(%error, "notice not sent");
        }
    }

    /// Sends a notice whose failure is the caller's: one carrying a link that reaches the person
    /// only by this email.
    pub async fn deliver(
        &self,
        to: &str,
        language: Language,
        first_name: &str,
        notice: &Notice,
    ) -> Result<(), NotifyError> {
        self.send(&Email::notice(to, language, first_name, notice))
            .await
    }
}

/// `text` as one header line: each control character (a line break in a resource name or an
/// organisation's name) a space, so no value ends the header and starts another.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The whole MIME message of `email` from `from`: the text alone, or multipart/mixed with the text
/// and the calendar attached as `invite.ics`.
fn mime_message(from: &str, email: &Email) -> Result<String, NotifyError> {
    // 8bit keeps the body as written (links such as `token=...` readable in the raw message);
    // lines are short, well under SMTP's 998.
    let text = MimePart::new(
        ContentType::new("text/plain").attribute("charset", "utf-8"),
        email.text.as_str(),
    )
    .transfer_encoding("8bit");
    let body = match &email.calendar {
        None => text,
        Some(calendar) => {
            let content_type = ContentType::new("text/calendar")
                .attribute("charset", "utf-8")
                .attribute("method", calendar.method.as_str());
            let invitation =
                MimePart::new(content_type, calendar.ics.as_str()).attachment("invite.ics");
            MimePart::new("multipart/mixed", vec![text, invitation])
        }
    };
    MessageBuilder::new()
        .from(from)
        .to(deliverable_address(&email.to))
        .subject(one_line(&email.subject))
        .header("Content-Language", Text::new(email.language.code()))
        .body(body)
        .write_to_string()
        .map_err(|e| NotifyError::Mime(e.to_string()))
}

/// What became of a message SES did not take, in words that quote nothing of SES's answer:
/// its text may name the recipient ("... failed the check in region EU-WEST-1:
/// jane@corp.example"), and the reason goes to the log and into the stored delivery.
fn send_failure(error: SdkError<SendEmailError, HttpResponse>) -> NotifyError {
    match &error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status();
            let reason = format!(
                "HTTP {} {}",
                status.as_u16(),
                service.err().code().unwrap_or("without an error code")
            );
            let transient = matches!(service.err(), SendEmailError::TooManyRequestsException(_))
                || status.is_server_error();
            if transient {
                NotifyError::SesUnavailable(reason)
            } else {
                NotifyError::Ses(reason)
            }
        }
        // Sent, but the answer could not be read.
        SdkError::ResponseError(response) => NotifyError::SesUnanswered(format!(
            "an answer that could not be read (HTTP {})",
            response.raw().status().as_u16()
        )),
        // Sent, but the answer timed out.
        SdkError::TimeoutError(_) => {
            NotifyError::SesUnanswered(DisplayErrorContext(error).to_string())
        }
        // Nothing reached SES (no connection, a request that could not be built).
        _ => NotifyError::SesUnavailable(DisplayErrorContext(error).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use mail_parser::{MessageParser, MimeHeaders as _};
    use roster_domain::{
        ids::{OrganisationId, ReservationId, UserId},
        reservation::{NewReservation, Reservation, ResourceKind},
    };

    use super::*;
    use crate::{
        booking::{BookingLine, calendar_summary},
        ics::reservation_ics,
    };

    #[test]
    fn a_refusal_is_told_by_its_status_and_code_never_by_the_text_that_names_the_recipient() {
        use aws_sdk_sesv2::{
            error::ErrorMetadata,
            types::error::{MessageRejected, TooManyRequestsException},
        };
        use aws_smithy_runtime_api::http::StatusCode;
        use aws_smithy_types::body::SdkBody;

        let text = "Email address is not verified. The following identities failed the check \
                    in region EU-WEST-1: jane@corp.example";
        let answer = |status: u16| {
            HttpResponse::new(
                StatusCode::try_from(status).unwrap(),
                SdkBody::from(format!(r#"{{"message":"{text}"}}"#)),
            )
        };
        let meta = |code: &str| ErrorMetadata::builder().code(code).message(text).build();
        let rejected = SendEmailError::MessageRejected(
            MessageRejected::builder()
                .message(text)
                .meta(meta("MessageRejected"))
                .build(),
        );
        let refused = send_failure(SdkError::service_error(rejected, answer(400)));
        assert_eq!(
            refused,
            NotifyError::Ses("HTTP 400 MessageRejected".to_owned())
        );
        let throttled = SendEmailError::TooManyRequestsException(
            TooManyRequestsException::builder()
                .message(text)
                .meta(meta("TooManyRequestsException"))
                .build(),
        );
        let throttled = send_failure(SdkError::service_error(throttled, answer(429)));
        assert_eq!(
            throttled,
            NotifyError::SesUnavailable("HTTP 429 TooManyRequestsException".to_owned())
        );
    }

    #[test]
    fn the_message_is_utf8_text_marked_with_its_language() {
        let mailer = SesMailer::new(
            aws_sdk_sesv2::Client::from_conf(
                aws_sdk_sesv2::Config::builder()
                    .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
                    .build(),
            ),
            "no-reply@roster.example.com",
            None,
        );
        let email = Email::notice(
            "zoe@example.com",
            Language::De,
            "Zoë",
            &Notice::PasswordChanged,
        );
        let mime = mailer.mime(&email).unwrap();
        assert!(mime.contains("To: <zoe@example.com>"), "{mime}");
        assert!(mime.contains("Content-Language: de"), "{mime}");
        assert!(
            mime.contains("Content-Type: text/plain; charset=\"utf-8\"\r\n"),
            "one charset: {mime}"
        );
        assert!(mime.contains("Content-Transfer-Encoding: 8bit"), "{mime}");
        assert!(
            mime.contains("Zoë"),
            "the body is readable as written: {mime}"
        );
        assert!(
            !mime.contains("multipart"),
            "a notice is the text alone: {mime}"
        );
    }

    /// A two-hour reservation of `kind` `name` in Paris from 2026-11-23 08:00 UTC, and its start.
    fn reservation(kind: ResourceKind, name: &str) -> (Reservation, chrono::DateTime<chrono::Utc>) {
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-23T08:00:00Z")
            .unwrap()
            .to_utc();
        let reservation = Reservation::new(
            ReservationId::generate(),
            OrganisationId::generate(),
            NewReservation {
                user_id: UserId::generate(),
                resource_kind: kind,
                resource_name: name.into(),
                site_id: "paris".into(),
                start,
                end: start + chrono::Duration::hours(2),
                recurring: false,
            },
            start,
        );
        (reservation, start)
    }

    #[test]
    fn a_booking_email_carries_its_calendar_as_an_invite_attachment() {
        let (reservation, start) = reservation(
            ResourceKind::Room,
            "Salle « Mont-Blanc », 3e étage; côté cour, avec vue sur le jardin",
        );
        let line = BookingLine::of(&reservation, "Paris Opéra");
        let ics = reservation_ics(
            &reservation,
            &line.site_name,
            &calendar_summary(&line, Language::Fr),
            "bookings@roster.example.com",
            "zoe@example.com",
            CalendarMethod::Cancel,
            start,
        );
        let email = Email::booking(
            "zoe@example.com",
            Language::Fr,
            chrono_tz::Europe::Paris,
            "Zoë",
            &BookingMessage::Cancelled(line),
            Some(Calendar {
                method: CalendarMethod::Cancel,
                ics: ics.clone(),
            }),
        );

        let mime = mime_message("no-reply@roster.example.com", &email).unwrap();
        let message = MessageParser::default()
            .parse(mime.as_bytes())
            .expect("a MIME message");
        assert_eq!(
            message.content_type().map(|c| (c.ctype(), c.subtype())),
            Some(("multipart", Some("mixed")))
        );
        let text = message.body_text(0).expect("a text part");
        assert!(text.contains("Zoë") && text.contains("09:00"), "{text}");

        let attachment = message.attachment(0).expect("an attachment");
        let content_type = attachment.content_type().expect("a content type");
        assert_eq!(
            (content_type.ctype(), content_type.subtype()),
            ("text", Some("calendar"))
        );
        assert_eq!(content_type.attribute("method"), Some("CANCEL"));
        assert_eq!(content_type.attribute("charset"), Some("utf-8"));
        assert_eq!(attachment.attachment_name(), Some("invite.ics"));
        assert_eq!(
            attachment.contents(),
            ics.as_bytes(),
            "the ICS arrives byte for byte, CRLFs included"
        );
    }

    #[test]
    fn a_line_break_in_a_resource_name_stays_inside_the_subject() {
        let (reservation, _) = reservation(
            ResourceKind::Desk,
            "D1\r\nReply-To: x@evil.test\nBcc: y@evil.test",
        );
        let email = Email::booking(
            "zoe@example.com",
            Language::En,
            chrono_tz::Europe::Paris,
            "Zoë",
            &BookingMessage::Confirmed(BookingLine::of(&reservation, "Paris")),
            None,
        );
        let mime = mime_message("no-reply@roster.example.com", &email).unwrap();
        let message = MessageParser::default()
            .parse(mime.as_bytes())
            .expect("a MIME message");
        assert_eq!(
            message.subject(),
            Some("Booking confirmed: D1  Reply-To: x@evil.test Bcc: y@evil.test")
        );
        assert!(message.reply_to().is_none(), "{mime}");
        assert!(message.bcc().is_none(), "{mime}");
    }
}
