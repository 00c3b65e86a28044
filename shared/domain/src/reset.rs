//! How often a person is emailed a password reset link they (or anyone knowing their address)
//! asked for: at most [`RESET_EMAILS_PER_HOUR`] in each clock hour (UTC), so asking again and
//! again cannot flood their inbox nor Roster's sending reputation. A request beyond the quota is
//! answered exactly like any other; only the email stays behind. An administrator's link counts
//! too (their sending is refused beyond it). Spending the quota does not lock the person out: the
//! links it sent reached their inbox, each working once within its hour.
//!
//! Invitations an administrator sends (or sends again) to one person of an organisation have a
//! quota of their own in the same windows, [`INVITATION_EMAILS_PER_HOUR`].

use chrono::{DateTime, Utc};

pub const RESET_EMAILS_PER_HOUR: u32 = 5;

pub const INVITATION_EMAILS_PER_HOUR: u32 = 5;

/// The clock hour `now` falls in (`2026-11-23T09`): the window whose quota a request at `now`
/// counts against.
pub fn reset_email_window(now: DateTime<Utc>) -> String {
    now.format("%Y-%m-%dT%H").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn requests_in_the_same_clock_hour_share_a_window_and_the_next_hour_starts_afresh() {
        let window = reset_email_window(at("2026-11-23T09:00:00Z"));
        assert_eq!(window, "2026-11-23T09");
        assert_eq!(reset_email_window(at("2026-11-23T09:59:59.999Z")), window);
        assert_eq!(
            reset_email_window(at("2026-11-23T10:00:00Z")),
            "2026-11-23T10"
        );
        assert_eq!(
            reset_email_window(at("2026-11-23T10:30:00+01:00")),
            window,
            "windows are hours of UTC"
        );
    }
}
