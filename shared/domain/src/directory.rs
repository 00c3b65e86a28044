//! Colleague search by name prefix. Each visible person is found under every word of their first,
//! last and display name, lowercased; a hidden profile has no entries at all.

use std::collections::BTreeSet;

use crate::validation::FieldProblem;

/// The words a person is found under.
pub fn search_terms(names: &[&str]) -> BTreeSet<String> {
    names
        .iter()
        .flat_map(|name| name.split(|c: char| c.is_whitespace() || matches!(c, ',' | '-' | '#')))
        .map(str::to_lowercase)
        .filter(|word| !word.is_empty())
        .take(16)
        .collect()
}

/// A search query: 1 to 50 characters, compared lowercased against the start of a word.
pub fn search_prefix(query: &str) -> Result<String, FieldProblem> {
    let prefix = query.trim().to_lowercase();
    match prefix.chars().count() {
        0 => Err(FieldProblem::new("required", "must not be empty")),
        1..=50 => Ok(prefix),
        _ => Err(FieldProblem::new(
            "too_long",
            "must be at most 50 characters",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_is_found_under_each_word_of_their_names() {
        let terms = search_terms(&["Anna-Lena", "van der Berg", "Anna-Lena van der Berg"]);
        assert_eq!(
            terms.into_iter().collect::<Vec<_>>(),
            ["anna", "berg", "der", "lena", "van"]
        );
    }

    #[test]
    fn queries_are_lowercased_and_bounded() {
        assert_eq!(search_prefix("  Zoë ").unwrap(), "zoë");
        assert!(search_prefix(" ").is_err());
        assert!(search_prefix(&"x".repeat(51)).is_err());
    }
}
