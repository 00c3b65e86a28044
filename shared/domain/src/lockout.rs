//! Progressive lockout after failed logins: from the 5th consecutive failure a wait of 1, 2, 4 ...
//! minutes (at most 15) before the next attempt; from the 100th, no attempt until an administrator
//! unlocks or the password is reset.

use std::net::{IpAddr, Ipv6Addr};

use chrono::{DateTime, Duration, Utc};

use crate::ids::{AccountId, OrganisationId};

/// Where failed logins by a login email (normalised) are counted.
pub fn email_subject(normalised: &str) -> String {
    format!("email:{normalised}")
}

/// Where failed logins by an organisation's username (normalised) are counted.
pub fn username_subject(organisation: &OrganisationId, normalised: &str) -> String {
    format!("username:{organisation}:{normalised}")
}

/// Where failed second steps of an account's logins are counted.
pub fn mfa_subject(account: &AccountId) -> String {
    format!("mfa:{account}")
}

/// Where wrong codes confirming an account's TOTP enrolment are counted: apart from
/// re-authentication, so an authenticator whose clock is off does not also hold back the
/// password; starting an enrolment (which asks for the password) clears it.
pub fn enrolment_subject(account: &AccountId) -> String {
    format!("enrolment:{account}")
}

/// Where failed re-authentications inside a session are counted.
pub fn reauth_subject(account: &AccountId) -> String {
    format!("reauth:{account}")
}

/// Where a source address's failed logins in the clock hour of `at` are counted: they are
/// judged over this hour and the one before, so an office is never held back for what its
/// people got wrong hours ago. An IPv6 address counts as its /64 network, since one host is
/// given a whole /64 and may send from any address in it.
pub fn address_subject(address: &str, at: DateTime<Utc>) -> String {
    let source = match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => format!(
                "{}/64",
                Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))
            ),
        },
        _ => address.to_owned(),
    };
    format!("address:{source}@{}", at.format("%Y-%m-%dT%H"))
}

pub const FREE_FAILURES: u32 = 5;
pub const MAX_FAILURES: u32 = 100;
pub const MAX_WAIT_MINUTES: i64 = 15;

/// When the next attempt is allowed after `failures` consecutive failures, the last at `last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    Open,
    Until(DateTime<Utc>),
    /// Until an administrator unlocks (or the person resets the password).
    Indefinite,
}

/// An organisation's lockout thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockPolicy {
    /// Failures before the first wait (3 to 5).
    pub free_failures: u32,
    /// The longest wait between attempts, in minutes (15 to 60).
    pub max_wait_minutes: u32,
}

impl Default for LockPolicy {
    fn default() -> Self {
        Self {
            free_failures: FREE_FAILURES,
            max_wait_minutes: MAX_WAIT_MINUTES as u32,
        }
    }
}

impl LockPolicy {
    /// An organisation may lock sooner and longer than the security baseline (5 failures, 15
    /// minutes at most), never later or shorter.
    pub const FREE_FAILURES_RANGE: std::ops::RangeInclusive<u32> = 3..=FREE_FAILURES;
    pub const MAX_WAIT_RANGE: std::ops::RangeInclusive<u32> = MAX_WAIT_MINUTES as u32..=60;

    /// The policy within today's bounds: one saved under looser bounds locks as the baseline
    /// does.
    fn bounded(&self) -> Self {
        let clamp = |value: u32, range: &std::ops::RangeInclusive<u32>| {
            value.clamp(*range.start(), *range.end())
        };
        Self {
            free_failures: clamp(self.free_failures, &Self::FREE_FAILURES_RANGE),
            max_wait_minutes: clamp(self.max_wait_minutes, &Self::MAX_WAIT_RANGE),
        }
    }

    pub fn lock(&self, failures: u32, last: DateTime<Utc>) -> Lock {
        let policy = self.bounded();
        if failures < policy.free_failures {
            Lock::Open
        } else if failures >= MAX_FAILURES {
            Lock::Indefinite
        } else {
            let doublings = (failures - policy.free_failures).min(10);
            let minutes = (1i64 << doublings).min(i64::from(policy.max_wait_minutes));
            Lock::Until(last + Duration::minutes(minutes))
        }
    }

    /// Whether this failure is the one that locks (the person is told then).
    pub fn locks_now(&self, failures: u32) -> bool {
        failures == self.bounded().free_failures || failures == MAX_FAILURES
    }
}

/// The default policy's lock.
pub fn lock(failures: u32, last: DateTime<Utc>) -> Lock {
    LockPolicy::default().lock(failures, last)
}

/// Failures from one source address within a clock hour and the one before it before it waits:
/// higher than a person's, because offices share addresses. An address never locks for longer
/// than the maximum wait, and older failures do not count.
pub const FREE_ADDRESS_FAILURES: u32 = 25;

pub fn address_lock(failures: u32, last: DateTime<Utc>) -> Lock {
    if failures < FREE_ADDRESS_FAILURES {
        Lock::Open
    } else {
        Lock::Until(last + Duration::minutes(MAX_WAIT_MINUTES))
    }
}

impl Lock {
    pub fn blocks(self, now: DateTime<Utc>) -> bool {
        match self {
            Lock::Open => false,
            Lock::Until(until) => now < until,
            Lock::Indefinite => true,
        }
    }

    /// The wait a person is told about, in whole minutes rounded up (0 for indefinite).
    pub fn minutes_from(self, now: DateTime<Utc>) -> u64 {
        match self {
            Lock::Until(until) => ((until - now).num_milliseconds().max(0) as u64).div_ceil(60_000),
            Lock::Open | Lock::Indefinite => 0,
        }
    }

    /// What is left of a lock that blocks at `now`: whole minutes of a wait (at least 1), or
    /// `None` when only an unlock or a password reset lifts it.
    pub fn remaining(self, now: DateTime<Utc>) -> Option<u64> {
        match self {
            Lock::Indefinite => None,
            wait => Some(wait.minutes_from(now).max(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn an_ipv6_address_counts_as_its_network_and_an_ipv4_one_as_itself() {
        let at = t0();
        let subject = |address| address_subject(address, at);
        assert_eq!(
            subject("2001:db8:1:2:aaaa::1"),
            subject("2001:db8:1:2:ffff:1234:5678:9abc"),
            "one host's /64"
        );
        assert_ne!(subject("2001:db8:1:2::1"), subject("2001:db8:1:3::1"));
        assert!(subject("2001:db8:1:2::1").starts_with("address:2001:db8:1:2::/64@"));
        assert_ne!(subject("198.51.100.7"), subject("198.51.100.8"));
        assert_eq!(subject("::ffff:198.51.100.7"), subject("198.51.100.7"));
        assert_ne!(
            subject("198.51.100.7"),
            address_subject("198.51.100.7", at + Duration::hours(1)),
            "counted per clock hour"
        );
    }

    #[test]
    fn four_failures_lock_nothing() {
        assert_eq!(lock(4, t0()), Lock::Open);
    }

    #[test]
    fn the_wait_doubles_from_the_fifth_failure_up_to_fifteen_minutes() {
        let waits: Vec<i64> = (5..=10)
            .map(|n| match lock(n, t0()) {
                Lock::Until(until) => (until - t0()).num_minutes(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 15, 15]);
    }

    #[test]
    fn an_organisation_can_lock_sooner_and_wait_longer() {
        let policy = LockPolicy {
            free_failures: 3,
            max_wait_minutes: 60,
        };
        assert_eq!(policy.lock(2, t0()), Lock::Open);
        assert_eq!(
            policy.lock(3, t0()),
            Lock::Until(t0() + Duration::minutes(1))
        );
        assert_eq!(
            policy.lock(20, t0()),
            Lock::Until(t0() + Duration::minutes(60))
        );
        assert!(policy.locks_now(3) && !policy.locks_now(4));
    }

    #[test]
    fn a_hundred_failures_lock_until_unlocked() {
        assert_eq!(lock(100, t0()), Lock::Indefinite);
        assert!(lock(100, t0()).blocks(t0() + Duration::days(365)));
    }

    #[test]
    fn an_address_waits_after_more_failures_and_never_indefinitely() {
        assert_eq!(address_lock(24, t0()), Lock::Open);
        assert_eq!(
            address_lock(500, t0()),
            Lock::Until(t0() + Duration::minutes(15))
        );
    }

    #[test]
    fn a_lock_ends_after_its_wait() {
        let lock = lock(5, t0());
        assert!(lock.blocks(t0() + Duration::seconds(59)));
        assert!(!lock.blocks(t0() + Duration::seconds(60)));
        assert_eq!(lock.minutes_from(t0()), 1);
    }

    #[test]
    fn the_last_second_of_a_wait_is_still_a_wait_and_only_the_hard_lock_has_no_end() {
        let almost_over = Lock::Until(t0() + Duration::milliseconds(400));
        assert_eq!(almost_over.remaining(t0()), Some(1));
        assert_eq!(lock(MAX_FAILURES, t0()).remaining(t0()), None);
    }

    #[test]
    fn a_policy_saved_under_looser_bounds_locks_as_the_baseline() {
        let loose = LockPolicy {
            free_failures: 20,
            max_wait_minutes: 1,
        };
        assert!(loose.locks_now(FREE_FAILURES));
        assert_eq!(
            loose.lock(FREE_FAILURES + 4, t0()),
            Lock::Until(t0() + Duration::minutes(MAX_WAIT_MINUTES))
        );
    }
}
