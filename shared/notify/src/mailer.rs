//! Email through SES v2: a plain-text UTF-8 MIME message marked with the person's language.

use mail_builder::{MessageBuilder, headers::text::Text, mime::MimePart};
use roster_domain::preferences::Language;

use crate::templates::{Notice, render};

/// One email to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub language: Language,
    pub subject: String,
    pub text: String,
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
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("building the message: {0}")]
    Mime(String),
    #[error("SES refused or did not answer: {0}")]
    Ses(String),
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

    /// The whole MIME message of `email`.
    pub fn mime(&self, email: &Email) -> Result<String, NotifyError> {
        MessageBuilder::new()
            .from(self.from.as_str())
            .to(email.to.as_str())
            .subject(email.subject.as_str())
            .header("Content-Language", Text::new(email.language.code()))
            // 8bit keeps the body as written (links such as `token=...` readable in the raw
            // message); lines are short, well under SMTP's 998.
            .body(
                MimePart::new("text/plain; charset=utf-8", email.text.as_str())
                    .transfer_encoding("8bit"),
            )
            .write_to_string()
            .map_err(|e| NotifyError::Mime(e.to_string()))
    }

    pub async fn send(&self, email: &Email) -> Result<(), NotifyError> {
        let mime = self.mime(email)?;
        self.ses
            .send_email()
            .from_email_address(&self.from)
            .destination(
                aws_sdk_sesv2::types::Destination::builder()
                    .to_addresses(&email.to)
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
            .map_err(|e| NotifyError::Ses(aws_sdk_sesv2::error::DisplayErrorContext(e).to_string()))
    }

    /// Sends a notice; a failure is logged, never the caller's failure (the change it reports
    /// has already happened).
    pub async fn notify(&self, to: &str, language: Language, first_name: &str, notice: &Notice) {
        if let Err(error) = self
            .send(&Email::notice(to, language, first_name, notice))
            .await
        {
            tracing::error!(%error, "notice not sent");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(mime.contains("charset=utf-8"), "{mime}");
        assert!(mime.contains("Content-Transfer-Encoding: 8bit"), "{mime}");
        assert!(
            mime.contains("Zoë"),
            "the body is readable as written: {mime}"
        );
    }
}
