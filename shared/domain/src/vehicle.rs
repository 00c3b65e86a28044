//! Vehicles people park: a name and a plate number. The plate is unique in the organisation
//! (compared without spaces, dashes or dots, in capitals, full-width characters as their ASCII
//! ones: NFKC, Cyrillic and Greek capitals as the Latin ones they look like) and never changes
//! after creation.

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
        let normalised: String = display
            .chars()
            .filter(|c| c.is_alphanumeric())
            .map(latin_look_alike)
            .collect();
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

/// The Latin capital a Cyrillic or Greek one looks exactly like, which is how plates of
/// Bulgaria, Ukraine, Serbia or Greece are read (they use only such letters, for cameras that
/// read Latin): a plate typed on such a keyboard is the same plate.
fn latin_look_alike(c: char) -> char {
    match c {
        'А' | 'Α' => 'A',
        'В' | 'Β' => 'B',
        'С' => 'C',
        'Е' | 'Ε' => 'E',
        'Н' | 'Η' => 'H',
        'І' | 'Ι' => 'I',
        'Ј' => 'J',
        'К' | 'Κ' => 'K',
        'М' | 'Μ' => 'M',
        'Ν' => 'N',
        'О' | 'Ο' => 'O',
        'Р' | 'Ρ' => 'P',
        'Ѕ' => 'S',
        'Т' | 'Τ' => 'T',
        'Х' | 'Χ' => 'X',
        'У' | 'Υ' => 'Y',
        'Ζ' => 'Z',
        other => other,
    }
}

/// A vehicle's name: 1 to 50 characters.
pub fn vehicle_name(value: &str) -> Result<String, FieldProblem> {
    bounded_text(value, 1, 50)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Was: `АВ-123-С` typed on a Cyrillic keyboard was a second plate beside `AB-123-C`, so a
    /// company car's plate could be taken twice.
    #[test]
    fn a_plate_typed_in_cyrillic_or_greek_look_alikes_is_the_latin_plate() {
        let latin = PlateNumber::try_from("AB-123-C").unwrap();
        for typed in [
            "\u{410}\u{412}-123-\u{421}",
            "\u{391}\u{392}-123-C",
            "ab-123-\u{441}",
        ] {
            let plate = PlateNumber::try_from(typed).unwrap();
            assert_eq!(plate.normalised(), latin.normalised(), "{typed}");
        }
        assert_eq!(
            PlateNumber::try_from("\u{416}K-12").unwrap().normalised(),
            "\u{416}K12"
        );
    }

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
