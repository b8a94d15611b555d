//! The typed content of the `portico_session` cookie. It holds ids, never
//! data: the user id, the user's session epoch, how they signed in and when,
//! the id of the session's row on the server, and the CSRF token. The
//! cookie store cannot revoke a cookie by itself: [`super::extract`] checks
//! on every request that the row still exists (sign-out deletes it) and
//! that the epoch still matches ("sign out everywhere", disabling).

use actix_session::Session;
use serde::{Deserialize, Serialize};

pub use crate::db::models::Method;

pub const COOKIE_NAME: &str = "portico_session";
/// A session lasts 12 hours from sign-in, whatever the cookie's age says.
pub const LIFETIME_SECS: i64 = 12 * 3600;

const AUTH: &str = "auth";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";

/// A message kept for the next page shown (post/redirect/get).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: FlashKind,
    pub text: String,
}

/// How a flash message reads: its class is `flash-{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum FlashKind {
    Ok,
    Warn,
    Error,
}

/// The session cookie could not be written (its content did not serialise).
#[derive(Debug, thiserror::Error)]
#[error("session: {0}")]
pub struct SessionError(String);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Auth {
    pub uid: i64,
    pub epoch: i64,
    pub method: Method,
    /// Unix time of the sign-in.
    pub at: i64,
    /// The session's row (`db::models::LiveSession`).
    pub sid: i64,
}

fn internal(e: impl std::fmt::Display) -> SessionError {
    SessionError(e.to_string())
}

/// Starts a fresh session for the user `uid` at session epoch `epoch`, whose
/// row `sid` is stored: nothing of the old one is carried over, and the
/// cookie is renewed.
pub fn begin(
    session: &Session,
    uid: i64,
    epoch: i64,
    method: Method,
    now: i64,
    sid: i64,
) -> Result<(), SessionError> {
    session.clear();
    session.renew();
    session
        .insert(
            AUTH,
            Auth {
                uid,
                epoch,
                method,
                at: now,
                sid,
            },
        )
        .map_err(internal)?;
    session
        .insert(CSRF, crate::db::models::random_alphanumeric(32))
        .map_err(internal)?;
    Ok(())
}

impl Auth {
    /// The session's row: `(id, user id)`.
    pub fn row(&self) -> (i64, i64) {
        (self.sid, self.uid)
    }
}

/// The signed-in user's ids, unless absent, unreadable or older than 12 h.
pub fn auth(session: &Session, now: i64) -> Option<Auth> {
    let auth: Auth = session.get(AUTH).ok().flatten()?;
    (now.saturating_sub(auth.at) < LIFETIME_SECS && auth.at <= now + 60).then_some(auth)
}

/// Ends the session: the cookie is removed.
pub fn end(session: &Session) {
    session.purge();
}

/// The session's CSRF token, created on first use (anonymous visitors get
/// one too, for the sign-in and sign-up forms).
pub fn csrf_token(session: &Session) -> Result<String, SessionError> {
    if let Ok(Some(token)) = session.get::<String>(CSRF) {
        return Ok(token);
    }
    let token = crate::db::models::random_alphanumeric(32);
    session.insert(CSRF, &token).map_err(internal)?;
    Ok(token)
}

/// Keeps a message for the next page shown.
pub fn flash(session: &Session, kind: FlashKind, text: impl Into<String>) {
    let flash = Flash {
        kind,
        text: text.into(),
    };
    if let Err(e) = session.insert(FLASH, flash) {
        log::warn!("could not keep a flash message: {e}");
    }
}

/// Takes the message kept by [`flash`], if any.
pub fn take_flash(session: &Session) -> Option<Flash> {
    session.remove_as::<Flash>(FLASH).and_then(Result::ok)
}
