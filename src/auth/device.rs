//! Device cookies (OWASP, "Slow down online guessing attacks with device
//! cookies"): after a successful password sign-in the browser gets
//! `portico_device`, naming the account and a random nonce, encrypted and
//! authenticated with the session key (the cookie's name is bound in, so
//! no other cookie of ours passes for it). Its attempts on that account are
//! then throttled on their own ([`super::throttle`]), so that strangers
//! guessing the password can never lock that browser out.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite, time::Duration};
use serde::{Deserialize, Serialize};

pub const COOKIE: &str = "portico_device";
/// How long a device cookie is honoured.
pub const LIFETIME_DAYS: i64 = 365;

#[derive(Serialize, Deserialize)]
struct Device {
    email: String,
    nonce: String,
    /// Unix seconds of the sign-in that issued it.
    at: i64,
}

/// The nonce of the request's device cookie, when it is valid for `email`
/// (same account, not older than [`LIFETIME_DAYS`]).
pub fn nonce_for(req: &HttpRequest, key: &Key, email: &str, now: i64) -> Option<String> {
    let mut jar = CookieJar::new();
    jar.add_original(req.cookie(COOKIE)?);
    let opened = jar.private(key).get(COOKIE)?;
    let device: Device = serde_json::from_str(opened.value()).ok()?;
    let fresh = now.saturating_sub(device.at) < LIFETIME_DAYS * 86_400;
    (fresh && device.email == email).then_some(device.nonce)
}

/// A new device cookie for `email`: HttpOnly, SameSite=Strict, only sent to
/// `/login`, Secure when the portal is served over https.
pub fn issue(key: &Key, email: &str, now: i64, secure: bool) -> Cookie<'static> {
    let device = Device {
        email: email.to_owned(),
        nonce: crate::db::models::random_alphanumeric(22),
        at: now,
    };
    let value = serde_json::to_string(&device).unwrap_or_default();
    let mut jar = CookieJar::new();
    jar.private_mut(key).add(
        Cookie::build(COOKIE, value)
            .path("/login")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(secure)
            .max_age(Duration::days(LIFETIME_DAYS))
            .finish(),
    );
    jar.get(COOKIE)
        .cloned()
        .unwrap_or_else(|| Cookie::new(COOKIE, ""))
}
