//! Throttling of password sign-in and sign-up, as OWASP's *device cookies*
//! scheme describes, with GCRA rate counters kept in the database
//! ([`Counter`]), so that every instance on one database counts the same
//! attempts: three instances behind a load balancer allow what one would,
//! not three times as much. A refused attempt gets 429 with `Retry-After`,
//! before any password is hashed.
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
//!
//! The counters of one attempt are taken in one transaction, always in the
//! same order (network, account and network, account), so that concurrent
//! attempts on PostgreSQL never wait on each other in a cycle.

use std::net::IpAddr;

use crate::db::models::{Counter, Rate};
use crate::db::{Db, DbError, Tx, now_ms};
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

const MINUTE_MS: i64 = 60_000;

/// `burst` at once, then one a minute.
fn per_minute_after(burst: u32) -> Rate {
    Rate {
        burst: burst.into(),
        every_ms: MINUTE_MS,
    }
}

/// `burst` at once, then `per_minute` a minute.
fn per_minute(per_minute: u32, burst: u32) -> Rate {
    Rate {
        burst: burst.into(),
        every_ms: MINUTE_MS / i64::from(per_minute.max(1)),
    }
}

/// Whether attempts are counted at all (`PORTICO_LOGIN_THROTTLE=false`
/// turns it off, for benchmarks).
pub struct Throttle {
    enabled: bool,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(true)
    }
}

/// Seconds to wait, for `Retry-After`.
fn seconds(wait_ms: i64) -> u64 {
    (wait_ms.max(0) as u64).div_ceil(1000).max(1)
}

impl Throttle {
    /// A throttle; `enabled: false` lets every attempt through (benchmarks).
    pub fn new(enabled: bool) -> Self {
        Throttle { enabled }
    }

    /// Counts one sign-in attempt on `account`: from the browser holding
    /// the device cookie `device` for it, or else untrusted from `ip`.
    /// `Ok(Err(seconds))` says how long to wait.
    ///
    /// `account` is `None` for an address that cannot be an account: only
    /// the network's allowance counts it. The network is checked first, and
    /// an attempt it refuses makes no other counter, so a flood of made-up
    /// addresses adds rows only within the network's allowance.
    pub async fn check_login(
        &self,
        db: &Db,
        account: Option<&str>,
        ip: Option<IpAddr>,
        device: Option<&str>,
    ) -> Result<Result<(), u64>, DbError> {
        if !self.enabled {
            return Ok(Ok(()));
        }
        let account = account.map(str::to_owned);
        let device = device.map(str::to_owned);
        db.write(move |tx| {
            Ok(
                login_counters(tx, account.as_deref(), ip, device.as_deref(), now_ms())?
                    .map_or(Ok(()), |wait| Err(seconds(wait))),
            )
        })
        .await
    }

    /// Counts one sign-up from `ip`, per network.
    pub async fn check_signup(
        &self,
        db: &Db,
        ip: Option<IpAddr>,
    ) -> Result<Result<(), u64>, DbError> {
        if !self.enabled {
            return Ok(Ok(()));
        }
        let Some(ip) = ip else {
            return Ok(Ok(()));
        };
        db.write(move |tx| {
            let key = format!("n:{}", Network::of(ip));
            Ok(
                Counter::hit(tx, &key, per_minute(NETWORK_BURST, NETWORK_BURST), now_ms())?
                    .map_or(Ok(()), |wait| Err(seconds(wait))),
            )
        })
        .await
    }
}

/// The counters of one sign-in attempt, in their fixed order; the wait in
/// milliseconds when one refuses it.
fn login_counters(
    tx: &mut Tx<'_>,
    account: Option<&str>,
    ip: Option<IpAddr>,
    device: Option<&str>,
    now: i64,
) -> Result<Option<i64>, DbError> {
    if let Some(device) = device {
        return Counter::hit(
            tx,
            &format!("d:{device}"),
            per_minute_after(DEVICE_BURST),
            now,
        );
    }
    let network = ip.map(Network::of);
    if let Some(network) = network {
        let key = format!("n:{network}");
        if let Some(wait) = Counter::hit(tx, &key, per_minute(NETWORK_BURST, NETWORK_BURST), now)? {
            return Ok(Some(wait));
        }
    }
    let Some(account) = account else {
        return Ok(None);
    };
    let from = network.map_or_else(String::new, |n| n.to_string());
    let key = format!("a:{from}|{account}");
    if let Some(wait) = Counter::hit(tx, &key, per_minute_after(ACCOUNT_BURST), now)? {
        return Ok(Some(wait));
    }
    // Many networks on one account (a botnet, an IPv6 /48): untrusted
    // attempts on it are bounded in all.
    let key = format!("A:{account}");
    Counter::hit(
        tx,
        &key,
        per_minute(ACCOUNT_ANYWHERE_PER_MINUTE, ACCOUNT_ANYWHERE_BURST),
        now,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    struct Fixture {
        db: Db,
        _dir: tempfile::TempDir,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::db::connect(&dir.path().join("t.db").to_string_lossy()).unwrap();
        Fixture {
            db: Db::new(pool, Arc::new(())),
            _dir: dir,
        }
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[actix_web::test]
    async fn a_stranger_exhausts_only_their_own_allowance() {
        let f = fixture();
        let t = Throttle::new(true);
        let ada = Some("ada@acme.test");
        for _ in 0..ACCOUNT_BURST {
            assert_eq!(
                t.check_login(&f.db, ada, ip("203.0.113.9"), None)
                    .await
                    .unwrap(),
                Ok(())
            );
        }
        let refused = t
            .check_login(&f.db, ada, ip("203.0.113.9"), None)
            .await
            .unwrap();
        assert!(
            matches!(refused, Err(s) if (1..=60).contains(&s)),
            "{refused:?}"
        );
        // The admin's own browser, and the admin from another network.
        assert_eq!(
            t.check_login(&f.db, ada, ip("203.0.113.9"), Some("nonce"))
                .await
                .unwrap(),
            Ok(())
        );
        assert_eq!(
            t.check_login(&f.db, ada, ip("198.51.100.7"), None)
                .await
                .unwrap(),
            Ok(())
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

    #[actix_web::test]
    async fn spraying_many_accounts_from_one_network_is_throttled() {
        let f = fixture();
        let t = Throttle::new(true);
        let mut refused = 0;
        for i in 0..NETWORK_BURST + 5 {
            let account = format!("u{i}@acme.test");
            if t.check_login(&f.db, Some(&account), ip("203.0.113.10"), None)
                .await
                .unwrap()
                .is_err()
            {
                refused += 1;
            }
        }
        assert_eq!(refused, 5);
        // Refused by the network first: no account counter was made for
        // them (one network counter, two per allowed account).
        let rows = f.db.read(Counter::count).await.unwrap();
        assert_eq!(rows, 1 + 2 * i64::from(NETWORK_BURST));
    }

    #[actix_web::test]
    async fn many_networks_on_one_account_are_bounded_in_all_but_never_its_own_browser() {
        let f = fixture();
        let t = Throttle::new(true);
        let mut allowed = 0;
        for i in 0..200u32 {
            let from = IpAddr::from([198, 18, (i / 250) as u8, (i % 250) as u8]);
            if t.check_login(&f.db, Some("ada@acme.test"), Some(from), None)
                .await
                .unwrap()
                .is_ok()
            {
                allowed += 1;
            }
        }
        assert_eq!(allowed, ACCOUNT_ANYWHERE_BURST);
        assert_eq!(
            t.check_login(&f.db, Some("ada@acme.test"), None, Some("nonce"))
                .await
                .unwrap(),
            Ok(())
        );
    }

    #[actix_web::test]
    async fn a_counter_lets_one_more_through_per_interval_and_its_idle_rows_go() {
        let f = fixture();
        let rate = Rate {
            burst: 2,
            every_ms: 1_000,
        };
        let hit = |now: i64| f.db.write(move |tx| Counter::hit(tx, "k", rate, now));
        assert_eq!(hit(10_000).await.unwrap(), None);
        assert_eq!(hit(10_000).await.unwrap(), None);
        assert_eq!(
            hit(10_000).await.unwrap(),
            Some(1_000),
            "full: one more in a second"
        );
        assert_eq!(hit(10_999).await.unwrap(), Some(1));
        assert_eq!(hit(11_000).await.unwrap(), None);
        assert_eq!(hit(11_000).await.unwrap(), Some(1_000));
        // Idle once its time has passed: purged, and a fresh start after.
        assert_eq!(
            f.db.write(|tx| Counter::purge(tx, 13_000, 10))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            f.db.write(|tx| Counter::purge(tx, 13_001, 10))
                .await
                .unwrap(),
            1
        );
        assert_eq!(hit(13_001).await.unwrap(), None);
    }
}
