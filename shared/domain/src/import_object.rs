//! Where a user list lands in the import bucket, and what that place means.
//!
//! - `imports/<organisation>/<import>/<file name>`: an admin upload, announced by
//!   `POST /v1/admin/imports`, run with the options stored for that import.
//! - `sync/<organisation>/<file name>`: the daily sync drop, a full `replace` run with the
//!   organisation's saved column mapping.

use crate::ids::{ImportId, InvalidId, OrganisationId};

/// What put a file into the import bucket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportObject {
    AdminUpload {
        organisation: OrganisationId,
        import: ImportId,
        file_name: String,
    },
    SyncDrop {
        organisation: OrganisationId,
        file_name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportKeyError {
    #[error(
        "object key {0:?} is neither imports/<organisation>/<import>/<file> nor sync/<organisation>/<file>"
    )]
    UnknownLayout(String),
    #[error("object key {key:?}: {source}")]
    InvalidId {
        key: String,
        #[source]
        source: InvalidId,
    },
}

impl ImportObject {
    /// Reads an (already URL-decoded) object key.
    pub fn from_key(key: &str) -> Result<Self, ImportKeyError> {
        let unknown = || ImportKeyError::UnknownLayout(key.to_owned());
        let invalid = |source| ImportKeyError::InvalidId {
            key: key.to_owned(),
            source,
        };
        let parts: Vec<&str> = key.splitn(4, '/').collect();
        match parts.as_slice() {
            ["imports", organisation, import, file_name] if !file_name.is_empty() => {
                Ok(Self::AdminUpload {
                    organisation: OrganisationId::try_from(*organisation).map_err(invalid)?,
                    import: ImportId::try_from(*import).map_err(invalid)?,
                    file_name: (*file_name).to_owned(),
                })
            }
            ["sync", organisation, rest @ ..] if !rest.is_empty() => {
                let file_name = rest.join("/");
                if file_name.is_empty() || file_name.ends_with('/') {
                    return Err(unknown());
                }
                Ok(Self::SyncDrop {
                    organisation: OrganisationId::try_from(*organisation).map_err(invalid)?,
                    file_name,
                })
            }
            _ => Err(unknown()),
        }
    }

    pub fn organisation(&self) -> &OrganisationId {
        match self {
            Self::AdminUpload { organisation, .. } | Self::SyncDrop { organisation, .. } => {
                organisation
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_upload_key_names_organisation_import_and_file() {
        let object = ImportObject::from_key("imports/org1/imp9/users list.csv").unwrap();
        assert_eq!(
            object,
            ImportObject::AdminUpload {
                organisation: OrganisationId::try_from("org1").unwrap(),
                import: ImportId::try_from("imp9").unwrap(),
                file_name: "users list.csv".to_owned(),
            }
        );
    }

    #[test]
    fn sync_drop_key_names_organisation_and_keeps_subfolders_in_the_file_name() {
        let object = ImportObject::from_key("sync/org1/2026/11/hr.csv").unwrap();
        assert_eq!(
            object,
            ImportObject::SyncDrop {
                organisation: OrganisationId::try_from("org1").unwrap(),
                file_name: "2026/11/hr.csv".to_owned(),
            }
        );
        assert_eq!(object.organisation().as_str(), "org1");
    }

    #[test]
    fn keys_outside_the_two_layouts_are_refused() {
        for key in [
            "avatars/org1/x.png",
            "imports/org1/imp9/",
            "imports/org1",
            "sync/org1/",
            "sync/org1",
            "",
        ] {
            assert!(
                matches!(
                    ImportObject::from_key(key),
                    Err(ImportKeyError::UnknownLayout(_))
                ),
                "{key:?}"
            );
        }
    }

    #[test]
    fn an_organisation_id_that_could_escape_its_prefix_is_refused() {
        assert!(matches!(
            ImportObject::from_key("sync/org#1/hr.csv"),
            Err(ImportKeyError::InvalidId { .. })
        ));
    }
}
