//! Settings, read once from the environment (and an optional `.env`).
//! Every variable Portico reads is documented here; the session key is
//! never printed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::input::parse_bool;
use crate::input::proxies::TrustedProxies;

/// The smallest session key accepted, in bytes (actix-web's `Key` needs 64).
pub const SESSION_KEY_BYTES: usize = 64;

#[derive(Clone)]
pub struct Settings {
    /// `PORTICO_BIND`: the address to listen on. Default `127.0.0.1:8080`.
    pub bind: String,
    /// `DATABASE_URL`: the SQLite file (`sqlite://` prefix accepted), or a
    /// `postgres://` / `postgresql://` URL (see `db::Backend::of`).
    /// Default `portico.db`.
    pub database_url: String,
    /// `PORTICO_BASE_URL`: the URL users reach the portal at, used in links,
    /// snippets and as an accepted `aud`; https makes the cookie Secure.
    /// Default: `http://` + the bound address.
    pub base_url: Option<String>,
    /// `PORTICO_SESSION_KEY`: base64 of at least 64 bytes. Unset, a key is
    /// generated once and kept in the database.
    pub session_key: Option<Vec<u8>>,
    /// `PORTICO_ALLOW_SIGNUP`: `false` turns off `/signup`. Default `true`.
    pub allow_signup: bool,
    /// `PORTICO_WORKERS`: HTTP worker threads. Default: one per core.
    pub workers: Option<usize>,
    /// `PORTICO_LOGIN_THROTTLE`: `false` turns off the per-IP and
    /// per-account throttling of password sign-in, for load benchmarks run
    /// from one address. Default `true`; never turn it off in production.
    pub login_throttle: bool,
    /// How long a request's body may take to arrive (`crate::limits`); not
    /// an environment setting: tests shorten it.
    pub body_deadline: std::time::Duration,
    /// `PORTICO_TRUSTED_PROXIES`: comma-separated addresses or CIDR ranges
    /// of the proxies whose `X-Forwarded-For` is believed. Default: none
    /// (the TCP peer is the client).
    pub trusted_proxies: TrustedProxies,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            // A PostgreSQL URL may carry a password: never shown.
            .field("database_url", &crate::db::redacted(&self.database_url))
            .field("base_url", &self.base_url)
            .field("session_key", &self.session_key.as_ref().map(|_| "[set]"))
            .field("allow_signup", &self.allow_signup)
            .field("workers", &self.workers)
            .field("login_throttle", &self.login_throttle)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: "127.0.0.1:8080".to_owned(),
            database_url: "portico.db".to_owned(),
            base_url: None,
            session_key: None,
            allow_signup: true,
            workers: None,
            login_throttle: true,
            body_deadline: crate::limits::BODY_DEADLINE,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl Settings {
    /// Reads the environment. An invalid value is an error naming the
    /// variable, never a silent default.
    pub fn from_env() -> Result<Settings, String> {
        let mut s = Settings::default();
        if let Some(v) = var("PORTICO_BIND") {
            s.bind = v;
        }
        if let Some(v) = var("DATABASE_URL") {
            s.database_url = v;
        }
        if let Some(v) = var("PORTICO_BASE_URL") {
            if !(v.starts_with("http://") || v.starts_with("https://")) {
                return Err("PORTICO_BASE_URL must start with http:// or https://".into());
            }
            s.base_url = Some(v.trim_end_matches('/').to_owned());
        }
        if let Some(v) = var("PORTICO_SESSION_KEY") {
            s.session_key = Some(decode_session_key(&v)?);
        }
        if let Some(v) = var("PORTICO_ALLOW_SIGNUP") {
            s.allow_signup = parse_bool(&v).ok_or("PORTICO_ALLOW_SIGNUP must be true or false")?;
        }
        if let Some(v) = var("PORTICO_LOGIN_THROTTLE") {
            s.login_throttle =
                parse_bool(&v).ok_or("PORTICO_LOGIN_THROTTLE must be true or false")?;
        }
        if let Some(v) = var("PORTICO_TRUSTED_PROXIES") {
            s.trusted_proxies = TrustedProxies::parse(&v)
                .map_err(|why| format!("PORTICO_TRUSTED_PROXIES: {why}"))?;
        }
        if let Some(v) = var("PORTICO_WORKERS") {
            s.workers = Some(
                v.parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("PORTICO_WORKERS must be a positive number")?,
            );
        }
        Ok(s)
    }

    /// The base URL as configured, before binding: the port comes from
    /// `PORTICO_BIND` (for links made by the CLI).
    pub fn configured_base_url(&self) -> String {
        let port = self
            .bind
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(8080);
        self.base_url_for(port)
    }

    /// The base URL, given or derived from the bound address.
    pub fn base_url_for(&self, port: u16) -> String {
        if let Some(url) = &self.base_url {
            return url.clone();
        }
        let host = self
            .bind
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or("127.0.0.1");
        let host = match host {
            "0.0.0.0" | "[::]" | "" => "localhost",
            h => h,
        };
        format!("http://{host}:{port}")
    }
}

pub fn decode_session_key(v: &str) -> Result<Vec<u8>, String> {
    let key = STANDARD
        .decode(v.trim())
        .map_err(|_| "PORTICO_SESSION_KEY must be base64".to_owned())?;
    if key.len() < SESSION_KEY_BYTES {
        return Err(format!(
            "PORTICO_SESSION_KEY must decode to at least {SESSION_KEY_BYTES} bytes (it has {})",
            key.len()
        ));
    }
    Ok(key)
}

pub fn encode_session_key(key: &[u8]) -> String {
    STANDARD.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_keys_must_be_base64_of_64_bytes_or_more() {
        assert!(decode_session_key(&STANDARD.encode([7u8; 64])).is_ok());
        assert!(decode_session_key(&STANDARD.encode([7u8; 63])).is_err());
        assert!(decode_session_key("not base64!").is_err());
    }

    #[test]
    fn the_base_url_defaults_to_the_bound_address() {
        let mut s = Settings {
            bind: "0.0.0.0:9000".into(),
            ..Settings::default()
        };
        assert_eq!(s.base_url_for(9000), "http://localhost:9000");
        s.bind = "127.0.0.1:0".into();
        assert_eq!(s.base_url_for(43210), "http://127.0.0.1:43210");
        s.base_url = Some("https://portal.example.com".into());
        assert_eq!(s.base_url_for(1), "https://portal.example.com");
    }
}
