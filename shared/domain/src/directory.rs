//! Colleague search by name prefix. Each active person is found under every word of their first,
//! last and display name, lowercased; whom the organisation lets hide is left out of the results
//! (`preferences::hidden_from_colleagues`).

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
    /// Whether a person with these names is shown through their directory entry under `term`:
    /// every word of the search starts one of their name words, and `term` is the first of those
    /// words (in the directory's order) that the looked-up word starts. A person two of whose words
    /// start it so appears once in a search, whatever pages it takes.
    pub fn shows(&self, term: &str, names: &[&str]) -> bool {
        let terms = search_terms(names);
        let starts_a_term = |word: &str| terms.iter().any(|t| t.starts_with(word));
        terms
            .iter()
            .find(|t| t.starts_with(self.lookup.as_str()))
            .is_some_and(|first| first == term)
            && self.also.iter().all(|word| starts_a_term(word))
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
        assert!(search.shows("anna", &["Anna-Lena", "Berg"]));
        assert!(!search.shows("anna", &["Anna", "Schmidt"]));
    }

    #[test]
    fn a_person_two_of_whose_words_match_is_shown_under_the_first() {
        let search = Search::try_from("ann").unwrap();
        let names = ["Ann", "Annink", "Ann Annink"];
        assert!(search.shows("ann", &names));
        assert!(!search.shows("annink", &names));
        assert!(!search.shows("ann", &["Bea", "Annink"]));
        assert!(search.shows("annink", &["Bea", "Annink"]));
    }
}
