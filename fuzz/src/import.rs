//! The checks an import runs once a user list is decoded into cells (header detection, the
//! column mapping's checks, each row's rules), with the properties they must keep; the targets
//! that reach a user list by different roads share them.

use std::{collections::BTreeSet, sync::LazyLock};

use roster_domain::{
    ids::{AccountId, OrganisationId},
    import::{
        Column, ColumnMapping, ExplicitMapping, ImportedRow, managed_by_identity_provider,
        neutralise_formula, normalise_header,
    },
    membership::{InvitationStatus, Membership, Role, RoleGrant, Username},
    organisation::{Organisation, OrganisationSettings},
    profile::{Attribute, Email, Owner, PHONE_MAX, Profile, phone_number},
};
use roster_import_file::MAX_COLUMNS;

use crate::{assert_provenance, assert_round_trips};

/// Rows looked at per user list: more only repeats the same checks.
const MAX_ROWS: usize = 32;

/// Runs a user list through what the import does with it before matching anyone: a header
/// wider than `MAX_COLUMNS` stops it, then its columns are detected (with `explicit` deciding
/// the headers it names), a mapping without the mandatory columns stops it, then each row is
/// parsed and, when valid, applied to a new and to an existing person.
pub fn check_user_list(
    headers: &[String],
    rows: impl Iterator<Item = Vec<String>>,
    explicit: &ExplicitMapping,
) {
    if headers.len() > MAX_COLUMNS {
        return;
    }
    let mapping = ColumnMapping::detect(headers, explicit);
    check_mapping(headers, explicit, &mapping);
    if mapping.missing_columns().is_err() {
        return;
    }
    for cells in rows.take(MAX_ROWS) {
        check_row(&cells, &mapping);
    }
}

static ORGANISATION: LazyLock<Organisation> = LazyLock::new(|| {
    Organisation::new(
        OrganisationId::try_from("fuzz").expect("a valid id"),
        "Fuzz".to_owned(),
        OrganisationSettings::default(),
    )
});

/// A person a row may match: the row's email (a row never changes a login email) and username,
/// some attributes owned by an identity provider, the imported ones by `csv`.
fn existing_member(row: &ImportedRow) -> Membership {
    let mut profile = Profile::named("Old".to_owned(), "Name".to_owned(), row.email.clone());
    profile.department = Some("Sales".to_owned());
    profile.managed_by.set(Attribute::Department, Owner::Scim);
    profile.phone = Some("+31 20 123 4567".to_owned());
    profile.managed_by.set(Attribute::Phone, Owner::Sso);
    profile.tags = vec!["old".to_owned()];
    profile.managed_by.set(Attribute::Tags, Owner::Csv);
    Membership::joining(
        &ORGANISATION,
        AccountId::try_from("account").expect("a valid id"),
        profile,
        row.username.clone(),
        vec![RoleGrant::organisation_wide(Role::Member)],
        InvitationStatus::Confirmed,
    )
}

fn check_mapping(headers: &[String], explicit: &ExplicitMapping, mapping: &ColumnMapping) {
    assert_eq!(
        mapping.columns.len(),
        headers.len(),
        "one column per header"
    );
    let mut taken = BTreeSet::new();
    for (header, detected) in headers.iter().zip(&mapping.columns) {
        assert_eq!(&detected.header, header);
        assert!((0.0..=1.0).contains(&detected.confidence));
        if let Some(column) = detected.column {
            assert!(taken.insert(column), "{column:?} is taken twice");
        }
        match detected.source.as_str() {
            "partial" => assert!(
                !matches!(
                    detected.column,
                    Some(Column::Email | Column::Username | Column::ExternalId)
                ),
                "a partial header match named an identifier column: {header:?}"
            ),
            "none" | "duplicate" => assert_eq!(detected.column, None),
            "mapping" => assert_eq!(
                explicit.get(&normalise_header(header)),
                Some(&detected.column),
                "{header:?} was not mapped as the mapping says"
            ),
            "template" | "header" => assert!(detected.column.is_some()),
            other => panic!("unknown source {other:?}"),
        }
        if explicit.contains_key(&normalise_header(header)) {
            assert!(
                matches!(detected.source.as_str(), "mapping" | "duplicate"),
                "the mapping names {header:?} but detection decided"
            );
        }
    }
}

fn check_row(cells: &[String], mapping: &ColumnMapping) {
    for (column, value) in ImportedRow::raw_identifiers(cells, mapping) {
        assert!(matches!(
            column,
            Column::Email | Column::Username | Column::ExternalId
        ));
        assert!(!value.is_empty() && value.trim() == value);
    }
    for cell in cells {
        let neutral = neutralise_formula(cell);
        // Nothing a spreadsheet runs starts a cell, at the start or after a `;`, tab or line
        // break (where a `;`-locale spreadsheet starts one); only `'`s were added.
        let mut starts_cell = true;
        for c in neutral.chars() {
            assert!(
                !(starts_cell && matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')),
                "{cell:?} was neutralised to {neutral:?}"
            );
            starts_cell = matches!(c, ';' | '\t' | '\r' | '\n');
        }
        assert_eq!(neutral.replace('\'', ""), cell.replace('\'', ""));
    }
    let Ok(row) = ImportedRow::parse(cells, mapping) else {
        return;
    };
    // Every mapping that passed `missing_columns` makes these mandatory.
    assert!(!row.first_name.is_empty() && !row.last_name.is_empty());
    assert!(row.email.is_some() || row.username.is_some());
    for number in [&row.phone, &row.mobile].into_iter().flatten() {
        assert!(number.chars().count() <= PHONE_MAX, "{number:?}");
        assert_eq!(
            phone_number(number).as_ref(),
            Ok(number),
            "an imported number the profile refuses"
        );
    }
    if let Some(email) = &row.email {
        assert_eq!(Email::try_from(email.display()).as_ref(), Ok(email));
    }
    if let Some(username) = &row.username {
        assert_eq!(
            Username::try_from(username.display()).as_ref(),
            Ok(username)
        );
    }

    let blank = Profile::named(String::new(), String::new(), None);
    let created = row.new_profile();
    assert_provenance(&blank, &created, Owner::Csv);
    assert_round_trips(&created);

    let before = existing_member(&row);
    if let Ok(Some(after)) = row.update(&before) {
        assert_eq!(after.version, before.version + 1);
        assert_eq!(
            after.profile.email, before.profile.email,
            "a row changed a login email"
        );
        assert!(!after.profile.first_name.is_empty() && !after.profile.last_name.is_empty());
        let changed = assert_provenance(&before.profile, &after.profile, Owner::Csv);
        assert!(
            !changed.contains(&Attribute::Department) && !changed.contains(&Attribute::Phone),
            "a row changed what an identity provider owns"
        );
        assert!(managed_by_identity_provider(&after));
        assert_round_trips(&after);
    }
}
