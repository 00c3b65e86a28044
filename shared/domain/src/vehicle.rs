//! Vehicles people park: a name and a plate number. The plate is unique in the organisation
//! (compared without spaces, dashes or dots, in capitals, full-width characters as their ASCII
//! ones: NFKC) and never changes after creation.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::validation::{FieldProblem, bounded_text};

pub const VEHICLES_PER_PERSON: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlateNumber {
    /// As entered, in capitals with single spaces: `B-RS 1234`.
    display: String,
    /// Letters and digits only: `BRS1234`.
    normalised: String,
}

impl PlateNumber {
    pub fn display(&self) -> &str {
        &self.display
    }

    pub fn normalised(&self) -> &str {
        &self.normalised
    }
}

impl TryFrom<&str> for PlateNumber {
    type Error = FieldProblem;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        let display = value
            .nfkc()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase();
        if display.is_empty() {
            return Err(FieldProblem::new("required", "must not be empty"));
        }
        if display
            .chars()
            .any(|c| !(c.is_alphanumeric() || matches!(c, ' ' | '-' | '.' | '·')))
        {
            return Err(FieldProblem::new(
                "invalid_plate",
                "may only contain letters, digits, spaces, dashes and dots",
            ));
        }
        let normalised: String = display.chars().filter(|c| c.is_alphanumeric()).collect();
        if !(2..=12).contains(&normalised.chars().count()) || display.chars().count() > 20 {
            return Err(FieldProblem::new(
                "invalid_plate",
                "must have 2 to 12 letters and digits",
            ));
        }
        Ok(Self {
            display,
            normalised,
        })
    }
}

/// A vehicle's name: 1 to 50 characters.
pub fn vehicle_name(value: &str) -> Result<String, FieldProblem> {
    bounded_text(value, 1, 50)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plates_compare_without_separators_and_case() {
        let a = PlateNumber::try_from(" b-rs  1234 ").unwrap();
        let b = PlateNumber::try_from("BRS1234").unwrap();
        assert_eq!(a.display(), "B-RS 1234");
        assert_eq!(a.normalised(), b.normalised());
    }

    #[test]
    fn a_plate_typed_in_full_width_is_the_same_plate() {
        let wide = PlateNumber::try_from("ｂ－ｒｓ\u{3000}１２３４").unwrap();
        assert_eq!(wide.display(), "B-RS 1234");
        assert_eq!(wide.normalised(), "BRS1234");
        let apart = PlateNumber::try_from("mu\u{308}-ab 12").unwrap();
        assert_eq!(apart.normalised(), "MÜAB12");
    }

    #[test]
    fn plates_with_umlauts_are_valid() {
        assert_eq!(
            PlateNumber::try_from("mü-ab 12").unwrap().normalised(),
            "MÜAB12"
        );
    }

    #[test]
    fn malformed_plates_are_refused() {
        for bad in ["", "   ", "A", "AB$12", "ABCDEFGHIJKLM"] {
            assert!(PlateNumber::try_from(bad).is_err(), "{bad:?}");
        }
    }
}
