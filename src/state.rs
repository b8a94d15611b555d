//! What every handler can reach: built once by [`crate::startup`], shared
//! by all workers.

use std::net::IpAddr;
use std::sync::Arc;

use actix_web::HttpRequest;

use crate::auth::password::Hasher;
use crate::auth::throttle::Throttle;
use crate::cache::Cache;
use crate::db::Db;
use crate::db::models::{Method, NewSession};
use crate::db::writer::Writer;
use crate::input::proxies::TrustedProxies;

pub struct AppState {
    /// Reads and writes; every committed write invalidates [`Self::cache`].
    pub db: Db,
    /// This portal's base URL, without a trailing slash.
    pub base_url: String,
    pub allow_signup: bool,
    pub throttle: Throttle,
    pub cache: Arc<Cache>,
    /// argon2 on its own threads, half the cores.
    pub hasher: Hasher,
    /// The one thread that writes sign-ins, in batches.
    pub writer: Writer,
    /// The session key, which also seals device cookies.
    pub cookie_key: actix_web::cookie::Key,
    /// Whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
}

impl AppState {
    /// The row of a new session of `user_id` signed in by `method` through
    /// `req` (its client address and browser, for Settings → People), not
    /// yet stored.
    pub fn session_row(
        &self,
        req: &HttpRequest,
        user_id: i64,
        method: Method,
        now: i64,
    ) -> NewSession {
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok());
        NewSession::new(
            user_id,
            method,
            now,
            crate::auth::session::LIFETIME_SECS,
            self.client_ip(req).map(|ip| ip.to_string()),
            user_agent,
        )
    }

    /// The client's address: the TCP peer, or behind trusted proxies the
    /// address their `X-Forwarded-For` names (`crate::input::proxies`).
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if self.trusted_proxies.is_empty() {
            return Some(peer);
        }
        // Read as bytes, not as one string per header line: a byte the
        // client put on its side of the line (not visible ASCII) must not
        // hide the addresses our proxies appended after it.
        let lines: Vec<String> = req
            .headers()
            .get_all("x-forwarded-for")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        Some(
            self.trusted_proxies
                .client_ip(peer, lines.iter().map(String::as_str)),
        )
    }
}
