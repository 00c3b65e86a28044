//! Identifiers that cross the edge: parsed once, then trusted.

use std::fmt;

/// An identifier was empty, too long, or had characters other than ASCII letters, digits, `-`, `_`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be 1 to 64 ASCII letters, digits, '-' or '_'")]
pub struct InvalidId {
    pub kind: &'static str,
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// A new random identifier (128 bits, lowercase hex).
            pub fn generate() -> Self {
                Self(random_hex())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                $name::try_from(value.as_str()).map_err(serde::de::Error::custom)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidId;

            fn try_from(value: &str) -> Result<Self, Self::Error> {
                if is_identifier(value) {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(InvalidId { kind: $kind })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

identifier!(
    /// A SCIM group.
    GroupId,
    "group id"
);

identifier!(
    /// An organisation (tenant).
    OrganisationId,
    "organisation id"
);
identifier!(
    /// One admin upload of a user list.
    ImportId,
    "import id"
);
identifier!(
    /// A person's membership in one organisation (the "user" of the admin and self-service APIs).
    UserId,
    "user id"
);
identifier!(
    /// A person: login email, credentials; may hold memberships in several organisations.
    AccountId,
    "account id"
);
identifier!(
    /// A vehicle of a person.
    VehicleId,
    "vehicle id"
);
identifier!(
    /// A push device of a person.
    DeviceId,
    "device id"
);
identifier!(
    /// The public handle of a session (never its token).
    SessionId,
    "session id"
);

identifier!(
    /// A site (location, property) of an organisation.
    SiteId,
    "site id"
);
identifier!(
    /// A reservation the bookings feed reported.
    ReservationId,
    "reservation id"
);
identifier!(
    /// One upload of a file straight to S3 (an avatar image).
    UploadId,
    "upload id"
);

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

/// Identifiers are safe inside keys and URLs without escaping.
fn is_identifier(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_accept_letters_digits_dash_and_underscore() {
        assert_eq!(
            OrganisationId::try_from("org_01-AB").unwrap().as_str(),
            "org_01-AB"
        );
    }

    #[test]
    fn generated_identifiers_are_valid_and_distinct() {
        let (a, b) = (UserId::generate(), UserId::generate());
        assert_ne!(a, b);
        assert_eq!(UserId::try_from(a.as_str()), Ok(a));
    }

    #[test]
    fn identifiers_refuse_separators_that_would_break_keys() {
        for bad in ["", "a/b", "a#b", "a b", "é", &"x".repeat(65)] {
            assert_eq!(
                OrganisationId::try_from(bad),
                Err(InvalidId {
                    kind: "organisation id"
                }),
                "{bad:?}"
            );
        }
    }
}
