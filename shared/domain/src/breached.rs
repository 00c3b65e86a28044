//! Breached-password checks. The range API (HIBP "Pwned Passwords", k-anonymity) only ever sees
//! the first 5 hex characters of the password's SHA-1; a bundled list of the most common passwords
//! is the floor that works offline.

use std::{future::Future, pin::Pin};

use sha1::{Digest, Sha1};

use crate::credentials::normalised_password;

/// What to do when the range API cannot be reached (an organisation setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnreachableRangeApi {
    /// Check the local list only and accept what passes it.
    #[default]
    UseLocalList,
    /// Refuse to set any password until the range API answers again.
    Refuse,
}

/// The SHA-1 of `password` split for the range API: (5-character prefix sent, 35-character
/// suffix kept), uppercase hex.
pub fn range_query(password: &str) -> (String, String) {
    let digest = hex::encode_upper(Sha1::digest(password.as_bytes()));
    let (prefix, suffix) = digest.split_at(5);
    (prefix.to_owned(), suffix.to_owned())
}

/// Whether a range response (`SUFFIX:COUNT` lines) lists `suffix` with a count above zero
/// (padding entries, requested with `Add-Padding: true`, have count 0).
pub fn range_lists(response: &str, suffix: &str) -> bool {
    response.lines().any(|line| {
        line.trim().split_once(':').is_some_and(|(listed, count)| {
            listed.eq_ignore_ascii_case(suffix) && count.trim().parse::<u64>().is_ok_and(|n| n > 0)
        })
    })
}

/// A breached-password list that is asked over the network (the port; the range API's client is
/// the adapter).
pub trait BreachedList: Send + Sync {
    /// Whether the list holds `password`; `Err` when it cannot be asked right now.
    fn lists<'a>(
        &'a self,
        password: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<bool, Unreachable>> + Send + 'a>>;
}

/// The breached-password list could not be asked (network, timeout, an error status). The
/// message never holds the password's hash prefix.
#[derive(Debug, thiserror::Error)]
#[error("breached-password list unreachable: {0}")]
pub struct Unreachable(pub String);

/// What the breach check of a new password found.
#[derive(Debug)]
pub enum Breach {
    /// Neither the local list nor the remote one holds it.
    Clear,
    /// On the bundled list of common passwords (the remote list is not asked).
    Common,
    /// The remote list holds it.
    Listed,
    /// Not on the local list; the remote one could not be asked.
    Unchecked(Unreachable),
}

/// Checks `password` (normalised, as it is hashed) against the bundled common list, then
/// against `list`.
pub async fn check_breach(list: &dyn BreachedList, password: &str) -> Breach {
    let password = normalised_password(password);
    if is_common(&password) {
        return Breach::Common;
    }
    match list.lists(&password).await {
        Ok(true) => Breach::Listed,
        Ok(false) => Breach::Clear,
        Err(unreachable) => Breach::Unchecked(unreachable),
    }
}

/// Whether `password` is among the most common passwords (ignoring case).
pub fn is_common(password: &str) -> bool {
    let lowered = password.to_lowercase();
    COMMON_PASSWORDS.lines().any(|common| common == lowered)
}

/// Lowercased; those that could meet the policy (8+ characters with letters and digits) matter most.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_five_character_prefix_leaves() {
        let (prefix, suffix) = range_query("password");
        assert_eq!(prefix, "5BAA6");
        assert_eq!(suffix, "1E4C9B93F3F0682250B6CF8331B7EE68FD8");
    }

    #[test]
    fn a_listed_suffix_is_breached_and_padding_is_not() {
        let response = "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n1E4C9B93F3F0682250B6CF8331B7EE68FD8:3861493\r\n00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0";
        assert!(range_lists(response, "1E4C9B93F3F0682250B6CF8331B7EE68FD8"));
        assert!(
            !range_lists(response, "00D4F6E8FA6EECAD2A3AA415EEC418D38EC"),
            "padding has count 0"
        );
        assert!(!range_lists(response, "FFFFF"));
    }

    /// A remote list holding `held`, or unreachable when `None`; it records what it was asked.
    struct FixedList {
        held: Option<&'static str>,
        asked: std::sync::Mutex<Vec<String>>,
    }

    impl BreachedList for FixedList {
        fn lists<'a>(
            &'a self,
            password: &'a str,
        ) -> Pin<Box<dyn Future<Output = Result<bool, Unreachable>> + Send + 'a>> {
            self.asked.lock().unwrap().push(password.to_owned());
            let answer = match self.held {
                Some(held) => Ok(held == password),
                None => Err(Unreachable("connection refused".to_owned())),
            };
            Box::pin(async move { answer })
        }
    }

    fn list(held: Option<&'static str>) -> FixedList {
        FixedList {
            held,
            asked: std::sync::Mutex::new(Vec::new()),
        }
    }

    #[tokio::test]
    async fn a_common_password_is_refused_without_asking_the_remote_list() {
        let remote = list(Some("Leaked-but-rare-42"));
        assert!(matches!(
            check_breach(&remote, "Password1").await,
            Breach::Common
        ));
        assert!(remote.asked.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_remote_list_decides_what_the_local_one_does_not_hold() {
        let remote = list(Some("Leaked-but-rare-42"));
        assert!(matches!(
            check_breach(&remote, "Leaked-but-rare-42").await,
            Breach::Listed
        ));
        assert!(matches!(
            check_breach(&remote, "Correct-horse-battery-7").await,
            Breach::Clear
        ));
        assert!(matches!(
            check_breach(&list(None), "Correct-horse-battery-7").await,
            Breach::Unchecked(_)
        ));
    }

    #[tokio::test]
    async fn a_password_is_checked_as_it_is_hashed_in_normal_form() {
        let remote = list(Some("Leaked-but-rare-42"));
        assert!(matches!(
            check_breach(&remote, "Ｐａｓｓｗｏｒｄ１").await,
            Breach::Common
        ));
        assert!(matches!(
            check_breach(&remote, "Ｌｅａｋｅｄ-but-rare-42").await,
            Breach::Listed
        ));
        assert_eq!(*remote.asked.lock().unwrap(), ["Leaked-but-rare-42"]);
    }

    #[test]
    fn common_passwords_are_found_ignoring_case() {
        assert!(is_common("Password1"));
        assert!(is_common("QWERTY123"));
        assert!(!is_common("Correct-horse-battery-7"));
    }
}
