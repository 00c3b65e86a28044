//! Every key of the table, built in one place. `pk`/`sk` strings; `#` separates parts, and ids are
//! restricted (see `roster_domain::ids`) so a part can never contain it.

use chrono::{DateTime, Utc};
use roster_domain::{
    idempotency::IdempotencyKey,
    ids::{
        AccountId, DeviceId, ImportId, OrganisationId, ReservationId, SessionId, UserId, VehicleId,
    },
    session::secret_hash,
};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

fn key(pk: String, sk: impl Into<String>) -> Key {
    Key { pk, sk: sk.into() }
}

/// DynamoDB's longest partition and sort key values, in bytes of UTF-8.
const PARTITION_KEY_BYTES_MAX: usize = 2048;
const SORT_KEY_BYTES_MAX: usize = 1024;

impl Key {
    /// Whether DynamoDB can hold an item at this key. A longer one (built from an overlong
    /// value a client sent) names nothing, and DynamoDB refuses a read of it as invalid.
    pub fn can_exist(&self) -> bool {
        self.pk.len() <= PARTITION_KEY_BYTES_MAX && self.sk.len() <= SORT_KEY_BYTES_MAX
    }
}

pub fn organisation(organisation: &OrganisationId) -> Key {
    key(format!("ORG#{organisation}"), "ORG")
}

/// The partition of one membership: the membership itself, its vehicles and devices.
pub fn member_partition(organisation: &OrganisationId, user: &UserId) -> String {
    format!("{}{user}", member_partitions_of(organisation))
}

/// The `gsi2` partition of an organisation's members provisioned by SCIM (only they carry it).
pub fn scim_users_of(organisation: &OrganisationId) -> String {
    format!("ORG#{organisation}#SCIM_USERS")
}

/// What the partition of every membership of `organisation` starts with.
pub fn member_partitions_of(organisation: &OrganisationId) -> String {
    format!("ORG#{organisation}#USER#")
}

/// The sort key of a membership in its partition.
pub const MEMBERSHIP_SK: &str = "USER";

pub fn membership(organisation: &OrganisationId, user: &UserId) -> Key {
    key(member_partition(organisation, user), MEMBERSHIP_SK)
}

/// What a SCIM delete of `user` left to do after its commit, in the partition that was theirs.
pub fn scim_deletion(organisation: &OrganisationId, user: &UserId) -> Key {
    key(member_partition(organisation, user), "SCIM_DELETION")
}

pub const VEHICLE_PREFIX: &str = "VEHICLE#";

pub fn vehicle(organisation: &OrganisationId, user: &UserId, vehicle: &VehicleId) -> Key {
    key(
        member_partition(organisation, user),
        format!("{VEHICLE_PREFIX}{vehicle}"),
    )
}

pub const DEVICE_PREFIX: &str = "DEVICE#";

pub fn device(organisation: &OrganisationId, user: &UserId, device: &DeviceId) -> Key {
    key(
        member_partition(organisation, user),
        format!("{DEVICE_PREFIX}{device}"),
    )
}

/// `gsi2pk` of the devices that push through one SNS platform endpoint: the same phone
/// registered in several organisations, or by several people, shares the endpoint of its token
/// (`gsi2sk` is the device's own key, [`device_holder`]).
pub fn push_endpoint_devices(endpoint_arn: &str) -> String {
    format!("PUSH_ENDPOINT#{endpoint_arn}")
}

/// `gsi2pk` of the devices that push to one browser's Web Push subscription, by the id of its
/// destination (`PushTarget::device_id`): the same browser registered in several organisations,
/// or by several people (`gsi2sk` is the device's own key, [`device_holder`]).
pub fn web_push_devices(destination: &DeviceId) -> String {
    format!("PUSH_WEB#{destination}")
}

/// `gsi2sk` of a device under its endpoint or subscription: its `pk` and `sk` (a `#` joins them, as in every key).
pub fn device_holder(device: &Key) -> String {
    format!("{}#{}", device.pk, device.sk)
}

pub fn account(account: &AccountId) -> Key {
    key(format!("ACCOUNT#{account}"), "ACCOUNT")
}

/// Uniqueness of a login email across Roster (normalised).
pub fn email_sentinel(normalised_email: &str) -> Key {
    key(format!("EMAIL#{normalised_email}"), "EMAIL")
}

/// One membership per account and organisation.
pub fn account_member_sentinel(organisation: &OrganisationId, account: &AccountId) -> Key {
    key(format!("ORG#{organisation}"), format!("ACCOUNT#{account}"))
}

pub fn username_sentinel(organisation: &OrganisationId, normalised_username: &str) -> Key {
    key(
        format!("ORG#{organisation}"),
        format!("USERNAME#{normalised_username}"),
    )
}

pub fn external_id_sentinel(organisation: &OrganisationId, external_id: &str) -> Key {
    key(
        format!("ORG#{organisation}"),
        format!("EXTERNAL_ID#{external_id}"),
    )
}

pub fn plate_sentinel(organisation: &OrganisationId, normalised_plate: &str) -> Key {
    key(
        format!("ORG#{organisation}"),
        format!("PLATE#{normalised_plate}"),
    )
}

pub fn session(token_hash: &str) -> Key {
    key(format!("SESSION#{token_hash}"), "SESSION")
}

/// `gsi1pk` of an account's sessions (sorted by `gsi1sk` = creation time).
pub fn sessions_of(account: &AccountId) -> String {
    format!("ACCOUNT#{account}#SESSIONS")
}

/// `gsi2pk` of one session under its public id: how the account's owner finds it to end it
/// without its token (`gsi2sk` is [`SESSION_HANDLE`]).
pub fn session_handle(account: &AccountId, session: &SessionId) -> String {
    format!("ACCOUNT#{account}#SESSION#{session}")
}

pub const SESSION_HANDLE: &str = "SESSION";

/// Consecutive failed logins of a login name or address (by its SHA-256, never in clear).
pub fn login_failures(subject_hash: &str) -> Key {
    key(format!("LOGIN_FAILURES#{subject_hash}"), "LOGIN_FAILURES")
}

pub fn mfa_challenge(token_hash: &str) -> Key {
    key(format!("MFA_CHALLENGE#{token_hash}"), "MFA_CHALLENGE")
}

pub fn reset_token(token_hash: &str) -> Key {
    key(format!("RESET_TOKEN#{token_hash}"), "RESET_TOKEN")
}

/// The reset links an account was emailed on request in one clock hour
/// (`roster_domain::reset::reset_email_window`), beside the account.
pub fn reset_emails(account: &AccountId, window: &str) -> Key {
    key(
        format!("ACCOUNT#{account}"),
        format!("RESET_EMAILS#{window}"),
    )
}

/// A link that moves a login to the address it was sent to.
pub fn email_change_token(token_hash: &str) -> Key {
    key(format!("EMAIL_CHANGE#{token_hash}"), "EMAIL_CHANGE")
}

/// Which of an account's email-change links is its newest, the one that works (a sentinel
/// owned by its token's SHA-256), beside the account.
pub fn email_change_pending(account: &AccountId) -> Key {
    key(format!("ACCOUNT#{account}"), "EMAIL_CHANGE_PENDING")
}

/// The links an account sent to a new login address in one clock hour
/// (`roster_domain::reset::reset_email_window`), beside the account.
pub fn email_change_emails(account: &AccountId, window: &str) -> Key {
    key(
        format!("ACCOUNT#{account}"),
        format!("EMAIL_CHANGE_EMAILS#{window}"),
    )
}

/// The invitations a person of an organisation was emailed in one clock hour
/// (`roster_domain::reset::reset_email_window`), beside their membership.
pub fn invitation_emails(organisation: &OrganisationId, user: &UserId, window: &str) -> Key {
    key(
        member_partition(organisation, user),
        format!("INVITATION_EMAILS#{window}"),
    )
}

/// `gsi1pk` of an organisation's users (sorted by `gsi1sk` = last and first name, then id).
pub fn users_of(organisation: &OrganisationId) -> String {
    format!("ORG#{organisation}#USERS")
}

pub const SITE_PREFIX: &str = "SITE#";

pub fn site(organisation: &OrganisationId, site: &str) -> Key {
    key(
        format!("ORG#{organisation}"),
        format!("{SITE_PREFIX}{site}"),
    )
}

pub fn invitation(token_hash: &str) -> Key {
    key(format!("INVITATION#{token_hash}"), "INVITATION")
}

pub fn audit_partition(organisation: &OrganisationId) -> String {
    format!("ORG#{organisation}#AUDIT")
}

/// Audit entries sort by time (RFC 3339 in UTC sorts as text), then a random id.
pub fn audit_entry(
    organisation: &OrganisationId,
    at: chrono::DateTime<chrono::Utc>,
    id: &str,
) -> Key {
    key(
        audit_partition(organisation),
        format!(
            "{}#{id}",
            at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        ),
    )
}

pub const API_KEY_PREFIX: &str = "API_KEY#";

/// An API key by the SHA-256 of its secret.
pub fn api_key(key_hash: &str) -> Key {
    key(format!("API_KEY#{key_hash}"), "API_KEY")
}

pub const SCIM_TOKEN_PREFIX: &str = "SCIM_TOKEN#";

/// An API key or SCIM token (`prefix`) in its organisation's list.
pub fn key_listing(organisation: &OrganisationId, prefix: &str, id: &str) -> Key {
    key(format!("ORG#{organisation}"), format!("{prefix}{id}"))
}

pub fn directory_partition(organisation: &OrganisationId) -> String {
    format!("ORG#{organisation}#DIRECTORY")
}

/// A person's entry under one search term; `begins_with(sk, prefix)` finds them by prefix.
pub fn directory_entry(organisation: &OrganisationId, term: &str, user: &UserId) -> Key {
    key(directory_partition(organisation), format!("{term}#{user}"))
}

/// The search term of a directory entry's sort key (terms hold no `#`).
pub fn directory_term(sk: &str) -> &str {
    sk.split_once('#').map_or(sk, |(term, _)| term)
}

/// The partition of one import: its record (`IMPORT`) and its report, in chunks (`ROWS#...`)
/// that sort after the record, so one `Query` reads the record with the first rows.
pub fn import_partition(organisation: &OrganisationId, import: &ImportId) -> String {
    format!("{}{import}", import_partitions_of(organisation))
}

/// What the partition of every import of `organisation` starts with.
pub fn import_partitions_of(organisation: &OrganisationId) -> String {
    format!("ORG#{organisation}#IMPORT#")
}

/// The sort key of an import's record in its partition.
pub const IMPORT_SK: &str = "IMPORT";

pub fn import(organisation: &OrganisationId, import: &ImportId) -> Key {
    key(import_partition(organisation, import), IMPORT_SK)
}

pub const IMPORT_ROWS_PREFIX: &str = "ROWS#";

/// A sort key after every part of an import's report: no chunk number is longer than ten
/// digits (padded to eight, `u32::MAX` has ten, and `ROWS#50000000` sorts after `ROWS#4294967295`).
pub const IMPORT_ROWS_LAST: &str = "ROWS#9999999999";

/// The `chunk`th part of an import's report (zero-padded so chunks sort by number).
pub fn import_rows(organisation: &OrganisationId, import: &ImportId, chunk: u32) -> Key {
    key(
        import_partition(organisation, import),
        format!("{IMPORT_ROWS_PREFIX}{chunk:08}"),
    )
}

/// `gsi1pk` of an organisation's imports (sorted by `gsi1sk` = creation time, then id).
pub fn imports_of(organisation: &OrganisationId) -> String {
    format!("ORG#{organisation}#IMPORTS")
}

/// Uniqueness of a SCIM `userName` in an organisation (lowercased).
pub fn scim_user_name_sentinel(organisation: &OrganisationId, user_name_key: &str) -> Key {
    key(
        format!("ORG#{organisation}"),
        format!("SCIM_USERNAME#{user_name_key}"),
    )
}

/// Lookup and uniqueness of a SCIM User's `externalId` in an organisation, whether or not the
/// organisation takes it into the profile; by its SHA-256, as an `externalId` may be longer than a
/// sort key holds.
pub fn scim_external_id_sentinel(organisation: &OrganisationId, external_id: &str) -> Key {
    key(
        format!("ORG#{organisation}"),
        format!("SCIM_EXTERNAL_ID#{}", secret_hash(external_id)),
    )
}

pub const SCIM_GROUP_PREFIX: &str = "SCIM_GROUP#";

/// A SCIM group; the organisation's groups are one `Query` of its partition by prefix.
pub fn scim_group(organisation: &OrganisationId, group: &str) -> Key {
    key(
        format!("ORG#{organisation}"),
        format!("{SCIM_GROUP_PREFIX}{group}"),
    )
}

/// A small item per SCIM group, written and deleted with it, so the groups can be counted
/// without reading them (a group holds its members).
pub const SCIM_GROUP_MARKER_PREFIX: &str = "SCIM_GROUP_KEY#";

pub fn scim_group_marker(organisation: &OrganisationId, group: &str) -> Key {
    key(
        format!("ORG#{organisation}"),
        format!("{SCIM_GROUP_MARKER_PREFIX}{group}"),
    )
}

/// The members a SCIM group write has still to write (when they were too many to write with
/// the group), kept until they are written.
pub fn scim_group_pending(organisation: &OrganisationId, group: &str) -> Key {
    key(
        format!("ORG#{organisation}"),
        format!("SCIM_GROUP_PENDING#{group}"),
    )
}

/// The `gsi1` partition of the SCIM groups whose members a write left pending, across
/// organisations, sorted by when the write saved the group ([`scim_group_pending_since`]): how
/// the jobs function finds the ones a request cut off part-way left behind. The entries are the
/// groups' markers (a few dozen bytes each), not the pending members (up to 10,000 ids).
pub const SCIM_GROUPS_PENDING: &str = "SCIM_GROUPS_PENDING";

/// `gsi1sk` of the members of `group` left pending by a write that saved it at `saved`.
pub fn scim_group_pending_since(
    saved: DateTime<Utc>,
    organisation: &OrganisationId,
    group: &str,
) -> String {
    format!("{}#{organisation}#{group}", sortable_time(saved))
}

/// The organisation and group of a `scim_group_marker` key, as it is read back from `gsi1`.
pub fn scim_group_marked(key: &Key) -> Option<(OrganisationId, String)> {
    let organisation = key.pk.strip_prefix("ORG#")?;
    let group = key.sk.strip_prefix(SCIM_GROUP_MARKER_PREFIX)?;
    Some((
        OrganisationId::try_from(organisation).ok()?,
        group.to_owned(),
    ))
}

/// Uniqueness of a SCIM group's `displayName` in an organisation (lowercased).
pub fn scim_group_name_sentinel(organisation: &OrganisationId, name_key: &str) -> Key {
    key(
        format!("ORG#{organisation}"),
        format!("SCIM_GROUP_NAME#{name_key}"),
    )
}

/// The column mapping an organisation saved for its imports.
pub fn import_mapping(organisation: &OrganisationId) -> Key {
    key(format!("ORG#{organisation}"), "IMPORT_MAPPING")
}

/// Which sync drop of `organisation` is the newest one: the only one that may still write.
pub fn sync_turn(organisation: &OrganisationId) -> Key {
    key(format!("ORG#{organisation}"), "SYNC_TURN")
}

pub fn reservation(organisation: &OrganisationId, reservation: &ReservationId) -> Key {
    key(format!("ORG#{organisation}#RES#{reservation}"), "RES")
}

/// What a reservation request under an `Idempotency-Key` made (the feed's retries find it),
/// under the key's digest.
pub fn reservation_request(organisation: &OrganisationId, request: &IdempotencyKey) -> Key {
    key(
        format!("ORG#{organisation}#REQUEST#{}", request.digest()),
        "REQUEST",
    )
}

/// What a platform request to create an organisation under an `Idempotency-Key` made (its
/// retries find it), under the key's digest.
pub fn platform_request(request: &IdempotencyKey) -> Key {
    key(format!("PLATFORM#REQUEST#{}", request.digest()), "REQUEST")
}

/// The `gsi1` partition of a person's reservations (sorted by start).
pub fn reservations_of(organisation: &OrganisationId, user: &UserId) -> String {
    format!("ORG#{organisation}#USER#{user}#RESERVATIONS")
}

/// A reservation's entry in its site's day (the live plan), sorted by start.
pub fn site_day_entry(
    organisation: &OrganisationId,
    site: &str,
    day: &str,
    start: &str,
    reservation: &ReservationId,
) -> Key {
    key(
        site_day(organisation, site, day),
        format!("{start}#{reservation}"),
    )
}

pub fn site_day(organisation: &OrganisationId, site: &str, day: &str) -> String {
    format!("ORG#{organisation}#SITE#{site}#DAY#{day}")
}

/// The partition of the check-in reminders due in one 5-minute bucket, across organisations.
pub fn checkin_bucket(bucket: &str) -> String {
    format!("CHECKIN#{bucket}")
}

pub fn checkin_entry(
    bucket: &str,
    organisation: &OrganisationId,
    reservation: &ReservationId,
) -> Key {
    key(
        checkin_bucket(bucket),
        format!("{organisation}#{reservation}"),
    )
}

/// The partition of the daily summaries due in one 15-minute bucket, across organisations.
pub fn summary_bucket(bucket: &str) -> String {
    format!("SUMMARY#{bucket}")
}

/// A reservation in the summary a person gets for one local date.
pub fn summary_entry(
    bucket: &str,
    organisation: &OrganisationId,
    user: &UserId,
    date: &str,
    reservation: &ReservationId,
) -> Key {
    key(
        summary_bucket(bucket),
        format!("{organisation}#{user}#{date}#{reservation}"),
    )
}

/// The partition of the daily summaries to send again (SES turned them away, or a run stopped
/// before them), across organisations; sorted by bucket (fixed width, so text order is time
/// order).
pub const SUMMARY_RETRIES: &str = "SUMMARY_RETRIES";

/// A person's summary of one date, due in `bucket`, to send again.
pub fn summary_retry(
    bucket: &str,
    organisation: &OrganisationId,
    user: &UserId,
    date: &str,
) -> Key {
    key(
        SUMMARY_RETRIES.to_owned(),
        format!("{bucket}#{organisation}#{user}#{date}"),
    )
}

/// What the summary entries of a person's summary of one date start with, in their bucket.
pub fn summary_entries_of(organisation: &OrganisationId, user: &UserId, date: &str) -> String {
    format!("{organisation}#{user}#{date}#")
}

/// The record of one message on one channel (`subject` says what about, `channel` how), which
/// makes its sending happen once.
pub fn delivery(organisation: &OrganisationId, subject: &str, channel: &str) -> Key {
    key(
        format!("ORG#{organisation}#DELIVERY#{subject}"),
        channel.to_owned(),
    )
}

/// The partition of booking emails held for a retry (`roster_domain::reservation::HeldBookingEmail`),
/// across organisations, sorted by when each is next tried. It only fills while SES turns emails
/// away.
pub const HELD_EMAILS: &str = "HELD_EMAILS";

/// A moment as the keys that sort by time hold it: fixed width, so text order is time order.
pub fn sortable_time(moment: DateTime<Utc>) -> String {
    moment.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A booking email on `channel` about `reservation`, held to be tried again at `retry_at`.
pub fn held_email(
    retry_at: DateTime<Utc>,
    organisation: &OrganisationId,
    reservation: &ReservationId,
    channel: &str,
) -> Key {
    key(
        HELD_EMAILS.to_owned(),
        format!(
            "{}#{organisation}#{reservation}#{channel}",
            sortable_time(retry_at)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> OrganisationId {
        OrganisationId::try_from("o1").unwrap()
    }

    fn user() -> UserId {
        UserId::try_from("u1").unwrap()
    }

    #[test]
    fn a_key_past_dynamodb_s_limits_cannot_exist() {
        let name = |bytes: usize| scim_user_name_sentinel(&org(), &"é".repeat(bytes / 2));
        let room = SORT_KEY_BYTES_MAX - name(0).sk.len();
        assert!(name(room).can_exist());
        assert!(!name(room + 2).can_exist());
        assert!(!email_sentinel(&"a".repeat(PARTITION_KEY_BYTES_MAX)).can_exist());
    }

    #[test]
    fn a_scim_deletion_is_kept_in_the_member_partition_apart_from_what_it_held() {
        let deletion = scim_deletion(&org(), &user());
        assert_eq!(deletion.pk, "ORG#o1#USER#u1");
        assert_eq!(deletion.pk, membership(&org(), &user()).pk);
        assert_ne!(deletion.sk, MEMBERSHIP_SK);
        for prefix in [VEHICLE_PREFIX, DEVICE_PREFIX] {
            assert!(!deletion.sk.starts_with(prefix), "{prefix}");
        }
    }

    #[test]
    fn a_groups_pending_members_are_kept_beside_it_outside_the_groups_prefix() {
        let (group, pending) = (scim_group(&org(), "g1"), scim_group_pending(&org(), "g1"));
        assert_eq!(pending.pk, group.pk);
        assert_eq!(pending.sk, "SCIM_GROUP_PENDING#g1");
        for prefix in [SCIM_GROUP_PREFIX, SCIM_GROUP_MARKER_PREFIX] {
            assert!(!pending.sk.starts_with(prefix), "{prefix}");
        }
        assert_ne!(pending, scim_group_pending(&org(), "g2"));
    }

    #[test]
    fn pending_scim_groups_sort_by_when_they_were_saved_and_name_their_group() {
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        let early = scim_group_pending_since(at("2026-11-22T09:59:59Z"), &org(), "zz");
        let late = scim_group_pending_since(at("2026-11-22T10:00:00Z"), &org(), "aa");
        assert!(early < late);
        assert!(late.as_str() < sortable_time(at("2026-11-22T10:00:01Z")).as_str());
        assert!(early.as_str() < sortable_time(at("2026-11-22T10:00:00Z")).as_str());
        let key = scim_group_marker(&org(), "g1");
        assert_eq!(scim_group_marked(&key), Some((org(), "g1".to_owned())));
        assert_eq!(scim_group_marked(&scim_group(&org(), "g1")), None);
        assert_eq!(scim_group_marked(&scim_group_pending(&org(), "g1")), None);
    }

    #[test]
    fn an_organisation_keeps_its_import_mapping_and_sync_turn_beside_it() {
        let (organisation, mapping, turn) = (
            super::organisation(&org()),
            import_mapping(&org()),
            sync_turn(&org()),
        );
        assert_eq!(
            (mapping.pk.as_str(), turn.pk.as_str()),
            ("ORG#o1", "ORG#o1")
        );
        assert_eq!(organisation.pk, turn.pk);
        assert_eq!(turn.sk, "SYNC_TURN");
        assert_ne!(turn.sk, mapping.sk);
        assert_ne!(turn.sk, organisation.sk);
    }

    #[test]
    fn an_accounts_reset_emails_are_counted_beside_it_one_item_per_hour() {
        let account_id = AccountId::try_from("a1").unwrap();
        let nine = reset_emails(&account_id, "2026-11-23T09");
        assert_eq!(nine.pk, account(&account_id).pk);
        assert_eq!(nine.sk, "RESET_EMAILS#2026-11-23T09");
        assert_ne!(nine, reset_emails(&account_id, "2026-11-23T10"));
        assert_ne!(nine.sk, account(&account_id).sk);
        let moves = email_change_emails(&account_id, "2026-11-23T09");
        assert_eq!(moves.pk, nine.pk);
        assert_eq!(moves.sk, "EMAIL_CHANGE_EMAILS#2026-11-23T09");
        let pending = email_change_pending(&account_id);
        assert_eq!(pending.pk, nine.pk);
        assert!(
            !moves.sk.starts_with(pending.sk.as_str()) && pending.sk != account(&account_id).sk
        );
    }

    #[test]
    fn a_persons_invitation_emails_are_counted_beside_their_membership_one_item_per_hour() {
        let nine = invitation_emails(&org(), &user(), "2026-11-23T09");
        assert_eq!(nine.pk, membership(&org(), &user()).pk);
        assert_eq!(nine.sk, "INVITATION_EMAILS#2026-11-23T09");
        assert_ne!(nine, invitation_emails(&org(), &user(), "2026-11-23T10"));
        assert!(!nine.sk.starts_with(VEHICLE_PREFIX) && !nine.sk.starts_with(DEVICE_PREFIX));
    }

    #[test]
    fn a_membership_its_vehicles_and_devices_share_one_partition() {
        let membership = membership(&org(), &user());
        let vehicle = vehicle(&org(), &user(), &VehicleId::try_from("v1").unwrap());
        let device = device(&org(), &user(), &DeviceId::try_from("d1").unwrap());
        assert_eq!(
            membership,
            Key {
                pk: "ORG#o1#USER#u1".into(),
                sk: "USER".into()
            }
        );
        assert_eq!(vehicle.pk, membership.pk);
        assert_eq!(vehicle.sk, "VEHICLE#v1");
        assert_eq!(device.pk, membership.pk);
        assert_eq!(device.sk, "DEVICE#d1");
    }

    #[test]
    fn devices_sharing_a_phone_s_endpoint_are_found_under_it_each_by_its_own_key() {
        let arn = "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/roster/3b1c";
        let devices = push_endpoint_devices(arn);
        assert_eq!(devices, format!("PUSH_ENDPOINT#{arn}"));
        assert_ne!(devices, push_endpoint_devices(&format!("{arn}0")));
        let other = OrganisationId::try_from("o2").unwrap();
        let (here, there) = (
            device(&org(), &user(), &DeviceId::try_from("d1").unwrap()),
            device(&other, &user(), &DeviceId::try_from("d1").unwrap()),
        );
        assert_eq!(device_holder(&here), "ORG#o1#USER#u1#DEVICE#d1");
        assert_ne!(device_holder(&here), device_holder(&there));
        let browser = DeviceId::try_from("0a1b").unwrap();
        assert_eq!(web_push_devices(&browser), "PUSH_WEB#0a1b");
        assert_ne!(web_push_devices(&browser), push_endpoint_devices("0a1b"));
    }

    #[test]
    fn list_cursors_check_partitions_against_prefixes_only_their_organisation_has() {
        assert!(
            membership(&org(), &user())
                .pk
                .starts_with(&member_partitions_of(&org()))
        );
        let other = OrganisationId::try_from("o10").unwrap();
        assert!(!member_partition(&other, &user()).starts_with(&member_partitions_of(&org())));
        let import_id = ImportId::try_from("i1").unwrap();
        assert_eq!(import(&org(), &import_id).pk, "ORG#o1#IMPORT#i1");
        assert!(
            import(&org(), &import_id)
                .pk
                .starts_with(&import_partitions_of(&org()))
        );
        assert_ne!(scim_users_of(&org()), users_of(&org()));
    }

    #[test]
    fn sentinels_of_an_organisation_live_in_its_partition() {
        let account = AccountId::try_from("a1").unwrap();
        assert_eq!(account_member_sentinel(&org(), &account).sk, "ACCOUNT#a1");
        assert_eq!(
            username_sentinel(&org(), "janj"),
            Key {
                pk: "ORG#o1".into(),
                sk: "USERNAME#janj".into()
            }
        );
        assert_eq!(plate_sentinel(&org(), "BRS1234").sk, "PLATE#BRS1234");
        assert_eq!(external_id_sentinel(&org(), "E-7").sk, "EXTERNAL_ID#E-7");
        let scim_external_id = scim_external_id_sentinel(&org(), &"7".repeat(2048));
        assert_eq!(scim_external_id.pk, "ORG#o1");
        assert_eq!(
            scim_external_id.sk,
            format!("SCIM_EXTERNAL_ID#{}", secret_hash(&"7".repeat(2048)))
        );
        assert!(scim_external_id.can_exist(), "any externalId has a key");
        assert_ne!(
            scim_external_id_sentinel(&org(), "E-7"),
            scim_external_id_sentinel(&org(), "e-7"),
            "externalId is case-exact"
        );
        assert_eq!(
            organisation(&org()),
            Key {
                pk: "ORG#o1".into(),
                sk: "ORG".into()
            }
        );
    }

    #[test]
    fn an_import_record_sorts_before_its_report_chunks_which_sort_by_number() {
        let import = ImportId::try_from("i1").unwrap();
        let record = super::import(&org(), &import);
        let first = import_rows(&org(), &import, 0);
        let tenth = import_rows(&org(), &import, 10);
        assert_eq!(record.pk, first.pk);
        assert_eq!(first.pk, "ORG#o1#IMPORT#i1");
        assert!(record.sk < first.sk && first.sk < tenth.sk);
        assert_eq!(tenth.sk, "ROWS#00000010");
        for chunk in [0, 10, 50_000_000, 999_999_999, u32::MAX] {
            assert!(
                import_rows(&org(), &import, chunk).sk.as_str() <= IMPORT_ROWS_LAST,
                "{chunk}"
            );
        }
    }

    #[test]
    fn held_emails_sort_by_when_they_are_next_tried() {
        let reservation = ReservationId::try_from("r1").unwrap();
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        let early = held_email(at("2026-11-22T09:59:59Z"), &org(), &reservation, "b");
        let late = held_email(at("2026-11-22T10:00:00Z"), &org(), &reservation, "a");
        assert_eq!(early.pk, "HELD_EMAILS");
        assert_eq!(late.sk, "2026-11-22T10:00:00Z#o1#r1#a");
        assert!(early.sk < late.sk);
        assert!(late.sk.as_str() < sortable_time(at("2026-11-22T10:00:01Z")).as_str());
    }

    #[test]
    fn summaries_to_send_again_sort_by_bucket_and_find_their_entries() {
        let retry = |bucket| summary_retry(bucket, &org(), &user(), "2026-11-24");
        let (six, seven) = (retry("2026-11-23T18:00Z"), retry("2026-11-23T19:00Z"));
        assert_eq!(
            (six.pk.as_str(), six.sk.as_str()),
            ("SUMMARY_RETRIES", "2026-11-23T18:00Z#o1#u1#2026-11-24")
        );
        assert!(six.sk < seven.sk && six.pk == seven.pk);
        assert_ne!(six.pk, summary_bucket("2026-11-23T18:00Z"));
        let reservation = ReservationId::try_from("r1").unwrap();
        let entry = summary_entry(
            "2026-11-23T18:00Z",
            &org(),
            &user(),
            "2026-11-24",
            &reservation,
        );
        assert!(
            entry
                .sk
                .starts_with(&summary_entries_of(&org(), &user(), "2026-11-24"))
        );
        assert!(
            !entry
                .sk
                .starts_with(&summary_entries_of(&org(), &user(), "2026-11-2"))
        );
    }

    #[test]
    fn a_session_is_found_by_its_public_id_only_under_its_own_account() {
        let account = AccountId::try_from("a1").unwrap();
        let session = SessionId::try_from("s1").unwrap();
        assert_eq!(session_handle(&account, &session), "ACCOUNT#a1#SESSION#s1");
        let other = AccountId::try_from("a2").unwrap();
        assert_ne!(
            session_handle(&other, &session),
            session_handle(&account, &session)
        );
        assert_ne!(session_handle(&account, &session), sessions_of(&account));
    }

    #[test]
    fn emails_are_unique_across_organisations() {
        assert_eq!(
            email_sentinel("ada@example.com"),
            Key {
                pk: "EMAIL#ada@example.com".into(),
                sk: "EMAIL".into()
            }
        );
    }

    #[test]
    fn an_idempotency_key_reaches_the_table_only_as_its_digest() {
        let request = IdempotencyKey::try_from("retry #1").unwrap();
        let key = reservation_request(&org(), &request);
        assert_eq!(key.pk, format!("ORG#o1#REQUEST#{}", request.digest()));
        assert!(!key.pk.contains("retry"));
        assert_eq!(key.sk, "REQUEST");
        let platform = platform_request(&request);
        assert_eq!(
            platform.pk,
            format!("PLATFORM#REQUEST#{}", request.digest())
        );
        assert_ne!(platform.pk, key.pk);
    }

    #[test]
    fn directory_entries_sort_by_term_then_person() {
        let entry = directory_entry(&org(), "lovelace", &user());
        assert_eq!(
            entry,
            Key {
                pk: "ORG#o1#DIRECTORY".into(),
                sk: "lovelace#u1".into()
            }
        );
        assert_eq!(directory_term(&entry.sk), "lovelace");
    }

    #[test]
    fn sessions_are_keyed_by_token_hash_and_grouped_by_account() {
        assert_eq!(session("ab12").pk, "SESSION#ab12");
        assert_eq!(
            sessions_of(&AccountId::try_from("a1").unwrap()),
            "ACCOUNT#a1#SESSIONS"
        );
    }
}
