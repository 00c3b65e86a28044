//! The shapes of request and answer bodies, for the document only: the domain parses bodies by
//! hand and handlers build answers with `json!`, so nothing constructs or reads these types (the
//! derives carry serde's attributes, which utoipa reads: `deny_unknown_fields` is
//! `additionalProperties: false`, `untagged`, `flatten`, `rename_all`). `make test` checks them
//! against the real answers (schemathesis' `response_schema_conformance`).
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A wrong field of a `Problem` (the domain's `FieldError`).
#[derive(ToSchema)]
pub struct ProblemField {
    /// The field, dotted for nested ones (`notifications.daily_summary`, `admin.email`).
    pub field: String,
    pub code: String,
    pub message: String,
}

// ---- request bodies (descriptions only; the domain parses them) ----

/// `{email, password}` (optionally `organisation`), or `{organisation, username, password}`.
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: Option<String>,
    /// An organisation id: with `username`, or to choose among an email's organisations.
    pub organisation: Option<String>,
    pub username: Option<String>,
    pub password: String,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaLoginRequest {
    /// The `challenge` a login answered.
    pub challenge: String,
    /// The authenticator's current code; or give `recovery_code`.
    pub code: Option<String>,
    pub recovery_code: Option<String>,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    pub email: String,
}

/// Redeems a single-use link that carries nothing else (a new login email's confirmation).
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The `token` of the link.
    pub token: String,
}

/// Redeems a single-use link (password reset, invitation).
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// The `token` of the link.
    pub token: String,
    /// The new password (an invited person who has one gives it instead).
    pub password: String,
    /// Repeats `password`.
    pub confirmation: Option<String>,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    /// 8-128 characters with a lower-case letter, an upper-case letter and a digit; not a
    /// common or breached password.
    pub new_password: String,
    pub confirmation: String,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub password: String,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The authenticator's current 6-digit code.
    pub code: String,
}

/// Proof of the person: their password or a current code.
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordOrCodeRequest {
    pub password: Option<String>,
    pub code: Option<String>,
}

/// `"member"` (organisation-wide) or `{role, sites}`.
#[derive(ToSchema, Deserialize)]
#[serde(untagged)]
pub enum RoleGrantInput {
    OrganisationWide(Role),
    OnSites(RoleOnSites),
}

#[derive(ToSchema, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    UserManagement,
    Manager,
    Billing,
    Operations,
    Reporting,
    Member,
}

/// A role on the listed sites (`sites` absent or null: organisation-wide; any other field is
/// refused).
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleOnSites {
    pub role: Role,
    pub sites: Option<Vec<String>>,
}

/// A new organisation with its first Admin.
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisationRequest {
    pub name: String,
    pub settings: Option<SettingsPatch>,
    pub admin: NewAdmin,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAdmin {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Without one, the admin sets it through a reset link.
    pub password: Option<String>,
}

/// Organisation settings to change; each key is checked by name and type (see
/// `GET /v1/admin/organisation` for the current ones).
#[derive(ToSchema, Deserialize)]
pub struct SettingsPatch(BTreeMap<String, serde_json::Value>);

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantAdminRequest {
    pub user_id: String,
    /// An active Admin of the organisation who approved the grant.
    pub approved_by: String,
}

/// `email`, or `username` for a person without one (who gets a PIN); not both.
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub username: Option<String>,
    /// Default: Member of the whole organisation (a scoped User Manager: Member of its sites).
    pub roles: Option<Vec<RoleGrantInput>>,
    pub sites: Option<Vec<String>>,
    pub default_site: Option<String>,
    pub language: Option<String>,
    pub tags: Option<Vec<String>>,
    pub external_id: Option<String>,
}

/// The profile fields a person changes (`null` clears an optional one). Attributes an identity
/// provider manages are refused by name (see `managed_by`).
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatchRequest {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    /// A new login email; it needs `password`. A new address (not one of letter case) is
    /// moved to only once the link emailed there is followed
    /// (`POST /v1/auth/email-change/confirm`): the answer is then 202 with `pending_email`.
    pub email: Option<String>,
    /// The person's password, required with a new `email`.
    pub password: Option<String>,
    pub department: Option<String>,
    pub function: Option<String>,
    pub about_me: Option<String>,
    pub tags: Option<Vec<String>>,
    pub external_id: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub first_aider: Option<bool>,
    pub emergency_officer: Option<bool>,
}

/// Profile fields (as `PATCH /v1/me`) and the person's assignment.
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatchRequest {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub department: Option<String>,
    pub function: Option<String>,
    pub about_me: Option<String>,
    pub tags: Option<Vec<String>>,
    pub external_id: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub first_aider: Option<bool>,
    pub emergency_officer: Option<bool>,
    pub roles: Option<Vec<RoleGrantInput>>,
    pub sites: Option<Vec<String>>,
    pub default_site: Option<String>,
    pub language: Option<String>,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferencesPatchRequest {
    /// en de fr it hu ja ro ru tr es zh
    pub language: Option<String>,
    pub theme: Option<Theme>,
    /// An IANA zone (`Europe/Brussels`).
    pub time_zone: Option<String>,
    pub notifications: Option<NotificationsPatch>,
    /// Only when the organisation allows hiding profiles.
    pub hide_profile: Option<bool>,
}

#[derive(ToSchema, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
    System,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsPatch {
    pub booking_confirmation: Option<BookingConfirmation>,
    pub booking_changes: Option<bool>,
    pub checkin_reminder_email: Option<bool>,
    pub checkin_reminder_push: Option<bool>,
    pub daily_summary: Option<bool>,
}

#[derive(ToSchema, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingConfirmation {
    Off,
    Email,
    EmailWithIcs,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatchRequest {
    pub name: Option<String>,
    pub settings: Option<SettingsPatch>,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameRequest {
    pub name: String,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionalNameRequest {
    pub name: Option<String>,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesRequest {
    /// Replaces the group's mapping; an empty list removes it.
    pub roles: Vec<RoleGrantInput>,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewImportRequest {
    pub mode: ImportMode,
    pub dry_run: Option<bool>,
    /// Run past the row limit and the deactivation threshold.
    pub force: Option<bool>,
    /// Invite the people the import creates.
    pub invite: Option<bool>,
    /// Column header -> profile field (or `ignore`); saved for later imports.
    pub mapping: Option<BTreeMap<String, String>>,
    /// Default `users.csv`.
    pub file_name: Option<String>,
}

#[derive(ToSchema, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    Add,
    Replace,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvatarUploadRequest {
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: String,
    /// 1 to 2 MiB.
    pub content_length: u64,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvatarConfirmRequest {
    pub upload_id: String,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewVehicleRequest {
    pub name: String,
    pub plate_number: String,
}

/// `{platform: ios|android, name, token}` or `{platform: web, name, subscription}`.
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequest {
    pub platform: Platform,
    pub name: String,
    /// A phone's push token (ios, android).
    pub token: Option<String>,
    /// A browser's Web Push subscription (web).
    pub subscription: Option<WebPushSubscription>,
}

#[derive(ToSchema, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Ios,
    Android,
    Web,
}

#[derive(ToSchema, Deserialize)]
pub struct WebPushSubscription {
    /// The push service's https URL.
    pub endpoint: String,
    pub keys: WebPushKeys,
}

#[derive(ToSchema, Deserialize)]
pub struct WebPushKeys {
    pub p256dh: String,
    pub auth: String,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicePatchRequest {
    pub name: Option<String>,
    pub push_enabled: Option<bool>,
}

#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReservationRequest {
    pub user_id: String,
    /// What is reserved. (`resource_type` and `resource_name` in its place are still read, for
    /// integrations written before the contract nested them.)
    pub resource: ReservationResource,
    pub site_id: String,
    /// RFC 3339 with an offset.
    #[schema(format = DateTime)]
    pub start: String,
    /// After `start`, at most 31 days later.
    #[schema(format = DateTime)]
    pub end: String,
    pub recurring: Option<bool>,
}

/// The resource a reservation holds.
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservationResource {
    #[serde(rename = "type")]
    pub kind: ResourceType,
    /// 1 to 100 characters.
    pub name: String,
}

#[derive(ToSchema, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceType {
    Desk,
    Parking,
    Room,
}

// ---- answers (descriptions of the `json!` views the handlers build) ----

#[derive(ToSchema, Serialize)]
pub struct Health {
    pub status: String,
    pub table: String,
}

/// A new session.
#[derive(ToSchema, Serialize)]
pub struct SessionToken {
    pub token: String,
    /// When it expires if unused (it also ends 14 days after login).
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// A login whose password was right for a person with 2FA: complete it at `/v1/auth/login/mfa`.
#[derive(ToSchema, Serialize)]
pub struct MfaChallenge {
    pub mfa_required: bool,
    pub challenge: String,
}

/// A session, or the challenge of a second factor.
#[derive(ToSchema, Serialize)]
#[serde(untagged)]
pub enum LoginAnswer {
    Session(SessionToken),
    Challenge(MfaChallenge),
}

#[derive(ToSchema, Serialize)]
pub struct TotpEnrolment {
    /// Base32, for manual entry.
    pub secret: String,
    pub otpauth_uri: String,
    /// A `data:image/png;base64,...` QR code of `otpauth_uri`.
    pub qr_png: String,
}

#[derive(ToSchema, Serialize)]
pub struct RecoveryCodes {
    /// Shown this once.
    pub recovery_codes: Vec<String>,
}

/// A role grant as stored: `sites` null means organisation-wide.
#[derive(ToSchema, Serialize)]
pub struct RoleGrant {
    pub role: Role,
    pub sites: Option<Vec<String>>,
}

#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    Deactivated,
}

#[derive(ToSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    NotInvited,
    Pending,
    Confirmed,
}

/// A person's profile in the organisation (`GET /v1/me`).
#[derive(ToSchema, Serialize)]
pub struct Profile {
    pub id: String,
    pub organisation_id: String,
    /// Only people without email have one.
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub display_name: String,
    pub email: Option<String>,
    /// In the 202 answer to a change of `email` only: the address the confirmation link went
    /// to. The login stays `email` until it is followed.
    pub pending_email: Option<String>,
    pub department: Option<String>,
    pub function: Option<String>,
    pub about_me: Option<String>,
    /// The uploaded avatar (a 1-hour URL), else an https `photo`.
    pub avatar_url: Option<String>,
    /// A picture an import named (URL or file name).
    pub photo: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub first_aider: bool,
    pub emergency_officer: bool,
    pub tags: Vec<String>,
    pub external_id: Option<String>,
    /// Attribute -> who owns it: `self`, `admin`, `csv`, `scim` or `sso`.
    pub managed_by: BTreeMap<String, String>,
    pub roles: Vec<RoleGrant>,
    pub status: UserStatus,
    pub invitation_status: InvitationStatus,
}

/// A user as administrators see them.
#[derive(ToSchema, Serialize)]
pub struct AdminUser {
    #[schema(inline)]
    #[serde(flatten)]
    pub profile: Profile,
    /// Roles the person's SCIM groups give (not editable here).
    pub group_roles: Vec<RoleGrant>,
    pub sites: Vec<String>,
    pub default_site: Option<String>,
    pub language: String,
    /// A username user's generated PIN, in the answer that created it only.
    pub pin: Option<String>,
}

#[derive(ToSchema, Serialize)]
pub struct UserPage {
    pub items: Vec<AdminUser>,
    /// Give it as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(ToSchema, Serialize)]
pub struct InvitationAnswer {
    pub invitation_status: InvitationStatus,
}

#[derive(ToSchema, Serialize)]
pub struct Pin {
    pub pin: String,
}

#[derive(ToSchema, Serialize)]
pub struct Preferences {
    pub language: String,
    pub theme: Theme,
    pub time_zone: String,
    pub notifications: Notifications,
    /// The person's choice; it hides them from colleagues only while their organisation allows
    /// hiding (`features.hide_profile`).
    pub hide_profile: bool,
}

#[derive(ToSchema, Serialize)]
pub struct Notifications {
    /// The email confirming a booking: off, email, or email with an ICS calendar attachment.
    pub booking_confirmation: BookingConfirmation,
    /// The email telling of a cancelled booking (with the ICS cancellation when the booking's
    /// confirmation carried an invite).
    pub booking_changes: bool,
    pub checkin_reminder_email: bool,
    pub checkin_reminder_push: bool,
    pub daily_summary: bool,
}

/// An organisation with its settings.
#[derive(ToSchema, Serialize)]
pub struct OrganisationView {
    pub id: String,
    pub name: String,
    /// Language, time zone, login methods, modules, lockout, import limits, `scim_attributes` ...
    pub settings: BTreeMap<String, serde_json::Value>,
}

#[derive(ToSchema, Serialize)]
pub struct CreatedOrganisation {
    pub organisation: OrganisationView,
    pub admin: CreatedAdmin,
}

#[derive(ToSchema, Serialize)]
pub struct CreatedAdmin {
    pub id: String,
    pub email: Option<String>,
    pub invitation_status: InvitationStatus,
    /// The email already had an account, which the admin keeps.
    pub existing_account: bool,
}

#[derive(ToSchema, Serialize)]
pub struct GrantedRoles {
    pub id: String,
    pub roles: Vec<RoleGrant>,
}

#[derive(ToSchema, Serialize)]
pub struct Site {
    pub id: String,
    pub name: String,
    /// Give it in `If-Match` to rename the site.
    pub version: u64,
}

#[derive(ToSchema, Serialize)]
pub struct Sites {
    pub items: Vec<Site>,
    /// Give it as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(ToSchema, Serialize)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

#[derive(ToSchema, Serialize)]
pub struct AuditEntry {
    #[schema(format = DateTime)]
    pub at: String,
    /// `user.created`, `login.failed`, `mfa.enabled` ...
    pub action: String,
    pub actor: AuditActor,
    pub target: Option<String>,
    pub source: Option<String>,
    /// Names of the fields that changed (never values).
    pub changed: Vec<String>,
    /// The Admin who approved a grant of Admin.
    pub approved_by: Option<String>,
}

#[derive(ToSchema, Serialize)]
pub struct AuditActor {
    /// `user`, `platform`, `scim`, `import`, `job` (a scheduled job: `id` is its name) or
    /// `anonymous`.
    pub kind: String,
    pub id: Option<String>,
}

/// Where to PUT the file.
#[derive(ToSchema, Serialize)]
pub struct CreatedImport {
    pub id: String,
    pub status: String,
    pub upload_url: String,
    pub method: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

#[derive(ToSchema, Serialize)]
pub struct ImportSummary {
    pub id: String,
    /// `pending`, `running`, `done` or `failed`.
    pub status: String,
    /// `upload` or `sync`.
    pub source: String,
    pub mode: String,
    pub dry_run: bool,
    pub force: bool,
    pub invite: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub finished_at: Option<String>,
    pub rows_total: Option<u64>,
    /// `{created, updated, unchanged, deactivated, errors}`.
    pub counts: BTreeMap<String, u64>,
    pub failure: Option<serde_json::Value>,
}

#[derive(ToSchema, Serialize)]
pub struct Imports {
    pub items: Vec<ImportSummary>,
    /// Give it as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// An import with its detected columns and a page of its report.
#[derive(ToSchema, Serialize)]
pub struct ImportDetail {
    #[schema(inline)]
    #[serde(flatten)]
    pub summary: ImportSummary,
    pub columns: Option<Vec<serde_json::Value>>,
    /// `{row, status, errors: [{field, code}]}` ...
    pub rows: Vec<serde_json::Value>,
    pub next_cursor: Option<String>,
    pub error_report_url: Option<String>,
}

#[derive(ToSchema, Serialize)]
pub struct Key {
    pub id: String,
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(ToSchema, Serialize)]
pub struct Keys {
    pub items: Vec<Key>,
    /// Give it as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// A new key: the secret is shown this once (as `key` and as `token`).
#[derive(ToSchema, Serialize)]
pub struct CreatedKey {
    pub id: String,
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub key: String,
    pub token: String,
}

#[derive(ToSchema, Serialize)]
pub struct ScimGroup {
    pub id: String,
    pub display_name: Option<String>,
    /// How many members the group has.
    pub members: u64,
    pub roles: Vec<RoleGrant>,
}

#[derive(ToSchema, Serialize)]
pub struct ScimGroups {
    pub items: Vec<ScimGroup>,
    /// Give it as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(ToSchema, Serialize)]
pub struct Reservation {
    pub id: String,
    pub user_id: String,
    pub resource_type: ResourceType,
    pub resource_name: String,
    pub site_id: String,
    #[schema(format = DateTime)]
    pub start: String,
    #[schema(format = DateTime)]
    pub end: String,
    pub recurring: bool,
    pub checked_in_at: Option<String>,
}

#[derive(ToSchema, Serialize)]
pub struct Reservations {
    pub items: Vec<Reservation>,
}

/// A site's day: its reservations with each colleague's name, or only `reserved` for people
/// who hide their profile.
#[derive(ToSchema, Serialize)]
pub struct SiteDay {
    #[schema(format = Date)]
    pub date: String,
    pub items: Vec<SiteDayItem>,
    /// Give it as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

#[derive(ToSchema, Serialize)]
pub struct SiteDayItem {
    pub id: String,
    pub resource_type: ResourceType,
    pub resource_name: String,
    #[schema(format = DateTime)]
    pub start: String,
    #[schema(format = DateTime)]
    pub end: String,
    pub checked_in: bool,
    pub person: SiteDayPerson,
}

/// `{id, display_name}`, or `{reserved: true}` for a hidden profile.
#[derive(ToSchema, Serialize)]
pub struct SiteDayPerson {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub reserved: Option<bool>,
}

#[derive(ToSchema, Serialize)]
pub struct Membership {
    pub organisation_id: String,
    pub name: String,
    pub user_id: String,
    /// The organisation of this session.
    pub current: bool,
    pub features: Features,
}

/// What the organisation offers its people, from its settings.
#[derive(ToSchema, Serialize)]
pub struct Features {
    /// Booking confirmations and cancellation notices are sent: the `booking_confirmation` and
    /// `booking_changes` preferences do something.
    pub booking_notifications: bool,
    /// Daily booking summaries are sent: the `daily_summary` preference does something.
    pub daily_summaries: bool,
    /// Check-in reminders are sent: `checkin_reminder_email` and `checkin_reminder_push` do
    /// something.
    pub checkin_reminders: bool,
    /// People may hide their profile: `hide_profile` does something (while false, everyone is
    /// shown, whatever they chose).
    pub hide_profile: bool,
    /// People may keep vehicles (`/v1/me/vehicles`).
    pub vehicles: bool,
    /// People sign in with a password of Roster's (`/v1/me/password`, TOTP); false when the
    /// organisation signs everyone in through its identity provider.
    pub password: bool,
    /// Password logins need two-factor authentication.
    pub require_mfa: bool,
}

#[derive(ToSchema, Serialize)]
pub struct Memberships {
    pub items: Vec<Membership>,
}

#[derive(ToSchema, Serialize)]
pub struct Switched {
    pub organisation_id: String,
    pub user_id: String,
}

#[derive(ToSchema, Serialize)]
pub struct SessionView {
    pub id: String,
    pub organisation_id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub user_agent: Option<String>,
    /// The session of this request.
    pub current: bool,
}

#[derive(ToSchema, Serialize)]
pub struct Sessions {
    pub items: Vec<SessionView>,
    /// Give it as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// PUT the image to `upload_url` with `headers`, then confirm with `upload_id`.
#[derive(ToSchema, Serialize)]
pub struct AvatarUpload {
    pub upload_id: String,
    pub upload_url: String,
    pub method: String,
    pub headers: BTreeMap<String, String>,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

#[derive(ToSchema, Serialize)]
pub struct Vehicle {
    pub id: String,
    pub name: String,
    pub plate_number: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Give it in `If-Match` to rename the vehicle.
    pub version: u64,
}

#[derive(ToSchema, Serialize)]
pub struct Vehicles {
    pub items: Vec<Vehicle>,
}

/// A push device (without its push secrets).
#[derive(ToSchema, Serialize)]
pub struct Device {
    pub id: String,
    pub name: String,
    pub platform: Platform,
    pub push_enabled: bool,
    /// False once its push service said it is gone.
    pub active: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Give it in `If-Match` to change the device.
    pub version: u64,
}

#[derive(ToSchema, Serialize)]
pub struct Devices {
    pub items: Vec<Device>,
}

#[derive(ToSchema, Serialize)]
pub struct DirectoryEntry {
    pub id: String,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
    pub department: Option<String>,
    pub function: Option<String>,
    pub avatar_url: Option<String>,
}

/// A colleague's profile: what a search shows, with "about me" and the first-aider flag.
#[derive(ToSchema, Serialize)]
pub struct Colleague {
    #[serde(flatten)]
    pub entry: DirectoryEntry,
    pub about_me: Option<String>,
    pub first_aider: bool,
}

#[derive(ToSchema, Serialize)]
pub struct DirectoryPage {
    pub items: Vec<DirectoryEntry>,
    pub next_cursor: Option<String>,
}
