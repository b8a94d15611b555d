//! Throttling of password sign-in and sign-up, per client IP and per
//! account, with GCRA rate limiters (the `governor` crate). A refused
//! attempt gets 429 with `Retry-After`, before any password is hashed.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Attempts a client IP may make at once, and per minute after that.
const IP_BURST: u32 = 30;
/// Attempts one account may receive at once; then one a minute.
const ACCOUNT_BURST: u32 = 5;
/// Above this many tracked keys, stale ones are dropped.
const MAX_KEYS: usize = 100_000;

pub struct Throttle {
    enabled: bool,
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(true)
    }
}

impl Throttle {
    /// A throttle; `enabled: false` lets every attempt through (benchmarks).
    pub fn new(enabled: bool) -> Self {
        let n = |v| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
        Throttle {
            enabled,
            by_ip: RateLimiter::keyed(Quota::per_minute(n(IP_BURST))),
            by_account: RateLimiter::keyed(
                Quota::with_period(Duration::from_secs(60))
                    .unwrap_or_else(|| Quota::per_minute(n(1)))
                    .allow_burst(n(ACCOUNT_BURST)),
            ),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one attempt from `ip` (when known) on `account` (when given).
    /// `Err(seconds)` says how long to wait.
    pub fn check(&self, ip: Option<IpAddr>, account: Option<&str>) -> Result<(), u64> {
        if !self.enabled {
            return Ok(());
        }
        let now = self.clock.now();
        let mut wait = Duration::ZERO;
        if let Some(ip) = ip {
            if let Err(not_until) = self.by_ip.check_key(&ip) {
                wait = wait.max(not_until.wait_time_from(now));
            }
            if self.by_ip.len() > MAX_KEYS {
                self.by_ip.retain_recent();
            }
        }
        if let Some(account) = account.filter(|a| !a.is_empty()) {
            if let Err(not_until) = self.by_account.check_key(&account.to_owned()) {
                wait = wait.max(not_until.wait_time_from(now));
            }
            if self.by_account.len() > MAX_KEYS {
                self.by_account.retain_recent();
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(wait.as_secs() + 1)
        }
    }
}
