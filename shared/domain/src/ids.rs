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
    /// An organisation (tenant).
    OrganisationId,
    "organisation id"
);
identifier!(
    /// One admin upload of a user list.
    ImportId,
    "import id"
);

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
