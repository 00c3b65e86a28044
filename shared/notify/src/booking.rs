//! What Roster tells a person about their bookings, in their language and at their local time.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use roster_domain::{
    preferences::Language,
    reservation::{Reservation, ResourceKind},
};

use crate::templates::{Rendered, Template, fill, greeting};

/// One booking as a message shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingLine {
    pub resource_kind: ResourceKind,
    pub resource_name: String,
    pub site_name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl BookingLine {
    /// `reservation` at the site called `site_name`.
    pub fn of(reservation: &Reservation, site_name: &str) -> Self {
        Self {
            resource_kind: reservation.resource_kind,
            resource_name: reservation.resource_name.clone(),
            site_name: site_name.to_owned(),
            start: reservation.start,
            end: reservation.end,
        }
    }
}

/// A message Roster sends a person about their bookings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookingMessage {
    Confirmed(BookingLine),
    Cancelled(BookingLine),
    /// The booking starts now and is not checked in yet.
    CheckinReminder(BookingLine),
    /// The bookings starting on local `date` (not empty: a day without bookings gets no summary).
    DailySummary {
        date: NaiveDate,
        bookings: Vec<BookingLine>,
    },
}

/// Renders `message` in `language` for a person in `zone`, greeting them by `first_name`.
///
/// Dates and times are the person's local ones, followed by the zone's IANA name: abbreviations
/// are ambiguous (IST) and many zones have none. A summary lists its bookings by start.
pub fn render_booking(
    message: &BookingMessage,
    language: Language,
    zone: Tz,
    first_name: &str,
) -> Rendered {
    let t = texts(language);
    let template = template(t, message);
    let values = values(t, message, zone);
    Rendered {
        subject: fill(template.subject, &values),
        text: format!(
            "{}\n\n{}",
            fill(greeting(language), &[("{name}", first_name.to_owned())]),
            fill(template.body, &values)
        ),
    }
}

/// A push notification of `message` as `(title, body)`: the email's subject, and its booking
/// lines without greeting or sentences.
pub fn render_push(message: &BookingMessage, language: Language, zone: Tz) -> (String, String) {
    let t = texts(language);
    let title = fill(template(t, message).subject, &values(t, message, zone));
    let body = match message {
        BookingMessage::Confirmed(line)
        | BookingMessage::Cancelled(line)
        | BookingMessage::CheckinReminder(line) => format!(
            "{} · {}\n{}",
            resource(t, line),
            line.site_name,
            when(t, line, zone)
        ),
        BookingMessage::DailySummary { date, bookings } => summary_lines(t, *date, bookings, zone),
    };
    (title, body)
}

/// The title of `line`'s calendar event in `language`: `Desk: Desk 4.12`.
pub fn calendar_summary(line: &BookingLine, language: Language) -> String {
    resource(texts(language), line)
}

/// Every time is shown 24-hour.
const TIME: &str = "%H:%M";

fn template<'t>(t: &'t Texts, message: &BookingMessage) -> &'t Template {
    match message {
        BookingMessage::Confirmed(_) => &t.confirmed,
        BookingMessage::Cancelled(_) => &t.cancelled,
        BookingMessage::CheckinReminder(_) => &t.checkin_reminder,
        BookingMessage::DailySummary { .. } => &t.daily_summary,
    }
}

/// The values of the placeholders `message`'s template takes (see `Texts`).
fn values(t: &Texts, message: &BookingMessage, zone: Tz) -> Vec<(&'static str, String)> {
    match message {
        BookingMessage::Confirmed(line)
        | BookingMessage::Cancelled(line)
        | BookingMessage::CheckinReminder(line) => {
            let details = [
                resource(t, line),
                labelled(t, t.site, &line.site_name),
                labelled(t, t.when, &when(t, line, zone)),
            ]
            .join("\n");
            vec![
                ("{resource}", line.resource_name.clone()),
                ("{details}", details),
            ]
        }
        BookingMessage::DailySummary { date, bookings } => vec![
            ("{date}", date.format(t.date).to_string()),
            ("{zone}", zone.name().to_owned()),
            ("{bookings}", summary_lines(t, *date, bookings, zone)),
        ],
    }
}

/// One line per booking, by start: `09:00–17:00 · Desk: Desk 4.12 · Berlin HQ`.
fn summary_lines(t: &Texts, date: NaiveDate, bookings: &[BookingLine], zone: Tz) -> String {
    let mut bookings: Vec<&BookingLine> = bookings.iter().collect();
    bookings.sort_by_key(|line| line.start);
    bookings
        .iter()
        .map(|line| {
            format!(
                "{} · {} · {}",
                period(t, line, zone, Some(date)),
                resource(t, line),
                line.site_name
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The resource with its kind as label: `Desk: Desk 4.12`.
fn resource(t: &Texts, line: &BookingLine) -> String {
    let kind = match line.resource_kind {
        ResourceKind::Desk => t.desk,
        ResourceKind::Parking => t.parking,
        ResourceKind::Room => t.room,
    };
    labelled(t, kind, &line.resource_name)
}

fn labelled(t: &Texts, label: &str, value: &str) -> String {
    format!("{label}{}{value}", t.label_separator)
}

/// `line`'s period in `zone` with the zone's name: `23.11.2026 09:00–17:00 (Europe/Berlin)`.
fn when(t: &Texts, line: &BookingLine, zone: Tz) -> String {
    format!("{} ({})", period(t, line, zone, None), zone.name())
}

/// `line`'s start and end in `zone`. The start's date is left out when it is `known_date` (the
/// date the reader already sees), the end's when it is the start's.
fn period(t: &Texts, line: &BookingLine, zone: Tz, known_date: Option<NaiveDate>) -> String {
    let start = line.start.with_timezone(&zone);
    let end = line.end.with_timezone(&zone);
    let start_text = if known_date == Some(start.date_naive()) {
        start.format(TIME).to_string()
    } else {
        format!("{} {}", start.format(t.date), start.format(TIME))
    };
    if end.date_naive() == start.date_naive() {
        format!("{start_text}–{}", end.format(TIME))
    } else {
        format!("{start_text} – {} {}", end.format(t.date), end.format(TIME))
    }
}

/// One language's wording of booking messages. Being a struct with one static per language, a
/// language missing a text does not compile.
///
/// Placeholders: single-booking subjects take `{resource}`, their bodies `{details}` (the
/// resource, site and time lines); the summary's subject takes `{date}`, its body `{date}`,
/// `{zone}` and `{bookings}`.
struct Texts {
    /// chrono `strftime` pattern of a date.
    date: &'static str,
    /// Between a label and its value (the typography differs: French puts a space before the colon,
    /// Japanese and Chinese use a full-width colon).
    label_separator: &'static str,
    desk: &'static str,
    parking: &'static str,
    room: &'static str,
    /// Label of the site line.
    site: &'static str,
    /// Label of the time line.
    when: &'static str,
    confirmed: Template,
    cancelled: Template,
    checkin_reminder: Template,
    daily_summary: Template,
}

fn texts(language: Language) -> &'static Texts {
    match language {
        Language::En => &EN,
        Language::De => &DE,
        Language::Fr => &FR,
        Language::It => &IT,
        Language::Hu => &HU,
        Language::Ja => &JA,
        Language::Ro => &RO,
        Language::Ru => &RU,
        Language::Tr => &TR,
        Language::Es => &ES,
        Language::Zh => &ZH,
    }
}

static EN: Texts = Texts {
    date: "%-d %b %Y",
    label_separator: ": ",
    desk: "Desk",
    parking: "Parking space",
    room: "Room",
    site: "Site",
    when: "When",
    confirmed: Template {
        subject: "Booking confirmed: {resource}",
        body: "Your booking is confirmed.\n\n{details}",
    },
    cancelled: Template {
        subject: "Booking cancelled: {resource}",
        body: "Your booking has been cancelled.\n\n{details}",
    },
    checkin_reminder: Template {
        subject: "Please check in: {resource}",
        body: "Your booking starts now. Please check in to confirm that you are using it.\n\n\
               {details}",
    },
    daily_summary: Template {
        subject: "Your bookings on {date}",
        body: "Here are your bookings on {date} ({zone}):\n\n{bookings}",
    },
};

static DE: Texts = Texts {
    date: "%d.%m.%Y",
    label_separator: ": ",
    desk: "Arbeitsplatz",
    parking: "Parkplatz",
    room: "Raum",
    site: "Standort",
    when: "Zeit",
    confirmed: Template {
        subject: "Buchung bestätigt: {resource}",
        body: "Ihre Buchung ist bestätigt.\n\n{details}",
    },
    cancelled: Template {
        subject: "Buchung storniert: {resource}",
        body: "Ihre Buchung wurde storniert.\n\n{details}",
    },
    checkin_reminder: Template {
        subject: "Bitte einchecken: {resource}",
        body: "Ihre Buchung beginnt jetzt. Bitte checken Sie ein, um zu bestätigen, dass Sie \
               sie nutzen.\n\n{details}",
    },
    daily_summary: Template {
        subject: "Ihre Buchungen am {date}",
        body: "Hier sind Ihre Buchungen am {date} ({zone}):\n\n{bookings}",
    },
};

static FR: Texts = Texts {
    date: "%d/%m/%Y",
    label_separator: "\u{a0}: ",
    desk: "Poste de travail",
    parking: "Place de parking",
    room: "Salle",
    site: "Site",
    when: "Horaire",
    confirmed: Template {
        subject: "Réservation confirmée\u{a0}: {resource}",
        body: "Votre réservation est confirmée.\n\n{details}",
    },
    cancelled: Template {
        subject: "Réservation annulée\u{a0}: {resource}",
        body: "Votre réservation a été annulée.\n\n{details}",
    },
    checkin_reminder: Template {
        subject: "Merci d'enregistrer votre arrivée\u{a0}: {resource}",
        body: "Votre réservation commence maintenant. Veuillez enregistrer votre arrivée \
               (check-in) pour confirmer que vous l'utilisez.\n\n{details}",
    },
    daily_summary: Template {
        subject: "Vos réservations du {date}",
        body: "Voici vos réservations du {date} ({zone})\u{a0}:\n\n{bookings}",
    },
};

static IT: Texts = Texts {
    date: "%d/%m/%Y",
    label_separator: ": ",
    desk: "Postazione",
    parking: "Posto auto",
    room: "Sala",
    site: "Sede",
    when: "Orario",
    confirmed: Template {
        subject: "Prenotazione confermata: {resource}",
        body: "La tua prenotazione è confermata.\n\n{details}",
    },
    cancelled: Template {
        subject: "Prenotazione annullata: {resource}",
        body: "La tua prenotazione è stata annullata.\n\n{details}",
    },
    checkin_reminder: Template {
        subject: "Effettua il check-in: {resource}",
        body: "La tua prenotazione inizia ora. Effettua il check-in per confermare che la stai \
               usando.\n\n{details}",
    },
    daily_summary: Template {
        subject: "Le tue prenotazioni del {date}",
        body: "Ecco le tue prenotazioni del {date} ({zone}):\n\n{bookings}",
    },
};

static HU: Texts = Texts {
    date: "%Y. %m. %d.",
    label_separator: ": ",
    desk: "Munkaállomás",
    parking: "Parkolóhely",
    room: "Tárgyaló",
    site: "Telephely",
    when: "Időpont",
    confirmed: Template {
        subject: "Foglalás visszaigazolva: {resource}",
        body: "Foglalását visszaigazoltuk.\n\n{details}",
    },
    cancelled: Template {
        subject: "Foglalás törölve: {resource}",
        body: "Foglalása törlésre került.\n\n{details}",
    },
    checkin_reminder: Template {
        subject: "Kérjük, jelezze érkezését: {resource}",
        body: "Foglalása most kezdődik. Kérjük, a használat megerősítéséhez jelezze érkezését \
               (check-in).\n\n{details}",
    },
    daily_summary: Template {
        subject: "{date} napi foglalásai",
        body: "Az Ön {date} napi foglalásai ({zone}):\n\n{bookings}",
    },
};

static JA: Texts = Texts {
    date: "%Y/%m/%d",
    label_separator: "：",
    desk: "デスク",
    parking: "駐車スペース",
    room: "会議室",
    site: "拠点",
    when: "日時",
    confirmed: Template {
        subject: "予約が確定しました：{resource}",
        body: "ご予約が確定しました。\n\n{details}",
    },
    cancelled: Template {
        subject: "予約がキャンセルされました：{resource}",
        body: "ご予約はキャンセルされました。\n\n{details}",
    },
    checkin_reminder: Template {
        subject: "チェックインしてください：{resource}",
        body: "ご予約の開始時刻になりました。ご利用を確認するため、チェックインしてください。\n\n\
               {details}",
    },
    daily_summary: Template {
        subject: "{date} のご予約",
        body: "{date} のご予約は次のとおりです（{zone}）。\n\n{bookings}",
    },
};

static RO: Texts = Texts {
    date: "%d.%m.%Y",
    label_separator: ": ",
    desk: "Loc de muncă",
    parking: "Loc de parcare",
    room: "Sală",
    site: "Locație",
    when: "Data și ora",
    confirmed: Template {
        subject: "Rezervare confirmată: {resource}",
        body: "Rezervarea dumneavoastră a fost confirmată.\n\n{details}",
    },
    cancelled: Template {
        subject: "Rezervare anulată: {resource}",
        body: "Rezervarea dumneavoastră a fost anulată.\n\n{details}",
    },
    checkin_reminder: Template {
        subject: "Vă rugăm să faceți check-in: {resource}",
        body: "Rezervarea dumneavoastră începe acum. Vă rugăm să faceți check-in pentru a \
               confirma că o folosiți.\n\n{details}",
    },
    daily_summary: Template {
        subject: "Rezervările dumneavoastră din {date}",
        body: "Iată rezervările dumneavoastră din {date} ({zone}):\n\n{bookings}",
    },
};

static RU: Texts = Texts {
    date: "%d.%m.%Y",
    label_separator: ": ",
    desk: "Рабочее место",
    parking: "Парковочное место",
    room: "Переговорная",
    site: "Офис",
    when: "Время",
    confirmed: Template {
        subject: "Бронирование подтверждено: {resource}",
        body: "Ваше бронирование подтверждено.\n\n{details}",
    },
    cancelled: Template {
        subject: "Бронирование отменено: {resource}",
        body: "Ваше бронирование отменено.\n\n{details}",
    },
    checkin_reminder: Template {
        subject: "Отметьтесь о прибытии: {resource}",
        body: "Ваше бронирование начинается сейчас. Пожалуйста, отметьтесь о прибытии \
               (check-in), чтобы подтвердить, что вы им пользуетесь.\n\n{details}",
    },
    daily_summary: Template {
        subject: "Ваши бронирования на {date}",
        body: "Ваши бронирования на {date} ({zone}):\n\n{bookings}",
    },
};

static TR: Texts = Texts {
    date: "%d.%m.%Y",
    label_separator: ": ",
    desk: "Çalışma masası",
    parking: "Park yeri",
    room: "Toplantı odası",
    site: "Lokasyon",
    when: "Tarih ve saat",
    confirmed: Template {
        subject: "Rezervasyon onaylandı: {resource}",
        body: "Rezervasyonunuz onaylandı.\n\n{details}",
    },
    cancelled: Template {
        subject: "Rezervasyon iptal edildi: {resource}",
        body: "Rezervasyonunuz iptal edildi.\n\n{details}",
    },
    checkin_reminder: Template {
        subject: "Lütfen check-in yapın: {resource}",
        body: "Rezervasyonunuz şimdi başlıyor. Kullandığınızı onaylamak için lütfen check-in \
               yapın.\n\n{details}",
    },
    daily_summary: Template {
        subject: "{date} tarihli rezervasyonlarınız",
        body: "{date} tarihli rezervasyonlarınız ({zone}):\n\n{bookings}",
    },
};

static ES: Texts = Texts {
    date: "%d/%m/%Y",
    label_separator: ": ",
    desk: "Puesto de trabajo",
    parking: "Plaza de aparcamiento",
    room: "Sala",
    site: "Sede",
    when: "Horario",
    confirmed: Template {
        subject: "Reserva confirmada: {resource}",
        body: "Tu reserva está confirmada.\n\n{details}",
    },
    cancelled: Template {
        subject: "Reserva cancelada: {resource}",
        body: "Tu reserva se ha cancelado.\n\n{details}",
    },
    checkin_reminder: Template {
        subject: "Haz check-in: {resource}",
        body: "Tu reserva empieza ahora. Haz check-in para confirmar que la estás usando.\n\n\
               {details}",
    },
    daily_summary: Template {
        subject: "Tus reservas del {date}",
        body: "Estas son tus reservas del {date} ({zone}):\n\n{bookings}",
    },
};

static ZH: Texts = Texts {
    date: "%Y/%m/%d",
    label_separator: "：",
    desk: "工位",
    parking: "车位",
    room: "会议室",
    site: "地点",
    when: "时间",
    confirmed: Template {
        subject: "预订已确认：{resource}",
        body: "您的预订已确认。\n\n{details}",
    },
    cancelled: Template {
        subject: "预订已取消：{resource}",
        body: "您的预订已取消。\n\n{details}",
    },
    checkin_reminder: Template {
        subject: "请签到：{resource}",
        body: "您的预订现在开始。请签到，以确认您正在使用。\n\n{details}",
    },
    daily_summary: Template {
        subject: "您 {date} 的预订",
        body: "您 {date} 的预订如下（{zone}）：\n\n{bookings}",
    },
};

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use chrono::TimeZone as _;
    use chrono_tz::{Asia::Kolkata, Asia::Tokyo, Europe::Berlin};

    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    /// A desk booked 08:00–16:00 UTC on 2026-11-23.
    fn desk() -> BookingLine {
        BookingLine {
            resource_kind: ResourceKind::Desk,
            resource_name: "Desk 4.12".into(),
            site_name: "Berlin HQ".into(),
            start: utc(2026, 11, 23, 8, 0),
            end: utc(2026, 11, 23, 16, 0),
        }
    }

    fn parking() -> BookingLine {
        BookingLine {
            resource_kind: ResourceKind::Parking,
            resource_name: "P-07".into(),
            site_name: "Berlin HQ".into(),
            start: utc(2026, 11, 23, 6, 30),
            end: utc(2026, 11, 23, 17, 0),
        }
    }

    fn all_messages() -> Vec<BookingMessage> {
        vec![
            BookingMessage::Confirmed(desk()),
            BookingMessage::Cancelled(desk()),
            BookingMessage::CheckinReminder(desk()),
            BookingMessage::DailySummary {
                date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
                bookings: vec![desk(), parking()],
            },
        ]
    }

    #[test]
    fn every_message_renders_in_every_language_without_placeholders() {
        for language in Language::ALL {
            for message in all_messages() {
                let rendered = render_booking(&message, language, Berlin, "Zsófia");
                let (title, body) = render_push(&message, language, Berlin);
                for part in [&rendered.subject, &rendered.text, &title, &body] {
                    assert!(!part.trim().is_empty(), "{language:?} {message:?}");
                    assert!(
                        !part.contains('{') && !part.contains('}'),
                        "{language:?} {message:?}: {part}"
                    );
                }
                assert!(rendered.text.contains("Zsófia"), "{language:?}");
            }
        }
    }

    #[test]
    fn times_are_the_persons_local_times() {
        for language in Language::ALL {
            for message in all_messages() {
                for (zone, start, end) in [
                    (Berlin, "09:00", "17:00"),
                    (Kolkata, "13:30", "21:30"),
                    (Tokyo, "17:00", "01:00"),
                ] {
                    let text = render_booking(&message, language, zone, "Anna").text;
                    let (_, push) = render_push(&message, language, zone);
                    for part in [&text, &push] {
                        assert!(part.contains(start), "{language:?} {zone}: {part}");
                        assert!(part.contains(end), "{language:?} {zone}: {part}");
                        assert!(!part.contains("08:00"), "UTC shown: {part}");
                    }
                    assert!(text.contains(zone.name()), "{language:?} {zone}: {text}");
                }
            }
        }
    }

    #[test]
    fn dates_follow_the_language() {
        let confirmed = BookingMessage::Confirmed(desk());
        let when = |language| render_booking(&confirmed, language, Berlin, "Anna").text;
        assert!(when(Language::De).contains("Zeit: 23.11.2026 09:00–17:00 (Europe/Berlin)"));
        assert!(when(Language::Ja).contains("日時：2026/11/23 09:00–17:00 (Europe/Berlin)"));
        assert!(when(Language::Zh).contains("2026/11/23 09:00–17:00"));
        assert!(when(Language::Hu).contains("2026. 11. 23. 09:00–17:00"));
        assert!(when(Language::En).contains("When: 23 Nov 2026 09:00–17:00"));
        assert!(when(Language::Fr).contains("Horaire\u{a0}: 23/11/2026 09:00–17:00"));
    }

    #[test]
    fn a_booking_over_midnight_shows_both_dates() {
        let late = BookingMessage::Confirmed(desk());
        let text = render_booking(&late, Language::De, Tokyo, "Anna").text;
        assert!(
            text.contains("23.11.2026 17:00 – 24.11.2026 01:00 (Asia/Tokyo)"),
            "{text}"
        );
    }

    #[test]
    fn the_resource_kind_is_translated() {
        let room = BookingLine {
            resource_kind: ResourceKind::Room,
            resource_name: "Atlas".into(),
            ..desk()
        };
        let text = |line: &BookingLine, language| {
            render_booking(
                &BookingMessage::Confirmed(line.clone()),
                language,
                Berlin,
                "Anna",
            )
            .text
        };
        assert!(text(&room, Language::De).contains("Raum: Atlas"));
        assert!(text(&parking(), Language::Es).contains("Plaza de aparcamiento: P-07"));
        assert!(text(&desk(), Language::Ja).contains("デスク：Desk 4.12"));
        assert_eq!(
            calendar_summary(&parking(), Language::It),
            "Posto auto: P-07"
        );
    }

    #[test]
    fn the_summary_lists_one_booking_a_line_by_start() {
        let summary = BookingMessage::DailySummary {
            date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            bookings: vec![desk(), parking()],
        };
        let rendered = render_booking(&summary, Language::En, Berlin, "Anna");
        assert_eq!(rendered.subject, "Your bookings on 23 Nov 2026");
        let lines: Vec<&str> = rendered.text.lines().collect();
        let parking_at = lines
            .iter()
            .position(|l| *l == "07:30–18:00 · Parking space: P-07 · Berlin HQ");
        let desk_at = lines
            .iter()
            .position(|l| *l == "09:00–17:00 · Desk: Desk 4.12 · Berlin HQ");
        assert!(
            parking_at.is_some() && parking_at.map(|p| p + 1) == desk_at,
            "{}",
            rendered.text
        );
    }

    #[test]
    fn the_check_in_push_is_short() {
        let reminder = BookingMessage::CheckinReminder(desk());
        let (title, body) = render_push(&reminder, Language::De, Berlin);
        assert_eq!(title, "Bitte einchecken: Desk 4.12");
        assert_eq!(
            body,
            "Arbeitsplatz: Desk 4.12 · Berlin HQ\n23.11.2026 09:00–17:00 (Europe/Berlin)"
        );
    }

    /// The `Texts` struct makes every language define every text (a missing one does not compile);
    /// this checks that each one is there in substance: not empty, with the placeholders its
    /// message fills, a date pattern chrono can render, and translated rather than English.
    #[test]
    fn every_language_has_every_text() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        for language in Language::ALL {
            let t = texts(language);
            let single = [&t.confirmed, &t.cancelled, &t.checkin_reminder];
            for template in single {
                assert!(template.subject.contains("{resource}"), "{language:?}");
                assert!(template.body.contains("{details}"), "{language:?}");
            }
            assert!(t.daily_summary.subject.contains("{date}"), "{language:?}");
            for placeholder in ["{date}", "{zone}", "{bookings}"] {
                assert!(
                    t.daily_summary.body.contains(placeholder),
                    "{language:?} {placeholder}"
                );
            }
            for label in [t.desk, t.parking, t.room, t.site, t.when, t.label_separator] {
                assert!(!label.trim().is_empty(), "{language:?}");
            }
            let mut rendered = String::new();
            assert!(
                write!(rendered, "{}", date.format(t.date)).is_ok() && rendered.contains("23"),
                "{language:?}: {}",
                t.date
            );
            if language != Language::En {
                let en = texts(Language::En);
                for (text, english) in [
                    (t.confirmed.body, en.confirmed.body),
                    (t.cancelled.body, en.cancelled.body),
                    (t.checkin_reminder.body, en.checkin_reminder.body),
                    (t.daily_summary.body, en.daily_summary.body),
                    (t.parking, en.parking),
                ] {
                    assert_ne!(text, english, "{language:?} falls back to English");
                }
            }
        }
    }
}
