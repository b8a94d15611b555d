//! The rows of Portico and the queries that go with them. Handlers call
//! these; nothing outside `db` touches `schema`.
//!
//! Look-ups by a unique key `load` their (at most one) row rather than use
//! `first()`: its `LIMIT ?` makes the bundled SQLite expire the prepared
//! statement at every new binding and parse it again, on every call.

mod company;
mod message;
mod project;
mod request;
mod session;
mod setting;
mod sso_event;
mod sso_secret;
mod throttle;
mod user;

pub use company::{Company, NewAdmin};
pub use message::{Attachment, Conversation, Message, NewFile, RequestChange, Shown};
pub use project::Project;
pub use request::{
    Assignee, ListFilter, NewRequest, QueueCounts, Request, RequestView, Viewer, VisibleRequest,
};
pub use session::{LiveSession, NewSession};
pub use setting::Setting;
pub use sso_event::{NewSsoEvent, SsoEvent};
pub use sso_secret::{SsoSecret, UsedToken};
pub use throttle::{Counter, Rate};
pub use user::{NewUser, User};

pub use super::types::{ChangeField, Method, Priority, Role, SecretState, Status};

use rand::RngCore;
use rand::rngs::OsRng;

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` letters and digits from the OS RNG (≈ 5.95 bits each), uniform:
/// bytes of 248 and above are dropped so that `byte % 62` has no bias. The
/// bytes come from one `getrandom` call (rarely two), not one per character.
pub fn random_alphanumeric(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut bytes = [0u8; 64];
    while out.len() < len {
        OsRng.fill_bytes(&mut bytes);
        out.extend(
            bytes
                .iter()
                .filter(|b| **b < 248)
                .take(len - out.len())
                .map(|b| char::from(ALPHANUMERIC[usize::from(*b % 62)])),
        );
    }
    out
}

/// A public id such as `cmp_3kTq…`: a prefix and 20 random characters.
pub fn public_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_alphanumeric(20))
}
