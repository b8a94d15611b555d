//! Throttling of password sign-in and sign-up, as OWASP's *device cookies*
//! scheme describes, with GCRA rate limiters (the `governor` crate). A
//! refused attempt gets 429 with `Retry-After`, before any password is
//! hashed.
//!
//! - A browser that signed in to an account before holds a device cookie
//!   for it ([`super::device`]); its attempts on that account are counted
//!   per cookie, on their own ([`DEVICE_BURST`]).
//! - Every other attempt is *untrusted*, and counted per account **and
//!   client network** ([`ACCOUNT_BURST`]), per client network over all
//!   accounts ([`NETWORK_BURST`]), and per account over all networks
//!   ([`ACCOUNT_ANYWHERE_BURST`], so that many networks cannot make many
//!   guesses). A network is an IPv4 address or an IPv6 /64 (one host
//!   usually holds a whole /64).
//!
//! So a stranger guessing an admin's password exhausts only their own
//! network's allowance: the admin's browser (device cookie) and the admin
//! from any other network are not slowed at all.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub use crate::input::proxies::Network;

/// Attempts a device cookie may make at once; then one a minute.
pub const DEVICE_BURST: u32 = 10;
/// Untrusted attempts on one account from one network at once; then one a
/// minute.
pub const ACCOUNT_BURST: u32 = 5;
/// Untrusted attempts from one network (any account) at once, and per
/// minute after that.
pub const NETWORK_BURST: u32 = 30;
/// Untrusted attempts on one account from all networks together: at once,
/// and per minute after that. Only untrusted clients are ever slowed by it
/// (the account's own browser has its device cookie).
pub const ACCOUNT_ANYWHERE_BURST: u32 = 30;
pub const ACCOUNT_ANYWHERE_PER_MINUTE: u32 = 10;
/// Above this many tracked keys, stale ones are dropped.
const MAX_KEYS: usize = 100_000;

pub struct Throttle {
    enabled: bool,
    by_device: DefaultKeyedRateLimiter<String>,
    by_account: DefaultKeyedRateLimiter<(String, Option<Network>)>,
    by_account_anywhere: DefaultKeyedRateLimiter<String>,
    by_network: DefaultKeyedRateLimiter<Network>,
    clock: DefaultClock,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(true)
    }
}

fn per_minute_after(burst: u32) -> Quota {
    let n = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(Duration::from_secs(60))
        .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
        .allow_burst(n)
}

impl Throttle {
    /// A throttle; `enabled: false` lets every attempt through (benchmarks).
    pub fn new(enabled: bool) -> Self {
        let n = |v| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
        Throttle {
            enabled,
            by_device: RateLimiter::keyed(per_minute_after(DEVICE_BURST)),
            by_account: RateLimiter::keyed(per_minute_after(ACCOUNT_BURST)),
            by_account_anywhere: RateLimiter::keyed(
                Quota::per_minute(n(ACCOUNT_ANYWHERE_PER_MINUTE))
                    .allow_burst(n(ACCOUNT_ANYWHERE_BURST)),
            ),
            by_network: RateLimiter::keyed(Quota::per_minute(n(NETWORK_BURST))),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one sign-in attempt on `account`: from the browser holding
    /// the device cookie `device` for it, or else untrusted from `ip`.
    /// `Err(seconds)` says how long to wait.
    ///
    /// `account` is `None` for an address that cannot be an account: only
    /// the network's allowance counts it. The network is checked first, and
    /// an attempt it refuses leaves no key behind, so a flood of made-up
    /// addresses costs memory only within the network's allowance.
    pub fn check_login(
        &self,
        account: Option<&str>,
        ip: Option<IpAddr>,
        device: Option<&str>,
    ) -> Result<(), u64> {
        if !self.enabled {
            return Ok(());
        }
        let mut wait = Wait::default();
        if let Some(device) = device {
            wait.add(self.by_device.check_key(&device.to_owned()), &self.clock);
            tidy(&self.by_device);
            return wait.result();
        }
        let network = ip.map(Network::of);
        if let Some(network) = network {
            wait.add(self.by_network.check_key(&network), &self.clock);
            tidy(&self.by_network);
            if wait.waits() {
                return wait.result();
            }
        }
        if let Some(account) = account {
            wait.add(
                self.by_account.check_key(&(account.to_owned(), network)),
                &self.clock,
            );
            tidy(&self.by_account);
            if !wait.waits() {
                // Many networks on one account (a botnet, an IPv6 /48):
                // untrusted attempts on it are bounded in all.
                wait.add(
                    self.by_account_anywhere.check_key(&account.to_owned()),
                    &self.clock,
                );
                tidy(&self.by_account_anywhere);
            }
        }
        wait.result()
    }

    /// Counts one sign-up from `ip`, per network.
    pub fn check_signup(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        if !self.enabled {
            return Ok(());
        }
        let mut wait = Wait::default();
        if let Some(ip) = ip {
            wait.add(self.by_network.check_key(&Network::of(ip)), &self.clock);
            tidy(&self.by_network);
        }
        wait.result()
    }
}

fn tidy<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>) {
    if limiter.len() > MAX_KEYS {
        limiter.retain_recent();
    }
}

/// The longest wait any counter asked for.
#[derive(Default)]
struct Wait(Duration);

impl Wait {
    fn add(
        &mut self,
        checked: Result<(), governor::NotUntil<<DefaultClock as Clock>::Instant>>,
        clock: &DefaultClock,
    ) {
        if let Err(not_until) = checked {
            self.0 = self.0.max(not_until.wait_time_from(clock.now()));
        }
    }

    fn waits(&self) -> bool {
        !self.0.is_zero()
    }

    fn result(&self) -> Result<(), u64> {
        if self.0.is_zero() {
            Ok(())
        } else {
            Err(self.0.as_secs() + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stranger_exhausts_only_their_own_allowance() {
        let t = Throttle::new(true);
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        let admin_home: IpAddr = "198.51.100.7".parse().unwrap();
        for _ in 0..ACCOUNT_BURST {
            assert!(
                t.check_login(Some("ada@acme.test"), Some(stranger), None)
                    .is_ok()
            );
        }
        assert!(
            t.check_login(Some("ada@acme.test"), Some(stranger), None)
                .is_err()
        );
        // The admin's own browser, and the admin from another network.
        assert!(
            t.check_login(Some("ada@acme.test"), Some(stranger), Some("nonce"))
                .is_ok()
        );
        assert!(
            t.check_login(Some("ada@acme.test"), Some(admin_home), None)
                .is_ok()
        );
    }

    #[test]
    fn a_network_is_an_ipv4_address_or_an_ipv6_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(Network::of(a), Network::of(b));
        assert_ne!(Network::of(a), Network::of(c));
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(Network::of(v4), Network::of(mapped));
        assert_ne!(Network::of(v4), Network::of("192.0.2.2".parse().unwrap()));
    }

    #[test]
    fn spraying_many_accounts_from_one_network_is_throttled() {
        let t = Throttle::new(true);
        let ip: IpAddr = "203.0.113.10".parse().unwrap();
        let refused = (0..NETWORK_BURST + 5)
            .filter(|i| {
                t.check_login(Some(&format!("u{i}@acme.test")), Some(ip), None)
                    .is_err()
            })
            .count();
        assert_eq!(refused, 5);
        // Refused by the network first: no account key was made for them.
        assert_eq!(t.by_account.len(), NETWORK_BURST as usize);
    }

    #[test]
    fn many_networks_on_one_account_are_bounded_in_all_but_never_its_own_browser() {
        let t = Throttle::new(true);
        let allowed = (0..200u32)
            .filter(|i| {
                let ip = IpAddr::from([198, 18, (i / 250) as u8, (i % 250) as u8]);
                t.check_login(Some("ada@acme.test"), Some(ip), None).is_ok()
            })
            .count();
        assert_eq!(allowed, ACCOUNT_ANYWHERE_BURST as usize);
        assert!(
            t.check_login(Some("ada@acme.test"), None, Some("nonce"))
                .is_ok()
        );
    }
}
