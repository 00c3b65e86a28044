//! A reservation as an iCalendar object (RFC 5545) that asks the person's calendar to add, update
//! or remove it (iTIP, RFC 5546).
//!
//! A small generator rather than the `icalendar` crate: icalendar 0.17 folds lines by octet count
//! but looks for whitespace by character index, so with non-ASCII text it can end a folded line
//! with a space, which parsers that trim physical lines (ical-rs among them) lose. Lines here are
//! never folded next to whitespace.

use chrono::{DateTime, Utc};
use roster_domain::{profile::deliverable_address, reservation::Reservation};

/// What an iCalendar object asks the receiving calendar to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarMethod {
    /// Add the event, or update it when the calendar has it already (same UID).
    Request,
    /// Remove the event.
    Cancel,
}

impl CalendarMethod {
    /// The iTIP method name, as in `METHOD:` and in the MIME `method=` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
        }
    }

    fn event_status(self) -> &'static str {
        match self {
            Self::Request => "CONFIRMED",
            Self::Cancel => "CANCELLED",
        }
    }
}

const PRODUCT_ID: &str = "-//Roster//Roster Notify//EN";
/// RFC 5545 §3.1: content lines should not be longer than 75 octets, line break excluded.
const MAX_LINE_OCTETS: usize = 75;

/// The iCalendar object for `attendee_email`'s calendar of `reservation` at `site_name`, titled
/// `summary`, from `organizer_email`, stamped `now`.
///
/// The event's UID is derived from the reservation id only, so every message about one reservation
/// updates the same calendar entry. Calendars ignore a message whose `SEQUENCE` is lower than the
/// one they have, so the reservation's `sequence` must be raised by every change they should see,
/// the cancellation included. Times are UTC (`...Z`), which needs no time zone definition.
/// The attendee is shown as having accepted and no reply is asked for: the person made the booking.
/// Both addresses are plain email addresses (they are written into `mailto:` URIs unescaped).
pub fn reservation_ics(
    reservation: &Reservation,
    site_name: &str,
    summary: &str,
    organizer_email: &str,
    attendee_email: &str,
    method: CalendarMethod,
    now: DateTime<Utc>,
) -> String {
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        format!("PRODID:{PRODUCT_ID}"),
        "VERSION:2.0".to_owned(),
        format!("METHOD:{}", method.as_str()),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@roster", reservation.id),
        format!("SEQUENCE:{}", reservation.sequence),
        format!("DTSTAMP:{}", utc_date_time(now)),
        format!("DTSTART:{}", utc_date_time(reservation.start)),
        format!("DTEND:{}", utc_date_time(reservation.end)),
        format!("SUMMARY:{}", escape_text(summary)),
        format!("LOCATION:{}", escape_text(site_name)),
        format!("ORGANIZER:mailto:{organizer_email}"),
        format!(
            "ATTENDEE;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:{}",
            deliverable_address(attendee_email)
        ),
        format!("STATUS:{}", method.event_status()),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    lines.iter().map(|line| fold(line)).collect()
}

/// A DATE-TIME in UTC form (RFC 5545 §3.3.5, form #2): `20261123T080000Z`.
fn utc_date_time(moment: DateTime<Utc>) -> String {
    moment.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, line breaks as `\n`;
/// other control characters, which TEXT does not allow, are dropped (tab is kept).
fn escape_text(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\n' => escaped.push_str("\\n"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => escaped.push_str("\\n"),
            '\t' => escaped.push('\t'),
            c if c.is_control() => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// `line` as physical lines of at most 75 octets, each ending in CRLF; continuations start with one
/// space (RFC 5545 §3.1), and no fold splits a character.
fn fold(line: &str) -> String {
    let mut folded = String::with_capacity(line.len() + line.len() / 20 + 2);
    let mut rest = line;
    // A continuation's leading space counts towards its 75 octets.
    let mut room = MAX_LINE_OCTETS;
    while rest.len() > room {
        let at = fold_point(rest, room);
        folded.push_str(&rest[..at]);
        folded.push_str("\r\n ");
        rest = &rest[at..];
        room = MAX_LINE_OCTETS - 1;
    }
    folded.push_str(rest);
    folded.push_str("\r\n");
    folded
}

/// Where to fold `rest` (longer than `room` octets): the last character boundary within `room`
/// octets with no whitespace on either side, or, in a run of whitespace that long, the last
/// boundary.
fn fold_point(rest: &str, room: usize) -> usize {
    let mut last = 0;
    let mut clean = None;
    let mut previous: Option<char> = None;
    for (index, c) in rest.char_indices() {
        if index > room {
            break;
        }
        if index > 0 {
            last = index;
            if !previous.is_some_and(char::is_whitespace) && !c.is_whitespace() {
                clean = Some(index);
            }
        }
        previous = Some(c);
    }
    clean.unwrap_or(last)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use ical::parser::ical::component::{IcalCalendar, IcalEvent};
    use roster_domain::{
        ids::{OrganisationId, ReservationId, UserId},
        reservation::{NewReservation, ResourceKind},
    };

    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn reservation(resource_name: &str, sequence: u32) -> Reservation {
        let mut reservation = Reservation::new(
            ReservationId::try_from("r-4711").unwrap(),
            OrganisationId::generate(),
            NewReservation {
                user_id: UserId::generate(),
                resource_kind: ResourceKind::Desk,
                resource_name: resource_name.to_owned(),
                site_id: "berlin".into(),
                start: utc(2026, 11, 23, 8, 0),
                end: utc(2026, 11, 23, 16, 30),
                recurring: false,
            },
            utc(2026, 11, 1, 12, 0),
        );
        reservation.sequence = sequence;
        reservation
    }

    fn ics(summary: &str, site_name: &str, method: CalendarMethod) -> String {
        reservation_ics(
            &reservation("Desk 4.12", 3),
            site_name,
            summary,
            "bookings@roster.example",
            "anna@example.com",
            method,
            utc(2026, 11, 20, 17, 5),
        )
    }

    /// Parses with ical-rs, an independent parser, which must find exactly one calendar.
    fn parse(ics: &str) -> IcalCalendar {
        let mut calendars = ical::IcalParser::new(ics.as_bytes());
        let calendar = calendars
            .next()
            .expect("a calendar")
            .expect("valid iCalendar");
        assert!(calendars.next().is_none(), "one calendar only");
        calendar
    }

    fn only_event(calendar: &IcalCalendar) -> &IcalEvent {
        assert_eq!(calendar.events.len(), 1, "{calendar:?}");
        &calendar.events[0]
    }

    /// The value of the single property `name`, as written (TEXT values stay escaped).
    fn value<'a>(properties: &'a [ical::property::Property], name: &str) -> &'a str {
        let mut matching = properties.iter().filter(|p| p.name == name);
        let property = matching.next().unwrap_or_else(|| panic!("no {name}"));
        assert!(matching.next().is_none(), "{name} more than once");
        property.value.as_deref().unwrap_or_default()
    }

    #[test]
    fn a_request_adds_the_reservation_at_its_utc_times() {
        let calendar = parse(&ics(
            "Desk: Desk 4.12",
            "Berlin HQ",
            CalendarMethod::Request,
        ));
        assert_eq!(value(&calendar.properties, "VERSION"), "2.0");
        assert_eq!(value(&calendar.properties, "METHOD"), "REQUEST");
        assert_eq!(value(&calendar.properties, "PRODID"), PRODUCT_ID);

        let event = &only_event(&calendar).properties;
        assert_eq!(value(event, "UID"), "r-4711@roster");
        assert_eq!(value(event, "SEQUENCE"), "3");
        assert_eq!(value(event, "DTSTAMP"), "20261120T170500Z");
        assert_eq!(value(event, "DTSTART"), "20261123T080000Z");
        assert_eq!(value(event, "DTEND"), "20261123T163000Z");
        assert_eq!(value(event, "SUMMARY"), "Desk: Desk 4.12");
        assert_eq!(value(event, "LOCATION"), "Berlin HQ");
        assert_eq!(value(event, "STATUS"), "CONFIRMED");
        assert_eq!(value(event, "ORGANIZER"), "mailto:bookings@roster.example");
        assert_eq!(value(event, "ATTENDEE"), "mailto:anna@example.com");
    }

    #[test]
    fn a_cancellation_removes_the_same_event() {
        let request = parse(&ics("Desk", "Berlin HQ", CalendarMethod::Request));
        let cancel = parse(&ics("Desk", "Berlin HQ", CalendarMethod::Cancel));
        assert_eq!(value(&cancel.properties, "METHOD"), "CANCEL");
        let event = &only_event(&cancel).properties;
        assert_eq!(value(event, "STATUS"), "CANCELLED");
        assert_eq!(
            value(event, "UID"),
            value(&only_event(&request).properties, "UID")
        );
        assert_eq!(value(event, "SEQUENCE"), "3");
        assert_eq!(value(event, "DTSTART"), "20261123T080000Z");
    }

    #[test]
    fn the_uid_is_stable_and_the_sequence_is_the_reservations() {
        let at = |sequence, now| {
            reservation_ics(
                &reservation("Desk 4.12", sequence),
                "Berlin HQ",
                "Desk",
                "bookings@roster.example",
                "anna@example.com",
                CalendarMethod::Request,
                now,
            )
        };
        let first = parse(&at(0, utc(2026, 11, 1, 12, 0)));
        let later = parse(&at(7, utc(2026, 11, 2, 12, 0)));
        let (first, later) = (
            &only_event(&first).properties,
            &only_event(&later).properties,
        );
        assert_eq!(value(first, "UID"), value(later, "UID"));
        assert_eq!(value(first, "SEQUENCE"), "0");
        assert_eq!(value(later, "SEQUENCE"), "7");
    }

    #[test]
    fn text_is_escaped_and_long_lines_fold_without_losing_anything() {
        let name = "Schreibtisch 4,12; Nordflügel \\ Fenster — 会議室「富士」 with a view over the \
                    river, the old town and the cathedral";
        let site = "Zürich, Bahnhofstrasse 1; Gebäude C";
        let ics = ics(
            &format!("{name}\nsecond line"),
            site,
            CalendarMethod::Request,
        );

        let physical_lines: Vec<&str> = ics.split_terminator("\r\n").collect();
        assert!(ics.ends_with("\r\n") && !ics.replace("\r\n", "").contains(['\r', '\n']));
        for line in &physical_lines {
            assert!(
                line.len() <= MAX_LINE_OCTETS,
                "{} octets: {line}",
                line.len()
            );
            assert!(!line.ends_with(char::is_whitespace), "{line:?}");
        }
        assert!(physical_lines.iter().any(|line| line.starts_with(' ')));

        let calendar = parse(&ics);
        let event = &only_event(&calendar).properties;
        assert_eq!(
            value(event, "SUMMARY"),
            "Schreibtisch 4\\,12\\; Nordflügel \\\\ Fenster — 会議室「富士」 with a view over the \
             river\\, the old town and the cathedral\\nsecond line"
        );
        assert_eq!(
            value(event, "LOCATION"),
            "Zürich\\, Bahnhofstrasse 1\\; Gebäude C"
        );
        assert_eq!(value(event, "UID"), "r-4711@roster", "lines after a fold");
    }

    #[test]
    fn a_fold_never_lands_next_to_a_space() {
        // Octet 75 is a space: a fold right there would end the line (or start the next) with it.
        let line = format!("SUMMARY:{} {}", "a".repeat(66), "b".repeat(40));
        let folded = fold(&line);
        for physical in folded.split_terminator("\r\n") {
            assert!(physical.len() <= MAX_LINE_OCTETS);
            assert!(
                !physical.ends_with(' ') && !physical.starts_with("  "),
                "{folded:?}"
            );
        }
        assert_eq!(folded.replace("\r\n ", ""), format!("{line}\r\n"));
    }

    #[test]
    fn whitespace_longer_than_a_line_still_folds() {
        let line = format!("SUMMARY:{}", " ".repeat(200));
        let folded = fold(&line);
        assert!(
            folded
                .split_terminator("\r\n")
                .all(|physical| physical.len() <= MAX_LINE_OCTETS)
        );
        assert_eq!(folded.replace("\r\n ", ""), format!("{line}\r\n"));
    }

    #[test]
    fn control_characters_do_not_reach_the_calendar() {
        assert_eq!(escape_text("a\r\nb\rc\u{7}d\te"), "a\\nb\\ncd\te");
    }
}
