//! Colleague search by name prefix. Each visible person is found under every word of their first,
//! last and display name, lowercased; a hidden profile has no entries at all.

use std::collections::BTreeSet;

use crate::validation::FieldProblem;

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '-' | '#'))
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
}

/// The words a person is found under.
pub fn search_terms(names: &[&str]) -> BTreeSet<String> {
    names.iter().flat_map(|name| words(name)).take(16).collect()
}

/// A search: every word must start one of a person's name words. The first word is looked up;
/// the others filter what it finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub lookup: String,
    pub also: Vec<String>,
}

impl TryFrom<&str> for Search {
    type Error = FieldProblem;

    fn try_from(query: &str) -> Result<Self, Self::Error> {
        if query.chars().count() > 50 {
            return Err(FieldProblem::new(
                "too_long",
                "must be at most 50 characters",
            ));
        }
        let mut words = words(query);
        let lookup = words
            .next()
            .ok_or_else(|| FieldProblem::new("required", "must not be empty"))?;
        Ok(Self {
            lookup,
            also: words.collect(),
        })
    }
}

impl Search {
    /// Whether a person with these names matches every word of the search.
    pub fn matches(&self, names: &[&str]) -> bool {
        let terms = search_terms(names);
        self.also
            .iter()
            .all(|word| terms.iter().any(|term| term.starts_with(word.as_str())))
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
        assert_eq!(
            Search::try_from("  Zoë ").unwrap(),
            Search {
                lookup: "zoë".into(),
                also: vec![]
            }
        );
        assert!(Search::try_from(" - ").is_err());
        assert!(Search::try_from(&"x".repeat(51)[..]).is_err());
    }

    #[test]
    fn every_word_of_a_query_must_start_a_name_word() {
        let search = Search::try_from("Anna-Lena Ber").unwrap();
        assert_eq!(search.lookup, "anna");
        assert!(search.matches(&["Anna-Lena", "Berg"]));
        assert!(!search.matches(&["Anna", "Schmidt"]));
    }
}
